/*
 * conf.c: the cluster file parser and the default paths of DESIGN.md.
 *
 * The parser works on a copy of one line at a time, splits it into words,
 * and hands the words to the handler of its directive (the table
 * directives[] below).  Every check that can fail names the file and line;
 * the first error stops the parse and the half-built conf is freed, so a
 * caller either gets a fully valid conf (see conf.h for what "valid"
 * guarantees) or nothing.  Defaults that depend on other lines (the port of
 * nodes without one) are resolved after the last line.
 */
#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "err.h"

#define CONF_LINE_MAX	4096	/* bytes in one line, comment included */
#define CONF_WORDS_MAX	16	/* words in one directive */
#define CONF_CPUS_MAX	65536
#define CONF_KEEP_MAX	36500
#define CONF_THRESHOLD_MAX 1000.0
#define ED25519_BLOB_LEN 51	/* string "ssh-ed25519", string key[32] */

enum conf_once {
	ONCE_CLUSTER, ONCE_PLACEMENT, ONCE_BALANCE, ONCE_THRESHOLD, ONCE_KEEP,
	ONCE_PORT, ONCE__COUNT
};

struct parser {
	const char	*name;		/* file name for messages */
	int		 line;		/* current line, from 1 */
	char		*err;
	size_t		 errlen;
	struct conf	*c;
	size_t		 cap;		/* allocated entries of c->nodes */
	int		 seen[ONCE__COUNT]; /* line of a once-only directive */
};

struct directive {
	const char	*word;
	int		 once;		/* enum conf_once, or -1 */
	int		 minargs;
	int		 maxargs;
	int		(*handler)(struct parser *, int, char **);
};

static int	perr(struct parser *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static int	parse_ull(const char *, unsigned long long,
		    unsigned long long *);
static int	valid_name(const char *);
static int	valid_hostname(const char *);
static int	b64val(int);
static int	valid_ed25519_b64(const char *);
static int	parse_address(struct parser *, const char *,
		    struct conf_node *);
static int	do_cluster(struct parser *, int, char **);
static int	do_node(struct parser *, int, char **);
static int	do_placement(struct parser *, int, char **);
static int	do_balance(struct parser *, int, char **);
static int	do_threshold(struct parser *, int, char **);
static int	do_keep(struct parser *, int, char **);
static int	do_port(struct parser *, int, char **);
static int	parse_line(struct parser *, char *);
static int	home_dir(char *, size_t);
static int	xdg_path(const char *, const char *, const char *, char *,
		    size_t);
static int	put_path(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static const struct directive directives[] = {
	{ "cluster",		ONCE_CLUSTER,	1, 1,	do_cluster },
	{ "node",		-1,		3, CONF_WORDS_MAX - 1, do_node },
	{ "placement",		ONCE_PLACEMENT,	1, 1,	do_placement },
	{ "balance",		ONCE_BALANCE,	1, 1,	do_balance },
	{ "balance-threshold",	ONCE_THRESHOLD,	1, 1,	do_threshold },
	{ "keep",		ONCE_KEEP,	1, 1,	do_keep },
	{ "port",		ONCE_PORT,	1, 1,	do_port },
};

static const char *placement_names[] = {
	[CONF_PLACE_LEAST_LOADED] = "least-loaded",
	[CONF_PLACE_ROUND_ROBIN] = "round-robin",
	[CONF_PLACE_LOCAL] = "local",
};

/* Writes "FILE:LINE: message" (or "FILE: message" at line 0). */
static int
perr(struct parser *p, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->err != NULL && p->errlen > 0) {
		if (p->line > 0)
			(void)snprintf(p->err, p->errlen, "%s:%d: %s",
			    p->name, p->line, msg);
		else
			(void)snprintf(p->err, p->errlen, "%s: %s",
			    p->name, msg);
	}
	return SS_ERR_CONFIG;
}

/* Strict unsigned decimal: digits only, at most max.  0 or -1. */
static int
parse_ull(const char *s, unsigned long long max, unsigned long long *vp)
{
	unsigned long long v = 0;
	unsigned d;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		d = (unsigned)(*s - '0');
		if (v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*vp = v;
	return 0;
}

static int
valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > CONF_NAME_MAX)
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

/*
 * A DNS name (letters, digits, '-', dot-separated non-empty labels of at
 * most 63 bytes), or a dotted-quad literal that inet_pton accepts.
 */
static int
valid_hostname(const char *s)
{
	struct in_addr a4;
	size_t n = strlen(s), label = 0;
	const char *q;

	if (n == 0 || n > 253)
		return 0;
	if (strspn(s, "0123456789.") == n)
		return inet_pton(AF_INET, s, &a4) == 1;
	for (q = s; *q != '\0'; q++) {
		if (*q == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
		    (*q >= '0' && *q <= '9') || *q == '-'))
			return 0;
		if (*q == '-' && label == 0)
			return 0;
		if (++label > 63)
			return 0;
	}
	return 1;
}

