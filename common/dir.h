/*
 * dir.h: this node's part of the directory, an SQLite database.
 *
 * Each noded keeps one database in its state directory.  It is the truth
 * for the jobs born on this node (role "home": where each runs now, its
 * local pid, its end) and records the jobs of other homes that run here
 * (role "guest").  A job born and running here is one row, role "home".
 * Only noded's main process opens it (a connection does not survive fork).
 *
 * Tables (see dir.c for the schema and its numbered migrations):
 *	meta		the persisted 64-bit job sequence
 *	nodes		the cluster's nodes and their last reported load
 *	procs		jobs, keyed by GPID
 *	forwards	jobs that left this node: where they went
 *	migrations	one row per attempt to move a job off or onto here
 *	arrivals	jobs being restored here, until COMMIT (migration)
 *
 * Units: every timestamp is int64 seconds since the Epoch (UTC), except
 * migration downtime, in microseconds.  Node ids are 1-999.  GPIDs are
 * valid (gpid.h), hence below 2^63.
 *
 * Every function returns 0 or a negative SS_ERR_*: SS_ERR_NOT_FOUND when the
 * row named is not there, SS_ERR_EXISTS for a duplicate key, SS_ERR_BAD for
 * an argument out of range, SS_ERR_BUSY when another connection held the
 * database past the busy timeout, SS_ERR_DB for anything else SQLite
 * refused (dir_errmsg() then says what), SS_ERR_ALLOC.  A failed call
 * changes nothing.  Strings handed in are copied; strings handed out are
 * owned as each function says.  A struct dir is not thread-safe.
 */
#ifndef SSHELL_DIR_H
#define SSHELL_DIR_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

/* The schema version this code creates and understands. */
#define DIR_SCHEMA_VERSION	4
/* How long a statement waits for another connection's lock, ms. */
#define DIR_BUSY_TIMEOUT_MS	5000
/* Longest proc or node state word, NUL excluded. */
#define DIR_STATE_MAX		15

struct dir;

enum dir_role {
	DIR_ROLE_HOME = 0,	/* born on this node; this row is the truth */
	DIR_ROLE_GUEST = 1	/* born elsewhere, runs (or ran) here */
};

/*
 * One job.  Conventional states: "starting", "running", "stopped",
 * "moving", "done", "lost"; any word of [a-z-] up to DIR_STATE_MAX bytes is
 * accepted.  Strings returned by dir_proc_get() are owned by the struct and
 * freed by dir_proc_clear(); in a dir_proc_foreach() callback they belong
 * to the directory and last until the callback returns.
 */
struct dir_proc {
	uint64_t	 gpid;		/* valid GPID, primary key */
	unsigned	 home;		/* home node id (= gpid % 1000) */
	unsigned	 node;		/* node it runs on now, 1-999 */
	pid_t		 pid;		/* pid there (0: not known yet) */
	uint64_t	 starttime;	/* /proc/PID/stat field 22, clock ticks */
	uid_t		 uid;
	char		*user;		/* user name, not NULL */
	char		*cmd;		/* display command, exact UTF-8, not NULL */
	uint8_t		*argv;		/* opaque argument blob, or NULL */
	size_t		 argv_len;	/* bytes at argv */
	char		 state[DIR_STATE_MAX + 1];
	int64_t		 started;	/* s */
	int64_t		 ended;		/* s; 0 while not ended */
	int		 exit_code;	/* sh status (code, 128+N); -1 running */
	int		 exit_signal;	/* N if signal N ended it, else 0 */
	unsigned	 moves;		/* times it changed node */
	int		 pinned;	/* 1 if placed by -n/@NODE: never moved */
	char		*name;		/* job name (--name), or NULL */
	char		*log;		/* output log path, or NULL */
	enum dir_role	 role;
};

/*
 * What dir_proc_foreach() visits: all conditions must hold.  Zero-filled
 * means every running job of every user, in either role.
 */
struct dir_filter {
	int		 by_uid;	/* nonzero: only jobs of uid */
	uid_t		 uid;
	int		 include_ended;	/* 0: only rows with no end */
	unsigned	 node;		/* 0: any node; else runs on this node */
	int		 role;		/* -1 or 0..: see below */
	const char	*name;		/* NULL: any; else this job name */
	const uint64_t	*gpids;		/* NULL: any; else one of these */
	size_t		 ngpids;
};
/* dir_filter.role: DIR_FILTER_ANY_ROLE, or DIR_ROLE_HOME + 1, ... */
#define DIR_FILTER_ANY_ROLE	0
#define DIR_FILTER_ROLE(r)	((int)(r) + 1)

