/*
 * zombie: a zdtm-style test for ended children not yet reaped.  Two
 * children end at once, one with exit(7), one killed by SIGTERM; the
 * parent leaves them zombies, creates argv[1].ready, and counts into
 * argv[1] until SIGUSR2.  Then it reaps both: it passes (exit 0) if it
 * gets exactly those two statuses, and no third child.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "zdtm.h"

int
main(int argc, char **argv)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	siginfo_t si;
	pid_t kid[2];
	FILE *f;
	long step = 0;
	int i, st, exited7 = 0, termed = 0;

	if (argc < 2)
		return 2;
	signal(SIGUSR2, on_usr2);
	if ((kid[0] = fork()) == 0)
		_exit(7);
	if ((kid[1] = fork()) == 0) {
		signal(SIGTERM, SIG_DFL);
		kill(getpid(), SIGTERM);
		_exit(3);
	}
	if (kid[0] < 0 || kid[1] < 0)
		return 2;
	/* Both ended, neither reaped. */
	for (i = 0; i < 2; i++)
		while (waitid(P_PID, (id_t)kid[i], &si, WEXITED | WNOWAIT) ==
		    -1)
			if (errno != EINTR)
				return 2;
	if ((f = zdtm_ready(argv[1])) == NULL)
		return 2;
	while (!done) {
		fprintf(f, "%ld\n", step++);
		nanosleep(&ts, NULL);
	}
	for (i = 0; i < 2; i++) {
		if (waitpid(-1, &st, 0) == -1) {
			fprintf(stderr, "zombie: child %d: %m\n", i);
			return 1;
		}
		if (WIFEXITED(st) && WEXITSTATUS(st) == 7)
			exited7++;
		else if (WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM)
			termed++;
		else
			fprintf(stderr, "zombie: unexpected status %#x\n", st);
	}
	if (waitpid(-1, &st, WNOHANG) != -1 || errno != ECHILD) {
		fprintf(stderr, "zombie: a third child\n");
		return 1;
	}
	if (exited7 != 1 || termed != 1)
		return 1;
	fprintf(f, "end\n");
	fclose(f);
	return 0;
}
