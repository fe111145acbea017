/*
 * noded.h: the node daemon's shared state and the interfaces between its
 * files.
 *
 * noded is one event loop (loop.c): poll(2) over its own descriptors
 * (the Unix socket for the tools, the TCP listener for peers, job pipes,
 * shepherd sockets, a signalfd) plus the socket of every established SSH
 * session, after which libssh's ssh_event processes the sessions without
 * blocking.  SSH handshakes, in both directions, run in short-lived
 * threads (peer.c) that own their session until it is authenticated and
 * its control channel has said hello; only then does the loop see it.  So
 * a peer that stalls mid-handshake stalls only its own thread, which gives
 * up after NODED_HANDSHAKE_TIMEOUT.
 *
 * Objects that the loop polls (struct conn, struct rjob, ...) are never
 * freed inside a callback: they are marked dead and reaped after the
 * current round (loop_reap), so no callback ever sees freed memory.
 * Requests keep a *reference by id* to their origin (struct req), never a
 * pointer, so an origin that went away simply drops its reply.
 *
 * Roles of a node for one job: the HOME node (where it was submitted,
 * gpid % 1000) keeps the authoritative directory row, the output log and
 * the tool connections (struct hjob, home.c); the node that RUNS it keeps
 * the shepherd and the job's descriptors (struct rjob, job.c).  The home
 * bridges the job's I/O: it opens an "attach GPID" session channel on its
 * SSH session to the running node, which sends stdout as channel data,
 * stderr as extended data and the end as exit-status/exit-signal.  When
 * both roles are on one node, rjob and hjob are linked directly.
 */
#ifndef NODED_H
#define NODED_H

#include <sys/queue.h>
#include <sys/types.h>

#include <poll.h>
#include <stdint.h>

#include <libssh/libssh.h>
#include <libssh/callbacks.h>
#include <libssh/server.h>

#include "buf.h"
#include "conf.h"
#include "dir.h"
#include "proto.h"

/* glibc's sys/queue.h lacks the BSD _SAFE iterators. */
#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = TAILQ_FIRST((head));				\
	    (var) && ((tvar) = TAILQ_NEXT((var), field), 1);		\
	    (var) = (tvar))
#endif

#define NODED_HANDSHAKE_TIMEOUT	5	/* s, a peer's whole handshake */
#define NODED_PEER_DOWN_MS	5000	/* silence before a peer is down */
#define NODED_LOAD_MS		1000	/* load push interval */
#define NODED_CALL_TIMEOUT_MS	5000	/* a peer call without a reply */
#define NODED_OUTQ_MAX		(4u * 1024 * 1024) /* a tool's reply queue */
#define NODED_IO_CHUNK		32768	/* bytes read from a job at once */
#define NODED_MAX_HANDSHAKES	32	/* concurrent handshake threads */

struct peer;
struct conn;
struct rjob;
struct hjob;

/* Where a request came from, and so where its reply goes. */
struct req {
	int		 kind;		/* REQ_LOCAL, REQ_PEER, REQ_SELF */
	uint64_t	 origin;	/* conn id or insess id */
	uint32_t	 reqid;		/* peer's request id */
	uid_t		 uid;		/* who asks: SO_PEERCRED or the peer's word */
	gid_t		 gid;
	char		 user[PROTO_MAX_NAME];
	unsigned	 from_node;	/* peer node id, 0 for a tool */
};
#define REQ_LOCAL	1
#define REQ_PEER	2

/* A reply arriving for a call we made to a peer; frame is the inner reply
 * (type and payload), or type MSG_ERROR with a made-up payload when the
 * peer went down or timed out.  The callback must not keep payload. */
typedef void	(*call_cb)(void *arg, uint8_t type, struct buf *payload);

/* A tool connected to our Unix socket. */
struct conn {
	TAILQ_ENTRY(conn) entry;
	uint64_t	 id;
	int		 fd;
	struct buf	*in;
	struct buf	*out;
	uid_t		 uid;
	gid_t		 gid;
	pid_t		 pid;
	char		 user[PROTO_MAX_NAME];	/* name of uid, at accept */
	int		 hello;		/* said hello */
	int		 dead;		/* to be reaped */
	int		 close_after;	/* close once out is flushed */
	uint64_t	 io_gpid;	/* SPAWN_IO / WAIT: the job it follows */
};

