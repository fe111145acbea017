/*
 * blocking: a zdtm-style test of system calls interrupted by a dump.
 * argv[1] names the mode, argv[2] a file whose ".ready" sibling is
 * created just before the call blocks:
 *
 *   nanosleep  sleep 2 s with a rem pointer; must return 0, not EINTR
 *   read       read() on a pipe that a SIGALRM handler (itimer, 1 s)
 *              writes to; must return the byte, not EINTR
 *   poll       poll() with no timeout on the same kind of pipe
 *   wait4      wait4(-1) with a child that sleeps 1 s and exits 7
 *
 * Exits 0 when the call ended as it would have without the dump.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int pfd[2];
static volatile sig_atomic_t alarmed;

static void
on_alarm(int sig)
{
	char c = 'x';

	(void)sig;
	alarmed = 1;
	if (write(pfd[1], &c, 1) != 1)
		_exit(3);
}

static void
ready(const char *base)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s.ready", base);
	if ((fd = open(path, O_WRONLY | O_CREAT, 0644)) < 0)
		exit(2);
	close(fd);
}

static void
arm(void)
{
	struct sigaction sa;
	struct itimerval it;

	if (pipe(pfd) == -1)
		exit(2);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGALRM, &sa, NULL) == -1)
		exit(2);
	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = 1;
	if (setitimer(ITIMER_REAL, &it, NULL) == -1)
		exit(2);
}

int
main(int argc, char **argv)
{
	struct timespec req = { 2, 0 }, rem;
	struct pollfd p;
	pid_t pid, w;
	char c;
	int st;

	if (argc != 3)
		return 2;
	if (strcmp(argv[1], "nanosleep") == 0) {
		ready(argv[2]);
		if (nanosleep(&req, &rem) != 0) {
			fprintf(stderr, "nanosleep: %s\n", strerror(errno));
			return 1;
		}
		return 0;
	}
	if (strcmp(argv[1], "read") == 0) {
		arm();
		ready(argv[2]);
		if (read(pfd[0], &c, 1) != 1 || c != 'x') {
			fprintf(stderr, "read: %s\n", strerror(errno));
			return 1;
		}
		return 0;
	}
	if (strcmp(argv[1], "poll") == 0) {
		arm();
		ready(argv[2]);
		p.fd = pfd[0];
		p.events = POLLIN;
		/* A handler ending poll with EINTR is the kernel's rule; an
		 * EINTR without one would be ours. */
		while ((st = poll(&p, 1, -1)) == -1 && errno == EINTR &&
		    alarmed)
			;
		if (st != 1 || (p.revents & POLLIN) == 0) {
			fprintf(stderr, "poll: %s\n", strerror(errno));
			return 1;
		}
		return 0;
	}
	if (strcmp(argv[1], "wait4") == 0) {
		if ((pid = fork()) == -1)
			return 2;
		if (pid == 0) {
			struct timespec one = { 1, 0 };

			while (nanosleep(&one, &one) == -1 && errno == EINTR)
				;
			_exit(7);
		}
		ready(argv[2]);
		/* Any child: a restore without --same-pid gives it a new pid. */
		w = wait4(-1, &st, 0, NULL);
		if (w <= 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 7) {
			fprintf(stderr, "wait4: %d %s status %#x\n", (int)w,
			    strerror(errno), st);
			return 1;
		}
		return 0;
	}
	return 2;
}
