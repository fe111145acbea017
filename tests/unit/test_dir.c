/*
 * test_dir.c: the SQLite directory layer: creation and reopening, schema
 * migration from an older version and refusal of a newer one, the job
 * sequence, proc rows and their filters, --unique look-up, nodes, forwards,
 * migrations, purge retention, and exact round trips of awkward strings.
 * Each test gets a fresh database in its own temporary directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "dir.h"
#include "err.h"
#include "gpid.h"

struct fixture {
	char		 tmp[64];
	char		 path[128];
	struct dir	*d;
};

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	(void)snprintf(fx->tmp, sizeof(fx->tmp), "/tmp/test_dir.XXXXXX");
	if (mkdtemp(fx->tmp) == NULL)
		return -1;
	(void)snprintf(fx->path, sizeof(fx->path), "%s/dir.db", fx->tmp);
	if (dir_open(fx->path, &fx->d) != 0)
		return -1;
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;
	char p[160];

	dir_close(fx->d);
	(void)unlink(fx->path);
	(void)snprintf(p, sizeof(p), "%s-wal", fx->path);
	(void)unlink(p);
	(void)snprintf(p, sizeof(p), "%s-shm", fx->path);
	(void)unlink(p);
	(void)rmdir(fx->tmp);
	free(fx);
	return 0;
}

/* Runs sql on a separate connection to path; the first column of the
 * first row, if any, as an integer (-1 if none). */
static long long
raw_sql(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long long v = -1;
	const char *tail = sql;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	while (tail != NULL && *tail != '\0') {
		assert_int_equal(sqlite3_prepare_v2(db, tail, -1, &st, &tail),
		    SQLITE_OK);
		if (st == NULL)
			break;
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int64(st, 0);
		assert_int_equal(sqlite3_finalize(st), SQLITE_OK);
	}
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	return v;
}

static void
proc_init(struct dir_proc *p, uint64_t seq, unsigned home, unsigned node)
{
	memset(p, 0, sizeof(*p));
	assert_int_equal(gpid_encode(seq, home, &p->gpid), 0);
	p->node = node;
	p->pid = (pid_t)(1000 + seq);
	p->starttime = 123456789ull + seq;
	p->uid = 1000;
	p->user = "alice";
	p->cmd = "sleep 100";
	(void)snprintf(p->state, sizeof(p->state), "running");
	p->started = 1700000000;
	p->exit_code = -1;
	p->role = home == 1 ? DIR_ROLE_HOME : DIR_ROLE_GUEST;
}

static void
test_open_reopen(void **state)
{
	struct fixture *fx = *state;
	struct dir_proc p, q;

	proc_init(&p, 1, 1, 2);
	assert_int_equal(dir_proc_insert(fx->d, &p), 0);
	dir_close(fx->d);
	fx->d = NULL;
	assert_int_equal(raw_sql(fx->path, "PRAGMA user_version"),
	    DIR_SCHEMA_VERSION);
	assert_int_equal(dir_open(fx->path, &fx->d), 0);
	assert_int_equal(raw_sql(fx->path, "PRAGMA user_version"),
	    DIR_SCHEMA_VERSION);
	assert_int_equal(dir_proc_get(fx->d, p.gpid, &q), 0);
	assert_int_equal(q.gpid, p.gpid);
	assert_int_equal(q.node, 2);
	dir_proc_clear(&q);
	/* WAL is a property of the file: a fresh connection sees it. */
	{
		sqlite3 *db;
		sqlite3_stmt *st;

		assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
		assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode",
		    -1, &st, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_string_equal((const char *)sqlite3_column_text(st, 0),
		    "wal");
		assert_int_equal(sqlite3_finalize(st), SQLITE_OK);
		assert_int_equal(sqlite3_close(db), SQLITE_OK);
	}
	assert_string_not_equal(dir_errmsg(fx->d), "");
}

