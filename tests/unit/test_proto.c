/*
 * test_proto.c: framing and the decoders of every structure, on good,
 * truncated, oversized and random input.  A decoder must never crash,
 * never read past its input, and leave its output cleared on failure
 * (ASan and UBSan watch in make check-asan).
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
#include "proto.h"

static char *argv0[] = { "printf", "%s\n", "a \"b\" c", "x\ny", "héllo→✓",
	NULL };
static char *env0[] = { "A=1", "B=two words", NULL };

static struct buf *
spawn_frame(void)
{
	struct spawn_req q;
	struct buf *m;

	memset(&q, 0, sizeof(q));
	q.flags = SPAWN_WAIT | SPAWN_PINNED;
	q.node = "n3";
	q.name = "nightly";
	q.log = "/tmp/x.log";
	q.cwd = "/home/u";
	q.umask = 027;
	q.argc = 5;
	q.argv = argv0;
	q.envc = 2;
	q.env = env0;
	q.cmd = "";
	q.term = "xterm";
	q.rows = 24;
	q.cols = 80;
	m = proto_msg_new(MSG_SPAWN);
	assert_non_null(m);
	assert_int_equal(spawn_req_put(m, &q), 0);
	assert_int_equal(proto_msg_finish(m), 0);
	return m;
}

static void
test_spawn_roundtrip(void **state)
{
	struct buf *m = spawn_frame(), *p;
	struct spawn_req q;
	uint8_t type;
	int i;

	(void)state;
	assert_int_equal(proto_frame_take(m, &type, &p), 0);
	assert_int_equal(type, MSG_SPAWN);
	assert_int_equal(buf_len(m), 0);
	assert_int_equal(spawn_req_get(p, &q), 0);
	assert_int_equal(buf_len(p), 0);
	assert_int_equal(q.argc, 5);
	for (i = 0; i < 5; i++)
		assert_string_equal(q.argv[i], argv0[i]);
	assert_null(q.argv[5]);
	assert_string_equal(q.env[1], "B=two words");
	assert_null(q.env[2]);
	assert_int_equal(q.umask, 027);
	assert_string_equal(q.node, "n3");
	spawn_req_clear(&q);
	buf_free(p);
	buf_free(m);
}

/* Every truncation of a valid payload fails cleanly. */
static void
test_spawn_truncated(void **state)
{
	struct buf *m = spawn_frame(), *p, *t;
	struct spawn_req q;
	uint8_t type;
	size_t n;

	(void)state;
	assert_int_equal(proto_frame_take(m, &type, &p), 0);
	for (n = 0; n < buf_len(p); n++) {
		t = buf_from(buf_ptr(p), n, PROTO_MAX_FRAME);
		assert_non_null(t);
		assert_int_not_equal(spawn_req_get(t, &q), 0);
		assert_null(q.argv);
		assert_null(q.node);
		buf_free(t);
	}
	buf_free(p);
	buf_free(m);
}

static void
test_frames(void **state)
{
	struct buf *in = buf_new(PROTO_MAX_FRAME * 2), *p;
	uint8_t type;

	(void)state;
	/* Incomplete: wait for more, consume nothing. */
	assert_int_equal(buf_put(in, "\x00\x00\x00", 3), 0);
	assert_int_equal(proto_frame_take(in, &type, &p), SS_ERR_SHORT);
	assert_int_equal(buf_put(in, "\x05\x02" "abc", 5), 0);
	assert_int_equal(proto_frame_take(in, &type, &p), SS_ERR_SHORT);
	assert_int_equal(buf_len(in), 8);
	assert_int_equal(buf_put(in, "d", 1), 0);
	assert_int_equal(proto_frame_take(in, &type, &p), 0);
	assert_int_equal(type, MSG_OK);
	assert_int_equal(buf_len(p), 4);
	buf_free(p);
	/* Length zero and oversized lengths break the stream at once. */
	buf_reset(in);
	assert_int_equal(buf_put(in, "\x00\x00\x00\x00\x01", 5), 0);
	assert_int_equal(proto_frame_take(in, &type, &p), SS_ERR_BAD);
	buf_reset(in);
	assert_int_equal(buf_put(in, "\xff\xff\xff\xff\x01", 5), 0);
	assert_int_equal(proto_frame_take(in, &type, &p), SS_ERR_TOO_LONG);
	assert_null(p);
	buf_free(in);
}

/* Counts that promise more elements than bytes are refused up front. */
static void
test_lying_counts(void **state)
{
	struct buf *b = buf_new(1024);
	struct list_req lr;
	struct signal_req sr;

	(void)state;
	assert_int_equal(buf_put_u32(b, 0), 0);		/* flags */
	assert_int_equal(buf_put_cstring(b, ""), 0);
	assert_int_equal(buf_put_cstring(b, ""), 0);
	assert_int_equal(buf_put_u32(b, 0x7fffffff), 0);	/* ngpids */
	assert_int_equal(list_req_get(b, &lr), SS_ERR_TOO_LONG);
	assert_null(lr.gpids);
	buf_reset(b);
	assert_int_equal(buf_put_u32(b, 99), 0);	/* signal out of range */
	assert_int_equal(buf_put_u32(b, 0), 0);
	assert_int_equal(buf_put_cstring(b, ""), 0);
	assert_int_equal(buf_put_u32(b, SEL_GPIDS), 0);
	assert_int_equal(buf_put_cstring(b, ""), 0);
	assert_int_equal(buf_put_u32(b, 0), 0);
	assert_int_equal(signal_req_get(b, &sr), SS_ERR_BAD);
	buf_free(b);
}

