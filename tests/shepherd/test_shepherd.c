/*
 * test_shepherd.c: drives sshell-shepherd exactly as noded does and checks
 * what it reports.
 *
 * Each case forks, puts a pipe holding one MSG_SHEP_SPEC frame on fd 3 and
 * one end of a socketpair on fd 4 (/dev/null on 0-2), execs the shepherd,
 * reaps that first process (it must exit 0), then reads MSG_SHEP_INFO with
 * the job's fds from the socketpair, talks to the job through them, waits
 * for MSG_SHEP_EXIT and sends MSG_SHEP_COLLECT.  We are a child subreaper,
 * so the shepherd itself is reparented to us and we check that it exits 0
 * after COLLECT.  Output is TAP; the exit status is 0 only if every check
 * passed.  Cases that need root (PID namespace, cgroup, another user) are
 * skipped otherwise.
 *
 * The binary is $SSHELL_SHEPHERD, else SHEPHERD_PATH from the build;
 * SHEP_TEST_DEBUG=1 runs it with -d and its stderr on ours.
 */
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "proto.h"

#ifndef SHEPHERD_PATH
#define SHEPHERD_PATH	"build/bin/sshell-shepherd"
#endif
#define TIMEOUT_MS	10000

struct shep {
	int		 ctl;		/* our end of the control socket */
	struct buf	*in;
	struct shep_info info;
	int		 fds[3];	/* in, out, err; or fds[0] = master */
	int		 nfds;
};

static int	 ntest, nfail;
static char	 tmpdir[64];

static void
check(int ok, const char *fmt, ...)
{
	va_list ap;

	char msg[1024], *p;

	ntest++;
	if (!ok)
		nfail++;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* One TAP line: job output is shown with \n and \r escaped. */
	printf("%s %d - ", ok ? "ok" : "not ok", ntest);
	for (p = msg; *p != '\0'; p++) {
		if (*p == '\n')
			printf("\\n");
		else if (*p == '\r')
			printf("\\r");
		else
			putchar(*p);
	}
	printf("\n");
	fflush(stdout);
}

static void
diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* A spec with sensible defaults; argv is NULL-terminated, static. */
static void
spec_init(struct shep_spec *sp, char **argv, char **env)
{
	static uint64_t gpid = 1001;
	uint32_t n;

	memset(sp, 0, sizeof(*sp));
	sp->gpid = gpid++;
	sp->uid = getuid();
	sp->gid = getgid();
	sp->user = "";
	sp->sock = "";
	sp->cgroup = "";
	sp->req.node = sp->req.name = sp->req.log = "";
	sp->req.cmd = sp->req.term = "";
	sp->req.cwd = "/";
	sp->req.umask = 022;
	for (n = 0; argv[n] != NULL; n++)
		;
	sp->req.argc = n;
	sp->req.argv = argv;
	for (n = 0; env[n] != NULL; n++)
		;
	sp->req.envc = n;
	sp->req.env = env;
}

/* Receives one frame on fd, with any fds passed along it. */
static int
recv_frame(int fd, struct buf *in, uint8_t *type, struct buf **payload,
    int *fds, int *nfds)
{
	union {
		char		buf[CMSG_SPACE(8 * sizeof(int))];
		struct cmsghdr	align;
	} u;
	struct cmsghdr *cm;
	struct pollfd pfd;
	struct msghdr msg;
	struct iovec iov;
	uint8_t *p;
	ssize_t n;
	int r;

	for (;;) {
		r = proto_frame_take(in, type, payload);
		if (r != SS_ERR_SHORT)
			return r;
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, TIMEOUT_MS) != 1)
			return SS_ERR_TIMEOUT;
		if ((r = buf_reserve(in, 4096, &p)) != 0)
			return r;
		memset(&msg, 0, sizeof(msg));
		iov.iov_base = p;
		iov.iov_len = 4096;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = u.buf;
		msg.msg_controllen = sizeof(u.buf);
		n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
		(void)buf_consume_end(in, 4096 - (n > 0 ? n : 0));
		if (n <= 0)
			return n == 0 ? SS_ERR_SHORT : SS_ERR_SYSTEM;
		for (cm = CMSG_FIRSTHDR(&msg); cm != NULL;
		    cm = CMSG_NXTHDR(&msg, cm)) {
			if (cm->cmsg_level != SOL_SOCKET ||
			    cm->cmsg_type != SCM_RIGHTS)
				continue;
			r = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			if (fds != NULL && r <= 3) {
				memcpy(fds, CMSG_DATA(cm), r * sizeof(int));
				*nfds = r;
			}
		}
	}
}

