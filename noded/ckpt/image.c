/*
 * image.c: the checkpoint image as one stream, written and read once from
 * front to back, so that it can go through a pipe or an SSH channel.
 *
 * Format (all integers big-endian, strings as SSH strings, via buf.h):
 *
 *	file header	u32 magic "SCKP", u32 version
 *	sections	u32 type, u32 length, u32 crc, then length bytes
 *
 * crc is CRC-32C over the type and length fields and the payload, so a
 * flipped bit anywhere in a section is caught; in a PAGES section the
 * pages enter it through their page sum (ck_page_sum: four interleaved
 * CRC-32C lanes, four times as fast on a run of pages).  A section is at most
 * CK_SEC_MAX bytes.  The order is fixed:
 *
 *	HEADER		arch, kernel release, XCR0, xstate size, vdso sizes,
 *			number of processes
 *	per process	PROC, THREAD (one per thread, leader first), MM, FILES
 *			(MM: mm fields, auxv, then each mapping: start, end,
 *			offset, kind, protection, flags, path, file size and
 *			mtime, u32 shared object number, see shmem.c)
 *	DESCS		the open file descriptions of the tree
 *	PIPE		one per pipe with an end in the tree, bytes in flight
 *	META_END
 *	PAGES		u32 process index, u64 address, u32 page count, then
 *			the pages (untouched pages and, in anonymous memory,
 *			zero pages are left out)
 *	END		u64 total pages, so a truncated stream is caught
 *
 * Among the PAGES may come KEEP sections (u32 process index, u64 address,
 * u32 page count, no pages): runs unchanged since a pre-copy sent them,
 * whose pages the reader takes from that pre-copy (precopy.c).  A stream
 * with a pre-copy starts instead with the magic "SCPC" and the version,
 * then PRECOPY sections (as PAGES, with the pid in place of the process
 * index), FORGET sections (pid, address, count: pages sent before that
 * are zero now), and PC_END; the file header above and the image follow.
 * A run of PAGES, PRECOPY, KEEP or FORGET is CK_PAGES_MAX pages at most.
 *
 * Versions: 2; 3 added the shared object number to every mapping (the
 * pages of an object shared by several mappings appear once); 4 added the
 * pre-copy and KEEP.
 *
 * A reader refuses anything else: wrong magic or version, an unknown
 * section type, a bad crc, a length over the limit, or end of input before
 * END.  All metadata comes before the first page, so a restorer knows the
 * whole tree before it creates a process.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "ckpt-int.h"

/*
 * Writing pages (the dump): the pages are read from the process straight
 * into a batch buffer (ck_stream_page_room), each run of them gets its
 * section header in the batch's header array, and a full batch goes to
 * a writer thread, which writes it with writev while the dumper reads
 * and checksums the next one: on two cores reading the process and
 * writing the image overlap instead of adding up.  NBATCH batches turn
 * in a ring: free -> filled by the dumper -> queued -> written -> free.
 * Without a thread (pthread_create failed) a batch is written at once.
 * Other sections are written directly, after every queued batch (the
 * stream stays in order).  Into a file the writer's writev is the whole
 * cost (a tmpfs file takes one writer at a time, under its inode lock,
 * and allocates a page for every page written); the dumper waits for it.
 */
#define NBATCH		3
#define RUN_HDR		28		/* section header + page prefix */

struct batch {
	uint8_t		*data;		/* CK_PAGES_MAX pages */
	uint8_t		(*hdr)[RUN_HDR];
	struct iovec	*iov;		/* header, run, header, run ... */
	uint32_t	 used;		/* pages of data taken */
	uint32_t	 nrun;
	int		 queued;	/* 1: the writer's until written */
};

struct ck_stream {
	int		 fd;
	int		 writing;
	/* writing through the caller's function instead of fd (see ckpt.h) */
	int		(*out_fn)(void *, const void *, size_t);
	void		*out_arg;
	uint64_t	 bytes;		/* moved so far */
	uint8_t		*pages;		/* read buffer for page sections */
	int		 precopy;	/* writing a pre-copy (see ckpt-int.h) */
	int		 read_failed;	/* in a pre-copy run, since asked */
	struct ck_store	*store;		/* reading: the pre-copy's pages */
	pid_t		*pids;		/* reading: dumped pid by index */
	uint32_t	 npids;
	/* writing pages */
	struct batch	 b[NBATCH];
	int		 fill;		/* the batch the dumper fills */
	int		 have_thread;
	pthread_t	 thread;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	int		 stop;		/* the writer should end */
	int		 werr;		/* errno of a failed write, or 0 */
};


static int	read_precopy(struct ck_stream *, struct ckpt_err *);
static int	sec_run(const uint8_t *, uint32_t *, uint64_t *, uint32_t *,
		    struct ckpt_err *);

static uint32_t	crc_table[8][256];
static int	crc_ready;

static void
crc_init(void)
{
	uint32_t c;
	int i, j, k;

	for (i = 0; i < 256; i++) {
		c = i;
		for (j = 0; j < 8; j++)
			c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		crc_table[0][i] = c;
	}
	for (i = 0; i < 256; i++)
		for (k = 1; k < 8; k++)
			crc_table[k][i] = (crc_table[k - 1][i] >> 8) ^
			    crc_table[0][crc_table[k - 1][i] & 0xff];
	crc_ready = 1;
}

/* CRC-32C with the SSE4.2 instruction: memory bandwidth, roughly. */
__attribute__((target("sse4.2")))
static uint32_t
crc32c_hw(uint32_t crc, const uint8_t *p, size_t len)
{
	uint64_t c = crc, v;

	while (len >= 8) {
		memcpy(&v, p, 8);
		c = __builtin_ia32_crc32di(c, v);
		p += 8;
		len -= 8;
	}
	while (len-- > 0)
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
	return (uint32_t)c;
}

/*
 * The page checksum: four CRC-32C lanes over the 8-byte words of the run
 * (word i feeds lane i % 4), then CRC-32C over the four lanes.  One CRC
 * stream is bound by the instruction's latency (3 cycles for 8 bytes);
 * four independent ones keep the unit busy, so checking a run costs
 * about a quarter of a plain CRC and stays far below a memory copy.  A
 * run is whole pages, so there is no tail.  The sum can be taken in
 * pieces (ck_page_sum_init/add/end, each piece a multiple of 32 bytes),
 * so that a dumper or reader sums each piece while it is still in the
 * cache it was just copied into, instead of reading the run again.
 */
