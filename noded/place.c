/*
 * place.c: placement at exec time.
 *
 * least-loaded: the node with the least (jobs + extra load) / cpus, where
 * jobs counts the jobs running there (as last reported, plus those we
 * placed since: no herd) and extra load is the whole runnable tasks
 * beyond those jobs (other work on the machine).  Ties go to the node with more
 * free memory, then to the lower id.  round-robin: each usable node in
 * turn.  local: this node.  Down and draining nodes are never chosen;
 * a pinned job goes where it is pinned or fails with the reason.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "noded.h"

struct cand {
	unsigned	 id;
	double		 score;
	uint64_t	 memfree;
};

int
place_usable(unsigned id, char *err, size_t errlen)
{
	struct peer *p;

	if (id == g.id) {
		if (g.draining) {
			snprintf(err, errlen, "%s is draining", g.name);
			return 0;
		}
		return 1;
	}
	if ((p = peer_by_id(id)) == NULL) {
		snprintf(err, errlen, "no such node");
		return 0;
	}
	if (p->state != PEER_UP || p->s == NULL) {
		snprintf(err, errlen, "%s is down", p->name);
		return 0;
	}
	if (p->load.draining) {
		snprintf(err, errlen, "%s is draining", p->name);
		return 0;
	}
	return 1;
}

static void
score(unsigned id, struct cand *c)
{
	struct peer *p;
	double jobs, load, extra;
	unsigned cpus;

	c->id = id;
	if (id == g.id) {
		jobs = rjob_count();
		load = g.load;
		cpus = g.cpus;
		c->memfree = sys_mem_avail_kb();
	} else {
		p = peer_by_id(id);
		/* Its report counts our jobs up to runs_seen; the rest are
		 * on their way. */
		jobs = p->load.jobs;
		if ((int32_t)(p->runs_sent - p->load.runs_seen) > 0)
			jobs += (int32_t)(p->runs_sent - p->load.runs_seen);
		load = p->load.load_milli / 1000.0;
		cpus = p->load.cpus;
		c->memfree = p->load.memfree_kb;
	}
	/* Only whole tasks count as other work: the tools and noded itself
	 * make a runnable blip now and then, which must not steer jobs. */
	extra = floor(load - jobs);
	if (extra < 0)
		extra = 0;
	c->score = (jobs + extra) / (cpus > 0 ? cpus : 1);
}

/* The placement score of node id (lower is better), for balancing. */
double
place_score(unsigned id)
{
	struct cand c;

	score(id, &c);
	return c.score;
}

int
place_choose(const char *pin, unsigned *idp, char *err, size_t errlen)
{
	const struct conf_node *cn;
	struct cand best, c;
	size_t i, k;
	int have = 0;

	if (pin != NULL && pin[0] != '\0') {
		if ((cn = conf_node_by_name(g.conf, pin)) == NULL) {
			snprintf(err, errlen, "%s: no such node", pin);
			return SS_ERR_NOT_FOUND;
		}
		if (!place_usable(cn->id, err, errlen))
			return SS_ERR_DOWN;
		*idp = cn->id;
		return 0;
	}
	if (g.conf->placement == CONF_PLACE_LOCAL) {
		if (!place_usable(g.id, err, errlen))
			return SS_ERR_DRAINING;
		*idp = g.id;
		return 0;
	}
	if (g.conf->placement == CONF_PLACE_ROUND_ROBIN) {
		for (k = 0; k < g.conf->nnodes; k++) {
			i = (g.rr_next + k) % g.conf->nnodes;
			cn = &g.conf->nodes[i];
			if (place_usable(cn->id, err, errlen)) {
				g.rr_next = (unsigned)(i + 1);
				*idp = cn->id;
				return 0;
			}
		}
		snprintf(err, errlen, "no node can take a job");
		return SS_ERR_DOWN;
	}
	memset(&best, 0, sizeof(best));
	for (i = 0; i < g.conf->nnodes; i++) {
		cn = &g.conf->nodes[i];
		if (!place_usable(cn->id, err, errlen))
			continue;
		score(cn->id, &c);
		if (!have || c.score < best.score - 1e-9 ||
		    (c.score < best.score + 1e-9 &&
		    (c.memfree > best.memfree + 65536 ||
		    (c.memfree + 65536 >= best.memfree && c.id < best.id)))) {
			best = c;
			have = 1;
		}
	}
	if (!have) {
		snprintf(err, errlen, "no node can take a job");
		return SS_ERR_DOWN;
	}
	*idp = best.id;
	return 0;
}

/* The seq of the next MSG_RUN to id: counted until id's report has it. */
uint32_t
place_count(unsigned id)
{
	struct peer *p;

	if (id != g.id && (p = peer_by_id(id)) != NULL)
		return ++p->runs_sent;
	return 0;
}
