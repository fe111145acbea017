/*
 * builtin-bg.c: bg [JOB].  Continues a stopped job in the background
 * (SIGCONT through noded, wherever it runs).
 */
#include <signal.h>
#include <stdio.h>

#include "sshell.h"

static int
bg_exec(int argc, char **argv)
{
	struct job *j;

	if ((j = job_find(argc > 1 ? argv[1] : NULL)) == NULL) {
		fprintf(stderr, "sshell: bg: %s: no such job\n",
		    argc > 1 ? argv[1] : "current");
		return 1;
	}
	if (j->state != JOB_STOPPED) {
		fprintf(stderr, "sshell: bg: job %d already in background\n",
		    j->id);
		return 0;
	}
	if (conn_signal(j->gpid, SIGCONT) != 0)
		return 1;
	j->state = JOB_RUNNING;
	j->bg = 1;
	fprintf(stderr, "[%d]%c %s &\n", j->id, j == sh.current ? '+' : ' ',
	    j->cmd);
	return 0;
}

const struct builtin builtin_bg = {
	"bg", "bg [JOB]", "continue a stopped job in the background", bg_exec
};