/* Reads MSG_SHEP_INFO (and its fds) from h->ctl. */
static int
get_info(struct shep *h)
{
	struct buf *p = NULL;
	uint8_t type;
	char *msg;
	int r, code;

	h->nfds = 0;
	if ((r = recv_frame(h->ctl, h->in, &type, &p, h->fds, &h->nfds)) != 0) {
		diag("no SHEP_INFO: %s", ss_strerror(r));
		return r;
	}
	if (type == MSG_ERROR) {
		if (proto_get_error(p, &code, &msg) == 0) {
			diag("shepherd error: %s", msg);
			free(msg);
		}
		buf_free(p);
		return SS_ERR_BAD;
	}
	r = type == MSG_SHEP_INFO ? shep_info_get(p, &h->info) : SS_ERR_PROTO;
	buf_free(p);
	if (r == 0 && h->nfds != (h->info.pty ? 1 : 3))
		r = SS_ERR_BAD;
	return r;
}

static int
shep_start(struct shep *h, const struct shep_spec *sp)
{
	const char *path = getenv("SSHELL_SHEPHERD");
	int sp_pipe[2], sv[2], st, dbg = getenv("SHEP_TEST_DEBUG") != NULL;
	struct buf *m;
	pid_t pid, r;
	int i;

	if (path == NULL)
		path = SHEPHERD_PATH;
	memset(h, 0, sizeof(*h));
	h->ctl = -1;
	if ((h->in = buf_new(1 << 20)) == NULL)
		return SS_ERR_ALLOC;
	if (pipe2(sp_pipe, O_CLOEXEC) == -1 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		return SS_ERR_SYSTEM;
	if ((m = proto_msg_new(MSG_SHEP_SPEC)) == NULL ||
	    shep_spec_put(m, sp) != 0 || proto_msg_finish(m) != 0 ||
	    proto_write_all(sp_pipe[1], m) != 0)
		return SS_ERR_INTERNAL;
	buf_free(m);
	close(sp_pipe[1]);
	if ((pid = fork()) == -1)
		return SS_ERR_SYSTEM;
	if (pid == 0) {
		/* Move both out of the way first: either may be 3 or 4
		 * already (and dup2 onto itself keeps O_CLOEXEC). */
		int a = fcntl(sp_pipe[0], F_DUPFD, 10);
		int b = fcntl(sv[1], F_DUPFD, 10);
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		if (null >= 0)
			null = fcntl(null, F_DUPFD, 10);

		if (a < 0 || b < 0 || null < 0 || dup2(a, 3) != 3 ||
		    dup2(b, 4) != 4 ||
		    dup2(null, 0) != 0 || dup2(null, 1) != 1 ||
		    (!dbg && dup2(null, 2) != 2) ||
		    close_range(5, ~0U, 0) == -1)
			_exit(99);
		/* As noded: -n when the spec wants a PID namespace. */
		execv(path, (char *[]){ "sshell-shepherd",
		    sp->newpid ? "-n" : (dbg ? "-d" : NULL),
		    sp->newpid && dbg ? "-d" : NULL, NULL });
		_exit(98);
	}
	close(sp_pipe[0]);
	close(sv[1]);
	h->ctl = sv[0];
	/* The first process must exit at once; never hang the suite on it. */
	for (i = 0; (r = waitpid(pid, &st, WNOHANG)) == 0 && i < 200; i++)
		usleep(50000);
	if (r != pid) {
		diag("first shepherd process %d did not exit", (int)pid);
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, &st, 0);
		return SS_ERR_TIMEOUT;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		diag("first shepherd process: status 0x%x", st);
		if (get_info(h) == 0) {
			/* It started anyway: do not leave it behind. */
			(void)kill(-(pid_t)h->info.pid, SIGKILL);
			(void)kill(h->info.shep_pid, SIGKILL);
		}
		return SS_ERR_BAD;
	}
	return get_info(h);
}

static void
close_fds(struct shep *h)
{
	int i;

	for (i = 0; i < h->nfds; i++)
		close(h->fds[i]);
	h->nfds = 0;
}

