/*
 * migrate.c: live migration (DESIGN.md "Migration while running"), the
 * PID-forwarding of requests that follow a moved job, automatic balancing
 * and drain.
 *
 * Roles for one move of job G from S (source) to T (target), H its home:
 *
 *   smigrate -> any noded --MSG_MIGRATE--> (H, which knows where G is) --> S
 *   S: a migrations row "begin"; MSG_MOVED BEGIN to H (H holds G's input);
 *      starts sshell-mover (mover.c) with MSG_MOVE_SPEC
 *   mover -> T: MSG_RESTORE (T starts a restore shepherd), the image on a
 *      "restore G" channel; T restores it, stopped, says MSG_OK there
 *   mover -> S: MSG_MOVE_READY; S records "killed", marks G moved (its
 *      death is not its end) and answers MSG_MOVE_KILL with G's held input
 *   mover: SIGKILLs the original, MSG_MOVE_INPUT to S (the input COMMIT
 *      carries, which S's record keeps), MSG_COMMIT to T; T lets G run,
 *      records it, tells H (MSG_MOVED DONE)
 *   mover -> S: MSG_MOVE_DONE; S writes its forwards row, tells H too, and
 *      answers smigrate with MSG_MIGRATED
 *   S drains G's last output to H and closes the attach channel without an
 *   exit status; H then attaches to T.  So output arrives in order, once.
 *
 * Exactly one copy runs: T never runs G without COMMIT, or without S's
 * record saying "killed" (MSG_MIGRATE_QUERY, when T lost the mover after
 * saying ready); S answers a query for a move still in flight by calling
 * it off ("aborted"), so a later READY is refused.  A query about a move
 * recorded "killed" is answered only once its mover is gone, with the
 * input COMMIT carried: a target that lost the COMMIT loses no input.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cgroup.h"
#include "err.h"
#include "gpid.h"
#include "log.h"
#include "noded.h"

#define MIG_TICK_MS	2000	/* balancing looks this often */
#define MIG_SETTLE_MS	4000	/* after a move, let the loads catch up */
#define MIG_AGAIN_MS	10000	/* a job moves at most this often */
#define MIG_MIN_AGE_S	3	/* a job runs this long before balancing */
#define MIG_ASK_MS	1000	/* an orphan asks its source this often */

static int64_t	next_tick_ms, settle_ms;

/* A request forwarded to another node; the reply goes back as is. */
static void
relay_reply(void *arg, uint8_t type, struct buf *p)
{
	struct req *r = arg;
	struct buf *m;

	if ((m = proto_msg_new(type)) != NULL && p != NULL &&
	    buf_put(m, buf_ptr(p), buf_len(p)) != 0) {
		buf_free(m);
		m = NULL;
	}
	if (m != NULL && proto_msg_finish(m) != 0) {
		buf_free(m);
		m = NULL;
	}
	req_reply(r, m);
	free(r);
}

/* MSG_MIGRATE sent on to node, for r. */
static void
relay_migrate(const struct req *r, unsigned node, uint64_t gpid,
    const char *dst)
{
	struct req *rc;
	struct buf *m;
	struct peer *peer;

	if ((peer = peer_by_id(node)) == NULL) {
		req_error(r, SS_ERR_NOT_FOUND, "node %u is not in the cluster",
		    node);
		return;
	}
	if ((rc = malloc(sizeof(*rc))) == NULL ||
	    (m = proto_msg_new(MSG_MIGRATE)) == NULL ||
	    buf_put_u64(m, gpid) != 0 || buf_put_cstring(m, dst) != 0) {
		free(rc);
		req_error(r, SS_ERR_ALLOC, "out of memory");
		return;
	}
	*rc = *r;
	if (peer_call(peer, r, m, relay_reply, rc) != 0) {
		free(rc);
		req_error(r, SS_ERR_DOWN, "%s is down", peer->name);
		return;
	}
	/* A move takes as long as its image: no call timeout, only the
	 * peer's going down ends the wait. */
	TAILQ_LAST(&peer->calls, callq)->deadline_ms = INT64_MAX;
}

/* Tells the home of rj how its move goes (locally when it is us). */
static void
tell_home(unsigned home, uint64_t gpid, uint32_t phase, unsigned node,
    uint32_t pid, uint64_t st)
{
	struct buf *m;
	struct peer *p;

	if (home == g.id) {
		home_moved(gpid, phase, node, pid, st);
		return;
	}
	if ((p = peer_by_id(home)) == NULL ||
	    (m = proto_msg_new(MSG_MOVED)) == NULL)
		return;
	if (buf_put_u64(m, gpid) != 0 || buf_put_u32(m, phase) != 0 ||
	    buf_put_u32(m, node) != 0 || buf_put_u32(m, pid) != 0 ||
	    buf_put_u64(m, st) != 0 || peer_call(p, NULL, m, NULL, NULL) != 0)
		log_warn("job %llu: cannot tell its home %s of the move",
		    (unsigned long long)gpid, p->name);
}

/* The least loaded node that can take a job from here, or 0. */
static unsigned
pick_target(void)
{
	const struct conf_node *cn;
	unsigned best = 0;
	double bs = 0, sc;
	char err[128];
	size_t i;

	for (i = 0; i < g.conf->nnodes; i++) {
		cn = &g.conf->nodes[i];
		if (cn->id == g.id || !place_usable(cn->id, err, sizeof(err)))
			continue;
		sc = place_score(cn->id);
		if (best == 0 || sc < bs) {
			best = cn->id;
			bs = sc;
		}
	}
	return best;
}

