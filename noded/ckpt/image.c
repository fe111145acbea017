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
 * flipped bit anywhere in a section is caught.  A section is at most
 * CK_SEC_MAX bytes.  The order is fixed:
 *
 *	HEADER		arch, kernel release, XCR0, xstate size, vdso sizes,
 *			number of processes
 *	per process	PROC, THREAD (one per thread, leader first), MM, FILES
 *	DESCS		the open file descriptions of the tree
 *	PIPE		one per pipe with an end in the tree, bytes in flight
 *	META_END
 *	PAGES		u32 process index, u64 address, u32 page count, then
 *			the pages (untouched pages and, in anonymous memory,
 *			zero pages are left out)
 *	END		u64 total pages, so a truncated stream is caught
 *
 * A reader refuses anything else: wrong magic or version, an unknown
 * section type, a bad crc, a length over the limit, or end of input before
 * END.  All metadata comes before the first page, so a restorer knows the
 * whole tree before it creates a process.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "ckpt-int.h"

struct ck_stream {
	int		 fd;
	int		 writing;
	uint64_t	 bytes;		/* moved so far */
	uint8_t		*pages;		/* read buffer for page sections */
	uint8_t		*wbuf;		/* small page sections gathered here */
	size_t		 wlen;		/* bytes in wbuf, < WBUF_SIZE */
};

/* Page runs up to SMALL_RUN bytes are gathered into one write. */
#define WBUF_SIZE	(1024 * 1024)
#define SMALL_RUN	(64 * 1024)

static int	stream_flush(struct ck_stream *, struct ckpt_err *);

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

void
ck_stream_free(struct ck_stream *s)
{
	if (s == NULL)
		return;
	free(s->pages);
	free(s->wbuf);
	free(s);
}

