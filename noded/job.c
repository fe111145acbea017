/*
 * job.c: the jobs that run on this node, each under its shepherd.
 *
 * noded starts a shepherd per job (sshell-shepherd, see shepherd.c) and
 * keeps a connection to it: the shepherd hands over duplicates of the
 * job's stdio (three pipes, or a pty master) with SCM_RIGHTS, reports the
 * job's end, and takes signals and window changes.  Shepherds outlive
 * noded: at start, job_adopt_all() connects to every shepherd socket in
 * STATEDIR/run and takes its job back, descriptors included, so no output
 * is lost while noded was away (the job at worst blocked on a full pipe).
 *
 * Output goes to the job's sink: the home job (struct hjob) when the job
 * was born here, else the "attach GPID" channel that the home node opened
 * on its session to us.  With no sink, or a sink that is full, we stop
 * reading the job's pipes: back-pressure, never an unbounded queue.  The
 * end is delivered only after the pipes are drained (EOF, or nothing left
 * to read once the leader has exited: a background child may keep a pipe
 * open for ever), so exit-status always follows the last byte.
 */
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "err.h"
#include "gpid.h"
#include "log.h"
#include "noded.h"

/* Per attach channel, from its opening on; freed with its session. */
struct chctx {
	TAILQ_ENTRY(chctx) entry;
	ssh_channel	 ch;
	ssh_session	 s;
	unsigned	 node;
	uint64_t	 gpid;
	int		 local_freed;	/* we called ssh_channel_free */
	int		 peer_closed;	/* the close callback came */
	int		 img;		/* a mover's image channel */
	struct ssh_channel_callbacks_struct cb;
};
static TAILQ_HEAD(, chctx) chctxs = TAILQ_HEAD_INITIALIZER(chctxs);

static void	rjob_deliver_exit(struct rjob *);
static void	rjob_got_info(struct rjob *, struct shep_info *, int *, int);
static int	rjob_from_move(struct rjob *, const struct move_req *);
static void	rjob_stopped(struct rjob *, int);
static void	rjob_drop_img(struct rjob *);
static int	sink_room(struct rjob *);

struct rjob *
rjob_by_gpid(uint64_t gpid)
{
	struct rjob *rj;

	TAILQ_FOREACH(rj, &g.rjobs, entry)
		if (rj->gpid == gpid && !rj->dead)
			return rj;
	return NULL;
}

int
rjob_count(void)
{
	struct rjob *rj;
	int n = 0;

	TAILQ_FOREACH(rj, &g.rjobs, entry)
		if (!rj->dead && !rj->exited)
			n++;
	return n;
}

static struct rjob *
rjob_alloc(uint64_t gpid, unsigned home)
{
	struct rjob *rj;

	if ((rj = calloc(1, sizeof(*rj))) == NULL)
		return NULL;
	rj->gpid = gpid;
	rj->home = home;
	rj->shep_fd = rj->fd_in = rj->fd_out = rj->fd_err = -1;
	rj->mover_fd = rj->img_fd = -1;
	rj->placed_ms = now_ms();
	if ((rj->shep_in = buf_new(PROTO_MAX_FRAME + 65536)) == NULL ||
	    (rj->stdin_q = buf_new(16u * 1024 * 1024)) == NULL ||
	    (rj->chq = buf_new(1u * 1024 * 1024)) == NULL) {
		buf_free(rj->shep_in);
		buf_free(rj->stdin_q);
		free(rj);
		return NULL;
	}
	TAILQ_INSERT_TAIL(&g.rjobs, rj, entry);
	return rj;
}

static void
sock_path(uint64_t gpid, char *buf, size_t len)
{
	snprintf(buf, len, "%s/run/shep-%llu.sock", g.statedir,
	    (unsigned long long)gpid);
}

/*
 * Starts an sshell-shepherd that waits for its spec on fd 3, with fd 4 its
 * control socket: *spec_w gets noded's end of the spec's connection, *ctl
 * noded's end of the control socket.  The spec's connection is a pipe, or
 * with sock a Unix stream socket: a migrating job's image follows its spec
 * there, and a pipe on our machines costs two to five times the CPU per
 * byte (each 4 KiB page of a pipe is allocated and charged to the memory
 * cgroup on its own); a new job's few hundred bytes of spec keep their
 * pipe (no difference measured within the noise of our machines: 122 to
 * 131 jobs per second either way).  posix_spawn (a vfork underneath)
 * copies nothing of noded's address space; the ends reach 3 and 4 from
 * numbers above 4, so that neither dup2 can clobber the other.
 */
static int
shep_launch(int *spec_w, int *ctl, int sock)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	/* -n: it makes the job's PID namespace before it has the spec. */
	char *argv[] = { "sshell-shepherd", g.root ? "-n" : NULL, NULL };
	int specp[2] = { -1, -1 }, sv[2] = { -1, -1 }, a = -1, b = -1;
	sigset_t none;
	pid_t pid = -1;

	if ((sock ? socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, specp) :
	    pipe2(specp, O_CLOEXEC)) == -1 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1 ||
	    (a = fcntl(specp[0], F_DUPFD_CLOEXEC, 10)) == -1 ||
	    (b = fcntl(sv[1], F_DUPFD_CLOEXEC, 10)) == -1)
		goto out;
	if (posix_spawn_file_actions_init(&fa) != 0)
		goto out;
	if (posix_spawnattr_init(&attr) == 0) {
		sigemptyset(&none);
		posix_spawnattr_setsigmask(&attr, &none);
		posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
		if (posix_spawn_file_actions_adddup2(&fa, a, 3) != 0 ||
		    posix_spawn_file_actions_adddup2(&fa, b, 4) != 0 ||
		    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null",
		    O_RDWR, 0) != 0 ||
		    posix_spawn_file_actions_adddup2(&fa, 0, 1) != 0 ||
		    posix_spawn_file_actions_adddup2(&fa, 0, 2) != 0 ||
		    posix_spawn_file_actions_addclosefrom_np(&fa, 5) != 0 ||
		    (errno = posix_spawn(&pid, g.shepherd, &fa, &attr, argv,
		    environ)) != 0)
			pid = -1;
		posix_spawnattr_destroy(&attr);
	}
	posix_spawn_file_actions_destroy(&fa);
out:
	if (a != -1)
		close(a);
	if (b != -1)
		close(b);
	if (specp[0] != -1)
		close(specp[0]);
	if (sv[1] != -1)
		close(sv[1]);
	if (pid == -1) {
		if (specp[1] != -1)
			close(specp[1]);
		if (sv[0] != -1)
			close(sv[0]);
		return SS_ERR_SYSTEM;
	}
	*spec_w = specp[1];
	*ctl = sv[0];
	return 0;
}

