/*
 * home.c: the jobs born on this node, followed from spawn to recorded end.
 *
 * The home node is the one place that bridges a job's I/O: output goes to
 * the job's log and to the tool that follows it (ssubmit --wait, sshell),
 * input comes from that tool.  For a job that runs elsewhere the bridge is
 * an "attach GPID" session channel that we open on our session to the
 * running node: channel data is stdout, extended data stderr, and
 * exit-status/exit-signal the end.  When that session dies (the node went
 * down, noded restarted), the job is detached and attached again when the
 * node comes back; the running node kept the output in the job's pipes.
 *
 * Channel state machine (hjob.ch_state):
 *
 *   NONE --hjob_attach--> OPENING --open ok--> EXEC --exec ok--> OPEN
 *     ^                      |                   | refused: job lost
 *     +------- session lost / open failed -------+
 *
 * The end is recorded (hjob_exit) once exit-status or exit-signal came and
 * the channel closed, or directly by the local rjob.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "noded.h"

static void	hjob_attach(struct hjob *);
static void	hjob_follow(struct hjob *);
static void	hjob_drop_channel(struct hjob *);

/*
 * The context of one attach channel.  libssh may call a channel's
 * callbacks until the peer's close has arrived, even after we freed the
 * channel, so the context outlives the hjob when it must: it is freed once
 * both ends are done, or with the session.
 */
struct hch {
	TAILQ_ENTRY(hch) entry;
	struct hjob	*hj;		/* NULL once the job let go */
	ssh_channel	 ch;
	unsigned	 node;
	int		 local_freed;
	int		 peer_closed;
	struct ssh_channel_callbacks_struct cb;
};
static TAILQ_HEAD(, hch) hchs = TAILQ_HEAD_INITIALIZER(hchs);

struct hjob *
hjob_by_gpid(uint64_t gpid)
{
	struct hjob *hj;

	TAILQ_FOREACH(hj, &g.hjobs, entry)
		if (hj->gpid == gpid && !hj->dead)
			return hj;
	return NULL;
}

struct hjob *
hjob_new(uint64_t gpid, unsigned node, uid_t uid, uint32_t flags, int log_fd)
{
	struct hjob *hj;

	if ((hj = calloc(1, sizeof(*hj))) == NULL)
		return NULL;
	if ((hj->stdin_q = buf_new(16u * 1024 * 1024)) == NULL) {
		free(hj);
		return NULL;
	}
	hj->gpid = gpid;
	hj->node = node;
	hj->uid = uid;
	hj->flags = flags;
	hj->log_fd = log_fd;
	TAILQ_INSERT_TAIL(&g.hjobs, hj, entry);
	return hj;
}

static void
send_to_conn(uint64_t id, struct buf *m)
{
	struct conn *c;

	if (m == NULL)
		return;
	if (proto_msg_finish(m) != 0 || (c = conn_by_id(id)) == NULL) {
		buf_free(m);
		return;
	}
	conn_send(c, m);
}

void
hjob_output(struct hjob *hj, int stream, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t left = len;
	struct buf *m;
	ssize_t n;

	while (hj->log_fd != -1 && left > 0) {
		n = write(hj->log_fd, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_warn("job %llu: log: %s", (unsigned long long)
			    hj->gpid, strerror(errno));
			close(hj->log_fd);
			hj->log_fd = -1;
			break;
		}
		p += n;
		left -= (size_t)n;
	}
	if (hj->io_conn != 0 && (hj->flags & SPAWN_IO)) {
		if ((m = proto_msg_new(MSG_DATA)) != NULL &&
		    (buf_put_u8(m, (uint8_t)stream) != 0 ||
		    buf_put_string(m, data, len) != 0)) {
			buf_free(m);
			m = NULL;
		}
		send_to_conn(hj->io_conn, m);
	}
}

/* Room in the tool's queue: a slow reader slows the job, never noded. */
int
hjob_can_take(const struct hjob *hj)
{
	struct conn *c;

	if (hj->io_conn == 0 || !(hj->flags & SPAWN_IO))
		return 1;
	if ((c = conn_by_id(hj->io_conn)) == NULL)
		return 1;
	return buf_len(c->out) < NODED_OUTQ_MAX / 2;
}

void
hjob_exit(struct hjob *hj, int status, int sig)
{
	struct conn *c;
	struct buf *m;

	if (hj->dead)
		return;
	log_debug("job %llu ended: %d", (unsigned long long)hj->gpid, status);
	dir_proc_set_exit(g.dir, hj->gpid, status, sig, now_s());
	if (hj->log_fd != -1)
		close(hj->log_fd);
	hj->log_fd = -1;
	TAILQ_FOREACH(c, &g.conns, entry) {
		if (c->dead || c->io_gpid != hj->gpid)
			continue;
		if ((m = proto_msg_new(MSG_EXITED)) != NULL &&
		    (buf_put_u64(m, hj->gpid) != 0 ||
		    buf_put_u32(m, (uint32_t)status) != 0 ||
		    buf_put_u32(m, (uint32_t)sig) != 0)) {
			buf_free(m);
			m = NULL;
		}
		send_to_conn(c->id, m);
		c->io_gpid = 0;
	}
	if (hj->rj != NULL)
		hj->rj->hj = NULL;
	hj->rj = NULL;
	hj->dead = 1;
}

