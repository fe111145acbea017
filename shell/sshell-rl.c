/*
 * sshell-rl.c: the interactive side of sshell, on GNU readline.
 *
 * readline's callback interface is used (rl_callback_handler_install and
 * rl_callback_read_char from sh_poll), never readline() itself, so that
 * background jobs' output and ends are served while a line is typed.
 * The handler only stores the line and removes itself; the main loop in
 * sshell.c takes it with ui_take_line(), runs it with no prompt showing,
 * and shows the next prompt with ui_prompt().  Output that arrives while
 * the prompt shows goes between ui_suspend() and ui_resume(), which take
 * the prompt and the half-typed line away and put them back.
 *
 * History lives in ~/.sshell_history: read at start (trimmed to
 * HIST_MAX entries), each entry appended as it is added, so a killed
 * sshell loses nothing and two sshells do not overwrite each other.
 * Entries carry timestamps (#TIME lines, as bash's HISTTIMEFORMAT), which
 * is how an entry of several lines stays one entry.
 *
 * Completion: the first word of a line (after an @NODE) completes
 * builtins and commands on PATH; a word starting with @ in that place
 * completes node names (MSG_NODES); the arguments of kill and migrate
 * complete the user's running GPIDs (MSG_LIST) and %N job numbers; every
 * other word completes file names (readline's default).
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "buf.h"
#include "proto.h"
#include "sshell.h"
#include "xmalloc.h"

#define HIST_MAX	1000

static int	 active;	/* the prompt is showing */
static int	 got;		/* 0 none, 1 line, -1 EOF, 2 interrupted */
static char	*got_line;
static char	*prompt;
static char	*saved_text;	/* the line typed, during ui_suspend */
static int	 saved_point;
static int	 suspended;

static char	**cands;	/* completion candidates, NULL-terminated */

static void	 on_line(char *);
static char	**complete(const char *, int, int);

/* The prompt: user@cluster:cwd$ (cwd under $HOME shown as ~). */
static char *
make_prompt(void)
{
	char cwd[PATH_MAX], *p;
	const char *user, *home, *shown;
	struct passwd *pw;
	size_t hl;

	if ((pw = getpwuid(getuid())) != NULL)
		user = pw->pw_name;
	else if ((user = getenv("USER")) == NULL)
		user = "?";
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		snprintf(cwd, sizeof(cwd), "?");
	shown = cwd;
	home = getenv("HOME");
	if (home != NULL && (hl = strlen(home)) > 1 &&
	    strncmp(cwd, home, hl) == 0 && (cwd[hl] == '/' ||
	    cwd[hl] == '\0')) {
		xasprintf(&p, "%s@%s:~%s%s ", user, sh.cluster, cwd + hl,
		    getuid() == 0 ? "#" : "$");
		return p;
	}
	xasprintf(&p, "%s@%s:%s%s ", user, sh.cluster, shown,
	    getuid() == 0 ? "#" : "$");
	return p;
}

void
ui_setup(void)
{
	const char *home;

	rl_readline_name = "sshell";
	rl_catch_signals = 0;
	rl_catch_sigwinch = 0;
	rl_attempted_completion_function = complete;
	/* Words break as sh's do; @ is part of a node name. */
	rl_basic_word_break_characters = " \t\n\"\\'`$><=;|&(";
	using_history();
	stifle_history(HIST_MAX);
	/*
	 * A command of several lines (a for loop, a here-document) is one
	 * entry: with timestamps in the file, readline reads the lines
	 * between two timestamps back as one entry.
	 */
	history_write_timestamps = 1;
	history_multiline_entries = 1;
	history_comment_char = '#';
	if ((home = getenv("HOME")) != NULL && *home != '\0') {
		snprintf(sh.histfile, sizeof(sh.histfile), "%s/.sshell_history",
		    home);
		(void)read_history(sh.histfile);
		(void)history_truncate_file(sh.histfile, HIST_MAX);
	}
}

static void
on_line(char *line)
{
	rl_callback_handler_remove();
	active = 0;
	if (line == NULL) {
		got = -1;
		/* readline leaves the cursor after the prompt. */
		fputc('\n', stdout);
		fflush(stdout);
		return;
	}
	got = 1;
	got_line = line;
}

