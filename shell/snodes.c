/*
 * snodes: the nodes of the cluster, and drain/undrain (snodes(1)).
 *
 * MSG_NODES to the local noded gives one node_info per node of the
 * cluster file, as that noded knows them (loads are pushed every second;
 * a peer silent for 5 s is down).  We sort by id and print the columns of
 * snodes(1): ID NAME ADDRESS CPUS LOAD JOBS MEMORY STATE LAST SEEN, with
 * LOAD a float with two decimals, MEMORY the free memory in KiB and LAST
 * SEEN in whole seconds ago ("-" never).  Strings are escaped as in sps,
 * one node one line.  drain and undrain send MSG_DRAIN and expect MSG_OK.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "err.h"
#include "proto.h"
#include "xmalloc.h"

#define PROG	"snodes"
#define USAGE	"usage: snodes [--json]\n" \
		"       snodes drain NODE\n" \
		"       snodes undrain NODE\n"

enum snodes_col {
	C_ID, C_NAME, C_ADDR, C_CPUS, C_LOAD, C_JOBS, C_MEM, C_STATE, C_SEEN,
	C__COUNT
};
static const char *const snodes_headers[C__COUNT] = {
	"ID", "NAME", "ADDRESS", "CPUS", "LOAD", "JOBS", "MEMORY", "STATE",
	"LAST SEEN"
};

static void	usage(FILE *fp, int status) __attribute__((noreturn));
static int	cmp_id(const void *a, const void *b);
static char	*address(const struct node_info *ni);
static int64_t	now_ms(void);
static int64_t	seen_ago(const struct node_info *ni, int64_t now_ms);
static char	*cell_text(const struct node_info *ni, int c, int64_t now);
static void	print_table(struct node_info *nodes, uint32_t n);
static void	print_json(struct node_info *nodes, uint32_t n);
static int	drain(const char *node, int on);

static void
usage(FILE *fp, int status)
{
	fputs(USAGE, fp);
	exit(status);
}

static int
cmp_id(const void *a, const void *b)
{
	const struct node_info *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

/* "ADDR:PORT", or "[ADDR]:PORT" for an IPv6 literal; caller frees. */
static char *
address(const struct node_info *ni)
{
	char *t;

	if (strchr(ni->addr, ':') != NULL)
		xasprintf(&t, "[%s]:%u", ni->addr, ni->port);
	else
		xasprintf(&t, "%s:%u", ni->addr, ni->port);
	return t;
}

/* Seconds since the node was last heard from, or -1 if never. */
static int64_t
seen_ago(const struct node_info *ni, int64_t now_ms)
{
	if (ni->last_seen_ms <= 0)
		return -1;
	if (ni->last_seen_ms >= now_ms)
		return 0;
	return (now_ms - ni->last_seen_ms) / 1000;
}

