/*
 * sshell.h: the interactive cluster shell.
 *
 * The pure half, with no I/O (sshell-parse.c, sshell-prelude.c): how a line is
 * classified, when a command is complete, how sshell expands the few
 * words it expands itself, and the prelude of what sh keeps between
 * commands.  Everything here is unit-tested (tests/unit/test_sshell_*.c).
 *
 * The rule (DESIGN.md, "Inside sshell"): a line is one job.  Builtins are
 * recognised only as the first word of a line without shell syntax; a line
 * without shell syntax is a simple command exec'd directly on the chosen
 * node; any other line goes whole to `/bin/sh -c` there.  Two choices of
 * ours where the rule is silent, and why:
 *
 *  - A builtin line may use quotes, backslashes and plain $NAME, ${NAME},
 *    $? and a leading ~: sshell expands those itself (cd "$HOME/My Files"
 *    must change sshell's cwd; sent to a remote sh it would do nothing).
 *    Anything more (command substitution, ${x:-y}, globs) is not a
 *    builtin line and goes to sh as the rule says.
 *  - What sh keeps between commands is recognised here, so that a script
 *    behaves as under sh: a line of assignments only (LINE_ASSIGN), a
 *    function definition alone (LINE_FUNCDEF), and `set` with options
 *    and literal positional parameters only (LINE_SET).  The caller keeps them in a struct prelude, which
 *    every later /bin/sh -c job gets ahead of its line.
 *
 * The other half runs jobs (sshell-job.c, over connections to the local
 * noded made by sshell-conn.c), switches the terminal (sshell-term.c),
 * talks to the user through readline (sshell-rl.c) and carries out the
 * builtins (one builtin-NAME.c each, collected by sshell-builtin.c).
 */
#ifndef SSHELL_SSHELL_H
#define SSHELL_SSHELL_H

#include <sys/queue.h>
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* What a complete line is. */
enum line_kind {
	LINE_EMPTY,	/* blanks and comments only: no job */
	LINE_BUILTIN,	/* argv[0] is a builtin; see line.expand */
	LINE_SIMPLE,	/* argv is exec'd as is */
	LINE_SHELL,	/* text goes to /bin/sh -c */
	LINE_ASSIGN,	/* NAME=VALUE words only: argv holds them, raw */
	LINE_FUNCDEF,	/* NAME() compound-command, alone: name, text */
	LINE_SET,	/* set followed by options only: argv */
	LINE_ERROR	/* error says why (e.g. "@n1" with no command) */
};

/*
 * A parsed line; every pointer is owned by it and freed by line_free().
 * text is the command as sh will see it: without the @NODE prefix, without
 * the trailing &, without leading or trailing blanks.
 */
struct line {
	enum line_kind	  kind;
	char		 *node;		/* NODE of an @NODE prefix, or NULL */
	int		  bg;		/* 1: a trailing & (background job) */
	char		 *text;
	int		  argc;		/* words of BUILTIN SIMPLE SET ASSIGN */
	char		**argv;		/* argc words + NULL, as typed */
	int		  expand;	/* BUILTIN, SIMPLE: words need word_expand() */
	char		 *name;		/* FUNCDEF: the function's name */
	const char	 *error;	/* LINE_ERROR: static message */
};

/* line_parse() results. */
#define LINE_COMPLETE	0
#define LINE_MORE	1	/* not complete: read another line */

/*
 * Parses text (one or more lines joined by '\n', without a final one).
 * is_builtin(word) says whether word names a builtin; is_function(word,
 * arg) whether it names a function of the prelude (a simple command
 * calling one must run under sh, with the prelude); either may be NULL.
 * Returns LINE_MORE when the command is not complete at the end of text
 * (l is then left cleared), or LINE_COMPLETE with *l filled in (free with
 * line_free).  A line that is complete but wrong for sh (an unmatched
 * `fi`) is LINE_SHELL: sh says what is wrong with it, as it would.
 */
int	line_parse(const char *text, int (*is_builtin)(const char *),
	    int (*is_function)(const char *, void *), void *arg,
	    struct line *l);
void	line_free(struct line *l);

/* Nonzero if s is a valid sh NAME ([A-Za-z_][A-Za-z0-9_]*). */
int	sh_is_name(const char *s, size_t len);

/*
 * Expands one word as sh would, for the few forms sshell does itself:
 * single and double quotes, backslash, $NAME, ${NAME}, $? and a leading
 * ~ or ~/ (from HOME).  lookup(name, arg) returns a variable's value or
 * NULL (unset: expands to nothing); status is the value of $?.  With
 * literal_globs, * ? [ stay as they are (assignment values); without, an
 * unquoted one makes the word unsupported (it needs sh's pathname
 * expansion).  Returns 0 with *out newly allocated, or -1 when the word
 * needs sh (command substitution, ${x:-y}, $1, arithmetic...).
 */
