/*
 * mover.c: sshell-mover, the process that moves one running job to another
 * node (DESIGN.md "Migration while running").
 *
 * The source noded starts it with fd 3 = its end of a socketpair (the
 * control connection), 0-2 = /dev/null (or noded's log with -d), and
 * writes one MSG_MOVE_SPEC on fd 3.  The mover then, in order:
 *
 *   check	ckpt_check(): a job that cannot move is refused here, before
 *		it is ever frozen (MSG_ERROR to noded, exit 1)
 *   connect	its own SSH session to the target, as this node, with this
 *		node's host key (hello flag HELLO_MOVER)
 *   RESTORE	peer call: the target starts a restore shepherd for the job
 *   pre-copy	a "restore GPID" channel; while the job runs, its memory
 *		goes into it (ckpt_precopy_round), then in further rounds
 *		what it wrote meanwhile, until a round is small or stops
 *		shrinking (PC_ROUNDS at most); the target keeps the pages
 *   stream	then ckpt_dump() freezes the job and writes the image into
 *		the same channel (its output function), with only the pages
 *		written since the last round, while the target restores it
 *		as it arrives
 *   decide	(the engine's decide callback, the tree still frozen) the
 *		target's verdict arrives on the channel: MSG_OK once the tree
 *		is restored, stopped.  Bytes the job had not read from its
 *		stdin pipe are taken out.  MSG_MOVE_READY to noded, which
 *		records "killed" in its migrations row and answers
 *		MSG_MOVE_KILL with the input it held; the engine SIGKILLs
 *		the original
 *   input	the input bytes (the pipe's, noded's, the terminal's) to
 *		noded, MSG_MOVE_INPUT: its record keeps them for a target
 *		that loses the COMMIT
 *   COMMIT	peer call with the input bytes; the target lets the job run
 *		and answers MSG_RESTORED; MSG_MOVE_DONE to noded, exit 0
 *
 * Before MSG_MOVE_KILL, any failure lets the original run on (the input
 * taken out is put back), aborts the target's copy (MSG_ABORT, or just
 * the session's end before the target said ready), and tells noded why
 * with MSG_ERROR.  If noded vanishes while the mover waits for its word,
 * the mover cannot know whether "killed" was recorded: it leaves the tree
 * group-stopped and exits; the target keeps its stopped copy and asks the
 * source's noded (MSG_MIGRATE_QUERY) until it answers, and the restarted
 * noded settles the original by the same record (smigrate(1), FAULTS).
 *
 * Test points, for the fault tests: with SSHELL_TEST_MOVER_DIR=DIR in
 * noded's environment, a file DIR/cut holding N cuts the SSH connection
 * after N image bytes (+N: N bytes after the freeze, past the pre-copy),
 * and while DIR/hold exists the mover, once the
 * target said ready, creates DIR/held and waits for hold to go before it
 * tells noded; the same with DIR/slowhold and DIR/slowed once it has
 * begun to slow a job down.  Each "held" file holds the mover's pid.
 * Without the variable, nothing of this exists.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <libssh/libssh.h>

#include "buf.h"
#include "err.h"
#include "log.h"
#include "proto.h"
#include "sshc.h"
#include "ckpt/ckpt.h"

#define CTL_FD		3
#define SSH_TIMEOUT	10		/* s, connect and calls */
#define VERDICT_MS	120000		/* the target's restore, at most */
#define STDIN_MAX	(16u * 1024 * 1024)
#define PC_ROUNDS	5		/* pre-copy rounds at most */
#define PC_ENOUGH	(2u << 20)	/* a round this small ends them */
#define PC_SLOW_ROUNDS	5		/* more of them in all, once slowed */
#define PC_SLOW_MS	10000		/* slowed down this long at most */
#define INPUT_MS	5000		/* noded's answer to MOVE_INPUT */
#define PC_LEVELS	2		/* of slowing down: */
static const unsigned pc_run_ms[PC_LEVELS] = { 10, 5 };	/* runs, */
static const unsigned pc_stop_ms[PC_LEVELS] = { 40, 95 };	/* stopped */

