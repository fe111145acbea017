/*
 * sshell-job.c: jobs, and the one event loop that serves them.
 *
 * A job is one MSG_SPAWN with SPAWN_WAIT|SPAWN_IO on its own connection
 * to the home noded (the local one), kept open until MSG_EXITED: noded
 * relays the job's output as MSG_DATA frames (stream 1 stdout, 2 stderr;
 * with a pty everything is stream 1), reports MSG_STOPPED and
 * MSG_CONTINUED, and takes our stdin as MSG_DATA stream 0, MSG_EOF and
 * terminal sizes as MSG_WINCH.  Signals that are not keys on a terminal
 * (kill, fg, bg, a SIGINT to a sshell without pty) go as MSG_SIGNAL on a
 * second, short connection.
 *
 * sh_poll() is the loop: it waits on a self-pipe for signals, on stdin
 * (for readline at the prompt, or for the foreground job), and on every
 * live job's connection, so a background job's output and end are seen at
 * the prompt and while another job runs in the foreground.
 *
 * Job states: RUNNING -> STOPPED (MSG_STOPPED) -> RUNNING (MSG_CONTINUED,
 * or our SIGCONT) -> DONE (MSG_EXITED, or the connection lost).  A job is
 * freed once DONE and reported (job_notify) or waited for (fg, wait).
 *
 * Two twists on output: an assignment's evaluation job has its stdout
 * captured (j->capture) instead of printed, and a script's sh job is
 * "probed": the last bytes of its stderr are held back until it ends,
 * because they may be JOB_MARK, which says the line ran to its end and
 * is stripped (see run_shell() in sshell.c).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <readline/readline.h>

#include "buf.h"
#include "client.h"
#include "err.h"
#include "gpid.h"
#include "proto.h"
#include "sshell.h"
#include "xmalloc.h"

extern char **environ;

static int	sigpipe_fds[2] = { -1, -1 };
static int	last_out = '\n';	/* the last byte written to stdout */
static volatile sig_atomic_t pending[65];

static void	job_free(struct job *);
static int	job_frame(struct job *, uint8_t, struct buf *);
static void	job_lost(struct job *);
static int	job_input(struct job *, int);
static void	job_stderr_probe(struct job *, const uint8_t *, size_t);
static int	sh_write(int, const void *, size_t);
static void	sh_signals_take(int, struct job *);
static int	job_send_stdin(struct job *);
static int	job_send_eof(struct job *);
static void	job_send_winch(struct job *);

static void
sig_handler(int sig)
{
	int saved = errno;
	char c = (char)sig;

	if (sig > 0 && sig < 65)
		pending[sig] = 1;
	(void)write(sigpipe_fds[1], &c, 1);
	errno = saved;
}

void
sh_signals_init(void)
{
	struct sigaction sa;
	static const int caught[] = {
		SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGWINCH,
	};
	size_t i;

	if (pipe2(sigpipe_fds, O_CLOEXEC | O_NONBLOCK) == -1) {
		fprintf(stderr, "sshell: pipe: %s\n", strerror(errno));
		exit(1);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sig_handler;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(caught) / sizeof(caught[0]); i++)
		if (sigaction(caught[i], &sa, NULL) == -1) {
			fprintf(stderr, "sshell: sigaction: %s\n",
			    strerror(errno));
			exit(1);
		}
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) == -1)
		exit(1);
	if (sh.interactive) {
		/* As bash: an interactive shell is not stopped by keys. */
		(void)sigaction(SIGTSTP, &sa, NULL);
		(void)sigaction(SIGTTIN, &sa, NULL);
		(void)sigaction(SIGTTOU, &sa, NULL);
	}
}

/* Variables for word_expand: the prelude's, then the environment's. */
const char *
sh_lookup(const char *name, void *arg)
{
	const char *v;

	(void)arg;
	if ((v = prelude_get_var(sh.prelude, name)) != NULL)
		return v;
	return getenv(name);
}

