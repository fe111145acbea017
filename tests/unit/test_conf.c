/*
 * test_conf.c: the cluster file parser: good files, defaults, every error
 * with its file and line in the message, loading from disk, and the
 * default path look-ups.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "conf.h"
#include "err.h"

#define KEY1 "AAAAC3NzaC1lZDI1NTE5AAAAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f"
#define KEY2 "AAAAC3NzaC1lZDI1NTE5AAAAIAcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUm"
#define KEY3 "AAAAC3NzaC1lZDI1NTE5AAAAIA4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywt"
#define RSAKEY "AAAAB3NzaC1yc2EAAAAgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

static int
parse(const char *text, struct conf **cp, char *err, size_t errlen)
{
	return conf_parse(text, strlen(text), "t.conf", cp, err, errlen);
}

static void
test_good(void **state)
{
	const char *text =
	    "# a comment\n"
	    "\n"
	    "cluster lab\t# trailing comment\n"
	    "node 1 n1 10.77.0.1 cpus=4 key=" KEY1 "\n"
	    "  node 2 n-2.x 10.77.0.2:7100 key=" KEY2 "\r\n"
	    "node 3 n3 [fe80::1]:7200\n"
	    "node 17 n17 ::1\n"
	    "node 999 big host.example.org:1 cpus=0 key=" KEY3 "\n"
	    "placement round-robin\n"
	    "balance off\n"
	    "keep 30\n"
	    "port 8000\n"
	    "balance-threshold 0.25\n";
	struct conf *c;
	const struct conf_node *n;
	char err[256];

	(void)state;
	assert_int_equal(parse(text, &c, err, sizeof(err)), 0);
	assert_string_equal(c->cluster, "lab");
	assert_string_equal(c->path, "t.conf");
	assert_int_equal(c->placement, CONF_PLACE_ROUND_ROBIN);
	assert_int_equal(c->balance, 0);
	assert_int_equal(c->keep_days, 30);
	assert_int_equal(c->port, 8000);
	assert_true(c->threshold == 0.25);
	assert_int_equal(c->nnodes, 5);

	n = conf_node_by_name(c, "n1");
	assert_non_null(n);
	assert_int_equal(n->id, 1);
	assert_string_equal(n->address, "10.77.0.1");
	assert_int_equal(n->port, 8000);	/* `port` given later */
	assert_int_equal(n->cpus, 4);
	assert_string_equal(n->key, KEY1);
	assert_int_equal(n->line, 4);

	n = conf_node_by_id(c, 2);
	assert_non_null(n);
	assert_string_equal(n->name, "n-2.x");
	assert_int_equal(n->port, 7100);
	assert_int_equal(n->cpus, 0);

	n = conf_node_by_id(c, 3);
	assert_string_equal(n->address, "fe80::1");
	assert_int_equal(n->port, 7200);
	assert_null(n->key);
	n = conf_node_by_id(c, 17);
	assert_string_equal(n->address, "::1");
	assert_int_equal(n->port, 8000);
	n = conf_node_by_key(c, KEY3);
	assert_non_null(n);
	assert_int_equal(n->id, 999);
	assert_string_equal(n->address, "host.example.org");
	assert_int_equal(n->port, 1);

	assert_null(conf_node_by_name(c, "n4"));
	assert_null(conf_node_by_id(c, 4));
	assert_null(conf_node_by_key(c, RSAKEY));
	assert_string_equal(conf_placement_name(c->placement), "round-robin");
	conf_free(c);
}

static void
test_defaults(void **state)
{
	struct conf *c;
	char err[256];

	(void)state;
	/* No final newline either. */
	assert_int_equal(parse("node 1 a localhost", &c, err, sizeof(err)),
	    0);
	assert_string_equal(c->cluster, "sshell");
	assert_int_equal(c->placement, CONF_PLACE_LEAST_LOADED);
	assert_int_equal(c->balance, 1);
	assert_int_equal(c->keep_days, 7);
	assert_true(c->threshold == 0.5);
	assert_int_equal(c->port, 7022);
	assert_int_equal(c->nnodes, 1);
	assert_int_equal(c->nodes[0].port, 7022);
	assert_int_equal(c->nodes[0].cpus, 0);
	conf_free(c);
	conf_free(NULL);

	assert_int_equal(parse("placement local\nplacement2 x\n", &c, err,
	    sizeof(err)), SS_ERR_CONFIG);
	assert_null(c);
}