/* One incoming SSH session: a peer's requests to us. */
struct insess {
	TAILQ_ENTRY(insess) entry;
	uint64_t	 id;
	unsigned	 node;		/* authenticated peer id */
	ssh_session	 s;
	ssh_channel	 ctl;
	struct buf	*in;		/* control channel bytes */
	struct buf	*out;		/* waiting for window */
	int		 dead;
	int		 in_event;
	int		 mover;		/* a source node's mover (migration) */
	ssh_event	 ev;		/* a mover's session: its own event,
					   driven by peer_mover_io() */
	struct ssh_channel_callbacks_struct ccb;
	struct ssh_server_callbacks_struct scb;
};

/* A pending call to a peer. */
struct call {
	TAILQ_ENTRY(call) entry;
	uint32_t	 reqid;
	int64_t		 deadline_ms;
	call_cb		 cb;
	void		*arg;
};
TAILQ_HEAD(callq, call);

enum peer_state {
	PEER_DOWN = 0,		/* not heard of for NODED_PEER_DOWN_MS */
	PEER_UP			/* heard of recently */
};

/* One other node of the cluster, and our outgoing session to it. */
struct peer {
	TAILQ_ENTRY(peer) entry;
	unsigned	 id;
	char		 name[CONF_NAME_MAX + 1];
	char		 addr[256];
	uint16_t	 port;
	char		 key[128];	/* base64 ed25519, "" if none */
	enum peer_state	 state;
	int64_t		 last_heard_ms;
	/* Outgoing session: our requests, load reports and job attaches. */
	ssh_session	 s;		/* NULL when not connected */
	ssh_channel	 ctl;
	struct buf	*in;
	struct buf	*out;
	int		 connecting;	/* a handshake thread runs */
	int64_t		 retry_ms;	/* next connection attempt */
	int		 fails;		/* failed attempts in a row */
	int		 in_event;
	int		 broken;	/* session failed: tear down */
	struct callq	 calls;
	uint32_t	 next_reqid;
	/* What it reported last. */
	struct load_report load;
	uint32_t	 runs_sent;	/* MSG_RUN seq we sent it last */
	uint32_t	 runs_taken;	/* MSG_RUN seq we took from it last */
	int		 reported;	/* a load report arrived since up */
	struct ssh_channel_callbacks_struct ccb;
};

