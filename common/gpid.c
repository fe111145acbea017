/*
 * gpid.c: encoding, decoding, parsing and printing of GPIDs.
 *
 * See gpid.h for the invariants; every function here checks them, so a
 * GPID that came from the network or the command line is validated the
 * moment it is decoded or parsed.
 */
#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "gpid.h"

int
gpid_encode(uint64_t seq, unsigned node, uint64_t *gpidp)
{
	if (node < GPID_NODE_MIN || node > GPID_NODE_MAX)
		return SS_ERR_BAD;
	if (seq < 1 || seq > GPID_SEQ_MAX)
		return SS_ERR_BAD;
	*gpidp = seq * 1000 + node;
	return 0;
}

int
gpid_valid(uint64_t gpid)
{
	uint64_t seq = gpid / 1000;
	unsigned node = (unsigned)(gpid % 1000);

	return node >= GPID_NODE_MIN && seq >= 1 && seq <= GPID_SEQ_MAX;
}

int
gpid_decode(uint64_t gpid, uint64_t *seqp, unsigned *nodep)
{
	if (!gpid_valid(gpid))
		return SS_ERR_BAD;
	if (seqp != NULL)
		*seqp = gpid / 1000;
	if (nodep != NULL)
		*nodep = (unsigned)(gpid % 1000);
	return 0;
}

unsigned
gpid_home(uint64_t gpid)
{
	return gpid_valid(gpid) ? (unsigned)(gpid % 1000) : 0;
}

int
gpid_parse(const char *s, uint64_t *gpidp)
{
	uint64_t v = 0;
	const char *p;
	unsigned d;

	if (s == NULL || *s == '\0' || *s == '0')
		return SS_ERR_BAD;
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return SS_ERR_BAD;
		d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return SS_ERR_TOO_LONG;
		v = v * 10 + d;
	}
	if (!gpid_valid(v))
		return SS_ERR_BAD;
	*gpidp = v;
	return 0;
}

int
gpid_format(uint64_t gpid, char *buf, size_t len)
{
	int n;

	if (len > 0)
		buf[0] = '\0';
	if (!gpid_valid(gpid))
		return SS_ERR_BAD;
	n = snprintf(buf, len, "%llu", (unsigned long long)gpid);
	if (n < 0 || (size_t)n >= len) {
		if (len > 0)
			buf[0] = '\0';
		return SS_ERR_TOO_LONG;
	}
	return 0;
}
