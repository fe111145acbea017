/*
 * threads.c: freezing a process tree, and the threads of each process.
 *
 * Freeze: PTRACE_SEIZE and PTRACE_INTERRUPT every thread of the root, then
 * of every child found (/proc/PID/task/TID/children), again until a round
 * finds no new thread and no new child: a thread stopped in its interrupt
 * trap can no longer clone or fork, so the loop ends.  A signal being
 * delivered when we interrupt is let through (the handler runs before the
 * trap); pending signals stay pending.  Nothing else changes, so a refused
 * dump just detaches and the tree runs on.
 *
 * Per thread the image carries registers (arch/), rseq, robust list,
 * clear_child_tid, sigaltstack, blocked mask, pending signals and comm.
 * Two of them are not visible from outside and are read by injecting
 * prctl(PR_GET_TID_ADDRESS) and sigaltstack(NULL, &old) into the thread,
 * with the result written below its stack pointer (beyond the red zone)
 * and the bytes there put back afterwards.
 *
 * Restore: the leader exists (restore.c makes it); every other thread is
 * made by injecting clone3(CLONE_THREAD...) into the leader (set_tid with
 * --same-pid), then each thread gets its per-thread state by injection and
 * finally its registers.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ckpt-int.h"

#ifndef PTRACE_GET_RSEQ_CONFIGURATION
#define PTRACE_GET_RSEQ_CONFIGURATION	0x420f
#endif

struct rseq_conf {
	uint64_t	ptr;
	uint32_t	len;
	uint32_t	sig;
	uint32_t	flags;
	uint32_t	pad;
};

int
ck_seize(pid_t tid, int opts, struct ckpt_err *e)
{
	if (ptrace(PTRACE_SEIZE, tid, NULL, (void *)(long)opts) == -1)
		return ck_fail(e, errno == EPERM ? SS_ERR_PERM : SS_ERR_SYSTEM,
		    "thread %d: cannot trace it: %s", tid, strerror(errno));
	if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) == -1)
		return ck_fail(e, SS_ERR_SYSTEM, "thread %d: PTRACE_INTERRUPT: "
		    "%s", tid, strerror(errno));
	return ck_wait_stop(tid, e);
}

int
ck_wait_stop(pid_t tid, struct ckpt_err *e)
{
	int st;

	for (;;) {
		if (waitpid(tid, &st, __WALL) == -1) {
			if (errno == EINTR)
				continue;
			return ck_fail(e, SS_ERR_SYSTEM, "thread %d: wait: %s",
			    tid, strerror(errno));
		}
		if (!WIFSTOPPED(st))
			return ck_fail(e, SS_ERR_NOT_FOUND, "thread %d exited "
			    "while being frozen", tid);
		if ((st >> 16) == PTRACE_EVENT_STOP)
			return 0;
		if ((st >> 16) == 0) {
			/* A signal on its way: let it be delivered. */
			if (ptrace(PTRACE_CONT, tid, NULL,
			    (void *)(long)WSTOPSIG(st)) == -1)
				return ck_fail(e, SS_ERR_SYSTEM, "thread %d: "
				    "PTRACE_CONT: %s", tid, strerror(errno));
			continue;
		}
		if (ptrace(PTRACE_CONT, tid, NULL, NULL) == -1)
			return ck_fail(e, SS_ERR_SYSTEM, "thread %d: PTRACE_CONT: "
			    "%s", tid, strerror(errno));
	}
}

/*
 * The rules a live thread must pass to be dumped, read from
 * /proc/PID/task/TID/status without touching it: no tracer already
 * attached (we would need to be its tracer), no seccomp filter (it cannot
 * be re-installed).  The dump checks each thread before seizing it and
 * ckpt_check() runs the same function, so both name the same resource.
 */