/* A job that runs on this node (job.c). */
struct rjob {
	TAILQ_ENTRY(rjob) entry;
	uint64_t	 gpid;
	unsigned	 home;		/* home node id */
	uid_t		 uid;
	gid_t		 gid;
	char		*user;
	char		*cmd;
	char		*name;
	char		*log;
	int64_t		 started;
	struct shep_info info;
	int		 have_info;	/* SHEP_INFO arrived */
	int		 shep_fd;	/* connection to the shepherd */
	struct buf	*shep_in;
	int		 fd_in, fd_out, fd_err;	/* pipes, or pty master in fd_out */
	int		 out_eof, err_eof;
	struct buf	*stdin_q;	/* bytes for the job's stdin */
	int		 stdin_eof;	/* close stdin once stdin_q is empty */
	int		 exited;	/* status valid */
	int		 status;	/* raw wait status */
	int		 finished;	/* exit delivered; waiting to be freed */
	/* Where output goes: a local home job, or the attach channel. */
	struct hjob	*hj;
	ssh_channel	 ch;
	ssh_session	 ch_session;
	struct buf	*chq;		/* output waiting for channel window */
	int		 chq_stream;	/* stream of what is in chq */
	struct req	 spawn_req;	/* reply SPAWNED when info arrives */
	int		 spawn_pending;
	int		 dead;
	uint32_t	 flags;		/* SPAWN_* it was started with */
	uint32_t	 moves;		/* times it changed node */
	uint32_t	 rows, cols;	/* terminal size, for a move */
	char		*term;
	int64_t		 placed_ms;	/* started or moved here (balancing) */
	int64_t		 mig_fail_ms;	/* a move of it failed then */
	uint64_t	 cpu_ticks;	/* leader's CPU time at cpu_seen_ms */
	int64_t		 cpu_seen_ms;
	/* Migration, as the source (migrate.c). */
	int		 moving;	/* a mover works on it: hold its input */
	uint64_t	 held_sigs;	/* signals that came while moving */
	int		 moved;		/* it left: its death is a move */
	unsigned	 moved_to;
	int		 mover_fd;	/* control connection to the mover */
	struct buf	*mover_in;
	int64_t		 mig_id;	/* our migrations row */
	struct req	 mig_req;	/* who asked: MSG_MIGRATED goes there */
	int		 mig_reply;	/* mig_req is waiting */
	unsigned	 mig_dst;
	/* Migration, as the target. */
	int		 restoring;	/* RESTORING_* */
	int		 img_fd;	/* the shepherd's spec pipe: the image */
	struct buf	*img_q;		/* image bytes not yet in the pipe */
	ssh_channel	 img_ch;	/* the mover's "restore GPID" channel */
	int		 img_eof;
	unsigned	 mig_src;	/* source node, its migrations row id */
	uint64_t	 mig_src_id;
	int64_t		 ask_ms;	/* orphan: next MSG_MIGRATE_QUERY */
	int		 asking;	/* a query is out */
	int		 arrival;	/* adopted from its arrivals row: what
					   it is waits for MSG_SHEP_INFO */
	struct ssh_channel_callbacks_struct ccb;
};
#define RESTORING_NO	0
#define RESTORING_IMAGE	1	/* the image is coming in */
#define RESTORING_READY	2	/* restored, stopped, waiting for COMMIT */
#define RESTORING_ORPHAN 3	/* ready, but the mover is gone: ask */

/* A job born here (home.c), followed until its end is recorded. */
struct hjob {
	TAILQ_ENTRY(hjob) entry;
	uint64_t	 gpid;
	unsigned	 node;		/* where it runs */
	uid_t		 uid;
	uint32_t	 flags;		/* SPAWN_* */
	int		 log_fd;
	uint64_t	 io_conn;	/* tool relaying I/O, 0 if none */
	struct rjob	*rj;		/* when it runs here */
	ssh_channel	 ch;		/* attach channel when remote */
	int		 ch_state;	/* HCH_* */
	int		 got_status;
	int		 status;	/* sh style */
	int		 sig;		/* signal that ended it, 0 */
	struct buf	*stdin_q;	/* for a remote job, waiting for window */
	int		 stdin_eof;
	int		 moving;	/* a move is under way: hold the input */
	unsigned	 ch_node;	/* the node ch leads to */
	int		 dead;
};
#define HCH_NONE	0	/* not attached */
#define HCH_OPENING	1
#define HCH_EXEC	2
#define HCH_OPEN	3

TAILQ_HEAD(connq, conn);
TAILQ_HEAD(insessq, insess);
TAILQ_HEAD(peerq, peer);
TAILQ_HEAD(rjobq, rjob);
TAILQ_HEAD(hjobq, hjob);

