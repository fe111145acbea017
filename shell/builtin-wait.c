/*
 * builtin-wait.c: wait [JOB ...].  Waits for the given jobs (%N or
 * GPID), or for every running job, and returns the status of the last
 * one waited for, as sh's wait.  Stopped jobs are not waited for.
 */
#include <signal.h>
#include <stdio.h>

#include "sshell.h"

static int
wait_exec(int argc, char **argv)
{
	struct job *j;
	int i, status = 0;

	if (argc == 1) {
		for (;;) {
			TAILQ_FOREACH(j, &sh.jobs, entry)
				if (j->state != JOB_STOPPED)
					break;
			if (j == NULL)
				break;
			if ((status = job_wait(j)) == 128 + SIGINT &&
			    sh.interrupted)
				break;
		}
		return status;
	}
	for (i = 1; i < argc; i++) {
		if ((j = job_find(argv[i])) == NULL) {
			fprintf(stderr, "sshell: wait: %s: no such job\n",
			    argv[i]);
			status = 127;
			continue;
		}
		status = job_wait(j);
	}
	return status;
}

const struct builtin builtin_wait = {
	"wait", "wait [JOB ...]", "wait for jobs to end", wait_exec
};
