/*
 * loop.c: noded's one event loop.
 *
 * Each round: poll(2) over our own descriptors and the sockets of the
 * established SSH sessions; dispatch what is ready; let libssh process
 * its sessions without blocking (ssh_event_dopoll with timeout 0); flush
 * queues and drive the state machines of channels and jobs; run the
 * timers; then free what was marked dead during the round.  Nothing is
 * freed while a callback might still hold it.  After a round that wrote to
 * an SSH channel the next poll waits at most a few milliseconds, so that
 * libssh gets to flush what the kernel did not take at once.
 */
#include <sys/signalfd.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "noded.h"

enum pkind { K_UNIX, K_TCP, K_HS, K_SIG, K_CONN, K_RJOB, K_SESS };

void	peer_accept(void);
void	peer_poll_fds(struct pollfd *, size_t *, size_t);
int	noded_reload(void);

static void
handle_signals(void)
{
	struct signalfd_siginfo si;
	int st;

	while (read(g.sig_fd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP:
			g.reload = 1;
			break;
		case SIGTERM:
		case SIGINT:
			g.quit = 1;
			break;
		case SIGCHLD:
			/* Shepherds' launchers: they exit at once. */
			while (waitpid(-1, &st, WNOHANG) > 0)
				;
			break;
		}
	}
}

static void
reap_conns(void)
{
	struct conn *c, *t;

	TAILQ_FOREACH_SAFE(c, &g.conns, entry, t) {
		if (!c->dead)
			continue;
		TAILQ_REMOVE(&g.conns, c, entry);
		close(c->fd);
		buf_free(c->in);
		buf_free(c->out);
		free(c);
	}
}

static size_t
count_fds(void)
{
	struct conn *c;
	struct rjob *rj;
	struct peer *p;
	struct insess *is;
	size_t n = 8;

	TAILQ_FOREACH(c, &g.conns, entry)
		n++;
	TAILQ_FOREACH(rj, &g.rjobs, entry)
		n += 4;
	TAILQ_FOREACH(p, &g.peers, entry)
		n++;
	TAILQ_FOREACH(is, &g.insess, entry)
		n++;
	return n;
}

int
loop_run(void)
{
	struct pollfd *pfd = NULL;
	void **owner = NULL;
	enum pkind *kind = NULL;
	size_t cap = 0, n, i, j;
	struct conn *c;
	int64_t next_load = 0, next_purge = 0, now;
	int timeout;

	while (!g.quit) {
		size_t want = count_fds();

		if (want > cap) {
			free(pfd);
			free(owner);
			free(kind);
			cap = want * 2;
			pfd = calloc(cap, sizeof(*pfd));
			owner = calloc(cap, sizeof(*owner));
			kind = calloc(cap, sizeof(*kind));
			if (pfd == NULL || owner == NULL || kind == NULL) {
				log_err("out of memory");
				return SS_ERR_ALLOC;
			}
		}
		n = 0;
#define ADD(f, ev, k, o) do { pfd[n].fd = (f); pfd[n].events = (ev); \
	pfd[n].revents = 0; kind[n] = (k); owner[n] = (o); n++; } while (0)
		ADD(g.unix_fd, POLLIN, K_UNIX, NULL);
		if (g.tcp_fd != -1)
			ADD(g.tcp_fd, POLLIN, K_TCP, NULL);
		ADD(g.hs_pipe[0], POLLIN, K_HS, NULL);
		ADD(g.sig_fd, POLLIN, K_SIG, NULL);
		TAILQ_FOREACH(c, &g.conns, entry)
			if (!c->dead)
				ADD(c->fd, POLLIN | (buf_len(c->out) > 0 ?
				    POLLOUT : 0), K_CONN, c);
		j = n;
		rjob_poll_fds(pfd, owner, &n, cap);
		for (; j < n; j++) {
			kind[j] = K_RJOB;
			pfd[j].revents = 0;
		}
		j = n;
		peer_poll_fds(pfd, &n, cap);
		for (; j < n; j++) {
			kind[j] = K_SESS;
			owner[j] = NULL;
			pfd[j].revents = 0;
		}
#undef ADD
		timeout = g.wrote_ssh ? 2 : 100;
		g.wrote_ssh = 0;
		if (poll(pfd, n, timeout) == -1 && errno != EINTR) {
			log_err_r(SS_ERR_SYSTEM, "poll");
			return SS_ERR_SYSTEM;
		}
		for (i = 0; i < n; i++) {
			if (pfd[i].revents == 0)
				continue;
			switch (kind[i]) {
			case K_UNIX:
				local_accept();
				break;
			case K_TCP:
				peer_accept();
				break;
			case K_HS:
				peer_handshake_done();
				break;
			case K_SIG:
				handle_signals();
				break;
			case K_CONN:
				c = owner[i];
				if (!c->dead)
					local_io(c, pfd[i].revents);
				break;
			case K_RJOB:
				if (!((struct rjob *)owner[i])->dead)
					rjob_io(owner[i], pfd[i].fd,
					    pfd[i].revents);
				break;
			case K_SESS:
				break;
			}
		}
		ssh_event_dopoll(g.event, 0);
		peer_mover_io();
		peer_session_io();
		hjob_tick();
		rjob_pump();
		peer_tick();
		mig_tick();
		now = now_ms();
		if (now >= next_load) {
			double r = sys_runnable();

			/* A short average: a new CPU-bound job shows within
			 * a few seconds, a blip does not swing placement. */
			g.load = g.load * 0.6 + r * 0.4;
			next_load = now + NODED_LOAD_MS;
			peer_push_load();
			dir_checkpoint(g.dir);
		}
		if (now >= next_purge) {
			dir_purge(g.dir, now_s(),
			    (int64_t)g.conf->keep_days * 86400);
			next_purge = now + 3600 * 1000;
		}
		if (g.reload) {
			g.reload = 0;
			noded_reload();
		}
		rjob_reap();
		hjob_reap();
		job_chan_reap();
		hjob_chan_reap();
		reap_conns();
	}
	free(pfd);
	free(owner);
	free(kind);
	return 0;
}
