#!/bin/bash
# Garbage bytes, truncated and oversized frames, and clients that stall
# mid-handshake, sent to noded's TCP port (n2's, from n1) and to its Unix
# socket (n1's): noded keeps running (same pid) and answers the next valid
# request at once, also while the stalled connections are still open.
. "$(dirname "$0")/lib.sh"
cluster_up 3
probe=$TOP/tests/integ/probe.pl
sock=/run/sshell/noded.sock
tcp=10.77.0.2:7022

hex() { perl -e 'print unpack "H*", join "", @ARGV' "$@"; }
frame() {	# frame TYPE PERL-PACKED-PAYLOAD-HEX: one frame, hex
	perl -e 'my $p = chr($ARGV[0]) . pack("H*", $ARGV[1] // ""); print unpack "H*", pack("N", length $p) . $p' "$1" "${2:-}"
}
hello=$(frame 1 "$(perl -e 'print unpack "H*", pack("N N/a* N", 1, "probe", 0)')")
random() { head -c "$1" /dev/urandom | od -An -v -tx1 | tr -d ' \n'; }
pid1=$(lc pid n1)
pid2=$(lc pid n2)

# still_fine NODE PID WHAT: NODE's noded is the same process and answers.
still_fine() {
	is "$(lc pid "$1" 2>/dev/null)" "$2" "$3: $1's noded still runs (same pid)"
	run on "$1" timeout 10 snodes
	is "$RC" 0 "... and answers snodes on $1 at once" || diag "$ERR"
	run on "$1" timeout 10 sps -e
	is "$RC" 0 "... and sps on $1" || diag "$ERR"
}

# --- the Unix socket -------------------------------------------------------------------
# send CASE HEX...: result in $OUT.
usend() { run on n1 perl "$probe" send "$sock" "$@"; }
usend "$hello" "$(frame 48)"
like "$OUT" 'types=1,49 eof=0' "(reference) a valid hello and MSG_NODES: hello and MSG_NODES_REPLY back, connection open"
usend "$(random 4096)"
like "$OUT" 'eof=1' "socket: 4 KiB of random bytes: noded closes the connection"
still_fine n1 "$pid1" "socket garbage"
usend "$hello" ffffffff30
like "$OUT" 'types=1,3 eof=1' "socket: a frame of length 0xffffffff gets MSG_ERROR, then close"
still_fine n1 "$pid1" "socket oversized frame"
usend "$hello" 00000000
like "$OUT" 'types=1,3 eof=1' "socket: a frame of length 0: MSG_ERROR, close"
usend "$hello" 000000642000 shut
like "$OUT" 'eof=1' "socket: a frame cut short, then EOF: close"
usend 0000006410 "$(random 20)" shut
like "$OUT" 'eof=1' "socket: a truncated first frame, then EOF: close"
usend "$hello" "$(frame 16 00000010616263)"
like "$OUT" 'types=1,3 eof=1' "socket: MSG_SPAWN whose fields are truncated: MSG_ERROR, close"
usend "$hello" "$(frame 32 "00000000ffffffff")"
like "$OUT" 'types=1,3 eof=1' "socket: MSG_LIST with a string length 0xffffffff: MSG_ERROR, close"
usend "$hello" "$(frame 34 0000)"
like "$OUT" 'types=1,3 eof=1' "socket: MSG_SIGNAL with 2 bytes of fields: MSG_ERROR, close"
usend "$(frame 48)"
like "$OUT" 'types=3 eof=1' "socket: a request without hello: MSG_ERROR, close"
usend "$(frame 1 00)"
like "$OUT" 'types=3 eof=1' "socket: a truncated hello: MSG_ERROR, close"
usend "$hello" "$(frame 200)" "$(frame 255 "$(random 100)")"
like "$OUT" 'types=1,3 eof=1' "socket: an unknown message type: MSG_ERROR, close"
still_fine n1 "$pid1" "socket malformed requests"

