/*
 * restore.c: the restore driver.
 *
 * Stages, in order; each waits for the one before, and nothing of the
 * image runs before RUN:
 *
 *   READ_META  -> CHECK -> OPEN -> SPAWN -> SEIZE -> LAYOUT -> PAGES
 *      |            |        |       |
 *      +------------+--------+-------+--> refused: no process exists yet
 *
 *   PAGES -> FINISH -> (stopped? wait for ckpt_restore_run) -> RUN
 *      |        |
 *      +--------+--> abort: every new process is SIGKILLed, none ran
 *
 * READ_META  read_meta(): header and all metadata sections (the whole
 *            tree is known before the first process is made); a stream
 *            that starts with a pre-copy has its pages kept first
 *            (image.c, read_precopy(); precopy.c), for KEEP in PAGES
 * CHECK      check_image(): architecture, XCR0 (xstate layout), vdso
 *            sizes, privileges (task.c)
 * OPEN       open_all(): the restorer opens every file, pipe and mapped
 *            file at fds >= base, so the new processes inherit them; a
 *            missing or changed file refuses here; it makes each shared
 *            anonymous memory object mapped more than once (shmem.c)
 * SPAWN      spawn(): fork (or clone3 with set_tid) the root; each new
 *            process puts its fds in place, makes its own children,
 *            sets cwd, umask, rlimits, personality, signal dispositions
 *            and pending signals (prep()), reports its pid and blocks;
 *            a zombie of the image reports and ends as it had ended
 *            (zombie_exit()), its parent waits for that and takes back
 *            the SIGCHLD (zombie_wait()); zombies skip every stage after
 * SEIZE      ptrace every new process (PTRACE_O_EXITKILL: if we die,
 *            they die)
 * LAYOUT     mm.c: vdso block moved, old memory gone, areas mapped
 * PAGES      page sections streamed into the processes, by two threads
 *            (image.c, ck_read_pages; put_pages()), then END
 * FINISH     protections of shared memory, mm fields, threads, close the
 *            extra fds,
 *            credentials (last: they may drop our privilege), registers
 * RUN        detach
 *
 * From SPAWN to the end of FINISH the restorer and its new processes run
 * on one CPU (pin_begin), but for the PAGES stage's threads: every
 * injected call is a ptrace round trip between the two, and across two
 * CPUs of a VM each costs a wake-up of an idle CPU (a small process's
 * restore took 4.5 to 13 ms that way, 4 ms on one CPU).  The new
 * processes and the restorer get the restorer's own affinity back
 * before they run (pin_end): the image keeps no affinity.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ckpt-int.h"

struct ckpt_restored {
	struct ck_image	 im;
	pid_t		 root;
	int		 stopped;
};

/* What every new process needs from the restorer. */
struct rctx {
	struct ck_image	*im;
	int		 base;		/* fds >= base are ours */
	int		 report;	/* SOCK_SEQPACKET to the restorer */
	int		 syncfd;	/* read end: EOF means abort */
	int		 same_pid;
	int		 keep_session;	/* the root does not setsid() */
	pid_t		*newpid;	/* by proc index, as known here */
};

static int
dec_err(int r, uint32_t type, struct ckpt_err *e)
{
	return ck_fail(e, r == SS_ERR_ALLOC ? r : SS_ERR_CORRUPT,
	    "corrupt image: section type %u: %s", type, ss_strerror(r));
}

