/*
 * builtin-cd.c: cd [DIR | -].  Changes sshell's own directory, which every
 * later job gets as its cwd (the cluster shares its file systems, so the
 * path means the same on every node).  PWD and OLDPWD follow, as in sh.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sshell.h"

static int
cd_exec(int argc, char **argv)
{
	char old[PATH_MAX], now[PATH_MAX];
	const char *dir;
	int print = 0;

	if (argc > 2) {
		fprintf(stderr, "sshell: cd: too many arguments\n");
		return 1;
	}
	if (argc == 1) {
		if ((dir = getenv("HOME")) == NULL || *dir == '\0') {
			fprintf(stderr, "sshell: cd: HOME not set\n");
			return 1;
		}
	} else if (strcmp(argv[1], "-") == 0) {
		if ((dir = getenv("OLDPWD")) == NULL || *dir == '\0') {
			fprintf(stderr, "sshell: cd: OLDPWD not set\n");
			return 1;
		}
		print = 1;
	} else
		dir = argv[1];
	if (getcwd(old, sizeof(old)) == NULL)
		old[0] = '\0';
	if (chdir(dir) == -1) {
		fprintf(stderr, "sshell: cd: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	if (getcwd(now, sizeof(now)) == NULL) {
		fprintf(stderr, "sshell: cd: %s\n", strerror(errno));
		return 1;
	}
	if ((old[0] != '\0' && setenv("OLDPWD", old, 1) == -1) ||
	    setenv("PWD", now, 1) == -1) {
		fprintf(stderr, "sshell: cd: %s\n", strerror(errno));
		return 1;
	}
	if (print)
		printf("%s\n", now);
	return 0;
}

const struct builtin builtin_cd = {
	"cd", "cd [DIR | -]", "change the directory later jobs start in",
	cd_exec
};
