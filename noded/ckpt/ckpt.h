/*
 * ckpt.h: the public API of the checkpoint engine (libckpt.a).
 *
 * The engine freezes a process tree with ptrace, writes its state as one
 * stream (the image, see image.h for the format) to a file descriptor, and
 * re-creates the tree from such a stream in new processes.  It is used by
 * sckpt(1) and, for migration, by noded's workers.
 *
 * Every function returns 0 or a negative SS_ERR_* code (common/err.h) and
 * never exits.  On failure a human reason (naming the resource, e.g.
 * "pid 123 fd 4: socket:[5678]: sockets cannot be checkpointed") is left in
 * the caller's struct ckpt_err, ready to print after "prog: ".
 *
 * The engine is not thread-safe and uses ptrace: call it from a process
 * (noded forks a worker) whose threads do nothing else with ptrace.
 */
#ifndef SSHELL_CKPT_H
#define SSHELL_CKPT_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* Why the last call failed; msg is always NUL-terminated. */
struct ckpt_err {
	char	msg[512];
};

/* Figures of one dump or restore (for benchmarks and smigrate's line). */
struct ckpt_stats {
	uint64_t	image_bytes;	/* bytes of image written or read */
	uint64_t	pages;		/* pages with contents carried */
	uint32_t	nprocs;		/* processes in the tree */
	uint32_t	nthreads;	/* threads in the tree */
	uint64_t	frozen_ns;	/* dump: from first stop to release/kill */
};

struct ckpt_dump_opts {
	pid_t		 pid;		/* root of the tree to dump */
	int		 out_fd;	/* the image is written here, once, in order */
	/*
	 * Or, when not NULL, through this function (out_fd is then not
	 * used): called in order, from one of the engine's threads, with
	 * the whole image in pieces; it returns 0, or -1 to stop the dump
	 * (which then fails and lets the tree run on).  For migration: the
	 * image goes straight into an SSH channel, with no pipe between.
	 */
	int		(*out_fn)(void *arg, const void *p, size_t len);
	void		*out_arg;
	int		 leave_running;	/* 1: the tree runs on after the dump;
					   0: it is SIGKILLed once written */
	const char	*freezer;	/* a cgroup directory holding the tree
					   (v2, or the v1 freezer hierarchy) to
					   freeze first, so that nothing in it
					   forks while it is seized; or NULL.
					   Whatever else is in it is let go. */
	/*
	 * Migration's two phases: when not NULL, called once the whole image
	 * is written, with the tree still frozen under ptrace.  It returns 1
	 * to have the tree SIGKILLed (the copy elsewhere takes over), 0 to
	 * let it run on (the move failed), 2 to leave it group-stopped (the
	 * caller cannot tell yet which copy is to run), and may take as long
	 * as it needs.
	 * leave_running is then ignored.
	 */
	int		(*decide)(void *arg);
	void		*decide_arg;
	/*
	 * When not NULL, the pre-copy that went before on the same output
	 * (ckpt_precopy_round): the image then sends only what changed
	 * since, and the restorer takes the rest from the pre-copy.
	 */
	struct ckpt_precopy *precopy;
};

/*
 * Live migration's pre-copy (precopy.c): the memory goes out while the
 * tree runs, and the dump then sends only the pages written since.
 * ckpt_precopy_begin() starts tracking writes in every process of the
 * tree rooted at pid (each is stopped for a few injected calls, less
 * than a millisecond); a process it cannot track is just sent whole
 * later.  Each ckpt_precopy_round() writes to o's output (out_fd or
 * out_fn; nothing else of o is used) the pages written since the last
 * round (the first time, all of them) while the tree runs; *bytes gets
 * what it wrote, *pages the pages.  Then ckpt_dump() with o.precopy set,
 * on the same output, ends the stream, and ckpt_restore() reads the
 * whole.  ckpt_precopy_free() stops the tracking (after the dump, or
 * instead of it: the tree never notices).
 */
struct ckpt_precopy;
int	ckpt_precopy_begin(pid_t pid, struct ckpt_precopy **pcp,
	    struct ckpt_err *e);
int	ckpt_precopy_round(struct ckpt_precopy *pc,
	    const struct ckpt_dump_opts *o, uint64_t *bytes, uint64_t *pages,
	    struct ckpt_err *e);
void	ckpt_precopy_free(struct ckpt_precopy *pc);

/*
 * Migration's auto-converge: a tree that writes its memory about as fast
 * as the pre-copy sends it is slowed down for the last rounds.  While a
 * throttle runs, the cgroup freezer (v2, or the v1 freezer hierarchy)
 * holds the tree frozen for stop_ms, then lets it run for run_ms, and so
 * on, for max_ms at most; the tree sees nothing but time passing.
 * ckpt_throttle_stop() ends it with the cgroup thawed.  A caller that dies meanwhile leaves the
 * cgroup as it was at that moment: its own caller must thaw it.
 */
