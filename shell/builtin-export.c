/*
 * builtin-export.c: export [NAME[=VALUE]...].  Puts variables in sshell's
 * environment, which every later job gets.  A variable kept by the
 * prelude (set by an assignment line) moves to the environment with its
 * value.  Without arguments, prints the environment as sh's export -p.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sshell.h"
#include "xmalloc.h"

extern char **environ;

static int
export_exec(int argc, char **argv)
{
	const char *eq, *value;
	char *name, *q;
	int i, r = 0;

	if (argc == 1 || (argc == 2 && strcmp(argv[1], "-p") == 0)) {
		for (i = 0; environ[i] != NULL; i++) {
			if ((eq = strchr(environ[i], '=')) == NULL)
				continue;
			name = xstrdup(environ[i]);
			name[eq - environ[i]] = '\0';
			q = sh_quote(eq + 1);
			printf("export %s=%s\n", name, q);
			free(q);
			free(name);
		}
		return 0;
	}
	for (i = 1; i < argc; i++) {
		name = xstrdup(argv[i]);
		if ((q = strchr(name, '=')) != NULL) {
			*q = '\0';
			value = q + 1;
		} else if ((value = prelude_get_var(sh.prelude, name)) ==
		    NULL && prelude_has_var(sh.prelude, name)) {
			fprintf(stderr, "sshell: export: %s: value not known "
			    "to sshell\n", name);
			free(name);
			r = 1;
			continue;
		}
		if (!sh_is_name(name, strlen(name))) {
			fprintf(stderr, "sshell: export: `%s': not a valid "
			    "identifier\n", argv[i]);
			free(name);
			r = 1;
			continue;
		}
		if (value == NULL && (value = getenv(name)) == NULL) {
			/* An unset variable, as in sh: nothing to pass. */
			free(name);
			continue;
		}
		if (setenv(name, value, 1) == -1) {
			fprintf(stderr, "sshell: export: %s: %s\n", name,
			    strerror(errno));
			r = 1;
		} else
			prelude_unset_var(sh.prelude, name);
		free(name);
	}
	return r;
}

const struct builtin builtin_export = {
	"export", "export [NAME[=VALUE] ...]",
	"give variables to every later job", export_exec
};
