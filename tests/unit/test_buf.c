/*
 * test_buf.c: the bounds-checked buffer.  Every call that would read past
 * the end or grow past the maximum must fail and leave the buffer as it
 * was; strings must round-trip byte for byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "err.h"

static void
test_ints(void **state)
{
	struct buf *b = buf_new(64);
	uint8_t u8;
	uint32_t u32;
	uint64_t u64;

	(void)state;
	assert_non_null(b);
	assert_int_equal(buf_put_u8(b, 0xab), 0);
	assert_int_equal(buf_put_u32(b, 0xdeadbeef), 0);
	assert_int_equal(buf_put_u64(b, 0x0102030405060708ULL), 0);
	assert_int_equal(buf_len(b), 13);
	assert_memory_equal(buf_ptr(b), "\xab\xde\xad\xbe\xef\x01\x02\x03\x04"
	    "\x05\x06\x07\x08", 13);
	assert_int_equal(buf_get_u8(b, &u8), 0);
	assert_int_equal(u8, 0xab);
	assert_int_equal(buf_get_u32(b, &u32), 0);
	assert_int_equal(u32, 0xdeadbeef);
	assert_int_equal(buf_get_u64(b, &u64), 0);
	assert_true(u64 == 0x0102030405060708ULL);
	assert_int_equal(buf_len(b), 0);
	assert_int_equal(buf_get_u8(b, &u8), SS_ERR_SHORT);
	buf_free(b);
}

static void
test_short_reads_consume_nothing(void **state)
{
	struct buf *b = buf_new(64);
	uint32_t u32;
	uint64_t u64;
	uint8_t *s;

	(void)state;
	assert_int_equal(buf_put(b, "\x00\x00\x00", 3), 0);
	assert_int_equal(buf_get_u32(b, &u32), SS_ERR_SHORT);
	assert_int_equal(buf_get_u64(b, &u64), SS_ERR_SHORT);
	assert_int_equal(buf_len(b), 3);
	/* A string that says 10 bytes but has 2. */
	buf_reset(b);
	assert_int_equal(buf_put(b, "\x00\x00\x00\x0a" "ab", 6), 0);
	assert_int_equal(buf_get_string(b, 100, &s, NULL), SS_ERR_SHORT);
	assert_null(s);
	assert_int_equal(buf_len(b), 6);
	buf_free(b);
}

static void
test_max(void **state)
{
	struct buf *b = buf_new(8);

	(void)state;
	assert_int_equal(buf_put(b, "12345678", 8), 0);
	assert_int_equal(buf_put_u8(b, 1), SS_ERR_TOO_LONG);
	assert_int_equal(buf_len(b), 8);
	assert_int_equal(buf_consume(b, 4), 0);
	/* Room comes back once bytes are consumed. */
	assert_int_equal(buf_put_u32(b, 7), 0);
	assert_int_equal(buf_len(b), 8);
	assert_int_equal(buf_consume(b, 9), SS_ERR_SHORT);
	assert_int_equal(buf_reserve(b, SIZE_MAX, NULL), SS_ERR_TOO_LONG);
	buf_free(b);
	assert_null(buf_from("123456789", 9, 8));
}

static void
test_strings(void **state)
{
	static const char bin[] = "a\0b\n\xff\xfe\"'";
	struct buf *b = buf_new(1024);
	const uint8_t *p;
	uint8_t *s;
	char *cs;
	size_t len;

	(void)state;
	assert_int_equal(buf_put_string(b, bin, sizeof(bin)), 0);
	assert_int_equal(buf_put_cstring(b, "héllo→✓"), 0);
	assert_int_equal(buf_put_cstring(b, NULL), 0);
	assert_int_equal(buf_get_string(b, 1024, &s, &len), 0);
	assert_int_equal(len, sizeof(bin));
	assert_memory_equal(s, bin, sizeof(bin));
	assert_int_equal(s[len], 0);
	free(s);
	assert_int_equal(buf_get_cstring(b, 1024, &cs), 0);
	assert_string_equal(cs, "héllo→✓");
	free(cs);
	assert_int_equal(buf_get_string_direct(b, &p, &len), 0);
	assert_int_equal(len, 0);
	/* An embedded NUL is refused where a C string is wanted. */
	assert_int_equal(buf_put_string(b, "a\0b", 3), 0);
	assert_int_equal(buf_get_cstring(b, 1024, &cs), SS_ERR_BAD);
	assert_null(cs);
	assert_int_equal(buf_len(b), 7);
	/* A string over the caller's limit. */
	buf_reset(b);
	assert_int_equal(buf_put_cstring(b, "0123456789"), 0);
	assert_int_equal(buf_get_string(b, 9, &s, NULL), SS_ERR_TOO_LONG);
	assert_int_equal(buf_get_string(b, 10, &s, NULL), 0);
	free(s);
	buf_free(b);
}

static void
test_poke_and_queue(void **state)
{
	struct buf *b = buf_new(1 << 20), *c = NULL;
	uint32_t v;
	int i;

	(void)state;
	assert_int_equal(buf_put_u32(b, 0), 0);
	assert_int_equal(buf_poke_u32(b, 0, 42), 0);
	assert_int_equal(buf_poke_u32(b, 1, 42), SS_ERR_SHORT);
	assert_int_equal(buf_peek_u32(b, 0, &v), 0);
	assert_int_equal(v, 42);
	/* As a stream queue: put and consume many times, never creeping. */
	for (i = 0; i < 100000; i++) {
		assert_int_equal(buf_put_u32(b, (uint32_t)i), 0);
		assert_int_equal(buf_get_u32(b, &v), 0);
	}
	assert_int_equal(buf_len(b), 4);
	c = buf_from("wxyz", 4, 16);
	assert_int_equal(buf_put_stringb(b, c), 0);
	buf_free(c);
	assert_int_equal(buf_consume(b, 4), 0);
	assert_int_equal(buf_get_stringb(b, &c), 0);
	assert_int_equal(buf_len(c), 4);
	assert_memory_equal(buf_ptr(c), "wxyz", 4);
	buf_free(c);
	buf_free(b);
	buf_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ints),
		cmocka_unit_test(test_short_reads_consume_nothing),
		cmocka_unit_test(test_max),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_poke_and_queue),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