int
ck_thread_refuse(pid_t pid, pid_t tid, struct ckpt_err *e)
{
	char path[64], line[256];
	FILE *f;
	long tracer = 0, seccomp = 0;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, tid);
	if ((f = fopen(path, "re")) == NULL)
		return ck_fail(e, SS_ERR_NOT_FOUND, "thread %d: %s", tid,
		    strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "TracerPid:", 10) == 0)
			tracer = strtol(line + 10, NULL, 10);
		else if (strncmp(line, "Seccomp:", 8) == 0)
			seccomp = strtol(line + 8, NULL, 10);
	}
	fclose(f);
	/* Us: seized while its cgroup was frozen (freezer.c). */
	if (tracer > 0 && tracer != (long)getpid())
		return ck_fail(e, SS_ERR_UNSUPPORTED, "thread %d: already "
		    "traced by process %ld", tid, tracer);
	if (seccomp != 0)
		return ck_fail(e, SS_ERR_UNSUPPORTED, "process %d: a seccomp "
		    "filter cannot be checkpointed", pid);
	return 0;
}

int
ck_children(pid_t pid, pid_t **kidsp, uint32_t *np, struct ckpt_err *e)
{
	char path[96], *data, *s, *end;
	DIR *d;
	struct dirent *de;
	pid_t *kids = NULL, *nk;
	uint32_t n = 0;
	long v;
	int r = 0;

	*kidsp = NULL;
	*np = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	if ((d = opendir(path)) == NULL)
		return ck_fail(e, SS_ERR_NOT_FOUND, "process %d: %s", pid,
		    strerror(errno));
	while (r == 0 && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%ld/children", pid,
		    strtol(de->d_name, NULL, 10));
		/* A thread that exited meanwhile has no children. */
		if (ck_read_file(path, &data, NULL) != 0)
			continue;
		for (s = data; r == 0; s = end) {
			v = strtol(s, &end, 10);
			if (end == s)
				break;
			if (n >= CK_MAX_PROCS) {
				r = ck_fail(e, SS_ERR_TOO_LONG, "too many "
				    "processes");
				break;
			}
			if ((nk = realloc(kids, (n + 1) * sizeof(*nk))) ==
			    NULL) {
				r = ck_fail(e, SS_ERR_ALLOC, "out of memory");
				break;
			}
			kids = nk;
			kids[n++] = (pid_t)v;
		}
		free(data);
	}
	closedir(d);
	if (r != 0) {
		free(kids);
		return r;
	}
	*kidsp = kids;
	*np = n;
	return 0;
}

static int
proc_add(struct ck_image *im, pid_t pid, int32_t parent, struct ckpt_err *e)
{
	struct ck_proc *np;

	if (im->nproc >= CK_MAX_PROCS)
		return ck_fail(e, SS_ERR_TOO_LONG, "too many processes");
	np = realloc(im->procs, (im->nproc + 1) * sizeof(*np));
	if (np == NULL)
		return ck_fail(e, SS_ERR_ALLOC, "out of memory");
	im->procs = np;
	memset(&np[im->nproc], 0, sizeof(*np));
	np[im->nproc].pid = pid;
	np[im->nproc].parent = parent;
	im->nproc++;
	return 0;
}

static int
thread_known(const struct ck_proc *p, pid_t tid)
{
	uint32_t i;

	for (i = 0; i < p->nthr; i++)
		if (p->thr[i].tid == tid)
			return 1;
	return 0;
}

/*
 * r from a process of the tree that has gone from /proc meanwhile (a
 * child reaped at once, its parent ignoring SIGCHLD): "busy", a passing
 * state, so that the caller freezes again a moment later.
 */
static int
proc_gone(pid_t pid, int r, struct ckpt_err *e)
{
	if (r != SS_ERR_NOT_FOUND || kill(pid, 0) == 0 || errno != ESRCH)
		return r;
	return ck_fail(e, SS_ERR_BUSY, "process %d ended while the tree was "
	    "being frozen", pid);
}

/* Seizes the threads of p not seized yet (or takes those fz holds);
 * *newp counts them. */
