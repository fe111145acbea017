/*
 * builtin-history.c: history.  Lists the lines kept in ~/.sshell_history
 * (interactive sshell only: a script has no history).
 */
#include "sshell.h"

static int
history_exec(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (sh.interactive)
		ui_history_print();
	return 0;
}

const struct builtin builtin_history = {
	"history", "history", "list the lines typed before", history_exec
};
