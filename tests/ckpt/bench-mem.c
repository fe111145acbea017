/*
 * bench-mem: a process for the checkpoint benchmarks (tests/bench/
 * ckpt-bench).  argv[1]: MiB of random data to hold; argv[2] (optional):
 * MiB to map in addition, of which argv[3] percent are touched.  Creates
 * argv[4] (a "ready" file) and sleeps until killed.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	size_t mib, map, pct, i, n;
	uint64_t *p, x = 88172645463325252ull;
	uint8_t *m;
	int fd;

	if (argc != 5)
		return 2;
	mib = strtoul(argv[1], NULL, 10);
	map = strtoul(argv[2], NULL, 10);
	pct = strtoul(argv[3], NULL, 10);
	n = mib * 1024 * 1024 / 8;
	if (n > 0) {
		if ((p = mmap(NULL, n * 8, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) == MAP_FAILED)
			return 2;
		for (i = 0; i < n; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			p[i] = x;
		}
	}
	if (map > 0) {
		if ((m = mmap(NULL, map << 20, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)) ==
		    MAP_FAILED)
			return 2;
		/* Touch pct% of the pages, spread out. */
		for (i = 0; i < (map << 20) / 4096; i++)
			if (i % 100 < pct)
				m[i * 4096] = (uint8_t)(i | 1);
	}
	if ((fd = open(argv[4], O_WRONLY | O_CREAT, 0644)) < 0)
		return 2;
	close(fd);
	for (;;)
		pause();
}
