/*
 * freezer.c: a cgroup freezer before ptrace (ckpt_dump_opts.freezer).
 *
 * Seizing a tree with ptrace alone races with its forks and clones: the
 * dump loops until a round finds nothing new (threads.c).  A cgroup that
 * holds the tree stops all of it at once: the freezer is set, and once the
 * cgroup says frozen every thread in it is seized and interrupted (they
 * cannot fork now), then the cgroup is thawed, and each thread is waited
 * for in its ptrace stop.  The threads.c loop then runs as usual and finds
 * them seized already (ck_frozen_take); seized threads that are not in the
 * tree are let go (ck_frozen_release).
 *
 * Both kinds are known: cgroup v2 (cgroup.freeze, cgroup.events "frozen 1",
 * cgroup.threads) and the v1 freezer hierarchy (freezer.state FROZEN,
 * tasks).  A directory that is neither is refused before anything changes.
 * A cgroup that does not say frozen within FREEZE_MS is thawed again and
 * the dump fails (a task stuck in an uninterruptible sleep).
 *
 * The stops are awaited in whatever order they come: a parent inside
 * vfork(2) cannot stop before its child has exec'd or exited, and that
 * child, seized too, stops at once.  A thread that has not stopped while
 * nothing else moves gets its stopped children let go (the tree walk
 * seizes them again as it meets them), so that it can.
 */
#include <sys/ptrace.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "ckpt-int.h"

#define FREEZE_MS	10000

enum { FZ_V2 = CG_FREEZER_V2, FZ_V1 = CG_FREEZER_V1 };

/* 1 if dir/name reads as frozen (v2: a line "frozen 1"; v1: FROZEN). */
static int
is_frozen(const char *dir, int kind)
{
	char path[4200], *data = NULL;
	int r;

	snprintf(path, sizeof(path), "%s/%s", dir,
	    kind == FZ_V2 ? "cgroup.events" : "freezer.state");
	if (ck_read_file(path, &data, NULL) != 0)
		return 0;
	if (kind == FZ_V2)
		r = strncmp(data, "frozen 1", 8) == 0 ||
		    strstr(data, "\nfrozen 1") != NULL;
	else
		r = strncmp(data, "FROZEN", 6) == 0;
	free(data);
	return r;
}

static int
set_frozen(const char *dir, int kind, int on, struct ckpt_err *e)
{
	char path[4200];

	if (cg_set_frozen(dir, kind, on, path, sizeof(path)) != 0)
		return ck_fail(e, SS_ERR_SYSTEM, "%s: %s", path,
		    strerror(errno));
	return 0;
}

/* Freezes dir and waits until it says so (cgroup.events changes wake a
 * poll on it; v1 has no such event, and is read every millisecond). */
static int
freeze(const char *dir, int kind, struct ckpt_err *e)
{
	struct timespec ms = { 0, 1000 * 1000 };
	char path[4200];
	struct pollfd pfd;
	uint64_t end;
	int r;

	if ((r = set_frozen(dir, kind, 1, e)) != 0)
		return r;
	end = ck_now_ns() + (uint64_t)FREEZE_MS * 1000000;
	snprintf(path, sizeof(path), "%s/cgroup.events", dir);
	pfd.fd = kind == FZ_V2 ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	pfd.events = POLLPRI;
	while (!is_frozen(dir, kind)) {
		if (ck_now_ns() >= end) {
			if (pfd.fd != -1)
				close(pfd.fd);
			(void)set_frozen(dir, kind, 0, NULL);
			return ck_fail(e, SS_ERR_BUSY, "%s: not frozen after "
			    "%d s", dir, FREEZE_MS / 1000);
		}
		if (pfd.fd == -1 || poll(&pfd, 1, 10) == -1)
			nanosleep(&ms, NULL);
	}
	if (pfd.fd != -1)
		close(pfd.fd);
	return 0;
}

