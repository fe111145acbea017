/*
 * test_sshell_parse.c: unit tests of sshell's line parser, word expansion
 * and prelude (shell/sshell-parse.c, shell/sshell-prelude.c).
 *
 * The cases follow DESIGN.md's rule for lines: builtins only as the first
 * word of a line without shell syntax, simple commands exec'd, anything
 * else to /bin/sh -c; a command still open at the end of a line wants
 * another line; what sh keeps between commands is recognised.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "shell/sshell.h"

static int
is_builtin(const char *w)
{
	static const char *const names[] = {
		"cd", "pwd", "export", "unset", "jobs", "fg", "bg", "wait",
		"kill", "ps", "nodes", "migrate", "history", "help", "exit",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(names[i], w) == 0)
			return 1;
	return 0;
}

static int
is_function(const char *w, void *arg)
{
	(void)arg;
	return strcmp(w, "greet") == 0;
}

/* Parses s, which must be complete, and checks its kind. */
static void
parse_ok(const char *s, enum line_kind kind, struct line *l)
{
	int r = line_parse(s, is_builtin, is_function, NULL, l);

	if (r != LINE_COMPLETE)
		fail_msg("'%s' not complete", s);
	if (l->kind != kind)
		fail_msg("'%s': kind %d, want %d", s, l->kind, kind);
}

static void
kind_is(const char *s, enum line_kind kind)
{
	struct line l;

	parse_ok(s, kind, &l);
	line_free(&l);
}

static void
more(const char *s)
{
	struct line l;

	if (line_parse(s, is_builtin, is_function, NULL, &l) != LINE_MORE)
		fail_msg("'%s' should want another line", s);
}

static void
complete(const char *s)
{
	struct line l;

	if (line_parse(s, is_builtin, is_function, NULL, &l) != LINE_COMPLETE)
		fail_msg("'%s' should be complete", s);
	line_free(&l);
}

