/*
 * rpc-list.c: MSG_LIST, the cluster-wide ps.
 *
 * A tool asks its own noded; that node asks every node that is up
 * (LIST_LOCAL) and merges what they say.  Each node answers for the jobs
 * that run on it, with live figures from its own /proc, and, as home, for
 * its jobs that ended (with LIST_ENDED) or whose node is down ("lost").
 * When two nodes speak of one GPID, the node that runs it wins.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "noded.h"

struct gather {
	struct req	 req;
	struct list_req	 lr;
	int		 pending;
	struct proc_info *rows;
	size_t		 n, cap;
};

static int
add_row(struct gather *ga, struct proc_info *pi)
{
	struct proc_info *nr;

	if (ga->n == ga->cap) {
		size_t nc = ga->cap ? ga->cap * 2 : 64;

		if ((nr = reallocarray(ga->rows, nc, sizeof(*nr))) == NULL)
			return SS_ERR_ALLOC;
		ga->rows = nr;
		ga->cap = nc;
	}
	ga->rows[ga->n++] = *pi;
	memset(pi, 0, sizeof(*pi));
	return 0;
}

static int
wanted(const struct list_req *lr, const struct req *r, uint64_t gpid,
    uid_t uid, const char *user, const char *node)
{
	uint32_t i;

	if (lr->ngpids > 0) {
		for (i = 0; i < lr->ngpids; i++)
			if (lr->gpids[i] == gpid)
				break;
		if (i == lr->ngpids)
			return 0;
	} else if (lr->user[0] != '\0') {
		if (strcmp(lr->user, user) != 0)
			return 0;
	} else if (!(lr->flags & LIST_ALL_USERS) && uid != r->uid)
		return 0;
	if (lr->node[0] != '\0' && strcmp(lr->node, node) != 0)
		return 0;
	return 1;
}

static char *
xstrdup(const char *s)
{
	return strdup(s != NULL ? s : "");
}

static int
home_row(const struct dir_proc *p, void *arg)
{
	struct gather *ga = arg;
	struct proc_info pi;
	struct peer *peer;
	int lost = 0;

	if (p->ended == 0) {
		/* Running elsewhere: that node answers, unless it is down. */
		if (p->node == g.id)
			return 0;
		peer = peer_by_id(p->node);
		if (peer != NULL && peer->state == PEER_UP)
			return 0;
		lost = 1;
	} else if (!(ga->lr.flags & LIST_ENDED))
		return 0;
	if (!wanted(&ga->lr, &ga->req, p->gpid, p->uid, p->user,
	    node_name(p->node)))
		return 0;
	memset(&pi, 0, sizeof(pi));
	pi.gpid = p->gpid;
	pi.node = xstrdup(node_name(p->node));
	pi.pid = (uint32_t)p->pid;
	pi.uid = p->uid;
	pi.user = xstrdup(p->user);
	pi.state = xstrdup(lost ? "lost" : strcmp(p->state, "lost") == 0 ?
	    "lost" : "done");
	pi.cmd = xstrdup(p->cmd);
	pi.home = xstrdup(g.name);
	pi.moves = p->moves;
	pi.name = xstrdup(p->name);
	pi.log = xstrdup(p->log);
	pi.has_exit = p->ended != 0 && p->exit_code >= 0;
	pi.exit = p->exit_code;
	pi.started = p->started;
	if (add_row(ga, &pi) != 0)
		proc_info_clear(&pi);
	return 0;
}

