/*
 * cgroup.c: a cgroup's freezer (see cgroup.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"

int
cg_freezer_kind(const char *dir)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/cgroup.freeze", dir);
	if (access(path, W_OK) == 0)
		return CG_FREEZER_V2;
	snprintf(path, sizeof(path), "%s/freezer.state", dir);
	if (access(path, W_OK) == 0)
		return CG_FREEZER_V1;
	return CG_FREEZER_NONE;
}

int
cg_set_frozen(const char *dir, int kind, int on, char *path, size_t plen)
{
	const char *s;
	size_t n;
	int fd, err;

	if (kind == CG_FREEZER_V2) {
		snprintf(path, plen, "%s/cgroup.freeze", dir);
		s = on ? "1" : "0";
	} else {
		snprintf(path, plen, "%s/freezer.state", dir);
		s = on ? "FROZEN" : "THAWED";
	}
	n = strlen(s);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1)
		return -1;
	if (write(fd, s, n) != (ssize_t)n) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	close(fd);
	return 0;
}
