/*
 * rpc-run.c: MSG_RUN from a home node: run its job here, as its user.
 * We record the job as our guest and answer MSG_SPAWNED once the shepherd
 * has started it; the home then attaches to its I/O.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "gpid.h"
#include "log.h"
#include "noded.h"

void
rpc_run(const struct req *r, struct buf *p)
{
	struct spawn_req sp;
	struct dir_proc dp;
	struct rjob *rj;
	uint64_t gpid;
	uint32_t home, seq;
	struct peer *peer;
	char *cmd = NULL;
	int rc;

	memset(&sp, 0, sizeof(sp));
	if (buf_get_u64(p, &gpid) != 0 || buf_get_u32(p, &home) != 0 ||
	    buf_get_u32(p, &seq) != 0 || spawn_req_get(p, &sp) != 0 || !gpid_valid(gpid) ||
	    gpid_home(gpid) != home || home != r->from_node) {
		req_error(r, SS_ERR_BAD, "malformed run request");
		spawn_req_clear(&sp);
		return;
	}
	/* Counted in our next load report to the home, taken or not. */
	if ((peer = peer_by_id(home)) != NULL && seq > peer->runs_taken)
		peer->runs_taken = seq;
	if (!g.root && r->uid != g.owner) {
		req_error(r, SS_ERR_PERM, "%s runs jobs of uid %u only", g.name,
		    (unsigned)g.owner);
		goto out;
	}
	if (g.root && getpwnam(r->user) == NULL) {
		req_error(r, SS_ERR_NOT_FOUND, "%s: no user %s here", g.name,
		    r->user);
		goto out;
	}
	if (g.draining) {
		req_error(r, SS_ERR_DRAINING, "%s is draining", g.name);
		goto out;
	}
	if (rjob_by_gpid(gpid) != NULL) {
		req_error(r, SS_ERR_EXISTS, "job %llu runs here already",
		    (unsigned long long)gpid);
		goto out;
	}
	memset(&dp, 0, sizeof(dp));
	dp.gpid = gpid;
	dp.home = home;
	dp.node = g.id;
	dp.uid = r->uid;
	dp.user = (char *)r->user;
	if ((cmd = sp.cmd[0] != '\0' ? strdup(sp.cmd) : join_argv(sp.argv))
	    == NULL) {
		req_error(r, SS_ERR_ALLOC, "out of memory");
		goto out;
	}
	dp.cmd = cmd;
	snprintf(dp.state, sizeof(dp.state), "starting");
	dp.started = now_s();
	dp.exit_code = -1;
	dp.pinned = (sp.flags & SPAWN_PINNED) ? 1 : 0;
	dp.name = sp.name[0] != '\0' ? sp.name : NULL;
	dp.log = sp.log;
	dp.role = DIR_ROLE_GUEST;
	/* A row of an earlier stay of this job is replaced. */
	if ((rc = dir_proc_insert(g.dir, &dp)) == SS_ERR_EXISTS &&
	    (rc = dir_proc_delete(g.dir, gpid)) == 0)
		rc = dir_proc_insert(g.dir, &dp);
	if (rc != 0) {
		req_error(r, rc, "directory: %s", dir_errmsg(g.dir));
		goto out;
	}
	if ((rc = job_start(r, gpid, home, &sp, r->uid, r->gid, r->user,
	    &rj)) != 0) {
		req_error(r, rc, "%s: cannot start the job", g.name);
		dir_proc_delete(g.dir, gpid);
	}
out:
	free(cmd);
	spawn_req_clear(&sp);
}
