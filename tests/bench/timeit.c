/*
 * timeit.c: runs a command N times, one after the other, and prints the
 * median, the 10th and the 90th percentile of its wall-clock time in
 * milliseconds.  The benchmark runs it inside a node of the local cluster
 * so that what is measured is the tool alone, not the way in.
 *
 * usage: timeit [-n N] [-q] -- CMD [ARG...]
 */
#include <sys/wait.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	struct timespec t0, t1;
	double *ms;
	int n = 100, quiet = 0, i, c, st, fails = 0, devnull;
	pid_t pid;

	while ((c = getopt(argc, argv, "n:q")) != -1) {
		switch (c) {
		case 'n':
			n = atoi(optarg);
			break;
		case 'q':
			quiet = 1;
			break;
		default:
			fprintf(stderr, "usage: timeit [-n N] [-q] -- CMD...\n");
			return 2;
		}
	}
	if (optind >= argc || n < 1) {
		fprintf(stderr, "usage: timeit [-n N] [-q] -- CMD...\n");
		return 2;
	}
	if ((ms = calloc(n, sizeof(*ms))) == NULL)
		return 1;
	devnull = open("/dev/null", O_WRONLY);
	for (i = 0; i < n; i++) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if ((pid = fork()) == -1) {
			perror("timeit: fork");
			return 1;
		}
		if (pid == 0) {
			if (quiet && devnull != -1)
				dup2(devnull, 1);
			execvp(argv[optind], argv + optind);
			_exit(127);
		}
		if (waitpid(pid, &st, 0) == -1)
			return 1;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			fails++;
		ms[i] = (t1.tv_sec - t0.tv_sec) * 1e3 +
		    (t1.tv_nsec - t0.tv_nsec) / 1e6;
	}
	qsort(ms, n, sizeof(*ms), cmp);
	printf("median %.3f ms  p10 %.3f ms  p90 %.3f ms  runs %d  "
	    "failures %d\n", ms[n / 2], ms[n / 10], ms[(n * 9) / 10], n, fails);
	free(ms);
	return fails ? 1 : 0;
}