/* What this node itself knows. */
static void
local_rows(struct gather *ga)
{
	struct dir_filter f;
	struct rjob *rj;
	struct jobstat *st;
	struct proc_info pi;
	pid_t *pids;
	size_t n = 0, i;
	long hz = sysconf(_SC_CLK_TCK);
	uint64_t uptime_ticks = 0;
	double up = 0;
	FILE *fp;

	TAILQ_FOREACH(rj, &g.rjobs, entry)
		n++;
	pids = calloc(n + 1, sizeof(*pids));
	st = calloc(n + 1, sizeof(*st));
	if (pids == NULL || st == NULL)
		goto rows_home;
	i = 0;
	TAILQ_FOREACH(rj, &g.rjobs, entry)
		pids[i++] = rj->have_info ? (pid_t)rj->info.pid : -1;
	sys_jobstats(pids, n, st);
	if ((fp = fopen("/proc/uptime", "re")) != NULL) {
		if (fscanf(fp, "%lf", &up) != 1)
			up = 0;
		fclose(fp);
	}
	uptime_ticks = (uint64_t)(up * hz);
	i = 0;
	TAILQ_FOREACH(rj, &g.rjobs, entry) {
		struct jobstat *s = &st[i++];

		/* A copy waiting for COMMIT is not a job here yet; an
		 * original that left is not one any more. */
		if (rj->dead || rj->restoring != RESTORING_NO || rj->moved ||
		    !wanted(&ga->lr, &ga->req, rj->gpid, rj->uid, rj->user,
		    g.name))
			continue;
		memset(&pi, 0, sizeof(pi));
		pi.gpid = rj->gpid;
		pi.node = xstrdup(g.name);
		pi.pid = rj->info.pid;
		pi.uid = rj->uid;
		pi.user = xstrdup(rj->user);
		if (rj->moving)
			pi.state = xstrdup("moving");
		else if (rj->exited)
			pi.state = xstrdup("Z");
		else {
			char c[2] = { s->state != '?' ? s->state : 'S', 0 };

			if (c[0] == 'I')
				c[0] = 'S';
			pi.state = xstrdup(c);
		}
		if (uptime_ticks > s->start_ticks && s->start_ticks > 0)
			pi.cpu_milli = (uint32_t)(s->ticks * 100000 /
			    (uptime_ticks - s->start_ticks));
		pi.rss_kb = s->rss_kb;
		pi.time_s = s->ticks / (uint64_t)hz;
		pi.cmd = xstrdup(rj->cmd);
		pi.home = xstrdup(node_name(rj->home));
		pi.moves = rj->moves;
		pi.name = xstrdup(rj->name);
		pi.log = xstrdup(rj->log);
		pi.started = rj->started;
		if (add_row(ga, &pi) != 0)
			proc_info_clear(&pi);
	}
rows_home:
	free(pids);
	free(st);
	memset(&f, 0, sizeof(f));
	f.role = DIR_FILTER_ROLE(DIR_ROLE_HOME);
	f.include_ended = (ga->lr.flags & LIST_ENDED) ? 1 : 0;
	if (!(ga->lr.flags & LIST_ALL_USERS) && ga->lr.user[0] == '\0' &&
	    ga->lr.ngpids == 0) {
		f.by_uid = 1;
		f.uid = ga->req.uid;
	}
	if (ga->lr.ngpids > 0) {
		f.gpids = ga->lr.gpids;
		f.ngpids = ga->lr.ngpids;
	}
	dir_proc_foreach(g.dir, &f, home_row, ga);
}

static int
cmp_row(const void *a, const void *b)
{
	const struct proc_info *x = a, *y = b;

	if (x->gpid != y->gpid)
		return x->gpid < y->gpid ? -1 : 1;
	/* Live rows (a pid state letter) first. */
	return (strlen(y->state) == 1) - (strlen(x->state) == 1);
}

static void
finish(struct gather *ga)
{
	struct buf *m;
	size_t i, kept = 0;
	int ok = 1;

	qsort(ga->rows, ga->n, sizeof(*ga->rows), cmp_row);
	if ((m = proto_msg_new(MSG_LIST_REPLY)) == NULL ||
	    buf_put_u32(m, 0) != 0)
		ok = 0;
	for (i = 0; ok && i < ga->n; i++) {
		if (i > 0 && ga->rows[i].gpid == ga->rows[i - 1].gpid)
			continue;
		if (proc_info_put(m, &ga->rows[i]) != 0)
			ok = 0;
		kept++;
	}
	if (ok)
		buf_poke_u32(m, 5, (uint32_t)kept);
	else {
		buf_free(m);
		m = proto_error(SS_ERR_TOO_LONG, "too many jobs to list");
	}
	req_reply(&ga->req, m);
	for (i = 0; i < ga->n; i++)
		proc_info_clear(&ga->rows[i]);
	free(ga->rows);
	list_req_clear(&ga->lr);
	free(ga);
}

static void
peer_rows(void *arg, uint8_t type, struct buf *p)
{
	struct gather *ga = arg;
	struct proc_info pi;
	uint32_t n, i;

	if (type == MSG_LIST_REPLY && p != NULL && buf_get_u32(p, &n) == 0 &&
	    n <= PROTO_MAX_COUNT) {
		for (i = 0; i < n; i++) {
			if (proc_info_get(p, &pi) != 0)
				break;
			if (add_row(ga, &pi) != 0)
				proc_info_clear(&pi);
		}
	}
	if (--ga->pending == 0)
		finish(ga);
}

void
rpc_list(const struct req *r, struct buf *p)
{
	struct gather *ga;
	struct peer *peer;
	struct buf *m;

	if ((ga = calloc(1, sizeof(*ga))) == NULL) {
		req_error(r, SS_ERR_ALLOC, "out of memory");
		return;
	}
	ga->req = *r;
	if (list_req_get(p, &ga->lr) != 0) {
		free(ga);
		req_error(r, SS_ERR_BAD, "malformed list request");
		return;
	}
	ga->pending = 1;
	if (r->kind == REQ_LOCAL && !(ga->lr.flags & LIST_LOCAL)) {
		ga->lr.flags |= LIST_LOCAL;
		TAILQ_FOREACH(peer, &g.peers, entry) {
			if (peer->state != PEER_UP)
				continue;
			if ((m = proto_msg_new(MSG_LIST)) == NULL ||
			    list_req_put(m, &ga->lr) != 0) {
				buf_free(m);
				continue;
			}
			if (peer_call(peer, r, m, peer_rows, ga) == 0)
				ga->pending++;
		}
	}
	local_rows(ga);
	if (--ga->pending == 0)
		finish(ga);
}
