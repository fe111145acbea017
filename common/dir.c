/*
 * dir.c: the directory layer over SQLite (see dir.h for the contract).
 *
 * Invariants:
 * - The schema is exactly what the migrations[] below build, in order;
 *   PRAGMA user_version is the number of migrations applied.  A migration
 *   is never edited once released: a schema change is a new entry at the
 *   end, and DIR_SCHEMA_VERSION follows it.  Each migration runs in its own
 *   BEGIN IMMEDIATE transaction that also sets user_version, so a crash
 *   leaves the database at one version or the next, never between.
 * - Every query is one of stmt_sql[], prepared once by dir_open() and reset
 *   with its bindings cleared after each use, so no statement stays active
 *   between calls (except the one a foreach is walking).  Bindings are
 *   SQLITE_STATIC: they are cleared before the caller's strings can change.
 * - A call that runs several writing statements wraps them in the savepoint
 *   "dir", so it changes all or nothing and nests inside dir_begin().
 * - In the procs table NULL means "not yet": ended and exit_code are NULL
 *   while the job has not ended; the C side says 0 and -1.
 * - GPIDs, start times and byte counts are unsigned in C and stored as
 *   SQLite's signed INTEGER; GPIDs are below 2^63 (gpid.h) so they sort.
 */
#include <sys/types.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "dir.h"
#include "err.h"
#include "gpid.h"

/* Schema history.  Append only: see the invariants above. */
static const char *const migrations[] = {
	/* 1: the first schema. */
	"CREATE TABLE meta ("
	"  key TEXT PRIMARY KEY,"
	"  value INTEGER NOT NULL"
	") WITHOUT ROWID;"
	"INSERT INTO meta (key, value) VALUES ('seq', 0);"
	"CREATE TABLE nodes ("
	"  id INTEGER PRIMARY KEY CHECK (id BETWEEN 1 AND 999),"
	"  name TEXT NOT NULL,"
	"  address TEXT NOT NULL,"
	"  port INTEGER NOT NULL,"
	"  key TEXT,"
	"  cpus INTEGER NOT NULL DEFAULT 0,"
	"  memory INTEGER NOT NULL DEFAULT 0,"
	"  load REAL NOT NULL DEFAULT 0,"
	"  state TEXT NOT NULL DEFAULT 'down'"
	"    CHECK (state IN ('up', 'down', 'draining')),"
	"  last_seen INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE TABLE procs ("
	"  gpid INTEGER PRIMARY KEY,"
	"  home INTEGER NOT NULL,"
	"  node INTEGER NOT NULL,"
	"  pid INTEGER NOT NULL,"
	"  starttime INTEGER NOT NULL,"
	"  uid INTEGER NOT NULL,"
	"  user TEXT NOT NULL,"
	"  cmd TEXT NOT NULL,"
	"  argv BLOB,"
	"  state TEXT NOT NULL,"
	"  started INTEGER NOT NULL,"
	"  ended INTEGER,"
	"  exit_code INTEGER,"
	"  exit_signal INTEGER NOT NULL DEFAULT 0,"
	"  moves INTEGER NOT NULL DEFAULT 0,"
	"  pinned INTEGER NOT NULL DEFAULT 0,"
	"  name TEXT,"
	"  log TEXT"
	");"
	"CREATE TABLE forwards ("
	"  id INTEGER PRIMARY KEY,"
	"  gpid INTEGER NOT NULL,"
	"  old_pid INTEGER NOT NULL,"
	"  node INTEGER NOT NULL,"
	"  pid INTEGER NOT NULL,"
	"  at INTEGER NOT NULL"
	");"
	"CREATE INDEX forwards_gpid ON forwards (gpid);"
	"CREATE TABLE migrations ("
	"  id INTEGER PRIMARY KEY,"
	"  gpid INTEGER NOT NULL,"
	"  src INTEGER NOT NULL,"
	"  dst INTEGER NOT NULL,"
	"  phase TEXT NOT NULL,"
	"  bytes INTEGER NOT NULL DEFAULT 0,"
	"  downtime_us INTEGER NOT NULL DEFAULT 0,"
	"  error TEXT,"
	"  started INTEGER NOT NULL,"
	"  ended INTEGER"
	");"
	"CREATE INDEX migrations_gpid ON migrations (gpid);",

	/*
	 * 2: guests.  A node records the jobs of other homes it runs; rows
	 * from version 1 were all born here.  Indexes for --unique and purge.
	 */
	"ALTER TABLE procs ADD COLUMN role TEXT NOT NULL DEFAULT 'home'"
	"  CHECK (role IN ('home', 'guest'));"
	"CREATE INDEX procs_uid_name ON procs (uid, name);"
	"CREATE INDEX procs_ended ON procs (ended);",

	/*
	 * 3: arrivals.  A job being restored here (migration, target side)
	 * from its RESTORE until COMMIT or the end of the move, with the
	 * request as it came, so that a noded restarted meanwhile knows the
	 * stopped copy a shepherd of its holds.
	 */
	"CREATE TABLE arrivals ("
	"  gpid INTEGER PRIMARY KEY,"
	"  req BLOB NOT NULL,"
	"  at INTEGER NOT NULL"
	");",

	/*
	 * 4: a move's input.  The bytes the COMMIT of a move carries (what
	 * the job had not read yet), kept by the source with its "killed",
	 * so that a target that lost the COMMIT gets them when it asks.
	 */
	"ALTER TABLE migrations ADD COLUMN input BLOB;",
};

_Static_assert(sizeof(migrations) / sizeof(*migrations) ==
    DIR_SCHEMA_VERSION, "DIR_SCHEMA_VERSION must count migrations[]");

#define PROC_COLS "gpid, home, node, pid, starttime, uid, user, cmd, argv, " \
	"state, started, ended, exit_code, exit_signal, moves, pinned, name, " \
	"log, role"
#define NODE_COLS "id, name, address, port, key, cpus, memory, load, " \
	"state, last_seen"
#define MIG_COLS "id, gpid, src, dst, phase, bytes, downtime_us, error, " \
	"started, ended"