struct bad_case {
	const char	*text;
	const char	*msg;	/* expected message, "t.conf:" included */
};

static void
test_errors(void **state)
{
	static const struct bad_case cases[] = {
		{ "node 1 a h\nfrobnicate on\n",
		    "t.conf:2: unknown directive 'frobnicate'" },
		{ "cluster\nnode 1 a h\n", "t.conf:1: cluster: missing argument" },
		{ "cluster a b\n", "t.conf:1: cluster: too many arguments" },
		{ "cluster a\n\ncluster b\n",
		    "t.conf:3: cluster already given at line 1" },
		{ "cluster a/b\n", "t.conf:1: bad cluster name 'a/b'" },
		{ "node 1 a\n", "t.conf:1: node: missing argument" },
		{ "node 0 a h\n", "t.conf:1: bad node id '0' (1-999)" },
		{ "node 1000 a h\n", "t.conf:1: bad node id '1000' (1-999)" },
		{ "node x a h\n", "t.conf:1: bad node id 'x' (1-999)" },
		{ "node -1 a h\n", "t.conf:1: bad node id '-1'" },
		{ "node 1 a h\n# c\nnode 1 b h\n",
		    "t.conf:3: node id 1 already used at line 1" },
		{ "node 1 a h\nnode 2 a h\n",
		    "t.conf:2: node name 'a' already used at line 1" },
		{ "node 1 a:b h\n", "t.conf:1: bad node name 'a:b'" },
		{ "node 1 a h_x\n", "t.conf:1: bad address 'h_x'" },
		{ "node 1 a -h\n", "t.conf:1: bad address '-h'" },
		{ "node 1 a a..b\n", "t.conf:1: bad address 'a..b'" },
		{ "node 1 a 300.1.2.3\n", "t.conf:1: bad address '300.1.2.3'" },
		{ "node 1 a h:0\n", "t.conf:1: bad port '0' (1-65535)" },
		{ "node 1 a h:65536\n", "t.conf:1: bad port '65536' (1-65535)" },
		{ "node 1 a h:\n", "t.conf:1: bad port '' (1-65535)" },
		{ "node 1 a :7022\n", "t.conf:1: bad address ':7022'" },
		{ "node 1 a fe80::1:7022x\n",
		    "t.conf:1: bad IPv6 address 'fe80::1:7022x'" },
		{ "node 1 a [fe80::1\n", "t.conf:1: missing ']'" },
		{ "node 1 a [fe80::1]x\n", "t.conf:1: junk after ']'" },
		{ "node 1 a [h]:1\n", "t.conf:1: '[h]' is not an IPv6 address" },
		{ "node 1 a h cpus=x\n", "t.conf:1: bad cpus 'x' (0-65536)" },
		{ "node 1 a h cpus=1 cpus=2\n", "t.conf:1: cpus= given twice" },
		{ "node 1 a h key=" RSAKEY "\n",
		    "t.conf:1: bad key for node a: not the base64 of an "
		    "ssh-ed25519 public key" },
		{ "node 1 a h key=" KEY1 "x\n", "t.conf:1: bad key for node a" },
		{ "node 1 a h key=ssh-ed25519\n", "t.conf:1: bad key for node a" },
		{ "node 1 a h key=" KEY1 " key=" KEY2 "\n",
		    "t.conf:1: key= given twice" },
		{ "node 1 a h key=" KEY1 "\nnode 2 b h key=" KEY1 "\n",
		    "t.conf:2: key of node b already used by node a at line 1" },
		{ "node 1 a h mem=3\n", "t.conf:1: unknown node option 'mem=3'" },
		{ "node 1 a h\nplacement best\n",
		    "t.conf:2: unknown placement 'best'" },
		{ "node 1 a h\nbalance yes\n",
		    "t.conf:2: balance must be on or off, not 'yes'" },
		{ "node 1 a h\nkeep -1\n", "t.conf:2: bad keep '-1'" },
		{ "node 1 a h\nkeep 36501\n", "t.conf:2: bad keep '36501'" },
		{ "node 1 a h\nport 0\n", "t.conf:2: bad port '0' (1-65535)" },
		{ "node 1 a h\nport 1\nport 2\n",
		    "t.conf:3: port already given at line 2" },
		{ "node 1 a h\nbalance-threshold abc\n",
		    "t.conf:2: bad balance-threshold 'abc'" },
		{ "node 1 a h\nbalance-threshold nan\n",
		    "t.conf:2: bad balance-threshold 'nan'" },
		{ "node 1 a h\nbalance-threshold -0.5\n",
		    "t.conf:2: bad balance-threshold '-0.5'" },
		{ "node 1 a h\nbalance-threshold 0.5x\n",
		    "t.conf:2: bad balance-threshold '0.5x'" },
		{ "node 1 a h\nbalance on off\n",
		    "t.conf:2: balance: too many arguments" },
		{ "node 1 a h a b c d e f g h i j k l m n\n",
		    "t.conf:1: too many words" },
		{ "# nothing\n\n", "t.conf: no node directive" },
		{ "", "t.conf: no node directive" },
	};
	struct conf *c;
	char err[256];
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		c = (struct conf *)1;
		err[0] = '\0';
		r = parse(cases[i].text, &c, err, sizeof(err));
		if (r != SS_ERR_CONFIG || c != NULL ||
		    strncmp(err, cases[i].msg, strlen(cases[i].msg)) != 0)
			fail_msg("case %zu: got %d \"%s\", want \"%s\"", i, r,
			    err, cases[i].msg);
	}
}

