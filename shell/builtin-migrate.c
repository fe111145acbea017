/*
 * builtin-migrate.c: migrate JOB|GPID [NODE].  Moves a running job with
 * the tool smigrate (found beside sshell's own binary, then on PATH, as
 * kill and ps find theirs); %N job numbers become their GPIDs.
 *
 * Unlike kill and ps, which are over in a millisecond, a move lasts as
 * long as the job's image takes to cross the network, and the job being
 * moved is often one of ours in the background, still printing.  So we
 * do not block in waitpid as sh_run_tool() does: we keep serving every
 * job's connection (sh_poll, as the wait builtin does) until smigrate
 * ends.  Blocking would stop reading the moving job's output, and noded's
 * back-pressure would then hold up the move that has to drain it.
 *
 * smigrate's one line on stdout comes through a pipe so that, when the
 * job moved is one of ours, `jobs -l` can show its new node; the line is
 * then printed unchanged.  Its stderr is left alone.
 */
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gpid.h"
#include "sshell.h"
#include "xmalloc.h"

#define TOOL		"smigrate"
/* Most of smigrate's stdout kept; its line is far shorter. */
#define OUT_MAX		4096
/* How often we look whether smigrate has ended, between jobs' frames. */
#define POLL_MS		20

static int	drain_out(int fd, char *out, size_t *len);
static void	note_new_node(const char *line);
static int	migrate_exec(int argc, char **argv);

/*
 * Reads what the non-blocking fd has into out[OUT_MAX] at *len; bytes
 * beyond OUT_MAX are read and dropped, so smigrate can never block on a
 * full pipe.  Returns 1 at EOF, 0 when nothing more is there yet, -1 on
 * a read error.
 */
static int
drain_out(int fd, char *out, size_t *len)
{
	char tmp[512];
	ssize_t n;
	size_t k;

	for (;;) {
		if ((n = read(fd, tmp, sizeof(tmp))) == 0)
			return 1;
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		}
		k = (size_t)n;
		if (k > OUT_MAX - *len)
			k = OUT_MAX - *len;
		memcpy(out + *len, tmp, k);
		*len += k;
	}
}

/*
 * line is smigrate's "GPID FROM -> TO: ..." (NUL-terminated).  If GPID is
 * one of our jobs, it now runs on TO: remember that for `jobs -l`.
 */
static void
note_new_node(const char *line)
{
	const char *sp, *to, *end;
	char num[GPID_STRLEN];
	struct job *j;
	uint64_t gpid;
	size_t n;

	if ((sp = strchr(line, ' ')) == NULL ||
	    (size_t)(sp - line) >= sizeof(num))
		return;
	memcpy(num, line, (size_t)(sp - line));
	num[sp - line] = '\0';
	if (gpid_parse(num, &gpid) != 0 ||
	    (to = strstr(sp, " -> ")) == NULL)
		return;
	to += 4;
	if ((end = strstr(to, ": ")) == NULL || (n = (size_t)(end - to)) == 0)
		return;
	TAILQ_FOREACH(j, &sh.jobs, entry) {
		if (j->gpid != gpid)
			continue;
		free(j->node);
		j->node = xmalloc(n + 1);
		memcpy(j->node, to, n);
		j->node[n] = '\0';
	}
}

static int
migrate_exec(int argc, char **argv)
{
	char out[OUT_MAX + 1], **args;
	size_t len = 0;
	int fds[2], i, eof = 0, status, r = 1;
	pid_t pid, w;

	if (sh_job_args("migrate", argc, argv, &args) != 0)
		return 1;
	if (pipe2(fds, O_CLOEXEC) == -1) {
		fprintf(stderr, "sshell: pipe: %s\n", strerror(errno));
		goto free_args;
	}
	pid = sh_spawn_tool(TOOL, args, fds[1]);
	if (close(fds[1]) == -1 && pid != -1)
		fprintf(stderr, "sshell: close: %s\n", strerror(errno));
	if (pid == -1)
		goto close_pipe;
	if (fcntl(fds[0], F_SETFL, O_NONBLOCK) == -1)
		fprintf(stderr, "sshell: fcntl: %s\n", strerror(errno));

	/* Serve the jobs until smigrate ends, emptying its pipe meanwhile. */
	for (;;) {
		if (!eof && (eof = drain_out(fds[0], out, &len)) == -1)
			eof = 1;
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (w == -1 && errno != EINTR) {
			fprintf(stderr, "sshell: waitpid: %s\n",
			    strerror(errno));
			goto close_pipe;
		}
		(void)sh_poll(POLL_NONE, NULL, POLL_MS);
	}
	/* smigrate is gone: what it wrote is all in the pipe. */
	if (!eof && drain_out(fds[0], out, &len) == -1)
		fprintf(stderr, "sshell: migrate: read: %s\n",
		    strerror(errno));
	out[len] = '\0';
	if (len > 0) {
		note_new_node(out);
		if (fwrite(out, 1, len, stdout) != len || fflush(stdout) != 0)
			fprintf(stderr, "sshell: migrate: stdout: %s\n",
			    strerror(errno));
	}
	r = WIFSIGNALED(status) ? 128 + WTERMSIG(status) :
	    WEXITSTATUS(status);
close_pipe:
	if (close(fds[0]) == -1)
		fprintf(stderr, "sshell: close: %s\n", strerror(errno));
free_args:
	for (i = 0; i < argc; i++)
		free(args[i]);
	free(args);
	return r;
}

const struct builtin builtin_migrate = {
	"migrate", "migrate JOB|GPID [NODE]",
	"move a running job to another node", migrate_exec
};