/*
 * A spare shepherd, started ahead and waiting for its spec, so that a new
 * job does not wait for an exec (about 0.8 ms on our machines).  The next
 * spare is started when a job ends, not when it starts: on two cores its
 * exec would slow the very job that took the last one.
 */
static int spare_spec = -1, spare_ctl = -1;

void
job_spare(void)
{
	if (spare_spec != -1 || g.shepherd[0] == '\0')
		return;
	if (shep_launch(&spare_spec, &spare_ctl, 0) != 0) {
		spare_spec = spare_ctl = -1;
		log_warn_r(SS_ERR_SYSTEM, "%s: cannot start a shepherd",
		    g.shepherd);
	}
}

int
job_cgroup(uint64_t gpid, char *buf, size_t len)
{
	buf[0] = '\0';
	if (g.cgroot[0] == '\0')
		return -1;
	snprintf(buf, len, "%s/%llu", g.cgroot, (unsigned long long)gpid);
	return 0;
}

/*
 * What starting any shepherd takes: spec (gpid, uid, gid, user and req
 * filled in by the caller; the paths here) goes to the spare shepherd or
 * a new one (always, for a restore: its image goes on a socket), and a
 * new rjob gets the control connection.  *spec_wp is the spec's
 * connection, which the caller closes, or keeps to send a restore's image
 * on.  If the shepherd died, its socket says so and the job ends as lost.
 */
static int
shep_begin(struct shep_spec *spec, unsigned home, struct rjob **rjp,
    int *spec_wp)
{
	struct rjob *rj;
	struct buf *m = NULL;
	char sock[4200], cg[4300];
	int spec_w = -1, ctl = -1, rc;

	sock_path(spec->gpid, sock, sizeof(sock));
	(void)job_cgroup(spec->gpid, cg, sizeof(cg));
	spec->newpid = g.root;
	spec->sock = sock;
	spec->cgroup = cg;
	if ((m = proto_msg_new(MSG_SHEP_SPEC)) == NULL ||
	    shep_spec_put(m, spec) != 0 || proto_msg_finish(m) != 0) {
		buf_free(m);
		return SS_ERR_ALLOC;
	}
	if ((rj = rjob_alloc(spec->gpid, home)) == NULL) {
		buf_free(m);
		return SS_ERR_ALLOC;
	}
	if (spare_spec != -1 && !spec->restore) {
		spec_w = spare_spec;
		ctl = spare_ctl;
		spare_spec = spare_ctl = -1;
	} else if ((rc = shep_launch(&spec_w, &ctl, spec->restore)) != 0) {
		log_err_r(rc, "job %llu: cannot start its shepherd",
		    (unsigned long long)spec->gpid);
		rj->dead = 1;
		buf_free(m);
		return rc;
	}
	/* The spec is small next to a socket's buffer unless the
	 * environment is huge; the shepherd reads it at once in either case. */
	if ((rc = proto_write_all(spec_w, m)) != 0)
		log_warn_r(rc, "job %llu: spec", (unsigned long long)spec->gpid);
	buf_free(m);
	rj->shep_fd = ctl;
	set_nonblock(rj->shep_fd);
	*rjp = rj;
	*spec_wp = spec_w;
	return 0;
}

/*
 * Starts a shepherd for gpid.  The SPAWNED reply to r (if r is not NULL)
 * goes out when the shepherd has reported the job's pid.
 */
int
job_start(const struct req *r, uint64_t gpid, unsigned home,
    const struct spawn_req *sp, uid_t uid, gid_t gid, const char *user,
    struct rjob **rjp)
{
	struct shep_spec spec;
	struct rjob *rj;
	int spec_w, rc;

	*rjp = NULL;
	memset(&spec, 0, sizeof(spec));
	spec.gpid = gpid;
	spec.uid = uid;
	spec.gid = gid;
	spec.user = (char *)user;
	spec.req = *sp;
	if ((rc = shep_begin(&spec, home, &rj, &spec_w)) != 0)
		return rc;
	close(spec_w);
	rj->uid = uid;
	rj->gid = gid;
	rj->user = strdup(user);
	rj->cmd = sp->cmd[0] != '\0' ? strdup(sp->cmd) : join_argv(sp->argv);
	rj->name = strdup(sp->name);
	rj->log = strdup(sp->log);
	rj->started = now_s();
	rj->flags = sp->flags;
	rj->rows = sp->rows;
	rj->cols = sp->cols;
	rj->term = strdup(sp->term);
	if (r != NULL) {
		rj->spawn_req = *r;
		rj->spawn_pending = 1;
	}
	if (!(sp->flags & (SPAWN_IO)))
		rj->stdin_eof = 1;	/* detached jobs read EOF */
	*rjp = rj;
	return 0;
}

/*
 * Starts a restore shepherd for a job moving here (migration, target side):
 * the spec says restore, and the image follows it on the same pipe, fed by
 * rjob_img_io() from the mover's "restore GPID" channel.  The job is not
 * ours until COMMIT: no directory row, not listed.
 */
static const int img_buf = 4 * 1024 * 1024;

int
job_restore_start(const struct move_req *mr, struct rjob **rjp)
{
	struct shep_spec spec;
	struct rjob *rj;
	char *argv[2] = { mr->cmd, NULL };
	int spec_w, rc;

	*rjp = NULL;
	memset(&spec, 0, sizeof(spec));
	spec.gpid = mr->gpid;
	spec.uid = mr->uid;
	spec.gid = mr->gid;
	spec.user = mr->user;
	spec.req.flags = mr->flags;
	spec.req.node = spec.req.name = spec.req.log = spec.req.cmd = "";
	spec.req.cwd = "/";
	spec.req.argc = 1;
	spec.req.argv = argv;
	spec.req.term = mr->term;
	spec.req.rows = mr->rows;
	spec.req.cols = mr->cols;
	spec.restore = 1;
	spec.tty_mode_len = mr->tty_mode_len;
	memcpy(spec.tty_mode, mr->tty_mode, sizeof(spec.tty_mode));
	if ((rc = shep_begin(&spec, mr->home, &rj, &spec_w)) != 0)
		return rc;
	if ((rj->img_q = buf_new(64u * 1024 * 1024)) == NULL ||
	    rjob_from_move(rj, mr) != 0) {
		close(spec_w);
		rjob_discard(rj);
		return SS_ERR_ALLOC;
	}
	/* A buffer as long as libssh's window, so that a pause of the
	 * shepherd's does not stop the sender (root may pass wmem_max;
	 * otherwise what it allows). */
	if (setsockopt(spec_w, SOL_SOCKET, SO_SNDBUFFORCE, &img_buf,
	    sizeof(img_buf)) == -1)
		(void)setsockopt(spec_w, SOL_SOCKET, SO_SNDBUF, &img_buf,
		    sizeof(img_buf));
	rj->img_fd = spec_w;
	set_nonblock(rj->img_fd);
	rj->restoring = RESTORING_IMAGE;
	*rjp = rj;
	return 0;
}