static void
test_error_frame(void **state)
{
	struct buf *m = proto_error(SS_ERR_PERM, "job %d: %s", 42, "no"), *p;
	uint8_t type;
	char *msg;
	int code;

	(void)state;
	assert_non_null(m);
	assert_int_equal(proto_frame_take(m, &type, &p), 0);
	assert_int_equal(type, MSG_ERROR);
	assert_int_equal(proto_get_error(p, &code, &msg), 0);
	assert_int_equal(code, SS_ERR_PERM);
	assert_string_equal(msg, "job 42: no");
	free(msg);
	buf_free(p);
	buf_free(m);
}

/* Random bytes through every decoder: no crash, no leak, no overread. */
static void
test_random(void **state)
{
	uint8_t junk[512];
	struct spawn_req sq;
	struct proc_info pi;
	struct node_info ni;
	struct list_req lr;
	struct signal_req sr;
	struct load_report lo;
	struct shep_spec ss;
	struct shep_info si;
	struct move_req mq;
	struct migrate_result mr;
	struct buf *b, *p;
	uint8_t type;
	unsigned seed = 12345;
	int i, n;
	size_t j;

	(void)state;
	for (i = 0; i < 20000; i++) {
		n = rand_r(&seed) % sizeof(junk);
		for (j = 0; j < (size_t)n; j++)
			junk[j] = rand_r(&seed);
		/* Small lengths now and then, so that decoders get far. */
		if (n >= 4 && i % 3 == 0)
			junk[0] = junk[1] = junk[2] = 0;
#define TRYDEC(get, clr, var) do {					\
	b = buf_from(junk, n, PROTO_MAX_FRAME);				\
	assert_non_null(b);						\
	if (get(b, &var) == 0)						\
		clr;							\
	buf_free(b);							\
} while (0)
		TRYDEC(spawn_req_get, spawn_req_clear(&sq), sq);
		TRYDEC(proc_info_get, proc_info_clear(&pi), pi);
		TRYDEC(node_info_get, node_info_clear(&ni), ni);
		TRYDEC(list_req_get, list_req_clear(&lr), lr);
		TRYDEC(signal_req_get, signal_req_clear(&sr), sr);
		TRYDEC(load_report_get, (void)0, lo);
		TRYDEC(shep_spec_get, shep_spec_clear(&ss), ss);
		TRYDEC(shep_info_get, (void)0, si);
		TRYDEC(move_req_get, move_req_clear(&mq), mq);
		TRYDEC(migrate_result_get, migrate_result_clear(&mr), mr);
#undef TRYDEC
		b = buf_from(junk, n, PROTO_MAX_FRAME);
		while (proto_frame_take(b, &type, &p) == 0)
			buf_free(p);
		buf_free(b);
	}
}

/* shep_info's waiting is optional on the wire; migrate_result's pending
 * is 0 or 1. */
static void
test_migration_fields(void **state)
{
	struct shep_info in, out;
	struct migrate_result mr, mo;
	struct buf *b;

	(void)state;
	memset(&in, 0, sizeof(in));
	in.pid = 7;
	in.waiting = 1;
	assert_non_null(b = buf_new(PROTO_MAX_FRAME));
	assert_int_equal(shep_info_put(b, &in), 0);
	assert_int_equal(shep_info_get(b, &out), 0);
	assert_int_equal(out.pid, 7);
	assert_int_equal(out.waiting, 1);
	assert_int_equal(buf_len(b), 0);
	/* An older shepherd's info: no waiting field. */
	assert_int_equal(shep_info_put(b, &in), 0);
	assert_int_equal(buf_consume_end(b, 4), 0);
	assert_int_equal(shep_info_get(b, &out), 0);
	assert_int_equal(out.waiting, 0);
	buf_reset(b);

	memset(&mr, 0, sizeof(mr));
	mr.gpid = 1001;
	mr.from = "n1";
	mr.to = "n2";
	mr.pending = 1;
	mr.slowed_us = 1234567;
	assert_int_equal(migrate_result_put(b, &mr), 0);
	assert_int_equal(migrate_result_get(b, &mo), 0);
	assert_int_equal(mo.pending, 1);
	assert_true(mo.slowed_us == 1234567);
	assert_string_equal(mo.to, "n2");
	migrate_result_clear(&mo);
	mr.pending = 2;
	assert_int_equal(migrate_result_put(b, &mr), 0);
	assert_int_equal(migrate_result_get(b, &mo), SS_ERR_BAD);
	buf_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spawn_roundtrip),
		cmocka_unit_test(test_spawn_truncated),
		cmocka_unit_test(test_frames),
		cmocka_unit_test(test_lying_counts),
		cmocka_unit_test(test_error_frame),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_migration_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