/* A node as this node last heard of it.  Strings as for dir_proc. */
struct dir_node {
	unsigned	 id;		/* 1-999 */
	char		*name;		/* not NULL */
	char		*address;	/* not NULL */
	uint16_t	 port;
	char		*key;		/* base64 ed25519 key, or NULL */
	unsigned	 cpus;		/* 0: not known yet */
	uint64_t	 memory;	/* available memory, bytes */
	double		 load;		/* runnable tasks, noded's own count */
	char		 state[DIR_STATE_MAX + 1]; /* up, down, draining */
	int64_t		 last_seen;	/* s; 0: never */
};

struct dir_migration {
	int64_t		 id;		/* > 0 */
	uint64_t	 gpid;
	unsigned	 src;		/* node ids */
	unsigned	 dst;
	char		 phase[DIR_STATE_MAX + 1]; /* caller's words */
	uint64_t	 bytes;		/* image bytes sent so far */
	int64_t		 downtime_us;	/* 0 until finished */
	char		*error;		/* why it failed, or NULL */
	int64_t		 started;	/* s */
	int64_t		 ended;		/* s; 0 while in progress */
};

/* Callbacks: return 0 to go on; anything else stops and is returned. */
typedef int	(*dir_proc_cb)(const struct dir_proc *, void *);
typedef int	(*dir_node_cb)(const struct dir_node *, void *);

/*
 * Opens (creating if needed) the database at path, sets WAL mode,
 * synchronous=NORMAL and the busy timeout, brings its schema up to
 * DIR_SCHEMA_VERSION (each migration in its own transaction), and prepares
 * every statement.  Returns 0 and *dp; else *dp is NULL and the result is
 * SS_ERR_SYSTEM (errno set) when the file cannot be opened or created,
 * SS_ERR_VERSION for a database made by a newer sshell, SS_ERR_CORRUPT for
 * a file that is not a sound database, SS_ERR_PERM when it is read-only,
 * SS_ERR_BUSY, SS_ERR_DB or SS_ERR_ALLOC.
 */
int	dir_open(const char *path, struct dir **dp);
/* Finalizes everything and closes; NULL is fine. */
void	dir_close(struct dir *d);
/* SQLite's message for the last failure on d (static-like: valid until the
 * next call on d); never NULL. */
const char *dir_errmsg(struct dir *d);

/*
 * Caller transactions, for several calls that must happen together (such
 * as `ssubmit --unique`: look up, then insert).  dir_begin takes the write
 * lock at once (BEGIN IMMEDIATE).  Every other dir_* call may be made
 * inside; they nest as savepoints.
 */
int	dir_begin(struct dir *d);
int	dir_commit(struct dir *d);
int	dir_rollback(struct dir *d);

/*
 * Increments the persisted job sequence and returns its new value (first
 * call on a new database: 1) in *seqp.  SS_ERR_TOO_LONG past GPID_SEQ_MAX.
 */
int	dir_next_seq(struct dir *d, uint64_t *seqp);

/*
 * Inserts p (every field; home is taken from the GPID, and exit_code < 0
 * or ended == 0 store "not ended").  SS_ERR_EXISTS if the GPID is there,
 * SS_ERR_BAD if the GPID, state, user or cmd is invalid.
 */
int	dir_proc_insert(struct dir *d, const struct dir_proc *p);
/* Fills *p with the row of gpid; free with dir_proc_clear(). */
int	dir_proc_get(struct dir *d, uint64_t gpid, struct dir_proc *p);
/* Frees the strings of a dir_proc filled by dir_proc_get and zeroes it. */
void	dir_proc_clear(struct dir_proc *p);
/* Deletes the row of gpid (a guest that left, say). */
int	dir_proc_delete(struct dir *d, uint64_t gpid);
/*
 * Records where gpid runs now; adds one to moves if node differs from the
 * node recorded before.
 */
int	dir_proc_set_location(struct dir *d, uint64_t gpid, unsigned node,
	    pid_t pid, uint64_t starttime);
int	dir_proc_set_state(struct dir *d, uint64_t gpid, const char *state);
/*
 * Records the end of gpid: its sh status exit_code (0-255), the signal
 * that ended it or 0, the time; sets state "done".
 */
int	dir_proc_set_exit(struct dir *d, uint64_t gpid, int exit_code,
	    int signal, int64_t ended);
/*
 * Calls cb for each row that f selects (NULL: every running row), in GPID
 * order.  cb may call other dir_* functions, but not dir_proc_foreach
 * (SS_ERR_BUSY); rows it changes may or may not be visited again.
 */
int	dir_proc_foreach(struct dir *d, const struct dir_filter *f,
	    dir_proc_cb cb, void *arg);
/*
 * The lowest GPID of a job of uid named name that has not ended, in either
 * role, in *gpidp; SS_ERR_NOT_FOUND if none.
 */
