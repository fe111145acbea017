/*
 * sshell-builtin.c: the table of sshell's builtins, as tmux's cmd.c
 * collects its cmd-*.c.  Each builtin lives in its own builtin-NAME.c and
 * exports one constant struct builtin; adding a builtin means adding that
 * file and one line here.  The names are those DESIGN.md lists; they are
 * recognised only as the first word of a line without shell syntax (see
 * sshell-parse.c), and the usage strings match sshell(1).
 */
#include <string.h>

#include "sshell.h"

extern const struct builtin builtin_bg, builtin_cd, builtin_exit,
    builtin_export, builtin_fg, builtin_help, builtin_history, builtin_jobs,
    builtin_kill, builtin_migrate, builtin_nodes, builtin_ps, builtin_pwd,
    builtin_unset, builtin_wait;

const struct builtin *const builtins[] = {
	&builtin_cd,
	&builtin_pwd,
	&builtin_export,
	&builtin_unset,
	&builtin_jobs,
	&builtin_fg,
	&builtin_bg,
	&builtin_wait,
	&builtin_kill,
	&builtin_ps,
	&builtin_nodes,
	&builtin_migrate,
	&builtin_history,
	&builtin_help,
	&builtin_exit,
	NULL
};

const struct builtin *
builtin_find(const char *name)
{
	size_t i;

	for (i = 0; builtins[i] != NULL; i++)
		if (strcmp(builtins[i]->name, name) == 0)
			return builtins[i];
	return NULL;
}

int
builtin_is(const char *name)
{
	return builtin_find(name) != NULL;
}