struct mover {
	struct move_spec spec;
	struct buf	*ctl_in;	/* from noded */
	ssh_session	 s;
	ssh_channel	 ctl;		/* peer calls to the target */
	ssh_channel	 rch;		/* the image, and the verdict back */
	struct buf	*tin;		/* bytes from the target's ctl */
	uint32_t	 reqid;
	int		 out_err;	/* the image did not get through */
	uint64_t	 sent;		/* image bytes into the channel */
	uint64_t	 cut_at;	/* test point, 0 = never */
	int		 cut_frozen;	/* cut_at counts from the freeze */
	struct buf	*stdin_taken;	/* the job's unread input */
	int		 ready;		/* the target said ready */
	int		 decided;	/* 1 kill, 0 run on, 2 left stopped */
	int		 noded_gone;
	uint64_t	 t_freeze, t_start;
	uint64_t	 t_slowed, slowed_us;	/* auto-converge: since, for */
	char		 why[600];	/* the failure, for noded */
};

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void
fail(struct mover *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
fail(struct mover *m, const char *fmt, ...)
{
	va_list ap;

	if (m->why[0] != '\0')
		return;		/* the first reason is the real one */
	va_start(ap, fmt);
	vsnprintf(m->why, sizeof(m->why), fmt, ap);
	va_end(ap);
}

/* Sends a finished frame to noded; frees it. */
static int
to_noded(struct buf *f)
{
	int r;

	if (f == NULL)
		return SS_ERR_ALLOC;
	r = proto_msg_finish(f) == 0 ? proto_write_all(CTL_FD, f) :
	    SS_ERR_ALLOC;
	buf_free(f);
	return r;
}

/* Reads one frame from noded; SS_ERR_SHORT when noded is gone. */
static int
from_noded(struct mover *m, uint8_t *type, struct buf **payload)
{
	return proto_read_frame(CTL_FD, m->ctl_in, type, payload);
}

/* Writes all of a buffer to a blocking channel. */
static int
chan_write_all(ssh_channel ch, const void *p, size_t len)
{
	const uint8_t *d = p;
	int n;

	while (len > 0) {
		n = ssh_channel_write(ch, d, (uint32_t)len);
		if (n <= 0)
			return SS_ERR_DOWN;
		d += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads one whole frame from channel ch (stdout) into type and payload. */
static int
chan_read_frame(ssh_channel ch, struct buf *in, int timeout_ms,
    uint8_t *type, struct buf **payload)
{
	char tmp[16384];
	int r, n;

	for (;;) {
		r = proto_frame_take(in, type, payload);
		if (r != SS_ERR_SHORT)
			return r;
		n = ssh_channel_read_timeout(ch, tmp, sizeof(tmp), 0,
		    timeout_ms);
		if (n <= 0)
			return SS_ERR_DOWN;
		if ((r = buf_put(in, tmp, (size_t)n)) != 0)
			return r;
	}
}

/* A peer call to the target; rtype and rp get the inner reply. */
static int
call(struct mover *m, struct buf *inner, uint8_t *rtype, struct buf **rp)
{
	struct buf *f, *payload = NULL, *frame = NULL;
	uint32_t id, want = ++m->reqid;
	uint8_t type;
	int r;

	if (inner == NULL || proto_msg_finish(inner) != 0) {
		buf_free(inner);
		return SS_ERR_ALLOC;
	}
	if ((f = proto_msg_new(MSG_PEER_CALL)) == NULL ||
	    buf_put_u32(f, want) != 0 ||
	    buf_put_u32(f, m->spec.req.uid) != 0 ||
	    buf_put_u32(f, m->spec.req.gid) != 0 ||
	    buf_put_cstring(f, m->spec.req.user) != 0 ||
	    buf_put_string(f, buf_ptr(inner), buf_len(inner)) != 0 ||
	    proto_msg_finish(f) != 0) {
		buf_free(f);
		buf_free(inner);
		return SS_ERR_ALLOC;
	}
	buf_free(inner);
	r = chan_write_all(m->ctl, buf_ptr(f), buf_len(f));
	buf_free(f);
	while (r == 0) {
		if ((r = chan_read_frame(m->ctl, m->tin, SSH_TIMEOUT * 1000,
		    &type, &payload)) != 0)
			break;
		if (type != MSG_PEER_REPLY || buf_get_u32(payload, &id) != 0 ||
		    buf_get_stringb(payload, &frame) != 0) {
			r = SS_ERR_PROTO;
			break;
		}
		if (id == want) {
			r = proto_frame_take(frame, rtype, rp);
			break;
		}
		buf_free(payload);
		buf_free(frame);
		payload = frame = NULL;
	}
	buf_free(payload);
	buf_free(frame);
	return r;
}

/* MSG_ERROR's message into m->why, prefixed. */
static void
fail_reply(struct mover *m, const char *what, uint8_t type, struct buf *p)
{
	char *msg = NULL;
	int code;

	if (type == MSG_ERROR && p != NULL &&
	    proto_get_error(p, &code, &msg) == 0) {
		fail(m, "%s: %s", what, msg);
		free(msg);
	} else
		fail(m, "%s: unexpected reply %s", what,
		    proto_msg_name(type));
}

static int
hello(struct mover *m)
{
	struct buf *f, *payload = NULL;
	uint8_t type;
	int r;

	if ((f = proto_msg_new(MSG_HELLO)) == NULL ||
	    buf_put_u32(f, PROTO_VERSION) != 0 ||
	    buf_put_cstring(f, m->spec.self) != 0 ||
	    buf_put_u32(f, m->spec.req.src) != 0 ||
	    buf_put_u32(f, HELLO_MOVER) != 0 || proto_msg_finish(f) != 0) {
		buf_free(f);
		return SS_ERR_ALLOC;
	}
	r = chan_write_all(m->ctl, buf_ptr(f), buf_len(f));
	buf_free(f);
	if (r == 0 && (r = chan_read_frame(m->ctl, m->tin, SSH_TIMEOUT * 1000,
	    &type, &payload)) == 0 && type != MSG_HELLO) {
		fail_reply(m, "hello", type, payload);
		r = SS_ERR_PROTO;
	}
	buf_free(payload);
	return r;
}

/*
 * The engine's output function: the image, piece by piece and in order,
 * straight into the restore channel (from the engine's writer thread; the
 * main thread touches the session only once the image is written).
 */
static int
image_out(void *arg, const void *p, size_t len)
{
	struct mover *m = arg;

	if (m->cut_at != 0 && m->sent + len >= m->cut_at) {
		/* Test point: the connection is cut mid-image. */
		len = m->cut_at > m->sent ? m->cut_at - m->sent : 0;
		if (len > 0 && chan_write_all(m->rch, p, len) == 0)
			m->sent += len;
		shutdown(ssh_get_fd(m->s), SHUT_RDWR);
		m->out_err = 1;
		return -1;
	}
	if (chan_write_all(m->rch, p, len) != 0) {
		m->out_err = 1;
		return -1;
	}
	m->sent += len;
	return 0;
}

/*
 * Input typed at the job's terminal that it has not read yet: taken from
 * its terminal's input queue once the original is to die (after
 * MOVE_KILL, so it never needs giving back), and sent in COMMIT like a
 * pipe's unread bytes.  In canonical mode a line being typed is not
 * readable; with ICANON off for the read, all of the queue is.  The
 * termios is put back (the terminal goes with the original anyway).
 */
static void
tty_take(struct mover *m)
{
	struct termios old, raw;
	uint8_t b[4096];
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/fd/0", m->spec.pid);
	if ((fd = open(path, O_RDWR | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) ==
	    -1)
		return;
	if (!isatty(fd) || tcgetattr(fd, &old) == -1) {
		close(fd);
		return;
	}
	raw = old;
	raw.c_lflag &= ~(tcflag_t)ICANON;
	raw.c_cc[VMIN] = 0;
	raw.c_cc[VTIME] = 0;
	if (tcsetattr(fd, TCSANOW, &raw) == 0) {
		while ((n = read(fd, b, sizeof(b))) > 0)
			if (buf_put(m->stdin_taken, b, (size_t)n) != 0) {
				log_warn("job %llu: typed input beyond %u "
				    "bytes is left behind", (unsigned long long)
				    m->spec.req.gpid, STDIN_MAX);
				break;
			}
		if (tcsetattr(fd, TCSANOW, &old) == -1)
			log_warn("job %llu: its old terminal's mode: %s",
			    (unsigned long long)m->spec.req.gpid,
			    strerror(errno));
	}
	close(fd);
}

/* The job's stdin, if it is a pipe: fd of /proc/PID/fd/0 opened so. */
static int
stdin_pipe(const struct mover *m, int flags)
{
	char path[64];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/fd/0", m->spec.pid);
	if (stat(path, &st) == -1 || !S_ISFIFO(st.st_mode))
		return -1;
	if ((fd = open(path, flags | O_NONBLOCK | O_CLOEXEC)) == -1)
		return -1;
	return fd;
}

/*
 * Takes the bytes the frozen job has not read from its stdin pipe.  Not
 * from a pipe without a writer (its input ended, noded and the shepherd
 * closed their ends before the move began: neither closes it while the
 * job moves): the image carried that pipe with its bytes and its EOF
 * (fd-pipe.c), and the copy reads them there.
 */
static void
stdin_take(struct mover *m)
{
	struct pollfd pfd = { .events = POLLIN };
	uint8_t b[65536];
	ssize_t n;
	int fd;

	if ((fd = stdin_pipe(m, O_RDONLY)) == -1)
		return;
	pfd.fd = fd;
	if (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLHUP)) {
		close(fd);
		return;
	}
	while ((n = read(fd, b, sizeof(b))) > 0)
		if (buf_put(m->stdin_taken, b, (size_t)n) != 0)
			break;
	close(fd);
}

/* Puts them back (the move failed; the original runs on). */
static void
stdin_give_back(struct mover *m)
{
	const uint8_t *p = buf_ptr(m->stdin_taken);
	size_t left = buf_len(m->stdin_taken);
	ssize_t n;
	int fd;

	if (left == 0 || (fd = stdin_pipe(m, O_WRONLY)) == -1)
		return;
	while (left > 0 && (n = write(fd, p, left)) > 0) {
		p += n;
		left -= (size_t)n;
	}
	if (left > 0)
		log_warn("job %llu: %zu bytes of input could not be given "
		    "back", (unsigned long long)m->spec.req.gpid, left);
	close(fd);
	buf_reset(m->stdin_taken);
}

/* DIR/name of the test points, or NULL. */
static const char *
test_point(const char *name)
{
	static char path[4096];
	const char *dir = getenv("SSHELL_TEST_MOVER_DIR");

	if (dir == NULL || *dir == '\0' || snprintf(path, sizeof(path),
	    "%s/%s", dir, name) >= (int)sizeof(path) || access(path, F_OK) != 0)
		return NULL;
	return path;
}

/*
 * Test point: while DIR/hold exists, say DIR/held (holding our pid) and
 * wait.
 */
static void
hold_point(const char *hold, const char *held)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	char path[4096], pid[32];
	int fd, n;

	if (test_point(hold) == NULL)
		return;
	snprintf(path, sizeof(path), "%s/%s", getenv("SSHELL_TEST_MOVER_DIR"),
	    held);
	n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) >= 0) {
		if (write(fd, pid, (size_t)n) != n)
			log_warn("%s: %s", path, strerror(errno));
		close(fd);
	}
	while (test_point(hold) != NULL)
		nanosleep(&ts, NULL);
}

