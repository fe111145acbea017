/*
 * shepherd.c: sshell-shepherd, the tiny process that watches over one job
 * on the node that runs it (like podman's conmon).
 *
 * noded spawns us with fd 3 = a pipe (a Unix stream socket for a restore)
 * on which it writes exactly one MSG_SHEP_SPEC frame (then EOF, or the
 * restore's image), fd 4 = its end of a Unix socketpair (the live control
 * connection), 0, 1, 2 = /dev/null, and argv
 * {"sshell-shepherd", ["-n"], ["-d"]}: -n makes the job's PID namespace,
 * -d logs to stderr with debug lines (tests).  Then:
 *
 *   noded --spawn--> P0 (this program) --[unshare(CLONE_NEWPID)]--fork--> S
 *                    P0 exits at once                S --fork--> J (the job)
 *
 * Everything that does not depend on the spec comes first: P0 makes the
 * PID namespace and forks S, so S is not noded's child and survives a
 * noded restart; S (pid 1 of that namespace with -n) takes its own session
 * and mount namespace with a /proc of the job's own, and only then waits
 * for the spec.  So noded can start a shepherd ahead of time (a spare) and
 * a new job does not wait for an exec, a fork and a mount.  With the spec,
 * S makes the job's cgroup, stdio (three pipes or a pty) and listening
 * socket, forks J, and sends one MSG_SHEP_INFO with the job's descriptors
 * on fd 4 (or MSG_ERROR if it could not start the job).  From then on S is
 * a single poll loop over a signalfd, the listening socket and at most one
 * connection to noded.  J is the leader of its own process group in S's
 * session (with a pty, the terminal's foreground group): as a session
 * leader of its own its group would be orphaned, and the kernel would drop
 * the SIGTSTP of a Ctrl-Z.
 *
 * On a connection, S sends MSG_SHEP_INFO (first, with the fds: pipes in,
 * out, err, or the pty master), MSG_SHEP_EXIT {u32 raw status} when the
 * job ends, MSG_ERROR before closing on a bad frame.  It takes
 * MSG_SHEP_SIGNAL {u32 sig} (to the job's process group), MSG_SHEP_WINCH
 * {u32 rows, u32 cols} (ignored without a pty), MSG_EOF {u8 0} (pipes
 * only: close S's copy of the job's stdin) and MSG_SHEP_COLLECT (only
 * after the job ended: S kills what is left in its PID namespace, removes
 * its socket and cgroup and exits; EOF on the connection means all that
 * is done).  None of them is answered.  The job joins spec.cgroup itself
 * (writing "0" to cgroup.procs before exec), so only the job's tree is in
 * it, never S: freezing the cgroup leaves S free to talk to noded.
 *
 * Invariants:
 * - S holds its own copies of the job's stdin write end and stdout/stderr
 *   read ends (or the pty master) for as long as it lives, so the job
 *   never sees EOF or SIGPIPE because noded went away.  The only way to
 *   give the job EOF on stdin is MSG_EOF {u8 0} from noded, after which S
 *   closes its copy (and hands /dev/null in its place to later noded's).
 * - At most one connection to noded: a newly accepted one replaces the old
 *   one, and every connection starts with MSG_SHEP_INFO carrying the fds.
 * - S never blocks on noded: every send is MSG_DONTWAIT|MSG_NOSIGNAL and a
 *   send that does not go out whole drops the connection (our frames are a
 *   few dozen bytes; only a noded that stopped reading can fill a socket
 *   buffer).  A malformed or out-of-state frame gets MSG_ERROR and closes
 *   that connection; S itself lives on.
 * - The job's wait status, once reaped, is kept until MSG_SHEP_COLLECT;
 *   S never exits before that (except when it cannot start the job).
 * - kill(-job) is only sent while the job's process group can still be
 *   ours: always in our own PID namespace, else only before the leader
 *   was reaped (after that its pid may be reused by a stranger).
 */
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/signalfd.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "log.h"
#include "proto.h"
#include "ckpt/ckpt.h"

#define SPEC_FD		3	/* the spec from noded */
#define CTL_FD		4	/* the first control connection */
#define SHEP_MAX_IN	16384	/* bytes buffered from one noded connection */
#define SHEP_READ	4096	/* bytes read per poll wake-up */
#define DEFAULT_PATH	"/usr/bin:/bin"

/* Signals S forwards to the job's process group (plus SIGCHLD, for us). */
static const int fwd_signals[] = {
	SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGCONT,
	SIGWINCH, SIGTSTP, SIGTTIN, SIGTTOU, SIGALRM, SIGPWR, SIGURG,
};

struct shepherd {
	struct shep_spec spec;		/* owned; freed never (we exit) */
	int		 pty;		/* 1: master below; 0: the three pipes */
	int		 fd_in;		/* job stdin write end; -1 after MSG_EOF */
	int		 fd_out;	/* job stdout read end */
	int		 fd_err;	/* job stderr read end */
	int		 master;	/* pty master, -1 without a pty */
	int		 sigfd;		/* signalfd: SIGCHLD + fwd_signals */
	int		 lsock;		/* listening socket at spec.sock, or -1 */
	int		 conn;		/* connection to noded, or -1 */
	struct buf	*in;		/* unread bytes from conn */
	pid_t		 job;		/* J in our own PID namespace */
	uint32_t	 job_node_pid;	/* J in noded's namespace, 0 unknown */
	uint32_t	 shep_node_pid;	/* S in noded's namespace */
	uint64_t	 starttime;	/* J's /proc stat field 22 */
	int		 exited;	/* 1: J was reaped, status valid */
	int		 status;	/* J's raw wait status */
	int		 own_ns;	/* 1: we are pid 1 of a PID namespace */
	int		 sock_made;	/* 1: we created spec.sock */
	int		 cgroup_made;	/* 1: spec.cgroup exists */
	/* A job restored here (migration), stopped until MSG_SHEP_RUN. */
	struct ckpt_restored *restored;
	int		 slave;		/* its terminal, kept to give it */
};

/* What a request from noded may need before it is allowed. */
#define RPC_NEED_EXIT	0x01	/* only once the job has been reaped */
#define RPC_NEED_PIPES	0x02	/* only for a job without a pty */
#define RPC_NEED_RESTORED 0x04	/* only for a restored job not yet run */

struct shep_rpc {
	uint8_t		  type;
	unsigned	  flags;	/* RPC_NEED_* */
	int		(*fn)(struct shepherd *, struct buf *);
};

