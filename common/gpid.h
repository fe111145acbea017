/*
 * gpid.h: global process ids.
 *
 * A GPID names one job for its whole life, whatever node it runs on:
 *
 *	gpid = sequence * 1000 + home node id
 *
 * printed in decimal (job 42 born on node 1 is 42001).  The sequence is the
 * home node's persisted 64-bit job counter (dir_next_seq()), starting at 1;
 * the node id is the home node's explicit id from the cluster file, 1-999.
 *
 * Invariants of every valid GPID g: 1 <= g % 1000 <= 999, g / 1000 >= 1 and
 * g / 1000 <= GPID_SEQ_MAX.  GPID_SEQ_MAX keeps every GPID below 2^63, so
 * that a GPID is also a positive SQLite INTEGER and a positive JSON number.
 * 0 is never a valid GPID and may be used as "none".
 */
#ifndef SSHELL_GPID_H
#define SSHELL_GPID_H

#include <stddef.h>
#include <stdint.h>

#define GPID_NODE_MIN	1u
#define GPID_NODE_MAX	999u
#define GPID_SEQ_MAX	((uint64_t)(INT64_MAX - 999) / 1000)
/* Room for the decimal text of any uint64_t and its NUL. */
#define GPID_STRLEN	21

/*
 * Sets *gpidp to the GPID of job seq born on node.  Returns 0, or
 * SS_ERR_BAD (and leaves *gpidp alone) if node is outside 1-999 or seq is 0
 * or above GPID_SEQ_MAX.
 */
int	gpid_encode(uint64_t seq, unsigned node, uint64_t *gpidp);

/*
 * Splits gpid into its sequence and home node id; either out pointer may be
 * NULL.  Returns 0, or SS_ERR_BAD (outputs untouched) if gpid is not valid.
 */
int	gpid_decode(uint64_t gpid, uint64_t *seqp, unsigned *nodep);

/* Nonzero if gpid is a valid GPID (see the invariants above). */
int	gpid_valid(uint64_t gpid);

/* The home node id of a valid GPID (gpid % 1000); 0 if gpid is invalid. */
unsigned gpid_home(uint64_t gpid);

/*
 * Parses the decimal text s (NUL-terminated) as a GPID.  Accepts only the
 * canonical form gpid_format() prints: ASCII digits, no sign, no spaces, no
 * leading zero.  Returns 0, SS_ERR_BAD for malformed text or an invalid
 * GPID, or SS_ERR_TOO_LONG for a number over 2^64 - 1; *gpidp is set only
 * on success.
 */
int	gpid_parse(const char *s, uint64_t *gpidp);

/*
 * Writes the decimal text of gpid into buf[len] (GPID_STRLEN is always
 * enough).  Returns 0, SS_ERR_BAD for an invalid GPID, or SS_ERR_TOO_LONG
 * if len is too small (buf then holds "" if len > 0).
 */
int	gpid_format(uint64_t gpid, char *buf, size_t len);

#endif
