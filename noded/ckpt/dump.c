/*
 * dump.c: the dump driver, a straight list of steps.
 *
 *	freeze		seize and interrupt every thread of the tree (a child
 *			that ended, not reaped yet, is noted as a zombie)
 *	collect		task, mm, threads, signals of each process (a
 *			zombie: its ids and wait status); the ids as the
 *			tree's own PID namespace sees them; files; shared
 *			memory objects across the tree (shmem.c)
 *			(anything not carried is refused here: nothing written)
 *	write		(after a pre-copy: its end) header, metadata, pages
 *			(KEEP for runs the pre-copy sent, unchanged since), end
 *	release		SIGKILL the tree, or detach it (--leave-running)
 *
 * Any failure before the end of "write" detaches the tree, which runs on
 * as if nothing had happened: an image is never half-taken at the cost of
 * the process.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "ckpt-int.h"

static int
write_header(struct ck_stream *s, const struct ck_image *im,
    struct ckpt_err *e)
{
	struct buf *b;
	int r, i;

	if ((b = buf_new(4096)) == NULL)
		return ck_fail(e, SS_ERR_ALLOC, "out of memory");
	if ((r = buf_put_cstring(b, im->arch)) != 0 ||
	    (r = buf_put_cstring(b, im->release)) != 0 ||
	    (r = buf_put_u64(b, im->xcr0)) != 0 ||
	    (r = buf_put_u32(b, im->xstate_size)) != 0 ||
	    (r = buf_put_u32(b, im->nproc)) != 0)
		goto out;
	for (i = 0; i < 3; i++)
		if ((r = buf_put_u64(b, im->vdso_size[i])) != 0)
			goto out;
	r = ck_write_section(s, CK_SEC_HEADER, b, e);
	buf_free(b);
	return r;
 out:
	buf_free(b);
	return ck_fail(e, r, "header: %s", ss_strerror(r));
}

/* Encodes with fn into a fresh buffer and writes it as section type. */
static int
put_section(struct ck_stream *s, uint32_t type, uint32_t idx,
    int (*fn)(struct buf *, const void *), const void *arg, struct ckpt_err *e)
{
	struct buf *b;
	int r;

	if ((b = buf_new(CK_SEC_MAX)) == NULL)
		return ck_fail(e, SS_ERR_ALLOC, "out of memory");
	if ((r = buf_put_u32(b, idx)) != 0 || (r = fn(b, arg)) != 0) {
		buf_free(b);
		return ck_fail(e, r, "encoding section %u: %s", type,
		    ss_strerror(r));
	}
	r = ck_write_section(s, type, b, e);
	buf_free(b);
	return r;
}

static int enc_task(struct buf *b, const void *a) { return ck_task_encode(b, a); }
static int enc_thread(struct buf *b, const void *a) { return ck_thread_encode(b, a); }
static int enc_mm(struct buf *b, const void *a) { return ck_mm_encode(b, a); }
static int enc_files(struct buf *b, const void *a) { return ck_files_encode(b, a); }
static int enc_descs(struct buf *b, const void *a) { return ck_descs_encode(b, a); }
static int enc_pipe(struct buf *b, const void *a) { return ck_pipe_encode(b, a); }
static int enc_none(struct buf *b, const void *a) { (void)b; (void)a; return 0; }
static int
enc_end(struct buf *b, const void *a)
{
	return buf_put_u64(b, *(const uint64_t *)a);
}

static void
fill_header(struct ck_image *im)
{
	struct utsname u;
	const char *fake;
	uint32_t i;

	im->version = CK_VERSION;
	snprintf(im->arch, sizeof(im->arch), "x86_64");
	if (uname(&u) == 0)
		snprintf(im->release, sizeof(im->release), "%s", u.release);
	im->xcr0 = ck_arch_xcr0();
	/* Test point: pretend another CPU (tests/ckpt/run.sh). */
	if ((fake = getenv("CKPT_FAKE_XCR0")) != NULL)
		im->xcr0 = strtoull(fake, NULL, 0);
	im->xstate_size = ck_arch_xstate_size();
	for (i = 0; i < im->procs[0].nvma; i++) {
		const struct ck_vma *v = &im->procs[0].vmas[i];
		int k = (int)v->kind - CK_VMA_VVAR;

		if (k >= 0 && k < 3)
			im->vdso_size[k] = v->end - v->start;
	}
}

int
ckpt_dump(const struct ckpt_dump_opts *o, struct ckpt_stats *st,
    struct ckpt_err *e)
{
	struct ck_image im;
	struct ck_stream *s = NULL;
	uint64_t pages = 0, t0;
	uint32_t i, j, nthr = 0;
	int r;