/* The schema as migration 1 left it, frozen here on purpose. */
static const char schema_v1[] =
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)"
	"  WITHOUT ROWID;"
	"INSERT INTO meta (key, value) VALUES ('seq', 41);"
	"CREATE TABLE nodes (id INTEGER PRIMARY KEY CHECK (id BETWEEN 1 AND"
	"  999), name TEXT NOT NULL, address TEXT NOT NULL, port INTEGER NOT"
	"  NULL, key TEXT, cpus INTEGER NOT NULL DEFAULT 0, memory INTEGER NOT"
	"  NULL DEFAULT 0, load REAL NOT NULL DEFAULT 0, state TEXT NOT NULL"
	"  DEFAULT 'down' CHECK (state IN ('up', 'down', 'draining')),"
	"  last_seen INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE procs (gpid INTEGER PRIMARY KEY, home INTEGER NOT NULL,"
	"  node INTEGER NOT NULL, pid INTEGER NOT NULL, starttime INTEGER NOT"
	"  NULL, uid INTEGER NOT NULL, user TEXT NOT NULL, cmd TEXT NOT NULL,"
	"  argv BLOB, state TEXT NOT NULL, started INTEGER NOT NULL, ended"
	"  INTEGER, exit_code INTEGER, exit_signal INTEGER NOT NULL DEFAULT 0,"
	"  moves INTEGER NOT NULL DEFAULT 0, pinned INTEGER NOT NULL DEFAULT 0,"
	"  name TEXT, log TEXT);"
	"CREATE TABLE forwards (id INTEGER PRIMARY KEY, gpid INTEGER NOT NULL,"
	"  old_pid INTEGER NOT NULL, node INTEGER NOT NULL, pid INTEGER NOT"
	"  NULL, at INTEGER NOT NULL);"
	"CREATE INDEX forwards_gpid ON forwards (gpid);"
	"CREATE TABLE migrations (id INTEGER PRIMARY KEY, gpid INTEGER NOT"
	"  NULL, src INTEGER NOT NULL, dst INTEGER NOT NULL, phase TEXT NOT"
	"  NULL, bytes INTEGER NOT NULL DEFAULT 0, downtime_us INTEGER NOT NULL"
	"  DEFAULT 0, error TEXT, started INTEGER NOT NULL, ended INTEGER);"
	"CREATE INDEX migrations_gpid ON migrations (gpid);"
	"INSERT INTO procs (gpid, home, node, pid, starttime, uid, user, cmd,"
	"  state, started) VALUES (41001, 1, 3, 77, 999, 1000, 'bob', 'make',"
	"  'running', 1700000000);"
	"PRAGMA user_version = 1;";

static void
test_migrate_v1(void **state)
{
	struct fixture *fx = *state;
	struct dir_proc p;
	char path[160];
	uint64_t seq;

	(void)snprintf(path, sizeof(path), "%s/old.db", fx->tmp);
	(void)raw_sql(path, schema_v1);
	assert_int_equal(raw_sql(path, "PRAGMA user_version"), 1);
	dir_close(fx->d);
	assert_int_equal(dir_open(path, &fx->d), 0);
	assert_int_equal(raw_sql(path, "PRAGMA user_version"),
	    DIR_SCHEMA_VERSION);
	assert_int_equal(dir_proc_get(fx->d, 41001, &p), 0);
	assert_string_equal(p.user, "bob");
	assert_string_equal(p.cmd, "make");
	assert_int_equal(p.role, DIR_ROLE_HOME);	/* v1 rows were born here */
	assert_int_equal(p.exit_code, -1);
	assert_int_equal(p.ended, 0);
	assert_null(p.argv);
	dir_proc_clear(&p);
	assert_int_equal(dir_next_seq(fx->d, &seq), 0);
	assert_int_equal(seq, 42);
	dir_close(fx->d);
	fx->d = NULL;
	assert_int_equal(unlink(path), 0);
	(void)snprintf(path, sizeof(path), "%s/old.db-wal", fx->tmp);
	(void)unlink(path);
	(void)snprintf(path, sizeof(path), "%s/old.db-shm", fx->tmp);
	(void)unlink(path);
	assert_int_equal(dir_open(fx->path, &fx->d), 0);
}

static void
test_newer_refused(void **state)
{
	struct fixture *fx = *state;
	struct dir *d2 = (struct dir *)1;
	char sql[64];

	dir_close(fx->d);
	fx->d = NULL;
	(void)raw_sql(fx->path, "PRAGMA user_version = 99");
	assert_int_equal(dir_open(fx->path, &d2), SS_ERR_VERSION);
	assert_null(d2);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
	    DIR_SCHEMA_VERSION);
	(void)raw_sql(fx->path, sql);
	assert_int_equal(dir_open(fx->path, &fx->d), 0);
}

