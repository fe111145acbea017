/*
 * sps: the cluster-wide ps (sps(1)).
 *
 * One MSG_LIST to the local noded, which gathers the rows from every node
 * that is up; we sort them by GPID and print them as a table or as JSON.
 * The selection (whose jobs, ended or not, which node, which GPIDs) is
 * noded's to apply; only the presentation is ours.
 *
 * In the table every job is one line: strings are printed as they are
 * except control characters, which become C escapes (\n, \t, \ooo; see
 * client_put_display), so a command with a newline in it cannot forge a
 * second row.  Columns are left-aligned and as wide as their widest cell
 * (counted in UTF-8 characters); the last column is never padded, so
 * `sps -o log --no-headers GPID` prints exactly the path.  JSON carries
 * the exact strings, escaped as JSON requires.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "err.h"
#include "gpid.h"
#include "proto.h"
#include "xmalloc.h"

#define PROG	"sps"
#define USAGE	"usage: sps [-e] [-a] [-u USER] [-n NODE] [-o FIELDS] " \
		"[--no-headers] [--json] [GPID ...]\n"

enum sps_field {
	F_GPID, F_NODE, F_PID, F_USER, F_STATE, F_CPU, F_RSS, F_TIME, F_CMD,
	F_HOME, F_MOVES, F_NAME, F_LOG, F_EXIT, F__COUNT
};

/* Field names: -o, the JSON keys, and (upper-cased) the extra headers. */
static const char *const sps_names[F__COUNT] = {
	"gpid", "node", "pid", "user", "state", "cpu", "rss_kb", "time", "cmd",
	"home", "moves", "name", "log", "exit"
};
static const char *const sps_headers[F__COUNT] = {
	"GPID", "NODE", "PID", "USER", "STATE", "%CPU", "RSS", "TIME",
	"COMMAND", "HOME", "MOVES", "NAME", "LOG", "EXIT"
};
static const int sps_default[] = {
	F_GPID, F_NODE, F_PID, F_USER, F_STATE, F_CPU, F_RSS, F_TIME, F_CMD
};
#define SPS_MAXFIELDS	64

static void	usage(FILE *fp, int status) __attribute__((noreturn));
static int	cmp_gpid(const void *a, const void *b);
static char	*cell_text(const struct proc_info *p, int f);
static size_t	text_width(const char *s);
static void	print_table(struct proc_info *rows, uint32_t n,
		    const int *fields, size_t nfields, int headers);
static void	print_json(struct proc_info *rows, uint32_t n);

static void
usage(FILE *fp, int status)
{
	fputs(USAGE, fp);
	exit(status);
}

static int
cmp_gpid(const void *a, const void *b)
{
	const struct proc_info *x = a, *y = b;

	return (x->gpid > y->gpid) - (x->gpid < y->gpid);
}

/* The text of one cell, escaped for a one-line row; caller frees it. */
static char *
cell_text(const struct proc_info *p, int f)
{
	const unsigned char *c;
	const char *s = NULL;
	char *t;
	size_t len;
	FILE *fp;

	switch (f) {
	case F_GPID:
		xasprintf(&t, "%llu", (unsigned long long)p->gpid);
		return t;
	case F_PID:
		xasprintf(&t, "%u", p->pid);
		return t;
	case F_CPU:
		xasprintf(&t, "%.1f", p->cpu_milli / 1000.0);
		return t;
	case F_RSS:
		xasprintf(&t, "%llu", (unsigned long long)p->rss_kb);
		return t;
	case F_TIME:
		xasprintf(&t, "%llu", (unsigned long long)p->time_s);
		return t;
	case F_MOVES:
		xasprintf(&t, "%u", p->moves);
		return t;
	case F_EXIT:
		/* Empty while the job runs, as sps(1) says. */
		if (!p->has_exit)
			return xstrdup("");
		xasprintf(&t, "%d", p->exit);
		return t;
	case F_NODE:	s = p->node; break;
	case F_USER:	s = p->user; break;
	case F_STATE:	s = p->state; break;
	case F_CMD:	s = p->cmd; break;
	case F_HOME:	s = p->home; break;
	case F_NAME:	s = p->name; break;
	case F_LOG:	s = p->log; break;
	}
	if (s == NULL)
		s = "";
	/* The common case, nothing to escape, without a stream. */
	for (c = (const unsigned char *)s; *c >= 0x20 && *c != 0x7f; c++)
		;
	if (*c == '\0')
		return xstrdup(s);
	if ((fp = open_memstream(&t, &len)) == NULL) {
		fprintf(stderr, "%s: out of memory\n", PROG);
		exit(1);
	}
	client_put_display(fp, s);
	if (fclose(fp) != 0) {
		fprintf(stderr, "%s: out of memory\n", PROG);
		exit(1);
	}
	return t;
}