/* The thread ids in dir (cgroup.threads, or v1's tasks). */
static int
list_tids(const char *dir, int kind, pid_t **tidsp, uint32_t *np,
    struct ckpt_err *e)
{
	char path[4200], *data, *s, *end;
	pid_t *tids = NULL, *nt;
	uint32_t n = 0;
	long v;

	*tidsp = NULL;
	*np = 0;
	snprintf(path, sizeof(path), "%s/%s", dir,
	    kind == FZ_V2 ? "cgroup.threads" : "tasks");
	if (ck_read_file(path, &data, NULL) != 0)
		return ck_fail(e, SS_ERR_SYSTEM, "%s: %s", path,
		    strerror(errno));
	for (s = data;; s = end) {
		v = strtol(s, &end, 10);
		if (end == s)
			break;
		if (v <= 0)
			continue;
		if (n >= CK_MAX_PROCS * 4 ||
		    (nt = realloc(tids, (n + 1) * sizeof(*nt))) == NULL) {
			free(tids);
			free(data);
			return ck_fail(e, n >= CK_MAX_PROCS * 4 ?
			    SS_ERR_TOO_LONG : SS_ERR_ALLOC, "%s: %s", path,
			    n >= CK_MAX_PROCS * 4 ? "too many threads" :
			    "out of memory");
		}
		tids = nt;
		tids[n++] = (pid_t)v;
	}
	free(data);
	*tidsp = tids;
	*np = n;
	return 0;
}