static void
test_odd_bytes(void **state)
{
	static const char nul[] = "node 1 a h\nkeep 3\0\n";
	struct conf *c;
	char err[256], *big;
	size_t n;

	(void)state;
	assert_int_equal(conf_parse(nul, sizeof(nul) - 1, "t.conf", &c, err,
	    sizeof(err)), SS_ERR_CONFIG);
	assert_string_equal(err, "t.conf:2: NUL byte in line");

	/* A line over the limit, then a file over the limit. */
	n = 5000;
	big = malloc(CONF_MAX_SIZE + 2);
	assert_non_null(big);
	memset(big, '#', CONF_MAX_SIZE + 1);
	memcpy(big, "node 1 a h\n", 11);
	assert_int_equal(conf_parse(big, n, "t.conf", &c, err, sizeof(err)),
	    SS_ERR_CONFIG);
	assert_string_equal(err, "t.conf:2: line longer than 4096 bytes");
	assert_int_equal(conf_parse(big, CONF_MAX_SIZE + 1, "t.conf", &c, err,
	    sizeof(err)), SS_ERR_TOO_LONG);
	free(big);

	/* A tiny error buffer truncates the message but never overflows. */
	assert_int_equal(parse("bogus\n", &c, err, 8), SS_ERR_CONFIG);
	assert_string_equal(err, "t.conf:");
	assert_int_equal(parse("bogus\n", &c, NULL, 0), SS_ERR_CONFIG);
}

