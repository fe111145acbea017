/*
 * test_client.c: the pure helpers the tools share (common/client.c): JSON
 * string escaping (quotes, control characters, valid and invalid UTF-8),
 * the one-line display escaping of table cells, signal names and numbers,
 * and the comma-separated field lists of sps -o.  A fake noded in a
 * socketpair checks the hello + request pipelining and MSG_ERROR replies.
 */
#include <sys/socket.h>

#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "client.h"
#include "err.h"
#include "proto.h"

typedef void	(*put_fn)(FILE *, const char *);

/* What fn writes for s, as a new string the caller frees. */
static char *
render(put_fn fn, const char *s)
{
	char *out = NULL;
	size_t len = 0;
	FILE *fp;

	fp = open_memstream(&out, &len);
	assert_non_null(fp);
	fn(fp, s);
	assert_int_equal(fclose(fp), 0);
	return out;
}

static void
check(put_fn fn, const char *in, const char *want)
{
	char *got = render(fn, in);

	assert_string_equal(got, want);
	free(got);
}

static void
test_json_plain(void **state)
{
	(void)state;
	check(client_json_string, "", "\"\"");
	check(client_json_string, "sleep 600", "\"sleep 600\"");
	check(client_json_string, "a\"b\\c/d", "\"a\\\"b\\\\c/d\"");
	check(client_json_string, "l1\nl2\r\t\b\f", "\"l1\\nl2\\r\\t\\b\\f\"");
	check(client_json_string, "\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"");
	check(client_json_string, "\x1b[31m", "\"\\u001b[31m\"");
}

static void
test_json_utf8(void **state)
{
	(void)state;
	/* Valid UTF-8 of 2, 3 and 4 bytes is kept as is. */
	check(client_json_string, "\xc3\xa9t\xc3\xa9", "\"\xc3\xa9t\xc3\xa9\"");
	check(client_json_string, "\xe2\x82\xac", "\"\xe2\x82\xac\"");
	check(client_json_string, "\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"");
	check(client_json_string, "\xef\xbf\xbf", "\"\xef\xbf\xbf\"");
	check(client_json_string, "\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"");
	/* Anything else is one U+FFFD per offending byte. */
	check(client_json_string, "\xff", "\"\\ufffd\"");
	check(client_json_string, "a\x80z", "\"a\\ufffdz\"");
	check(client_json_string, "\xc0\x80", "\"\\ufffd\\ufffd\"");
	check(client_json_string, "\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"");
	check(client_json_string, "\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
	check(client_json_string, "\xf4\x90\x80\x80",
	    "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	check(client_json_string, "\xf5\x80", "\"\\ufffd\\ufffd\"");
	/* A sequence cut short by the end of the string. */
	check(client_json_string, "x\xe2\x82", "\"x\\ufffd\\ufffd\"");
	check(client_json_string, "\xc3", "\"\\ufffd\"");
}

static void
test_display(void **state)
{
	(void)state;
	check(client_put_display, "", "");
	check(client_put_display, "echo \"hi\" 'x' \\n",
	    "echo \"hi\" 'x' \\n");
	check(client_put_display, "a\nb\tc\rd", "a\\nb\\tc\\rd");
	check(client_put_display, "\a\b\v\f", "\\a\\b\\v\\f");
	check(client_put_display, "\x01\x1b\x7f", "\\001\\033\\177");
	check(client_put_display, "\xc3\xa9\xff", "\xc3\xa9\xff");
}

static void
test_sig_parse(void **state)
{
	(void)state;
	assert_int_equal(client_sig_parse("KILL"), SIGKILL);
	assert_int_equal(client_sig_parse("kill"), SIGKILL);
	assert_int_equal(client_sig_parse("SIGKILL"), SIGKILL);
	assert_int_equal(client_sig_parse("sigKill"), SIGKILL);
	assert_int_equal(client_sig_parse("9"), 9);
	assert_int_equal(client_sig_parse("0"), 0);
	assert_int_equal(client_sig_parse("64"), 64);
	assert_int_equal(client_sig_parse("TERM"), SIGTERM);
	assert_int_equal(client_sig_parse("usr1"), SIGUSR1);
	assert_int_equal(client_sig_parse("SIGCHLD"), SIGCHLD);
	assert_int_equal(client_sig_parse("CLD"), SIGCHLD);
	assert_int_equal(client_sig_parse("IOT"), SIGABRT);
	assert_int_equal(client_sig_parse("sys"), SIGSYS);
	assert_int_equal(client_sig_parse("65"), -1);
	assert_int_equal(client_sig_parse("9x"), -1);
	assert_int_equal(client_sig_parse("99999999999999999999999"), -1);
	assert_int_equal(client_sig_parse(""), -1);
	assert_int_equal(client_sig_parse("SIG"), -1);
	assert_int_equal(client_sig_parse("FOO"), -1);
	assert_int_equal(client_sig_parse("SIGSIGKILL"), -1);
	assert_int_equal(client_sig_parse("KILLX"), -1);
	assert_int_equal(client_sig_parse("-9"), -1);
	assert_int_equal(client_sig_parse(" 9"), -1);
}

static void
test_sig_name(void **state)
{
	int sig;

	(void)state;
	assert_string_equal(client_sig_name(SIGKILL), "KILL");
	assert_string_equal(client_sig_name(SIGABRT), "ABRT");
	assert_string_equal(client_sig_name(SIGCHLD), "CHLD");
	assert_string_equal(client_sig_name(SIGIO), "IO");
	assert_null(client_sig_name(0));
	assert_null(client_sig_name(40));
	/* Every standard signal has a name, and the name parses back. */
	for (sig = 1; sig < 32; sig++) {
		assert_non_null(client_sig_name(sig));
		assert_int_equal(client_sig_parse(client_sig_name(sig)), sig);
	}
}

static const char *const names[] = { "gpid", "node", "cmd", "rss_kb" };
#define NNAMES	(sizeof(names) / sizeof(names[0]))

static void
test_list_parse(void **state)
{
	const char *bad;
	size_t badlen;
	int out[8];

	(void)state;
	assert_int_equal(client_list_parse("gpid", names, NNAMES, out, 8,
	    &bad, &badlen), 1);
	assert_int_equal(out[0], 0);
	assert_int_equal(client_list_parse("rss_kb,gpid,cmd,gpid", names,
	    NNAMES, out, 8, &bad, &badlen), 4);
	assert_int_equal(out[0], 3);
	assert_int_equal(out[1], 0);
	assert_int_equal(out[2], 2);
	assert_int_equal(out[3], 0);
}

static void
expect_bad(const char *s, size_t max, size_t off, size_t len)
{
	const char *bad = NULL;
	size_t badlen = 99;
	int out[8];

	assert_int_equal(client_list_parse(s, names, NNAMES, out, max, &bad,
	    &badlen), -1);
	assert_ptr_equal(bad, s + off);
	assert_int_equal(badlen, len);
}

static void
test_list_parse_bad(void **state)
{
	(void)state;
	expect_bad("", 8, 0, 0);
	expect_bad("gpid,", 8, 5, 0);
	expect_bad(",gpid", 8, 0, 0);
	expect_bad("gpid,,node", 8, 5, 0);
	expect_bad("gpid,nodes", 8, 5, 5);
	expect_bad("gpi", 8, 0, 3);
	expect_bad("GPID", 8, 0, 4);
	expect_bad("gpid node", 8, 0, 9);
	/* More fields than room: the first one over is named. */
	expect_bad("gpid,node,cmd", 2, 10, 3);
}

/*
 * client_call against a fake noded on a socketpair: the hello and the
 * request arrive together, and the reply frames come back in order even
 * when they arrive in one read.
 */
static void
test_call(void **state)
{
	struct buf *in, *req, *p, *frames;
	uint8_t type, *data;
	uint32_t v;
	char *s;
	int sv[2], code;
	ssize_t n;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	/* noded's side, written before the call: hello, reply, EXITED. */
	frames = buf_new(4096);
	assert_non_null(frames);
	p = proto_msg_new(MSG_HELLO);
	assert_int_equal(buf_put_u32(p, PROTO_VERSION), 0);
	assert_int_equal(buf_put_cstring(p, "n1"), 0);
	assert_int_equal(buf_put_u32(p, 1), 0);
	assert_int_equal(proto_msg_finish(p), 0);
	assert_int_equal(buf_put(frames, buf_ptr(p), buf_len(p)), 0);
	buf_free(p);
	p = proto_error(SS_ERR_PERM, "%s", "42001: not yours");
	assert_non_null(p);
	assert_int_equal(buf_put(frames, buf_ptr(p), buf_len(p)), 0);
	buf_free(p);
	p = proto_msg_new(MSG_OK);
	assert_int_equal(proto_msg_finish(p), 0);
	assert_int_equal(buf_put(frames, buf_ptr(p), buf_len(p)), 0);
	buf_free(p);
	assert_int_equal(write(sv[1], buf_ptr(frames), buf_len(frames)),
	    (ssize_t)buf_len(frames));
	buf_free(frames);

	req = proto_msg_new(MSG_NODES);
	assert_non_null(req);
	assert_int_equal(client_call(sv[0], req, &type, &p), 0);
	assert_int_equal(type, MSG_ERROR);
	assert_int_equal(proto_get_error(p, &code, &s), 0);
	assert_int_equal(code, SS_ERR_PERM);
	assert_string_equal(s, "42001: not yours");
	free(s);
	buf_free(p);
	assert_int_equal(client_read(sv[0], &type, &p), 0);
	assert_int_equal(type, MSG_OK);
	assert_int_equal(client_expect(type, p, MSG_OK), 0);
	buf_free(p);

	/* What the fake received: HELLO then NODES, in one stream. */
	in = buf_new(4096);
	assert_int_equal(buf_reserve(in, 4096, &data), 0);
	n = read(sv[1], data, 4096);
	assert_true(n > 0);
	assert_int_equal(buf_consume_end(in, 4096 - (size_t)n), 0);
	assert_int_equal(proto_frame_take(in, &type, &p), 0);
	assert_int_equal(type, MSG_HELLO);
	assert_int_equal(buf_get_u32(p, &v), 0);
	assert_int_equal(v, PROTO_VERSION);
	assert_int_equal(buf_get_cstring(p, 64, &s), 0);
	assert_string_equal(s, "test_client");
	free(s);
	assert_int_equal(buf_get_u32(p, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(buf_len(p), 0);
	buf_free(p);
	assert_int_equal(proto_frame_take(in, &type, &p), 0);
	assert_int_equal(type, MSG_NODES);
	assert_int_equal(buf_len(p), 0);
	buf_free(p);
	assert_int_equal(buf_len(in), 0);
	buf_free(in);
	buf_free(req);

	/* noded gone: the next read fails cleanly. */
	close(sv[1]);
	assert_int_equal(client_read(sv[0], &type, &p), -1);
	assert_null(p);
	client_close(sv[0]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_plain),
		cmocka_unit_test(test_json_utf8),
		cmocka_unit_test(test_display),
		cmocka_unit_test(test_sig_parse),
		cmocka_unit_test(test_sig_name),
		cmocka_unit_test(test_list_parse),
		cmocka_unit_test(test_list_parse_bad),
		cmocka_unit_test(test_call),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