static int
freeze_threads(struct ck_proc *p, int *newp, struct ck_frozen *fz,
    struct ckpt_err *e)
{
	char path[64];
	DIR *d;
	struct dirent *de;
	pid_t tid;
	struct ck_thread *nt;
	uint32_t zst;
	char state;
	int r = 0;

	if (p->zombie)
		return 0;
	/* A process met for the first time: the rules that need no stop.
	 * A zombie below the root (its parent, stopped, cannot reap it) is
	 * carried as one: there is nothing to seize. */
	if (p->nthr == 0) {
		if (p->parent >= 0 && ck_task_zombie(p->pid, &p->exit_status)) {
			p->zombie = 1;
			return 0;
		}
		if ((r = ck_task_refuse(p->pid, &state, e)) != 0)
			return proc_gone(p->pid, r, e);
		/* Stopped by SIGSTOP & co: restored stopped (restore.c). */
		p->stopped = state == 'T';
	}
	snprintf(path, sizeof(path), "/proc/%d/task", p->pid);
	if ((d = opendir(path)) == NULL)
		return proc_gone(p->pid, ck_fail(e, SS_ERR_NOT_FOUND,
		    "process %d: %s", p->pid, strerror(errno)), e);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		tid = (pid_t)strtol(de->d_name, NULL, 10);
		if (thread_known(p, tid))
			continue;
		if (p->nthr >= CK_MAX_THREADS) {
			r = ck_fail(e, SS_ERR_TOO_LONG, "too many threads");
			break;
		}
		if ((r = ck_thread_refuse(p->pid, tid, e)) != 0)
			break;
		nt = realloc(p->thr, (p->nthr + 1) * sizeof(*nt));
		if (nt == NULL) {
			r = ck_fail(e, SS_ERR_ALLOC, "out of memory");
			break;
		}
		p->thr = nt;
		memset(&nt[p->nthr], 0, sizeof(*nt));
		if (ck_frozen_take(fz, tid))
			;	/* seized while its cgroup was frozen */
		else if ((r = ck_seize(tid, 0, e)) != 0) {
			/* A thread that exited meanwhile is no error. */
			if (kill(tid, 0) == -1 && errno == ESRCH) {
				r = 0;
				continue;
			}
			/* The process itself ended (a child of a shell loop,
			 * now a zombie its parent has not reaped): busy, a
			 * passing state; the caller tries again. */
			if (tid == p->pid && ck_task_zombie(p->pid, &zst))
				r = ck_fail(e, SS_ERR_BUSY, "process %d ended "
				    "while the tree was being frozen", p->pid);
			break;
		}
		nt[p->nthr].tid = tid;
		/* The leader first. */
		if (tid == p->pid && p->nthr > 0) {
			struct ck_thread tmp = nt[0];

			nt[0] = nt[p->nthr];
			nt[p->nthr] = tmp;
		}
		p->nthr++;
		(*newp)++;
	}
	closedir(d);
	return r;
}

/* Adds the children of every known process not known yet. */
static int
find_children(struct ck_image *im, int *newp, struct ckpt_err *e)
{
	pid_t *kids;
	uint32_t i, j, k, n, nproc = im->nproc;
	int r;

	for (i = 0; i < nproc; i++) {
		if (im->procs[i].zombie)
			continue;	/* its children went to a reaper */
		if ((r = ck_children(im->procs[i].pid, &kids, &n, e)) != 0)
			return r;
		for (k = 0; k < n && r == 0; k++) {
			for (j = 0; j < im->nproc; j++)
				if (im->procs[j].pid == kids[k])
					break;
			if (j < im->nproc)
				continue;
			if ((r = proc_add(im, kids[k], (int32_t)i, e)) == 0)
				(*newp)++;
		}
		free(kids);
		if (r != 0)
			return r;
	}
	return 0;
}

static int	freeze_tree(pid_t, struct ck_image *, struct ck_frozen *,
		    struct ckpt_err *);

int
ck_threads_freeze(pid_t root, const char *freezer, struct ck_image *im,
    struct ckpt_err *e)
{
	struct ck_frozen fz;
	int r;