/*
 * The engine's decide callback: the image is written, the tree frozen.
 * 1: kill it (the target takes over), 0: let it run on, 2: leave it
 * stopped (noded vanished, the record decides later).
 */
static int
decide(void *arg)
{
	struct mover *m = arg;
	struct buf *f, *payload = NULL, *vin = NULL;
	const uint8_t *d;
	size_t dlen;
	uint8_t type;
	int r;

	if (m->out_err || ssh_channel_send_eof(m->rch) != SSH_OK) {
		fail(m, "the connection to %s broke while sending the image",
		    m->spec.dst_name);
		return 0;
	}
	/* The target's verdict, once it has restored the whole image. */
	if ((vin = buf_new(65536)) == NULL) {
		fail(m, "out of memory");
		return 0;
	}
	r = chan_read_frame(m->rch, vin, VERDICT_MS, &type, &payload);
	buf_free(vin);
	if (r != 0) {
		fail(m, "%s did not answer after the image", m->spec.dst_name);
		buf_free(payload);
		return 0;
	}
	if (type != MSG_OK) {
		fail_reply(m, m->spec.dst_name, type, payload);
		buf_free(payload);
		return 0;
	}
	buf_free(payload);
	payload = NULL;
	m->ready = 1;
	stdin_take(m);
	hold_point("hold", "held");
	/* noded records "killed" before it says so. */
	if ((f = proto_msg_new(MSG_MOVE_READY)) == NULL ||
	    buf_put_u64(f, m->sent) != 0 || to_noded(f) != 0 ||
	    from_noded(m, &type, &payload) != 0) {
		m->noded_gone = 1;
		log_warn("job %llu: noded is gone: leaving the job stopped "
		    "for its record to decide", (unsigned long long)
		    m->spec.req.gpid);
		buf_free(payload);
		return 2;
	}
	if (type != MSG_MOVE_KILL ||
	    buf_get_string_direct(payload, &d, &dlen) != 0 ||
	    buf_put(m->stdin_taken, d, dlen) != 0) {
		fail_reply(m, "noded", type, payload);
		buf_free(payload);
		stdin_give_back(m);
		return 0;
	}
	buf_free(payload);
	m->decided = 1;
	tty_take(m);
	return 1;
}

