/*
 * proto.h: every message of sshell's wire protocol, in one place.
 *
 * A frame is   uint32 length, uint8 type, fields
 * where length counts the type byte and the fields, and fields use SSH's
 * encodings (uint8, uint32, uint64 big-endian; string = uint32 length +
 * bytes; int32 travels as its uint32 bit pattern).  The same frames travel
 * on the Unix socket between a tool and its local noded, on the control
 * channel between two nodes (wrapped in MSG_PEER_CALL / MSG_PEER_REPLY),
 * and between noded and a job's shepherd.  PROTOCOL beside this file
 * describes each message field by field; this header is the authority for
 * numbers.
 *
 * Message numbers come in blocks: 1-15 session, 16-31 processes, 32-47
 * listing and signals, 48-63 nodes, 64-95 migration, 96-111 peer envelope,
 * 112-127 shepherd.  A number is never reused for another meaning; a
 * change to any message's fields bumps PROTO_VERSION, and a peer with
 * another version is refused at hello.
 *
 * Decoders never trust a length: every frame is bounded by PROTO_MAX_FRAME,
 * every string by the limit given to proto_get_* below, every count by
 * PROTO_MAX_COUNT.  A malformed frame is answered with MSG_ERROR and the
 * connection is closed.
 */
#ifndef SSHELL_PROTO_H
#define SSHELL_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define PROTO_VERSION		1
#define PROTO_MAX_FRAME		(8u * 1024 * 1024)
#define PROTO_MAX_COUNT		100000	/* argv, env, list rows, gpids */
#define PROTO_MAX_STR		(256u * 1024)	/* one argv or env string */
#define PROTO_MAX_NAME		256	/* node, user, job names */
#define PROTO_MAX_PATH		4096
#define PROTO_MAX_DATA		65536	/* bytes in one MSG_DATA */

enum proto_msg {
	/* Session. */
	MSG_HELLO = 1,		/* u32 version, string name, u32 node id */
	MSG_OK = 2,		/* (nothing) */
	MSG_ERROR = 3,		/* u32 code (SS_ERR_*), string message */

	/* Processes. */
	MSG_SPAWN = 16,		/* spawn_req */
	MSG_SPAWNED = 17,	/* u64 gpid, string node, u32 pid, u32 flags */
	MSG_DATA = 18,		/* u8 stream (0 in, 1 out, 2 err), string data */
	MSG_EOF = 19,		/* u8 stream */
	MSG_EXITED = 20,	/* u64 gpid, u32 status (sh style), u32 signal */
	MSG_WINCH = 21,		/* u32 rows, u32 cols */
	MSG_STOPPED = 22,	/* u32 signal */
	MSG_CONTINUED = 23,	/* (nothing) */
	MSG_RUN = 24,		/* peer: u64 gpid, u32 home id, u32 run seq,
				   spawn_req */
	MSG_WAIT = 25,		/* u64 gpid; answered by MSG_EXITED */

	/* Listing and signals. */
	MSG_LIST = 32,		/* list_req */
	MSG_LIST_REPLY = 33,	/* u32 n, n * proc_info */
	MSG_SIGNAL = 34,	/* signal_req */
	MSG_SIGNAL_REPLY = 35,	/* u32 n, n * (u64 gpid, u32 code, string msg) */

	/* Nodes. */
	MSG_NODES = 48,		/* (nothing) */
	MSG_NODES_REPLY = 49,	/* u32 n, n * node_info */
	MSG_DRAIN = 50,		/* string node, u8 drain (1) or undrain (0) */
	MSG_LOAD = 51,		/* peer: load_report */

