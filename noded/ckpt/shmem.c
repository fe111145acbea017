/*
 * shmem.c: shared anonymous memory (MAP_SHARED | MAP_ANONYMOUS, shown as
 * "/dev/zero (deleted)" in /proc/PID/maps), across the processes of a
 * tree.
 *
 * Such memory is a shmem object (an unlinked file on the kernel's
 * internal tmpfs), which fork() hands down to every child: a parent and
 * its children then map one object, each maybe at its own offsets and
 * lengths (after munmap, mprotect or mremap of a part), and a write by
 * one is seen by all.  The dump names each object by the device and
 * inode /proc/PID/maps shows for it, and gives every mapping of it the
 * same number in the image (vma->shm, 1..; image version 3).  The pages
 * of an object are written once: a page, named by its offset in the
 * object, goes with the first mapping that holds it (ck_shm_claim), at
 * that process's address; the other mappings carry none.
 *
 * The restore re-creates each object mapped more than once in the
 * restorer itself, mmap(MAP_SHARED | MAP_ANONYMOUS) as the original was
 * made, as large as the furthest page any mapping reaches, opens it
 * through /proc/self/map_files (CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE:
 * root) at an fd >= base, and unmaps it again: the new processes inherit
 * that fd as they inherit the mapped files (vma->tfd), map it with
 * MAP_SHARED at the dumped offset (mm.c), so /proc/PID/maps shows it as
 * before, and the pages written through any of them land in the one
 * object.  Without that privilege, an object mapped by one process only
 * is re-created, as before image version 3, as one object per mapping
 * (nothing else could see the difference but an alias of the same pages
 * at two addresses); one mapped by several processes is refused, saying
 * why.  An object of one mapping is made by its mmap alone, as always.
 *
 * Invariant: every mapping with the same vma->shm in an image is of the
 * same object, and an object's pages appear at most once in the image.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ckpt-int.h"

/* Bitmaps above this many pages (256 TiB of object) are refused. */
#define SHM_MAX_PAGES	(1ull << 36)

static int	shm_create(uint64_t, int);
static int	seen_before(const struct ck_proc *, uint32_t);

int
ck_shm_collect(struct ck_image *im, struct ckpt_err *e)
{
	struct ck_shm *sh, *nw;
	struct ck_vma *v;
	uint64_t ext;
	uint32_t i, j, k;

	for (i = 0; i < im->nproc; i++)
		for (j = 0; j < im->procs[i].nvma; j++) {
			v = &im->procs[i].vmas[j];
			if (v->kind != CK_VMA_SHMEM)
				continue;
			/* An inode of 0 names nothing: an object alone. */
			for (k = 0; k < im->nshm && (v->sino == 0 ||
			    im->shms[k].dev != v->sdev ||
			    im->shms[k].ino != v->sino); k++)
				;
			if (k == im->nshm) {
				if ((nw = realloc(im->shms, (im->nshm + 1) *
				    sizeof(*nw))) == NULL)
					return ck_fail(e, SS_ERR_ALLOC,
					    "out of memory");
				im->shms = nw;
				memset(&nw[k], 0, sizeof(*nw));
				nw[k].dev = v->sdev;
				nw[k].ino = v->sino;
				im->nshm++;
			}
			sh = &im->shms[k];
			v->shm = k + 1;
			ext = v->pgoff / CK_PAGE + (v->end - v->start) /
			    CK_PAGE;
			if (v->pgoff % CK_PAGE != 0 || ext > SHM_MAX_PAGES)
				return ck_fail(e, SS_ERR_UNSUPPORTED, "process "
				    "%d: shared anonymous memory at %#llx: "
				    "offset %#llx cannot be checkpointed",
				    im->procs[i].pid,
				    (unsigned long long)v->start,
				    (unsigned long long)v->pgoff);
			if (ext > sh->npages)
				sh->npages = ext;
		}
	for (k = 0; k < im->nshm; k++)
		if ((im->shms[k].done = calloc((im->shms[k].npages + 7) / 8,
		    1)) == NULL)
			return ck_fail(e, SS_ERR_ALLOC, "out of memory");
	return 0;
}

int
ck_shm_claim(struct ck_image *im, const struct ck_vma *v, uint64_t *startp,
    uint64_t end, uint64_t *endp)
{
	struct ck_shm *sh = &im->shms[v->shm - 1];
	uint64_t pg, last, q;

	/* Page numbers in the object (the mapping shows it from pgoff). */
	pg = (*startp - v->start + v->pgoff) / CK_PAGE;
	last = (end - v->start + v->pgoff) / CK_PAGE;
	if (last > sh->npages)
		last = sh->npages;
	while (pg < last && (sh->done[pg / 8] & (1u << (pg % 8))) != 0)
		pg++;
	if (pg >= last)
		return 1;
	for (q = pg; q < last && (sh->done[q / 8] & (1u << (q % 8))) == 0;
	    q++)
		sh->done[q / 8] |= 1u << (q % 8);
	*startp = v->start + pg * CK_PAGE - v->pgoff;
	*endp = v->start + q * CK_PAGE - v->pgoff;
	return 0;
}

