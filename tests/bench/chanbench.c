/*
 * chanbench: the raw throughput of ONE libssh session channel on loopback,
 * and of memcpy, so that a migration's image throughput can be put beside
 * the physical limits of the machine (issue 6, "Benchmarks").
 *
 * A server and a client in one program: the parent is the client, a forked
 * child is the server (two processes, as the source and target noded are).
 * Both use the session options noded uses (noded/peer.c session_opts:
 * TCP_NODELAY, no ~/.ssh/config, one cipher), an ed25519 host key made in
 * memory, "none" authentication, one session channel.  The client writes N
 * MiB as fast as ssh_channel_write lets it; the server reads and discards
 * them and answers one byte when it has them all; the time runs from the
 * first write to that byte.  The handshake is not timed.  On a shared
 * 2-core machine one transfer varies by +-30%, so each cipher is measured
 * a few times and the median is the figure (the best beside it).
 * Writes of 256 KiB were the fastest here; 64 KiB (libssh's own buffer
 * size) and 1 MiB were 10-20% slower, within a noisy spread (-b, -r).
 *
 * Then the first cipher once more with the server reading straight into
 * memory it has never touched (mmap'd per transfer, no copy of its own):
 * about the least a restore must do with a job's pages, which are new on
 * the target.  On a VM that gives memory back to its host a page's first
 * touch is dear, and this is where it shows.
 *
 * Output, one line per figure, the number always in field 3 (MB = 10^6 B):
 *   channel aes128-gcm@openssh.com 951.2 MB/s median, best 990.1 MB/s, 3 x 1024 MiB, 2.61 CPU s per GiB
 *   channel chacha20-poly1305@openssh.com 548.0 MB/s median, best ...
 *   placed aes128-gcm@openssh.com 610.4 MB/s median, best ...
 *   memcpy 256MiB 9.81 GB/s best of 5
 * (CPU s per GiB: the CPU time of both ends together, median, per GiB.)
 * A cipher that fails prints "channel CIPHER error: why" and makes the exit
 * status 1; the other figures are still measured.
 *
 * usage: chanbench [-n MiB] [-k N] [-c CIPHER]... [-b KiB] [-r KiB] [-M] [-C] [-P]
 *   -n MiB     bytes to move per transfer (default 1024)
 *   -k N       transfers per cipher, each on a fresh session (default 3)
 *   -b KiB     bytes per ssh_channel_write on the client (default 256)
 *   -r KiB     bytes per ssh_channel_read on the server (default 256)
 *   -c CIPHER  a cipher to measure (repeatable; default the two above)
 *   -M         no memcpy figure        -C  no channel figures
 *   -P         no "placed" figure
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libssh/libssh.h>
#include <libssh/server.h>

#define CHUNK_MAX	(4 << 20)
#define MEMCPY_SIZE	((size_t)256 << 20)
#define MEMCPY_ROUNDS	5
#define TIMEOUT_S	30L
#define MAX_ROUNDS	99

static size_t chunk = 256 * 1024;	/* bytes per write (-b) */
static size_t rchunk = 256 * 1024;	/* bytes per read (-r) */
static int place;			/* the server reads into new memory */

static double
now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
		perror("chanbench: clock_gettime");
		exit(2);
	}
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
opts(ssh_session s, const char *cipher)
{
	long timeout = TIMEOUT_S;
	int one = 1, zero = 0, verbosity = SSH_LOG_NOLOG;

	if (ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout) != SSH_OK ||
	    ssh_options_set(s, SSH_OPTIONS_NODELAY, &one) != SSH_OK ||
	    ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &zero) != SSH_OK ||
	    ssh_options_set(s, SSH_OPTIONS_LOG_VERBOSITY, &verbosity) !=
	    SSH_OK ||
	    ssh_options_set(s, SSH_OPTIONS_CIPHERS_C_S, cipher) != SSH_OK ||
	    ssh_options_set(s, SSH_OPTIONS_CIPHERS_S_C, cipher) != SSH_OK) {
		printf("channel %s error: options: %s\n", cipher,
		    ssh_get_error(s));
		return -1;
	}
	return 0;
}

