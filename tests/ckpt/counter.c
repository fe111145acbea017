/*
 * counter: a zdtm-style test.  A heap region (argv[2] MiB, default 16) of
 * pseudo-random bytes whose checksum is kept; a counter appended to a
 * file (argv[1]) every step, with a short sleep between steps.  After a
 * restore the counter goes on from where it was; on SIGUSR2 the test
 * checks the heap against its checksum and exits 0 (pass) or 1 (fail).
 * Creates argv[1].ready once set up.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "zdtm.h"

static uint64_t
sum(const uint64_t *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

int
main(int argc, char **argv)
{
	size_t mib = argc > 2 ? strtoul(argv[2], NULL, 10) : 16;
	size_t n = mib * 1024 * 1024 / 8, i;
	uint64_t *heap, x = 88172645463325252ull, want;
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	FILE *f;
	long step = 0;

	if (argc < 2)
		return 2;
	signal(SIGUSR2, on_usr2);
	if ((heap = malloc(n * 8)) == NULL)
		return 2;
	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		heap[i] = x;
	}
	want = sum(heap, n);
	if ((f = zdtm_ready(argv[1])) == NULL)
		return 2;
	while (!done) {
		fprintf(f, "%ld\n", step++);
		nanosleep(&ts, NULL);
	}
	if (sum(heap, n) != want) {
		fprintf(stderr, "counter: heap checksum mismatch\n");
		return 1;
	}
	fprintf(f, "end\n");
	fclose(f);
	return 0;
}
