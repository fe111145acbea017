/*
 * mm.c: the address space of a process, dumped and restored.
 *
 * Dump: the mappings come from /proc/PID/maps; a mapping the engine does
 * not know how to carry (SysV shared memory, a deleted file, a device,
 * anything in brackets it does not know) refuses the dump.  The pages to
 * carry are found with the PAGEMAP_SCAN ioctl (Linux 6.7+): present or
 * swapped pages, and in private file mappings only the pages that were
 * written (anonymous copies), so untouched memory costs nothing.  Pages
 * are read with process_vm_readv (through /proc/PID/mem for mappings that
 * are not readable), and in anonymous memory zero pages are left out.
 * Shared anonymous memory is read where its object says it has pages
 * (SEEK_DATA on /proc/PID/map_files, for root), and each page of an
 * object shared by several mappings only once (shmem.c).
 * Each piece read is checked for zero pages and summed (ck_page_sum)
 * right away, while it is in this core's cache, and the batch it was
 * read into is what the stream's writer thread writes (no copy).
 *
 * Restore, in the new process stopped under ptrace, by injected system
 * calls (some 30 us each, so they are counted): unregister the rseq area
 * the new process inherited, unmap all but the vdso block (two calls,
 * one each side of it), move the vdso block ([vvar] [vvar_vclock]
 * [vdso]) to the dumped addresses (the vdso code and glibc hold absolute
 * addresses into it), map every area with its own protection (files
 * from their path, shared anonymous memory of several mappings from the
 * object the restorer made, see shmem.c), write the pages, and set the
 * mm fields (code, data, brk, stack, arguments, environment, auxv and,
 * for root, the exe link) with one prctl(PR_SET_MM_MAP), which needs
 * only CAP_CHECKPOINT_RESTORE.
 *
 * Pages of anonymous memory go in with UFFDIO_COPY through a userfaultfd
 * made in the new process (by an injected call, taken with pidfd_getfd):
 * it allocates each page and copies into it, where process_vm_writev
 * would first fault in a zeroed page and then copy over it (the zeroing
 * was the largest cost of a restore), and it ignores the area's
 * protection.  The process is stopped, so no fault ever reaches the
 * userfaultfd; closing it (ck_mm_restore_uffd_close) unregisters the
 * memory.  Other writable areas (private file mappings, which a
 * userfaultfd does not take) get process_vm_writev; areas that are not
 * writable (relro, written code) are written through /proc/PID/mem,
 * which goes past the protection as a debugger's writes do, so no area
 * needs an mprotect afterwards.  Only shared memory, which /proc/PID/mem
 * cannot write past its protection, is mapped writable and mprotected
 * once its pages are in.  ck_mm_restore_pages may run in two threads at
 * once (image.c reads pages with two): it only reads the image structs.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/prctl.h>
#include <linux/userfaultfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "ckpt-int.h"


#ifndef PR_SET_MM_MAP
#define PR_SET_MM_MAP		14
#endif

struct ck_prctl_mm_map {
	uint64_t	start_code;
	uint64_t	end_code;
	uint64_t	start_data;
	uint64_t	end_data;
	uint64_t	start_brk;
	uint64_t	brk;
	uint64_t	start_stack;
	uint64_t	arg_start;
	uint64_t	arg_end;
	uint64_t	env_start;
	uint64_t	env_end;
	uint64_t	auxv;
	uint32_t	auxv_size;
	uint32_t	exe_fd;
};
_Static_assert(sizeof(struct ck_prctl_mm_map) == 104, "prctl_mm_map");

static void	uffd_open(struct ck_proc *);
static int	uffd_copy(struct ck_proc *, uint64_t, const uint8_t *,
		    uint64_t, struct ckpt_err *);

static const char *
kind_name(uint32_t k)
{
	switch (k) {
	case CK_VMA_ANON:		return "anon";
	case CK_VMA_FILE_PRIV:		return "file";
	case CK_VMA_FILE_SHARED:	return "file-shared";
	case CK_VMA_SHMEM:		return "shmem";
	case CK_VMA_VVAR:		return "vvar";
	case CK_VMA_VVAR_VCLOCK:	return "vvar_vclock";
	case CK_VMA_VDSO:		return "vdso";
	default:			return "?";
	}
}

/* Classifies one line of /proc/PID/maps; 1 to skip it, <0 to refuse. */
static int
vma_classify(pid_t pid, struct ck_vma *v, char shared, const char *path,
    struct ckpt_err *e)
{
	struct stat st;
	size_t pl = strlen(path);