	/* Migration. */
	MSG_MIGRATE = 64,	/* u64 gpid, string node ("" = least loaded) */
	MSG_MIGRATED = 65,	/* migrate_result */
	MSG_RESTORE = 66,	/* peer, mover -> target: move_req */
	MSG_COMMIT = 67,	/* peer, mover -> target: u64 gpid, u64 mig id,
				   string stdin bytes; answered MSG_RESTORED */
	MSG_RESTORED = 68,	/* u64 gpid, u32 pid, u64 starttime */
	MSG_ABORT = 69,		/* peer, mover -> target: u64 gpid, u64 mig id */
	MSG_MOVED = 70,		/* peer, -> home: u64 gpid, u32 phase
				   (MOVED_*), u32 node, u32 pid, u64 starttime */
	MSG_MIGRATE_QUERY = 71,	/* peer, target -> source: u64 gpid, u64 mig
				   id; answered MSG_MIGRATE_STATE */
	MSG_MIGRATE_STATE = 72,	/* u8 killed (1: commit, 0: discard), string
				   stdin bytes (the lost COMMIT's) */
	MSG_MOVE_SPEC = 80,	/* noded -> mover: move_spec */
	MSG_MOVE_READY = 81,	/* mover -> noded: u64 image bytes */
	MSG_MOVE_KILL = 82,	/* noded -> mover: string stdin bytes */
	MSG_MOVE_DONE = 83,	/* mover -> noded: migrate_result, u32 pid,
				   u64 starttime */
	MSG_MOVE_INPUT = 84,	/* mover -> noded: string stdin bytes (what
				   COMMIT carries), answered MSG_OK */

	/* Peer envelope, on the control channel between nodes. */
	MSG_PEER_CALL = 96,	/* u32 reqid, u32 uid, u32 gid, string user,
				   string frame (a whole inner frame) */
	MSG_PEER_REPLY = 97,	/* u32 reqid, string frame */

	/* Shepherd <-> noded, on the shepherd's socket. */
	MSG_SHEP_SPEC = 112,	/* shep_spec, noded -> shepherd on fd 3 */
	MSG_SHEP_INFO = 113,	/* shep_info, with the job's fds (SCM_RIGHTS) */
	MSG_SHEP_EXIT = 114,	/* u32 wait status (raw, from waitpid) */
	MSG_SHEP_COLLECT = 115,	/* noded has recorded the exit: shepherd ends */
	MSG_SHEP_SIGNAL = 116,	/* u32 signal, to the job's process group */
	MSG_SHEP_WINCH = 117,	/* u32 rows, u32 cols */
	MSG_SHEP_RUN = 118,	/* string stdin bytes: a restored job runs */
};

/* MSG_MOVED phases. */
#define MOVED_BEGIN	0	/* a move starts: hold the job's input */
#define MOVED_FAILED	1	/* it stays where it was: send input again */
#define MOVED_DONE	2	/* it runs on node now: attach there */

/* One move's figures: smigrate's line. */
struct migrate_result {
	uint64_t	 gpid;
	char		*from;		/* node names */
	char		*to;
	uint64_t	 image_bytes;
	uint64_t	 total_us;	/* request to running on the target */
	uint64_t	 downtime_us;	/* freeze to running again */
	uint32_t	 pending;	/* 1: the original is recorded killed
					   but the target did not confirm the
					   COMMIT: its copy runs once it has
					   asked the source's record */
	uint64_t	 slowed_us;	/* how long the job was slowed down
					   for its pre-copy to converge (0:
					   not at all) */
};

/* What the target needs to host a moving job; owned strings. */
struct move_req {
	uint64_t	 gpid;
	uint64_t	 mig_id;	/* the source's migrations row */
	uint32_t	 src;		/* source node id */
	uint32_t	 home;
	uint32_t	 uid, gid;
	char		*user;
	char		*cmd;
	char		*name;
	char		*log;
	int64_t		 started;
	uint32_t	 flags;		/* SPAWN_PTY, SPAWN_IO, SPAWN_PINNED */
	uint32_t	 moves;		/* moves before this one */
	uint32_t	 rows, cols;	/* terminal size */
	char		*term;		/* TERM, "" */
	uint32_t	 tty_mode_len;	/* 0, or sizeof(struct termios) */
	uint8_t		 tty_mode[64];
};

/* What noded gives its mover (sshell-mover) on fd 3. */
struct move_spec {
	struct move_req	 req;
	uint32_t	 pid;		/* job leader, noded's pid namespace */
	uint64_t	 starttime;
	uint32_t	 dst;		/* target node id */
	char		*dst_name;
	char		*addr;
	uint32_t	 port;
	char		*key;		/* target's host key, base64 */
	char		*self;		/* our node name */
	char		*hostkey;	/* path of our host key */
	char		*freezer;	/* the job's cgroup, to freeze first;
					   "" if it has none */
};

/* MSG_SPAWN flags. */
#define SPAWN_WAIT	0x01	/* stay connected; MSG_EXITED at the end */
#define SPAWN_UNIQUE	0x02	/* refuse if a job of this name runs */
#define SPAWN_PTY	0x04	/* the job gets a terminal */
#define SPAWN_IO	0x08	/* relay stdio as MSG_DATA on this connection */
#define SPAWN_PINNED	0x10	/* node was given by the user */

