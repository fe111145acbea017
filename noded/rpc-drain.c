/*
 * rpc-drain.c: MSG_DRAIN, snodes drain/undrain.  A node drains itself:
 * the request goes to it, it stops taking jobs, remembers that in its
 * directory and tells its peers in its next load report (sent at once).
 * In a system cluster only root may drain a node.
 */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "noded.h"

struct drain_ctx {
	struct req	 req;
};

static void
drained(void *arg, uint8_t type, struct buf *p)
{
	struct drain_ctx *dc = arg;
	char *msg = NULL;
	int code;

	if (type == MSG_OK)
		req_ok(&dc->req);
	else if (type == MSG_ERROR && p != NULL &&
	    proto_get_error(p, &code, &msg) == 0)
		req_error(&dc->req, code, "%s", msg);
	else
		req_error(&dc->req, SS_ERR_PROTO, "bad answer");
	free(msg);
	free(dc);
}

void
rpc_drain(const struct req *r, struct buf *p)
{
	struct drain_ctx *dc;
	struct peer *peer;
	struct buf *m;
	char *node = NULL;
	uint8_t on;

	if (buf_get_cstring(p, PROTO_MAX_NAME, &node) != 0 ||
	    buf_get_u8(p, &on) != 0 || on > 1) {
		req_error(r, SS_ERR_BAD, "malformed drain request");
		goto out;
	}
	if (g.root && r->uid != 0) {
		req_error(r, SS_ERR_PERM, "only root may drain a node");
		goto out;
	}
	if (strcmp(node, g.name) == 0) {
		g.draining = on;
		dir_node_set_state(g.dir, g.id, on ? "draining" : "up");
		log_info("%s by uid %u", on ? "draining" : "undrained",
		    (unsigned)r->uid);
		peer_push_load();
		req_ok(r);
		goto out;
	}
	if (r->kind != REQ_LOCAL) {
		req_error(r, SS_ERR_NOT_FOUND, "%s is not %s", g.name, node);
		goto out;
	}
	if ((peer = peer_by_name(node)) == NULL) {
		req_error(r, SS_ERR_NOT_FOUND, "%s: no such node", node);
		goto out;
	}
	if ((dc = calloc(1, sizeof(*dc))) == NULL ||
	    (m = proto_msg_new(MSG_DRAIN)) == NULL ||
	    buf_put_cstring(m, node) != 0 || buf_put_u8(m, on) != 0) {
		free(dc);
		req_error(r, SS_ERR_ALLOC, "out of memory");
		goto out;
	}
	dc->req = *r;
	if (peer_call(peer, r, m, drained, dc) != 0) {
		free(dc);
		req_error(r, SS_ERR_DOWN, "%s is down", node);
	}
out:
	free(node);
}