# Stalled clients: mid-length, after hello mid-frame, silent; and many.
# stall NAME TARGET HEX...: a probe holding a connection; its stdin is fd
# $STALL_FD (close it to end the probe), its stdout $T_TMP/NAME.out.
stalls=()
stall() {
	local name=$1 fd
	shift
	mkfifo "$T_TMP/$name.in"
	on n1 perl "$probe" stall "$@" <"$T_TMP/$name.in" >"$T_TMP/$name.out" 2>&1 &
	exec {fd}>"$T_TMP/$name.in"
	stalls+=("$fd")
	wait_for 10 grep -q ready "$T_TMP/$name.out"
}
stall s1 "$sock" 0000
stall s2 "$sock" "$hello" 0000001030
stall s3 "$sock"
for i in $(seq 1 50); do stall "m$i" "$sock" 00; done
ready=$(cat "$T_TMP"/s1.out "$T_TMP"/s2.out "$T_TMP"/s3.out "$T_TMP"/m*.out | grep -c '^ready$')
is "$ready" 53 "socket: 53 clients connected and stalled mid-frame"
still_fine n1 "$pid1" "while 53 socket clients stall"
run on n1 timeout 10 ssubmit -n n2 --wait -- true
is "$RC" 0 "... and ssubmit --wait on n1 works too" || diag "$ERR"
for fd in "${stalls[@]}"; do exec {fd}>&-; done
stalls=()
wait

# --- the TCP port (n2's, from n1) ---------------------------------------------------------
tsend() { run on n1 perl "$probe" send "$tcp" "$@"; }
banner=$(hex $'SSH-2.0-probe\r\n')
tsend "$(random 4096)"
like "$OUT" 'eof=1' "tcp: 4 KiB of random bytes: closed"
still_fine n2 "$pid2" "tcp garbage"
tsend "$banner" ffffffff14 "$(random 64)"
like "$OUT" 'eof=1' "tcp: banner, then a packet of length 0xffffffff: closed"
still_fine n2 "$pid2" "tcp oversized packet"
tsend "$banner" 000003e814 "$(random 20)" shut
like "$OUT" 'eof=1' "tcp: banner, then a truncated packet, then EOF: closed"
tsend "$banner" "00000000$(head -c 60 /dev/zero | od -An -v -tx1 | tr -d " \n")"
like "$OUT" 'eof=1' "tcp: banner, then a packet of length 0: closed"
tsend "$(hex $'SSH-1.5-old\r\n')"
like "$OUT" 'eof=1' "tcp: an SSH-1 banner: closed"
tsend "$(hex "$(head -c 300 /dev/zero | tr '\0' A)")" shut
like "$OUT" 'eof=1' "tcp: an endless banner line: closed"
still_fine n2 "$pid2" "tcp truncated packets"

stall t1 "$tcp"
stall t2 "$tcp" "$banner"
stall t3 "$tcp" "$banner" 000003e814
ready=$(cat "$T_TMP"/t[123].out | grep -c '^ready$')
is "$ready" 3 "tcp: 3 clients connected to n2 and stalled (silent, after banner, mid-packet)"
still_fine n2 "$pid2" "while 3 TCP clients stall"
run on n1 timeout 10 ssubmit -n n2 --wait -- true
is "$RC" 0 "... n1 still runs a job on n2" || diag "$ERR"
run on n3 timeout 10 sps -e -n n2
is "$RC" 0 "... n3 still lists n2's jobs" || diag "$ERR"
check "... n1 still sees n2 up" eval '[[ $(on n1 snodes --json | json_get state | sed -n 2p) == up ]]'
# DESIGN: a peer that stalls mid-handshake is dropped after a timeout.
check "the client stalled after its banner is dropped (polled up to 60 s)" wait_for 60 grep -q closed "$T_TMP/t2.out"
check "the client stalled mid-packet is dropped (polled up to 60 s)" wait_for 60 grep -q closed "$T_TMP/t3.out"
for fd in "${stalls[@]}"; do exec {fd}>&-; done
stalls=()
wait
still_fine n2 "$pid2" "after the stalled clients"
still_fine n1 "$pid1" "at the end"
