/*
 * shmem: a zdtm-style test of shared anonymous memory in a tree.
 *
 * The parent maps 16 MiB MAP_SHARED | MAP_ANONYMOUS (A), fills its first
 * 4 MiB and the page at 12 MiB with patterns, and forks.  The child
 * unmaps the first MiB of A (so it maps A at another offset and length
 * than its parent), writes the page at 15.5 MiB, and maps a MiB of its
 * own (C).  The parent maps a MiB of its own (P), makes the last MiB of
 * A read-only (two areas of one object), and drops the page at 12 MiB
 * from its page tables (MADV_DONTNEED: the page stays in the object,
 * mapped by nobody).  Then it creates argv[1].ready and waits.
 *
 * On SIGUSR2 (after a restore) the parent checks everything it can see,
 * writes a word into A and waits for the child, which checks its side,
 * to answer through A; then it reaps the child and exits 0 (pass) or 1.
 * Every wait is bounded, so a broken restore fails instead of hanging.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "zdtm.h"

#define MIB		(1024ul * 1024)
#define ASZ		(16 * MIB)
#define CTL		(8 * MIB)	/* control words in A */
#define PING		0x5eedull
#define POLLS		30000		/* of 10 ms: 5 minutes */


static uint64_t
pat(size_t i, uint64_t seed)
{
	uint64_t x = (i + 1) * 0x9e3779b97f4a7c15ull ^ seed * 0xbf58476d1ce4e5b9ull;

	return x ^ (x >> 31);
}

static void
fill(uint8_t *p, size_t len, uint64_t seed)
{
	uint64_t *w = (uint64_t *)p;
	size_t i;

	for (i = 0; i < len / 8; i++)
		w[i] = pat(i, seed);
}

/* p holds words first.. of fill(..., seed)'s pattern. */
static int
same(const char *who, const char *what, const uint8_t *p, size_t len,
    size_t first, uint64_t seed)
{
	const uint64_t *w = (const uint64_t *)p;
	size_t i;

	for (i = 0; i < len / 8; i++)
		if (w[i] != pat(first + i, seed)) {
			fprintf(stderr, "shmem: %s: %s differs at word %zu\n",
			    who, what, i);
			return 0;
		}
	return 1;
}

static void
nap(void)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

static int
child(uint8_t *a)
{
	volatile uint64_t *ctl = (volatile uint64_t *)(a + CTL);
	uint8_t *c;
	int ok = 1, i;

	if (munmap(a, MIB) == -1)
		return 2;
	c = mmap(NULL, MIB, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
	    -1, 0);
	if (c == MAP_FAILED)
		return 2;
	fill(c, MIB, 3);
	fill(a + 15 * MIB + MIB / 2, 4096, 4);
	ctl[0] = 1;
	/* Until the parent pings (after the restore); orphaned: give up. */
	for (i = 0; ctl[1] == 0; i++) {
		if (getppid() == 1 || i > 10 * POLLS)
			return 1;
		nap();
	}
	ok &= ctl[1] == PING;
	ok &= same("child", "A [1, 4) MiB", a + MIB, 3 * MIB, MIB / 8, 1) &&
	    same("child", "A [12 MiB] page", a + 12 * MIB, 4096, 0, 2) &&
	    same("child", "C", c, MIB, 0, 3) &&
	    same("child", "A [15.5 MiB] page", a + 15 * MIB + MIB / 2, 4096, 0,
	    4);
	ctl[2] = ok ? PING + 1 : 0xbad;
	return ok ? 0 : 1;
}

int
main(int argc, char **argv)
{
	volatile uint64_t *ctl;
	uint8_t *a, *p;
	char path[4096];
	pid_t kid;
	int fd, i, ok = 1, st = -1;

	if (argc < 2)
		return 2;
	signal(SIGUSR2, on_usr2);
	a = mmap(NULL, ASZ, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
	    -1, 0);
	if (a == MAP_FAILED)
		return 2;
	ctl = (volatile uint64_t *)(a + CTL);
	fill(a, 4 * MIB, 1);
	fill(a + 12 * MIB, 4096, 2);
	if ((kid = fork()) == -1)
		return 2;
	if (kid == 0)
		_exit(child(a));
	p = mmap(NULL, MIB, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
	    -1, 0);
	if (p == MAP_FAILED)
		return 2;
	fill(p, MIB, 5);
	if (mprotect(a + 15 * MIB, MIB, PROT_READ) == -1)
		return 2;
	for (i = 0; ctl[0] == 0; i++) {
		if (i > POLLS)
			return 2;
		nap();
	}
	if (madvise(a + 12 * MIB, 4096, MADV_DONTNEED) == -1)
		return 2;
	snprintf(path, sizeof(path), "%s.ready", argv[1]);
	if ((fd = open(path, O_WRONLY | O_CREAT, 0644)) < 0)
		return 2;
	close(fd);
	while (!done)
		nap();
	ok &= same("parent", "A [0, 4) MiB", a, 4 * MIB, 0, 1) &&
	    same("parent", "A [12 MiB] page", a + 12 * MIB, 4096, 0, 2) &&
	    same("parent", "P", p, MIB, 0, 5) &&
	    same("parent", "A [15.5 MiB] page (the child's)", a + 15 * MIB +
	    MIB / 2, 4096, 0, 4);
	/* A write of ours seen by the child, and its answer by us. */
	ctl[1] = PING;
	for (i = 0; ctl[2] == 0 && i < POLLS; i++)
		nap();
	if (ctl[2] != PING + 1) {
		fprintf(stderr, "shmem: parent: the child answered %#llx\n",
		    (unsigned long long)ctl[2]);
		ok = 0;
	}
	if (waitpid(-1, &st, 0) == -1 || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0) {
		fprintf(stderr, "shmem: parent: child status %#x\n", st);
		ok = 0;
	}
	return ok ? 0 : 1;
}