/* What a job moving here is, from its move request. */
static int
rjob_from_move(struct rjob *rj, const struct move_req *mr)
{
	rj->uid = mr->uid;
	rj->gid = mr->gid;
	rj->started = mr->started;
	rj->flags = mr->flags;
	rj->moves = mr->moves + 1;
	rj->rows = mr->rows;
	rj->cols = mr->cols;
	rj->mig_src = mr->src;
	rj->mig_src_id = mr->mig_id;
	if (!(mr->flags & SPAWN_IO))
		rj->stdin_eof = 1;
	if ((rj->user = strdup(mr->user)) != NULL &&
	    (rj->cmd = strdup(mr->cmd)) != NULL &&
	    (rj->name = strdup(mr->name)) != NULL &&
	    (rj->log = strdup(mr->log)) != NULL &&
	    (rj->term = strdup(mr->term)) != NULL)
		return 0;
	/* All or none. */
	free(rj->user);
	free(rj->cmd);
	free(rj->name);
	free(rj->log);
	rj->user = rj->cmd = rj->name = rj->log = NULL;
	return SS_ERR_ALLOC;
}

/*
 * A shepherd found at start whose job has no row here but an arrivals
 * row: a copy restored for a move, which may be waiting for a COMMIT
 * that a noded now gone was to give.  Its MSG_SHEP_INFO says which
 * (rjob_got_info); until then it asks nobody.
 */
static int
rjob_adopt_arrival(struct rjob *rj)
{
	struct move_req mr;
	struct buf *b;
	void *req;
	size_t len;
	int r;

	if ((r = dir_arrival_get(g.dir, rj->gpid, &req, &len)) != 0)
		return r;
	b = buf_from(req, len, len);
	free(req);
	if (b == NULL)
		return SS_ERR_ALLOC;
	r = move_req_get(b, &mr);
	if (r == 0 && (buf_len(b) != 0 || mr.gpid != rj->gpid))
		r = SS_ERR_CORRUPT;
	buf_free(b);
	if (r == 0)
		r = rjob_from_move(rj, &mr);
	move_req_clear(&mr);
	if (r != 0)
		return r;
	rj->restoring = RESTORING_ORPHAN;
	rj->ask_ms = INT64_MAX;
	rj->arrival = 1;
	return 0;
}

static void
shep_send(struct rjob *rj, uint8_t type, int nargs, uint32_t a, uint32_t b)
{
	struct buf *m;

	if (rj->shep_fd == -1 || (m = proto_msg_new(type)) == NULL)
		return;
	if ((nargs > 0 && buf_put_u32(m, a) != 0) ||
	    (nargs > 1 && buf_put_u32(m, b) != 0) ||
	    proto_msg_finish(m) != 0 ||
	    proto_write_all(rj->shep_fd, m) != 0)
		log_warn("job %llu: shepherd does not listen",
		    (unsigned long long)rj->gpid);
	buf_free(m);
}

static void
close_fd(int *fd)
{
	if (*fd != -1)
		close(*fd);
	*fd = -1;
}

/*
 * The job's input has ended.  The shepherd keeps its own copy of the
 * stdin pipe's write end (so that a noded restart is no EOF), so closing
 * ours is not enough: it is told with MSG_EOF and closes its copy.
 */
void
rjob_close_stdin(struct rjob *rj)
{
	struct buf *m;

	if (rj->have_info && rj->info.pty)
		return;
	if (rj->fd_in != -1 && rj->fd_in != rj->fd_out)
		close_fd(&rj->fd_in);
	if (rj->shep_fd == -1 || rj->stdin_eof == 2)
		return;
	if ((m = proto_msg_new(MSG_EOF)) == NULL || buf_put_u8(m, 0) != 0 ||
	    proto_msg_finish(m) != 0 || proto_write_all(rj->shep_fd, m) != 0)
		log_warn("job %llu: cannot close its input",
		    (unsigned long long)rj->gpid);
	else
		rj->stdin_eof = 2;	/* told */
	buf_free(m);
}

/* Reads from the shepherd: frames, and the descriptors that come along. */
void
rjob_shep_io(struct rjob *rj, short revents)
{
	struct msghdr mh;
	struct iovec iov;
	struct cmsghdr *cm;
	union {
		char buf[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} cbuf;
	struct shep_info info;
	struct buf *payload;
	int fds[4], nfds = 0, i;
	uint32_t st;
	uint8_t type, *p;
	ssize_t n;

	(void)revents;
	if (buf_reserve(rj->shep_in, 65536, &p) != 0) {
		close_fd(&rj->shep_fd);
		return;
	}
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = p;
	iov.iov_len = 65536;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf.buf;
	mh.msg_controllen = sizeof(cbuf.buf);
	n = recvmsg(rj->shep_fd, &mh, MSG_CMSG_CLOEXEC);
	buf_consume_end(rj->shep_in, 65536 - (n > 0 ? (size_t)n : 0));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	for (cm = CMSG_FIRSTHDR(&mh); n > 0 && cm != NULL;
	    cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SCM_RIGHTS) {
			int k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			for (i = 0; i < k; i++) {
				int fd;

				memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int),
				    sizeof(int));
				if (nfds < 4)
					fds[nfds++] = fd;
				else
					close(fd);
			}
		}
	}
	if (n <= 0) {
		/* The shepherd is gone: its job is gone with it. */
		close_fd(&rj->shep_fd);
		if (rj->restoring == RESTORING_IMAGE) {
			rjob_restore_verdict(rj, 0, "the restore shepherd died");
			return;
		}
		if (rj->restoring != RESTORING_NO) {
			log_warn("job %llu: the shepherd of its copy from %s "
			    "died", (unsigned long long)rj->gpid,
			    node_name(rj->mig_src));
			rjob_discard(rj);
			return;
		}
		if (!rj->exited) {
			log_warn("job %llu: shepherd vanished",
			    (unsigned long long)rj->gpid);
			rj->exited = 1;
			rj->status = SIGKILL;	/* as if killed */
		}
		return;
	}
	while (proto_frame_take(rj->shep_in, &type, &payload) == 0) {
		switch (type) {
		case MSG_SHEP_INFO:
			if (shep_info_get(payload, &info) == 0) {
				rjob_got_info(rj, &info, fds, nfds);
				nfds = 0;
			}
			break;
		case MSG_SHEP_EXIT:
			if (buf_get_u32(payload, &st) == 0 && !rj->exited) {
				rj->exited = 1;
				rj->status = (int)st;
				log_debug("job %llu ended, status 0x%x",
				    (unsigned long long)rj->gpid, st);
			}
			break;
		case MSG_ERROR:
			if (rj->restoring != RESTORING_NO) {
				char *msg = NULL;
				int code;

				if (proto_get_error(payload, &code, &msg) != 0)
					msg = NULL;
				rjob_restore_verdict(rj, 0, msg != NULL ? msg :
				    "the restore failed");
				free(msg);
			} else
				log_warn("job %llu: its shepherd refused "
				    "something", (unsigned long long)rj->gpid);
			break;
		case MSG_STOPPED:
		case MSG_CONTINUED:
			if (type == MSG_STOPPED &&
			    buf_get_u32(payload, &st) != 0)
				break;
			rjob_stopped(rj, type == MSG_STOPPED ? (int)st : 0);
			break;
		default:
			log_warn("job %llu: shepherd sent %u",
			    (unsigned long long)rj->gpid, type);
		}
		buf_free(payload);
	}
	for (i = 0; i < nfds; i++)
		close(fds[i]);
}

