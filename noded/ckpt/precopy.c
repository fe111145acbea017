/*
 * precopy.c: live migration's pre-copy, and the store of its pages on the
 * restoring side.
 *
 * The dumping side (KERNEL-NOTES.md, "Dirty tracking"): this kernel has
 * no soft-dirty bits, so written pages are found with a userfaultfd in
 * asynchronous write-protect mode.  ckpt_precopy_begin() stops each
 * process of the tree for a moment (ptrace, the leader thread only), has
 * it make a userfaultfd (an injected call), takes the descriptor with
 * pidfd_getfd() and closes the process's own (also injected), and
 * registers every private anonymous writable area for write-protection.
 * The kernel then resolves a write to a protected page by itself, with no
 * message to anyone, and the page reads "written" in PAGEMAP_SCAN until it
 * is protected again.  Each ckpt_precopy_round() asks PAGEMAP_SCAN for the
 * written pages and protects them again in the same call
 * (PM_SCAN_WP_MATCHING), then reads and sends them, while the job runs: a
 * page written between the scan and the read reads "written" in the next
 * round or in the dump, so a page that reads "not written" at the dump
 * has the contents last sent.  The dump (mm.c) sends such runs as KEEP
 * sections, without their pages.
 *
 * What makes a KEEP safe: protection bits exist only in an address space
 * that our userfaultfd registered, and only in areas it registered (the
 * kernel clears them in a forked child, in moved pages, and in pages
 * zapped by MADV_DONTNEED).  So KEEP is only ever written for a process
 * that is the one we registered (same pid, same start time) and only in
 * an area within a range we registered; an area mapped since, or a
 * process that exec'd, reads "written" everywhere and goes whole.  A page
 * written to zero is sent as FORGET, so the store drops what it had.  A
 * read that fails in a pre-copy (the running process unmapped the area)
 * leaves protected pages unsent: that process then gets no KEEP at all.
 * Closing the userfaultfd (ckpt_precopy_free) unregisters everything; the
 * process never notices any of it.
 *
 * The restoring side: read_precopy (image.c) puts the pre-copy's pages
 * into a ck_store, keyed by (pid, address); a later round's copy of a
 * page replaces the earlier one.  The pages live in one private mapping
 * that doubles (mremap) as it fills, up to as much as the machine's
 * memory; the index is an open-addressing hash table of 16-page chunks
 * (one lookup per chunk, not per page: per page, the lookups took a sixth
 * of the restorer's time in a 1 GiB move).  KEEP sections
 * then give the pages from there (ck_store_give), as if they had come in
 * the image; a page the store does not have was zero, and a page kept
 * twice is refused as a corrupt image.  Each run's memory
 * is released (MADV_DONTNEED) as soon as it is given, so the new process's
 * pages are mostly the store's, just freed and still in the allocator's
 * per-CPU lists: a 1 GiB KEEP took 260-270 ms that way in every move,
 * 500 ms without when the memory had been used just before, and 2.3 s in
 * a run's first large move, when every page came fresh from the
 * hypervisor.  The restore also needs half the memory at its peak.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ckpt.h"
#include "ckpt-int.h"

/* From linux/userfaultfd.h of 6.7 (Debian 12's is older). */
#define CK_UFFD_FEATURE_WP_ASYNC	(1ull << 15)

/* ---------------------------------------------------------------------- */
/* The dumping side. */

struct pc_range {
	uint64_t	 start, end;
};

struct pc_proc {
	pid_t		 pid;
	pid_t		 vpid;		/* in the tree's namespace: the image's */
	uint64_t	 start_time;	/* /proc/PID/stat field 22 */
	int		 uffd;		/* -1: not tracked (sent whole) */
	int		 broken;	/* a pre-copy read failed: no KEEP */
	uint32_t	 nr;
	struct pc_range	*r;		/* registered areas */
};

struct ckpt_precopy {
	struct pc_proc	*p;
	uint32_t	 n;
	int		 started;	/* the pre-copy's file header is out */
	int		 ended;		/* PC_END is out (the dump) */
};