static int	 spec_read(int, struct shep_spec *);
static void	 ctl_error(int, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static int	 node_pid_self(uint32_t *);
static int	 proc_starttime(uint32_t, uint64_t *);
static int	 cgroup_create(const char *);
static int	 signals_setup(struct shepherd *);
static void	 sock_listen(struct shepherd *);
static int	 stdio_make(struct shepherd *, int [3], int *);
static int	 job_start(struct shepherd *);
static void	 job_child(struct shepherd *, const int [3], int, int)
		    __attribute__((noreturn));
static void	 job_exec(char **, char **) __attribute__((noreturn));
static char	**job_env(const struct shepherd *);
static void	 job_kill(struct shepherd *, int);
static void	 conn_set(struct shepherd *, int);
static void	 conn_close(struct shepherd *);
static int	 conn_send(struct shepherd *, struct buf *, const int *, size_t);
static void	 conn_send_info(struct shepherd *);
static void	 conn_send_exit(struct shepherd *);
static void	 conn_send_stop(struct shepherd *, int);
static void	 conn_accept(struct shepherd *);
static void	 conn_read(struct shepherd *);
static void	 conn_refuse(struct shepherd *, int, const char *);
static int	 rpc_signal(struct shepherd *, struct buf *);
static int	 rpc_winch(struct shepherd *, struct buf *);
static int	 rpc_eof(struct shepherd *, struct buf *);
static int	 rpc_collect(struct shepherd *, struct buf *);
static int	 rpc_run(struct shepherd *, struct buf *);
static int	 restore_start(struct shepherd *);
static void	 signals_read(struct shepherd *);
static void	 reap(struct shepherd *);
static void	 cleanup(struct shepherd *);
static void	 shepherd_run(struct shep_spec *) __attribute__((noreturn));

static const struct shep_rpc shep_rpcs[] = {
	{ MSG_SHEP_SIGNAL,	0,		rpc_signal },
	{ MSG_SHEP_WINCH,	0,		rpc_winch },
	{ MSG_EOF,		RPC_NEED_PIPES,	rpc_eof },
	{ MSG_SHEP_COLLECT,	RPC_NEED_EXIT,	rpc_collect },
	{ MSG_SHEP_RUN,		RPC_NEED_RESTORED, rpc_run },
};

/* Appends exactly n bytes from fd to b. */
static int
read_exact(int fd, struct buf *b, size_t n)
{
	uint8_t *p;
	ssize_t k;
	int r;

	if ((r = buf_reserve(b, n, &p)) != 0)
		return r;
	while (n > 0) {
		k = read(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			(void)buf_consume_end(b, n);
			return k == 0 ? SS_ERR_SHORT : SS_ERR_SYSTEM;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Reads the one MSG_SHEP_SPEC frame on fd; 0 or SS_ERR_*. */
static int
spec_read(int fd, struct shep_spec *spec)
{
	struct buf *in, *payload = NULL;
	uint32_t flen;
	uint8_t type;
	int r;

	memset(spec, 0, sizeof(*spec));
	if ((in = buf_new(PROTO_MAX_FRAME + 65536 + 4)) == NULL)
		return SS_ERR_ALLOC;
	/* Exactly one frame: a restore's image follows it on this fd. */
	if ((r = read_exact(fd, in, 4)) != 0 ||
	    (r = buf_peek_u32(in, 0, &flen)) != 0)
		goto out;
	if (flen == 0 || flen > PROTO_MAX_FRAME) {
		r = SS_ERR_TOO_LONG;
		goto out;
	}
	if ((r = read_exact(fd, in, flen)) != 0 ||
	    (r = proto_frame_take(in, &type, &payload)) != 0)
		goto out;
	if (type != MSG_SHEP_SPEC) {
		r = SS_ERR_PROTO;
		goto out;
	}
	if ((r = shep_spec_get(payload, spec)) != 0)
		goto out;
	if (buf_len(payload) != 0 || spec->req.argc < 1 ||
	    spec->req.argv == NULL || spec->req.cwd == NULL) {
		shep_spec_clear(spec);
		r = SS_ERR_BAD;
	}
out:
	buf_free(payload);
	buf_free(in);
	return r;
}

/*
 * Tells noded on fd why the job could not start (MSG_ERROR), and logs it.
 * Best effort: noded may be gone.
 */
static void
ctl_error(int fd, int code, const char *fmt, ...)
{
	char msg[1024];
	struct buf *m;
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	errno = saved;
	log_err_r(code, "%s", msg);
	errno = saved;
	if ((m = proto_error(code, "%s: %s", msg, ss_strerror(code))) == NULL)
		return;
	if (proto_write_all(fd, m) != 0)
		log_debug("cannot tell noded: %s", strerror(errno));
	buf_free(m);
}

/*
 * The node's /proc, opened before a job with its own PID namespace gets a
 * /proc of its own: pids that noded must know (S's, the job's) are read
 * through it.
 */
static int node_proc = -1;

/* Our pid in the namespace of the node's /proc, i.e. noded's. */
static int
node_pid_self(uint32_t *pid)
{
	char link[32];
	ssize_t n;
	unsigned long v;
	char *end;

	if ((n = readlinkat(node_proc, "self", link, sizeof(link) - 1)) < 0)
		return SS_ERR_SYSTEM;
	link[n] = '\0';
	errno = 0;
	v = strtoul(link, &end, 10);
	if (errno != 0 || *end != '\0' || end == link || v == 0 ||
	    v > UINT32_MAX)
		return SS_ERR_BAD;
	*pid = (uint32_t)v;
	return 0;
}

/*
 * Field 22 (starttime) of /proc/PID/stat.  The comm field (2) may hold
 * spaces and parentheses, so fields are counted from the last ')'.
 */
static int
proc_starttime(uint32_t pid, uint64_t *st)
{
	char path[64], text[1024], *p, *end;
	unsigned long long v;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof(path), "%u/stat", pid);
	if ((fd = openat(node_proc, path, O_RDONLY | O_CLOEXEC)) < 0)
		return SS_ERR_SYSTEM;
	do
		n = read(fd, text, sizeof(text) - 1);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		close(fd);
		return SS_ERR_SYSTEM;
	}
	close(fd);
	text[n] = '\0';
	if ((p = strrchr(text, ')')) == NULL)
		return SS_ERR_BAD;
	p++;
	/* p is before field 3; skip fields 3..21. */
	for (field = 3; field < 22; field++) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			return SS_ERR_BAD;
		p += strcspn(p, " ");
	}
	errno = 0;
	v = strtoull(p, &end, 10);
	if (errno != 0 || end == p || (*end != ' ' && *end != '\n' &&
	    *end != '\0'))
		return SS_ERR_BAD;
	*st = v;
	return 0;
}

/* mkdir -p dir (mode 0755); 0 if it exists afterwards. */
static int
cgroup_create(const char *dir)
{
	char path[PROTO_MAX_PATH + 1], *p;

	if (strlen(dir) >= sizeof(path) || dir[0] != '/')
		return SS_ERR_BAD;
	strcpy(path, dir);
	for (p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) == -1 && errno != EEXIST)
			return SS_ERR_SYSTEM;
		*p = '/';
	}
	if (mkdir(path, 0755) == -1 && errno != EEXIST)
		return SS_ERR_SYSTEM;
	return 0;
}