enum stmt {
	S_BEGIN, S_COMMIT, S_ROLLBACK, S_SAVEPOINT, S_RELEASE, S_ROLLBACK_TO,
	S_NEXT_SEQ,
	S_PROC_INSERT, S_PROC_GET, S_PROC_DELETE, S_PROC_SET_LOC,
	S_PROC_SET_STATE, S_PROC_SET_EXIT, S_PROC_FOREACH, S_PROC_BY_NAME,
	S_NODE_UPSERT, S_NODE_SET_LOAD, S_NODE_SET_STATE, S_NODE_GET,
	S_NODE_DELETE, S_NODE_ALL,
	S_FWD_ADD, S_FWD_LOOKUP,
	S_MIG_BEGIN, S_MIG_PHASE, S_MIG_FINISH, S_MIG_GET, S_MIG_LAST,
	S_MIG_SET_INPUT, S_MIG_INPUT,
	S_ARR_PUT, S_ARR_GET, S_ARR_DELETE,
	S_PURGE_PROCS, S_PURGE_FWD, S_PURGE_MIG, S_PURGE_ARR,
	S__COUNT
};

static const char *const stmt_sql[S__COUNT] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_SAVEPOINT] = "SAVEPOINT dir",
	[S_RELEASE] = "RELEASE dir",
	[S_ROLLBACK_TO] = "ROLLBACK TO dir",
	[S_NEXT_SEQ] = "UPDATE meta SET value = value + 1"
	    " WHERE key = 'seq' AND value < ?1 RETURNING value",
	[S_PROC_INSERT] = "INSERT INTO procs (" PROC_COLS ") VALUES"
	    " (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
	    " ?15, ?16, ?17, ?18, ?19)",
	[S_PROC_GET] = "SELECT " PROC_COLS " FROM procs WHERE gpid = ?1",
	[S_PROC_DELETE] = "DELETE FROM procs WHERE gpid = ?1",
	/* SET expressions all see the old row, so moves counts a change. */
	[S_PROC_SET_LOC] = "UPDATE procs SET moves = moves + (node != ?2),"
	    " node = ?2, pid = ?3, starttime = ?4 WHERE gpid = ?1",
	[S_PROC_SET_STATE] = "UPDATE procs SET state = ?2 WHERE gpid = ?1",
	[S_PROC_SET_EXIT] = "UPDATE procs SET exit_code = ?2,"
	    " exit_signal = ?3, ended = ?4, state = 'done' WHERE gpid = ?1",
	/* NULL parameters mean "any"; ?6 is a JSON array of GPIDs. */
	[S_PROC_FOREACH] = "SELECT " PROC_COLS " FROM procs WHERE"
	    " (?1 IS NULL OR uid = ?1) AND (?2 OR ended IS NULL)"
	    " AND (?3 IS NULL OR node = ?3) AND (?4 IS NULL OR role = ?4)"
	    " AND (?5 IS NULL OR name = ?5)"
	    " AND (?6 IS NULL OR gpid IN (SELECT value FROM json_each(?6)))"
	    " ORDER BY gpid",
	[S_PROC_BY_NAME] = "SELECT gpid FROM procs WHERE uid = ?1"
	    " AND name = ?2 AND ended IS NULL ORDER BY gpid LIMIT 1",
	[S_NODE_UPSERT] = "INSERT INTO nodes (id, name, address, port, key,"
	    " cpus) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (id) DO UPDATE"
	    " SET name = excluded.name, address = excluded.address,"
	    " port = excluded.port, key = excluded.key, cpus = CASE WHEN"
	    " excluded.cpus > 0 THEN excluded.cpus ELSE nodes.cpus END",
	[S_NODE_SET_LOAD] = "UPDATE nodes SET load = ?2, cpus = CASE WHEN"
	    " ?3 > 0 THEN ?3 ELSE cpus END, memory = ?4, last_seen = ?5"
	    " WHERE id = ?1",
	[S_NODE_SET_STATE] = "UPDATE nodes SET state = ?2 WHERE id = ?1",
	[S_NODE_GET] = "SELECT " NODE_COLS " FROM nodes WHERE id = ?1",
	[S_NODE_DELETE] = "DELETE FROM nodes WHERE id = ?1",
	[S_NODE_ALL] = "SELECT " NODE_COLS " FROM nodes ORDER BY id",
	[S_FWD_ADD] = "INSERT INTO forwards (gpid, old_pid, node, pid, at)"
	    " VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_FWD_LOOKUP] = "SELECT node, pid, at FROM forwards WHERE gpid = ?1"
	    " ORDER BY id DESC LIMIT 1",
	[S_MIG_BEGIN] = "INSERT INTO migrations (gpid, src, dst, phase,"
	    " started) VALUES (?1, ?2, ?3, 'begin', ?4) RETURNING id",
	[S_MIG_PHASE] = "UPDATE migrations SET phase = ?2, bytes = ?3"
	    " WHERE id = ?1",
	[S_MIG_FINISH] = "UPDATE migrations SET phase = ?2, downtime_us = ?3,"
	    " error = ?4, ended = ?5 WHERE id = ?1",
	[S_MIG_GET] = "SELECT " MIG_COLS " FROM migrations WHERE id = ?1",
	[S_MIG_LAST] = "SELECT " MIG_COLS " FROM migrations WHERE gpid = ?1"
	    " ORDER BY id DESC LIMIT 1",
	[S_MIG_SET_INPUT] = "UPDATE migrations SET input = ?2 WHERE id = ?1",
	[S_MIG_INPUT] = "SELECT input FROM migrations WHERE id = ?1",
	[S_ARR_PUT] = "INSERT OR REPLACE INTO arrivals (gpid, req, at)"
	    " VALUES (?1, ?2, ?3)",
	[S_ARR_GET] = "SELECT req FROM arrivals WHERE gpid = ?1",
	[S_ARR_DELETE] = "DELETE FROM arrivals WHERE gpid = ?1",
	[S_PURGE_PROCS] = "DELETE FROM procs WHERE ended IS NOT NULL"
	    " AND ended < ?1",
	[S_PURGE_FWD] = "DELETE FROM forwards WHERE at < ?1 AND gpid NOT IN"
	    " (SELECT gpid FROM procs WHERE ended IS NULL)",
	[S_PURGE_MIG] = "DELETE FROM migrations WHERE ended IS NOT NULL"
	    " AND ended < ?1",
	/* An arrival that old has no shepherd left to adopt. */
	[S_PURGE_ARR] = "DELETE FROM arrivals WHERE at < ?1",
};