int	dir_proc_running_by_name(struct dir *d, uid_t uid, const char *name,
	    uint64_t *gpidp);

/*
 * Inserts or updates the identity of n->id (name, address, port, key,
 * cpus if nonzero), keeping what the node reported (load, memory, state,
 * last seen); a new row starts "down", never seen.
 */
int	dir_node_upsert(struct dir *d, const struct dir_node *n);
/*
 * Records a load report from node id: its load, its cpus as the machine
 * counts them (0 keeps the old value: pass 0 when the cluster file fixes
 * the node's cpus), its available memory in bytes, and now as last seen.
 */
int	dir_node_set_load(struct dir *d, unsigned id, double load,
	    unsigned cpus, uint64_t memory, int64_t now);
/* state is "up", "down" or "draining" (else SS_ERR_BAD). */
int	dir_node_set_state(struct dir *d, unsigned id, const char *state);
int	dir_node_get(struct dir *d, unsigned id, struct dir_node *n);
void	dir_node_clear(struct dir_node *n);
/* Deletes node id (gone from the cluster file). */
int	dir_node_delete(struct dir *d, unsigned id);
/* Calls cb for every node in id order; same rules as dir_proc_foreach. */
int	dir_node_foreach(struct dir *d, dir_node_cb cb, void *arg);

/*
 * Records that gpid, which was pid old_pid here, now runs as new_pid on
 * new_node since when.
 */
int	dir_forward_add(struct dir *d, uint64_t gpid, pid_t old_pid,
	    unsigned new_node, pid_t new_pid, int64_t when);
/*
 * Where gpid went the last time it left this node (any out pointer may be
 * NULL); SS_ERR_NOT_FOUND if it never left.  A procs row for gpid, if any,
 * is newer truth: look there first.
 */
int	dir_forward_lookup(struct dir *d, uint64_t gpid, unsigned *nodep,
	    pid_t *pidp, int64_t *whenp);

/* Starts a migration row in phase "begin"; its id in *idp. */
int	dir_migration_begin(struct dir *d, uint64_t gpid, unsigned src,
	    unsigned dst, int64_t now, int64_t *idp);
/* Moves migration id to phase, with bytes sent so far. */
int	dir_migration_set_phase(struct dir *d, int64_t id, const char *phase,
	    uint64_t bytes);
/*
 * Ends migration id in phase (such as "committed" or "failed"), with its
 * downtime and error (NULL on success).
 */
int	dir_migration_finish(struct dir *d, int64_t id, const char *phase,
	    int64_t downtime_us, const char *error, int64_t now);
/* The row of migration id, or the latest of gpid; free with _clear. */
int	dir_migration_get(struct dir *d, int64_t id, struct dir_migration *m);
int	dir_migration_last(struct dir *d, uint64_t gpid,
	    struct dir_migration *m);
void	dir_migration_clear(struct dir_migration *m);
/*
 * The input of migration id (the bytes its COMMIT carries), 0 to
 * DIR_MIG_INPUT_MAX bytes: set once the move is decided, read back when
 * the target asks.  *inp is malloc'd, the caller's (NULL when empty).
 */
#define DIR_MIG_INPUT_MAX	(64u * 1024 * 1024)
int	dir_migration_set_input(struct dir *d, int64_t id, const void *in,
	    size_t len);
int	dir_migration_input(struct dir *d, int64_t id, void **inp,
	    size_t *lenp);

/*
 * Arrivals (migration, target side): a job being restored here, from its
 * RESTORE until COMMIT or the end of the move, with its request as it came
 * (opaque here; 1 to DIR_ARRIVAL_MAX bytes), replacing an older one of the
 * same gpid.  _get returns a copy the caller frees, or SS_ERR_NOT_FOUND;
 * _delete says SS_ERR_NOT_FOUND when there was none.
 */
#define DIR_ARRIVAL_MAX	(1024 * 1024)
int	dir_arrival_put(struct dir *d, uint64_t gpid, const void *req,
	    size_t len, int64_t now);
int	dir_arrival_get(struct dir *d, uint64_t gpid, void **reqp,
	    size_t *lenp);
int	dir_arrival_delete(struct dir *d, uint64_t gpid);

/*
 * Retention: deletes the procs rows that ended, the forwards, the
 * finished migrations and the arrivals older than now - keep_seconds, in
 * one transaction.
 * A forward of a job whose row here has not ended is kept.
 */
int	dir_purge(struct dir *d, int64_t now, int64_t keep_seconds);

/*
 * Copies the write-ahead log back into the database (a passive
 * checkpoint).  dir_open turns automatic checkpoints off, so that no
 * commit pays for one: the owner calls this from a timer (noded: every
 * second), off the path of any request.
 */
int	dir_checkpoint(struct dir *d);

#endif
