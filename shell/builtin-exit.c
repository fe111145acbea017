/*
 * builtin-exit.c: exit [N].  Ends sshell with status N, or $? without N.
 * Interactive, with stopped jobs, the first exit only warns, as bash's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "sshell.h"

static int
exit_exec(int argc, char **argv)
{
	long n;
	char *end;

	if (argc > 2) {
		fprintf(stderr, "sshell: exit: too many arguments\n");
		return 1;
	}
	if (sh.interactive && job_count(JOB_STOPPED) > 0 &&
	    !sh.warned_stopped) {
		fprintf(stderr, "There are stopped jobs.\n");
		sh.warned_stopped = 1;
		return 1;
	}
	n = sh.status;
	if (argc == 2) {
		errno = 0;
		n = strtol(argv[1], &end, 10);
		if (errno != 0 || *end != '\0' || end == argv[1]) {
			fprintf(stderr, "sshell: exit: %s: numeric argument "
			    "required\n", argv[1]);
			n = 2;
		}
	}
	sh.exiting = 1;
	return (int)(n & 0xff);
}

const struct builtin builtin_exit = {
	"exit", "exit [N]", "leave sshell with status N", exit_exec
};