struct dir {
	sqlite3		*db;
	sqlite3_stmt	*st[S__COUNT];
	int		 in_proc_foreach;
	int		 in_node_foreach;
};

/* Goes to done with rc set when an sqlite3_bind_* fails. */
#define BIND(x) do {							\
	if ((rc = (x)) != SQLITE_OK)					\
		goto done;						\
} while (0)

static int	map_rc(int);
static int	exec_sql(sqlite3 *, const char *);
static int	user_version(sqlite3 *, int *);
static int	migrate(sqlite3 *);
static int	finish(struct dir *, sqlite3_stmt *, int);
static int	run(struct dir *, enum stmt);
static int	step_change(struct dir *, sqlite3_stmt *);
static int	sp_begin(struct dir *);
static int	sp_end(struct dir *, int);
static int	valid_word(const char *);
static int	bind_text_or_null(sqlite3_stmt *, int, const char *);
static char	*dup_col(sqlite3_stmt *, int, int, int *);
static int	read_proc(sqlite3_stmt *, struct dir_proc *, int);
static int	read_node(sqlite3_stmt *, struct dir_node *, int);
static int	read_mig(sqlite3_stmt *, struct dir_migration *);
static int	get_mig(struct dir *, enum stmt, int64_t,
		    struct dir_migration *);

/* An SQLite result code as an SS_ERR_* code. */
static int
map_rc(int rc)
{
	switch (rc) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	case SQLITE_CONSTRAINT_PRIMARYKEY:
	case SQLITE_CONSTRAINT_UNIQUE:
		return SS_ERR_EXISTS;
	case SQLITE_NOMEM:
		return SS_ERR_ALLOC;
	case SQLITE_TOOBIG:
		return SS_ERR_TOO_LONG;
	}
	switch (rc & 0xff) {
	case SQLITE_CONSTRAINT:
		return SS_ERR_BAD;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return SS_ERR_BUSY;
	case SQLITE_READONLY:
	case SQLITE_PERM:
		return SS_ERR_PERM;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return SS_ERR_CORRUPT;
	}
	return SS_ERR_DB;
}

/* Runs static SQL text (schema and pragmas only; never user data). */
static int
exec_sql(sqlite3 *db, const char *sql)
{
	return map_rc(sqlite3_exec(db, sql, NULL, NULL, NULL));
}

static int
user_version(sqlite3 *db, int *vp)
{
	sqlite3_stmt *st;
	int rc;

	*vp = 0;
	rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return map_rc(rc);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*vp = sqlite3_column_int(st, 0);
		rc = SQLITE_OK;
	}
	(void)sqlite3_finalize(st);
	return map_rc(rc);
}

/* Applies every migration past the database's user_version. */
static int
migrate(sqlite3 *db)
{
	char sql[64];
	int v, r;

	if ((r = user_version(db, &v)) != 0)
		return r;
	if (v > DIR_SCHEMA_VERSION || v < 0)
		return SS_ERR_VERSION;
	while (v < DIR_SCHEMA_VERSION) {
		if ((r = exec_sql(db, "BEGIN IMMEDIATE")) != 0)
			return r;
		/* Another process may have migrated while we waited. */
		if ((r = user_version(db, &v)) != 0)
			goto rollback;
		if (v >= DIR_SCHEMA_VERSION) {
			r = exec_sql(db, "COMMIT");
			break;
		}
		(void)snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
		    v + 1);
		if ((r = exec_sql(db, migrations[v])) != 0 ||
		    (r = exec_sql(db, sql)) != 0 ||
		    (r = exec_sql(db, "COMMIT")) != 0)
			goto rollback;
		v++;
	}
	return r;
 rollback:
	(void)exec_sql(db, "ROLLBACK");
	return r;
}

int
dir_open(const char *path, struct dir **dp)
{
	struct dir *d;
	sqlite3_stmt *st = NULL;
	const unsigned char *mode;
	int rc, r, i;

	*dp = NULL;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return SS_ERR_ALLOC;
	rc = sqlite3_open_v2(path, &d->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		r = d->db == NULL ? SS_ERR_ALLOC : map_rc(rc);
		if ((rc & 0xff) == SQLITE_CANTOPEN) {
			/* The file or its directory: say which errno. */
			errno = sqlite3_system_errno(d->db);
			r = errno != 0 ? SS_ERR_SYSTEM : SS_ERR_DB;
		}
		goto fail;
	}
	if ((r = map_rc(sqlite3_extended_result_codes(d->db, 1))) != 0 ||
	    (r = map_rc(sqlite3_busy_timeout(d->db, DIR_BUSY_TIMEOUT_MS))) != 0)
		goto fail;
	/* journal_mode answers with the mode it got; anything else failed. */
	rc = sqlite3_prepare_v2(d->db, "PRAGMA journal_mode = WAL", -1, &st,
	    NULL);
	if (rc != SQLITE_OK) {
		r = map_rc(rc);
		goto fail;
	}
	rc = sqlite3_step(st);
	mode = rc == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
	r = mode != NULL && (strcmp((const char *)mode, "wal") == 0 ||
	    strcmp((const char *)mode, "memory") == 0) ? 0 :
	    rc == SQLITE_ROW ? SS_ERR_DB : map_rc(rc);
	(void)sqlite3_finalize(st);
	if (r != 0)
		goto fail;
	/*
	 * No checkpoint inside a commit: one costs an fsync, and the commit
	 * is on the path of a job's launch.  The owner calls
	 * dir_checkpoint() from its timer instead.
	 */
	if ((r = exec_sql(d->db, "PRAGMA synchronous = NORMAL")) != 0 ||
	    (r = exec_sql(d->db, "PRAGMA wal_autocheckpoint = 0")) != 0 ||
	    (r = migrate(d->db)) != 0)
		goto fail;
	for (i = 0; i < S__COUNT; i++) {
		rc = sqlite3_prepare_v3(d->db, stmt_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &d->st[i], NULL);
		if (rc != SQLITE_OK) {
			r = map_rc(rc);
			goto fail;
		}
	}
	*dp = d;
	return 0;
 fail:
	dir_close(d);
	return r;
}

