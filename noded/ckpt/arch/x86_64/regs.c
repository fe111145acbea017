/*
 * regs.c: x86_64 registers and system-call injection for the checkpoint
 * engine.
 *
 * Dump: PTRACE_GETREGS (which includes fs_base and gs_base) and the whole
 * XSAVE area (PTRACE_GETREGSET NT_X86_XSTATE, its size as the kernel gives
 * it).  A thread stopped inside a system call is stopped before the kernel
 * applied its restart fix-up, so the fix-up is applied here, in the saved
 * copy (see KERNEL-NOTES.md): ERESTARTSYS and friends re-execute the
 * syscall instruction, a relative nanosleep/clock_nanosleep is re-issued
 * with the time that was left, an absolute one as it was, a poll without
 * timeout (which the kernel also restarts through restart_syscall) as it
 * was, and any other
 * ERESTART_RESTARTBLOCK (poll or futex with a timeout) returns EINTR, which
 * programs must handle anyway.  The saved orig_rax is always -1, so the
 * kernel applies no second fix-up when the restored thread resumes.
 *
 * Injection: a stopped tracee runs one system call of our choice with its
 * instruction pointer on a "syscall" instruction (one exists in the vdso,
 * which every process has) and a single step; its registers and signal
 * mask are put back afterwards, and every signal stays blocked meanwhile
 * so that none is delivered on the injected registers.
 */
#include <cpuid.h>
#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>

#include "../../ckpt-int.h"

#define NREGS	27
_Static_assert(sizeof(struct user_regs_struct) == NREGS * 8,
    "user_regs_struct layout");
_Static_assert(offsetof(struct user_regs_struct, orig_rax) == 15 * 8,
    "orig_rax offset");
_Static_assert(offsetof(struct user_regs_struct, fs_base) == 21 * 8,
    "fs_base offset");

#define ERESTARTSYS		512
#define ERESTARTNOINTR		513
#define ERESTARTNOHAND		514
#define ERESTART_RESTARTBLOCK	516

uint64_t
ck_arch_xcr0(void)
{
	uint32_t a, b, c, d;

	__cpuid(1, a, b, c, d);
	if ((c & (1u << 27)) == 0)	/* no OSXSAVE */
		return 0;
	__asm__ volatile("xgetbv" : "=a"(a), "=d"(d) : "c"(0));
	return ((uint64_t)d << 32) | a;
}

uint32_t
ck_arch_xstate_size(void)
{
	uint32_t a, b, c, d;

	if (__get_cpuid_max(0, NULL) < 0xd)
		return 0;
	__cpuid_count(0xd, 0, a, b, c, d);
	return b;
}

/* Applies the kernel's syscall-restart fix-up to a saved register set. */
static void
regs_fix_restart(struct user_regs_struct *r)
{
	long ret = (long)r->rax, nr = (long)r->orig_rax;

	if (nr < 0)
		return;
	switch (-ret) {
	case ERESTARTSYS:
	case ERESTARTNOINTR:
	case ERESTARTNOHAND:
		r->rip -= 2;
		r->rax = r->orig_rax;
		break;
	case ERESTART_RESTARTBLOCK:
		if (nr == SYS_nanosleep && r->rsi != 0) {
			/* The kernel wrote what was left into *rem. */
			r->rdi = r->rsi;
			r->rip -= 2;
			r->rax = nr;
		} else if (nr == SYS_clock_nanosleep &&
		    (r->rsi & 1 /* TIMER_ABSTIME */)) {
			r->rip -= 2;
			r->rax = nr;
		} else if (nr == SYS_poll && (int)r->rdx < 0) {
			/* poll without a timeout: the same call again. */
			r->rip -= 2;
			r->rax = nr;
		} else if (nr == SYS_clock_nanosleep && r->r10 != 0) {
			r->rdx = r->r10;
			r->rip -= 2;
			r->rax = nr;
		} else
			r->rax = (uint64_t)-EINTR;
		break;
	}
	r->orig_rax = (uint64_t)-1;
}

