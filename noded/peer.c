/*
 * peer.c: noded to noded over SSH (libssh), authenticated both ways by the
 * host keys in the cluster file.
 *
 * Each node keeps one outgoing session to every peer (struct peer): its
 * requests to that peer travel on the session's control channel wrapped in
 * MSG_PEER_CALL and come back as MSG_PEER_REPLY, its load reports go there
 * every second, and the "attach GPID" channels of jobs born here that run
 * there are opened on it.  The peer's own requests arrive on the session it
 * opened to us (struct insess).  So each pair of nodes shares two TCP
 * connections, one per direction, each persistent.
 *
 * Handshakes run in threads (one per connection attempt, at most
 * NODED_MAX_HANDSHAKES) that do everything blocking, with timeouts: key
 * exchange, the check of the server's host key against the cluster file,
 * public-key user authentication (user name = node name, key = that node's
 * key), the control channel, and the hello with the protocol version.  A
 * finished thread hands the session to the loop through g.hs_pipe; from
 * then on only the loop touches it, in non-blocking mode.
 *
 * A peer is up while we hear from it (on either session); after
 * NODED_PEER_DOWN_MS of silence it is down, and up again when it speaks.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "noded.h"
#include "sshc.h"


/* What a handshake thread knows and reports. */
struct hs_node {
	unsigned	 id;
	char		 name[CONF_NAME_MAX + 1];
	char		 key[128];
};

struct hs {
	int		 server;	/* 1: incoming */
	int		 fd;		/* incoming: the accepted socket */
	struct hs_node	 want;		/* outgoing: the peer */
	char		 addr[256];
	uint16_t	 port;
	struct hs_node	*nodes;		/* incoming: who may log in */
	size_t		 nnodes;
	char		 self[CONF_NAME_MAX + 1];
	unsigned	 self_id;
	/* Results. */
	int		 ok;
	unsigned	 node;		/* the peer's id */
	ssh_session	 s;
	ssh_channel	 ch;
	struct buf	*rest;		/* bytes after the hello */
	uint32_t	 flags;		/* the peer's HELLO_* */
};

static uint32_t	 proto_version(void);
static void	*hs_client(void *);
static void	*hs_server(void *);
static int	 hs_hello(struct hs *, ssh_channel);
static int	 ctl_data(ssh_session, ssh_channel, void *, uint32_t, int,
		    void *);
static int	 in_data(ssh_session, ssh_channel, void *, uint32_t, int,
		    void *);
static ssh_channel in_channel_open(ssh_session, void *);
static void	 ctl_flush(ssh_channel, struct buf *);
static int	 ctl_queue(ssh_channel, struct buf *, const struct buf *);
static void	 insess_free(struct insess *);
static void	 peer_frames(struct peer *);
static void	 insess_frames(struct insess *);

const char *
node_name(unsigned id)
{
	struct peer *p;

	if (id == g.id)
		return g.name;
	if ((p = peer_by_id(id)) != NULL)
		return p->name;
	return "?";
}

struct peer *
peer_by_id(unsigned id)
{
	struct peer *p;

	TAILQ_FOREACH(p, &g.peers, entry)
		if (p->id == id)
			return p;
	return NULL;
}

struct peer *
peer_by_name(const char *name)
{
	struct peer *p;

	TAILQ_FOREACH(p, &g.peers, entry)
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

static int
load_hostkey(void)
{
	char path[4200];
	char *b64 = NULL;
	ssh_key pub = NULL;
	int r;

	snprintf(path, sizeof(path), "%s/hostkey", g.statedir);
	if (access(path, F_OK) != 0) {
		if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &g.hostkey) !=
		    SSH_OK) {
			log_err("cannot generate a host key");
			return SS_ERR_INTERNAL;
		}
		if (ssh_pki_export_privkey_file(g.hostkey, NULL, NULL, NULL,
		    path) != SSH_OK) {
			log_err("%s: cannot write the host key", path);
			return SS_ERR_SYSTEM;
		}
		chmod(path, 0600);
		log_info("made host key %s", path);
	} else if (ssh_pki_import_privkey_file(path, NULL, NULL, NULL,
	    &g.hostkey) != SSH_OK) {
		log_err("%s: cannot read the host key", path);
		return SS_ERR_BAD;
	}
	if ((r = ssh_pki_export_privkey_to_pubkey(g.hostkey, &pub)) !=
	    SSH_OK || ssh_pki_export_pubkey_base64(pub, &b64) != SSH_OK) {
		ssh_key_free(pub);
		return SS_ERR_INTERNAL;
	}
	snprintf(g.hostkey_b64, sizeof(g.hostkey_b64), "%s", b64);
	ssh_string_free_char(b64);
	ssh_key_free(pub);
	return 0;
}

/* Loads (or makes) the host key; --print-key calls only this. */
int
peer_load_key(void)
{
	return load_hostkey();
}