	if (path[0] == '\0') {
		v->kind = shared == 's' ? CK_VMA_SHMEM : CK_VMA_ANON;
		return 0;
	}
	if (strcmp(path, "[vsyscall]") == 0)
		return 1;
	if (strcmp(path, "[vvar]") == 0) {
		v->kind = CK_VMA_VVAR;
		return 0;
	}
	if (strcmp(path, "[vvar_vclock]") == 0) {
		v->kind = CK_VMA_VVAR_VCLOCK;
		return 0;
	}
	if (strcmp(path, "[vdso]") == 0) {
		v->kind = CK_VMA_VDSO;
		return 0;
	}
	if (strcmp(path, "[heap]") == 0) {
		v->kind = CK_VMA_ANON;
		v->flags |= CK_VMAF_HEAP;
		return 0;
	}
	if (strcmp(path, "[stack]") == 0) {
		v->kind = CK_VMA_ANON;
		v->flags |= CK_VMAF_STACK | CK_VMAF_GROWSDOWN;
		return 0;
	}
	if (strncmp(path, "[anon:", 6) == 0) {
		v->kind = shared == 's' ? CK_VMA_SHMEM : CK_VMA_ANON;
		return 0;
	}
	if (strncmp(path, "[anon_shmem:", 12) == 0 ||
	    strcmp(path, "/dev/zero (deleted)") == 0) {
		v->kind = shared == 's' ? CK_VMA_SHMEM : CK_VMA_ANON;
		return 0;
	}
	if (strncmp(path, "/SYSV", 5) == 0)
		return ck_fail(e, SS_ERR_UNSUPPORTED, "process %d: mapping at "
		    "%#llx: SysV shared memory cannot be checkpointed", pid,
		    (unsigned long long)v->start);
	if (pl > 10 && strcmp(path + pl - 10, " (deleted)") == 0)
		return ck_fail(e, SS_ERR_UNSUPPORTED, "process %d: mapping of "
		    "a deleted file: %s", pid, path);
	if (path[0] != '/')
		return ck_fail(e, SS_ERR_UNSUPPORTED, "process %d: mapping at "
		    "%#llx of %s cannot be checkpointed", pid,
		    (unsigned long long)v->start, path);
	if (stat(path, &st) == -1)
		return ck_fail(e, SS_ERR_SYSTEM, "process %d: mapped file %s: "
		    "%s", pid, path, strerror(errno));
	if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 5)) {
		v->kind = shared == 's' ? CK_VMA_SHMEM : CK_VMA_ANON;
		return 0;
	}
	if (!S_ISREG(st.st_mode))
		return ck_fail(e, SS_ERR_UNSUPPORTED, "process %d: mapping of "
		    "device or special file %s cannot be checkpointed", pid,
		    path);
	v->kind = shared == 's' ? CK_VMA_FILE_SHARED : CK_VMA_FILE_PRIV;
	if ((v->path = strdup(path)) == NULL)
		return ck_fail(e, SS_ERR_ALLOC, "out of memory");
	v->fsize = st.st_size;
	v->fmtime = (uint64_t)st.st_mtim.tv_sec * 1000000000ull +
	    st.st_mtim.tv_nsec;
	return 0;
}

/*
 * The mappings of pid into p.  lenient: a mapping the dump would refuse
 * is left out instead (restore looks only for the vdso block of a fresh
 * process, which maps its restorer's program, deleted if that was
 * upgraded meanwhile).
 */
static int
parse_maps(pid_t pid, struct ck_proc *p, int lenient, struct ckpt_err *e)
{
	char path[64], *data, *line, *next, perms[8], *name;
	unsigned long long start, end, off, ino;
	unsigned int maj, mnr;
	struct ck_vma *nv, v;
	int n, r = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	if (ck_read_file(path, &data, NULL) != 0)
		return ck_fail(e, SS_ERR_SYSTEM, "%s: %s", path,
		    strerror(errno));
	for (line = data; *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		else
			next = line + strlen(line);
		n = 0;
		if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &start,
		    &end, perms, &off, &maj, &mnr, &ino, &n) < 7 || n == 0) {
			r = ck_fail(e, SS_ERR_BAD, "%s: cannot parse: %s",
			    path, line);
			break;
		}
		name = line + n;
		memset(&v, 0, sizeof(v));
		v.start = start;
		v.end = end;
		v.pgoff = off;
		v.sdev = makedev(maj, mnr);
		v.sino = ino;
		v.tfd = -1;
		v.prot = (perms[0] == 'r' ? PROT_READ : 0) |
		    (perms[1] == 'w' ? PROT_WRITE : 0) |
		    (perms[2] == 'x' ? PROT_EXEC : 0);
		if ((r = vma_classify(pid, &v, perms[3], name, e)) < 0 &&
		    !lenient)
			break;
		if (r != 0) {
			r = 0;
			continue;
		}
		if (p->nvma >= CK_MAX_VMAS) {
			free(v.path);
			r = ck_fail(e, SS_ERR_TOO_LONG, "too many mappings");
			break;
		}
		if ((nv = realloc(p->vmas, (p->nvma + 1) * sizeof(*nv))) ==
		    NULL) {
			free(v.path);
			r = ck_fail(e, SS_ERR_ALLOC, "out of memory");
			break;
		}
		p->vmas = nv;
		p->vmas[p->nvma++] = v;
	}
	free(data);
	return r;
}

static void	free_tmp(struct ck_proc *);

int
ck_mm_check(pid_t pid, struct ckpt_err *e)
{
	struct ck_proc tmp;
	int r;

	memset(&tmp, 0, sizeof(tmp));
	tmp.pid = pid;
	r = parse_maps(pid, &tmp, 0, e);
	free_tmp(&tmp);
	return r;
}

int
ck_mm_collect(struct ck_proc *p, struct ckpt_err *e)
{
	char path[64], *data, state;
	size_t len;
	uint64_t f[CK_STAT_FIELDS + 1];
	long off, ret;
	uint64_t zero = 0;
	uint32_t i;
	int k;

	if ((off = ck_arch_vdso_syscall_off()) < 0)
		return ck_fail(e, SS_ERR_UNSUPPORTED, "no syscall instruction "
		    "in the vdso");
	if (parse_maps(p->pid, p, 0, e) != 0)
		return SS_ERR_UNSUPPORTED;
	for (i = 0; i < p->nvma; i++)
		if (p->vmas[i].kind == CK_VMA_VDSO)
			p->sys_ip = p->vmas[i].start + off;
	if (p->sys_ip == 0)
		return ck_fail(e, SS_ERR_UNSUPPORTED, "process %d has no vdso",
		    p->pid);
	/* The mm fields: /proc/PID/stat fields 26-28 and 45-51. */
	if ((k = ck_stat_read(p->pid, &state, f)) < 0)
		return ck_fail(e, SS_ERR_SYSTEM, "/proc/%d/stat: %s", p->pid,
		    strerror(errno));
	if (k < 51)
		return ck_fail(e, SS_ERR_BAD, "/proc/%d/stat: cannot parse",
		    p->pid);
	p->mm[0] = f[26];	/* start_code */
	p->mm[1] = f[27];	/* end_code */
	p->mm[2] = f[45];	/* start_data */
	p->mm[3] = f[46];	/* end_data */
	p->mm[4] = f[47];	/* start_brk */
	p->mm[6] = f[28];	/* start_stack */
	p->mm[7] = f[48];	/* arg_start */
	p->mm[8] = f[49];	/* arg_end */
	p->mm[9] = f[50];	/* env_start */
	p->mm[10] = f[51];	/* env_end */
	/* brk itself is not in /proc: ask the process. */
	if (ck_inject(p->pid, p->sys_ip, SYS_brk, &zero, 1, &ret) != 0)
		return ck_fail(e, SS_ERR_SYSTEM, "process %d: brk: %s", p->pid,
		    strerror(errno));
	p->mm[5] = (uint64_t)ret;
	snprintf(path, sizeof(path), "/proc/%d/auxv", p->pid);
	if (ck_read_file(path, &data, &len) != 0)
		return ck_fail(e, SS_ERR_SYSTEM, "%s: %s", path,
		    strerror(errno));
	p->auxv = (uint8_t *)data;
	p->auxv_len = len;
	return 0;
}

