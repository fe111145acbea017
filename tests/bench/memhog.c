/*
 * memhog: a process of a known resident size, for the migration benchmark
 * (tests/bench/run) -- the job that smigrate moves.
 *
 * usage: memhog SIZE [PERCENT [WRITE[b]]]
 *   SIZE     bytes to map, with an optional K, M or G suffix (powers of 2)
 *   PERCENT  how much of it to fill, from the start (default 100); the rest
 *            is never touched, so it stays unmapped zero pages
 *   WRITE    MiB per second of its filled memory to write again while it
 *            waits (default 0): each page in turn gets a word stored back
 *            unchanged, so its data stays checkable but the page is
 *            written, as a busy job's memory is (what a pre-copy chases).
 *            With b ("busy"), it never sleeps: it spins on a CPU and
 *            writes WRITE MiB per second of the CPU time it gets, as a
 *            program computing over its memory does (a job slowed down
 *            then writes less); without, WRITE MiB per second of wall
 *            time, in a burst every 100 ms, whatever else happens
 *
 * Maps SIZE bytes of private anonymous memory, fills the first PERCENT of
 * it with pseudo-random data (splitmix64: fast, and incompressible), prints
 * "ready SIZE TOUCHED" on stdout, then sleeps in a loop, doing nothing, so
 * that a migration's downtime is its own.  SIGUSR1 makes it check the data
 * against the generator once and print "ok" or "corrupt at OFFSET" (to see
 * that a moved image arrived whole); SIGTERM or SIGINT end it.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define SEED	0x5eed5eed5eed5eedULL

static volatile sig_atomic_t check_req, stop_req;

static void
on_usr1(int sig)
{
	(void)sig;
	check_req = 1;
}

static void
on_stop(int sig)
{
	(void)sig;
	stop_req = 1;
}

static uint64_t
splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int
parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s)
		return -1;
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	default: break;
	}
	if ((*end == 'i' || *end == 'I') && end[1] == 'B')
		end += 2;
	else if (*end == 'B' || *end == 'b')
		end++;
	if (*end != '\0' || v == 0 || v > ((uint64_t)1 << 40))
		return -1;
	*out = v;
	return 0;
}

/* The CPU time this process has used, in seconds. */
static double
cpu_seconds(void)
{
	struct timespec t;

	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t) != 0)
		return 0;
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	uint64_t size, touched, n, s, *p;
	unsigned long pct = 100, wmib = 0;
	uint64_t written = 0;
	int busy = 0;
	uint64_t wpos = 0, wpages, k;
	struct sigaction sa;
	struct timespec ts = { 0, 100 * 1000 * 1000 };
	char *end;

	if (argc < 2 || argc > 4 || parse_size(argv[1], &size) != 0) {
		fprintf(stderr, "usage: memhog SIZE[K|M|G] [PERCENT "
		    "[WRITE[b]]]\n");
		return 2;
	}
	if (argc == 4) {
		errno = 0;
		wmib = strtoul(argv[3], &end, 10);
		if (*end == 'b' && end != argv[3]) {
			busy = 1;
			end++;
		}
		if (errno != 0 || end == argv[3] || *end != '\0' ||
		    wmib > 100000) {
			fprintf(stderr, "memhog: %s: not MiB per second\n",
			    argv[3]);
			return 2;
		}
	}
	if (argc >= 3) {
		errno = 0;
		pct = strtoul(argv[2], &end, 10);
		if (errno != 0 || end == argv[2] || *end != '\0' ||
		    pct > 100) {
			fprintf(stderr, "memhog: %s: not a percentage\n",
			    argv[2]);
			return 2;
		}
	}
	memset(&sa, 0, sizeof(sa));
	if (sigemptyset(&sa.sa_mask) != 0)
		return 2;
	sa.sa_handler = on_usr1;
	if (sigaction(SIGUSR1, &sa, NULL) != 0) {
		perror("memhog: sigaction");
		return 2;
	}
	sa.sa_handler = on_stop;
	if (sigaction(SIGTERM, &sa, NULL) != 0 ||
	    sigaction(SIGINT, &sa, NULL) != 0) {
		perror("memhog: sigaction");
		return 2;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("memhog: mmap");
		return 1;
	}
	touched = size / 100 * pct + size % 100 * pct / 100;
	n = touched / sizeof(*p);
	s = SEED;
	for (uint64_t i = 0; i < n; i++)
		p[i] = splitmix64(&s);
	if (printf("ready %llu %llu\n", (unsigned long long)size,
	    (unsigned long long)(n * sizeof(*p))) < 0 || fflush(stdout) != 0)
		return 1;
	/* Pages to write again per 100 ms tick. */
	wpages = (uint64_t)wmib * 256 / 10;
	written = (uint64_t)(cpu_seconds() * wmib * 256);	/* from now */
	while (!stop_req) {
		if (busy) {
			/* The pages due for the CPU time used so far (a
			 * restored process counts its CPU time from 0). */
			wpages = (uint64_t)(cpu_seconds() * wmib * 256);
			if (wpages < written)
				written = wpages;
			wpages -= written;
			written += wpages;
		} else if (nanosleep(&ts, NULL) != 0 && errno != EINTR) {
			perror("memhog: nanosleep");
			return 1;
		}
		for (k = 0; k < wpages && n >= 512; k++) {
			volatile uint64_t *w = &p[wpos];

			*w = *w;
			wpos = (wpos + 512) % (n / 512 * 512);
		}
		if (check_req) {
			uint64_t i, bad = n;

			check_req = 0;
			s = SEED;
			for (i = 0; i < n; i++) {
				if (p[i] != splitmix64(&s)) {
					bad = i;
					break;
				}
			}
			if (bad == n)
				printf("ok\n");
			else
				printf("corrupt at %llu\n",
				    (unsigned long long)(bad * sizeof(*p)));
			if (fflush(stdout) != 0)
				return 1;
		}
	}
	if (munmap(p, size) != 0) {
		perror("memhog: munmap");
		return 1;
	}
	return 0;
}