int
sh_is_function(const char *name, void *arg)
{
	(void)arg;
	return prelude_has_func(sh.prelude, name);
}

/*
 * Writes all of data to fd (stdout or stderr), above the prompt if any.
 * Returns 0, or -1 with errno (EPIPE: the reader is gone).
 */
static int
sh_write(int fd, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;
	int r = 0;

	ui_suspend();
	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = -1;
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	ui_resume();
	return r;
}

static int
job_next_id(void)
{
	struct job *j;
	int id = 0;

	TAILQ_FOREACH(j, &sh.jobs, entry)
		if (j->id > id)
			id = j->id;
	return id + 1;
}

static void
job_free(struct job *j)
{
	struct job *k;

	TAILQ_REMOVE(&sh.jobs, j, entry);
	if (sh.current == j) {
		/* %+ becomes the last stopped job, else the last job. */
		sh.current = TAILQ_LAST(&sh.jobs, jobs);
		TAILQ_FOREACH(k, &sh.jobs, entry)
			if (k->state == JOB_STOPPED)
				sh.current = k;
	}
	conn_close(&j->conn);
	free(j->node);
	free(j->cmd);
	free(j);
}

int
job_count(enum job_state state)
{
	struct job *j;
	int n = 0;

	TAILQ_FOREACH(j, &sh.jobs, entry)
		if (j->state == state)
			n++;
	return n;
}

/* The job's end without MSG_EXITED: noded closed or broke the stream. */
static void
job_lost(struct job *j)
{
	if (j->state == JOB_DONE)
		return;
	j->state = JOB_DONE;
	j->status = 255;
	conn_close(&j->conn);
	ui_suspend();
	fprintf(stderr, "sshell: job %" PRIu64 ": lost the connection to "
	    "noded\n", j->gpid);
	ui_resume();
}

/*
 * stderr of a probed job: everything but its last bytes is written at
 * once; the last sizeof(JOB_MARK) - 1 are held back, since they may be
 * the mark, which is stripped when the job ends.
 */
static void
job_stderr_probe(struct job *j, const uint8_t *data, size_t len)
{
	const size_t keep = sizeof(JOB_MARK) - 1;
	size_t out;

	if (j->ntail + len <= keep) {
		memcpy(j->tail + j->ntail, data, len);
		j->ntail += len;
		return;
	}
	/* Flush what can no longer be part of the mark. */
	out = j->ntail + len - keep;
	if (out <= j->ntail) {
		(void)sh_write(2, j->tail, out);
		memmove(j->tail, j->tail + out, j->ntail - out);
		j->ntail -= out;
		memcpy(j->tail + j->ntail, data, len);
		j->ntail += len;
		return;
	}
	(void)sh_write(2, j->tail, j->ntail);
	out -= j->ntail;
	(void)sh_write(2, data, out);
	memcpy(j->tail, data + out, keep);
	j->ntail = keep;
}