static void
test_open_errors(void **state)
{
	struct fixture *fx = *state;
	struct dir *d2 = (struct dir *)1;
	char path[160];
	FILE *f;
	int i;

	assert_int_equal(dir_open("/nonexistent/dir/x.db", &d2),
	    SS_ERR_SYSTEM);
	assert_int_equal(errno, ENOENT);
	assert_null(d2);
	(void)snprintf(path, sizeof(path), "%s/junk.db", fx->tmp);
	f = fopen(path, "w");
	assert_non_null(f);
	for (i = 0; i < 512; i++)
		assert_true(fputs("this is not a database\n", f) >= 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(dir_open(path, &d2), SS_ERR_CORRUPT);
	assert_null(d2);
	assert_int_equal(unlink(path), 0);
}

static void
test_seq(void **state)
{
	struct fixture *fx = *state;
	uint64_t s;
	char sql[128];

	assert_int_equal(dir_next_seq(fx->d, &s), 0);
	assert_int_equal(s, 1);
	assert_int_equal(dir_next_seq(fx->d, &s), 0);
	assert_int_equal(s, 2);
	dir_close(fx->d);
	assert_int_equal(dir_open(fx->path, &fx->d), 0);
	assert_int_equal(dir_next_seq(fx->d, &s), 0);
	assert_int_equal(s, 3);

	/* The last sequence, then refusal: a GPID must stay valid. */
	(void)snprintf(sql, sizeof(sql), "UPDATE meta SET value = %llu "
	    "WHERE key = 'seq'", (unsigned long long)GPID_SEQ_MAX - 1);
	(void)raw_sql(fx->path, sql);
	assert_int_equal(dir_next_seq(fx->d, &s), 0);
	assert_true(s == GPID_SEQ_MAX);
	s = 5;
	assert_int_equal(dir_next_seq(fx->d, &s), SS_ERR_TOO_LONG);
	assert_int_equal(s, 5);
}

static void
test_proc_rw(void **state)
{
	struct fixture *fx = *state;
	struct dir_proc p, q;

	proc_init(&p, 7, 1, 1);
	p.pinned = 1;
	p.name = "nightly";
	p.log = "/var/lib/sshell/jobs/7001.log";
	assert_int_equal(dir_proc_insert(fx->d, &p), 0);
	assert_int_equal(dir_proc_insert(fx->d, &p), SS_ERR_EXISTS);
	assert_int_equal(dir_proc_get(fx->d, 7001, &q), 0);
	assert_int_equal(q.home, 1);
	assert_int_equal(q.node, 1);
	assert_int_equal(q.pid, 1007);
	assert_true(q.starttime == 123456796ull);
	assert_int_equal(q.uid, 1000);
	assert_string_equal(q.state, "running");
	assert_int_equal(q.started, 1700000000);
	assert_int_equal(q.ended, 0);
	assert_int_equal(q.exit_code, -1);
	assert_int_equal(q.exit_signal, 0);
	assert_int_equal(q.moves, 0);
	assert_int_equal(q.pinned, 1);
	assert_string_equal(q.name, "nightly");
	assert_string_equal(q.log, p.log);
	assert_int_equal(q.role, DIR_ROLE_HOME);
	dir_proc_clear(&q);
	assert_null(q.user);

	/* Same node: a restart, not a move.  Another node: a move. */
	assert_int_equal(dir_proc_set_location(fx->d, 7001, 1, 2000, 5), 0);
	assert_int_equal(dir_proc_set_location(fx->d, 7001, 3, 3000, 6), 0);
	assert_int_equal(dir_proc_set_location(fx->d, 7001, 2, 4000, 7), 0);
	assert_int_equal(dir_proc_set_state(fx->d, 7001, "stopped"), 0);
	assert_int_equal(dir_proc_get(fx->d, 7001, &q), 0);
	assert_int_equal(q.node, 2);
	assert_int_equal(q.pid, 4000);
	assert_int_equal(q.starttime, 7);
	assert_int_equal(q.moves, 2);
	assert_string_equal(q.state, "stopped");
	dir_proc_clear(&q);

	assert_int_equal(dir_proc_set_exit(fx->d, 7001, 128 + 9, 9, 1700000100),
	    0);
	assert_int_equal(dir_proc_get(fx->d, 7001, &q), 0);
	assert_int_equal(q.exit_code, 137);
	assert_int_equal(q.exit_signal, 9);
	assert_int_equal(q.ended, 1700000100);
	assert_string_equal(q.state, "done");
	dir_proc_clear(&q);

	/* Missing rows and bad arguments. */
	assert_int_equal(dir_proc_get(fx->d, 8001, &q), SS_ERR_NOT_FOUND);
	assert_int_equal(dir_proc_set_state(fx->d, 8001, "lost"),
	    SS_ERR_NOT_FOUND);
	assert_int_equal(dir_proc_set_location(fx->d, 8001, 1, 1, 1),
	    SS_ERR_NOT_FOUND);
	assert_int_equal(dir_proc_set_exit(fx->d, 8001, 0, 0, 1),
	    SS_ERR_NOT_FOUND);
	assert_int_equal(dir_proc_set_state(fx->d, 7001, "Running"),
	    SS_ERR_BAD);
	assert_int_equal(dir_proc_set_state(fx->d, 7001, ""), SS_ERR_BAD);
	assert_int_equal(dir_proc_set_state(fx->d, 7001,
	    "a-very-long-state-word"), SS_ERR_BAD);
	assert_int_equal(dir_proc_set_location(fx->d, 7001, 0, 1, 1),
	    SS_ERR_BAD);
	assert_int_equal(dir_proc_set_exit(fx->d, 7001, 256, 0, 1), SS_ERR_BAD);
	assert_int_equal(dir_proc_set_exit(fx->d, 7001, 0, 0, 0), SS_ERR_BAD);
	p.gpid = 9000;		/* node 0 */
	assert_int_equal(dir_proc_insert(fx->d, &p), SS_ERR_BAD);
	proc_init(&p, 9, 1, 1);
	p.cmd = NULL;
	assert_int_equal(dir_proc_insert(fx->d, &p), SS_ERR_BAD);
	proc_init(&p, 9, 1, 1000);
	assert_int_equal(dir_proc_insert(fx->d, &p), SS_ERR_BAD);

	assert_int_equal(dir_proc_delete(fx->d, 7001), 0);
	assert_int_equal(dir_proc_delete(fx->d, 7001), SS_ERR_NOT_FOUND);
}

struct collect {
	uint64_t	 g[32];
	size_t		 n;
	size_t		 stop_after;	/* 0: never */
	struct dir	*d;
};

static int
collect_cb(const struct dir_proc *p, void *arg)
{
	struct collect *c = arg;

	assert_true(c->n < 32);
	assert_non_null(p->user);
	assert_non_null(p->cmd);
	c->g[c->n++] = p->gpid;
	if (c->d != NULL)
		assert_int_equal(dir_proc_foreach(c->d, NULL, collect_cb, c),
		    SS_ERR_BUSY);
	if (c->stop_after != 0 && c->n == c->stop_after)
		return 42;
	return 0;
}

/* Runs f and compares the GPIDs visited with want[], in order. */
static void
expect(struct dir *d, const struct dir_filter *f, const uint64_t *want,
    size_t nwant)
{
	struct collect c;
	size_t i;

	memset(&c, 0, sizeof(c));
	assert_int_equal(dir_proc_foreach(d, f, collect_cb, &c), 0);
	if (c.n != nwant)
		fail_msg("visited %zu rows, want %zu", c.n, nwant);
	for (i = 0; i < nwant; i++)
		assert_int_equal(c.g[i], want[i]);
}

static void
test_proc_filters(void **state)
{
	struct fixture *fx = *state;
	struct dir_filter f;
	struct dir_proc p;
	struct collect c;
	static const uint64_t pick[] = { 3001, 4002, 1999, 77001 };

	/* 1001: alice home on 1; 2001: alice home on 2, ended;
	 * 3001: bob home on 2 named "x"; 4002: alice guest on 1 named "x";
	 * 5001: alice home on 3 named "x". */
	proc_init(&p, 1, 1, 1);
	assert_int_equal(dir_proc_insert(fx->d, &p), 0);
	proc_init(&p, 2, 1, 2);
	assert_int_equal(dir_proc_insert(fx->d, &p), 0);
	assert_int_equal(dir_proc_set_exit(fx->d, p.gpid, 0, 0, 1700000001),
	    0);
	proc_init(&p, 3, 1, 2);
	p.uid = 1001;
	p.user = "bob";
	p.name = "x";
	assert_int_equal(dir_proc_insert(fx->d, &p), 0);
	proc_init(&p, 4, 2, 1);
	p.name = "x";
	assert_int_equal(dir_proc_insert(fx->d, &p), 0);
	proc_init(&p, 5, 1, 3);
	p.name = "x";
	assert_int_equal(dir_proc_insert(fx->d, &p), 0);

	/* NULL and zero-filled: every running row. */
	expect(fx->d, NULL, (const uint64_t[]){ 1001, 3001, 4002, 5001 }, 4);
	memset(&f, 0, sizeof(f));
	expect(fx->d, &f, (const uint64_t[]){ 1001, 3001, 4002, 5001 }, 4);
	f.include_ended = 1;
	expect(fx->d, &f,
	    (const uint64_t[]){ 1001, 2001, 3001, 4002, 5001 }, 5);
	f.by_uid = 1;
	f.uid = 1000;
	expect(fx->d, &f, (const uint64_t[]){ 1001, 2001, 4002, 5001 }, 4);
	f.node = 2;
	expect(fx->d, &f, (const uint64_t[]){ 2001 }, 1);
	memset(&f, 0, sizeof(f));
	f.role = DIR_FILTER_ROLE(DIR_ROLE_GUEST);
	expect(fx->d, &f, (const uint64_t[]){ 4002 }, 1);
	f.role = DIR_FILTER_ROLE(DIR_ROLE_HOME);
	expect(fx->d, &f, (const uint64_t[]){ 1001, 3001, 5001 }, 3);
	f.role = DIR_FILTER_ANY_ROLE;
	f.name = "x";
	expect(fx->d, &f, (const uint64_t[]){ 3001, 4002, 5001 }, 3);
	f.name = NULL;
	f.gpids = pick;
	f.ngpids = 4;
	expect(fx->d, &f, (const uint64_t[]){ 3001, 4002 }, 2);
	f.ngpids = 0;
	expect(fx->d, &f, NULL, 0);
	f.gpids = NULL;
	f.ngpids = 1;
	assert_int_equal(dir_proc_foreach(fx->d, &f, collect_cb, NULL),
	    SS_ERR_BAD);
	f.ngpids = 0;
	f.role = 7;
	assert_int_equal(dir_proc_foreach(fx->d, &f, collect_cb, NULL),
	    SS_ERR_BAD);

	/* A callback's nonzero return stops the walk and is returned;
	 * foreach is not reentrant; the statement is reusable after. */
	memset(&c, 0, sizeof(c));
	c.stop_after = 2;
	c.d = fx->d;
	assert_int_equal(dir_proc_foreach(fx->d, NULL, collect_cb, &c), 42);
	assert_int_equal(c.n, 2);
	expect(fx->d, NULL, (const uint64_t[]){ 1001, 3001, 4002, 5001 }, 4);
}

static void
test_unique_by_name(void **state)
{
	struct fixture *fx = *state;
	struct dir_proc p;
	uint64_t g = 0;

	assert_int_equal(dir_proc_running_by_name(fx->d, 1000, "backup", &g),
	    SS_ERR_NOT_FOUND);
	proc_init(&p, 10, 1, 2);
	p.name = "backup";
	assert_int_equal(dir_begin(fx->d), 0);
	assert_int_equal(dir_proc_running_by_name(fx->d, 1000, "backup", &g),
	    SS_ERR_NOT_FOUND);
	assert_int_equal(dir_proc_insert(fx->d, &p), 0);
	assert_int_equal(dir_commit(fx->d), 0);
	assert_int_equal(dir_proc_running_by_name(fx->d, 1000, "backup", &g),
	    0);
	assert_int_equal(g, 10001);
	assert_int_equal(dir_proc_running_by_name(fx->d, 1001, "backup", &g),
	    SS_ERR_NOT_FOUND);
	assert_int_equal(dir_proc_running_by_name(fx->d, 1000, "backu", &g),
	    SS_ERR_NOT_FOUND);
	assert_int_equal(dir_proc_set_exit(fx->d, 10001, 0, 0, 1700000002), 0);
	assert_int_equal(dir_proc_running_by_name(fx->d, 1000, "backup", &g),
	    SS_ERR_NOT_FOUND);

	/* A rolled back insert leaves nothing behind. */
	proc_init(&p, 11, 1, 2);
	p.name = "backup";
	assert_int_equal(dir_begin(fx->d), 0);
	assert_int_equal(dir_proc_insert(fx->d, &p), 0);
	assert_int_equal(dir_rollback(fx->d), 0);
	assert_int_equal(dir_proc_running_by_name(fx->d, 1000, "backup", &g),
	    SS_ERR_NOT_FOUND);
}

static void
test_strings(void **state)
{
	struct fixture *fx = *state;
	static const char cmd[] = "echo 'h\xc3\xa9llo' \"w\xc3\xb6rld\" "
	    "\xe4\xb8\x96\xe7\x95\x8c \xf0\x9f\x98\x80\nsecond line\\n"
	    "\t'; DROP TABLE procs; --";
	static const uint8_t argv[] = { 'a', 0, '\n', 0, 0xff, 0x00, '\'', 0 };
	static const char name[] = "n\xc3\xa4me \"q\" 'q'";
	static const char log[] = "/tmp/a dir/\xe6\x97\xa5\xe5\xbf\x97\n.log";
	struct dir_proc p, q;

	proc_init(&p, 12, 1, 1);
	p.cmd = (char *)cmd;
	p.user = "\xc3\xa9mile";
	p.argv = (uint8_t *)argv;
	p.argv_len = sizeof(argv);
	p.name = (char *)name;
	p.log = (char *)log;
	assert_int_equal(dir_proc_insert(fx->d, &p), 0);
	dir_close(fx->d);
	assert_int_equal(dir_open(fx->path, &fx->d), 0);
	assert_int_equal(dir_proc_get(fx->d, 12001, &q), 0);
	assert_string_equal(q.cmd, cmd);
	assert_string_equal(q.user, "\xc3\xa9mile");
	assert_int_equal(q.argv_len, sizeof(argv));
	assert_memory_equal(q.argv, argv, sizeof(argv));
	assert_string_equal(q.name, name);
	assert_string_equal(q.log, log);
	dir_proc_clear(&q);
	assert_int_equal(raw_sql(fx->path, "SELECT count(*) FROM procs"), 1);
}

static void
test_purge(void **state)
{
	struct fixture *fx = *state;
	struct dir_proc p, q;
	int64_t now = 1700100000, keep = 7 * 86400, id;

	/* 1001 ended long ago, 2001 ended recently, 3001 runs. */
	proc_init(&p, 1, 1, 1);
	assert_int_equal(dir_proc_insert(fx->d, &p), 0);
	assert_int_equal(dir_proc_set_exit(fx->d, 1001, 1, 0, now - keep - 1),
	    0);
	proc_init(&p, 2, 1, 1);
	assert_int_equal(dir_proc_insert(fx->d, &p), 0);
	assert_int_equal(dir_proc_set_exit(fx->d, 2001, 0, 0, now - keep), 0);
	proc_init(&p, 3, 1, 2);
	assert_int_equal(dir_proc_insert(fx->d, &p), 0);
	/* Old forwards: of an ended job (goes), of a running one (stays);
	 * a recent one (stays). */
	assert_int_equal(dir_forward_add(fx->d, 1001, 50, 2, 60, now - keep -
	    100), 0);
	assert_int_equal(dir_forward_add(fx->d, 3001, 51, 2, 61, now - keep -
	    100), 0);
	assert_int_equal(dir_forward_add(fx->d, 4002, 52, 3, 62, now - 10), 0);
	assert_int_equal(dir_migration_begin(fx->d, 1001, 1, 2, now - keep - 200,
	    &id), 0);
	assert_int_equal(dir_migration_finish(fx->d, id, "committed", 100, NULL,
	    now - keep - 100), 0);
	assert_int_equal(dir_migration_begin(fx->d, 3001, 1, 2, now - keep - 200,
	    &id), 0);	/* never finished: kept */

	assert_int_equal(dir_purge(fx->d, now, keep), 0);
	assert_int_equal(dir_proc_get(fx->d, 1001, &q), SS_ERR_NOT_FOUND);
	assert_int_equal(dir_proc_get(fx->d, 2001, &q), 0);
	dir_proc_clear(&q);
	assert_int_equal(dir_proc_get(fx->d, 3001, &q), 0);
	dir_proc_clear(&q);
	assert_int_equal(dir_forward_lookup(fx->d, 1001, NULL, NULL, NULL),
	    SS_ERR_NOT_FOUND);
	assert_int_equal(dir_forward_lookup(fx->d, 3001, NULL, NULL, NULL), 0);
	assert_int_equal(dir_forward_lookup(fx->d, 4002, NULL, NULL, NULL), 0);
	assert_int_equal(raw_sql(fx->path, "SELECT count(*) FROM migrations"),
	    1);

	/* keep 0: everything that ended before now goes. */
	assert_int_equal(dir_purge(fx->d, now, 0), 0);
	assert_int_equal(dir_proc_get(fx->d, 2001, &q), SS_ERR_NOT_FOUND);
	assert_int_equal(dir_purge(fx->d, now, -1), SS_ERR_BAD);
	/* Inside a caller transaction, purge nests as a savepoint. */
	assert_int_equal(dir_begin(fx->d), 0);
	assert_int_equal(dir_purge(fx->d, now, 0), 0);
	assert_int_equal(dir_commit(fx->d), 0);
}

struct node_seen {
	unsigned	ids[8];
	size_t		n;
};

static int
node_cb(const struct dir_node *n, void *arg)
{
	struct node_seen *s = arg;

	assert_non_null(n->name);
	assert_non_null(n->address);
	s->ids[s->n++] = n->id;
	return 0;
}

static void
test_nodes(void **state)
{
	struct fixture *fx = *state;
	struct dir_node n, m;
	struct node_seen seen;

	memset(&n, 0, sizeof(n));
	n.id = 2;
	n.name = "n2";
	n.address = "10.77.0.2";
	n.port = 7022;
	n.key = "AAAA";
	assert_int_equal(dir_node_upsert(fx->d, &n), 0);
	n.id = 1;
	n.name = "n1";
	n.address = "::1";
	n.key = NULL;
	n.cpus = 4;
	assert_int_equal(dir_node_upsert(fx->d, &n), 0);
	assert_int_equal(dir_node_get(fx->d, 2, &m), 0);
	assert_string_equal(m.name, "n2");
	assert_string_equal(m.key, "AAAA");
	assert_string_equal(m.state, "down");
	assert_int_equal(m.last_seen, 0);
	assert_int_equal(m.cpus, 0);
	dir_node_clear(&m);

	assert_int_equal(dir_node_set_load(fx->d, 2, 1.5, 8, 1ull << 33,
	    1700000000), 0);
	assert_int_equal(dir_node_set_state(fx->d, 2, "up"), 0);
	/* Re-reading the cluster file keeps what the node reported. */
	n.id = 2;
	n.name = "n2";
	n.address = "10.77.0.22";
	n.port = 7100;
	n.cpus = 0;
	assert_int_equal(dir_node_upsert(fx->d, &n), 0);
	assert_int_equal(dir_node_get(fx->d, 2, &m), 0);
	assert_string_equal(m.address, "10.77.0.22");
	assert_int_equal(m.port, 7100);
	assert_null(m.key);
	assert_true(m.load == 1.5);
	assert_int_equal(m.cpus, 8);
	assert_true(m.memory == 1ull << 33);
	assert_string_equal(m.state, "up");
	assert_int_equal(m.last_seen, 1700000000);
	dir_node_clear(&m);
	assert_int_equal(dir_node_set_load(fx->d, 2, 0.5, 0, 1, 1700000001), 0);
	assert_int_equal(dir_node_get(fx->d, 2, &m), 0);
	assert_int_equal(m.cpus, 8);
	dir_node_clear(&m);

	assert_int_equal(dir_node_set_state(fx->d, 2, "sleepy"), SS_ERR_BAD);
	assert_int_equal(dir_node_set_state(fx->d, 9, "up"), SS_ERR_NOT_FOUND);
	assert_int_equal(dir_node_set_load(fx->d, 9, 0, 0, 0, 1),
	    SS_ERR_NOT_FOUND);
	assert_int_equal(dir_node_get(fx->d, 9, &m), SS_ERR_NOT_FOUND);
	n.id = 1000;
	assert_int_equal(dir_node_upsert(fx->d, &n), SS_ERR_BAD);

	memset(&seen, 0, sizeof(seen));
	assert_int_equal(dir_node_foreach(fx->d, node_cb, &seen), 0);
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.ids[0], 1);
	assert_int_equal(seen.ids[1], 2);
	assert_int_equal(dir_node_delete(fx->d, 1), 0);
	assert_int_equal(dir_node_delete(fx->d, 1), SS_ERR_NOT_FOUND);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(dir_node_foreach(fx->d, node_cb, &seen), 0);
	assert_int_equal(seen.n, 1);
}