static int
b64val(int ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

/*
 * Nonzero if s is strict base64 (no whitespace, '=' only as final padding)
 * of an SSH ed25519 public key blob: string "ssh-ed25519", string key[32].
 */
static int
valid_ed25519_b64(const char *s)
{
	static const uint8_t prefix[] = {
	    0, 0, 0, 11, 's', 's', 'h', '-', 'e', 'd', '2', '5', '5', '1', '9',
	    0, 0, 0, 32 };
	uint8_t out[ED25519_BLOB_LEN + 3];
	size_t n = strlen(s), i, o = 0, pad = 0;
	int v[4], k;

	if (n == 0 || n % 4 != 0 || n / 4 * 3 > sizeof(out))
		return 0;
	for (i = 0; i < n; i += 4) {
		for (k = 0; k < 4; k++) {
			if (s[i + k] == '=' && i + 4 == n && k >= 2) {
				v[k] = 0;
				pad++;
			} else if (pad > 0 || (v[k] = b64val(s[i + k])) < 0)
				return 0;
		}
		out[o++] = (uint8_t)(v[0] << 2 | v[1] >> 4);
		out[o++] = (uint8_t)(v[1] << 4 | v[2] >> 2);
		out[o++] = (uint8_t)(v[2] << 6 | v[3]);
	}
	o -= pad;
	if (o != ED25519_BLOB_LEN)
		return 0;
	return memcmp(out, prefix, sizeof(prefix)) == 0;
}

/* ADDRESS[:PORT] into n->address and n->port (0 when not given). */
static int
parse_address(struct parser *p, const char *s, struct conf_node *n)
{
	struct in6_addr a6;
	unsigned long long port = 0;
	const char *host = s, *colon, *ps = NULL;
	char tmp[256];
	size_t hlen;

	if (*s == '[') {
		colon = strchr(s, ']');
		if (colon == NULL)
			return perr(p, "missing ']' in address '%s'", s);
		host = s + 1;
		hlen = (size_t)(colon - host);
		if (colon[1] == ':')
			ps = colon + 2;
		else if (colon[1] != '\0')
			return perr(p, "junk after ']' in address '%s'", s);
	} else if ((colon = strchr(s, ':')) != NULL &&
	    strchr(colon + 1, ':') == NULL) {
		hlen = (size_t)(colon - s);
		ps = colon + 1;
	} else
		hlen = strlen(s);
	if (hlen == 0 || hlen >= sizeof(tmp))
		return perr(p, "bad address '%s'", s);
	memcpy(tmp, host, hlen);
	tmp[hlen] = '\0';
	if (strchr(tmp, ':') != NULL) {
		if (inet_pton(AF_INET6, tmp, &a6) != 1)
			return perr(p, "bad IPv6 address '%s'"
			    " (with a port, write [ADDRESS]:PORT)", tmp);
	} else if (*s == '[')
		return perr(p, "'[%s]' is not an IPv6 address", tmp);
	else if (!valid_hostname(tmp))
		return perr(p, "bad address '%s'", tmp);
	if (ps != NULL && (parse_ull(ps, 65535, &port) == -1 || port == 0))
		return perr(p, "bad port '%s' (1-65535)", ps);
	if ((n->address = strdup(tmp)) == NULL)
		return SS_ERR_ALLOC;
	n->port = (uint16_t)port;
	return 0;
}

static int
do_cluster(struct parser *p, int argc, char **argv)
{
	(void)argc;
	if (!valid_name(argv[1]))
		return perr(p, "bad cluster name '%s' ([a-zA-Z0-9._-], "
		    "at most %d bytes)", argv[1], CONF_NAME_MAX);
	free(p->c->cluster);
	if ((p->c->cluster = strdup(argv[1])) == NULL)
		return SS_ERR_ALLOC;
	return 0;
}

static int
do_node(struct parser *p, int argc, char **argv)
{
	struct conf *c = p->c;
	struct conf_node *n, *nn;
	const struct conf_node *o;
	unsigned long long v;
	int i, r, have_cpus = 0;

	if (c->nnodes == p->cap) {
		size_t cap = p->cap == 0 ? 8 : p->cap * 2;

		if ((nn = reallocarray(c->nodes, cap, sizeof(*nn))) == NULL)
			return SS_ERR_ALLOC;
		c->nodes = nn;
		p->cap = cap;
	}
	if (parse_ull(argv[1], 999, &v) == -1 || v < 1)
		return perr(p, "bad node id '%s' (1-999)", argv[1]);
	if ((o = conf_node_by_id(c, (unsigned)v)) != NULL)
		return perr(p, "node id %llu already used at line %d", v,
		    o->line);
	if (!valid_name(argv[2]))
		return perr(p, "bad node name '%s' ([a-zA-Z0-9._-], "
		    "at most %d bytes)", argv[2], CONF_NAME_MAX);
	if ((o = conf_node_by_name(c, argv[2])) != NULL)
		return perr(p, "node name '%s' already used at line %d",
		    argv[2], o->line);
	/* Counted in nnodes at once so that conf_free frees it. */
	n = &c->nodes[c->nnodes++];
	memset(n, 0, sizeof(*n));
	n->id = (unsigned)v;
	n->line = p->line;
	if ((n->name = strdup(argv[2])) == NULL)
		return SS_ERR_ALLOC;
	if ((r = parse_address(p, argv[3], n)) != 0)
		return r;
	for (i = 4; i < argc; i++) {
		if (strncmp(argv[i], "cpus=", 5) == 0) {
			if (have_cpus++)
				return perr(p, "cpus= given twice");
			if (parse_ull(argv[i] + 5, CONF_CPUS_MAX, &v) == -1)
				return perr(p, "bad cpus '%s' (0-%d)",
				    argv[i] + 5, CONF_CPUS_MAX);
			n->cpus = (unsigned)v;
		} else if (strncmp(argv[i], "key=", 4) == 0) {
			if (n->key != NULL)
				return perr(p, "key= given twice");
			if (!valid_ed25519_b64(argv[i] + 4))
				return perr(p, "bad key for node %s: not the "
				    "base64 of an ssh-ed25519 public key",
				    n->name);
			o = conf_node_by_key(c, argv[i] + 4);
			if (o != NULL)
				return perr(p, "key of node %s already used by "
				    "node %s at line %d", n->name, o->name,
				    o->line);
			if ((n->key = strdup(argv[i] + 4)) == NULL)
				return SS_ERR_ALLOC;
		} else
			return perr(p, "unknown node option '%s'", argv[i]);
	}
	return 0;
}

static int
do_placement(struct parser *p, int argc, char **argv)
{
	size_t i;

	(void)argc;
	for (i = 0; i < sizeof(placement_names) / sizeof(*placement_names);
	    i++) {
		if (strcmp(argv[1], placement_names[i]) == 0) {
			p->c->placement = (enum conf_placement)i;
			return 0;
		}
	}
	return perr(p, "unknown placement '%s' (least-loaded, round-robin, "
	    "local)", argv[1]);
}

static int
do_balance(struct parser *p, int argc, char **argv)
{
	(void)argc;
	if (strcmp(argv[1], "on") == 0)
		p->c->balance = 1;
	else if (strcmp(argv[1], "off") == 0)
		p->c->balance = 0;
	else
		return perr(p, "balance must be on or off, not '%s'", argv[1]);
	return 0;
}

static int
do_threshold(struct parser *p, int argc, char **argv)
{
	char *end;
	double v;

	(void)argc;
	errno = 0;
	v = strtod(argv[1], &end);
	if (errno != 0 || end == argv[1] || *end != '\0' || !isfinite(v) ||
	    v < 0 || v > CONF_THRESHOLD_MAX || strchr("+-", argv[1][0]) != NULL)
		return perr(p, "bad balance-threshold '%s' (a number, 0-%g)",
		    argv[1], CONF_THRESHOLD_MAX);
	p->c->threshold = v;
	return 0;
}

static int
do_keep(struct parser *p, int argc, char **argv)
{
	unsigned long long v;

	(void)argc;
	if (parse_ull(argv[1], CONF_KEEP_MAX, &v) == -1)
		return perr(p, "bad keep '%s' (days, 0-%d)", argv[1],
		    CONF_KEEP_MAX);
	p->c->keep_days = (unsigned)v;
	return 0;
}

static int
do_port(struct parser *p, int argc, char **argv)
{
	unsigned long long v;

	(void)argc;
	if (parse_ull(argv[1], 65535, &v) == -1 || v == 0)
		return perr(p, "bad port '%s' (1-65535)", argv[1]);
	p->c->port = (uint16_t)v;
	return 0;
}

/* One line, NUL-terminated, comment included; modified in place. */
static int
parse_line(struct parser *p, char *s)
{
	char *argv[CONF_WORDS_MAX + 1], *q, *save = NULL;
	const struct directive *d = NULL;
	int argc = 0;
	size_t i;

	if ((q = strchr(s, '#')) != NULL)
		*q = '\0';
	for (q = strtok_r(s, " \t\r", &save); q != NULL;
	    q = strtok_r(NULL, " \t\r", &save)) {
		if (argc == CONF_WORDS_MAX)
			return perr(p, "too many words");
		argv[argc++] = q;
	}
	if (argc == 0)
		return 0;
	argv[argc] = NULL;
	for (i = 0; i < sizeof(directives) / sizeof(*directives); i++) {
		if (strcmp(argv[0], directives[i].word) == 0) {
			d = &directives[i];
			break;
		}
	}
	if (d == NULL)
		return perr(p, "unknown directive '%s'", argv[0]);
	if (argc - 1 < d->minargs)
		return perr(p, "%s: missing argument", d->word);
	if (argc - 1 > d->maxargs)
		return perr(p, "%s: too many arguments", d->word);
	if (d->once >= 0) {
		if (p->seen[d->once] != 0)
			return perr(p, "%s already given at line %d", d->word,
			    p->seen[d->once]);
		p->seen[d->once] = p->line;
	}
	return d->handler(p, argc, argv);
}

int
conf_parse(const char *text, size_t len, const char *name, struct conf **cp,
    char *err, size_t errlen)
{
	struct parser p;
	char line[CONF_LINE_MAX + 1];
	const char *s = text, *end = text + len, *nl;
	size_t i, n;
	int r;

	*cp = NULL;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	memset(&p, 0, sizeof(p));
	p.name = name;
	p.err = err;
	p.errlen = errlen;
	if (len > CONF_MAX_SIZE) {
		(void)perr(&p, "file larger than %d bytes", CONF_MAX_SIZE);
		return SS_ERR_TOO_LONG;
	}
	if ((p.c = calloc(1, sizeof(*p.c))) == NULL)
		return SS_ERR_ALLOC;
	p.c->placement = CONF_PLACE_LEAST_LOADED;
	p.c->balance = 1;
	p.c->threshold = CONF_DEFAULT_THRESHOLD;
	p.c->keep_days = CONF_DEFAULT_KEEP_DAYS;
	p.c->port = CONF_DEFAULT_PORT;
	if ((p.c->path = strdup(name)) == NULL) {
		r = SS_ERR_ALLOC;
		goto fail;
	}
	while (s < end) {
		p.line++;
		nl = memchr(s, '\n', (size_t)(end - s));
		n = (size_t)((nl != NULL ? nl : end) - s);
		if (n > CONF_LINE_MAX) {
			r = perr(&p, "line longer than %d bytes",
			    CONF_LINE_MAX);
			goto fail;
		}
		memcpy(line, s, n);
		line[n] = '\0';
		if (memchr(s, '\0', n) != NULL) {
			r = perr(&p, "NUL byte in line");
			goto fail;
		}
		if ((r = parse_line(&p, line)) != 0) {
			if (r == SS_ERR_ALLOC)
				(void)perr(&p, "out of memory");
			goto fail;
		}
		s += n + (nl != NULL);
	}
	p.line = 0;
	if (p.c->nnodes == 0) {
		r = perr(&p, "no node directive");
		goto fail;
	}
	if (p.c->cluster == NULL &&
	    (p.c->cluster = strdup("sshell")) == NULL) {
		r = SS_ERR_ALLOC;
		goto fail;
	}
	for (i = 0; i < p.c->nnodes; i++)
		if (p.c->nodes[i].port == 0)
			p.c->nodes[i].port = p.c->port;
	*cp = p.c;
	return 0;
 fail:
	conf_free(p.c);
	return r;
}

int
conf_load(const char *path, struct conf **cp, char *err, size_t errlen)
{
	struct stat st;
	char *text = NULL;
	size_t got = 0;
	ssize_t n;
	int fd, r, saved;

	*cp = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		saved = errno;
		(void)snprintf(err, errlen, "%s: %s", path, strerror(saved));
		errno = saved;
		return saved == ENOENT ? SS_ERR_NOT_FOUND : SS_ERR_SYSTEM;
	}
	if (fstat(fd, &st) == -1) {
		r = SS_ERR_SYSTEM;
		goto sys_fail;
	}
	if (!S_ISREG(st.st_mode)) {
		(void)snprintf(err, errlen, "%s: not a regular file", path);
		r = SS_ERR_CONFIG;
		goto out;
	}
	if (st.st_size > CONF_MAX_SIZE) {
		(void)snprintf(err, errlen, "%s: file larger than %d bytes",
		    path, CONF_MAX_SIZE);
		r = SS_ERR_TOO_LONG;
		goto out;
	}
	/* One byte over the limit tells a file that grew meanwhile. */
	if ((text = malloc(CONF_MAX_SIZE + 1)) == NULL) {
		r = SS_ERR_ALLOC;
		(void)snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	while (got <= CONF_MAX_SIZE) {
		n = read(fd, text + got, CONF_MAX_SIZE + 1 - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			r = SS_ERR_SYSTEM;
			goto sys_fail;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	r = conf_parse(text, got, path, cp, err, errlen);
	goto out;
 sys_fail:
	saved = errno;
	(void)snprintf(err, errlen, "%s: %s", path, strerror(saved));
	errno = saved;
 out:
	free(text);
	(void)close(fd);
	return r;
}

void
conf_free(struct conf *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nnodes; i++) {
		free(c->nodes[i].name);
		free(c->nodes[i].address);
		free(c->nodes[i].key);
	}
	free(c->nodes);
	free(c->cluster);
	free(c->path);
	free(c);
}

const struct conf_node *
conf_node_by_name(const struct conf *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nnodes; i++)
		if (c->nodes[i].name != NULL &&
		    strcmp(c->nodes[i].name, name) == 0)
			return &c->nodes[i];
	return NULL;
}

const struct conf_node *
conf_node_by_id(const struct conf *c, unsigned id)
{
	size_t i;

	for (i = 0; i < c->nnodes; i++)
		if (c->nodes[i].id == id)
			return &c->nodes[i];
	return NULL;
}

const struct conf_node *
conf_node_by_key(const struct conf *c, const char *b64key)
{
	size_t i;

	for (i = 0; i < c->nnodes; i++)
		if (c->nodes[i].key != NULL &&
		    strcmp(c->nodes[i].key, b64key) == 0)
			return &c->nodes[i];
	return NULL;
}

const char *
conf_placement_name(enum conf_placement pl)
{
	if ((size_t)pl >= sizeof(placement_names) / sizeof(*placement_names))
		return "unknown";
	return placement_names[pl];
}

static int
put_path(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len) {
		if (len > 0)
			buf[0] = '\0';
		return SS_ERR_TOO_LONG;
	}
	return 0;
}

