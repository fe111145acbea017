/*
 * sshell-prelude.c: what sh keeps between commands, kept by sshell and
 * replayed ahead of every /bin/sh -c job (see sshell.h).
 *
 * Each job is a fresh sh on whatever node placement chose, so nothing
 * survives from one line to the next unless we send it again.  The
 * prelude is, in this order:
 *	set -- 'a' 'b'		positional parameters, if any were given
 *	NAME='value'		variables, in order of last assignment
 *	NAME() { ... }		functions, as typed, in order of definition
 *	set -e -o pipefail	options in effect
 *	(exit N) && :		$? seeded, only when N != 0
 * The seed comes last, since every assignment and `set` resets $?; it is
 * the left side of an && so that set -e, which ignores a failure there,
 * does not end the job before its line runs, while $? still reads N.
 *
 * Pure (no I/O); memory through xmalloc.  Lists are short (a script's
 * variables), so plain arrays searched linearly are enough.
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sshell.h"
#include "xmalloc.h"

struct pvar {
	char	*name;
	char	*value;		/* the value, or the text to evaluate */
	int	 raw;		/* 1: value is sh text (e.g. $(date)) */
};

struct pfunc {
	char	*name;
	char	*text;		/* the definition as typed */
};

struct popt {
	char	 name[32];	/* a letter ("e") or an -o name */
	int	 on;
};

struct prelude {
	char		**args;		/* positional parameters, $1... */
	int		  nargs;
	int		  has_args;	/* 1: set them (set --) */
	struct pvar	*vars;
	size_t		 nvars;
	struct pfunc	*funcs;
	size_t		 nfuncs;
	struct popt	*opts;
	size_t		 nopts;
};

struct prelude *
prelude_new(void)
{
	return xcalloc(1, sizeof(struct prelude));
}

void
prelude_free(struct prelude *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nvars; i++) {
		free(p->vars[i].name);
		free(p->vars[i].value);
	}
	for (i = 0; i < p->nfuncs; i++) {
		free(p->funcs[i].name);
		free(p->funcs[i].text);
	}
	prelude_set_args(p, 0, NULL);
	free(p->vars);
	free(p->funcs);
	free(p->opts);
	free(p);
}