/*
 * Auto-converge: the job's cgroup frozen most of the time, so that it
 * writes less while the pre-copy chases it; *levelp one step further
 * (20% of the time running, then 5%), for PC_SLOW_MS at most in all (the
 * throttle lets go by itself then, should a round hang).  Nonzero if it
 * cannot be done.
 */
static int
throttle_more(struct mover *m, const char *freezer,
    struct ckpt_throttle **thrp, int *levelp)
{
	struct ckpt_err ce;
	int lv = *levelp;
	uint64_t spent = lv > 0 ? (now_us() - m->t_slowed) / 1000 : 0;

	ckpt_throttle_stop(*thrp);
	*thrp = NULL;
	if (spent >= PC_SLOW_MS)
		return -1;	/* slowed down long enough */
	if (ckpt_throttle_start(freezer, pc_run_ms[lv], pc_stop_ms[lv],
	    (unsigned)(PC_SLOW_MS - spent), thrp, &ce) != 0) {
		log_warn("job %llu: cannot slow it down: %s",
		    (unsigned long long)m->spec.req.gpid, ce.msg);
		return -1;
	}
	if (lv == 0)
		m->t_slowed = now_us();
	*levelp = lv + 1;
	log_info("job %llu: it writes as fast as its memory goes: it runs "
	    "%u ms in %u while the pre-copy goes on",
	    (unsigned long long)m->spec.req.gpid, pc_run_ms[lv],
	    pc_run_ms[lv] + pc_stop_ms[lv]);
	hold_point("slowhold", "slowed");
	return 0;
}

