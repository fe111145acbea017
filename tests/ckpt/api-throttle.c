/*
 * api-throttle: the engine's throttle (migration's auto-converge) on the
 * cgroup argv[1] (v2, or the v1 freezer hierarchy) that holds a running
 * process: while it runs, the cgroup is seen frozen and seen thawed again,
 * by turns; once stopped, it is thawed; with a time limit, it lets go by
 * itself (thawed for good) once the limit is past.  A directory that is
 * no cgroup (argv[2]) is refused, naming it.  Exit 0 if all holds, 1 with
 * the reason on stderr otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "noded/ckpt/ckpt.h"

#define SEEN_MS		10000	/* each state must show within this */

/* 1 if the cgroup says frozen, 0 if thawed, -1 if it cannot be read. */
static int
frozen(const char *dir)
{
	char path[4200], buf[256];
	size_t n;
	FILE *f;
	int v2 = 1;

	snprintf(path, sizeof(path), "%s/cgroup.events", dir);
	if ((f = fopen(path, "re")) == NULL) {
		v2 = 0;
		snprintf(path, sizeof(path), "%s/freezer.state", dir);
		if ((f = fopen(path, "re")) == NULL)
			return -1;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (v2)
		return strstr(buf, "frozen 1") != NULL;
	/* v1 says FREEZING on the way: not frozen yet. */
	return strncmp(buf, "FROZEN", 6) == 0;
}

/* Waits until the cgroup's state is want; 0, or -1 after SEEN_MS. */
static int
wait_state(const char *dir, int want)
{
	struct timespec ms = { 0, 1000 * 1000 };
	int i;

	for (i = 0; i < SEEN_MS; i++) {
		if (frozen(dir) == want)
			return 0;
		nanosleep(&ms, NULL);
	}
	return -1;
}

/* 0 once the cgroup has been seen thawed ms times in a row, a
 * millisecond apart, within SEEN_MS; -1 if not. */
static int
thawed_for_good(const char *dir, int ms)
{
	struct timespec one = { 0, 1000 * 1000 };
	int i, run = 0;

	for (i = 0; i < SEEN_MS && run < ms; i++) {
		run = frozen(dir) == 0 ? run + 1 : 0;
		nanosleep(&one, NULL);
	}
	return run >= ms ? 0 : -1;
}

int
main(int argc, char **argv)
{
	struct ckpt_throttle *t;
	struct ckpt_err e;
	int k;

	if (argc != 3) {
		fprintf(stderr, "usage: api-throttle CGROUP NOT-A-CGROUP\n");
		return 1;
	}
	if (ckpt_throttle_start(argv[2], 5, 20, 60000, &t, &e) == 0 ||
	    t != NULL || strstr(e.msg, argv[2]) == NULL) {
		fprintf(stderr, "%s: not refused\n", argv[2]);
		ckpt_throttle_stop(t);
		return 1;
	}
	if (frozen(argv[1]) != 0) {
		fprintf(stderr, "%s: not thawed to begin with\n", argv[1]);
		return 1;
	}
	if (ckpt_throttle_start(argv[1], 5, 20, 60000, &t, &e) != 0) {
		fprintf(stderr, "throttle: %s\n", e.msg);
		return 1;
	}
	/* Frozen, thawed, frozen, thawed: it goes on by itself. */
	for (k = 0; k < 4; k++)
		if (wait_state(argv[1], k % 2 == 0) != 0) {
			fprintf(stderr, "%s: never %s while throttled\n",
			    argv[1], k % 2 == 0 ? "frozen" : "thawed");
			ckpt_throttle_stop(t);
			return 1;
		}
	ckpt_throttle_stop(t);
	if (frozen(argv[1]) != 0) {
		fprintf(stderr, "%s: not thawed once stopped\n", argv[1]);
		return 1;
	}
	/* With max_ms, it lets go by itself: once frozen, then thawed for
	 * good while not stopped yet (seen thawed a thousand times in a row,
	 * a millisecond apart: at work, it freezes it every 25 ms). */
	if (ckpt_throttle_start(argv[1], 5, 20, 300, &t, &e) != 0) {
		fprintf(stderr, "throttle: %s\n", e.msg);
		return 1;
	}
	if (wait_state(argv[1], 1) != 0 || thawed_for_good(argv[1], 1000)
	    != 0) {
		fprintf(stderr, "%s: not thawed for good after max_ms\n",
		    argv[1]);
		ckpt_throttle_stop(t);
		return 1;
	}
	ckpt_throttle_stop(t);
	return 0;
}