static void
test_kinds(void **state)
{
	struct line l;

	(void)state;
	kind_is("", LINE_EMPTY);
	kind_is("   ", LINE_EMPTY);
	kind_is("# a comment", LINE_EMPTY);
	kind_is("\n\n", LINE_EMPTY);

	parse_ok("ls -l /tmp", LINE_SIMPLE, &l);
	assert_int_equal(l.argc, 3);
	assert_string_equal(l.argv[0], "ls");
	assert_string_equal(l.argv[2], "/tmp");
	assert_null(l.argv[3]);
	assert_string_equal(l.text, "ls -l /tmp");
	assert_null(l.node);
	assert_int_equal(l.bg, 0);
	line_free(&l);

	parse_ok("  hostname   # where am I", LINE_SIMPLE, &l);
	assert_int_equal(l.argc, 1);
	line_free(&l);

	parse_ok("cd /tmp", LINE_BUILTIN, &l);
	assert_int_equal(l.expand, 0);
	assert_int_equal(l.argc, 2);
	line_free(&l);

	parse_ok("cd \"$HOME/My Files\"", LINE_BUILTIN, &l);
	assert_int_equal(l.expand, 1);
	assert_string_equal(l.argv[1], "\"$HOME/My Files\"");
	line_free(&l);

	kind_is("cd ~/src", LINE_BUILTIN);
	kind_is("exit 3", LINE_BUILTIN);
	kind_is("kill %1", LINE_BUILTIN);
	kind_is("export PATH=/bin:/usr/bin", LINE_BUILTIN);
	/* Builtins with more than sshell expands go to sh. */
	kind_is("cd $(mktemp -d)", LINE_SHELL);
	kind_is("cd /tmp && ls", LINE_SHELL);
	kind_is("cd *", LINE_SHELL);
	kind_is("exit 3; echo", LINE_SHELL);
	/* Shell syntax of every kind. */
	kind_is("echo $HOME", LINE_SHELL);
	kind_is("echo 'a b'", LINE_SHELL);
	kind_is("echo a\\ b", LINE_SHELL);
	kind_is("printf '%s\\n' x", LINE_SHELL);
	kind_is("echo \"a $b\"", LINE_SHELL);
	kind_is("ls \"$HOME\"", LINE_SHELL);
	/* Quotes alone: sshell takes them off and runs the program itself,
	 * with no sh in the job to die of a signal the program traps. */
	parse_ok("sh -c 'trap \"echo got\" USR1; sleep 9' x\\ y \"\"", LINE_SIMPLE,
	    &l);
	assert_int_equal(l.expand, 1);
	assert_int_equal(l.argc, 5);
	assert_string_equal(l.argv[2], "'trap \"echo got\" USR1; sleep 9'");
	line_free(&l);
	parse_ok("ls -l /tmp", LINE_SIMPLE, &l);
	assert_int_equal(l.expand, 0);
	line_free(&l);
	kind_is("ls | wc -l", LINE_SHELL);
	kind_is("true && false", LINE_SHELL);
	kind_is("a; b", LINE_SHELL);
	kind_is("ls > f", LINE_SHELL);
	kind_is("ls 2>&1", LINE_SHELL);
	kind_is("wc < f", LINE_SHELL);
	kind_is("ls *.c", LINE_SHELL);
	kind_is("ls ?", LINE_SHELL);
	kind_is("ls [ab]", LINE_SHELL);
	kind_is("echo `date`", LINE_SHELL);
	kind_is("(cd /tmp; ls)", LINE_SHELL);
	kind_is("x=1 env", LINE_SHELL);
	kind_is("ls ~", LINE_SHELL);
	kind_is("! true", LINE_SHELL);
	kind_is("if true; then echo y; fi", LINE_SHELL);
	kind_is("{ echo a; }", LINE_SHELL);
	kind_is("kill -9 $$", LINE_SHELL);
	/* A function of the prelude runs under sh, with the prelude. */
	kind_is("greet world", LINE_SHELL);
	/* Plain words with = or { } inside are literal. */
	kind_is("dd if=/dev/zero of=/dev/null count=1", LINE_SIMPLE);
	kind_is("echo a=b", LINE_SIMPLE);
}

static void
test_prefix_suffix(void **state)
{
	struct line l;

	(void)state;
	parse_ok("@n2 hostname", LINE_SIMPLE, &l);
	assert_string_equal(l.node, "n2");
	assert_string_equal(l.argv[0], "hostname");
	assert_string_equal(l.text, "hostname");
	line_free(&l);

	parse_ok("  @node-3.lan ls | wc -l", LINE_SHELL, &l);
	assert_string_equal(l.node, "node-3.lan");
	assert_string_equal(l.text, "ls | wc -l");
	line_free(&l);

	parse_ok("sleep 100 &", LINE_SIMPLE, &l);
	assert_int_equal(l.bg, 1);
	assert_int_equal(l.argc, 2);
	assert_string_equal(l.text, "sleep 100");
	line_free(&l);

	parse_ok("@n1 sleep 1 | cat &  ", LINE_SHELL, &l);
	assert_int_equal(l.bg, 1);
	assert_string_equal(l.node, "n1");
	assert_string_equal(l.text, "sleep 1 | cat");
	line_free(&l);

	/* Only a final & at the top level. */
	parse_ok("a & b", LINE_SHELL, &l);
	assert_int_equal(l.bg, 0);
	line_free(&l);
	parse_ok("(a &)", LINE_SHELL, &l);
	assert_int_equal(l.bg, 0);
	line_free(&l);
	parse_ok("a && b &", LINE_SHELL, &l);
	assert_int_equal(l.bg, 1);
	assert_string_equal(l.text, "a && b");
	line_free(&l);
	parse_ok("ls >&2", LINE_SHELL, &l);
	assert_int_equal(l.bg, 0);
	line_free(&l);

	/* A here-document after the & keeps its body. */
	parse_ok("cat <<EOF &\nhi\nEOF", LINE_SHELL, &l);
	assert_int_equal(l.bg, 1);
	assert_string_equal(l.text, "cat <<EOF\nhi\nEOF");
	line_free(&l);

	parse_ok("@n1", LINE_ERROR, &l);
	line_free(&l);
	parse_ok("&", LINE_ERROR, &l);
	line_free(&l);

	/* An @ that is not a node name is an ordinary word. */
	kind_is("@/x y", LINE_SIMPLE);
}