int
ck_read_meta(struct ck_stream *s, struct ck_image *im, struct ckpt_err *e)
{
	struct buf *b = NULL;
	uint32_t type, idx, np, *nthr = NULL, i, j;
	uint64_t addr;
	const uint8_t *pages;
	char *arch = NULL, *rel = NULL;
	int r, have_descs = 0;

	if ((r = ck_read_file_header(s, e)) != 0)
		return r;
	for (;;) {
		if ((r = ck_read_section(s, &type, &b, &idx, &addr, &np,
		    &pages, e)) != 0)
			goto out;
		if (type == CK_SEC_PAGES || type == CK_SEC_END) {
			r = ck_fail(e, SS_ERR_CORRUPT, "corrupt image: pages "
			    "before the end of metadata");
			goto out;
		}
		if (type != CK_SEC_HEADER && im->procs == NULL) {
			r = ck_fail(e, SS_ERR_CORRUPT, "corrupt image: no "
			    "header section");
			goto out;
		}
		if (type == CK_SEC_META_END)
			break;
		if (type == CK_SEC_HEADER) {
			if (im->procs != NULL) {
				r = dec_err(SS_ERR_BAD, type, e);
				goto out;
			}
			if ((r = buf_get_cstring(b, 15, &arch)) != 0 ||
			    (r = buf_get_cstring(b, 64, &rel)) != 0 ||
			    (r = buf_get_u64(b, &im->xcr0)) != 0 ||
			    (r = buf_get_u32(b, &im->xstate_size)) != 0 ||
			    (r = buf_get_u32(b, &im->nproc)) != 0 ||
			    (r = buf_get_u64(b, &im->vdso_size[0])) != 0 ||
			    (r = buf_get_u64(b, &im->vdso_size[1])) != 0 ||
			    (r = buf_get_u64(b, &im->vdso_size[2])) != 0) {
				r = dec_err(r, type, e);
				goto out;
			}
			snprintf(im->arch, sizeof(im->arch), "%s", arch);
			snprintf(im->release, sizeof(im->release), "%s", rel);
			if (im->nproc == 0 || im->nproc > CK_MAX_PROCS) {
				r = dec_err(SS_ERR_BAD, type, e);
				goto out;
			}
			im->procs = calloc(im->nproc, sizeof(*im->procs));
			nthr = calloc(im->nproc, sizeof(*nthr));
			if (im->procs == NULL || nthr == NULL) {
				r = ck_fail(e, SS_ERR_ALLOC, "out of memory");
				goto out;
			}
			for (i = 0; i < im->nproc; i++)
				im->procs[i].exefd = im->procs[i].uffd =
				    im->procs[i].memfd = -1;
			buf_free(b);
			b = NULL;
			continue;
		}
		if ((r = buf_get_u32(b, &idx)) != 0) {
			r = dec_err(r, type, e);
			goto out;
		}
		if (type != CK_SEC_DESCS && type != CK_SEC_PIPE &&
		    idx >= im->nproc) {
			r = dec_err(SS_ERR_BAD, type, e);
			goto out;
		}
		switch (type) {
		case CK_SEC_PROC:
			if (im->procs[idx].thr != NULL) {
				r = SS_ERR_BAD;
				break;
			}
			if ((r = ck_task_decode(b, &im->procs[idx])) != 0)
				break;
			/* (none for a zombie) */
			if ((im->procs[idx].thr = calloc(im->procs[idx].nthr +
			    1, sizeof(struct ck_thread))) == NULL)
				r = SS_ERR_ALLOC;
			break;
		case CK_SEC_THREAD:
			if (im->procs[idx].thr == NULL ||
			    nthr[idx] >= im->procs[idx].nthr) {
				r = SS_ERR_BAD;
				break;
			}
			r = ck_thread_decode(b,
			    &im->procs[idx].thr[nthr[idx]++]);
			break;
		case CK_SEC_MM:
			if (im->procs[idx].vmas != NULL) {
				r = SS_ERR_BAD;
				break;
			}
			r = ck_mm_decode(b, &im->procs[idx]);
			break;
		case CK_SEC_FILES:
			if (im->procs[idx].fds != NULL) {
				r = SS_ERR_BAD;
				break;
			}
			r = ck_files_decode(b, &im->procs[idx], 0);
			break;
		case CK_SEC_DESCS:
			if (have_descs++) {
				r = SS_ERR_BAD;
				break;
			}
			r = ck_descs_decode(b, im);
			break;
		case CK_SEC_PIPE: {
			struct ck_pipe *pp;

			if (idx != im->npipe || im->npipe >= CK_MAX_FDS) {
				r = SS_ERR_BAD;
				break;
			}
			pp = realloc(im->pipes, (im->npipe + 1) * sizeof(*pp));
			if (pp == NULL) {
				r = SS_ERR_ALLOC;
				break;
			}
			im->pipes = pp;
			memset(&pp[im->npipe], 0, sizeof(*pp));
			im->npipe++;
			r = ck_pipe_decode(b, &pp[idx]);
			break;
		}
		default:
			r = SS_ERR_BAD;
		}
		if (r != 0) {
			r = dec_err(r, type, e);
			goto out;
		}
		buf_free(b);
		b = NULL;
	}
	/* Consistency: a whole tree, parents before children. */
	for (i = 0; i < im->nproc; i++) {
		struct ck_proc *p = &im->procs[i];

		/* A zombie: not the root, nothing of its own, no children. */
		if (p->thr == NULL || nthr[i] != p->nthr || p->vmas == NULL ||
		    p->fds == NULL || (i == 0 && p->parent != -1) ||
		    (i > 0 && (p->parent < 0 || (uint32_t)p->parent >= i)) ||
		    (p->zombie && (i == 0 || p->nvma != 0 || p->nfd != 0)) ||
		    (i > 0 && im->procs[p->parent].zombie)) {
			r = ck_fail(e, SS_ERR_CORRUPT, "corrupt image: "
			    "process %u incomplete", i);
			goto out;
		}
		for (j = 0; j < p->nfd; j++)
			if (p->fds[j].desc >= im->ndesc) {
				r = ck_fail(e, SS_ERR_CORRUPT, "corrupt image: "
				    "bad fd");
				goto out;
			}
	}
	for (i = 0; i < im->ndesc; i++)
		if (im->descs[i].kind == CK_DESC_PIPE &&
		    im->descs[i].pipe >= im->npipe) {
			r = ck_fail(e, SS_ERR_CORRUPT, "corrupt image: bad pipe");
			goto out;
		}
	r = 0;
 out:
	buf_free(b);
	free(nthr);
	free(arch);
	free(rel);
	return r;
}

