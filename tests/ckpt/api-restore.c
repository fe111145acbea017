/*
 * api-restore: exercises the engine's API the way noded's migration will
 * use it: restore an image (argv[1]) into a fresh PID namespace with the
 * dumped pids, left stopped, check it is stopped, has its old pid in the
 * namespace and us as its parent (the caller of ckpt_restore is the
 * root's parent: how a job's shepherd gets it), then let it run.  Prints the restored root's pid (in our
 * namespace) on stdout, then waits for it and exits with its status.
 * Exit 2: the API misbehaved.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "noded/ckpt/ckpt.h"

/* The last NSpid of /proc/PID/status (the pid inside its namespace),
 * its state letter, and its parent (as we see it). */
static long
ns_pid(pid_t pid, char *state, long *ppid)
{
	char path[64], line[256], *s;
	FILE *f;
	long v = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "State:", 6) == 0)
			*state = line[7];
		if (strncmp(line, "PPid:", 5) == 0)
			*ppid = strtol(line + 5, NULL, 10);
		if (strncmp(line, "NSpid:", 6) == 0 &&
		    (s = strrchr(line, '\t')) != NULL)
			v = strtol(s + 1, NULL, 10);
	}
	fclose(f);
	return v;
}

int
main(int argc, char **argv)
{
	struct ckpt_restore_opts o;
	struct ckpt_restored *rs;
	struct ckpt_err e;
	char path[64], state = '?';
	pid_t init, pid;
	long inside, ppid = -1;
	int fd, nsfd, st;

	if (argc != 3)
		return 2;
	/* A namespace with a pid 1 of its own (a shepherd stand-in). */
	if (unshare(CLONE_NEWPID) == -1) {
		perror("unshare");
		return 2;
	}
	if ((init = fork()) == -1)
		return 2;
	if (init == 0) {
		for (;;)
			pause();
	}
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", init);
	if ((nsfd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    (fd = open(argv[1], O_RDONLY | O_CLOEXEC)) == -1) {
		perror("open");
		kill(init, SIGKILL);
		return 2;
	}
	memset(&o, 0, sizeof(o));
	o.in_fd = fd;
	o.same_pid = 1;
	o.stdio[0] = o.stdio[1] = o.stdio[2] = -1;
	o.pidns_fd = nsfd;
	o.stopped = 1;
	if (ckpt_restore(&o, &rs, NULL, &e) != 0) {
		fprintf(stderr, "api-restore: %s\n", e.msg);
		kill(init, SIGKILL);
		return 2;
	}
	pid = ckpt_restored_pid(rs);
	inside = ns_pid(pid, &state, &ppid);
	if (inside != strtol(argv[2], NULL, 10) || (state != 't' &&
	    state != 'T') || ppid != (long)getpid()) {
		fprintf(stderr, "api-restore: pid %ld in the namespace, state "
		    "%c, parent %ld (we are %ld)\n", inside, state, ppid,
		    (long)getpid());
		ckpt_restore_abort(rs);
		kill(init, SIGKILL);
		return 2;
	}
	if (ckpt_restore_run(rs, &e) != 0) {
		fprintf(stderr, "api-restore: run: %s\n", e.msg);
		kill(init, SIGKILL);
		return 2;
	}
	printf("%d\n", (int)pid);
	fflush(stdout);
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return 2;
	kill(init, SIGKILL);
	waitpid(init, NULL, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
