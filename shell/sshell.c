/*
 * sshell.c: the cluster shell's main: options, the interactive loop, the
 * script loop, and what each kind of line does (see sshell.h for the rule
 * that classifies lines, and sshell(1)).
 *
 *	sshell			interactive (stdin a terminal), readline
 *	sshell -c 'LINE' [NAME [ARG...]]  run LINE (may hold several
 *				lines), exit $?
 *	sshell FILE [ARG...]	run the lines of FILE, exit $?
 *	... | sshell		run the lines read from stdin, exit $?
 *
 * Lines are gathered until the command is complete (an open quote, if,
 * for, { ..., a here-document, a trailing \ | && || continue it), then
 * run as one job.  A script whose text ends in the middle of a command
 * gets that text run by sh anyway, so that sh's own syntax error and its
 * status 2 come out, exactly as `sh FILE` would say them.
 *
 * set -e stops a script (never an interactive sshell) at the first line
 * whose status is not 0, but for a failure sh -e ignores (`a && b` whose
 * a failed): see run_shell() for how a line that ran to its end is told
 * from one that ended early.  `exit N` in a line with shell syntax
 * (`cd /x || exit 1`) ends the script likewise.  With a terminal (jobs
 * then have a pty, where no mark can be stripped) any failure stops a
 * set -e script.
 */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "sshell.h"
#include "xmalloc.h"

struct sshell sh;

/* The text of the command being gathered, line by line. */
struct text {
	char	*s;
	size_t	 len;
};

static void	usage(void) __attribute__((noreturn));
static void	run_line(struct line *);
static int	run_assign(struct line *);
static int	run_shell(const char *, const char *, int);
static int	feed(struct text *, const char *);
static void	after_line(int);
static void	text_reset(struct text *);
static char	**expand_words(struct line *);
static void	free_words(char **, int);

static void
usage(void)
{
	fprintf(stderr, "usage: sshell [-c LINE [NAME [ARG ...]] | FILE "
	    "[ARG ...]]\n");
	exit(2);
}

static void
text_reset(struct text *t)
{
	free(t->s);
	t->s = NULL;
	t->len = 0;
}

/* Appends one input line (without its newline) to the command text. */
static void
text_add(struct text *t, const char *line)
{
	size_t n = strlen(line);

	t->s = xreallocarray(t->s, t->len + n + 2, 1);
	if (t->len > 0)
		t->s[t->len++] = '\n';
	memcpy(t->s + t->len, line, n + 1);
	t->len += n;
}

/*
 * A line for /bin/sh -c, with the prelude.  Returns $?.
 *
 * In a script without a terminal the job is probed: after the line, its
 * sh prints JOB_MARK on stderr (stripped by sshell-job.c).  A job that
 * fails without it ended early: the line ran `exit N`, set -e fired, or
 * a signal killed its sh; each of these ends a sh script, so it ends
 * ours (after_line), whatever the status (`[ -n "$x" ] || exit 0`).  A
 * job that fails with the mark ran to its end (`test -f x && echo`,
 * whose failure set -e ignores): the script goes on, with $? set, as
 * under sh.  (A line that sends sh's own stderr elsewhere with `exec
 * 2>FILE` loses the mark, and so ends the script: such a redirection
 * could not outlive its job anyway.)
 */
static int
run_shell(const char *text, const char *node, int bg)
{
	char *argv[5], *line;
	int r, probe;

	probe = !sh.interactive && !sh.tty && !bg;
	if (probe)
		xasprintf(&line, "%s\n__sshell_st=$?\nprintf '" JOB_MARK_SH
		    "' >&2\nexit $__sshell_st", text);
	else
		line = xstrdup(text);
	argv[0] = "/bin/sh";
	argv[1] = "-c";
	argv[2] = prelude_script(sh.prelude, sh.status, line);
	argv[3] = (char *)sh.name;	/* $0, and the name in sh's errors */
	argv[4] = NULL;
	sh.early = 0;
	r = job_spawn(argv, text, node, bg, NULL, probe);
	free(argv[2]);
	free(line);
	return r;
}

