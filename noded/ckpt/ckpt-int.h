/*
 * ckpt-int.h: what the files of the checkpoint engine share.
 *
 * The dump side fills a struct ck_image from the frozen tree (one ck_proc
 * per process, one ck_thread per thread, one ck_desc per open file
 * description, one ck_pipe per pipe), image.c writes it; the restore side
 * reads it back into the same structs and re-creates the tree.  Each
 * resource file (mm.c, regs.c, sig.c, files.c, fd-*.c, threads.c, task.c)
 * owns its fields in both directions: collect, encode, decode, restore.
 *
 * Memory: a ck_image owns everything hanging from it; ck_image_free()
 * releases it all.
 */
#ifndef SSHELL_CKPT_INT_H
#define SSHELL_CKPT_INT_H

#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/user.h>

#include "buf.h"
#include "err.h"
#include "ckpt.h"

#define CK_PAGE		4096UL
#define CK_NSIG		64
#define CK_NRLIMIT	16
#define CK_MAX_PROCS	4096
#define CK_MAX_THREADS	4096
#define CK_MAX_VMAS	65536
#define CK_MAX_FDS	65536
#define CK_MAX_SIGINFO	1024
#define CK_PATH_MAX	4096
#define CK_XSTATE_MAX	(64 * 1024)