/* Handles one frame from noded about job j.  0, or -1 if it was bad. */
static int
job_frame(struct job *j, uint8_t type, struct buf *p)
{
	const uint8_t *data;
	size_t len;
	uint64_t gpid;
	uint32_t status, sig;
	uint8_t stream;
	char *msg;
	int code;

	switch (type) {
	case MSG_DATA:
		if (buf_get_u8(p, &stream) != 0 ||
		    buf_get_string_direct(p, &data, &len) != 0)
			return -1;
		if (stream == 1 && j->capture != NULL) {
			if (buf_put(j->capture, data, len) != 0)
				return -1;
		} else if (stream == 2 && j->probe) {
			job_stderr_probe(j, data, len);
		} else if (stream == 1 || stream == 2) {
			if (sh_write(stream, data, len) == -1 &&
			    errno == EPIPE && !j->piped) {
				/*
				 * Our reader is gone (sshell -c yes | head -1):
				 * the job gets the SIGPIPE it would get if it
				 * wrote into that pipe itself, where it runs.
				 */
				j->piped = 1;
				(void)conn_signal(j->gpid, SIGPIPE);
			}
			if (stream == 1 && len > 0)
				last_out = data[len - 1];
		}
		return 0;
	case MSG_STOPPED:
		if (buf_get_u32(p, &sig) != 0)
			return -1;
		j->state = JOB_STOPPED;
		sh.current = j;
		return 0;
	case MSG_CONTINUED:
		if (j->state == JOB_STOPPED)
			j->state = JOB_RUNNING;
		return 0;
	case MSG_EXITED:
		if (buf_get_u64(p, &gpid) != 0 ||
		    buf_get_u32(p, &status) != 0 ||
		    buf_get_u32(p, &sig) != 0)
			return -1;
		j->state = JOB_DONE;
		j->status = (int)(status & 0xff);
		if (j->probe) {
			if (j->ntail == sizeof(JOB_MARK) - 1 &&
			    memcmp(j->tail, JOB_MARK, j->ntail) == 0)
				j->marked = 1;
			else if (j->ntail > 0)
				(void)sh_write(2, j->tail, j->ntail);
			j->ntail = 0;
		}
		conn_close(&j->conn);
		return 0;
	case MSG_ERROR:
		if (proto_get_error(p, &code, &msg) == 0) {
			ui_suspend();
			fprintf(stderr, "sshell: ");
			client_put_display(stderr, msg);
			fputc('\n', stderr);
			ui_resume();
		}
		free(msg);
		j->state = JOB_DONE;
		j->status = 1;
		conn_close(&j->conn);
		return 0;
	default:
		return -1;
	}
}

/* Reads what is there on j's connection and handles the whole frames. */
static int
job_input(struct job *j, int fill)
{
	struct buf *p;
	uint8_t type;
	int r, eof = 0, handled = 0;

	if (fill)
		eof = conn_fill(&j->conn) != 0;
	while (j->conn.fd != -1) {
		if ((r = conn_take(&j->conn, &type, &p)) == 1)
			break;
		handled++;
		if (r != 0 || job_frame(j, type, p) != 0) {
			buf_free(p);
			job_lost(j);
			return handled;
		}
		buf_free(p);
	}
	if (eof && j->conn.fd != -1)
		job_lost(j);
	return handled;
}

/* Ends the job's stdin. */
static int
job_send_eof(struct job *j)
{
	struct buf *m;

	if (j->eof_sent || j->conn.fd == -1)
		return 0;
	j->eof_sent = 1;
	if ((m = proto_msg_new(MSG_EOF)) == NULL || buf_put_u8(m, 0) != 0) {
		buf_free(m);
		return -1;
	}
	return conn_send(&j->conn, m);
}

/* Sends what stdin has to the foreground job; EOF as MSG_EOF. */
static int
job_send_stdin(struct job *j)
{
	char data[PROTO_MAX_DATA];
	struct buf *m;
	ssize_t n;

	do
		n = read(STDIN_FILENO, data, sizeof(data));
	while (n == -1 && errno == EINTR);
	if (n == -1 && errno == EAGAIN)
		return 0;
	if (n <= 0) {
		sh.stdin_eof = 1;
		return j->pty ? 0 : job_send_eof(j);
	}
	if ((m = proto_msg_new(MSG_DATA)) == NULL || buf_put_u8(m, 0) != 0 ||
	    buf_put_string(m, data, (size_t)n) != 0) {
		buf_free(m);
		return -1;
	}
	return conn_send(&j->conn, m);
}

static void
job_send_winch(struct job *j)
{
	uint32_t rows, cols;
	struct buf *m;

	if (!j->pty || j->conn.fd == -1 || term_size(&rows, &cols) != 0)
		return;
	if ((m = proto_msg_new(MSG_WINCH)) == NULL ||
	    buf_put_u32(m, rows) != 0 || buf_put_u32(m, cols) != 0) {
		buf_free(m);
		return;
	}
	(void)conn_send(&j->conn, m);
}