/* Starts sshell-mover with fd 3 = *fdp's other end. */
static int
mover_launch(int *fdp)
{
	posix_spawn_file_actions_t fa;
	char *argv[] = { "sshell-mover", g.debug ? "-d" : NULL, NULL };
	int sv[2], b = -1, r = SS_ERR_SYSTEM;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		return SS_ERR_SYSTEM;
	if ((b = fcntl(sv[1], F_DUPFD_CLOEXEC, 10)) == -1)
		goto out;
	if (posix_spawn_file_actions_init(&fa) != 0)
		goto out;
	if (posix_spawn_file_actions_adddup2(&fa, b, 3) == 0 &&
	    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDWR, 0)
	    == 0 && posix_spawn_file_actions_adddup2(&fa, 0, 1) == 0 &&
	    (g.debug || posix_spawn_file_actions_adddup2(&fa, 0, 2) == 0) &&
	    posix_spawn_file_actions_addclosefrom_np(&fa, 4) == 0 &&
	    posix_spawn(&pid, g.mover, &fa, NULL, argv, environ) == 0)
		r = 0;
	posix_spawn_file_actions_destroy(&fa);
out:
	if (b != -1)
		close(b);
	close(sv[1]);
	if (r != 0) {
		close(sv[0]);
		return r;
	}
	*fdp = sv[0];
	return 0;
}

/*
 * Starts moving rj to node dst (0: the least loaded).  r is who asked
 * (NULL: balancing or drain).  Returns 0, or an error with why filled.
 */
static int
mig_start(const struct req *r, struct rjob *rj, unsigned dst, char *why,
    size_t wlen)
{
	struct move_spec ms;
	struct termios tio;
	struct peer *p;
	struct buf *m = NULL;
	char hk[4200], cg[4300], probe[4400];
	int fd = -1, rc;

	if (r != NULL && r->uid != 0 && r->uid != rj->uid) {
		snprintf(why, wlen, "permission denied: the job belongs to %s",
		    rj->user);
		return SS_ERR_PERM;
	}
	if (!rj->have_info || rj->exited || rj->moved) {
		snprintf(why, wlen, "the job has ended");
		return SS_ERR_NOT_FOUND;
	}
	if (rj->moving || rj->restoring != RESTORING_NO) {
		snprintf(why, wlen, "the job is already being moved");
		return SS_ERR_BUSY;
	}
	if (!g.root) {
		snprintf(why, wlen, "a noded not run by root cannot move jobs");
		return SS_ERR_UNSUPPORTED;
	}
	if (dst == 0 && (dst = pick_target()) == 0) {
		snprintf(why, wlen, "no other node can take it");
		return SS_ERR_DOWN;
	}
	if (dst == g.id) {
		snprintf(why, wlen, "the job already runs on %s", g.name);
		return SS_ERR_EXISTS;
	}
	if (!place_usable(dst, why, wlen))
		return SS_ERR_DOWN;
	p = peer_by_id(dst);
	memset(&ms, 0, sizeof(ms));
	ms.req.gpid = rj->gpid;
	ms.req.src = g.id;
	ms.req.home = rj->home;
	ms.req.uid = rj->uid;
	ms.req.gid = rj->gid;
	ms.req.user = rj->user;
	ms.req.cmd = rj->cmd;
	ms.req.name = rj->name;
	ms.req.log = rj->log;
	ms.req.started = rj->started;
	ms.req.flags = rj->flags | (rj->info.pty ? SPAWN_PTY : 0);
	ms.req.moves = rj->moves;
	ms.req.rows = rj->rows;
	ms.req.cols = rj->cols;
	ms.req.term = rj->term != NULL ? rj->term : "";
	if (rj->info.pty && rj->fd_out != -1 && tcgetattr(rj->fd_out, &tio) ==
	    0) {
		struct winsize ws;

		memcpy(ms.req.tty_mode, &tio, sizeof(tio));
		ms.req.tty_mode_len = sizeof(tio);
		if (ioctl(rj->fd_out, TIOCGWINSZ, &ws) == 0) {
			ms.req.rows = ws.ws_row;
			ms.req.cols = ws.ws_col;
		}
	}
	ms.pid = rj->info.pid;
	ms.starttime = rj->info.starttime;
	ms.dst = dst;
	ms.dst_name = p->name;
	ms.addr = p->addr;
	ms.port = p->port;
	ms.key = p->key;
	ms.self = g.name;
	snprintf(hk, sizeof(hk), "%s/hostkey", g.statedir);
	ms.hostkey = hk;
	/* The job's cgroup, where its shepherd made one: frozen first. */
	if (job_cgroup(rj->gpid, cg, sizeof(cg)) == 0) {
		snprintf(probe, sizeof(probe), "%s/cgroup.procs", cg);
		if (access(probe, F_OK) != 0)
			cg[0] = '\0';
	}
	ms.freezer = cg;
	if (dir_migration_begin(g.dir, rj->gpid, g.id, dst, now_s(),
	    &rj->mig_id) != 0) {
		snprintf(why, wlen, "the directory: %s", dir_errmsg(g.dir));
		return SS_ERR_DB;
	}
	ms.req.mig_id = (uint64_t)rj->mig_id;
	if ((m = proto_msg_new(MSG_MOVE_SPEC)) == NULL ||
	    move_spec_put(m, &ms) != 0 || proto_msg_finish(m) != 0) {
		buf_free(m);
		snprintf(why, wlen, "out of memory");
		rc = SS_ERR_ALLOC;
		goto fail;
	}
	if ((rc = mover_launch(&fd)) != 0) {
		buf_free(m);
		snprintf(why, wlen, "cannot start sshell-mover");
		goto fail;
	}
	rc = proto_write_all(fd, m);
	buf_free(m);
	if (rc != 0 || (rj->mover_in == NULL &&
	    (rj->mover_in = buf_new(PROTO_MAX_FRAME + 65536)) == NULL)) {
		close(fd);
		snprintf(why, wlen, "the mover did not take its spec");
		rc = SS_ERR_SYSTEM;
		goto fail;
	}
	buf_reset(rj->mover_in);
	set_nonblock(fd);
	rj->mover_fd = fd;
	rj->moving = 1;
	rj->mig_dst = dst;
	rj->mig_reply = r != NULL;
	if (r != NULL)
		rj->mig_req = *r;
	log_info("job %llu: moving to %s", (unsigned long long)rj->gpid,
	    p->name);
	tell_home(rj->home, rj->gpid, MOVED_BEGIN, g.id, 0, 0);
	return 0;
fail:
	dir_migration_finish(g.dir, rj->mig_id, "failed", 0, why, now_s());
	return rc;
}

