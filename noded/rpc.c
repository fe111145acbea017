/*
 * rpc.c: the dispatch table of every request noded serves.
 *
 * Each entry says which origins may send the message (a tool on the Unix
 * socket, a peer on its control channel) and which handler serves it; a
 * message not in the table, or from the wrong origin, is refused with
 * MSG_ERROR and logged.  Handlers live one per file, rpc-<verb>.c, and
 * answer through req_reply()/req_error(), now or later.
 */
#include <stdarg.h>
#include <stdio.h>

#include "err.h"
#include "log.h"
#include "noded.h"

#define FROM_LOCAL	0x01	/* a tool on our socket */
#define FROM_PEER	0x02	/* another node */

struct rpc_entry {
	uint8_t		 type;
	int		 from;
	void		(*fn)(const struct req *, struct buf *);
};

static const struct rpc_entry rpc_table[] = {
	{ MSG_HELLO,	FROM_LOCAL,		rpc_hello },
	{ MSG_SPAWN,	FROM_LOCAL,		rpc_spawn },
	{ MSG_RUN,	FROM_PEER,		rpc_run },
	{ MSG_WAIT,	FROM_LOCAL,		rpc_wait },
	{ MSG_LIST,	FROM_LOCAL | FROM_PEER,	rpc_list },
	{ MSG_SIGNAL,	FROM_LOCAL | FROM_PEER,	rpc_signal },
	{ MSG_NODES,	FROM_LOCAL,		rpc_nodes },
	{ MSG_DRAIN,	FROM_LOCAL | FROM_PEER,	rpc_drain },
	{ MSG_LOAD,	FROM_PEER,		rpc_load },
	{ MSG_MIGRATE,	FROM_LOCAL | FROM_PEER,	rpc_migrate },
	{ MSG_RESTORE,	FROM_PEER,		rpc_restore },
	{ MSG_COMMIT,	FROM_PEER,		rpc_commit },
	{ MSG_ABORT,	FROM_PEER,		rpc_abort },
	{ MSG_MOVED,	FROM_PEER,		rpc_moved },
	{ MSG_MIGRATE_QUERY, FROM_PEER,		rpc_migrate_query },
};

void
rpc_dispatch(const struct req *r, uint8_t type, struct buf *payload)
{
	size_t i;
	int from = r->kind == REQ_LOCAL ? FROM_LOCAL : FROM_PEER;

	/* Stdin, window changes: a stream on a tool's connection. */
	if (r->kind == REQ_LOCAL && (type == MSG_DATA || type == MSG_EOF ||
	    type == MSG_WINCH)) {
		rpc_io(r, type, payload);
		return;
	}
	for (i = 0; i < sizeof(rpc_table) / sizeof(rpc_table[0]); i++) {
		if (rpc_table[i].type != type)
			continue;
		if (!(rpc_table[i].from & from))
			break;
		log_debug("%s from %s uid %u", proto_msg_name(type),
		    r->kind == REQ_LOCAL ? "tool" : node_name(r->from_node),
		    (unsigned)r->uid);
		rpc_table[i].fn(r, payload);
		return;
	}
	log_warn("message %u (%s) refused from %s", type,
	    proto_msg_name(type), r->kind == REQ_LOCAL ? "a tool" :
	    node_name(r->from_node));
	req_error(r, SS_ERR_PROTO, "message %u not allowed here", type);
}

void
req_reply(const struct req *r, struct buf *frame)
{
	struct conn *c;

	if (frame == NULL) {
		log_err("out of memory for a reply");
		return;
	}
	if (proto_msg_finish(frame) != 0) {
		buf_free(frame);
		frame = proto_error(SS_ERR_TOO_LONG, "reply too long");
		if (frame == NULL)
			return;
	}
	switch (r->kind) {
	case REQ_LOCAL:
		if ((c = conn_by_id(r->origin)) != NULL)
			conn_send(c, frame);
		else
			buf_free(frame);
		break;
	case REQ_PEER:
		insess_reply(r->origin, r->reqid, frame);
		break;
	default:
		buf_free(frame);
	}
}

/*
 * An error reply.  For a malformed or misplaced message (SS_ERR_BAD,
 * SS_ERR_PROTO, SS_ERR_TOO_LONG, SS_ERR_VERSION) the connection is closed
 * once the reply is out: nothing after a broken frame can be trusted.
 */
void
req_error(const struct req *r, int code, const char *fmt, ...)
{
	char msg[1024];
	struct conn *c;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	req_reply(r, proto_error(code, "%s", msg));
	if (code != SS_ERR_BAD && code != SS_ERR_PROTO &&
	    code != SS_ERR_TOO_LONG && code != SS_ERR_VERSION)
		return;
	if (r->kind == REQ_LOCAL && (c = conn_by_id(r->origin)) != NULL)
		conn_close_after_reply(c);
	else if (r->kind == REQ_PEER)
		insess_drop(r->origin);
}

void
req_ok(const struct req *r)
{
	req_reply(r, proto_msg_new(MSG_OK));
}
