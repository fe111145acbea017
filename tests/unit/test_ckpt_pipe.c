/*
 * test_ckpt_pipe.c: an image's PIPE record (noded/ckpt/fd-pipe.c).  What
 * the dump writes reads back the same, a pipe whose other end is closed
 * makes a pipe that gives its bytes and then EOF (or EPIPE to a writer),
 * and a record that cannot have come from a dump is refused: it arrives
 * off the network in a migration.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/err.h"
#include "noded/ckpt/ckpt-int.h"

/* A PIPE record made by hand, field by field. */
static struct buf *
record(uint32_t size, uint32_t has_r, uint32_t has_w, uint32_t closed,
    const char *data)
{
	struct buf *b = buf_new(1 << 20);

	assert_non_null(b);
	assert_int_equal(buf_put_u32(b, size), 0);
	assert_int_equal(buf_put_u32(b, has_r), 0);
	assert_int_equal(buf_put_u32(b, has_w), 0);
	assert_int_equal(buf_put_u32(b, closed), 0);
	assert_int_equal(buf_put_string(b, data, strlen(data)), 0);
	return b;
}

static int
decode(struct buf *b, struct ck_pipe *pp)
{
	int r;

	memset(pp, 0, sizeof(*pp));
	r = ck_pipe_decode(b, pp);
	buf_free(b);
	return r;
}

static void
test_roundtrip(void **state)
{
	struct ck_pipe in = { .size = 65536, .has_r = 1, .closed = 1,
	    .data = (uint8_t *)"rest\n", .len = 5 }, out;
	struct buf *b = buf_new(1 << 20);

	(void)state;
	assert_non_null(b);
	assert_int_equal(ck_pipe_encode(b, &in), 0);
	assert_int_equal(decode(b, &out), 0);
	assert_int_equal(out.size, 65536);
	assert_int_equal(out.has_r, 1);
	assert_int_equal(out.has_w, 0);
	assert_int_equal(out.closed, 1);
	assert_int_equal(out.len, 5);
	assert_memory_equal(out.data, "rest\n", 5);
	free(out.data);
}

static void
test_refused(void **state)
{
	struct ck_pipe pp;

	(void)state;
	/* Closed with both ends inside, or with neither. */
	assert_int_equal(decode(record(65536, 1, 1, 1, ""), &pp), SS_ERR_BAD);
	free(pp.data);
	assert_int_equal(decode(record(65536, 0, 0, 1, ""), &pp), SS_ERR_BAD);
	free(pp.data);
	/* Bytes for a pipe whose reader is gone. */
	assert_int_equal(decode(record(65536, 0, 1, 1, "x"), &pp), SS_ERR_BAD);
	free(pp.data);
	/* Flags that are not 0 or 1. */
	assert_int_equal(decode(record(65536, 2, 1, 0, ""), &pp), SS_ERR_BAD);
	free(pp.data);
	assert_int_equal(decode(record(65536, 0, 1, 7, ""), &pp), SS_ERR_BAD);
	free(pp.data);
	/* More bytes than the pipe holds; a size out of range. */
	assert_int_equal(decode(record(4096, 1, 1, 0, ""), &pp), 0);
	free(pp.data);
	assert_int_equal(decode(record(1024, 1, 1, 0, ""), &pp), SS_ERR_BAD);
	free(pp.data);
}

static void
test_writer_gone(void **state)
{
	struct ck_pipe pp = { .size = 65536, .has_r = 1, .closed = 1,
	    .data = (uint8_t *)"left", .len = 4 };
	char b[16];

	(void)state;
	assert_int_equal(ck_fd_pipe_create(&pp), 0);
	assert_true(pp.rfd >= 0);
	assert_int_equal(pp.wfd, -1);
	assert_int_equal(read(pp.rfd, b, sizeof(b)), 4);
	assert_memory_equal(b, "left", 4);
	assert_int_equal(read(pp.rfd, b, sizeof(b)), 0);	/* EOF */
	close(pp.rfd);
}

static void
test_reader_gone(void **state)
{
	struct ck_pipe pp = { .size = 65536, .has_w = 1, .closed = 1 };

	(void)state;
	assert_true(signal(SIGPIPE, SIG_IGN) != SIG_ERR);
	assert_int_equal(ck_fd_pipe_create(&pp), 0);
	assert_int_equal(pp.rfd, -1);
	assert_true(pp.wfd >= 0);
	assert_int_equal(write(pp.wfd, "x", 1), -1);
	assert_int_equal(errno, EPIPE);
	close(pp.wfd);
}

static void
test_other_closed(void **state)
{
	struct ckpt_err e;
	uint32_t closed;
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(ck_fd_pipe_other_closed(p[0], 1, &closed, &e), 0);
	assert_int_equal(closed, 0);
	assert_int_equal(ck_fd_pipe_other_closed(p[1], 0, &closed, &e), 0);
	assert_int_equal(closed, 0);
	assert_int_equal(write(p[1], "ab", 2), 2);
	close(p[1]);
	/* Bytes still in it: the writer is gone all the same. */
	assert_int_equal(ck_fd_pipe_other_closed(p[0], 1, &closed, &e), 0);
	assert_int_equal(closed, 1);
	close(p[0]);

	assert_int_equal(pipe(p), 0);
	close(p[0]);
	assert_int_equal(ck_fd_pipe_other_closed(p[1], 0, &closed, &e), 0);
	assert_int_equal(closed, 1);
	close(p[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_writer_gone),
		cmocka_unit_test(test_reader_gone),
		cmocka_unit_test(test_other_closed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
