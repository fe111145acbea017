/*
 * sshell-parse.c: the line parser of sshell (see sshell.h for the rule it
 * implements).  Pure: no I/O, no globals; allocation through xmalloc.
 *
 * It is a lexer for POSIX sh that knows just enough grammar to answer two
 * questions: is the command complete at the end of the text, and what kind
 * of line is it.  It tracks
 *  - quoting: '...', "...", backslash, $( ), ${ }, $(( )), backquotes,
 *    nested to any depth (bounded by SCAN_MAX_NEST);
 *  - compound commands, by the reserved words sh recognises in command
 *    position: if/fi, for|while|until/done, case/esac (with its patterns,
 *    whose `)` closes nothing), { }, and ( );
 *  - here-documents: after the newline that ends their command, each body
 *    runs up to a line equal to its (unquoted) delimiter, tabs stripped
 *    for <<-;
 *  - a trailing \, |, && or || that wants another line.
 * It never decides that a line is wrong: a complete but malformed line is
 * handed to sh, which reports it as it would.  Only the top level is kept
 * as tokens (words with flags saying what syntax they contain, and
 * operators); words inside $( ) belong to the word around them.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sshell.h"
#include "xmalloc.h"

#define SCAN_MAX_NEST	64	/* $( " ${ ` inside each other */
#define SCAN_MAX_DEPTH	256	/* compound commands inside each other */
#define SCAN_MAX_HEREDOC 64	/* pending here-documents on one line */

/* Word flags: what sh syntax a word contains. */
#define W_QUOTE		0x001	/* ' " or \ */
#define W_PARAM		0x002	/* $NAME ${NAME} $? : sshell can expand */
#define W_HARD		0x004	/* $( ` ${x...} $1 $(( )): only sh can */
#define W_GLOB		0x008	/* unquoted * ? [ */
#define W_TILDE		0x010	/* ~ at the start */
#define W_RESERVED	0x020	/* a reserved word in command position */
#define W_ASSIGN	0x040	/* NAME=... in command position */
#define W_OTHER		0x080	/* another unquoted special, e.g. { } ! */

enum tok_type { TOK_WORD, TOK_OP, TOK_NL };

struct tok {
	enum tok_type	 type;
	size_t		 start, end;	/* text[start..end) */
	int		 flags;		/* W_* of a word */
	int		 depth;		/* compound nesting after it */
};

/* A compound command waiting for its closer. */
enum closer { C_PAREN, C_BRACE, C_FI, C_DONE, C_ESAC };

/* Where a case is: its word, `in`, a pattern, or a command list. */
enum case_phase { CASE_WORD, CASE_IN, CASE_PAT, CASE_CMD };

struct heredoc {
	char		*delim;		/* unquoted */
	int		 strip;		/* <<- */
};

struct scan {
	const char	*s;
	size_t		 n, i;
	int		 more;		/* ran out of text inside something */
	int		 nest;		/* recursion depth of scan_* */
	int		 comment;	/* a comment was seen */
	struct tok	*toks;		/* top-level tokens */
	size_t		 ntoks, captoks;
	struct heredoc	 hd[SCAN_MAX_HEREDOC];
	size_t		 nhd;
};

static int	scan_list(struct scan *, int, int);
static int	scan_word(struct scan *, int *);
static int	scan_dollar(struct scan *, int *);
static int	scan_squote(struct scan *);
static int	scan_dquote(struct scan *, int *);
static int	scan_backquote(struct scan *);
static int	scan_heredocs(struct scan *);
static void	scan_free(struct scan *);

static int
is_blank(int c)
{
	return c == ' ' || c == '\t';
}

/* Characters that end an unquoted word (operators and blanks). */
static int
is_meta(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == ';' || c == '&' ||
	    c == '|' || c == '(' || c == ')' || c == '<' || c == '>';
}

static int
is_name_start(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int
is_name_char(int c)
{
	return is_name_start(c) || (c >= '0' && c <= '9');
}

int
sh_is_name(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || !is_name_start((unsigned char)s[0]))
		return 0;
	for (i = 1; i < len; i++)
		if (!is_name_char((unsigned char)s[i]))
			return 0;
	return 1;
}

