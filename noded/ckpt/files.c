/*
 * files.c: the fd tables of a tree and the open file descriptions behind
 * them.
 *
 * Dump: every fd of every process is taken with pidfd_getfd() so it can be
 * looked at (fstat, tee for pipes) without touching the process, and
 * classified by fd-reg.c, fd-pipe.c and fd-tty.c.  Two fds share a
 * description when kcmp(KCMP_FILE) says so, within a process or across
 * the tree; the image lists the descriptions once and each fd table
 * points into that list.  Whatever is not a regular file or directory, a
 * known harmless device, a pipe or a terminal is refused by name.
 *
 * Restore: the restorer opens each description once (restore.c calls
 * ck_files_open_all before the first fork, at fds >= base, so every new
 * process inherits them), and each new process dup2()s its own fds from
 * those (ck_files_install) and closes the rest below base; what is left at
 * base and above is closed by the restorer at the end.  A description that
 * led outside the tree (a terminal, a pipe whose other end was not dumped)
 * becomes the restorer's stdio[fd] for fds 0-2, /dev/null otherwise.
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ckpt-int.h"

static int
fdinfo(pid_t pid, int fd, uint32_t *flagsp, uint64_t *posp)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fd);
	if ((f = fopen(path, "re")) == NULL)
		return SS_ERR_SYSTEM;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "pos:", 4) == 0)
			*posp = strtoull(line + 4, NULL, 10);
		else if (strncmp(line, "flags:", 6) == 0)
			*flagsp = strtoul(line + 6, NULL, 8);
	}
	fclose(f);
	return 0;
}

static int
cmp_fd(const void *a, const void *b)
{
	const struct ck_fd *x = a, *y = b;

	return x->fd - y->fd;
}

/*
 * The rule for one fd: the kind of description behind it, or a refusal
 * naming it.  st is the stat of the open file (through /proc/PID/fd/N).
 * The only place that decides what the engine carries: the dump and
 * ckpt_check() both come through ck_fds_walk(), so they say the same.
 */
static int
fd_classify(pid_t pid, int fd, const char *link, const struct stat *st,
    struct ckpt_err *e)
{
	if (strncmp(link, "socket:", 7) == 0)
		return ck_fail(e, SS_ERR_UNSUPPORTED, "process %d fd %d: %s: "
		    "sockets cannot be checkpointed", pid, fd, link);
	if (strncmp(link, "anon_inode:", 11) == 0)
		return ck_fail(e, SS_ERR_UNSUPPORTED, "process %d fd %d: %s "
		    "cannot be checkpointed", pid, fd, link + 11);
	if (S_ISFIFO(st->st_mode) && strncmp(link, "pipe:", 5) == 0)
		return CK_DESC_PIPE;
	if (S_ISCHR(st->st_mode) && ck_fd_tty_is(st->st_rdev))
		return CK_DESC_OUTSIDE;
	if (S_ISCHR(st->st_mode) && ck_fd_dev_ok(st->st_rdev))
		return CK_DESC_DEV;
	if (S_ISREG(st->st_mode) || S_ISDIR(st->st_mode)) {
		if (st->st_nlink == 0 && S_ISREG(st->st_mode))
			return ck_fail(e, SS_ERR_UNSUPPORTED, "process %d fd "
			    "%d: %s: a deleted file cannot be checkpointed",
			    pid, fd, link);
		if (link[0] == '/')
			return CK_DESC_REG;
	}
	return ck_fail(e, SS_ERR_UNSUPPORTED, "process %d fd %d: %s cannot "
	    "be checkpointed", pid, fd, link);
}

