/*
 * ssubmit: start a detached job (ssubmit(1)), the way cron starts jobs.
 *
 * Builds a spawn_req from our own context (cwd, umask, the whole
 * environment, argv exactly as given, -o resolved against the cwd) and
 * sends one MSG_SPAWN.  noded answers MSG_SPAWNED once the job runs; we
 * print its GPID alone on stdout, and that is all stdout ever carries.
 * With --wait (SPAWN_WAIT) the connection stays open and noded sends
 * MSG_EXITED when the job ends; its status is already sh-style (code, or
 * 128+N for signal N) and becomes ours.
 *
 * "--" before the command is required, as the man page says: it keeps a
 * command's own options from ever being read as ours.
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "err.h"
#include "proto.h"
#include "xmalloc.h"

#define PROG	"ssubmit"
#define USAGE	"usage: ssubmit [-n NODE] [--name NAME] [--unique] " \
		"[-o FILE] [--wait] -- CMD [ARG ...]\n"

extern char **environ;

static void	usage(FILE *fp, int status) __attribute__((noreturn));
static int	wait_exit(int fd, uint64_t gpid);

static void
usage(FILE *fp, int status)
{
	fputs(USAGE, fp);
	exit(status);
}

/* Reads frames until the job's MSG_EXITED; returns the exit status. */
static int
wait_exit(int fd, uint64_t gpid)
{
	struct buf *p;
	uint32_t status, sig;
	uint64_t g;
	uint8_t type;
	int r;

	for (;;) {
		if (client_read(fd, &type, &p) != 0) {
			fprintf(stderr, "%s: %llu: lost track of the job\n",
			    PROG, (unsigned long long)gpid);
			return 1;
		}
		if (type == MSG_EXITED)
			break;
		if (type == MSG_ERROR) {
			(void)client_expect(type, p, MSG_EXITED);
			buf_free(p);
			return 1;
		}
		/* Anything else (there is nothing else yet) is not ours. */
		buf_free(p);
	}
	if ((r = buf_get_u64(p, &g)) != 0 ||
	    (r = buf_get_u32(p, &status)) != 0 ||
	    (r = buf_get_u32(p, &sig)) != 0) {
		buf_free(p);
		client_bad_reply("exit report", r);
		return 1;
	}
	buf_free(p);
	return (int)(status & 0xff);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "name",	required_argument,	NULL, 'N' },
		{ "unique",	no_argument,		NULL, 'U' },
		{ "wait",	no_argument,		NULL, 'W' },
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL,		0,			NULL, 0 }
	};
	struct spawn_req sq;
	struct buf *req, *reply;
	const char *out = NULL;
	char *cwd, *node;
	uint32_t pid, flags;
	uint64_t gpid;
	mode_t mask;
	uint8_t type;
	int ch, fd, r, status;

	memset(&sq, 0, sizeof(sq));
	sq.node = sq.name = sq.log = sq.cmd = sq.term = "";
	while ((ch = getopt_long(argc, argv, "+n:o:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			sq.node = optarg;
			sq.flags |= SPAWN_PINNED;
			break;
		case 'o':
			out = optarg;
			break;
		case 'N':
			sq.name = optarg;
			break;
		case 'U':
			sq.flags |= SPAWN_UNIQUE;
			break;
		case 'W':
			sq.flags |= SPAWN_WAIT;
			break;
		case 'h':
			usage(stdout, 0);
		default:
			usage(stderr, 2);
		}
	}
	if (optind < 1 || strcmp(argv[optind - 1], "--") != 0 ||
	    optind >= argc) {
		fprintf(stderr, "%s: %s\n", PROG, optind < argc ?
		    "\"--\" must come before the command" : "no command");
		usage(stderr, 2);
	}
	if ((sq.flags & SPAWN_UNIQUE) && *sq.name == '\0') {
		fprintf(stderr, "%s: --unique needs --name\n", PROG);
		usage(stderr, 2);
	}
	if (*sq.node == '\0')
		sq.flags &= ~SPAWN_PINNED;

	if ((cwd = getcwd(NULL, 0)) == NULL) {
		fprintf(stderr, "%s: cannot get the current directory: %s\n",
		    PROG, strerror(errno));
		return 1;
	}
	sq.cwd = cwd;
	if (out != NULL) {
		if (*out == '\0') {
			fprintf(stderr, "%s: -o: empty file name\n", PROG);
			return 1;
		}
		if (*out == '/')
			sq.log = (char *)out;
		else
			xasprintf(&sq.log, "%s%s%s", cwd,
			    strcmp(cwd, "/") == 0 ? "" : "/", out);
		if (strlen(sq.log) >= PROTO_MAX_PATH) {
			fprintf(stderr, "%s: %s: file name too long\n", PROG,
			    sq.log);
			return 1;
		}
	}
	mask = umask(022);
	umask(mask);
	sq.umask = (uint32_t)mask & 0777;
	sq.argc = (uint32_t)(argc - optind);
	sq.argv = argv + optind;
	for (sq.envc = 0; environ != NULL && environ[sq.envc] != NULL;
	    sq.envc++)
		;
	sq.env = environ != NULL ? environ : (char *[]){ NULL };

	if ((req = proto_msg_new(MSG_SPAWN)) == NULL ||
	    (r = spawn_req_put(req, &sq)) != 0) {
		fprintf(stderr, "%s: request: %s\n", PROG,
		    req == NULL ? "out of memory" : ss_strerror(r));
		return 1;
	}
	if ((fd = client_connect(PROG)) == -1)
		return 1;
	if (client_call(fd, req, &type, &reply) != 0)
		return 1;
	buf_free(req);
	if (client_expect(type, reply, MSG_SPAWNED) != 0)
		return 1;
	if ((r = buf_get_u64(reply, &gpid)) != 0 ||
	    (r = buf_get_cstring(reply, PROTO_MAX_NAME, &node)) != 0 ||
	    (r = buf_get_u32(reply, &pid)) != 0 ||
	    (r = buf_get_u32(reply, &flags)) != 0) {
		client_bad_reply("spawn reply", r);
		return 1;
	}
	buf_free(reply);
	free(node);

	/*
	 * The GPID must be out before we wait: a script may want it now.
	 * The job runs whether or not stdout takes it (cron may close it),
	 * so a failure here is said but changes no exit status.
	 */
	printf("%llu\n", (unsigned long long)gpid);
	if (fflush(stdout) != 0 || ferror(stdout))
		fprintf(stderr, "%s: %llu: stdout: %s\n", PROG,
		    (unsigned long long)gpid, strerror(errno));
	status = 0;
	if (flags & SPAWNED_EXISTING) {
		fprintf(stderr, "%s: ", PROG);
		client_put_display(stderr, sq.name);
		fprintf(stderr, " is already running as %llu\n",
		    (unsigned long long)gpid);
		goto done;
	}
	if (sq.flags & SPAWN_WAIT) {
		/* The job may run for days: no reply timeout from now on. */
		if (client_set_timeout(fd, 0) != 0) {
			fprintf(stderr, "%s: %s\n", PROG, strerror(errno));
			return 1;
		}
		status = wait_exit(fd, gpid);
	}
done:
	client_close(fd);
	if (out != NULL && *out != '/')
		free(sq.log);
	free(cwd);
	return status;
}