static void
tok_add(struct scan *sc, enum tok_type type, size_t start, size_t end,
    int flags, int depth)
{
	struct tok *t;

	if (sc->ntoks == sc->captoks) {
		sc->captoks = sc->captoks == 0 ? 16 : sc->captoks * 2;
		sc->toks = xreallocarray(sc->toks, sc->captoks,
		    sizeof(*sc->toks));
	}
	t = &sc->toks[sc->ntoks++];
	t->type = type;
	t->start = start;
	t->end = end;
	t->flags = flags;
	t->depth = depth;
}

/* 1 if text[start..end) is exactly word. */
static int
word_is(const struct scan *sc, size_t start, size_t end, const char *word)
{
	size_t len = strlen(word);

	return end - start == len && memcmp(sc->s + start, word, len) == 0;
}

/* Is the word text[start..sc->i) a reserved word of sh? */
static int
scan_reserved(const struct scan *sc, size_t start, int *flags)
{
	static const char *const words[] = {
		"if", "then", "else", "elif", "fi", "do", "done", "case",
		"esac", "while", "until", "for", "{", "}", "!",
	};
	size_t k;

	for (k = 0; k < sizeof(words) / sizeof(words[0]); k++) {
		if (word_is(sc, start, sc->i, words[k])) {
			*flags |= W_RESERVED;
			return 1;
		}
	}
	return 0;
}

/* Single quotes: sc->i is just after the opening one. */
static int
scan_squote(struct scan *sc)
{
	while (sc->i < sc->n) {
		if (sc->s[sc->i++] == '\'')
			return 0;
	}
	sc->more = 1;
	return -1;
}

/* Backquotes: sc->i is just after the opening one. */
static int
scan_backquote(struct scan *sc)
{
	while (sc->i < sc->n) {
		if (sc->s[sc->i] == '\\') {
			sc->i += 2;
			continue;
		}
		if (sc->s[sc->i++] == '`')
			return 0;
	}
	sc->i = sc->n;
	sc->more = 1;
	return -1;
}

/* Double quotes: sc->i is just after the opening one. */
static int
scan_dquote(struct scan *sc, int *flags)
{
	char c;

	while (sc->i < sc->n) {
		c = sc->s[sc->i];
		if (c == '"') {
			sc->i++;
			return 0;
		}
		if (c == '\\') {
			sc->i += 2;
			continue;
		}
		if (c == '`') {
			sc->i++;
			*flags |= W_HARD;
			if (scan_backquote(sc) != 0)
				return -1;
			continue;
		}
		if (c == '$') {
			if (scan_dollar(sc, flags) != 0)
				return -1;
			continue;
		}
		sc->i++;
	}
	sc->i = sc->n;
	sc->more = 1;
	return -1;
}

/*
 * ${...}: sc->i is just after the brace.  Plain ${NAME} is W_PARAM,
 * anything else (operators, ${#x}, ${1}) W_HARD.
 */
static int
scan_brace(struct scan *sc, int *flags)
{
	size_t start = sc->i;
	char c;

	while (sc->i < sc->n) {
		c = sc->s[sc->i];
		if (c == '}') {
			if (sh_is_name(sc->s + start, sc->i - start))
				*flags |= W_PARAM;
			else
				*flags |= W_HARD;
			sc->i++;
			return 0;
		}
		if (c == '\\') {
			sc->i += 2;
			continue;
		}
		if (c == '\'') {
			sc->i++;
			if (scan_squote(sc) != 0)
				return -1;
			continue;
		}
		if (c == '"') {
			sc->i++;
			if (scan_dquote(sc, flags) != 0)
				return -1;
			continue;
		}
		if (c == '`') {
			sc->i++;
			if (scan_backquote(sc) != 0)
				return -1;
			continue;
		}
		if (c == '$') {
			if (scan_dollar(sc, flags) != 0)
				return -1;
			continue;
		}
		sc->i++;
	}
	sc->i = sc->n;
	sc->more = 1;
	return -1;
}

/* $(( )): sc->i is just after the two parentheses. */
static int
scan_arith(struct scan *sc)
{
	int depth = 0;
	char c;

	while (sc->i < sc->n) {
		c = sc->s[sc->i++];
		if (c == '(')
			depth++;
		else if (c == ')') {
			if (depth > 0)
				depth--;
			else if (sc->i < sc->n && sc->s[sc->i] == ')') {
				sc->i++;
				return 0;
			}
		}
	}
	sc->more = 1;
	return -1;
}