/* The server: accept one connection on lfd, let "none" in, accept one
 * session channel, read `total` bytes, answer one byte, wait for EOF. */
static int
server(int lfd, ssh_key key, const char *cipher, uint64_t total)
{
	ssh_bind b = NULL;
	ssh_session s = NULL;
	ssh_channel ch = NULL;
	ssh_message m;
	static char buf[CHUNK_MAX];
	char *dst = NULL;
	uint64_t got = 0;
	uint32_t want;
	int fd, n, rc = 1;

	if ((fd = accept(lfd, NULL, NULL)) == -1) {
		perror("chanbench: server: accept");
		return 1;
	}
	if ((b = ssh_bind_new()) == NULL || (s = ssh_new()) == NULL) {
		fprintf(stderr, "chanbench: server: out of memory\n");
		goto out;
	}
	if (ssh_bind_options_set(b, SSH_BIND_OPTIONS_IMPORT_KEY, key) !=
	    SSH_OK ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_CIPHERS_C_S, cipher) !=
	    SSH_OK ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_CIPHERS_S_C, cipher) !=
	    SSH_OK) {
		fprintf(stderr, "chanbench: server: ssh_bind: %s\n",
		    ssh_get_error(b));
		goto out;
	}
	if (opts(s, cipher) != 0)
		goto out;
	if (ssh_bind_accept_fd(b, s, fd) != SSH_OK) {
		fprintf(stderr, "chanbench: server: accept_fd: %s\n",
		    ssh_get_error(b));
		goto out;
	}
	fd = -1;	/* the session owns it now */
	ssh_set_auth_methods(s, SSH_AUTH_METHOD_NONE);
	if (ssh_handle_key_exchange(s) != SSH_OK) {
		fprintf(stderr, "chanbench: server: key exchange: %s\n",
		    ssh_get_error(s));
		goto out;
	}
	/* Authentication, then the channel, through the message API. */
	while (ch == NULL) {
		if ((m = ssh_message_get(s)) == NULL) {
			fprintf(stderr, "chanbench: server: %s\n",
			    ssh_get_error(s));
			goto out;
		}
		if (ssh_message_type(m) == SSH_REQUEST_AUTH) {
			if (ssh_message_auth_reply_success(m, 0) != SSH_OK)
				goto msgfail;
		} else if (ssh_message_type(m) == SSH_REQUEST_CHANNEL_OPEN &&
		    ssh_message_subtype(m) == SSH_CHANNEL_SESSION) {
			ch = ssh_message_channel_request_open_reply_accept(m);
			if (ch == NULL)
				goto msgfail;
		} else if (ssh_message_reply_default(m) != SSH_OK) {
			goto msgfail;
		}
		ssh_message_free(m);
		continue;
msgfail:
		ssh_message_free(m);
		fprintf(stderr, "chanbench: server: reply: %s\n",
		    ssh_get_error(s));
		goto out;
	}
	if (place && (dst = mmap(NULL, total, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) == MAP_FAILED) {
		perror("chanbench: server: mmap");
		dst = NULL;
		goto out;
	}
	while (got < total) {
		want = total - got < rchunk ? (uint32_t)(total - got) :
		    (uint32_t)rchunk;
		n = ssh_channel_read(ch, dst != NULL ? dst + got : buf, want,
		    0);
		if (n <= 0) {
			fprintf(stderr, "chanbench: server: read: %s\n",
			    n == 0 ? "early EOF" : ssh_get_error(s));
			goto out;
		}
		got += (uint64_t)n;
	}
	if (ssh_channel_write(ch, "k", 1) != 1) {
		fprintf(stderr, "chanbench: server: write: %s\n",
		    ssh_get_error(s));
		goto out;
	}
	/* Until the client closes, so that the "k" is not cut short. */
	while ((n = ssh_channel_read(ch, buf, sizeof(buf), 0)) > 0)
		;
	rc = 0;
out:
	if (ch != NULL)
		ssh_channel_free(ch);
	if (s != NULL) {
		ssh_disconnect(s);
		ssh_free(s);
	}
	if (b != NULL)
		ssh_bind_free(b);
	if (fd != -1)
		close(fd);
	if (dst != NULL && munmap(dst, total) != 0)
		perror("chanbench: server: munmap");
	return rc;
}