static int
self_vdso_sizes(uint64_t sz[3])
{
	char *data, *line, *next, name[64];
	unsigned long long a, b;
	int n;

	memset(sz, 0, 3 * sizeof(uint64_t));
	if (ck_read_file("/proc/self/maps", &data, NULL) != 0)
		return -1;
	for (line = data; *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		else
			next = line + strlen(line);
		name[0] = '\0';
		n = sscanf(line, "%llx-%llx %*s %*s %*s %*s %63s", &a, &b, name);
		if (n < 3)
			continue;
		if (strcmp(name, "[vvar]") == 0)
			sz[0] = b - a;
		else if (strcmp(name, "[vvar_vclock]") == 0)
			sz[1] = b - a;
		else if (strcmp(name, "[vdso]") == 0)
			sz[2] = b - a;
	}
	free(data);
	return 0;
}

static int
check_image(const struct ck_image *im, int same_pid, struct ckpt_err *e)
{
	uint64_t sz[3];
	int i;

	if (strcmp(im->arch, "x86_64") != 0)
		return ck_fail(e, SS_ERR_UNSUPPORTED, "image of a %s machine",
		    im->arch);
	if (im->xcr0 != ck_arch_xcr0() ||
	    im->xstate_size != ck_arch_xstate_size())
		return ck_fail(e, SS_ERR_UNSUPPORTED, "image from a CPU with "
		    "another xstate layout (XCR0 %#llx, %u bytes; here %#llx, "
		    "%u bytes)", (unsigned long long)im->xcr0, im->xstate_size,
		    (unsigned long long)ck_arch_xcr0(), ck_arch_xstate_size());
	if (self_vdso_sizes(sz) != 0)
		return ck_fail(e, SS_ERR_SYSTEM, "/proc/self/maps: %s",
		    strerror(errno));
	for (i = 0; i < 3; i++)
		if (sz[i] != im->vdso_size[i])
			return ck_fail(e, SS_ERR_UNSUPPORTED, "image from a "
			    "kernel with another vdso (%s)", im->release);
	if (same_pid && geteuid() != 0)
		return ck_fail(e, SS_ERR_PERM, "--same-pid needs root");
	return ck_task_check(im, e);
}

/* Opens path for a mapping or the exe at fd >= base. */
static int
open_mapped(const char *path, int rw, const struct ck_vma *v, int base,
    struct ckpt_err *e)
{
	struct stat st;
	int fd, hfd;

	if ((fd = open(path, (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC)) == -1 &&
	    rw)
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return ck_fail(e, SS_ERR_NOT_FOUND, "%s: %s", path,
		    strerror(errno));
	if (v != NULL) {
		if (fstat(fd, &st) == -1) {
			close(fd);
			return ck_fail(e, SS_ERR_SYSTEM, "%s: %s", path,
			    strerror(errno));
		}
		if (v->kind == CK_VMA_FILE_PRIV && ((uint64_t)st.st_size !=
		    v->fsize || (uint64_t)st.st_mtim.tv_sec * 1000000000ull +
		    st.st_mtim.tv_nsec != v->fmtime)) {
			close(fd);
			return ck_fail(e, SS_ERR_UNSUPPORTED, "%s changed "
			    "since the dump", path);
		}
	}
	hfd = fcntl(fd, F_DUPFD_CLOEXEC, base);
	close(fd);
	if (hfd == -1)
		return ck_fail(e, SS_ERR_SYSTEM, "dup: %s", strerror(errno));
	return hfd;
}

static int
open_all(struct ck_image *im, const struct ckpt_restore_opts *o, int base,
    struct ckpt_err *e)
{
	struct ck_proc *p;
	struct ck_vma *v;
	uint32_t i, j, k, l;
	int fd;

