/*
 * proto.c: framing and the encoders/decoders of the structures in proto.h.
 *
 * Every decoder reads through buf.h, bounds each string and count, and on
 * any failure frees what it allocated and leaves its output cleared, so a
 * caller can always call *_clear() and never leaks or double-frees.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "err.h"
#include "proto.h"

#define TRY(x)	do { if ((r = (x)) != 0) goto fail; } while (0)

struct buf *
proto_msg_new(uint8_t type)
{
	struct buf *m;

	if ((m = buf_new(PROTO_MAX_FRAME + 4)) == NULL)
		return NULL;
	if (buf_put_u32(m, 0) != 0 || buf_put_u8(m, type) != 0) {
		buf_free(m);
		return NULL;
	}
	return m;
}

int
proto_msg_finish(struct buf *m)
{
	if (buf_len(m) < 5)
		return SS_ERR_INTERNAL;
	if (buf_len(m) - 4 > PROTO_MAX_FRAME)
		return SS_ERR_TOO_LONG;
	return buf_poke_u32(m, 0, (uint32_t)(buf_len(m) - 4));
}

int
proto_frame_take(struct buf *in, uint8_t *type, struct buf **payload)
{
	uint32_t len;
	int r;

	*payload = NULL;
	if ((r = buf_peek_u32(in, 0, &len)) != 0)
		return r;
	if (len == 0)
		return SS_ERR_BAD;
	if (len > PROTO_MAX_FRAME)
		return SS_ERR_TOO_LONG;
	if (buf_len(in) - 4 < len)
		return SS_ERR_SHORT;
	if ((*payload = buf_from(buf_ptr(in) + 5, len - 1, PROTO_MAX_FRAME))
	    == NULL)
		return SS_ERR_ALLOC;
	*type = buf_ptr(in)[4];
	return buf_consume(in, 4 + (size_t)len);
}

struct buf *
proto_error(int code, const char *fmt, ...)
{
	char msg[1024];
	struct buf *m;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if ((m = proto_msg_new(MSG_ERROR)) == NULL)
		return NULL;
	if (buf_put_u32(m, (uint32_t)code) != 0 ||
	    buf_put_cstring(m, msg) != 0 || proto_msg_finish(m) != 0) {
		buf_free(m);
		return NULL;
	}
	return m;
}

int
proto_get_error(struct buf *p, int *code, char **msg)
{
	uint32_t c;
	int r;

	*msg = NULL;
	if ((r = buf_get_u32(p, &c)) != 0)
		return r;
	*code = (int32_t)c;
	return buf_get_cstring(p, 4096, msg);
}

int
proto_write_all(int fd, const struct buf *m)
{
	const uint8_t *p = buf_ptr(m);
	size_t left = buf_len(m);
	ssize_t n;

	while (left > 0) {
		n = write(fd, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return SS_ERR_SYSTEM;
		p += n;
		left -= n;
	}
	return 0;
}

int
proto_read_frame(int fd, struct buf *in, uint8_t *type, struct buf **payload)
{
	uint8_t *p;
	ssize_t n;
	int r;

	for (;;) {
		r = proto_frame_take(in, type, payload);
		if (r != SS_ERR_SHORT)
			return r;
		if ((r = buf_reserve(in, 65536, &p)) != 0)
			return r;
		do
			n = read(fd, p, 65536);
		while (n < 0 && errno == EINTR);
		buf_consume_end(in, 65536 - (n > 0 ? n : 0));
		if (n < 0)
			return SS_ERR_SYSTEM;
		if (n == 0)
			return SS_ERR_SHORT;
	}
}

static int
put_strv(struct buf *b, uint32_t n, char *const *v)
{
	uint32_t i;
	int r;

	if ((r = buf_put_u32(b, n)) != 0)
		return r;
	for (i = 0; i < n; i++)
		if ((r = buf_put_cstring(b, v[i])) != 0)
			return r;
	return 0;
}

static void
free_strv(char **v)
{
	char **p;

	if (v == NULL)
		return;
	for (p = v; *p != NULL; p++)
		free(*p);
	free(v);
}

static int
get_strv(struct buf *b, uint32_t *np, char ***vp)
{
	uint32_t n, i;
	char **v;
	int r;

	*vp = NULL;
	*np = 0;
	if ((r = buf_get_u32(b, &n)) != 0)
		return r;
	/* Each string takes at least 4 bytes: a count larger than that is
	 * a lie, refused before allocating anything. */
	if (n > PROTO_MAX_COUNT || n > buf_len(b) / 4)
		return SS_ERR_TOO_LONG;
	if ((v = calloc((size_t)n + 1, sizeof(*v))) == NULL)
		return SS_ERR_ALLOC;
	for (i = 0; i < n; i++) {
		if ((r = buf_get_cstring(b, PROTO_MAX_STR, &v[i])) != 0) {
			free_strv(v);
			return r;
		}
	}
	*vp = v;
	*np = n;
	return 0;
}