/* The daemon: one instance, g. */
struct noded {
	struct conf	*conf;
	char		 conf_path[4096];
	int		 conf_embedded;	/* no cluster file: single node */
	char		 statedir[4096];
	char		 sockpath[4096];
	char		 name[CONF_NAME_MAX + 1];
	unsigned	 id;
	uint16_t	 port;
	int		 root;		/* euid 0: per-user jobs, namespaces */
	uid_t		 owner;		/* a user noded serves only this uid */
	unsigned	 cpus;
	int		 draining;
	int		 debug;
	struct dir	*dir;
	ssh_event	 event;
	ssh_bind	 bind;
	ssh_key		 hostkey;
	char		 hostkey_b64[128];
	int		 tcp_fd;
	int		 unix_fd;
	int		 sig_fd;
	int		 hs_pipe[2];	/* handshake threads -> loop */
	int		 handshakes;	/* threads running */
	char		 shepherd[4096];
	char		 mover[4096];	/* sshell-mover, migration's worker */
	char		 cgroot[4096];	/* freezer hierarchy for jobs, "" */
	struct connq	 conns;
	struct insessq	 insess;
	struct peerq	 peers;
	struct rjobq	 rjobs;
	struct hjobq	 hjobs;
	uint64_t	 next_id;
	unsigned	 rr_next;	/* round-robin cursor (node id) */
	double		 load;		/* our own load, smoothed */
	int		 quit;
	int		 reload;
	int		 wrote_ssh;	/* a channel was written this round */
	int		 img_stalled;	/* an image's pipe took less than
					   it was given (peer_mover_io) */
};

extern struct noded g;

/* util.c */
int64_t		 now_ms(void);
int64_t		 now_s(void);
int		 set_nonblock(int fd);
int		 sig_from_name(const char *name);
const char	*sig_name(int sig);
int		 sh_status(int wstatus);	/* wait status -> 0..255 */
int		 proc_starttime(pid_t pid, uint64_t *st);
char		*join_argv(char *const *argv);

/* loop.c */
int		 loop_run(void);
void		 loop_wake(void);

/* local.c: the tools' Unix socket */
int		 local_listen(void);
void		 local_accept(void);
void		 local_io(struct conn *c, short revents);
struct conn	*conn_by_id(uint64_t id);
int		 conn_send(struct conn *c, struct buf *frame);
void		 conn_close(struct conn *c);
void		 conn_close_after_reply(struct conn *c);

/* peer.c: SSH between nodes */
int		 peer_init(void);
int		 peer_setup_from_conf(void);
void		 peer_tick(void);
void		 peer_handshake_done(void);
void		 peer_session_io(void);
void		 peer_mover_io(void);
struct peer	*peer_by_id(unsigned id);
struct peer	*peer_by_name(const char *name);
int		 peer_call(struct peer *p, const struct req *who,
		    struct buf *frame, call_cb cb, void *arg);
int		 peer_send_frame(struct peer *p, struct buf *frame);
void		 peer_heard(unsigned id);
void		 peer_fail_calls(struct peer *p, const char *why);
int		 insess_reply(uint64_t id, uint32_t reqid, struct buf *frame);
void		 insess_drop(uint64_t id);
void		 peer_teardown(struct peer *p, const char *why);
void		 peer_push_load(void);
const char	*node_name(unsigned id);

/* rpc.c: dispatch */
void		 rpc_dispatch(const struct req *r, uint8_t type,
		    struct buf *payload);
void		 req_reply(const struct req *r, struct buf *frame);
void		 req_error(const struct req *r, int code, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));
void		 req_ok(const struct req *r);

/* Handlers, one per file rpc-<verb>.c. */
void		 rpc_hello(const struct req *, struct buf *);
void		 rpc_spawn(const struct req *, struct buf *);
void		 rpc_run(const struct req *, struct buf *);
void		 rpc_wait(const struct req *, struct buf *);
void		 rpc_io(const struct req *, uint8_t, struct buf *);
void		 rpc_list(const struct req *, struct buf *);
void		 rpc_signal(const struct req *, struct buf *);
void		 signal_send_on(uint64_t gpid, unsigned node, int sig);
void		 rpc_nodes(const struct req *, struct buf *);
void		 rpc_drain(const struct req *, struct buf *);
void		 rpc_load(const struct req *, struct buf *);

int		 job_channel_setup(ssh_channel ch, ssh_session s, unsigned node);
void		 job_session_gone(ssh_session s);
void		 job_chan_reap(void);

/* migrate.c: live migration, balancing, drain */
void		 rpc_migrate(const struct req *, struct buf *);
void		 rpc_restore(const struct req *, struct buf *);
void		 rpc_commit(const struct req *, struct buf *);
void		 rpc_abort(const struct req *, struct buf *);
void		 rpc_moved(const struct req *, struct buf *);
void		 rpc_migrate_query(const struct req *, struct buf *);
void		 mover_io(struct rjob *rj);
void		 mig_tick(void);
void		 home_moved(uint64_t gpid, uint32_t phase, unsigned node,
		    uint32_t pid, uint64_t starttime);