static int
tcp_listen(void)
{
	const struct conf_node *self = conf_node_by_id(g.conf, g.id);
	struct addrinfo hints, *res = NULL, *ai;
	char port[16];
	int fd = -1, one = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%u", g.port);
	/* Listen on our own address from the cluster file; if that is not
	 * one of ours (NAT, a name), on every address. */
	if (getaddrinfo(self != NULL ? self->address : NULL, port, &hints,
	    &res) != 0)
		res = NULL;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (fd == -1)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, 128) == 0)
			break;
		close(fd);
		fd = -1;
	}
	if (res != NULL)
		freeaddrinfo(res);
	if (fd == -1) {
		struct sockaddr_in6 sin6;

		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons(g.port);
		fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (fd == -1 || (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR,
		    &one, sizeof(one)), bind(fd, (struct sockaddr *)&sin6,
		    sizeof(sin6))) == -1 || listen(fd, 128) == -1) {
			log_err_r(SS_ERR_SYSTEM, "listen on port %u", g.port);
			if (fd != -1)
				close(fd);
			return SS_ERR_SYSTEM;
		}
	}
	g.tcp_fd = fd;
	return 0;
}

int
peer_init(void)
{
	int r;

	if ((r = load_hostkey()) != 0)
		return r;
	if (pipe2(g.hs_pipe, O_CLOEXEC | O_NONBLOCK) == -1)
		return SS_ERR_SYSTEM;
	if ((g.bind = ssh_bind_new()) == NULL)
		return SS_ERR_ALLOC;
	if (ssh_bind_options_set(g.bind, SSH_BIND_OPTIONS_IMPORT_KEY,
	    g.hostkey) != SSH_OK ||
	    ssh_bind_options_set(g.bind, SSH_BIND_OPTIONS_CIPHERS_C_S,
	    SSHC_CIPHERS) != SSH_OK ||
	    ssh_bind_options_set(g.bind, SSH_BIND_OPTIONS_CIPHERS_S_C,
	    SSHC_CIPHERS) != SSH_OK) {
		log_err("ssh_bind: %s", ssh_get_error(g.bind));
		return SS_ERR_INTERNAL;
	}
	/* IMPORT_KEY took the key over; keep our own reference. */
	if (load_hostkey() != 0)
		return SS_ERR_INTERNAL;
	g.tcp_fd = -1;
	if (g.conf->nnodes > 1 || !g.conf_embedded)
		return tcp_listen();
	return 0;
}

/* Makes the peer list match the cluster file; keeps live sessions of
 * nodes whose address and key did not change. */
int
peer_setup_from_conf(void)
{
	struct peer *p, *tp;
	const struct conf_node *cn;
	size_t i;

	TAILQ_FOREACH_SAFE(p, &g.peers, entry, tp) {
		cn = conf_node_by_id(g.conf, p->id);
		if (cn != NULL && cn->id != g.id &&
		    strcmp(cn->name, p->name) == 0 &&
		    strcmp(cn->address, p->addr) == 0 && cn->port == p->port &&
		    strcmp(cn->key != NULL ? cn->key : "", p->key) == 0)
			continue;
		log_info("%s: no longer in the cluster file as it was", p->name);
		peer_teardown(p, "removed from the cluster file");
		if (p->connecting) {
			/* The thread's result will find no peer and drop. */
			p->id = 0;
		}
		TAILQ_REMOVE(&g.peers, p, entry);
		buf_free(p->in);
		buf_free(p->out);
		free(p);
	}
	for (i = 0; i < g.conf->nnodes; i++) {
		cn = &g.conf->nodes[i];
		if (cn->id == g.id || peer_by_id(cn->id) != NULL)
			continue;
		if ((p = calloc(1, sizeof(*p))) == NULL)
			return SS_ERR_ALLOC;
		p->id = cn->id;
		snprintf(p->name, sizeof(p->name), "%s", cn->name);
		snprintf(p->addr, sizeof(p->addr), "%s", cn->address);
		p->port = cn->port;
		snprintf(p->key, sizeof(p->key), "%s",
		    cn->key != NULL ? cn->key : "");
		p->state = PEER_DOWN;
		TAILQ_INIT(&p->calls);
		p->in = buf_new(PROTO_MAX_FRAME + 65536);
		p->out = buf_new(64u * 1024 * 1024);
		if (p->in == NULL || p->out == NULL) {
			buf_free(p->in);
			buf_free(p->out);
			free(p);
			return SS_ERR_ALLOC;
		}
		TAILQ_INSERT_TAIL(&g.peers, p, entry);
	}
	return 0;
}

static int
start_thread(struct hs *h)
{
	pthread_attr_t attr;
	pthread_t t;
	int r;

	if (g.handshakes >= NODED_MAX_HANDSHAKES)
		return SS_ERR_BUSY;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	r = pthread_create(&t, &attr, h->server ? hs_server : hs_client, h);
	pthread_attr_destroy(&attr);
	if (r != 0)
		return SS_ERR_SYSTEM;
	g.handshakes++;
	return 0;
}

static void
hs_free(struct hs *h)
{
	if (h->ch != NULL)
		ssh_channel_free(h->ch);
	if (h->s != NULL) {
		ssh_disconnect(h->s);
		ssh_free(h->s);
	}
	if (h->server && h->fd != -1 && h->s == NULL)
		close(h->fd);
	buf_free(h->rest);
	free(h->nodes);
	free(h);
}

