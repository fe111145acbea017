/*
 * client.c: the tools' side of the Unix socket to the local noded, and the
 * helpers every tool prints and parses with (see client.h).
 *
 * Speed matters here: a tool run is spawn, connect, one write, a few
 * reads, exit, and should take about a millisecond.  So there is exactly
 * one connect (no probing of the other candidate paths once one is
 * chosen), the hello and the request leave in one send(), and on the
 * good path the only file touched besides the socket is the stat() of
 * /run/sshell/noded.sock (and one open of /dev/null that makes sure fds
 * 0-2 exist).
 *
 * The embedded default (DESIGN.md, "Files and configuration"): when the
 * chosen socket is the user's own (conf_own_socket(): $SSHELL_SOCKET
 * counts as one's own, since a noded started with it listens there),
 * nothing listens on it, no cluster file exists and there is no system
 * cluster, we start the user's noded ourselves.  For root the own socket
 * is /run/sshell/noded.sock itself, so root gets a root noded.  noded
 * daemonizes itself; we wait for its first process to exit and then poll
 * the socket with growing intervals (1 ms doubling to 50 ms) up to
 * CLIENT_START_TIMEOUT_MS in all, never a single guessed sleep.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "conf.h"
#include "err.h"
#include "proto.h"

/* The read buffer holds at most one frame plus one read's worth. */
#define CLIENT_IN_MAX	(PROTO_MAX_FRAME + 4 + 2 * 65536)

/* Set by client_connect; until then glibc's name for us. */
#define client_prog	(client_progname != NULL ? client_progname : \
			    program_invocation_short_name)
static const char	*client_progname;
static struct buf	*client_in;	/* bytes read and not yet framed */

static void	client_sanitize_stdfd(void);
static int	client_try_connect(const char *path, int *fdp);
static size_t	utf8_len(const unsigned char *s);
static int	client_may_start(const char *path, const char *own);
static int	client_start_noded(const char *path);
static int	client_find_noded(char *buf, size_t len);
static void	client_sleep_ms(long ms);
static long	client_now_ms(void);

/*
 * Makes sure fds 0, 1 and 2 are open (on /dev/null if they were closed),
 * as OpenSSH's sanitise_stdfd() does: otherwise our socket could become
 * fd 1 and `ssubmit ... >&-` would print the GPID into noded's socket.
 */
static void
client_sanitize_stdfd(void)
{
	int fd;

	/* Each open takes the lowest free fd: it fills a hole, or is > 2. */
	while ((fd = open("/dev/null", O_RDWR)) != -1 && fd <= 2)
		;
	if (fd > 2)
		close(fd);
}

/*
 * Connects a new socket to path.  Returns 0 with *fdp set, or -1 with
 * errno set (ENAMETOOLONG for a path sun_path cannot hold).
 */
static int
client_try_connect(const char *path, int *fdp)
{
	struct sockaddr_un sun;
	int fd, saved;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (client_set_timeout(fd, CLIENT_REPLY_TIMEOUT) == -1)
		goto fail;
	while (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		if (errno != EINTR)
			goto fail;
	}
	*fdp = fd;
	return 0;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/*
 * May we start a noded for path?  Only if path is the user's own socket,
 * no system cluster's socket exists, and no cluster file exists (a user
 * with a cluster file runs its noded deliberately, and a dead one is an
 * error to report, not to paper over).  Returns 1 or 0.
 */
static int
client_may_start(const char *path, const char *own)
{
	char conf[PATH_MAX];
	struct stat st;

	if (strcmp(path, own) != 0)
		return 0;
	if (lstat(CONF_SYSTEM_SOCKET, &st) == 0)
		return 0;
	if (conf_default_path(conf, sizeof(conf)) != 0)
		return 0;
	if (stat(conf, &st) == 0 || errno != ENOENT)
		return 0;
	return 1;
}

/*
 * Finds the noded binary: beside our own executable, then ../sbin/ from
 * it (an installed tree: bin/ and sbin/ under one PREFIX).  Returns 0 with
 * the path in buf, or -1 to fall back to a PATH search.
 */
static int
client_find_noded(char *buf, size_t len)
{
	static const char *const rel[] = { "noded", "../sbin/noded" };
	char self[PATH_MAX], *slash;
	ssize_t n;
	size_t i;
	int w;

	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0)
		return -1;
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) == NULL)
		return -1;
	slash[1] = '\0';
	for (i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		w = snprintf(buf, len, "%s%s", self, rel[i]);
		if (w < 0 || (size_t)w >= len)
			continue;
		if (access(buf, X_OK) == 0)
			return 0;
	}
	return -1;
}