/* A field of /proc/TID/status ("PPid", "Tgid"), or -1. */
static long
status_field(pid_t tid, const char *name)
{
	char path[64], line[256];
	size_t k = strlen(name);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, name, k) == 0 && line[k] == ':') {
			v = strtol(line + k + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/* The stopped threads whose parent is the process of tid go (used). */
static void
release_children_of(struct ck_frozen *fz, const uint8_t *stopped, pid_t tid)
{
	long tgid = status_field(tid, "Tgid");
	uint32_t j;

	if (tgid <= 0)
		return;
	for (j = 0; j < fz->n; j++)
		if (stopped[j] && !fz->used[j] &&
		    status_field(fz->tids[j], "PPid") == tgid) {
			(void)ptrace(PTRACE_DETACH, fz->tids[j], NULL, NULL);
			fz->used[j] = 1;
		}
}

/* Waits for every seized thread's stop, in any order (see the top). */
static int
wait_all(struct ck_frozen *fz, struct ckpt_err *e)
{
	struct timespec ms = { 0, 1000 * 1000 };
	uint64_t end, idle;
	uint8_t *stopped;
	uint32_t i, left = fz->n;
	int st, moved, r = 0;
	pid_t w;

	if ((stopped = calloc(fz->n > 0 ? fz->n : 1, 1)) == NULL)
		return ck_fail(e, SS_ERR_ALLOC, "out of memory");
	end = ck_now_ns() + (uint64_t)FREEZE_MS * 1000000;
	idle = ck_now_ns();
	while (left > 0) {
		moved = 0;
		for (i = 0; i < fz->n; i++) {
			if (stopped[i] || fz->used[i])
				continue;
			w = waitpid(fz->tids[i], &st, WNOHANG | __WALL);
			if (w == 0 || (w == -1 && errno == EINTR))
				continue;
			moved = 1;
			if (w == -1 || !WIFSTOPPED(st)) {
				fz->used[i] = 1;	/* gone */
				left--;
			} else if ((st >> 16) == PTRACE_EVENT_STOP) {
				stopped[i] = 1;
				left--;
			} else if (ptrace(PTRACE_CONT, fz->tids[i], NULL,
			    (void *)(long)((st >> 16) == 0 ? WSTOPSIG(st) :
			    0)) == -1 && errno != ESRCH) {
				r = ck_fail(e, SS_ERR_SYSTEM, "thread %d: "
				    "PTRACE_CONT: %s", fz->tids[i],
				    strerror(errno));
				goto out;
			}
		}
		if (left == 0)
			break;
		if (moved) {
			idle = ck_now_ns();
			continue;
		}
		if (ck_now_ns() - idle > 20 * 1000000ull) {
			/* Nothing moves: a parent waiting for a child. */
			for (i = 0; i < fz->n; i++)
				if (!stopped[i] && !fz->used[i])
					release_children_of(fz, stopped,
					    fz->tids[i]);
			idle = ck_now_ns();
		}
		if (ck_now_ns() >= end) {
			r = ck_fail(e, SS_ERR_BUSY, "threads of the cgroup did "
			    "not stop within %d s", FREEZE_MS / 1000);
			goto out;
		}
		nanosleep(&ms, NULL);
	}
out:
	/* Those that did not stop cannot be let go by PTRACE_DETACH (it
	 * needs a stop): they are the tree walk's, or killed with it. */
	free(stopped);
	return r;
}

/* The kind of freezer dir has (*kindp), or a refusal. */
static int
freezer_kind(const char *dir, int *kindp, struct ckpt_err *e)
{
	if ((*kindp = cg_freezer_kind(dir)) == CG_FREEZER_NONE)
		return ck_fail(e, SS_ERR_BAD, "%s: not a cgroup with a freezer",
		    dir);
	return 0;
}

int
ck_frozen_seize(const char *dir, struct ck_frozen *fz, struct ckpt_err *e)
{
	pid_t *tids = NULL;
	uint32_t n = 0, i;
	int kind, r, r2;

	memset(fz, 0, sizeof(*fz));
	if ((r = freezer_kind(dir, &kind, e)) != 0)
		return r;
	if ((r = freeze(dir, kind, e)) != 0)
		return r;
	if ((r = list_tids(dir, kind, &tids, &n, e)) == 0 &&
	    (fz->used = calloc(n > 0 ? n : 1, 1)) == NULL)
		r = ck_fail(e, SS_ERR_ALLOC, "out of memory");
	if (r != 0) {
		free(tids);
		(void)set_frozen(dir, kind, 0, NULL);
		return r;
	}
	fz->tids = tids;
	/* Nothing in the cgroup can fork now: seize all of it.  A thread
	 * that is gone is no error; one we cannot trace is refused by the
	 * tree walk later, with its reason (ck_thread_refuse). */
	for (i = 0; i < n; i++) {
		if (ptrace(PTRACE_SEIZE, tids[i], NULL, NULL) == -1)
			continue;
		if (ptrace(PTRACE_INTERRUPT, tids[i], NULL, NULL) == -1) {
			(void)ptrace(PTRACE_DETACH, tids[i], NULL, NULL);
			continue;
		}
		fz->tids[fz->n++] = tids[i];
	}
	/* The interrupts take effect as they leave the freezer. */
	r = set_frozen(dir, kind, 0, e);
	if ((r2 = wait_all(fz, e)) != 0 && r == 0)
		r = r2;
	if (r != 0)
		ck_frozen_release(fz);
	return r;
}

int
ck_frozen_take(struct ck_frozen *fz, pid_t tid)
{
	uint32_t i;

	for (i = 0; i < fz->n; i++)
		if (fz->tids[i] == tid && !fz->used[i]) {
			fz->used[i] = 1;
			return 1;
		}
	return 0;
}

void
ck_frozen_release(struct ck_frozen *fz)
{
	uint32_t i;

	for (i = 0; i < fz->n; i++)
		if (!fz->used[i])
			(void)ptrace(PTRACE_DETACH, fz->tids[i], NULL, NULL);
	free(fz->tids);
	free(fz->used);
	memset(fz, 0, sizeof(*fz));
}

/*
 * The throttle (migration's auto-converge, ckpt.h): a thread that freezes
 * the cgroup for stop_ms, thaws it for run_ms, and so on, until stopped
 * or max_ms have passed; it leaves the cgroup thawed.  A write that fails (the cgroup went with
 * its last task) is no error: the next may work, and the end thaws.
 */
struct ckpt_throttle {
	char		 dir[4096];
	int		 kind;
	unsigned	 run_ms, stop_ms;
	uint64_t	 end_ns;	/* thawed for good from then */
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;		/* CLOCK_MONOTONIC */
	int		 stop;
	pthread_t	 thread;
};

static void *
throttle_main(void *arg)
{
	struct ckpt_throttle *t = arg;
	struct timespec until;
	uint64_t ns;
	int frozen = 0;

	pthread_mutex_lock(&t->mu);
	while (!t->stop && (frozen || ck_now_ns() < t->end_ns)) {
		frozen = !frozen;
		(void)set_frozen(t->dir, t->kind, frozen, NULL);
		ns = ck_now_ns() + (uint64_t)(frozen ? t->stop_ms : t->run_ms) *
		    1000000;
		until.tv_sec = (time_t)(ns / 1000000000);
		until.tv_nsec = (long)(ns % 1000000000);
		while (!t->stop && pthread_cond_timedwait(&t->cv, &t->mu,
		    &until) == 0)
			;
	}
	pthread_mutex_unlock(&t->mu);
	(void)set_frozen(t->dir, t->kind, 0, NULL);
	return NULL;
}

int
ckpt_throttle_start(const char *freezer, unsigned run_ms, unsigned stop_ms,
    unsigned max_ms, struct ckpt_throttle **tp, struct ckpt_err *e)
{
	struct ckpt_throttle *t;
	pthread_condattr_t ca;
	int kind, r;

	*tp = NULL;
	if (run_ms == 0 || stop_ms == 0 || run_ms > 10000 || stop_ms > 10000)
		return ck_fail(e, SS_ERR_BAD, "throttle: %u ms run, %u ms "
		    "stopped: out of range", run_ms, stop_ms);
	if (strlen(freezer) >= sizeof(t->dir))
		return ck_fail(e, SS_ERR_TOO_LONG, "%s: path too long",
		    freezer);
	if ((r = freezer_kind(freezer, &kind, e)) != 0)
		return r;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return ck_fail(e, SS_ERR_ALLOC, "out of memory");
	snprintf(t->dir, sizeof(t->dir), "%s", freezer);
	t->kind = kind;
	t->run_ms = run_ms;
	t->stop_ms = stop_ms;
	t->end_ns = ck_now_ns() + (uint64_t)max_ms * 1000000;
	if (pthread_condattr_init(&ca) != 0) {
		free(t);
		return ck_fail(e, SS_ERR_ALLOC, "out of memory");
	}
	r = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (r == 0 && (r = pthread_cond_init(&t->cv, &ca)) == 0 &&
	    (r = pthread_mutex_init(&t->mu, NULL)) != 0)
		pthread_cond_destroy(&t->cv);
	(void)pthread_condattr_destroy(&ca);
	if (r == 0 && (r = pthread_create(&t->thread, NULL, throttle_main,
	    t)) != 0) {
		pthread_mutex_destroy(&t->mu);
		pthread_cond_destroy(&t->cv);
	}
	if (r != 0) {
		free(t);
		return ck_fail(e, SS_ERR_SYSTEM, "throttle: %s", strerror(r));
	}
	*tp = t;
	return 0;
}

void
ckpt_throttle_stop(struct ckpt_throttle *t)
{
	if (t == NULL)
		return;
	pthread_mutex_lock(&t->mu);
	t->stop = 1;
	pthread_cond_signal(&t->cv);
	pthread_mutex_unlock(&t->mu);
	(void)pthread_join(t->thread, NULL);
	pthread_mutex_destroy(&t->mu);
	pthread_cond_destroy(&t->cv);
	free(t);
}
