/*
 * sig.c: signal dispositions, pending signals and interval timers.
 *
 * Dump: a handler's address is not visible in /proc, so the disposition
 * of every caught signal (SigCgt) and of SIGCHLD (whose SA_NOCLDWAIT and
 * SA_NOCLDSTOP matter even at SIG_DFL) is read by injecting
 * rt_sigaction(sig, NULL, &old); ignored signals (SigIgn) are SIG_IGN, the
 * rest SIG_DFL.  Pending signals are read with PTRACE_PEEKSIGINFO, the
 * process-wide queue and each thread's, siginfo and all.  The three
 * itimers are read by injecting getitimer().
 *
 * Restore runs in the new process itself, before its memory is replaced
 * (ck_sig_prep): every disposition is set with the raw rt_sigaction
 * (handler, flags and sa_restorer as dumped: they point into memory that
 * will be there when the process runs), the pending signals are queued to
 * itself with rt_sigqueueinfo (the only way to keep their siginfo), while
 * every signal is blocked; the dumped mask is set last, with
 * PTRACE_SETSIGMASK, so pending signals are delivered once it runs.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#include "ckpt-int.h"

static uint64_t
status_mask(pid_t pid, const char *key)
{
	char path[64], line[256];
	FILE *f;
	uint64_t v = 0;
	size_t kl = strlen(key);

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if ((f = fopen(path, "re")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, kl) == 0) {
			v = strtoull(line + kl, NULL, 16);
			break;
		}
	fclose(f);
	return v;
}

/* Reads a queue of pending siginfos (shared or the thread's). */
static int
peek_pending(pid_t tid, int shared, uint32_t *np, uint8_t (**qp)[128],
    struct ckpt_err *e)
{
	struct {
		uint64_t off;
		uint32_t flags;
		int32_t nr;
	} arg;
	uint8_t (*q)[128] = NULL, (*nq)[128];
	long n;
	uint32_t have = 0;

	for (;;) {
		if (have >= CK_MAX_SIGINFO)
			break;
		nq = realloc(q, (have + 32) * 128);
		if (nq == NULL) {
			free(q);
			return ck_fail(e, SS_ERR_ALLOC, "out of memory");
		}
		q = nq;
		arg.off = have;
		arg.flags = shared ? 1 /* PTRACE_PEEKSIGINFO_SHARED */ : 0;
		arg.nr = 32;
		n = ptrace(PTRACE_PEEKSIGINFO, tid, &arg, q[have]);
		if (n < 0) {
			free(q);
			return ck_fail(e, SS_ERR_SYSTEM, "thread %d: pending "
			    "signals: %s", tid, strerror(errno));
		}
		have += n;
		if (n < 32)
			break;
	}
	*np = have;
	if (have == 0) {
		free(q);
		q = NULL;
	}
	*qp = q;
	return 0;
}

int
ck_sig_thread_collect(pid_t tid, struct ck_thread *t, struct ckpt_err *e)
{
	return peek_pending(tid, 0, &t->npending, &t->pending, e);
}

int
ck_sig_collect(struct ck_proc *p, struct ckpt_err *e)
{
	uint64_t cgt, ign, args[4];
	struct user_regs_struct regs;
	uint8_t saved[64], out[32];
	struct iovec l, rm;
	uint64_t addr;
	long ret;
	int sig, r;
	pid_t tid = p->pid;

	cgt = status_mask(p->pid, "SigCgt:");
	ign = status_mask(p->pid, "SigIgn:");
	if (ptrace(PTRACE_GETREGS, tid, NULL, &regs) == -1)
		return ck_fail(e, SS_ERR_SYSTEM, "process %d: %s", p->pid,
		    strerror(errno));
	addr = (regs.rsp - 1024) & ~15ull;
	l.iov_base = saved;
	l.iov_len = sizeof(saved);
	rm.iov_base = (void *)addr;
	rm.iov_len = sizeof(saved);
	if (process_vm_readv(p->pid, &l, 1, &rm, 1, 0) != sizeof(saved))
		return ck_fail(e, SS_ERR_SYSTEM, "process %d: stack: %s",
		    p->pid, strerror(errno));
	for (sig = 1; sig <= CK_NSIG; sig++) {
		struct ck_sigaction *sa = &p->sa[sig - 1];
		uint64_t bit = 1ull << (sig - 1);

		memset(sa, 0, sizeof(*sa));
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		if ((cgt & bit) == 0 && sig != SIGCHLD) {
			sa->handler = (ign & bit) ? (uint64_t)SIG_IGN :
			    (uint64_t)SIG_DFL;
			continue;
		}
		args[0] = sig;
		args[1] = 0;
		args[2] = addr;
		args[3] = 8;
		if (ck_inject(tid, p->sys_ip, SYS_rt_sigaction, args, 4,
		    &ret) != 0 || ret != 0)
			return ck_fail(e, SS_ERR_SYSTEM, "process %d: "
			    "rt_sigaction(%d): %s", p->pid, sig,
			    strerror(ret ? (int)-ret : errno));
		l.iov_base = out;
		l.iov_len = sizeof(out);
		rm.iov_len = sizeof(out);
		if (process_vm_readv(p->pid, &l, 1, &rm, 1, 0) != sizeof(out))
			return ck_fail(e, SS_ERR_SYSTEM, "process %d: %s",
			    p->pid, strerror(errno));
		memcpy(sa, out, sizeof(out));
	}
	/* itimers: real, virtual, prof. */
	for (sig = 0; sig < 3; sig++) {
		struct itimerval it;

		args[0] = sig;
		args[1] = addr;
		if (ck_inject(tid, p->sys_ip, SYS_getitimer, args, 2,
		    &ret) != 0 || ret != 0)
			return ck_fail(e, SS_ERR_SYSTEM, "process %d: "
			    "getitimer: %s", p->pid, strerror(errno));
		l.iov_base = &it;
		l.iov_len = sizeof(it);
		rm.iov_len = sizeof(it);
		if (process_vm_readv(p->pid, &l, 1, &rm, 1, 0) != sizeof(it))
			return ck_fail(e, SS_ERR_SYSTEM, "process %d: %s",
			    p->pid, strerror(errno));
		p->itimer[sig][0] = it.it_interval.tv_sec;
		p->itimer[sig][1] = it.it_interval.tv_usec;
		p->itimer[sig][2] = it.it_value.tv_sec;
		p->itimer[sig][3] = it.it_value.tv_usec;
	}
	l.iov_base = saved;
	l.iov_len = sizeof(saved);
	rm.iov_len = sizeof(saved);
	if (process_vm_writev(p->pid, &l, 1, &rm, 1, 0) != sizeof(saved))
		return ck_fail(e, SS_ERR_SYSTEM, "process %d: stack: %s",
		    p->pid, strerror(errno));
	if ((r = peek_pending(tid, 1, &p->nspending, &p->spending, e)) != 0)
		return r;
	return 0;
}