int
ck_regs_dump(pid_t tid, struct ck_thread *t, struct ckpt_err *e)
{
	struct iovec iov;
	uint8_t *xs;

	if (ptrace(PTRACE_GETREGS, tid, NULL, &t->regs) == -1)
		return ck_fail(e, SS_ERR_SYSTEM, "thread %d: PTRACE_GETREGS: %s",
		    tid, strerror(errno));
	regs_fix_restart(&t->regs);
	if ((xs = malloc(CK_XSTATE_MAX)) == NULL)
		return ck_fail(e, SS_ERR_ALLOC, "out of memory");
	iov.iov_base = xs;
	iov.iov_len = CK_XSTATE_MAX;
	if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_X86_XSTATE, &iov) == -1) {
		free(xs);
		return ck_fail(e, SS_ERR_SYSTEM, "thread %d: NT_X86_XSTATE: %s",
		    tid, strerror(errno));
	}
	t->xstate = xs;
	t->xstate_len = iov.iov_len;
	return 0;
}

int
ck_regs_restore(pid_t tid, const struct ck_thread *t, struct ckpt_err *e)
{
	struct user_regs_struct r = t->regs;
	struct iovec iov;

	r.orig_rax = (uint64_t)-1;
	iov.iov_base = t->xstate;
	iov.iov_len = t->xstate_len;
	if (ptrace(PTRACE_SETREGSET, tid, (void *)NT_X86_XSTATE, &iov) == -1)
		return ck_fail(e, SS_ERR_SYSTEM, "thread %d: set xstate: %s",
		    tid, strerror(errno));
	if (iov.iov_len != t->xstate_len)
		return ck_fail(e, SS_ERR_UNSUPPORTED, "thread %d: xstate of %u "
		    "bytes does not fit this CPU", tid, t->xstate_len);
	if (ptrace(PTRACE_SETREGS, tid, NULL, &r) == -1)
		return ck_fail(e, SS_ERR_SYSTEM, "thread %d: PTRACE_SETREGS: %s",
		    tid, strerror(errno));
	return 0;
}

int
ck_regs_encode(struct buf *b, const struct ck_thread *t)
{
	uint64_t v[NREGS];
	int i, r;

	memcpy(v, &t->regs, sizeof(v));
	for (i = 0; i < NREGS; i++)
		if ((r = buf_put_u64(b, v[i])) != 0)
			return r;
	return buf_put_string(b, t->xstate, t->xstate_len);
}

int
ck_regs_decode(struct buf *b, struct ck_thread *t)
{
	uint64_t v[NREGS];
	size_t len;
	int i, r;

	for (i = 0; i < NREGS; i++)
		if ((r = buf_get_u64(b, &v[i])) != 0)
			return r;
	memcpy(&t->regs, v, sizeof(v));
	if ((r = buf_get_string(b, CK_XSTATE_MAX, &t->xstate, &len)) != 0)
		return r;
	t->xstate_len = len;
	return 0;
}

long
ck_arch_vdso_syscall_off(void)
{
	const uint8_t *base = (const uint8_t *)getauxval(AT_SYSINFO_EHDR);
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)base;
	const Elf64_Phdr *ph;
	uint64_t i, j;

	if (base == NULL)
		return -1;
	/* Look only in the executable segment. */
	ph = (const Elf64_Phdr *)(base + eh->e_phoff);
	for (i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD || (ph[i].p_flags & PF_X) == 0)
			continue;
		for (j = ph[i].p_offset; j + 1 < ph[i].p_offset +
		    ph[i].p_filesz; j++)
			if (base[j] == 0x0f && base[j + 1] == 0x05)
				return (long)j;
	}
	return -1;
}

/* Single-steps tid over the syscall it is set up for; reports stops. */
static int
step_syscall(pid_t tid, pid_t *newtidp)
{
	int st;
	unsigned long msg;

	if (ptrace(PTRACE_SINGLESTEP, tid, NULL, NULL) == -1)
		return SS_ERR_SYSTEM;
	for (;;) {
		if (waitpid(tid, &st, __WALL) == -1) {
			if (errno == EINTR)
				continue;
			return SS_ERR_SYSTEM;
		}
		if (!WIFSTOPPED(st)) {
			errno = ESRCH;
			return SS_ERR_SYSTEM;
		}
		if ((st >> 8) == (SIGTRAP | (PTRACE_EVENT_CLONE << 8))) {
			if (ptrace(PTRACE_GETEVENTMSG, tid, NULL, &msg) == -1)
				return SS_ERR_SYSTEM;
			if (newtidp != NULL)
				*newtidp = (pid_t)msg;
			if (ptrace(PTRACE_SINGLESTEP, tid, NULL, NULL) == -1)
				return SS_ERR_SYSTEM;
			continue;
		}
		if (WSTOPSIG(st) == SIGTRAP && (st >> 16) == 0)
			return 0;
		if ((st >> 16) == 0) {
			/* A fault (all else is blocked): the call went wrong. */
			errno = EFAULT;
			return SS_ERR_SYSTEM;
		}
		/* Another ptrace event: step on. */
		if (ptrace(PTRACE_SINGLESTEP, tid, NULL, NULL) == -1)
			return SS_ERR_SYSTEM;
	}
}