/* Signals held while rj was frozen go to where it is now: here (the
 * move failed) or the node it went to. */
static void
deliver_held(struct rjob *rj, unsigned node)
{
	uint64_t held = rj->held_sigs;
	int sig;

	rj->held_sigs = 0;
	for (sig = 1; sig <= 64 && held != 0; sig++) {
		if (!(held & (1ULL << (sig - 1))))
			continue;
		held &= ~(1ULL << (sig - 1));
		if (node == g.id)
			rjob_signal(rj, sig);
		else
			signal_send_on(rj->gpid, node, sig);
	}
}

/*
 * The job's cgroup thawed: a mover that died while it slowed the job
 * down (auto-converge) may have left it frozen.  Nothing if it has no
 * cgroup or was not frozen.
 */
static void
job_thaw(const struct rjob *rj)
{
	char cg[4300], path[4400];
	int kind;

	if (job_cgroup(rj->gpid, cg, sizeof(cg)) != 0 ||
	    (kind = cg_freezer_kind(cg)) == CG_FREEZER_NONE)
		return;
	if (cg_set_frozen(cg, kind, 0, path, sizeof(path)) != 0)
		log_warn("job %llu: %s: %s", (unsigned long long)rj->gpid,
		    path, strerror(errno));
}

/*
 * At start, a job taken back from its shepherd whose last move here never
 * ended: its mover and the noded before us may both have died while the
 * mover held it slowed down, its cgroup frozen.  A mover still alive
 * cannot go on without us past the target's "ready" (it finds us gone),
 * so the job is thawed; a throttle of such a mover ends thawed anyway.
 */
void
mig_adopted(struct rjob *rj)
{
	struct dir_migration dm;

	if (dir_migration_last(g.dir, rj->gpid, &dm) != 0)
		return;
	if (dm.src == g.id && dm.ended == 0 && strcmp(dm.phase, "begin") == 0) {
		log_info("job %llu: its move to %s never ended: thawed",
		    (unsigned long long)rj->gpid, node_name(dm.dst));
		job_thaw(rj);
	}
	dir_migration_clear(&dm);
}

/* The move ended without moving (the mover said why, or died). */
static void
mig_failed(struct rjob *rj, int code, const char *why)
{
	log_info("job %llu: not moved: %s", (unsigned long long)rj->gpid,
	    why);
	job_thaw(rj);
	dir_migration_finish(g.dir, rj->mig_id, "failed", 0, why, now_s());
	/* A refused move is no broken request: the asker stays connected
	 * (req_error closes on the malformed-message codes). */
	if (code == SS_ERR_BAD || code == SS_ERR_PROTO ||
	    code == SS_ERR_TOO_LONG || code == SS_ERR_VERSION)
		code = SS_ERR_UNSUPPORTED;
	if (rj->mig_reply)
		req_error(&rj->mig_req, code, "%s", why);
	rj->mig_reply = 0;
	rj->moving = 0;
	rj->mig_fail_ms = now_ms();	/* no retry at once (balancing) */
	deliver_held(rj, g.id);
	tell_home(rj->home, rj->gpid, MOVED_FAILED, g.id, 0, 0);
}

