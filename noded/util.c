/*
 * util.c: small helpers of noded: clocks, signal names, wait statuses,
 * process start times.
 */
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "noded.h"

int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
now_s(void)
{
	return (int64_t)time(NULL);
}

int
set_nonblock(int fd)
{
	int fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		return SS_ERR_SYSTEM;
	return 0;
}

static const struct {
	int		 sig;
	const char	*name;
} signames[] = {
	{ SIGHUP, "HUP" }, { SIGINT, "INT" }, { SIGQUIT, "QUIT" },
	{ SIGILL, "ILL" }, { SIGTRAP, "TRAP" }, { SIGABRT, "ABRT" },
	{ SIGBUS, "BUS" }, { SIGFPE, "FPE" }, { SIGKILL, "KILL" },
	{ SIGUSR1, "USR1" }, { SIGSEGV, "SEGV" }, { SIGUSR2, "USR2" },
	{ SIGPIPE, "PIPE" }, { SIGALRM, "ALRM" }, { SIGTERM, "TERM" },
	{ SIGCHLD, "CHLD" }, { SIGCONT, "CONT" }, { SIGSTOP, "STOP" },
	{ SIGTSTP, "TSTP" }, { SIGTTIN, "TTIN" }, { SIGTTOU, "TTOU" },
	{ SIGURG, "URG" }, { SIGXCPU, "XCPU" }, { SIGXFSZ, "XFSZ" },
	{ SIGVTALRM, "VTALRM" }, { SIGPROF, "PROF" }, { SIGWINCH, "WINCH" },
	{ SIGIO, "IO" }, { SIGPWR, "PWR" }, { SIGSYS, "SYS" },
};

/* SSH names signals without "SIG" (RFC 4254 6.10); 0 if unknown. */
int
sig_from_name(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(signames) / sizeof(signames[0]); i++)
		if (strcmp(signames[i].name, name) == 0)
			return signames[i].sig;
	return 0;
}

const char *
sig_name(int sig)
{
	size_t i;

	for (i = 0; i < sizeof(signames) / sizeof(signames[0]); i++)
		if (signames[i].sig == sig)
			return signames[i].name;
	return NULL;
}

int
sh_status(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return 255;
}

/*
 * Field 22 of /proc/PID/stat.  The comm field may hold spaces and
 * parentheses, so fields are counted from the last ')'.
 */
int
proc_starttime(pid_t pid, uint64_t *st)
{
	char path[64], line[1024], *p;
	unsigned long long v;
	ssize_t n;
	int fd, i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return SS_ERR_NOT_FOUND;
	n = read(fd, line, sizeof(line) - 1);
	close(fd);
	if (n <= 0)
		return SS_ERR_NOT_FOUND;
	line[n] = '\0';
	if ((p = strrchr(line, ')')) == NULL)
		return SS_ERR_BAD;
	p++;
	/* After ')' come fields 3.. ; we want 22, the 20th of them. */
	for (i = 0; i < 19; i++) {
		p = strchr(p + 1, ' ');
		if (p == NULL)
			return SS_ERR_BAD;
	}
	if (sscanf(p, " %llu", &v) != 1)
		return SS_ERR_BAD;
	*st = v;
	return 0;
}

/* argv joined by single spaces, newly allocated (NULL on ENOMEM). */
char *
join_argv(char *const *argv)
{
	size_t len = 1, i;
	char *s, *p;

	for (i = 0; argv[i] != NULL; i++)
		len += strlen(argv[i]) + 1;
	if ((s = malloc(len)) == NULL)
		return NULL;
	p = s;
	*p = '\0';
	for (i = 0; argv[i] != NULL; i++) {
		if (i > 0)
			*p++ = ' ';
		p = stpcpy(p, argv[i]);
	}
	return s;
}
