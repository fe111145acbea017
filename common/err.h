/*
 * err.h: error codes shared by every layer of sshell.
 *
 * Library code returns 0 on success or one of the negative SS_ERR_* codes
 * below, never exits; only main() decides what is fatal.  ss_strerror()
 * gives the one human string for a code.  SS_ERR_SYSTEM means "look at
 * errno", which the caller must read before any other call.
 */
#ifndef SSHELL_ERR_H
#define SSHELL_ERR_H

enum ss_err {
	SS_OK = 0,
	SS_ERR_INTERNAL = -1,	/* a bug: an invariant did not hold */
	SS_ERR_ALLOC = -2,	/* out of memory */
	SS_ERR_SHORT = -3,	/* input ended before the value did */
	SS_ERR_TOO_LONG = -4,	/* a length over its limit */
	SS_ERR_BAD = -5,	/* malformed input */
	SS_ERR_SYSTEM = -6,	/* a system call failed: see errno */
	SS_ERR_NOT_FOUND = -7,	/* no such job, node, user, file */
	SS_ERR_PERM = -8,	/* not allowed for this caller */
	SS_ERR_EXISTS = -9,	/* already there */
	SS_ERR_VERSION = -10,	/* another protocol or image version */
	SS_ERR_DOWN = -11,	/* node down or unreachable */
	SS_ERR_PROTO = -12,	/* message not allowed in this state */
	SS_ERR_BUSY = -13,	/* try again later */
	SS_ERR_UNSUPPORTED = -14, /* cannot be done (yet) */
	SS_ERR_CORRUPT = -15,	/* checksum or consistency failure */
	SS_ERR_DB = -16,	/* the SQLite directory failed */
	SS_ERR_CONFIG = -17,	/* bad configuration */
	SS_ERR_TIMEOUT = -18,	/* no answer in time */
	SS_ERR_DRAINING = -19,	/* node is draining */
	SS_ERR__LAST = -20
};

/* Returns a static string for code; never NULL, even for unknown codes. */
const char *ss_strerror(int code);

#endif