/* MSG_MOVE_DONE: it runs on the target now. */
static void
mig_done(struct rjob *rj, struct buf *p)
{
	struct migrate_result res;
	struct buf *m;
	uint32_t npid = 0;
	uint64_t nst = 0;

	if (migrate_result_get(p, &res) != 0 || buf_get_u32(p, &npid) != 0 ||
	    buf_get_u64(p, &nst) != 0) {
		memset(&res, 0, sizeof(res));
		log_warn("job %llu: malformed MOVE_DONE",
		    (unsigned long long)rj->gpid);
	}
	dir_migration_finish(g.dir, rj->mig_id, "done",
	    (int64_t)res.downtime_us, NULL, now_s());
	dir_forward_add(g.dir, rj->gpid, (pid_t)rj->info.pid, rj->moved_to,
	    (pid_t)npid, now_s());
	if (rj->home != g.id)
		dir_proc_delete(g.dir, rj->gpid);	/* a guest no more */
	if (res.pending)
		log_warn("job %llu moved to %s, which did not confirm: its "
		    "copy runs once it has asked us", (unsigned long long)
		    rj->gpid, node_name(rj->moved_to));
	else
		log_info("job %llu moved to %s: %llu bytes, downtime %.1f ms%s",
		    (unsigned long long)rj->gpid, node_name(rj->moved_to),
		    (unsigned long long)res.image_bytes,
		    res.downtime_us / 1000.0, res.slowed_us > 0 ? ", slowed "
		    "down while its memory went (it wrote as fast)" : "");
	tell_home(rj->home, rj->gpid, MOVED_DONE, rj->moved_to, npid, nst);
	if (rj->mig_reply) {
		if ((m = proto_msg_new(MSG_MIGRATED)) != NULL &&
		    (migrate_result_put(m, &res) != 0 ||
		    proto_msg_finish(m) != 0)) {
			buf_free(m);
			m = NULL;
		}
		req_reply(&rj->mig_req, m);
	}
	rj->mig_reply = 0;
	rj->moving = 0;
	deliver_held(rj, rj->moved_to);
	settle_ms = now_ms() + MIG_SETTLE_MS;
	migrate_result_clear(&res);
}

/* MSG_MOVE_READY: record "killed" first, then let the mover kill. */
static void
mig_ready(struct rjob *rj, struct buf *p)
{
	struct dir_migration dm;
	struct buf *m;
	uint64_t bytes = 0;
	int aborted = 0;

	(void)buf_get_u64(p, &bytes);
	if (dir_migration_get(g.dir, rj->mig_id, &dm) == 0) {
		aborted = strcmp(dm.phase, "aborted") == 0;
		dir_migration_clear(&dm);
	}
	if (aborted) {
		m = proto_error(SS_ERR_PROTO, "the target gave up the move");
	} else if (dir_migration_set_phase(g.dir, rj->mig_id, "killed",
	    bytes) != 0) {
		m = proto_error(SS_ERR_DB, "cannot record the move: %s",
		    dir_errmsg(g.dir));
	} else {
		rj->moved = 1;
		rj->moved_to = rj->mig_dst;
		if ((m = proto_msg_new(MSG_MOVE_KILL)) != NULL &&
		    (buf_put_string(m, buf_ptr(rj->stdin_q),
		    buf_len(rj->stdin_q)) != 0 || proto_msg_finish(m) != 0)) {
			buf_free(m);
			m = NULL;
		}
		buf_reset(rj->stdin_q);
	}
	if (m == NULL || proto_write_all(rj->mover_fd, m) != 0)
		log_warn("job %llu: the mover does not listen",
		    (unsigned long long)rj->gpid);
	buf_free(m);
}

/* MSG_MOVE_INPUT: after "killed", the input COMMIT carries, kept for a
 * target that loses the COMMIT and asks us. */
static void
mig_input(struct rjob *rj, struct buf *p)
{
	const uint8_t *in;
	struct buf *m;
	size_t len;
	int r;

	if (!rj->moved || buf_get_string_direct(p, &in, &len) != 0 ||
	    buf_len(p) != 0)
		m = proto_error(SS_ERR_PROTO, "malformed or untimely input");
	else if (len > PROTO_MAX_FRAME - 1024)
		/* More than a MIGRATE_STATE could carry back. */
		m = proto_error(SS_ERR_TOO_LONG, "%zu bytes of input: too many "
		    "to keep", len);
	else if ((r = dir_migration_set_input(g.dir, rj->mig_id, in, len)) !=
	    0)
		m = proto_error(r, "cannot record the input: %s",
		    dir_errmsg(g.dir));
	else if ((m = proto_msg_new(MSG_OK)) != NULL &&
	    proto_msg_finish(m) != 0) {
		buf_free(m);
		m = NULL;
	}
	if (m == NULL || proto_write_all(rj->mover_fd, m) != 0)
		log_warn("job %llu: the mover does not listen",
		    (unsigned long long)rj->gpid);
	buf_free(m);
}

/* Frames from the mover of rj. */
void
mover_io(struct rjob *rj)
{
	struct buf *p;
	uint8_t type, *d;
	char *msg = NULL;
	ssize_t n;
	int code;

	if (buf_reserve(rj->mover_in, 65536, &d) != 0)
		n = 0;
	else {
		n = read(rj->mover_fd, d, 65536);
		buf_consume_end(rj->mover_in, 65536 - (n > 0 ? (size_t)n : 0));
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
	}
	while (n > 0 && proto_frame_take(rj->mover_in, &type, &p) == 0) {
		switch (type) {
		case MSG_MOVE_READY:
			mig_ready(rj, p);
			break;
		case MSG_MOVE_DONE:
			mig_done(rj, p);
			break;
		case MSG_MOVE_INPUT:
			mig_input(rj, p);
			break;
		case MSG_ERROR:
			if (proto_get_error(p, &code, &msg) == 0) {
				if (rj->moved)
					log_warn("job %llu: after the kill: %s",
					    (unsigned long long)rj->gpid, msg);
				else
					mig_failed(rj, code, msg);
				free(msg);
				msg = NULL;
			}
			break;
		default:
			log_warn("job %llu: the mover sent %s",
			    (unsigned long long)rj->gpid,
			    proto_msg_name(type));
		}
		buf_free(p);
	}
	if (n > 0)
		return;
	/* The mover is gone. */
	close(rj->mover_fd);
	rj->mover_fd = -1;
	if (!rj->moving)
		return;
	if (!rj->moved) {
		mig_failed(rj, SS_ERR_INTERNAL, "the mover died");
		return;
	}
	/* Killed was recorded: the original must not run on.  The target
	 * commits when it asks us. */
	log_warn("job %llu: the mover died after the kill: the copy on %s "
	    "takes over", (unsigned long long)rj->gpid,
	    node_name(rj->moved_to));
	rjob_kill_tree(rj);
	if (rj->mig_reply)
		req_error(&rj->mig_req, SS_ERR_INTERNAL, "the job was moved to "
		    "%s, but the mover died before it confirmed: see sps",
		    node_name(rj->moved_to));
	rj->mig_reply = 0;
	rj->moving = 0;
	deliver_held(rj, rj->moved_to);
	tell_home(rj->home, rj->gpid, MOVED_DONE, rj->moved_to, 0, 0);
}

