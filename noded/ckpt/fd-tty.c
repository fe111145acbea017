/*
 * fd-tty.c: terminals and the character devices the engine carries.
 *
 * A terminal (a pty slave, a virtual console, /dev/tty) is never
 * re-created: it leads outside the tree, and after restore fds 0-2 that
 * were a terminal are the restorer's own stdio (or what the caller gives),
 * others /dev/null.  A pty master would need its slave's line discipline
 * and is refused.  /dev/null, /dev/zero, /dev/full, /dev/random and
 * /dev/urandom are re-opened by path.
 */
#include <sys/sysmacros.h>
#include <sys/types.h>

#include "ckpt-int.h"

int
ck_fd_tty_is(dev_t rdev)
{
	unsigned int ma = major(rdev), mi = minor(rdev);

	if (ma >= 136 && ma <= 143)	/* pty slaves */
		return 1;
	if (ma == 4)			/* virtual consoles, serial */
		return 1;
	if (ma == 5 && (mi == 0 || mi == 1))	/* /dev/tty, console */
		return 1;
	return 0;
}

int
ck_fd_dev_ok(dev_t rdev)
{
	if (major(rdev) != 1)
		return 0;
	switch (minor(rdev)) {
	case 3:	/* null */
	case 5:	/* zero */
	case 7:	/* full */
	case 8:	/* random */
	case 9:	/* urandom */
		return 1;
	}
	return 0;
}