static int
put_gpids(struct buf *b, uint32_t n, const uint64_t *g)
{
	uint32_t i;
	int r;

	if ((r = buf_put_u32(b, n)) != 0)
		return r;
	for (i = 0; i < n; i++)
		if ((r = buf_put_u64(b, g[i])) != 0)
			return r;
	return 0;
}

static int
get_gpids(struct buf *b, uint32_t *np, uint64_t **gp)
{
	uint32_t n, i;
	uint64_t *g;
	int r;

	*gp = NULL;
	*np = 0;
	if ((r = buf_get_u32(b, &n)) != 0)
		return r;
	if (n > PROTO_MAX_COUNT || n > buf_len(b) / 8)
		return SS_ERR_TOO_LONG;
	if ((g = calloc((size_t)n + 1, sizeof(*g))) == NULL)
		return SS_ERR_ALLOC;
	for (i = 0; i < n; i++) {
		if ((r = buf_get_u64(b, &g[i])) != 0) {
			free(g);
			return r;
		}
	}
	*gp = g;
	*np = n;
	return 0;
}

int
spawn_req_put(struct buf *b, const struct spawn_req *q)
{
	int r;

	TRY(buf_put_u32(b, q->flags));
	TRY(buf_put_cstring(b, q->node));
	TRY(buf_put_cstring(b, q->name));
	TRY(buf_put_cstring(b, q->log));
	TRY(buf_put_cstring(b, q->cwd));
	TRY(buf_put_u32(b, q->umask));
	TRY(put_strv(b, q->argc, q->argv));
	TRY(put_strv(b, q->envc, q->env));
	TRY(buf_put_cstring(b, q->cmd));
	TRY(buf_put_cstring(b, q->term));
	TRY(buf_put_u32(b, q->rows));
	TRY(buf_put_u32(b, q->cols));
fail:
	return r;
}

int
spawn_req_get(struct buf *b, struct spawn_req *q)
{
	int r;

	memset(q, 0, sizeof(*q));
	TRY(buf_get_u32(b, &q->flags));
	TRY(buf_get_cstring(b, PROTO_MAX_NAME, &q->node));
	TRY(buf_get_cstring(b, PROTO_MAX_NAME, &q->name));
	TRY(buf_get_cstring(b, PROTO_MAX_PATH, &q->log));
	TRY(buf_get_cstring(b, PROTO_MAX_PATH, &q->cwd));
	TRY(buf_get_u32(b, &q->umask));
	TRY(get_strv(b, &q->argc, &q->argv));
	TRY(get_strv(b, &q->envc, &q->env));
	TRY(buf_get_cstring(b, PROTO_MAX_STR, &q->cmd));
	TRY(buf_get_cstring(b, PROTO_MAX_NAME, &q->term));
	TRY(buf_get_u32(b, &q->rows));
	TRY(buf_get_u32(b, &q->cols));
	if (q->argc == 0 || q->umask > 0777) {
		r = SS_ERR_BAD;
		goto fail;
	}
	return 0;
fail:
	spawn_req_clear(q);
	return r;
}

void
spawn_req_clear(struct spawn_req *q)
{
	free(q->node);
	free(q->name);
	free(q->log);
	free(q->cwd);
	free_strv(q->argv);
	free_strv(q->env);
	free(q->cmd);
	free(q->term);
	memset(q, 0, sizeof(*q));
}