static void
test_continuation(void **state)
{
	(void)state;
	more("echo 'abc");
	more("echo \"abc");
	more("echo \"$(date\"");
	more("echo $(date");
	more("echo ${HOME");
	more("echo `date");
	more("echo $((1 + 2)");
	more("ls \\");
	more("ls |");
	more("ls |\n");
	more("true &&");
	more("false ||");
	more("if true; then");
	more("if true; then\necho y");
	more("if true; then\necho y\nelse");
	more("for i in 1 2 3");
	more("for i in 1 2 3; do");
	more("for i in 1 2 3\ndo\necho $i");
	more("while true; do");
	more("until false; do");
	more("case $x in");
	more("case $x in\na) echo a;;");
	more("{");
	more("{ echo a;");
	more("(");
	more("(echo a");
	more("f() {");
	more("f()\n{\necho hi");
	more("cat <<EOF");
	more("cat <<EOF\nhello");
	more("cat <<-EOF\nhello\n\t EOF");
	more("cat <<'EOF'\n$x");
	more("if true; then\n  if false; then\n    echo\n  fi");

	complete("echo 'abc'");
	complete("echo \"a'b\"");
	complete("echo 'a\"b'");
	complete("echo $(date)");
	complete("echo $(echo \")\")");
	complete("echo $(case x in x) echo y;; esac)");
	complete("echo $((1 + (2 * 3)))");
	complete("echo ${x:-}");
	complete("ls \\\n-l");
	complete("ls |\nwc -l");
	complete("true &&\nfalse");
	complete("if true; then echo y; fi");
	complete("if true\nthen\necho y\nelif false\nthen\n:\nelse\n:\nfi");
	complete("for i in 1 2 3; do echo $i; done");
	complete("for i in done fi; do echo $i; done");
	complete("echo if then fi done");
	complete("while false; do :; done");
	complete("case $x in\na) echo a;;\n(b|c) echo b;;\n*) ;;\nesac");
	complete("case $x in a) echo esac;; esac");
	complete("{ echo a; }");
	complete("(echo a)");
	complete("f() { echo hi; }");
	complete("cat <<EOF\nhello\nEOF");
	complete("cat <<EOF\nhello\nEOF\n");
	complete("cat <<-EOF\n\thello\n\tEOF");
	complete("cat <<'E F'\n$x\nE F");
	complete("cat <<A <<B\na\nA\nb\nB");
	complete("echo # it's a comment with a quote");
	complete("echo it\\'s");
	complete("echo \"a\\\"b\"");
	/* Wrong, but complete: sh says what is wrong. */
	complete("fi");
	complete("echo )");
	complete("done; done");
}