/* A $ at sc->i, in a word or in double quotes. */
static int
scan_dollar(struct scan *sc, int *flags)
{
	char c;
	int r;

	sc->i++;
	if (sc->i >= sc->n) {
		/* A lone $ at the end is literal; still syntax to us. */
		*flags |= W_HARD;
		return 0;
	}
	c = sc->s[sc->i];
	if (++sc->nest > SCAN_MAX_NEST) {
		/* Deeper than any human writes: let sh judge it. */
		*flags |= W_HARD;
		sc->nest--;
		return 0;
	}
	if (c == '(' && sc->i + 1 < sc->n && sc->s[sc->i + 1] == '(') {
		sc->i += 2;
		*flags |= W_HARD;
		r = scan_arith(sc);
	} else if (c == '(') {
		sc->i++;
		*flags |= W_HARD;
		r = scan_list(sc, 1, 0);
	} else if (c == '{') {
		sc->i++;
		r = scan_brace(sc, flags);
	} else if (is_name_start((unsigned char)c)) {
		while (sc->i < sc->n &&
		    is_name_char((unsigned char)sc->s[sc->i]))
			sc->i++;
		*flags |= W_PARAM;
		r = 0;
	} else if (c == '?') {
		sc->i++;
		*flags |= W_PARAM;
		r = 0;
	} else if (strchr("$!#@*-0123456789", c) != NULL) {
		sc->i++;
		*flags |= W_HARD;
		r = 0;
	} else {
		*flags |= W_HARD;
		r = 0;
	}
	sc->nest--;
	return r;
}

/*
 * One word at sc->i (not at a blank or an operator).  Sets *flags to what
 * it contains.  Returns 0, or -1 when the text ended inside a quote.
 */
static int
scan_word(struct scan *sc, int *flags)
{
	size_t start = sc->i;
	char c;

	*flags = 0;
	if (sc->s[sc->i] == '~')
		*flags |= W_TILDE;
	while (sc->i < sc->n) {
		c = sc->s[sc->i];
		if (is_meta((unsigned char)c))
			break;
		switch (c) {
		case '\\':
			*flags |= W_QUOTE;
			if (sc->i + 1 >= sc->n) {
				/* Backslash-newline to come: continue. */
				sc->i = sc->n;
				sc->more = 1;
				return -1;
			}
			sc->i += 2;
			continue;
		case '\'':
			*flags |= W_QUOTE;
			sc->i++;
			if (scan_squote(sc) != 0)
				return -1;
			continue;
		case '"':
			*flags |= W_QUOTE;
			sc->i++;
			if (scan_dquote(sc, flags) != 0)
				return -1;
			continue;
		case '`':
			*flags |= W_HARD;
			sc->i++;
			if (scan_backquote(sc) != 0)
				return -1;
			continue;
		case '$':
			if (scan_dollar(sc, flags) != 0)
				return -1;
			continue;
		case '*':
		case '?':
		case '[':
			*flags |= W_GLOB;
			break;
		case '=':
			/* NAME= before any quote: an assignment if in
			 * command position (decided by the caller). */
			if (sh_is_name(sc->s + start, sc->i - start))
				*flags |= W_ASSIGN;
			break;
		case '{':
		case '}':
		case '!':
		case '#':
			/* Reserved words and comments are judged per word
			 * by the caller; inside a word they are literal. */
			if (sc->i == start)
				*flags |= W_OTHER;
			break;
		}
		sc->i++;
	}
	return 0;
}

/*
 * Reads here-document bodies: sc->i is just after the newline that ended
 * their command.  Returns 0, or -1 (sc->more) if the text ends first.
 */
static int
scan_heredocs(struct scan *sc)
{
	size_t k, ls, le, p;
	int found;

	for (k = 0; k < sc->nhd; k++) {
		found = 0;
		while (sc->i < sc->n) {
			ls = sc->i;
			while (sc->i < sc->n && sc->s[sc->i] != '\n')
				sc->i++;
			le = sc->i;
			if (sc->i < sc->n)
				sc->i++;	/* the newline */
			p = ls;
			if (sc->hd[k].strip)
				while (p < le && sc->s[p] == '\t')
					p++;
			if (le - p == strlen(sc->hd[k].delim) &&
			    memcmp(sc->s + p, sc->hd[k].delim, le - p) == 0) {
				found = 1;
				break;
			}
		}
		if (!found) {
			sc->more = 1;
			return -1;
		}
	}
	for (k = 0; k < sc->nhd; k++)
		free(sc->hd[k].delim);
	sc->nhd = 0;
	return 0;
}