int
proc_info_put(struct buf *b, const struct proc_info *p)
{
	int r;

	TRY(buf_put_u64(b, p->gpid));
	TRY(buf_put_cstring(b, p->node));
	TRY(buf_put_u32(b, p->pid));
	TRY(buf_put_u32(b, p->uid));
	TRY(buf_put_cstring(b, p->user));
	TRY(buf_put_cstring(b, p->state));
	TRY(buf_put_u32(b, p->cpu_milli));
	TRY(buf_put_u64(b, p->rss_kb));
	TRY(buf_put_u64(b, p->time_s));
	TRY(buf_put_cstring(b, p->cmd));
	TRY(buf_put_cstring(b, p->home));
	TRY(buf_put_u32(b, p->moves));
	TRY(buf_put_cstring(b, p->name));
	TRY(buf_put_cstring(b, p->log));
	TRY(buf_put_u8(b, p->has_exit));
	TRY(buf_put_u32(b, (uint32_t)p->exit));
	TRY(buf_put_u64(b, (uint64_t)p->started));
fail:
	return r;
}

int
proc_info_get(struct buf *b, struct proc_info *p)
{
	uint32_t v;
	uint64_t s;
	int r;

	memset(p, 0, sizeof(*p));
	TRY(buf_get_u64(b, &p->gpid));
	TRY(buf_get_cstring(b, PROTO_MAX_NAME, &p->node));
	TRY(buf_get_u32(b, &p->pid));
	TRY(buf_get_u32(b, &p->uid));
	TRY(buf_get_cstring(b, PROTO_MAX_NAME, &p->user));
	TRY(buf_get_cstring(b, PROTO_MAX_NAME, &p->state));
	TRY(buf_get_u32(b, &p->cpu_milli));
	TRY(buf_get_u64(b, &p->rss_kb));
	TRY(buf_get_u64(b, &p->time_s));
	TRY(buf_get_cstring(b, PROTO_MAX_FRAME, &p->cmd));
	TRY(buf_get_cstring(b, PROTO_MAX_NAME, &p->home));
	TRY(buf_get_u32(b, &p->moves));
	TRY(buf_get_cstring(b, PROTO_MAX_NAME, &p->name));
	TRY(buf_get_cstring(b, PROTO_MAX_PATH, &p->log));
	TRY(buf_get_u8(b, &p->has_exit));
	TRY(buf_get_u32(b, &v));
	p->exit = (int32_t)v;
	TRY(buf_get_u64(b, &s));
	p->started = (int64_t)s;
	return 0;
fail:
	proc_info_clear(p);
	return r;
}

void
proc_info_clear(struct proc_info *p)
{
	free(p->node);
	free(p->user);
	free(p->state);
	free(p->cmd);
	free(p->home);
	free(p->name);
	free(p->log);
	memset(p, 0, sizeof(*p));
}

int
node_info_put(struct buf *b, const struct node_info *n)
{
	int r;

	TRY(buf_put_u32(b, n->id));
	TRY(buf_put_cstring(b, n->name));
	TRY(buf_put_cstring(b, n->addr));
	TRY(buf_put_u32(b, n->port));
	TRY(buf_put_u32(b, n->cpus));
	TRY(buf_put_u64(b, n->mem_kb));
	TRY(buf_put_u64(b, n->memfree_kb));
	TRY(buf_put_u32(b, n->load_milli));
	TRY(buf_put_u32(b, n->jobs));
	TRY(buf_put_cstring(b, n->state));
	TRY(buf_put_u64(b, (uint64_t)n->last_seen_ms));
fail:
	return r;
}

int
node_info_get(struct buf *b, struct node_info *n)
{
	uint64_t s;
	int r;

	memset(n, 0, sizeof(*n));
	TRY(buf_get_u32(b, &n->id));
	TRY(buf_get_cstring(b, PROTO_MAX_NAME, &n->name));
	TRY(buf_get_cstring(b, PROTO_MAX_NAME, &n->addr));
	TRY(buf_get_u32(b, &n->port));
	TRY(buf_get_u32(b, &n->cpus));
	TRY(buf_get_u64(b, &n->mem_kb));
	TRY(buf_get_u64(b, &n->memfree_kb));
	TRY(buf_get_u32(b, &n->load_milli));
	TRY(buf_get_u32(b, &n->jobs));
	TRY(buf_get_cstring(b, PROTO_MAX_NAME, &n->state));
	TRY(buf_get_u64(b, &s));
	n->last_seen_ms = (int64_t)s;
	return 0;
fail:
	node_info_clear(n);
	return r;
}