/* Field 22 of /proc/PID/stat: when it started. */
static int
start_time(pid_t pid, uint64_t *st)
{
	uint64_t f[CK_STAT_FIELDS + 1];
	char state;

	if (ck_stat_read(pid, &state, f) < 22)
		return -1;
	*st = f[22];
	return 0;
}

/*
 * The areas of pid to track (private, writable, anonymous: no file, or
 * [heap] or [stack]) and the address of its vdso; -1 if maps is unreadable.
 */
static int
read_areas(pid_t pid, struct pc_proc *pp, uint64_t *vdso)
{
	char path[64], *data, *line, *next, perms[8], name[64];
	unsigned long long a, b, ino;
	struct pc_range *nr;
	int n;

	*vdso = 0;
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	if (ck_read_file(path, &data, NULL) != 0)
		return -1;
	for (line = data; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		name[0] = '\0';
		n = sscanf(line, "%llx-%llx %7s %*s %*s %llu %63s", &a, &b,
		    perms, &ino, name);
		if (n < 4)
			continue;
		if (strcmp(name, "[vdso]") == 0)
			*vdso = a;
		if (perms[1] != 'w' || perms[3] != 'p' || ino != 0 ||
		    (name[0] != '\0' && strcmp(name, "[heap]") != 0 &&
		    strcmp(name, "[stack]") != 0))
			continue;
		if ((nr = reallocarray(pp->r, pp->nr + 1, sizeof(*nr))) ==
		    NULL) {
			free(data);
			return -1;
		}
		pp->r = nr;
		pp->r[pp->nr].start = a;
		pp->r[pp->nr].end = b;
		pp->nr++;
	}
	free(data);
	return 0;
}

/*
 * Has pid make a userfaultfd, takes it, and registers pp's areas for
 * asynchronous write-protection.  Any failure only leaves the process
 * untracked (its memory then goes whole in the dump); it runs on as
 * before, having been stopped for a few injected calls.
 */
static void
arm(struct pc_proc *pp)
{
	struct uffdio_api api;
	struct uffdio_register reg;
	struct ckpt_err e;
	uint64_t vdso, arg, keep = 0;
	uint32_t i, k;
	long off, tfd, ret;
	int pidfd;

	pp->uffd = -1;
	if (start_time(pp->pid, &pp->start_time) != 0 ||
	    read_areas(pp->pid, pp, &vdso) != 0 || vdso == 0 || pp->nr == 0 ||
	    (off = ck_arch_vdso_syscall_off()) < 0)
		return;
	if (ck_seize(pp->pid, 0, &e) != 0) {
		(void)ptrace(PTRACE_DETACH, pp->pid, NULL, NULL);
		return;
	}
	arg = O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY;
	if (ck_inject(pp->pid, vdso + (uint64_t)off, SYS_userfaultfd, &arg, 1,
	    &tfd) == 0 && tfd >= 0) {
		if ((pidfd = syscall(SYS_pidfd_open, pp->pid, 0)) >= 0) {
			pp->uffd = syscall(SYS_pidfd_getfd, pidfd, (int)tfd, 0);
			close(pidfd);
		}
		/* The process's own copy goes: its fd table is as it was. */
		arg = (uint64_t)tfd;
		if (ck_inject(pp->pid, vdso + (uint64_t)off, SYS_close, &arg, 1,
		    &ret) != 0 && pp->uffd >= 0) {
			close(pp->uffd);
			pp->uffd = -1;
		}
	}
	(void)ptrace(PTRACE_DETACH, pp->pid, NULL, NULL);
	if (pp->uffd < 0)
		return;
	memset(&api, 0, sizeof(api));
	api.api = UFFD_API;
	/* Not WP_UNPOPULATED: its markers in dropped pages read as swapped
	 * and not written, like a page that kept its contents. */
	api.features = CK_UFFD_FEATURE_WP_ASYNC;
	if (ioctl(pp->uffd, UFFDIO_API, &api) == -1) {
		close(pp->uffd);
		pp->uffd = -1;
		return;
	}
	/* Only the areas that took the registration are tracked. */
	for (i = k = 0; i < pp->nr; i++) {
		memset(&reg, 0, sizeof(reg));
		reg.range.start = pp->r[i].start;
		reg.range.len = pp->r[i].end - pp->r[i].start;
		reg.mode = UFFDIO_REGISTER_MODE_WP;
		if (ioctl(pp->uffd, UFFDIO_REGISTER, &reg) == 0) {
			pp->r[k++] = pp->r[i];
			keep++;
		}
	}
	pp->nr = k;
	if (keep == 0) {
		close(pp->uffd);
		pp->uffd = -1;
	}
}