/* Acts on the signals the handler noted. */
static void
sh_signals_take(int mode, struct job *fg)
{
	static const int fwd[] = { SIGINT, SIGQUIT, SIGTERM, SIGHUP };
	char drain[64];
	size_t i;

	while (read(sigpipe_fds[0], drain, sizeof(drain)) > 0)
		;
	if (pending[SIGWINCH]) {
		pending[SIGWINCH] = 0;
		if (fg != NULL)
			job_send_winch(fg);
		else if (mode == POLL_PROMPT)
			rl_resize_terminal();
	}
	for (i = 0; i < sizeof(fwd) / sizeof(fwd[0]); i++) {
		int sig = fwd[i];

		if (!pending[sig])
			continue;
		pending[sig] = 0;
		if (fg != NULL && fg->state != JOB_DONE) {
			/* Without a pty, a key's signal reaches us, not the
			 * job: pass it on, wherever the job runs. */
			(void)conn_signal(fg->gpid, sig);
			if (!sh.interactive || sig == SIGHUP)
				sh.killed = sig;
		} else if (mode == POLL_PROMPT && sig == SIGINT) {
			ui_interrupt();
		} else if (sig == SIGINT && sh.interactive) {
			/* Ctrl-C during the wait builtin ends the wait. */
			sh.interrupted = 1;
		} else if (!sh.interactive || sig == SIGHUP) {
			/* Between jobs: the default action, as sh's. */
			term_cooked();
			signal(sig, SIG_DFL);
			raise(sig);
		}
	}
}

int
sh_poll(int mode, struct job *fg, int timeout_ms)
{
	struct pollfd *pfd;
	struct job **who, *j;
	nfds_t n = 0, k, max;
	int r, stdin_at = -1;

	/* Frames already read (with a reply) are handled first. */
	max = 2;
	TAILQ_FOREACH(j, &sh.jobs, entry) {
		if (j->conn.fd != -1 && buf_len(j->conn.in) > 0 &&
		    job_input(j, 0) > 0)
			timeout_ms = 0;
		max++;
	}
	pfd = xcalloc(max, sizeof(*pfd));
	who = xcalloc(max, sizeof(*who));
	pfd[n].fd = sigpipe_fds[0];
	pfd[n++].events = POLLIN;
	if (mode == POLL_PROMPT || (mode == POLL_FG && fg != NULL &&
	    !sh.stdin_eof && !sh.script_stdin && fg->state == JOB_RUNNING)) {
		stdin_at = (int)n;
		pfd[n].fd = STDIN_FILENO;
		pfd[n++].events = POLLIN;
	}
	TAILQ_FOREACH(j, &sh.jobs, entry) {
		if (j->conn.fd == -1)
			continue;
		who[n] = j;
		pfd[n].fd = j->conn.fd;
		pfd[n++].events = POLLIN;
	}
	r = poll(pfd, n, timeout_ms);
	if (r == -1 && errno != EINTR) {
		fprintf(stderr, "sshell: poll: %s\n", strerror(errno));
		exit(1);
	}
	if (r > 0) {
		for (k = 1; k < n; k++) {
			if (pfd[k].revents == 0 || who[k] == NULL)
				continue;
			job_input(who[k], 1);
		}
		if (stdin_at != -1 && pfd[stdin_at].revents != 0) {
			if (mode == POLL_PROMPT)
				ui_read_input();
			else if (fg->conn.fd != -1 && job_send_stdin(fg) != 0)
				job_lost(fg);
		}
	}
	sh_signals_take(mode, fg);
	/* At the prompt, a background job's end is told at once. */
	if (mode == POLL_PROMPT)
		job_notify();
	free(pfd);
	free(who);
	return r;
}

