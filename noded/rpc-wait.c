/*
 * rpc-wait.c: MSG_WAIT: the tool's connection follows a job born here
 * until its end (MSG_EXITED); a job that has ended is answered at once.
 */
#include <string.h>

#include "err.h"
#include "noded.h"

void
rpc_wait(const struct req *r, struct buf *p)
{
	struct dir_proc dp;
	struct hjob *hj;
	struct conn *c;
	struct buf *m;
	uint64_t gpid;

	if (buf_get_u64(p, &gpid) != 0) {
		req_error(r, SS_ERR_BAD, "malformed wait");
		return;
	}
	if ((hj = hjob_by_gpid(gpid)) != NULL) {
		if (hj->uid != r->uid && r->uid != 0) {
			req_error(r, SS_ERR_PERM, "job %llu is not yours",
			    (unsigned long long)gpid);
			return;
		}
		if ((c = conn_by_id(r->origin)) != NULL)
			c->io_gpid = gpid;
		return;
	}
	memset(&dp, 0, sizeof(dp));
	if (dir_proc_get(g.dir, gpid, &dp) != 0 || dp.role != DIR_ROLE_HOME) {
		req_error(r, SS_ERR_NOT_FOUND, "job %llu was not born here",
		    (unsigned long long)gpid);
		dir_proc_clear(&dp);
		return;
	}
	if ((m = proto_msg_new(MSG_EXITED)) != NULL &&
	    (buf_put_u64(m, gpid) != 0 ||
	    buf_put_u32(m, (uint32_t)(dp.exit_code < 0 ? 255 : dp.exit_code))
	    != 0 || buf_put_u32(m, (uint32_t)dp.exit_signal) != 0)) {
		buf_free(m);
		m = NULL;
	}
	dir_proc_clear(&dp);
	req_reply(r, m);
}
