/*
 * rpc-io.c: the stream a tool sends for the job it follows: stdin bytes
 * (MSG_DATA stream 0), end of input (MSG_EOF) and window changes.
 */
#include "err.h"
#include "noded.h"

void
rpc_io(const struct req *r, uint8_t type, struct buf *p)
{
	struct hjob *hj;
	struct conn *c;
	const uint8_t *data;
	size_t len;
	uint32_t rows, cols;
	uint8_t stream;

	if ((c = conn_by_id(r->origin)) == NULL || c->io_gpid == 0 ||
	    (hj = hjob_by_gpid(c->io_gpid)) == NULL ||
	    !(hj->flags & SPAWN_IO))
		return;	/* the job ended: input has nowhere to go */
	switch (type) {
	case MSG_DATA:
		if (buf_get_u8(p, &stream) != 0 ||
		    buf_get_string_direct(p, &data, &len) != 0 ||
		    stream != 0 || len > PROTO_MAX_DATA) {
			req_error(r, SS_ERR_BAD, "malformed data");
			conn_close(c);
			return;
		}
		hjob_stdin(hj, data, len);
		break;
	case MSG_EOF:
		hjob_stdin_eof(hj);
		break;
	case MSG_WINCH:
		if (buf_get_u32(p, &rows) != 0 || buf_get_u32(p, &cols) != 0)
			return;
		if (hj->rj != NULL)
			rjob_winch(hj->rj, rows, cols);
		else if (hj->ch != NULL && hj->ch_state == HCH_OPEN)
			ssh_channel_change_pty_size(hj->ch, (int)cols,
			    (int)rows);
		break;
	}
}