int
ck_mm_encode(struct buf *b, const struct ck_proc *p)
{
	const struct ck_vma *v;
	uint32_t i;
	int r;

	for (i = 0; i < 11; i++)
		if ((r = buf_put_u64(b, p->mm[i])) != 0)
			return r;
	if ((r = buf_put_string(b, p->auxv, p->auxv_len)) != 0 ||
	    (r = buf_put_u32(b, p->nvma)) != 0)
		return r;
	for (i = 0; i < p->nvma; i++) {
		v = &p->vmas[i];
		if ((r = buf_put_u64(b, v->start)) != 0 ||
		    (r = buf_put_u64(b, v->end)) != 0 ||
		    (r = buf_put_u64(b, v->pgoff)) != 0 ||
		    (r = buf_put_u32(b, v->kind)) != 0 ||
		    (r = buf_put_u32(b, v->prot)) != 0 ||
		    (r = buf_put_u32(b, v->flags)) != 0 ||
		    (r = buf_put_cstring(b, v->path)) != 0 ||
		    (r = buf_put_u64(b, v->fsize)) != 0 ||
		    (r = buf_put_u64(b, v->fmtime)) != 0 ||
		    (r = buf_put_u32(b, v->shm)) != 0)
			return r;
	}
	return 0;
}

int
ck_mm_decode(struct buf *b, struct ck_proc *p)
{
	struct ck_vma *v;
	size_t len;
	uint32_t i, n;
	int r;

	for (i = 0; i < 11; i++)
		if ((r = buf_get_u64(b, &p->mm[i])) != 0)
			return r;
	if ((r = buf_get_string(b, 4096, &p->auxv, &len)) != 0)
		return r;
	p->auxv_len = len;
	if ((r = buf_get_u32(b, &n)) != 0)
		return r;
	if (n > CK_MAX_VMAS)
		return SS_ERR_TOO_LONG;
	if ((p->vmas = calloc(n ? n : 1, sizeof(*p->vmas))) == NULL)
		return SS_ERR_ALLOC;
	for (i = 0; i < n; i++) {
		v = &p->vmas[i];
		v->tfd = -1;
		p->nvma = i + 1;
		if ((r = buf_get_u64(b, &v->start)) != 0 ||
		    (r = buf_get_u64(b, &v->end)) != 0 ||
		    (r = buf_get_u64(b, &v->pgoff)) != 0 ||
		    (r = buf_get_u32(b, &v->kind)) != 0 ||
		    (r = buf_get_u32(b, &v->prot)) != 0 ||
		    (r = buf_get_u32(b, &v->flags)) != 0 ||
		    (r = buf_get_cstring(b, CK_PATH_MAX, &v->path)) != 0 ||
		    (r = buf_get_u64(b, &v->fsize)) != 0 ||
		    (r = buf_get_u64(b, &v->fmtime)) != 0 ||
		    (r = buf_get_u32(b, &v->shm)) != 0)
			return r;
		if (v->start >= v->end || v->start % CK_PAGE != 0 ||
		    v->end % CK_PAGE != 0 || v->kind < CK_VMA_ANON ||
		    v->kind > CK_VMA_VDSO || (i > 0 &&
		    v->start < p->vmas[i - 1].end))
			return SS_ERR_BAD;
		if (v->path[0] == '\0') {
			free(v->path);
			v->path = NULL;
		}
		if ((v->kind == CK_VMA_FILE_PRIV ||
		    v->kind == CK_VMA_FILE_SHARED) && v->path == NULL)
			return SS_ERR_BAD;
		/* A shared object is mapped from its fd at pgoff. */
		if (v->shm != 0 && (v->kind != CK_VMA_SHMEM ||
		    v->pgoff % CK_PAGE != 0 || v->pgoff > (1ull << 56)))
			return SS_ERR_BAD;
	}
	return 0;
}

static int
page_is_zero(const uint8_t *p)
{
	const uint64_t *w = (const uint64_t *)p;
	size_t i;

	for (i = 0; i < CK_PAGE / 8; i += 4)
		if ((w[i] | w[i + 1] | w[i + 2] | w[i + 3]) != 0)
			return 0;
	return 1;
}

/* Reads [addr, addr+len) of p into dst. */
static int
read_mem(struct ck_proc *p, int memfd, const struct ck_vma *v, uint64_t addr,
    uint8_t *dst, size_t len)
{
	struct iovec l, rm;
	ssize_t n;

	if (v->prot & PROT_READ) {
		l.iov_base = dst;
		l.iov_len = len;
		rm.iov_base = (void *)addr;
		rm.iov_len = len;
		n = process_vm_readv(p->pid, &l, 1, &rm, 1, 0);
	} else
		n = pread(memfd, dst, len, (off_t)addr);
	if (n != (ssize_t)len) {
		if (n >= 0)
			errno = EIO;
		return SS_ERR_SYSTEM;
	}
	return 0;
}

/*
 * Pages are read in pieces of SUB_PAGES (256 KiB): each piece is checked
 * for zero pages and summed page by page right after process_vm_readv
 * put it in the batch, while it is still in this core's cache, instead
 * of in passes over the whole batch later.
 */
#define SUB_PAGES	64