/* place.c */
int		 place_choose(const char *pin, unsigned *idp, char *err,
		    size_t errlen);
uint32_t	 place_count(unsigned id);
int		 place_usable(unsigned id, char *err, size_t errlen);
double		 place_score(unsigned id);

/* sysinfo.c */
double		 sys_runnable(void);
uint64_t	 sys_mem_total_kb(void);
uint64_t	 sys_mem_avail_kb(void);
unsigned	 sys_cpus(void);
struct jobstat {
	char	 state;		/* of the leader: R S D T Z */
	uint64_t rss_kb;	/* whole tree (session) */
	uint64_t ticks;		/* utime + stime, whole tree */
	uint64_t start_ticks;	/* leader */
};
/* Fills st for each of n session leaders (pids) with one pass over /proc. */
void		 sys_jobstats(const pid_t *pids, size_t n, struct jobstat *st);

/* job.c: jobs that run here */
int		 job_start(const struct req *r, uint64_t gpid, unsigned home,
		    const struct spawn_req *sp, uid_t uid, gid_t gid,
		    const char *user, struct rjob **rjp);
void		 job_adopt_all(void);
void		 job_spare(void);
struct rjob	*rjob_by_gpid(uint64_t gpid);
void		 rjob_poll_fds(struct pollfd *pfd, void **owners, size_t *n,
		    size_t max);
void		 rjob_io(struct rjob *rj, int fd, short revents);
void		 rjob_shep_io(struct rjob *rj, short revents);
void		 rjob_pump(void);
void		 rjob_stdin(struct rjob *rj, const void *data, size_t len);
void		 rjob_stdin_eof(struct rjob *rj);
int		 rjob_signal(struct rjob *rj, int sig);
int		 rjob_attach(struct rjob *rj, ssh_session s, ssh_channel ch);
void		 rjob_winch(struct rjob *rj, uint32_t rows, uint32_t cols);
void		 rjob_reap(void);
int		 rjob_count(void);
int		 job_restore_start(const struct move_req *mr, struct rjob **rjp);
void		 rjob_img_io(struct rjob *rj);
int		 rjob_img_channel(struct rjob *rj, ssh_channel ch);
void		 rjob_restore_verdict(struct rjob *rj, int ok, const char *why);
void		 rjob_run_restored(struct rjob *rj, const void *in, size_t len);
void		 rjob_discard(struct rjob *rj);
void		 mig_arrival_runs(struct rjob *rj);
void		 mig_adopted(struct rjob *rj);
/* The cgroup directory of job gpid in buf ("" and -1 where this node
 * makes none; it may not exist yet, or any more). */
int		 job_cgroup(uint64_t gpid, char *buf, size_t len);
void		 rjob_close_stdin(struct rjob *rj);
int		 rjob_kill_tree(struct rjob *rj);

/* home.c: jobs born here */
struct hjob	*hjob_new(uint64_t gpid, unsigned node, uid_t uid,
		    uint32_t flags, int log_fd);
struct hjob	*hjob_by_gpid(uint64_t gpid);
void		 hjob_output(struct hjob *hj, int stream, const void *data,
		    size_t len);
void		 hjob_exit(struct hjob *hj, int status, int sig);
void		 hjob_stopped(struct hjob *hj, int sig);
int		 hjob_can_take(const struct hjob *hj);
void		 hjob_attach_all(unsigned node);
void		 hjob_tick(void);
void		 hjob_detached(unsigned node);
void		 hjob_restore_all(void);
void		 hjob_stdin(struct hjob *hj, const void *data, size_t len);
void		 hjob_stdin_eof(struct hjob *hj);
void		 hjob_reap(void);
void		 hjob_chan_reap(void);
void		 hjob_conn_gone(uint64_t conn_id);

#endif