/* MSG_MIGRATE {u64 gpid, string node}: from smigrate, or routed. */
void
rpc_migrate(const struct req *r, struct buf *p)
{
	struct dir_proc dp;
	struct rjob *rj;
	uint64_t gpid;
	unsigned dst = 0, home, fnode;
	char *node = NULL, why[512];
	struct peer *peer;
	int rc;

	if (buf_get_u64(p, &gpid) != 0 ||
	    buf_get_cstring(p, PROTO_MAX_NAME, &node) != 0 ||
	    buf_len(p) != 0 || (home = gpid_home(gpid)) == 0) {
		free(node);
		req_error(r, SS_ERR_BAD, "malformed migrate request");
		return;
	}
	if (node[0] != '\0') {
		if (strcmp(node, g.name) == 0)
			dst = g.id;
		else if ((peer = peer_by_name(node)) != NULL)
			dst = peer->id;
		else {
			req_error(r, SS_ERR_NOT_FOUND, "%s: no such node",
			    node);
			goto out;
		}
	}
	if ((rj = rjob_by_gpid(gpid)) != NULL && !rj->exited &&
	    rj->restoring == RESTORING_NO && !rj->moved) {
		if ((rc = mig_start(r, rj, dst, why, sizeof(why))) != 0)
			req_error(r, rc, "%s", why);
		goto out;
	}
	/* Not here: the home knows where it runs; a node it left knows
	 * where it went. */
	if (home != g.id) {
		if (r->kind == REQ_PEER && r->from_node == home) {
			if (dir_forward_lookup(g.dir, gpid, &fnode, NULL, NULL)
			    == 0 && fnode != g.id && fnode != home)
				relay_migrate(r, fnode, gpid, node);
			else
				req_error(r, SS_ERR_NOT_FOUND, "the job does "
				    "not run on %s", g.name);
		} else
			relay_migrate(r, home, gpid, node);
		goto out;
	}
	memset(&dp, 0, sizeof(dp));
	if (dir_proc_get(g.dir, gpid, &dp) != 0) {
		req_error(r, SS_ERR_NOT_FOUND, "no such job");
		goto out;
	}
	if (dp.ended != 0)
		req_error(r, SS_ERR_NOT_FOUND, "the job has ended");
	else if (r->uid != 0 && r->uid != dp.uid)
		req_error(r, SS_ERR_PERM, "permission denied: the job belongs "
		    "to %s", dp.user);
	else if (dp.node == g.id)
		req_error(r, SS_ERR_BUSY, "the job is being moved or started: "
		    "try again");
	else
		relay_migrate(r, dp.node, gpid, node);
	dir_proc_clear(&dp);
out:
	free(node);
}

/* Target: MSG_RESTORE from a source's mover. */
void
rpc_restore(const struct req *r, struct buf *p)
{
	struct move_req mr;
	struct rjob *rj;
	uint8_t *raw;
	size_t rawlen = buf_len(p);
	int rc;

	/* As it came, for the arrivals row. */
	if ((raw = malloc(rawlen > 0 ? rawlen : 1)) == NULL) {
		req_error(r, SS_ERR_ALLOC, "%s: out of memory", g.name);
		return;
	}
	memcpy(raw, buf_ptr(p), rawlen);
	if (move_req_get(p, &mr) != 0 || buf_len(p) != 0) {
		req_error(r, SS_ERR_BAD, "malformed restore request");
		free(raw);
		return;
	}
	if (mr.src != r->from_node || gpid_home(mr.gpid) != mr.home)
		req_error(r, SS_ERR_BAD, "restore request does not add up");
	else if (g.draining)
		req_error(r, SS_ERR_DRAINING, "%s is draining", g.name);
	else if (!g.root)
		req_error(r, SS_ERR_UNSUPPORTED, "%s: a noded not run by root "
		    "cannot take moving jobs", g.name);
	else if ((rj = rjob_by_gpid(mr.gpid)) != NULL && rj->moved)
		/* It left here a moment ago and its last output is still on
		 * its way home: the mover asks again. */
		req_error(r, SS_ERR_BUSY, "job %llu is still leaving %s",
		    (unsigned long long)mr.gpid, g.name);
	else if (rj != NULL)
		req_error(r, SS_ERR_EXISTS, "job %llu is on %s already",
		    (unsigned long long)mr.gpid, g.name);
	/* The record first: a node that cannot keep it (a full disk)
	 * takes no job; one restarted later finds the copy by it. */
	else if ((rc = dir_arrival_put(g.dir, mr.gpid, raw, rawlen,
	    now_s())) != 0)
		req_error(r, rc, "%s cannot record the job: %s", g.name,
		    rc == SS_ERR_DB ? dir_errmsg(g.dir) : ss_strerror(rc));
	else if ((rc = job_restore_start(&mr, &rj)) != 0) {
		(void)dir_arrival_delete(g.dir, mr.gpid);
		req_error(r, rc, "%s cannot start a shepherd: %s", g.name,
		    ss_strerror(rc));
	} else {
		log_info("job %llu: coming from %s", (unsigned long long)mr.gpid,
		    node_name(mr.src));
		req_ok(r);
	}
	move_req_clear(&mr);
	free(raw);
}