/*
 * The job stopped (sig) or went on (0): tell its home.  SSH has no
 * message for this and libssh sends no channel request of our own
 * naming, so it travels as a "signal" request whose name is
 * "stopped@sshell:N" or "continued@sshell" (PROTOCOL).
 */
static void
rjob_stopped(struct rjob *rj, int sig)
{
	char name[64];

	if (rj->hj != NULL)
		hjob_stopped(rj->hj, sig);
	else if (rj->ch != NULL) {
		if (sig != 0)
			snprintf(name, sizeof(name), "stopped@sshell:%d", sig);
		else
			snprintf(name, sizeof(name), "continued@sshell");
		ssh_channel_request_send_signal(rj->ch, name);
		g.wrote_ssh = 1;
	}
}

static void
rjob_got_info(struct rjob *rj, struct shep_info *info, int *fds, int nfds)
{
	struct buf *m;
	int want = info->pty ? 1 : 3;

	rj->info = *info;
	rj->have_info = 1;
	if (nfds >= want) {
		close_fd(&rj->fd_in);
		close_fd(&rj->fd_out);
		close_fd(&rj->fd_err);
		if (info->pty) {
			rj->fd_out = fds[0];
			rj->fd_in = dup(fds[0]);
			rj->err_eof = 1;
		} else {
			rj->fd_in = fds[0];
			rj->fd_out = fds[1];
			rj->fd_err = fds[2];
		}
		set_nonblock(rj->fd_in);
		set_nonblock(rj->fd_out);
		if (rj->fd_err != -1)
			set_nonblock(rj->fd_err);
	} else
		log_warn("job %llu: shepherd sent %d descriptors, not %d",
		    (unsigned long long)rj->gpid, nfds, want);
	if (info->exited && !rj->exited) {
		rj->exited = 1;
		rj->status = (int)info->status;
	}
	if (rj->arrival) {
		rj->arrival = 0;
		if (info->waiting) {
			/* Ready, and the COMMIT never came: ask. */
			log_info("job %llu: its copy from %s waits here: "
			    "asking there", (unsigned long long)rj->gpid,
			    node_name(rj->mig_src));
			rj->ask_ms = 0;
		} else
			mig_arrival_runs(rj);	/* COMMIT had come */
		return;
	}
	if (rj->restoring == RESTORING_IMAGE) {
		/* Restored, stopped: the mover hears it on its channel. */
		rjob_restore_verdict(rj, 1, NULL);
		return;
	}
	if (rj->restoring != RESTORING_NO)
		return;		/* a reconnect while waiting for COMMIT */
	if (rj->stdin_eof && buf_len(rj->stdin_q) == 0)
		rjob_close_stdin(rj);
	dir_proc_set_location(g.dir, rj->gpid, g.id, (pid_t)info->pid,
	    info->starttime);
	dir_proc_set_state(g.dir, rj->gpid, "running");
	if (rj->spawn_pending) {
		rj->spawn_pending = 0;
		if ((m = proto_msg_new(MSG_SPAWNED)) != NULL &&
		    (buf_put_u64(m, rj->gpid) != 0 ||
		    buf_put_cstring(m, g.name) != 0 ||
		    buf_put_u32(m, info->pid) != 0 ||
		    buf_put_u32(m, 0) != 0)) {
			buf_free(m);
			m = NULL;
		}
		req_reply(&rj->spawn_req, m);
	}
}

/* Bytes the sink takes now; 0 means stop reading the job. */
static int
sink_room(struct rjob *rj)
{
	if (rj->hj != NULL)
		return hjob_can_take(rj->hj) ? NODED_IO_CHUNK : 0;
	if (rj->ch != NULL) {
		uint32_t w;

		if (buf_len(rj->chq) > 0)
			return 0;
		w = ssh_channel_window_size(rj->ch);
		return w > NODED_IO_CHUNK ? NODED_IO_CHUNK : (int)w;
	}
	return 0;
}

static void
chan_write(struct rjob *rj, int stream, const uint8_t *data, size_t len)
{
	int n;

	n = stream == 2 ? ssh_channel_write_stderr(rj->ch, data, len) :
	    ssh_channel_write(rj->ch, data, len);
	g.wrote_ssh = 1;
	if (n < 0) {
		n = 0;
	}
	if ((size_t)n < len) {
		buf_reset(rj->chq);
		buf_put(rj->chq, data + n, len - n);
		rj->chq_stream = stream;
	}
}

static void
chq_flush(struct rjob *rj)
{
	uint32_t w;
	size_t n;
	int k;

	while (rj->ch != NULL && buf_len(rj->chq) > 0) {
		w = ssh_channel_window_size(rj->ch);
		if (w == 0)
			return;
		n = buf_len(rj->chq) < w ? buf_len(rj->chq) : w;
		k = rj->chq_stream == 2 ?
		    ssh_channel_write_stderr(rj->ch, buf_ptr(rj->chq), n) :
		    ssh_channel_write(rj->ch, buf_ptr(rj->chq), n);
		g.wrote_ssh = 1;
		if (k <= 0)
			return;
		buf_consume(rj->chq, (size_t)k);
	}
}

