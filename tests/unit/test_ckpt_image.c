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

#include "noded/ckpt/ckpt.h"
#include "noded/ckpt/ckpt-int.h"

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* One section, its checksum over type, length and payload. */
static void
section(int fd, uint32_t type, const uint8_t *d, uint32_t len)
{
	uint8_t h[12];
	uint32_t crc;

	put32(h, type);
	put32(h + 4, len);
	crc = ck_crc32c(0, h, 8);
	crc = ck_crc32c(crc, d, len);
	put32(h + 8, crc);
	assert_int_equal(ck_write_all(fd, h, sizeof(h)), 0);
	if (len > 0)
		assert_int_equal(ck_write_all(fd, d, len), 0);
}

/*
 * A pre-copy holding one FORGET of np pages at addr, then its end and
 * the image's header, and no more: what ckpt_info() says of it.
 */
static int
forget_image(uint64_t addr, uint32_t np, struct ckpt_err *e)
{
	uint8_t h[8], run[16];
	FILE *out;
	int fd, r;

	assert_true((fd = memfd_create("test_ckpt_image", MFD_CLOEXEC)) >= 0);
	put32(h, CK_PC_MAGIC);
	put32(h + 4, CK_VERSION);
	assert_int_equal(ck_write_all(fd, h, sizeof(h)), 0);
	put32(run, 1);				/* process */
	put32(run + 4, (uint32_t)(addr >> 32));
	put32(run + 8, (uint32_t)addr);
	put32(run + 12, np);
	section(fd, CK_SEC_FORGET, run, sizeof(run));
	section(fd, CK_SEC_PC_END, NULL, 0);
	put32(h, CK_MAGIC);
	assert_int_equal(ck_write_all(fd, h, sizeof(h)), 0);
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
