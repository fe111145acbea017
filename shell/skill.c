/*
 * skill: the cluster-wide kill (skill(1)).
 *
 * One MSG_SIGNAL to the local noded, naming either GPIDs or one selection
 * (-c NAME, -u USER, -n NODE); noded finds each job wherever it runs and
 * answers one row per job it tried: 0, or a negative SS_ERR_* code and a
 * message.  We print each failure as "skill: GPID: why" and exit 1 if any
 * failed or nothing matched.
 *
 * The options are parsed by hand, as kill(1) does, because "-KILL", "-9"
 * and "-SIGUSR1" are options whose letters are the signal's name.  So the
 * option letters take their argument only as the next word ("-s KILL",
 * "-u alice"): "-usr1" is SIGUSR1, never -u sr1.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "err.h"
#include "gpid.h"
#include "proto.h"
#include "xmalloc.h"

#define PROG	"skill"
#define USAGE	"usage: skill [-SIG | -s SIG] [--at NODE] GPID ...\n" \
		"       skill [-s SIG] -c NAME | -u USER | -n NODE\n" \
		"       skill -l [SIG ...]\n"

static void	usage(FILE *fp, int status) __attribute__((noreturn));
static int	list_signals(char **names, int n);
static const char *need_arg(char **argv, int argc, int *i);

static void
usage(FILE *fp, int status)
{
	fputs(USAGE, fp);
	exit(status);
}

/* -l: every signal, or each one named by number or name. */
static int
list_signals(char **args, int n)
{
	const char *name;
	int i, sig, status = 0;

	if (n == 0) {
		client_sig_list(stdout);
		return 0;
	}
	for (i = 0; i < n; i++) {
		sig = client_sig_parse(args[i]);
		if (sig > 0 && (name = client_sig_name(sig)) != NULL) {
			if (args[i][0] >= '0' && args[i][0] <= '9')
				printf("%s\n", name);
			else
				printf("%d\n", sig);
		} else {
			fprintf(stderr, "%s: %s: unknown signal\n", PROG,
			    args[i]);
			status = 1;
		}
	}
	return status;
}

/* The argument of argv[*i], from the next word; usage error if none. */
static const char *
need_arg(char **argv, int argc, int *i)
{
	if (*i + 1 >= argc) {
		fprintf(stderr, "%s: %s needs an argument\n", PROG, argv[*i]);
		usage(stderr, 2);
	}
	return argv[++*i];
}

int
main(int argc, char **argv)
{
	struct signal_req sr = { SIGTERM, 0, "", SEL_GPIDS, "", 0,
	    NULL };
	char **ops, *msg;
	const char *a;
	struct buf *req, *reply;
	int i, nops = 0, nsel = 0, list = 0, r, sig, status = 0;
	uint32_t n, k, code;
	uint64_t gpid;
	uint64_t *answered;

	ops = xreallocarray(NULL, (size_t)argc + 1, sizeof(*ops));
	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (strcmp(a, "--") == 0) {
			while (++i < argc)
				ops[nops++] = argv[i];
			break;
		}
		if (a[0] != '-' || a[1] == '\0') {
			ops[nops++] = argv[i];
			continue;
		}
		if (strcmp(a, "--help") == 0)
			usage(stdout, 0);
		else if (strcmp(a, "--at") == 0)
			sr.at = (char *)need_arg(argv, argc, &i);
		else if (strncmp(a, "--at=", 5) == 0)
			sr.at = (char *)a + 5;
		else if (strcmp(a, "-l") == 0)
			list = 1;
		else if (strcmp(a, "-s") == 0) {
			a = need_arg(argv, argc, &i);
			if ((sig = client_sig_parse(a)) == -1) {
				fprintf(stderr, "%s: %s: unknown signal\n",
				    PROG, a);
				return 1;
			}
			sr.sig = (uint32_t)sig;
		} else if (strcmp(a, "-c") == 0 || strcmp(a, "-u") == 0 ||
		    strcmp(a, "-n") == 0) {
			sr.selector = a[1] == 'c' ? SEL_NAME :
			    a[1] == 'u' ? SEL_USER : SEL_NODE;
			sr.arg = (char *)need_arg(argv, argc, &i);
			nsel++;
		} else if (a[1] == '-') {
			fprintf(stderr, "%s: unknown option %s\n", PROG, a);
			usage(stderr, 2);
		} else if ((sig = client_sig_parse(a + 1)) != -1)
			sr.sig = (uint32_t)sig;
		else {
			fprintf(stderr, "%s: %s: unknown signal\n", PROG,
			    a + 1);
			return 1;
		}
	}
	if (list) {
		status = list_signals(ops, nops);
		free(ops);
		return status;
	}
	if (nsel > 1) {
		fprintf(stderr, "%s: -c, -u and -n exclude each other\n", PROG);
		usage(stderr, 2);
	}
	if (nsel == 1 && (nops > 0 || *sr.at != '\0')) {
		fprintf(stderr, "%s: -c, -u and -n take no GPID nor --at\n",
		    PROG);
		usage(stderr, 2);
	}
	if (nsel == 0 && nops == 0)
		usage(stderr, 2);

	sr.gpids = xreallocarray(NULL, (size_t)nops + 1, sizeof(uint64_t));
	for (i = 0; i < nops; i++) {
		if (gpid_parse(ops[i], &sr.gpids[i]) != 0) {
			fprintf(stderr, "%s: %s: not a GPID\n", PROG, ops[i]);
			return 1;
		}
	}
	sr.ngpids = (uint32_t)nops;

	if ((req = proto_msg_new(MSG_SIGNAL)) == NULL ||
	    (r = signal_req_put(req, &sr)) != 0) {
		fprintf(stderr, "%s: request: %s\n", PROG,
		    req == NULL ? "out of memory" : ss_strerror(r));
		return 1;
	}
	if (client_request(PROG, req, MSG_SIGNAL_REPLY, &reply) != 0)
		return 1;

	if ((r = buf_get_u32(reply, &n)) == 0 && n > PROTO_MAX_COUNT)
		r = SS_ERR_TOO_LONG;
	if (r != 0) {
		client_bad_reply("signal reply", r);
		return 1;
	}
	answered = xreallocarray(NULL, (size_t)n + 1, sizeof(*answered));
	for (k = 0; k < n; k++) {
		if ((r = buf_get_u64(reply, &gpid)) != 0 ||
		    (r = buf_get_u32(reply, &code)) != 0 ||
		    (r = buf_get_cstring(reply, PROTO_MAX_STR, &msg)) != 0) {
			client_bad_reply("signal reply", r);
			return 1;
		}
		answered[k] = gpid;
		if (code != 0) {
			fprintf(stderr, "%s: %llu: ", PROG,
			    (unsigned long long)gpid);
			client_put_display(stderr, *msg != '\0' ? msg :
			    ss_strerror((int32_t)code));
			fputc('\n', stderr);
			status = 1;
		}
		free(msg);
	}
	if (n == 0 && nops == 0) {
		fprintf(stderr, "%s: no job matches\n", PROG);
		status = 1;
	}
	/* A GPID noded gave no row for was found nowhere: say so. */
	for (i = 0; i < nops; i++) {
		for (k = 0; k < n; k++)
			if (answered[k] == sr.gpids[i])
				break;
		if (k == n) {
			fprintf(stderr, "%s: %llu: no such job\n", PROG,
			    (unsigned long long)sr.gpids[i]);
			status = 1;
		}
	}
	free(answered);
	buf_free(reply);
	free(sr.gpids);
	free(ops);
	return status;
}