/* Reads once from fd (out or err) into the sink; returns bytes, 0 at EOF,
 * -1 when nothing is there now. */
static ssize_t
pump_one(struct rjob *rj, int stream)
{
	uint8_t data[NODED_IO_CHUNK];
	int *fd = stream == 2 ? &rj->fd_err : &rj->fd_out;
	int room = sink_room(rj);
	ssize_t n;

	if (*fd == -1 || room <= 0)
		return -1;
	n = read(*fd, data, (size_t)room);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return -1;
	if (n <= 0) {
		/* EOF, or EIO from a pty whose last writer left. */
		close_fd(fd);
		if (stream == 2)
			rj->err_eof = 1;
		else
			rj->out_eof = 1;
		return 0;
	}
	if (rj->hj != NULL)
		hjob_output(rj->hj, stream, data, (size_t)n);
	else if (rj->ch != NULL)
		chan_write(rj, stream, data, (size_t)n);
	return n;
}

void
rjob_io(struct rjob *rj, int fd, short revents)
{
	ssize_t n;

	if (fd == rj->shep_fd) {
		rjob_shep_io(rj, revents);
		return;
	}
	if (fd == rj->img_fd) {
		rjob_img_io(rj);
		return;
	}
	if (fd == rj->mover_fd) {
		mover_io(rj);
		return;
	}
	if (fd == rj->fd_in && (revents & (POLLOUT | POLLERR | POLLHUP))) {
		/* A job being moved keeps its input for where it goes. */
		while (buf_len(rj->stdin_q) > 0 && !rj->moving && !rj->moved) {
			n = write(rj->fd_in, buf_ptr(rj->stdin_q),
			    buf_len(rj->stdin_q));
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				break;
			if (n <= 0) {
				buf_reset(rj->stdin_q);
				close_fd(&rj->fd_in);
				break;
			}
			buf_consume(rj->stdin_q, (size_t)n);
		}
		if (rj->stdin_eof && buf_len(rj->stdin_q) == 0 && !rj->moving &&
		    !rj->moved)
			rjob_close_stdin(rj);
		return;
	}
	if (fd == rj->fd_out)
		pump_one(rj, 1);
	else if (fd == rj->fd_err)
		pump_one(rj, 2);
}

void
rjob_stdin(struct rjob *rj, const void *data, size_t len)
{
	if (rj->fd_in == -1)
		return;
	if (buf_put(rj->stdin_q, data, len) != 0)
		log_warn("job %llu: stdin queue full, input dropped",
		    (unsigned long long)rj->gpid);
	rjob_io(rj, rj->fd_in, POLLOUT);
}

void
rjob_stdin_eof(struct rjob *rj)
{
	if (rj->stdin_eof)
		return;
	rj->stdin_eof = 1;
	if (rj->have_info && rj->info.pty) {
		/* A terminal has no EOF of its own: send ^D as a tty would. */
		rjob_stdin(rj, "\004", 1);
		return;
	}
	if (buf_len(rj->stdin_q) == 0 && rj->have_info)
		rjob_close_stdin(rj);
}

int
rjob_signal(struct rjob *rj, int sig)
{
	uint64_t st;

	if (!rj->have_info || rj->exited)
		return SS_ERR_NOT_FOUND;
	/* Frozen for a move: a signal now would die with the original.  It
	 * waits, and goes where the job ends up (migrate.c). */
	if (rj->moving && sig > 0 && sig <= 64) {
		rj->held_sigs |= 1ULL << (sig - 1);
		return 0;
	}
	/* Never signal whatever process now has a recycled pid. */
	if (proc_starttime((pid_t)rj->info.pid, &st) != 0 ||
	    st != rj->info.starttime)
		return SS_ERR_NOT_FOUND;
	if (kill(-(pid_t)rj->info.pid, sig) == -1 &&
	    kill((pid_t)rj->info.pid, sig) == -1)
		return SS_ERR_SYSTEM;
	return 0;
}

void
rjob_winch(struct rjob *rj, uint32_t rows, uint32_t cols)
{
	struct winsize ws;

	if (!rj->have_info || !rj->info.pty || rj->fd_out == -1)
		return;
	memset(&ws, 0, sizeof(ws));
	ws.ws_row = rows;
	ws.ws_col = cols;
	ioctl(rj->fd_out, TIOCSWINSZ, &ws);
}

void
rjob_poll_fds(struct pollfd *pfd, void **owners, size_t *n, size_t max)
{
	struct rjob *rj;
	int room;

	TAILQ_FOREACH(rj, &g.rjobs, entry) {
		if (rj->dead)
			continue;
		if (rj->shep_fd != -1 && *n < max) {
			pfd[*n].fd = rj->shep_fd;
			pfd[*n].events = POLLIN;
			owners[(*n)++] = rj;
		}
		room = sink_room(rj);
		if (rj->fd_out != -1 && room > 0 && *n < max) {
			pfd[*n].fd = rj->fd_out;
			pfd[*n].events = POLLIN;
			owners[(*n)++] = rj;
		}
		if (rj->fd_err != -1 && room > 0 && *n < max) {
			pfd[*n].fd = rj->fd_err;
			pfd[*n].events = POLLIN;
			owners[(*n)++] = rj;
		}
		if (rj->mover_fd != -1 && *n < max) {
			pfd[*n].fd = rj->mover_fd;
			pfd[*n].events = POLLIN;
			owners[(*n)++] = rj;
		}
		if (rj->img_fd != -1 && buf_len(rj->img_q) > 0 && *n < max) {
			pfd[*n].fd = rj->img_fd;
			pfd[*n].events = POLLOUT;
			owners[(*n)++] = rj;
		}
		if (rj->fd_in != -1 && buf_len(rj->stdin_q) > 0 && *n < max &&
		    rj->fd_in != rj->fd_out && !rj->moving && !rj->moved) {
			pfd[*n].fd = rj->fd_in;
			pfd[*n].events = POLLOUT;
			owners[(*n)++] = rj;
		}
	}
}

/* Every round: channel queues, ends to deliver. */
void
rjob_pump(void)
{
	struct rjob *rj;

	TAILQ_FOREACH(rj, &g.rjobs, entry) {
		if (rj->dead)
			continue;
		if (rj->ch != NULL)
			chq_flush(rj);
		if (rj->img_fd != -1 || rj->img_ch != NULL)
			rjob_img_io(rj);
		if (!rj->exited || rj->finished || rj->moving)
			continue;
		if (rj->hj == NULL && rj->ch == NULL)
			continue;	/* wait for the home to attach */
		/* Drain what is left; stop at "nothing now". */
		while (pump_one(rj, 1) > 0)
			;
		while (pump_one(rj, 2) > 0)
			;
		if (sink_room(rj) <= 0 && (rj->fd_out != -1 ||
		    rj->fd_err != -1 || buf_len(rj->chq) > 0))
			continue;	/* the sink is full: later */
		rjob_deliver_exit(rj);
	}
}