void
dir_close(struct dir *d)
{
	int i;

	if (d == NULL)
		return;
	for (i = 0; i < S__COUNT; i++)
		(void)sqlite3_finalize(d->st[i]);	/* NULL is a no-op */
	/* Fails only with unfinalized statements, which we have none of. */
	(void)sqlite3_close(d->db);
	free(d);
}

const char *
dir_errmsg(struct dir *d)
{
	if (d == NULL || d->db == NULL)
		return "no database";
	return sqlite3_errmsg(d->db);
}

/* Resets st and clears its bindings; returns rc as an SS_ERR_* code. */
static int
finish(struct dir *d, sqlite3_stmt *st, int rc)
{
	(void)d;
	/* reset repeats the step's error, which rc already holds. */
	(void)sqlite3_reset(st);
	(void)sqlite3_clear_bindings(st);
	return map_rc(rc);
}

/* Steps a statement without parameters or rows to its end. */
static int
run(struct dir *d, enum stmt s)
{
	return finish(d, d->st[s], sqlite3_step(d->st[s]));
}

static int
sp_begin(struct dir *d)
{
	return run(d, S_SAVEPOINT);
}

/* Releases the savepoint, rolling it back first unless ok. */
static int
sp_end(struct dir *d, int ok)
{
	int r = 0;

	if (!ok)
		r = run(d, S_ROLLBACK_TO);
	if (run(d, S_RELEASE) != 0 && r == 0)
		r = SS_ERR_DB;
	return r;
}

int
dir_begin(struct dir *d)
{
	return run(d, S_BEGIN);
}

int
dir_commit(struct dir *d)
{
	return run(d, S_COMMIT);
}

int
dir_rollback(struct dir *d)
{
	return run(d, S_ROLLBACK);
}

/* A state or phase word: [a-z-]{1,DIR_STATE_MAX}. */
static int
valid_word(const char *s)
{
	size_t n;

	if (s == NULL)
		return 0;
	n = strlen(s);
	return n >= 1 && n <= DIR_STATE_MAX &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyz-") == n;
}

static int
bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

int
dir_next_seq(struct dir *d, uint64_t *seqp)
{
	sqlite3_stmt *st = d->st[S_NEXT_SEQ];
	int rc;

	BIND(sqlite3_bind_int64(st, 1, (sqlite3_int64)GPID_SEQ_MAX));
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*seqp = (uint64_t)sqlite3_column_int64(st, 0);
		/* Step to the end so the update is complete before reset. */
		rc = sqlite3_step(st);
	} else if (rc == SQLITE_DONE) {
		/* No row: the counter is at GPID_SEQ_MAX. */
		(void)finish(d, st, rc);
		return SS_ERR_TOO_LONG;
	}
 done:
	return finish(d, st, rc);
}

int
dir_proc_insert(struct dir *d, const struct dir_proc *p)
{
	sqlite3_stmt *st = d->st[S_PROC_INSERT];
	int rc, ended = p->ended != 0 && p->exit_code >= 0;

	if (!gpid_valid(p->gpid) || p->node < GPID_NODE_MIN ||
	    p->node > GPID_NODE_MAX || p->user == NULL || p->cmd == NULL ||
	    !valid_word(p->state) || (p->argv == NULL && p->argv_len != 0) ||
	    p->argv_len > INT_MAX ||
	    (p->role != DIR_ROLE_HOME && p->role != DIR_ROLE_GUEST))
		return SS_ERR_BAD;
	BIND(sqlite3_bind_int64(st, 1, (sqlite3_int64)p->gpid));
	BIND(sqlite3_bind_int(st, 2, (int)gpid_home(p->gpid)));
	BIND(sqlite3_bind_int(st, 3, (int)p->node));
	BIND(sqlite3_bind_int64(st, 4, p->pid));
	BIND(sqlite3_bind_int64(st, 5, (sqlite3_int64)p->starttime));
	BIND(sqlite3_bind_int64(st, 6, p->uid));
	BIND(sqlite3_bind_text(st, 7, p->user, -1, SQLITE_STATIC));
	BIND(sqlite3_bind_text(st, 8, p->cmd, -1, SQLITE_STATIC));
	if (p->argv != NULL)
		BIND(sqlite3_bind_blob(st, 9, p->argv, (int)p->argv_len,
		    SQLITE_STATIC));
	else
		BIND(sqlite3_bind_null(st, 9));
	BIND(sqlite3_bind_text(st, 10, p->state, -1, SQLITE_STATIC));
	BIND(sqlite3_bind_int64(st, 11, p->started));
	if (ended) {
		BIND(sqlite3_bind_int64(st, 12, p->ended));
		BIND(sqlite3_bind_int(st, 13, p->exit_code));
	} else {
		BIND(sqlite3_bind_null(st, 12));
		BIND(sqlite3_bind_null(st, 13));
	}
	BIND(sqlite3_bind_int(st, 14, p->exit_signal));
	BIND(sqlite3_bind_int64(st, 15, p->moves));
	BIND(sqlite3_bind_int(st, 16, p->pinned != 0));
	BIND(bind_text_or_null(st, 17, p->name));
	BIND(bind_text_or_null(st, 18, p->log));
	BIND(sqlite3_bind_text(st, 19, p->role == DIR_ROLE_GUEST ? "guest" :
	    "home", -1, SQLITE_STATIC));
	rc = sqlite3_step(st);
 done:
	return finish(d, st, rc);
}

/*
 * A copy of text column i (NULL stays NULL unless notnull, then "").
 * Sets *errp to SS_ERR_ALLOC on failure.
 */
static char *
dup_col(sqlite3_stmt *st, int i, int notnull, int *errp)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	char *s;

	if (t == NULL && !notnull)
		return NULL;
	if ((s = strdup(t != NULL ? (const char *)t : "")) == NULL)
		*errp = SS_ERR_ALLOC;
	return s;
}

/*
 * Fills p from the current row of st.  copy: strings and blob are new
 * allocations (dir_proc_clear frees them); else they point into st's row.
 */