	for (i = 0; i < 3; i++) {
		if (o->stdio[i] >= 0)
			fd = fcntl(o->stdio[i], F_DUPFD_CLOEXEC, base);
		else {
			int n = open("/dev/null", O_RDWR | O_CLOEXEC);

			fd = n < 0 ? -1 : fcntl(n, F_DUPFD_CLOEXEC, base);
			if (n >= 0)
				close(n);
		}
		if (fd == -1)
			return ck_fail(e, SS_ERR_SYSTEM, "stdio: %s",
			    strerror(errno));
		im->out_std[i] = fd;
	}
	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		return ck_fail(e, SS_ERR_SYSTEM, "/dev/null: %s",
		    strerror(errno));
	im->out_null = fcntl(fd, F_DUPFD_CLOEXEC, base);
	close(fd);
	if (im->out_null == -1)
		return ck_fail(e, SS_ERR_SYSTEM, "dup: %s", strerror(errno));
	if (ck_files_open_all(im, o->stdio, base) != 0) {
		for (i = 0; i < im->ndesc; i++)
			if (im->descs[i].kind <= CK_DESC_DEV &&
			    im->descs[i].hfd < 0)
				break;
		return ck_fail(e, SS_ERR_NOT_FOUND, "%s: %s",
		    i < im->ndesc ? im->descs[i].path : "pipe",
		    strerror(errno));
	}
	for (i = 0; i < im->nproc; i++) {
		p = &im->procs[i];
		for (j = 0; j < p->nvma; j++) {
			v = &p->vmas[j];
			if (v->kind != CK_VMA_FILE_PRIV &&
			    v->kind != CK_VMA_FILE_SHARED)
				continue;
			/* The same file opened already in this tree? */
			for (k = 0, fd = -1; k <= i && fd < 0; k++)
				for (l = 0; l < im->procs[k].nvma; l++) {
					struct ck_vma *o2 = &im->procs[k].vmas[l];

					if (k == i && l >= j)
						break;
					if (o2->tfd >= 0 && o2->kind == v->kind &&
					    strcmp(o2->path, v->path) == 0) {
						fd = o2->tfd;
						break;
					}
				}
			if (fd < 0 && (fd = open_mapped(v->path,
			    v->kind == CK_VMA_FILE_SHARED &&
			    (v->prot & PROT_WRITE), v, base, e)) < 0)
				return fd;
			v->tfd = fd;
		}
		if (geteuid() == 0 && !p->zombie &&
		    (p->exefd = open_mapped(p->exe, 0, NULL,
		    base, e)) < 0)
			return p->exefd;
	}
	/* Shared anonymous memory mapped more than once. */
	return ck_shm_restore_open(im, base, e);
}

/* Sends one report: idx, the error (0: ready), with our pid attached. */
static void
report(const struct rctx *c, uint32_t idx, int err)
{
	struct buf *b;
	struct msghdr mh;
	struct iovec iov;
	union {
		struct cmsghdr	h;
		char		space[CMSG_SPACE(sizeof(struct ucred))];
	} cm;
	struct ucred uc;
	uint8_t out[8];

	memset(out, 0, sizeof(out));
	if ((b = buf_new(8)) != NULL) {
		if (buf_put_u32(b, idx) == 0 && buf_put_u32(b, (uint32_t)err) ==
		    0)
			memcpy(out, buf_ptr(b), 8);
		buf_free(b);
	}
	uc.pid = getpid();
	uc.uid = getuid();
	uc.gid = getgid();
	memset(&mh, 0, sizeof(mh));
	memset(&cm, 0, sizeof(cm));
	iov.iov_base = out;
	iov.iov_len = sizeof(out);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.space;
	mh.msg_controllen = sizeof(cm.space);
	cm.h.cmsg_level = SOL_SOCKET;
	cm.h.cmsg_type = SCM_CREDENTIALS;
	cm.h.cmsg_len = CMSG_LEN(sizeof(uc));
	memcpy(CMSG_DATA(&cm.h), &uc, sizeof(uc));
	while (sendmsg(c->report, &mh, MSG_NOSIGNAL) == -1 && errno == EINTR)
		;
}

/* fork(), or clone3 with the wanted pid. */
static pid_t
spawn_one(pid_t want, int same_pid)
{
	struct clone_args ca;
	pid_t tid = want;

	if (!same_pid)
		return fork();
	memset(&ca, 0, sizeof(ca));
	ca.exit_signal = SIGCHLD;
	ca.set_tid = (uintptr_t)&tid;
	ca.set_tid_size = 1;
	return (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
}

static void prep(struct rctx *c, uint32_t i) __attribute__((noreturn));
static void zombie_exit(const struct ck_proc *) __attribute__((noreturn));

/*
 * A zombie of the image: it ends as it had ended (a core-dumping signal
 * dumps no core), and stays a zombie until its restored parent reaps it.
 */
static void
zombie_exit(const struct ck_proc *p)
{
	struct rlimit none = { 0, 0 };
	sigset_t one;
	uint32_t status = p->exit_status;
	int sig = WTERMSIG(status);

	/* As ps showed it: its name and its owner (checked already). */
	(void)prctl(PR_SET_NAME, p->comm);
	if (geteuid() == 0) {
		(void)setgroups(0, NULL);
		(void)setresgid(p->gid[0], p->gid[1], p->gid[2]);
		(void)setresuid(p->uid[0], p->uid[1], p->uid[2]);
	}
	if (WIFSIGNALED(status) && sig > 0 && sig < 65) {
		(void)setrlimit(RLIMIT_CORE, &none);
		(void)signal(sig, SIG_DFL);
		sigemptyset(&one);
		sigaddset(&one, sig);
		(void)sigprocmask(SIG_UNBLOCK, &one, NULL);
		(void)kill(getpid(), sig);
	}
	_exit(WEXITSTATUS(status));
}

/*
 * In its parent: until the zombie has ended, unreaped, then the SIGCHLD
 * that says so is taken back: the parent's pending signals are the
 * image's alone.
 */
static void
zombie_wait(pid_t pid)
{
	struct timespec none = { 0, 0 };
	siginfo_t si;
	sigset_t chld;

	while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) == -1 &&
	    errno == EINTR)
		;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	while (sigtimedwait(&chld, NULL, &none) > 0)
		;
}