/* Lets go of the attach channel (it was freed by libssh's rules). */
static void
rjob_free_channel(struct rjob *rj)
{
	struct chctx *cc;

	TAILQ_FOREACH(cc, &chctxs, entry) {
		if (cc->ch == rj->ch) {
			cc->gpid = 0;
			cc->local_freed = 1;
		}
	}
	/* libssh keeps the channel until the peer's close arrives and may
	 * call our callbacks until then: chctx lives on until both ends are
	 * done (job_chan_reap). */
	ssh_channel_free(rj->ch);
	rj->ch = NULL;
}

/*
 * The job left for another node and its last output here is drained:
 * the home's bridge switches over.  An attach channel closes without an
 * exit status (the home then attaches to the new node); a local home job
 * attaches at once.
 */
static void
rjob_deliver_moved(struct rjob *rj)
{
	struct hjob *hj = rj->hj;

	if (hj != NULL) {
		hj->rj = NULL;
		rj->hj = NULL;
		home_moved(rj->gpid, MOVED_DONE, rj->moved_to, 0, 0);
	} else if (rj->ch != NULL) {
		ssh_channel_send_eof(rj->ch);
		ssh_channel_close(rj->ch);
		g.wrote_ssh = 1;
		rjob_free_channel(rj);
	}
	shep_send(rj, MSG_SHEP_COLLECT, 0, 0, 0);
	rj->finished = 1;
	rj->dead = 1;
	job_spare();
}

static void
rjob_deliver_exit(struct rjob *rj)
{
	int st = rj->status;
	int code = sh_status(st), sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;

	if (rj->moved) {
		rjob_deliver_moved(rj);
		return;
	}
	if (rj->hj != NULL) {
		hjob_exit(rj->hj, code, sig);
		rj->hj = NULL;
	} else if (rj->ch != NULL) {
		const char *name = sig != 0 ? sig_name(sig) : NULL;

		if (sig != 0 && name != NULL)
			ssh_channel_request_send_exit_signal(rj->ch, name,
			    WCOREDUMP(st) ? 1 : 0, "", "");
		else
			ssh_channel_request_send_exit_status(rj->ch, code);
		ssh_channel_send_eof(rj->ch);
		ssh_channel_close(rj->ch);
		g.wrote_ssh = 1;
		rjob_free_channel(rj);
	}
	if (rj->home != g.id)
		dir_proc_set_exit(g.dir, rj->gpid, code, sig, now_s());
	shep_send(rj, MSG_SHEP_COLLECT, 0, 0, 0);
	rj->finished = 1;
	rj->dead = 1;
	job_spare();
}

void
rjob_reap(void)
{
	struct rjob *rj, *t;

	TAILQ_FOREACH_SAFE(rj, &g.rjobs, entry, t) {
		if (!rj->dead)
			continue;
		TAILQ_REMOVE(&g.rjobs, rj, entry);
		if (rj->hj != NULL)
			rj->hj->rj = NULL;
		if (rj->fd_in != rj->fd_out)
			close_fd(&rj->fd_in);
		close_fd(&rj->fd_out);
		close_fd(&rj->fd_err);
		close_fd(&rj->shep_fd);
		close_fd(&rj->mover_fd);
		close_fd(&rj->img_fd);
		rjob_drop_img(rj);
		buf_free(rj->shep_in);
		buf_free(rj->stdin_q);
		buf_free(rj->chq);
		buf_free(rj->mover_in);
		buf_free(rj->img_q);
		free(rj->term);
		free(rj->user);
		free(rj->cmd);
		free(rj->name);
		free(rj->log);
		free(rj);
	}
}

/* Attach channels (we are the server: the home opened them). */

static struct rjob *
cc_job(struct chctx *cc)
{
	struct rjob *rj;

	if (cc->gpid == 0 || cc->img || (rj = rjob_by_gpid(cc->gpid)) ==
	    NULL || rj->ch != cc->ch)
		return NULL;
	return rj;
}

/* The job whose image comes on cc's channel. */
static struct rjob *
cc_img_job(struct chctx *cc)
{
	struct rjob *rj;

	if (cc->gpid == 0 || !cc->img)
		return NULL;
	TAILQ_FOREACH(rj, &g.rjobs, entry)
		if (rj->img_ch == cc->ch && !rj->dead)
			return rj;
	return NULL;
}

/* Image bytes the queue takes now (libssh keeps the rest, and so does
 * the sender, its window not growing). */
#define IMG_Q_SOFT	(1u * 1024 * 1024)

static size_t
img_room(const struct rjob *rj)
{
	return buf_len(rj->img_q) >= IMG_Q_SOFT ? 0 :
	    IMG_Q_SOFT - buf_len(rj->img_q);
}

/*
 * One write of image bytes to the restore shepherd (its spec's socket):
 * what it took, 0 if the socket is full, -1 if the shepherd stopped
 * reading (its error comes on its control socket): the socket is closed
 * and what waited is dropped.
 */
static ssize_t
img_write(struct rjob *rj, const uint8_t *p, size_t len)
{
	ssize_t n;

	while ((n = write(rj->img_fd, p, len)) < 0 && errno == EINTR)
		;
	if (n > 0)
		return n;
	if (n < 0 && errno == EAGAIN)
		return 0;
	close_fd(&rj->img_fd);
	buf_reset(rj->img_q);
	return -1;
}

/*
 * Image bytes from the mover's channel: straight to the restore shepherd
 * while nothing waits before them, the rest into img_q (up to
 * IMG_Q_SOFT); returns what was taken (libssh keeps the rest).  A full
 * socket says so in g.img_stalled, and rjob_img_io() goes on when it has
 * room.  A shepherd that stopped reading gets nothing more.
 */
static uint32_t
img_take(struct rjob *rj, const uint8_t *data, uint32_t len)
{
	uint32_t done = 0, rest;
	size_t room;
	ssize_t n;

	if (rj->img_fd == -1)
		return len;
	while (buf_len(rj->img_q) == 0 && done < len) {
		if ((n = img_write(rj, data + done, len - done)) < 0)
			return len;
		if (n == 0) {
			g.img_stalled = 1;
			break;
		}
		done += (uint32_t)n;
	}
	rest = len - done;
	if ((room = img_room(rj)) < rest)
		rest = (uint32_t)room;
	if (rest > 0 && buf_put(rj->img_q, data + done, rest) != 0)
		rest = 0;
	if (done + rest < len)
		g.img_stalled = 1;
	return done + rest;
}