static int
read_proc(sqlite3_stmt *st, struct dir_proc *p, int copy)
{
	const void *blob;
	const unsigned char *t;
	int n, r = 0;

	memset(p, 0, sizeof(*p));
	p->gpid = (uint64_t)sqlite3_column_int64(st, 0);
	p->home = (unsigned)sqlite3_column_int(st, 1);
	p->node = (unsigned)sqlite3_column_int(st, 2);
	p->pid = (pid_t)sqlite3_column_int64(st, 3);
	p->starttime = (uint64_t)sqlite3_column_int64(st, 4);
	p->uid = (uid_t)sqlite3_column_int64(st, 5);
	t = sqlite3_column_text(st, 9);
	if (t != NULL)
		(void)snprintf(p->state, sizeof(p->state), "%s", t);
	p->started = sqlite3_column_int64(st, 10);
	p->ended = sqlite3_column_int64(st, 11);	/* NULL reads 0 */
	p->exit_code = sqlite3_column_type(st, 12) == SQLITE_NULL ? -1 :
	    sqlite3_column_int(st, 12);
	p->exit_signal = sqlite3_column_int(st, 13);
	p->moves = (unsigned)sqlite3_column_int64(st, 14);
	p->pinned = sqlite3_column_int(st, 15);
	t = sqlite3_column_text(st, 18);
	p->role = t != NULL && strcmp((const char *)t, "guest") == 0 ?
	    DIR_ROLE_GUEST : DIR_ROLE_HOME;
	blob = sqlite3_column_blob(st, 8);
	n = sqlite3_column_bytes(st, 8);
	if (!copy) {
		p->user = (char *)sqlite3_column_text(st, 6);
		p->cmd = (char *)sqlite3_column_text(st, 7);
		p->name = (char *)sqlite3_column_text(st, 16);
		p->log = (char *)sqlite3_column_text(st, 17);
		p->argv = (uint8_t *)blob;
		p->argv_len = blob != NULL ? (size_t)n : 0;
		if (p->user == NULL || p->cmd == NULL)
			return sqlite3_errcode(sqlite3_db_handle(st)) ==
			    SQLITE_NOMEM ? SS_ERR_ALLOC : SS_ERR_CORRUPT;
		return 0;
	}
	p->user = dup_col(st, 6, 1, &r);
	p->cmd = dup_col(st, 7, 1, &r);
	p->name = dup_col(st, 16, 0, &r);
	p->log = dup_col(st, 17, 0, &r);
	if (blob != NULL && n > 0) {
		if ((p->argv = malloc((size_t)n)) == NULL)
			r = SS_ERR_ALLOC;
		else {
			memcpy(p->argv, blob, (size_t)n);
			p->argv_len = (size_t)n;
		}
	}
	if (r != 0)
		dir_proc_clear(p);
	return r;
}

/*
 * Steps statement s, whose one parameter is key, and reads the one row it
 * gives with fill(st, out).  Returns fill's result, SS_ERR_NOT_FOUND for
 * no row, or SQLite's error.  The shared body of every *_get.
 */
static int
get_row(struct dir *d, enum stmt s, int64_t key,
    int (*fill)(sqlite3_stmt *, void *), void *out)
{
	sqlite3_stmt *st = d->st[s];
	int rc, r;

	BIND(sqlite3_bind_int64(st, 1, (sqlite3_int64)key));
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		r = fill(st, out);
		(void)finish(d, st, rc);
		return r;
	}
	if (rc == SQLITE_DONE) {
		(void)finish(d, st, rc);
		return SS_ERR_NOT_FOUND;
	}
 done:
	return finish(d, st, rc);
}

static int
fill_proc(sqlite3_stmt *st, void *p)
{
	return read_proc(st, p, 1);
}

int
dir_proc_get(struct dir *d, uint64_t gpid, struct dir_proc *p)
{
	memset(p, 0, sizeof(*p));
	return get_row(d, S_PROC_GET, (int64_t)gpid, fill_proc, p);
}

void
dir_proc_clear(struct dir_proc *p)
{
	if (p == NULL)
		return;
	free(p->user);
	free(p->cmd);
	free(p->argv);
	free(p->name);
	free(p->log);
	memset(p, 0, sizeof(*p));
}

/* Steps a one-row UPDATE or DELETE; SS_ERR_NOT_FOUND if it matched none. */
static int
step_change(struct dir *d, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_DONE && sqlite3_changes(d->db) == 0) {
		(void)finish(d, st, rc);
		return SS_ERR_NOT_FOUND;
	}
	return finish(d, st, rc);
}

/* Runs statement s, which deletes the row of key ?1. */
static int
delete_key(struct dir *d, enum stmt s, int64_t key)
{
	sqlite3_stmt *st = d->st[s];
	int rc;

	BIND(sqlite3_bind_int64(st, 1, (sqlite3_int64)key));
	return step_change(d, st);
 done:
	return finish(d, st, rc);
}

int
dir_proc_delete(struct dir *d, uint64_t gpid)
{
	return delete_key(d, S_PROC_DELETE, (int64_t)gpid);
}

int
dir_proc_set_location(struct dir *d, uint64_t gpid, unsigned node,
    pid_t pid, uint64_t starttime)
{
	sqlite3_stmt *st = d->st[S_PROC_SET_LOC];
	int rc;

	if (node < GPID_NODE_MIN || node > GPID_NODE_MAX || pid < 0)
		return SS_ERR_BAD;
	BIND(sqlite3_bind_int64(st, 1, (sqlite3_int64)gpid));
	BIND(sqlite3_bind_int(st, 2, (int)node));
	BIND(sqlite3_bind_int64(st, 3, pid));
	BIND(sqlite3_bind_int64(st, 4, (sqlite3_int64)starttime));
	return step_change(d, st);
 done:
	return finish(d, st, rc);
}

int
dir_proc_set_state(struct dir *d, uint64_t gpid, const char *state)
{
	sqlite3_stmt *st = d->st[S_PROC_SET_STATE];
	int rc;

	if (!valid_word(state))
		return SS_ERR_BAD;
	BIND(sqlite3_bind_int64(st, 1, (sqlite3_int64)gpid));
	BIND(sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC));
	return step_change(d, st);
 done:
	return finish(d, st, rc);
}

int
dir_proc_set_exit(struct dir *d, uint64_t gpid, int exit_code, int signal,
    int64_t ended)
{
	sqlite3_stmt *st = d->st[S_PROC_SET_EXIT];
	int rc;

	if (exit_code < 0 || exit_code > 255 || signal < 0 ||
	    signal >= 128 || ended <= 0)
		return SS_ERR_BAD;
	BIND(sqlite3_bind_int64(st, 1, (sqlite3_int64)gpid));
	BIND(sqlite3_bind_int(st, 2, exit_code));
	BIND(sqlite3_bind_int(st, 3, signal));
	BIND(sqlite3_bind_int64(st, 4, ended));
	return step_change(d, st);
 done:
	return finish(d, st, rc);
}