/* The restoring job of gpid from node src, move mig (target side). */
static struct rjob *
restoring_job(uint64_t gpid, unsigned src, uint64_t mig)
{
	struct rjob *rj;

	TAILQ_FOREACH(rj, &g.rjobs, entry)
		if (rj->gpid == gpid && !rj->dead && rj->restoring !=
		    RESTORING_NO && rj->mig_src == src && rj->mig_src_id == mig)
			return rj;
	return NULL;
}

/* Target: the copy runs; it is a job of this node from now on. */
static void
commit_record(struct rjob *rj)
{
	struct dir_proc dp;

	if (rj->home == g.id) {
		dir_proc_set_location(g.dir, rj->gpid, g.id,
		    (pid_t)rj->info.pid, rj->info.starttime);
		dir_proc_set_state(g.dir, rj->gpid, "running");
	} else {
		memset(&dp, 0, sizeof(dp));
		dp.gpid = rj->gpid;
		dp.home = rj->home;
		dp.node = g.id;
		dp.pid = (pid_t)rj->info.pid;
		dp.starttime = rj->info.starttime;
		dp.uid = rj->uid;
		dp.user = rj->user;
		dp.cmd = rj->cmd;
		snprintf(dp.state, sizeof(dp.state), "running");
		dp.started = rj->started;
		dp.exit_code = -1;
		dp.moves = rj->moves;
		dp.pinned = (rj->flags & SPAWN_PINNED) ? 1 : 0;
		dp.name = rj->name[0] != '\0' ? rj->name : NULL;
		dp.log = rj->log;
		dp.role = DIR_ROLE_GUEST;
		if (dir_proc_insert(g.dir, &dp) == SS_ERR_EXISTS &&
		    dir_proc_delete(g.dir, rj->gpid) == 0)
			dir_proc_insert(g.dir, &dp);
	}
	(void)dir_arrival_delete(g.dir, rj->gpid);
	log_info("job %llu runs here now (from %s)",
	    (unsigned long long)rj->gpid, node_name(rj->mig_src));
	tell_home(rj->home, rj->gpid, MOVED_DONE, g.id, rj->info.pid,
	    rj->info.starttime);
}

static void
commit_here(struct rjob *rj, const void *in, size_t len)
{
	rjob_run_restored(rj, in, len);
	commit_record(rj);
}

/*
 * Target, at start: the shepherd of a copy whose arrivals row is still
 * here says its job runs: the COMMIT came before this noded went down,
 * and only the record was not made.
 */
void
mig_arrival_runs(struct rjob *rj)
{
	log_info("job %llu: its copy from %s runs: COMMIT came before we "
	    "restarted", (unsigned long long)rj->gpid, node_name(rj->mig_src));
	rj->restoring = RESTORING_NO;
	rj->placed_ms = now_ms();
	if (rj->stdin_eof && buf_len(rj->stdin_q) == 0)
		rjob_close_stdin(rj);
	commit_record(rj);
}

/* Target: MSG_COMMIT {gpid, mig id, stdin bytes}. */
void
rpc_commit(const struct req *r, struct buf *p)
{
	struct rjob *rj;
	struct buf *m;
	const uint8_t *in;
	uint64_t gpid, mig;
	size_t len;

	if (buf_get_u64(p, &gpid) != 0 || buf_get_u64(p, &mig) != 0 ||
	    buf_get_string_direct(p, &in, &len) != 0 || buf_len(p) != 0) {
		req_error(r, SS_ERR_BAD, "malformed commit");
		return;
	}
	if ((rj = restoring_job(gpid, r->from_node, mig)) == NULL ||
	    rj->restoring == RESTORING_IMAGE) {
		req_error(r, SS_ERR_NOT_FOUND, "no restored copy of job %llu "
		    "waits here", (unsigned long long)gpid);
		return;
	}
	commit_here(rj, in, len);
	if ((m = proto_msg_new(MSG_RESTORED)) != NULL &&
	    (buf_put_u64(m, gpid) != 0 || buf_put_u32(m, rj->info.pid) != 0 ||
	    buf_put_u64(m, rj->info.starttime) != 0 ||
	    proto_msg_finish(m) != 0)) {
		buf_free(m);
		m = NULL;
	}
	req_reply(r, m);
}

/* Target: MSG_ABORT {gpid, mig id}: the copy goes. */
void
rpc_abort(const struct req *r, struct buf *p)
{
	struct rjob *rj;
	uint64_t gpid, mig;

	if (buf_get_u64(p, &gpid) != 0 || buf_get_u64(p, &mig) != 0 ||
	    buf_len(p) != 0) {
		req_error(r, SS_ERR_BAD, "malformed abort");
		return;
	}
	if ((rj = restoring_job(gpid, r->from_node, mig)) != NULL) {
		log_info("job %llu: the move from %s was called off",
		    (unsigned long long)gpid, node_name(rj->mig_src));
		rjob_discard(rj);
	}
	req_ok(r);
}

