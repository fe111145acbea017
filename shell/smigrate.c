/*
 * smigrate: move a running job to another node (smigrate(1)).
 *
 * One MSG_MIGRATE { gpid, node } to the local noded, node "" meaning "the
 * least loaded node, as noded chooses".  noded finds the job wherever it
 * runs, has the node that runs it carry out the two-phase move (DESIGN.md,
 * "Migration while running") and answers only when the move is over:
 * MSG_MIGRATED with the move's figures, which we print as the one line of
 * the command-line contract,
 *
 *	GPID FROM -> TO: SIZE MiB, total T s, downtime D ms
 *
 * or MSG_ERROR, which we print as "smigrate: GPID: why" and exit 1.  A
 * refused or failed move leaves the job running where it was; that is
 * noded's promise, not ours: all we do is report.
 *
 * The reply can take as long as the image takes to cross the network, so
 * once connected we wait without the tools' usual reply timeout (as
 * ssubmit --wait does): noded bounds the move itself (a peer silent for
 * 5 s is down, which fails the move), and an impatient user has Ctrl-C.
 * Leaving does not cancel a move already begun, so when the connection
 * is lost before the answer we say that the outcome is unknown and where
 * to look, rather than guess.
 *
 * Exit status: 0 moved, 1 refused or failed (or unknown), 2 bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "err.h"
#include "gpid.h"
#include "proto.h"

#define PROG	"smigrate"
#define USAGE	"usage: smigrate GPID [NODE]\n"

static void	usage(FILE *fp, int status) __attribute__((noreturn));
static int	migrate(uint64_t gpid, const char *node);
static int	refused(uint64_t gpid, struct buf *payload);
static void	print_result(const struct migrate_result *m);

static void
usage(FILE *fp, int status)
{
	fputs(USAGE, fp);
	exit(status);
}

/*
 * Prints a MSG_ERROR payload as "smigrate: GPID: why", why being noded's
 * message, or the code's string when noded gave none.  Returns -1.
 */
static int
refused(uint64_t gpid, struct buf *payload)
{
	char *msg = NULL;
	int code, r;

	if ((r = proto_get_error(payload, &code, &msg)) != 0) {
		free(msg);
		return client_bad_reply("error reply", r);
	}
	fprintf(stderr, "%s: %llu: ", PROG, (unsigned long long)gpid);
	client_put_display(stderr, *msg != '\0' ? msg : ss_strerror(code));
	fputc('\n', stderr);
	free(msg);
	return -1;
}

/* The contract's line; node names escaped as every tool escapes them. */
static void
print_result(const struct migrate_result *m)
{
	printf("%llu ", (unsigned long long)m->gpid);
	client_put_display(stdout, m->from);
	fputs(" -> ", stdout);
	client_put_display(stdout, m->to);
	printf(": %.1f MiB, total %.2f s, downtime %.1f ms\n",
	    (double)m->image_bytes / (1024.0 * 1024.0),
	    (double)m->total_us / 1e6, (double)m->downtime_us / 1e3);
}

/* The whole exchange.  Returns 0 when the job moved, else -1 (said why). */
static int
migrate(uint64_t gpid, const char *node)
{
	struct migrate_result m;
	struct buf *req, *reply = NULL;
	uint8_t type;
	int fd, r, ret = -1;

	if ((req = proto_msg_new(MSG_MIGRATE)) == NULL) {
		fprintf(stderr, "%s: out of memory\n", PROG);
		return -1;
	}
	if ((r = buf_put_u64(req, gpid)) != 0 ||
	    (r = buf_put_cstring(req, node)) != 0) {
		fprintf(stderr, "%s: request: %s\n", PROG, ss_strerror(r));
		goto free_req;
	}
	if ((fd = client_connect(PROG)) == -1)
		goto free_req;
	if (client_set_timeout(fd, 0) != 0) {
		fprintf(stderr, "%s: socket timeout: %s\n", PROG,
		    strerror(errno));
		goto close_fd;
	}
	if (client_call(fd, req, &type, &reply) != 0) {
		/* client_call said what broke; the move may go on. */
		fprintf(stderr, "%s: %llu: the move's outcome is unknown: "
		    "see sps %llu\n", PROG, (unsigned long long)gpid,
		    (unsigned long long)gpid);
		goto close_fd;
	}
	if (type == MSG_ERROR) {
		(void)refused(gpid, reply);
		goto close_fd;
	}
	if (client_expect(type, reply, MSG_MIGRATED) != 0)
		goto close_fd;
	if ((r = migrate_result_get(reply, &m)) != 0) {
		client_bad_reply("migrate reply", r);
		goto close_fd;
	}
	if (m.gpid != gpid) {
		client_bad_reply("migrate reply", SS_ERR_BAD);
		goto clear_result;
	}
	if (m.pending) {
		/* Decided, not done: the copy waits for its node to ask. */
		fprintf(stderr, "%s: %llu: ", PROG, (unsigned long long)gpid);
		client_put_display(stderr, m.to);
		fputs(" did not confirm the move; the job is to run there "
		    "once that node is back: see sps ", stderr);
		fprintf(stderr, "%llu\n", (unsigned long long)gpid);
		goto clear_result;
	}
	print_result(&m);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: stdout: %s\n", PROG, strerror(errno));
		goto clear_result;
	}
	ret = 0;
clear_result:
	migrate_result_clear(&m);
close_fd:
	buf_free(reply);
	client_close(fd);
free_req:
	buf_free(req);
	return ret;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help",	no_argument,	NULL, 'h' },
		{ NULL,		0,		NULL, 0 }
	};
	uint64_t gpid;
	int ch;

	while ((ch = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(stdout, 0);
		default:
			usage(stderr, 2);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || argc > 2)
		usage(stderr, 2);

	if (gpid_parse(argv[0], &gpid) != 0) {
		fprintf(stderr, "%s: %s: not a GPID\n", PROG, argv[0]);
		return 1;
	}
	if (argc == 2 && strlen(argv[1]) > PROTO_MAX_NAME) {
		fprintf(stderr, "%s: %.32s...: node name too long\n", PROG,
		    argv[1]);
		return 1;
	}
	return migrate(gpid, argc == 2 ? argv[1] : "") == 0 ? 0 : 1;
}