/* MSG_SPAWNED flags. */
#define SPAWNED_EXISTING 0x01	/* --unique: that job was already running */

/* MSG_LIST flags. */
#define LIST_ALL_USERS	0x01	/* sps -e */
#define LIST_ENDED	0x02	/* sps -a */
#define LIST_LOCAL	0x04	/* peer: only what this node knows itself */

/* MSG_SIGNAL selectors and flags. */
#define SEL_GPIDS	0
#define SEL_NAME	1
#define SEL_USER	2
#define SEL_NODE	3
#define SIGF_LOCAL	0x01	/* peer: deliver here, do not route */
#define SIGF_HOP_SHIFT	8	/* bits 8-15: times forwarded so far */
#define SIGF_HOP_MAX	16	/* a longer chain is a stale loop */

/* What a job is started with; owned strings, freed by spawn_req_clear. */
struct spawn_req {
	uint32_t	  flags;	/* SPAWN_* */
	char		 *node;		/* "" = let placement choose */
	char		 *name;		/* job name, "" = none */
	char		 *log;		/* absolute path, "" = default */
	char		 *cwd;		/* absolute */
	uint32_t	  umask;
	uint32_t	  argc;		/* >= 1 */
	char		**argv;		/* argc strings + NULL */
	uint32_t	  envc;
	char		**env;		/* envc "K=V" strings + NULL */
	char		 *cmd;		/* display form, "" = argv joined */
	char		 *term;		/* TERM for a pty, "" = none */
	uint32_t	  rows, cols;	/* pty size */
};

/* One row of sps; owned strings, freed by proc_info_clear. */
struct proc_info {
	uint64_t	 gpid;
	char		*node;		/* where it runs (or ran) */
	uint32_t	 pid;		/* on that node; 0 if unknown */
	uint32_t	 uid;
	char		*user;
	char		*state;		/* R S D T Z done lost moving */
	uint32_t	 cpu_milli;	/* %CPU * 1000 */
	uint64_t	 rss_kb;	/* whole tree */
	uint64_t	 time_s;	/* CPU seconds, whole tree */
	char		*cmd;
	char		*home;		/* node name */
	uint32_t	 moves;
	char		*name;		/* job name or "" */
	char		*log;		/* output log path */
	uint8_t		 has_exit;	/* exit below is valid */
	int32_t		 exit;		/* sh style: code or 128+N */
	int64_t		 started;	/* unix seconds */
};

/* One row of snodes; owned strings, freed by node_info_clear. */
struct node_info {
	uint32_t	 id;
	char		*name;
	char		*addr;
	uint32_t	 port;
	uint32_t	 cpus;
	uint64_t	 mem_kb;
	uint64_t	 memfree_kb;
	uint32_t	 load_milli;	/* runnable tasks * 1000 */
	uint32_t	 jobs;		/* jobs running there */
	char		*state;		/* up down draining */
	int64_t		 last_seen_ms;	/* unix ms, 0 = never */
};

struct list_req {
	uint32_t	 flags;		/* LIST_* */
	char		*user;		/* "" = no filter */
	char		*node;		/* "" = no filter */
	uint32_t	 ngpids;
	uint64_t	*gpids;
};

struct signal_req {
	uint32_t	 sig;
	uint32_t	 flags;		/* SIGF_* */
	char		*at;		/* --at NODE, "" = none */
	uint32_t	 selector;	/* SEL_* */
	char		*arg;		/* NAME, USER or NODE */
	uint32_t	 ngpids;
	uint64_t	*gpids;
};

struct load_report {
	uint32_t	 load_milli;
	uint32_t	 jobs;
	uint32_t	 cpus;
	uint64_t	 mem_kb;
	uint64_t	 memfree_kb;
	uint8_t		 draining;
	uint32_t	 runs_seen;	/* highest MSG_RUN seq taken from the
					   node this report goes to */
};

/* What noded hands a new shepherd on its fd 3. */
struct shep_spec {
	uint64_t	 gpid;
	uint32_t	 uid, gid;
	char		*user;
	uint32_t	 newpid;	/* 1: new PID namespace (root noded) */
	char		*sock;		/* path of the socket to listen on */
	char		*cgroup;	/* freezer cgroup dir to create, "" */
	struct spawn_req req;
	uint32_t	 restore;	/* 1: an image follows the spec on fd 3 */
	uint32_t	 tty_mode_len;	/* restore: termios to set, or 0 */
	uint8_t		 tty_mode[64];
};