/* The throttle ends (the job thawed); how long the job was slowed down
 * goes in m (also when a later level could not start). */
static void
throttle_end(struct mover *m, struct ckpt_throttle **thrp)
{
	ckpt_throttle_stop(*thrp);
	*thrp = NULL;
	if (m->t_slowed != 0 && m->slowed_us == 0)
		m->slowed_us = now_us() - m->t_slowed;
}

static int
connect_target(struct mover *m)
{
	ssh_key key = NULL;
	char err[512];
	int r;

	if (ssh_pki_import_privkey_file(m->spec.hostkey, NULL, NULL, NULL,
	    &key) != SSH_OK) {
		fail(m, "%s: cannot read the host key", m->spec.hostkey);
		return SS_ERR_SYSTEM;
	}
	r = sshc_connect(m->spec.addr, m->spec.port, m->spec.key,
	    m->spec.self, key, SSH_TIMEOUT, &m->s, &m->ctl, err, sizeof(err));
	ssh_key_free(key);
	if (r != 0) {
		fail(m, "%s: %s", m->spec.dst_name, err);
		return r;
	}
	if ((r = hello(m)) != 0)
		fail(m, "%s: no hello", m->spec.dst_name);
	return r;
}

/* RESTORE, then the restore channel. */
static int
start_target(struct mover *m)
{
	struct buf *f, *p = NULL;
	struct timespec busy_wait = { 0, CKPT_BUSY_WAIT_MS * 1000000L };
	char cmd[64];
	uint32_t code;
	uint8_t type;
	int r, tries;

	for (tries = 0;; tries++) {
		if ((f = proto_msg_new(MSG_RESTORE)) == NULL ||
		    move_req_put(f, &m->spec.req) != 0) {
			buf_free(f);
			fail(m, "out of memory");
			return SS_ERR_ALLOC;
		}
		if ((r = call(m, f, &type, &p)) != 0) {
			fail(m, "%s did not answer: %s", m->spec.dst_name,
			    ss_strerror(r));
			return r;
		}
		/* Busy: the job left the target a moment ago. */
		if (type != MSG_ERROR || tries == CKPT_BUSY_TRIES * 5 ||
		    buf_peek_u32(p, 0, &code) != 0 ||
		    (int32_t)code != SS_ERR_BUSY)
			break;
		buf_free(p);
		p = NULL;
		nanosleep(&busy_wait, NULL);
	}
	if (type != MSG_OK) {
		fail_reply(m, m->spec.dst_name, type, p);
		buf_free(p);
		return SS_ERR_PROTO;
	}
	buf_free(p);
	snprintf(cmd, sizeof(cmd), "restore %llu",
	    (unsigned long long)m->spec.req.gpid);
	if ((m->rch = ssh_channel_new(m->s)) == NULL ||
	    ssh_channel_open_session(m->rch) != SSH_OK ||
	    ssh_channel_request_exec(m->rch, cmd) != SSH_OK) {
		fail(m, "%s refused the image channel: %s", m->spec.dst_name,
		    ssh_get_error(m->s));
		return SS_ERR_PROTO;
	}
	return 0;
}