/* The client: connect, authenticate with "none", open a channel, write
 * `total` bytes, wait for the server's byte.  Returns the seconds, or a
 * negative number after printing why. */
static double
client(unsigned port, const char *cipher, uint64_t total)
{
	ssh_session s;
	ssh_channel ch = NULL;
	static char buf[CHUNK_MAX];
	const char *in, *out;
	uint64_t sent = 0;
	double t0, t = -1;
	uint32_t len;
	char k;
	int n;

	/* Incompressible-looking data, though nothing compresses here. */
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 2654435761u >> 13);
	if ((s = ssh_new()) == NULL) {
		printf("channel %s error: out of memory\n", cipher);
		return -1;
	}
	if (opts(s, cipher) != 0)
		goto out;
	if (ssh_options_set(s, SSH_OPTIONS_HOST, "127.0.0.1") != SSH_OK ||
	    ssh_options_set(s, SSH_OPTIONS_PORT, &port) != SSH_OK ||
	    ssh_options_set(s, SSH_OPTIONS_USER, "bench") != SSH_OK ||
	    ssh_options_set(s, SSH_OPTIONS_HOSTKEYS, "ssh-ed25519") !=
	    SSH_OK ||
	    ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, "/dev/null") !=
	    SSH_OK ||
	    ssh_options_set(s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null") !=
	    SSH_OK) {
		printf("channel %s error: options: %s\n", cipher,
		    ssh_get_error(s));
		goto out;
	}
	if (ssh_connect(s) != SSH_OK) {
		printf("channel %s error: connect: %s\n", cipher,
		    ssh_get_error(s));
		goto out;
	}
	in = ssh_get_cipher_in(s);
	out = ssh_get_cipher_out(s);
	if (in == NULL || out == NULL || strcmp(in, cipher) != 0 ||
	    strcmp(out, cipher) != 0) {
		printf("channel %s error: negotiated %s/%s\n", cipher,
		    in ? in : "?", out ? out : "?");
		goto out;
	}
	if (ssh_userauth_none(s, NULL) != SSH_AUTH_SUCCESS) {
		printf("channel %s error: auth: %s\n", cipher,
		    ssh_get_error(s));
		goto out;
	}
	if ((ch = ssh_channel_new(s)) == NULL ||
	    ssh_channel_open_session(ch) != SSH_OK) {
		printf("channel %s error: channel: %s\n", cipher,
		    ssh_get_error(s));
		goto out;
	}
	t0 = now();
	while (sent < total) {
		len = total - sent < chunk ? (uint32_t)(total - sent) :
		    (uint32_t)chunk;
		n = ssh_channel_write(ch, buf, len);
		if (n < 0) {
			printf("channel %s error: write: %s\n", cipher,
			    ssh_get_error(s));
			goto out;
		}
		sent += (uint64_t)n;
	}
	n = ssh_channel_read_timeout(ch, &k, 1, 0, (int)TIMEOUT_S * 1000);
	if (n != 1 || k != 'k') {
		printf("channel %s error: no answer from the server: %s\n",
		    cipher, n < 0 ? ssh_get_error(s) : "timeout or EOF");
		goto out;
	}
	t = now() - t0;
	if (ssh_channel_send_eof(ch) != SSH_OK)
		fprintf(stderr, "chanbench: send_eof: %s\n", ssh_get_error(s));
out:
	if (ch != NULL) {
		ssh_channel_close(ch);
		ssh_channel_free(ch);
	}
	ssh_disconnect(s);
	ssh_free(s);
	return t;
}

