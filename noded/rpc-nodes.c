/*
 * rpc-nodes.c: MSG_NODES, what snodes shows: every node of the cluster
 * file with what it last reported (ourselves: measured now).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "noded.h"

void
rpc_nodes(const struct req *r, struct buf *p)
{
	struct node_info ni;
	struct buf *m;
	struct peer *peer;
	const struct conf_node *cn;
	struct timespec ts;
	int64_t wall_ms, mono = now_ms();
	size_t i;
	uint32_t n = 0;

	(void)p;
	clock_gettime(CLOCK_REALTIME, &ts);
	wall_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if ((m = proto_msg_new(MSG_NODES_REPLY)) == NULL ||
	    buf_put_u32(m, 0) != 0)
		goto fail;
	for (i = 0; i < g.conf->nnodes; i++) {
		cn = &g.conf->nodes[i];
		memset(&ni, 0, sizeof(ni));
		ni.id = cn->id;
		ni.name = cn->name;
		ni.addr = cn->address;
		ni.port = cn->port;
		if (cn->id == g.id) {
			ni.cpus = g.cpus;
			ni.mem_kb = sys_mem_total_kb();
			ni.memfree_kb = sys_mem_avail_kb();
			ni.load_milli = (uint32_t)(g.load * 1000 + 0.5);
			ni.jobs = (uint32_t)rjob_count();
			ni.state = g.draining ? "draining" : "up";
			ni.last_seen_ms = wall_ms;
		} else if ((peer = peer_by_id(cn->id)) != NULL) {
			ni.cpus = peer->load.cpus ? peer->load.cpus : cn->cpus;
			ni.mem_kb = peer->load.mem_kb;
			ni.memfree_kb = peer->load.memfree_kb;
			ni.load_milli = peer->load.load_milli;
			ni.jobs = peer->load.jobs;
			ni.state = peer->state != PEER_UP ? "down" :
			    peer->load.draining ? "draining" : "up";
			ni.last_seen_ms = peer->last_heard_ms == 0 ? 0 :
			    wall_ms - (mono - peer->last_heard_ms);
		} else
			continue;
		if (node_info_put(m, &ni) != 0)
			goto fail;
		n++;
	}
	buf_poke_u32(m, 5, n);
	req_reply(r, m);
	return;
fail:
	buf_free(m);
	req_error(r, SS_ERR_ALLOC, "out of memory");
}