int
dir_proc_foreach(struct dir *d, const struct dir_filter *f, dir_proc_cb cb,
    void *arg)
{
	static const struct dir_filter none;
	sqlite3_stmt *st = d->st[S_PROC_FOREACH];
	struct dir_proc p;
	char *json = NULL;
	size_t i, len, off;
	int rc, r = 0;

	if (d->in_proc_foreach)
		return SS_ERR_BUSY;
	if (f == NULL)
		f = &none;
	if (f->role < 0 || f->role > DIR_FILTER_ROLE(DIR_ROLE_GUEST) ||
	    (f->gpids == NULL && f->ngpids != 0))
		return SS_ERR_BAD;
	if (f->gpids != NULL) {
		/* "[g1,g2,...]": each at most 20 digits and a comma. */
		if (f->ngpids > (SIZE_MAX - 3) / 21)
			return SS_ERR_TOO_LONG;
		len = f->ngpids * 21 + 3;
		if ((json = malloc(len)) == NULL)
			return SS_ERR_ALLOC;
		off = 0;
		json[off++] = '[';
		for (i = 0; i < f->ngpids; i++)
			off += (size_t)snprintf(json + off, len - off, "%s%lld",
			    i > 0 ? "," : "", (long long)f->gpids[i]);
		json[off++] = ']';
		json[off] = '\0';
	}
	if (f->by_uid)
		BIND(sqlite3_bind_int64(st, 1, f->uid));
	BIND(sqlite3_bind_int(st, 2, f->include_ended != 0));
	if (f->node != 0)
		BIND(sqlite3_bind_int(st, 3, (int)f->node));
	if (f->role != DIR_FILTER_ANY_ROLE)
		BIND(sqlite3_bind_text(st, 4,
		    f->role == DIR_FILTER_ROLE(DIR_ROLE_GUEST) ? "guest" :
		    "home", -1, SQLITE_STATIC));
	if (f->name != NULL)
		BIND(sqlite3_bind_text(st, 5, f->name, -1, SQLITE_STATIC));
	if (json != NULL)
		BIND(sqlite3_bind_text(st, 6, json, -1, SQLITE_STATIC));
	d->in_proc_foreach = 1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((r = read_proc(st, &p, 0)) != 0 ||
		    (r = cb(&p, arg)) != 0)
			break;
	}
	d->in_proc_foreach = 0;
 done:
	if (r == 0)
		r = finish(d, st, rc);
	else
		(void)finish(d, st, SQLITE_OK);
	free(json);
	return r;
}

int
dir_proc_running_by_name(struct dir *d, uid_t uid, const char *name,
    uint64_t *gpidp)
{
	sqlite3_stmt *st = d->st[S_PROC_BY_NAME];
	int rc;

	if (name == NULL)
		return SS_ERR_BAD;
	BIND(sqlite3_bind_int64(st, 1, uid));
	BIND(sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC));
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*gpidp = (uint64_t)sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		(void)finish(d, st, rc);
		return SS_ERR_NOT_FOUND;
	}
 done:
	return finish(d, st, rc);
}

int
dir_node_upsert(struct dir *d, const struct dir_node *n)
{
	sqlite3_stmt *st = d->st[S_NODE_UPSERT];
	int rc;

	if (n->id < GPID_NODE_MIN || n->id > GPID_NODE_MAX ||
	    n->name == NULL || n->address == NULL)
		return SS_ERR_BAD;
	BIND(sqlite3_bind_int(st, 1, (int)n->id));
	BIND(sqlite3_bind_text(st, 2, n->name, -1, SQLITE_STATIC));
	BIND(sqlite3_bind_text(st, 3, n->address, -1, SQLITE_STATIC));
	BIND(sqlite3_bind_int(st, 4, n->port));
	BIND(bind_text_or_null(st, 5, n->key));
	BIND(sqlite3_bind_int64(st, 6, n->cpus));
	rc = sqlite3_step(st);
 done:
	return finish(d, st, rc);
}

int
dir_node_set_load(struct dir *d, unsigned id, double load, unsigned cpus,
    uint64_t memory, int64_t now)
{
	sqlite3_stmt *st = d->st[S_NODE_SET_LOAD];
	int rc;

	if (!(load >= 0) || memory > INT64_MAX)
		return SS_ERR_BAD;
	BIND(sqlite3_bind_int(st, 1, (int)id));
	BIND(sqlite3_bind_double(st, 2, load));
	BIND(sqlite3_bind_int64(st, 3, cpus));
	BIND(sqlite3_bind_int64(st, 4, (sqlite3_int64)memory));
	BIND(sqlite3_bind_int64(st, 5, now));
	return step_change(d, st);
 done:
	return finish(d, st, rc);
}

int
dir_node_set_state(struct dir *d, unsigned id, const char *state)
{
	sqlite3_stmt *st = d->st[S_NODE_SET_STATE];
	int rc;

	if (state == NULL || (strcmp(state, "up") != 0 &&
	    strcmp(state, "down") != 0 && strcmp(state, "draining") != 0))
		return SS_ERR_BAD;
	BIND(sqlite3_bind_int(st, 1, (int)id));
	BIND(sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC));
	return step_change(d, st);
 done:
	return finish(d, st, rc);
}

/* Fills n from the current row of st; copy as for read_proc. */
static int
read_node(sqlite3_stmt *st, struct dir_node *n, int copy)
{
	const unsigned char *t;
	int r = 0;

	memset(n, 0, sizeof(*n));
	n->id = (unsigned)sqlite3_column_int(st, 0);
	n->port = (uint16_t)sqlite3_column_int(st, 3);
	n->cpus = (unsigned)sqlite3_column_int64(st, 5);
	n->memory = (uint64_t)sqlite3_column_int64(st, 6);
	n->load = sqlite3_column_double(st, 7);
	t = sqlite3_column_text(st, 8);
	if (t != NULL)
		(void)snprintf(n->state, sizeof(n->state), "%s", t);
	n->last_seen = sqlite3_column_int64(st, 9);
	if (!copy) {
		n->name = (char *)sqlite3_column_text(st, 1);
		n->address = (char *)sqlite3_column_text(st, 2);
		n->key = (char *)sqlite3_column_text(st, 4);
		if (n->name == NULL || n->address == NULL)
			return SS_ERR_ALLOC;
		return 0;
	}
	n->name = dup_col(st, 1, 1, &r);
	n->address = dup_col(st, 2, 1, &r);
	n->key = dup_col(st, 4, 0, &r);
	if (r != 0)
		dir_node_clear(n);
	return r;
}

