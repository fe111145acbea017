# tests/integ/lib.sh: shared helpers of the integration tests (bash).
#
# Source it from a .t file (`. "$(dirname "$0")/lib.sh"`), then call
# `cluster_up 3`.  TAP output: ok, is, like, unlike, diag, skip; the plan is
# printed at the end (`done_testing`, also run by the EXIT trap, so that a
# test dying halfway is reported as such by prove).  diag goes to stderr.
#
# Each test file has its own cluster in a private directory
# (SSHELL_LC_DIR=/tmp/lc-tests-PID), taken down by the EXIT trap whatever
# happens.  Never a guessed sleep: wait_for polls a condition with a bounded
# deadline.  Processes are only ever signalled by pid.

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LCBIN=$TOP/contrib/localcluster
BIN=$TOP/build/bin
export SSHELL_LC_DIR=/tmp/lc-tests-$$
export SSHELL_LC_TIMEOUT=${SSHELL_LC_TIMEOUT:-30}
unset SSHELL_LC_MODE SSHELL_SOCKET SSHELL_CONF
T_TMP=$(mktemp -d /tmp/sshell-integ-XXXXXX)
chmod 755 "$T_TMP"
T_N=0
T_FAILED=0
T_DONE=0
T_CLUSTER=0

# --- TAP ----------------------------------------------------------------------

# diag MSG...: on stderr, so that prove shows it even without -v (as
# Test::More's diag); note MSG...: on stdout, seen with prove -v only.
diag() {
	local l
	while IFS= read -r l; do printf '# %s\n' "$l"; done <<<"$*" >&2
}
note() {
	local l
	while IFS= read -r l; do printf '# %s\n' "$l"; done <<<"$*"
}