/* Accepts peers' connections, each into a handshake thread. */
void
peer_accept(void)
{
	struct hs *h;
	size_t i;
	int fd;

	while ((fd = accept4(g.tcp_fd, NULL, NULL, SOCK_CLOEXEC)) != -1) {
		struct timeval tv = { NODED_HANDSHAKE_TIMEOUT, 0 };
		int one = 1;

		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if ((h = calloc(1, sizeof(*h))) == NULL ||
		    (h->nodes = calloc(g.conf->nnodes,
		    sizeof(*h->nodes))) == NULL) {
			free(h);
			close(fd);
			continue;
		}
		h->server = 1;
		h->fd = fd;
		snprintf(h->self, sizeof(h->self), "%s", g.name);
		h->self_id = g.id;
		for (i = 0; i < g.conf->nnodes; i++) {
			const struct conf_node *cn = &g.conf->nodes[i];

			if (cn->id == g.id)
				continue;
			h->nodes[h->nnodes].id = cn->id;
			snprintf(h->nodes[h->nnodes].name,
			    sizeof(h->nodes[0].name), "%s", cn->name);
			snprintf(h->nodes[h->nnodes].key,
			    sizeof(h->nodes[0].key), "%s",
			    cn->key != NULL ? cn->key : "");
			h->nnodes++;
		}
		if (start_thread(h) != 0) {
			log_warn("too many handshakes at once; connection "
			    "dropped");
			h->s = NULL;
			hs_free(h);
		}
	}
}

static void
peer_connect(struct peer *p)
{
	struct hs *h;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return;
	h->fd = -1;
	h->want.id = p->id;
	snprintf(h->want.name, sizeof(h->want.name), "%s", p->name);
	snprintf(h->want.key, sizeof(h->want.key), "%s", p->key);
	snprintf(h->addr, sizeof(h->addr), "%s", p->addr);
	h->port = p->port;
	snprintf(h->self, sizeof(h->self), "%s", g.name);
	h->self_id = g.id;
	if (start_thread(h) != 0) {
		free(h);
		return;
	}
	p->connecting = 1;
}

static void
hs_done(struct hs *h)
{
	if (write(g.hs_pipe[1], &h, sizeof(h)) != sizeof(h))
		log_err("handshake pipe full");	/* cannot happen: small */
}

/*
 * The version we speak: PROTO_VERSION, unless the test suite makes this
 * noded speak another ($SSHELL_TEST_PROTO_VERSION, see noded(8)) to check
 * that peers refuse it.
 */
static uint32_t
proto_version(void)
{
	const char *v = getenv("SSHELL_TEST_PROTO_VERSION");

	return v != NULL && *v != '\0' ? (uint32_t)strtoul(v, NULL, 10) :
	    PROTO_VERSION;
}

/* Writes one hello and reads the other side's; 0 if they agree. */
static int
hs_hello(struct hs *h, ssh_channel ch)
{
	struct buf *m = NULL, *in = NULL, *payload = NULL;
	char tmp[4096], *name = NULL, *emsg = NULL;
	uint32_t ver = 0, id = 0;
	uint8_t type;
	int r = SS_ERR_PROTO, n, code;

	if ((in = buf_new(65536)) == NULL)
		goto out;
	if (!h->server) {
		if ((m = proto_msg_new(MSG_HELLO)) == NULL ||
		    buf_put_u32(m, proto_version()) != 0 ||
		    buf_put_cstring(m, h->self) != 0 ||
		    buf_put_u32(m, h->self_id) != 0 ||
		    proto_msg_finish(m) != 0 ||
		    ssh_channel_write(ch, buf_ptr(m), buf_len(m)) !=
		    (int)buf_len(m))
			goto out;
	}
	for (;;) {
		r = proto_frame_take(in, &type, &payload);
		if (r == 0)
			break;
		if (r != SS_ERR_SHORT)
			goto out;
		n = ssh_channel_read_timeout(ch, tmp, sizeof(tmp), 0,
		    NODED_HANDSHAKE_TIMEOUT * 1000);
		if (n <= 0 || buf_put(in, tmp, n) != 0) {
			r = SS_ERR_TIMEOUT;
			goto out;
		}
	}
	r = SS_ERR_PROTO;
	if (type == MSG_ERROR) {
		if (proto_get_error(payload, &code, &emsg) == 0)
			log_err("%s refused us: %s", h->want.name, emsg);
		goto out;
	}
	if (type != MSG_HELLO || buf_get_u32(payload, &ver) != 0 ||
	    buf_get_cstring(payload, CONF_NAME_MAX, &name) != 0 ||
	    buf_get_u32(payload, &id) != 0)
		goto out;
	/* Optional flags (a mover says who it is). */
	if (buf_len(payload) >= 4 && buf_get_u32(payload, &h->flags) != 0)
		goto out;
	if (ver != proto_version()) {
		log_err("node %s speaks protocol version %u, we speak %u: "
		    "refused", name, ver, proto_version());
		if (h->server) {
			buf_free(m);
			m = proto_error(SS_ERR_VERSION, "protocol version %u "
			    "not supported (%s speaks %u)", ver, h->self,
			    proto_version());
			if (m != NULL)
				ssh_channel_write(ch, buf_ptr(m), buf_len(m));
		}
		r = SS_ERR_VERSION;
		goto out;
	}
	if (id != h->node || (h->server ? 0 : strcmp(name, h->want.name))) {
		log_err("hello from %s (id %u) does not match node %u", name,
		    id, h->node);
		goto out;
	}
	if (h->server) {
		buf_free(m);
		if ((m = proto_msg_new(MSG_HELLO)) == NULL ||
		    buf_put_u32(m, proto_version()) != 0 ||
		    buf_put_cstring(m, h->self) != 0 ||
		    buf_put_u32(m, h->self_id) != 0 ||
		    proto_msg_finish(m) != 0 ||
		    ssh_channel_write(ch, buf_ptr(m), buf_len(m)) !=
		    (int)buf_len(m))
			goto out;
	}
	h->rest = in;
	in = NULL;
	r = 0;
out:
	free(name);
	free(emsg);
	buf_free(m);
	buf_free(in);
	buf_free(payload);
	return r;
}