/* Keeps one variable as sh would: exported ones stay in the environment. */
static void
assign(const char *name, const char *value)
{
	if (getenv(name) != NULL) {
		if (setenv(name, value, 1) == -1)
			fprintf(stderr, "sshell: %s: %s\n", name,
			    strerror(errno));
		return;
	}
	prelude_set_var(sh.prelude, name, value);
}

/*
 * A line of assignments.  Values sshell can expand itself (quotes,
 * $NAME, ~) are kept at once.  Others ($(cmd), ${x:-y}, $((...))) are
 * evaluated once by a job, as sh evaluates them once, and the job prints
 * the values NUL-separated on its stdout, which is captured; they are
 * then kept by value, so a later job never re-runs the command.
 */
static int
run_assign(struct line *l)
{
	char **names, *value, *script, *argv[5], *epi, *tmp;
	struct buf *cap;
	const uint8_t *p, *nul;
	size_t left;
	int i, r;

	names = xcalloc((size_t)l->argc + 1, sizeof(*names));
	for (i = 0; i < l->argc; i++) {
		const char *eq = strchr(l->argv[i], '=');

		names[i] = xstrdup(l->argv[i]);
		names[i][eq - l->argv[i]] = '\0';
	}
	for (i = 0; i < l->argc; i++) {
		const char *raw = strchr(l->argv[i], '=') + 1;

		if (word_expand(raw, sh_lookup, NULL, sh.status, 1, &value)
		    != 0)
			break;
		assign(names[i], value);
		free(value);
	}
	if (i == l->argc) {
		r = 0;
		goto out;
	}

	/* The job: the line, then its values, then the line's status. */
	xasprintf(&epi, "%s\n__sshell_st=$?\nprintf '%%s\\0'", l->text);
	for (i = 0; i < l->argc; i++) {
		xasprintf(&tmp, "%s \"${%s-}\"", epi, names[i]);
		free(epi);
		epi = tmp;
	}
	xasprintf(&tmp, "%s\nexit $__sshell_st", epi);
	free(epi);
	script = prelude_script(sh.prelude, sh.status, tmp);
	free(tmp);
	if ((cap = buf_new(SH_CAPTURE_MAX)) == NULL) {
		fprintf(stderr, "sshell: out of memory\n");
		exit(1);
	}
	argv[0] = "/bin/sh";
	argv[1] = "-c";
	argv[2] = script;
	argv[3] = (char *)sh.name;
	argv[4] = NULL;
	r = job_spawn(argv, l->text, NULL, 0, cap, 0);
	free(script);
	p = buf_ptr(cap);
	left = buf_len(cap);
	for (i = 0; i < l->argc; i++) {
		if ((nul = memchr(p, '\0', left)) == NULL)
			break;
		assign(names[i], (const char *)p);
		left -= (size_t)(nul - p) + 1;
		p = nul + 1;
	}
	buf_free(cap);
out:
	for (i = 0; i < l->argc; i++)
		free(names[i]);
	free(names);
	return r;
}

/* The words of a builtin or set line, expanded (see word_expand). */
static char **
expand_words(struct line *l)
{
	char **argv;
	int i;

	argv = xcalloc((size_t)l->argc + 1, sizeof(*argv));
	for (i = 0; i < l->argc; i++) {
		if (!l->expand)
			argv[i] = xstrdup(l->argv[i]);
		else if (word_expand(l->argv[i], sh_lookup, NULL, sh.status,
		    0, &argv[i]) != 0) {
			/* The parser let through only what expands. */
			fprintf(stderr, "sshell: %s: cannot expand %s\n",
			    l->argv[0], l->argv[i]);
			free_words(argv, i);
			return NULL;
		}
	}
	return argv;
}

static void
free_words(char **argv, int n)
{
	int i;

	for (i = 0; i < n; i++)
		free(argv[i]);
	free(argv);
}

/* Runs a builtin line, its words expanded.  Returns $?. */
static int
run_builtin(struct line *l)
{
	char **argv;
	int r;

	if ((argv = expand_words(l)) == NULL)
		return 1;
	fflush(stdout);
	r = builtin_find(l->argv[0])->exec(l->argc, argv);
	fflush(stdout);
	free_words(argv, l->argc);
	return r;
}

