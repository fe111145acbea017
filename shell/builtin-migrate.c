/*
 * builtin-migrate.c: migrate JOB|GPID [NODE].  Moves a running job with
 * smigrate; %N job numbers become their GPIDs.  Until smigrate is built
 * (migration is its own issue) it says so plainly and returns 1.
 */
#include <stdio.h>
#include <stdlib.h>

#include "sshell.h"

static int
migrate_exec(int argc, char **argv)
{
	char **args;
	int i, r;

	if (!sh_tool_exists("smigrate")) {
		fprintf(stderr, "sshell: migrate: migration is not available "
		    "yet\n");
		return 1;
	}
	if (sh_job_args("migrate", argc, argv, &args) != 0)
		return 1;
	r = sh_run_tool("smigrate", argc, args);
	for (i = 0; i < argc; i++)
		free(args[i]);
	free(args);
	return r;
}

const struct builtin builtin_migrate = {
	"migrate", "migrate JOB|GPID [NODE]",
	"move a running job to another node", migrate_exec
};