/* The caller's home: $HOME if absolute, else the password file's. */
static int
home_dir(char *buf, size_t len)
{
	const char *h = getenv("HOME");
	struct passwd *pw;

	if (h == NULL || h[0] != '/') {
		if ((pw = getpwuid(geteuid())) == NULL || pw->pw_dir == NULL ||
		    pw->pw_dir[0] != '/')
			return SS_ERR_NOT_FOUND;
		h = pw->pw_dir;
	}
	return put_path(buf, len, "%s", h);
}

/* $var/sshell/leaf if $var is absolute, else ~/fallback/sshell/leaf. */
static int
xdg_path(const char *var, const char *fallback, const char *leaf, char *buf,
    size_t len)
{
	const char *v = getenv(var);
	char home[PATH_MAX];
	int r;

	if (v != NULL && v[0] == '/')
		return put_path(buf, len, "%s/sshell%s%s", v,
		    *leaf != '\0' ? "/" : "", leaf);
	if ((r = home_dir(home, sizeof(home))) != 0)
		return r;
	return put_path(buf, len, "%s/%s/sshell%s%s", home, fallback,
	    *leaf != '\0' ? "/" : "", leaf);
}

int
conf_default_path(char *buf, size_t len)
{
	const char *e = getenv("SSHELL_CONF");

	if (e != NULL && *e != '\0')
		return put_path(buf, len, "%s", e);
	if (geteuid() == 0)
		return put_path(buf, len, "%s", CONF_SYSTEM_PATH);
	return xdg_path("XDG_CONFIG_HOME", ".config", "cluster.conf", buf,
	    len);
}

