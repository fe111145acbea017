#!/bin/bash
# A peer with an unknown host key, and a peer speaking another protocol
# version, are refused (both ways) and logged; the real node, started again,
# is accepted.  The impostor is a second noded started in n3's namespaces
# (n3's own noded killed first) with a state directory of its own, so a host
# key the cluster file does not list; the other-version node is n3's own
# noded with $SSHELL_TEST_PROTO_VERSION=99 (noded(8)).
. "$(dirname "$0")/lib.sh"
cluster_up 3

node_state() {	# node_state FROM NODE
	on "$1" snodes --json </dev/null 2>/dev/null | perl -MJSON::PP -e '
		my $j = decode_json(do { local $/; <STDIN> });
		print map({ $_->{name} eq $ARGV[0] ? $_->{state} : () } @$j), "\n"' "$2" 2>/dev/null
}
state_is() { [[ $(node_state "$1" "$2") == "$3" ]]; }
LCD=$SSHELL_LC_DIR
# logged_since NODE LINE ERE: NODE's noded.log has a line matching ERE after line LINE.
logged_since() { tail -n +"$(($2 + 1))" "$LCD/$1/noded.log" | grep -Eq "$3"; }
nlines() { wc -l <"$LCD/$1/noded.log"; }

# alt_start NAME [VAR=VALUE...] CMD [ARG...]: another noded in n3's namespaces.
alt_start() {
	local name=$1
	shift
	on n3 sh -c 'echo $$ >"$0"; exec "$@"' "$T_TMP/$name.pid" env "$@" \
		>"$T_TMP/$name.log" 2>&1 </dev/null &
	wait_for 10 test -s "$T_TMP/$name.pid"
	wait_for 15 on n3 timeout 5 snodes
}
alt_stop() {
	local p
	p=$(cat "$T_TMP/$1.pid")
	on n3 kill "$p" </dev/null 2>/dev/null
	wait_for 15 eval "! on n3 kill -0 $p 2>/dev/null"
	wait
}

run lc kill n3
is "$RC" 0 "n3's noded killed" || diag "$ERR"
check "n1 sees n3 down" wait_for 15 state_is n1 n3 down
check "n2 sees n3 down" wait_for 15 state_is n2 n3 down

# --- an unknown host key -----------------------------------------------------------
l1=$(nlines n1)
l2=$(nlines n2)
mkdir -m 700 "$T_TMP/otherstate"
alt_start impostor noded -f -n n3 -s "$T_TMP/otherstate"
check "the impostor n3 (its own host key) runs and answers its socket" eval "on n3 timeout 5 snodes >/dev/null 2>&1 </dev/null"
isnt "$(cat "$T_TMP/otherstate"/*key* 2>/dev/null | md5sum)" "$(cat "$LCD/n3/lib/"*key* | md5sum)" "... with another host key than n3's"
check "n1 logs that it refused the impostor's key (polled up to 20 s)" \
	wait_for 20 logged_since n1 "$l1" '(refus|reject|denied|unknown|not listed|not in).*n3|n3.*(refus|reject|denied|unknown|not listed|not in)'
check "n2 logs it too" \
	wait_for 20 logged_since n2 "$l2" '(refus|reject|denied|unknown|not listed|not in).*n3|n3.*(refus|reject|denied|unknown|not listed|not in)'
is "$(node_state n1 n3) $(node_state n2 n3)" "down down" "n1 and n2 still show n3 down"
isnt "$(node_state n3 n1)" up "the impostor does not get n1 up either (refused both ways)"
run on n1 ssubmit -n n3 -- true
isnt "$RC" 0 "n1 sends no job to the impostor (ssubmit -n n3 fails)"
grep -E 'refus|reject|denied' "$T_TMP/impostor.log" >/dev/null
ok $? "the impostor's own log says it was refused" || diag "$(tail -n 5 "$T_TMP/impostor.log")"
alt_stop impostor

# --- another protocol version --------------------------------------------------------
l1=$(nlines n1)
l2=$(nlines n2)
alt_start v99 SSHELL_TEST_PROTO_VERSION=99 noded -f -n n3
check "n3's noded speaking protocol version 99 runs" eval "on n3 timeout 5 snodes >/dev/null 2>&1 </dev/null"
check "n1 logs that it refused n3's version 99 (polled up to 20 s)" \
	wait_for 20 logged_since n1 "$l1" 'n3.*(version|protocol).*99|99.*n3'
check "n2 logs it too" wait_for 20 logged_since n2 "$l2" 'n3.*(version|protocol).*99|99.*n3'
is "$(node_state n1 n3) $(node_state n2 n3)" "down down" "n1 and n2 still show n3 down"
isnt "$(node_state n3 n1)" up "n3 (version 99) does not get n1 up either"
run on n1 ssubmit -n n3 -- true
isnt "$RC" 0 "n1 sends no job to it"
alt_stop v99

# --- the real n3 again -------------------------------------------------------------------
run lc start n3
is "$RC" 0 "localcluster start n3 (its real noded)" || diag "$ERR"
check "n1 sees n3 up again" wait_for 15 state_is n1 n3 up
check "n2 sees n3 up again" wait_for 15 state_is n2 n3 up
check "n3 sees n1 up" wait_for 15 state_is n3 n1 up
run on n1 ssubmit -n n3 --wait -- true
is "$RC" 0 "n1 runs a job on n3 again" || diag "$ERR"
