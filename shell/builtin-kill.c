/*
 * builtin-kill.c: kill.  Runs the cluster-wide tool skill (found beside
 * sshell's own binary, then on PATH) with the arguments given;
 * %N job numbers become their GPIDs.
 */
#include <stdlib.h>

#include "sshell.h"

static int
kill_exec(int argc, char **argv)
{
	char **args;
	int i, r;

	if (sh_job_args("kill", argc, argv, &args) != 0)
		return 1;
	r = sh_run_tool("skill", argc, args);
	for (i = 0; i < argc; i++)
		free(args[i]);
	free(args);
	return r;
}

const struct builtin builtin_kill = {
	"kill", "kill [-SIG | -s SIG] JOB|GPID ...",
	"signal jobs anywhere in the cluster", kill_exec
};