static int
cc_exec(ssh_session s, ssh_channel ch, const char *cmd, void *ud)
{
	struct chctx *cc = ud;
	struct rjob *rj;
	uint64_t gpid;

	(void)s;
	(void)ch;
	if (strncmp(cmd, "restore ", 8) == 0 &&
	    gpid_parse(cmd + 8, &gpid) == 0) {
		/* A mover's image (migration): the job must be expected. */
		TAILQ_FOREACH(rj, &g.rjobs, entry)
			if (rj->gpid == gpid && !rj->dead &&
			    rj->restoring == RESTORING_IMAGE &&
			    rj->mig_src == cc->node && rj->img_ch == NULL)
				break;
		if (rj == NULL) {
			log_info("%s sent an image of job %s: not expected",
			    node_name(cc->node), cmd + 8);
			return 1;
		}
		cc->gpid = gpid;
		cc->img = 1;
		rj->img_ch = cc->ch;
		return 0;
	}
	if (strncmp(cmd, "attach ", 7) != 0 || gpid_parse(cmd + 7, &gpid) != 0)
		return 1;
	if ((rj = rjob_by_gpid(gpid)) == NULL || rj->home != cc->node ||
	    rj->home == g.id) {
		log_info("%s asked to attach job %s: not here",
		    node_name(cc->node), cmd + 7);
		return 1;
	}
	cc->gpid = gpid;
	rj->ch = cc->ch;
	rj->ch_session = cc->s;
	buf_reset(rj->chq);
	log_debug("%s attached job %llu", node_name(cc->node),
	    (unsigned long long)gpid);
	return 0;
}

static int
cc_data(ssh_session s, ssh_channel ch, void *data, uint32_t len,
    int is_stderr, void *ud)
{
	struct rjob *rj = cc_job(ud);

	(void)s;
	(void)ch;
	(void)is_stderr;
	if (rj != NULL)
		rjob_stdin(rj, data, len);
	else if ((rj = cc_img_job(ud)) != NULL)
		len = img_take(rj, data, len);
	return len;
}

static void
cc_eof(ssh_session s, ssh_channel ch, void *ud)
{
	struct rjob *rj = cc_job(ud);

	(void)s;
	(void)ch;
	if (rj != NULL)
		rjob_stdin_eof(rj);
	else if ((rj = cc_img_job(ud)) != NULL)
		rj->img_eof = 1;
}

static void
cc_close(ssh_session s, ssh_channel ch, void *ud)
{
	struct chctx *cc = ud;
	struct rjob *rj = cc_job(cc);

	(void)s;
	(void)ch;
	if (rj != NULL) {
		rj->ch = NULL;
		rj->ch_session = NULL;
	} else if ((rj = cc_img_job(cc)) != NULL)
		rjob_drop_img(rj);
	cc->gpid = 0;
	cc->peer_closed = 1;
}

static int
cc_winch(ssh_session s, ssh_channel ch, int w, int h, int pw, int ph,
    void *ud)
{
	struct rjob *rj = cc_job(ud);

	(void)s;
	(void)ch;
	(void)pw;
	(void)ph;
	if (rj != NULL)
		rjob_winch(rj, (uint32_t)h, (uint32_t)w);
	return 0;
}

static void
cc_signal(ssh_session s, ssh_channel ch, const char *name, void *ud)
{
	struct rjob *rj = cc_job(ud);
	int sig = sig_from_name(name);

	(void)s;
	(void)ch;
	if (rj != NULL && sig > 0)
		rjob_signal(rj, sig);
}

int
job_channel_setup(ssh_channel ch, ssh_session s, unsigned node)
{
	struct chctx *cc;

	if ((cc = calloc(1, sizeof(*cc))) == NULL)
		return SS_ERR_ALLOC;
	cc->ch = ch;
	cc->s = s;
	cc->node = node;
	cc->cb.userdata = cc;
	cc->cb.channel_exec_request_function = cc_exec;
	cc->cb.channel_data_function = cc_data;
	cc->cb.channel_eof_function = cc_eof;
	cc->cb.channel_close_function = cc_close;
	cc->cb.channel_pty_window_change_function = cc_winch;
	cc->cb.channel_signal_function = cc_signal;
	ssh_callbacks_init(&cc->cb);
	ssh_set_channel_callbacks(ch, &cc->cb);
	TAILQ_INSERT_TAIL(&chctxs, cc, entry);
	return 0;
}

/* Frees the contexts of channels that can call back no more. */
void
job_chan_reap(void)
{
	struct chctx *cc, *t;

	TAILQ_FOREACH_SAFE(cc, &chctxs, entry, t) {
		if (!cc->peer_closed)
			continue;
		if (!cc->local_freed) {
			/* The home closed first (it detached): free ours. */
			ssh_remove_channel_callbacks(cc->ch, &cc->cb);
			ssh_channel_free(cc->ch);
		}
		TAILQ_REMOVE(&chctxs, cc, entry);
		free(cc);
	}
}

/* The session s is going away, and its channels with it. */
void
job_session_gone(ssh_session s)
{
	struct chctx *cc, *t;
	struct rjob *rj;

	TAILQ_FOREACH_SAFE(cc, &chctxs, entry, t) {
		if (cc->s != s)
			continue;
		if ((rj = cc_img_job(cc)) != NULL) {
			rj->img_ch = NULL;	/* freed with the session */
			rjob_drop_img(rj);
		}
		TAILQ_REMOVE(&chctxs, cc, entry);
		free(cc);
	}
}

