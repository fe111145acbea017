/*
 * sshell-reaper: pid 1 of a node of contrib/localcluster.
 *
 *	sshell-reaper -p PIDFILE [-l LOGFILE] -- PROGRAM [ARG...]
 *
 * Under a root localcluster it is pid 1 of the node's PID namespace; as an
 * ordinary user it is a child subreaper (PR_SET_CHILD_SUBREAPER).  Either
 * way every orphan of the node (a job's shepherd whose noded died) becomes
 * its child, and it reaps them all, so killing noded kills no job.
 *
 * It runs PROGRAM (noded) as its own child at start and writes that child's
 * pid, as seen by the reaper (so the pid inside the node's PID namespace),
 * to PIDFILE; it truncates PIDFILE when the child dies.  Signals:
 *
 *	SIGUSR1		start PROGRAM again if it is not running
 *			(`localcluster start NODE`)
 *	SIGHUP		passed on to PROGRAM (noded re-reads its cluster file)
 *	SIGTERM, SIGINT	SIGKILL every descendant (found through
 *			/proc/PID/task/TID/children, by pid, never by name),
 *			reap them, and exit 0 (`localcluster down`)
 *
 * Every signal has a handler: pid 1 of a PID namespace never receives a
 * signal left at SIG_DFL.  PROGRAM gets the default signal dispositions and
 * an empty signal mask.  With -l, PROGRAM's stdout and stderr are appended
 * to LOGFILE (the reaper's own stay as they were).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *pidfile;
static const char *logfile;
static char **prog;
static pid_t child = -1;	/* PROGRAM, or -1 */

static void
say(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	n = snprintf(buf, sizeof buf, "sshell-reaper[%d]: ", (int)getpid());
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof buf - n, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", buf);
}

static void
write_pidfile(pid_t pid)
{
	char tmp[4096], buf[32];
	int fd, len;

	len = pid > 0 ? snprintf(buf, sizeof buf, "%d\n", (int)pid) : 0;
	if (snprintf(tmp, sizeof tmp, "%s.tmp", pidfile) >= (int)sizeof tmp)
		return;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		say("%s: %s", tmp, strerror(errno));
		return;
	}
	if (write(fd, buf, len) != len)
		say("%s: write: %s", tmp, strerror(errno));
	close(fd);
	if (rename(tmp, pidfile) < 0)
		say("%s: rename: %s", pidfile, strerror(errno));
}

static void
start(const sigset_t *old)
{
	pid_t pid;

	if (child > 0)
		return;
	pid = fork();
	if (pid < 0) {
		say("fork: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		struct sigaction sa;
		int sig, fd;

		memset(&sa, 0, sizeof sa);
		sa.sa_handler = SIG_DFL;
		for (sig = 1; sig < NSIG; sig++)
			sigaction(sig, &sa, NULL);
		sigprocmask(SIG_SETMASK, old, NULL);
		if (logfile) {
			fd = open(logfile, O_WRONLY | O_CREAT | O_APPEND, 0644);
			if (fd >= 0) {
				dup2(fd, 1);
				dup2(fd, 2);
				if (fd > 2)
					close(fd);
			}
		}
		execvp(prog[0], prog);
		fprintf(stderr, "sshell-reaper: %s: %s\n", prog[0],
		    strerror(errno));
		_exit(127);
	}
	child = pid;
	write_pidfile(pid);
}

/* Reap every dead child; note PROGRAM's end. */
static void
reap(void)
{
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if (pid != child)
			continue;
		if (WIFSIGNALED(st))
			say("%s (pid %d) killed by signal %d", prog[0],
			    (int)pid, WTERMSIG(st));
		else
			say("%s (pid %d) exited %d", prog[0], (int)pid,
			    WEXITSTATUS(st));
		child = -1;
		write_pidfile(0);
	}
}

/*
 * SIGKILL every descendant of pid, found through /proc/PID/task/TID/children
 * (by pid, never by name); returns how many were signalled.  Each one is
 * stopped first so that it forks no more while its own children are found.
 */
static int
kill_tree(pid_t pid)
{
	char path[64], tpath[384];
	struct dirent *de;
	DIR *d;
	FILE *f;
	int n = 0;
	long c;

	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(tpath, sizeof tpath, "%s/%s/children", path,
		    de->d_name);
		f = fopen(tpath, "re");
		if (!f)
			continue;
		while (fscanf(f, "%ld", &c) == 1) {
			if (c <= 1 || c == getpid())
				continue;
			kill((pid_t)c, SIGSTOP);
			n += 1 + kill_tree((pid_t)c);
			kill((pid_t)c, SIGKILL);
		}
		fclose(f);
	}
	closedir(d);
	return n;
}

static void
shutdown_all(void)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	int round;

	for (round = 0; round < 500; round++) {
		int n = kill_tree(getpid());

		reap();
		if (n == 0 && waitpid(-1, NULL, WNOHANG) < 0 &&
		    errno == ECHILD)
			break;
		nanosleep(&ts, NULL);
	}
	write_pidfile(0);
}

static void
on_signal(int sig)
{
	(void)sig;
}

int
main(int argc, char **argv)
{
	static const int sigs[] = { SIGCHLD, SIGUSR1, SIGTERM, SIGINT,
	    SIGHUP, SIGQUIT, SIGUSR2, SIGPIPE };
	struct sigaction sa;
	sigset_t set, old;
	size_t i;
	int opt;

	while ((opt = getopt(argc, argv, "+p:l:")) != -1) {
		switch (opt) {
		case 'p':
			pidfile = optarg;
			break;
		case 'l':
			logfile = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (!pidfile || optind >= argc) {
usage:
		fprintf(stderr, "usage: sshell-reaper -p PIDFILE [-l LOGFILE] "
		    "-- PROGRAM [ARG...]\n");
		return 2;
	}
	prog = argv + optind;

	if (getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
		say("PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
		return 1;
	}

	sigemptyset(&set);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		sigaddset(&set, sigs[i]);
		sigaction(sigs[i], &sa, NULL);
	}
	sigprocmask(SIG_BLOCK, &set, &old);
	/* The child must start with the mask we were given, minus ours. */
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigdelset(&old, sigs[i]);

	start(&old);
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&set, &si);

		if (sig < 0)
			continue;
		switch (sig) {
		case SIGCHLD:
			reap();
			break;
		case SIGUSR1:
			reap();
			start(&old);
			break;
		case SIGHUP:
			if (child > 0)
				kill(child, SIGHUP);
			break;
		case SIGTERM:
		case SIGINT:
			say("shutting down");
			shutdown_all();
			return 0;
		default:
			break;
		}
	}
}
