/*
 * log.h: logging for noded and the tools.
 *
 * log_init() picks the sink: stderr (noded -f, and the tools) or syslog.
 * Debug lines appear only after log_init(..., debug = 1).  The macros add
 * the calling function's name, so a line reads
 *   noded[123]: peer_connect: n2: connection refused
 * The *_r variants append ": " and ss_strerror(code).
 */
#ifndef SSHELL_LOG_H
#define SSHELL_LOG_H

#include <syslog.h>

void	log_init(const char *progname, int to_stderr, int debug);
int	log_debug_enabled(void);
void	log_emit(int prio, const char *func, int code, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));

#define log_err(...)	log_emit(LOG_ERR, __func__, 0, __VA_ARGS__)
#define log_warn(...)	log_emit(LOG_WARNING, __func__, 0, __VA_ARGS__)
#define log_info(...)	log_emit(LOG_INFO, __func__, 0, __VA_ARGS__)
#define log_debug(...)	do { if (log_debug_enabled()) \
	log_emit(LOG_DEBUG, __func__, 0, __VA_ARGS__); } while (0)
#define log_err_r(r, ...)	log_emit(LOG_ERR, __func__, (r), __VA_ARGS__)
#define log_warn_r(r, ...)	log_emit(LOG_WARNING, __func__, (r), __VA_ARGS__)

#endif