/* Source: MSG_MIGRATE_QUERY {gpid, mig id} from a target that lost the
 * mover after it said ready: the record decides. */
void
rpc_migrate_query(const struct req *r, struct buf *p)
{
	struct dir_migration dm;
	struct rjob *rj;
	struct buf *m;
	uint64_t gpid, mig;
	uint8_t killed = 0;
	void *in = NULL;
	size_t len = 0;
	int rc;

	if (buf_get_u64(p, &gpid) != 0 || buf_get_u64(p, &mig) != 0 ||
	    buf_len(p) != 0) {
		req_error(r, SS_ERR_BAD, "malformed query");
		return;
	}
	if (dir_migration_get(g.dir, (int64_t)mig, &dm) != 0 ||
	    dm.gpid != gpid || dm.dst != r->from_node) {
		req_error(r, SS_ERR_NOT_FOUND, "no such move");
		return;
	}
	if (strcmp(dm.phase, "killed") == 0 || strcmp(dm.phase, "done") == 0)
		killed = 1;
	else if (strcmp(dm.phase, "begin") == 0) {
		/* Decided now, for good: a later READY is refused. */
		dir_migration_finish(g.dir, dm.id, "aborted", 0, "the target "
		    "lost the mover", now_s());
		/* A mover that lost us left the original stopped: it runs
		 * on (a live mover still holds it frozen and is refused). */
		if ((rj = rjob_by_gpid(gpid)) != NULL && !rj->moving &&
		    !rj->exited && rj->restoring == RESTORING_NO) {
			log_info("job %llu: its move was called off: it runs "
			    "on here", (unsigned long long)gpid);
			rjob_signal(rj, SIGCONT);
		}
	}
	dir_migration_clear(&dm);
	/* Its mover may still send the input and the COMMIT: the record is
	 * final only once the mover is gone. */
	if (killed && (rj = rjob_by_gpid(gpid)) != NULL && rj->moving &&
	    rj->mig_id == (int64_t)mig && rj->mover_fd != -1) {
		req_error(r, SS_ERR_BUSY, "the move of job %llu is still going "
		    "on", (unsigned long long)gpid);
		return;
	}
	/* A killed original still here (noded restarted mid-move) goes. */
	if (killed && (rj = rjob_by_gpid(gpid)) != NULL && !rj->exited &&
	    rj->restoring == RESTORING_NO) {
		rj->moved = 1;
		rj->moved_to = r->from_node;
		rjob_kill_tree(rj);
	}
	if (killed && (rc = dir_migration_input(g.dir, (int64_t)mig, &in,
	    &len)) != 0) {
		req_error(r, rc, "the input of the move: %s",
		    dir_errmsg(g.dir));
		return;
	}
	if ((m = proto_msg_new(MSG_MIGRATE_STATE)) != NULL &&
	    (buf_put_u8(m, killed) != 0 || buf_put_string(m, in, len) != 0 ||
	    proto_msg_finish(m) != 0)) {
		buf_free(m);
		m = NULL;
	}
	free(in);
	req_reply(r, m);
}

/* Home: MSG_MOVED {gpid, phase, node, pid, starttime}. */
void
rpc_moved(const struct req *r, struct buf *p)
{
	uint64_t gpid, st;
	uint32_t phase, node, pid;

	if (buf_get_u64(p, &gpid) != 0 || buf_get_u32(p, &phase) != 0 ||
	    buf_get_u32(p, &node) != 0 || buf_get_u32(p, &pid) != 0 ||
	    buf_get_u64(p, &st) != 0 || buf_len(p) != 0 ||
	    gpid_home(gpid) != g.id || phase > MOVED_DONE || node == 0 ||
	    node > 999) {
		req_error(r, SS_ERR_BAD, "malformed moved");
		return;
	}
	home_moved(gpid, phase, node, pid, st);
	req_ok(r);
}

/* Target: an orphaned copy asks its source's record. */
struct ask {
	uint64_t	 gpid;
	unsigned	 src;
	uint64_t	 mig;
};

static void
ask_reply(void *arg, uint8_t type, struct buf *p)
{
	struct ask *a = arg;
	struct rjob *rj;
	const uint8_t *in = NULL;
	size_t len = 0;		/* a source before schema 4 sends none */
	uint8_t killed;

	rj = restoring_job(a->gpid, a->src, a->mig);
	if (rj != NULL)
		rj->asking = 0;
	if (rj != NULL && rj->restoring == RESTORING_ORPHAN &&
	    type == MSG_MIGRATE_STATE && p != NULL &&
	    buf_get_u8(p, &killed) == 0 && (buf_len(p) == 0 ||
	    (buf_get_string_direct(p, &in, &len) == 0 && buf_len(p) == 0))) {
		if (killed)
			commit_here(rj, in, len);
		else {
			log_info("job %llu: %s kept the original: copy "
			    "discarded", (unsigned long long)a->gpid,
			    node_name(a->src));
			rjob_discard(rj);
		}
	} else if (rj != NULL)
		rj->ask_ms = now_ms() + MIG_ASK_MS;
	free(a);
}

