/*
 * xmalloc.h: allocation that cannot fail, for the tools and the shell.
 *
 * As in tmux: a tool has nothing to roll back, so running out of memory
 * prints "PROG: out of memory" on stderr and exits 1.  Never use these in
 * noded or the checkpoint engine, which must return SS_ERR_ALLOC instead
 * and undo what they started (see STYLE.md, "Out-of-memory policy").
 */
#ifndef SSHELL_XMALLOC_H
#define SSHELL_XMALLOC_H

#include <stddef.h>

/* Each returns memory the caller frees with free(); none returns NULL. */
void	*xmalloc(size_t size);
void	*xcalloc(size_t nmemb, size_t size);
void	*xreallocarray(void *ptr, size_t nmemb, size_t size);
char	*xstrdup(const char *s);
int	 xasprintf(char **ret, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