/* The delimiter of a here-document: the word with its quotes removed. */
static char *
heredoc_delim(const char *s, size_t len)
{
	char *d = xmalloc(len + 1);
	size_t i, j = 0;
	char q = 0;

	for (i = 0; i < len; i++) {
		if (q != 0) {
			if (s[i] == q)
				q = 0;
			else
				d[j++] = s[i];
		} else if (s[i] == '\'' || s[i] == '"')
			q = s[i];
		else if (s[i] == '\\' && i + 1 < len)
			d[j++] = s[++i];
		else
			d[j++] = s[i];
	}
	d[j] = '\0';
	return d;
}

/* The length of the operator at sc->i (1-3), which is a meta character. */
static size_t
op_len(const struct scan *sc)
{
	static const char *const ops[] = {
		"<<-", "&&", "||", ";;", "<<", ">>", "<&", ">&", "<>", ">|",
	};
	size_t k, len;

	for (k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
		len = strlen(ops[k]);
		if (sc->i + len <= sc->n &&
		    memcmp(sc->s + sc->i, ops[k], len) == 0)
			return len;
	}
	return 1;
}

/*
 * A command list, up to the end of the text (top level: record = 1) or up
 * to the `)` that closes a $( (cmdsub = 1).  Keeps its own stack of open
 * compound commands.  Returns 0 when it ended cleanly, -1 with sc->more
 * when the text ended inside something.
 */