static int
send_msg(int fd, uint8_t type, int nargs, ...)
{
	struct buf *m;
	va_list ap;
	int i, r;

	if ((m = proto_msg_new(type)) == NULL)
		return SS_ERR_ALLOC;
	va_start(ap, nargs);
	for (i = 0; i < nargs; i++)
		if (type == MSG_EOF)
			(void)buf_put_u8(m, (uint8_t)va_arg(ap, int));
		else
			(void)buf_put_u32(m, va_arg(ap, uint32_t));
	va_end(ap);
	if ((r = proto_msg_finish(m)) == 0)
		r = proto_write_all(fd, m);
	buf_free(m);
	return r;
}

/* Waits for MSG_SHEP_EXIT; the raw status, or -1. */
static int
wait_exit(struct shep *h)
{
	struct buf *p;
	uint8_t type;
	uint32_t st;
	int r;

	if ((r = recv_frame(h->ctl, h->in, &type, &p, NULL, NULL)) != 0) {
		diag("no SHEP_EXIT: %s", ss_strerror(r));
		return -1;
	}
	r = type == MSG_SHEP_EXIT && buf_get_u32(p, &st) == 0 ? (int)st : -1;
	if (type != MSG_SHEP_EXIT)
		diag("got %s instead of SHEP_EXIT", proto_msg_name(type));
	buf_free(p);
	return r;
}

/* Sends COLLECT, expects EOF, and reaps the shepherd (we subreap). */
static int
collect(struct shep *h)
{
	struct buf *p = NULL;
	uint8_t type;
	pid_t pid = h->info.shep_pid;
	int r, st, ok = 1, i;

	if (send_msg(h->ctl, MSG_SHEP_COLLECT, 0) != 0)
		ok = 0;
	r = recv_frame(h->ctl, h->in, &type, &p, NULL, NULL);
	if (r != SS_ERR_SHORT) {
		diag("after COLLECT: %s", r == 0 ? proto_msg_name(type) :
		    ss_strerror(r));
		buf_free(p);
		ok = 0;
	}
	close(h->ctl);
	close_fds(h);
	buf_free(h->in);
	/* The shepherd is our orphan now: it must exit 0. */
	for (i = 0; i < 100; i++) {
		r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			break;
		usleep(50000);
	}
	if (r != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		diag("shepherd %d: waitpid %d status 0x%x", (int)pid, r, st);
		ok = 0;
	}
	/* Reap anything else that was reparented to us. */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	return ok;
}

/* Reads fd until EOF (or EIO for a pty master) into out (NUL-ended). */
static int
read_all(int fd, char *out, size_t size)
{
	struct pollfd pfd;
	size_t len = 0;
	ssize_t n;

	out[0] = '\0';
	for (;;) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, TIMEOUT_MS) != 1)
			return -1;
		n = read(fd, out + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 || (n < 0 && errno == EIO))
			break;
		if (n < 0)
			return -1;
		len += n;
		out[len] = '\0';
		if (len == size - 1)
			break;
	}
	return (int)len;
}

static char *env_basic[] = { "FOO=bar baz", "PATH=/usr/bin:/bin",
	"HOME=/", NULL };

/* cwd, umask, env, fds 0-2 only, output on both pipes, exit code. */
static void
t_basic(void)
{
	static char *argv[] = { "sh", "-c", "pwd; umask; echo \"$FOO\"; "
	    "ls /proc/$$/fd; echo oops >&2; exit 3",
	    NULL };
	struct shep_spec sp;
	struct shep h;
	char out[4096], err[4096], want[256];
	int st;

	spec_init(&sp, argv, env_basic);
	sp.req.cwd = tmpdir;
	sp.req.umask = 027;
	if (shep_start(&h, &sp) != 0) {
		check(0, "basic: shepherd started");
		return;
	}
	check(h.info.pid == h.info.nspid && h.info.pid > 1 &&
	    h.info.shep_pid > 1 && h.info.starttime > 0 && !h.info.pty,
	    "basic: info pid %u nspid %u shep %u start %llu", h.info.pid,
	    h.info.nspid, h.info.shep_pid,
	    (unsigned long long)h.info.starttime);
	close(h.fds[0]);
	h.fds[0] = -1;
	read_all(h.fds[1], out, sizeof(out));
	read_all(h.fds[2], err, sizeof(err));
	snprintf(want, sizeof(want), "%s\n0027\nbar baz\n0\n1\n2\n",
	    tmpdir);
	check(strcmp(out, want) == 0,
	    "basic: cwd, umask, env, fds 0 1 2 only: [%s]", out);
	check(strcmp(err, "oops\n") == 0, "basic: stderr [%s]", err);
	st = wait_exit(&h);
	check(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 3,
	    "basic: exit 3 reported (0x%x)", st);
	h.fds[0] = open("/dev/null", O_RDONLY);
	check(collect(&h), "basic: collect ends the shepherd");
}

