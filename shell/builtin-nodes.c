/*
 * builtin-nodes.c: nodes.  Runs the cluster-wide tool snodes (found beside
 * sshell's own binary, then on PATH) with the arguments given.
 */
#include <stdlib.h>

#include "sshell.h"

static int
nodes_exec(int argc, char **argv)
{
	char **args;
	int i, r;

	if (sh_job_args("nodes", argc, argv, &args) != 0)
		return 1;
	r = sh_run_tool("snodes", argc, args);
	for (i = 0; i < argc; i++)
		free(args[i]);
	free(args);
	return r;
}

const struct builtin builtin_nodes = {
	"nodes", "nodes [ARG ...]", "show the nodes and their load (snodes)",
	nodes_exec
};