static ssize_t
var_find(const struct prelude *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->nvars; i++)
		if (strcmp(p->vars[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}

static ssize_t
func_find(const struct prelude *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->nfuncs; i++)
		if (strcmp(p->funcs[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}

int
prelude_unset_var(struct prelude *p, const char *name)
{
	ssize_t i;

	if ((i = var_find(p, name)) < 0)
		return 0;
	free(p->vars[i].name);
	free(p->vars[i].value);
	memmove(&p->vars[i], &p->vars[i + 1],
	    (p->nvars - (size_t)i - 1) * sizeof(*p->vars));
	p->nvars--;
	return 1;
}

/* Moves the variable to the end (latest assignment) with its new value. */
static void
var_put(struct prelude *p, const char *name, const char *value, int raw)
{
	prelude_unset_var(p, name);
	p->vars = xreallocarray(p->vars, p->nvars + 1, sizeof(*p->vars));
	p->vars[p->nvars].name = xstrdup(name);
	p->vars[p->nvars].value = xstrdup(value);
	p->vars[p->nvars].raw = raw;
	p->nvars++;
}

void
prelude_set_var(struct prelude *p, const char *name, const char *value)
{
	var_put(p, name, value, 0);
}

void
prelude_set_raw(struct prelude *p, const char *name, const char *raw)
{
	var_put(p, name, raw, 1);
}

const char *
prelude_get_var(const struct prelude *p, const char *name)
{
	ssize_t i;

	if ((i = var_find(p, name)) < 0 || p->vars[i].raw)
		return NULL;
	return p->vars[i].value;
}

int
prelude_has_var(const struct prelude *p, const char *name)
{
	return var_find(p, name) >= 0;
}

void
prelude_set_func(struct prelude *p, const char *name, const char *text)
{
	ssize_t i;

	if ((i = func_find(p, name)) >= 0) {
		free(p->funcs[i].text);
		p->funcs[i].text = xstrdup(text);
		return;
	}
	p->funcs = xreallocarray(p->funcs, p->nfuncs + 1, sizeof(*p->funcs));
	p->funcs[p->nfuncs].name = xstrdup(name);
	p->funcs[p->nfuncs].text = xstrdup(text);
	p->nfuncs++;
}

int
prelude_has_func(const struct prelude *p, const char *name)
{
	return func_find(p, name) >= 0;
}

int
prelude_unset_func(struct prelude *p, const char *name)
{
	ssize_t i;

	if ((i = func_find(p, name)) < 0)
		return 0;
	free(p->funcs[i].name);
	free(p->funcs[i].text);
	memmove(&p->funcs[i], &p->funcs[i + 1],
	    (p->nfuncs - (size_t)i - 1) * sizeof(*p->funcs));
	p->nfuncs--;
	return 1;
}

/* -o names that have a one-letter form are kept as the letter. */
static const char *
opt_letter(const char *name)
{
	static const char *const map[][2] = {
		{ "errexit", "e" }, { "nounset", "u" }, { "xtrace", "x" },
		{ "verbose", "v" }, { "noglob", "f" }, { "allexport", "a" },
		{ "noclobber", "C" }, { "noexec", "n" }, { "notify", "b" },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i][0], name) == 0)
			return map[i][1];
	return name;
}

static void
opt_put(struct prelude *p, const char *name, int on)
{
	size_t i;

	name = opt_letter(name);
	for (i = 0; i < p->nopts; i++) {
		if (strcmp(p->opts[i].name, name) == 0) {
			p->opts[i].on = on;
			return;
		}
	}
	p->opts = xreallocarray(p->opts, p->nopts + 1, sizeof(*p->opts));
	snprintf(p->opts[p->nopts].name, sizeof(p->opts[p->nopts].name), "%s",
	    name);
	p->opts[p->nopts].on = on;
	p->nopts++;
}

void
prelude_set_args(struct prelude *p, int argc, char *const *argv)
{
	int i;

	for (i = 0; i < p->nargs; i++)
		free(p->args[i]);
	free(p->args);
	p->args = NULL;
	p->nargs = 0;
	p->has_args = argv != NULL;
	if (argv == NULL)
		return;
	p->args = xcalloc((size_t)argc + 1, sizeof(*p->args));
	for (i = 0; i < argc; i++)
		p->args[i] = xstrdup(argv[i]);
	p->nargs = argc;
}

int
prelude_set_options(struct prelude *p, int argc, char *const *argv)
{
	char letter[2];
	int i, pass;
	size_t j;

	/* Pass 0 checks everything, pass 1 applies: all or nothing. */
	for (pass = 0; pass < 2; pass++) {
		for (i = 1; i < argc; i++) {
			const char *w = argv[i];

			/* The rest are positional parameters. */
			if (strcmp(w, "--") == 0 || (w[0] != '-' &&
			    w[0] != '+')) {
				if (pass == 1)
					prelude_set_args(p, argc - i -
					    (w[0] == '-'), argv + i +
					    (w[0] == '-'));
				break;
			}
			if (w[1] == '\0')
				return -1;
			if (strcmp(w + 1, "o") == 0) {
				if (i + 1 >= argc || !sh_is_name(argv[i + 1],
				    strlen(argv[i + 1])) ||
				    strlen(argv[i + 1]) >= 32)
					return -1;
				if (pass == 1)
					opt_put(p, argv[i + 1], w[0] == '-');
				i++;
				continue;
			}
			for (j = 1; w[j] != '\0'; j++) {
				if (!((w[j] >= 'a' && w[j] <= 'z') ||
				    (w[j] >= 'A' && w[j] <= 'Z')))
					return -1;
				letter[0] = w[j];
				letter[1] = '\0';
				if (pass == 1)
					opt_put(p, letter, w[0] == '-');
			}
		}
	}
	return 0;
}

int
prelude_errexit(const struct prelude *p)
{
	size_t i;

	for (i = 0; i < p->nopts; i++)
		if (strcmp(p->opts[i].name, "e") == 0)
			return p->opts[i].on;
	return 0;
}

int
prelude_empty(const struct prelude *p)
{
	size_t i;

	for (i = 0; i < p->nopts; i++)
		if (p->opts[i].on)
			return 0;
	return p->nvars == 0 && p->nfuncs == 0 && !p->has_args;
}

/* Appends s to the growing string *bp of length *lenp. */
static void
cat(char **bp, size_t *lenp, const char *s)
{
	size_t n = strlen(s);

	*bp = xreallocarray(*bp, *lenp + n + 1, 1);
	memcpy(*bp + *lenp, s, n + 1);
	*lenp += n;
}

char *
prelude_script(const struct prelude *p, int status, const char *line)
{
	char *b = NULL, *q, num[32];
	size_t len = 0, i;
	int any;

	cat(&b, &len, "");
	if (p->has_args) {
		cat(&b, &len, "set --");
		for (i = 0; i < (size_t)p->nargs; i++) {
			q = sh_quote(p->args[i]);
			cat(&b, &len, " ");
			cat(&b, &len, q);
			free(q);
		}
		cat(&b, &len, "\n");
	}
	for (i = 0; i < p->nvars; i++) {
		cat(&b, &len, p->vars[i].name);
		cat(&b, &len, "=");
		if (p->vars[i].raw)
			cat(&b, &len, p->vars[i].value);
		else {
			q = sh_quote(p->vars[i].value);
			cat(&b, &len, q);
			free(q);
		}
		cat(&b, &len, "\n");
	}
	for (i = 0; i < p->nfuncs; i++) {
		cat(&b, &len, p->funcs[i].text);
		cat(&b, &len, "\n");
	}
	any = 0;
	for (i = 0; i < p->nopts; i++) {
		if (!p->opts[i].on)
			continue;
		cat(&b, &len, any ? "" : "set");
		any = 1;
		if (p->opts[i].name[1] == '\0') {
			cat(&b, &len, " -");
			cat(&b, &len, p->opts[i].name);
		} else {
			cat(&b, &len, " -o ");
			cat(&b, &len, p->opts[i].name);
		}
	}
	if (any)
		cat(&b, &len, "\n");
	if (status != 0) {
		snprintf(num, sizeof(num), "(exit %d) && :\n", status & 255);
		cat(&b, &len, num);
	}
	cat(&b, &len, line);
	cat(&b, &len, "\n");
	return b;
}
