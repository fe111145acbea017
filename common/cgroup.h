/*
 * cgroup.h: a cgroup's freezer, in either of the two forms the kernel has:
 * cgroup v2 (cgroup.freeze, "1" or "0") and the v1 freezer hierarchy
 * (freezer.state, "FROZEN" or "THAWED").  The checkpoint engine freezes a
 * tree with it before it seizes it, and slows one down; noded thaws a job
 * that a mover which died left frozen.
 */
#ifndef SSHELL_CGROUP_H
#define SSHELL_CGROUP_H

#include <stddef.h>

enum { CG_FREEZER_NONE = 0, CG_FREEZER_V1 = 1, CG_FREEZER_V2 = 2 };

/* The kind of freezer the cgroup directory dir has that we may write. */
int	cg_freezer_kind(const char *dir);
/*
 * Freezes (on) or thaws the cgroup dir, of that kind.  0, or -1 with
 * errno set and the file that failed in path (plen bytes).
 */
int	cg_set_frozen(const char *dir, int kind, int on, char *path,
	    size_t plen);

#endif