void
job_print(struct job *j, FILE *fp, int verbose)
{
	char state[32];

	if (j->state == JOB_RUNNING)
		snprintf(state, sizeof(state), "Running");
	else if (j->state == JOB_STOPPED)
		snprintf(state, sizeof(state), "Stopped");
	else if (j->status == 0)
		snprintf(state, sizeof(state), "Done");
	else if (j->status > 128 && j->status < 128 + 65 &&
	    client_sig_name(j->status - 128) != NULL)
		snprintf(state, sizeof(state), "Killed (SIG%s)",
		    client_sig_name(j->status - 128));
	else
		snprintf(state, sizeof(state), "Exit %d", j->status);
	fprintf(fp, "[%d]%c  %-16s", j->id, j == sh.current ? '+' : ' ',
	    state);
	if (verbose)
		fprintf(fp, "  %-8" PRIu64 "  %-8s", j->gpid,
		    j->node != NULL ? j->node : "?");
	fprintf(fp, "  ");
	client_put_display(fp, j->cmd);
	fprintf(fp, "%s\n", j->bg && j->state == JOB_RUNNING ? " &" : "");
}

void
job_notify(void)
{
	struct job *j, *next;

	for (j = TAILQ_FIRST(&sh.jobs); j != NULL; j = next) {
		next = TAILQ_NEXT(j, entry);
		if (j->state != JOB_DONE || !j->bg)
			continue;
		if (sh.interactive) {
			ui_suspend();
			job_print(j, stderr, 0);
			ui_resume();
		}
		job_free(j);
	}
}

struct job *
job_find(const char *spec)
{
	struct job *j;
	uint64_t gpid;
	char *end;
	long id;

	if (spec == NULL || strcmp(spec, "%+") == 0 ||
	    strcmp(spec, "%%") == 0 || strcmp(spec, "%") == 0)
		return sh.current != NULL ? sh.current :
		    TAILQ_LAST(&sh.jobs, jobs);
	if (strcmp(spec, "%-") == 0) {
		TAILQ_FOREACH_REVERSE(j, &sh.jobs, jobs, entry)
			if (j != sh.current)
				return j;
		return NULL;
	}
	if (spec[0] == '%') {
		errno = 0;
		id = strtol(spec + 1, &end, 10);
		if (errno != 0 || *end != '\0' || end == spec + 1)
			return NULL;
		TAILQ_FOREACH(j, &sh.jobs, entry)
			if (j->id == id)
				return j;
		return NULL;
	}
	if (gpid_parse(spec, &gpid) != 0)
		return NULL;
	TAILQ_FOREACH(j, &sh.jobs, entry)
		if (j->gpid == gpid)
			return j;
	return NULL;
}

/*
 * Runs j in the foreground until it ends or stops.  Returns $?: its
 * status, or 128+SIGTSTP when it stopped (as bash).
 */
int
job_foreground(struct job *j)
{
	int status;

	j->bg = 0;
	if (j->pty) {
		term_raw();
		job_send_winch(j);
	} else if ((sh.stdin_eof || sh.script_stdin) && !j->eof_sent &&
	    j->conn.fd != -1) {
		/* Nothing to give it: its stdin ends at once. */
		job_send_eof(j);
	}
	/* A script waits through a stop, as sh does (no job control). */
	while (j->state == JOB_RUNNING ||
	    (!sh.interactive && j->state == JOB_STOPPED))
		(void)sh_poll(POLL_FG, j, -1);
	if (j->pty)
		term_cooked();
	/* As bash: a job killed by a key leaves the next prompt on a line
	 * of its own (the remote tty echoed ^C with no newline). */
	if (j->pty && j->state == JOB_DONE && j->status > 128 &&
	    last_out != '\n') {
		fputc('\n', stdout);
		fflush(stdout);
		last_out = '\n';
	}
	/* A script at a terminal ends on Ctrl-C, as sh's does: the key
	 * went to the job's pty, but it was meant for us too. */
	if (!sh.interactive && j->pty && j->state == JOB_DONE &&
	    j->status == 128 + SIGINT)
		sh.killed = SIGINT;
	if (j->state == JOB_STOPPED) {
		j->bg = 1;
		sh.current = j;
		fputc('\n', stderr);
		job_print(j, stderr, 0);
		return 128 + SIGTSTP;
	}
	status = j->status;
	sh.early = j->probe && !j->marked;
	job_free(j);
	return status;
}