/* Best effort: the target discards its copy. */
static void
abort_target(struct mover *m)
{
	struct buf *f, *p = NULL;
	uint8_t type;

	if (m->ctl == NULL || (f = proto_msg_new(MSG_ABORT)) == NULL)
		return;
	if (buf_put_u64(f, m->spec.req.gpid) != 0 ||
	    buf_put_u64(f, m->spec.req.mig_id) != 0) {
		buf_free(f);
		return;
	}
	if (call(m, f, &type, &p) == 0)
		buf_free(p);
}

/*
 * The input COMMIT carries, kept by noded with its "killed" record first,
 * so that a target that loses the COMMIT (its noded dies before it) still
 * gets it when it asks that record.  Without input nothing is sent: the
 * record says none.  noded answers its queries only once we are gone.
 */
static void
record_input(struct mover *m)
{
	struct buf *f, *p = NULL;
	struct pollfd pfd;
	uint8_t type;

	if (buf_len(m->stdin_taken) == 0)
		return;
	if ((f = proto_msg_new(MSG_MOVE_INPUT)) == NULL ||
	    buf_put_string(f, buf_ptr(m->stdin_taken),
	    buf_len(m->stdin_taken)) != 0) {
		buf_free(f);
		f = NULL;
	}
	/* The original is dead: a noded that does not answer soon must not
	 * hold the COMMIT back (its queries wait for us to end anyway). */
	pfd.fd = CTL_FD;
	pfd.events = POLLIN;
	if (to_noded(f) != 0 || poll(&pfd, 1, INPUT_MS) != 1 ||
	    from_noded(m, &type, &p) != 0 || type != MSG_OK)
		log_warn("job %llu: noded did not keep its %zu bytes of input "
		    "(only the COMMIT carries them)", (unsigned long long)
		    m->spec.req.gpid, buf_len(m->stdin_taken));
	buf_free(p);
}

