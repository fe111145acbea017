/* builtin-pwd.c: pwd.  Prints sshell's directory, where jobs start. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sshell.h"

static int
pwd_exec(int argc, char **argv)
{
	char cwd[PATH_MAX];

	(void)argc;
	(void)argv;
	if (getcwd(cwd, sizeof(cwd)) == NULL) {
		fprintf(stderr, "sshell: pwd: %s\n", strerror(errno));
		return 1;
	}
	printf("%s\n", cwd);
	return 0;
}

const struct builtin builtin_pwd = {
	"pwd", "pwd", "print the directory later jobs start in", pwd_exec
};
