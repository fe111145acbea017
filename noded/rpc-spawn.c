/*
 * rpc-spawn.c: MSG_SPAWN from a tool: a new job born on this node.
 *
 * Steps: check the request; for --unique, look for a running job of that
 * name (in one transaction with the insert, so two cron runs cannot both
 * start); choose the node (place.c); take the next GPID; open the log as
 * the user would; record the job; start it here or send MSG_RUN to the
 * chosen node.  The reply, MSG_SPAWNED, comes once the job runs.  With
 * SPAWN_WAIT or SPAWN_IO the tool's connection then follows the job.
 */
#include <sys/fsuid.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "gpid.h"
#include "log.h"
#include "noded.h"

struct spawn_ctx {
	struct req	 req;
	uint64_t	 gpid;
	unsigned	 node;
};

/* Opens the job's log: the default as noded (then given to the user), a
 * path of the user's choosing with the user's own rights. */
static int
open_log(const struct req *r, const char *path, int dflt)
{
	int fd, saved;

	if (dflt || !g.root) {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
		    O_NOFOLLOW, 0600);
		if (fd != -1 && g.root && fchown(fd, r->uid, r->gid) == -1)
			log_warn("%s: chown: %s", path, strerror(errno));
		return fd;
	}
	setfsgid(r->gid);
	setfsuid(r->uid);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	saved = errno;
	setfsuid(0);
	setfsgid(0);
	errno = saved;
	return fd;
}

static void
run_reply(void *arg, uint8_t type, struct buf *payload)
{
	struct spawn_ctx *sc = arg;
	struct hjob *hj = hjob_by_gpid(sc->gpid);
	struct buf *m;
	uint64_t gpid;
	uint32_t pid, flags;
	char *node = NULL, *emsg = NULL;
	int code;

	if (type == MSG_SPAWNED && payload != NULL &&
	    buf_get_u64(payload, &gpid) == 0 &&
	    buf_get_cstring(payload, PROTO_MAX_NAME, &node) == 0 &&
	    buf_get_u32(payload, &pid) == 0 &&
	    buf_get_u32(payload, &flags) == 0 && gpid == sc->gpid) {
		dir_proc_set_location(g.dir, gpid, sc->node, (pid_t)pid, 0);
		dir_proc_set_state(g.dir, gpid, "running");
		if (hj != NULL) {
			hjob_attach_all(sc->node);
		}
		if ((m = proto_msg_new(MSG_SPAWNED)) != NULL &&
		    (buf_put_u64(m, gpid) != 0 ||
		    buf_put_cstring(m, node) != 0 ||
		    buf_put_u32(m, pid) != 0 || buf_put_u32(m, 0) != 0)) {
			buf_free(m);
			m = NULL;
		}
		req_reply(&sc->req, m);
	} else {
		if (type == MSG_ERROR && payload != NULL &&
		    proto_get_error(payload, &code, &emsg) == 0)
			req_error(&sc->req, code, "%s", emsg);
		else
			req_error(&sc->req, SS_ERR_PROTO, "%s: bad answer",
			    node_name(sc->node));
		/* It never ran: forget it. */
		if (hj != NULL) {
			hj->io_conn = 0;
			hj->dead = 1;
		}
		dir_proc_delete(g.dir, sc->gpid);
	}
	free(node);
	free(emsg);
	free(sc);
}

static char *
argv_blob(const struct spawn_req *sp, size_t *lenp)
{
	size_t len = 0, i, k;
	char *b;

	for (i = 0; i < sp->argc; i++)
		len += strlen(sp->argv[i]) + 1;
	if ((b = malloc(len + 1)) == NULL)
		return NULL;
	for (k = 0, i = 0; i < sp->argc; i++) {
		size_t n = strlen(sp->argv[i]) + 1;

		memcpy(b + k, sp->argv[i], n);
		k += n;
	}
	*lenp = len;
	return b;
}

