/*
 * test_ckpt_image.c: the image reader's limits on a run of pages that a
 * section names without carrying it (FORGET in a pre-copy, KEEP in the
 * image after it).  A dump writes such runs CK_PAGES_MAX pages long at
 * most; a longer one cannot come from a dump and is refused.  It arrives
 * off the network in a migration, and 16 bytes must not buy the reader a
 * walk over 2^32 pages (libFuzzer found one that took a minute).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/buf.h"
#include "noded/ckpt/ckpt.h"
#include "noded/ckpt/ckpt-int.h"

/*
 * A pre-copy holding one FORGET of np pages at addr, then its end and
 * the image's header, and no more, written by the engine's own writer:
 * what ckpt_info() says of it.
 */
static int
forget_image(uint64_t addr, uint32_t np, struct ckpt_err *e)
{
	struct ck_stream *s;
	struct buf *none;
	FILE *out;
	int fd, r;

	assert_true((fd = memfd_create("test_ckpt_image", MFD_CLOEXEC)) >= 0);
	assert_non_null(none = buf_new(16));
	assert_non_null(s = ck_stream_new(fd, 1));
	ck_stream_set_precopy(s);
	assert_int_equal(ck_write_file_header(s, e), 0);
	assert_int_equal(ck_write_run_only(s, CK_SEC_FORGET, 1, addr, np, e),
	    0);
	assert_int_equal(ck_write_section(s, CK_SEC_PC_END, none, e), 0);
	ck_stream_free(s);
	assert_non_null(s = ck_stream_new(fd, 1));
	assert_int_equal(ck_write_file_header(s, e), 0);
	ck_stream_free(s);
	buf_free(none);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_non_null(out = fopen("/dev/null", "w"));
	memset(e, 0, sizeof(*e));
	r = ckpt_info(fd, out, e);
	fclose(out);
	close(fd);
	return r;
}

static void
test_forget_longest(void **state)
{
	struct ckpt_err e;

	(void)state;
	/* As long as a dump makes them: read, and the image ends early. */
	assert_int_not_equal(forget_image(0x400000, CK_PAGES_MAX, &e), 0);
	assert_null(strstr(e.msg, "bad page run"));
	assert_non_null(strstr(e.msg, "truncated"));
}

static void
test_forget_too_long(void **state)
{
	struct ckpt_err e;

	(void)state;
	assert_int_equal(forget_image(0x400000, CK_PAGES_MAX + 1, &e),
	    SS_ERR_CORRUPT);
	assert_non_null(strstr(e.msg, "bad page run"));
	/* 2^32 - 1 pages (16 TiB, inside the address space). */
	assert_int_equal(forget_image(0x1000, 0xffffffffu, &e),
	    SS_ERR_CORRUPT);
	assert_non_null(strstr(e.msg, "bad page run"));
}

static void
test_forget_bad(void **state)
{
	struct ckpt_err e;

	(void)state;
	assert_int_equal(forget_image(0x400000, 0, &e), SS_ERR_CORRUPT);
	assert_int_equal(forget_image(0x400001, 1, &e), SS_ERR_CORRUPT);
	assert_int_equal(forget_image(CK_ADDR_MAX, 1, &e), SS_ERR_CORRUPT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forget_longest),
		cmocka_unit_test(test_forget_too_long),
		cmocka_unit_test(test_forget_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
