/*
 * signals: a zdtm-style test of signal state.  A handler for SIGUSR1 is
 * installed, SIGUSR1 is blocked and raised (so it is pending at dump
 * time), SIGINT is ignored.  On SIGUSR2 (after restore) SIGUSR1 is
 * unblocked: its handler must run, and SIGINT must still be ignored.
 * Exits 0 on success.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t got;

static void
on_usr1(int sig)
{
	(void)sig;
	got = 1;
}

int
main(int argc, char **argv)
{
	struct sigaction sa, old;
	sigset_t set, usr2;
	char path[4096];
	int fd, sig;

	if (argc != 2)
		return 2;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGINT, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	sigprocmask(SIG_BLOCK, &usr2, NULL);
	kill(getpid(), SIGUSR1);
	snprintf(path, sizeof(path), "%s.ready", argv[1]);
	if ((fd = open(path, O_WRONLY | O_CREAT, 0644)) < 0)
		return 2;
	close(fd);
	if (sigwait(&usr2, &sig) != 0)
		return 2;
	if (got) {
		fprintf(stderr, "handler ran while blocked\n");
		return 1;
	}
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	if (!got) {
		fprintf(stderr, "pending SIGUSR1 lost\n");
		return 1;
	}
	if (sigaction(SIGINT, NULL, &old) != 0 || old.sa_handler != SIG_IGN) {
		fprintf(stderr, "SIGINT not ignored any more\n");
		return 1;
	}
	return 0;
}