void
node_info_clear(struct node_info *n)
{
	free(n->name);
	free(n->addr);
	free(n->state);
	memset(n, 0, sizeof(*n));
}

int
list_req_put(struct buf *b, const struct list_req *q)
{
	int r;

	TRY(buf_put_u32(b, q->flags));
	TRY(buf_put_cstring(b, q->user));
	TRY(buf_put_cstring(b, q->node));
	TRY(put_gpids(b, q->ngpids, q->gpids));
fail:
	return r;
}

int
list_req_get(struct buf *b, struct list_req *q)
{
	int r;

	memset(q, 0, sizeof(*q));
	TRY(buf_get_u32(b, &q->flags));
	TRY(buf_get_cstring(b, PROTO_MAX_NAME, &q->user));
	TRY(buf_get_cstring(b, PROTO_MAX_NAME, &q->node));
	TRY(get_gpids(b, &q->ngpids, &q->gpids));
	return 0;
fail:
	list_req_clear(q);
	return r;
}

void
list_req_clear(struct list_req *q)
{
	free(q->user);
	free(q->node);
	free(q->gpids);
	memset(q, 0, sizeof(*q));
}

int
signal_req_put(struct buf *b, const struct signal_req *q)
{
	int r;

	TRY(buf_put_u32(b, q->sig));
	TRY(buf_put_u32(b, q->flags));
	TRY(buf_put_cstring(b, q->at));
	TRY(buf_put_u32(b, q->selector));
	TRY(buf_put_cstring(b, q->arg));
	TRY(put_gpids(b, q->ngpids, q->gpids));
fail:
	return r;
}

int
signal_req_get(struct buf *b, struct signal_req *q)
{
	int r;

	memset(q, 0, sizeof(*q));
	TRY(buf_get_u32(b, &q->sig));
	TRY(buf_get_u32(b, &q->flags));
	TRY(buf_get_cstring(b, PROTO_MAX_NAME, &q->at));
	TRY(buf_get_u32(b, &q->selector));
	TRY(buf_get_cstring(b, PROTO_MAX_NAME, &q->arg));
	TRY(get_gpids(b, &q->ngpids, &q->gpids));
	if (q->sig > 64 || q->selector > SEL_NODE) {
		r = SS_ERR_BAD;
		goto fail;
	}
	return 0;
fail:
	signal_req_clear(q);
	return r;
}

void
signal_req_clear(struct signal_req *q)
{
	free(q->at);
	free(q->arg);
	free(q->gpids);
	memset(q, 0, sizeof(*q));
}

int
load_report_put(struct buf *b, const struct load_report *l)
{
	int r;

	TRY(buf_put_u32(b, l->load_milli));
	TRY(buf_put_u32(b, l->jobs));
	TRY(buf_put_u32(b, l->cpus));
	TRY(buf_put_u64(b, l->mem_kb));
	TRY(buf_put_u64(b, l->memfree_kb));
	TRY(buf_put_u8(b, l->draining));
	TRY(buf_put_u32(b, l->runs_seen));
fail:
	return r;
}

int
load_report_get(struct buf *b, struct load_report *l)
{
	int r;

	memset(l, 0, sizeof(*l));
	TRY(buf_get_u32(b, &l->load_milli));
	TRY(buf_get_u32(b, &l->jobs));
	TRY(buf_get_u32(b, &l->cpus));
	TRY(buf_get_u64(b, &l->mem_kb));
	TRY(buf_get_u64(b, &l->memfree_kb));
	TRY(buf_get_u8(b, &l->draining));
	TRY(buf_get_u32(b, &l->runs_seen));
fail:
	return r;
}