static int
stream_flush(struct ck_stream *s, struct ckpt_err *e)
{
	if (s->wlen == 0)
		return 0;
	if (ck_write_all(s->fd, s->wbuf, s->wlen) != 0)
		return ck_fail(e, SS_ERR_SYSTEM, "writing image: %s",
		    strerror(errno));
	s->bytes += s->wlen;
	s->wlen = 0;
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
	struct buf *b;
	int r;

	if ((b = buf_new(64)) == NULL)
		return ck_fail(e, SS_ERR_ALLOC, "out of memory");
	if ((r = buf_put_u32(b, CK_MAGIC)) != 0 ||
	    (r = buf_put_u32(b, CK_VERSION)) != 0)
		goto out;
	if ((r = ck_write_all(s->fd, buf_ptr(b), buf_len(b))) != 0) {
		r = ck_fail(e, r, "writing image: %s", strerror(errno));
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
	if (magic != CK_MAGIC)
		return ck_fail(e, SS_ERR_BAD, "not a checkpoint image");
	if (version != CK_VERSION)
		return ck_fail(e, SS_ERR_VERSION, "image version %u, this "
		    "sckpt reads version %u", version, CK_VERSION);
	return 0;
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
	size_t len = buf_len(payload), done = 0, total;
	ssize_t n;
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
	while (done < total) {
		int cnt = 0;

		if (done < 12) {
			iov[cnt].iov_base = hdr + done;
			iov[cnt++].iov_len = 12 - done;
			iov[cnt].iov_base = (void *)buf_ptr(payload);
			iov[cnt++].iov_len = len;
		} else {
			iov[cnt].iov_base = (uint8_t *)buf_ptr(payload) +
			    (done - 12);
			iov[cnt++].iov_len = total - done;
		}
		n = writev(s->fd, iov, cnt);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ck_fail(e, SS_ERR_SYSTEM, "writing image: %s",
			    strerror(errno));
		done += n;
	}
	s->bytes += total;
	return 0;
}

int
ck_write_pages(struct ck_stream *s, uint32_t proc, uint64_t addr,
    const void *data, uint32_t npages, struct ckpt_err *e)
{
	uint8_t hdr[12 + 16];
	struct buf *pre;
	uint32_t crc, len;
	struct iovec iov[2];
	size_t done = 0, total, dlen = (size_t)npages * CK_PAGE;
	ssize_t n;
	int r;

	if (npages == 0 || npages > CK_PAGES_MAX)
		return ck_fail(e, SS_ERR_INTERNAL, "bad page run");
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
	len = 16 + dlen;
	if ((r = sec_header(hdr, CK_SEC_PAGES, len, 0)) != 0)
		return ck_fail(e, r, "section header: %s", ss_strerror(r));
	crc = ck_crc32c(0, hdr, 8);
	crc = ck_crc32c(crc, hdr + 12, 16);
	crc = ck_crc32c(crc, data, dlen);
	{
		uint8_t h2[12];

		if ((r = sec_header(h2, CK_SEC_PAGES, len, crc)) != 0)
			return ck_fail(e, r, "section header: %s",
			    ss_strerror(r));
		memcpy(hdr, h2, 12);
	}
	total = sizeof(hdr) + dlen;
	if (dlen <= SMALL_RUN) {
		if (s->wbuf == NULL && (s->wbuf = malloc(WBUF_SIZE)) == NULL)
			return ck_fail(e, SS_ERR_ALLOC, "out of memory");
		if (s->wlen + total > WBUF_SIZE &&
		    (r = stream_flush(s, e)) != 0)
			return r;
		memcpy(s->wbuf + s->wlen, hdr, sizeof(hdr));
		memcpy(s->wbuf + s->wlen + sizeof(hdr), data, dlen);
		s->wlen += total;
		return 0;
	}
	if ((r = stream_flush(s, e)) != 0)
		return r;
	while (done < total) {
		int cnt = 0;

		if (done < sizeof(hdr)) {
			iov[cnt].iov_base = hdr + done;
			iov[cnt++].iov_len = sizeof(hdr) - done;
			iov[cnt].iov_base = (void *)data;
			iov[cnt++].iov_len = dlen;
		} else {
			iov[cnt].iov_base = (uint8_t *)data +
			    (done - sizeof(hdr));
			iov[cnt++].iov_len = total - done;
		}
		n = writev(s->fd, iov, cnt);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ck_fail(e, SS_ERR_SYSTEM, "writing image: %s",
			    strerror(errno));
		done += n;
	}
	s->bytes += total;
	return 0;
}

int
ck_read_section(struct ck_stream *s, uint32_t *typep, struct buf **payloadp,
    uint32_t *procp, uint64_t *addrp, uint32_t *npagesp,
    const uint8_t **pagesp, struct ckpt_err *e)
{
	uint8_t hdr[12];
	struct buf *b = NULL, *pre = NULL;
	uint32_t type, len, crc, got;
	uint8_t *dst;
	int r;

	*payloadp = NULL;
	if ((r = ck_read_all(s->fd, hdr, sizeof(hdr))) != 0)
		goto readerr;
	if ((b = buf_from(hdr, sizeof(hdr), sizeof(hdr))) == NULL)
		return ck_fail(e, SS_ERR_ALLOC, "out of memory");
	if ((r = buf_get_u32(b, &type)) != 0 ||
	    (r = buf_get_u32(b, &len)) != 0 ||
	    (r = buf_get_u32(b, &crc)) != 0) {
		buf_free(b);
		return ck_fail(e, r, "section header: %s", ss_strerror(r));
	}
	buf_free(b);
	b = NULL;
	if (type < CK_SEC_HEADER || type > CK_SEC_END)
		return ck_fail(e, SS_ERR_CORRUPT, "corrupt image: unknown "
		    "section type %u at byte %llu", type,
		    (unsigned long long)s->bytes);
	if (len > CK_SEC_MAX || (type == CK_SEC_PAGES &&
	    (len < 16 || (len - 16) % CK_PAGE != 0 ||
	    (len - 16) / CK_PAGE > CK_PAGES_MAX || len == 16)))
		return ck_fail(e, SS_ERR_CORRUPT, "corrupt image: section "
		    "length %u at byte %llu", len, (unsigned long long)s->bytes);
	s->bytes += sizeof(hdr);
	if (type == CK_SEC_PAGES) {
		if (s->pages == NULL &&
		    (s->pages = aligned_alloc(CK_PAGE,
		    (CK_PAGES_MAX + 1) * CK_PAGE)) ==
		    NULL)
			return ck_fail(e, SS_ERR_ALLOC, "out of memory");
		dst = s->pages;
	} else {
		if ((b = buf_new(len)) == NULL)
			return ck_fail(e, SS_ERR_ALLOC, "out of memory");
		if (len > 0 && (r = buf_reserve(b, len, &dst)) != 0) {
			buf_free(b);
			return ck_fail(e, r, "section buffer: %s",
			    ss_strerror(r));
		}
		if (len == 0)
			dst = NULL;
	}
	if (len > 0 && (r = ck_read_all(s->fd, dst, len)) != 0) {
		buf_free(b);
		goto readerr;
	}
	s->bytes += len;
	got = ck_crc32c(0, hdr, 8);
	got = ck_crc32c(got, dst, len);
	if (got != crc) {
		buf_free(b);
		return ck_fail(e, SS_ERR_CORRUPT, "corrupt image: checksum "
		    "mismatch in section type %u ending at byte %llu", type,
		    (unsigned long long)s->bytes);
	}
	*typep = type;
	if (type != CK_SEC_PAGES) {
		*payloadp = b;
		return 0;
	}
	if ((pre = buf_from(dst, 16, 16)) == NULL)
		return ck_fail(e, SS_ERR_ALLOC, "out of memory");
	if ((r = buf_get_u32(pre, procp)) != 0 ||
	    (r = buf_get_u64(pre, addrp)) != 0 ||
	    (r = buf_get_u32(pre, npagesp)) != 0) {
		buf_free(pre);
		return ck_fail(e, r, "page header: %s", ss_strerror(r));
	}
	buf_free(pre);
	if (*npagesp != (len - 16) / CK_PAGE || *addrp % CK_PAGE != 0)
		return ck_fail(e, SS_ERR_CORRUPT, "corrupt image: bad page "
		    "run header");
	*pagesp = dst + 16;
	return 0;
 readerr:
	if (r == SS_ERR_SHORT)
		return ck_fail(e, SS_ERR_SHORT, "truncated image: input ended "
		    "at byte %llu", (unsigned long long)s->bytes);
	return ck_fail(e, r, "reading image: %s", strerror(errno));
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
	memset(im, 0, sizeof(*im));
}