static int
commit(struct mover *m, uint32_t *pidp, uint64_t *stp)
{
	struct buf *f, *p = NULL;
	uint64_t gpid;
	uint8_t type;
	int r;

	if ((f = proto_msg_new(MSG_COMMIT)) == NULL ||
	    buf_put_u64(f, m->spec.req.gpid) != 0 ||
	    buf_put_u64(f, m->spec.req.mig_id) != 0 ||
	    buf_put_string(f, buf_ptr(m->stdin_taken),
	    buf_len(m->stdin_taken)) != 0) {
		buf_free(f);
		return SS_ERR_ALLOC;
	}
	if ((r = call(m, f, &type, &p)) != 0)
		return r;
	if (type != MSG_RESTORED || buf_get_u64(p, &gpid) != 0 ||
	    buf_get_u32(p, pidp) != 0 || buf_get_u64(p, stp) != 0) {
		fail_reply(m, m->spec.dst_name, type, p);
		buf_free(p);
		return SS_ERR_PROTO;
	}
	buf_free(p);
	return 0;
}

static void
report_error(struct mover *m, int code)
{
	(void)to_noded(proto_error(code, "%s", m->why[0] != '\0' ? m->why :
	    ss_strerror(code)));
}

static int
read_spec(struct mover *m)
{
	struct buf *p = NULL;
	uint8_t type;
	int r;

	if ((r = from_noded(m, &type, &p)) != 0)
		return r;
	if (type != MSG_MOVE_SPEC || move_spec_get(p, &m->spec) != 0 ||
	    buf_len(p) != 0)
		r = SS_ERR_PROTO;
	buf_free(p);
	return r;
}