int
ck_shm_open(pid_t pid, const struct ck_vma *v)
{
	char path[96];

	snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", pid,
	    (unsigned long long)v->start, (unsigned long long)v->end);
	return open(path, O_RDONLY | O_CLOEXEC);
}

/* A new object of len bytes, open read-write at an fd >= base, or -1
 * with errno set. */
static int
shm_create(uint64_t len, int base)
{
	char path[96];
	void *a;
	int fd, hfd = -1, err;

	a = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
	    -1, 0);
	if (a == MAP_FAILED)
		return -1;
	snprintf(path, sizeof(path), "/proc/self/map_files/%llx-%llx",
	    (unsigned long long)(uintptr_t)a,
	    (unsigned long long)((uintptr_t)a + len));
	fd = open(path, O_RDWR | O_CLOEXEC);
	err = errno;
	if (fd >= 0) {
		hfd = fcntl(fd, F_DUPFD_CLOEXEC, base);
		err = errno;
		close(fd);
	}
	/* The fd holds the object now; the restorer needs no mapping. */
	(void)munmap(a, len);
	errno = err;
	return hfd;
}

/* 1 if a mapping of p before vmas[j] is of the same object. */
static int
seen_before(const struct ck_proc *p, uint32_t j)
{
	uint32_t l;

	for (l = 0; l < j; l++)
		if (p->vmas[l].kind == CK_VMA_SHMEM &&
		    p->vmas[l].shm == p->vmas[j].shm)
			return 1;
	return 0;
}

int
ck_shm_restore_open(struct ck_image *im, int base, struct ckpt_err *e)
{
	struct ck_proc *p;
	struct ck_vma *v, *w;
	uint64_t ext, wend;
	uint32_t i, j, k, l, nmap;
	int32_t other;
	int fd;

	for (i = 0; i < im->nproc; i++) {
		p = &im->procs[i];
		for (j = 0; j < p->nvma; j++) {
			v = &p->vmas[j];
			/* Made already (tfd), or left to one mmap each. */
			if (v->kind != CK_VMA_SHMEM || v->shm == 0 ||
			    v->tfd >= 0 || seen_before(p, j))
				continue;
			/* The first mapping of its object: how far its
			 * mappings reach, and who else maps it. */
			ext = 0;
			nmap = 0;
			other = -1;
			for (k = i; k < im->nproc; k++)
				for (l = k == i ? j : 0;
				    l < im->procs[k].nvma; l++) {
					w = &im->procs[k].vmas[l];
					if (w->kind != CK_VMA_SHMEM ||
					    w->shm != v->shm)
						continue;
					nmap++;
					wend = w->pgoff + (w->end - w->start);
					if (w->pgoff % CK_PAGE != 0 ||
					    wend < w->pgoff)
						return ck_fail(e,
						    SS_ERR_CORRUPT, "corrupt "
						    "image: shared memory "
						    "offset");
					if (wend > ext)
						ext = wend;
					if (k != i && other < 0)
						other = (int32_t)k;
				}
			if (nmap < 2)
				continue;
			if ((fd = shm_create(ext, base)) < 0) {
				if (other < 0 && (errno == EPERM ||
				    errno == EACCES))
					continue;
				if (errno == EPERM || errno == EACCES)
					return ck_fail(e, SS_ERR_PERM,
					    "process %d: shared anonymous "
					    "memory at %#llx, shared with "
					    "process %d, can only be restored "
					    "by root (it is opened through "
					    "/proc/PID/map_files): %s",
					    p->pid,
					    (unsigned long long)v->start,
					    im->procs[other].pid,
					    strerror(errno));
				return ck_fail(e, SS_ERR_SYSTEM, "process %d: "
				    "shared anonymous memory at %#llx (%llu "
				    "bytes): %s", p->pid,
				    (unsigned long long)v->start,
				    (unsigned long long)ext, strerror(errno));
			}
			for (k = i; k < im->nproc; k++)
				for (l = k == i ? j : 0;
				    l < im->procs[k].nvma; l++) {
					w = &im->procs[k].vmas[l];
					if (w->kind == CK_VMA_SHMEM &&
					    w->shm == v->shm)
						w->tfd = fd;
				}
		}
	}
	return 0;
}