__attribute__((target("sse4.2")))
static void
lanes_hw(struct ck_page_sum *ps, const uint8_t *p, size_t len)
{
	uint64_t c0 = ps->c[0], c1 = ps->c[1], c2 = ps->c[2], c3 = ps->c[3];
	uint64_t w[4];

	for (; len >= 32; p += 32, len -= 32) {
		memcpy(w, p, 32);
		c0 = __builtin_ia32_crc32di(c0, w[0]);
		c1 = __builtin_ia32_crc32di(c1, w[1]);
		c2 = __builtin_ia32_crc32di(c2, w[2]);
		c3 = __builtin_ia32_crc32di(c3, w[3]);
	}
	ps->c[0] = (uint32_t)c0;
	ps->c[1] = (uint32_t)c1;
	ps->c[2] = (uint32_t)c2;
	ps->c[3] = (uint32_t)c3;
}

void
ck_page_sum_init(struct ck_page_sum *ps)
{
	int k;

	for (k = 0; k < 4; k++)
		ps->c[k] = ~0u;
}

void
ck_page_sum_add(struct ck_page_sum *ps, const void *data, size_t len)
{
	const uint8_t *p = data;
	int k;

	if (__builtin_cpu_supports("sse4.2")) {
		lanes_hw(ps, p, len);
		return;
	}
	/* The same sum, a word at a time (ck_crc32c inverts around). */
	for (; len >= 32; p += 32, len -= 32)
		for (k = 0; k < 4; k++)
			ps->c[k] = ~ck_crc32c(~ps->c[k], p + 8 * k, 8);
}

uint32_t
ck_page_sum_end(const struct ck_page_sum *ps)
{
	uint32_t out[4];
	int k;

	for (k = 0; k < 4; k++)
		out[k] = ~ps->c[k];
	return ck_crc32c(0, out, sizeof(out));
}

uint32_t
ck_page_sum(const void *data, size_t len)
{
	struct ck_page_sum ps;

	ck_page_sum_init(&ps);
	ck_page_sum_add(&ps, data, len);
	return ck_page_sum_end(&ps);
}