static int
fill_node(sqlite3_stmt *st, void *n)
{
	return read_node(st, n, 1);
}

int
dir_node_get(struct dir *d, unsigned id, struct dir_node *n)
{
	memset(n, 0, sizeof(*n));
	return get_row(d, S_NODE_GET, (int64_t)id, fill_node, n);
}

void
dir_node_clear(struct dir_node *n)
{
	if (n == NULL)
		return;
	free(n->name);
	free(n->address);
	free(n->key);
	memset(n, 0, sizeof(*n));
}

int
dir_node_delete(struct dir *d, unsigned id)
{
	sqlite3_stmt *st = d->st[S_NODE_DELETE];
	int rc;

	BIND(sqlite3_bind_int(st, 1, (int)id));
	return step_change(d, st);
 done:
	return finish(d, st, rc);
}

int
dir_node_foreach(struct dir *d, dir_node_cb cb, void *arg)
{
	sqlite3_stmt *st = d->st[S_NODE_ALL];
	struct dir_node n;
	int rc, r = 0;

	if (d->in_node_foreach)
		return SS_ERR_BUSY;
	d->in_node_foreach = 1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((r = read_node(st, &n, 0)) != 0 || (r = cb(&n, arg)) != 0)
			break;
	}
	d->in_node_foreach = 0;
	if (r == 0)
		return finish(d, st, rc);
	(void)finish(d, st, SQLITE_OK);
	return r;
}

int
dir_forward_add(struct dir *d, uint64_t gpid, pid_t old_pid,
    unsigned new_node, pid_t new_pid, int64_t when)
{
	sqlite3_stmt *st = d->st[S_FWD_ADD];
	int rc;

	if (!gpid_valid(gpid) || new_node < GPID_NODE_MIN ||
	    new_node > GPID_NODE_MAX || old_pid <= 0 || new_pid < 0)
		return SS_ERR_BAD;
	BIND(sqlite3_bind_int64(st, 1, (sqlite3_int64)gpid));
	BIND(sqlite3_bind_int64(st, 2, old_pid));
	BIND(sqlite3_bind_int(st, 3, (int)new_node));
	BIND(sqlite3_bind_int64(st, 4, new_pid));
	BIND(sqlite3_bind_int64(st, 5, when));
	rc = sqlite3_step(st);
 done:
	return finish(d, st, rc);
}

int
dir_forward_lookup(struct dir *d, uint64_t gpid, unsigned *nodep,
    pid_t *pidp, int64_t *whenp)
{
	sqlite3_stmt *st = d->st[S_FWD_LOOKUP];
	int rc;

	BIND(sqlite3_bind_int64(st, 1, (sqlite3_int64)gpid));
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (nodep != NULL)
			*nodep = (unsigned)sqlite3_column_int(st, 0);
		if (pidp != NULL)
			*pidp = (pid_t)sqlite3_column_int64(st, 1);
		if (whenp != NULL)
			*whenp = sqlite3_column_int64(st, 2);
	} else if (rc == SQLITE_DONE) {
		(void)finish(d, st, rc);
		return SS_ERR_NOT_FOUND;
	}
 done:
	return finish(d, st, rc);
}

int
dir_migration_begin(struct dir *d, uint64_t gpid, unsigned src,
    unsigned dst, int64_t now, int64_t *idp)
{
	sqlite3_stmt *st = d->st[S_MIG_BEGIN];
	int rc;

	if (!gpid_valid(gpid) || src < GPID_NODE_MIN || src > GPID_NODE_MAX ||
	    dst < GPID_NODE_MIN || dst > GPID_NODE_MAX)
		return SS_ERR_BAD;
	BIND(sqlite3_bind_int64(st, 1, (sqlite3_int64)gpid));
	BIND(sqlite3_bind_int(st, 2, (int)src));
	BIND(sqlite3_bind_int(st, 3, (int)dst));
	BIND(sqlite3_bind_int64(st, 4, now));
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*idp = sqlite3_column_int64(st, 0);
		rc = sqlite3_step(st);
	}
 done:
	return finish(d, st, rc);
}

int
dir_migration_set_phase(struct dir *d, int64_t id, const char *phase,
    uint64_t bytes)
{
	sqlite3_stmt *st = d->st[S_MIG_PHASE];
	int rc;

	if (!valid_word(phase) || bytes > INT64_MAX)
		return SS_ERR_BAD;
	BIND(sqlite3_bind_int64(st, 1, id));
	BIND(sqlite3_bind_text(st, 2, phase, -1, SQLITE_STATIC));
	BIND(sqlite3_bind_int64(st, 3, (sqlite3_int64)bytes));
	return step_change(d, st);
 done:
	return finish(d, st, rc);
}

int
dir_migration_finish(struct dir *d, int64_t id, const char *phase,
    int64_t downtime_us, const char *error, int64_t now)
{
	sqlite3_stmt *st = d->st[S_MIG_FINISH];
	int rc;

	if (!valid_word(phase) || downtime_us < 0 || now <= 0)
		return SS_ERR_BAD;
	BIND(sqlite3_bind_int64(st, 1, id));
	BIND(sqlite3_bind_text(st, 2, phase, -1, SQLITE_STATIC));
	BIND(sqlite3_bind_int64(st, 3, downtime_us));
	BIND(bind_text_or_null(st, 4, error));
	BIND(sqlite3_bind_int64(st, 5, now));
	return step_change(d, st);
 done:
	return finish(d, st, rc);
}