static void
hch_data_flush(struct hjob *hj)
{
	uint32_t w;
	size_t n;
	int k;

	if (hj->moving || hj->ch_node != hj->node)
		return;		/* input waits for where the job goes */
	while (hj->ch != NULL && hj->ch_state == HCH_OPEN &&
	    buf_len(hj->stdin_q) > 0) {
		w = ssh_channel_window_size(hj->ch);
		if (w == 0)
			return;
		n = buf_len(hj->stdin_q) < w ? buf_len(hj->stdin_q) : w;
		if ((k = ssh_channel_write(hj->ch, buf_ptr(hj->stdin_q), n)) <=
		    0)
			return;
		g.wrote_ssh = 1;
		buf_consume(hj->stdin_q, (size_t)k);
	}
	if (hj->ch != NULL && hj->ch_state == HCH_OPEN && hj->stdin_eof &&
	    buf_len(hj->stdin_q) == 0) {
		ssh_channel_send_eof(hj->ch);
		hj->stdin_eof = 2;	/* sent */
	}
}

void
hjob_stdin(struct hjob *hj, const void *data, size_t len)
{
	if (hj->rj != NULL && !hj->moving && !hj->rj->moved &&
	    buf_len(hj->stdin_q) == 0) {
		rjob_stdin(hj->rj, data, len);
		return;
	}
	if (buf_put(hj->stdin_q, data, len) != 0)
		log_warn("job %llu: input queue full: dropped",
		    (unsigned long long)hj->gpid);
	hch_data_flush(hj);
}

void
hjob_stdin_eof(struct hjob *hj)
{
	if (hj->rj != NULL && !hj->moving && !hj->rj->moved &&
	    buf_len(hj->stdin_q) == 0) {
		rjob_stdin_eof(hj->rj);
		return;
	}
	if (hj->stdin_eof == 0)
		hj->stdin_eof = 1;
	hch_data_flush(hj);
}

static int
hch_data(ssh_session s, ssh_channel ch, void *data, uint32_t len,
    int is_stderr, void *ud)
{
	struct hjob *hj = ((struct hch *)ud)->hj;

	(void)s;
	(void)ch;
	if (hj != NULL && !hj->dead)
		hjob_output(hj, is_stderr ? 2 : 1, data, len);
	return len;
}

static void
hch_exit_status(ssh_session s, ssh_channel ch, int status, void *ud)
{
	struct hjob *hj = ((struct hch *)ud)->hj;

	(void)s;
	(void)ch;
	if (hj == NULL)
		return;
	hj->got_status = 1;
	hj->status = status & 0xff;
	hj->sig = 0;
}

static void
hch_exit_signal(ssh_session s, ssh_channel ch, const char *signal, int core,
    const char *errmsg, const char *lang, void *ud)
{
	struct hjob *hj = ((struct hch *)ud)->hj;
	int sig = sig_from_name(signal);

	(void)s;
	(void)ch;
	(void)core;
	(void)errmsg;
	(void)lang;
	if (hj == NULL)
		return;
	hj->got_status = 1;
	hj->sig = sig;
	hj->status = 128 + sig;
}

/* The running node's word that the job stopped or went on (see job.c). */
static void
hch_signal(ssh_session s, ssh_channel ch, const char *name, void *ud)
{
	struct hjob *hj = ((struct hch *)ud)->hj;
	int sig;

	(void)s;
	(void)ch;
	if (hj == NULL)
		return;
	if (strncmp(name, "stopped@sshell:", 15) == 0) {
		sig = atoi(name + 15);
		if (sig > 0 && sig < 65)
			hjob_stopped(hj, sig);
	} else if (strcmp(name, "continued@sshell") == 0)
		hjob_stopped(hj, 0);
}

/* Tells the tool that follows the job: MSG_STOPPED or MSG_CONTINUED. */
void
hjob_stopped(struct hjob *hj, int sig)
{
	struct buf *m;

	if (hj->io_conn == 0)
		return;
	if ((m = proto_msg_new(sig != 0 ? MSG_STOPPED : MSG_CONTINUED)) !=
	    NULL && sig != 0 && buf_put_u32(m, (uint32_t)sig) != 0) {
		buf_free(m);
		m = NULL;
	}
	send_to_conn(hj->io_conn, m);
}