static void
test_prelude_kinds(void **state)
{
	struct line l;

	(void)state;
	parse_ok("x=5", LINE_ASSIGN, &l);
	assert_int_equal(l.argc, 1);
	assert_string_equal(l.argv[0], "x=5");
	line_free(&l);

	parse_ok("a=1 b=\"two words\" c=$(hostname)  # note", LINE_ASSIGN, &l);
	assert_int_equal(l.argc, 3);
	assert_string_equal(l.argv[1], "b=\"two words\"");
	assert_string_equal(l.argv[2], "c=$(hostname)");
	line_free(&l);

	kind_is("x=5; echo $x", LINE_SHELL);
	kind_is("x=5 | cat", LINE_SHELL);
	kind_is("5x=1", LINE_SIMPLE);

	parse_ok("greet() { echo \"hello $1\"; }", LINE_FUNCDEF, &l);
	assert_string_equal(l.name, "greet");
	line_free(&l);
	parse_ok("f()\n{\n  echo a\n}", LINE_FUNCDEF, &l);
	assert_string_equal(l.name, "f");
	assert_string_equal(l.text, "f()\n{\n  echo a\n}");
	line_free(&l);
	kind_is("f() ( echo sub )", LINE_FUNCDEF);
	kind_is("f() { echo; } >/dev/null", LINE_FUNCDEF);
	kind_is("f() { echo; }; f", LINE_SHELL);
	kind_is("f() { echo; }\nf", LINE_SHELL);

	parse_ok("set -e", LINE_SET, &l);
	assert_int_equal(l.argc, 2);
	line_free(&l);
	kind_is("set +e", LINE_SET);
	kind_is("set -eu -o pipefail", LINE_SET);
	kind_is("set -o", LINE_SHELL);
	kind_is("set -- a b", LINE_SET);
	kind_is("set -e -- a b", LINE_SET);
	kind_is("set a b", LINE_SET);
	parse_ok("set -- \"$x\" 'y z'", LINE_SET, &l);
	assert_int_equal(l.expand, 1);
	line_free(&l);
	kind_is("set -- $(ls)", LINE_SHELL);
	kind_is("set -- *", LINE_SHELL);
	/* sh's own builtins go to sh. */
	kind_is("set", LINE_SHELL);
	kind_is("umask 077", LINE_SHELL);
	kind_is(": nothing", LINE_SHELL);
}

static const char *
lookup(const char *name, void *arg)
{
	(void)arg;
	if (strcmp(name, "HOME") == 0)
		return "/home/u";
	if (strcmp(name, "x") == 0)
		return "a b";
	return NULL;
}

static void
expand_is(const char *raw, int literal_globs, const char *want)
{
	char *out;

	if (word_expand(raw, lookup, NULL, 7, literal_globs, &out) != 0)
		fail_msg("'%s' not expanded", raw);
	if (strcmp(out, want) != 0)
		fail_msg("'%s' gave '%s', want '%s'", raw, out, want);
	free(out);
}

static void
expand_fails(const char *raw)
{
	char *out;

	if (word_expand(raw, lookup, NULL, 0, 0, &out) == 0)
		fail_msg("'%s' expanded to '%s'", raw, out);
	assert_null(out);
}

static void
test_expand(void **state)
{
	(void)state;
	expand_is("plain", 0, "plain");
	expand_is("'a b'", 0, "a b");
	expand_is("\"a b\"", 0, "a b");
	expand_is("a\\ b", 0, "a b");
	expand_is("\"$x\"", 0, "a b");
	expand_is("${x}y", 0, "a by");
	expand_is("$x$x", 0, "a ba b");
	expand_is("$unset", 0, "");
	expand_is("$?", 0, "7");
	expand_is("${?}", 0, "7");
	expand_is("~", 0, "/home/u");
	expand_is("~/src", 0, "/home/u/src");
	expand_is("a~", 0, "a~");
	expand_is("'$x'", 0, "$x");
	expand_is("\"\\$x\"", 0, "$x");
	expand_is("\"a\\b\"", 0, "a\\b");
	expand_is("\"it's\"", 0, "it's");
	expand_is("'*'", 0, "*");
	expand_is("a*", 1, "a*");
	expand_fails("a*");
	expand_fails("$(date)");
	expand_fails("`date`");
	expand_fails("${x:-y}");
	expand_fails("$1");
	expand_fails("\"open");
}

static void
test_quote(void **state)
{
	char *q;

	(void)state;
	q = sh_quote("it's");
	assert_string_equal(q, "'it'\\''s'");
	free(q);
	q = sh_quote("");
	assert_string_equal(q, "''");
	free(q);
}

