/*
 * builtin-unset.c: unset [-f | -v] NAME...  Removes variables (from the
 * environment and the prelude) or, with -f, functions of the prelude.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sshell.h"

static int
unset_exec(int argc, char **argv)
{
	int i = 1, funcs = 0, r = 0;

	if (i < argc && strcmp(argv[i], "-f") == 0) {
		funcs = 1;
		i++;
	} else if (i < argc && strcmp(argv[i], "-v") == 0)
		i++;
	for (; i < argc; i++) {
		if (!sh_is_name(argv[i], strlen(argv[i]))) {
			fprintf(stderr, "sshell: unset: `%s': not a valid "
			    "identifier\n", argv[i]);
			r = 1;
			continue;
		}
		if (funcs) {
			prelude_unset_func(sh.prelude, argv[i]);
			continue;
		}
		prelude_unset_var(sh.prelude, argv[i]);
		if (unsetenv(argv[i]) == -1)
			r = 1;
	}
	return r;
}

const struct builtin builtin_unset = {
	"unset", "unset [-f | -v] NAME ...",
	"forget variables, or functions with -f", unset_exec
};