static void
hch_close(ssh_session s, ssh_channel ch, void *ud)
{
	(void)s;
	(void)ch;
	((struct hch *)ud)->peer_closed = 1;
}

static void
hjob_attach(struct hjob *hj)
{
	struct peer *p;
	struct hch *h;

	if (hj->dead || hj->rj != NULL || hj->ch != NULL ||
	    hj->node == g.id)
		return;
	if ((p = peer_by_id(hj->node)) == NULL || p->s == NULL || p->broken)
		return;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return;
	if ((hj->ch = ssh_channel_new(p->s)) == NULL) {
		free(h);
		return;
	}
	h->hj = hj;
	h->ch = hj->ch;
	h->node = hj->node;
	hj->ch_node = hj->node;
	h->cb.userdata = h;
	h->cb.channel_data_function = hch_data;
	h->cb.channel_exit_status_function = hch_exit_status;
	h->cb.channel_exit_signal_function = hch_exit_signal;
	h->cb.channel_close_function = hch_close;
	h->cb.channel_signal_function = hch_signal;
	ssh_callbacks_init(&h->cb);
	ssh_set_channel_callbacks(hj->ch, &h->cb);
	TAILQ_INSERT_TAIL(&hchs, h, entry);
	hj->ch_state = HCH_OPENING;
	g.wrote_ssh = 1;
	/* Send the open now; hjob_tick() sees it through. */
	if (ssh_channel_open_session(hj->ch) == SSH_OK)
		hj->ch_state = HCH_EXEC;
}

void
hjob_attach_all(unsigned node)
{
	struct hjob *hj;

	TAILQ_FOREACH(hj, &g.hjobs, entry)
		if (hj->node == node)
			hjob_attach(hj);
}

/* The session to node is going away; its channels go with it. */
void
hjob_detached(unsigned node)
{
	struct hjob *hj;

	struct hch *h, *t;

	TAILQ_FOREACH(hj, &g.hjobs, entry) {
		if (hj->node != node || hj->ch == NULL)
			continue;
		hj->ch = NULL;
		hj->ch_state = HCH_NONE;
		if (hj->got_status)
			hjob_exit(hj, hj->status, hj->sig);
	}
	/* ssh_free() of the session frees the channels: no more calls. */
	TAILQ_FOREACH_SAFE(h, &hchs, entry, t) {
		if (h->node != node)
			continue;
		TAILQ_REMOVE(&hchs, h, entry);
		free(h);
	}
}

/* The job lets go of its channel (closed, refused, or the job ended). */
static void
hjob_drop_channel(struct hjob *hj)
{
	struct hch *h;

	if (hj->ch == NULL)
		return;
	TAILQ_FOREACH(h, &hchs, entry) {
		if (h->ch == hj->ch) {
			h->hj = NULL;
			h->local_freed = 1;
		}
	}
	ssh_channel_close(hj->ch);
	ssh_channel_free(hj->ch);
	hj->ch = NULL;
	hj->ch_state = HCH_NONE;
	g.wrote_ssh = 1;
}

/* Frees channel contexts that can be called back no more. */
void
hjob_chan_reap(void)
{
	struct hch *h, *t;

	TAILQ_FOREACH_SAFE(h, &hchs, entry, t) {
		if (!h->local_freed || !h->peer_closed)
			continue;
		TAILQ_REMOVE(&hchs, h, entry);
		free(h);
	}
}

static void
hjob_lost(struct hjob *hj, const char *why)
{
	log_warn("job %llu: %s: lost", (unsigned long long)hj->gpid, why);
	dir_proc_set_state(g.dir, hj->gpid, "lost");
	hjob_drop_channel(hj);
	hjob_exit(hj, 255, 0);
	dir_proc_set_state(g.dir, hj->gpid, "lost");
}

/* Every round: drive the attach channels. */
void
hjob_tick(void)
{
	struct hjob *hj;
	char cmd[64];
	int rc;

	TAILQ_FOREACH(hj, &g.hjobs, entry) {
		if (hj->dead || hj->ch == NULL)
			continue;
		switch (hj->ch_state) {
		case HCH_OPENING:
			rc = ssh_channel_open_session(hj->ch);
			if (rc == SSH_AGAIN)
				break;
			if (rc != SSH_OK) {
				hjob_drop_channel(hj);
				break;
			}
			hj->ch_state = HCH_EXEC;
			/* FALLTHROUGH */
		case HCH_EXEC:
			snprintf(cmd, sizeof(cmd), "attach %llu",
			    (unsigned long long)hj->gpid);
			rc = ssh_channel_request_exec(hj->ch, cmd);
			g.wrote_ssh = 1;
			if (rc == SSH_AGAIN)
				break;
			if (rc != SSH_OK) {
				hjob_lost(hj, "its node does not know it");
				break;
			}
			hj->ch_state = HCH_OPEN;
			/* FALLTHROUGH */
		case HCH_OPEN:
			hch_data_flush(hj);
			if (ssh_channel_is_closed(hj->ch) ||
			    (ssh_channel_is_eof(hj->ch) && hj->got_status)) {
				hjob_drop_channel(hj);
				if (hj->got_status)
					hjob_exit(hj, hj->status, hj->sig);
				else if (hj->node != hj->ch_node)
					hjob_follow(hj);	/* it moved */
			}
			break;
		}
	}
}

