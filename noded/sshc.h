/*
 * sshc.h: the client side of a node-to-node SSH connection, shared by
 * noded's handshake threads (peer.c) and the migration mover (mover.c).
 */
#ifndef NODED_SSHC_H
#define NODED_SSHC_H

#include <stddef.h>

#include <libssh/libssh.h>

#define SSHC_CIPHERS	"aes128-gcm@openssh.com,chacha20-poly1305@openssh.com"

/* HELLO flags (an optional u32 after the node id, see PROTOCOL). */
#define HELLO_MOVER	0x01	/* a mover's session: no peer state changes */

/* Options every node session uses, client or server; timeout in s. */
void	sshc_session_opts(ssh_session s, long timeout);

/*
 * Connects to addr:port as node `self` with key, checks that the server's
 * host key is want_key (base64), and opens a session channel.  0 with *sp
 * and *chp (blocking mode), or SS_ERR_* with a reason in err.
 */
int	sshc_connect(const char *addr, unsigned port, const char *want_key,
	    const char *self, ssh_key key, long timeout, ssh_session *sp,
	    ssh_channel *chp, char *err, size_t errlen);

#endif