/* Blocks SIGCHLD and the forwarded signals and opens the signalfd. */
static int
signals_setup(struct shepherd *s)
{
	sigset_t set;
	size_t i;

	if (sigemptyset(&set) == -1 || sigaddset(&set, SIGCHLD) == -1)
		return SS_ERR_SYSTEM;
	for (i = 0; i < sizeof(fwd_signals) / sizeof(fwd_signals[0]); i++)
		if (sigaddset(&set, fwd_signals[i]) == -1)
			return SS_ERR_SYSTEM;
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		return SS_ERR_SYSTEM;
	if ((s->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
		return SS_ERR_SYSTEM;
	return 0;
}

/*
 * Listens at spec.sock (mode 0600 from our umask 077), replacing a stale
 * socket.  A failure is logged, not fatal: the job runs, only a restarted
 * noded will not find it.
 */
static void
sock_listen(struct shepherd *s)
{
	struct sockaddr_un sun;
	const char *path = s->spec.sock;

	s->lsock = -1;
	if (path == NULL || path[0] == '\0')
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_err("%s: socket path too long", path);
		return;
	}
	strcpy(sun.sun_path, path);
	if ((s->lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) < 0) {
		log_err_r(SS_ERR_SYSTEM, "socket");
		return;
	}
	if (unlink(path) == -1 && errno != ENOENT)
		log_warn_r(SS_ERR_SYSTEM, "%s: cannot remove stale socket",
		    path);
	if (bind(s->lsock, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		log_err_r(SS_ERR_SYSTEM, "%s: bind", path);
		goto fail;
	}
	s->sock_made = 1;
	if (chmod(path, 0600) == -1)
		log_warn_r(SS_ERR_SYSTEM, "%s: chmod", path);
	if (listen(s->lsock, 4) == -1) {
		log_err_r(SS_ERR_SYSTEM, "%s: listen", path);
		goto fail;
	}
	return;
fail:
	close(s->lsock);
	s->lsock = -1;
}

/*
 * Makes the job's stdio.  child[] gets the ends for J (pipes), or *slave
 * the pty slave (child[] = -1); S's ends go into s.  All are CLOEXEC.
 */
static int
stdio_make(struct shepherd *s, int child[3], int *slave)
{
	struct winsize ws;
	int p[3][2], i;
	char *name;

	child[0] = child[1] = child[2] = *slave = -1;
	if (!s->pty) {
		for (i = 0; i < 3; i++) {
			if (pipe2(p[i], O_CLOEXEC) == -1) {
				while (--i >= 0) {
					close(p[i][0]);
					close(p[i][1]);
				}
				return SS_ERR_SYSTEM;
			}
		}
		child[0] = p[0][0];
		s->fd_in = p[0][1];
		s->fd_out = p[1][0];
		child[1] = p[1][1];
		s->fd_err = p[2][0];
		child[2] = p[2][1];
		return 0;
	}
	if ((s->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
		return SS_ERR_SYSTEM;
	if (grantpt(s->master) == -1 || unlockpt(s->master) == -1 ||
	    (name = ptsname(s->master)) == NULL)
		goto fail;
	if (s->spec.req.rows != 0 && s->spec.req.cols != 0) {
		memset(&ws, 0, sizeof(ws));
		ws.ws_row = s->spec.req.rows > USHRT_MAX ? USHRT_MAX :
		    s->spec.req.rows;
		ws.ws_col = s->spec.req.cols > USHRT_MAX ? USHRT_MAX :
		    s->spec.req.cols;
		if (ioctl(s->master, TIOCSWINSZ, &ws) == -1)
			log_warn_r(SS_ERR_SYSTEM, "TIOCSWINSZ");
	}
	if ((*slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
		goto fail;
	/* The job's user owns its terminal, as after a login. */
	if (geteuid() == 0 && fchown(*slave, s->spec.uid, (gid_t)-1) == -1)
		log_warn_r(SS_ERR_SYSTEM, "%s: fchown", name);
	return 0;
fail:
	close(s->master);
	s->master = -1;
	return SS_ERR_SYSTEM;
}

/*
 * Forks J and learns its pid in noded's namespace and its start time.
 * 0, or SS_ERR_* with nothing running.
 */
static int
job_start(struct shepherd *s)
{
	int child[3], slave, st[2], r, i;
	struct buf *b;
	uint8_t *p;
	ssize_t n;

	if (geteuid() != 0 && s->spec.uid != geteuid()) {
		ctl_error(CTL_FD, SS_ERR_PERM, "cannot run a job of uid %u as "
		    "uid %u", s->spec.uid, (unsigned)geteuid());
		return SS_ERR_PERM;
	}
	if ((r = stdio_make(s, child, &slave)) != 0) {
		ctl_error(CTL_FD, r, "cannot make the job's %s",
		    s->pty ? "terminal" : "pipes");
		return r;
	}
	if (pipe2(st, O_CLOEXEC) == -1) {
		r = SS_ERR_SYSTEM;
		ctl_error(CTL_FD, r, "pipe");
		goto out;
	}
	/*
	 * The session is ours (S) and the job gets a process group of its own
	 * in it, the terminal's foreground group.  Were the job its own
	 * session leader, its group would be orphaned (its parent, S, being
	 * outside the session) and the kernel would throw away the SIGTSTP of
	 * a Ctrl-Z.
	 */
	if (slave >= 0 && ioctl(slave, TIOCSCTTY, 0) == -1)
		log_warn_r(SS_ERR_SYSTEM, "job %llu: controlling terminal",
		    (unsigned long long)s->spec.gpid);
	if ((s->job = fork()) == -1) {
		r = SS_ERR_SYSTEM;
		ctl_error(CTL_FD, r, "fork");
		close(st[0]);
		close(st[1]);
		goto out;
	}
	if (s->job == 0) {
		close(st[0]);
		job_child(s, child, slave, st[1]);
	}
	close(st[1]);
	(void)setpgid(s->job, s->job);	/* as J does: whoever is first */
	r = 0;
	/* J writes its node pid as one u32 first thing, then carries on. */
	if ((b = buf_new(4)) == NULL || buf_reserve(b, 4, &p) != 0) {
		log_err("out of memory");
	} else {
		do
			n = read(st[0], p, 4);
		while (n < 0 && errno == EINTR);
		if (n != 4 || buf_get_u32(b, &s->job_node_pid) != 0) {
			log_err("job %d did not report its pid", (int)s->job);
			s->job_node_pid = 0;
		}
	}
	buf_free(b);
	close(st[0]);
	if (s->job_node_pid != 0 &&
	    (i = proc_starttime(s->job_node_pid, &s->starttime)) != 0)
		log_err_r(i, "/proc/%u/stat", s->job_node_pid);
	log_debug("job %llu: pid %u (%d here), starttime %llu",
	    (unsigned long long)s->spec.gpid, s->job_node_pid, (int)s->job,
	    (unsigned long long)s->starttime);
out:
	for (i = 0; i < 3; i++)
		if (child[i] >= 0)
			close(child[i]);
	if (slave >= 0)
		close(slave);
	return r;
}

/*
 * J, between fork and exec.  Errors from the moment its stdio is in place
 * go to the job's own stderr, so the user sees them in the job's output.
 */
static void
job_child(struct shepherd *s, const int child[3], int slave, int stfd)
{
	const struct shep_spec *sp = &s->spec;
	char path[PROTO_MAX_PATH + 32];
	struct buf *b;
	uint32_t me;
	sigset_t none;
	int sig, fd, i;
	gid_t gid;

	/* S blocked and ignored signals; the job starts clean. */
	for (sig = 1; sig < NSIG; sig++) {
		/* SIGKILL, SIGSTOP and glibc's own signals refuse: fine. */
		if (signal(sig, SIG_DFL) == SIG_ERR && errno != EINVAL)
			_exit(126);
	}
	if (sigemptyset(&none) == -1 ||
	    sigprocmask(SIG_SETMASK, &none, NULL) == -1)
		_exit(126);
	if (setpgid(0, 0) == -1)
		_exit(126);
	/* Join the cgroup before anything can fork ("0" = the writer). */
	if (s->cgroup_made) {
		snprintf(path, sizeof(path), "%s/cgroup.procs", sp->cgroup);
		if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0 ||
		    write(fd, "0", 1) != 1)
			log_warn_r(SS_ERR_SYSTEM, "%s", path);
		if (fd >= 0)
			close(fd);
	}
	/* Our pid in noded's namespace, for S. */
	if (node_pid_self(&me) != 0)
		me = 0;
	if ((b = buf_new(4)) != NULL && buf_put_u32(b, me) == 0) {
		if (write(stfd, buf_ptr(b), buf_len(b)) != 4)
			_exit(126);
	}
	buf_free(b);
	close(stfd);

	/* Stdio.  Every fd of ours is >= 3 (S keeps /dev/null on 0-2). */
	for (i = 0; i < 3; i++) {
		if (dup2(slave >= 0 ? slave : child[i], i) == -1)
			_exit(126);
	}
	if (slave >= 0) {
		sigset_t ttou, old;

		/* Into the foreground of S's terminal, before anything can
		 * read it (SIGTTOU blocked: we are not there yet). */
		sigemptyset(&ttou);
		sigaddset(&ttou, SIGTTOU);
		if (sigprocmask(SIG_BLOCK, &ttou, &old) == -1 ||
		    tcsetpgrp(0, getpid()) == -1) {
			(void)dprintf(2, "sshell: cannot get a terminal: %s\n",
			    strerror(errno));
			_exit(126);
		}
		(void)sigprocmask(SIG_SETMASK, &old, NULL);
	}
	if (close_range(3, ~0U, 0) == -1)
		_exit(126);

	/* Credentials: only a root shepherd changes them. */
	if (geteuid() == 0 && (sp->uid != 0 || sp->gid != getegid())) {
		gid = sp->gid;
		if (setgid(sp->gid) == -1 ||
		    (sp->user[0] != '\0' ? initgroups(sp->user, sp->gid) :
		    setgroups(1, &gid)) == -1 || setuid(sp->uid) == -1) {
			(void)dprintf(2, "sshell: cannot become %s (uid %u): "
			    "%s\n", sp->user, sp->uid, strerror(errno));
			_exit(126);
		}
	}
	if (chdir(sp->req.cwd) == -1) {
		(void)dprintf(2, "sshell: %s: %s\n", sp->req.cwd,
		    strerror(errno));
		_exit(1);
	}
	umask(sp->req.umask & 0777);
	job_exec(sp->req.argv, job_env(s));
}

/*
 * The job's environment: spec.req.env, and TERM from the spec with a pty.
 * Called in J only (allocation failure there ends J).
 */
static char **
job_env(const struct shepherd *s)
{
	const struct spawn_req *rq = &s->spec.req;
	char **env, *term;
	uint32_t i, n = 0;

	if ((env = calloc(rq->envc + 2, sizeof(*env))) == NULL)
		_exit(126);
	for (i = 0; i < rq->envc; i++) {
		if (s->pty && rq->term[0] != '\0' &&
		    strncmp(rq->env[i], "TERM=", 5) == 0)
			continue;
		env[n++] = rq->env[i];
	}
	if (s->pty && rq->term[0] != '\0') {
		if (asprintf(&term, "TERM=%s", rq->term) == -1)
			_exit(126);
		env[n++] = term;
	}
	env[n] = NULL;
	return env;
}

/*
 * execvpe() with PATH taken from the job's environment (glibc's uses the
 * caller's), default DEFAULT_PATH.  On failure, the message goes to the
 * job's stderr: 127 "command not found" when nothing was found, else 126.
 */
static void
job_exec(char **argv, char **env)
{
	const char *pathv = DEFAULT_PATH, *dir, *end;
	char file[PATH_MAX], **shargv;
	int err = ENOENT, eacces = 0;
	size_t dlen, i, n;

	for (i = 0; env[i] != NULL; i++)
		if (strncmp(env[i], "PATH=", 5) == 0)
			pathv = env[i] + 5;
	if (argv[0][0] == '\0')
		goto fail;
	for (dir = pathv;; dir = end + 1) {
		if (strchr(argv[0], '/') != NULL) {
			snprintf(file, sizeof(file), "%s", argv[0]);
			end = NULL;
		} else {
			if ((end = strchr(dir, ':')) == NULL)
				end = dir + strlen(dir);
			dlen = end - dir;
			if (dlen + strlen(argv[0]) + 2 > sizeof(file)) {
				err = ENAMETOOLONG;
				goto next;
			}
			/* An empty PATH element is the current directory. */
			snprintf(file, sizeof(file), "%.*s%s%s", (int)dlen,
			    dir, dlen > 0 ? "/" : "", argv[0]);
		}
		execve(file, argv, env);
		err = errno;
		if (err == ENOEXEC) {
			/* A script without #!: run it with sh, as execvp. */
			for (n = 0; argv[n] != NULL; n++)
				;
			if ((shargv = calloc(n + 2, sizeof(*shargv))) == NULL)
				_exit(126);
			shargv[0] = "sh";
			shargv[1] = file;
			for (i = 1; i < n; i++)
				shargv[i + 1] = argv[i];
			execve("/bin/sh", shargv, env);
			err = errno;
			free(shargv);
		}
		if (err == EACCES)
			eacces = 1;
		else if (err != ENOENT && err != ENOTDIR && err != ESTALE &&
		    err != ENODEV && err != ETIMEDOUT && err != ELOOP &&
		    err != ENAMETOOLONG)
			break;
next:
		if (end == NULL || *end == '\0')
			break;
	}
	if (eacces)
		err = EACCES;
fail:
	if (err == ENOENT) {
		(void)dprintf(2, "sshell: %s: command not found\n", argv[0]);
		_exit(127);
	}
	(void)dprintf(2, "sshell: %s: %s\n", argv[0], strerror(err));
	_exit(126);
}

/*
 * Signals the job's process group, if it can still be the job's (see the
 * invariants above).
 */
static void
job_kill(struct shepherd *s, int sig)
{
	if (s->job <= 0 || (s->exited && !s->own_ns)) {
		log_debug("signal %d: the job has ended", sig);
		return;
	}
	if (kill(-s->job, sig) == -1 && errno != ESRCH)
		log_warn_r(SS_ERR_SYSTEM, "kill(-%d, %d)", (int)s->job, sig);
}

/* Makes fd the connection to noded, replacing any older one. */
static void
conn_set(struct shepherd *s, int fd)
{
	int fl;

	conn_close(s);
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1) {
		log_err_r(SS_ERR_SYSTEM, "fcntl");
		close(fd);
		return;
	}
	s->conn = fd;
	buf_reset(s->in);
	conn_send_info(s);
}

static void
conn_close(struct shepherd *s)
{
	if (s->conn < 0)
		return;
	close(s->conn);
	s->conn = -1;
	buf_reset(s->in);
}

/*
 * Sends the finished frame m (and nfds fds by SCM_RIGHTS) without
 * blocking; anything but a whole send drops the connection.  Frees m.
 */
static int
conn_send(struct shepherd *s, struct buf *m, const int *fds, size_t nfds)
{
	union {
		char		buf[CMSG_SPACE(3 * sizeof(int))];
		struct cmsghdr	align;
	} u;
	struct cmsghdr *cm;
	struct msghdr msg;
	struct iovec iov;
	ssize_t n;
	int r = 0;

	if (m == NULL) {
		log_err("out of memory");
		conn_close(s);
		return SS_ERR_ALLOC;
	}
	if (s->conn < 0 || nfds > 3) {
		r = SS_ERR_INTERNAL;
		goto out;
	}
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = (void *)buf_ptr(m);
	iov.iov_len = buf_len(m);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (nfds > 0) {
		memset(&u, 0, sizeof(u));
		msg.msg_control = u.buf;
		msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
	}
	do
		n = sendmsg(s->conn, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0 || (size_t)n != buf_len(m)) {
		if (n < 0)
			log_info("noded connection lost: %s", strerror(errno));
		else
			log_warn("noded is not reading: dropping it");
		conn_close(s);
		r = SS_ERR_SYSTEM;
	}
out:
	buf_free(m);
	return r;
}

/* MSG_SHEP_INFO with the job's fds: what every connection starts with. */
static void
conn_send_info(struct shepherd *s)
{
	struct shep_info info;
	struct buf *m;
	int fds[3], devnull = -1;
	size_t nfds;

	memset(&info, 0, sizeof(info));
	info.pid = s->job_node_pid;
	info.nspid = (uint32_t)s->job;
	info.shep_pid = s->shep_node_pid;
	info.starttime = s->starttime;
	info.pty = s->pty;
	info.exited = s->exited;
	info.status = s->exited ? (uint32_t)s->status : 0;
	info.waiting = s->restored != NULL;
	if (s->pty) {
		fds[0] = s->master;
		nfds = 1;
	} else {
		/* After MSG_EOF the job's stdin is gone: hand a sink. */
		if ((fds[0] = s->fd_in) < 0) {
			if ((devnull = open("/dev/null", O_WRONLY |
			    O_CLOEXEC)) < 0) {
				log_err_r(SS_ERR_SYSTEM, "/dev/null");
				conn_close(s);
				return;
			}
			fds[0] = devnull;
		}
		fds[1] = s->fd_out;
		fds[2] = s->fd_err;
		nfds = 3;
	}
	if ((m = proto_msg_new(MSG_SHEP_INFO)) != NULL &&
	    (shep_info_put(m, &info) != 0 || proto_msg_finish(m) != 0)) {
		buf_free(m);
		m = NULL;
	}
	(void)conn_send(s, m, fds, nfds);	/* it logs and drops */
	if (devnull >= 0)
		close(devnull);
}

/* MSG_STOPPED {sig} or MSG_CONTINUED (sig 0), if noded is connected. */
static void
conn_send_stop(struct shepherd *s, int sig)
{
	struct buf *m;

	if (s->conn < 0)
		return;
	if ((m = proto_msg_new(sig != 0 ? MSG_STOPPED : MSG_CONTINUED)) !=
	    NULL && ((sig != 0 && buf_put_u32(m, (uint32_t)sig) != 0) ||
	    proto_msg_finish(m) != 0)) {
		buf_free(m);
		m = NULL;
	}
	(void)conn_send(s, m, NULL, 0);
}

/* MSG_SHEP_EXIT {raw status}, if noded is connected. */
static void
conn_send_exit(struct shepherd *s)
{
	struct buf *m;

	if (s->conn < 0)
		return;
	if ((m = proto_msg_new(MSG_SHEP_EXIT)) != NULL &&
	    (buf_put_u32(m, (uint32_t)s->status) != 0 ||
	    proto_msg_finish(m) != 0)) {
		buf_free(m);
		m = NULL;
	}
	(void)conn_send(s, m, NULL, 0);
}

/* A noded (re)connecting through spec.sock: only root or our own uid. */
static void
conn_accept(struct shepherd *s)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd;

	if ((fd = accept4(s->lsock, NULL, NULL, SOCK_CLOEXEC |
	    SOCK_NONBLOCK)) < 0) {
		if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			log_err_r(SS_ERR_SYSTEM, "accept");
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_err_r(SS_ERR_SYSTEM, "SO_PEERCRED");
		close(fd);
		return;
	}
	if (cred.uid != 0 && cred.uid != geteuid()) {
		log_warn("refusing a connection from uid %u", cred.uid);
		close(fd);
		return;
	}
	log_debug("noded (pid %d) connected", (int)cred.pid);
	conn_set(s, fd);
}

/* Answers a broken or refused frame with MSG_ERROR and closes. */
static void
conn_refuse(struct shepherd *s, int code, const char *what)
{
	log_warn_r(code, "closing the noded connection: %s", what);
	if (s->conn >= 0)
		(void)conn_send(s, proto_error(code, "%s", what), NULL, 0);
	conn_close(s);
}

/* Reads what noded sent and runs each whole frame through shep_rpcs. */
static void
conn_read(struct shepherd *s)
{
	const struct shep_rpc *rpc;
	struct buf *payload;
	uint8_t *p, type;
	ssize_t n;
	size_t i;
	int r;

	if ((r = buf_reserve(s->in, SHEP_READ, &p)) != 0) {
		conn_refuse(s, r, "input too long");
		return;
	}
	do
		n = read(s->conn, p, SHEP_READ);
	while (n < 0 && errno == EINTR);
	(void)buf_consume_end(s->in, SHEP_READ - (n > 0 ? n : 0));
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		log_debug("noded closed the connection");
		conn_close(s);
		return;
	}
	while (s->conn >= 0) {
		if ((r = proto_frame_take(s->in, &type, &payload)) ==
		    SS_ERR_SHORT)
			return;
		if (r != 0) {
			conn_refuse(s, r, "bad frame");
			return;
		}
		for (i = 0; i < sizeof(shep_rpcs) / sizeof(shep_rpcs[0]); i++)
			if (shep_rpcs[i].type == type)
				break;
		rpc = i < sizeof(shep_rpcs) / sizeof(shep_rpcs[0]) ?
		    &shep_rpcs[i] : NULL;
		if (rpc == NULL)
			conn_refuse(s, SS_ERR_PROTO, proto_msg_name(type));
		else if ((rpc->flags & RPC_NEED_EXIT) && !s->exited &&
		    s->restored == NULL)
			conn_refuse(s, SS_ERR_PROTO, "the job is running");
		else if ((rpc->flags & RPC_NEED_RESTORED) && s->restored == NULL)
			conn_refuse(s, SS_ERR_PROTO, "no restored job waits");
		else if ((rpc->flags & RPC_NEED_PIPES) && s->pty)
			conn_refuse(s, SS_ERR_PROTO, "the job has a terminal");
		else if ((r = rpc->fn(s, payload)) != 0)
			conn_refuse(s, r, proto_msg_name(type));
		buf_free(payload);
	}
}

/* MSG_SHEP_SIGNAL {u32 sig}: to the job's process group. */
static int
rpc_signal(struct shepherd *s, struct buf *p)
{
	uint32_t sig;
	int r;

	if ((r = buf_get_u32(p, &sig)) != 0)
		return r;
	if (buf_len(p) != 0 || sig >= NSIG)
		return SS_ERR_BAD;
	log_debug("signal %u", sig);
	job_kill(s, (int)sig);
	return 0;
}

/* MSG_SHEP_WINCH {u32 rows, u32 cols}: ignored without a pty. */
static int
rpc_winch(struct shepherd *s, struct buf *p)
{
	struct winsize ws;
	uint32_t rows, cols;
	int r;

	if ((r = buf_get_u32(p, &rows)) != 0 ||
	    (r = buf_get_u32(p, &cols)) != 0)
		return r;
	if (buf_len(p) != 0 || rows > USHRT_MAX || cols > USHRT_MAX)
		return SS_ERR_BAD;
	if (!s->pty)
		return 0;
	memset(&ws, 0, sizeof(ws));
	ws.ws_row = rows;
	ws.ws_col = cols;
	if (ioctl(s->master, TIOCSWINSZ, &ws) == -1)
		log_warn_r(SS_ERR_SYSTEM, "TIOCSWINSZ");
	return 0;
}

/* MSG_EOF {u8 0}: noded is done with the job's stdin; drop our copy. */
static int
rpc_eof(struct shepherd *s, struct buf *p)
{
	uint8_t stream;
	int r;

	if ((r = buf_get_u8(p, &stream)) != 0)
		return r;
	if (buf_len(p) != 0 || stream != 0)
		return SS_ERR_BAD;
	if (s->fd_in >= 0) {
		close(s->fd_in);
		s->fd_in = -1;
	}
	return 0;
}

/*
 * MSG_SHEP_COLLECT: noded has recorded the exit.  Cleans up and exits;
 * noded sees EOF on its connection once the socket and cgroup are gone.
 */
static int
rpc_collect(struct shepherd *s, struct buf *p)
{
	if (buf_len(p) != 0)
		return SS_ERR_BAD;
	if (s->restored != NULL) {
		/* A move called off: the copy never runs. */
		log_debug("restored job discarded");
		ckpt_restore_abort(s->restored);
		s->restored = NULL;
	}
	log_debug("collected");
	cleanup(s);
	exit(0);
}

/* Drains the signalfd: SIGCHLD reaps, the rest go to the job. */
static void
signals_read(struct shepherd *s)
{
	struct signalfd_siginfo si;
	ssize_t n;
	int chld = 0;

	for (;;) {
		n = read(s->sigfd, &si, sizeof(si));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			if (errno != EAGAIN)
				log_err_r(SS_ERR_SYSTEM, "signalfd");
			break;
		}
		if (n != sizeof(si))
			break;
		if (si.ssi_signo == SIGCHLD)
			chld = 1;
		else if (s->restored == NULL)
			job_kill(s, (int)si.ssi_signo);
	}
	/* A restored job under the engine's ptrace is not ours to wait for
	 * until it runs. */
	if (chld && s->restored == NULL)
		reap(s);
}

/* Reaps every child (as pid 1 we inherit the job's orphans). */
static void
reap(struct shepherd *s)
{
	pid_t pid;
	int st;

	for (;;) {
		pid = waitpid(-1, &st, WNOHANG | WUNTRACED | WCONTINUED);
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid <= 0)
			break;
		if (pid != s->job || s->exited)
			continue;
		if (WIFSTOPPED(st) || WIFCONTINUED(st)) {
			/* Ctrl-Z and bg/fg: the job's user wants to know. */
			conn_send_stop(s, WIFSTOPPED(st) ? WSTOPSIG(st) : 0);
			continue;
		}
		s->exited = 1;
		s->status = st;
		log_debug("job %llu ended, status 0x%x",
		    (unsigned long long)s->spec.gpid, st);
		conn_send_exit(s);
	}
}