int	word_expand(const char *raw, const char *(*lookup)(const char *,
	    void *), void *arg, int status, int literal_globs, char **out);

/* s quoted for sh ('...' with ' as '\''), newly allocated. */
char	*sh_quote(const char *s);

/*
 * The prelude: what sh keeps between commands, replayed ahead of every
 * /bin/sh -c job so that a script's variables, functions and `set`
 * options work across lines.  Variables are kept by value once sshell
 * knows it (prelude_set_var) and as the text to evaluate otherwise
 * (prelude_set_raw); both are replayed in the order of their last
 * assignment, so a raw `y=$x` still sees the x it saw when typed unless
 * x changed after it.
 */
struct prelude;

struct prelude	*prelude_new(void);
void		 prelude_free(struct prelude *p);
void		 prelude_set_var(struct prelude *p, const char *name,
		    const char *value);
void		 prelude_set_raw(struct prelude *p, const char *name,
		    const char *raw);
/* The value of a variable kept by value, or NULL (unset, or raw). */
const char	*prelude_get_var(const struct prelude *p, const char *name);
/* Nonzero if a variable of that name is kept at all (value or raw). */
int		 prelude_has_var(const struct prelude *p, const char *name);
/* Returns 1 if it was there, 0 if not. */
int		 prelude_unset_var(struct prelude *p, const char *name);
/* text is the whole definition as typed. */
void		 prelude_set_func(struct prelude *p, const char *name,
		    const char *text);
int		 prelude_has_func(const struct prelude *p, const char *name);
int		 prelude_unset_func(struct prelude *p, const char *name);
/*
 * Applies `set` options (argv[1..argc), e.g. "-e", "+eu", "-o",
 * "pipefail"); the words after "--", or from the first word that is not
 * an option, become the positional parameters.  Returns 0, or -1 with
 * nothing changed if an option is malformed.
 */
int		 prelude_set_options(struct prelude *p, int argc,
		    char *const *argv);
/*
 * Sets the positional parameters $1... (argv[0..argc), copied); argv
 * NULL: none are set (the prelude then has no `set --`).
 */
void		 prelude_set_args(struct prelude *p, int argc,
		    char *const *argv);
/* Nonzero if set -e is in effect. */
int		 prelude_errexit(const struct prelude *p);
/*
 * The script for /bin/sh -c: the kept variables, functions and options,
 * then $? seeded with status (so that `echo $?` is right, and so that
 * set -e does not fire on the seed: `(exit N) && :`), then line and a
 * newline.  Newly allocated.
 */
char		*prelude_script(const struct prelude *p, int status,
		    const char *line);
/* Nonzero if the prelude is empty (a line may be run without it). */
int		 prelude_empty(const struct prelude *p);

/*
 * The running half.  sshell is single-threaded: one event loop
 * (sh_poll) serves every job's connection, the terminal and the signals
 * (through a self-pipe), whether readline is waiting for a line or a job
 * runs in the foreground.
 */
struct buf;

/*
 * What a script's /bin/sh -c job prints on stderr after its line, when
 * the line ran to its end: a job without it ended early, by `exit`, by
 * set -e or by a signal, which ends a sh script too (see sshell.c).
 */
#define JOB_MARK	"\001SSHELL-LINE-DONE\001"
#define JOB_MARK_SH	"\\001SSHELL-LINE-DONE\\001"	/* for printf(1) */

/* Most stdout an assignment's evaluation may print (its values). */
#define SH_CAPTURE_MAX	(4u * 1024 * 1024)

/* A connection to the local noded, with its own read buffer. */
struct conn {
	int		 fd;		/* -1 when closed */
	struct buf	*in;		/* bytes read, not yet framed */
	int		 hello;		/* 1: noded's hello has been read */
};

enum job_state {
	JOB_RUNNING,
	JOB_STOPPED,
	JOB_DONE	/* MSG_EXITED arrived (or the connection died) */
};

struct job {
	TAILQ_ENTRY(job) entry;
	int		 id;		/* %N, 1 and up */
	struct conn	 conn;		/* the SPAWN_WAIT connection */
	uint64_t	 gpid;
	char		*node;		/* where it was placed */
	char		*cmd;		/* as typed, for jobs and notices */
	enum job_state	 state;
	int		 status;	/* sh style, valid when JOB_DONE */
	int		 pty;		/* 1: it has a terminal on its node */
	int		 bg;		/* 1: not the foreground job */
	int		 eof_sent;	/* 1: MSG_EOF went for its stdin */
	int		 notified;	/* 1: its end was reported */
	int		 piped;		/* 1: SIGPIPE sent, our stdout closed */
	int		 probe;		/* 1: its script ends with JOB_MARK on
					   stderr, held back and stripped */
	uint8_t		 tail[32];	/* stderr held back while probing */
	size_t		 ntail;
	int		 marked;	/* 1: JOB_MARK came: the line ran to
					   its end (no exit, set -e, kill) */
	struct buf	*capture;	/* stdout kept here, not printed */
};
TAILQ_HEAD(jobs, job);