static void
test_load(void **state)
{
	char path[] = "/tmp/test_conf.XXXXXX", err[512];
	struct conf *c;
	FILE *f;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_true(fputs("cluster disk\nnode 5 five 127.0.0.1:7005\n"
	    "balance maybe\n", f) >= 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(conf_load(path, &c, err, sizeof(err)), SS_ERR_CONFIG);
	assert_null(c);
	assert_non_null(strstr(err, ":3: balance must be on or off"));
	assert_int_equal(strncmp(err, path, strlen(path)), 0);

	f = fopen(path, "w");
	assert_non_null(f);
	assert_true(fputs("cluster disk\nnode 5 five 127.0.0.1:7005\n", f) >= 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(conf_load(path, &c, err, sizeof(err)), 0);
	assert_string_equal(c->cluster, "disk");
	assert_string_equal(c->path, path);
	assert_int_equal(c->nodes[0].port, 7005);
	conf_free(c);
	assert_int_equal(unlink(path), 0);

	assert_int_equal(conf_load(path, &c, err, sizeof(err)),
	    SS_ERR_NOT_FOUND);
	assert_null(c);
	assert_non_null(strstr(err, "No such file"));
	assert_int_equal(conf_load("/", &c, err, sizeof(err)), SS_ERR_CONFIG);
	assert_string_equal(err, "/: not a regular file");
}

static void
test_paths(void **state)
{
	char buf[4096], small[8];
	int root = geteuid() == 0;

	(void)state;
	assert_int_equal(setenv("SSHELL_CONF", "/x/c.conf", 1), 0);
	assert_int_equal(conf_default_path(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/x/c.conf");
	assert_int_equal(conf_default_path(small, sizeof(small)),
	    SS_ERR_TOO_LONG);
	assert_int_equal(setenv("SSHELL_CONF", "", 1), 0);
	assert_int_equal(setenv("XDG_CONFIG_HOME", "/xdg/cfg", 1), 0);
	assert_int_equal(setenv("XDG_STATE_HOME", "/xdg/state", 1), 0);
	assert_int_equal(setenv("XDG_RUNTIME_DIR", "/xdg/run", 1), 0);
	assert_int_equal(setenv("HOME", "/home/u", 1), 0);
	assert_int_equal(unsetenv("SSHELL_SOCKET"), 0);

	assert_int_equal(conf_default_path(buf, sizeof(buf)), 0);
	assert_string_equal(buf, root ? "/etc/sshell/cluster.conf" :
	    "/xdg/cfg/sshell/cluster.conf");
	assert_int_equal(conf_default_statedir(buf, sizeof(buf)), 0);
	assert_string_equal(buf, root ? "/var/lib/sshell" :
	    "/xdg/state/sshell");
	assert_int_equal(conf_own_socket(buf, sizeof(buf)), 0);
	assert_string_equal(buf, root ? "/run/sshell/noded.sock" :
	    "/xdg/run/sshell/noded.sock");

	/* Relative XDG values are ignored, as the spec says. */
	assert_int_equal(setenv("XDG_CONFIG_HOME", "rel", 1), 0);
	assert_int_equal(setenv("XDG_STATE_HOME", "rel", 1), 0);
	assert_int_equal(unsetenv("XDG_RUNTIME_DIR"), 0);
	if (!root) {
		assert_int_equal(conf_default_path(buf, sizeof(buf)), 0);
		assert_string_equal(buf, "/home/u/.config/sshell/cluster.conf");
		assert_int_equal(conf_default_statedir(buf, sizeof(buf)), 0);
		assert_string_equal(buf, "/home/u/.local/state/sshell");
		assert_int_equal(conf_own_socket(buf, sizeof(buf)), 0);
		(void)snprintf(small, sizeof(small), "%u", (unsigned)geteuid());
		assert_non_null(strstr(buf, small));
		assert_int_equal(strncmp(buf, "/tmp/sshell-", 12), 0);
	}

	/* $SSHELL_SOCKET wins for the tools and for noded. */
	assert_int_equal(setenv("SSHELL_SOCKET", "/s/n.sock", 1), 0);
	assert_int_equal(conf_default_socket(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/s/n.sock");
	assert_int_equal(conf_own_socket(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/s/n.sock");
	assert_int_equal(unsetenv("SSHELL_SOCKET"), 0);
	assert_int_equal(conf_default_socket(buf, sizeof(buf)), 0);
	if (root || access(CONF_SYSTEM_SOCKET, F_OK) == 0)
		assert_string_equal(buf, CONF_SYSTEM_SOCKET);
	else
		assert_int_equal(strncmp(buf, "/tmp/sshell-", 12), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_odd_bytes),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_paths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