static int
read_mig(sqlite3_stmt *st, struct dir_migration *m)
{
	const unsigned char *t;
	int r = 0;

	memset(m, 0, sizeof(*m));
	m->id = sqlite3_column_int64(st, 0);
	m->gpid = (uint64_t)sqlite3_column_int64(st, 1);
	m->src = (unsigned)sqlite3_column_int(st, 2);
	m->dst = (unsigned)sqlite3_column_int(st, 3);
	t = sqlite3_column_text(st, 4);
	if (t != NULL)
		(void)snprintf(m->phase, sizeof(m->phase), "%s", t);
	m->bytes = (uint64_t)sqlite3_column_int64(st, 5);
	m->downtime_us = sqlite3_column_int64(st, 6);
	m->error = dup_col(st, 7, 0, &r);
	m->started = sqlite3_column_int64(st, 8);
	m->ended = sqlite3_column_int64(st, 9);
	return r;
}

static int
fill_mig(sqlite3_stmt *st, void *m)
{
	return read_mig(st, m);
}

static int
get_mig(struct dir *d, enum stmt s, int64_t key, struct dir_migration *m)
{
	memset(m, 0, sizeof(*m));
	return get_row(d, s, key, fill_mig, m);
}

int
dir_migration_get(struct dir *d, int64_t id, struct dir_migration *m)
{
	return get_mig(d, S_MIG_GET, id, m);
}

int
dir_migration_last(struct dir *d, uint64_t gpid, struct dir_migration *m)
{
	return get_mig(d, S_MIG_LAST, (int64_t)gpid, m);
}

void
dir_migration_clear(struct dir_migration *m)
{
	if (m == NULL)
		return;
	free(m->error);
	memset(m, 0, sizeof(*m));
}

int
dir_arrival_put(struct dir *d, uint64_t gpid, const void *req, size_t len,
    int64_t now)
{
	sqlite3_stmt *st = d->st[S_ARR_PUT];
	int rc;

	if (!gpid_valid(gpid) || len == 0 || len > DIR_ARRIVAL_MAX)
		return SS_ERR_BAD;
	BIND(sqlite3_bind_int64(st, 1, (sqlite3_int64)gpid));
	BIND(sqlite3_bind_blob(st, 2, req, (int)len, SQLITE_STATIC));
	BIND(sqlite3_bind_int64(st, 3, now));
	rc = sqlite3_step(st);
 done:
	return finish(d, st, rc);
}

struct blob {
	void	*data;
	size_t	 len;
};

/* Column 0, a blob of up to max bytes, copied into b (left empty when it
 * is NULL or empty). */
static int
read_blob(sqlite3_stmt *st, struct blob *b, size_t max)
{
	const void *p = sqlite3_column_blob(st, 0);
	int n = sqlite3_column_bytes(st, 0);

	if (p == NULL || n <= 0)
		return 0;
	if ((size_t)n > max)
		return SS_ERR_CORRUPT;
	if ((b->data = malloc((size_t)n)) == NULL)
		return SS_ERR_ALLOC;
	memcpy(b->data, p, (size_t)n);
	b->len = (size_t)n;
	return 0;
}

/* An arrival's request: never empty. */
static int
fill_blob(sqlite3_stmt *st, void *out)
{
	struct blob *b = out;
	int r = read_blob(st, b, DIR_ARRIVAL_MAX);

	return r == 0 && b->len == 0 ? SS_ERR_CORRUPT : r;
}

int
dir_arrival_get(struct dir *d, uint64_t gpid, void **reqp, size_t *lenp)
{
	struct blob b = { NULL, 0 };
	int r;

	*reqp = NULL;
	*lenp = 0;
	if (!gpid_valid(gpid))
		return SS_ERR_BAD;
	if ((r = get_row(d, S_ARR_GET, (int64_t)gpid, fill_blob, &b)) != 0)
		return r;
	*reqp = b.data;
	*lenp = b.len;
	return 0;
}

int
dir_migration_set_input(struct dir *d, int64_t id, const void *in,
    size_t len)
{
	sqlite3_stmt *st = d->st[S_MIG_SET_INPUT];
	static const uint8_t none;
	int rc;

	if (len > DIR_MIG_INPUT_MAX || (in == NULL && len > 0))
		return SS_ERR_BAD;
	BIND(sqlite3_bind_int64(st, 1, id));
	BIND(sqlite3_bind_blob(st, 2, len > 0 ? in : &none, (int)len,
	    SQLITE_STATIC));
	return step_change(d, st);
 done:
	return finish(d, st, rc);
}

/* A move's input: 0 to DIR_MIG_INPUT_MAX bytes, NULL read as empty. */
static int
fill_input(sqlite3_stmt *st, void *out)
{
	return read_blob(st, out, DIR_MIG_INPUT_MAX);
}

int
dir_migration_input(struct dir *d, int64_t id, void **inp, size_t *lenp)
{
	struct blob b = { NULL, 0 };
	int r;

	*inp = NULL;
	*lenp = 0;
	if ((r = get_row(d, S_MIG_INPUT, id, fill_input, &b)) != 0)
		return r;
	*inp = b.data;
	*lenp = b.len;
	return 0;
}

int
dir_arrival_delete(struct dir *d, uint64_t gpid)
{
	return delete_key(d, S_ARR_DELETE, (int64_t)gpid);
}

int
dir_purge(struct dir *d, int64_t now, int64_t keep_seconds)
{
	static const enum stmt purges[] = {
		S_PURGE_PROCS, S_PURGE_FWD, S_PURGE_MIG, S_PURGE_ARR
	};
	sqlite3_stmt *st;
	size_t i;
	int rc = SQLITE_OK, r;

	if (keep_seconds < 0 || now < INT64_MIN + keep_seconds)
		return SS_ERR_BAD;
	if ((r = sp_begin(d)) != 0)
		return r;
	for (i = 0; i < sizeof(purges) / sizeof(*purges) && r == 0; i++) {
		st = d->st[purges[i]];
		if ((rc = sqlite3_bind_int64(st, 1, now - keep_seconds)) ==
		    SQLITE_OK)
			rc = sqlite3_step(st);
		r = finish(d, st, rc);
	}
	rc = sp_end(d, r == 0);
	return r != 0 ? r : rc;
}

int
dir_checkpoint(struct dir *d)
{
	int rc;

	rc = sqlite3_wal_checkpoint_v2(d->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
	    NULL, NULL);
	return rc == SQLITE_BUSY ? SS_ERR_BUSY : map_rc(rc);
}
