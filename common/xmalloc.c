/*
 * xmalloc.c: allocation that exits on failure (see xmalloc.h).  The
 * message names the program by program_invocation_short_name, which glibc
 * sets before main(), so no tool has to register its name first.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

static void	xalloc_fail(void) __attribute__((noreturn));

static void
xalloc_fail(void)
{
	fprintf(stderr, "%s: out of memory\n", program_invocation_short_name);
	exit(1);
}

void *
xmalloc(size_t size)
{
	void *p;

	/* malloc(0) may return NULL; ask for one byte so NULL means ENOMEM. */
	if ((p = malloc(size != 0 ? size : 1)) == NULL)
		xalloc_fail();
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void *p;

	if (nmemb == 0 || size == 0)
		nmemb = size = 1;
	if ((p = calloc(nmemb, size)) == NULL)
		xalloc_fail();
	return p;
}

void *
xreallocarray(void *ptr, size_t nmemb, size_t size)
{
	void *p;

	if (nmemb == 0 || size == 0)
		nmemb = size = 1;
	if ((p = reallocarray(ptr, nmemb, size)) == NULL)
		xalloc_fail();
	return p;
}

char *
xstrdup(const char *s)
{
	char *p;

	if ((p = strdup(s)) == NULL)
		xalloc_fail();
	return p;
}

int
xasprintf(char **ret, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(ret, fmt, ap);
	va_end(ap);
	if (n < 0)
		xalloc_fail();
	return n;
}