static void
test_forwards_migrations(void **state)
{
	struct fixture *fx = *state;
	struct dir_migration m;
	unsigned node;
	pid_t pid;
	int64_t when, id;

	assert_int_equal(dir_forward_lookup(fx->d, 5001, &node, &pid, &when),
	    SS_ERR_NOT_FOUND);
	assert_int_equal(dir_forward_add(fx->d, 5001, 100, 2, 200, 10), 0);
	assert_int_equal(dir_forward_add(fx->d, 5001, 300, 3, 400, 20), 0);
	assert_int_equal(dir_forward_lookup(fx->d, 5001, &node, &pid, &when),
	    0);
	assert_int_equal(node, 3);
	assert_int_equal(pid, 400);
	assert_int_equal(when, 20);
	assert_int_equal(dir_forward_add(fx->d, 5000, 1, 2, 2, 1), SS_ERR_BAD);

	assert_int_equal(dir_migration_last(fx->d, 5001, &m), SS_ERR_NOT_FOUND);
	assert_int_equal(dir_migration_begin(fx->d, 5001, 1, 2, 100, &id), 0);
	assert_true(id > 0);
	assert_int_equal(dir_migration_set_phase(fx->d, id, "streaming",
	    1ull << 20), 0);
	assert_int_equal(dir_migration_get(fx->d, id, &m), 0);
	assert_int_equal(m.gpid, 5001);
	assert_int_equal(m.src, 1);
	assert_int_equal(m.dst, 2);
	assert_string_equal(m.phase, "streaming");
	assert_true(m.bytes == 1ull << 20);
	assert_int_equal(m.started, 100);
	assert_int_equal(m.ended, 0);
	assert_null(m.error);
	dir_migration_clear(&m);
	assert_int_equal(dir_migration_finish(fx->d, id, "failed", 0,
	    "target: no space left", 101), 0);
	assert_int_equal(dir_migration_begin(fx->d, 5001, 1, 3, 200, &id), 0);
	assert_int_equal(dir_migration_finish(fx->d, id, "committed", 38500,
	    NULL, 201), 0);
	assert_int_equal(dir_migration_last(fx->d, 5001, &m), 0);
	assert_int_equal(m.id, id);
	assert_int_equal(m.dst, 3);
	assert_int_equal(m.downtime_us, 38500);
	assert_int_equal(m.ended, 201);
	dir_migration_clear(&m);
	assert_int_equal(dir_migration_get(fx->d, id - 1, &m), 0);
	assert_string_equal(m.error, "target: no space left");
	assert_string_equal(m.phase, "failed");
	dir_migration_clear(&m);
	assert_int_equal(dir_migration_set_phase(fx->d, 999, "x", 0),
	    SS_ERR_NOT_FOUND);
	assert_int_equal(dir_migration_set_phase(fx->d, id, "X", 0),
	    SS_ERR_BAD);
	assert_int_equal(dir_migration_begin(fx->d, 5001, 0, 3, 1, &id),
	    SS_ERR_BAD);
}