static void *
hs_client(void *arg)
{
	struct hs *h = arg;
	char err[512];

	if (sshc_connect(h->addr, h->port, h->want.key, h->self, g.hostkey,
	    NODED_HANDSHAKE_TIMEOUT, &h->s, &h->ch, err, sizeof(err)) != 0) {
		if (strstr(err, "refused:") != NULL ||
		    strstr(err, "refused our key") != NULL)
			log_err("%s: %s", h->want.name, err);
		else
			log_debug("%s: %s", h->want.name, err);
		goto out;
	}
	h->node = h->want.id;
	if (hs_hello(h, h->ch) != 0)
		goto out;
	h->ok = 1;
out:
	hs_done(h);
	return NULL;
}

/* Server callbacks of a handshake thread; userdata is its struct hs. */
static int
hs_auth_pubkey(ssh_session s, const char *user, struct ssh_key_struct *key,
    char state, void *ud)
{
	struct hs *h = ud;
	char *b64 = NULL;
	size_t i;
	int ok = 0;

	(void)s;
	if (key == NULL || user == NULL ||
	    ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK)
		return SSH_AUTH_DENIED;
	for (i = 0; i < h->nnodes; i++)
		if (strcmp(h->nodes[i].name, user) == 0)
			break;
	if (i < h->nnodes && h->nodes[i].key[0] != '\0' &&
	    strcmp(h->nodes[i].key, b64) == 0)
		ok = 1;
	ssh_string_free_char(b64);
	if (!ok) {
		if (state != SSH_PUBLICKEY_STATE_NONE)
			log_err("refused %.64s: node or key not in the "
			    "cluster file", user);
		return SSH_AUTH_DENIED;
	}
	if (state == SSH_PUBLICKEY_STATE_VALID) {
		h->node = h->nodes[i].id;
		h->ok = 2;	/* authenticated; 1 once hello is done */
		return SSH_AUTH_SUCCESS;
	}
	if (state == SSH_PUBLICKEY_STATE_NONE)
		return SSH_AUTH_SUCCESS;	/* "this key would do" */
	return SSH_AUTH_DENIED;
}

static ssh_channel
hs_channel_open(ssh_session s, void *ud)
{
	struct hs *h = ud;

	if (h->ok != 2 || h->ch != NULL)
		return NULL;
	h->ch = ssh_channel_new(s);
	return h->ch;
}

static void *
hs_server(void *arg)
{
	struct hs *h = arg;
	struct ssh_server_callbacks_struct cb;
	ssh_event ev = NULL;
	int64_t deadline = now_ms() + NODED_HANDSHAKE_TIMEOUT * 1000;

	if ((h->s = ssh_new()) == NULL)
		goto out;
	if (ssh_bind_accept_fd(g.bind, h->s, h->fd) != SSH_OK) {
		log_warn("accept: %s", ssh_get_error(g.bind));
		goto out;
	}
	h->fd = -1;	/* the session owns it now */
	sshc_session_opts(h->s, NODED_HANDSHAKE_TIMEOUT);
	memset(&cb, 0, sizeof(cb));
	cb.userdata = h;
	cb.auth_pubkey_function = hs_auth_pubkey;
	cb.channel_open_request_session_function = hs_channel_open;
	ssh_callbacks_init(&cb);
	ssh_set_server_callbacks(h->s, &cb);
	ssh_set_auth_methods(h->s, SSH_AUTH_METHOD_PUBLICKEY);
	if (ssh_handle_key_exchange(h->s) != SSH_OK) {
		log_warn("key exchange: %s", ssh_get_error(h->s));
		goto out;
	}
	if ((ev = ssh_event_new()) == NULL ||
	    ssh_event_add_session(ev, h->s) != SSH_OK)
		goto out;
	while (h->ch == NULL || ssh_channel_is_open(h->ch) == 0) {
		if (ssh_event_dopoll(ev, 500) == SSH_ERROR ||
		    now_ms() > deadline || !ssh_is_connected(h->s)) {
			log_warn("peer handshake did not finish");
			goto out;
		}
	}
	ssh_event_remove_session(ev, h->s);
	ssh_event_free(ev);
	ev = NULL;
	if (hs_hello(h, h->ch) != 0)
		goto out;
	h->ok = 1;
out:
	if (ev != NULL) {
		ssh_event_remove_session(ev, h->s);
		ssh_event_free(ev);
	}
	if (h->ok != 1)
		h->ok = 0;
	hs_done(h);
	return NULL;
}