struct ckpt_throttle;
int	ckpt_throttle_start(const char *freezer, unsigned run_ms,
	    unsigned stop_ms, unsigned max_ms, struct ckpt_throttle **tp,
	    struct ckpt_err *e);
void	ckpt_throttle_stop(struct ckpt_throttle *t);

/*
 * A dump or check that fails with SS_ERR_BUSY met a process of the tree
 * on its way out (a child of a shell loop): it wrote nothing and the tree
 * runs on untouched, so the caller may try again a moment later.
 */
#define CKPT_BUSY_TRIES		25
#define CKPT_BUSY_WAIT_MS	20

/*
 * Dumps the tree rooted at o->pid to o->out_fd.  Anything the engine cannot
 * carry is refused before anything is written, and the tree runs on
 * untouched.  st may be NULL.  The caller keeps o->out_fd open and closes it.
 */
int	ckpt_dump(const struct ckpt_dump_opts *o, struct ckpt_stats *st,
	    struct ckpt_err *e);

/*
 * Decides, without freezing or tracing anything, whether the tree rooted
 * at pid could be dumped now: it walks the tree through /proc and applies
 * every rule of the dump that /proc shows (sockets, anon inodes, deleted
 * files, devices, SysV shared memory, seccomp, POSIX timers, a tracer
 * attached, zombies ...).  Returns 0 if nothing stands in the way, else
 * the code ckpt_dump() would return, with the same reason in e (the same
 * resource named).  A 0 is no promise: the tree may change before a
 * dump, and the dump still refuses what it finds.  Migration calls it
 * before freezing a job.  SS_ERR_BUSY, from either, means a passing state
 * (a child that exited and is not reaped yet): try again a little later.
 */
int	ckpt_check(pid_t pid, struct ckpt_err *e);

struct ckpt_restore_opts {
	int		 in_fd;		/* the image is read from here, once */
	int		 same_pid;	/* 1: the dumped pids, or fail if taken */
	int		 stdio[3];	/* fds standing for descriptors 0, 1, 2
					   that led outside the dumped tree;
					   -1: /dev/null.  The engine dups them,
					   the caller keeps its own. */
	int		 pidns_fd;	/* -1, or an fd of a PID namespace (from
					   /proc/PID/ns/pid) to create the tree
					   in; the caller's process must be able
					   to setns(2) into it */
	int		 stopped;	/* 1: leave the tree stopped under ptrace
					   until ckpt_restore_run() */
	int		 keep_session;	/* 1: the root stays in the caller's
					   session (its own process group)
					   instead of starting a new one; for
					   a shepherd that holds the job's
					   terminal */
};

/*
 * To restore a tree as the child of another process (a job's shepherd):
 * make that process a subreaper (prctl(PR_SET_CHILD_SUBREAPER)), call
 * ckpt_restore() in a process descending from it, then let that process
 * exit: the orphaned root is re-parented to the shepherd by the kernel.
 * For exact pids, give pidns_fd the shepherd's PID namespace and set
 * same_pid.
 */

/* A restored tree not yet released (opaque). */
struct ckpt_restored;

/*
 * Re-creates the tree from o->in_fd.  The calling process becomes the
 * parent of the restored root (it can wait for it, and gets SIGCHLD):
 * that is how a job's shepherd, calling ckpt_restore itself, gets the
 * restored job as its child.
 * A truncated, corrupt or foreign image is refused before any process is
 * created or, for damage found in the page data, before any restored code
 * runs (the half-made processes are killed).  On success *rp is a handle
 * that the caller must pass to ckpt_restore_run() or ckpt_restore_abort(),
 * which free it.  Unless o->stopped, the tree already runs and
 * ckpt_restore_run() only frees the handle.
 */
int	ckpt_restore(const struct ckpt_restore_opts *o, struct ckpt_restored **rp,
	    struct ckpt_stats *st, struct ckpt_err *e);
/* The pid of the restored root (in the caller's PID namespace). */
pid_t	ckpt_restored_pid(const struct ckpt_restored *r);
/* Lets a stopped tree run (detaches it) and frees r. */
int	ckpt_restore_run(struct ckpt_restored *r, struct ckpt_err *e);
/* Kills every process of a restored tree that was left stopped; frees r. */
void	ckpt_restore_abort(struct ckpt_restored *r);

/*
 * Reads a whole image from fd, checks every section, and prints what it
 * holds to out in readable form.  Returns as ckpt_restore would refuse.
 */
int	ckpt_info(int fd, FILE *out, struct ckpt_err *e);

#endif