/* A move's input: none until set, then the bytes (a 0 among them), once
 * more empty; an unknown move or an oversized input is refused. */
static void
test_migration_input(void **state)
{
	struct fixture *fx = *state;
	static const uint8_t in[] = { 'a', 0, '\n', 0xff };
	void *p;
	size_t len;
	int64_t id;

	assert_int_equal(dir_migration_begin(fx->d, 5002, 1, 2, 100, &id), 0);
	assert_int_equal(dir_migration_input(fx->d, id, &p, &len), 0);
	assert_null(p);
	assert_int_equal(len, 0);
	assert_int_equal(dir_migration_set_input(fx->d, id, in, sizeof(in)),
	    0);
	assert_int_equal(dir_migration_input(fx->d, id, &p, &len), 0);
	assert_int_equal(len, sizeof(in));
	assert_memory_equal(p, in, sizeof(in));
	free(p);
	assert_int_equal(dir_migration_set_input(fx->d, id, NULL, 0), 0);
	assert_int_equal(dir_migration_input(fx->d, id, &p, &len), 0);
	assert_null(p);
	assert_int_equal(len, 0);
	assert_int_equal(dir_migration_input(fx->d, id + 1, &p, &len),
	    SS_ERR_NOT_FOUND);
	assert_int_equal(dir_migration_set_input(fx->d, id + 1, in, 1),
	    SS_ERR_NOT_FOUND);
	assert_int_equal(dir_migration_set_input(fx->d, id, in,
	    DIR_MIG_INPUT_MAX + 1), SS_ERR_BAD);
}