/* Ends the run of pages, or of zero pages, open at page `at` of a piece. */
static int
end_runs(struct ck_stream *s, uint32_t idx, uint64_t a, const uint8_t *bufp,
    const struct ck_page_sum *ps, uint32_t run0, uint32_t zrun0, uint32_t at,
    int *inrun, int *inzero, uint64_t *npages, struct ckpt_err *e)
{
	int r;

	if (*inrun) {
		if ((r = ck_write_pages(s, idx, a + (uint64_t)run0 * CK_PAGE,
		    bufp + (size_t)run0 * CK_PAGE, at - run0,
		    ck_page_sum_end(ps), e)) != 0)
			return r;
		*npages += at - run0;
	}
	if (*inzero && (r = ck_write_run_only(s, CK_SEC_FORGET, idx, a +
	    (uint64_t)zrun0 * CK_PAGE, at - zrun0, e)) != 0)
		return r;
	*inrun = *inzero = 0;
	return 0;
}

/* Writes the pages of [start, end) that are worth carrying. */
static int
dump_range(struct ck_stream *s, uint32_t idx, struct ck_proc *p, int memfd,
    const struct ck_vma *v, uint64_t start, uint64_t end, uint64_t *npages,
    struct ckpt_err *e)
{
	struct ck_page_sum ps;
	uint64_t a, len;
	uint32_t np, i, j, sub, run0, zrun0 = 0;
	uint8_t *bufp, *pg;
	int r, inrun, inzero, skipzero = v->kind == CK_VMA_ANON ||
	    v->kind == CK_VMA_SHMEM, pc = ck_stream_is_precopy(s);

	for (a = start; a < end; a += len) {
		np = (end - a) / CK_PAGE > CK_PAGES_MAX ? CK_PAGES_MAX :
		    (uint32_t)((end - a) / CK_PAGE);
		if ((bufp = ck_stream_page_room(s, &np, e)) == NULL)
			return SS_ERR_SYSTEM;
		len = (uint64_t)np * CK_PAGE;
		inrun = inzero = 0;
		run0 = 0;
		for (i = 0; i < np; i += sub) {
			sub = np - i < SUB_PAGES ? np - i : SUB_PAGES;
			if (read_mem(p, memfd, v, a + (uint64_t)i * CK_PAGE,
			    bufp + (size_t)i * CK_PAGE, (size_t)sub * CK_PAGE) !=
			    0) {
				if (!pc)
					return ck_fail(e, SS_ERR_SYSTEM,
					    "process %d: reading %#llx: %s",
					    p->pid, (unsigned long long)(a +
					    (uint64_t)i * CK_PAGE),
					    strerror(errno));
				/* A pre-copy reads a running process, which
				 * may have unmapped it: skipped, and told. */
				ck_stream_mark_read_failed(s);
				if ((r = end_runs(s, idx, a, bufp, &ps, run0,
				    zrun0, i, &inrun, &inzero, npages, e)) != 0)
					return r;
				continue;
			}
			for (j = i; j < i + sub; j++) {
				pg = bufp + (size_t)j * CK_PAGE;
				if (skipzero && page_is_zero(pg)) {
					if (inrun && (r = ck_write_pages(s, idx,
					    a + (uint64_t)run0 * CK_PAGE, bufp +
					    (size_t)run0 * CK_PAGE, j - run0,
					    ck_page_sum_end(&ps), e)) != 0)
						return r;
					if (inrun)
						*npages += j - run0;
					inrun = 0;
					if (pc && !inzero) {
						zrun0 = j;
						inzero = 1;
					}
					continue;
				}
				if (inzero && (r = ck_write_run_only(s,
				    CK_SEC_FORGET, idx, a + (uint64_t)zrun0 *
				    CK_PAGE, j - zrun0, e)) != 0)
					return r;
				inzero = 0;
				if (!inrun) {
					ck_page_sum_init(&ps);
					run0 = j;
					inrun = 1;
				}
				ck_page_sum_add(&ps, pg, CK_PAGE);
			}
		}
		if ((r = end_runs(s, idx, a, bufp, &ps, run0, zrun0, np,
		    &inrun, &inzero, npages, e)) != 0)
			return r;
		ck_stream_page_advance(s, np);
	}
	return 0;
}

/* dump_range for a pre-copy: private anonymous memory of pid. */
int
ck_mm_dump_range(struct ck_stream *s, uint32_t idx, pid_t pid, int memfd,
    uint64_t start, uint64_t end, uint64_t *npages, struct ckpt_err *e)
{
	struct ck_proc p;
	struct ck_vma v;

	memset(&p, 0, sizeof(p));
	memset(&v, 0, sizeof(v));
	p.pid = pid;
	v.start = start;
	v.end = end;
	v.kind = CK_VMA_ANON;
	v.prot = PROT_READ | PROT_WRITE;
	return dump_range(s, idx, &p, memfd, &v, start, end, npages, e);
}

/*
 * dump_range over [start, end) of v, but in shared memory only the pages
 * of its object no other mapping has written yet (ck_shm_claim).
 */
static int
dump_claimed(struct ck_stream *s, struct ck_image *im, uint32_t idx,
    int memfd, const struct ck_vma *v, uint64_t start, uint64_t end,
    uint64_t *npages, struct ckpt_err *e)
{
	struct ck_proc *p = &im->procs[idx];
	uint64_t b;
	int r;

	if (v->shm == 0)
		return dump_range(s, idx, p, memfd, v, start, end, npages, e);
	while (start < end && ck_shm_claim(im, v, &start, end, &b) == 0) {
		if ((r = dump_range(s, idx, p, memfd, v, start, b, npages,
		    e)) != 0)
			return r;
		start = b;
	}
	return 0;
}

/*
 * The pages of shared memory v found in its object (fd, from
 * /proc/PID/map_files) with SEEK_DATA and SEEK_HOLE: every page the
 * object holds in v's window, whether or not this process has it in its
 * page tables (a page its sibling wrote, one dropped by MADV_DONTNEED or
 * swapped out), which PAGEMAP_SCAN would miss.
 */
