/*
 * buf.h: the one bounds-checked byte buffer of sshell (in the spirit of
 * OpenSSH's sshbuf).
 *
 * A struct buf is opaque: a growable array of bytes with a read offset and a
 * hard maximum size fixed at creation.  Appending past the maximum fails
 * with SS_ERR_TOO_LONG and changes nothing; reading past the end fails with
 * SS_ERR_SHORT and consumes nothing.  Every function checks its buffer and
 * returns 0 or a negative SS_ERR_* code (see err.h).
 *
 * Encodings are SSH's (RFC 4251): u8, u32 and u64 big-endian, a string is a
 * u32 length and that many bytes.  Nobody outside buf.c parses bytes by hand.
 *
 * Ownership: the buffer owns its storage.  Pointers it hands out
 * (buf_ptr, buf_get_string_direct, buf_reserve) point into that storage and
 * are valid only until the next call that modifies the buffer.  Strings from
 * buf_get_string/buf_get_cstring are new allocations owned by the caller.
 */
#ifndef SSHELL_BUF_H
#define SSHELL_BUF_H

#include <stddef.h>
#include <stdint.h>

#define BUF_MAX_DEFAULT	(16u * 1024 * 1024)

struct buf;

/* A new empty buffer that never holds more than max bytes; NULL on ENOMEM. */
struct buf	*buf_new(size_t max);
/* A new buffer holding a copy of data[0..len); NULL on ENOMEM or len > max. */
struct buf	*buf_from(const void *data, size_t len, size_t max);
/* Frees b and its storage (zeroed first); NULL is fine. */
void		 buf_free(struct buf *b);

/* Unread bytes, and a pointer to the first of them. */
size_t		 buf_len(const struct buf *b);
const uint8_t	*buf_ptr(const struct buf *b);
size_t		 buf_max(const struct buf *b);
/* Drops everything. */
void		 buf_reset(struct buf *b);
/* Discards n unread bytes from the front; SS_ERR_SHORT if fewer. */
int		 buf_consume(struct buf *b, size_t n);
/* Discards n bytes from the end; SS_ERR_SHORT if fewer. */
int		 buf_consume_end(struct buf *b, size_t n);

/* Appends n bytes of room and returns a pointer to it in *dp (may be NULL). */
int		 buf_reserve(struct buf *b, size_t n, uint8_t **dp);
int		 buf_put(struct buf *b, const void *data, size_t n);
int		 buf_put_u8(struct buf *b, uint8_t v);
int		 buf_put_u32(struct buf *b, uint32_t v);
int		 buf_put_u64(struct buf *b, uint64_t v);
/* A u32 length then the bytes. */
int		 buf_put_string(struct buf *b, const void *data, size_t n);
/* A NUL-terminated string as an SSH string (NULL puts an empty one). */
int		 buf_put_cstring(struct buf *b, const char *s);
/* The unread contents of src (not b itself) as one SSH string. */
int		 buf_put_stringb(struct buf *b, const struct buf *src);
/* Overwrites 4 bytes at offset off of the unread data (for length fields). */
int		 buf_poke_u32(struct buf *b, size_t off, uint32_t v);

int		 buf_get_u8(struct buf *b, uint8_t *vp);
int		 buf_get_u32(struct buf *b, uint32_t *vp);
int		 buf_get_u64(struct buf *b, uint64_t *vp);
/* Reads a u32 without consuming it, at offset off of the unread data. */
int		 buf_peek_u32(const struct buf *b, size_t off, uint32_t *vp);
/* Copies n bytes out; vp may be NULL to skip. */
int		 buf_get(struct buf *b, void *vp, size_t n);
/*
 * A string, newly allocated with a NUL after it (caller frees *vp);
 * lenp may be NULL.  Strings longer than maxlen are SS_ERR_TOO_LONG.
 */
int		 buf_get_string(struct buf *b, size_t maxlen, uint8_t **vp,
		    size_t *lenp);
/* Like buf_get_string, and refuses strings with an embedded NUL. */
int		 buf_get_cstring(struct buf *b, size_t maxlen, char **vp);
/* A string left in place: *vp points into b (see Ownership above). */
int		 buf_get_string_direct(struct buf *b, const uint8_t **vp,
		    size_t *lenp);
/* A string read into a new buffer (caller frees *bp). */
int		 buf_get_stringb(struct buf *b, struct buf **bp);

#endif
