/*
 * main.c: noded's start: options, the cluster file (or the embedded
 * single-node default), the state directory, the host key, the
 * directory database, sockets, the jobs that outlived the previous noded,
 * then the loop.  SIGHUP re-reads the cluster file.
 *
 * usage: noded [-f] [-d] [-c FILE] [-n NAME] [-s STATEDIR]
 *        noded --print-key [-s STATEDIR]
 */
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "noded.h"

struct noded g;

int	peer_load_key(void);
int	noded_reload(void);

static void
usage(FILE *f)
{
	fprintf(f, "usage: noded [-f] [-d] [-c FILE] [-n NAME] [-s STATEDIR]\n"
	    "       noded --print-key [-s STATEDIR]\n");
}

static int
mkdirs(const char *path, mode_t mode)
{
	char tmp[4096], *p;

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, mode) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

/* The cluster file, or with none a cluster of this machine alone. */
static int
load_conf(const char *path_opt, struct conf **cp)
{
	char err[1024], host[256], text[1024];
	int r;
	size_t i;

	if (path_opt != NULL)
		snprintf(g.conf_path, sizeof(g.conf_path), "%s", path_opt);
	else if (conf_default_path(g.conf_path, sizeof(g.conf_path)) != 0)
		g.conf_path[0] = '\0';
	r = g.conf_path[0] != '\0' ?
	    conf_load(g.conf_path, cp, err, sizeof(err)) : SS_ERR_NOT_FOUND;
	if (r == 0) {
		g.conf_embedded = 0;
		return 0;
	}
	if (r != SS_ERR_NOT_FOUND || path_opt != NULL) {
		log_err("%s", err);
		return r;
	}
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	for (i = 0; host[i] != '\0' && i < CONF_NAME_MAX; i++)
		if (!((host[i] >= 'a' && host[i] <= 'z') ||
		    (host[i] >= 'A' && host[i] <= 'Z') ||
		    (host[i] >= '0' && host[i] <= '9') || host[i] == '-' ||
		    host[i] == '.' || host[i] == '_'))
			host[i] = '-';
	host[i] = '\0';
	snprintf(text, sizeof(text), "cluster %s\nnode 1 %s 127.0.0.1\n",
	    host, host);
	if ((r = conf_parse(text, strlen(text), "(embedded default)", cp, err,
	    sizeof(err))) != 0) {
		log_err("%s", err);
		return r;
	}
	g.conf_embedded = 1;
	return 0;
}

static int
find_self(const char *name_opt)
{
	const struct conf_node *cn = NULL;
	char host[256];

	if (name_opt != NULL) {
		if ((cn = conf_node_by_name(g.conf, name_opt)) == NULL) {
			log_err("%s: node %s is not in the cluster file",
			    g.conf_path, name_opt);
			return SS_ERR_CONFIG;
		}
	} else if (gethostname(host, sizeof(host)) == 0 &&
	    (cn = conf_node_by_name(g.conf, host)) != NULL) {
		/* found by host name */
	} else if (g.conf->nnodes == 1)
		cn = &g.conf->nodes[0];
	if (cn == NULL) {
		log_err("cannot tell which node of %s this is: use -n NAME",
		    g.conf_path);
		return SS_ERR_CONFIG;
	}
	g.id = cn->id;
	snprintf(g.name, sizeof(g.name), "%s", cn->name);
	g.port = cn->port;
	g.cpus = cn->cpus != 0 ? cn->cpus : sys_cpus();
	return 0;
}

static void
record_nodes(void)
{
	struct dir_node dn;
	size_t i;

	for (i = 0; i < g.conf->nnodes; i++) {
		const struct conf_node *cn = &g.conf->nodes[i];

		memset(&dn, 0, sizeof(dn));
		dn.id = cn->id;
		dn.name = cn->name;
		dn.address = cn->address;
		dn.port = cn->port;
		dn.key = cn->key;
		dn.cpus = cn->cpus;
		snprintf(dn.state, sizeof(dn.state), "down");
		dir_node_upsert(g.dir, &dn);
	}
}