/*
 * Before exiting: in our own PID namespace, kill what the job left behind
 * (it would die with us anyway) so the cgroup can go; then remove the
 * socket and the cgroup.
 */
static void
cleanup(struct shepherd *s)
{
	pid_t pid;

	if (s->own_ns) {
		if (kill(-1, SIGKILL) == -1 && errno != ESRCH)
			log_warn_r(SS_ERR_SYSTEM, "kill(-1)");
		do
			pid = waitpid(-1, NULL, 0);
		while (pid > 0 || (pid < 0 && errno == EINTR));
	}
	if (s->sock_made && unlink(s->spec.sock) == -1 && errno != ENOENT)
		log_warn_r(SS_ERR_SYSTEM, "%s", s->spec.sock);
	if (s->cgroup_made && rmdir(s->spec.cgroup) == -1 &&
	    errno != ENOENT)
		log_info("%s: %s (the job left processes behind)",
		    s->spec.cgroup, strerror(errno));
}

static void
shepherd_run(struct shep_spec *spec)
{
	struct shepherd sh, *s = &sh;
	struct pollfd pfd[3];
	int r;

	memset(s, 0, sizeof(*s));
	s->spec = *spec;
	s->pty = (spec->req.flags & SPAWN_PTY) != 0;
	s->fd_in = s->fd_out = s->fd_err = s->master = s->slave = -1;
	s->sigfd = s->lsock = s->conn = -1;
	s->own_ns = getpid() == 1;
	if ((s->in = buf_new(SHEP_MAX_IN)) == NULL) {
		ctl_error(CTL_FD, SS_ERR_ALLOC, "shepherd");
		exit(1);
	}
	if ((r = node_pid_self(&s->shep_node_pid)) != 0) {
		ctl_error(CTL_FD, r, "/proc/self");
		exit(1);
	}
	if ((r = signals_setup(s)) != 0) {
		ctl_error(CTL_FD, r, "signals");
		exit(1);
	}
	if (spec->cgroup[0] != '\0') {
		if ((r = cgroup_create(spec->cgroup)) != 0)
			log_err_r(r, "cgroup %s", spec->cgroup);
		else
			s->cgroup_made = 1;
	}
	sock_listen(s);
	if ((spec->restore ? restore_start(s) : job_start(s)) != 0) {
		cleanup(s);
		exit(1);
	}
	conn_set(s, CTL_FD);

	for (;;) {
		pfd[0].fd = s->sigfd;
		pfd[1].fd = s->lsock;
		pfd[2].fd = s->conn;
		pfd[0].events = pfd[1].events = pfd[2].events = POLLIN;
		pfd[0].revents = pfd[1].revents = pfd[2].revents = 0;
		if (poll(pfd, 3, -1) == -1) {
			if (errno != EINTR)
				log_err_r(SS_ERR_SYSTEM, "poll");
			continue;
		}
		if (pfd[0].revents != 0)
			signals_read(s);
		if (pfd[2].revents != 0 && s->conn >= 0)
			conn_read(s);
		if (pfd[1].revents != 0 && s->lsock >= 0)
			conn_accept(s);
	}
}