int
main(int argc, char **argv)
{
	struct mover mv, *m = &mv;
	struct ckpt_dump_opts o;
	struct ckpt_stats st;
	struct ckpt_err ce;
	struct migrate_result res;
	struct buf *f;
	uint32_t npid = 0;
	uint64_t nst = 0, t_run, bytes, prev = 0;
	uint32_t pending = 0;
	struct ckpt_throttle *thr = NULL;
	int level = 0;
	const char *cut;
	struct timespec busy_wait = { 0, CKPT_BUSY_WAIT_MS * 1000000L };
	int r, tries;

	log_init("sshell-mover", argc > 1 && strcmp(argv[1], "-d") == 0,
	    argc > 1 && strcmp(argv[1], "-d") == 0);
	memset(m, 0, sizeof(*m));
	m->t_start = now_us();
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR ||
	    (m->ctl_in = buf_new(PROTO_MAX_FRAME + 65536)) == NULL ||
	    (m->tin = buf_new(PROTO_MAX_FRAME + 65536)) == NULL ||
	    (m->stdin_taken = buf_new(STDIN_MAX)) == NULL)
		return 1;
	if ((r = read_spec(m)) != 0) {
		log_err_r(r, "no move spec from noded");
		return 1;
	}
	if ((cut = test_point("cut")) != NULL) {
		FILE *f = fopen(cut, "re");

		if (f != NULL) {
			m->cut_frozen = fgetc(f) == '+';
			if (!m->cut_frozen)
				rewind(f);
			if (fscanf(f, "%llu", (unsigned long long *)&m->cut_at)
			    != 1)
				m->cut_at = 0;
			fclose(f);
		}
	}
	/* 1. Can it move at all?  Nothing is frozen for this. */
	for (tries = 0; (r = ckpt_check((pid_t)m->spec.pid, &ce)) ==
	    SS_ERR_BUSY && tries < CKPT_BUSY_TRIES; tries++)
		nanosleep(&busy_wait, NULL);
	if (r != 0) {
		fail(m, "%s", ce.msg);
		goto fail;
	}
	/* 2. The target, ready to restore. */
	if ((r = connect_target(m)) != 0 || (r = start_target(m)) != 0)
		goto fail;
	/* 3. The image, straight into the target's restore. */
	memset(&o, 0, sizeof(o));
	o.pid = (pid_t)m->spec.pid;
	o.out_fd = -1;
	o.out_fn = image_out;
	o.out_arg = m;
	o.decide = decide;
	o.decide_arg = m;
	o.freezer = m->spec.freezer[0] != '\0' ? m->spec.freezer : NULL;
	memset(&st, 0, sizeof(st));
	/* The memory first, while the job runs.  A tree whose writes cannot
	 * be tracked just goes whole in the dump. */
	if (ckpt_precopy_begin(o.pid, &o.precopy, &ce) != 0)
		o.precopy = NULL;
	for (tries = 0; o.precopy != NULL && tries < PC_ROUNDS +
	    (level > 0 ? PC_SLOW_ROUNDS : 0); tries++) {
		if ((r = ckpt_precopy_round(o.precopy, &o, &bytes, NULL,
		    &ce)) != 0) {
			/* The channel failed: nothing was frozen. */
			fail(m, "%s", ce.msg);
			throttle_end(m, &thr);
			ckpt_precopy_free(o.precopy);
			goto fail;
		}
		log_debug("job %llu: pre-copy round %d: %llu bytes",
		    (unsigned long long)m->spec.req.gpid, tries + 1,
		    (unsigned long long)bytes);
		if (bytes < PC_ENOUGH)
			break;
		/* Not halving: the job writes about as fast as we send.
		 * Slow it down (auto-converge), more if that was not
		 * enough; then the freeze takes what is left. */
		if (tries > 0 && bytes * 2 > prev &&
		    (level == PC_LEVELS || o.freezer == NULL ||
		    throttle_more(m, o.freezer, &thr, &level) != 0))
			break;
		prev = bytes;
	}
	throttle_end(m, &thr);
	if (m->cut_frozen)
		m->cut_at += m->sent;
	/* A child caught between its exit and its parent's wait makes the
	 * dump say "busy" before it writes a byte: the tree runs on, and we
	 * freeze it again a moment later. */
	for (tries = 0;; tries++) {
		m->t_freeze = now_us();
		if ((r = ckpt_dump(&o, &st, &ce)) != SS_ERR_BUSY ||
		    tries == CKPT_BUSY_TRIES)
			break;
		nanosleep(&busy_wait, NULL);
	}
	ckpt_precopy_free(o.precopy);
	if (r != 0 || (!m->decided && !m->noded_gone)) {
		/* decide() said 0, or the dump failed: the original runs. */
		if (r != 0)
			fail(m, "%s", ce.msg);
		if (m->ready)
			abort_target(m);
		goto fail;
	}
	if (m->noded_gone) {
		/* Left stopped; the target asks noded's record.  Drop the
		 * session without a word: after "ready" that means "ask". */
		ssh_disconnect(m->s);
		return 1;
	}
	/* 4. The original is dead: the target's copy runs. */
	record_input(m);
	if ((r = commit(m, &npid, &nst)) != 0) {
		log_warn("job %llu: %s did not confirm the commit (%s); it "
		    "will ask this node's record", (unsigned long long)
		    m->spec.req.gpid, m->spec.dst_name, ss_strerror(r));
		npid = 0;
		nst = 0;
		pending = 1;
	}
	t_run = now_us();
	memset(&res, 0, sizeof(res));
	res.gpid = m->spec.req.gpid;
	res.from = m->spec.self;
	res.to = m->spec.dst_name;
	res.image_bytes = m->sent;
	res.total_us = t_run - m->t_start;
	res.downtime_us = t_run - m->t_freeze;
	res.slowed_us = m->slowed_us;
	res.pending = pending;
	if ((f = proto_msg_new(MSG_MOVE_DONE)) == NULL ||
	    migrate_result_put(f, &res) != 0 || buf_put_u32(f, npid) != 0 ||
	    buf_put_u64(f, nst) != 0) {
		buf_free(f);
		f = NULL;
	}
	(void)to_noded(f);
	ssh_disconnect(m->s);
	return 0;
fail:
	report_error(m, r != 0 ? r : SS_ERR_INTERNAL);
	if (m->s != NULL)
		ssh_disconnect(m->s);
	return 1;
}
