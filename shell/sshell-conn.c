/*
 * sshell-conn.c: sshell's connections to the local noded.
 *
 * client_connect() (common/client.c) finds noded's socket and starts the
 * user's noded when DESIGN.md says to; everything after the connect is
 * done here, because client_call/client_read keep one static read buffer
 * and so serve one connection per process, while sshell keeps one per
 * job (each SPAWN_WAIT job talks on its own connection until MSG_EXITED)
 * plus short ones for signals, listings and completion.  Each struct conn
 * therefore owns its read buffer, and frames are taken from it with
 * proto_frame_take(), so the event loop can read whatever is there
 * without blocking and take whole frames only.
 *
 * The hello is sent in the same write as the first request, and noded's
 * hello is skipped (after a version check) by whichever read sees it
 * first: a round trip saved on every job launch.
 */
#include <sys/socket.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "client.h"
#include "err.h"
#include "proto.h"
#include "sshell.h"

#define CONN_IN_MAX	(PROTO_MAX_FRAME + 4 + 2 * 65536)

int
conn_open(struct conn *c)
{
	c->fd = -1;
	c->hello = 0;
	if ((c->in = buf_new(CONN_IN_MAX)) == NULL) {
		fprintf(stderr, "sshell: out of memory\n");
		return -1;
	}
	if ((c->fd = client_connect("sshell")) == -1) {
		buf_free(c->in);
		c->in = NULL;
		return -1;
	}
	return 0;
}

void
conn_close(struct conn *c)
{
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	buf_free(c->in);
	c->in = NULL;
}

int
conn_send(struct conn *c, struct buf *req)
{
	struct buf *out = NULL;
	int r = -1;

	if (c->fd == -1)
		goto out;
	if (proto_msg_finish(req) != 0)
		goto out;
	if (c->hello == 0) {
		/* First request: the hello goes in the same write. */
		if ((out = proto_msg_new(MSG_HELLO)) == NULL ||
		    buf_put_u32(out, PROTO_VERSION) != 0 ||
		    buf_put_cstring(out, "sshell") != 0 ||
		    buf_put_u32(out, 0) != 0 || proto_msg_finish(out) != 0 ||
		    buf_put(out, buf_ptr(req), buf_len(req)) != 0)
			goto out;
		c->hello = -1;	/* sent, reply not read yet */
		r = client_send_all(c->fd, out);
	} else
		r = client_send_all(c->fd, req);
out:
	buf_free(out);
	buf_free(req);
	return r;
}

/*
 * Takes a frame if one is whole; skips noded's hello.  0 with a frame, 1
 * if more bytes are needed, -1 if the stream is broken or noded refused.
 */
int
conn_take(struct conn *c, uint8_t *type, struct buf **payload)
{
	uint32_t version;
	int r;

	for (;;) {
		*payload = NULL;
		r = proto_frame_take(c->in, type, payload);
		if (r == SS_ERR_SHORT)
			return 1;
		if (r != 0) {
			fprintf(stderr, "sshell: from noded: %s\n",
			    ss_strerror(r));
			return -1;
		}
		if (c->hello != -1 || *type != MSG_HELLO)
			return 0;
		r = buf_get_u32(*payload, &version);
		buf_free(*payload);
		*payload = NULL;
		if (r != 0 || version != PROTO_VERSION) {
			fprintf(stderr, "sshell: noded speaks another "
			    "protocol version\n");
			return -1;
		}
		c->hello = 1;
	}
}

int
conn_fill(struct conn *c)
{
	uint8_t *p;
	ssize_t n;

	if (buf_reserve(c->in, 65536, &p) != 0) {
		fprintf(stderr, "sshell: from noded: frame too long\n");
		return -1;
	}
	do
		n = read(c->fd, p, 65536);
	while (n == -1 && errno == EINTR);
	buf_consume_end(c->in, 65536 - (n > 0 ? (size_t)n : 0));
	if (n == -1 && errno == EAGAIN)
		return 0;
	if (n <= 0)
		return -1;
	return 0;
}

int
conn_read(struct conn *c, uint8_t *type, struct buf **payload)
{
	int r;

	for (;;) {
		if ((r = conn_take(c, type, payload)) <= 0)
			return r;
		if (conn_fill(c) != 0) {
			fprintf(stderr, "sshell: noded closed the "
			    "connection\n");
			return -1;
		}
	}
}

int
conn_call(struct buf *req, uint8_t *type, struct buf **payload)
{
	struct conn c;
	int r;

	*payload = NULL;
	if (conn_open(&c) != 0) {
		buf_free(req);
		return -1;
	}
	if ((r = conn_send(&c, req)) == 0)
		r = conn_read(&c, type, payload);
	conn_close(&c);
	return r;
}

int
conn_signal(uint64_t gpid, int sig)
{
	struct signal_req q;
	struct buf *m, *reply = NULL;
	char *msg = NULL;
	uint64_t g;
	uint32_t n, i, code;
	uint8_t type;
	int r = -1;

	memset(&q, 0, sizeof(q));
	q.sig = (uint32_t)sig;
	q.at = "";
	q.arg = "";
	q.selector = SEL_GPIDS;
	q.ngpids = 1;
	q.gpids = &gpid;
	if ((m = proto_msg_new(MSG_SIGNAL)) == NULL ||
	    signal_req_put(m, &q) != 0) {
		buf_free(m);
		return -1;
	}
	if (conn_call(m, &type, &reply) != 0)
		goto out;
	if (client_expect(type, reply, MSG_SIGNAL_REPLY) != 0)
		goto out;
	/* u32 n, n * (u64 gpid, u32 code, string message) */
	if (buf_get_u32(reply, &n) != 0) {
		client_bad_reply("signal reply", SS_ERR_BAD);
		goto out;
	}
	r = 0;
	for (i = 0; i < n; i++) {
		if (buf_get_u64(reply, &g) != 0 ||
		    buf_get_u32(reply, &code) != 0 ||
		    buf_get_cstring(reply, PROTO_MAX_STR, &msg) != 0) {
			client_bad_reply("signal reply", SS_ERR_BAD);
			r = -1;
			break;
		}
		if (code != 0) {
			fprintf(stderr, "sshell: %" PRIu64 ": ", g);
			client_put_display(stderr, *msg != '\0' ? msg :
			    ss_strerror((int32_t)code));
			fputc('\n', stderr);
			r = -1;
		}
		free(msg);
		msg = NULL;
	}
out:
	buf_free(reply);
	return r;
}