/* Command not found: 127 and the message on the job's stderr. */
static void
t_notfound(void)
{
	static char *argv[] = { "no-such-command-xyz", "a", NULL };
	static char *argv2[] = { "true", NULL };
	struct shep_spec sp;
	struct shep h;
	char err[4096];
	int st;

	spec_init(&sp, argv, env_basic);
	if (shep_start(&h, &sp) != 0) {
		check(0, "notfound: shepherd started");
		return;
	}
	read_all(h.fds[2], err, sizeof(err));
	check(strcmp(err, "sshell: no-such-command-xyz: command not found\n")
	    == 0, "notfound: message [%s]", err);
	st = wait_exit(&h);
	check(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 127,
	    "notfound: exit 127 (0x%x)", st);
	check(collect(&h), "notfound: collect");

	spec_init(&sp, argv2, env_basic);
	sp.req.cwd = "/nonexistent-dir";
	if (shep_start(&h, &sp) != 0) {
		check(0, "badcwd: shepherd started");
		return;
	}
	read_all(h.fds[2], err, sizeof(err));
	check(strcmp(err, "sshell: /nonexistent-dir: No such file or "
	    "directory\n") == 0, "badcwd: message [%s]", err);
	st = wait_exit(&h);
	check(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 1,
	    "badcwd: exit 1 (0x%x)", st);
	check(collect(&h), "badcwd: collect");
}

/* MSG_SHEP_SIGNAL reaches the whole process group. */
static void
t_signal(void)
{
	static char *argv[] = { "sh", "-c", "sleep 100 & sleep 100; wait",
	    NULL };
	struct shep_spec sp;
	struct shep h;
	char out[4096];
	int st;

	spec_init(&sp, argv, env_basic);
	if (shep_start(&h, &sp) != 0) {
		check(0, "signal: shepherd started");
		return;
	}
	usleep(100000);
	check(send_msg(h.ctl, MSG_SHEP_SIGNAL, 1, (uint32_t)SIGTERM) == 0,
	    "signal: sent SIGTERM");
	st = wait_exit(&h);
	check(st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM,
	    "signal: killed by SIGTERM (0x%x)", st);
	/* EOF on stdout only once both sleeps are gone too. */
	check(read_all(h.fds[1], out, sizeof(out)) == 0,
	    "signal: the whole group died (stdout EOF)");
	check(collect(&h), "signal: collect");
}

