/*
 * zdtm.h: what the test programs of tests/ckpt share: SIGUSR2 says
 * "check yourself now" (run.sh sends it to the restored copy).
 */
#ifndef SSHELL_ZDTM_H
#define SSHELL_ZDTM_H

#include <signal.h>

static volatile sig_atomic_t done;	/* SIGUSR2 came */

static void
on_usr2(int sig)
{
	(void)sig;
	done = 1;
}

#endif
