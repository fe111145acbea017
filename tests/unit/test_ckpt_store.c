/*
 * test_ckpt_store.c: the store that holds a pre-copy's pages on the
 * restoring side (noded/ckpt/precopy.c).  A page put again replaces the
 * earlier copy, a forgotten page is not given (it is zero), pages of one
 * pid never come back as another's, and runs are given whole where the
 * store holds them side by side, so that a restore copies them in one go.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "noded/ckpt/ckpt-int.h"

#define PG	4096u

/* What a KEEP hands out, page by page: who, where, which fill byte. */
struct got {
	uint32_t	 calls;
	uint32_t	 pages;
	uint64_t	 addr[64];
	uint8_t		 fill[64];
	uint32_t	 proc;
};

static int
collect(void *arg, uint32_t proc, uint64_t addr, const uint8_t *data,
    uint32_t np, struct ckpt_err *e)
{
	struct got *g = arg;
	uint32_t i, k;

	(void)e;
	g->calls++;
	g->proc = proc;
	for (i = 0; i < np; i++) {
		/* Each page is one byte value throughout. */
		for (k = 1; k < PG; k++)
			if (data[i * PG + k] != data[i * PG])
				fail_msg("page at %#llx is torn",
				    (unsigned long long)(addr + i * PG));
		if (g->pages < 64) {
			g->addr[g->pages] = addr + (uint64_t)i * PG;
			g->fill[g->pages] = data[i * PG];
		}
		g->pages++;
	}
	return 0;
}

static uint8_t *
pages(uint32_t n, uint8_t first)
{
	uint8_t *p = malloc((size_t)n * PG);
	uint32_t i;

	assert_non_null(p);
	for (i = 0; i < n; i++)
		memset(p + (size_t)i * PG, first + i, PG);
	return p;
}

static void
test_put_give(void **state)
{
	struct ck_store *st = ck_store_new();
	struct ckpt_err e;
	struct got g;
	uint8_t *a = pages(4, 10), *b = pages(4, 50);

	(void)state;
	assert_non_null(st);
	/* Two processes, same addresses. */
	assert_int_equal(ck_store_put(st, 100, 0x10000, a, 4, &e), 0);
	assert_int_equal(ck_store_put(st, 200, 0x10000, b, 4, &e), 0);
	memset(&g, 0, sizeof(g));
	assert_int_equal(ck_store_give(st, 100, 7, 0x10000, 4, collect, &g,
	    &e), 0);
	assert_int_equal(g.calls, 1);		/* one run, side by side */
	assert_int_equal(g.pages, 4);
	assert_int_equal(g.proc, 7);
	assert_int_equal(g.fill[0], 10);
	assert_int_equal(g.fill[3], 13);
	assert_true(g.addr[3] == 0x10000 + 3 * PG);
	memset(&g, 0, sizeof(g));
	assert_int_equal(ck_store_give(st, 200, 1, 0x10000, 4, collect, &g,
	    &e), 0);
	assert_int_equal(g.fill[0], 50);
	/* A pid it never had: nothing. */
	memset(&g, 0, sizeof(g));
	assert_int_equal(ck_store_give(st, 300, 1, 0x10000, 4, collect, &g,
	    &e), 0);
	assert_int_equal(g.calls, 0);
	free(a);
	free(b);
	ck_store_free(st);
}

static void
test_replace_forget(void **state)
{
	struct ck_store *st = ck_store_new();
	struct ckpt_err e;
	struct got g;
	uint8_t *a = pages(6, 1), *b = pages(1, 99), *c = pages(1, 77);
	uint64_t runs, held;

	(void)state;
	assert_int_equal(ck_store_put(st, 5, 0x400000, a, 6, &e), 0);
	/* A later round's copy of page 2 replaces the first. */
	assert_int_equal(ck_store_put(st, 5, 0x400000 + 2 * PG, b, 1, &e), 0);
	/* Page 4 is zero now. */
	ck_store_forget(st, 5, 0x400000 + 4 * PG, 1);
	memset(&g, 0, sizeof(g));
	assert_int_equal(ck_store_give(st, 5, 0, 0x400000, 6, collect, &g,
	    &e), 0);
	assert_int_equal(g.pages, 5);
	assert_int_equal(g.fill[2], 99);
	assert_int_equal(g.fill[3], 4);
	assert_true(g.addr[4] == 0x400000 + 5 * PG);
	assert_int_equal(g.fill[4], 6);
	assert_true(g.calls >= 2);		/* split around the zero page */
	/* Written again after it was forgotten: back. */
	assert_int_equal(ck_store_put(st, 5, 0x400000 + 4 * PG, c, 1, &e), 0);
	memset(&g, 0, sizeof(g));
	assert_int_equal(ck_store_give(st, 5, 0, 0x400000 + 4 * PG, 1, collect,
	    &g, &e), 0);
	assert_int_equal(g.pages, 1);
	assert_int_equal(g.fill[0], 77);
	/* Forgetting what it never had is no error. */
	ck_store_forget(st, 6, 0x400000, 3);
	ck_store_stats(st, &runs, &held);
	assert_true(runs == 3);
	assert_true(held == 6);
	free(a);
	free(b);
	free(c);
	ck_store_free(st);
}

/* A pre-copy larger than the store may hold (the machine's memory) is
 * refused, saying so; what it holds already stays good. */