int
conf_default_statedir(char *buf, size_t len)
{
	if (geteuid() == 0)
		return put_path(buf, len, "%s", CONF_SYSTEM_STATEDIR);
	return xdg_path("XDG_STATE_HOME", ".local/state", "", buf, len);
}

int
conf_own_socket(char *buf, size_t len)
{
	const char *e = getenv("SSHELL_SOCKET"), *rt;

	if (e != NULL && *e != '\0')
		return put_path(buf, len, "%s", e);
	if (geteuid() == 0)
		return put_path(buf, len, "%s", CONF_SYSTEM_SOCKET);
	rt = getenv("XDG_RUNTIME_DIR");
	if (rt != NULL && rt[0] == '/')
		return put_path(buf, len, "%s/sshell/noded.sock", rt);
	return put_path(buf, len, "/tmp/sshell-%u/noded.sock",
	    (unsigned)geteuid());
}

int
conf_default_socket(char *buf, size_t len)
{
	const char *e = getenv("SSHELL_SOCKET");
	struct stat st;

	if (e != NULL && *e != '\0')
		return put_path(buf, len, "%s", e);
	if (geteuid() == 0 || stat(CONF_SYSTEM_SOCKET, &st) == 0)
		return put_path(buf, len, "%s", CONF_SYSTEM_SOCKET);
	return conf_own_socket(buf, len);
}
