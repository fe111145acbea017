/*
 * conf.h: the cluster file, parsed.
 *
 * The cluster file (sshell.conf(5)) has one directive a line; blank lines
 * and everything from a '#' to the end of its line are ignored, as is a
 * trailing CR.  Words are separated by spaces or tabs.
 *
 *	cluster NAME
 *	node ID NAME ADDRESS[:PORT] [cpus=N] [key=KEY]
 *	placement least-loaded|round-robin|local	(least-loaded)
 *	balance on|off					(on)
 *	balance-threshold F				(0.5)
 *	keep DAYS					(7)
 *	port N						(7022)
 *
 * ID is 1-999 and unique; NAME is [a-zA-Z0-9._-]+, at most CONF_NAME_MAX
 * bytes and unique; ADDRESS is an IPv4 literal, a hostname, a bare IPv6
 * literal (then without port) or [IPv6]:PORT.  `port` is the port of every
 * node that names none, wherever the `port` line is.  KEY is the base64
 * body of the node's ssh-ed25519 public key (the second word of
 * `noded --print-key`), checked to decode to an ed25519 key blob; keys are
 * unique.  cpus=0 or no cpus= means "count the machine's".  Every directive
 * but `node` may appear at most once; at least one node is required;
 * anything unknown is an error.  An error is reported as "FILE:LINE: what"
 * in the caller's err buffer, and the whole file is refused.
 *
 * A struct conf is immutable once returned and owns all its strings; free it
 * with conf_free().  Pointers into it live as long as it does.
 */
#ifndef SSHELL_CONF_H
#define SSHELL_CONF_H

#include <stddef.h>
#include <stdint.h>

#define CONF_DEFAULT_PORT	7022
#define CONF_DEFAULT_KEEP_DAYS	7
#define CONF_DEFAULT_THRESHOLD	0.5
#define CONF_NAME_MAX		63	/* node and cluster names, bytes */
#define CONF_MAX_SIZE		(1024 * 1024)	/* largest cluster file */
#define CONF_SYSTEM_PATH	"/etc/sshell/cluster.conf"
#define CONF_SYSTEM_STATEDIR	"/var/lib/sshell"
#define CONF_SYSTEM_SOCKET	"/run/sshell/noded.sock"

enum conf_placement {
	CONF_PLACE_LEAST_LOADED = 0,	/* least (jobs + load) / cpus */
	CONF_PLACE_ROUND_ROBIN,		/* each up node in turn */
	CONF_PLACE_LOCAL		/* always the home node */
};

struct conf_node {
	unsigned	 id;		/* 1-999, unique in the file */
	char		*name;		/* [a-zA-Z0-9._-]+, unique */
	char		*address;	/* host name or IP literal, no brackets */
	uint16_t	 port;		/* 1-65535, default resolved */
	unsigned	 cpus;		/* 0: count the machine's; else 1-65536 */
	char		*key;		/* base64 ssh-ed25519 blob, or NULL */
	int		 line;		/* line of the node directive */
};

struct conf {
	char			*path;		/* name given to conf_parse */
	char			*cluster;	/* `cluster` name, "sshell" if none */
	enum conf_placement	 placement;
	int			 balance;	/* 1 on, 0 off */
	double			 threshold;	/* balance-threshold, 0-1000 */
	unsigned		 keep_days;	/* 0-36500 */
	uint16_t		 port;		/* default node port */
	struct conf_node	*nodes;		/* in file order */
	size_t			 nnodes;	/* >= 1 */
};

/*
 * Reads and parses the file at path.  On success returns 0 and a new conf
 * in *cp.  On failure *cp is NULL, err holds a one-line message naming the
 * file (and line), and the result is SS_ERR_NOT_FOUND if the file does not
 * exist, SS_ERR_SYSTEM if it could not be read (errno set), SS_ERR_TOO_LONG
 * over CONF_MAX_SIZE, SS_ERR_CONFIG for a bad file, SS_ERR_ALLOC.
 */
int	conf_load(const char *path, struct conf **cp, char *err, size_t errlen);

/*
 * Parses text[0..len) (need not be NUL-terminated) as a cluster file called
 * name in messages.  Returns and reports as conf_load().
 */
int	conf_parse(const char *text, size_t len, const char *name,
	    struct conf **cp, char *err, size_t errlen);

/* Frees c and everything it owns; NULL is fine. */
void	conf_free(struct conf *c);

/* The node of that name, id or key in c, or NULL. */
const struct conf_node *conf_node_by_name(const struct conf *c,
	    const char *name);
const struct conf_node *conf_node_by_id(const struct conf *c, unsigned id);
const struct conf_node *conf_node_by_key(const struct conf *c,
	    const char *b64key);

/* "least-loaded", "round-robin" or "local". */
const char *conf_placement_name(enum conf_placement p);

/*
 * Path helpers.  Each writes a NUL-terminated path into buf[len] and
 * returns 0, SS_ERR_TOO_LONG if it does not fit, or SS_ERR_NOT_FOUND if the
 * user's home directory cannot be found.  "Root" means geteuid() == 0.
 * Relative values of the XDG variables are ignored, as the XDG spec says.
 *
 * conf_default_path: $SSHELL_CONF if set and not empty; else for root
 *   /etc/sshell/cluster.conf; else $XDG_CONFIG_HOME/sshell/cluster.conf,
 *   or ~/.config/sshell/cluster.conf.
 * conf_default_statedir: for root /var/lib/sshell; else
 *   $XDG_STATE_HOME/sshell, or ~/.local/state/sshell.
 * conf_default_socket (the tools): $SSHELL_SOCKET if set and not empty;
 *   else /run/sshell/noded.sock if it exists or the caller is root; else
 *   the user's own socket as conf_own_socket() gives it.
 * conf_own_socket (noded): $SSHELL_SOCKET if set and not empty, so that a
 *   noded and the tools started with the same setting meet; else for root
 *   /run/sshell/noded.sock; else $XDG_RUNTIME_DIR/sshell/noded.sock, or
 *   /tmp/sshell-UID/noded.sock.
 */
int	conf_default_path(char *buf, size_t len);
int	conf_default_statedir(char *buf, size_t len);
int	conf_default_socket(char *buf, size_t len);
int	conf_own_socket(char *buf, size_t len);

#endif