int
ck_fds_walk(pid_t pid, ck_fd_fn fn, void *arg, struct ckpt_err *e)
{
	char path[64], fdpath[96], link[CK_PATH_MAX];
	DIR *dir;
	struct dirent *de;
	struct stat st;
	ssize_t n;
	int fd, kind, r = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	if ((dir = opendir(path)) == NULL)
		return ck_fail(e, SS_ERR_SYSTEM, "%s: %s", path,
		    strerror(errno));
	while (r == 0 && (de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		fd = atoi(de->d_name);
		snprintf(fdpath, sizeof(fdpath), "%s/%d", path, fd);
		if ((n = readlink(fdpath, link, sizeof(link) - 1)) == -1 ||
		    stat(fdpath, &st) == -1) {
			/* Closed since readdir (only a running process). */
			if (errno == ENOENT)
				continue;
			r = ck_fail(e, SS_ERR_SYSTEM, "process %d fd %d: %s",
			    pid, fd, strerror(errno));
			break;
		}
		link[n] = '\0';
		if ((kind = fd_classify(pid, fd, link, &st, e)) < 0)
			r = kind;
		else if (fn != NULL)
			r = fn(arg, pid, fd, link, &st, kind, e);
	}
	closedir(dir);
	return r;
}

struct collect_ctx {
	struct ck_image	*im;
	struct ck_proc	*p;
	int		 pidfd;
};

/* Collects one fd of process c->p, of the kind fd_classify() found. */
static int
collect_fd(void *arg, pid_t pid, int fd, const char *link,
    const struct stat *st, int kind, struct ckpt_err *e)
{
	struct collect_ctx *c = arg;
	struct ck_image *im = c->im;
	struct ck_proc *p = c->p;
	struct ck_desc d, *nd;
	struct ck_fd *nf;
	uint32_t i, flags = 0;
	uint64_t pos = 0;
	int r = 0, tfd;

	if (fdinfo(pid, fd, &flags, &pos) != 0)
		return ck_fail(e, SS_ERR_SYSTEM, "process %d fd %d: %s", pid,
		    fd, strerror(errno));
	/* Shared with a description seen before? */
	for (i = 0; i < im->ndesc; i++) {
		struct ck_desc *o = &im->descs[i];

		if (o->ino != st->st_ino || o->dev != st->st_dev)
			continue;
		if (syscall(SYS_kcmp, pid, o->pid, KCMP_FILE, fd, o->fd) == 0)
			break;
	}
	if (i == im->ndesc) {
		memset(&d, 0, sizeof(d));
		d.kind = kind;
		d.pid = pid;
		d.fd = fd;
		d.ino = st->st_ino;
		d.dev = st->st_dev;
		d.flags = flags & ~O_CLOEXEC;
		d.pos = pos;
		d.hfd = -1;
		if (kind == CK_DESC_PIPE) {
			/* The pipe itself, for its size. */
			if ((tfd = syscall(SYS_pidfd_getfd, c->pidfd, fd, 0)) ==
			    -1)
				return ck_fail(e, SS_ERR_SYSTEM, "process %d "
				    "fd %d: pidfd_getfd: %s", pid, fd,
				    strerror(errno));
			r = ck_fd_pipe_collect(im, &d, tfd, e);
			close(tfd);
		} else if (kind == CK_DESC_REG || kind == CK_DESC_DEV) {
			if ((d.path = strdup(link)) == NULL)
				r = ck_fail(e, SS_ERR_ALLOC, "out of memory");
		}
		if (r != 0) {
			free(d.path);
			return r;
		}
		if (im->ndesc >= CK_MAX_FDS) {
			free(d.path);
			return ck_fail(e, SS_ERR_TOO_LONG, "too many files");
		}
		if ((nd = realloc(im->descs, (im->ndesc + 1) * sizeof(*nd))) ==
		    NULL) {
			free(d.path);
			return ck_fail(e, SS_ERR_ALLOC, "out of memory");
		}
		im->descs = nd;
		nd[im->ndesc++] = d;
	}
	if ((nf = realloc(p->fds, (p->nfd + 1) * sizeof(*nf))) == NULL)
		return ck_fail(e, SS_ERR_ALLOC, "out of memory");
	p->fds = nf;
	nf[p->nfd].fd = fd;
	nf[p->nfd].desc = i;
	nf[p->nfd].cloexec = (flags & O_CLOEXEC) ? 1 : 0;
	p->nfd++;
	return 0;
}

/* A copy of the dumped process's fd of description d, in *tfd. */
static int
take_fd(const struct ck_desc *d, int *tfd, struct ckpt_err *e)
{
	int pidfd;

	if ((pidfd = syscall(SYS_pidfd_open, d->pid, 0)) == -1)
		return ck_fail(e, SS_ERR_SYSTEM, "pidfd_open: %s",
		    strerror(errno));
	*tfd = syscall(SYS_pidfd_getfd, pidfd, d->fd, 0);
	close(pidfd);
	if (*tfd == -1)
		return ck_fail(e, SS_ERR_SYSTEM, "pidfd_getfd: %s",
		    strerror(errno));
	return 0;
}

/*
 * Sets pp->closed when the end of d's pipe that the tree does not hold is
 * closed everywhere; asked once per pipe (pp->closed then stays set), or
 * again for each of its descriptions while the answer is "open".
 */
static int
other_end_closed(const struct ck_desc *d, struct ck_pipe *pp,
    struct ckpt_err *e)
{
	int tfd, r;

	if ((r = take_fd(d, &tfd, e)) != 0)
		return r;
	r = ck_fd_pipe_other_closed(tfd, pp->has_r, &pp->closed, e);
	close(tfd);
	return r;
}

int
ck_files_collect(struct ck_image *im, struct ckpt_err *e)
{
	struct collect_ctx c;
	struct ck_proc *p;
	uint32_t i, j;
	int pidfd, tfd, r = 0;

	for (i = 0; i < im->nproc && r == 0; i++) {
		p = &im->procs[i];
		if (p->zombie)
			continue;	/* it has no files */
		if ((pidfd = syscall(SYS_pidfd_open, p->pid, 0)) == -1)
			return ck_fail(e, SS_ERR_SYSTEM, "process %d: "
			    "pidfd_open: %s", p->pid, strerror(errno));
		c.im = im;
		c.p = p;
		c.pidfd = pidfd;
		r = ck_fds_walk(p->pid, collect_fd, &c, e);
		close(pidfd);
		if (r == 0 && p->nfd > 1)
			qsort(p->fds, p->nfd, sizeof(*p->fds), cmp_fd);
	}
	if (r != 0)
		return r;
	/* A pipe with one end only in the tree leads outside, unless its
	 * other end is closed everywhere (fd-pipe.c). */
	for (j = 0; j < im->ndesc; j++) {
		struct ck_desc *d = &im->descs[j];
		struct ck_pipe *pp;

		if (d->kind != CK_DESC_PIPE)
			continue;
		pp = &im->pipes[d->pipe];
		if (pp->has_r && pp->has_w)
			continue;
		if (!pp->closed && (r = other_end_closed(d, pp, e)) != 0)
			return r;
		if (!pp->closed)
			d->kind = CK_DESC_OUTSIDE;
	}
	/* Bytes in flight in the pipes that stay inside. */
	for (j = 0; j < im->ndesc; j++) {
		struct ck_desc *d = &im->descs[j];
		struct ck_pipe *pp;

		if (d->kind != CK_DESC_PIPE || (d->flags & O_ACCMODE) !=
		    O_RDONLY)
			continue;
		pp = &im->pipes[d->pipe];
		if (pp->data != NULL || pp->len != 0)
			continue;
		if ((r = take_fd(d, &tfd, e)) != 0)
			return r;
		r = ck_fd_pipe_data(pp, tfd, e);
		close(tfd);
		if (r != 0)
			return r;
	}
	return 0;
}

int
ck_files_encode(struct buf *b, const struct ck_proc *p)
{
	uint32_t i;
	int r;

	if ((r = buf_put_u32(b, p->nfd)) != 0)
		return r;
	for (i = 0; i < p->nfd; i++)
		if ((r = buf_put_u32(b, p->fds[i].fd)) != 0 ||
		    (r = buf_put_u32(b, p->fds[i].desc)) != 0 ||
		    (r = buf_put_u32(b, p->fds[i].cloexec)) != 0)
			return r;
	return 0;
}

int
ck_files_decode(struct buf *b, struct ck_proc *p, uint32_t ndesc)
{
	uint32_t i, n, fd;
	int r;

	(void)ndesc;
	if ((r = buf_get_u32(b, &n)) != 0)
		return r;
	if (n > CK_MAX_FDS)
		return SS_ERR_TOO_LONG;
	if ((p->fds = calloc(n + 1, sizeof(*p->fds))) == NULL)
		return SS_ERR_ALLOC;
	for (i = 0; i < n; i++) {
		if ((r = buf_get_u32(b, &fd)) != 0 ||
		    (r = buf_get_u32(b, &p->fds[i].desc)) != 0 ||
		    (r = buf_get_u32(b, &p->fds[i].cloexec)) != 0)
			return r;
		if (fd > 1024 * 1024)
			return SS_ERR_BAD;
		p->fds[i].fd = (int)fd;
		p->nfd = i + 1;
	}
	return 0;
}

int
ck_descs_encode(struct buf *b, const struct ck_image *im)
{
	const struct ck_desc *d;
	uint32_t i;
	int r;

	if ((r = buf_put_u32(b, im->ndesc)) != 0)
		return r;
	for (i = 0; i < im->ndesc; i++) {
		d = &im->descs[i];
		if ((r = buf_put_u32(b, d->kind)) != 0 ||
		    (r = buf_put_u32(b, d->flags)) != 0 ||
		    (r = buf_put_u64(b, d->pos)) != 0 ||
		    (r = buf_put_cstring(b, d->path)) != 0 ||
		    (r = buf_put_u32(b, d->pipe)) != 0)
			return r;
	}
	return 0;
}

int
ck_descs_decode(struct buf *b, struct ck_image *im)
{
	struct ck_desc *d;
	uint32_t i, n;
	int r;

	if ((r = buf_get_u32(b, &n)) != 0)
		return r;
	if (n > CK_MAX_FDS)
		return SS_ERR_TOO_LONG;
	if ((im->descs = calloc(n + 1, sizeof(*im->descs))) == NULL)
		return SS_ERR_ALLOC;
	for (i = 0; i < n; i++) {
		d = &im->descs[i];
		d->hfd = -1;
		im->ndesc = i + 1;
		if ((r = buf_get_u32(b, &d->kind)) != 0 ||
		    (r = buf_get_u32(b, &d->flags)) != 0 ||
		    (r = buf_get_u64(b, &d->pos)) != 0 ||
		    (r = ck_get_str(b, &d->path)) != 0 ||
		    (r = buf_get_u32(b, &d->pipe)) != 0)
			return r;
		if (d->kind < CK_DESC_REG || d->kind > CK_DESC_OUTSIDE)
			return SS_ERR_BAD;
	}
	return 0;
}

int
ck_files_open_all(struct ck_image *im, const int stdio[3], int base)
{
	struct ck_desc *d;
	struct ck_pipe *pp;
	uint32_t i;
	int fd;

	(void)stdio;
	for (i = 0; i < im->npipe; i++) {
		pp = &im->pipes[i];
		if (((pp->has_r && pp->has_w) || pp->closed) &&
		    ck_fd_pipe_create(pp) != 0)
			return -1;
		if (pp->rfd >= 0) {
			if ((fd = fcntl(pp->rfd, F_DUPFD_CLOEXEC, base)) == -1)
				return -1;
			close(pp->rfd);
			pp->rfd = fd;
		}
		if (pp->wfd >= 0) {
			if ((fd = fcntl(pp->wfd, F_DUPFD_CLOEXEC, base)) == -1)
				return -1;
			close(pp->wfd);
			pp->wfd = fd;
		}
	}
	for (i = 0; i < im->ndesc; i++) {
		d = &im->descs[i];
		switch (d->kind) {
		case CK_DESC_REG:
		case CK_DESC_DEV:
			if ((fd = ck_fd_reg_open(d)) < 0)
				return -1;
			d->hfd = fcntl(fd, F_DUPFD_CLOEXEC, base);
			close(fd);
			if (d->hfd == -1)
				return -1;
			break;
		case CK_DESC_PIPE:
			if (d->pipe >= im->npipe) {
				errno = EINVAL;
				return -1;
			}
			pp = &im->pipes[d->pipe];
			d->hfd = (d->flags & O_ACCMODE) == O_RDONLY ?
			    pp->rfd : pp->wfd;
			if (d->hfd < 0) {	/* an end the image said closed */
				errno = EINVAL;
				return -1;
			}
			if (fcntl(d->hfd, F_SETFL, d->flags & (O_NONBLOCK |
			    O_APPEND)) == -1)
				return -1;
			break;
		default:
			break;
		}
	}
	return 0;
}

/* In a new process: returns 0 or -errno. */
int
ck_files_install(const struct ck_image *im, const struct ck_proc *p)
{
	const struct ck_desc *d;
	uint32_t i;
	int src, fd;

	(void)im;
	for (i = 0; i < p->nfd; i++) {
		fd = p->fds[i].fd;
		if (p->fds[i].desc >= im->ndesc)
			return -EINVAL;
		d = &im->descs[p->fds[i].desc];
		src = d->hfd;
		if (d->kind == CK_DESC_OUTSIDE)
			src = fd <= 2 ? im->out_std[fd] : im->out_null;
		if (src < 0)
			return -EBADF;
		if (dup3(src, fd, p->fds[i].cloexec ? O_CLOEXEC : 0) == -1)
			return -errno;
	}
	return 0;
}