static int
scan_list(struct scan *sc, int cmdsub, int record)
{
	enum closer stack[SCAN_MAX_DEPTH];
	enum case_phase phase[SCAN_MAX_DEPTH];
	int depth = 0, cmdpos = 1, need_cmd = 0, heredoc_next = 0;
	int heredoc_strip = 0, redir_next = 0, flags;
	size_t start, len;
	char c;

	while (sc->i < sc->n) {
		c = sc->s[sc->i];
		if (is_blank((unsigned char)c)) {
			sc->i++;
			continue;
		}
		if (c == '\\' && sc->i + 1 < sc->n &&
		    sc->s[sc->i + 1] == '\n') {
			sc->i += 2;
			continue;
		}
		if (c == '#') {
			sc->comment = 1;
			while (sc->i < sc->n && sc->s[sc->i] != '\n')
				sc->i++;
			continue;
		}
		start = sc->i;
		if (c == '\n') {
			sc->i++;
			if (record)
				tok_add(sc, TOK_NL, start, sc->i, 0, depth);
			if (sc->nhd > 0 && scan_heredocs(sc) != 0)
				return -1;
			cmdpos = 1;
			continue;
		}
		if (is_meta((unsigned char)c)) {
			len = op_len(sc);
			sc->i += len;
			if (c == '(' && len == 1) {
				if (depth > 0 && stack[depth - 1] == C_ESAC &&
				    phase[depth - 1] == CASE_PAT) {
					/* (pattern) */
				} else if (depth < SCAN_MAX_DEPTH) {
					stack[depth] = C_PAREN;
					phase[depth++] = CASE_CMD;
				}
				cmdpos = 1;
				need_cmd = 0;
			} else if (c == ')' && len == 1) {
				if (depth > 0 && stack[depth - 1] == C_ESAC &&
				    phase[depth - 1] == CASE_PAT) {
					phase[depth - 1] = CASE_CMD;
					cmdpos = 1;
				} else if (depth > 0 &&
				    stack[depth - 1] == C_PAREN) {
					depth--;
					cmdpos = 1;
				} else if (cmdsub) {
					return 0;
				}
				need_cmd = 0;
			} else if (len == 2 && c == ';' && sc->s[start + 1] ==
			    ';') {
				if (depth > 0 && stack[depth - 1] == C_ESAC)
					phase[depth - 1] = CASE_PAT;
				cmdpos = 0;
				need_cmd = 0;
			} else if (c == '<' && len >= 2 && sc->s[start + 1] ==
			    '<') {
				heredoc_next = 1;
				heredoc_strip = len == 3;
			} else if (c == '<' || c == '>') {
				redir_next = 1;
			} else {
				/* ; & | && || */
				cmdpos = 1;
				need_cmd = len == 2 || c == '|';
			}
			if (record)
				tok_add(sc, TOK_OP, start, sc->i, 0, depth);
			continue;
		}
		if (scan_word(sc, &flags) != 0)
			return -1;
		need_cmd = 0;
		if (heredoc_next) {
			heredoc_next = 0;
			if (sc->nhd < SCAN_MAX_HEREDOC) {
				sc->hd[sc->nhd].delim = heredoc_delim(
				    sc->s + start, sc->i - start);
				sc->hd[sc->nhd++].strip = heredoc_strip;
			}
		} else if (redir_next) {
			redir_next = 0;
		} else if (depth > 0 && stack[depth - 1] == C_ESAC &&
		    phase[depth - 1] != CASE_CMD) {
			if (phase[depth - 1] == CASE_WORD)
				phase[depth - 1] = CASE_IN;
			else if (phase[depth - 1] == CASE_IN)
				phase[depth - 1] = CASE_PAT;
			else if (word_is(sc, start, sc->i, "esac") &&
			    (flags & W_QUOTE) == 0) {
				depth--;
				flags |= W_RESERVED;
				cmdpos = 0;
			}
		} else if (cmdpos && (flags & (W_QUOTE | W_PARAM | W_HARD))
		    == 0 && scan_reserved(sc, start, &flags)) {
			if (word_is(sc, start, sc->i, "if") ||
			    word_is(sc, start, sc->i, "while") ||
			    word_is(sc, start, sc->i, "until") ||
			    word_is(sc, start, sc->i, "{")) {
				if (depth < SCAN_MAX_DEPTH) {
					stack[depth] = sc->s[start] == 'i' ?
					    C_FI : sc->s[start] == '{' ?
					    C_BRACE : C_DONE;
					phase[depth++] = CASE_CMD;
				}
				flags |= W_RESERVED;
			} else if (word_is(sc, start, sc->i, "for")) {
				if (depth < SCAN_MAX_DEPTH) {
					stack[depth] = C_DONE;
					phase[depth++] = CASE_CMD;
				}
				flags |= W_RESERVED;
				cmdpos = 0;
			} else if (word_is(sc, start, sc->i, "case")) {
				if (depth < SCAN_MAX_DEPTH) {
					stack[depth] = C_ESAC;
					phase[depth++] = CASE_WORD;
				}
				flags |= W_RESERVED;
				cmdpos = 0;
			} else if (word_is(sc, start, sc->i, "then") ||
			    word_is(sc, start, sc->i, "do") ||
			    word_is(sc, start, sc->i, "else") ||
			    word_is(sc, start, sc->i, "elif") ||
			    word_is(sc, start, sc->i, "!")) {
				flags |= W_RESERVED;
			} else if (word_is(sc, start, sc->i, "fi") ||
			    word_is(sc, start, sc->i, "done") ||
			    word_is(sc, start, sc->i, "}") ||
			    word_is(sc, start, sc->i, "esac")) {
				c = sc->s[start];
				if (depth > 0 && ((c == 'f' &&
				    stack[depth - 1] == C_FI) || (c == 'd' &&
				    stack[depth - 1] == C_DONE) || (c == '}' &&
				    stack[depth - 1] == C_BRACE) || (c == 'e' &&
				    stack[depth - 1] == C_ESAC)))
					depth--;
				flags |= W_RESERVED;
				cmdpos = 0;
			}
		} else if (cmdpos && (flags & W_ASSIGN) != 0) {
			/* An assignment: still in command position. */
		} else {
			flags &= ~W_ASSIGN;
			cmdpos = 0;
		}
		if (record)
			tok_add(sc, TOK_WORD, start, sc->i, flags, depth);
	}
	if (cmdsub || depth > 0 || need_cmd || sc->nhd > 0 || heredoc_next) {
		sc->more = 1;
		return -1;
	}
	return 0;
}

static void
scan_free(struct scan *sc)
{
	size_t k;

	for (k = 0; k < sc->nhd; k++)
		free(sc->hd[k].delim);
	free(sc->toks);
	sc->toks = NULL;
	sc->nhd = 0;
}

void
line_free(struct line *l)
{
	int i;

	free(l->node);
	free(l->text);
	if (l->argv != NULL) {
		for (i = 0; i < l->argc; i++)
			free(l->argv[i]);
		free(l->argv);
	}
	free(l->name);
	memset(l, 0, sizeof(*l));
}