/* Waits for j to end without giving it stdin (the wait builtin). */
int
job_wait(struct job *j)
{
	int status;

	sh.interrupted = 0;
	while (j->state == JOB_RUNNING && !sh.interrupted)
		(void)sh_poll(POLL_NONE, NULL, -1);
	if (sh.interrupted)
		return 128 + SIGINT;
	if (j->state == JOB_STOPPED)
		return 128 + SIGTSTP;
	status = j->status;
	job_free(j);
	return status;
}

int
job_spawn(char **argv, const char *cmd, const char *node, int bg,
    struct buf *capture, int probe)
{
	char cwd[PATH_MAX];
	struct spawn_req q;
	struct job *j;
	struct buf *m, *p = NULL;
	uint8_t type;
	uint32_t pid, flags;
	const char *term;
	mode_t um;
	size_t n;

	memset(&q, 0, sizeof(q));
	if (getcwd(cwd, sizeof(cwd)) == NULL) {
		fprintf(stderr, "sshell: cannot tell the current directory: "
		    "%s\n", strerror(errno));
		return 1;
	}
	um = umask(022);
	umask(um);
	q.flags = SPAWN_WAIT | SPAWN_IO;
	q.node = (char *)(node != NULL ? node : "");
	if (node != NULL)
		q.flags |= SPAWN_PINNED;
	q.name = "";
	q.log = "";
	q.cwd = cwd;
	q.umask = um;
	for (n = 0; argv[n] != NULL; n++)
		;
	q.argc = (uint32_t)n;
	q.argv = argv;
	for (n = 0; environ[n] != NULL; n++)
		;
	q.envc = (uint32_t)n;
	q.env = environ;
	q.cmd = (char *)cmd;
	q.term = "";
	if (sh.tty && capture == NULL) {
		q.flags |= SPAWN_PTY;
		if ((term = getenv("TERM")) == NULL || *term == '\0')
			term = "dumb";
		q.term = (char *)term;
		if (term_size(&q.rows, &q.cols) != 0) {
			q.rows = 24;
			q.cols = 80;
		}
	}

	j = xcalloc(1, sizeof(*j));
	j->conn.fd = -1;
	j->cmd = xstrdup(cmd);
	j->pty = (q.flags & SPAWN_PTY) != 0;
	j->bg = bg;
	j->capture = capture;
	j->probe = probe && !j->pty;
	if (conn_open(&j->conn) != 0)
		goto fail;
	if ((m = proto_msg_new(MSG_SPAWN)) == NULL ||
	    spawn_req_put(m, &q) != 0) {
		buf_free(m);
		fprintf(stderr, "sshell: the command is too long\n");
		goto fail;
	}
	if (conn_send(&j->conn, m) != 0) {
		fprintf(stderr, "sshell: sending to noded: %s\n",
		    strerror(errno));
		goto fail;
	}
	if (conn_read(&j->conn, &type, &p) != 0)
		goto fail;
	if (client_expect(type, p, MSG_SPAWNED) != 0)
		goto fail;
	j->node = NULL;
	if (buf_get_u64(p, &j->gpid) != 0 ||
	    buf_get_cstring(p, PROTO_MAX_NAME, &j->node) != 0 ||
	    buf_get_u32(p, &pid) != 0 || buf_get_u32(p, &flags) != 0) {
		client_bad_reply("spawn reply", SS_ERR_BAD);
		goto fail;
	}
	buf_free(p);
	p = NULL;
	j->id = job_next_id();
	j->state = JOB_RUNNING;
	TAILQ_INSERT_TAIL(&sh.jobs, j, entry);
	if (!bg)
		return job_foreground(j);
	sh.current = j;
	if (!j->pty) {
		/* A background job never reads our stdin. */
		job_send_eof(j);
	}
	if (sh.interactive)
		fprintf(stderr, "[%d] %" PRIu64 " %s\n", j->id, j->gpid,
		    j->node);
	return 0;
fail:
	buf_free(p);
	conn_close(&j->conn);
	free(j->node);
	free(j->cmd);
	free(j);
	return 1;
}