uint32_t
ck_crc32c(uint32_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;

	crc = ~crc;
	if (__builtin_cpu_supports("sse4.2"))
		return ~crc32c_hw(crc, p, len);
	if (!crc_ready)
		crc_init();
	while (len-- > 0)
		crc = crc_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

int
ck_fail(struct ckpt_err *e, int code, const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	if (e != NULL) {
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	errno = saved;
	return code;
}

uint64_t
ck_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

int
ck_write_all(int fd, const void *p, size_t n)
{
	const uint8_t *c = p;
	ssize_t r;

	while (n > 0) {
		r = write(fd, c, n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return SS_ERR_SYSTEM;
		}
		c += r;
		n -= r;
	}
	return 0;
}

int
ck_read_all(int fd, void *p, size_t n)
{
	uint8_t *c = p;
	ssize_t r;

	while (n > 0) {
		r = read(fd, c, n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return SS_ERR_SYSTEM;
		}
		if (r == 0)
			return SS_ERR_SHORT;
		c += r;
		n -= r;
	}
	return 0;
}

int
ck_read_file(const char *path, char **datap, size_t *lenp)
{
	FILE *f;
	char *d = NULL;
	size_t len = 0, cap = 0, n;

	if ((f = fopen(path, "re")) == NULL)
		return SS_ERR_SYSTEM;
	for (;;) {
		if (cap - len < 4096) {
			char *nd = realloc(d, cap + 65536);

			if (nd == NULL) {
				free(d);
				fclose(f);
				return SS_ERR_ALLOC;
			}
			d = nd;
			cap += 65536;
		}
		n = fread(d + len, 1, cap - len - 1, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		free(d);
		fclose(f);
		return SS_ERR_SYSTEM;
	}
	fclose(f);
	d[len] = '\0';
	*datap = d;
	if (lenp != NULL)
		*lenp = len;
	return 0;
}

int
ck_put_str(struct buf *b, const char *s)
{
	return buf_put_cstring(b, s);
}

int
ck_get_str(struct buf *b, char **sp)
{
	return buf_get_cstring(b, CK_PATH_MAX, sp);
}

struct ck_stream *
ck_stream_new(int fd, int writing)
{
	struct ck_stream *s;

	struct stat st;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->fd = fd;
	s->writing = writing;
	/* A pipe of 64 KiB costs a context switch per 64 KiB: ask for more
	 * (the limit for users is /proc/sys/fs/pipe-max-size, 1 MiB). */
	if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode))
		(void)fcntl(fd, F_SETPIPE_SZ, 1024 * 1024);
	return s;
}

/* Writes through the caller's function instead of a descriptor. */
void
ck_stream_set_out(struct ck_stream *s, int (*fn)(void *, const void *,
    size_t), void *arg)
{
	s->out_fn = fn;
	s->out_arg = arg;
}

/* Writes the whole of iov[0..n) (changing it); 0 or -1 and errno. */
static int
writev_all(struct ck_stream *s, struct iovec *iov, int n)
{
	ssize_t k;
	int i;

	if (s->out_fn != NULL) {
		for (i = 0; i < n; i++)
			if (iov[i].iov_len > 0 && s->out_fn(s->out_arg,
			    iov[i].iov_base, iov[i].iov_len) != 0) {
				errno = EPIPE;
				return -1;
			}
		return 0;
	}
	while (n > 0) {
		k = writev(s->fd, iov, n > IOV_MAX ? IOV_MAX : n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		while (n > 0 && (size_t)k >= iov->iov_len) {
			k -= iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + k;
			iov->iov_len -= k;
		}
	}
	return 0;
}

/* Writes batch bt (unless an earlier write failed) and frees it. */
static void
batch_write(struct ck_stream *s, struct batch *bt)
{
	int err = 0;

	if (bt->nrun > 0 && writev_all(s, bt->iov, 2 * bt->nrun) == -1)
		err = errno;
	if (s->have_thread)
		pthread_mutex_lock(&s->mu);
	if (err != 0 && s->werr == 0)
		s->werr = err;
	bt->used = bt->nrun = 0;
	bt->queued = 0;
	if (s->have_thread) {
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mu);
	}
}

static void *
writer(void *arg)
{
	struct ck_stream *s = arg;
	int w = 0;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (!s->b[w].queued && !s->stop)
			pthread_cond_wait(&s->cv, &s->mu);
		if (!s->b[w].queued)
			break;
		pthread_mutex_unlock(&s->mu);
		batch_write(s, &s->b[w]);
		pthread_mutex_lock(&s->mu);
		w = (w + 1) % NBATCH;
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* Hands the batch being filled to the writer and moves to the next. */
static void
batch_submit(struct ck_stream *s)
{
	struct batch *bt = &s->b[s->fill];

	if (bt->used == 0 && bt->nrun == 0)
		return;
	if (!s->have_thread) {
		batch_write(s, bt);
		return;
	}
	pthread_mutex_lock(&s->mu);
	bt->queued = 1;
	pthread_cond_broadcast(&s->cv);
	s->fill = (s->fill + 1) % NBATCH;
	while (s->b[s->fill].queued)
		pthread_cond_wait(&s->cv, &s->mu);
	pthread_mutex_unlock(&s->mu);
}

/* Submits what is filled and waits until all of it is written. */
static int
stream_flush(struct ck_stream *s, struct ckpt_err *e)
{
	int i, err;

	batch_submit(s);
	if (s->have_thread) {
		pthread_mutex_lock(&s->mu);
		for (i = 0; i < NBATCH; i++)
			while (s->b[i].queued)
				pthread_cond_wait(&s->cv, &s->mu);
		pthread_mutex_unlock(&s->mu);
	}
	if ((err = s->werr) != 0) {
		errno = err;
		return ck_fail(e, SS_ERR_SYSTEM, "writing image: %s",
		    strerror(err));
	}
	return 0;
}

uint8_t *
ck_stream_page_room(struct ck_stream *s, uint32_t *np, struct ckpt_err *e)
{
	struct batch *bt;
	int i;

	if (s->b[0].data == NULL) {
		for (i = 0; i < NBATCH; i++) {
			bt = &s->b[i];
			bt->data = aligned_alloc(CK_PAGE, CK_PAGES_MAX * CK_PAGE);
			bt->hdr = malloc(CK_PAGES_MAX * sizeof(*bt->hdr));
			bt->iov = malloc(2 * CK_PAGES_MAX * sizeof(*bt->iov));
			if (bt->data == NULL || bt->hdr == NULL ||
			    bt->iov == NULL) {
				ck_fail(e, SS_ERR_ALLOC, "out of memory");
				return NULL;
			}
		}
		if (pthread_mutex_init(&s->mu, NULL) == 0) {
			if (pthread_cond_init(&s->cv, NULL) == 0 &&
			    pthread_create(&s->thread, NULL, writer, s) == 0)
				s->have_thread = 1;
			else
				pthread_mutex_destroy(&s->mu);
		}
	}
	bt = &s->b[s->fill];
	/* Less than asked for left: a fresh batch, rather than a short read.
	 * Each page may become a run of its own: room for as many runs. */
	if ((bt->used > 0 || bt->nrun > 0) && (CK_PAGES_MAX - bt->used < *np ||
	    CK_PAGES_MAX - bt->nrun < *np)) {
		batch_submit(s);
		bt = &s->b[s->fill];
	}
	if (s->werr != 0) {
		ck_fail(e, SS_ERR_SYSTEM, "writing image: %s",
		    strerror(s->werr));
		return NULL;
	}
	if (*np > CK_PAGES_MAX - bt->used)
		*np = CK_PAGES_MAX - bt->used;
	if (*np > CK_PAGES_MAX - bt->nrun)
		*np = CK_PAGES_MAX - bt->nrun;
	return bt->data + (size_t)bt->used * CK_PAGE;
}

void
ck_stream_page_advance(struct ck_stream *s, uint32_t npages)
{
	s->b[s->fill].used += npages;
}

void
ck_stream_free(struct ck_stream *s)
{
	int i;

	if (s == NULL)
		return;
	if (s->have_thread) {
		pthread_mutex_lock(&s->mu);
		s->stop = 1;
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->thread, NULL);
		pthread_cond_destroy(&s->cv);
		pthread_mutex_destroy(&s->mu);
	}
	for (i = 0; i < NBATCH; i++) {
		free(s->b[i].data);
		free(s->b[i].hdr);
		free(s->b[i].iov);
	}
	free(s->pages);
	free(s->pids);
	ck_store_free(s->store);
	free(s);
}

void
ck_stream_set_precopy(struct ck_stream *s)
{
	s->precopy = 1;
}

int
ck_stream_is_precopy(const struct ck_stream *s)
{
	return s->precopy;
}

/* Whether a pre-copy run skipped pages it could not read (mm.c). */
int
ck_stream_read_failed(struct ck_stream *s)
{
	int f = s->read_failed;

	s->read_failed = 0;
	return f;
}

void
ck_stream_mark_read_failed(struct ck_stream *s)
{
	s->read_failed = 1;
}

int
ck_stream_finish(struct ck_stream *s, struct ckpt_err *e)
{
	return stream_flush(s, e);
}

struct ck_store *
ck_stream_store(const struct ck_stream *s)
{
	return s->store;
}

struct ck_store *
ck_stream_take_store(struct ck_stream *s)
{
	struct ck_store *st = s->store;

	s->store = NULL;
	return st;
}

int
ck_stream_set_pids(struct ck_stream *s, const struct ck_image *im,
    struct ckpt_err *e)
{
	uint32_t i;

	free(s->pids);
	s->npids = 0;
	if ((s->pids = calloc(im->nproc + 1, sizeof(*s->pids))) == NULL)
		return ck_fail(e, SS_ERR_ALLOC, "out of memory");
	for (i = 0; i < im->nproc; i++)
		s->pids[i] = im->procs[i].pid;
	s->npids = im->nproc;
	return 0;
}

uint64_t
ck_stream_bytes(const struct ck_stream *s)
{
	return s->bytes;
}

int
ck_write_file_header(struct ck_stream *s, struct ckpt_err *e)
{
	struct iovec iov;
	struct buf *b;
	int r;

	if ((b = buf_new(64)) == NULL)
		return ck_fail(e, SS_ERR_ALLOC, "out of memory");
	if ((r = buf_put_u32(b, s->precopy ? CK_PC_MAGIC : CK_MAGIC)) != 0 ||
	    (r = buf_put_u32(b, CK_VERSION)) != 0)
		goto out;
	iov.iov_base = (void *)buf_ptr(b);
	iov.iov_len = buf_len(b);
	if (writev_all(s, &iov, 1) == -1) {
		r = ck_fail(e, SS_ERR_SYSTEM, "writing image: %s",
		    strerror(errno));
		goto out;
	}
	s->bytes += buf_len(b);
 out:
	buf_free(b);
	return r;
}

int
ck_read_file_header(struct ck_stream *s, struct ckpt_err *e)
{
	uint8_t raw[8];
	struct buf *b;
	uint32_t magic, version;
	int r;

	if ((r = ck_read_all(s->fd, raw, sizeof(raw))) != 0)
		return ck_fail(e, r == SS_ERR_SHORT ? SS_ERR_BAD : r,
		    "reading image: %s", r == SS_ERR_SHORT ? "empty or "
		    "truncated image" : strerror(errno));
	s->bytes += sizeof(raw);
	if ((b = buf_from(raw, sizeof(raw), sizeof(raw))) == NULL)
		return ck_fail(e, SS_ERR_ALLOC, "out of memory");
	if ((r = buf_get_u32(b, &magic)) != 0 ||
	    (r = buf_get_u32(b, &version)) != 0) {
		buf_free(b);
		return ck_fail(e, r, "image header: %s", ss_strerror(r));
	}
	buf_free(b);
	if (magic != CK_MAGIC && (magic != CK_PC_MAGIC || s->store != NULL))
		return ck_fail(e, SS_ERR_BAD, "not a checkpoint image");
	if (version != CK_VERSION)
		return ck_fail(e, SS_ERR_VERSION, "image version %u, this "
		    "sckpt reads version %u", version, CK_VERSION);
	if (magic == CK_MAGIC)
		return 0;
	/* A pre-copy: its pages into the store, then the image's header. */
	if ((s->store = ck_store_new()) == NULL)
		return ck_fail(e, SS_ERR_ALLOC, "out of memory");
	if ((r = read_precopy(s, e)) != 0)
		return r;
	return ck_read_file_header(s, e);
}

/* A PAGES section's checksum: header, prefix, then the run's page sum. */
static uint32_t
page_crc(const uint8_t *hdr, const uint8_t *pre, uint32_t sum)
{
	uint32_t crc;

	crc = ck_crc32c(0, hdr, 8);
	crc = ck_crc32c(crc, pre, 16);
	return ck_crc32c(crc, &sum, sizeof(sum));
}

/* Encodes a section header for type/len (crc filled by the caller). */
static int
sec_header(uint8_t out[12], uint32_t type, uint32_t len, uint32_t crc)
{
	struct buf *b;
	int r;

	if ((b = buf_new(12)) == NULL)
		return SS_ERR_ALLOC;
	if ((r = buf_put_u32(b, type)) == 0 &&
	    (r = buf_put_u32(b, len)) == 0 &&
	    (r = buf_put_u32(b, crc)) == 0)
		memcpy(out, buf_ptr(b), 12);
	buf_free(b);
	return r;
}

int
ck_write_section(struct ck_stream *s, uint32_t type, struct buf *payload,
    struct ckpt_err *e)
{
	uint8_t hdr[12];
	uint32_t crc;
	struct iovec iov[2];
	size_t len = buf_len(payload), total;
	int r;

	if (len > CK_SEC_MAX)
		return ck_fail(e, SS_ERR_TOO_LONG, "section %u too long", type);
	if ((r = stream_flush(s, e)) != 0)
		return r;
	if ((r = sec_header(hdr, type, len, 0)) != 0)
		return ck_fail(e, r, "section header: %s", ss_strerror(r));
	crc = ck_crc32c(0, hdr, 8);
	crc = ck_crc32c(crc, buf_ptr(payload), len);
	if ((r = sec_header(hdr, type, len, crc)) != 0)
		return ck_fail(e, r, "section header: %s", ss_strerror(r));
	total = 12 + len;
	iov[0].iov_base = hdr;
	iov[0].iov_len = 12;
	iov[1].iov_base = (void *)buf_ptr(payload);
	iov[1].iov_len = len;
	if (writev_all(s, iov, 2) == -1)
		return ck_fail(e, SS_ERR_SYSTEM, "writing image: %s",
		    strerror(errno));
	s->bytes += total;
	return 0;
}

/*
 * Queues one section of the page kind in the batch being filled: its
 * header and 16-byte prefix (proc, address, count) in the batch's header
 * array, then dlen bytes of pages (none for KEEP and FORGET).  A run with
 * pages is summed through its page sum, one without through its prefix.
 */
static int
queue_run(struct ck_stream *s, uint32_t type, uint32_t proc, uint64_t addr,
    uint32_t npages, const void *data, size_t dlen, uint32_t sum,
    struct ckpt_err *e)
{
	struct batch *bt = &s->b[s->fill];
	uint8_t *hdr = bt->hdr[bt->nrun], h2[12];
	struct buf *pre;
	uint32_t crc, len = 16 + (uint32_t)dlen;
	int r;

	if ((pre = buf_new(16)) == NULL)
		return ck_fail(e, SS_ERR_ALLOC, "out of memory");
	if ((r = buf_put_u32(pre, proc)) != 0 ||
	    (r = buf_put_u64(pre, addr)) != 0 ||
	    (r = buf_put_u32(pre, npages)) != 0) {
		buf_free(pre);
		return ck_fail(e, r, "page header: %s", ss_strerror(r));
	}
	memcpy(hdr + 12, buf_ptr(pre), 16);
	buf_free(pre);
	if ((r = sec_header(hdr, type, len, 0)) != 0)
		return ck_fail(e, r, "section header: %s", ss_strerror(r));
	crc = dlen > 0 ? page_crc(hdr, hdr + 12, sum) :
	    ck_crc32c(ck_crc32c(0, hdr, 8), hdr + 12, 16);
	if ((r = sec_header(h2, type, len, crc)) != 0)
		return ck_fail(e, r, "section header: %s", ss_strerror(r));
	memcpy(hdr, h2, 12);
	bt->iov[2 * bt->nrun].iov_base = hdr;
	bt->iov[2 * bt->nrun].iov_len = RUN_HDR;
	bt->iov[2 * bt->nrun + 1].iov_base = (void *)data;
	bt->iov[2 * bt->nrun + 1].iov_len = dlen;
	bt->nrun++;
	s->bytes += RUN_HDR + dlen;
	return 0;
}

int
ck_write_pages(struct ck_stream *s, uint32_t proc, uint64_t addr,
    const void *data, uint32_t npages, uint32_t sum, struct ckpt_err *e)
{
	struct batch *bt = &s->b[s->fill];
	size_t dlen = (size_t)npages * CK_PAGE;

	if (npages == 0 || npages > CK_PAGES_MAX || bt->data == NULL ||
	    (const uint8_t *)data < bt->data || (const uint8_t *)data + dlen >
	    bt->data + (size_t)CK_PAGES_MAX * CK_PAGE ||
	    bt->nrun >= CK_PAGES_MAX)
		return ck_fail(e, SS_ERR_INTERNAL, "bad page run");
	return queue_run(s, s->precopy ? CK_SEC_PRECOPY : CK_SEC_PAGES, proc,
	    addr, npages, data, dlen, sum, e);
}

int
ck_write_run_only(struct ck_stream *s, uint32_t type, uint32_t proc,
    uint64_t addr, uint32_t npages, struct ckpt_err *e)
{
	uint32_t one = 1;

	/* The batches exist once room was asked for; a run needs a slot. */
	if (s->b[0].data == NULL && ck_stream_page_room(s, &one, e) == NULL)
		return SS_ERR_ALLOC;
	if (s->b[s->fill].nrun >= CK_PAGES_MAX)
		batch_submit(s);
	if (s->werr != 0)
		return ck_fail(e, SS_ERR_SYSTEM, "writing image: %s",
		    strerror(s->werr));
	return queue_run(s, type, proc, addr, npages, NULL, 0, 0, e);
}

/* The error for a read of the image that failed with r. */
static int
read_err(const struct ck_stream *s, int r, struct ckpt_err *e)
{
	if (r == SS_ERR_SHORT)
		return ck_fail(e, SS_ERR_SHORT, "truncated image: input ended "
		    "at byte %llu", (unsigned long long)s->bytes);
	return ck_fail(e, r, "reading image: %s", strerror(errno));
}

/* Reads and checks a section header (sets e). */
static int
sec_head(struct ck_stream *s, uint8_t hdr[12], uint32_t *typep,
    uint32_t *lenp, uint32_t *crcp, struct ckpt_err *e)
{
	struct buf *b;
	uint32_t type, len;
	int r;

	if ((r = ck_read_all(s->fd, hdr, 12)) != 0)
		return read_err(s, r, e);
	if ((b = buf_from(hdr, 12, 12)) == NULL)
		return ck_fail(e, SS_ERR_ALLOC, "out of memory");
	if ((r = buf_get_u32(b, &type)) != 0 ||
	    (r = buf_get_u32(b, &len)) != 0 ||
	    (r = buf_get_u32(b, crcp)) != 0) {
		buf_free(b);
		return ck_fail(e, r, "section header: %s", ss_strerror(r));
	}
	buf_free(b);
	if (type < CK_SEC_HEADER || type > CK_SEC_LAST)
		return ck_fail(e, SS_ERR_CORRUPT, "corrupt image: unknown "
		    "section type %u at byte %llu", type,
		    (unsigned long long)s->bytes);
	if (len > CK_SEC_MAX || ((type == CK_SEC_PAGES ||
	    type == CK_SEC_PRECOPY) && (len < 16 || (len - 16) % CK_PAGE != 0 ||
	    (len - 16) / CK_PAGE > CK_PAGES_MAX || len == 16)) ||
	    ((type == CK_SEC_KEEP || type == CK_SEC_FORGET) && len != 16))
		return ck_fail(e, SS_ERR_CORRUPT, "corrupt image: section "
		    "length %u at byte %llu", len, (unsigned long long)s->bytes);
	s->bytes += 12;
	*typep = type;
	*lenp = len;
	return 0;
}

static int
crc_mismatch(uint64_t end, uint32_t type, struct ckpt_err *e)
{
	return ck_fail(e, SS_ERR_CORRUPT, "corrupt image: checksum mismatch "
	    "in section type %u ending at byte %llu", type,
	    (unsigned long long)end);
}

/*
 * Checks the len bytes of a section read into data against its header
 * (sets e); end is the stream offset just after it, for the message.
 */
static int
sec_check(uint64_t end, const uint8_t hdr[12], uint32_t type, uint32_t len,
    uint32_t crc, const uint8_t *data, struct ckpt_err *e)
{
	uint32_t got;

	/* sec_head made sure of len >= 16 */
	if (type == CK_SEC_PAGES || type == CK_SEC_PRECOPY)
		got = page_crc(hdr, data, ck_page_sum(data + 16, len - 16));
	else
		got = ck_crc32c(ck_crc32c(0, hdr, 8), data, len);
	if (got != crc)
		return crc_mismatch(end, type, e);
	return 0;
}

/* Reads a section's len bytes into dst (sets e). */
static int
sec_read(struct ck_stream *s, uint32_t len, uint8_t *dst, struct ckpt_err *e)
{
	int r;

	if (len > 0 && (r = ck_read_all(s->fd, dst, len)) != 0)
		return read_err(s, r, e);
	s->bytes += len;
	return 0;
}

/* Reads a section's len bytes into dst and checks them (sets e). */
static int
sec_body(struct ck_stream *s, const uint8_t hdr[12], uint32_t type,
    uint32_t len, uint32_t crc, uint8_t *dst, struct ckpt_err *e)
{
	int r;

	if ((r = sec_read(s, len, dst, e)) != 0)
		return r;
	return sec_check(s->bytes, hdr, type, len, crc, dst, e);
}

/* The 16 bytes that start every section of pages: proc, address, count. */
static int
sec_prefix(const uint8_t *d, uint32_t *procp, uint64_t *addrp, uint32_t *np,
    struct ckpt_err *e)
{
	struct buf *pre;
	int r;

	if ((pre = buf_from(d, 16, 16)) == NULL)
		return ck_fail(e, SS_ERR_ALLOC, "out of memory");
	if ((r = buf_get_u32(pre, procp)) != 0 ||
	    (r = buf_get_u64(pre, addrp)) != 0 ||
	    (r = buf_get_u32(pre, np)) != 0) {
		buf_free(pre);
		return ck_fail(e, r, "page header: %s", ss_strerror(r));
	}
	buf_free(pre);
	return 0;
}

/* Decodes a PAGES section's prefix; the pages follow it in dst. */
static int
sec_pages(const uint8_t *dst, uint32_t len, uint32_t *procp, uint64_t *addrp,
    uint32_t *npagesp, const uint8_t **pagesp, struct ckpt_err *e)
{
	int r;

	if ((r = sec_prefix(dst, procp, addrp, npagesp, e)) != 0)
		return r;
	if (*npagesp != (len - 16) / CK_PAGE || *addrp % CK_PAGE != 0)
		return ck_fail(e, SS_ERR_CORRUPT, "corrupt image: bad page "
		    "run header");
	*pagesp = dst + 16;
	return 0;
}

/*
 * Reading pages (restore, info): once the metadata is read, ck_read_pages()
 * reads the PAGES sections up to END with NWORKER threads while the
 * caller's thread waits.  A worker takes the input (the mutex), reads
 * into its own buffer as many whole sections as fit and as the input has
 * ready (FIONREAD), so that a run of one-page sections costs one turn,
 * not one per page, then lets the input go and, while the other worker
 * reads, checks each section's checksum and gives its pages to the
 * caller's function, with the data still in its own core's cache.  Only
 * the read(2)s are serialized; the checking and the caller's copying
 * (UFFDIO_COPY in a restore, the larger part) run on both cores.
 *
 * Errors: the one reported is the first in stream order (a section's
 * end offset orders them; a read error comes after every section read
 * before it).  A worker that fails stops the others from taking more
 * input; they finish what they hold, since an earlier section may still
 * prove bad.  The waiting caller then cancels the workers, which they
 * allow only inside read(2) (the input may stall for ever while a failed
 * restore gives up); a worker cancelled while holding the input lets it
 * go in its cleanup handler.
 */
#define NWORKER		2
#define WBUF_SIZE	((CK_PAGES_MAX + 1) * CK_PAGE)
#define WBUF_SECS	1024

struct wsec {
	uint8_t		 hdr[12];
	uint32_t	 type, len, crc;
	size_t		 off;		/* in the worker's buffer */
	uint64_t	 end;		/* stream offset just after it */
};

struct pread {
	struct ck_stream *s;
	ck_pages_fn	 fn;
	void		*arg;
	/* Held while reading (maybe blocked in read(2) for long). */
	pthread_mutex_t	 in_mu;		/* the input, and: */
	uint8_t		 hdr[12];	/* a header read, its body not yet */
	uint32_t	 pend[3];	/* its type, length, crc */
	int		 have;
	int		 ended;		/* END was read */
	/* Never held across a read, so a worker that finds an error can
	 * always record it while the other waits for input. */
	pthread_mutex_t	 mu;		/* all below */
	pthread_cond_t	 cv;		/* a worker ended, or stop */
	int		 stop;		/* an error: take no more input */
	int		 running;	/* workers not finished */
	int		 err;		/* the first error in stream order */
	uint64_t	 err_at;
	struct ckpt_err	 e;
	uint64_t	 pages;		/* pages given to fn */
	struct buf	*endb;		/* END's payload */
};

struct pworker {
	struct pread	*c;
	uint8_t		*buf;		/* WBUF_SIZE bytes */
	struct wsec	 sec[WBUF_SECS];
	uint32_t	 nsec;
	pthread_t	 thread;
	int		 started;
	int		 alone;		/* in the caller's thread: never
					   cancelled, its state left alone */
};

/*
 * 1 if need bytes can be read from fd without blocking now.  A worker
 * takes a further section into its turn only then, so that it never
 * sits in read(2) on a stalled input holding sections it could check.
 */
static int
input_ready(int fd, uint32_t need)
{
	struct pollfd pfd;
	int n;

	if (ioctl(fd, FIONREAD, &n) == 0)
		return n >= 0 && (uint32_t)n >= need;
	pfd.fd = fd;
	pfd.events = POLLIN;
	return poll(&pfd, 1, 0) > 0;
}

/*
 * Reads a section header (dst NULL) or len bytes of body: the only place
 * a worker may be cancelled.
 */
static int
read_cancellable(struct pworker *w, uint8_t hdr[12], uint32_t *pend,
    uint32_t len, uint8_t *dst, struct ckpt_err *e)
{
	struct ck_stream *s = w->c->s;
	int old, r;

	if (!w->alone)
		(void)pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &old);
	if (dst == NULL)
		r = sec_head(s, hdr, &pend[0], &pend[1], &pend[2], e);
	else
		r = sec_read(s, len, dst, e);
	if (!w->alone)
		(void)pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	return r;
}