void
ui_prompt(int more)
{
	free(prompt);
	prompt = more ? xstrdup("> ") : make_prompt();
	got = 0;
	fflush(stdout);
	fflush(stderr);
	rl_callback_handler_install(prompt, on_line);
	active = 1;
}

int
ui_take_line(char **linep)
{
	int r = got;

	*linep = NULL;
	if (r == 1)
		*linep = got_line;
	got_line = NULL;
	got = 0;
	return r;
}

void
ui_read_input(void)
{
	struct pollfd pfd;

	/*
	 * readline takes one character per call: take all that were typed,
	 * so that a Ctrl-C (a signal, seen after this) comes after the
	 * keys typed before it, until a line is complete.
	 */
	do {
		rl_callback_read_char();
		pfd.fd = STDIN_FILENO;
		pfd.events = POLLIN;
	} while (active && poll(&pfd, 1, 0) == 1 &&
	    (pfd.revents & POLLIN) != 0);
}

void
ui_done(void)
{
	if (!active)
		return;
	rl_callback_handler_remove();
	active = 0;
}

void
ui_interrupt(void)
{
	if (!active)
		return;
	/* ^C after what was typed, as bash shows it, then a new line. */
	rl_point = rl_end;
	rl_redisplay();
	fputs("^C\n", rl_outstream != NULL ? rl_outstream : stdout);
	fflush(rl_outstream != NULL ? rl_outstream : stdout);
	rl_free_line_state();
	rl_callback_sigcleanup();
	rl_line_buffer[rl_point = rl_end = rl_mark = 0] = '\0';
	rl_callback_handler_remove();
	active = 0;
	got = 2;
}

void
ui_suspend(void)
{
	if (!active || suspended++ > 0)
		return;
	saved_point = rl_point;
	saved_text = rl_copy_text(0, rl_end);
	rl_set_prompt("");
	rl_replace_line("", 0);
	rl_redisplay();
}

void
ui_resume(void)
{
	if (!active || suspended == 0 || --suspended > 0)
		return;
	fflush(stdout);
	fflush(stderr);
	rl_set_prompt(prompt);
	rl_replace_line(saved_text != NULL ? saved_text : "", 0);
	rl_point = saved_point;
	rl_redisplay();
	free(saved_text);
	saved_text = NULL;
}

void
ui_history_add(const char *text)
{
	HIST_ENTRY *last;

	/* As bash's ignoredups: the same line twice is kept once. */
	if ((last = history_get(history_base + history_length - 1)) != NULL &&
	    strcmp(last->line, text) == 0)
		return;
	add_history(text);
	if (sh.histfile[0] == '\0')
		return;
	if (append_history(1, sh.histfile) != 0)
		(void)write_history(sh.histfile);
}

void
ui_history_print(void)
{
	HIST_ENTRY **list;
	int i;

	if ((list = history_list()) == NULL)
		return;
	for (i = 0; list[i] != NULL; i++)
		printf("%5d  %s\n", i + history_base, list[i]->line);
}

void
ui_history_save(void)
{
	/* Entries are appended as they come; only trim the file. */
	if (sh.histfile[0] != '\0')
		(void)history_truncate_file(sh.histfile, HIST_MAX);
}

/* --- completion --- */

static size_t	ncands, capcands;

static void
cand_add(const char *prefix, const char *s)
{
	size_t i;

	for (i = 0; i < ncands; i++)
		if (strcmp(cands[i] + strlen(prefix), s) == 0)
			return;
	if (ncands + 1 >= capcands) {
		capcands = capcands == 0 ? 64 : capcands * 2;
		cands = xreallocarray(cands, capcands, sizeof(*cands));
	}
	xasprintf(&cands[ncands++], "%s%s", prefix, s);
	cands[ncands] = NULL;
}

static void
cands_free(void)
{
	size_t i;

	for (i = 0; i < ncands; i++)
		free(cands[i]);
	free(cands);
	cands = NULL;
	ncands = capcands = 0;
}

static char *
cand_next(const char *text, int state)
{
	static size_t i;
	size_t len = strlen(text);

	if (state == 0)
		i = 0;
	while (cands != NULL && cands[i] != NULL) {
		if (strncmp(cands[i], text, len) == 0)
			return xstrdup(cands[i++]);
		i++;
	}
	return NULL;
}