int
main(int argc, char **argv)
{
	struct shep_spec spec;
	pid_t pid;
	int r;

	int debug = 0, newpid = 0, i;

	/* -n: a PID namespace of its own (root noded); -d: debug log. */
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-d") == 0)
			debug = 1;
		else if (strcmp(argv[i], "-n") == 0)
			newpid = 1;
	}
	log_init("sshell-shepherd", debug, debug);
	/* Every fd we make must be >= 3 (job_child relies on it). */
	for (r = 0; r < 3; r++) {
		if (fcntl(r, F_GETFD) == -1 && open("/dev/null", O_RDWR) != r) {
			ctl_error(CTL_FD, SS_ERR_SYSTEM, "/dev/null");
			return 1;
		}
	}
	/* An ignored SIGCHLD (inherited through exec) would eat the status. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR ||
	    signal(SIGCHLD, SIG_DFL) == SIG_ERR) {
		ctl_error(CTL_FD, SS_ERR_SYSTEM, "signal");
		return 1;
	}
	/*
	 * Everything that does not depend on the spec happens before it is
	 * read (the PID and mount namespaces, the new /proc), so that noded
	 * can start a shepherd ahead of time and a job finds it ready.
	 */
	if (newpid && unshare(CLONE_NEWPID) == -1) {
		ctl_error(CTL_FD, SS_ERR_SYSTEM, "unshare(CLONE_NEWPID)");
		return 1;
	}
	if ((pid = fork()) == -1) {
		ctl_error(CTL_FD, SS_ERR_SYSTEM, "fork");
		return 1;
	}
	if (pid != 0) {
		/*
		 * noded reaps us; S carries on.  _exit: nothing of ours needs
		 * flushing, and a sanitizer's exit-time helper would be born
		 * in the job's PID namespace, where it cannot see us.
		 */
		_exit(0);
	}
	umask(077);
	if (setsid() == -1)
		log_warn_r(SS_ERR_SYSTEM, "setsid");
	if ((node_proc = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1) {
		ctl_error(CTL_FD, SS_ERR_SYSTEM, "/proc");
		exit(1);
	}
	/*
	 * In a PID namespace of its own the job gets a /proc of its own too,
	 * so that /proc/$$ inside it is itself (a mount namespace that still
	 * receives the node's mounts).  Failure only loses that nicety.
	 */
	if (getpid() == 1 && (unshare(CLONE_NEWNS) == -1 ||
	    mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) == -1 ||
	    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	    NULL) == -1))
		log_warn_r(SS_ERR_SYSTEM, "a /proc of the job's own");
	r = spec_read(SPEC_FD, &spec);
	if (r != 0 || !spec.restore)	/* a restore reads its image there */
		close(SPEC_FD);
	if (r != 0) {
		ctl_error(CTL_FD, r, "cannot read the spec");
		exit(1);
	}
	if ((spec.newpid != 0) != (getpid() == 1)) {
		ctl_error(CTL_FD, SS_ERR_BAD, "spec.newpid %u, but started "
		    "%s -n", spec.newpid, newpid ? "with" : "without");
		exit(1);
	}
	shepherd_run(&spec);
}

