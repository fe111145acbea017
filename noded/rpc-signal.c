/*
 * rpc-signal.c: MSG_SIGNAL, the cluster-wide kill.
 *
 * From a tool, each named GPID is routed: to --at NODE if given; else to
 * the node where the job's home says it runs (asking the home first when
 * it is another node).  Selections by name, user or node go to every node
 * that is up.  Every node delivers only to jobs that run on it, only for
 * their owner or root, and only after checking the start time of the
 * job's leader, so a recycled pid is never signalled.  A job that left a
 * node is found in the node's forwards table (migration) and the signal
 * goes on to where it went, across any number of moves.
 */
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "gpid.h"
#include "log.h"
#include "noded.h"

struct sres {
	uint64_t	 gpid;
	int		 code;
	char		 msg[256];
};

struct sgather {
	struct req	 req;
	struct signal_req sr;
	int		 pending;
	struct sres	*res;
	size_t		 n, cap;
};

static void
add_res(struct sgather *sg, uint64_t gpid, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void	send_to(struct sgather *, struct peer *, uint32_t, uint64_t);

static void
add_res(struct sgather *sg, uint64_t gpid, int code, const char *fmt, ...)
{
	struct sres *nr;
	va_list ap;

	if (sg->n == sg->cap) {
		size_t nc = sg->cap ? sg->cap * 2 : 16;

		if ((nr = reallocarray(sg->res, nc, sizeof(*nr))) == NULL)
			return;
		sg->res = nr;
		sg->cap = nc;
	}
	sg->res[sg->n].gpid = gpid;
	sg->res[sg->n].code = code;
	va_start(ap, fmt);
	vsnprintf(sg->res[sg->n].msg, sizeof(sg->res[0].msg), fmt, ap);
	va_end(ap);
	sg->n++;
}

static void
finish(struct sgather *sg)
{
	struct buf *m;
	size_t i;

	if ((m = proto_msg_new(MSG_SIGNAL_REPLY)) != NULL &&
	    buf_put_u32(m, (uint32_t)sg->n) == 0) {
		for (i = 0; i < sg->n; i++) {
			if (buf_put_u64(m, sg->res[i].gpid) != 0 ||
			    buf_put_u32(m, (uint32_t)sg->res[i].code) != 0 ||
			    buf_put_cstring(m, sg->res[i].msg) != 0) {
				buf_free(m);
				m = NULL;
				break;
			}
		}
	}
	req_reply(&sg->req, m);
	signal_req_clear(&sg->sr);
	free(sg->res);
	free(sg);
}

static void
done_one(struct sgather *sg)
{
	if (--sg->pending == 0)
		finish(sg);
}

static void
peer_res(void *arg, uint8_t type, struct buf *p)
{
	struct sgather *sg = arg;
	uint64_t gpid;
	uint32_t n, i, code;
	char *msg = NULL;
	int ecode;

	if (type == MSG_SIGNAL_REPLY && p != NULL &&
	    buf_get_u32(p, &n) == 0) {
		for (i = 0; i < n && i < PROTO_MAX_COUNT; i++) {
			if (buf_get_u64(p, &gpid) != 0 ||
			    buf_get_u32(p, &code) != 0 ||
			    buf_get_cstring(p, 1024, &msg) != 0)
				break;
			add_res(sg, gpid, (int)code, "%s", msg);
			free(msg);
			msg = NULL;
		}
	} else if (type == MSG_ERROR && p != NULL &&
	    proto_get_error(p, &ecode, &msg) == 0) {
		if (sg->sr.selector == SEL_GPIDS && sg->sr.ngpids == 1)
			add_res(sg, sg->sr.gpids[0], ecode, "%s", msg);
		free(msg);
	}
	done_one(sg);
}

static int
may_touch(const struct req *r, const struct rjob *rj)
{
	return r->uid == 0 || r->uid == rj->uid;
}

static void
deliver(struct sgather *sg, struct rjob *rj)
{
	int rc;

	if (!may_touch(&sg->req, rj)) {
		add_res(sg, rj->gpid, SS_ERR_PERM, "permission denied: the "
		    "job belongs to %s", rj->user);
		log_warn("uid %u may not signal job %llu of %s",
		    (unsigned)sg->req.uid, (unsigned long long)rj->gpid,
		    rj->user);
		return;
	}
	if ((rc = rjob_signal(rj, (int)sg->sr.sig)) != 0)
		add_res(sg, rj->gpid, rc, "%s",
		    rc == SS_ERR_NOT_FOUND ? "the job has ended" :
		    ss_strerror(rc));
	else
		add_res(sg, rj->gpid, 0, "ok");
}

static int
cmd_matches(const struct rjob *rj, const char *name)
{
	char first[4096];
	size_t k;

	if (rj->name != NULL && strcmp(rj->name, name) == 0)
		return 1;
	k = strcspn(rj->cmd, " ");
	if (k >= sizeof(first))
		return 0;
	memcpy(first, rj->cmd, k);
	first[k] = '\0';
	return strcmp(basename(first), name) == 0;
}

/* Delivery on this node (SIGF_LOCAL, or the tool's own node). */
static void
local_signal(struct sgather *sg)
{
	struct rjob *rj;
	uint32_t i, hops = (sg->sr.flags >> SIGF_HOP_SHIFT) & 0xff;
	unsigned node;

	if (sg->sr.selector == SEL_GPIDS) {
		for (i = 0; i < sg->sr.ngpids; i++) {
			uint64_t gp = sg->sr.gpids[i];

			if ((rj = rjob_by_gpid(gp)) != NULL && !rj->exited &&
			    !rj->moved && rj->restoring == RESTORING_NO) {
				deliver(sg, rj);
				continue;
			}
			if (dir_forward_lookup(g.dir, gp, &node, NULL, NULL)
			    == 0 && node != g.id && hops < SIGF_HOP_MAX) {
				/* It moved on: after it, hop by hop.  Never
				 * to whatever now has its old pid here. */
				log_debug("signal for job %llu forwarded to %s",
				    (unsigned long long)gp, node_name(node));
				send_to(sg, peer_by_id(node), SIGF_LOCAL |
				    ((hops + 1) << SIGF_HOP_SHIFT), gp);
			} else if (hops >= SIGF_HOP_MAX)
				add_res(sg, gp, SS_ERR_NOT_FOUND, "the job "
				    "has ended");
			else
				add_res(sg, gp, SS_ERR_NOT_FOUND,
				    "no such job on %s", g.name);
		}
		return;
	}
	TAILQ_FOREACH(rj, &g.rjobs, entry) {
		if (rj->dead || rj->exited || rj->moved ||
		    rj->restoring != RESTORING_NO)
			continue;
		switch (sg->sr.selector) {
		case SEL_NAME:
			if (!cmd_matches(rj, sg->sr.arg) ||
			    !may_touch(&sg->req, rj))
				continue;
			break;
		case SEL_USER:
			if (strcmp(rj->user, sg->sr.arg) != 0)
				continue;
			break;
		case SEL_NODE:
			if (!may_touch(&sg->req, rj))
				continue;
			break;
		}
		deliver(sg, rj);
	}
}

/* Delivery here of one GPID of a selection by GPIDs. */
static void
local_signal_one(struct sgather *sg, uint64_t gpid)
{
	struct signal_req save = sg->sr;

	sg->sr.ngpids = 1;
	sg->sr.gpids = &gpid;
	local_signal(sg);
	sg->sr = save;
}

static void
send_to(struct sgather *sg, struct peer *p, uint32_t flags, uint64_t gpid)
{
	struct signal_req one = sg->sr;
	struct buf *m;

	one.flags = flags;
	one.at = "";
	if (sg->sr.selector == SEL_GPIDS) {
		one.ngpids = 1;
		one.gpids = &gpid;
	}
	if (p == NULL) {
		add_res(sg, gpid, SS_ERR_NOT_FOUND, "no such node");
		return;
	}
	if ((m = proto_msg_new(MSG_SIGNAL)) == NULL ||
	    signal_req_put(m, &one) != 0) {
		buf_free(m);
		add_res(sg, gpid, SS_ERR_ALLOC, "out of memory");
		return;
	}
	if (peer_call(p, &sg->req, m, peer_res, sg) != 0) {
		add_res(sg, gpid, SS_ERR_DOWN, "%s is down", p->name);
		return;
	}
	sg->pending++;
}

/* Routes one GPID from the node the tool asked. */
static void
route(struct sgather *sg, uint64_t gpid)
{
	struct dir_proc dp;
	unsigned home = gpid_home(gpid);

	if (sg->sr.at[0] != '\0') {
		if (strcmp(sg->sr.at, g.name) == 0)
			local_signal_one(sg, gpid);
		else
			send_to(sg, peer_by_name(sg->sr.at), SIGF_LOCAL, gpid);
		return;
	}
	if (home == 0) {
		add_res(sg, gpid, SS_ERR_BAD, "not a GPID");
		return;
	}
	if (home != g.id) {
		/* The home knows where its job is. */
		send_to(sg, peer_by_id(home), 0, gpid);
		return;
	}
	memset(&dp, 0, sizeof(dp));
	if (dir_proc_get(g.dir, gpid, &dp) != 0) {
		add_res(sg, gpid, SS_ERR_NOT_FOUND, "no such job");
		return;
	}
	if (dp.ended != 0)
		add_res(sg, gpid, SS_ERR_NOT_FOUND, "the job has ended");
	else if (sg->req.uid != 0 && sg->req.uid != dp.uid)
		add_res(sg, gpid, SS_ERR_PERM, "permission denied: the job "
		    "belongs to %s", dp.user);
	else if (dp.node == g.id)
		local_signal_one(sg, gpid);
	else
		send_to(sg, peer_by_id(dp.node), SIGF_LOCAL, gpid);
	dir_proc_clear(&dp);
}

void
rpc_signal(const struct req *r, struct buf *p)
{
	struct sgather *sg;
	struct peer *peer;
	uint32_t i;

	if ((sg = calloc(1, sizeof(*sg))) == NULL) {
		req_error(r, SS_ERR_ALLOC, "out of memory");
		return;
	}
	sg->req = *r;
	if (signal_req_get(p, &sg->sr) != 0) {
		free(sg);
		req_error(r, SS_ERR_BAD, "malformed signal request");
		return;
	}
	sg->pending = 1;
	if (sg->sr.flags & SIGF_LOCAL) {
		local_signal(sg);
	} else if (sg->sr.selector == SEL_GPIDS) {
		for (i = 0; i < sg->sr.ngpids; i++)
			route(sg, sg->sr.gpids[i]);
	} else {
		if (sg->sr.selector != SEL_NODE ||
		    strcmp(sg->sr.arg, g.name) == 0)
			local_signal(sg);
		TAILQ_FOREACH(peer, &g.peers, entry) {
			if (peer->state != PEER_UP)
				continue;
			if (sg->sr.selector == SEL_NODE &&
			    strcmp(sg->sr.arg, peer->name) != 0)
				continue;
			send_to(sg, peer, SIGF_LOCAL, 0);
		}
	}
	done_one(sg);
}

/*
 * Sends signal sig on to job gpid at node, as root and with no one to
 * answer to: a signal that came while the job was being moved away.
 */
void
signal_send_on(uint64_t gpid, unsigned node, int sig)
{
	struct signal_req sr;
	struct peer *p;
	struct buf *m;

	memset(&sr, 0, sizeof(sr));
	sr.sig = (uint32_t)sig;
	sr.flags = SIGF_LOCAL;
	sr.at = "";
	sr.selector = SEL_GPIDS;
	sr.arg = "";
	sr.ngpids = 1;
	sr.gpids = &gpid;
	if ((p = peer_by_id(node)) == NULL ||
	    (m = proto_msg_new(MSG_SIGNAL)) == NULL)
		return;
	if (signal_req_put(m, &sr) != 0) {
		buf_free(m);
		return;
	}
	if (peer_call(p, NULL, m, NULL, NULL) != 0)
		log_warn("job %llu: signal %d lost: %s is down",
		    (unsigned long long)gpid, sig, p->name);
}