static void
set_ctl_callbacks(struct ssh_channel_callbacks_struct *cb,
    ssh_channel_data_callback fn, void *ud)
{
	memset(cb, 0, sizeof(*cb));
	cb->userdata = ud;
	cb->channel_data_function = fn;
	ssh_callbacks_init(cb);
}

/* Takes the sessions that handshake threads finished. */
void
peer_handshake_done(void)
{
	struct hs *h;
	struct peer *p;
	struct insess *is;

	while (read(g.hs_pipe[0], &h, sizeof(h)) == sizeof(h)) {
		g.handshakes--;
		if (!h->server) {
			p = peer_by_id(h->want.id);
			if (p != NULL)
				p->connecting = 0;
			if (!h->ok || p == NULL) {
				/* Back off: 0.5 s, 1 s, 2 s ... up to 10 s, so
				 * that a refused peer does not flood the log;
				 * its own connection to us brings it back at
				 * once (below). */
				if (p != NULL) {
					int64_t d = 500LL << (p->fails < 5 ?
					    p->fails : 5);

					p->fails++;
					p->retry_ms = now_ms() +
					    (d > 10000 ? 10000 : d);
				}
				hs_free(h);
				continue;
			}
			p->fails = 0;
			p->s = h->s;
			p->ctl = h->ch;
			h->s = NULL;
			h->ch = NULL;
			buf_reset(p->in);
			buf_reset(p->out);
			if (h->rest != NULL)
				buf_put(p->in, buf_ptr(h->rest),
				    buf_len(h->rest));
			ssh_set_blocking(p->s, 0);
			set_ctl_callbacks(&p->ccb, ctl_data, p);
			ssh_set_channel_callbacks(p->ctl, &p->ccb);
			if (ssh_event_add_session(g.event, p->s) == SSH_OK)
				p->in_event = 1;
			p->broken = 0;
			/* MSG_RUN seqs count per session (PROTOCOL). */
			p->runs_sent = 0;
			p->load.runs_seen = 0;
			log_info("connected to %s", p->name);
			peer_heard(p->id);
			peer_push_load();
			hjob_attach_all(p->id);
			hs_free(h);
			continue;
		}
		if (!h->ok) {
			hs_free(h);
			continue;
		}
		if ((is = calloc(1, sizeof(*is))) == NULL ||
		    (is->in = buf_new(PROTO_MAX_FRAME + 65536)) == NULL ||
		    (is->out = buf_new(64u * 1024 * 1024)) == NULL) {
			if (is != NULL)
				buf_free(is->in);
			free(is);
			hs_free(h);
			continue;
		}
		is->id = ++g.next_id;
		is->node = h->node;
		is->s = h->s;
		is->ctl = h->ch;
		h->s = NULL;
		h->ch = NULL;
		if (h->rest != NULL)
			buf_put(is->in, buf_ptr(h->rest), buf_len(h->rest));
		ssh_set_blocking(is->s, 0);
		set_ctl_callbacks(&is->ccb, in_data, is);
		ssh_set_channel_callbacks(is->ctl, &is->ccb);
		memset(&is->scb, 0, sizeof(is->scb));
		is->scb.userdata = is;
		is->scb.channel_open_request_session_function = in_channel_open;
		ssh_callbacks_init(&is->scb);
		ssh_set_server_callbacks(is->s, &is->scb);
		is->mover = (h->flags & HELLO_MOVER) != 0;
		/* A mover's session carries an image: its own event, so that
		 * reading it polls one socket, not all of ours. */
		if (is->mover && (is->ev = ssh_event_new()) != NULL &&
		    ssh_event_add_session(is->ev, is->s) != SSH_OK) {
			ssh_event_free(is->ev);
			is->ev = NULL;
		}
		if (is->ev == NULL &&
		    ssh_event_add_session(g.event, is->s) == SSH_OK)
			is->in_event = 1;
		TAILQ_INSERT_TAIL(&g.insess, is, entry);
		if (is->mover)
			log_debug("a mover of %s connected to us",
			    node_name(is->node));
		else
			log_info("%s connected to us", node_name(is->node));
		if (!is->mover && (p = peer_by_id(is->node)) != NULL) {
			p->runs_taken = 0;	/* its seqs start again */
			if (p->s == NULL && !p->connecting)
				p->retry_ms = 0;	/* it is back: connect now */
		}
		peer_heard(is->node);
		insess_frames(is);
		hs_free(h);
	}
}

static int
ctl_data(ssh_session s, ssh_channel ch, void *data, uint32_t len,
    int is_stderr, void *ud)
{
	struct peer *p = ud;

	(void)s;
	(void)ch;
	(void)is_stderr;
	if (buf_put(p->in, data, len) != 0) {
		p->broken = 1;
		return len;
	}
	peer_frames(p);
	return len;
}

