/*
 * test_gpid.c: GPID encoding, decoding, parsing and printing, with the
 * edges of every range and malformed text.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "err.h"
#include "gpid.h"

static void
test_encode_decode(void **state)
{
	uint64_t g, seq;
	unsigned node;

	(void)state;
	assert_int_equal(gpid_encode(42, 1, &g), 0);
	assert_int_equal(g, 42001);
	assert_int_equal(gpid_decode(g, &seq, &node), 0);
	assert_int_equal(seq, 42);
	assert_int_equal(node, 1);
	assert_int_equal(gpid_home(g), 1);
	assert_int_equal(gpid_encode(1, 999, &g), 0);
	assert_int_equal(g, 1999);
	assert_int_equal(gpid_encode(GPID_SEQ_MAX, 999, &g), 0);
	assert_true(g <= (uint64_t)INT64_MAX);
	assert_int_equal(gpid_decode(g, &seq, NULL), 0);
	assert_true(seq == GPID_SEQ_MAX);
	assert_int_equal(gpid_decode(g, NULL, &node), 0);
	assert_int_equal(node, 999);
}

static void
test_encode_bad(void **state)
{
	uint64_t g = 7;

	(void)state;
	assert_int_equal(gpid_encode(1, 0, &g), SS_ERR_BAD);
	assert_int_equal(gpid_encode(1, 1000, &g), SS_ERR_BAD);
	assert_int_equal(gpid_encode(0, 1, &g), SS_ERR_BAD);
	assert_int_equal(gpid_encode(GPID_SEQ_MAX + 1, 1, &g), SS_ERR_BAD);
	assert_int_equal(gpid_encode(UINT64_MAX, 1, &g), SS_ERR_BAD);
	assert_int_equal(g, 7);
}

static void
test_decode_bad(void **state)
{
	uint64_t seq = 5;
	unsigned node = 5;

	(void)state;
	assert_int_equal(gpid_decode(0, &seq, &node), SS_ERR_BAD);
	assert_int_equal(gpid_decode(42000, &seq, &node), SS_ERR_BAD);
	assert_int_equal(gpid_decode(999, &seq, &node), SS_ERR_BAD);
	assert_int_equal(gpid_decode(UINT64_MAX, &seq, &node), SS_ERR_BAD);
	assert_int_equal(gpid_decode((GPID_SEQ_MAX + 1) * 1000 + 1, &seq,
	    &node), SS_ERR_BAD);
	assert_int_equal(seq, 5);
	assert_int_equal(node, 5);
	assert_false(gpid_valid(1000));
	assert_true(gpid_valid(1001));
	assert_int_equal(gpid_home(1000), 0);
}

static void
test_parse(void **state)
{
	uint64_t g = 0;
	char buf[GPID_STRLEN];

	(void)state;
	assert_int_equal(gpid_parse("42001", &g), 0);
	assert_int_equal(g, 42001);
	assert_int_equal(gpid_parse("1001", &g), 0);
	assert_int_equal(g, 1001);
	assert_int_equal(gpid_encode(GPID_SEQ_MAX, 999, &g), 0);
	assert_int_equal(gpid_format(g, buf, sizeof(buf)), 0);
	g = 0;
	assert_int_equal(gpid_parse(buf, &g), 0);
	assert_int_equal(gpid_home(g), 999);
}

static void
test_parse_bad(void **state)
{
	static const char *bad[] = {
		"", "0", "042001", "+42001", "-42001", " 42001", "42001 ",
		"42001\n", "42a001", "0x1001", "1e3", "42000", "999", "1",
		"1000", "9223372036854775807",	/* INT64_MAX: seq too big */
		"18446744073709551615",		/* UINT64_MAX */
	};
	uint64_t g = 77;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		if (gpid_parse(bad[i], &g) != SS_ERR_BAD)
			fail_msg("gpid_parse(\"%s\") accepted or wrong code",
			    bad[i]);
	}
	assert_int_equal(gpid_parse(NULL, &g), SS_ERR_BAD);
	assert_int_equal(gpid_parse("18446744073709551616", &g),
	    SS_ERR_TOO_LONG);
	assert_int_equal(gpid_parse("99999999999999999999999", &g),
	    SS_ERR_TOO_LONG);
	assert_int_equal(g, 77);
}

static void
test_format(void **state)
{
	char buf[GPID_STRLEN], small[5];

	(void)state;
	assert_int_equal(gpid_format(42001, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "42001");
	assert_int_equal(gpid_format(42001, small, sizeof(small)),
	    SS_ERR_TOO_LONG);
	assert_string_equal(small, "");
	assert_int_equal(gpid_format(42000, buf, sizeof(buf)), SS_ERR_BAD);
	assert_int_equal(gpid_format(1001, buf, 0), SS_ERR_TOO_LONG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_decode),
		cmocka_unit_test(test_encode_bad),
		cmocka_unit_test(test_decode_bad),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
