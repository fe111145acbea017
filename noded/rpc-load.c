/*
 * rpc-load.c: MSG_LOAD, a peer's load report, pushed every second.
 */
#include "err.h"
#include "log.h"
#include "noded.h"

void
rpc_load(const struct req *r, struct buf *p)
{
	struct load_report l;
	struct peer *peer;

	if ((peer = peer_by_id(r->from_node)) == NULL)
		return;
	if (load_report_get(p, &l) != 0) {
		log_warn("%s: bad load report", peer->name);
		return;
	}
	if (l.draining != peer->load.draining)
		dir_node_set_state(g.dir, peer->id, l.draining ? "draining" :
		    "up");
	peer->load = l;
	peer->reported = 1;
	dir_node_set_load(g.dir, peer->id, l.load_milli / 1000.0, l.cpus,
	    l.memfree_kb * 1024, now_s());
}