/* In new process i: everything it can do for itself, then wait. */
static void
prep(struct rctx *c, uint32_t i)
{
	struct ck_image *im = c->im;
	struct ck_proc *p = &im->procs[i];
	sigset_t all;
	uint32_t j, k;
	pid_t pid;
	char x;
	int fd, next, r;

	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	c->newpid[i] = getpid();
	if (p->parent < 0 && c->keep_session) {
		if (p->pgid == p->pid)
			(void)setpgid(0, 0);
	} else if (p->parent < 0 || p->sid == p->pid)
		(void)setsid();
	else if (p->pgid == p->pid)
		(void)setpgid(0, 0);
	else
		for (j = 0; j < im->nproc; j++)
			if (im->procs[j].pid == p->pgid && c->newpid[j] > 0) {
				(void)setpgid(0, c->newpid[j]);
				break;
			}
	if (p->zombie) {
		report(c, i, 0);
		zombie_exit(p);
	}
	if ((r = ck_files_install(im, p)) != 0) {
		report(c, i, -r);
		_exit(1);
	}
	/* Closes what is below base and not the image's, a run at a time. */
	for (fd = 0; fd < c->base; fd = next + 1) {
		next = c->base;
		for (k = 0; k < p->nfd; k++)
			if (p->fds[k].fd >= fd && p->fds[k].fd < next)
				next = p->fds[k].fd;
		if (next > fd)
			(void)close_range(fd, next - 1, 0);
	}
	for (j = i + 1; j < im->nproc; j++) {
		if (im->procs[j].parent != (int32_t)i)
			continue;
		if ((pid = spawn_one(im->procs[j].pid, c->same_pid)) == -1) {
			report(c, j, errno);
			_exit(1);
		}
		if (pid == 0)
			prep(c, j);
		c->newpid[j] = pid;
		if (im->procs[j].zombie)
			zombie_wait(pid);
	}
	if ((r = ck_task_prep(p)) != 0 || (r = ck_sig_prep(p)) != 0) {
		report(c, i, -r);
		_exit(1);
	}
	report(c, i, 0);
	for (;;)
		if (read(c->syncfd, &x, 1) != -1 || errno != EINTR)
			_exit(1);
}

/* Collects one report per process; npid[] in our PID namespace. */
static int
collect_reports(struct rctx *c, int rfd, pid_t root, struct ckpt_err *e)
{
	struct ck_image *im = c->im;
	uint32_t got = 0, idx, err;
	uint8_t in[8];
	struct msghdr mh;
	struct iovec iov;
	union {
		struct cmsghdr	h;
		char		space[CMSG_SPACE(sizeof(struct ucred))];
	} cm;
	struct ucred uc;
	struct pollfd pfd;
	struct buf *b;
	ssize_t n;
	int st;

	while (got < im->nproc) {
		pfd.fd = rfd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 1000) == 0) {
			if (waitpid(root, &st, WNOHANG) == root)
				return ck_fail(e, SS_ERR_INTERNAL, "the new "
				    "root process died (status %#x)", st);
			continue;
		}
		memset(&mh, 0, sizeof(mh));
		iov.iov_base = in;
		iov.iov_len = sizeof(in);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cm.space;
		mh.msg_controllen = sizeof(cm.space);
		if ((n = recvmsg(rfd, &mh, 0)) == -1) {
			if (errno == EINTR)
				continue;
			return ck_fail(e, SS_ERR_SYSTEM, "recvmsg: %s",
			    strerror(errno));
		}
		if (n != sizeof(in) || mh.msg_controllen < CMSG_LEN(sizeof(uc)))
			return ck_fail(e, SS_ERR_INTERNAL, "a new process "
			    "died while being set up");
		memcpy(&uc, CMSG_DATA(&cm.h), sizeof(uc));
		if ((b = buf_from(in, sizeof(in), sizeof(in))) == NULL)
			return ck_fail(e, SS_ERR_ALLOC, "out of memory");
		if (buf_get_u32(b, &idx) != 0 || buf_get_u32(b, &err) != 0 ||
		    idx >= im->nproc) {
			buf_free(b);
			return ck_fail(e, SS_ERR_INTERNAL, "bad report");
		}
		buf_free(b);
		if (err != 0) {
			errno = (int)err;
			if (c->same_pid && err == EEXIST)
				return ck_fail(e, SS_ERR_EXISTS, "pid %d is "
				    "taken", im->procs[idx].pid);
			return ck_fail(e, SS_ERR_SYSTEM, "setting up process "
			    "%d: %s", im->procs[idx].pid, strerror(errno));
		}
		im->procs[idx].npid = uc.pid;
		im->procs[idx].thr[0].ntid = uc.pid;
		got++;
	}
	return 0;
}