static void
ask_orphans(int64_t now)
{
	struct rjob *rj;
	struct ask *a;
	struct buf *m;
	struct peer *p;

	TAILQ_FOREACH(rj, &g.rjobs, entry) {
		if (rj->dead || rj->restoring != RESTORING_ORPHAN ||
		    rj->asking || now < rj->ask_ms)
			continue;
		rj->ask_ms = now + MIG_ASK_MS;
		if ((p = peer_by_id(rj->mig_src)) == NULL || p->s == NULL ||
		    (a = calloc(1, sizeof(*a))) == NULL)
			continue;
		a->gpid = rj->gpid;
		a->src = rj->mig_src;
		a->mig = rj->mig_src_id;
		if ((m = proto_msg_new(MSG_MIGRATE_QUERY)) == NULL ||
		    buf_put_u64(m, a->gpid) != 0 ||
		    buf_put_u64(m, a->mig) != 0 ||
		    peer_call(p, NULL, m, ask_reply, a) != 0) {
			free(a);
			continue;
		}
		rj->asking = 1;
	}
}

/* CPU ticks of a process (utime + stime), 0 if unknown. */
static uint64_t
cpu_ticks(pid_t pid)
{
	char path[64], text[1024], *q;
	unsigned long long ut = 0, stt = 0;
	ssize_t n;
	int fd, i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	text[n] = '\0';
	if ((q = strrchr(text, ')')) == NULL)
		return 0;
	/* Fields 14 and 15 after the comm; q is before field 3. */
	for (i = 3; i < 14 && q != NULL; i++)
		q = strchr(q + 1, ' ');
	if (q == NULL || sscanf(q, " %llu %llu", &ut, &stt) != 2)
		return 0;
	return ut + stt;
}

/*
 * A job balancing may move: unpinned, running for a while, not moved
 * lately, and busy on the CPU (its leader's CPU time grew by at least a
 * third of the time since the last look: three such jobs share two CPUs).
 */
static struct rjob *
balance_candidate(int64_t now, int want_cpu)
{
	struct rjob *rj, *best = NULL;
	long hz = sysconf(_SC_CLK_TCK);
	uint64_t t;

	TAILQ_FOREACH(rj, &g.rjobs, entry) {
		if (rj->dead || !rj->have_info || rj->exited || rj->moving ||
		    rj->moved || rj->restoring != RESTORING_NO)
			continue;
		if (now - rj->mig_fail_ms < MIG_AGAIN_MS)
			continue;	/* tried lately, and failed */
		if (!want_cpu) {
			best = rj;	/* drain: any job */
			break;
		}
		if ((rj->flags & SPAWN_PINNED) || now - rj->placed_ms <
		    MIG_AGAIN_MS || now_s() - rj->started < MIG_MIN_AGE_S)
			continue;	/* pinned, moved lately, or too young */
		t = cpu_ticks((pid_t)rj->info.pid);
		if (rj->cpu_seen_ms != 0 && hz > 0 && (t - rj->cpu_ticks) *
		    1000 / (uint64_t)hz * 3 >= (uint64_t)(now -
		    rj->cpu_seen_ms) && best == NULL)
			best = rj;
		rj->cpu_ticks = t;
		rj->cpu_seen_ms = now;
	}
	return best;
}

/* Every round: orphans ask; every MIG_TICK_MS, drain and balancing. */
void
mig_tick(void)
{
	const struct conf_node *cn;
	struct rjob *rj;
	int64_t now = now_ms();
	double mine, mean = 0, sc, tsc;
	unsigned n = 0, dst;
	char why[512];
	size_t i;

	ask_orphans(now);
	if (now < next_tick_ms)
		return;
	next_tick_ms = now + MIG_TICK_MS;
	TAILQ_FOREACH(rj, &g.rjobs, entry)
		if (!rj->dead && rj->moving)
			return;		/* one move in flight per node */
	if (g.draining) {
		if ((rj = balance_candidate(now, 0)) != NULL &&
		    mig_start(NULL, rj, 0, why, sizeof(why)) != 0) {
			log_warn("drain: job %llu cannot move: %s",
			    (unsigned long long)rj->gpid, why);
			rj->mig_fail_ms = now;	/* try the others first */
		}
		return;
	}
	if (!g.conf->balance || now < settle_ms || g.conf_embedded)
		return;
	mine = place_score(g.id);
	for (i = 0; i < g.conf->nnodes; i++) {
		cn = &g.conf->nodes[i];
		if (cn->id != g.id && !place_usable(cn->id, why, sizeof(why)))
			continue;
		mean += place_score(cn->id);
		n++;
	}
	if (n < 2)
		return;
	mean /= n;
	if (mine - mean <= g.conf->threshold)
		return;
	if ((rj = balance_candidate(now, 1)) == NULL ||
	    (dst = pick_target()) == 0)
		return;
	/* No ping-pong: after the move the target is still below us. */
	tsc = place_score(dst);
	sc = 1.0 / (g.cpus > 0 ? g.cpus : 1);
	if (tsc + sc > mine - sc + 1e-9)
		return;
	log_info("balancing: load %.2f against a mean of %.2f: job %llu to %s",
	    mine, mean, (unsigned long long)rj->gpid, node_name(dst));
	if (mig_start(NULL, rj, dst, why, sizeof(why)) != 0) {
		log_info("balancing: job %llu cannot move: %s",
		    (unsigned long long)rj->gpid, why);
		rj->mig_fail_ms = now;
	}
}