/* A termios blob: empty, or exactly sizeof(struct termios) bytes. */
static int
get_tty_mode(struct buf *b, uint8_t mode[64], uint32_t *lenp)
{
	const uint8_t *v;
	size_t len;
	int r;

	if ((r = buf_get_string_direct(b, &v, &len)) != 0)
		return r;
	if (len != 0 && len != sizeof(struct termios))
		return SS_ERR_BAD;
	memcpy(mode, v, len);
	*lenp = (uint32_t)len;
	return 0;
}

int
shep_spec_put(struct buf *b, const struct shep_spec *s)
{
	int r;

	TRY(buf_put_u64(b, s->gpid));
	TRY(buf_put_u32(b, s->uid));
	TRY(buf_put_u32(b, s->gid));
	TRY(buf_put_cstring(b, s->user));
	TRY(buf_put_u32(b, s->newpid));
	TRY(buf_put_cstring(b, s->sock));
	TRY(buf_put_cstring(b, s->cgroup));
	TRY(spawn_req_put(b, &s->req));
	TRY(buf_put_u32(b, s->restore));
	TRY(buf_put_string(b, s->tty_mode, s->tty_mode_len));
fail:
	return r;
}

int
shep_spec_get(struct buf *b, struct shep_spec *s)
{
	int r;

	memset(s, 0, sizeof(*s));
	TRY(buf_get_u64(b, &s->gpid));
	TRY(buf_get_u32(b, &s->uid));
	TRY(buf_get_u32(b, &s->gid));
	TRY(buf_get_cstring(b, PROTO_MAX_NAME, &s->user));
	TRY(buf_get_u32(b, &s->newpid));
	TRY(buf_get_cstring(b, PROTO_MAX_PATH, &s->sock));
	TRY(buf_get_cstring(b, PROTO_MAX_PATH, &s->cgroup));
	TRY(spawn_req_get(b, &s->req));
	TRY(buf_get_u32(b, &s->restore));
	TRY(get_tty_mode(b, s->tty_mode, &s->tty_mode_len));
	return 0;
fail:
	shep_spec_clear(s);
	return r;
}

void
shep_spec_clear(struct shep_spec *s)
{
	free(s->user);
	free(s->sock);
	free(s->cgroup);
	spawn_req_clear(&s->req);
	memset(s, 0, sizeof(*s));
}

int
shep_info_put(struct buf *b, const struct shep_info *i)
{
	int r;

	TRY(buf_put_u32(b, i->pid));
	TRY(buf_put_u32(b, i->nspid));
	TRY(buf_put_u32(b, i->shep_pid));
	TRY(buf_put_u64(b, i->starttime));
	TRY(buf_put_u32(b, i->pty));
	TRY(buf_put_u32(b, i->exited));
	TRY(buf_put_u32(b, i->status));
	TRY(buf_put_u32(b, i->waiting));
fail:
	return r;
}

int
shep_info_get(struct buf *b, struct shep_info *i)
{
	int r;

	memset(i, 0, sizeof(*i));
	TRY(buf_get_u32(b, &i->pid));
	TRY(buf_get_u32(b, &i->nspid));
	TRY(buf_get_u32(b, &i->shep_pid));
	TRY(buf_get_u64(b, &i->starttime));
	TRY(buf_get_u32(b, &i->pty));
	TRY(buf_get_u32(b, &i->exited));
	TRY(buf_get_u32(b, &i->status));
	/* Optional: a shepherd of an older build does not send it. */
	if (buf_len(b) > 0)
		TRY(buf_get_u32(b, &i->waiting));
fail:
	return r;
}

int
migrate_result_put(struct buf *b, const struct migrate_result *m)
{
	int r;

	TRY(buf_put_u64(b, m->gpid));
	TRY(buf_put_cstring(b, m->from));
	TRY(buf_put_cstring(b, m->to));
	TRY(buf_put_u64(b, m->image_bytes));
	TRY(buf_put_u64(b, m->total_us));
	TRY(buf_put_u64(b, m->downtime_us));
	TRY(buf_put_u32(b, m->pending));
	TRY(buf_put_u64(b, m->slowed_us));
fail:
	return r;
}

