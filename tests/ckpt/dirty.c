/*
 * dirty: a zdtm-style test for the pre-copy.  A heap of argv[2] MiB
 * (default 64) whose pages it keeps rewriting while it runs, so that a
 * pre-copy always finds pages written since the last round: each step
 * rewrites 32 pages chosen at random, each to the contents its new
 * generation number says (gen[i], kept in memory too).  Some generations
 * make a page all zeros by writing zeros (the pre-copy must forget what
 * it sent of it), some by MADV_DONTNEED (the kernel drops the page).  A
 * counter goes to argv[1] every step, with a short sleep.  On SIGUSR2,
 * between steps, every page is checked against its generation: exit 0
 * (pass) or 1 (fail, with the first bad page on stderr).  Creates
 * argv[1].ready once set up.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "zdtm.h"

#define PG	4096
#define WORDS	(PG / 8)

/* What generation g of page i holds: zeros, or a pattern of both. */
static int
zero_gen(uint32_t g)
{
	return g % 7 == 3 || g % 11 == 5;
}

static uint64_t
word(size_t i, uint32_t g, size_t k)
{
	uint64_t x = (i + 1) * 0x9e3779b97f4a7c15ull ^ (uint64_t)g << 32 ^ k;

	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ull;
	return x ^ (x >> 32);
}

static void
fill(uint64_t *p, size_t i, uint32_t g)
{
	size_t k;

	if (g % 11 == 5) {
		/* Dropped by the kernel: reads as zeros from now on. */
		if (madvise(p, PG, MADV_DONTNEED) != 0)
			memset(p, 0, PG);
		return;
	}
	for (k = 0; k < WORDS; k++)
		p[k] = zero_gen(g) ? 0 : word(i, g, k);
}

static int
check(const uint64_t *heap, const uint32_t *gen, size_t npg)
{
	size_t i, k;

	for (i = 0; i < npg; i++)
		for (k = 0; k < WORDS; k++)
			if (heap[i * WORDS + k] != (zero_gen(gen[i]) ? 0 :
			    word(i, gen[i], k))) {
				fprintf(stderr, "dirty: page %zu (generation "
				    "%u) wrong at word %zu\n", i, gen[i], k);
				return 1;
			}
	return 0;
}

int
main(int argc, char **argv)
{
	size_t mib = argc > 2 ? strtoul(argv[2], NULL, 10) : 64;
	size_t npg = mib * 256, i, j;
	struct timespec ts = { 0, 2 * 1000 * 1000 };
	uint64_t *heap, x = 0x2545f4914f6cdd1dull;
	uint32_t *gen;
	FILE *f;
	long step = 0;

	if (argc < 2 || npg == 0)
		return 2;
	signal(SIGUSR2, on_usr2);
	heap = mmap(NULL, npg * PG, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (heap == MAP_FAILED || (gen = calloc(npg, sizeof(*gen))) == NULL)
		return 2;
	for (i = 0; i < npg; i++) {
		gen[i] = 1;
		fill(heap + i * WORDS, i, gen[i]);
	}
	if ((f = zdtm_ready(argv[1])) == NULL)
		return 2;
	while (!done) {
		for (j = 0; j < 32; j++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			i = (size_t)(x % npg);
			gen[i]++;
			fill(heap + i * WORDS, i, gen[i]);
		}
		fprintf(f, "%ld\n", step++);
		nanosleep(&ts, NULL);
	}
	if (check(heap, gen, npg) != 0)
		return 1;
	fprintf(f, "end\n");
	fclose(f);
	return 0;
}
