/*
 * builtin-jobs.c: jobs.  Lists sshell's jobs: number, state, GPID, the
 * node the job was placed on, and the command (`sps` shows where a job
 * is now, after migrations).  Finished background jobs are reported once
 * and forgotten, as in bash.
 */
#include <stdio.h>

#include "sshell.h"

static int
jobs_exec(int argc, char **argv)
{
	struct job *j;

	(void)argc;
	(void)argv;
	TAILQ_FOREACH(j, &sh.jobs, entry)
		job_print(j, stdout, 1);
	fflush(stdout);
	/* Done ones have now been reported. */
	TAILQ_FOREACH(j, &sh.jobs, entry)
		if (j->state == JOB_DONE)
			j->notified = 1;
	job_notify();
	return 0;
}

const struct builtin builtin_jobs = {
	"jobs", "jobs", "list jobs with their GPID, node and state", jobs_exec
};