int
migrate_result_get(struct buf *b, struct migrate_result *m)
{
	int r;

	memset(m, 0, sizeof(*m));
	TRY(buf_get_u64(b, &m->gpid));
	TRY(buf_get_cstring(b, PROTO_MAX_NAME, &m->from));
	TRY(buf_get_cstring(b, PROTO_MAX_NAME, &m->to));
	TRY(buf_get_u64(b, &m->image_bytes));
	TRY(buf_get_u64(b, &m->total_us));
	TRY(buf_get_u64(b, &m->downtime_us));
	TRY(buf_get_u32(b, &m->pending));
	TRY(buf_get_u64(b, &m->slowed_us));
	if (m->pending > 1) {
		r = SS_ERR_BAD;
		goto fail;
	}
	return 0;
fail:
	migrate_result_clear(m);
	return r;
}

void
migrate_result_clear(struct migrate_result *m)
{
	free(m->from);
	free(m->to);
	memset(m, 0, sizeof(*m));
}

int
move_req_put(struct buf *b, const struct move_req *q)
{
	int r;

	TRY(buf_put_u64(b, q->gpid));
	TRY(buf_put_u64(b, q->mig_id));
	TRY(buf_put_u32(b, q->src));
	TRY(buf_put_u32(b, q->home));
	TRY(buf_put_u32(b, q->uid));
	TRY(buf_put_u32(b, q->gid));
	TRY(buf_put_cstring(b, q->user));
	TRY(buf_put_cstring(b, q->cmd));
	TRY(buf_put_cstring(b, q->name));
	TRY(buf_put_cstring(b, q->log));
	TRY(buf_put_u64(b, (uint64_t)q->started));
	TRY(buf_put_u32(b, q->flags));
	TRY(buf_put_u32(b, q->moves));
	TRY(buf_put_u32(b, q->rows));
	TRY(buf_put_u32(b, q->cols));
	TRY(buf_put_cstring(b, q->term));
	TRY(buf_put_string(b, q->tty_mode, q->tty_mode_len));
fail:
	return r;
}

int
move_req_get(struct buf *b, struct move_req *q)
{
	uint64_t started;
	int r;

	memset(q, 0, sizeof(*q));
	TRY(buf_get_u64(b, &q->gpid));
	TRY(buf_get_u64(b, &q->mig_id));
	TRY(buf_get_u32(b, &q->src));
	TRY(buf_get_u32(b, &q->home));
	TRY(buf_get_u32(b, &q->uid));
	TRY(buf_get_u32(b, &q->gid));
	TRY(buf_get_cstring(b, PROTO_MAX_NAME, &q->user));
	TRY(buf_get_cstring(b, PROTO_MAX_STR, &q->cmd));
	TRY(buf_get_cstring(b, PROTO_MAX_NAME, &q->name));
	TRY(buf_get_cstring(b, PROTO_MAX_PATH, &q->log));
	TRY(buf_get_u64(b, &started));
	q->started = (int64_t)started;
	TRY(buf_get_u32(b, &q->flags));
	TRY(buf_get_u32(b, &q->moves));
	TRY(buf_get_u32(b, &q->rows));
	TRY(buf_get_u32(b, &q->cols));
	TRY(buf_get_cstring(b, PROTO_MAX_NAME, &q->term));
	TRY(get_tty_mode(b, q->tty_mode, &q->tty_mode_len));
	return 0;
fail:
	move_req_clear(q);
	return r;
}

void
move_req_clear(struct move_req *q)
{
	free(q->user);
	free(q->cmd);
	free(q->name);
	free(q->log);
	free(q->term);
	memset(q, 0, sizeof(*q));
}

int
move_spec_put(struct buf *b, const struct move_spec *s)
{
	int r;

	TRY(move_req_put(b, &s->req));
	TRY(buf_put_u32(b, s->pid));
	TRY(buf_put_u64(b, s->starttime));
	TRY(buf_put_u32(b, s->dst));
	TRY(buf_put_cstring(b, s->dst_name));
	TRY(buf_put_cstring(b, s->addr));
	TRY(buf_put_u32(b, s->port));
	TRY(buf_put_cstring(b, s->key));
	TRY(buf_put_cstring(b, s->self));
	TRY(buf_put_cstring(b, s->hostkey));
	TRY(buf_put_cstring(b, s->freezer));
fail:
	return r;
}