/*
 * A restored tree joins the job's cgroup, as a started job does before
 * it can fork: every process of our PID namespace but us (the engine's
 * helpers are gone once ckpt_restore returns).  A process ending
 * meanwhile is no error.
 */
static void
cgroup_join_restored(struct shepherd *s)
{
	char path[PROTO_MAX_PATH + 32], num[24], *end;
	struct dirent *de;
	DIR *d;
	long v;
	int fd, n;

	if (!s->cgroup_made || !s->own_ns)
		return;
	snprintf(path, sizeof(path), "%s/cgroup.procs", s->spec.cgroup);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0) {
		log_warn_r(SS_ERR_SYSTEM, "%s", path);
		return;
	}
	if ((d = opendir("/proc")) == NULL) {
		log_warn_r(SS_ERR_SYSTEM, "/proc");
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		errno = 0;
		v = strtol(de->d_name, &end, 10);
		if (errno != 0 || *end != '\0' || end == de->d_name || v <= 1)
			continue;
		n = snprintf(num, sizeof(num), "%ld", v);
		if (write(fd, num, (size_t)n) != n && errno != ESRCH)
			log_warn_r(SS_ERR_SYSTEM, "%s: %ld", path, v);
	}
	closedir(d);
	close(fd);
}

/*
 * Migration, target side: the job's image follows the spec on SPEC_FD.
 * It is restored as our child (so pid 1 of a fresh namespace gives it its
 * old pids back), in our session with the new terminal or pipes as its
 * stdio, and left stopped until noded says MSG_SHEP_RUN (COMMIT).
 */