	memset(&im, 0, sizeof(im));
	if (o->pid <= 0)
		return ck_fail(e, SS_ERR_BAD, "no process given");
	if (o->pid == getpid())
		return ck_fail(e, SS_ERR_BAD, "cannot dump myself");
	t0 = ck_now_ns();
	/* freeze */
	if ((r = ck_threads_freeze(o->pid, o->freezer, &im, e)) != 0)
		goto fail;
	/* collect */
	for (i = 0; i < im.nproc; i++) {
		struct ck_proc *p = &im.procs[i];

		if (p->zombie) {
			if ((r = ck_task_collect_zombie(p, e)) != 0)
				goto fail;
			continue;
		}
		if ((r = ck_task_collect(p, e)) != 0 ||
		    (r = ck_mm_collect(p, e)) != 0 ||
		    (r = ck_threads_collect(p, e)) != 0 ||
		    (r = ck_sig_collect(p, e)) != 0)
			goto fail;
		nthr += p->nthr;
	}
	if ((r = ck_task_ns_ids(&im, e)) != 0 ||
	    (r = ck_files_collect(&im, e)) != 0)
		goto fail;
	if ((r = ck_shm_collect(&im, e)) != 0)
		goto fail;
	fill_header(&im);
	/* write */
	if ((s = ck_stream_new(o->out_fn != NULL ? -1 : o->out_fd, 1)) ==
	    NULL) {
		r = ck_fail(e, SS_ERR_ALLOC, "out of memory");
		goto fail;
	}
	if (o->out_fn != NULL)
		ck_stream_set_out(s, o->out_fn, o->out_arg);
	if (o->precopy != NULL && ck_precopy_started(o->precopy)) {
		/* The pre-copy's end, then the image proper. */
		ck_precopy_verify(o->precopy);
		im.pc = o->precopy;
		if ((r = put_section(s, CK_SEC_PC_END, 0, enc_none, NULL,
		    e)) != 0)
			goto fail;
		ck_precopy_set_ended(o->precopy);
	}
	if ((r = ck_write_file_header(s, e)) != 0 ||
	    (r = write_header(s, &im, e)) != 0)
		goto fail;
	for (i = 0; i < im.nproc; i++) {
		struct ck_proc *p = &im.procs[i];

		if ((r = put_section(s, CK_SEC_PROC, i, enc_task, p, e)) != 0)
			goto fail;
		for (j = 0; j < p->nthr; j++)
			if ((r = put_section(s, CK_SEC_THREAD, i, enc_thread,
			    &p->thr[j], e)) != 0)
				goto fail;
		if ((r = put_section(s, CK_SEC_MM, i, enc_mm, p, e)) != 0 ||
		    (r = put_section(s, CK_SEC_FILES, i, enc_files, p, e)) != 0)
			goto fail;
	}
	if ((r = put_section(s, CK_SEC_DESCS, 0, enc_descs, &im, e)) != 0)
		goto fail;
	for (i = 0; i < im.npipe; i++)
		if ((r = put_section(s, CK_SEC_PIPE, i, enc_pipe, &im.pipes[i],
		    e)) != 0)
			goto fail;
	if ((r = put_section(s, CK_SEC_META_END, 0, enc_none, NULL, e)) != 0)
		goto fail;
	for (i = 0; i < im.nproc; i++)
		if (!im.procs[i].zombie &&
		    (r = ck_mm_write_pages(s, &im, i, &pages, e)) != 0)
			goto fail;
	if ((r = put_section(s, CK_SEC_END, im.nproc, enc_end, &pages, e)) != 0)
		goto fail;
	/* release: the caller decides (migration), or leave_running */
	if (o->decide != NULL) {
		if ((r = o->decide(o->decide_arg)) < 0) {
			r = ck_fail(e, SS_ERR_INTERNAL, "the move was called "
			    "off");
			goto fail;
		}
		if (r == 2)	/* neither: leave it group-stopped */
			for (i = 0; i < im.nproc; i++)
				kill(im.procs[i].pid, SIGSTOP);
		ck_threads_release(&im, r == 1);
	} else
		ck_threads_release(&im, !o->leave_running);
	if (st != NULL) {
		st->image_bytes = ck_stream_bytes(s);
		st->pages = pages;
		st->nprocs = im.nproc;
		st->nthreads = nthr;
		st->frozen_ns = ck_now_ns() - t0;
	}
	ck_stream_free(s);
	ck_image_free(&im);
	return 0;
 fail:
	ck_threads_release(&im, 0);
	ck_stream_free(s);
	ck_image_free(&im);
	return r;
}
