/*
 * zdtm.h: what the test programs of tests/ckpt share: SIGUSR2 says
 * "check yourself now" (run.sh sends it to the restored copy).
 */
#ifndef SSHELL_ZDTM_H
#define SSHELL_ZDTM_H

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static volatile sig_atomic_t done;	/* SIGUSR2 came */

static void
on_usr2(int sig)
{
	(void)sig;
	done = 1;
}

/*
 * The test's log (path, appended to, a line at a time), opened once the
 * test is set up, and path.ready created to say so; NULL on failure.
 */
static inline FILE *
zdtm_ready(const char *path)
{
	char ready[4096];
	FILE *f;
	int fd;

	if ((f = fopen(path, "a")) == NULL)
		return NULL;
	setvbuf(f, NULL, _IOLBF, 0);
	snprintf(ready, sizeof(ready), "%s.ready", path);
	if ((fd = open(ready, O_WRONLY | O_CREAT, 0644)) < 0) {
		fclose(f);
		return NULL;
	}
	close(fd);
	return f;
}

#endif