	memset(&fz, 0, sizeof(fz));
	if (kill(root, 0) == -1)
		return ck_fail(e, SS_ERR_NOT_FOUND, "process %d: %s", root,
		    strerror(errno));
	if (freezer != NULL && (r = ck_frozen_seize(freezer, &fz, e)) != 0)
		return r;
	r = freeze_tree(root, im, &fz, e);
	/* Those of the cgroup that are not of the tree go; on failure the
	 * caller lets go of the tree's. */
	ck_frozen_release(&fz);
	return r;
}

static int
freeze_tree(pid_t root, struct ck_image *im, struct ck_frozen *fz,
    struct ckpt_err *e)
{
	uint32_t i;
	int fresh, r;

	if ((r = proc_add(im, root, -1, e)) != 0)
		return r;
	/*
	 * Threads until no process shows a new one (all of them stopped,
	 * none can clone), then the children of every process (from
	 * /proc/PID/task/TID/children, stable once its threads are
	 * stopped); again if there were any new ones.
	 */
	do {
		do {
			fresh = 0;
			for (i = 0; i < im->nproc; i++)
				if ((r = freeze_threads(&im->procs[i], &fresh,
				    fz, e)) != 0)
					return r;
		} while (fresh > 0);
		if ((r = find_children(im, &fresh, e)) != 0)
			return r;
	} while (fresh > 0);
	for (i = 0; i < im->nproc; i++)
		if (!im->procs[i].zombie && (im->procs[i].nthr == 0 ||
		    im->procs[i].thr[0].tid != im->procs[i].pid))
			return ck_fail(e, SS_ERR_BUSY, "process %d: a "
			    "zombie or a process whose leader exited",
			    im->procs[i].pid);
	return 0;
}

void
ck_threads_release(struct ck_image *im, int kill_them)
{
	uint32_t i, j;

	for (i = 0; i < im->nproc; i++) {
		if (kill_them)
			kill(im->procs[i].pid, SIGKILL);
		for (j = 0; j < im->procs[i].nthr; j++)
			ptrace(PTRACE_DETACH, im->procs[i].thr[j].tid, NULL,
			    NULL);
	}
}

/*
 * Injects syscall nr into thread tid of p with args[outarg] pointing at
 * outlen bytes below the thread's stack, and copies them to out.
 */
static int
inject_out(struct ck_proc *p, pid_t tid, long nr, uint64_t *args, int nargs,
    int outarg, void *out, size_t outlen, long *retp)
{
	struct user_regs_struct regs;
	uint8_t saved[256];
	struct iovec l, rm;
	uint64_t addr;
	int r;

	if (outlen > sizeof(saved))
		return SS_ERR_INTERNAL;
	if (ptrace(PTRACE_GETREGS, tid, NULL, &regs) == -1)
		return SS_ERR_SYSTEM;
	addr = (regs.rsp - 1024) & ~15ull;
	args[outarg] = addr;
	l.iov_base = saved;
	l.iov_len = outlen;
	rm.iov_base = (void *)addr;
	rm.iov_len = outlen;
	if (process_vm_readv(p->pid, &l, 1, &rm, 1, 0) != (ssize_t)outlen)
		return SS_ERR_SYSTEM;
	if ((r = ck_inject(tid, p->sys_ip, nr, args, nargs, retp)) != 0)
		return r;
	l.iov_base = out;
	if (process_vm_readv(p->pid, &l, 1, &rm, 1, 0) != (ssize_t)outlen)
		return SS_ERR_SYSTEM;
	l.iov_base = saved;
	if (process_vm_writev(p->pid, &l, 1, &rm, 1, 0) != (ssize_t)outlen)
		return SS_ERR_SYSTEM;
	return 0;
}