static void
run_line(struct line *l)
{
	char **argv;
	int r = sh.status;

	sh.early = 0;
	/* Kept-state lines pinned or sent to the background are jobs. */
	if ((l->kind == LINE_ASSIGN || l->kind == LINE_FUNCDEF ||
	    l->kind == LINE_SET) && (l->bg || l->node != NULL))
		l->kind = LINE_SHELL;
	switch (l->kind) {
	case LINE_EMPTY:
		return;
	case LINE_ERROR:
		fprintf(stderr, "sshell: %s\n", l->error);
		r = 2;
		break;
	case LINE_BUILTIN:
		r = run_builtin(l);
		break;
	case LINE_SIMPLE:
		sh.early = 0;
		if ((argv = expand_words(l)) == NULL) {
			r = 1;
			break;
		}
		r = job_spawn(argv, l->text, l->node, l->bg, NULL, 0);
		free_words(argv, l->argc);
		break;
	case LINE_SHELL:
		r = run_shell(l->text, l->node, l->bg);
		break;
	case LINE_ASSIGN:
		r = run_assign(l);
		break;
	case LINE_FUNCDEF:
		prelude_set_func(sh.prelude, l->name, l->text);
		r = 0;
		break;
	case LINE_SET:
		if ((argv = expand_words(l)) == NULL) {
			r = 1;
			break;
		}
		if (prelude_set_options(sh.prelude, l->argc, argv) != 0)
			r = run_shell(l->text, NULL, 0);
		else
			r = 0;
		free_words(argv, l->argc);
		break;
	}
	sh.status = r;
	after_line(l->kind);
}

/* What happens after a line: exit, set -e, a signal that ended us. */
static void
after_line(int kind)
{
	if (sh.exiting || sh.killed) {
		if (sh.interactive)
			ui_history_save();
		term_cooked();
		exit(sh.status);
	}
	if (sh.interactive || kind == LINE_EMPTY)
		return;
	if (sh.early)
		exit(sh.status);
	if (sh.status != 0 && (kind != LINE_SHELL || sh.tty) &&
	    prelude_errexit(sh.prelude))
		exit(sh.status);
}

/*
 * Adds one input line to t and runs the command if it is complete.
 * Returns LINE_MORE if it continues on the next line.
 */
static int
feed(struct text *t, const char *line)
{
	struct line l;

	text_add(t, line);
	if (line_parse(t->s, builtin_is, sh_is_function, NULL, &l) ==
	    LINE_MORE)
		return LINE_MORE;
	if (sh.interactive && l.kind != LINE_EMPTY)
		ui_history_add(t->s);
	text_reset(t);
	run_line(&l);
	line_free(&l);
	return LINE_COMPLETE;
}

/* The end of a script in the middle of a command: sh says what is wrong. */
static void
feed_eof(struct text *t)
{
	if (t->len == 0)
		return;
	sh.status = run_shell(t->s, NULL, 0);
	text_reset(t);
	after_line(LINE_SHELL);
}

static void
run_string(const char *s)
{
	struct text t = { NULL, 0 };
	const char *nl;
	char *line;

	while (*s != '\0') {
		if ((nl = strchr(s, '\n')) == NULL)
			nl = s + strlen(s);
		line = xmalloc((size_t)(nl - s) + 1);
		memcpy(line, s, (size_t)(nl - s));
		line[nl - s] = '\0';
		feed(&t, line);
		free(line);
		s = *nl == '\n' ? nl + 1 : nl;
	}
	feed_eof(&t);
}

static void
run_file(FILE *fp)
{
	struct text t = { NULL, 0 };
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	while ((n = getline(&line, &cap, fp)) != -1) {
		if (n > 0 && line[n - 1] == '\n')
			line[n - 1] = '\0';
		feed(&t, line);
	}
	free(line);
	feed_eof(&t);
}