int
noded_reload(void)
{
	struct conf *nc = NULL, *old;
	const struct conf_node *cn;

	log_info("SIGHUP: reading %s", g.conf_path);
	if (load_conf(g.conf_embedded ? NULL : g.conf_path, &nc) != 0) {
		log_err("keeping the cluster file read before");
		return SS_ERR_CONFIG;
	}
	if ((cn = conf_node_by_id(nc, g.id)) == NULL ||
	    strcmp(cn->name, g.name) != 0) {
		log_err("%s: this node (%u %s) is no longer in it: keeping "
		    "the old file", g.conf_path, g.id, g.name);
		conf_free(nc);
		return SS_ERR_CONFIG;
	}
	old = g.conf;
	g.conf = nc;
	g.cpus = cn->cpus != 0 ? cn->cpus : sys_cpus();
	peer_setup_from_conf();
	record_nodes();
	conf_free(old);
	return 0;
}

/* A helper program beside noded, or in ../lib/sshell when installed. */
static void
find_helper(const char *name, char *out, size_t len)
{
	char exe[4096], dir[3000];
	ssize_t n;

	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) <= 0) {
		snprintf(out, len, "%s", name);
		return;
	}
	exe[n] = '\0';
	snprintf(dir, sizeof(dir), "%s", dirname(exe));
	snprintf(out, len, "%s/%s", dir, name);
	if (access(out, X_OK) == 0)
		return;
	snprintf(out, len, "%s/../lib/sshell/%s", dir, name);
}

/*
 * A cgroup per job, where there is a freezer.  cgroup v2 (cgroup.freeze)
 * is preferred, also in the hybrid layout our machines have: the first
 * attach of a task to a new v1 freezer cgroup costs about 10 ms (measured:
 * 10.4 ms, against 0.27 ms for a new v2 cgroup), which would double the
 * launch latency of every job.  Each node has its own directory (the
 * nodes of a local cluster share /sys/fs/cgroup).
 */