static int
dump_shm_data(struct ck_stream *s, struct ck_image *im, uint32_t idx,
    int memfd, const struct ck_vma *v, int fd, uint64_t *npages,
    struct ckpt_err *e)
{
	off_t o = (off_t)v->pgoff, lim, d, h;
	int r;

	lim = (off_t)(v->pgoff + (v->end - v->start));
	while (o < lim) {
		if ((d = lseek(fd, o, SEEK_DATA)) == -1) {
			if (errno == ENXIO)
				break;
			return ck_fail(e, SS_ERR_SYSTEM, "process %d: shared "
			    "memory at %#llx: SEEK_DATA: %s",
			    im->procs[idx].pid, (unsigned long long)v->start,
			    strerror(errno));
		}
		if (d >= lim)
			break;
		if ((h = lseek(fd, d, SEEK_HOLE)) == -1)
			return ck_fail(e, SS_ERR_SYSTEM, "process %d: shared "
			    "memory at %#llx: SEEK_HOLE: %s",
			    im->procs[idx].pid, (unsigned long long)v->start,
			    strerror(errno));
		d &= ~(off_t)(CK_PAGE - 1);
		h = (h + (off_t)CK_PAGE - 1) & ~(off_t)(CK_PAGE - 1);
		if (h > lim)
			h = lim;
		if (h <= d)
			break;
		if ((r = dump_claimed(s, im, idx, memfd, v, v->start +
		    (uint64_t)d - v->pgoff, v->start + (uint64_t)h - v->pgoff,
		    npages, e)) != 0)
			return r;
		o = h;
	}
	return 0;
}

int
ck_pm_walk(int pmfd, const struct ck_pm_scan_arg *q, uint64_t start,
    uint64_t end, int (*fn)(void *, const struct ck_page_region *), void *arg,
    int *scan_err)
{
	struct ck_pm_scan_arg a;
	struct ck_page_region reg[512];
	long n, k;
	int r;

	*scan_err = 0;
	while (start < end) {
		a = *q;
		a.size = sizeof(a);
		a.start = start;
		a.end = end;
		a.walk_end = 0;
		a.vec = (uintptr_t)reg;
		a.vec_len = sizeof(reg) / sizeof(reg[0]);
		if ((n = ioctl(pmfd, CK_PAGEMAP_SCAN, &a)) < 0) {
			*scan_err = errno;
			return SS_ERR_SYSTEM;
		}
		for (k = 0; k < n; k++)
			if ((r = fn(arg, &reg[k])) != 0)
				return r;
		if (a.walk_end <= start)
			break;
		start = a.walk_end;
	}
	return 0;
}

/* KEEP sections for [start, end), CK_PAGES_MAX pages at most each. */
static int
keep_run(struct ck_stream *s, uint32_t idx, uint64_t start, uint64_t end,
    uint64_t *npages, struct ckpt_err *e)
{
	uint64_t n;
	int r;

	for (; start < end; start += n * CK_PAGE) {
		n = (end - start) / CK_PAGE;
		if (n > CK_PAGES_MAX)
			n = CK_PAGES_MAX;
		if ((r = ck_write_run_only(s, CK_SEC_KEEP, idx, start,
		    (uint32_t)n, e)) != 0)
			return r;
		*npages += n;
	}
	return 0;
}

/* One area's pages, region by region (ck_mm_write_pages). */
struct area_walk {
	struct ck_stream	*s;
	struct ck_image		*im;
	uint32_t		 idx;
	int			 memfd;
	const struct ck_vma	*v;
	int			 keep;	/* KEEP where unchanged (pre-copy) */
	uint64_t		*npages;
	struct ckpt_err		*e;
};

static int
area_region(void *arg, const struct ck_page_region *rg)
{
	struct area_walk *w = arg;

	/* Unchanged since the pre-copy sent it (in memory: a swapped page
	 * goes whole). */
	if (w->keep && !(rg->categories & CK_PAGE_IS_WRITTEN) &&
	    (rg->categories & CK_PAGE_IS_PRESENT))
		return keep_run(w->s, w->idx, rg->start, rg->end, w->npages,
		    w->e);
	return dump_claimed(w->s, w->im, w->idx, w->memfd, w->v, rg->start,
	    rg->end, w->npages, w->e);
}

