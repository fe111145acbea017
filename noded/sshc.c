/*
 * sshc.c: the client side of a node-to-node SSH connection (see sshc.h).
 * Everything blocks, within the session's timeout: callers are threads or
 * processes of their own.
 */
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "sshc.h"

void
sshc_session_opts(ssh_session s, long timeout)
{
	int one = 1, zero = 0, verbosity = SSH_LOG_NOLOG;

	ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout);
	ssh_options_set(s, SSH_OPTIONS_NODELAY, &one);
	ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &zero);
	ssh_options_set(s, SSH_OPTIONS_LOG_VERBOSITY, &verbosity);
	ssh_options_set(s, SSH_OPTIONS_CIPHERS_C_S, SSHC_CIPHERS);
	ssh_options_set(s, SSH_OPTIONS_CIPHERS_S_C, SSHC_CIPHERS);
}

int
sshc_connect(const char *addr, unsigned port, const char *want_key,
    const char *self, ssh_key key, long timeout, ssh_session *sp,
    ssh_channel *chp, char *err, size_t errlen)
{
	ssh_session s;
	ssh_channel ch = NULL;
	ssh_key srvkey = NULL;
	char *b64 = NULL;
	int r = SS_ERR_DOWN;

	*sp = NULL;
	*chp = NULL;
	if ((s = ssh_new()) == NULL) {
		snprintf(err, errlen, "out of memory");
		return SS_ERR_ALLOC;
	}
	sshc_session_opts(s, timeout);
	ssh_options_set(s, SSH_OPTIONS_HOST, addr);
	ssh_options_set(s, SSH_OPTIONS_PORT, &port);
	ssh_options_set(s, SSH_OPTIONS_USER, self);
	ssh_options_set(s, SSH_OPTIONS_HOSTKEYS, "ssh-ed25519");
	ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, "/dev/null");
	ssh_options_set(s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null");
	if (ssh_connect(s) != SSH_OK) {
		snprintf(err, errlen, "connect: %s", ssh_get_error(s));
		goto fail;
	}
	if (ssh_get_server_publickey(s, &srvkey) != SSH_OK ||
	    ssh_pki_export_pubkey_base64(srvkey, &b64) != SSH_OK) {
		snprintf(err, errlen, "no host key");
		goto fail;
	}
	if (want_key[0] == '\0' || strcmp(b64, want_key) != 0) {
		snprintf(err, errlen, "host key %.20s... is not the one in "
		    "the cluster file: refused", b64);
		r = SS_ERR_PERM;
		goto fail;
	}
	if (ssh_userauth_publickey(s, NULL, key) != SSH_AUTH_SUCCESS) {
		snprintf(err, errlen, "refused our key: %s", ssh_get_error(s));
		r = SS_ERR_PERM;
		goto fail;
	}
	if ((ch = ssh_channel_new(s)) == NULL ||
	    ssh_channel_open_session(ch) != SSH_OK) {
		snprintf(err, errlen, "control channel: %s", ssh_get_error(s));
		goto fail;
	}
	ssh_string_free_char(b64);
	ssh_key_free(srvkey);
	*sp = s;
	*chp = ch;
	return 0;
fail:
	if (b64 != NULL)
		ssh_string_free_char(b64);
	ssh_key_free(srvkey);
	if (ch != NULL)
		ssh_channel_free(ch);
	ssh_disconnect(s);
	ssh_free(s);
	return r;
}