/* Builtins and executables on PATH that start with text. */
static void
cands_commands(const char *text)
{
	char *dirs, *dir, *save, path[PATH_MAX];
	const char *env;
	struct dirent *de;
	struct stat st;
	size_t i, len = strlen(text);
	DIR *d;

	for (i = 0; builtins[i] != NULL; i++)
		if (strncmp(builtins[i]->name, text, len) == 0)
			cand_add("", builtins[i]->name);
	if ((env = getenv("PATH")) == NULL)
		return;
	dirs = xstrdup(env);
	for (dir = strtok_r(dirs, ":", &save); dir != NULL;
	    dir = strtok_r(NULL, ":", &save)) {
		if ((d = opendir(*dir != '\0' ? dir : ".")) == NULL)
			continue;
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.' ||
			    strncmp(de->d_name, text, len) != 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
			    access(path, X_OK) == 0)
				cand_add("", de->d_name);
		}
		closedir(d);
	}
	free(dirs);
}

/* Node names, as @NAME. */
static void
cands_nodes(void)
{
	struct node_info ni;
	struct buf *m, *p = NULL;
	uint8_t type;
	uint32_t n, i;

	if ((m = proto_msg_new(MSG_NODES)) == NULL)
		return;
	if (conn_call(m, &type, &p) != 0 || type != MSG_NODES_REPLY ||
	    buf_get_u32(p, &n) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (node_info_get(p, &ni) != 0)
			break;
		cand_add("@", ni.name);
		node_info_clear(&ni);
	}
out:
	buf_free(p);
}

/* The user's running GPIDs, and %N for sshell's own jobs. */
static void
cands_gpids(void)
{
	struct list_req q;
	struct proc_info pi;
	struct buf *m, *p = NULL;
	struct job *j;
	uint8_t type;
	uint32_t n, i;
	char num[32];

	TAILQ_FOREACH(j, &sh.jobs, entry) {
		snprintf(num, sizeof(num), "%%%d", j->id);
		cand_add("", num);
	}
	memset(&q, 0, sizeof(q));
	q.user = "";
	q.node = "";
	if ((m = proto_msg_new(MSG_LIST)) == NULL ||
	    list_req_put(m, &q) != 0) {
		buf_free(m);
		return;
	}
	if (conn_call(m, &type, &p) != 0 || type != MSG_LIST_REPLY ||
	    buf_get_u32(p, &n) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (proc_info_get(p, &pi) != 0)
			break;
		snprintf(num, sizeof(num), "%" PRIu64, pi.gpid);
		cand_add("", num);
		proc_info_clear(&pi);
	}
out:
	buf_free(p);
}

static char **
complete(const char *text, int start, int end)
{
	char first[64];
	int i, nwords = 0, cmdpos = 1, fl = 0;
	char **r;

	(void)end;
	first[0] = '\0';
	/* Which word is this, and what was the line's first word? */
	for (i = 0; i < start; i++) {
		char c = rl_line_buffer[i];

		if (c == ' ' || c == '\t')
			continue;
		if (strchr(";|&(", c) != NULL) {
			cmdpos = 1;
			continue;
		}
		/* A word starts here. */
		if (nwords == 0) {
			for (fl = 0; i + fl < start && fl < 63 &&
			    rl_line_buffer[i + fl] != ' ' &&
			    rl_line_buffer[i + fl] != '\t'; fl++)
				first[fl] = rl_line_buffer[i + fl];
			first[fl] = '\0';
		}
		nwords++;
		cmdpos = nwords == 1 && first[0] == '@';
		while (i < start && rl_line_buffer[i] != ' ' &&
		    rl_line_buffer[i] != '\t')
			i++;
	}
	cands_free();
	if (text[0] == '@' && nwords == 0) {
		rl_attempted_completion_over = 1;
		rl_completion_append_character = ' ';
		cands_nodes();
	} else if (cmdpos && strchr(text, '/') == NULL) {
		cands_commands(text);
		/* Nothing found: fall back to file names. */
		if (ncands == 0)
			return NULL;
		rl_attempted_completion_over = 1;
	} else if ((strcmp(first, "kill") == 0 ||
	    strcmp(first, "migrate") == 0) && text[0] != '-') {
		rl_attempted_completion_over = 1;
		cands_gpids();
	} else
		return NULL;
	r = rl_completion_matches(text, cand_next);
	cands_free();
	return r;
}