/* Reconnection through spec.sock, MSG_EOF, bad frames. */
static int
sock_connect(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
t_reconnect(void)
{
	static char *argv[] = { "sh", "-c", "echo one; read x; echo two $x; "
	    "cat; exit 5", NULL };
	struct shep_spec sp;
	struct shep h;
	char path[128], out[4096];
	struct stat sb;
	int st, ok;
	uint8_t type;
	struct buf *p = NULL;

	snprintf(path, sizeof(path), "%s/job.sock", tmpdir);
	spec_init(&sp, argv, env_basic);
	sp.sock = path;
	if (shep_start(&h, &sp) != 0) {
		check(0, "reconnect: shepherd started");
		return;
	}
	check(stat(path, &sb) == 0 && S_ISSOCK(sb.st_mode) &&
	    (sb.st_mode & 0777) == 0600, "reconnect: socket mode 0600");
	/* noded "dies": closes everything it had. */
	close(h.ctl);
	close_fds(&h);
	buf_reset(h.in);
	usleep(100000);
	if ((h.ctl = sock_connect(path)) < 0 || get_info(&h) != 0) {
		check(0, "reconnect: SHEP_INFO on the socket");
		return;
	}
	check(!h.info.exited && h.nfds == 3, "reconnect: got info and fds");
	/* A bad frame closes that connection, not the shepherd. */
	ok = send_msg(h.ctl, 99, 0) == 0 &&
	    recv_frame(h.ctl, h.in, &type, &p, NULL, NULL) == 0 &&
	    type == MSG_ERROR;
	buf_free(p);
	p = NULL;
	check(ok && recv_frame(h.ctl, h.in, &type, &p, NULL, NULL) ==
	    SS_ERR_SHORT, "reconnect: bad frame: ERROR then EOF");
	buf_free(p);
	close(h.ctl);
	close_fds(&h);
	buf_reset(h.in);
	if ((h.ctl = sock_connect(path)) < 0 || get_info(&h) != 0) {
		check(0, "reconnect: SHEP_INFO again");
		return;
	}
	check(write(h.fds[0], "hi\nrest\n", 8) == 8, "reconnect: stdin");
	/* Our copy closed, but the job's cat ends only after MSG_EOF. */
	close(h.fds[0]);
	check(send_msg(h.ctl, MSG_EOF, 1, 0) == 0, "reconnect: MSG_EOF");
	read_all(h.fds[1], out, sizeof(out));
	check(strcmp(out, "one\ntwo hi\nrest\n") == 0,
	    "reconnect: output across connections [%s]", out);
	st = wait_exit(&h);
	check(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 5,
	    "reconnect: exit 5 (0x%x)", st);
	h.fds[0] = open("/dev/null", O_RDONLY);
	close(h.ctl);
	close_fds(&h);
	buf_reset(h.in);
	/* After the end: the status comes in SHEP_INFO. */
	if ((h.ctl = sock_connect(path)) < 0 || get_info(&h) != 0) {
		check(0, "reconnect: SHEP_INFO after the end");
		return;
	}
	check(h.info.exited && WIFEXITED(h.info.status) &&
	    WEXITSTATUS(h.info.status) == 5,
	    "reconnect: info has exited=1 status 5");
	check(collect(&h), "reconnect: collect");
	check(access(path, F_OK) == -1 && errno == ENOENT,
	    "reconnect: socket removed");
}

/* A forwarded signal: SIGTERM to the shepherd itself. */
static void
t_forward(int newpid)
{
	static char *argv[] = { "sleep", "100", NULL };
	struct shep_spec sp;
	struct shep h;
	int st;

	spec_init(&sp, argv, env_basic);
	sp.newpid = newpid;
	if (shep_start(&h, &sp) != 0) {
		check(0, "forward: shepherd started");
		return;
	}
	usleep(100000);
	check(kill(h.info.shep_pid, SIGTERM) == 0, "forward%s: SIGTERM to "
	    "the shepherd", newpid ? " (newpid)" : "");
	st = wait_exit(&h);
	check(st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM,
	    "forward: the job got it (0x%x)", st);
	check(collect(&h), "forward: collect");
}

/* Root only: PID namespace, cgroup, starttime. */
static void
t_newpid(void)
{
	/* The sleep is left behind: COLLECT must kill it (the cgroup goes). */
	static char *argv[] = { "sh", "-c", "echo $$; sleep 100 >/dev/null "
	    "2>&1 & read x; echo got $x", NULL };
	struct shep_spec sp;
	struct shep h;
	char cg[128], path[256], out[4096], stat[1024], want[32], *q;
	unsigned long long start = 0;
	int fd, have_cg, st, i;
	ssize_t n;

	snprintf(cg, sizeof(cg), "/sys/fs/cgroup/freezer/sshell-test-%d/job",
	    (int)getpid());
	have_cg = access("/sys/fs/cgroup/freezer", W_OK) == 0;
	spec_init(&sp, argv, env_basic);
	sp.newpid = 1;
	if (have_cg)
		sp.cgroup = cg;
	if (shep_start(&h, &sp) != 0) {
		check(0, "newpid: shepherd started");
		return;
	}
	check(h.info.nspid == 2 && h.info.pid != 2,
	    "newpid: job is 2 inside, %u outside", h.info.pid);
	snprintf(path, sizeof(path), "/proc/%u/stat", h.info.pid);
	if ((fd = open(path, O_RDONLY)) >= 0) {
		n = read(fd, stat, sizeof(stat) - 1);
		close(fd);
		if (n > 0) {
			stat[n] = '\0';
			q = strrchr(stat, ')');
			for (i = 3; q != NULL && i <= 22; i++)
				q = strchr(q + 1, ' ');
			if (q != NULL)
				start = strtoull(q + 1, NULL, 10);
		}
	}
	check(start != 0 && start == h.info.starttime,
	    "newpid: starttime %llu", start);
	if (have_cg) {
		snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
		out[0] = '\0';
		if ((fd = open(path, O_RDONLY)) >= 0) {
			n = read(fd, out, sizeof(out) - 1);
			out[n > 0 ? n : 0] = '\0';
			close(fd);
		}
		/* One line of cgroup.procs is the job's pid. */
		snprintf(want, sizeof(want), "\n%u\n", h.info.pid);
		check(strncmp(out, want + 1, strlen(want + 1)) == 0 ||
		    strstr(out, want) != NULL,
		    "newpid: the job is in its cgroup [%s]", out);
	}
	check(write(h.fds[0], "x\n", 2) == 2, "newpid: stdin");
	read_all(h.fds[1], out, sizeof(out));
	check(strcmp(out, "2\ngot x\n") == 0, "newpid: $$ is 2 [%s]", out);
	st = wait_exit(&h);
	check(st == 0, "newpid: exit 0 (0x%x)", st);
	check(collect(&h), "newpid: collect");
	if (have_cg) {
		check(access(cg, F_OK) == -1, "newpid: cgroup removed");
		snprintf(path, sizeof(path),
		    "/sys/fs/cgroup/freezer/sshell-test-%d", (int)getpid());
		(void)rmdir(path);
	}
}

/* Root only: a job as nobody, with a pty. */
static void
t_nobody_pty(void)
{
	static char *argv[] = { "sh", "-c", "id -u; id -g; stty size; "
	    "echo $TERM; tty; touch f; ls -l f | cut -c1-10", NULL };
	static char *env[] = { "TERM=dumb", "PATH=/usr/bin:/bin", NULL };
	struct shep_spec sp;
	struct shep h;
	char dir[128], out[4096];
	int st;

	snprintf(dir, sizeof(dir), "%s/nobody", tmpdir);
	if (mkdir(dir, 0700) == -1 || chown(dir, 65534, 65534) == -1) {
		check(0, "nobody: mkdir");
		return;
	}
	spec_init(&sp, argv, env);
	sp.uid = 65534;
	sp.gid = 65534;
	sp.user = "nobody";
	sp.req.cwd = dir;
	sp.req.umask = 077;
	sp.req.flags = SPAWN_PTY;
	sp.req.term = "xterm-test";
	sp.req.rows = 33;
	sp.req.cols = 111;
	if (shep_start(&h, &sp) != 0) {
		check(0, "nobody: shepherd started");
		return;
	}
	check(h.info.pty && h.nfds == 1, "nobody: one fd (pty master)");
	read_all(h.fds[0], out, sizeof(out));
	check(strstr(out, "65534\r\n65534\r\n33 111\r\nxterm-test\r\n"
	    "/dev/pts/") == out && strstr(out, "-rw-------") != NULL,
	    "nobody: uid, gid, size, TERM, tty, umask: [%s]", out);
	st = wait_exit(&h);
	check(st == 0, "nobody: exit 0 (0x%x)", st);
	check(collect(&h), "nobody: collect");
}

int
main(void)
{
	char cmd[128];

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR ||
	    prctl(PR_SET_CHILD_SUBREAPER, 1) == -1) {
		perror("test_shepherd: setup");
		return 1;
	}
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_shepherd.XXXXXX");
	if (mkdtemp(tmpdir) == NULL || chmod(tmpdir, 0755) == -1) {
		perror("test_shepherd: mkdtemp");
		return 1;
	}
	t_basic();
	t_notfound();
	t_signal();
	t_reconnect();
	t_forward(0);
	if (geteuid() == 0) {
		t_forward(1);
		t_newpid();
		t_nobody_pty();
	} else
		diag("not root: skipping newpid, cgroup, nobody");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		diag("cannot remove %s", tmpdir);
	printf("1..%d\n", ntest);
	if (nfail > 0)
		printf("# %d of %d failed\n", nfail, ntest);
	return nfail > 0;
}
