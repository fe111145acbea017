/*
 * info.c: sckpt info, a readable account of an image.  It reads the whole
 * stream as a restore would (every checksum checked) and prints the tree,
 * the threads, the mappings, the files and the amount of page data.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "ckpt-int.h"

static const char *
vma_kind(uint32_t k)
{
	static const char *n[] = { "?", "anon", "file", "file-shared", "shmem",
	    "vvar", "vvar_vclock", "vdso" };

	return k < sizeof(n) / sizeof(n[0]) ? n[k] : "?";
}

static const char *
desc_kind(uint32_t k)
{
	static const char *n[] = { "?", "file", "device", "pipe", "outside" };

	return k < sizeof(n) / sizeof(n[0]) ? n[k] : "?";
}

struct count {
	uint32_t	 nproc;
	uint64_t	*per;		/* pages by process index */
};

/* Counts the pages of each process (ck_read_pages, from any thread). */
static int
count_pages(void *arg, uint32_t idx, uint64_t addr, const uint8_t *data,
    uint32_t np, struct ckpt_err *e)
{
	struct count *c = arg;

	(void)addr;
	(void)data;
	if (idx >= c->nproc)
		return ck_fail(e, SS_ERR_CORRUPT, "corrupt image: pages of "
		    "process %u of %u", idx, c->nproc);
	__atomic_fetch_add(&c->per[idx], np, __ATOMIC_RELAXED);
	return 0;
}

int
ckpt_info(int fd, FILE *out, struct ckpt_err *e)
{
	struct ck_image im;
	struct ck_stream *s;
	struct buf *b = NULL;
	uint32_t i, j, idx;
	uint64_t pages = 0, total;
	uint64_t *per = NULL;
	struct count cnt;
	int r;

	memset(&im, 0, sizeof(im));
	if ((s = ck_stream_new(fd, 0)) == NULL)
		return ck_fail(e, SS_ERR_ALLOC, "out of memory");
	if ((r = ck_read_meta(s, &im, e)) != 0)
		goto out;
	if ((per = calloc(im.nproc, sizeof(*per))) == NULL) {
		r = ck_fail(e, SS_ERR_ALLOC, "out of memory");
		goto out;
	}
	cnt.nproc = im.nproc;
	cnt.per = per;
	if ((r = ck_stream_set_pids(s, &im, e)) != 0 ||
	    (r = ck_read_pages(s, count_pages, &cnt, &b, &pages, e)) != 0)
		goto out;
	if (buf_get_u32(b, &idx) != 0 || buf_get_u64(b, &total) != 0 ||
	    total != pages) {
		r = ck_fail(e, SS_ERR_CORRUPT, "corrupt image: page count");
		goto out;
	}
	fprintf(out, "image version %u, %s, kernel %s, XCR0 %#llx, xstate "
	    "%u bytes\n", CK_VERSION, im.arch, im.release,
	    (unsigned long long)im.xcr0, im.xstate_size);
	fprintf(out, "%u process(es), %llu pages (%.1f MiB) of memory, %llu "
	    "bytes of image\n", im.nproc, (unsigned long long)pages,
	    pages * 4096.0 / 1048576, (unsigned long long)ck_stream_bytes(s));
	if (ck_stream_store(s) != NULL) {
		uint64_t runs, stored;

		ck_store_stats(ck_stream_store(s), &runs, &stored);
		fprintf(out, "a pre-copy came first: %llu runs, %llu pages "
		    "(%.1f MiB) held for the image's kept runs\n", (unsigned long long)runs,
		    (unsigned long long)stored, stored * 4096.0 / 1048576);
	}
	for (i = 0; i < im.nproc; i++) {
		struct ck_proc *p = &im.procs[i];

		fprintf(out, "\nprocess %d (parent %d, pgid %d, sid %d) %s\n",
		    p->pid, p->ppid, p->pgid, p->sid, p->comm);
		if (p->zombie) {
			fprintf(out, "  zombie, wait status %#x\n",
			    p->exit_status);
			continue;
		}
		fprintf(out, "  exe %s\n  cwd %s\n  uid %u gid %u umask %03o, "
		    "%llu pages\n", p->exe, p->cwd, p->uid[1], p->gid[1],
		    p->umask, (unsigned long long)per[i]);
		for (j = 0; j < p->nthr; j++)
			fprintf(out, "  thread %d %s rip %#llx\n", p->thr[j].tid,
			    p->thr[j].comm,
			    (unsigned long long)p->thr[j].regs.rip);
		for (j = 0; j < p->nvma; j++) {
			struct ck_vma *v = &p->vmas[j];

			fprintf(out, "  %012llx-%012llx %c%c%c %-11s %s",
			    (unsigned long long)v->start,
			    (unsigned long long)v->end,
			    v->prot & PROT_READ ? 'r' : '-',
			    v->prot & PROT_WRITE ? 'w' : '-',
			    v->prot & PROT_EXEC ? 'x' : '-',
			    vma_kind(v->kind), v->path ? v->path :
			    (v->flags & CK_VMAF_HEAP) ? "[heap]" :
			    (v->flags & CK_VMAF_STACK) ? "[stack]" : "");
			/* Mappings of one shared object have one number. */
			if (v->shm != 0)
				fprintf(out, "object %u at %#llx",
				    v->shm, (unsigned long long)v->pgoff);
			fputc('\n', out);
		}
		for (j = 0; j < p->nfd; j++) {
			struct ck_desc *d = &im.descs[p->fds[j].desc];

			fprintf(out, "  fd %d: %s %s%s\n", p->fds[j].fd,
			    desc_kind(d->kind), d->path ? d->path : "",
			    d->kind == CK_DESC_PIPE ? "" : "");
		}
	}
	for (i = 0; i < im.npipe; i++)
		fprintf(out, "pipe %u: %u bytes in flight%s\n", i,
		    im.pipes[i].len, im.pipes[i].closed ? (im.pipes[i].has_r ?
		    ", no writer left" : ", no reader left") :
		    !im.pipes[i].has_r || !im.pipes[i].has_w ?
		    ", leads outside" : "");
	r = 0;
 out:
	free(per);
	buf_free(b);
	ck_stream_free(s);
	ck_image_free(&im);
	return r;
}