/* The path of a tool: beside our own binary, else found on PATH. */
static int
tool_path(const char *tool, char *buf, size_t len)
{
	int w;

	if (sh.self != NULL) {
		w = snprintf(buf, len, "%s/%s", sh.self, tool);
		if (w > 0 && (size_t)w < len && access(buf, X_OK) == 0)
			return 0;
	}
	w = snprintf(buf, len, "%s", tool);
	return w > 0 && (size_t)w < len ? 1 : -1;
}

/*
 * Forks and execs tool (beside us, else on PATH) with args (the child sets
 * its args[0]), stdout on out_fd unless it is -1, and the signals we catch
 * back to their defaults.  The child's pid, or -1 if fork failed.
 */
pid_t
sh_spawn_tool(const char *tool, char **args, int out_fd)
{
	char path[PATH_MAX];
	int viapath;
	pid_t pid;

	if ((viapath = tool_path(tool, path, sizeof(path))) < 0) {
		fprintf(stderr, "sshell: %s: path too long\n", tool);
		return -1;
	}
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1) {
		fprintf(stderr, "sshell: fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid != 0)
		return pid;
	args[0] = (char *)tool;	/* the caller's args[0] stays its own */
	signal(SIGINT, SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGTSTP, SIG_DFL);
	signal(SIGTTIN, SIG_DFL);
	signal(SIGTTOU, SIG_DFL);
	if (out_fd != -1 && dup2(out_fd, STDOUT_FILENO) == -1) {
		fprintf(stderr, "sshell: dup2: %s\n", strerror(errno));
		_exit(126);
	}
	if (viapath)
		execvp(tool, args);
	else
		execv(path, args);
	fprintf(stderr, "sshell: %s: %s\n", tool, strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

int
sh_run_tool(const char *tool, int argc, char **argv)
{
	char **args;
	int status, i;
	pid_t pid;

	args = xcalloc((size_t)argc + 1, sizeof(*args));
	for (i = 1; i < argc; i++)
		args[i] = argv[i];
	pid = sh_spawn_tool(tool, args, -1);
	free(args);
	if (pid == -1)
		return 1;
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return 1;
	/* Signals that came meanwhile were for the tool: forget them. */
	pending[SIGINT] = pending[SIGQUIT] = 0;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int
sh_job_args(const char *prog, int argc, char **argv, char ***outp)
{
	char **out, num[GPID_STRLEN];
	struct job *j;
	int i;

	out = xcalloc((size_t)argc + 1, sizeof(*out));
	for (i = 0; i < argc; i++) {
		if (i > 0 && argv[i][0] == '%') {
			if ((j = job_find(argv[i])) == NULL) {
				fprintf(stderr, "sshell: %s: %s: no such job\n",
				    prog, argv[i]);
				while (--i >= 0)
					free(out[i]);
				free(out);
				return -1;
			}
			snprintf(num, sizeof(num), "%" PRIu64, j->gpid);
			out[i] = xstrdup(num);
		} else
			out[i] = xstrdup(argv[i]);
	}
	*outp = out;
	return 0;
}
