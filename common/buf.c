/*
 * buf.c: the bounds-checked byte buffer (see buf.h for the contract).
 *
 * Invariants: off <= len <= cap <= max; data[off..len) are the unread
 * bytes.  A failing call leaves the buffer exactly as it was.  Storage is
 * compacted (unread bytes moved to the front) before it is grown, so a
 * buffer used as a stream queue does not creep.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"

struct buf {
	uint8_t	*data;	/* storage, cap bytes, owned */
	size_t	 off;	/* first unread byte */
	size_t	 len;	/* end of the written bytes */
	size_t	 cap;	/* allocated size */
	size_t	 max;	/* hard limit on len - off + room asked for */
};

struct buf *
buf_new(size_t max)
{
	struct buf *b;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	b->max = max;
	return b;
}

struct buf *
buf_from(const void *data, size_t len, size_t max)
{
	struct buf *b;

	if (len > max || (b = buf_new(max)) == NULL)
		return NULL;
	if (buf_put(b, data, len) != 0) {
		buf_free(b);
		return NULL;
	}
	return b;
}

void
buf_free(struct buf *b)
{
	if (b == NULL)
		return;
	if (b->data != NULL) {
		explicit_bzero(b->data, b->cap);
		free(b->data);
	}
	free(b);
}

size_t
buf_len(const struct buf *b)
{
	return b->len - b->off;
}

const uint8_t *
buf_ptr(const struct buf *b)
{
	static const uint8_t empty[1];

	return b->data != NULL ? b->data + b->off : empty;
}

size_t
buf_max(const struct buf *b)
{
	return b->max;
}

void
buf_reset(struct buf *b)
{
	b->off = b->len = 0;
}

int
buf_consume(struct buf *b, size_t n)
{
	if (n > buf_len(b))
		return SS_ERR_SHORT;
	b->off += n;
	if (b->off == b->len)
		b->off = b->len = 0;
	return 0;
}

int
buf_consume_end(struct buf *b, size_t n)
{
	if (n > buf_len(b))
		return SS_ERR_SHORT;
	b->len -= n;
	return 0;
}

int
buf_reserve(struct buf *b, size_t n, uint8_t **dp)
{
	size_t need, ncap;
	uint8_t *nd;

	if (dp != NULL)
		*dp = NULL;
	if (n > b->max || buf_len(b) > b->max - n)
		return SS_ERR_TOO_LONG;
	if (b->cap - b->len < n) {
		if (b->off > 0) {
			memmove(b->data, b->data + b->off, b->len - b->off);
			b->len -= b->off;
			b->off = 0;
		}
		need = b->len + n;
		if (need > b->cap) {
			ncap = b->cap < 256 ? 256 : b->cap;
			while (ncap < need)
				ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
			if (ncap > b->max)
				ncap = b->max;
			if (ncap < need)
				ncap = need;
			if ((nd = realloc(b->data, ncap)) == NULL)
				return SS_ERR_ALLOC;
			b->data = nd;
			b->cap = ncap;
		}
	}
	/* An empty buffer asked for no room has no data yet (NULL + 0 is
	 * undefined in C). */
	if (dp != NULL && b->data != NULL)
		*dp = b->data + b->len;
	b->len += n;
	return 0;
}

int
buf_put(struct buf *b, const void *data, size_t n)
{
	uint8_t *p;
	int r;

	if ((r = buf_reserve(b, n, &p)) != 0)
		return r;
	if (n > 0)
		memcpy(p, data, n);
	return 0;
}

int
buf_put_u8(struct buf *b, uint8_t v)
{
	return buf_put(b, &v, 1);
}

int
buf_put_u32(struct buf *b, uint32_t v)
{
	uint8_t p[4] = { v >> 24, v >> 16, v >> 8, v };

	return buf_put(b, p, sizeof(p));
}

int
buf_put_u64(struct buf *b, uint64_t v)
{
	uint8_t p[8];
	int i;

	for (i = 0; i < 8; i++)
		p[i] = v >> (56 - 8 * i);
	return buf_put(b, p, sizeof(p));
}

int
buf_put_string(struct buf *b, const void *data, size_t n)
{
	uint8_t *p;
	int r;

	if (n > UINT32_MAX)
		return SS_ERR_TOO_LONG;
	if ((r = buf_reserve(b, 4 + n, &p)) != 0)
		return r;
	p[0] = n >> 24;
	p[1] = n >> 16;
	p[2] = n >> 8;
	p[3] = n;
	if (n > 0)
		memcpy(p + 4, data, n);
	return 0;
}