/* Sets e->msg to "fmt..." and returns code (a negative SS_ERR_*). */
int	ck_fail(struct ckpt_err *e, int code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* One thread. */
struct ck_thread {
	pid_t			 tid;		/* dumped tid */
	pid_t			 vtid;		/* dump: as the tree's PID
						   namespace sees it */
	pid_t			 ntid;		/* restore: tid now */
	struct user_regs_struct	 regs;		/* restart-fixed, orig_rax -1 */
	uint8_t			*xstate;	/* NT_X86_XSTATE, xstate_len bytes */
	uint32_t		 xstate_len;
	uint64_t		 rseq_ptr;	/* 0: none registered */
	uint32_t		 rseq_len;
	uint32_t		 rseq_sig;
	uint64_t		 robust_head;	/* set_robust_list() */
	uint64_t		 robust_len;
	uint64_t		 clear_tid;	/* set_tid_address() */
	uint64_t		 sas_sp;	/* sigaltstack */
	uint64_t		 sas_size;
	uint32_t		 sas_flags;
	uint64_t		 sigmask;	/* blocked signals, bit n-1 = signal n */
	char			 comm[17];
	uint32_t		 npending;	/* per-thread pending siginfos */
	uint8_t			(*pending)[128];
};

enum ck_vma_kind {
	CK_VMA_ANON = 1,	/* private anonymous, incl. [heap] and [stack] */
	CK_VMA_FILE_PRIV,	/* private mapping of a file */
	CK_VMA_FILE_SHARED,	/* shared mapping of a file: contents in it */
	CK_VMA_SHMEM,		/* shared anonymous (/dev/zero (deleted)) */
	CK_VMA_VVAR,		/* the vdso block, not carried, moved */
	CK_VMA_VVAR_VCLOCK,
	CK_VMA_VDSO,
};

/* One memory mapping. */
struct ck_vma {
	uint64_t	 start, end;	/* [start, end), page aligned */
	uint64_t	 pgoff;		/* file offset in bytes */
	uint32_t	 kind;		/* enum ck_vma_kind */
	uint32_t	 prot;		/* PROT_* */
	uint32_t	 flags;		/* CK_VMAF_* */
	char		*path;		/* file mappings: the file */
	uint64_t	 fsize;		/* its size and mtime at dump: refused */
	uint64_t	 fmtime;	/* on restore if changed (ns) */
	int		 tfd;		/* restore: the file's fd in the target */
	int		 uffd;		/* restore: registered with p->uffd */
	uint32_t	 shm;		/* SHMEM: its object, 1..; every
					   mapping of one object, in any
					   process, has the same (shmem.c);
					   0: an object of its own */
	/* dump only */
	uint64_t	 sdev;		/* SHMEM: the object's device and */
	uint64_t	 sino;		/* inode in /proc/PID/maps */
};
#define CK_VMAF_GROWSDOWN	0x1
#define CK_VMAF_STACK		0x2	/* [stack] */
#define CK_VMAF_HEAP		0x4	/* [heap] */

enum ck_desc_kind {
	CK_DESC_REG = 1,	/* a regular file or directory, by path */
	CK_DESC_DEV,		/* /dev/null, /dev/zero, /dev/urandom ... */
	CK_DESC_PIPE,		/* an end of a pipe of the tree */
	CK_DESC_OUTSIDE,	/* a terminal, or a pipe leading outside */
};

/* One open file description, shared by every fd that refers to it. */
struct ck_desc {
	uint32_t	 kind;		/* enum ck_desc_kind */
	uint32_t	 flags;		/* open flags (O_ACCMODE, O_APPEND...) */
	uint64_t	 pos;		/* file offset */
	char		*path;		/* REG and DEV */
	uint32_t	 pipe;		/* PIPE: index into image pipes */
	uint32_t	 stdfd;		/* OUTSIDE: lowest fd number using it */
	/* dump only */
	pid_t		 pid;		/* a process and fd that hold it */
	int		 fd;
	uint64_t	 ino;
	uint64_t	 dev;
	/* restore only */
	int		 hfd;		/* its fd in the restoring processes */
};

/* One pipe with at least one end in the tree. */
struct ck_pipe {
	uint64_t	 ino;		/* dump: pipefs inode */
	uint32_t	 size;		/* F_GETPIPE_SZ */
	uint32_t	 has_r, has_w;	/* ends held inside the tree */
	uint32_t	 closed;	/* the other end is closed everywhere */
	uint8_t		*data;		/* bytes in flight */
	uint32_t	 len;
	int		 rfd, wfd;	/* restore: the new pipe */
};

/* One fd of a process. */
struct ck_fd {
	int		 fd;
	uint32_t	 desc;		/* index into image descs */
	uint32_t	 cloexec;
};

struct ck_sigaction {
	uint64_t	 handler;
	uint64_t	 flags;
	uint64_t	 restorer;
	uint64_t	 mask;
};

/* One process. */
struct ck_proc {
	pid_t		 pid, ppid, pgid, sid;	/* dumped ids */
	/* dump: the same as the tree's own PID namespace (the root's
	 * innermost) sees them, which the image holds: a job in a PID
	 * namespace of its own, dumped from outside it, gets back the pids
	 * it knows (pid is what the dumper's /proc says). */
	pid_t		 vpid, vppid, vpgid, vsid;
	int32_t		 parent;	/* index of the parent, -1: root */
	uint32_t	 uid[3], gid[3];	/* real, effective, saved */
	uint32_t	 ngroups;
	uint32_t	*groups;
	uint32_t	 umask;
	uint32_t	 personality;
	uint32_t	 no_new_privs;
	uint32_t	 dumpable;
	uint32_t	 stopped;	/* 1: group-stopped (SIGSTOP) at dump */
	uint32_t	 zombie;	/* 1: ended, not yet reaped by its parent:
					   no threads, memory or files; only
					   its ids and wait status */
	uint32_t	 exit_status;	/* a zombie's, as wait(2) gives it */
	uint64_t	 caps[5];	/* inheritable, permitted, effective,
					   bounding, ambient */
	char		*cwd;
	char		*exe;
	char		 comm[17];
	struct rlimit	 rlim[CK_NRLIMIT];
	uint64_t	 itimer[3][4];	/* interval sec/usec, value sec/usec */
	struct ck_sigaction sa[CK_NSIG];
	uint32_t	 nspending;	/* process-wide pending siginfos */
	uint8_t		(*spending)[128];
	/* mm */
	uint64_t	 mm[11];	/* start_code ... env_end, see mm.c */
	uint8_t		*auxv;
	uint32_t	 auxv_len;
	uint32_t	 nvma;
	struct ck_vma	*vmas;
	uint32_t	 nthr;
	struct ck_thread *thr;		/* thr[0] is the leader */
	uint32_t	 nfd;
	struct ck_fd	*fds;
	/* restore */
	pid_t		 npid;
	int		 exefd;		/* its program, open in the restorer */
	int		 uffd;		/* a userfaultfd on its memory, or -1 */
	int		 memfd;		/* its /proc/PID/mem, or -1 */
	uint64_t	 sys_ip;	/* a syscall insn in its vdso */
	uint64_t	 scratch;	/* a page for injected arguments */
};

/*
 * One shared anonymous memory object of the dumped tree (dump only,
 * shmem.c): every mapping of it has its number, index + 1, in vma->shm.
 */
struct ck_shm {
	uint64_t	 dev, ino;	/* as /proc/PID/maps shows them */
	uint64_t	 npages;	/* its pages mapped by some mapping */
	uint8_t		*done;		/* bitmap: pages already written */
};

/* The whole image. */
struct ck_image {
	uint32_t	 version;
	char		 arch[16];
	char		 release[65];	/* uname -r of the dumping kernel */
	uint64_t	 xcr0;
	uint32_t	 xstate_size;
	uint64_t	 vdso_size[3];	/* vvar, vvar_vclock, vdso */
	uint32_t	 nproc;
	struct ck_proc	*procs;
	uint32_t	 ndesc;
	struct ck_desc	*descs;
	uint32_t	 npipe;
	struct ck_pipe	*pipes;
	/* dump only */
	uint32_t	 nshm;
	struct ck_shm	*shms;
	const struct ckpt_precopy *pc;	/* the pre-copy before, or NULL */
	/* restore only */
	int		 out_std[3];	/* fds standing for outside 0, 1, 2 */
	int		 out_null;	/* /dev/null for other outside fds */
};

void	ck_image_free(struct ck_image *im);
struct ck_stream;
/* Reads the file header and every section up to META_END (restore.c). */
int	ck_read_meta(struct ck_stream *s, struct ck_image *im,
	    struct ckpt_err *e);

/*
 * image.c: the stream.
 */
struct ck_stream;
struct ck_stream *ck_stream_new(int fd, int writing);
void	ck_stream_set_out(struct ck_stream *s, int (*fn)(void *, const void *,
	    size_t), void *arg);
void	ck_stream_free(struct ck_stream *s);
uint64_t ck_stream_bytes(const struct ck_stream *s);
int	ck_write_section(struct ck_stream *s, uint32_t type, struct buf *payload,
	    struct ckpt_err *e);
/*
 * Pages are written without a copy: ck_stream_page_room() gives room for
 * up to *np pages (at least one; *np lowered to what it gives) in the
 * batch being filled, the caller reads pages into it, passes each run to
 * keep to ck_write_pages() (data inside that room, sum its page sum,
 * ck_page_sum, taken by the caller while the pages were in its cache),
 * then consumes what it read with ck_stream_page_advance().  The batch
 * is written later, in order, by the stream's writer thread; the next
 * other section or ck_stream_free() waits for it.
 */
uint8_t	*ck_stream_page_room(struct ck_stream *s, uint32_t *np,
	    struct ckpt_err *e);
void	ck_stream_page_advance(struct ck_stream *s, uint32_t npages);
int	ck_write_pages(struct ck_stream *s, uint32_t proc, uint64_t addr,
	    const void *data, uint32_t npages, uint32_t sum,
	    struct ckpt_err *e);
/*
 * A section of the page kind without pages (KEEP, FORGET), queued in
 * order with the runs of the batch being filled.
 */
int	ck_write_run_only(struct ck_stream *s, uint32_t type, uint32_t proc,
	    uint64_t addr, uint32_t npages, struct ckpt_err *e);
/* Page runs of this stream are PRECOPY sections (proc = pid), and runs
 * of zero pages in them are written as FORGET sections. */
void	ck_stream_set_precopy(struct ck_stream *s);
int	ck_stream_is_precopy(const struct ck_stream *s);
/* 1 if a read of the process failed in a pre-copy run since the last
 * call (the pages were skipped); clears it. */
int	ck_stream_read_failed(struct ck_stream *s);
void	ck_stream_mark_read_failed(struct ck_stream *s);
/* Waits until everything queued is written; 0 or an error (sets e). */
int	ck_stream_finish(struct ck_stream *s, struct ckpt_err *e);
/*
 * Reading: the pre-copy's pages (a ck_store, precopy.c) that KEEP
 * sections refer to, and the dumped pid of each process index (set by
 * the reader once the metadata is read).
 */
struct ck_store;
struct ck_store *ck_stream_store(const struct ck_stream *s);
/* The store, the caller's now (ck_stream_free leaves it alone). */
struct ck_store *ck_stream_take_store(struct ck_stream *s);
struct ck_image;
int	ck_stream_set_pids(struct ck_stream *s, const struct ck_image *im,
	    struct ckpt_err *e);
int	ck_write_file_header(struct ck_stream *s, struct ckpt_err *e);
int	ck_read_file_header(struct ck_stream *s, struct ckpt_err *e);
/*
 * Reads the next section: for CK_SEC_PAGES the page bytes go to
 * *pagesp (a stream-owned buffer valid until the next call), with the
 * prefix decoded into *procp, *addrp, *npagesp; for any other type
 * *payloadp is a new buf the caller frees.
 */
int	ck_read_section(struct ck_stream *s, uint32_t *typep,
	    struct buf **payloadp, uint32_t *procp, uint64_t *addrp,
	    uint32_t *npagesp, const uint8_t **pagesp, struct ckpt_err *e);
/*
 * From here on only PAGES and END sections come: reads them all, with
 * two threads (see image.c), checks each, and calls fn for each run of
 * pages, from either thread, in no particular order, the data valid
 * during the call.  fn returns 0 or sets e and returns an SS_ERR_*,
 * which ends the reading.  On success *endp is END's payload (the
 * caller frees it) and *pagesp the pages given to fn.  The error
 * reported is the first in stream order.
 */
typedef int (*ck_pages_fn)(void *arg, uint32_t proc, uint64_t addr,
    const uint8_t *data, uint32_t npages, struct ckpt_err *e);
int	ck_read_pages(struct ck_stream *s, ck_pages_fn fn, void *arg,
	    struct buf **endp, uint64_t *pagesp, struct ckpt_err *e);
uint32_t ck_crc32c(uint32_t crc, const void *data, size_t len);
/* The checksum of a run of pages (len a multiple of 32), see image.c. */
uint32_t ck_page_sum(const void *data, size_t len);
/* The same taken in pieces, each a multiple of 32 bytes, in order. */
struct ck_page_sum {
	uint32_t	c[4];		/* the four lanes' CRC registers */
};
void	ck_page_sum_init(struct ck_page_sum *ps);
void	ck_page_sum_add(struct ck_page_sum *ps, const void *data, size_t len);
uint32_t ck_page_sum_end(const struct ck_page_sum *ps);

/*
 * precopy.c: the pages sent before the freeze, and where they are kept
 * on the restoring side until the image's KEEP sections ask for them.
 */
struct ck_store *ck_store_new(void);
/* One that holds cap pages at most (ck_store_new: the machine's memory);
 * a put beyond fails, SS_ERR_TOO_LONG. */
struct ck_store *ck_store_new_cap(uint64_t cap);
void	ck_store_free(struct ck_store *st);
int	ck_store_put(struct ck_store *st, uint32_t pid, uint64_t addr,
	    const uint8_t *data, uint32_t npages, struct ckpt_err *e);
int	ck_store_reserve(struct ck_store *st, uint32_t pid, uint64_t addr,
	    uint32_t npages, uint8_t **dstp, struct ckpt_err *e);
void	ck_store_forget(struct ck_store *st, uint32_t pid, uint64_t addr,
	    uint32_t npages);
/* Calls fn for each run of pages the store has in [addr, +npages) of
 * pid (a page it lacks was zero), as process proc, and releases each run
 * once fn took it: a page is given once (again: SS_ERR_CORRUPT). */
int	ck_store_give(struct ck_store *st, uint32_t pid, uint32_t proc,
	    uint64_t addr, uint32_t npages, ck_pages_fn fn, void *arg,
	    struct ckpt_err *e);
void	ck_store_stats(const struct ck_store *st, uint64_t *runs,
	    uint64_t *pages);
/* The dump: KEEP instead of pages where p's memory is unchanged since
 * the pre-copy sent it (mm.c asks for each anonymous area). */
struct ckpt_precopy;
int	ck_precopy_started(const struct ckpt_precopy *pc);
void	ck_precopy_set_ended(struct ckpt_precopy *pc);
void	ck_precopy_verify(struct ckpt_precopy *pc);
int	ck_precopy_keepable(const struct ckpt_precopy *pc, pid_t pid,
	    uint64_t start, uint64_t end);
int	ck_tree_pids(pid_t root, pid_t **pidsp, uint32_t *np,
	    struct ckpt_err *e);
int	ck_mm_dump_range(struct ck_stream *s, uint32_t idx, pid_t pid,
	    int memfd, uint64_t start, uint64_t end, uint64_t *npages,
	    struct ckpt_err *e);

/* PAGEMAP_SCAN, from linux/fs.h of 6.7 (Debian 12's headers are older). */
struct ck_page_region {
	uint64_t	start;
	uint64_t	end;
	uint64_t	categories;
};

struct ck_pm_scan_arg {
	uint64_t	size;
	uint64_t	flags;
	uint64_t	start;
	uint64_t	end;
	uint64_t	walk_end;
	uint64_t	vec;
	uint64_t	vec_len;
	uint64_t	max_pages;
	uint64_t	category_inverted;
	uint64_t	category_mask;
	uint64_t	category_anyof_mask;
	uint64_t	return_mask;
};
_Static_assert(sizeof(struct ck_pm_scan_arg) == 96, "pm_scan_arg");

#define CK_PM_SCAN_WP_MATCHING	(1ull << 0)
#define CK_PAGEMAP_SCAN		_IOWR('f', 16, struct ck_pm_scan_arg)
#define CK_PAGE_IS_WRITTEN	(1ull << 1)
#define CK_PAGE_IS_FILE		(1ull << 2)
#define CK_PAGE_IS_PRESENT	(1ull << 3)
#define CK_PAGE_IS_SWAPPED	(1ull << 4)
#define CK_PAGE_IS_PFNZERO	(1ull << 5)

/*
 * PAGEMAP_SCAN over [start, end) of the pagemap pmfd, with q's flags and
 * category masks (the rest of q is filled here): fn gets each region the
 * kernel returns, in order.  Returns 0 or fn's first non-zero result;
 * if the ioctl fails, SS_ERR_SYSTEM with its errno in *scan_err (which
 * is 0 otherwise) (mm.c).
 */
int	ck_pm_walk(int pmfd, const struct ck_pm_scan_arg *q, uint64_t start,
	    uint64_t end, int (*fn)(void *, const struct ck_page_region *),
	    void *arg, int *scan_err);

/* Section types. */
#define CK_SEC_HEADER	1
#define CK_SEC_PROC	2	/* task state, creds, signals, rlimits */
#define CK_SEC_THREAD	3	/* one thread's registers and state */
#define CK_SEC_MM	4	/* mm fields, auxv, mappings */
#define CK_SEC_FILES	5	/* one process's fd table */
#define CK_SEC_DESCS	6	/* open file descriptions of the tree */
#define CK_SEC_PIPE	7	/* one pipe and its bytes in flight */
#define CK_SEC_META_END	8	/* no more metadata: pages follow */
#define CK_SEC_PAGES	9	/* a run of pages of one process */
#define CK_SEC_END	10	/* end of image, with totals */
#define CK_SEC_KEEP	11	/* a run of pages sent in the pre-copy */
#define CK_SEC_PRECOPY	12	/* pre-copy: a run of pages of a pid */
#define CK_SEC_FORGET	13	/* pre-copy: pages now zero */
#define CK_SEC_PC_END	14	/* pre-copy: the image follows */
#define CK_SEC_LAST	14

#define CK_MAGIC	0x53434b50u	/* "SCKP" */
#define CK_PC_MAGIC	0x53435043u	/* "SCPC": a pre-copy, then an image */
#define CK_VERSION	5u		/* 3: vma records carry shm;
					   4: the pre-copy prefix, KEEP;
					   5: pipes whose other end closed */
#define CK_SEC_MAX	(16u * 1024 * 1024)
#define CK_ADDR_MAX	(1ull << 57)	/* above any user address */
#define CK_PAGES_MAX	1024u		/* pages per CK_SEC_PAGES */

/* Helpers over buf for the encoders (0 or SS_ERR_*). */
int	ck_put_str(struct buf *b, const char *s);
int	ck_get_str(struct buf *b, char **sp);

/*
 * arch/x86_64/regs.c: registers and syscall injection.
 */
uint64_t ck_arch_xcr0(void);
uint32_t ck_arch_xstate_size(void);
int	ck_regs_dump(pid_t tid, struct ck_thread *t, struct ckpt_err *e);
int	ck_regs_restore(pid_t tid, const struct ck_thread *t, struct ckpt_err *e);
int	ck_regs_encode(struct buf *b, const struct ck_thread *t);
int	ck_regs_decode(struct buf *b, struct ck_thread *t);
/* Offset of a syscall instruction in this kernel's vdso, or -1. */
long	ck_arch_vdso_syscall_off(void);
/*
 * Runs syscall nr with args in stopped tracee tid, the syscall instruction
 * at ip.  Leaves tid's registers as they were.  *retp gets the raw result.
 */
int	ck_inject(pid_t tid, uint64_t ip, long nr, const uint64_t *args,
	    int nargs, long *retp);
/* Same, into a thread being restored (see regs.c): faster. */
int	ck_inject_new(pid_t tid, uint64_t ip,
	    const struct user_regs_struct *tmpl, long nr, const uint64_t *args,
	    int nargs, long *retp);
/* Same, for clone3 (reports the new thread's tid in *retp). */
int	ck_inject_clone(pid_t tid, uint64_t ip, uint64_t args, uint64_t size,
	    long *retp);

/*
 * ptrace helpers (threads.c).
 */
int	ck_seize(pid_t tid, int opts, struct ckpt_err *e);
int	ck_wait_stop(pid_t tid, struct ckpt_err *e);

/*
 * Resource files: dump (collect from a frozen process), encode/decode,
 * restore.  The proc/vma/thread pointers belong to the image.
 */
int	ck_mm_collect(struct ck_proc *p, struct ckpt_err *e);
/*
 * The mappings of live process pid against the engine's rules (the same
 * as ck_mm_collect's), without stopping it.
 */
int	ck_mm_check(pid_t pid, struct ckpt_err *e);
int	ck_mm_encode(struct buf *b, const struct ck_proc *p);
int	ck_mm_decode(struct buf *b, struct ck_proc *p);
/* The pages of process idx of im (its shared objects' pages only once
 * in the whole image, see shmem.c). */
int	ck_mm_write_pages(struct ck_stream *s, struct ck_image *im,
	    uint32_t idx, uint64_t *npages, struct ckpt_err *e);
int	ck_mm_prepare(struct ck_proc *p, struct ckpt_err *e);
int	ck_mm_restore_layout(struct ck_image *im, struct ck_proc *p,
	    struct ckpt_err *e);
int	ck_mm_restore_pages(struct ck_proc *p, uint64_t addr, const uint8_t *data,
	    uint32_t npages, struct ckpt_err *e);
int	ck_mm_restore_finish(struct ck_proc *p, int exe_fd, struct ckpt_err *e);
/* Once every page is in: unregisters p's memory from its userfaultfd
 * and closes its /proc/PID/mem. */
void	ck_mm_restore_uffd_close(struct ck_proc *p);

/*
 * shmem.c: shared anonymous memory objects across the tree.
 *
 * Dump: ck_shm_collect numbers the objects (vma->shm) once every
 * process's mappings are known; ck_shm_claim, while the pages are
 * written, hands out each page of an object once; ck_shm_open opens an
 * object through /proc/PID/map_files (or -1, see there).
 * Restore: ck_shm_restore_open, in the OPEN stage, creates each object
 * mapped more than once and opens it at fd >= base for the new
 * processes to map (vma->tfd).
 */
int	ck_shm_collect(struct ck_image *im, struct ckpt_err *e);
int	ck_shm_claim(struct ck_image *im, const struct ck_vma *v,
	    uint64_t *startp, uint64_t end, uint64_t *endp);
int	ck_shm_open(pid_t pid, const struct ck_vma *v);
int	ck_shm_restore_open(struct ck_image *im, int base,
	    struct ckpt_err *e);

/* Refusals seen from /proc without a stop: zombie, timers, deleted exe. */
int	ck_task_refuse(pid_t pid, char *statep, struct ckpt_err *e);
int	ck_task_collect(struct ck_proc *p, struct ckpt_err *e);
/*
 * /proc/PID/stat: the state letter ('?' if it cannot be told), and the
 * numeric fields 4..CK_STAT_FIELDS in f[4..] (0 where absent).  Returns
 * the number of the last field read, or -1 if the file cannot be read.
 */
#define CK_STAT_FIELDS	52
int	ck_stat_read(pid_t pid, char *statep, uint64_t f[CK_STAT_FIELDS + 1]);
/* 1 if pid is a zombie process (not a live thread group whose leader
 * exited), with its wait status in *status. */
int	ck_task_zombie(pid_t pid, uint32_t *status);
int	ck_task_collect_zombie(struct ck_proc *p, struct ckpt_err *e);
/* The level of pid's innermost PID namespace in our /proc (0: ours). */
int	ck_ns_level(pid_t pid);
/* pid (or tid of pid, if tid > 0) at level: 0 if unknown. */
pid_t	ck_ns_id(pid_t pid, pid_t tid, const char *field, int level);
/* Fills the v* ids of every process and thread (after the freeze). */
int	ck_task_ns_ids(struct ck_image *im, struct ckpt_err *e);
int	ck_task_encode(struct buf *b, const struct ck_proc *p);
int	ck_task_decode(struct buf *b, struct ck_proc *p);
int	ck_task_check(const struct ck_image *im, struct ckpt_err *e);
int	ck_task_prep(const struct ck_proc *p);	/* in the new process */
int	ck_task_restore_creds(struct ck_proc *p, struct ckpt_err *e);

int	ck_sig_collect(struct ck_proc *p, struct ckpt_err *e);
int	ck_sig_encode(struct buf *b, const struct ck_proc *p);
int	ck_sig_decode(struct buf *b, struct ck_proc *p);
int	ck_sig_prep(const struct ck_proc *p);	/* in the new process */
int	ck_sig_thread_collect(pid_t tid, struct ck_thread *t, struct ckpt_err *e);

/* Refusals of one live thread: a tracer attached, a seccomp filter. */
int	ck_thread_refuse(pid_t pid, pid_t tid, struct ckpt_err *e);
/* The children of every thread of pid; *kidsp is the caller's to free. */
int	ck_children(pid_t pid, pid_t **kidsp, uint32_t *np, struct ckpt_err *e);
int	ck_threads_freeze(pid_t root, const char *freezer, struct ck_image *im,
	    struct ckpt_err *e);

/* freezer.c: threads seized while their cgroup was frozen. */
struct ck_frozen {
	pid_t		*tids;		/* seized and stopped */
	uint8_t		*used;		/* taken by the tree (or gone) */
	uint32_t	 n;
};
/* Freezes cgroup dir, seizes every thread in it, thaws it, and waits for
 * them in their ptrace stops. */
int	ck_frozen_seize(const char *dir, struct ck_frozen *fz,
	    struct ckpt_err *e);
/* 1 if tid is one of them (it is the caller's from now on). */
int	ck_frozen_take(struct ck_frozen *fz, pid_t tid);
/* Lets go of those not taken, and frees fz. */
void	ck_frozen_release(struct ck_frozen *fz);
void	ck_threads_release(struct ck_image *im, int kill_them);
int	ck_threads_collect(struct ck_proc *p, struct ckpt_err *e);
int	ck_thread_encode(struct buf *b, const struct ck_thread *t);
int	ck_thread_decode(struct buf *b, struct ck_thread *t);
int	ck_threads_restore(struct ck_proc *p, int same_pid, struct ckpt_err *e);
int	ck_threads_finish(struct ck_proc *p, struct ckpt_err *e);

int	ck_files_collect(struct ck_image *im, struct ckpt_err *e);
/*
 * Walks the fds of live process pid (through /proc, without stopping
 * it), refuses the first one the engine cannot carry (files.c decides,
 * for the dump and for ckpt_check alike), and calls fn, if not NULL, on
 * each other one with its /proc link text, stat and enum ck_desc_kind.
 */
struct stat;
typedef int (*ck_fd_fn)(void *arg, pid_t pid, int fd, const char *link,
    const struct stat *st, int kind, struct ckpt_err *e);
int	ck_fds_walk(pid_t pid, ck_fd_fn fn, void *arg, struct ckpt_err *e);
int	ck_files_encode(struct buf *b, const struct ck_proc *p);
int	ck_files_decode(struct buf *b, struct ck_proc *p, uint32_t ndesc);
int	ck_descs_encode(struct buf *b, const struct ck_image *im);
int	ck_descs_decode(struct buf *b, struct ck_image *im);
int	ck_pipe_encode(struct buf *b, const struct ck_pipe *pp);
int	ck_pipe_decode(struct buf *b, struct ck_pipe *pp);
/* In the root's new process: open every description at fd >= base. */
int	ck_files_open_all(struct ck_image *im, const int stdio[3], int base);
/* In each new process: put its fds in place. */
int	ck_files_install(const struct ck_image *im, const struct ck_proc *p);

/* fd-reg.c, fd-pipe.c, fd-tty.c: one kind of description each. */
int	ck_fd_reg_open(const struct ck_desc *d);
int	ck_fd_pipe_collect(struct ck_image *im, struct ck_desc *d, int fd,
	    struct ckpt_err *e);
int	ck_fd_pipe_data(struct ck_pipe *pp, int rfd, struct ckpt_err *e);
int	ck_fd_pipe_other_closed(int fd, int readable, uint32_t *closed,
	    struct ckpt_err *e);
int	ck_fd_pipe_create(struct ck_pipe *pp);
int	ck_fd_tty_is(dev_t rdev);
int	ck_fd_dev_ok(dev_t rdev);

/* util */
int	ck_read_file(const char *path, char **datap, size_t *lenp);
int	ck_write_all(int fd, const void *p, size_t n);
int	ck_read_all(int fd, void *p, size_t n);	/* SS_ERR_SHORT at EOF */
uint64_t ck_now_ns(void);

#endif
