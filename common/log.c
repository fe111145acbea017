/*
 * log.c: the sinks behind log.h.  errno is preserved across a call, so
 * logging never changes what the caller reports next.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "log.h"

static const char *log_prog = "sshell";
static int log_stderr = 1;
static int log_debug_on;

void
log_init(const char *progname, int to_stderr, int debug)
{
	log_prog = progname;
	log_stderr = to_stderr;
	log_debug_on = debug;
	if (!to_stderr)
		openlog(progname, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

int
log_debug_enabled(void)
{
	return log_debug_on;
}

void
log_emit(int prio, const char *func, int code, const char *fmt, ...)
{
	char msg[2048];
	int saved = errno;
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (code != 0) {
		n = strlen(msg);
		errno = saved;
		snprintf(msg + n, sizeof(msg) - n, ": %s", ss_strerror(code));
	}
	if (log_stderr) {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		fprintf(stderr, "%02d:%02d:%02d.%03ld %s[%d]: %s%s%s%s\n",
		    tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
		    log_prog, (int)getpid(), prio == LOG_DEBUG ? "debug: " :
		    prio <= LOG_ERR ? "error: " : prio == LOG_WARNING ?
		    "warning: " : "", func != NULL ? func : "",
		    func != NULL ? ": " : "", msg);
	} else
		syslog(prio, "%s: %s", func != NULL ? func : "", msg);
	errno = saved;
}