void
rpc_spawn(const struct req *r, struct buf *p)
{
	struct spawn_req sp;
	struct dir_proc dp;
	struct hjob *hj = NULL;
	struct rjob *rj;
	struct spawn_ctx *sc;
	struct conn *c;
	struct buf *m;
	char err[256], logpath[PROTO_MAX_PATH + 64], *cmd = NULL;
	char *blob = NULL;
	size_t bloblen = 0;
	uint64_t seq, gpid, other;
	uint32_t seq32;
	unsigned node;
	int rc, fd = -1, intx = 0;

	if (spawn_req_get(p, &sp) != 0) {
		req_error(r, SS_ERR_BAD, "malformed spawn request");
		return;
	}
	if (sp.cwd[0] != '/' || (sp.log[0] != '\0' && sp.log[0] != '/')) {
		req_error(r, SS_ERR_BAD, "cwd and log must be absolute paths");
		goto out;
	}
	if ((sp.flags & SPAWN_UNIQUE) && sp.name[0] == '\0') {
		req_error(r, SS_ERR_BAD, "--unique needs --name");
		goto out;
	}
	if (dir_begin(g.dir) != 0) {
		req_error(r, SS_ERR_DB, "directory: %s", dir_errmsg(g.dir));
		goto out;
	}
	intx = 1;
	if ((sp.flags & SPAWN_UNIQUE) &&
	    dir_proc_running_by_name(g.dir, r->uid, sp.name, &other) == 0) {
		memset(&dp, 0, sizeof(dp));
		rc = dir_proc_get(g.dir, other, &dp);
		if ((m = proto_msg_new(MSG_SPAWNED)) != NULL &&
		    (buf_put_u64(m, other) != 0 ||
		    buf_put_cstring(m, rc == 0 ? node_name(dp.node) : "") != 0 ||
		    buf_put_u32(m, rc == 0 ? (uint32_t)dp.pid : 0) != 0 ||
		    buf_put_u32(m, SPAWNED_EXISTING) != 0)) {
			buf_free(m);
			m = NULL;
		}
		if (rc == 0)
			dir_proc_clear(&dp);
		req_reply(r, m);
		goto out;
	}
	if (place_choose((sp.flags & SPAWN_PINNED) ? sp.node : NULL, &node,
	    err, sizeof(err)) != 0) {
		req_error(r, SS_ERR_DOWN, "%s", err);
		goto out;
	}
	if ((rc = dir_next_seq(g.dir, &seq)) != 0 ||
	    (rc = gpid_encode(seq, g.id, &gpid)) != 0) {
		req_error(r, rc, "cannot number the job");
		goto out;
	}
	if (sp.log[0] == '\0') {
		snprintf(logpath, sizeof(logpath), "%s/jobs/%llu.log",
		    g.statedir, (unsigned long long)gpid);
		fd = open_log(r, logpath, 1);
	} else {
		snprintf(logpath, sizeof(logpath), "%s", sp.log);
		fd = open_log(r, logpath, 0);
	}
	if (fd == -1) {
		req_error(r, SS_ERR_SYSTEM, "%s: %s", logpath, strerror(errno));
		goto out;
	}
	free(sp.log);
	if ((sp.log = strdup(logpath)) == NULL ||
	    (cmd = sp.cmd[0] != '\0' ? strdup(sp.cmd) : join_argv(sp.argv)) ==
	    NULL || (blob = argv_blob(&sp, &bloblen)) == NULL) {
		req_error(r, SS_ERR_ALLOC, "out of memory");
		goto out;
	}
	memset(&dp, 0, sizeof(dp));
	dp.gpid = gpid;
	dp.home = g.id;
	dp.node = node;
	dp.uid = r->uid;
	dp.user = (char *)r->user;
	dp.cmd = cmd;
	dp.argv = (uint8_t *)blob;
	dp.argv_len = bloblen;
	snprintf(dp.state, sizeof(dp.state), "starting");
	dp.started = now_s();
	dp.exit_code = -1;
	dp.pinned = (sp.flags & SPAWN_PINNED) ? 1 : 0;
	dp.name = sp.name[0] != '\0' ? sp.name : NULL;
	dp.log = sp.log;
	dp.role = DIR_ROLE_HOME;
	if ((rc = dir_proc_insert(g.dir, &dp)) != 0 ||
	    (rc = dir_commit(g.dir)) != 0) {
		req_error(r, rc, "directory: %s", dir_errmsg(g.dir));
		goto out;
	}
	intx = 0;
	if ((hj = hjob_new(gpid, node, r->uid, sp.flags, fd)) == NULL) {
		req_error(r, SS_ERR_ALLOC, "out of memory");
		dir_proc_delete(g.dir, gpid);
		goto out;
	}
	fd = -1;
	if (sp.flags & (SPAWN_WAIT | SPAWN_IO)) {
		if ((c = conn_by_id(r->origin)) != NULL)
			c->io_gpid = gpid;
		hj->io_conn = r->origin;
	}
	seq32 = place_count(node);
	if (node == g.id) {
		if ((rc = job_start(r, gpid, g.id, &sp, r->uid, r->gid,
		    r->user, &rj)) != 0) {
			req_error(r, rc, "cannot start the job");
			hj->dead = 1;
			hj->io_conn = 0;
			dir_proc_delete(g.dir, gpid);
			goto out;
		}
		rj->hj = hj;
		hj->rj = rj;
		goto out;
	}
	if ((sc = calloc(1, sizeof(*sc))) == NULL ||
	    (m = proto_msg_new(MSG_RUN)) == NULL) {
		free(sc);
		req_error(r, SS_ERR_ALLOC, "out of memory");
		goto undo;
	}
	sc->req = *r;
	sc->gpid = gpid;
	sc->node = node;
	if (buf_put_u64(m, gpid) != 0 || buf_put_u32(m, g.id) != 0 ||
	    buf_put_u32(m, seq32) != 0 || spawn_req_put(m, &sp) != 0 ||
	    (rc = peer_call(peer_by_id(node), r, m, run_reply, sc)) != 0) {
		free(sc);
		req_error(r, SS_ERR_DOWN, "%s: cannot send the job",
		    node_name(node));
		goto undo;
	}
	/* Attach at once: the channel open travels behind MSG_RUN on the
	 * same connection, so the job exists when it arrives, and a job
	 * that ends at once does not wait for us to come asking. */
	hjob_attach_all(node);
	goto out;
undo:
	hj->dead = 1;
	hj->io_conn = 0;
	dir_proc_delete(g.dir, gpid);
out:
	if (intx)
		dir_rollback(g.dir);
	if (fd != -1)
		close(fd);
	free(cmd);
	free(blob);
	spawn_req_clear(&sp);
}
