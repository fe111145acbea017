/* builtin-help.c: help.  Lists the builtins with their synopsis. */
#include <stdio.h>

#include "sshell.h"

static int
help_exec(int argc, char **argv)
{
	size_t i;

	(void)argc;
	(void)argv;
	printf("sshell: every line is a job, run on the best node of the "
	    "cluster.\n"
	    "@NODE LINE pins it to NODE; LINE & runs it in the background.\n"
	    "Builtins:\n");
	for (i = 0; builtins[i] != NULL; i++)
		printf("  %-34s %s\n", builtins[i]->usage, builtins[i]->help);
	return 0;
}

const struct builtin builtin_help = {
	"help", "help", "show this list", help_exec
};