/* Takes back the jobs whose shepherds outlived the previous noded. */
void
job_adopt_all(void)
{
	struct sockaddr_un sun;
	struct dirent *de;
	struct rjob *rj;
	struct dir_proc dp;
	char dirp[4200];
	uint64_t gpid;
	DIR *d;
	int fd;

	snprintf(dirp, sizeof(dirp), "%s/run", g.statedir);
	if ((d = opendir(dirp)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char num[32];
		const char *p = de->d_name;
		size_t k;

		if (strncmp(p, "shep-", 5) != 0)
			continue;
		k = strcspn(p + 5, ".");
		if (k == 0 || k >= sizeof(num) || strcmp(p + 5 + k, ".sock"))
			continue;
		memcpy(num, p + 5, k);
		num[k] = '\0';
		if (gpid_parse(num, &gpid) != 0)
			continue;
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		if (snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s",
		    dirp, p) >= (int)sizeof(sun.sun_path))
			continue;
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) ==
		    -1)
			continue;
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
			log_warn("%s: shepherd gone: %s", sun.sun_path,
			    strerror(errno));
			close(fd);
			unlink(sun.sun_path);
			continue;
		}
		if ((rj = rjob_alloc(gpid, gpid_home(gpid))) == NULL) {
			close(fd);
			continue;
		}
		rj->shep_fd = fd;
		set_nonblock(fd);
		rj->started = now_s();
		if (rjob_adopt_arrival(rj) == 0) {
			log_info("took back job %llu, moving here from %s, "
			    "from its shepherd", (unsigned long long)gpid,
			    node_name(rj->mig_src));
			continue;
		}
		if (dir_proc_get(g.dir, gpid, &dp) == 0) {
			rj->uid = dp.uid;
			rj->user = strdup(dp.user);
			rj->cmd = strdup(dp.cmd);
			rj->name = strdup(dp.name != NULL ? dp.name : "");
			rj->log = strdup(dp.log != NULL ? dp.log : "");
			rj->started = dp.started;
			dir_proc_clear(&dp);
		} else {
			rj->user = strdup("?");
			rj->cmd = strdup("?");
			rj->name = strdup("");
			rj->log = strdup("");
		}
		rj->stdin_eof = 1;
		log_info("took back job %llu from its shepherd",
		    (unsigned long long)gpid);
		mig_adopted(rj);
	}
	closedir(d);
}

/*
 * Migration, target side: the image from the mover's channel to the
 * restore shepherd, with back-pressure both ways (a full socket leaves
 * bytes in img_q; a full img_q leaves them in libssh, which then
 * grows no window).
 */
void
rjob_img_io(struct rjob *rj)
{
	uint8_t tmp[65536];
	ssize_t n;
	size_t room;
	int k;

	for (;;) {
		while (rj->img_fd != -1 && buf_len(rj->img_q) > 0) {
			if ((n = img_write(rj, buf_ptr(rj->img_q),
			    buf_len(rj->img_q))) == 0)
				return;
			if (n < 0)
				break;
			buf_consume(rj->img_q, (size_t)n);
		}
		if (rj->img_ch == NULL || (room = img_room(rj)) == 0)
			break;
		k = ssh_channel_read_nonblocking(rj->img_ch, tmp,
		    room < sizeof(tmp) ? (uint32_t)room : sizeof(tmp), 0);
		if (k <= 0)
			break;
		if (buf_put(rj->img_q, tmp, (size_t)k) != 0)
			break;
		g.wrote_ssh = 1;	/* a window adjust may be due */
	}
	if (rj->img_fd != -1 && rj->img_eof && buf_len(rj->img_q) == 0)
		close_fd(&rj->img_fd);	/* the whole image is in */
}

/*
 * The mover's channel is gone.  Before "ready" the move is off: the copy
 * goes.  After it, the copy waits, stopped, and the source's record
 * decides (migrate.c asks it).
 */
static void
rjob_drop_img(struct rjob *rj)
{
	struct chctx *cc;

	if (rj->img_ch != NULL) {
		TAILQ_FOREACH(cc, &chctxs, entry)
			if (cc->ch == rj->img_ch)
				cc->gpid = 0;
		rj->img_ch = NULL;
	}
	if (rj->restoring == RESTORING_IMAGE && !rj->dead) {
		log_warn("job %llu: the image from %s broke off: discarded",
		    (unsigned long long)rj->gpid, node_name(rj->mig_src));
		rjob_discard(rj);
	} else if (rj->restoring == RESTORING_READY) {
		log_warn("job %llu: lost the mover from %s after ready: asking "
		    "it what to do", (unsigned long long)rj->gpid,
		    node_name(rj->mig_src));
		rj->restoring = RESTORING_ORPHAN;
		rj->ask_ms = 0;
	}
}

/* Tells the mover, on its channel, whether the copy is ready. */
void
rjob_restore_verdict(struct rjob *rj, int ok, const char *why)
{
	struct buf *m;

	if (rj->restoring != RESTORING_IMAGE)
		return;
	if (ok) {
		rj->restoring = RESTORING_READY;
		m = proto_msg_new(MSG_OK);
		if (m != NULL && proto_msg_finish(m) != 0) {
			buf_free(m);
			m = NULL;
		}
		log_debug("job %llu restored, waiting for COMMIT",
		    (unsigned long long)rj->gpid);
	} else {
		log_warn("job %llu: restore failed: %s",
		    (unsigned long long)rj->gpid, why);
		/* The mover says which node this is. */
		m = proto_error(SS_ERR_CORRUPT, "%s", why);
	}
	if (rj->img_ch != NULL && m != NULL) {
		ssh_channel_write(rj->img_ch, buf_ptr(m), buf_len(m));
		g.wrote_ssh = 1;
	}
	buf_free(m);
	if (!ok)
		rjob_discard(rj);
}

/* COMMIT: the restored job runs, with the input the original had not
 * read; from now on it is a job of this node. */
void
rjob_run_restored(struct rjob *rj, const void *in, size_t len)
{
	struct buf *m;

	if ((m = proto_msg_new(MSG_SHEP_RUN)) == NULL ||
	    buf_put_string(m, in, len) != 0 || proto_msg_finish(m) != 0 ||
	    proto_write_all(rj->shep_fd, m) != 0)
		log_err("job %llu: cannot tell its shepherd to run it",
		    (unsigned long long)rj->gpid);
	buf_free(m);
	rj->restoring = RESTORING_NO;
	rj->placed_ms = now_ms();
	if (rj->stdin_eof && buf_len(rj->stdin_q) == 0)
		rjob_close_stdin(rj);
}

/* The copy of a move that did not happen: killed, never run. */
void
rjob_discard(struct rjob *rj)
{
	if (rj->dead)
		return;
	rj->restoring = RESTORING_NO;	/* rjob_drop_img: no second call */
	(void)dir_arrival_delete(g.dir, rj->gpid);
	rjob_drop_img(rj);
	close_fd(&rj->img_fd);
	/* The shepherd takes COLLECT while restoring as "abort". */
	shep_send(rj, MSG_SHEP_COLLECT, 0, 0, 0);
	rj->restoring = RESTORING_NO;
	rj->finished = 1;
	rj->dead = 1;
}

/* SIGKILL to the whole job (recovery of a move whose original must go). */
int
rjob_kill_tree(struct rjob *rj)
{
	shep_send(rj, MSG_SHEP_SIGNAL, 1, SIGKILL, 0);
	return 0;
}
