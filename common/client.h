/*
 * client.h: what the tools (sps, skill, snodes, ssubmit, sshell) share:
 * their connection to the local noded, and the small pure helpers that
 * give every tool the same output and the same option syntax.
 *
 * A tool makes one connection (client_connect), sends one request
 * pipelined after its hello in a single write (client_call), and reads the
 * reply; a tool that stays connected (ssubmit --wait) reads further frames
 * with client_read.  Everything that goes wrong is reported on stderr as
 * "PROG: what: why" by these functions themselves, so a caller just exits 1
 * when one returns -1.  The tools never link libssh or SQLite.
 *
 * Only one connection per process is supported: the read buffer behind
 * client_call/client_read is a single static one.  That is all a tool
 * ever needs, and it keeps the hot path free of bookkeeping.
 */
#ifndef SSHELL_CLIENT_H
#define SSHELL_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"

/* How long client_connect waits for a noded it started itself. */
#define CLIENT_START_TIMEOUT_MS	10000
/*
 * How long a tool waits for any one read from noded, in seconds, so that
 * a wedged noded cannot hang a cron job forever.  noded answers within its
 * own peer timeouts (a silent peer is down after 5 s), far below this.
 */
#define CLIENT_REPLY_TIMEOUT	60

/*
 * Finds noded's socket as DESIGN.md says ($SSHELL_SOCKET; /run/sshell/
 * noded.sock if it exists; the user's own socket) and connects to it.
 * With no socket and no cluster file, and no system cluster, starts the
 * user's noded (the embedded default) and waits for its socket to answer.
 * prog is the tool's name for messages and the hello; it must outlive the
 * connection.  Returns the connected fd (close-on-exec), or -1 after
 * printing "PROG: cannot reach noded at PATH: why".
 */
int	client_connect(const char *prog);

/*
 * Sends MSG_HELLO and then the frame req (built with proto_msg_new; this
 * function finishes it) in one write, reads noded's hello and then one
 * reply frame.  On success returns 0 with *type and *payload (a new
 * buffer the caller frees) set; the reply may be MSG_ERROR, which
 * client_expect turns into a message.  Returns -1 after printing why.
 */
int	client_call(int fd, struct buf *req, uint8_t *type,
	    struct buf **payload);

/*
 * Reads the next frame on a connection used by client_call.  Returns 0
 * with *type and *payload set (caller frees *payload), or -1 after
 * printing why (EOF included: noded closed the connection).
 */
int	client_read(int fd, uint8_t *type, struct buf **payload);

/* Sends all of m on socket fd without raising SIGPIPE: 0, or -1 with
 * errno (for tools that frame their own connections, as sshell does). */
int	client_send_all(int fd, const struct buf *m);

/*
 * Checks that a reply has type want.  Returns 0 if so; otherwise prints
 * "PROG: MESSAGE" for MSG_ERROR or "PROG: unexpected reply TYPE from
 * noded", and returns -1.  The payload is not freed or consumed unless it
 * was an error.
 */
int	client_expect(uint8_t type, struct buf *payload, uint8_t want);

/* Prints "PROG: what: ss_strerror(code)" for a bad reply; returns -1. */
int	client_bad_reply(const char *what, int code);

/*
 * Sets the receive timeout of fd in seconds (0: wait forever, which is
 * what ssubmit --wait does while the job runs).  client_connect sets
 * CLIENT_REPLY_TIMEOUT.  Returns 0, or -1 with errno set.
 */
int	client_set_timeout(int fd, int seconds);

/* Closes the connection and frees its read buffer. */
void	client_close(int fd);

/*
 * The whole exchange of a one-shot tool: connects, sends req (which it
 * frees), reads the reply, checks that it is of type want, closes.
 * Returns 0 with *reply (the caller frees it), or -1 after printing why.
 */
int	client_request(const char *prog, struct buf *req, uint8_t want,
	    struct buf **reply);

/*
 * Pure helpers (no I/O but to the FILE given), unit-tested.
 *
 * client_json_string: writes s as a JSON string with its quotes.  Valid
 * UTF-8 is copied as is; '"' and '\\' are escaped, control characters
 * below 0x20 and DEL become \b \f \n \r \t or \u00XX; a byte that is not
 * part of valid UTF-8 (JSON text must be UTF-8) becomes \ufffd.
 *
 * client_put_display: writes s for a one-job-one-line table: every byte
 * is copied as is except control characters (below 0x20, and DEL), which
 * become the C escapes \a \b \t \n \v \f \r or \ooo (three octal digits).
 * A backslash is left alone, so ordinary commands read as typed.
 */
void	client_json_string(FILE *fp, const char *s);
void	client_put_display(FILE *fp, const char *s);

/*
 * Signals by name: client_sig_parse accepts a name with or without "SIG",
 * in any case ("kill", "SIGKILL"), or a decimal number 0-64, and returns
 * the number, or -1.  client_sig_name returns the name without "SIG" of
 * a standard signal ("KILL"), or NULL.  client_sig_list writes every
 * name known, in number order, one line "N NAME" each.
 */
int		 client_sig_parse(const char *s);
const char	*client_sig_name(int sig);
void		 client_sig_list(FILE *fp);

/*
 * Parses a comma-separated list of names (as sps -o takes) against
 * names[0..nnames): stores each one's index in out[], at most max of them,
 * and returns how many, or -1 with *bad pointing into s at the start of
 * the first unknown or empty element (and *badlen its length) when one
 * is wrong or there are more than max.  Names may repeat.
 */
int	client_list_parse(const char *s, const char *const *names,
	    size_t nnames, int *out, size_t max, const char **bad,
	    size_t *badlen);

#endif
