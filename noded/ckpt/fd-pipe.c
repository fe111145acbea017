/*
 * fd-pipe.c: pipes.  A pipe is carried when both of its ends are held in
 * the tree; its bytes in flight are copied with tee(2) from a read end
 * taken with pidfd_getfd, which leaves them in the original pipe (so
 * --leave-running loses nothing), and written into the new pipe before
 * any process runs.  A pipe with only one end in the tree is carried too
 * when its other end is closed everywhere (the reader of `seq | sh` after
 * seq has ended, with bytes still to read; a writer whose reader is
 * gone): the restorer makes the pipe, fills it and closes that end, so
 * the reader reads the bytes and then EOF, the writer gets EPIPE.  A pipe
 * whose other end is still open outside the tree leads outside (files.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ckpt-int.h"

int
ck_fd_pipe_collect(struct ck_image *im, struct ck_desc *d, int fd,
    struct ckpt_err *e)
{
	struct ck_pipe *np;
	uint32_t i;
	int sz;

	d->kind = CK_DESC_PIPE;
	for (i = 0; i < im->npipe; i++)
		if (im->pipes[i].ino == d->ino)
			break;
	if (i == im->npipe) {
		if ((np = realloc(im->pipes, (im->npipe + 1) * sizeof(*np))) ==
		    NULL)
			return ck_fail(e, SS_ERR_ALLOC, "out of memory");
		im->pipes = np;
		memset(&np[i], 0, sizeof(*np));
		np[i].ino = d->ino;
		np[i].rfd = np[i].wfd = -1;
		if ((sz = fcntl(fd, F_GETPIPE_SZ)) == -1)
			return ck_fail(e, SS_ERR_SYSTEM, "F_GETPIPE_SZ: %s",
			    strerror(errno));
		np[i].size = sz;
		im->npipe++;
	}
	d->pipe = i;
	if ((d->flags & O_ACCMODE) == O_RDONLY)
		im->pipes[i].has_r = 1;
	else
		im->pipes[i].has_w = 1;
	return 0;
}

int
ck_fd_pipe_data(struct ck_pipe *pp, int rfd, struct ckpt_err *e)
{
	int p[2];
	ssize_t n;
	uint8_t *data;
	size_t len = 0;
	int r = 0;

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) == -1)
		return ck_fail(e, SS_ERR_SYSTEM, "pipe: %s", strerror(errno));
	if (fcntl(p[1], F_SETPIPE_SZ, pp->size) == -1) {
		r = ck_fail(e, SS_ERR_SYSTEM, "pipe of %u bytes: %s", pp->size,
		    strerror(errno));
		goto out;
	}
	n = tee(rfd, p[1], pp->size, SPLICE_F_NONBLOCK);
	if (n < 0 && errno != EAGAIN) {
		r = ck_fail(e, SS_ERR_SYSTEM, "tee: %s", strerror(errno));
		goto out;
	}
	if (n <= 0)
		goto out;
	if ((data = malloc(n)) == NULL) {
		r = ck_fail(e, SS_ERR_ALLOC, "out of memory");
		goto out;
	}
	while (len < (size_t)n) {
		ssize_t k = read(p[0], data + len, n - len);

		if (k <= 0) {
			free(data);
			r = ck_fail(e, SS_ERR_SYSTEM, "pipe data: %s",
			    strerror(errno));
			goto out;
		}
		len += k;
	}
	pp->data = data;
	pp->len = len;
 out:
	close(p[0]);
	close(p[1]);
	return r;
}

/*
 * Whether the end of the pipe that is not in the tree is closed by every
 * process (*closed = 1) or still open somewhere (0), asked of fd, an end
 * the tree holds: a read end sees POLLHUP once no writer is left, a write
 * end POLLERR once no reader is.
 */
int
ck_fd_pipe_other_closed(int fd, int readable, uint32_t *closed,
    struct ckpt_err *e)
{
	struct pollfd p = { .fd = fd, .events = readable ? POLLIN : POLLOUT };

	if (poll(&p, 1, 0) == -1)
		return ck_fail(e, SS_ERR_SYSTEM, "poll of a pipe: %s",
		    strerror(errno));
	*closed = (p.revents & (readable ? POLLHUP : POLLERR)) != 0;
	return 0;
}

/*
 * Makes the new pipe and puts the bytes in flight back; closes the end
 * that was closed in the dumped tree.  -1 and errno.
 */
int
ck_fd_pipe_create(struct ck_pipe *pp)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	if (fcntl(p[1], F_SETPIPE_SZ, pp->size) == -1 && pp->len > 65536) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pp->len > 0 && ck_write_all(p[1], pp->data, pp->len) != 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pp->closed && !pp->has_r) {
		close(p[0]);
		p[0] = -1;
	}
	if (pp->closed && !pp->has_w) {
		close(p[1]);
		p[1] = -1;
	}
	pp->rfd = p[0];
	pp->wfd = p[1];
	return 0;
}

int
ck_pipe_encode(struct buf *b, const struct ck_pipe *pp)
{
	int r;

	if ((r = buf_put_u32(b, pp->size)) != 0 ||
	    (r = buf_put_u32(b, pp->has_r)) != 0 ||
	    (r = buf_put_u32(b, pp->has_w)) != 0 ||
	    (r = buf_put_u32(b, pp->closed)) != 0)
		return r;
	return buf_put_string(b, pp->data, pp->len);
}

int
ck_pipe_decode(struct buf *b, struct ck_pipe *pp)
{
	size_t len;
	int r;

	pp->rfd = pp->wfd = -1;
	if ((r = buf_get_u32(b, &pp->size)) != 0 ||
	    (r = buf_get_u32(b, &pp->has_r)) != 0 ||
	    (r = buf_get_u32(b, &pp->has_w)) != 0 ||
	    (r = buf_get_u32(b, &pp->closed)) != 0 ||
	    (r = buf_get_string(b, 16 * 1024 * 1024, &pp->data, &len)) != 0)
		return r;
	pp->len = len;
	if (pp->size < 4096 || pp->size > 256 * 1024 * 1024 || len > pp->size ||
	    pp->has_r > 1 || pp->has_w > 1 || pp->closed > 1)
		return SS_ERR_BAD;
	/* Closed: exactly one end inside, and bytes only with a reader. */
	if (pp->closed && (pp->has_r == pp->has_w || (!pp->has_r && len > 0)))
		return SS_ERR_BAD;
	return 0;
}