static void
find_cgroup(void)
{
	static const char *roots[] = {
		"/sys/fs/cgroup/unified",	/* hybrid: v2 beside v1 */
		"/sys/fs/cgroup",		/* pure v2 */
		"/sys/fs/cgroup/freezer",	/* v1 freezer only */
	};
	char path[4096], probe[4200];
	size_t i;

	g.cgroot[0] = '\0';
	if (!g.root)
		return;
	for (i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		snprintf(probe, sizeof(probe), "%s/%s", roots[i],
		    i < 2 ? "cgroup.subtree_control" : "tasks");
		if (access(probe, W_OK) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/sshell", roots[i]);
		if (mkdir(path, 0755) == -1 && errno != EEXIST)
			continue;
		snprintf(path, sizeof(path), "%s/sshell/%s", roots[i], g.name);
		if (mkdir(path, 0755) == -1 && errno != EEXIST)
			continue;
		snprintf(g.cgroot, sizeof(g.cgroot), "%s", path);
		return;
	}
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "print-key", no_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *conf_opt = NULL, *name_opt = NULL, *state_opt = NULL;
	int fg = 0, print_key = 0, ch, ready[2] = { -1, -1 };
	char path[4200], c = 0;
	struct rlimit rl;
	sigset_t mask;
	FILE *f;

	while ((ch = getopt_long(argc, argv, "fdc:n:s:h", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'f':
			fg = 1;
			break;
		case 'd':
			g.debug = 1;
			break;
		case 'c':
			conf_opt = optarg;
			break;
		case 'n':
			name_opt = optarg;
			break;
		case 's':
			state_opt = optarg;
			break;
		case 'K':
			print_key = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	log_init("noded", 1, g.debug);
	g.root = geteuid() == 0;
	g.owner = getuid();
	g.unix_fd = g.tcp_fd = g.sig_fd = -1;
	TAILQ_INIT(&g.conns);
	TAILQ_INIT(&g.insess);
	TAILQ_INIT(&g.peers);
	TAILQ_INIT(&g.rjobs);
	TAILQ_INIT(&g.hjobs);
	if (state_opt != NULL)
		snprintf(g.statedir, sizeof(g.statedir), "%s", state_opt);
	else if (conf_default_statedir(g.statedir, sizeof(g.statedir)) != 0) {
		fprintf(stderr, "noded: cannot find a state directory\n");
		return 1;
	}
	if (mkdirs(g.statedir, g.root ? 0755 : 0700) == -1) {
		fprintf(stderr, "noded: %s: %s\n", g.statedir, strerror(errno));
		return 1;
	}
	ssh_init();
	if (print_key) {
		if (peer_load_key() != 0)
			return 1;
		printf("ssh-ed25519 %s\n", g.hostkey_b64);
		return 0;
	}
	if (load_conf(conf_opt, &g.conf) != 0 || find_self(name_opt) != 0)
		return 1;
	if (conf_own_socket(g.sockpath, sizeof(g.sockpath)) != 0) {
		fprintf(stderr, "noded: cannot find a socket path\n");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/jobs", g.statedir);
	mkdirs(path, 0755);
	snprintf(path, sizeof(path), "%s/run", g.statedir);
	mkdirs(path, 0700);
	if (!fg) {
		if (pipe2(ready, O_CLOEXEC) == -1)
			return 1;
		switch (fork()) {
		case -1:
			perror("noded: fork");
			return 1;
		case 0:
			close(ready[0]);
			setsid();
			break;
		default:
			close(ready[1]);
			/* Return once the socket answers, so that whoever
			 * started us can use it at once. */
			return read(ready[0], &c, 1) == 1 ? 0 : 1;
		}
		log_init("noded", 0, g.debug);
	}
	/* Many jobs and peers mean many descriptors. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	if ((g.sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) ==
	    -1) {
		log_err_r(SS_ERR_SYSTEM, "signalfd");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/noded.db", g.statedir);
	if (dir_open(path, &g.dir) != 0) {
		log_err("%s: cannot open the directory database", path);
		return 1;
	}
	find_helper("sshell-shepherd", g.shepherd, sizeof(g.shepherd));
	find_helper("sshell-mover", g.mover, sizeof(g.mover));
	find_cgroup();
	if ((g.event = ssh_event_new()) == NULL || peer_init() != 0 ||
	    peer_setup_from_conf() != 0 || local_listen() != 0)
		return 1;
	record_nodes();
	{
		struct dir_node dn;

		/* Our own drain survives a restart. */
		if (dir_node_get(g.dir, g.id, &dn) == 0) {
			g.draining = strcmp(dn.state, "draining") == 0;
			dir_node_clear(&dn);
		}
		dir_node_set_state(g.dir, g.id, g.draining ? "draining" :
		    "up");
	}
	g.load = sys_runnable();
	job_adopt_all();
	job_spare();
	hjob_restore_all();
	snprintf(path, sizeof(path), "%s", g.sockpath);
	snprintf(path + strlen(dirname(path)), sizeof(path) - strlen(path),
	    "/noded.pid");
	if ((f = fopen(path, "we")) != NULL) {
		fprintf(f, "%d\n", (int)getpid());
		fclose(f);
	}
	if (g.conf_embedded)
		log_info("no cluster file: running a single-node cluster of "
		    "this machine");
	log_info("node %s (id %u) of cluster %s: %s, port %u, socket %s",
	    g.name, g.id, g.conf->cluster, g.root ? "root" : "user", g.port,
	    g.sockpath);
	if (ready[1] != -1) {
		int devnull = open("/dev/null", O_RDWR);

		if (devnull != -1) {
			dup2(devnull, 0);
			dup2(devnull, 1);
			dup2(devnull, 2);
			if (devnull > 2)
				close(devnull);
		}
		if (write(ready[1], "r", 1) != 1)
			log_warn("cannot tell the starter we are ready");
		close(ready[1]);
	}
	loop_run();
	log_info("exiting; jobs keep running under their shepherds");
	unlink(g.sockpath);
	dir_close(g.dir);
	return 0;
}
