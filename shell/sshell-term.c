/*
 * sshell-term.c: sshell's own terminal, switched between cooked and raw.
 *
 * While a foreground job has a terminal on its node, ours is raw, as
 * ssh's is: every key, Ctrl-C and Ctrl-Z included, travels as a byte to
 * the job's pty, whose line discipline makes signals of them where the job
 * runs.  Output processing is off too, since the remote pty already turned
 * \n into \r\n.  Between jobs (at the prompt, while a builtin runs) the
 * terminal is cooked again, as it was when sshell started; readline sets
 * its own mode on top of that and undoes it.
 *
 * Invariant: saved holds the mode found at start; term_cooked() is always
 * safe to call, and is called at exit.
 *
 * An interactive sshell that is not a process group leader (started by a
 * login wrapper, such as `localcluster on`) takes a group of its own and
 * makes it the terminal's foreground, as job-control shells do, so that
 * a Ctrl-C at its prompt is its own and does not also end the wrapper;
 * the terminal goes back to the group it came from at exit.
 */
#include <sys/ioctl.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include "sshell.h"

static struct termios	saved;
static int		have_saved;
static int		is_raw;
static pid_t		fg_before = -1;	/* the terminal's group at start */

/* tcsetpgrp from a background group, SIGTTOU held off. */
static int
set_fg(pid_t pgrp)
{
	sigset_t set, old;
	int r;

	if (sigemptyset(&set) == -1 || sigaddset(&set, SIGTTOU) == -1 ||
	    sigprocmask(SIG_BLOCK, &set, &old) == -1)
		return -1;
	r = tcsetpgrp(STDIN_FILENO, pgrp);
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	return r;
}

static void
give_back(void)
{
	if (fg_before > 0)
		(void)set_fg(fg_before);
}

void
term_own_group(void)
{
	pid_t fg = tcgetpgrp(STDIN_FILENO);

	if (fg == -1 || fg != getpgrp() || getpgrp() == getpid())
		return;		/* not the foreground, or a leader already */
	if (setpgid(0, 0) == -1)
		return;
	if (set_fg(getpid()) == -1) {
		(void)setpgid(0, fg);	/* back where we were */
		return;
	}
	fg_before = fg;
	if (atexit(give_back) != 0)
		fg_before = -1;
}

void
term_init(void)
{
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0)
		have_saved = 1;
}

void
term_raw(void)
{
	struct termios t;

	if (!have_saved || is_raw)
		return;
	t = saved;
	cfmakeraw(&t);
	while (tcsetattr(STDIN_FILENO, TCSADRAIN, &t) == -1 && errno == EINTR)
		;
	is_raw = 1;
}

void
term_cooked(void)
{
	if (!have_saved || !is_raw)
		return;
	while (tcsetattr(STDIN_FILENO, TCSADRAIN, &saved) == -1 &&
	    errno == EINTR)
		;
	is_raw = 0;
}

int
term_size(uint32_t *rows, uint32_t *cols)
{
	struct winsize ws;

	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == -1 || ws.ws_row == 0)
		return -1;
	*rows = ws.ws_row;
	*cols = ws.ws_col;
	return 0;
}
