/*
 * rpc-hello.c: MSG_HELLO from a tool: our version, node name and id.
 */
#include "err.h"
#include "noded.h"

void
rpc_hello(const struct req *r, struct buf *p)
{
	struct buf *m;
	uint32_t ver;

	if (buf_get_u32(p, &ver) != 0) {
		req_error(r, SS_ERR_BAD, "bad hello");
		return;
	}
	if (ver != PROTO_VERSION) {
		req_error(r, SS_ERR_VERSION, "this noded speaks protocol "
		    "version %u, the tool %u", PROTO_VERSION, ver);
		return;
	}
	if ((m = proto_msg_new(MSG_HELLO)) != NULL &&
	    (buf_put_u32(m, PROTO_VERSION) != 0 ||
	    buf_put_cstring(m, g.name) != 0 ||
	    buf_put_u32(m, g.id) != 0 ||
	    buf_put_cstring(m, g.conf->cluster) != 0)) {
		buf_free(m);
		m = NULL;
	}
	req_reply(r, m);
}