static void
close_ours(struct ck_image *im)
{
	uint32_t i;

	for (i = 0; i < 3; i++)
		if (im->out_std[i] >= 0)
			close(im->out_std[i]);
	if (im->out_null >= 0)
		close(im->out_null);
	for (i = 0; i < im->npipe; i++) {
		if (im->pipes[i].rfd >= 0)
			close(im->pipes[i].rfd);
		if (im->pipes[i].wfd >= 0)
			close(im->pipes[i].wfd);
		im->pipes[i].rfd = im->pipes[i].wfd = -1;
	}
	for (i = 0; i < im->ndesc; i++)
		if (im->descs[i].kind <= CK_DESC_DEV && im->descs[i].hfd >= 0) {
			close(im->descs[i].hfd);
			im->descs[i].hfd = -1;
		}
	for (i = 0; i < 3; i++)
		im->out_std[i] = -1;
	im->out_null = -1;
}

/* The restorer on one CPU, and the processes it makes after (above). */
struct pin {
	cpu_set_t	 saved;		/* the restorer's own affinity */
	cpu_set_t	 one;
	int		 have;		/* saved and one are set */
};

static void
pin_begin(struct pin *pn)
{
	int cpu = sched_getcpu();

	pn->have = 0;
	if (cpu < 0 || cpu >= CPU_SETSIZE ||
	    sched_getaffinity(0, sizeof(pn->saved), &pn->saved) != 0)
		return;
	CPU_ZERO(&pn->one);
	CPU_SET(cpu, &pn->one);
	if (sched_setaffinity(0, sizeof(pn->one), &pn->one) == 0)
		pn->have = 1;
}

/* The restorer alone back to its own affinity (on = 0) or to the CPU. */
static void
pin_self(const struct pin *pn, int on)
{
	if (pn->have)
		(void)sched_setaffinity(0, sizeof(cpu_set_t),
		    on ? &pn->one : &pn->saved);
}

/* Everyone back to the restorer's affinity: every thread of every new
 * process, then the restorer. */
static void
pin_end(struct pin *pn, const struct ck_image *im)
{
	char path[64];
	struct dirent *de;
	uint32_t i;
	DIR *d;

	if (!pn->have)
		return;
	for (i = 0; i < im->nproc; i++) {
		if (im->procs[i].zombie || im->procs[i].npid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task",
		    (int)im->procs[i].npid);
		if ((d = opendir(path)) == NULL)
			continue;
		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.')
				(void)sched_setaffinity(atoi(de->d_name),
				    sizeof(pn->saved), &pn->saved);
		closedir(d);
	}
	pin_self(pn, 0);
	pn->have = 0;
}

/* The mapped files and exes: needed until FINISH is over. */
static void
close_maps(struct ck_image *im)
{
	uint32_t i, j;

	for (i = 0; i < im->nproc; i++) {
		struct ck_proc *p = &im->procs[i];

		if (p->exefd >= 0)
			close(p->exefd);
		p->exefd = -1;
		ck_mm_restore_uffd_close(p);
		for (j = 0; j < p->nvma; j++) {
			int fd = p->vmas[j].tfd;
			uint32_t k, l;

			if (fd < 0)
				continue;
			/* Shared between vmas: close once. */
			for (k = 0; k < im->nproc; k++)
				for (l = 0; l < im->procs[k].nvma; l++)
					if (im->procs[k].vmas[l].tfd == fd)
						im->procs[k].vmas[l].tfd = -1;
			close(fd);
		}
	}
}

static void
kill_all(struct ck_image *im, pid_t root)
{
	uint32_t i;
	int st;

	for (i = 0; i < im->nproc; i++)
		if (im->procs[i].npid > 0)
			kill(im->procs[i].npid, SIGKILL);
	if (root > 0) {
		kill(root, SIGKILL);
		while (waitpid(root, &st, __WALL) == -1 && errno == EINTR)
			;
	}
}

static int
finish(struct ck_proc *p, int base, int same_pid, struct ckpt_err *e)
{
	uint64_t a[3];
	long ret;
	int r;

	if ((r = ck_mm_restore_finish(p, p->exefd, e)) != 0 ||
	    (r = ck_threads_restore(p, same_pid, e)) != 0)
		return r;
	a[0] = base;
	a[1] = ~0u;
	a[2] = 0;
	if (ck_inject_new(p->thr[0].ntid, p->sys_ip, &p->thr[0].regs,
	    SYS_close_range, a, 3, &ret) != 0 || ret != 0)
		return ck_fail(e, SS_ERR_SYSTEM, "process %d: close_range",
		    p->npid);
	if ((r = ck_task_restore_creds(p, e)) != 0)
		return r;
	a[0] = p->scratch;
	a[1] = 2 * CK_PAGE;
	if (ck_inject_new(p->thr[0].ntid, p->sys_ip, &p->thr[0].regs,
	    SYS_munmap, a, 2, &ret) != 0)
		return ck_fail(e, SS_ERR_SYSTEM, "process %d: munmap",
		    p->npid);
	return ck_threads_finish(p, e);
}

