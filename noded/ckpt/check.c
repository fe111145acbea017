/*
 * check.c: ckpt_check(), whether a tree could be dumped, decided without
 * freezing or tracing it, so that migration can refuse a job that cannot
 * move before it stops it.
 *
 * It walks the tree as the dump does (ck_children) and runs, on each
 * process and thread, the very functions the dump runs on them:
 * ck_task_refuse and ck_thread_refuse (zombie, POSIX timers, deleted
 * program, tracer, seccomp), ck_mm_check (mappings: SysV shared memory,
 * deleted or special files) and
 * ck_fds_walk (sockets, anon inodes, deleted files, devices).  So a
 * refusal names the resource exactly as the dump's would.  What it
 * cannot see (the state of a resource at the instant of the freeze, a
 * permission the ptrace attach would be denied) the dump still refuses.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt-int.h"

static int	vanished(const pid_t *, uint32_t, int);

/* Every process of the tree of root, root first, parents first. */
int
ck_tree_pids(pid_t root, pid_t **pidsp, uint32_t *np, struct ckpt_err *e)
{
	pid_t *pids, *kids, *nw;
	uint32_t n = 1, i, k, j, nk;
	int r = 0;

	if ((pids = malloc(sizeof(*pids))) == NULL)
		return ck_fail(e, SS_ERR_ALLOC, "out of memory");
	pids[0] = root;
	for (i = 0; i < n && r == 0; i++) {
		if ((r = ck_children(pids[i], &kids, &nk, e)) != 0) {
			/* A child gone since its parent listed it. */
			if ((r = vanished(pids, i, r)) == 0)
				continue;
			break;
		}
		for (k = 0; k < nk && r == 0; k++) {
			for (j = 0; j < n && pids[j] != kids[k]; j++)
				;
			if (j < n)
				continue;
			if (n >= CK_MAX_PROCS)
				r = ck_fail(e, SS_ERR_TOO_LONG, "too many "
				    "processes");
			else if ((nw = realloc(pids, (n + 1) *
			    sizeof(*nw))) == NULL)
				r = ck_fail(e, SS_ERR_ALLOC, "out of memory");
			else {
				pids = nw;
				pids[n++] = kids[k];
			}
		}
		free(kids);
	}
	if (r != 0) {
		free(pids);
		return r;
	}
	*pidsp = pids;
	*np = n;
	return 0;
}

/* The per-thread rules on every thread of pid. */
static int
check_threads(pid_t pid, struct ckpt_err *e)
{
	char path[64];
	DIR *d;
	struct dirent *de;
	int r = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	if ((d = opendir(path)) == NULL)
		return ck_fail(e, SS_ERR_NOT_FOUND, "process %d: %s", pid,
		    strerror(errno));
	while (r == 0 && (de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			r = ck_thread_refuse(pid,
			    (pid_t)strtol(de->d_name, NULL, 10), e);
	closedir(d);
	return r;
}

/* r, or 0 when it came from a child (not the root) that has ended: gone,
 * or a zombie, which the dump carries as one. */
static int
vanished(const pid_t *pids, uint32_t i, int r)
{
	char path[64];
	uint32_t st;

	if (r == 0 || i == 0)
		return r;
	if (ck_task_zombie(pids[i], &st))
		return 0;
	snprintf(path, sizeof(path), "/proc/%d", pids[i]);
	return access(path, F_OK) == -1 && errno == ENOENT ? 0 : r;
}

int
ckpt_check(pid_t pid, struct ckpt_err *e)
{
	pid_t *pids = NULL;
	uint32_t n = 0, i;
	int r = 0;

	if (pid <= 0)
		return ck_fail(e, SS_ERR_BAD, "no process given");
	if (pid == getpid())
		return ck_fail(e, SS_ERR_BAD, "cannot dump myself");
	if (kill(pid, 0) == -1 && errno == ESRCH)
		return ck_fail(e, SS_ERR_NOT_FOUND, "process %d: %s", pid,
		    strerror(errno));
	if ((r = ck_tree_pids(pid, &pids, &n, e)) != 0)
		return r;
	/* In the dump's order: what the freeze sees, then memory, files.
	 * A child that ended meanwhile is no reason to refuse (the dump
	 * freezes what is there). */
	for (i = 0; i < n && r == 0; i++) {
		if ((r = ck_task_refuse(pids[i], NULL, e)) == 0)
			r = check_threads(pids[i], e);
		r = vanished(pids, i, r);
	}
	for (i = 0; i < n && r == 0; i++)
		r = vanished(pids, i, ck_mm_check(pids[i], e));
	for (i = 0; i < n && r == 0; i++)
		r = vanished(pids, i, ck_fds_walk(pids[i], NULL, NULL, e));
	free(pids);
	return r;
}
