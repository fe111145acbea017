/*
 * builtin-fg.c: fg [JOB].  Continues a stopped or background job (SIGCONT
 * through noded, wherever it runs) and waits for it in the foreground,
 * with the terminal raw again if it has one.  JOB is %N, %+, %- or a
 * GPID; none means the current job.
 */
#include <signal.h>
#include <stdio.h>

#include "sshell.h"

static int
fg_exec(int argc, char **argv)
{
	struct job *j;

	if ((j = job_find(argc > 1 ? argv[1] : NULL)) == NULL) {
		fprintf(stderr, "sshell: fg: %s: no such job\n",
		    argc > 1 ? argv[1] : "current");
		return 1;
	}
	fprintf(stderr, "%s\n", j->cmd);
	if (j->state == JOB_STOPPED) {
		if (conn_signal(j->gpid, SIGCONT) != 0)
			return 1;
		j->state = JOB_RUNNING;
	}
	return job_foreground(j);
}

const struct builtin builtin_fg = {
	"fg", "fg [JOB]", "bring a job to the foreground", fg_exec
};