/* PAGES: one run of pages into its process (ck_read_pages, any thread). */
static int
put_pages(void *arg, uint32_t idx, uint64_t addr, const uint8_t *data,
    uint32_t np, struct ckpt_err *e)
{
	struct ck_image *im = arg;

	if (idx >= im->nproc)
		return ck_fail(e, SS_ERR_CORRUPT, "corrupt image: pages of "
		    "process %u of %u", idx, im->nproc);
	return ck_mm_restore_pages(&im->procs[idx], addr, data, np, e);
}

/* RUN: detaches every thread; the tree runs. */
static int
release(struct ckpt_restored *rs, struct ckpt_err *e)
{
	struct ck_image *im = &rs->im;
	uint32_t i, j;

	if (!rs->stopped)
		return 0;
	for (i = 0; i < im->nproc; i++) {
		/* Stopped at the dump: the SIGSTOP waits, pending, and stops
		 * it as soon as it is detached, before it runs a thing. */
		if (im->procs[i].stopped && kill(im->procs[i].npid, SIGSTOP) ==
		    -1)
			return ck_fail(e, SS_ERR_SYSTEM, "process %d: "
			    "SIGSTOP: %s", im->procs[i].npid, strerror(errno));
		for (j = 0; j < im->procs[i].nthr; j++)
			if (ptrace(PTRACE_DETACH, im->procs[i].thr[j].ntid, NULL,
			    NULL) == -1)
				return ck_fail(e, SS_ERR_SYSTEM, "thread %d: "
				    "detach: %s", im->procs[i].thr[j].ntid,
				    strerror(errno));
	}
	rs->stopped = 0;
	return 0;
}

static void *
store_free_main(void *arg)
{
	ck_store_free(arg);
	return NULL;
}

/*
 * The pre-copy's pages, all given to the tree now, are freed by a thread
 * of their own: a GiB of them takes 100 ms and more to unmap, which the
 * tree's downtime need not wait for, and the memory goes back at once
 * (not only once the tree runs: a copy may wait long for its COMMIT).
 */
static void
store_free_behind(struct ck_store *st)
{
	pthread_attr_t a;
	pthread_t t;
	int r = -1;

	if (st == NULL)
		return;
	if (pthread_attr_init(&a) == 0) {
		if (pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED) ==
		    0)
			r = pthread_create(&t, &a, store_free_main, st);
		(void)pthread_attr_destroy(&a);
	}
	if (r != 0)
		ck_store_free(st);
}

int
ckpt_restore(const struct ckpt_restore_opts *o, struct ckpt_restored **rp,
    struct ckpt_stats *st, struct ckpt_err *e)
{
	struct ckpt_restored *rs;
	struct ck_image *im;
	struct ck_stream *s = NULL;
	struct rctx c;
	int sp[2] = { -1, -1 }, sync[2] = { -1, -1 }, one = 1, base, r;
	int oldns = -1;
	uint32_t i, j, idx, nthr = 0;
	uint64_t pages = 0, total;
	struct buf *b = NULL;
	struct pin pn = { .have = 0 };
	pid_t root = -1;

