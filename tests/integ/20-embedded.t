#!/bin/bash
# The embedded default: with no cluster file and no noded socket, the tools
# start a single-node cluster of this machine for the user on first use.
# Run as an ordinary user (nobody) with its own XDG directories, so that
# nothing of the system cluster is touched.
set -u
# A private mount namespace hides any system cluster's socket on this
# machine (a developer's, or a local cluster's mount point).
if [ "$(id -u)" = 0 ] && [ -z "${SSHELL_EMBEDDED_NS:-}" ]; then
	SSHELL_EMBEDDED_NS=1 exec unshare -m --propagation private \
	    sh -c 'if [ -d /run/sshell ]; then mount -t tmpfs tmpfs /run/sshell; fi; exec "$0"' "$0"
fi
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=$top/build/bin
tmp=$(mktemp -d /tmp/sshell-embedded.XXXXXX)
chmod 755 "$tmp"
n=0
fail=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }
cleanup() {
	local pid
	pid=$(cat "$tmp/run/sshell/noded.pid" 2>/dev/null) &&
	    [ -n "$pid" ] && kill "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
echo "1..6"
if [ "$(id -u)" != 0 ] || [ -e /run/sshell/noded.sock ]; then
	for i in 1 2 3 4 5 6; do echo "ok $i # skip needs root and no system cluster"; done
	exit 0
fi
mkdir -p "$tmp/run" "$tmp/state" "$tmp/conf" "$tmp/cwd"
chown nobody "$tmp/run" "$tmp/state" "$tmp/conf" "$tmp/cwd"
as_nobody() {
	( cd "$tmp/cwd" && env -i PATH="$bin:/usr/bin:/bin" HOME="$tmp" \
	    XDG_RUNTIME_DIR="$tmp/run" XDG_STATE_HOME="$tmp/state" \
	    XDG_CONFIG_HOME="$tmp/conf" \
	    setpriv --reuid=nobody --regid=nogroup --clear-groups "$@" )
}
out=$(as_nobody ssubmit --wait -- sh -c 'echo hello; exit 5')
[ $? = 5 ]; ok $? "ssubmit starts a noded and runs the job"
[ -S "$tmp/run/sshell/noded.sock" ]; ok $? "the user's socket exists"
gpid=$(printf '%s\n' "$out" | head -1)
[[ $gpid =~ ^[0-9]+001$ ]]; ok $? "a GPID of node 1: $gpid"
as_nobody ssubmit --wait -- sh -c 'exit 5' >/dev/null
[ $? = 5 ]; ok $? "--wait gives the job's status"
log=$(as_nobody sps -a --no-headers -o log "$gpid")
[ "$(cat "$log" 2>/dev/null)" = hello ]; ok $? "the output is in the log $log"
as_nobody snodes --json | grep -q '"state": *"up"'; ok $? "snodes shows the one node up"
exit $fail