int
ck_threads_collect(struct ck_proc *p, struct ckpt_err *e)
{
	struct rseq_conf rc;
	struct ck_thread *t;
	char path[96], *s;
	uint64_t args[3], ss[3];
	long ret;
	size_t len;
	uint32_t i;
	int r;

	for (i = 0; i < p->nthr; i++) {
		t = &p->thr[i];
		if ((r = ck_regs_dump(t->tid, t, e)) != 0)
			return r;
		memset(&rc, 0, sizeof(rc));
		if (ptrace(PTRACE_GET_RSEQ_CONFIGURATION, t->tid,
		    (void *)sizeof(rc), &rc) == -1)
			return ck_fail(e, SS_ERR_SYSTEM, "thread %d: rseq: %s",
			    t->tid, strerror(errno));
		t->rseq_ptr = rc.ptr;
		t->rseq_len = rc.len;
		t->rseq_sig = rc.sig;
		if (syscall(SYS_get_robust_list, t->tid, &t->robust_head,
		    &t->robust_len) == -1)
			return ck_fail(e, SS_ERR_SYSTEM, "thread %d: robust "
			    "list: %s", t->tid, strerror(errno));
		if (ptrace(PTRACE_GETSIGMASK, t->tid, (void *)8,
		    &t->sigmask) == -1)
			return ck_fail(e, SS_ERR_SYSTEM, "thread %d: sigmask: "
			    "%s", t->tid, strerror(errno));
		args[0] = PR_GET_TID_ADDRESS;
		if ((r = inject_out(p, t->tid, SYS_prctl, args, 2, 1,
		    &t->clear_tid, 8, &ret)) != 0 || ret != 0)
			return ck_fail(e, SS_ERR_SYSTEM, "thread %d: "
			    "clear_child_tid: %s", t->tid, r != 0 ?
			    strerror(errno) : strerror(-ret));
		args[0] = 0;
		if ((r = inject_out(p, t->tid, SYS_sigaltstack, args, 2, 1,
		    ss, sizeof(ss), &ret)) != 0 || ret != 0)
			return ck_fail(e, SS_ERR_SYSTEM, "thread %d: "
			    "sigaltstack: %s", t->tid, r != 0 ?
			    strerror(errno) : strerror(-ret));
		t->sas_sp = ss[0];
		t->sas_flags = (uint32_t)ss[1];
		t->sas_size = ss[2];
		snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", p->pid,
		    t->tid);
		if (ck_read_file(path, &s, &len) != 0)
			return ck_fail(e, SS_ERR_SYSTEM, "%s: %s", path,
			    strerror(errno));
		if (len > 0 && s[len - 1] == '\n')
			s[--len] = '\0';
		snprintf(t->comm, sizeof(t->comm), "%s", s);
		free(s);
		if ((r = ck_sig_thread_collect(t->tid, t, e)) != 0)
			return r;
	}
	return 0;
}

int
ck_thread_encode(struct buf *b, const struct ck_thread *t)
{
	uint32_t i;
	int r;

	if ((r = buf_put_u32(b, t->vtid)) != 0 ||
	    (r = ck_regs_encode(b, t)) != 0 ||
	    (r = buf_put_u64(b, t->rseq_ptr)) != 0 ||
	    (r = buf_put_u32(b, t->rseq_len)) != 0 ||
	    (r = buf_put_u32(b, t->rseq_sig)) != 0 ||
	    (r = buf_put_u64(b, t->robust_head)) != 0 ||
	    (r = buf_put_u64(b, t->robust_len)) != 0 ||
	    (r = buf_put_u64(b, t->clear_tid)) != 0 ||
	    (r = buf_put_u64(b, t->sas_sp)) != 0 ||
	    (r = buf_put_u64(b, t->sas_size)) != 0 ||
	    (r = buf_put_u32(b, t->sas_flags)) != 0 ||
	    (r = buf_put_u64(b, t->sigmask)) != 0 ||
	    (r = buf_put_cstring(b, t->comm)) != 0 ||
	    (r = buf_put_u32(b, t->npending)) != 0)
		return r;
	for (i = 0; i < t->npending; i++)
		if ((r = buf_put_string(b, t->pending[i], 128)) != 0)
			return r;
	return 0;
}