int
ck_mm_write_pages(struct ck_stream *s, struct ck_image *im, uint32_t idx,
    uint64_t *npages, struct ckpt_err *e)
{
	struct ck_proc *p = &im->procs[idx];
	struct ck_pm_scan_arg q;
	struct area_walk w;
	const struct ck_vma *v;
	char path[64];
	uint32_t i;
	int pmfd, memfd, sfd, serr, r = 0;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", p->pid);
	if ((pmfd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return ck_fail(e, SS_ERR_SYSTEM, "%s: %s", path,
		    strerror(errno));
	snprintf(path, sizeof(path), "/proc/%d/mem", p->pid);
	if ((memfd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		close(pmfd);
		return ck_fail(e, SS_ERR_SYSTEM, "%s: %s", path,
		    strerror(errno));
	}
	for (i = 0; i < p->nvma && r == 0; i++) {
		v = &p->vmas[i];
		if (v->kind != CK_VMA_ANON && v->kind != CK_VMA_FILE_PRIV &&
		    v->kind != CK_VMA_SHMEM)
			continue;
		/* Shared memory from its object where we may open it
		 * (root); else from the page tables, as other memory. */
		if (v->kind == CK_VMA_SHMEM &&
		    (sfd = ck_shm_open(p->pid, v)) >= 0) {
			r = dump_shm_data(s, im, idx, memfd, v, sfd, npages, e);
			close(sfd);
			continue;
		}
		w.s = s;
		w.im = im;
		w.idx = idx;
		w.memfd = memfd;
		w.v = v;
		w.keep = v->kind == CK_VMA_ANON && im->pc != NULL &&
		    ck_precopy_keepable(im->pc, p->pid, v->start, v->end);
		w.npages = npages;
		w.e = e;
		memset(&q, 0, sizeof(q));
		q.category_anyof_mask = CK_PAGE_IS_PRESENT | CK_PAGE_IS_SWAPPED;
		if (v->kind == CK_VMA_FILE_PRIV) {
			/* Only the written (copied) pages. */
			q.category_inverted = CK_PAGE_IS_FILE;
			q.category_mask = CK_PAGE_IS_FILE;
		} else if (v->kind == CK_VMA_ANON) {
			q.category_inverted = CK_PAGE_IS_PFNZERO;
			q.category_mask = CK_PAGE_IS_PFNZERO;
		}
		q.return_mask = q.category_anyof_mask | q.category_mask |
		    (w.keep ? CK_PAGE_IS_WRITTEN : 0);
		if ((r = ck_pm_walk(pmfd, &q, v->start, v->end, area_region,
		    &w, &serr)) != 0 && serr != 0)
			r = ck_fail(e, SS_ERR_SYSTEM, "process %d: "
			    "PAGEMAP_SCAN: %s", p->pid, strerror(serr));
	}
	close(memfd);
	close(pmfd);
	return r;
}

/* Runs one syscall in p's leader; returns its result or sets e. */
static int
sys(struct ck_proc *p, long nr, uint64_t a0, uint64_t a1, uint64_t a2,
    uint64_t a3, uint64_t a4, uint64_t a5, long *retp, const char *what,
    struct ckpt_err *e)
{
	uint64_t a[6] = { a0, a1, a2, a3, a4, a5 };
	long ret;

	if (ck_inject_new(p->thr[0].ntid, p->sys_ip, &p->thr[0].regs, nr, a, 6,
	    &ret) != 0)
		return ck_fail(e, SS_ERR_SYSTEM, "process %d: %s: %s", p->npid,
		    what, strerror(errno));
	if (ret < 0 && ret > -4096) {
		errno = (int)-ret;
		return ck_fail(e, SS_ERR_SYSTEM, "process %d: %s: %s", p->npid,
		    what, strerror(errno));
	}
	if (retp != NULL)
		*retp = ret;
	return 0;
}

struct block {
	uint64_t	start[3];
	uint64_t	size[3];
};

/* The vdso block of process pid now (kinds VVAR, VVAR_VCLOCK, VDSO). */
static int
cur_block(pid_t pid, struct block *bl, struct ck_proc *tmp,
    struct ckpt_err *e)
{
	uint32_t i;
	int r;

	memset(tmp, 0, sizeof(*tmp));
	memset(bl, 0, sizeof(*bl));
	if ((r = parse_maps(pid, tmp, 1, e)) != 0)
		return r;
	for (i = 0; i < tmp->nvma; i++) {
		int k = (int)tmp->vmas[i].kind - CK_VMA_VVAR;

		if (k >= 0 && k < 3) {
			bl->start[k] = tmp->vmas[i].start;
			bl->size[k] = tmp->vmas[i].end - tmp->vmas[i].start;
		}
	}
	return 0;
}

static void
free_tmp(struct ck_proc *tmp)
{
	uint32_t i;

	for (i = 0; i < tmp->nvma; i++)
		free(tmp->vmas[i].path);
	free(tmp->vmas);
}

static int
overlaps(uint64_t a, uint64_t al, uint64_t b, uint64_t bl)
{
	return a < b + bl && b < a + al;
}

int
ck_mm_restore_layout(struct ck_image *im, struct ck_proc *p,
    struct ckpt_err *e)
{
	struct {
		uint64_t ptr;
		uint32_t len, sig, flags, pad;
	} rc;
	struct block cur, want;
	struct ck_proc tmp;
	const struct ck_vma *v;
	char path[64];
	uint64_t lo, hi, ulo, uhi, tmpbase, prot, flags;
	long off, ret;
	uint32_t i;
	int k, r;

	(void)im;
	if ((off = ck_arch_vdso_syscall_off()) < 0)
		return ck_fail(e, SS_ERR_UNSUPPORTED, "no syscall instruction "
		    "in the vdso");
	if ((r = cur_block(p->npid, &cur, &tmp, e)) != 0)
		return r;
	p->sys_ip = cur.start[2] + off;
	memset(&want, 0, sizeof(want));
	for (i = 0; i < p->nvma; i++) {
		k = (int)p->vmas[i].kind - CK_VMA_VVAR;
		if (k >= 0 && k < 3) {
			want.start[k] = p->vmas[i].start;
			want.size[k] = p->vmas[i].end - p->vmas[i].start;
		}
	}
	for (k = 0; k < 3; k++)
		if (want.size[k] != cur.size[k] || cur.size[k] == 0) {
			free_tmp(&tmp);
			return ck_fail(e, SS_ERR_UNSUPPORTED, "the vdso block "
			    "of this kernel differs from the image's");
		}
	/* 1. The inherited rseq area goes away with the memory. */
	memset(&rc, 0, sizeof(rc));
	if (ptrace(0x420f, p->thr[0].ntid, (void *)sizeof(rc), &rc) != -1 &&
	    rc.ptr != 0 && (r = sys(p, SYS_rseq, rc.ptr, rc.len, 1, rc.sig, 0,
	    0, NULL, "rseq unregister", e)) != 0) {
		free_tmp(&tmp);
		return r;
	}
	/* 2. Everything but the vdso block: two calls, one on each side of
	 * it (munmap takes holes in its stride), not one per mapping. */
	lo = cur.start[0];
	hi = cur.start[2] + cur.size[2];
	ulo = hi;
	uhi = lo;
	for (i = 0; i < tmp.nvma; i++) {
		v = &tmp.vmas[i];
		if (v->kind >= CK_VMA_VVAR)
			continue;
		if (v->start < ulo)
			ulo = v->start;
		if (v->end > uhi)
			uhi = v->end;
	}
	free_tmp(&tmp);
	if (ulo < lo && (r = sys(p, SYS_munmap, ulo, lo - ulo, 0, 0, 0, 0,
	    NULL, "munmap", e)) != 0)
		return r;
	if (uhi > hi && (r = sys(p, SYS_munmap, hi, uhi - hi, 0, 0, 0, 0,
	    NULL, "munmap", e)) != 0)
		return r;
	/* 3. The vdso block to its old address, through a free spot if the
	 * old and new places overlap. */
	if (want.start[0] != cur.start[0]) {
		if (overlaps(lo, hi - lo, want.start[0], hi - lo)) {
			tmpbase = (want.start[0] > lo ? want.start[0] : lo) +
			    (1ull << 30);
			for (k = 0; k < 3; k++) {
				if ((r = sys(p, SYS_mremap, cur.start[k],
				    cur.size[k], cur.size[k], MREMAP_MAYMOVE |
				    MREMAP_FIXED, tmpbase + (cur.start[k] - lo),
				    0, NULL, "mremap vdso", e)) != 0)
					return r;
				cur.start[k] = tmpbase + (cur.start[k] - lo);
			}
			p->sys_ip = cur.start[2] + off;
		}
		for (k = 0; k < 3; k++)
			if ((r = sys(p, SYS_mremap, cur.start[k], cur.size[k],
			    cur.size[k], MREMAP_MAYMOVE | MREMAP_FIXED,
			    want.start[k], 0, NULL, "mremap vdso", e)) != 0)
				return r;
	}
	p->sys_ip = want.start[2] + off;
	/* 4. Every area, with its own protection (pages go in past it,
	 * see ck_mm_restore_pages), but shared memory, which is writable
	 * until its pages are in. */
	for (i = 0; i < p->nvma; i++) {
		v = &p->vmas[i];
		prot = v->prot;
		switch (v->kind) {
		case CK_VMA_ANON:
			flags = MAP_PRIVATE | MAP_ANONYMOUS;
			if (v->flags & CK_VMAF_GROWSDOWN)
				flags |= MAP_GROWSDOWN;
			break;
		case CK_VMA_SHMEM:
			/* Its object from the restorer (shmem.c), or a
			 * new one of its own. */
			flags = MAP_SHARED | (v->tfd < 0 ? MAP_ANONYMOUS : 0);
			prot |= PROT_READ | PROT_WRITE;
			break;
		case CK_VMA_FILE_PRIV:
			flags = MAP_PRIVATE;
			break;
		case CK_VMA_FILE_SHARED:
			flags = MAP_SHARED;
			break;
		default:
			continue;
		}
		if ((r = sys(p, SYS_mmap, v->start, v->end - v->start, prot,
		    flags | MAP_FIXED, v->tfd < 0 ? (uint64_t)-1 :
		    (uint64_t)v->tfd, v->pgoff, &ret, v->path ? v->path :
		    kind_name(v->kind), e)) != 0)
			return r;
		if ((uint64_t)ret != v->start)
			return ck_fail(e, SS_ERR_INTERNAL, "process %d: mmap "
			    "at %#llx landed at %#lx", p->npid,
			    (unsigned long long)v->start, ret);
	}
	snprintf(path, sizeof(path), "/proc/%d/mem", p->npid);
	if ((p->memfd = open(path, O_RDWR | O_CLOEXEC)) == -1)
		return ck_fail(e, SS_ERR_SYSTEM, "%s: %s", path,
		    strerror(errno));
	uffd_open(p);
	return 0;
}

/*
 * Makes a userfaultfd in the new process, takes it, and registers its
 * anonymous areas.  Failing that (an old kernel, a policy), the pages go
 * by process_vm_writev: slower, never wrong.
 */
static void
uffd_open(struct ck_proc *p)
{
	struct uffdio_api api;
	struct uffdio_register reg;
	struct ck_vma *v;
	long tfd;
	uint32_t i;
	int pidfd;

	if (sys(p, SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY, 0, 0, 0,
	    0, 0, &tfd, "userfaultfd", NULL) != 0)
		return;
	if ((pidfd = syscall(SYS_pidfd_open, p->npid, 0)) >= 0) {
		p->uffd = syscall(SYS_pidfd_getfd, pidfd, (int)tfd, 0);
		close(pidfd);
	}
	/* Not left in the process: the restored fd table is exact. */
	if (sys(p, SYS_close, tfd, 0, 0, 0, 0, 0, NULL, "close", NULL) != 0 ||
	    p->uffd < 0) {
		ck_mm_restore_uffd_close(p);
		return;
	}
	memset(&api, 0, sizeof(api));
	api.api = UFFD_API;
	if (ioctl(p->uffd, UFFDIO_API, &api) == -1) {
		ck_mm_restore_uffd_close(p);
		return;
	}
	for (i = 0; i < p->nvma; i++) {
		v = &p->vmas[i];
		if (v->kind != CK_VMA_ANON)
			continue;
		memset(&reg, 0, sizeof(reg));
		reg.range.start = v->start;
		reg.range.len = v->end - v->start;
		reg.mode = UFFDIO_REGISTER_MODE_MISSING;
		v->uffd = ioctl(p->uffd, UFFDIO_REGISTER, &reg) == 0;
	}
}

void
ck_mm_restore_uffd_close(struct ck_proc *p)
{
	uint32_t i;

	if (p->uffd >= 0)
		close(p->uffd);
	p->uffd = -1;
	if (p->memfd >= 0)
		close(p->memfd);
	p->memfd = -1;
	for (i = 0; i < p->nvma; i++)
		p->vmas[i].uffd = 0;
}

/* Copies len bytes into missing pages at addr of p (see above). */
static int
uffd_copy(struct ck_proc *p, uint64_t addr, const uint8_t *data, uint64_t len,
    struct ckpt_err *e)
{
	struct uffdio_copy c;
	uint64_t done = 0;

	while (done < len) {
		memset(&c, 0, sizeof(c));
		c.dst = addr + done;
		c.src = (uintptr_t)(data + done);
		c.len = len - done;
		c.mode = UFFDIO_COPY_MODE_DONTWAKE;
		if (ioctl(p->uffd, UFFDIO_COPY, &c) == 0) {
			done += c.len;
			continue;
		}
		if (c.copy > 0) {
			done += (uint64_t)c.copy;
			continue;
		}
		if (errno == EAGAIN || errno == EINTR)
			continue;
		/* EEXIST: a page sent twice (the image is corrupt). */
		return ck_fail(e, errno == EEXIST ? SS_ERR_CORRUPT :
		    SS_ERR_SYSTEM, "process %d: writing pages at %#llx: %s",
		    p->npid, (unsigned long long)(addr + done),
		    strerror(errno));
	}
	return 0;
}

int
ck_mm_restore_pages(struct ck_proc *p, uint64_t addr, const uint8_t *data,
    uint32_t npages, struct ckpt_err *e)
{
	uint64_t end = addr + (uint64_t)npages * CK_PAGE;
	const struct ck_vma *v = NULL;
	struct iovec l, rm;
	ssize_t n;
	uint32_t lo = 0, hi = p->nvma, mid;

	/* Binary search: the vmas are sorted and disjoint. */
	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (p->vmas[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < p->nvma)
		v = &p->vmas[lo];
	if (v == NULL || addr < v->start || end > v->end || end < addr ||
	    (v->kind != CK_VMA_ANON && v->kind != CK_VMA_FILE_PRIV &&
	    v->kind != CK_VMA_SHMEM))
		return ck_fail(e, SS_ERR_CORRUPT, "corrupt image: pages at "
		    "%#llx outside any mapping", (unsigned long long)addr);
	if (v->uffd)
		return uffd_copy(p, addr, data, end - addr, e);
	if ((v->prot & PROT_WRITE) || v->kind == CK_VMA_SHMEM) {
		l.iov_base = (void *)data;
		l.iov_len = end - addr;
		rm.iov_base = (void *)addr;
		rm.iov_len = end - addr;
		if (process_vm_writev(p->npid, &l, 1, &rm, 1, 0) !=
		    (ssize_t)(end - addr))
			return ck_fail(e, SS_ERR_SYSTEM, "process %d: writing "
			    "pages at %#llx: %s", p->npid,
			    (unsigned long long)addr, strerror(errno));
		return 0;
	}
	/* Not writable (relro, code, guard areas): through /proc/PID/mem,
	 * which writes past the protection as a debugger does, copying
	 * the file's page in a private mapping. */
	for (; addr < end; addr += n, data += n) {
		if ((n = pwrite(p->memfd, data, end - addr, (off_t)addr)) <= 0) {
			if (n < 0 && errno == EINTR) {
				n = 0;
				continue;
			}
			if (n == 0)
				errno = EIO;
			return ck_fail(e, SS_ERR_SYSTEM, "process %d: writing "
			    "pages at %#llx: %s", p->npid,
			    (unsigned long long)addr, strerror(errno));
		}
	}
	return 0;
}

int
ck_mm_restore_finish(struct ck_proc *p, int exe_fd, struct ckpt_err *e)
{
	struct ck_prctl_mm_map mm;
	const struct ck_vma *v;
	struct iovec l[2], rm;
	long ret;
	uint32_t i;
	int r;

	/* Only shared memory was mapped writable for its pages. */
	for (i = 0; i < p->nvma; i++) {
		v = &p->vmas[i];
		if (v->kind != CK_VMA_SHMEM)
			continue;
		if (v->prot == (PROT_READ | PROT_WRITE) ||
		    v->prot == (PROT_READ | PROT_WRITE | PROT_EXEC))
			continue;
		if ((r = sys(p, SYS_mprotect, v->start, v->end - v->start,
		    v->prot, 0, 0, 0, NULL, "mprotect", e)) != 0)
			return r;
	}
	/* A page for the arguments of the calls to come. */
	if ((r = sys(p, SYS_mmap, 0, CK_PAGE * 2, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, (uint64_t)-1, 0, &ret,
	    "mmap scratch", e)) != 0)
		return r;
	p->scratch = (uint64_t)ret;
	memset(&mm, 0, sizeof(mm));
	mm.start_code = p->mm[0];
	mm.end_code = p->mm[1];
	mm.start_data = p->mm[2];
	mm.end_data = p->mm[3];
	mm.start_brk = p->mm[4];
	mm.brk = p->mm[5];
	mm.start_stack = p->mm[6];
	mm.arg_start = p->mm[7];
	mm.arg_end = p->mm[8];
	mm.env_start = p->mm[9];
	mm.env_end = p->mm[10];
	mm.auxv = p->scratch + CK_PAGE;
	mm.auxv_size = p->auxv_len;
	mm.exe_fd = exe_fd < 0 ? (uint32_t)-1 : (uint32_t)exe_fd;
	if (p->auxv_len > CK_PAGE)
		return ck_fail(e, SS_ERR_BAD, "auxv too long");
	l[0].iov_base = &mm;
	l[0].iov_len = sizeof(mm);
	rm.iov_base = (void *)p->scratch;
	rm.iov_len = sizeof(mm);
	if (process_vm_writev(p->npid, l, 1, &rm, 1, 0) != sizeof(mm))
		return ck_fail(e, SS_ERR_SYSTEM, "scratch: %s",
		    strerror(errno));
	l[0].iov_base = p->auxv;
	l[0].iov_len = p->auxv_len;
	rm.iov_base = (void *)(p->scratch + CK_PAGE);
	rm.iov_len = p->auxv_len;
	if (p->auxv_len > 0 && process_vm_writev(p->npid, l, 1, &rm, 1, 0) !=
	    (ssize_t)p->auxv_len)
		return ck_fail(e, SS_ERR_SYSTEM, "scratch: %s",
		    strerror(errno));
	return sys(p, SYS_prctl, PR_SET_MM, PR_SET_MM_MAP, p->scratch,
	    sizeof(mm), 0, 0, NULL, "prctl(PR_SET_MM_MAP)", e);
}