int
ckpt_precopy_begin(pid_t pid, struct ckpt_precopy **pcp, struct ckpt_err *e)
{
	struct ckpt_precopy *pc;
	pid_t *pids;
	uint32_t n, i;
	int r, level;

	*pcp = NULL;
	if (pid <= 0 || pid == getpid())
		return ck_fail(e, SS_ERR_BAD, "no process given");
	if ((r = ck_tree_pids(pid, &pids, &n, e)) != 0)
		return r;
	if ((pc = calloc(1, sizeof(*pc))) == NULL ||
	    (pc->p = calloc(n, sizeof(*pc->p))) == NULL) {
		free(pc);
		free(pids);
		return ck_fail(e, SS_ERR_ALLOC, "out of memory");
	}
	pc->n = n;
	level = ck_ns_level(pid);
	for (i = 0; i < n; i++) {
		pc->p[i].pid = pids[i];
		/* The image names processes by these (ck_task_ns_ids). */
		if ((pc->p[i].vpid = ck_ns_id(pids[i], 0, "NSpid:", level)) ==
		    0)
			pc->p[i].vpid = pids[i];
		arm(&pc->p[i]);
	}
	free(pids);
	*pcp = pc;
	return 0;
}

/* One process's round, region by region (round_proc). */
struct pc_walk {
	struct ck_stream	*s;
	struct pc_proc		*pp;
	int			 memfd;
	uint64_t		*npages;
	struct ckpt_err		*e;
};

static int
pc_region(void *arg, const struct ck_page_region *rg)
{
	struct pc_walk *w = arg;

	if (!(rg->categories & (CK_PAGE_IS_PRESENT | CK_PAGE_IS_SWAPPED)) ||
	    (rg->categories & CK_PAGE_IS_PFNZERO))
		return 0;
	return ck_mm_dump_range(w->s, (uint32_t)w->pp->vpid, w->pp->pid,
	    w->memfd, rg->start, rg->end, w->npages, w->e);
}

/* Sends the written pages of one process's tracked areas. */
static int
round_proc(struct ck_stream *s, struct pc_proc *pp, uint64_t *npages,
    struct ckpt_err *e)
{
	struct ck_pm_scan_arg q;
	struct pc_walk w;
	char path[64];
	uint64_t st;
	uint32_t i;
	int pmfd, memfd, serr, r = 0;