/* Records error r found at stream offset at; c->mu held. */
static void
pread_fail_locked(struct pread *c, uint64_t at, int r,
    const struct ckpt_err *e)
{
	if (c->err == 0 || at < c->err_at) {
		c->err = r;
		c->err_at = at;
		c->e = *e;
	}
	__atomic_store_n(&c->stop, 1, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&c->cv);
}

/* Fills w's buffer from the input; c->in_mu held.  Sets e on error. */
static int
take_input(struct pread *c, struct pworker *w, struct ckpt_err *e)
{
	struct ck_stream *s = c->s;
	struct wsec *ws;
	size_t used = 0;
	uint64_t kept = 0;
	int r;

	w->nsec = 0;
	for (;;) {
		/* A KEEP is 16 bytes for up to 4 MiB of copying: a turn
		 * takes no more pages of them than of a PAGES section, so
		 * that both workers copy, not the one that came first. */
		if (kept >= CK_PAGES_MAX)
			return 0;
		if (!c->have) {
			if (w->nsec > 0 && !input_ready(s->fd, 12))
				return 0;
			if ((r = read_cancellable(w, c->hdr, c->pend, 0, NULL,
			    e)) != 0)
				return r;
			if (c->pend[0] != CK_SEC_PAGES &&
			    c->pend[0] != CK_SEC_KEEP &&
			    (c->pend[0] != CK_SEC_END || c->pend[1] > WBUF_SIZE))
				return ck_fail(e, SS_ERR_CORRUPT, "corrupt "
				    "image: unexpected section %u among pages",
				    c->pend[0]);
			c->have = 1;
		}
		if (w->nsec > 0 && (used + c->pend[1] > WBUF_SIZE ||
		    w->nsec == WBUF_SECS || !input_ready(s->fd, c->pend[1])))
			return 0;
		if ((r = read_cancellable(w, NULL, NULL, c->pend[1],
		    w->buf + used, e)) != 0)
			return r;
		c->have = 0;
		ws = &w->sec[w->nsec++];
		memcpy(ws->hdr, c->hdr, 12);
		ws->type = c->pend[0];
		ws->len = c->pend[1];
		ws->crc = c->pend[2];
		ws->off = used;
		ws->end = s->bytes;
		used += ws->len;
		if (ws->type == CK_SEC_KEEP)	/* its count: bytes 12-15 */
			kept += (uint64_t)w->buf[ws->off + 12] << 24 |
			    (uint64_t)w->buf[ws->off + 13] << 16 |
			    (uint64_t)w->buf[ws->off + 14] << 8 |
			    w->buf[ws->off + 15];
		if (ws->type == CK_SEC_END) {
			c->ended = 1;
			return 0;
		}
	}
}