static double
cpu_s(const struct rusage *ru)
{
	return (double)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) +
	    (double)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) / 1e6;
}

/* One transfer of `total` bytes through a fresh session: its seconds, or a
 * negative number after printing why; in *cpu the CPU seconds that both
 * ends took (the handshake's too, a few ms). */
static double
one_channel(const char *cipher, uint64_t total, double *cpu)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	struct rusage self0, self1, srv;
	ssh_key key = NULL;
	pid_t pid;
	int lfd, st;
	double t;

	if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) != SSH_OK) {
		printf("channel %s error: ssh_pki_generate failed\n", cipher);
		return -1;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(lfd, 1) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &sl) != 0) {
		printf("channel %s error: socket: %s\n", cipher,
		    strerror(errno));
		if (lfd != -1)
			close(lfd);
		ssh_key_free(key);
		return -1;
	}
	if (fflush(stdout) != 0 || (pid = fork()) == -1) {
		printf("channel %s error: fork: %s\n", cipher,
		    strerror(errno));
		close(lfd);
		ssh_key_free(key);
		return -1;
	}
	if (pid == 0) {
		alarm(TIMEOUT_S * 4);	/* never outlive a stuck client */
		_exit(server(lfd, key, cipher, total));
	}
	close(lfd);
	ssh_key_free(key);
	if (getrusage(RUSAGE_SELF, &self0) != 0)
		memset(&self0, 0, sizeof(self0));
	t = client(ntohs(sin.sin_port), cipher, total);
	if (getrusage(RUSAGE_SELF, &self1) != 0)
		memset(&self1, 0, sizeof(self1));
	if (t < 0 && kill(pid, SIGTERM) != 0 && errno != ESRCH)
		perror("chanbench: kill server");
	memset(&srv, 0, sizeof(srv));
	while (wait4(pid, &st, 0, &srv) == -1) {
		if (errno != EINTR) {
			perror("chanbench: waitpid");
			return -1;
		}
	}
	if (t >= 0 && !(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
		printf("channel %s error: the server failed\n", cipher);
		return -1;
	}
	*cpu = cpu_s(&self1) - cpu_s(&self0) + cpu_s(&srv);
	return t;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of n values (sorted in place). */
static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(v[0]), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* `rounds` transfers; prints the median and the best.  With into_new,
 * the server reads into memory it has never touched (see above). */
static int
bench_channel(const char *cipher, uint64_t total, int rounds, int into_new)
{
	double t[MAX_ROUNDS], cpu[MAX_ROUNDS], med, cmed;

	place = into_new;
	for (int i = 0; i < rounds; i++)
		if ((t[i] = one_channel(cipher, total, &cpu[i])) <= 0)
			return 1;
	med = median(t, rounds);	/* t[0] is the best after it */
	cmed = median(cpu, rounds);
	printf("%s %s %.1f MB/s median, best %.1f MB/s, "
	    "%d x %llu MiB, %.2f CPU s per GiB\n", into_new ? "placed" :
	    "channel", cipher, (double)total / med / 1e6,
	    (double)total / t[0] / 1e6, rounds,
	    (unsigned long long)(total >> 20), cmed / ((double)total / (1 << 30)));
	return fflush(stdout) != 0;
}

/* memcpy of a 256 MiB buffer, best of a few rounds, pages touched first. */
static int
bench_memcpy(void)
{
	char *src, *dst;
	double best = 0, t;

	if ((src = malloc(MEMCPY_SIZE)) == NULL ||
	    (dst = malloc(MEMCPY_SIZE)) == NULL) {
		printf("memcpy 256MiB error: out of memory\n");
		free(src);
		return 1;
	}
	memset(src, 0x5a, MEMCPY_SIZE);
	memset(dst, 0, MEMCPY_SIZE);
	for (int r = 0; r < MEMCPY_ROUNDS; r++) {
		src[r] = (char)r;
		t = now();
		memcpy(dst, src, MEMCPY_SIZE);
		__asm__ volatile("" : : "r"(dst) : "memory");
		t = now() - t;
		if (t > 0 && (best == 0 || t < best))
			best = t;
	}
	if (dst[MEMCPY_ROUNDS - 1] != (char)(MEMCPY_ROUNDS - 1)) {
		printf("memcpy 256MiB error: copy wrong\n");
		free(src);
		free(dst);
		return 1;
	}
	printf("memcpy 256MiB %.2f GB/s best of %d\n",
	    (double)MEMCPY_SIZE / best / 1e9, MEMCPY_ROUNDS);
	fflush(stdout);
	free(src);
	free(dst);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *ciphers[16];
	int nciphers = 0, rounds = 3, do_mem = 1, do_chan = 1, do_place = 1;
	int c, rc = 0;
	unsigned long long mib = 1024;
	char *end;

	while ((c = getopt(argc, argv, "n:k:c:b:r:MCP")) != -1) {
		switch (c) {
		case 'n':
			errno = 0;
			mib = strtoull(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || mib == 0 ||
			    mib > (1ULL << 24)) {
				fprintf(stderr, "chanbench: -n %s: not a "
				    "size in MiB\n", optarg);
				return 2;
			}
			break;
		case 'b':
			errno = 0;
			chunk = strtoul(optarg, &end, 10) * 1024;
			if (errno != 0 || *end != '\0' || chunk == 0 ||
			    chunk > CHUNK_MAX) {
				fprintf(stderr, "chanbench: -b %s: not a "
				    "size in KiB up to %d\n", optarg,
				    CHUNK_MAX >> 10);
				return 2;
			}
			break;
		case 'k':
			errno = 0;
			rounds = (int)strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || rounds < 1 ||
			    rounds > MAX_ROUNDS) {
				fprintf(stderr, "chanbench: -k %s: 1 to %d "
				    "rounds\n", optarg, MAX_ROUNDS);
				return 2;
			}
			break;
		case 'r':
			errno = 0;
			rchunk = strtoul(optarg, &end, 10) * 1024;
			if (errno != 0 || *end != '\0' || rchunk == 0 ||
			    rchunk > CHUNK_MAX) {
				fprintf(stderr, "chanbench: -r %s: not a "
				    "size in KiB up to %d\n", optarg,
				    CHUNK_MAX >> 10);
				return 2;
			}
			break;
		case 'c':
			if (nciphers == 16) {
				fprintf(stderr, "chanbench: too many -c\n");
				return 2;
			}
			ciphers[nciphers++] = optarg;
			break;
		case 'M':
			do_mem = 0;
			break;
		case 'C':
			do_chan = 0;
			break;
		case 'P':
			do_place = 0;
			break;
		default:
			fprintf(stderr, "usage: chanbench [-n MiB] [-k N] "
			    "[-c CIPHER]... [-b KiB] [-r KiB] [-M] [-C] [-P]\n");
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "usage: chanbench [-n MiB] [-k N] [-c CIPHER]... "
		    "[-b KiB] [-r KiB] [-M] [-C] [-P]\n");
		return 2;
	}
	if (nciphers == 0) {
		ciphers[nciphers++] = "aes128-gcm@openssh.com";
		ciphers[nciphers++] = "chacha20-poly1305@openssh.com";
	}
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
		perror("chanbench: signal");
		return 2;
	}
	if (do_chan) {
		if (ssh_init() != SSH_OK) {
			fprintf(stderr, "chanbench: ssh_init failed\n");
			return 2;
		}
		for (int i = 0; i < nciphers; i++)
			rc |= bench_channel(ciphers[i], (uint64_t)mib << 20,
			    rounds, 0);
		if (do_place)
			rc |= bench_channel(ciphers[0], (uint64_t)mib << 20,
			    rounds, 1);
		ssh_finalize();
	}
	if (do_mem)
		rc |= bench_memcpy();
	return rc;
}