static int
inject(pid_t tid, uint64_t ip, long nr, const uint64_t *args, int nargs,
    long *retp, pid_t *newtidp)
{
	struct user_regs_struct saved, r;
	uint64_t mask, full = ~0ull;
	int rc;

	if (ptrace(PTRACE_GETREGS, tid, NULL, &saved) == -1)
		return SS_ERR_SYSTEM;
	if (ptrace(PTRACE_GETSIGMASK, tid, (void *)sizeof(mask), &mask) == -1)
		return SS_ERR_SYSTEM;
	if (ptrace(PTRACE_SETSIGMASK, tid, (void *)sizeof(full), &full) == -1)
		return SS_ERR_SYSTEM;
	r = saved;
	r.rip = ip;
	r.rax = nr;
	r.orig_rax = (uint64_t)-1;
	r.rdi = nargs > 0 ? args[0] : 0;
	r.rsi = nargs > 1 ? args[1] : 0;
	r.rdx = nargs > 2 ? args[2] : 0;
	r.r10 = nargs > 3 ? args[3] : 0;
	r.r8 = nargs > 4 ? args[4] : 0;
	r.r9 = nargs > 5 ? args[5] : 0;
	if (ptrace(PTRACE_SETREGS, tid, NULL, &r) == -1)
		return SS_ERR_SYSTEM;
	if ((rc = step_syscall(tid, newtidp)) != 0)
		return rc;
	if (ptrace(PTRACE_GETREGS, tid, NULL, &r) == -1)
		return SS_ERR_SYSTEM;
	*retp = (long)r.rax;
	if (ptrace(PTRACE_SETREGS, tid, NULL, &saved) == -1)
		return SS_ERR_SYSTEM;
	if (ptrace(PTRACE_SETSIGMASK, tid, (void *)sizeof(mask), &mask) == -1)
		return SS_ERR_SYSTEM;
	return 0;
}

/*
 * Injection into a thread being restored: none of its code runs yet, all
 * its signals are blocked and its registers are set at the very end, so
 * nothing is saved or put back (4 system calls instead of 9).  tmpl gives
 * valid segment registers (the dumped ones).
 */
int
ck_inject_new(pid_t tid, uint64_t ip, const struct user_regs_struct *tmpl,
    long nr, const uint64_t *args, int nargs, long *retp)
{
	struct user_regs_struct r = *tmpl;
	int rc;

	r.rip = ip;
	r.rax = nr;
	r.orig_rax = (uint64_t)-1;
	r.eflags &= ~0x100ull;	/* TF: the step sets it itself */
	r.rdi = nargs > 0 ? args[0] : 0;
	r.rsi = nargs > 1 ? args[1] : 0;
	r.rdx = nargs > 2 ? args[2] : 0;
	r.r10 = nargs > 3 ? args[3] : 0;
	r.r8 = nargs > 4 ? args[4] : 0;
	r.r9 = nargs > 5 ? args[5] : 0;
	if (ptrace(PTRACE_SETREGS, tid, NULL, &r) == -1)
		return SS_ERR_SYSTEM;
	if ((rc = step_syscall(tid, NULL)) != 0)
		return rc;
	if (ptrace(PTRACE_GETREGS, tid, NULL, &r) == -1)
		return SS_ERR_SYSTEM;
	*retp = (long)r.rax;
	return 0;
}

int
ck_inject(pid_t tid, uint64_t ip, long nr, const uint64_t *args, int nargs,
    long *retp)
{
	return inject(tid, ip, nr, args, nargs, retp, NULL);
}

int
ck_inject_clone(pid_t tid, uint64_t ip, uint64_t args, uint64_t size,
    long *retp)
{
	uint64_t a[2] = { args, size };
	pid_t ntid = 0;
	int r;

	if ((r = inject(tid, ip, SYS_clone3, a, 2, retp, &ntid)) != 0)
		return r;
	if (*retp >= 0 && ntid > 0)
		*retp = ntid;
	return 0;
}