static void
test_prelude(void **state)
{
	struct prelude *p;
	char *s;
	char *set1[] = { "set", "-e", NULL };
	char *set2[] = { "set", "-o", "pipefail", "+e", NULL };
	char *bad[] = { "set", "-e", "-1", NULL };
	char *args[] = { "set", "-e", "--", "a b", "c", NULL };

	(void)state;
	p = prelude_new();
	assert_true(prelude_empty(p));
	s = prelude_script(p, 0, "echo hi");
	assert_string_equal(s, "echo hi\n");
	free(s);
	s = prelude_script(p, 3, "echo $?");
	assert_string_equal(s, "(exit 3) && :\necho $?\n");
	free(s);

	prelude_set_var(p, "x", "it's");
	prelude_set_raw(p, "d", "$(date)");
	prelude_set_var(p, "y", "1");
	prelude_set_var(p, "x", "2");	/* moves to the end */
	assert_string_equal(prelude_get_var(p, "x"), "2");
	assert_null(prelude_get_var(p, "d"));
	assert_true(prelude_has_var(p, "d"));
	prelude_set_func(p, "f", "f() { echo f; }");
	assert_true(prelude_has_func(p, "f"));
	assert_int_equal(prelude_set_options(p, 2, set1), 0);
	assert_true(prelude_errexit(p));
	assert_int_equal(prelude_set_options(p, 3, bad), -1);
	assert_true(prelude_empty(p) == 0);
	assert_false(prelude_empty(p));
	s = prelude_script(p, 1, "f");
	assert_string_equal(s, "d=$(date)\ny='1'\nx='2'\nf() { echo f; }\n"
	    "set -e\n(exit 1) && :\nf\n");
	free(s);

	assert_int_equal(prelude_set_options(p, 4, set2), 0);
	assert_false(prelude_errexit(p));
	assert_int_equal(prelude_unset_var(p, "d"), 1);
	assert_int_equal(prelude_unset_var(p, "d"), 0);
	assert_int_equal(prelude_unset_func(p, "f"), 1);
	s = prelude_script(p, 0, "true");
	assert_string_equal(s, "y='1'\nx='2'\nset -o pipefail\ntrue\n");
	free(s);

	assert_int_equal(prelude_set_options(p, 5, args), 0);
	assert_true(prelude_errexit(p));
	s = prelude_script(p, 0, "echo $1");
	assert_string_equal(s, "set -- 'a b' 'c'\ny='1'\nx='2'\n"
	    "set -e -o pipefail\necho $1\n");
	free(s);
	prelude_set_args(p, 0, NULL);
	s = prelude_script(p, 0, ":");
	assert_string_equal(s, "y='1'\nx='2'\nset -e -o pipefail\n:\n");
	free(s);
	prelude_free(p);
}

/*
 * Garbage of shell-ish characters never crashes the parser (run under
 * ASan by make check-asan), and a complete result always has a kind and
 * a text.  A fixed linear congruential generator keeps it reproducible.
 */
static void
test_garbage(void **state)
{
	static const char alphabet[] = "ab $(){}[]'\"`\\|&;<>\n\t#=*?~!@-"
	    "ifthenfidodonecaseesacforwhile";
	char text[64], *out;
	struct line l;
	uint32_t seed = 12345;
	int i, k, len;

	(void)state;
	for (i = 0; i < 200000; i++) {
		seed = seed * 1103515245u + 12345u;
		len = (int)((seed >> 16) % (sizeof(text) - 1));
		for (k = 0; k < len; k++) {
			seed = seed * 1103515245u + 12345u;
			text[k] = alphabet[(seed >> 16) % (sizeof(alphabet) -
			    1)];
		}
		text[len] = '\0';
		if (line_parse(text, is_builtin, is_function, NULL, &l) ==
		    LINE_COMPLETE) {
			if (l.kind != LINE_EMPTY && l.kind != LINE_ERROR)
				assert_non_null(l.text);
			line_free(&l);
		}
		if (word_expand(text, lookup, NULL, i, i & 1, &out) == 0)
			free(out);
		else
			assert_null(out);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_prefix_suffix),
		cmocka_unit_test(test_continuation),
		cmocka_unit_test(test_prelude_kinds),
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_prelude),
		cmocka_unit_test(test_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