static void
run_interactive(void)
{
	struct text t = { NULL, 0 };
	char *line;
	int r, more = 0;

	ui_setup();
	for (;;) {
		job_notify();
		ui_prompt(more);
		while ((r = ui_take_line(&line)) == 0)
			(void)sh_poll(POLL_PROMPT, NULL, -1);
		if (r == 2) {
			/* Ctrl-C: the command typed so far is dropped. */
			text_reset(&t);
			more = 0;
			sh.status = 130;
			continue;
		}
		if (r == -1) {
			if (job_count(JOB_STOPPED) > 0 && !sh.warned_stopped) {
				fprintf(stderr, "There are stopped jobs.\n");
				sh.warned_stopped = 1;
				continue;
			}
			break;
		}
		more = feed(&t, line) == LINE_MORE;
		free(line);
	}
	text_reset(&t);
	ui_history_save();
}

/* The name shown in the prompt: the cluster's, else the host's. */
static void
cluster_name(void)
{
	char path[PATH_MAX], err[256];
	struct conf *c;

	if (conf_default_path(path, sizeof(path)) == 0 &&
	    access(path, R_OK) == 0 &&
	    conf_load(path, &c, err, sizeof(err)) == 0) {
		snprintf(sh.cluster, sizeof(sh.cluster), "%s", c->cluster);
		conf_free(c);
		return;
	}
	if (gethostname(sh.cluster, sizeof(sh.cluster)) == -1)
		snprintf(sh.cluster, sizeof(sh.cluster), "sshell");
	sh.cluster[sizeof(sh.cluster) - 1] = '\0';
}

/* The directory of our own binary, where the tools are looked for first. */
static void
find_self(void)
{
	static char self[PATH_MAX];
	char *slash;
	ssize_t n;

	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0)
		return;
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) == NULL)
		return;
	*slash = '\0';
	sh.self = self;
}

int
main(int argc, char **argv)
{
	const char *cmd = NULL, *file = NULL;
	FILE *fp;
	int ch, fd;

	while ((ch = getopt(argc, argv, "+c:h")) != -1) {
		switch (ch) {
		case 'c':
			cmd = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	/*
	 * As sh: sshell -c LINE [NAME [ARG...]] and sshell FILE [ARG...]
	 * give the jobs $0 and the positional parameters.
	 */
	sh.name = "sshell";
	if (cmd == NULL && argc > 0) {
		file = argv[0];
		sh.name = file;
	} else if (cmd != NULL && argc > 0)
		sh.name = argv[0];

	/*
	 * fds 0-2 closed (cron may do that) would be taken by our sockets
	 * and then read or written as stdio: hold them with /dev/null.
	 */
	while ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) != -1 && fd <= 2)
		if (fcntl(fd, F_SETFD, 0) == -1)
			break;
	if (fd > 2)
		close(fd);

	TAILQ_INIT(&sh.jobs);
	sh.prelude = prelude_new();
	if (argc > 1)
		prelude_set_args(sh.prelude, argc - 1, argv + 1);
	find_self();
	/*
	 * Jobs get a terminal when ours is a terminal and we are its
	 * foreground: a script started with & from an interactive shell
	 * must not switch the terminal to raw mode under that shell.
	 */
	sh.tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) &&
	    tcgetpgrp(STDIN_FILENO) == getpgrp();
	sh.interactive = cmd == NULL && file == NULL &&
	    isatty(STDIN_FILENO) && isatty(STDERR_FILENO);
	sh.script_stdin = cmd == NULL && file == NULL && !sh.interactive;
	if (sh.interactive && sh.tty)
		term_own_group();
	term_init();
	sh_signals_init();

	if (sh.interactive) {
		cluster_name();
		run_interactive();
	} else if (cmd != NULL)
		run_string(cmd);
	else if (file != NULL) {
		if ((fp = fopen(file, "r")) == NULL) {
			fprintf(stderr, "sshell: %s: %s\n", file,
			    strerror(errno));
			exit(127);
		}
		run_file(fp);
		fclose(fp);
	} else
		run_file(stdin);
	term_cooked();
	return sh.status;
}