int
ck_sig_encode(struct buf *b, const struct ck_proc *p)
{
	uint32_t i, j;
	int r;

	for (i = 0; i < CK_NSIG; i++)
		if ((r = buf_put_u64(b, p->sa[i].handler)) != 0 ||
		    (r = buf_put_u64(b, p->sa[i].flags)) != 0 ||
		    (r = buf_put_u64(b, p->sa[i].restorer)) != 0 ||
		    (r = buf_put_u64(b, p->sa[i].mask)) != 0)
			return r;
	for (i = 0; i < 3; i++)
		for (j = 0; j < 4; j++)
			if ((r = buf_put_u64(b, p->itimer[i][j])) != 0)
				return r;
	if ((r = buf_put_u32(b, p->nspending)) != 0)
		return r;
	for (i = 0; i < p->nspending; i++)
		if ((r = buf_put_string(b, p->spending[i], 128)) != 0)
			return r;
	return 0;
}

int
ck_sig_decode(struct buf *b, struct ck_proc *p)
{
	const uint8_t *sp;
	size_t len;
	uint32_t i, j;
	int r;

	for (i = 0; i < CK_NSIG; i++)
		if ((r = buf_get_u64(b, &p->sa[i].handler)) != 0 ||
		    (r = buf_get_u64(b, &p->sa[i].flags)) != 0 ||
		    (r = buf_get_u64(b, &p->sa[i].restorer)) != 0 ||
		    (r = buf_get_u64(b, &p->sa[i].mask)) != 0)
			return r;
	for (i = 0; i < 3; i++)
		for (j = 0; j < 4; j++)
			if ((r = buf_get_u64(b, &p->itimer[i][j])) != 0)
				return r;
	if ((r = buf_get_u32(b, &p->nspending)) != 0)
		return r;
	if (p->nspending > CK_MAX_SIGINFO)
		return SS_ERR_TOO_LONG;
	if (p->nspending > 0 &&
	    (p->spending = calloc(p->nspending, 128)) == NULL)
		return SS_ERR_ALLOC;
	for (i = 0; i < p->nspending; i++) {
		if ((r = buf_get_string_direct(b, &sp, &len)) != 0)
			return r;
		if (len != 128)
			return SS_ERR_BAD;
		memcpy(p->spending[i], sp, 128);
	}
	return 0;
}

/* In the new process, every signal blocked: returns -errno or 0. */
int
ck_sig_prep(const struct ck_proc *p)
{
	struct itimerval it;
	uint32_t i;
	int sig;

	for (sig = 1; sig <= CK_NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (syscall(SYS_rt_sigaction, sig, &p->sa[sig - 1], NULL, 8) ==
		    -1 && sig < SIGRTMIN)
			return -errno;
	}
	for (i = 0; i < 3; i++) {
		it.it_interval.tv_sec = p->itimer[i][0];
		it.it_interval.tv_usec = p->itimer[i][1];
		it.it_value.tv_sec = p->itimer[i][2];
		it.it_value.tv_usec = p->itimer[i][3];
		if ((it.it_value.tv_sec || it.it_value.tv_usec) &&
		    setitimer(i, &it, NULL) == -1)
			return -errno;
	}
	for (i = 0; i < p->nspending; i++) {
		int s;

		memcpy(&s, p->spending[i], sizeof(s));
		if (syscall(SYS_rt_sigqueueinfo, getpid(), s,
		    p->spending[i]) == -1)
			return -errno;
	}
	for (i = 0; i < p->thr[0].npending; i++) {
		int s;

		memcpy(&s, p->thr[0].pending[i], sizeof(s));
		if (syscall(SYS_rt_tgsigqueueinfo, getpid(), getpid(), s,
		    p->thr[0].pending[i]) == -1)
			return -errno;
	}
	return 0;
}
