/*
 * builtin-ps.c: ps.  Runs the cluster-wide tool sps (found beside
 * sshell's own binary, then on PATH) with the arguments given.
 */
#include <stdlib.h>

#include "sshell.h"

static int
ps_exec(int argc, char **argv)
{
	char **args;
	int i, r;

	if (sh_job_args("ps", argc, argv, &args) != 0)
		return 1;
	r = sh_run_tool("sps", argc, args);
	for (i = 0; i < argc; i++)
		free(args[i]);
	free(args);
	return r;
}

const struct builtin builtin_ps = {
	"ps", "ps [ARG ...]", "list the cluster's jobs (sps)", ps_exec
};
