/*
 * local.c: the tools' Unix socket.
 *
 * Tools connect, say MSG_HELLO, and send framed requests; who they are
 * comes from SO_PEERCRED, never from what they say.  Each connection has a
 * bounded input buffer (one frame at most PROTO_MAX_FRAME) and a bounded
 * output queue; a malformed frame gets MSG_ERROR and the connection is
 * closed once that is written.  A user noded serves only its own user.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "noded.h"

static int	mkdir_p(const char *dir, mode_t mode);

static int
mkdir_p(const char *dir, mode_t mode)
{
	char tmp[4096], *p;

	if (snprintf(tmp, sizeof(tmp), "%s", dir) >= (int)sizeof(tmp))
		return SS_ERR_TOO_LONG;
	for (p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) == -1 && errno != EEXIST)
			return SS_ERR_SYSTEM;
		*p = '/';
	}
	if (mkdir(tmp, mode) == -1 && errno != EEXIST)
		return SS_ERR_SYSTEM;
	return 0;
}

int
local_listen(void)
{
	struct sockaddr_un sun;
	char dir[4096];
	int fd, r;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(g.sockpath) >= sizeof(sun.sun_path)) {
		log_err("%s: socket path too long", g.sockpath);
		return SS_ERR_TOO_LONG;
	}
	strcpy(sun.sun_path, g.sockpath);
	snprintf(dir, sizeof(dir), "%s", g.sockpath);
	/* The system socket is for every user; a user's is for them only. */
	if ((r = mkdir_p(dirname(dir), g.root ? 0755 : 0700)) != 0) {
		log_err_r(r, "%s", dir);
		return r;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		log_err_r(SS_ERR_SYSTEM, "socket");
		return SS_ERR_SYSTEM;
	}
	/* A socket file left by a dead noded is stale: is anyone there? */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		log_err("%s: another noded is running", g.sockpath);
		close(fd);
		return SS_ERR_EXISTS;
	}
	close(fd);
	unlink(g.sockpath);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    chmod(g.sockpath, g.root ? 0666 : 0600) == -1 ||
	    listen(fd, 128) == -1) {
		log_err_r(SS_ERR_SYSTEM, "%s", g.sockpath);
		if (fd != -1)
			close(fd);
		return SS_ERR_SYSTEM;
	}
	g.unix_fd = fd;
	return 0;
}

void
local_accept(void)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	struct passwd *pw;
	struct conn *c;
	int fd;

	while ((fd = accept4(g.unix_fd, NULL, NULL,
	    SOCK_NONBLOCK | SOCK_CLOEXEC)) != -1) {
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == -1) {
			close(fd);
			continue;
		}
		if (!g.root && cr.uid != g.owner && cr.uid != 0) {
			log_warn("uid %u refused: this noded serves uid %u",
			    (unsigned)cr.uid, (unsigned)g.owner);
			close(fd);
			continue;
		}
		if ((c = calloc(1, sizeof(*c))) == NULL ||
		    (c->in = buf_new(PROTO_MAX_FRAME + 65536)) == NULL ||
		    (c->out = buf_new(NODED_OUTQ_MAX + PROTO_MAX_FRAME)) ==
		    NULL) {
			if (c != NULL) {
				buf_free(c->in);
				free(c);
			}
			close(fd);
			log_err("out of memory");
			continue;
		}
		c->id = ++g.next_id;
		c->fd = fd;
		c->uid = cr.uid;
		c->gid = cr.gid;
		c->pid = cr.pid;
		if ((pw = getpwuid(cr.uid)) != NULL)
			snprintf(c->user, sizeof(c->user), "%s", pw->pw_name);
		else
			snprintf(c->user, sizeof(c->user), "%u",
			    (unsigned)cr.uid);
		TAILQ_INSERT_TAIL(&g.conns, c, entry);
	}
}

struct conn *
conn_by_id(uint64_t id)
{
	struct conn *c;

	TAILQ_FOREACH(c, &g.conns, entry)
		if (c->id == id && !c->dead)
			return c;
	return NULL;
}

static void
conn_flush(struct conn *c)
{
	ssize_t n;

	while (buf_len(c->out) > 0) {
		n = write(c->fd, buf_ptr(c->out), buf_len(c->out));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			conn_close(c);
			return;
		}
		buf_consume(c->out, (size_t)n);
	}
	if (c->close_after)
		conn_close(c);
}

/* Queues frame (consumed) and writes what the socket takes now. */
int
conn_send(struct conn *c, struct buf *frame)
{
	int r;

	if (c->dead) {
		buf_free(frame);
		return SS_ERR_NOT_FOUND;
	}
	r = buf_put(c->out, buf_ptr(frame), buf_len(frame));
	buf_free(frame);
	if (r != 0) {
		/* A tool that does not read is dropped, not buffered for. */
		log_warn("pid %d: reply queue full, closing", (int)c->pid);
		conn_close(c);
		return r;
	}
	conn_flush(c);
	return 0;
}

/* Closes c once what it was sent is written; ignores what it says now. */
void
conn_close_after_reply(struct conn *c)
{
	c->close_after = 1;
	conn_flush(c);
}

void
conn_close(struct conn *c)
{
	if (c->dead)
		return;
	c->dead = 1;
	hjob_conn_gone(c->id);
}

static void
conn_protocol_error(struct conn *c, int code, const char *what)
{
	struct buf *m;

	log_warn("pid %d uid %u: %s: %s", (int)c->pid, (unsigned)c->uid,
	    what, ss_strerror(code));
	buf_reset(c->in);
	if ((m = proto_error(code, "%s", what)) != NULL)
		conn_send(c, m);
	c->close_after = 1;
	conn_flush(c);
}

void
local_io(struct conn *c, short revents)
{
	struct buf *payload;
	struct req r;
	uint8_t type, *p;
	ssize_t n;
	int rc;

	if (revents & POLLOUT)
		conn_flush(c);
	if (c->dead || !(revents & (POLLIN | POLLHUP | POLLERR)))
		return;
	if (c->close_after) {
		/* Draining our error reply: ignore what it still sends. */
		char junk[4096];

		if (read(c->fd, junk, sizeof(junk)) <= 0)
			conn_close(c);
		return;
	}
	if ((rc = buf_reserve(c->in, 65536, &p)) != 0) {
		conn_protocol_error(c, rc, "input too long");
		return;
	}
	n = read(c->fd, p, 65536);
	buf_consume_end(c->in, 65536 - (n > 0 ? (size_t)n : 0));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	memset(&r, 0, sizeof(r));
	r.kind = REQ_LOCAL;
	r.origin = c->id;
	r.uid = c->uid;
	r.gid = c->gid;
	memcpy(r.user, c->user, sizeof(r.user));
	while (!c->dead && !c->close_after) {
		rc = proto_frame_take(c->in, &type, &payload);
		if (rc == SS_ERR_SHORT)
			break;
		if (rc != 0) {
			conn_protocol_error(c, rc, "bad frame");
			return;
		}
		if (!c->hello && type != MSG_HELLO) {
			buf_free(payload);
			conn_protocol_error(c, SS_ERR_PROTO,
			    "first message must be HELLO");
			return;
		}
		if (type == MSG_HELLO)
			c->hello = 1;
		rpc_dispatch(&r, type, payload);
		buf_free(payload);
	}
}
