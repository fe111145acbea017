/*
 * err.c: the one string for each SS_ERR_* code.
 */
#include <errno.h>
#include <string.h>

#include "err.h"

const char *
ss_strerror(int code)
{
	switch (code) {
	case SS_OK:			return "success";
	case SS_ERR_INTERNAL:		return "internal error";
	case SS_ERR_ALLOC:		return "out of memory";
	case SS_ERR_SHORT:		return "message truncated";
	case SS_ERR_TOO_LONG:		return "length over limit";
	case SS_ERR_BAD:		return "malformed input";
	case SS_ERR_SYSTEM:		return strerror(errno);
	case SS_ERR_NOT_FOUND:		return "not found";
	case SS_ERR_PERM:		return "permission denied";
	case SS_ERR_EXISTS:		return "already exists";
	case SS_ERR_VERSION:		return "version mismatch";
	case SS_ERR_DOWN:		return "node is down";
	case SS_ERR_PROTO:		return "protocol error";
	case SS_ERR_BUSY:		return "busy";
	case SS_ERR_UNSUPPORTED:	return "not supported";
	case SS_ERR_CORRUPT:		return "corrupt data";
	case SS_ERR_DB:			return "directory database error";
	case SS_ERR_CONFIG:		return "configuration error";
	case SS_ERR_TIMEOUT:		return "timed out";
	case SS_ERR_DRAINING:		return "node is draining";
	default:			return "unknown error";
	}
}