/* Width on a terminal, approximated as the number of UTF-8 characters. */
static size_t
text_width(const char *s)
{
	size_t w = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

static void
print_table(struct proc_info *rows, uint32_t n, const int *fields,
    size_t nfields, int headers)
{
	size_t width[SPS_MAXFIELDS], i, w, pad;
	char **cells;
	uint32_t r;

	cells = xreallocarray(NULL, (size_t)n * nfields + 1, sizeof(*cells));
	for (i = 0; i < nfields; i++)
		width[i] = headers ? strlen(sps_headers[fields[i]]) : 0;
	for (r = 0; r < n; r++) {
		for (i = 0; i < nfields; i++) {
			cells[r * nfields + i] = cell_text(&rows[r], fields[i]);
			w = text_width(cells[r * nfields + i]);
			if (w > width[i])
				width[i] = w;
		}
	}
	if (headers) {
		for (i = 0; i < nfields; i++) {
			fputs(sps_headers[fields[i]], stdout);
			if (i + 1 < nfields)
				printf("%*s", (int)(width[i] + 1 -
				    strlen(sps_headers[fields[i]])), "");
		}
		putchar('\n');
	}
	for (r = 0; r < n; r++) {
		for (i = 0; i < nfields; i++) {
			fputs(cells[r * nfields + i], stdout);
			if (i + 1 < nfields) {
				pad = width[i] + 1 -
				    text_width(cells[r * nfields + i]);
				printf("%*s", (int)pad, "");
			}
			free(cells[r * nfields + i]);
		}
		putchar('\n');
	}
	free(cells);
}

static void
print_json(struct proc_info *rows, uint32_t n)
{
	const struct proc_info *p;
	uint32_t r;

	if (n == 0) {
		fputs("[]\n", stdout);
		return;
	}
	fputs("[\n", stdout);
	for (r = 0; r < n; r++) {
		p = &rows[r];
		printf("{\"gpid\":%llu,\"node\":", (unsigned long long)p->gpid);
		client_json_string(stdout, p->node);
		printf(",\"pid\":%u,\"user\":", p->pid);
		client_json_string(stdout, p->user);
		fputs(",\"state\":", stdout);
		client_json_string(stdout, p->state);
		printf(",\"cpu\":%.1f,\"rss_kb\":%llu,\"time\":%llu,\"cmd\":",
		    p->cpu_milli / 1000.0, (unsigned long long)p->rss_kb,
		    (unsigned long long)p->time_s);
		client_json_string(stdout, p->cmd);
		fputs(",\"home\":", stdout);
		client_json_string(stdout, p->home);
		printf(",\"moves\":%u,\"name\":", p->moves);
		client_json_string(stdout, p->name);
		fputs(",\"log\":", stdout);
		client_json_string(stdout, p->log);
		if (p->has_exit)
			printf(",\"exit\":%d}", p->exit);
		else
			fputs(",\"exit\":null}", stdout);
		fputs(r + 1 < n ? ",\n" : "\n", stdout);
	}
	fputs("]\n", stdout);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "no-headers",	no_argument,	NULL, 'H' },
		{ "json",	no_argument,	NULL, 'J' },
		{ "help",	no_argument,	NULL, 'h' },
		{ NULL,		0,		NULL, 0 }
	};
	static char stdout_buf[65536];
	struct list_req lr = { 0, "", "", 0, NULL };
	int fields[SPS_MAXFIELDS];
	struct proc_info *rows;
	struct buf *req, *reply;
	const char *bad, *ofields = NULL;
	size_t nfields, badlen, i;
	int ch, headers = 1, json = 0, r, status = 0, nf;
	uint32_t n, k;

	while ((ch = getopt_long(argc, argv, "eau:n:o:", longopts, NULL))
	    != -1) {
		switch (ch) {
		case 'e':
			lr.flags |= LIST_ALL_USERS;
			break;
		case 'a':
			lr.flags |= LIST_ENDED;
			break;
		case 'u':
			/* Someone else's jobs: noded checks who may see. */
			lr.flags |= LIST_ALL_USERS;
			lr.user = optarg;
			break;
		case 'n':
			lr.node = optarg;
			break;
		case 'o':
			ofields = optarg;
			break;
		case 'H':
			headers = 0;
			break;
		case 'J':
			json = 1;
			break;
		case 'h':
			usage(stdout, 0);
		default:
			usage(stderr, 2);
		}
	}
	argc -= optind;
	argv += optind;

	if (ofields != NULL) {
		nf = client_list_parse(ofields, sps_names, F__COUNT, fields,
		    SPS_MAXFIELDS, &bad, &badlen);
		if (nf < 0) {
			fprintf(stderr, "%s: -o: %s field '%.*s'\n", PROG,
			    badlen == 0 ? "empty" : "unknown", (int)badlen,
			    bad);
			return 1;
		}
		nfields = (size_t)nf;
	} else {
		nfields = sizeof(sps_default) / sizeof(sps_default[0]);
		memcpy(fields, sps_default, sizeof(sps_default));
	}

	lr.ngpids = (uint32_t)argc;
	lr.gpids = xreallocarray(NULL, (size_t)argc + 1, sizeof(uint64_t));
	for (i = 0; i < (size_t)argc; i++) {
		if (gpid_parse(argv[i], &lr.gpids[i]) != 0) {
			fprintf(stderr, "%s: %s: not a GPID\n", PROG, argv[i]);
			return 1;
		}
	}

	if ((req = proto_msg_new(MSG_LIST)) == NULL ||
	    (r = list_req_put(req, &lr)) != 0) {
		fprintf(stderr, "%s: request: %s\n", PROG,
		    req == NULL ? "out of memory" : ss_strerror(r));
		return 1;
	}
	if (client_request(PROG, req, MSG_LIST_REPLY, &reply) != 0)
		return 1;

	if ((r = buf_get_u32(reply, &n)) == 0 && n > PROTO_MAX_COUNT)
		r = SS_ERR_TOO_LONG;
	if (r != 0) {
		client_bad_reply("list reply", r);
		return 1;
	}
	rows = xcalloc((size_t)n + 1, sizeof(*rows));
	for (k = 0; k < n; k++) {
		if ((r = proc_info_get(reply, &rows[k])) != 0) {
			client_bad_reply("list reply", r);
			return 1;
		}
	}
	buf_free(reply);
	qsort(rows, n, sizeof(*rows), cmp_gpid);

	setvbuf(stdout, stdout_buf, _IOFBF, sizeof(stdout_buf));
	if (json)
		print_json(rows, n);
	else
		print_table(rows, n, fields, nfields, headers);

	/* A GPID asked for and not in the answer is not known: say so. */
	for (i = 0; i < lr.ngpids; i++) {
		for (k = 0; k < n; k++)
			if (rows[k].gpid == lr.gpids[i])
				break;
		if (k == n) {
			fprintf(stderr, "%s: %llu: no such job\n", PROG,
			    (unsigned long long)lr.gpids[i]);
			status = 1;
		}
	}
	for (k = 0; k < n; k++)
		proc_info_clear(&rows[k]);
	free(rows);
	free(lr.gpids);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: stdout: %s\n", PROG, strerror(errno));
		return 1;
	}
	return status;
}