static int
in_data(ssh_session s, ssh_channel ch, void *data, uint32_t len,
    int is_stderr, void *ud)
{
	struct insess *is = ud;

	(void)s;
	(void)ch;
	(void)is_stderr;
	if (is->dead)
		return len;
	if (buf_put(is->in, data, len) != 0) {
		is->dead = 1;
		return len;
	}
	insess_frames(is);
	return len;
}

/* Replies to our calls, on our outgoing session to p. */
static void
peer_frames(struct peer *p)
{
	struct buf *payload, *inner_frame = NULL, *inner = NULL;
	struct call *c;
	uint32_t reqid;
	uint8_t type, itype;
	int r;

	while (!p->broken) {
		r = proto_frame_take(p->in, &type, &payload);
		if (r == SS_ERR_SHORT)
			return;
		if (r != 0 || type != MSG_PEER_REPLY ||
		    buf_get_u32(payload, &reqid) != 0 ||
		    buf_get_stringb(payload, &inner_frame) != 0 ||
		    proto_frame_take(inner_frame, &itype, &inner) != 0) {
			log_err("%s: bad reply frame: dropping the session",
			    p->name);
			buf_free(payload);
			buf_free(inner_frame);
			p->broken = 1;
			return;
		}
		peer_heard(p->id);
		TAILQ_FOREACH(c, &p->calls, entry)
			if (c->reqid == reqid)
				break;
		if (c != NULL) {
			TAILQ_REMOVE(&p->calls, c, entry);
			if (c->cb != NULL)
				c->cb(c->arg, itype, inner);
			free(c);
		}
		buf_free(payload);
		buf_free(inner_frame);
		buf_free(inner);
		inner_frame = inner = NULL;
	}
}

/* A peer's requests and load reports, on its session to us. */
static void
insess_frames(struct insess *is)
{
	struct buf *payload = NULL, *inner_frame = NULL, *inner = NULL;
	struct req r;
	char *user = NULL;
	uint32_t uid, gid;
	uint8_t type, itype;
	int rc;

	while (!is->dead) {
		rc = proto_frame_take(is->in, &type, &payload);
		if (rc == SS_ERR_SHORT)
			return;
		if (rc != 0)
			goto bad;
		peer_heard(is->node);
		memset(&r, 0, sizeof(r));
		r.kind = REQ_PEER;
		r.origin = is->id;
		r.from_node = is->node;
		if (type == MSG_LOAD) {
			rpc_load(&r, payload);
			buf_free(payload);
			continue;
		}
		if (type != MSG_PEER_CALL ||
		    buf_get_u32(payload, &r.reqid) != 0 ||
		    buf_get_u32(payload, &uid) != 0 ||
		    buf_get_u32(payload, &gid) != 0 ||
		    buf_get_cstring(payload, PROTO_MAX_NAME - 1, &user) != 0 ||
		    buf_get_stringb(payload, &inner_frame) != 0 ||
		    proto_frame_take(inner_frame, &itype, &inner) != 0)
			goto bad;
		r.uid = uid;
		r.gid = gid;
		snprintf(r.user, sizeof(r.user), "%s", user);
		rpc_dispatch(&r, itype, inner);
		free(user);
		buf_free(payload);
		buf_free(inner_frame);
		buf_free(inner);
		user = NULL;
		payload = inner_frame = inner = NULL;
	}
	return;
bad:
	log_err("%s: malformed message: dropping its session",
	    node_name(is->node));
	free(user);
	buf_free(payload);
	buf_free(inner_frame);
	buf_free(inner);
	is->dead = 1;
}

/* Writes as much of q as the channel's window takes. */
static void
ctl_flush(ssh_channel ch, struct buf *q)
{
	uint32_t w;
	size_t n;
	int rc;

	while (buf_len(q) > 0 && ch != NULL) {
		w = ssh_channel_window_size(ch);
		if (w == 0)
			return;
		n = buf_len(q) < w ? buf_len(q) : w;
		if (n > 65536)
			n = 65536;
		rc = ssh_channel_write(ch, buf_ptr(q), n);
		if (rc <= 0)
			return;
		buf_consume(q, (size_t)rc);
		g.wrote_ssh = 1;
	}
}

static int
ctl_queue(ssh_channel ch, struct buf *q, const struct buf *frame)
{
	int r;

	if ((r = buf_put(q, buf_ptr(frame), buf_len(frame))) != 0)
		return r;
	ctl_flush(ch, q);
	return 0;
}

int
peer_send_frame(struct peer *p, struct buf *frame)
{
	int r;

	if (p->s == NULL || p->broken) {
		buf_free(frame);
		return SS_ERR_DOWN;
	}
	r = ctl_queue(p->ctl, p->out, frame);
	buf_free(frame);
	return r;
}