static long
client_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
client_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * Starts noded (no arguments: with no cluster file it runs a single-node
 * cluster of this machine) and waits until path accepts a connection.
 * The child gets /dev/null as stdin and stdout, so that a daemon left
 * running never holds a pipe of our caller's open (`gpid=$(ssubmit ...)`
 * would never end); stderr stays, for an error noded reports before it
 * detaches.
 *
 * Two tools may race to start it: the loser's noded finds the socket
 * taken and exits non-zero while the winner's comes up.  So a failed
 * start still polls, but only for CLIENT_START_LOSER_MS, not the whole
 * CLIENT_START_TIMEOUT_MS.  Returns a connected fd, or -1 after printing
 * why.
 */
#define CLIENT_START_LOSER_MS	1000
static int
client_start_noded(const char *path)
{
	char exe[PATH_MAX];
	int have_exe, fd, status, nullfd, failed;
	long start, delay, limit;
	pid_t pid;

	have_exe = client_find_noded(exe, sizeof(exe)) == 0;
	if ((pid = fork()) == -1) {
		fprintf(stderr, "%s: cannot start noded: %s\n", client_prog,
		    strerror(errno));
		return -1;
	}
	if (pid == 0) {
		if ((nullfd = open("/dev/null", O_RDWR)) != -1) {
			dup2(nullfd, 0);
			dup2(nullfd, 1);
			if (nullfd > 2)
				close(nullfd);
		}
		if (have_exe)
			execl(exe, "noded", (char *)NULL);
		else
			execlp("noded", "noded", (char *)NULL);
		fprintf(stderr, "%s: cannot reach noded at %s: cannot run "
		    "noded: %s\n", client_prog, path, strerror(errno));
		_exit(127);
	}
	/*
	 * noded's first process exits once it has detached.  ECHILD means
	 * our caller ignores SIGCHLD, so there is no status to read: the
	 * polling below tells whether it started.
	 */
	status = 0;
	while (waitpid(pid, &status, 0) == -1) {
		if (errno == ECHILD)
			break;
		if (errno != EINTR) {
			fprintf(stderr, "%s: waiting for noded: %s\n",
			    client_prog, strerror(errno));
			return -1;
		}
	}
	failed = !WIFEXITED(status) || WEXITSTATUS(status) != 0;
	if (failed && WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return -1;	/* not found: the child said so */
	limit = failed ? CLIENT_START_LOSER_MS : CLIENT_START_TIMEOUT_MS;
	start = client_now_ms();
	delay = 1;
	for (;;) {
		if (client_try_connect(path, &fd) == 0)
			return fd;
		if ((errno != ENOENT && errno != ECONNREFUSED) ||
		    client_now_ms() - start >= limit)
			break;
		client_sleep_ms(delay);
		if (delay < 50)
			delay *= 2;
	}
	if (failed)
		fprintf(stderr, "%s: cannot reach noded at %s: noded failed "
		    "to start (status %d)\n", client_prog, path,
		    WIFEXITED(status) ? WEXITSTATUS(status) :
		    128 + WTERMSIG(status));
	else if (errno == ENOENT || errno == ECONNREFUSED)
		fprintf(stderr, "%s: cannot reach noded at %s: noded started "
		    "but did not answer in %d ms\n", client_prog, path,
		    CLIENT_START_TIMEOUT_MS);
	else
		fprintf(stderr, "%s: cannot reach noded at %s: %s\n",
		    client_prog, path, strerror(errno));
	return -1;
}

int
client_connect(const char *prog)
{
	char path[PATH_MAX], own[PATH_MAX];
	int fd, r;

	client_progname = prog;
	client_sanitize_stdfd();
	if ((r = conf_default_socket(path, sizeof(path))) != 0) {
		fprintf(stderr, "%s: cannot find noded's socket: %s\n", prog,
		    ss_strerror(r));
		return -1;
	}
	if (client_try_connect(path, &fd) == 0)
		return fd;
	if ((errno == ENOENT || errno == ECONNREFUSED) &&
	    conf_own_socket(own, sizeof(own)) == 0 &&
	    client_may_start(path, own)) {
		return client_start_noded(path);
	}
	fprintf(stderr, "%s: cannot reach noded at %s: %s\n", prog, path,
	    strerror(errno));
	return -1;
}

int
client_send_all(int fd, const struct buf *m)
{
	const uint8_t *p = buf_ptr(m);
	size_t left = buf_len(m);
	ssize_t n;

	while (left > 0) {
		n = send(fd, p, left, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		left -= (size_t)n;
	}
	return 0;
}

int
client_read(int fd, uint8_t *type, struct buf **payload)
{
	int r;

	*payload = NULL;
	if (client_in == NULL && (client_in = buf_new(CLIENT_IN_MAX)) == NULL) {
		fprintf(stderr, "%s: out of memory\n", client_prog);
		return -1;
	}
	r = proto_read_frame(fd, client_in, type, payload);
	if (r == 0)
		return 0;
	if (r == SS_ERR_SHORT && buf_len(client_in) == 0)
		fprintf(stderr, "%s: noded closed the connection\n",
		    client_prog);
	else if (r == SS_ERR_SYSTEM && (errno == EAGAIN ||
	    errno == EWOULDBLOCK))
		fprintf(stderr, "%s: noded did not answer in %d seconds\n",
		    client_prog, CLIENT_REPLY_TIMEOUT);
	else if (r == SS_ERR_SYSTEM)
		fprintf(stderr, "%s: reading from noded: %s\n", client_prog,
		    strerror(errno));
	else
		fprintf(stderr, "%s: reading from noded: %s\n", client_prog,
		    ss_strerror(r));
	return -1;
}

int
client_call(int fd, struct buf *req, uint8_t *type, struct buf **payload)
{
	struct buf *out, *hello;
	uint8_t htype;
	uint32_t version;
	int r;

	*payload = NULL;
	if ((r = proto_msg_finish(req)) != 0) {
		fprintf(stderr, "%s: request: %s\n", client_prog,
		    ss_strerror(r));
		return -1;
	}
	if ((out = proto_msg_new(MSG_HELLO)) == NULL ||
	    buf_put_u32(out, PROTO_VERSION) != 0 ||
	    buf_put_cstring(out, client_prog) != 0 ||
	    buf_put_u32(out, 0) != 0 || proto_msg_finish(out) != 0 ||
	    buf_put(out, buf_ptr(req), buf_len(req)) != 0) {
		buf_free(out);
		fprintf(stderr, "%s: out of memory\n", client_prog);
		return -1;
	}
	r = client_send_all(fd, out);
	buf_free(out);
	/*
	 * A send error (noded closed early) is reported only if there is
	 * no reply to read: noded may have refused us with a MSG_ERROR
	 * that explains why far better than EPIPE does.
	 */
	if (client_read(fd, &htype, &hello) != 0) {
		if (r != 0)
			fprintf(stderr, "%s: sending to noded: %s\n",
			    client_prog, strerror(errno));
		return -1;
	}
	if (htype != MSG_HELLO) {
		(void)client_expect(htype, hello, MSG_HELLO);
		buf_free(hello);
		return -1;
	}
	r = buf_get_u32(hello, &version);
	buf_free(hello);
	if (r != 0)
		return client_bad_reply("hello", r);
	if (version != PROTO_VERSION) {
		fprintf(stderr, "%s: noded speaks protocol %u, not %u\n",
		    client_prog, version, PROTO_VERSION);
		return -1;
	}
	return client_read(fd, type, payload);
}

int
client_set_timeout(int fd, int seconds)
{
	struct timeval tv = { seconds, 0 };

	return setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

int
client_expect(uint8_t type, struct buf *payload, uint8_t want)
{
	char *msg;
	int code, r;

	if (type == want)
		return 0;
	if (type != MSG_ERROR) {
		fprintf(stderr, "%s: unexpected reply %s from noded\n",
		    client_prog, proto_msg_name(type));
		return -1;
	}
	if ((r = proto_get_error(payload, &code, &msg)) != 0) {
		free(msg);
		return client_bad_reply("error reply", r);
	}
	fprintf(stderr, "%s: ", client_prog);
	client_put_display(stderr, msg);
	fputc('\n', stderr);
	free(msg);
	return -1;
}

int
client_bad_reply(const char *what, int code)
{
	fprintf(stderr, "%s: bad %s from noded: %s\n", client_prog, what,
	    ss_strerror(code));
	return -1;
}

void
client_close(int fd)
{
	buf_free(client_in);
	client_in = NULL;
	if (fd != -1)
		close(fd);
}

/*
 * Length of the valid UTF-8 sequence at s (1-4), or 0 if s does not start
 * one: overlong forms, surrogates and code points above U+10FFFF are
 * invalid, as RFC 3629 says.
 */
static size_t
utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n, i;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)	/* also stops at the NUL */
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

void
client_json_string(FILE *fp, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n;

	fputc('"', fp);
	while (*s != '\0') {
		switch (*s) {
		case '"':	fputs("\\\"", fp); s++; continue;
		case '\\':	fputs("\\\\", fp); s++; continue;
		case '\b':	fputs("\\b", fp); s++; continue;
		case '\f':	fputs("\\f", fp); s++; continue;
		case '\n':	fputs("\\n", fp); s++; continue;
		case '\r':	fputs("\\r", fp); s++; continue;
		case '\t':	fputs("\\t", fp); s++; continue;
		}
		if (*s < 0x20 || *s == 0x7f) {
			fprintf(fp, "\\u%04x", *s);
			s++;
		} else if ((n = utf8_len(s)) == 0) {
			fputs("\\ufffd", fp);
			s++;
		} else {
			fwrite(s, 1, n, fp);
			s += n;
		}
	}
	fputc('"', fp);
}

void
client_put_display(FILE *fp, const char *str)
{
	const unsigned char *s;

	for (s = (const unsigned char *)str; *s != '\0'; s++) {
		if (*s >= 0x20 && *s != 0x7f) {
			fputc(*s, fp);
			continue;
		}
		switch (*s) {
		case '\a':	fputs("\\a", fp); break;
		case '\b':	fputs("\\b", fp); break;
		case '\t':	fputs("\\t", fp); break;
		case '\n':	fputs("\\n", fp); break;
		case '\v':	fputs("\\v", fp); break;
		case '\f':	fputs("\\f", fp); break;
		case '\r':	fputs("\\r", fp); break;
		default:	fprintf(fp, "\\%03o", *s); break;
		}
	}
}

/* Linux's standard signals; aliases come after the canonical name. */
static const struct {
	const char	*name;
	int		 sig;
} client_sigs[] = {
	{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT },
	{ "ILL", SIGILL }, { "TRAP", SIGTRAP }, { "ABRT", SIGABRT },
	{ "IOT", SIGABRT }, { "BUS", SIGBUS }, { "FPE", SIGFPE },
	{ "KILL", SIGKILL }, { "USR1", SIGUSR1 }, { "SEGV", SIGSEGV },
	{ "USR2", SIGUSR2 }, { "PIPE", SIGPIPE }, { "ALRM", SIGALRM },
	{ "TERM", SIGTERM }, { "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD },
	{ "CLD", SIGCHLD }, { "CONT", SIGCONT }, { "STOP", SIGSTOP },
	{ "TSTP", SIGTSTP }, { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU },
	{ "URG", SIGURG }, { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ },
	{ "VTALRM", SIGVTALRM }, { "PROF", SIGPROF }, { "WINCH", SIGWINCH },
	{ "IO", SIGIO }, { "POLL", SIGIO }, { "PWR", SIGPWR },
	{ "SYS", SIGSYS },
};
#define CLIENT_NSIGS	(sizeof(client_sigs) / sizeof(client_sigs[0]))

int
client_sig_parse(const char *s)
{
	unsigned long v;
	size_t i;
	char *end;

	if (*s >= '0' && *s <= '9') {
		errno = 0;
		v = strtoul(s, &end, 10);
		if (*end != '\0' || errno != 0 || v > 64)
			return -1;
		return (int)v;
	}
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (i = 0; i < CLIENT_NSIGS; i++)
		if (strcasecmp(s, client_sigs[i].name) == 0)
			return client_sigs[i].sig;
	return -1;
}

const char *
client_sig_name(int sig)
{
	size_t i;

	for (i = 0; i < CLIENT_NSIGS; i++)
		if (client_sigs[i].sig == sig)
			return client_sigs[i].name;
	return NULL;
}

void
client_sig_list(FILE *fp)
{
	const char *name;
	int sig;

	for (sig = 1; sig < 32; sig++)
		if ((name = client_sig_name(sig)) != NULL)
			fprintf(fp, "%d %s\n", sig, name);
}

int
client_list_parse(const char *s, const char *const *names, size_t nnames,
    int *out, size_t max, const char **bad, size_t *badlen)
{
	const char *p, *e;
	size_t n = 0, len, i;

	for (p = s;; p = e + 1) {
		if ((e = strchr(p, ',')) == NULL)
			e = p + strlen(p);
		len = (size_t)(e - p);
		for (i = 0; i < nnames; i++)
			if (strlen(names[i]) == len &&
			    memcmp(names[i], p, len) == 0)
				break;
		if (len == 0 || i == nnames || n == max) {
			*bad = p;
			*badlen = len;
			return -1;
		}
		out[n++] = (int)i;
		if (*e == '\0')
			return (int)n;
	}
}

int
client_request(const char *prog, struct buf *req, uint8_t want,
    struct buf **reply)
{
	uint8_t type;
	int fd;

	*reply = NULL;
	if ((fd = client_connect(prog)) == -1) {
		buf_free(req);
		return -1;
	}
	if (client_call(fd, req, &type, reply) != 0) {
		buf_free(req);
		return -1;
	}
	buf_free(req);
	if (client_expect(type, *reply, want) != 0)
		return -1;
	client_close(fd);
	return 0;
}