	if (start_time(pp->pid, &st) != 0 || st != pp->start_time) {
		pp->broken = 1;		/* gone: its pid is someone else's */
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/%d/pagemap", pp->pid);
	if ((pmfd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		pp->broken = 1;
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/%d/mem", pp->pid);
	if ((memfd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		close(pmfd);
		pp->broken = 1;
		return 0;
	}
	w.s = s;
	w.pp = pp;
	w.memfd = memfd;
	w.npages = npages;
	w.e = e;
	memset(&q, 0, sizeof(q));
	q.flags = CK_PM_SCAN_WP_MATCHING;
	/* Pages only: protecting a hole leaves a marker in it, which reads
	 * as a swapped page from then on, and the dump would read every one
	 * of them. */
	q.category_mask = CK_PAGE_IS_WRITTEN;
	q.category_anyof_mask = CK_PAGE_IS_PRESENT | CK_PAGE_IS_SWAPPED;
	q.return_mask = CK_PAGE_IS_WRITTEN | CK_PAGE_IS_PRESENT |
	    CK_PAGE_IS_SWAPPED | CK_PAGE_IS_PFNZERO;
	for (i = 0; i < pp->nr && r == 0 && !pp->broken; i++) {
		r = ck_pm_walk(pmfd, &q, pp->r[i].start, pp->r[i].end,
		    pc_region, &w, &serr);
		if (serr != 0) {
			/* Protected some, maybe, and cannot say which:
			 * nothing of this process is kept. */
			pp->broken = 1;
			r = 0;
		}
		if (ck_stream_read_failed(s))
			pp->broken = 1;
	}
	close(memfd);
	close(pmfd);
	return r;
}

int
ckpt_precopy_round(struct ckpt_precopy *pc, const struct ckpt_dump_opts *o,
    uint64_t *bytes, uint64_t *pages, struct ckpt_err *e)
{
	struct ck_stream *s;
	uint64_t np = 0;
	uint32_t i;
	int r = 0;

	*bytes = 0;
	if (pages != NULL)
		*pages = 0;
	if (pc->ended)
		return ck_fail(e, SS_ERR_INTERNAL, "the pre-copy is over");
	if ((s = ck_stream_new(o->out_fn != NULL ? -1 : o->out_fd, 1)) ==
	    NULL)
		return ck_fail(e, SS_ERR_ALLOC, "out of memory");
	if (o->out_fn != NULL)
		ck_stream_set_out(s, o->out_fn, o->out_arg);
	ck_stream_set_precopy(s);
	if (!pc->started) {
		if ((r = ck_write_file_header(s, e)) != 0)
			goto out;
		pc->started = 1;
	}
	for (i = 0; i < pc->n && r == 0; i++)
		if (pc->p[i].uffd >= 0 && !pc->p[i].broken)
			r = round_proc(s, &pc->p[i], &np, e);
	if (r == 0)
		r = ck_stream_finish(s, e);
 out:
	*bytes = ck_stream_bytes(s);
	if (pages != NULL)
		*pages = np;
	ck_stream_free(s);
	return r;
}

void
ckpt_precopy_free(struct ckpt_precopy *pc)
{
	uint32_t i;

	if (pc == NULL)
		return;
	for (i = 0; i < pc->n; i++) {
		if (pc->p[i].uffd >= 0)
			close(pc->p[i].uffd);
		free(pc->p[i].r);
	}
	free(pc->p);
	free(pc);
}

int
ck_precopy_started(const struct ckpt_precopy *pc)
{
	return pc->started;
}

void
ck_precopy_set_ended(struct ckpt_precopy *pc)
{
	pc->ended = 1;
}

/* At the dump, the tree frozen: drops processes that are not ours. */
void
ck_precopy_verify(struct ckpt_precopy *pc)
{
	uint64_t st;
	uint32_t i;

	for (i = 0; i < pc->n; i++)
		if (pc->p[i].uffd >= 0 && (start_time(pc->p[i].pid, &st) != 0 ||
		    st != pc->p[i].start_time))
			pc->p[i].broken = 1;
}

int
ck_precopy_keepable(const struct ckpt_precopy *pc, pid_t pid, uint64_t start,
    uint64_t end)
{
	const struct pc_proc *pp;
	uint32_t i, j;

	for (i = 0; i < pc->n; i++) {
		pp = &pc->p[i];
		if (pp->pid != pid)
			continue;
		if (pp->uffd < 0 || pp->broken)
			return 0;
		for (j = 0; j < pp->nr; j++)
			if (start >= pp->r[j].start && end <= pp->r[j].end)
				return 1;
		return 0;
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* The restoring side: the store. */

#define CHUNK_PAGES	16u
#define CHUNK_BYTES	((uint64_t)CHUNK_PAGES * CK_PAGE)

/* The store's index: which page of mem holds each page of a 16-page
 * aligned chunk of one process's address space. */
struct chunk {
	uint64_t	 base;		/* address of its first page */
	uint32_t	 pid;		/* 0: an empty slot */
	uint16_t	 have;		/* bit i: page i is held */
	uint16_t	 zero;		/* bit i: forgotten (it is zero now) */
	uint16_t	 given;		/* bit i: given (ck_store_give) */
	uint32_t	 page[CHUNK_PAGES]; /* index in mem of page i */
};

struct ck_store {
	uint8_t		*mem;		/* room for room pages */
	uint64_t	 room, used;
	uint64_t	 cap;		/* room grows up to this */
	uint64_t	 ready;		/* pages of mem faulted in */
	struct chunk	*tab;
	uint64_t	 tabcap, tabn;	/* tabcap a power of two */
	uint64_t	 runs;
};

struct ck_store *
ck_store_new(void)
{
	long pg = sysconf(_SC_PHYS_PAGES);

	/* As much as the machine has: more could never be restored here. */
	return ck_store_new_cap(pg > 0 ? (uint64_t)pg : 1ull << 20);
}

struct ck_store *
ck_store_new_cap(uint64_t cap)
{
	struct ck_store *st;

	if (cap == 0 || (st = calloc(1, sizeof(*st))) == NULL)
		return NULL;
	st->cap = cap;
	/* 64 MiB to begin with. */
	st->room = st->cap < 16384 ? st->cap : 16384;
	st->mem = mmap(NULL, st->room * CK_PAGE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (st->mem == MAP_FAILED) {
		free(st);
		return NULL;
	}
	/* No MADV_HUGEPAGE: it saved faults, but on our VMs huge pages
	 * fresh from the hypervisor are slow to clear, and the first large
	 * restore on a node cost 3 CPU s more with them.  Not inherited by
	 * the processes the restorer forks: copying the page tables of a
	 * GiB of it took 25-35 ms of the downtime, and each new process as
	 * long again to unmap them (spawn and layout of a 1 GiB restore:
	 * 52-70 ms with it, 2.5-3 ms without). */
	(void)madvise(st->mem, st->room * CK_PAGE, MADV_DONTFORK);
	return st;
}

void
ck_store_free(struct ck_store *st)
{
	if (st == NULL)
		return;
	munmap(st->mem, st->room * CK_PAGE);
	free(st->tab);
	free(st);
}

static uint64_t
chunk_hash(uint32_t pid, uint64_t base)
{
	uint64_t h = (base / CHUNK_BYTES) ^ ((uint64_t)pid << 36);

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

/* The chunk of pid at base, or the empty slot where it would go. */
static struct chunk *
chunk_slot(const struct ck_store *st, uint32_t pid, uint64_t base)
{
	struct chunk *c;
	uint64_t i;

	for (i = chunk_hash(pid, base) & (st->tabcap - 1);;
	    i = (i + 1) & (st->tabcap - 1)) {
		c = &st->tab[i];
		if (c->pid == 0 || (c->pid == pid && c->base == base))
			return c;
	}
}

static struct chunk *
chunk_find(const struct ck_store *st, uint32_t pid, uint64_t base)
{
	struct chunk *c;

	if (st->tabcap == 0)
		return NULL;
	c = chunk_slot(st, pid, base);
	return c->pid == 0 ? NULL : c;
}

static int
grow(struct ck_store *st)
{
	struct chunk *old = st->tab;
	uint64_t oldcap = st->tabcap, i;

	st->tabcap = oldcap == 0 ? 1024 : oldcap * 2;
	if ((st->tab = calloc(st->tabcap, sizeof(*st->tab))) == NULL) {
		st->tab = old;
		st->tabcap = oldcap;
		return -1;
	}
	for (i = 0; i < oldcap; i++)
		if (old[i].pid != 0)
			*chunk_slot(st, old[i].pid, old[i].base) = old[i];
	free(old);
	return 0;
}

/* The chunk of pid at base, made if new; NULL when out of memory.  The
 * pointer holds until the next call (the table may grow). */
static struct chunk *
chunk_get(struct ck_store *st, uint32_t pid, uint64_t base)
{
	struct chunk *c;

	if ((st->tabn + 1) * 2 > st->tabcap && grow(st) != 0)
		return NULL;
	c = chunk_slot(st, pid, base);
	if (c->pid == 0) {
		c->pid = pid;
		c->base = base;
		st->tabn++;
	}
	return c;
}

/* Doubles the room for pages (they may move: nobody points into them
 * before the image's KEEP sections, which come after the last put). */
static int
more_room(struct ck_store *st, struct ckpt_err *e)
{
	uint64_t room = st->room * 2 > st->cap ? st->cap : st->room * 2;
	void *m;

	if (room <= st->room)
		return ck_fail(e, SS_ERR_TOO_LONG, "the pre-copy is larger "
		    "than this machine's memory");
	m = mremap(st->mem, st->room * CK_PAGE, room * CK_PAGE, MREMAP_MAYMOVE);
	if (m == MAP_FAILED)
		return ck_fail(e, SS_ERR_ALLOC, "pre-copy of %llu MiB: %s",
		    (unsigned long long)(room / 256), strerror(errno));
	st->mem = m;
	st->room = room;
	(void)madvise(st->mem, st->room * CK_PAGE, MADV_DONTFORK);
	return 0;
}

/* The next 2 MiB of room faulted in by one call, not page by page as
 * they are written (a fault each): the zeroing stays, the traps go.  A
 * kernel without MADV_POPULATE_WRITE faults them in as before. */
static void
fault_in(struct ck_store *st)
{
	uint64_t n = st->room - st->ready < 512 ? st->room - st->ready : 512;

	(void)madvise(st->mem + st->ready * CK_PAGE, n * CK_PAGE,
	    MADV_POPULATE_WRITE);
	st->ready += n;
}

/* The base of the chunk that holds page a, and in *k its place there. */
static uint64_t
chunk_base(uint64_t a, uint32_t *k)
{
	uint64_t base = a & ~(CHUNK_BYTES - 1);

	*k = (uint32_t)((a - base) / CK_PAGE);
	return base;
}

/* The chunk that holds page a of pid: c itself when a is in it, else
 * looked up, made if new (NULL: out of memory); *k the page's place. */
static struct chunk *
chunk_at(struct ck_store *st, struct chunk *c, uint32_t pid, uint64_t a,
    uint32_t *k)
{
	uint64_t base = chunk_base(a, k);

	return c != NULL && c->base == base ? c : chunk_get(st, pid, base);
}

/* Page k of c is the next page of mem from now on (and not zero: a
 * FORGET may have come for it before it was ever held). */
static void
hold(struct ck_store *st, struct chunk *c, uint32_t k)
{
	c->page[k] = (uint32_t)st->used++;
	c->have |= (uint16_t)(1u << k);
	c->zero &= (uint16_t)~(1u << k);
}

static int
check_pid(uint32_t pid, struct ckpt_err *e)
{
	if (pid == 0 || pid > (uint32_t)INT32_MAX)
		return ck_fail(e, SS_ERR_CORRUPT, "corrupt image: pre-copy of "
		    "pid %u", pid);
	return 0;
}

int
ck_store_put(struct ck_store *st, uint32_t pid, uint64_t addr,
    const uint8_t *data, uint32_t npages, struct ckpt_err *e)
{
	struct chunk *c = NULL;
	uint32_t i, k;
	int r;

	if ((r = check_pid(pid, e)) != 0)
		return r;
	st->runs++;
	for (i = 0; i < npages; i++) {
		if ((c = chunk_at(st, c, pid, addr + (uint64_t)i * CK_PAGE,
		    &k)) == NULL)
			return ck_fail(e, SS_ERR_ALLOC, "out of memory");
		if (!(c->have & (1u << k))) {
			if (st->used == st->room && (r = more_room(st, e)) !=
			    0)
				return r;
			if (st->used == st->ready)
				fault_in(st);
			hold(st, c, k);
		}
		c->zero &= (uint16_t)~(1u << k);
		c->given &= (uint16_t)~(1u << k);
		memcpy(st->mem + (size_t)c->page[k] * CK_PAGE,
		    data + (size_t)i * CK_PAGE, CK_PAGE);
	}
	return 0;
}

/*
 * Room for a run of pages the store has none of yet (a first round's),
 * side by side, in *dstp: the caller reads them straight in there, with
 * no copy between.  *dstp is NULL, and nothing changes, when one of them
 * is held already (a later round's copy replaces it: ck_store_put).  The
 * run counts as held once this returns: a caller that cannot fill it
 * gives up the whole restore.
 */
int
ck_store_reserve(struct ck_store *st, uint32_t pid, uint64_t addr,
    uint32_t npages, uint8_t **dstp, struct ckpt_err *e)
{
	const struct chunk *f = NULL;
	struct chunk *c = NULL;
	uint64_t base, fbase = 1, first;
	uint32_t i, k;
	int r;

	*dstp = NULL;
	if ((r = check_pid(pid, e)) != 0)
		return r;
	for (i = 0; i < npages; i++) {
		base = chunk_base(addr + (uint64_t)i * CK_PAGE, &k);
		if (base != fbase) {
			f = chunk_find(st, pid, base);
			fbase = base;
		}
		if (f != NULL && (f->have & (1u << k)))
			return 0;
	}
	while (st->room - st->used < npages)
		if ((r = more_room(st, e)) != 0)
			return r;
	while (st->ready < st->used + npages)
		fault_in(st);
	st->runs++;
	first = st->used;
	for (i = 0; i < npages; i++) {
		if ((c = chunk_at(st, c, pid, addr + (uint64_t)i * CK_PAGE,
		    &k)) == NULL)
			return ck_fail(e, SS_ERR_ALLOC, "out of memory");
		hold(st, c, k);
	}
	*dstp = st->mem + first * CK_PAGE;
	return 0;
}

void
ck_store_forget(struct ck_store *st, uint32_t pid, uint64_t addr,
    uint32_t npages)
{
	struct chunk *c;
	uint32_t i, k;

	for (i = 0; i < npages; i++)
		if ((c = chunk_find(st, pid, chunk_base(addr + (uint64_t)i *
		    CK_PAGE, &k))) != NULL)
			c->zero |= (uint16_t)(1u << k);
}

/*
 * A page given twice (two KEEPs of it: only a corrupt image says so)
 * would come the second time from released memory, as zero: refused
 * instead.  Two readers give at once (image.c's workers), so the
 * page's bit is set atomically; their runs never share a page in an
 * image a dump wrote.
 */
int
ck_store_give(struct ck_store *st, uint32_t pid, uint32_t proc,
    uint64_t addr, uint32_t npages, ck_pages_fn fn, void *arg,
    struct ckpt_err *e)
{
	struct chunk *c = NULL;
	uint64_t base, cbase = 1;	/* 1: no chunk looked up yet */
	uint32_t i, k, pg, run0 = 0, first = 0, n = 0;
	int r, held;

	for (i = 0; i <= npages; i++) {
		held = 0;
		pg = 0;
		if (i < npages) {
			base = chunk_base(addr + (uint64_t)i * CK_PAGE, &k);
			if (base != cbase) {
				c = chunk_find(st, pid, base);
				cbase = base;
			}
			if (c != NULL && (c->have & (1u << k)) &&
			    !(c->zero & (1u << k))) {
				if (__atomic_fetch_or(&c->given,
				    (uint16_t)(1u << k), __ATOMIC_RELAXED) &
				    (1u << k))
					return ck_fail(e, SS_ERR_CORRUPT,
					    "corrupt image: the page at %#llx "
					    "of process %u kept twice",
					    (unsigned long long)(addr +
					    (uint64_t)i * CK_PAGE), proc);
				held = 1;
				pg = c->page[k];
			}
		}
		if (held && n > 0 && pg == first + n && n < CK_PAGES_MAX) {
			n++;
			continue;
		}
		if (n > 0 && (r = fn(arg, proc, addr + (uint64_t)run0 * CK_PAGE,
		    st->mem + (size_t)first * CK_PAGE, n, e)) != 0)
			return r;
		/* Given: released (see the top), zero if read again. */
		if (n > 0)
			(void)madvise(st->mem + (size_t)first * CK_PAGE,
			    (size_t)n * CK_PAGE, MADV_DONTNEED);
		n = 0;
		if (held) {
			run0 = i;
			first = pg;
			n = 1;
		}
	}
	return 0;
}

void
ck_store_stats(const struct ck_store *st, uint64_t *runs, uint64_t *pages)
{
	*runs = st->runs;
	*pages = st->used;
}