int
ck_thread_decode(struct buf *b, struct ck_thread *t)
{
	uint32_t i, tid;
	char *comm = NULL;
	const uint8_t *sp;
	size_t len;
	int r;

	if ((r = buf_get_u32(b, &tid)) != 0 ||
	    (r = ck_regs_decode(b, t)) != 0 ||
	    (r = buf_get_u64(b, &t->rseq_ptr)) != 0 ||
	    (r = buf_get_u32(b, &t->rseq_len)) != 0 ||
	    (r = buf_get_u32(b, &t->rseq_sig)) != 0 ||
	    (r = buf_get_u64(b, &t->robust_head)) != 0 ||
	    (r = buf_get_u64(b, &t->robust_len)) != 0 ||
	    (r = buf_get_u64(b, &t->clear_tid)) != 0 ||
	    (r = buf_get_u64(b, &t->sas_sp)) != 0 ||
	    (r = buf_get_u64(b, &t->sas_size)) != 0 ||
	    (r = buf_get_u32(b, &t->sas_flags)) != 0 ||
	    (r = buf_get_u64(b, &t->sigmask)) != 0 ||
	    (r = buf_get_cstring(b, 16, &comm)) != 0 ||
	    (r = buf_get_u32(b, &t->npending)) != 0)
		goto out;
	t->tid = (pid_t)tid;
	snprintf(t->comm, sizeof(t->comm), "%s", comm);
	if (t->npending > CK_MAX_SIGINFO) {
		r = SS_ERR_TOO_LONG;
		goto out;
	}
	if (t->npending > 0 &&
	    (t->pending = calloc(t->npending, 128)) == NULL) {
		r = SS_ERR_ALLOC;
		goto out;
	}
	for (i = 0; i < t->npending; i++) {
		if ((r = buf_get_string_direct(b, &sp, &len)) != 0)
			goto out;
		if (len != 128) {
			r = SS_ERR_BAD;
			goto out;
		}
		memcpy(t->pending[i], sp, 128);
	}
 out:
	free(comm);
	return r;
}

/* Writes len bytes at p's scratch page + off. */
static int
scratch_put(struct ck_proc *p, size_t off, const void *data, size_t len)
{
	struct iovec l, rm;

	l.iov_base = (void *)data;
	l.iov_len = len;
	rm.iov_base = (void *)(p->scratch + off);
	rm.iov_len = len;
	if (process_vm_writev(p->npid, &l, 1, &rm, 1, 0) != (ssize_t)len)
		return SS_ERR_SYSTEM;
	return 0;
}

/* Runs syscall nr in thread tid of p; fails unless it returns >= 0. */
static int
run(struct ck_proc *p, pid_t tid, long nr, uint64_t a0, uint64_t a1,
    uint64_t a2, uint64_t a3, const char *what, struct ckpt_err *e)
{
	uint64_t a[4] = { a0, a1, a2, a3 };
	long ret;

	if (ck_inject_new(tid, p->sys_ip, &p->thr[0].regs, nr, a, 4, &ret) !=
	    0)
		return ck_fail(e, SS_ERR_SYSTEM, "thread %d: %s: %s", tid, what,
		    strerror(errno));
	if (ret < 0 && ret > -4096) {
		errno = (int)-ret;
		return ck_fail(e, SS_ERR_SYSTEM, "thread %d: %s: %s", tid,
		    what, strerror(errno));
	}
	return 0;
}