void
hjob_conn_gone(uint64_t id)
{
	struct hjob *hj;

	TAILQ_FOREACH(hj, &g.hjobs, entry) {
		if (hj->io_conn != id)
			continue;
		hj->io_conn = 0;
		/* The terminal or pipe the job read from is gone. */
		if (hj->flags & SPAWN_IO)
			hjob_stdin_eof(hj);
	}
}

void
hjob_reap(void)
{
	struct hjob *hj, *t;

	TAILQ_FOREACH_SAFE(hj, &g.hjobs, entry, t) {
		if (!hj->dead)
			continue;
		hjob_drop_channel(hj);
		TAILQ_REMOVE(&g.hjobs, hj, entry);
		if (hj->rj != NULL)
			hj->rj->hj = NULL;
		if (hj->log_fd != -1)
			close(hj->log_fd);
		buf_free(hj->stdin_q);
		free(hj);
	}
}

static int
restore_one(const struct dir_proc *p, void *arg)
{
	struct hjob *hj;
	struct rjob *rj;
	int fd = -1;

	(void)arg;
	if (p->log != NULL && p->log[0] != '\0')
		fd = open(p->log, O_WRONLY | O_APPEND | O_CLOEXEC);
	if ((hj = hjob_new(p->gpid, p->node, p->uid, 0, fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return 0;
	}
	if (p->node == g.id) {
		if ((rj = rjob_by_gpid(p->gpid)) != NULL) {
			rj->hj = hj;
			hj->rj = rj;
		} else
			hjob_lost(hj, "its shepherd is gone");
	}
	return 0;
}

/* At start: follow again every job born here that has not ended. */
void
hjob_restore_all(void)
{
	struct dir_filter f;

	memset(&f, 0, sizeof(f));
	f.role = DIR_FILTER_ROLE(DIR_ROLE_HOME);
	dir_proc_foreach(g.dir, &f, restore_one, NULL);
}

/*
 * The job's output bridge follows it to hj->node, once the node it left
 * has closed its channel (so every byte from there came first): a local
 * job is linked, a remote one attached; the input held meanwhile goes
 * there.
 */
static void
hjob_follow(struct hjob *hj)
{
	struct rjob *rj;

	if (hj->dead || hj->ch != NULL || hj->rj != NULL)
		return;
	if (hj->node != g.id) {
		hjob_attach(hj);	/* flushes stdin_q once open */
		return;
	}
	if ((rj = rjob_by_gpid(hj->gpid)) == NULL || rj->moved)
		return;		/* its COMMIT has not come yet */
	rj->hj = hj;
	hj->rj = rj;
	hj->ch_node = g.id;
	if (buf_len(hj->stdin_q) > 0) {
		rjob_stdin(rj, buf_ptr(hj->stdin_q), buf_len(hj->stdin_q));
		buf_reset(hj->stdin_q);
	}
	if (hj->stdin_eof)
		rjob_stdin_eof(rj);
}

/*
 * A job born here is moving (migrate.c says so, from the source or the
 * target; each phase may come twice).  BEGIN holds its input; FAILED
 * sends it on where it was; DONE records the new place and moves the
 * bridge (pid 0: the place is known, the pid not yet).
 */
void
home_moved(uint64_t gpid, uint32_t phase, unsigned node, uint32_t pid,
    uint64_t starttime)
{
	struct hjob *hj = hjob_by_gpid(gpid);

	if (phase == MOVED_DONE && pid != 0)
		dir_proc_set_location(g.dir, gpid, node, (pid_t)pid,
		    starttime);
	if (hj == NULL)
		return;
	switch (phase) {
	case MOVED_BEGIN:
		hj->moving = 1;
		break;
	case MOVED_FAILED:
		hj->moving = 0;
		if (hj->rj != NULL && buf_len(hj->stdin_q) > 0) {
			rjob_stdin(hj->rj, buf_ptr(hj->stdin_q),
			    buf_len(hj->stdin_q));
			buf_reset(hj->stdin_q);
		}
		hch_data_flush(hj);
		break;
	case MOVED_DONE:
		hj->moving = 0;
		hj->node = node;
		if (hj->rj != NULL && hj->rj->moved)
			break;	/* the local original drains first */
		if (hj->rj == NULL && (hj->ch == NULL || hj->ch_node == node))
			hjob_follow(hj);
		break;
	}
}