static int
restore_start(struct shepherd *s)
{
	struct ckpt_restore_opts o;
	struct ckpt_err e;
	struct termios tio;
	char path[64], line[256];
	int child[3], slave, r, i, pfd;
	unsigned long v;
	FILE *f;

	if ((r = stdio_make(s, child, &slave)) != 0) {
		ctl_error(CTL_FD, r, "cannot make the job's %s",
		    s->pty ? "terminal" : "pipes");
		return r;
	}
	if (slave >= 0) {
		if (s->spec.tty_mode_len == sizeof(tio)) {
			memcpy(&tio, s->spec.tty_mode, sizeof(tio));
			if (tcsetattr(slave, TCSANOW, &tio) == -1)
				log_warn_r(SS_ERR_SYSTEM, "tcsetattr");
		}
		if (ioctl(slave, TIOCSCTTY, 0) == -1)
			log_warn_r(SS_ERR_SYSTEM, "controlling terminal");
	}
	memset(&o, 0, sizeof(o));
	o.in_fd = SPEC_FD;
	o.same_pid = s->own_ns;
	o.pidns_fd = -1;
	o.stopped = 1;
	o.keep_session = 1;
	for (i = 0; i < 3; i++)
		o.stdio[i] = slave >= 0 ? slave : child[i];
	r = ckpt_restore(&o, &s->restored, NULL, &e);
	close(SPEC_FD);
	for (i = 0; i < 3; i++)
		if (child[i] >= 0)
			close(child[i]);
	if (r != 0) {
		if (slave >= 0)
			close(slave);
		s->restored = NULL;
		ctl_error(CTL_FD, r, "%s", e.msg);
		return r;
	}
	s->slave = slave;
	s->job = ckpt_restored_pid(s->restored);
	cgroup_join_restored(s);
	/* Its pid in noded's namespace: a pidfd's fdinfo, read through the
	 * node's /proc, says it in that /proc's namespace. */
	s->job_node_pid = 0;
	if ((pfd = (int)syscall(SYS_pidfd_open, s->job, 0)) >= 0) {
		snprintf(path, sizeof(path), "self/fdinfo/%d", pfd);
		if ((i = openat(node_proc, path, O_RDONLY | O_CLOEXEC)) >= 0 &&
		    (f = fdopen(i, "r")) != NULL) {
			while (fgets(line, sizeof(line), f) != NULL)
				if (sscanf(line, "Pid: %lu", &v) == 1 &&
				    v <= UINT32_MAX)
					s->job_node_pid = (uint32_t)v;
			fclose(f);
		} else if (i >= 0)
			close(i);
		close(pfd);
	}
	if (s->job_node_pid == 0 || proc_starttime(s->job_node_pid,
	    &s->starttime) != 0)
		log_err("restored job %d: its node pid is not known",
		    (int)s->job);
	log_debug("job %llu restored: pid %u (%d here), stopped",
	    (unsigned long long)s->spec.gpid, s->job_node_pid, (int)s->job);
	return 0;
}