/* Arrivals: put replaces, get copies, delete says whether there was one. */
static void
test_arrivals(void **state)
{
	struct fixture *fx = *state;
	static const uint8_t a[] = { 1, 2, 0, 3 }, b[] = { 9 };
	void *p;
	size_t len;

	assert_int_equal(dir_arrival_get(fx->d, 5001, &p, &len),
	    SS_ERR_NOT_FOUND);
	assert_null(p);
	assert_int_equal(dir_arrival_put(fx->d, 5001, a, sizeof(a), 10), 0);
	assert_int_equal(dir_arrival_get(fx->d, 5001, &p, &len), 0);
	assert_int_equal(len, sizeof(a));
	assert_memory_equal(p, a, sizeof(a));
	free(p);
	assert_int_equal(dir_arrival_put(fx->d, 5001, b, sizeof(b), 11), 0);
	assert_int_equal(dir_arrival_get(fx->d, 5001, &p, &len), 0);
	assert_int_equal(len, 1);
	assert_int_equal(((uint8_t *)p)[0], 9);
	free(p);
	assert_int_equal(dir_arrival_put(fx->d, 5001, b, 0, 11), SS_ERR_BAD);
	assert_int_equal(dir_arrival_put(fx->d, 5000, b, 1, 11), SS_ERR_BAD);
	assert_int_equal(dir_arrival_put(fx->d, 5001, b,
	    DIR_ARRIVAL_MAX + 1, 11), SS_ERR_BAD);
	/* Retention: an arrival older than kept goes, a newer one stays. */
	assert_int_equal(dir_arrival_put(fx->d, 6001, a, sizeof(a), 5), 0);
	assert_int_equal(dir_purge(fx->d, 20, 10), 0);
	assert_int_equal(dir_arrival_get(fx->d, 6001, &p, &len),
	    SS_ERR_NOT_FOUND);
	assert_int_equal(dir_arrival_get(fx->d, 5001, &p, &len), 0);
	free(p);
	assert_int_equal(dir_arrival_delete(fx->d, 5001), 0);
	assert_int_equal(dir_arrival_delete(fx->d, 5001), SS_ERR_NOT_FOUND);
	assert_int_equal(dir_arrival_get(fx->d, 5001, &p, &len),
	    SS_ERR_NOT_FOUND);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_reopen, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v1, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_newer_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_seq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_proc_rw, setup, teardown),
		cmocka_unit_test_setup_teardown(test_proc_filters, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unique_by_name, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_strings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_purge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nodes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forwards_migrations,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_migration_input, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_arrivals, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