static void
unlock_mu(void *mu)
{
	pthread_mutex_unlock(mu);
}

/* A KEEP section: its pages from the pre-copy's store. */
static int
keep_run(struct pread *c, const uint8_t *d, uint32_t *np,
    struct ckpt_err *e)
{
	const struct ck_stream *s = c->s;
	uint64_t addr;
	uint32_t proc;
	int r;

	if ((r = sec_run(d, &proc, &addr, np, e)) != 0)
		return r;
	if (s->store == NULL || proc >= s->npids)
		return ck_fail(e, SS_ERR_CORRUPT, "corrupt image: pages kept "
		    "from a pre-copy %s", s->store == NULL ? "that is not "
		    "there" : "of no such process");
	return ck_store_give(s->store, (uint32_t)s->pids[proc], proc, addr,
	    *np, c->fn, c->arg, e);
}

/* Checks and hands out w's sections; stops at the first bad one. */
static void
give_out(struct pread *c, struct pworker *w)
{
	struct ckpt_err e;
	struct wsec *ws;
	const uint8_t *d, *pages;
	uint64_t addr, at = 0, n = 0;
	uint32_t i, proc, np;
	int r = 0;

	for (i = 0; i < w->nsec && r == 0; i++) {
		ws = &w->sec[i];
		d = w->buf + ws->off;
		at = ws->end;
		memset(&e, 0, sizeof(e));
		if ((r = sec_check(ws->end, ws->hdr, ws->type, ws->len,
		    ws->crc, d, &e)) != 0)
			break;
		if (ws->type == CK_SEC_END) {
			pthread_mutex_lock(&c->mu);
			if ((c->endb = buf_from(d, ws->len, ws->len)) == NULL)
				r = ck_fail(&e, SS_ERR_ALLOC, "out of memory");
			pthread_mutex_unlock(&c->mu);
			break;
		}
		if (ws->type == CK_SEC_KEEP) {
			if ((r = keep_run(c, d, &np, &e)) != 0)
				break;
			n += np;
			continue;
		}
		if ((r = sec_pages(d, ws->len, &proc, &addr, &np, &pages,
		    &e)) != 0 || (r = c->fn(c->arg, proc, addr, pages, np,
		    &e)) != 0)
			break;
		n += np;
	}
	pthread_mutex_lock(&c->mu);
	c->pages += n;
	if (r != 0)
		pread_fail_locked(c, at, r, &e);
	pthread_mutex_unlock(&c->mu);
}