static char *
xstrndup(const char *s, size_t n)
{
	char *d = xmalloc(n + 1);

	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

/*
 * Is w a builtin of sh that no executable provides?  Such a line is sent
 * to sh, where it works, rather than exec'd, where it cannot be found.
 */
static int
sh_only_builtin(const char *w)
{
	static const char *const names[] = {
		":", ".", "alias", "break", "command", "continue", "eval",
		"exec", "getopts", "hash", "local", "read", "readonly",
		"return", "set", "shift", "source", "times", "trap", "type",
		"ulimit", "umask", "unalias",
	};
	size_t k;

	for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
		if (strcmp(names[k], w) == 0)
			return 1;
	return 0;
}

/*
 * sh builtins that also exist as programs, with their own reading of
 * backslashes and options (dash's echo is not /bin/echo): a line that
 * quotes their arguments goes to sh, which is what its author tested.
 */
static int
sh_also_builtin(const char *w)
{
	static const char *const names[] = {
		"[", "echo", "false", "kill", "printf", "pwd", "test", "true",
	};
	size_t k;

	for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
		if (strcmp(names[k], w) == 0)
			return 1;
	return 0;
}

/* Fills l->argv with the words of toks[0..n), which are all words. */
static void
line_words(struct line *l, const char *s, const struct tok *toks, size_t n)
{
	size_t k;

	l->argc = (int)n;
	l->argv = xcalloc(n + 1, sizeof(*l->argv));
	for (k = 0; k < n; k++)
		l->argv[k] = xstrndup(s + toks[k].start,
		    toks[k].end - toks[k].start);
}

/* A `set` option word: -x, +xyz, -o, +o, or an -o NAME argument. */
static int
set_word_ok(const char *w, int after_o)
{
	size_t i;

	if (after_o)
		return sh_is_name(w, strlen(w));
	if ((w[0] != '-' && w[0] != '+') || w[1] == '\0')
		return 0;
	for (i = 1; w[i] != '\0'; i++)
		if (!((w[i] >= 'a' && w[i] <= 'z') ||
		    (w[i] >= 'A' && w[i] <= 'Z')))
			return 0;
	return 1;
}

/* Is toks[0..n) NAME ( ) compound-command, and nothing else? */
static int
line_is_funcdef(const struct scan *sc, const struct tok *t, size_t n)
{
	size_t k = 3;

	if (n < 4 || t[0].type != TOK_WORD || t[0].flags != 0 ||
	    !sh_is_name(sc->s + t[0].start, t[0].end - t[0].start))
		return 0;
	if (t[1].type != TOK_OP || !word_is(sc, t[1].start, t[1].end, "(") ||
	    t[2].type != TOK_OP || !word_is(sc, t[2].start, t[2].end, ")"))
		return 0;
	while (k < n && t[k].type == TOK_NL)
		k++;
	if (k >= n)
		return 0;
	/* The body opens a compound command; it must close at the end. */
	if (t[k].depth == 0)
		return 0;
	for (k++; k < n; k++)
		if (t[k].depth == 0)
			break;
	if (k >= n)
		return 0;
	/* A redirection may follow the body; another command may not. */
	for (k++; k < n; k++)
		if (t[k].type == TOK_NL || (t[k].type == TOK_OP &&
		    (sc->s[t[k].start] == ';' || sc->s[t[k].start] == '&' ||
		    sc->s[t[k].start] == '|')))
			return 0;
	return 1;
}

int
line_parse(const char *text, int (*is_builtin)(const char *),
    int (*is_function)(const char *, void *), void *arg, struct line *l)
{
	struct scan sc;
	const char *s = text;
	size_t n, k, nw, a, e, amp;
	int syntax, quoted, after_o, args;
	struct tok *t;

	memset(l, 0, sizeof(*l));
	while (is_blank((unsigned char)*s))
		s++;
	if (*s == '@') {
		for (e = 1; s[e] != '\0' && !is_meta((unsigned char)s[e]); e++)
			;
		for (k = 1; k < e; k++)
			if (!is_name_char((unsigned char)s[k]) &&
			    s[k] != '.' && s[k] != '-')
				break;
		if (k == e && e > 1) {
			l->node = xstrndup(s + 1, e - 1);
			s += e;
			while (is_blank((unsigned char)*s))
				s++;
		}
	}

	memset(&sc, 0, sizeof(sc));
	sc.s = s;
	sc.n = strlen(s);
	if (scan_list(&sc, 0, 1) != 0) {
		scan_free(&sc);
		line_free(l);
		return LINE_MORE;
	}

	/* Drop trailing newlines, then a trailing & (background). */
	t = sc.toks;
	n = sc.ntoks;
	while (n > 0 && t[n - 1].type == TOK_NL)
		n--;
	if (n > 0 && t[n - 1].type == TOK_OP && t[n - 1].depth == 0 &&
	    word_is(&sc, t[n - 1].start, t[n - 1].end, "&")) {
		l->bg = 1;
		n--;
	}
	if (n == 0) {
		if (l->node != NULL || l->bg) {
			l->kind = LINE_ERROR;
			l->error = l->node != NULL ?
			    "a command must follow @NODE" :
			    "syntax error near unexpected token `&'";
		} else
			l->kind = LINE_EMPTY;
		scan_free(&sc);
		return LINE_COMPLETE;
	}
	/*
	 * The text for sh: from the first token to the end, without the &
	 * (what follows it may be here-document bodies, which stay).
	 */
	a = t[0].start;
	e = sc.n;
	while (e > a && (is_blank((unsigned char)s[e - 1]) || s[e - 1] == '\n'))
		e--;
	if (l->bg) {
		amp = t[n].start;
		for (k = amp; k > a && is_blank((unsigned char)s[k - 1]); k--)
			;
		l->text = xmalloc(e - a + 1);
		memcpy(l->text, s + a, k - a);
		memcpy(l->text + (k - a), s + amp + 1, e - amp - 1);
		l->text[k - a + e - amp - 1] = '\0';
	} else
		l->text = xstrndup(s + a, e - a);

	/*
	 * Which tokens are plain words, and what do they contain?  A
	 * comment is no syntax: it is not among the tokens at all.
	 */
	syntax = 0;
	quoted = 0;
	nw = 0;
	for (k = 0; k < n; k++) {
		if (t[k].type != TOK_WORD)
			syntax = 1;
		else {
			nw++;
			if ((t[k].flags & ~W_QUOTE) != 0)
				syntax = 1;
			else if (t[k].flags != 0)
				quoted = 1;
		}
	}

	if (nw == n) {
		/* Assignments only. */
		for (k = 0; k < n; k++)
			if ((t[k].flags & W_ASSIGN) == 0)
				break;
		if (k == n) {
			l->kind = LINE_ASSIGN;
			line_words(l, s, t, n);
			goto done;
		}
	}
	if (line_is_funcdef(&sc, t, n)) {
		l->kind = LINE_FUNCDEF;
		l->name = xstrndup(s + t[0].start, t[0].end - t[0].start);
		goto done;
	}
	if (nw == n && word_is(&sc, t[0].start, t[0].end, "set") &&
	    t[0].flags == 0 && n > 1) {
		/* Options, then (after --, or from a word that is not an
		 * option) positional parameters, all of them literal. */
		after_o = 0;
		args = 0;
		for (k = 1; k < n; k++) {
			char *w;
			int ok;

			if (args) {
				/* Parameters sshell can expand itself. */
				if ((t[k].flags & ~(W_QUOTE | W_PARAM |
				    W_TILDE | W_ASSIGN)) != 0)
					break;
				if (t[k].flags != 0)
					l->expand = 1;
				continue;
			}
			if (t[k].flags != 0)
				break;
			w = xstrndup(s + t[k].start, t[k].end - t[k].start);
			if (!after_o && (strcmp(w, "--") == 0 ||
			    (w[0] != '-' && w[0] != '+'))) {
				args = 1;
				free(w);
				continue;
			}
			ok = set_word_ok(w, after_o);
			after_o = !after_o && (strcmp(w, "-o") == 0 ||
			    strcmp(w, "+o") == 0);
			free(w);
			if (!ok)
				break;
		}
		if (k == n && !after_o) {
			l->kind = LINE_SET;
			line_words(l, s, t, n);
			goto done;
		}
		l->expand = 0;
	}
	if (nw == n && t[0].flags == 0) {
		char *first = xstrndup(s + t[0].start, t[0].end - t[0].start);
		int builtin = is_builtin != NULL && is_builtin(first);
		int func = (is_function != NULL && is_function(first, arg)) ||
		    sh_only_builtin(first);
		int shquoted = quoted && sh_also_builtin(first);

		free(first);
		if (builtin && !func) {
			/* Quotes and plain parameters sshell expands. */
			for (k = 1; k < n; k++)
				if ((t[k].flags & ~(W_QUOTE | W_PARAM |
				    W_TILDE | W_ASSIGN)) != 0)
					break;
			if (k == n) {
				l->kind = LINE_BUILTIN;
				l->expand = syntax || quoted;
				line_words(l, s, t, n);
				goto done;
			}
		} else if (!syntax && !func && !shquoted) {
			/* Quotes only: sshell takes them off, and the command
			 * runs without a sh of its own in its job, so that a
			 * signal sent to the job reaches only what the user
			 * ran (a sh -c '... trap ...' gets its trap). */
			l->kind = LINE_SIMPLE;
			l->expand = quoted;
			line_words(l, s, t, n);
			goto done;
		}
	}
	l->kind = LINE_SHELL;
done:
	scan_free(&sc);
	return LINE_COMPLETE;
}

char *
sh_quote(const char *s)
{
	size_t n = 2, i, j;
	char *q;

	for (i = 0; s[i] != '\0'; i++)
		n += s[i] == '\'' ? 4 : 1;
	q = xmalloc(n + 1);
	j = 0;
	q[j++] = '\'';
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == '\'') {
			memcpy(q + j, "'\\''", 4);
			j += 4;
		} else
			q[j++] = s[i];
	}
	q[j++] = '\'';
	q[j] = '\0';
	return q;
}