	*rp = NULL;
	if ((rs = calloc(1, sizeof(*rs))) == NULL)
		return ck_fail(e, SS_ERR_ALLOC, "out of memory");
	im = &rs->im;
	im->out_std[0] = im->out_std[1] = im->out_std[2] = im->out_null = -1;
	memset(&c, 0, sizeof(c));
	c.report = c.syncfd = -1;
	if ((s = ck_stream_new(o->in_fd, 0)) == NULL) {
		r = ck_fail(e, SS_ERR_ALLOC, "out of memory");
		goto fail;
	}
	/* READ_META, CHECK */
	if ((r = ck_read_meta(s, im, e)) != 0 ||
	    (r = check_image(im, o->same_pid, e)) != 0)
		goto fail;
	/* OPEN */
	base = 10;
	for (i = 0; i < im->nproc; i++)
		for (j = 0; j < im->procs[i].nfd; j++)
			if (im->procs[i].fds[j].fd >= base)
				base = im->procs[i].fds[j].fd + 1;
	if ((r = open_all(im, o, base, e)) != 0)
		goto fail;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == -1 ||
	    pipe2(sync, O_CLOEXEC) == -1 ||
	    setsockopt(sp[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) ==
	    -1) {
		r = ck_fail(e, SS_ERR_SYSTEM, "socketpair: %s", strerror(errno));
		goto fail;
	}
	c.im = im;
	c.base = base;
	c.same_pid = o->same_pid;
	c.keep_session = o->keep_session;
	if ((c.report = fcntl(sp[1], F_DUPFD_CLOEXEC, base)) == -1 ||
	    (c.syncfd = fcntl(sync[0], F_DUPFD_CLOEXEC, base)) == -1 ||
	    (c.newpid = calloc(im->nproc, sizeof(pid_t))) == NULL) {
		r = ck_fail(e, SS_ERR_SYSTEM, "setup: %s", strerror(errno));
		goto fail;
	}
	close(sp[1]);
	close(sync[0]);
	sp[1] = sync[0] = -1;
	/* SPAWN */
	pin_begin(&pn);
	if (o->pidns_fd >= 0) {
		if ((oldns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC)) ==
		    -1 || setns(o->pidns_fd, CLONE_NEWPID) == -1) {
			r = ck_fail(e, SS_ERR_SYSTEM, "PID namespace: %s",
			    strerror(errno));
			goto fail;
		}
	}
	root = spawn_one(im->procs[0].pid, o->same_pid);
	if (root == 0)
		prep(&c, 0);
	if (oldns >= 0) {
		if (setns(oldns, CLONE_NEWPID) == -1) {
			r = ck_fail(e, SS_ERR_SYSTEM, "PID namespace: %s",
			    strerror(errno));
			goto fail;
		}
		close(oldns);
		oldns = -1;
	}
	if (root == -1) {
		r = ck_fail(e, errno == EEXIST ? SS_ERR_EXISTS : SS_ERR_SYSTEM,
		    "creating process %d: %s", im->procs[0].pid,
		    errno == EEXIST ? "pid taken" : strerror(errno));
		goto fail;
	}
	close(c.report);
	close(c.syncfd);
	c.report = c.syncfd = -1;
	r = collect_reports(&c, sp[0], root, e);
	close_ours(im);
	if (r != 0)
		goto fail;
	/* SEIZE (a zombie has nothing more to restore) */
	for (i = 0; i < im->nproc; i++)
		if (!im->procs[i].zombie && (r = ck_seize(im->procs[i].npid,
		    PTRACE_O_TRACECLONE | PTRACE_O_EXITKILL, e)) != 0)
			goto fail;
	/* LAYOUT */
	for (i = 0; i < im->nproc; i++)
		if (!im->procs[i].zombie && (r = ck_mm_restore_layout(im,
		    &im->procs[i], e)) != 0)
			goto fail;
	/* PAGES, its threads on every CPU */
	pin_self(&pn, 0);
	if ((r = ck_stream_set_pids(s, im, e)) != 0 ||
	    (r = ck_read_pages(s, put_pages, im, &b, &pages, e)) != 0)
		goto fail;
	if (buf_get_u32(b, &idx) != 0 || buf_get_u64(b, &total) != 0 ||
	    total != pages || idx != im->nproc) {
		r = ck_fail(e, SS_ERR_CORRUPT, "corrupt image: %llu pages "
		    "read, end section says otherwise",
		    (unsigned long long)pages);
		goto fail;
	}
	buf_free(b);
	b = NULL;
	for (i = 0; i < im->nproc; i++)
		ck_mm_restore_uffd_close(&im->procs[i]);
	/* FINISH */
	pin_self(&pn, 1);
	for (i = 0; i < im->nproc; i++) {
		if (!im->procs[i].zombie && (r = finish(&im->procs[i], base,
		    o->same_pid, e)) != 0)
			goto fail;
		nthr += im->procs[i].nthr;
	}
	pin_end(&pn, im);
	close_maps(im);
	rs->root = root;
	rs->stopped = 1;
	close(sync[1]);
	sync[1] = -1;
	close(sp[0]);
	free(c.newpid);
	if (st != NULL) {
		st->image_bytes = ck_stream_bytes(s);
		st->pages = pages;
		st->nprocs = im->nproc;
		st->nthreads = nthr;
	}
	store_free_behind(ck_stream_take_store(s));
	ck_stream_free(s);
	*rp = rs;
	if (!o->stopped && (r = release(rs, e)) != 0) {
		*rp = NULL;
		ckpt_restore_abort(rs);
		return r;
	}
	return 0;
 fail:
	buf_free(b);
	if (oldns >= 0) {
		(void)setns(oldns, CLONE_NEWPID);
		close(oldns);
	}
	kill_all(im, root);
	pin_self(&pn, 0);
	close_ours(im);
	close_maps(im);
	if (sp[0] >= 0)
		close(sp[0]);
	if (sp[1] >= 0)
		close(sp[1]);
	if (sync[0] >= 0)
		close(sync[0]);
	if (sync[1] >= 0)
		close(sync[1]);
	if (c.report >= 0)
		close(c.report);
	if (c.syncfd >= 0)
		close(c.syncfd);
	free(c.newpid);
	ck_stream_free(s);
	ck_image_free(im);
	free(rs);
	return r;
}

pid_t
ckpt_restored_pid(const struct ckpt_restored *r)
{
	return r->root;
}

int
ckpt_restore_run(struct ckpt_restored *r, struct ckpt_err *e)
{
	int rc = release(r, e);

	if (rc != 0) {
		ckpt_restore_abort(r);
		return rc;
	}
	ck_image_free(&r->im);
	free(r);
	return 0;
}

void
ckpt_restore_abort(struct ckpt_restored *r)
{
	if (r == NULL)
		return;
	if (r->stopped)
		kill_all(&r->im, r->root);
	ck_image_free(&r->im);
	free(r);
}
