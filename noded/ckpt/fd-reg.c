/*
 * fd-reg.c: regular files, directories and harmless character devices,
 * carried by path, open flags and offset.  The path must exist on the
 * restoring node (a cluster shares its file systems); O_APPEND and the
 * other status flags come back as they were, O_CREAT/O_TRUNC never apply.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt-int.h"

#define KEEP_FLAGS	(O_ACCMODE | O_APPEND | O_NONBLOCK | O_DSYNC | \
			 O_SYNC | O_DIRECT | O_NOATIME | O_DIRECTORY | \
			 O_LARGEFILE | O_PATH | O_NOFOLLOW)

/* Opens d as it was; returns the fd or -1 with errno set. */
int
ck_fd_reg_open(const struct ck_desc *d)
{
	int fd;

	fd = open(d->path, (d->flags & KEEP_FLAGS) | O_CLOEXEC | O_NOCTTY);
	if (fd == -1)
		return -1;
	if (d->kind == CK_DESC_REG && (d->flags & O_PATH) == 0 &&
	    lseek(fd, (off_t)d->pos, SEEK_SET) == (off_t)-1 &&
	    errno != ESPIPE) {
		close(fd);
		return -1;
	}
	return fd;
}