int
peer_call(struct peer *p, const struct req *who, struct buf *frame,
    call_cb cb, void *arg)
{
	struct buf *m;
	struct call *c;
	int r;

	if (p->s == NULL || p->broken || p->state != PEER_UP) {
		buf_free(frame);
		return SS_ERR_DOWN;
	}
	if ((r = proto_msg_finish(frame)) != 0) {
		buf_free(frame);
		return r;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (m = proto_msg_new(MSG_PEER_CALL)) == NULL) {
		free(c);
		buf_free(frame);
		return SS_ERR_ALLOC;
	}
	c->reqid = ++p->next_reqid;
	c->deadline_ms = now_ms() + NODED_CALL_TIMEOUT_MS;
	c->cb = cb;
	c->arg = arg;
	if ((r = buf_put_u32(m, c->reqid)) != 0 ||
	    (r = buf_put_u32(m, who != NULL ? who->uid : 0)) != 0 ||
	    (r = buf_put_u32(m, who != NULL ? who->gid : 0)) != 0 ||
	    (r = buf_put_cstring(m, who != NULL ? who->user : "root")) != 0 ||
	    (r = buf_put_stringb(m, frame)) != 0 ||
	    (r = proto_msg_finish(m)) != 0 ||
	    (r = ctl_queue(p->ctl, p->out, m)) != 0) {
		free(c);
		buf_free(m);
		buf_free(frame);
		return r;
	}
	buf_free(m);
	buf_free(frame);
	TAILQ_INSERT_TAIL(&p->calls, c, entry);
	return 0;
}

/* Drops a peer's session to us after a malformed request. */
void
insess_drop(uint64_t id)
{
	struct insess *is;

	TAILQ_FOREACH(is, &g.insess, entry) {
		if (is->id == id && !is->dead) {
			log_warn("%s sent a malformed request: dropping its "
			    "session", node_name(is->node));
			is->dead = 1;
		}
	}
}

int
insess_reply(uint64_t id, uint32_t reqid, struct buf *frame)
{
	struct insess *is;
	struct buf *m;
	int r;

	TAILQ_FOREACH(is, &g.insess, entry)
		if (is->id == id && !is->dead)
			break;
	if (is == NULL || (m = proto_msg_new(MSG_PEER_REPLY)) == NULL) {
		buf_free(frame);
		return SS_ERR_NOT_FOUND;
	}
	if ((r = buf_put_u32(m, reqid)) != 0 ||
	    (r = buf_put_stringb(m, frame)) != 0 ||
	    (r = proto_msg_finish(m)) != 0 ||
	    (r = ctl_queue(is->ctl, is->out, m)) != 0)
		is->dead = 1;
	buf_free(m);
	buf_free(frame);
	return r;
}

/* Calls every pending callback with an error. */
void
peer_fail_calls(struct peer *p, const char *why)
{
	struct callq q;
	struct call *c;
	struct buf *e, *payload;
	uint8_t type;

	TAILQ_INIT(&q);
	TAILQ_CONCAT(&q, &p->calls, entry);
	while ((c = TAILQ_FIRST(&q)) != NULL) {
		TAILQ_REMOVE(&q, c, entry);
		payload = NULL;
		if (c->cb == NULL)
			e = NULL;	/* nobody waits for this one */
		else if ((e = proto_error(SS_ERR_DOWN, "%s: %s", p->name,
		    why)) != NULL && proto_frame_take(e, &type, &payload) == 0)
			c->cb(c->arg, type, payload);
		else
			c->cb(c->arg, MSG_ERROR, NULL);
		buf_free(e);
		buf_free(payload);
		free(c);
	}
}

void
peer_teardown(struct peer *p, const char *why)
{
	if (p->s == NULL)
		return;
	log_info("session to %s closed: %s", p->name, why);
	hjob_detached(p->id);
	if (p->in_event)
		ssh_event_remove_session(g.event, p->s);
	p->in_event = 0;
	if (p->ctl != NULL)
		ssh_channel_free(p->ctl);
	p->ctl = NULL;
	ssh_disconnect(p->s);
	ssh_free(p->s);
	p->s = NULL;
	p->broken = 0;
	buf_reset(p->in);
	buf_reset(p->out);
	p->retry_ms = now_ms() + 500;
	peer_fail_calls(p, why);
}

static void
insess_free(struct insess *is)
{
	struct rjob *rj;

	TAILQ_FOREACH(rj, &g.rjobs, entry) {
		if (rj->ch_session == is->s) {
			/* The channel dies with the session. */
			rj->ch = NULL;
			rj->ch_session = NULL;
		}
	}
	job_session_gone(is->s);
	if (is->in_event)
		ssh_event_remove_session(g.event, is->s);
	if (is->ev != NULL) {
		ssh_event_remove_session(is->ev, is->s);
		ssh_event_free(is->ev);
	}
	if (is->ctl != NULL)
		ssh_channel_free(is->ctl);
	ssh_disconnect(is->s);
	ssh_free(is->s);
	buf_free(is->in);
	buf_free(is->out);
	free(is);
}

void
peer_heard(unsigned id)
{
	struct peer *p;

	if ((p = peer_by_id(id)) == NULL)
		return;
	p->last_heard_ms = now_ms();
	/* Up means usable: we hear it and can send it requests and jobs. */
	if (p->state != PEER_UP && p->s != NULL && !p->broken) {
		p->state = PEER_UP;
		p->reported = 0;
		log_info("%s is up", p->name);
		dir_node_set_state(g.dir, p->id, "up");
	}
}