int
buf_put_cstring(struct buf *b, const char *s)
{
	return buf_put_string(b, s, s != NULL ? strlen(s) : 0);
}

int
buf_put_stringb(struct buf *b, const struct buf *src)
{
	return buf_put_string(b, buf_ptr(src), buf_len(src));
}

int
buf_poke_u32(struct buf *b, size_t off, uint32_t v)
{
	uint8_t *p;

	if (off > buf_len(b) || buf_len(b) - off < 4)
		return SS_ERR_SHORT;
	p = b->data + b->off + off;
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
	return 0;
}

int
buf_get(struct buf *b, void *vp, size_t n)
{
	if (n > buf_len(b))
		return SS_ERR_SHORT;
	if (vp != NULL && n > 0)
		memcpy(vp, buf_ptr(b), n);
	return buf_consume(b, n);
}

int
buf_get_u8(struct buf *b, uint8_t *vp)
{
	return buf_get(b, vp, 1);
}

int
buf_peek_u32(const struct buf *b, size_t off, uint32_t *vp)
{
	const uint8_t *p;

	if (off > buf_len(b) || buf_len(b) - off < 4)
		return SS_ERR_SHORT;
	p = buf_ptr(b) + off;
	if (vp != NULL)
		*vp = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		    (uint32_t)p[2] << 8 | p[3];
	return 0;
}

int
buf_get_u32(struct buf *b, uint32_t *vp)
{
	int r;

	if ((r = buf_peek_u32(b, 0, vp)) != 0)
		return r;
	return buf_consume(b, 4);
}

int
buf_get_u64(struct buf *b, uint64_t *vp)
{
	const uint8_t *p;
	uint64_t v = 0;
	int i;

	if (buf_len(b) < 8)
		return SS_ERR_SHORT;
	p = buf_ptr(b);
	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	if (vp != NULL)
		*vp = v;
	return buf_consume(b, 8);
}

int
buf_get_string_direct(struct buf *b, const uint8_t **vp, size_t *lenp)
{
	uint32_t n;
	int r;

	if (vp != NULL)
		*vp = NULL;
	if (lenp != NULL)
		*lenp = 0;
	if ((r = buf_peek_u32(b, 0, &n)) != 0)
		return r;
	if (n > buf_len(b) - 4)
		return SS_ERR_SHORT;
	if (vp != NULL)
		*vp = buf_ptr(b) + 4;
	if (lenp != NULL)
		*lenp = n;
	return buf_consume(b, 4 + (size_t)n);
}

int
buf_get_string(struct buf *b, size_t maxlen, uint8_t **vp, size_t *lenp)
{
	const uint8_t *p;
	uint8_t *s;
	uint32_t n;
	int r;

	*vp = NULL;
	if (lenp != NULL)
		*lenp = 0;
	if ((r = buf_peek_u32(b, 0, &n)) != 0)
		return r;
	if (n > maxlen)
		return SS_ERR_TOO_LONG;
	if (n > buf_len(b) - 4)
		return SS_ERR_SHORT;
	if ((s = malloc((size_t)n + 1)) == NULL)
		return SS_ERR_ALLOC;
	if ((r = buf_get_string_direct(b, &p, NULL)) != 0) {
		free(s);
		return r;
	}
	memcpy(s, p, n);
	s[n] = '\0';
	*vp = s;
	if (lenp != NULL)
		*lenp = n;
	return 0;
}

int
buf_get_cstring(struct buf *b, size_t maxlen, char **vp)
{
	const uint8_t *p;
	uint32_t n;
	int r;

	*vp = NULL;
	if ((r = buf_peek_u32(b, 0, &n)) != 0)
		return r;
	if (n > maxlen)
		return SS_ERR_TOO_LONG;
	if (n > buf_len(b) - 4)
		return SS_ERR_SHORT;
	p = buf_ptr(b) + 4;
	if (memchr(p, '\0', n) != NULL)
		return SS_ERR_BAD;
	return buf_get_string(b, maxlen, (uint8_t **)vp, NULL);
}

int
buf_get_stringb(struct buf *b, struct buf **bp)
{
	const uint8_t *p;
	size_t n;
	uint32_t n32;
	int r;

	*bp = NULL;
	if ((r = buf_peek_u32(b, 0, &n32)) != 0)
		return r;
	if (n32 > buf_len(b) - 4)
		return SS_ERR_SHORT;
	if ((r = buf_get_string_direct(b, &p, &n)) != 0)
		return r;
	if ((*bp = buf_from(p, n, n > BUF_MAX_DEFAULT ? n : BUF_MAX_DEFAULT))
	    == NULL)
		return SS_ERR_ALLOC;
	return 0;
}