int
move_spec_get(struct buf *b, struct move_spec *s)
{
	int r;

	memset(s, 0, sizeof(*s));
	TRY(move_req_get(b, &s->req));
	TRY(buf_get_u32(b, &s->pid));
	TRY(buf_get_u64(b, &s->starttime));
	TRY(buf_get_u32(b, &s->dst));
	TRY(buf_get_cstring(b, PROTO_MAX_NAME, &s->dst_name));
	TRY(buf_get_cstring(b, PROTO_MAX_NAME, &s->addr));
	TRY(buf_get_u32(b, &s->port));
	TRY(buf_get_cstring(b, PROTO_MAX_NAME, &s->key));
	TRY(buf_get_cstring(b, PROTO_MAX_NAME, &s->self));
	TRY(buf_get_cstring(b, PROTO_MAX_PATH, &s->hostkey));
	TRY(buf_get_cstring(b, PROTO_MAX_PATH, &s->freezer));
	return 0;
fail:
	move_spec_clear(s);
	return r;
}

void
move_spec_clear(struct move_spec *s)
{
	move_req_clear(&s->req);
	free(s->dst_name);
	free(s->addr);
	free(s->key);
	free(s->self);
	free(s->hostkey);
	free(s->freezer);
	memset(s, 0, sizeof(*s));
}

const char *
proto_msg_name(uint8_t type)
{
	switch (type) {
	case MSG_HELLO:		return "HELLO";
	case MSG_OK:		return "OK";
	case MSG_ERROR:		return "ERROR";
	case MSG_SPAWN:		return "SPAWN";
	case MSG_SPAWNED:	return "SPAWNED";
	case MSG_DATA:		return "DATA";
	case MSG_EOF:		return "EOF";
	case MSG_EXITED:	return "EXITED";
	case MSG_WINCH:		return "WINCH";
	case MSG_STOPPED:	return "STOPPED";
	case MSG_CONTINUED:	return "CONTINUED";
	case MSG_RUN:		return "RUN";
	case MSG_WAIT:		return "WAIT";
	case MSG_LIST:		return "LIST";
	case MSG_LIST_REPLY:	return "LIST_REPLY";
	case MSG_SIGNAL:	return "SIGNAL";
	case MSG_SIGNAL_REPLY:	return "SIGNAL_REPLY";
	case MSG_NODES:		return "NODES";
	case MSG_NODES_REPLY:	return "NODES_REPLY";
	case MSG_DRAIN:		return "DRAIN";
	case MSG_LOAD:		return "LOAD";
	case MSG_MIGRATE:	return "MIGRATE";
	case MSG_MIGRATED:	return "MIGRATED";
	case MSG_RESTORE:	return "RESTORE";
	case MSG_COMMIT:	return "COMMIT";
	case MSG_RESTORED:	return "RESTORED";
	case MSG_ABORT:		return "ABORT";
	case MSG_MOVED:		return "MOVED";
	case MSG_MIGRATE_QUERY:	return "MIGRATE_QUERY";
	case MSG_MIGRATE_STATE:	return "MIGRATE_STATE";
	case MSG_MOVE_SPEC:	return "MOVE_SPEC";
	case MSG_MOVE_READY:	return "MOVE_READY";
	case MSG_MOVE_KILL:	return "MOVE_KILL";
	case MSG_MOVE_DONE:	return "MOVE_DONE";
	case MSG_MOVE_INPUT:	return "MOVE_INPUT";
	case MSG_PEER_CALL:	return "PEER_CALL";
	case MSG_PEER_REPLY:	return "PEER_REPLY";
	case MSG_SHEP_SPEC:	return "SHEP_SPEC";
	case MSG_SHEP_INFO:	return "SHEP_INFO";
	case MSG_SHEP_EXIT:	return "SHEP_EXIT";
	case MSG_SHEP_COLLECT:	return "SHEP_COLLECT";
	case MSG_SHEP_SIGNAL:	return "SHEP_SIGNAL";
	case MSG_SHEP_WINCH:	return "SHEP_WINCH";
	case MSG_SHEP_RUN:	return "SHEP_RUN";
	default:		return "?";
	}
}