void
peer_push_load(void)
{
	struct load_report l;
	struct peer *p;
	struct buf *m;

	memset(&l, 0, sizeof(l));
	l.load_milli = (uint32_t)(g.load * 1000 + 0.5);
	l.jobs = (uint32_t)rjob_count();
	l.cpus = g.cpus;
	l.mem_kb = sys_mem_total_kb();
	l.memfree_kb = sys_mem_avail_kb();
	l.draining = (uint8_t)g.draining;
	TAILQ_FOREACH(p, &g.peers, entry) {
		if (p->s == NULL || p->broken)
			continue;
		l.runs_seen = p->runs_taken;
		if ((m = proto_msg_new(MSG_LOAD)) == NULL ||
		    load_report_put(m, &l) != 0 || proto_msg_finish(m) != 0) {
			buf_free(m);
			continue;
		}
		peer_send_frame(p, m);
	}
}

/* Every round: flush queues, notice dead sessions. */
void
peer_session_io(void)
{
	struct peer *p;
	struct insess *is, *tis;

	TAILQ_FOREACH(p, &g.peers, entry) {
		if (p->s == NULL)
			continue;
		if (p->broken || !ssh_is_connected(p->s) ||
		    ssh_channel_is_closed(p->ctl) || ssh_channel_is_eof(p->ctl)) {
			peer_teardown(p, "connection lost");
			continue;
		}
		ctl_flush(p->ctl, p->out);
	}
	TAILQ_FOREACH_SAFE(is, &g.insess, entry, tis) {
		if (!is->dead && (!ssh_is_connected(is->s) ||
		    ssh_channel_is_closed(is->ctl) ||
		    ssh_channel_is_eof(is->ctl)))
			is->dead = 1;
		if (is->dead) {
			log_info("%s's session to us closed",
			    node_name(is->node));
			TAILQ_REMOVE(&g.insess, is, entry);
			insess_free(is);
			continue;
		}
		ctl_flush(is->ctl, is->out);
	}
}

/*
 * Movers' sessions, each on its own libssh event: libssh reads a socket
 * 4 KiB per poll, so an image of a GiB takes a quarter of a million
 * rounds.  Here they cost a poll of one socket each, not a round of the
 * whole loop over all our descriptors.  At most MOVER_ROUNDS reads per
 * session per round of the loop, fewer when it has nothing more to read
 * or its image's socket is full (the rest waits in libssh and the sender's
 * window), so that the loop's other work still gets its turn.
 */
#define MOVER_ROUNDS	256

void
peer_mover_io(void)
{
	struct insess *is;
	int k;

	TAILQ_FOREACH(is, &g.insess, entry) {
		if (is->ev == NULL || is->dead)
			continue;
		for (k = 0; k < MOVER_ROUNDS; k++) {
			g.img_stalled = 0;
			if (ssh_event_dopoll(is->ev, 0) != SSH_OK ||
			    g.img_stalled)
				break;
		}
	}
}

/* Timers: reconnections, call timeouts, down detection. */
void
peer_tick(void)
{
	struct peer *p;
	struct call *c, *tc;
	struct buf *e, *payload;
	uint8_t type;
	int64_t now = now_ms();

	TAILQ_FOREACH(p, &g.peers, entry) {
		if (p->s == NULL && !p->connecting && now >= p->retry_ms &&
		    p->key[0] != '\0')
			peer_connect(p);
		TAILQ_FOREACH_SAFE(c, &p->calls, entry, tc) {
			if (c->deadline_ms > now)
				continue;
			TAILQ_REMOVE(&p->calls, c, entry);
			payload = NULL;
			e = NULL;
			if (c->cb != NULL && (e = proto_error(SS_ERR_TIMEOUT,
			    "%s: no answer", p->name)) != NULL &&
			    proto_frame_take(e, &type, &payload) == 0)
				c->cb(c->arg, type, payload);
			buf_free(e);
			buf_free(payload);
			free(c);
		}
		if (p->state == PEER_UP &&
		    now - p->last_heard_ms > NODED_PEER_DOWN_MS) {
			p->state = PEER_DOWN;
			log_warn("%s is down: silent for %d s", p->name,
			    NODED_PEER_DOWN_MS / 1000);
			dir_node_set_state(g.dir, p->id, "down");
			peer_fail_calls(p, "node is down");
		}
	}
}

/* Appends the poll entries of established sessions. */
void
peer_poll_fds(struct pollfd *pfd, size_t *n, size_t max)
{
	struct peer *p;
	struct insess *is;

	TAILQ_FOREACH(p, &g.peers, entry) {
		if (p->s != NULL && *n < max) {
			pfd[*n].fd = ssh_get_fd(p->s);
			pfd[*n].events = POLLIN;
			(*n)++;
		}
	}
	TAILQ_FOREACH(is, &g.insess, entry) {
		if (*n < max) {
			pfd[*n].fd = ssh_get_fd(is->s);
			pfd[*n].events = POLLIN;
			(*n)++;
		}
	}
}

/* A home node opens an "attach GPID" channel on its session to us. */
static ssh_channel
in_channel_open(ssh_session s, void *ud)
{
	struct insess *is = ud;
	ssh_channel ch;

	if (is->dead || (ch = ssh_channel_new(s)) == NULL)
		return NULL;
	if (job_channel_setup(ch, s, is->node) != 0) {
		ssh_channel_free(ch);
		return NULL;
	}
	return ch;
}