# ok STATUS DESC: a test that passes when STATUS is 0.
ok() {
	local st=$1
	shift
	T_N=$((T_N + 1))
	if [[ $st == 0 ]]; then
		printf 'ok %d - %s\n' "$T_N" "$*"
		return 0
	fi
	T_FAILED=$((T_FAILED + 1))
	printf 'not ok %d - %s\n' "$T_N" "$*"
	local i
	for ((i = 1; i < ${#BASH_SOURCE[@]}; i++)); do
		if [[ ${BASH_SOURCE[i]} != "${BASH_SOURCE[0]}" ]]; then
			diag "  failed at ${BASH_SOURCE[i]##*/} line ${BASH_LINENO[i - 1]}"
			break
		fi
	done
	return 1
}

# check DESC CMD...: a test that passes when CMD succeeds.
check() {
	local d=$1
	shift
	"$@"
	ok $? "$d"
}

# is GOT WANT DESC
is() {
	if [[ $1 == "$2" ]]; then ok 0 "$3"; return 0; fi
	ok 1 "$3"
	diag "       got: '$1'"
	diag "  expected: '$2'"
	return 1
}

isnt() {
	if [[ $1 != "$2" ]]; then ok 0 "$3"; return 0; fi
	ok 1 "$3"
	diag "  got '$1', expected anything else"
	return 1
}

# like GOT ERE DESC
like() {
	if [[ $1 =~ $2 ]]; then ok 0 "$3"; return 0; fi
	ok 1 "$3"
	diag "              '$1'"
	diag "  doesn't match '$2'"
	return 1
}

unlike() {
	if ! [[ $1 =~ $2 ]]; then ok 0 "$3"; return 0; fi
	ok 1 "$3"
	diag "              '$1'"
	diag "  matches '$2'"
	return 1
}

skip() {
	local n=$1 i
	shift
	for ((i = 0; i < n; i++)); do
		T_N=$((T_N + 1))
		printf 'ok %d # skip %s\n' "$T_N" "$*"
	done
}

bail_out() {
	printf 'Bail out! %s\n' "$*"
	exit 255
}

done_testing() {
	((T_DONE)) && return
	T_DONE=1
	printf '1..%d\n' "$T_N"
	((T_FAILED)) && diag "Looks like you failed $T_FAILED test(s) of $T_N."
}

# --- running commands -----------------------------------------------------------

# run CMD...: set RC, OUT (stdout) and ERR (stderr) of CMD, stdin empty.
# OUT and ERR keep their trailing newlines (as "$OUT" from a file would).
run() {
	"$@" </dev/null >"$T_TMP/out" 2>"$T_TMP/err"
	RC=$?
	OUT=$(cat "$T_TMP/out"; echo .)
	OUT=${OUT%.}
	ERR=$(cat "$T_TMP/err"; echo .)
	ERR=${ERR%.}
}

lc() { "$LCBIN" "$@"; }

# on [-u USER] NODE CMD...: run CMD logged in on NODE (localcluster on).
on() { "$LCBIN" on "$@"; }

# wait_for SECONDS CMD...: poll CMD (every 0.1 s) until it succeeds; fail if
# it has not within SECONDS.  The deadline only bounds a failure: a passing
# test never waits for it.
wait_for() {
	local t=$1 deadline
	shift
	deadline=$(($(date +%s%N) + t * 1000000000))
	while :; do
		"$@" >/dev/null 2>&1 </dev/null && return 0
		(($(date +%s%N) >= deadline)) && return 1
		sleep 0.1
	done
}

# json_get FIELD: read a JSON array of objects on stdin, print FIELD of each,
# one a line (null as "null", strings with their newlines escaped as \n).
json_get() {
	perl -MJSON::PP -e '
		my $j = decode_json(do { local $/; <STDIN> });
		for (@$j) {
			my $v = $_->{$ARGV[0]};
			$v = "null" unless defined $v;
			$v =~ s/\\/\\\\/g; $v =~ s/\n/\\n/g;
			print "$v\n";
		}' "$1"
}

# --- jobs ---------------------------------------------------------------------

# sps_field NODE GPID FIELD: one field of one job, as sps on NODE shows it
# (ended jobs included).
sps_field() {
	on "$1" sps -a --no-headers -o "$3" "$2" </dev/null 2>/dev/null | sed 's/[[:space:]]*$//'
}

# job_state_is NODE GPID STATE
job_state_is() { [[ $(sps_field "$1" "$2" state) == "$3" ]]; }
job_done() { job_state_is "$1" "$2" done; }

# pid_runs_on NODE PID: PID exists (not a zombie) in NODE's /proc.
pid_runs_on() {
	on "$1" sh -c 'test -e /proc/$1/stat && ! grep -q "^[0-9]* ([^)]*) [ZX]" /proc/$1/stat' sh "$2" </dev/null 2>/dev/null
}
pid_gone_on() { ! pid_runs_on "$@"; }

# --- the cluster ----------------------------------------------------------------

cluster_down() {
	((T_CLUSTER)) || return 0
	T_CLUSTER=0
	"$LCBIN" down >/dev/null 2>&1 || true
}

# no_crash: a test that no noded died or exited, except by the SIGKILL of
# `localcluster kill` (the reapers log each death in NODE/node.log).
no_crash() {
	local f bad=0
	for f in "$SSHELL_LC_DIR"/n*/node.log; do
		if grep -E 'killed by signal|\) exited [0-9]' "$f" | grep -vq 'killed by signal 9$'; then
			bad=1
			diag "$(grep -E 'killed by signal|\) exited [0-9]' "$f" | grep -v 'killed by signal 9$')"
		fi
	done
	ok $bad "no noded crashed during the test"
}

# --- sshell on a terminal (tmux) ----------------------------------------------------

# A private tmux server whose socket is in the test's own directory; t_exit
# ends it.  The session is named t.
TM=$T_TMP/tmux.sock
tm() { tmux -S "$TM" "$@"; }
screen() { tm capture-pane -p -t t 2>/dev/null; }
# screen_has ERE: the pane shows a line matching ERE.
screen_has() { screen | grep -Eq -- "$1"; }
# The last non-empty line is a prompt.
at_prompt() { screen | grep -v '^$' | tail -n 1 | grep -Eq '^[^ ]+@[^:]+:.*[$#] ?$'; }

t_exit() {
	local rc=$?
	trap - EXIT
	[[ -S $TM ]] && tmux -S "$TM" kill-server >/dev/null 2>&1
	if ((T_CLUSTER)) && ((!T_DONE)) && [[ -d $SSHELL_LC_DIR ]]; then no_crash; fi
	if ((T_CLUSTER)) && ((T_FAILED)) && [[ -d $SSHELL_LC_DIR ]]; then
		local f
		for f in "$SSHELL_LC_DIR"/n*/node.log "$SSHELL_LC_DIR"/n*/noded.log; do
			[[ -s $f ]] || continue
			diag "--- last lines of $f"
			diag "$(tail -n 20 "$f")"
		done
	fi
	cluster_down
	rm -rf "$T_TMP"
	done_testing
	((T_FAILED)) && exit 1
	exit "$rc"
}
trap t_exit EXIT
trap 'exit 130' INT TERM HUP

# mesh_ready: poll until every node can run a job on every node (a node
# may say a peer is up before its own session to that peer is ready: see
# 10-placement.t, which tests that separately).  Leaves one ended job per
# pair of nodes (sps -a shows them).
mesh_ready() {
	local i j
	for ((i = 1; i <= T_NODES; i++)); do
		for ((j = 1; j <= T_NODES; j++)); do
			wait_for 20 on n$i ssubmit -n n$j --wait -- true ||
				bail_out "n$i cannot run a job on n$j: $(on n$i ssubmit -n n$j --wait -- true 2>&1 </dev/null)"
		done
	done
}

# cluster_up [-n] [N]: a fresh cluster of N (3) real nodes, every node seeing
# all up, and (unless -n) every node able to run a job on every node; bails
# out if it cannot be had.
cluster_up() {
	local mesh=1
	if [[ ${1:-} == -n ]]; then mesh=0; shift; fi
	local n=${1:-3} c
	T_NODES=$n
	[[ $(id -u) == 0 ]] || { printf '1..0 # skip the integration tests need root (namespaces)\n'; T_DONE=1; exit 0; }
	for c in noded sshell-reaper sshell-shepherd sshell-mover sps skill snodes \
	    ssubmit smigrate memhog; do
		[[ -x $BIN/$c ]] || bail_out "$BIN/$c not built (make all)"
	done
	T_CLUSTER=1
	run "$LCBIN" up "$n"
	((RC == 0)) || bail_out "localcluster up $n failed: $ERR"
	run "$LCBIN" wait "$SSHELL_LC_TIMEOUT"
	((RC == 0)) || bail_out "the nodes do not see each other up: $ERR"
	((mesh == 0)) || mesh_ready
}