static void *
pworker_main(void *arg)
{
	struct pworker *w = arg;
	struct pread *c = w->c;
	struct ckpt_err e;
	uint64_t at;
	int old, r, done;

	if (!w->alone)
		(void)pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	for (;;) {
		r = 0;
		at = 0;
		pthread_mutex_lock(&c->in_mu);
		pthread_cleanup_push(unlock_mu, &c->in_mu);
		done = c->ended || __atomic_load_n(&c->stop, __ATOMIC_ACQUIRE);
		if (!done) {
			memset(&e, 0, sizeof(e));
			r = take_input(c, w, &e);
			at = c->s->bytes + 1;
		}
		pthread_cleanup_pop(1);
		if (done)
			break;
		if (r != 0) {
			pthread_mutex_lock(&c->mu);
			pread_fail_locked(c, at, r, &e);
			pthread_mutex_unlock(&c->mu);
		}
		/* The good sections read before a read error still count. */
		give_out(c, w);
		if (r != 0)
			break;
	}
	pthread_mutex_lock(&c->mu);
	c->running--;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

int
ck_read_pages(struct ck_stream *s, ck_pages_fn fn, void *arg,
    struct buf **endp, uint64_t *pagesp, struct ckpt_err *e)
{
	struct pread c;
	struct pworker w[NWORKER];
	int i, n = 0, r;

	*endp = NULL;
	memset(&c, 0, sizeof(c));
	memset(w, 0, sizeof(w));
	c.s = s;
	c.fn = fn;
	c.arg = arg;
	for (i = 0; i < NWORKER; i++) {
		w[i].c = &c;
		if ((w[i].buf = aligned_alloc(CK_PAGE, WBUF_SIZE)) == NULL) {
			r = ck_fail(e, SS_ERR_ALLOC, "out of memory");
			goto out;
		}
	}
	if (pthread_mutex_init(&c.in_mu, NULL) != 0) {
		r = ck_fail(e, SS_ERR_SYSTEM, "mutex: %s", strerror(errno));
		goto out;
	}
	if (pthread_mutex_init(&c.mu, NULL) != 0) {
		pthread_mutex_destroy(&c.in_mu);
		r = ck_fail(e, SS_ERR_SYSTEM, "mutex: %s", strerror(errno));
		goto out;
	}
	if (pthread_cond_init(&c.cv, NULL) != 0) {
		pthread_mutex_destroy(&c.mu);
		pthread_mutex_destroy(&c.in_mu);
		r = ck_fail(e, SS_ERR_SYSTEM, "condition: %s", strerror(errno));
		goto out;
	}
	pthread_mutex_lock(&c.mu);
	for (i = 0; i < NWORKER; i++) {
		c.running++;
		if (pthread_create(&w[i].thread, NULL, pworker_main, &w[i]) !=
		    0) {
			c.running--;
			break;
		}
		w[i].started = 1;
		n++;
	}
	pthread_mutex_unlock(&c.mu);
	if (n == 0) {
		/* No thread: the caller's does the work, alone. */
		c.running = 1;
		w[0].alone = 1;
		pworker_main(&w[0]);
	}
	pthread_mutex_lock(&c.mu);
	while (c.running > 0 && !c.stop)
		pthread_cond_wait(&c.cv, &c.mu);
	pthread_mutex_unlock(&c.mu);
	/* All cancelled before any is joined: one may wait for the input
	 * that another holds while blocked in read(2). */
	for (i = 0; i < NWORKER; i++)
		if (w[i].started && c.stop)
			(void)pthread_cancel(w[i].thread);
	for (i = 0; i < NWORKER; i++)
		if (w[i].started)
			pthread_join(w[i].thread, NULL);
	pthread_cond_destroy(&c.cv);
	pthread_mutex_destroy(&c.mu);
	pthread_mutex_destroy(&c.in_mu);
	if (c.err != 0) {
		r = c.err;
		if (e != NULL)
			*e = c.e;
	} else if (!c.ended || c.endb == NULL)
		r = ck_fail(e, SS_ERR_INTERNAL, "page reader ended early");
	else {
		r = 0;
		*endp = c.endb;
		c.endb = NULL;
		*pagesp = c.pages;
	}
 out:
	buf_free(c.endb);
	for (i = 0; i < NWORKER; i++)
		free(w[i].buf);
	return r;
}

/* The stream's buffer for a section of pages, made on first use. */
static int
pages_buf(struct ck_stream *s, struct ckpt_err *e)
{
	if (s->pages == NULL &&
	    (s->pages = aligned_alloc(CK_PAGE, WBUF_SIZE)) == NULL)
		return ck_fail(e, SS_ERR_ALLOC, "out of memory");
	return 0;
}

/* ck_read_section() once the header is read. */
static int
sec_rest(struct ck_stream *s, const uint8_t hdr[12], uint32_t type,
    uint32_t len, uint32_t crc, struct buf **payloadp, uint32_t *procp,
    uint64_t *addrp, uint32_t *npagesp, const uint8_t **pagesp,
    struct ckpt_err *e)
{
	struct buf *b = NULL;
	uint8_t *dst = NULL;
	int r;

	*payloadp = NULL;
	if (type == CK_SEC_PAGES || type == CK_SEC_PRECOPY) {
		if ((r = pages_buf(s, e)) != 0)
			return r;
		dst = s->pages;
	} else {
		if ((b = buf_new(len)) == NULL)
			return ck_fail(e, SS_ERR_ALLOC, "out of memory");
		if (len > 0 && (r = buf_reserve(b, len, &dst)) != 0) {
			buf_free(b);
			return ck_fail(e, r, "section buffer: %s",
			    ss_strerror(r));
		}
	}
	if ((r = sec_body(s, hdr, type, len, crc, dst, e)) != 0) {
		buf_free(b);
		return r;
	}
	if (type == CK_SEC_PAGES || type == CK_SEC_PRECOPY)
		return sec_pages(dst, len, procp, addrp, npagesp, pagesp, e);
	*payloadp = b;
	return 0;
}

int
ck_read_section(struct ck_stream *s, uint32_t *typep, struct buf **payloadp,
    uint32_t *procp, uint64_t *addrp, uint32_t *npagesp,
    const uint8_t **pagesp, struct ckpt_err *e)
{
	uint8_t hdr[12];
	uint32_t len, crc;
	int r;

	*payloadp = NULL;
	if ((r = sec_head(s, hdr, typep, &len, &crc, e)) != 0)
		return r;
	return sec_rest(s, hdr, *typep, len, crc, payloadp, procp, addrp,
	    npagesp, pagesp, e);
}

/*
 * Decodes a KEEP or FORGET section (16 bytes: proc, address, count).  A
 * dump writes them CK_PAGES_MAX pages long at most, as it does PAGES:
 * longer is refused, for 16 bytes must not buy a reader work without end
 * (a FORGET of 2^32 pages took a minute to walk).
 */
static int
sec_run(const uint8_t *d, uint32_t *procp, uint64_t *addrp, uint32_t *np,
    struct ckpt_err *e)
{
	int r;

	if ((r = sec_prefix(d, procp, addrp, np, e)) != 0)
		return r;
	if (*np == 0 || *np > CK_PAGES_MAX || *addrp % CK_PAGE != 0 ||
	    *addrp >= CK_ADDR_MAX ||
	    (uint64_t)*np > (CK_ADDR_MAX - *addrp) / CK_PAGE)
		return ck_fail(e, SS_ERR_CORRUPT, "corrupt image: bad page "
		    "run header");
	return 0;
}

/*
 * One PRECOPY section, its header read: pages the store has none of yet
 * are read straight into it (ck_store_reserve), the others through our
 * buffer and ck_store_put.  The checksum is checked either way.
 */
static int
precopy_run(struct ck_stream *s, const uint8_t hdr[12], uint32_t len,
    uint32_t crc, struct ckpt_err *e)
{
	uint8_t pre[16], *dst;
	const uint8_t *unused;
	uint64_t addr;
	uint32_t proc, np;
	int r;

	if ((r = sec_read(s, 16, pre, e)) != 0 ||
	    (r = sec_pages(pre, len, &proc, &addr, &np, &unused, e)) != 0)
		return r;
	if (addr >= CK_ADDR_MAX || (uint64_t)np > (CK_ADDR_MAX - addr) /
	    CK_PAGE)
		return ck_fail(e, SS_ERR_CORRUPT, "corrupt image: pre-copy "
		    "pages out of range");
	if ((r = ck_store_reserve(s->store, proc, addr, np, &dst, e)) != 0)
		return r;
	if (dst != NULL) {
		if ((r = sec_read(s, len - 16, dst, e)) != 0)
			return r;
		if (page_crc(hdr, pre, ck_page_sum(dst, len - 16)) != crc)
			return crc_mismatch(s->bytes, CK_SEC_PRECOPY, e);
		return 0;
	}
	if ((r = pages_buf(s, e)) != 0)
		return r;
	memcpy(s->pages, pre, 16);
	if ((r = sec_read(s, len - 16, s->pages + 16, e)) != 0 ||
	    (r = sec_check(s->bytes, hdr, CK_SEC_PRECOPY, len, crc, s->pages,
	    e)) != 0)
		return r;
	return ck_store_put(s->store, proc, addr, s->pages + 16, np, e);
}

/*
 * The pre-copy, after its file header: PRECOPY runs into the store,
 * FORGET runs out of it, up to PC_END.  The job still runs at the other
 * end meanwhile, so this may take long; nothing is created yet.
 */
static int
read_precopy(struct ck_stream *s, struct ckpt_err *e)
{
	uint8_t hdr[12];
	struct buf *b;
	const uint8_t *pages;
	uint64_t addr;
	uint32_t type, len, crc, proc, np;
	int r;

	for (;;) {
		if ((r = sec_head(s, hdr, &type, &len, &crc, e)) != 0)
			return r;
		if (type == CK_SEC_PRECOPY) {
			if ((r = precopy_run(s, hdr, len, crc, e)) != 0)
				return r;
			continue;
		}
		if ((r = sec_rest(s, hdr, type, len, crc, &b, &proc, &addr,
		    &np, &pages, e)) != 0)
			return r;
		if (type == CK_SEC_FORGET) {
			r = sec_run(buf_ptr(b), &proc, &addr, &np, e);
			buf_free(b);
			if (r != 0)
				return r;
			ck_store_forget(s->store, proc, addr, np);
			continue;
		}
		buf_free(b);
		if (type == CK_SEC_PC_END)
			return 0;
		return ck_fail(e, SS_ERR_CORRUPT, "corrupt image: section %u "
		    "in the pre-copy", type);
	}
}

void
ck_image_free(struct ck_image *im)
{
	uint32_t i, j;

	if (im == NULL)
		return;
	/* A HEADER that failed its checks leaves nproc set and no procs. */
	for (i = 0; im->procs != NULL && i < im->nproc; i++) {
		struct ck_proc *p = &im->procs[i];

		free(p->groups);
		free(p->cwd);
		free(p->exe);
		free(p->spending);
		free(p->auxv);
		for (j = 0; j < p->nvma; j++)
			free(p->vmas[j].path);
		free(p->vmas);
		/* A PROC section that failed to decode may leave nthr set
		 * with no threads allocated. */
		for (j = 0; p->thr != NULL && j < p->nthr; j++) {
			free(p->thr[j].xstate);
			free(p->thr[j].pending);
		}
		free(p->thr);
		free(p->fds);
	}
	free(im->procs);
	for (i = 0; i < im->ndesc; i++)
		free(im->descs[i].path);
	free(im->descs);
	for (i = 0; i < im->npipe; i++)
		free(im->pipes[i].data);
	free(im->pipes);
	for (i = 0; i < im->nshm; i++)
		free(im->shms[i].done);
	free(im->shms);
	memset(im, 0, sizeof(*im));
}