/* The shell's state; one instance, sh in sshell.c. */
struct sshell {
	int		 interactive;	/* reading from a terminal */
	int		 tty;		/* stdin and stdout are terminals */
	int		 status;	/* $? */
	int		 script_stdin;	/* the script comes on stdin */
	int		 stdin_eof;	/* stdin ended (or is the script) */
	int		 exiting;	/* exit builtin ran: code in status */
	int		 killed;	/* a signal says: end after the job */
	int		 interrupted;	/* Ctrl-C during the wait builtin */
	int		 early;		/* the last job probed ended early */
	int		 warned_stopped; /* "There are stopped jobs." shown */
	struct prelude	*prelude;
	struct jobs	 jobs;
	struct job	*current;	/* %+ */
	char		 cluster[256];	/* for the prompt */
	char		 histfile[4096];
	const char	*self;		/* our own directory, for the tools */
	const char	*name;		/* $0 of jobs: FILE, or "sshell" */
};

extern struct sshell sh;

/* A builtin: one per builtin-NAME.c, collected by sshell-builtin.c. */
struct builtin {
	const char	*name;
	const char	*usage;		/* synopsis, as in sshell(1) */
	const char	*help;		/* one line */
	int		(*exec)(int argc, char **argv);	/* returns $? */
};

const struct builtin	*builtin_find(const char *name);
int			 builtin_is(const char *name);
/* The table, NULL-terminated, for help and completion. */
extern const struct builtin *const builtins[];

/* sshell-conn.c: connections to the local noded. */
int	conn_open(struct conn *c);
void	conn_close(struct conn *c);
/* Sends hello (first time) and the frame req (finished here, freed). */
int	conn_send(struct conn *c, struct buf *req);
/* Blocks for the next frame (noded's hello skipped); -1 on EOF/error. */
int	conn_read(struct conn *c, uint8_t *type, struct buf **payload);
/* After poll said readable: reads once. 0, or -1 on EOF/error. */
int	conn_fill(struct conn *c);
/* A whole frame already buffered: 0; 1 if none yet; -1 if broken. */
int	conn_take(struct conn *c, uint8_t *type, struct buf **payload);
/* One request, one reply, on a fresh connection. */
int	conn_call(struct buf *req, uint8_t *type, struct buf **payload);
/* Signals a job (SEL_GPIDS) over a second connection. */
int	conn_signal(uint64_t gpid, int sig);

/* sshell-job.c */
int	job_run_line(const char *line_text);
int	job_spawn(char **argv, const char *cmd, const char *node, int bg,
	    struct buf *capture, int probe);
int	job_foreground(struct job *j);
int	job_wait(struct job *j);
struct job *job_find(const char *spec);	/* %N, %+, %-, GPID, NULL: %+ */
void	job_notify(void);
void	job_print(struct job *j, FILE *fp, int verbose);
int	job_count(enum job_state state);
int	sh_poll(int mode, struct job *fg, int timeout_ms);
#define POLL_PROMPT	0	/* stdin is readline's */
#define POLL_FG		1	/* stdin goes to the foreground job */
#define POLL_NONE	2	/* stdin is not read */
void	sh_signals_init(void);
const char *sh_lookup(const char *name, void *arg);
int	sh_is_function(const char *name, void *arg);
int	sh_run_tool(const char *tool, int argc, char **argv);
pid_t	sh_spawn_tool(const char *tool, char **args, int out_fd);
/* Replaces %N in argv[1..] by the job's GPID (new strings); -1 if bad. */
int	sh_job_args(const char *prog, int argc, char **argv, char ***outp);

/* sshell-term.c */
void	term_init(void);
/* Interactive: our own process group, the terminal's foreground. */
void	term_own_group(void);
void	term_raw(void);
void	term_cooked(void);
int	term_size(uint32_t *rows, uint32_t *cols);

/*
 * sshell-rl.c: the user interface through GNU readline's callback API
 * (so that sh_poll can serve jobs while a line is being typed).
 */
void	ui_setup(void);
/* Shows the prompt (more: the "> " of a continued command). */
void	ui_prompt(int more);
/* 1 with *linep (caller frees) when a line was entered; 0 if none yet;
 * -1 at end of input (Ctrl-D). */
int	ui_take_line(char **linep);
/* stdin is readable at the prompt: readline takes what was typed. */
void	ui_read_input(void);
/* Stops showing the prompt (before a job runs). */
void	ui_done(void);
/* Around output written while the prompt shows; no-ops otherwise. */
void	ui_suspend(void);
void	ui_resume(void);
/* Ctrl-C at the prompt: the line typed so far is dropped. */
void	ui_interrupt(void);
void	ui_history_add(const char *text);
void	ui_history_print(void);
void	ui_history_save(void);

#endif