/* Echo off on the terminal (slave), its termios kept in *saved: 1 if it
 * was on and is off now. */
static int
echo_off(int slave, struct termios *saved)
{
	struct termios t;

	if (slave < 0 || tcgetattr(slave, saved) == -1 ||
	    !(saved->c_lflag & (ECHO | ECHONL)))
		return 0;
	t = *saved;
	t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	return tcsetattr(slave, TCSANOW, &t) == 0;
}

/*
 * The echo back on, once the line discipline has taken in what was just
 * written to the master.  It does so in a worker of its own: a poll of
 * the slave with no input complete yet waits for that worker (the kernel
 * flushes it there); with input complete the worker has begun, and the
 * termios change waits for it to end (it holds the termios lock while
 * it takes a buffer in).
 */
static void
echo_back(int slave, const struct termios *saved)
{
	struct pollfd pfd = { .fd = slave, .events = POLLIN };

	(void)poll(&pfd, 1, 0);
	if (tcsetattr(slave, TCSANOW, saved) == -1)
		log_warn_r(SS_ERR_SYSTEM, "the terminal's echo");
}

/* MSG_SHEP_RUN {string input}: COMMIT came; the restored job runs, with
 * the input its original had not read first in its stdin. */
static int
rpc_run(struct shepherd *s, struct buf *p)
{
	struct ckpt_err e;
	struct termios saved;
	const uint8_t *d;
	size_t len;
	ssize_t n;
	int r, in, echo;

	if ((r = buf_get_string_direct(p, &d, &len)) != 0)
		return r;
	if (buf_len(p) != 0)
		return SS_ERR_BAD;
	/* On a terminal, as if typed again, but with its echo off: it was
	 * echoed once already, on the old node's terminal. */
	in = s->pty ? s->master : s->fd_in;
	echo = len > 0 && s->pty && echo_off(s->slave, &saved);
	while (len > 0 && in >= 0) {
		n = write(in, d, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_warn_r(SS_ERR_SYSTEM, "the job's held input");
			break;
		}
		d += n;
		len -= (size_t)n;
	}
	if (echo)
		echo_back(s->slave, &saved);
	if (s->slave >= 0) {
		if (tcsetpgrp(s->slave, s->job) == -1)
			log_warn_r(SS_ERR_SYSTEM, "tcsetpgrp");
		close(s->slave);
		s->slave = -1;
	}
	r = ckpt_restore_run(s->restored, &e);
	s->restored = NULL;
	if (r != 0)
		log_err("restored job: %s", e.msg);
	log_debug("restored job runs");
	reap(s);	/* what happened while it was not ours to wait for */
	return 0;
}