/* One cell, escaped for a one-line row; caller frees. */
static char *
cell_text(const struct node_info *ni, int c, int64_t now)
{
	const char *s;
	char *t, *a;
	size_t len;
	int64_t ago;
	FILE *fp;

	switch (c) {
	case C_ID:
		xasprintf(&t, "%u", ni->id);
		return t;
	case C_CPUS:
		xasprintf(&t, "%u", ni->cpus);
		return t;
	case C_LOAD:
		xasprintf(&t, "%.2f", ni->load_milli / 1000.0);
		return t;
	case C_JOBS:
		xasprintf(&t, "%u", ni->jobs);
		return t;
	case C_MEM:
		xasprintf(&t, "%llu", (unsigned long long)ni->memfree_kb);
		return t;
	case C_SEEN:
		if ((ago = seen_ago(ni, now)) < 0)
			return xstrdup("-");
		xasprintf(&t, "%lld", (long long)ago);
		return t;
	}
	a = NULL;
	if (c == C_NAME)
		s = ni->name;
	else if (c == C_STATE)
		s = ni->state;
	else
		s = a = address(ni);
	if ((fp = open_memstream(&t, &len)) == NULL) {
		fprintf(stderr, "%s: out of memory\n", PROG);
		exit(1);
	}
	client_put_display(fp, s);
	if (fclose(fp) != 0) {
		fprintf(stderr, "%s: out of memory\n", PROG);
		exit(1);
	}
	free(a);
	return t;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
print_table(struct node_info *nodes, uint32_t n)
{
	size_t width[C__COUNT], w;
	char **cells;
	int64_t now = now_ms();
	uint32_t r;
	int c;

	cells = xreallocarray(NULL, (size_t)n * C__COUNT + 1, sizeof(*cells));
	for (c = 0; c < C__COUNT; c++)
		width[c] = strlen(snodes_headers[c]);
	for (r = 0; r < n; r++) {
		for (c = 0; c < C__COUNT; c++) {
			cells[r * C__COUNT + c] = cell_text(&nodes[r], c, now);
			w = strlen(cells[r * C__COUNT + c]);
			if (w > width[c])
				width[c] = w;
		}
	}
	for (c = 0; c + 1 < C__COUNT; c++)
		printf("%-*s ", (int)width[c], snodes_headers[c]);
	printf("%s\n", snodes_headers[C__COUNT - 1]);
	for (r = 0; r < n; r++) {
		for (c = 0; c < C__COUNT; c++) {
			if (c + 1 < C__COUNT)
				printf("%-*s ", (int)width[c],
				    cells[r * C__COUNT + c]);
			else
				printf("%s\n", cells[r * C__COUNT + c]);
			free(cells[r * C__COUNT + c]);
		}
	}
	free(cells);
}

static void
print_json(struct node_info *nodes, uint32_t n)
{
	const struct node_info *ni;
	int64_t now = now_ms(), ago;
	uint32_t r;
	char *a;

	if (n == 0) {
		fputs("[]\n", stdout);
		return;
	}
	fputs("[\n", stdout);
	for (r = 0; r < n; r++) {
		ni = &nodes[r];
		printf("{\"id\":%u,\"name\":", ni->id);
		client_json_string(stdout, ni->name);
		fputs(",\"address\":", stdout);
		a = address(ni);
		client_json_string(stdout, a);
		free(a);
		printf(",\"cpus\":%u,\"load\":%.2f,\"jobs\":%u,\"memory\":%llu,"
		    "\"state\":", ni->cpus, ni->load_milli / 1000.0, ni->jobs,
		    (unsigned long long)ni->memfree_kb);
		client_json_string(stdout, ni->state);
		if ((ago = seen_ago(ni, now)) < 0)
			fputs(",\"last_seen\":null}", stdout);
		else
			printf(",\"last_seen\":%lld}", (long long)ago);
		fputs(r + 1 < n ? ",\n" : "\n", stdout);
	}
	fputs("]\n", stdout);
}

static int
drain(const char *node, int on)
{
	struct buf *req, *reply;

	if ((req = proto_msg_new(MSG_DRAIN)) == NULL ||
	    buf_put_cstring(req, node) != 0 ||
	    buf_put_u8(req, (uint8_t)on) != 0) {
		fprintf(stderr, "%s: request: %s\n", PROG,
		    req == NULL ? "out of memory" : "node name too long");
		return 1;
	}
	if (client_request(PROG, req, MSG_OK, &reply) != 0)
		return 1;
	buf_free(reply);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json",	no_argument,	NULL, 'J' },
		{ "help",	no_argument,	NULL, 'h' },
		{ NULL,		0,		NULL, 0 }
	};
	struct node_info *nodes;
	struct buf *req, *reply;
	int ch, json = 0, r;
	uint32_t n, k;

	while ((ch = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (ch) {
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

	if (argc > 0) {
		if (json || argc != 2 || (strcmp(argv[0], "drain") != 0 &&
		    strcmp(argv[0], "undrain") != 0))
			usage(stderr, 2);
		return drain(argv[1], strcmp(argv[0], "drain") == 0);
	}

	if ((req = proto_msg_new(MSG_NODES)) == NULL) {
		fprintf(stderr, "%s: out of memory\n", PROG);
		return 1;
	}
	if (client_request(PROG, req, MSG_NODES_REPLY, &reply) != 0)
		return 1;

	if ((r = buf_get_u32(reply, &n)) == 0 && n > PROTO_MAX_COUNT)
		r = SS_ERR_TOO_LONG;
	if (r != 0) {
		client_bad_reply("nodes reply", r);
		return 1;
	}
	nodes = xcalloc((size_t)n + 1, sizeof(*nodes));
	for (k = 0; k < n; k++) {
		if ((r = node_info_get(reply, &nodes[k])) != 0) {
			client_bad_reply("nodes reply", r);
			return 1;
		}
	}
	buf_free(reply);
	qsort(nodes, n, sizeof(*nodes), cmp_id);
	if (json)
		print_json(nodes, n);
	else
		print_table(nodes, n);
	for (k = 0; k < n; k++)
		node_info_clear(&nodes[k]);
	free(nodes);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: stdout: %s\n", PROG, strerror(errno));
		return 1;
	}
	return 0;
}