/* A growing string for word_expand. */
struct sbuf {
	char	*p;
	size_t	 len, cap;
};

static void
sb_addn(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		while (b->len + n + 1 > b->cap)
			b->cap = b->cap == 0 ? 64 : b->cap * 2;
		b->p = xreallocarray(b->p, b->cap, 1);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
sb_add(struct sbuf *b, const char *s)
{
	if (s != NULL)
		sb_addn(b, s, strlen(s));
}

/*
 * One parameter at s (just after the $).  Appends its value and returns
 * how many bytes it took, or 0 if it is not one sshell expands.
 */
static size_t
expand_param(const char *s, struct sbuf *b, const char *(*lookup)(
    const char *, void *), void *arg, int status)
{
	char num[16], *name;
	size_t n;

	if (s[0] == '?') {
		snprintf(num, sizeof(num), "%d", status);
		sb_add(b, num);
		return 1;
	}
	if (s[0] == '{') {
		for (n = 1; s[n] != '\0' && s[n] != '}'; n++)
			;
		if (s[n] != '}')
			return 0;
		if (n == 2 && s[1] == '?') {
			snprintf(num, sizeof(num), "%d", status);
			sb_add(b, num);
			return 3;
		}
		if (!sh_is_name(s + 1, n - 1))
			return 0;
		name = xstrndup(s + 1, n - 1);
		sb_add(b, lookup(name, arg));
		free(name);
		return n + 1;
	}
	for (n = 0; is_name_char((unsigned char)s[n]); n++)
		;
	if (n == 0 || !is_name_start((unsigned char)s[0]))
		return 0;
	name = xstrndup(s, n);
	sb_add(b, lookup(name, arg));
	free(name);
	return n;
}

int
word_expand(const char *raw, const char *(*lookup)(const char *, void *),
    void *arg, int status, int literal_globs, char **out)
{
	struct sbuf b = { NULL, 0, 0 };
	const char *s = raw, *home;
	size_t used;
	int dq = 0;

	*out = NULL;
	sb_addn(&b, "", 0);
	if (s[0] == '~' && (s[1] == '\0' || s[1] == '/')) {
		if ((home = lookup("HOME", arg)) == NULL)
			goto unsupported;
		sb_add(&b, home);
		s++;
	}
	while (*s != '\0') {
		if (!dq && *s == '\'') {
			const char *q = strchr(s + 1, '\'');

			if (q == NULL)
				goto unsupported;
			sb_addn(&b, s + 1, q - s - 1);
			s = q + 1;
		} else if (*s == '"') {
			dq = !dq;
			s++;
		} else if (*s == '\\') {
			if (s[1] == '\0')
				goto unsupported;
			/* In double quotes, \ quotes only $ ` " \ newline. */
			if (dq && strchr("$`\"\\\n", s[1]) == NULL)
				sb_addn(&b, s, 2);
			else if (s[1] != '\n')
				sb_addn(&b, s + 1, 1);
			s += 2;
		} else if (*s == '$') {
			if ((used = expand_param(s + 1, &b, lookup, arg,
			    status)) == 0)
				goto unsupported;
			s += 1 + used;
		} else if (*s == '`') {
			goto unsupported;
		} else if (!dq && !literal_globs && strchr("*?[", *s) !=
		    NULL) {
			goto unsupported;
		} else {
			sb_addn(&b, s, 1);
			s++;
		}
	}
	if (dq)
		goto unsupported;
	*out = b.p;
	return 0;
unsupported:
	free(b.p);
	return -1;
}