static void
test_too_large(void **state)
{
	struct ck_store *st = ck_store_new_cap(16);
	struct ckpt_err e;
	struct got g;
	uint8_t *a = pages(16, 3);

	(void)state;
	assert_non_null(st);
	assert_int_equal(ck_store_put(st, 7, 0x600000, a, 16, &e), 0);
	/* A page put again takes no more room. */
	assert_int_equal(ck_store_put(st, 7, 0x600000, a, 1, &e), 0);
	assert_int_equal(ck_store_put(st, 7, 0x600000 + 16 * PG, a, 1, &e),
	    SS_ERR_TOO_LONG);
	assert_non_null(strstr(e.msg, "larger than this machine's memory"));
	memset(&g, 0, sizeof(g));
	assert_int_equal(ck_store_give(st, 7, 0, 0x600000, 16, collect, &g,
	    &e), 0);
	assert_int_equal(g.pages, 16);
	assert_int_equal(g.fill[15], 18);
	assert_null(ck_store_new_cap(0));
	free(a);
	ck_store_free(st);
}

static void
test_grows(void **state)
{
	struct ck_store *st = ck_store_new();
	struct ckpt_err e;
	struct got g;
	uint8_t *a = pages(1024, 0);
	uint32_t i;

	(void)state;
	/* 20 runs of 1024 pages: past the first 64 MiB of room, and past
	 * several sizes of the index. */
	for (i = 0; i < 20; i++)
		assert_int_equal(ck_store_put(st, 9, 0x7f0000000000ull +
		    (uint64_t)i * 1024 * PG, a, 1024, &e), 0);
	memset(&g, 0, sizeof(g));
	assert_int_equal(ck_store_give(st, 9, 0, 0x7f0000000000ull +
	    19ull * 1024 * PG + 5 * PG, 3, collect, &g, &e), 0);
	assert_int_equal(g.pages, 3);
	assert_int_equal(g.fill[0], 5);
	assert_int_equal(g.fill[2], 7);
	free(a);
	ck_store_free(st);
}

static void
test_bad_pid(void **state)
{
	struct ck_store *st = ck_store_new();
	struct ckpt_err e;
	uint8_t *a = pages(1, 0);

	(void)state;
	memset(&e, 0, sizeof(e));
	assert_int_equal(ck_store_put(st, 0, 0x1000, a, 1, &e),
	    SS_ERR_CORRUPT);
	assert_non_null(strstr(e.msg, "pid 0"));
	free(a);
	ck_store_free(st);
}

/* The index holds 16-page chunks: a run across a chunk's edge, put in
 * two goes, forgotten on both sides of the edge, comes back right, and
 * still in one piece where the store holds it side by side. */
static void
test_chunk_edges(void **state)
{
	struct ck_store *st = ck_store_new();
	struct ckpt_err e;
	struct got g;
	uint8_t *a = pages(40, 100), *dst;
	uint64_t at = 0x7000000 + 10 * PG;	/* 6 pages before an edge */
	uint32_t i;

	(void)state;
	assert_int_equal(ck_store_put(st, 3, at, a, 20, &e), 0);
	assert_int_equal(ck_store_put(st, 3, at + 20 * PG, a + 20 * PG, 20,
	    &e), 0);
	/* Another pid at the same addresses stays apart. */
	assert_int_equal(ck_store_put(st, 4, at, a, 1, &e), 0);
	memset(&g, 0, sizeof(g));
	assert_int_equal(ck_store_give(st, 3, 0, at, 40, collect, &g, &e), 0);
	assert_int_equal(g.pages, 40);
	assert_int_equal(g.calls, 1);
	for (i = 0; i < 40; i++)
		assert_int_equal(g.fill[i], (uint8_t)(100 + i));
	/* Given is released: a page kept again (a corrupt image) is
	 * refused, not given as the zero its memory reads now. */
	memset(&g, 0, sizeof(g));
	memset(&e, 0, sizeof(e));
	assert_int_equal(ck_store_give(st, 3, 0, at + 39 * PG, 2, collect,
	    &g, &e), SS_ERR_CORRUPT);
	assert_non_null(strstr(e.msg, "kept twice"));
	assert_int_equal(g.pages, 0);
	/* Another pid's page at the same address is its own. */
	assert_int_equal(ck_store_give(st, 4, 0, at, 1, collect, &g, &e), 0);
	assert_int_equal(g.pages, 1);
	assert_int_equal(g.fill[0], 100);
	/* Put again (a later round), two of them forgotten. */
	assert_int_equal(ck_store_put(st, 3, at, a, 40, &e), 0);
	ck_store_forget(st, 3, at + 5 * PG, 2);	/* pages 5 and 6 */
	memset(&g, 0, sizeof(g));
	assert_int_equal(ck_store_give(st, 3, 0, at, 40, collect, &g, &e), 0);
	assert_int_equal(g.pages, 38);
	assert_int_equal(g.calls, 2);
	assert_true(g.addr[5] == at + 7 * PG);
	assert_int_equal(g.fill[5], 107);
	/* A page forgotten before it was ever held, then read into room
	 * made for a new run: given, not zero. */
	ck_store_forget(st, 3, at + 40 * PG, 1);
	assert_int_equal(ck_store_reserve(st, 3, at + 40 * PG, 1, &dst, &e), 0);
	assert_non_null(dst);
	memset(dst, 0xab, PG);
	memset(&g, 0, sizeof(g));
	assert_int_equal(ck_store_give(st, 3, 0, at + 40 * PG, 1, collect, &g,
	    &e), 0);
	assert_int_equal(g.pages, 1);
	assert_int_equal(g.fill[0], 0xab);
	/* Room is only made for pages the store has none of. */
	assert_int_equal(ck_store_reserve(st, 3, at + 39 * PG, 2, &dst, &e), 0);
	assert_null(dst);
	free(a);
	ck_store_free(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_give),
		cmocka_unit_test(test_replace_forget),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_grows),
		cmocka_unit_test(test_bad_pid),
		cmocka_unit_test(test_chunk_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