int
ck_threads_restore(struct ck_proc *p, int same_pid, struct ckpt_err *e)
{
	struct clone_args ca;
	struct ck_thread *t;
	pid_t leader = p->thr[0].ntid, want;
	uint64_t ss[3];
	uint32_t i, j;
	long ret;
	int r;

	for (i = 1; i < p->nthr; i++) {
		memset(&ca, 0, sizeof(ca));
		ca.flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
		    CLONE_THREAD | CLONE_SYSVSEM;
		if (same_pid) {
			want = p->thr[i].tid;
			if ((r = scratch_put(p, 512, &want, sizeof(want))) != 0)
				return ck_fail(e, r, "scratch: %s",
				    strerror(errno));
			ca.set_tid = p->scratch + 512;
			ca.set_tid_size = 1;
		}
		if ((r = scratch_put(p, 0, &ca, sizeof(ca))) != 0)
			return ck_fail(e, r, "scratch: %s", strerror(errno));
		if (ck_inject_clone(leader, p->sys_ip, p->scratch, sizeof(ca),
		    &ret) != 0)
			return ck_fail(e, SS_ERR_SYSTEM, "process %d: clone3: "
			    "%s", p->npid, strerror(errno));
		if (ret < 0) {
			errno = (int)-ret;
			return ck_fail(e, SS_ERR_SYSTEM, "process %d: thread "
			    "%d: clone3: %s", p->npid, p->thr[i].tid,
			    strerror(errno));
		}
		p->thr[i].ntid = (pid_t)ret;
		if ((r = ck_wait_stop(p->thr[i].ntid, e)) != 0)
			return r;
	}
	for (i = 0; i < p->nthr; i++) {
		t = &p->thr[i];
		if (t->rseq_ptr != 0 && (r = run(p, t->ntid, SYS_rseq,
		    t->rseq_ptr, t->rseq_len, 0, t->rseq_sig, "rseq", e)) != 0)
			return r;
		if ((r = run(p, t->ntid, SYS_set_robust_list, t->robust_head,
		    t->robust_len, 0, 0, "set_robust_list", e)) != 0)
			return r;
		if ((r = run(p, t->ntid, SYS_set_tid_address, t->clear_tid, 0,
		    0, 0, "set_tid_address", e)) != 0)
			return r;
		ss[0] = t->sas_sp;
		ss[1] = t->sas_flags;
		ss[2] = t->sas_size;
		if ((t->sas_flags & SS_DISABLE) == 0) {
			if ((r = scratch_put(p, 256, ss, sizeof(ss))) != 0)
				return ck_fail(e, r, "scratch: %s",
				    strerror(errno));
			if ((r = run(p, t->ntid, SYS_sigaltstack,
			    p->scratch + 256, 0, 0, 0, "sigaltstack", e)) != 0)
				return r;
		}
		for (j = 0; j < t->npending && i > 0; j++) {
			int sig;

			memcpy(&sig, t->pending[j], sizeof(sig));
			if ((r = scratch_put(p, 1024, t->pending[j], 128)) != 0)
				return ck_fail(e, r, "scratch: %s",
				    strerror(errno));
			if ((r = run(p, leader, SYS_rt_tgsigqueueinfo, p->npid,
			    t->ntid, sig, p->scratch + 1024,
			    "rt_tgsigqueueinfo", e)) != 0)
				return r;
		}
		/* comm: only the thread group itself may set it. */
		if ((r = scratch_put(p, 1536, t->comm, sizeof(t->comm))) != 0)
			return ck_fail(e, r, "scratch: %s", strerror(errno));
		if ((r = run(p, t->ntid, SYS_prctl, PR_SET_NAME,
		    p->scratch + 1536, 0, 0, "prctl(PR_SET_NAME)", e)) != 0)
			return r;
	}
	return 0;
}

int
ck_threads_finish(struct ck_proc *p, struct ckpt_err *e)
{
	uint32_t i;
	int r;

	for (i = 0; i < p->nthr; i++) {
		if ((r = ck_regs_restore(p->thr[i].ntid, &p->thr[i], e)) != 0)
			return r;
		if (ptrace(PTRACE_SETSIGMASK, p->thr[i].ntid, (void *)8,
		    &p->thr[i].sigmask) == -1)
			return ck_fail(e, SS_ERR_SYSTEM, "thread %d: sigmask: "
			    "%s", p->thr[i].ntid, strerror(errno));
	}
	return 0;
}