struct shep_info {
	uint32_t	 pid;		/* job leader, in noded's pid ns */
	uint32_t	 nspid;		/* job leader, in its own namespace */
	uint32_t	 shep_pid;	/* shepherd, in noded's pid ns */
	uint64_t	 starttime;	/* leader's /proc stat field 22 */
	uint32_t	 pty;		/* 1: one fd (master); 0: in, out, err */
	uint32_t	 exited;	/* 1: status below is valid */
	uint32_t	 status;	/* raw wait status */
	uint32_t	 waiting;	/* 1: a restored job not run yet, waiting
					   for MSG_SHEP_RUN (migration); optional
					   on the wire, 0 when absent */
};

/*
 * Framing.  proto_msg_new() returns a buffer holding a frame header for
 * type; the caller appends fields and calls proto_msg_finish() to fill in
 * the length.  proto_frame_take() takes one whole frame off the front of a
 * stream buffer: 0 with *type and *payload (a new buffer the caller frees),
 * SS_ERR_SHORT when the frame is not complete yet (wait for more bytes),
 * SS_ERR_TOO_LONG or SS_ERR_BAD when the stream is broken (close it).
 */
struct buf	*proto_msg_new(uint8_t type);
int		 proto_msg_finish(struct buf *m);
int		 proto_frame_take(struct buf *in, uint8_t *type,
		    struct buf **payload);
/* A finished MSG_ERROR frame, or NULL on ENOMEM. */
struct buf	*proto_error(int code, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
/* Decodes MSG_ERROR's payload; *msg newly allocated. */
int		 proto_get_error(struct buf *p, int *code, char **msg);

/* Blocking helpers for the tools and the shepherd. */
int		 proto_write_all(int fd, const struct buf *m);
/* Reads until one frame is in `in`, then takes it; SS_ERR_SHORT at EOF. */
int		 proto_read_frame(int fd, struct buf *in, uint8_t *type,
		    struct buf **payload);

/* Encoders/decoders of the structures above; *_get leaves the struct
 * cleared on failure, *_clear frees what *_get allocated. */
int	spawn_req_put(struct buf *b, const struct spawn_req *r);
int	spawn_req_get(struct buf *b, struct spawn_req *r);
void	spawn_req_clear(struct spawn_req *r);
int	proc_info_put(struct buf *b, const struct proc_info *p);
int	proc_info_get(struct buf *b, struct proc_info *p);
void	proc_info_clear(struct proc_info *p);
int	node_info_put(struct buf *b, const struct node_info *n);
int	node_info_get(struct buf *b, struct node_info *n);
void	node_info_clear(struct node_info *n);
int	list_req_put(struct buf *b, const struct list_req *r);
int	list_req_get(struct buf *b, struct list_req *r);
void	list_req_clear(struct list_req *r);
int	signal_req_put(struct buf *b, const struct signal_req *r);
int	signal_req_get(struct buf *b, struct signal_req *r);
void	signal_req_clear(struct signal_req *r);
int	load_report_put(struct buf *b, const struct load_report *l);
int	load_report_get(struct buf *b, struct load_report *l);
int	shep_spec_put(struct buf *b, const struct shep_spec *s);
int	shep_spec_get(struct buf *b, struct shep_spec *s);
void	shep_spec_clear(struct shep_spec *s);
int	shep_info_put(struct buf *b, const struct shep_info *i);
int	migrate_result_put(struct buf *b, const struct migrate_result *m);
int	migrate_result_get(struct buf *b, struct migrate_result *m);
void	migrate_result_clear(struct migrate_result *m);
int	move_req_put(struct buf *b, const struct move_req *r);
int	move_req_get(struct buf *b, struct move_req *r);
void	move_req_clear(struct move_req *r);
int	move_spec_put(struct buf *b, const struct move_spec *s);
int	move_spec_get(struct buf *b, struct move_spec *s);
void	move_spec_clear(struct move_spec *s);
int	shep_info_get(struct buf *b, struct shep_info *i);

/* The name of a message type, for logs ("?" if unknown). */
const char	*proto_msg_name(uint8_t type);

#endif
