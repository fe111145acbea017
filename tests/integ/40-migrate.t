#!/bin/bash
# 40-migrate.t: live migration on a 3-node local cluster (issue 6).
#
# A counter job started from sshell on n1 moves n1 -> n2 -> n3 -> n1 and
# its output, seen by sshell, stays exactly 1, 2, 3, ... with the same $$;
# signals reach it after each move, also sent to nodes it left
# (--at OLDNODE, forwarded), and never a stranger with its old pid; a
# pipeline moved mid-stream prints what an unmoved run prints; drain
# empties a node; balancing spreads CPU-bound jobs; refusals and faults
# leave exactly one live copy.
. "$(dirname "$0")/lib.sh"

MV=$T_TMP/mover
mkdir -p "$MV"
export SSHELL_TEST_MOVER_DIR=$MV
cluster_up 3

# lines_of FILE: the counter's numbers, usr1 marks dropped.
numbers_ok() {
	grep -v '^usr1$' "$1" | awk -v want="$2" '
		{ if ($1 != NR) { print "line " NR ": " $0; bad = 1; exit 1 }
		  pids[$2] = 1 }
		END { if (bad) exit 1; n = 0; for (p in pids) n++;
		      if (n != 1) { print n " different $$"; exit 1 }
		      if (NR < want) { print "only " NR " lines"; exit 1 } }'
}
count_lines() { grep -vc '^usr1$' "$1" 2>/dev/null || true; }
grows() { local n; n=$(count_lines "$1"); ((n >= $2)); }
node_of() { sps_field n1 "$1" node; }
usr1s() { grep -c '^usr1$' "$1" 2>/dev/null || true; }
usr1s_ge() { (($(usr1s "$OUT1") >= $1)); }
job_runs() { # GPID: it runs (not stopped, moving or ended)
	local st
	st=$(sps_field n1 "$1" state)
	[[ $st == [RSD] ]]
}
node_state() { on n1 snodes 2>/dev/null | grep -q "^[0-9]* *$1 .* $2 "; }
none_on() { # NODE GPID...: none of the jobs runs on NODE
	local n=$1
	shift
	! on n1 sps --no-headers -o node "$@" | grep -qx "$n *"
}
all_live() { # GPID...: every one of them runs (no done, lost)
	local st
	st=$(on n1 sps -a --no-headers -o state "$@")
	[[ -n $st ]] && ! grep -qE 'done|lost' <<<"$st"
}

# --- the counter, from sshell on n1 ---------------------------------------

OUT1=$T_TMP/counter.out
on n1 sshell -c '@n1 exec 2>/dev/null; trap "echo usr1" USR1; i=0; while [ $i -lt 100000 ]; do i=$((i+1)); echo "$i $$"; sleep 0.05; done' \
	>"$OUT1" 2>&1 </dev/null &
SH_PID=$!
check "the counter prints" wait_for 20 grows "$OUT1" 5
G=$(on n1 sps --no-headers -o gpid,cmd | awk '/while/ { print $1; exit }')
like "$G" '^[0-9]+001$' "its GPID: $G"

# Each job has a cgroup of its own where the node has one for jobs; a
# moved job too, on its new node.
CG_BEFORE=$(on n1 cat "/proc/$(sps_field n1 "$G" pid)/cgroup" 2>/dev/null | grep -m1 "/sshell/n1/$G\$")
note "cgroup on n1: ${CG_BEFORE:-none (no cgroup for jobs here)}"

sent=0
for dst in n2 n3 n1; do
	from=$(node_of "$G")
	run on n1 smigrate "$G" "$dst"
	is "$RC" 0 "smigrate $G $dst exits 0 ($ERR)"
	like "$OUT" "^$G $from -> $dst: [0-9.]+ MiB, total [0-9.]+ s, downtime [0-9.]+ ms" \
		"smigrate prints the move: ${OUT%$'\n'}"
	is "$(node_of "$G")" "$dst" "sps shows it on $dst"
	if [[ -n $CG_BEFORE ]]; then
		pid=$(sps_field n1 "$G" pid)
		cg=$(on "$dst" cat "/proc/$pid/cgroup" 2>/dev/null | grep -m1 "/sshell/$dst/$G\$")
		like "$cg" "/sshell/$dst/$G\$" "... in its own cgroup there (${cg:-none})"
	else
		skip 1 "no cgroups for jobs on this machine"
	fi
	n=$(count_lines "$OUT1")
	check "its output goes on after the move to $dst" wait_for 20 grows "$OUT1" $((n + 3))
	on n2 skill -USR1 "$G" >/dev/null 2>&1
	sent=$((sent + 1))
	check "skill -USR1 reaches it on $dst" wait_for 20 usr1s_ge $sent
done
is "$(sps_field n1 "$G" moves)" 3 "sps counts 3 moves"
is "$(sps_field n1 "$G" home)" n1 "its home stays n1"

# --at a node it left: once, and twice before.
OLDPID=$(sps_field n1 "$G" pid)
run on n1 smigrate "$G" n2
is "$RC" 0 "moved on to n2 ($ERR)"
# A stranger on n1, given the job's old pid if the kernel lets us.
on n1 sh -c 'echo $(($1 - 1)) >/proc/sys/kernel/ns_last_pid 2>/dev/null; exec sleep 300' sh "$OLDPID" \
	</dev/null >/dev/null 2>&1 &
DECOY=$!
wait_for 10 on n1 pgrep -x sleep >/dev/null
run on n3 skill -USR1 --at n1 "$G"
is "$RC" 0 "skill --at n1 (it left one move ago) is forwarded ($ERR)"
sent=$((sent + 1))
check "... and reaches the job on n2" wait_for 20 usr1s_ge $sent
run on n1 smigrate "$G" n3
run on n2 skill -USR1 --at n1 "$G"
is "$RC" 0 "skill --at n1 (two moves ago) is forwarded ($ERR)"
sent=$((sent + 1))
check "... and reaches the job on n3" wait_for 20 usr1s_ge $sent
check "the process that took the old pid on n1 was not signalled" kill -0 "$DECOY"
kill "$DECOY" 2>/dev/null; wait "$DECOY" 2>/dev/null

# Ctrl-C: a SIGINT to sshell (no terminal here) goes to the job, on n3.
SHELL_PID=$(on n1 pgrep -f '^sshell -c @n1' | head -n 1)
like "$SHELL_PID" '^[0-9]+$' "sshell runs on n1 (pid $SHELL_PID)"
run on n1 kill -INT "$SHELL_PID"
wait "$SH_PID"
is "$?" 130 "Ctrl-C to sshell ends the job on n3: sshell exits 130"
res=$(numbers_ok "$OUT1" 20)
is "$?" 0 "sshell saw 1, 2, 3, ... with no gap, repeat or reorder, one \$\$ ($res)"

# --- a pipeline moved mid-stream ------------------------------------------

PIPE='(i=0; while [ $i -lt 300 ]; do i=$((i+1)); echo $i; sleep 0.01; done) | (while read x; do echo $((x * x)); done)'
LOG2=$T_TMP/pipe.log
G2=$(on n1 sh -c 'cd "$1" && shift && exec ssubmit -n n1 -o pipe.log -- "$@"' sh "$T_TMP" sh -c "$PIPE")
check "the pipeline prints" wait_for 20 test -s "$LOG2"
run on n1 smigrate "$G2" n2
is "$RC" 0 "the pipeline moves to n2 ($ERR)"
run on n1 smigrate "$G2" n3
is "$RC" 0 "and on to n3 ($ERR)"
run on n1 smigrate "$G2" n2
is "$RC" 0 "and straight back to n2, which it has just left ($ERR)"
check "the pipeline ends" wait_for 60 job_done n1 "$G2"
sh -c "$PIPE" >"$T_TMP/pipe.want"
check "its output equals an unmoved run's, byte for byte" cmp "$LOG2" "$T_TMP/pipe.want"

# --- a child that ended and is not reaped yet moves as a zombie ------------------
# (perl, which reaps only when asked: sh reaps its children by itself.)
GO=$T_TMP/go-zombie
LOGZ=$T_TMP/zombie.log
# It also asks the kernel for its pid (getpid, syscall 39) before and
# after: the move gives it back the pids of its own PID namespace.
GZ=$(on n1 ssubmit -n n1 -o "$LOGZ" -- perl -e '$| = 1; my $k = fork;
	exit 5 if $k == 0; my $p = syscall(39); print "started\n";
	select(undef, undef, undef, 0.01) until -e $ARGV[0];
	my $w = wait; print "reaped=", $? >> 8, " same=", ($w == $k ? 1 : 0),
	    " getpid=", (syscall(39) == $p ? "same" : "changed"), "\n"' "$GO")
zombie_there() { ps -eo stat=,comm= | grep -Eq '^Z.* perl( <defunct>)?$'; }
check "a job with an ended child runs" wait_for 20 grep -q started "$LOGZ"
check "... its child is a zombie" wait_for 20 zombie_there
run on n1 smigrate "$GZ" n2
is "$RC" 0 "it moves to n2 all the same ($ERR)"
is "$(node_of "$GZ")" n2 "... sps shows it on n2"
touch "$GO"
check "on n2 it reaps its child: the status it ended with, the same pid" \
    wait_for 30 grep -q '^reaped=5 same=1 ' "$LOGZ"
check "... and getpid() says what it said before the move" \
    grep -q ' getpid=same$' "$LOGZ"

# --- refusals ------------------------------------------------------------------

G3=$(on n1 ssubmit -n n2 -- sleep 300)
wait_for 20 job_state_is n1 "$G3" S
run on -u nobody n1 smigrate "$G3" n3
isnt "$RC" 0 "another user's job: refused"
like "$ERR" "smigrate: $G3: .*permission denied" "... saying why"
run on n1 snodes drain n3
run on n1 smigrate "$G3" n3
isnt "$RC" 0 "a draining target: refused"
like "$ERR" "n3 is draining" "... saying so"
run on n1 snodes undrain n3
run lc kill n3
wait_for 20 node_state n3 down
run on n1 smigrate "$G3" n3
isnt "$RC" 0 "a target that is down: refused"
like "$ERR" "n3 is down" "... saying so"
run lc start n3
wait_for 30 node_state n3 up
run on n1 ssubmit -n n2 -- perl -MIO::Socket -e '$s = IO::Socket::INET->new(Listen => 1, LocalPort => 0) or die; sleep 300'
is "$RC" 0 "a job holding a socket starts ($ERR)"
G4=${OUT%$'\n'}
# Sleeping is not enough: perl may not have made its socket yet.
has_socket() { # NODE GPID
	local pid
	pid=$(sps_field n1 "$2" pid)
	[[ -n $pid ]] && on "$1" sh -c 'ls -l /proc/$1/fd | grep -q "socket:"' sh "$pid"
}
check "... and has made its socket" wait_for 20 has_socket n2 "$G4"
run on n1 smigrate "$G4" n3
isnt "$RC" 0 "a job with a socket: refused"
like "$ERR" "socket" "... naming the socket"
is "$(node_of "$G4")" n2 "... and it runs on where it was"
on n1 skill -KILL "$G4" >/dev/null 2>&1

# --- drain ----------------------------------------------------------------------

G5=$(on n1 ssubmit -n n2 -- sleep 300)
wait_for 20 job_state_is n1 "$G5" S
run on n1 snodes drain n2
is "$RC" 0 "snodes drain n2"
check "drain empties n2" wait_for 60 none_on n2 "$G3" "$G5"
check "the drained jobs still run" all_live "$G3" "$G5"
run on n1 snodes undrain n2
on n1 skill -KILL "$G3" "$G5" >/dev/null 2>&1

# --- faults ---------------------------------------------------------------------

# Each leaves exactly one live copy, and the output whole.
fault_job() {
	local g
	g=$(on n1 ssubmit -n n1 -o "$T_TMP/fault.log" -- sh -c 'i=0; while :; do i=$((i+1)); echo "$i $$"; sleep 0.05; done')
	wait_for 20 job_state_is n1 "$g" S
	echo "$g"
}
# copies PATTERN: live processes whose command line has it, on all nodes,
# not counting one whose parent has it too: a shell job forks for each
# command it runs, and its child has the shell's command line until it
# execs (this count once saw 2 in that moment).
copies() {
	local n c=0 k
	for n in n1 n2 n3; do
		k=$(on "$n" sh -c 'all=" $(pgrep -f "$1" | tr "\n" " ") " k=0
			for p in $all; do
				[ "$p" = $$ ] && continue
				pp=$(awk "{ print \$4 }" "/proc/$p/stat" 2>/dev/null) ||
				    continue
				[ -n "$pp" ] || continue
				case $all in *" $pp "*) ;; *) k=$((k + 1)) ;; esac
			done
			echo $k' sh "$1" 2>/dev/null || true)
		c=$((c + ${k:-0}))
	done
	echo $c
}
one_live() { # GPID NODE DESC
	is "$(node_of "$1")" "$2" "$3: the job runs on $2"
	local log=$T_TMP/fault.log n
	n=$(count_lines "$log")
	check "$3: its output goes on" wait_for 20 grows "$log" $((n + 3))
	res=$(numbers_ok "$log" 1)
	is "$?" 0 "$3: its output has no gap ($res)"
	is "$(copies 'i=0; while :')" 1 "$3: exactly one copy"
}

G6=$(fault_job)
echo 20000 >"$MV/cut"
run on n1 smigrate "$G6" n2
rm -f "$MV/cut"
isnt "$RC" 0 "the connection cut mid-image: the move fails"
like "$ERR" "smigrate: $G6: " "... saying why"
one_live "$G6" n1 "connection cut"

# The same, once the job is frozen: past the pre-copy, in the image proper.
echo +2000 >"$MV/cut"
run on n1 smigrate "$G6" n2
rm -f "$MV/cut"
isnt "$RC" 0 "the connection cut after the freeze: the move fails"
like "$ERR" "smigrate: $G6: " "... saying why"
one_live "$G6" n1 "connection cut after the freeze"

# The target noded killed during the transfer of a big image.
LOG7=$T_TMP/memhog.log
G7=$(on n1 ssubmit -n n1 -o "$LOG7" -- "$BIN/memhog" 384M)
check "a 384 MiB job is ready" wait_for 120 grep -q ready "$LOG7"
on n1 smigrate "$G7" n2 >"$T_TMP/sm.out" 2>&1 </dev/null &
SM=$!
check "the image starts going" wait_for 30 grep -q "job $G7: coming from n1" "$SSHELL_LC_DIR/n2/noded.log"
run lc kill n2
wait "$SM"
isnt "$?" 0 "target noded killed during the transfer: the move fails"
is "$(node_of "$G7")" n1 "... and the job runs on n1"
on n1 skill -USR1 "$G7" >/dev/null 2>&1
check "... its memory whole" wait_for 30 grep -q '^ok' "$LOG7"
is "$(copies "memhog 384M")" 1 "... exactly one copy"
run lc start n2
wait_for 30 node_state n2 up

# A signal that comes while the job is frozen for a move is not lost:
# it reaches the job where it went.
oks() { grep -c '^ok' "$LOG7" || true; }
oks_ge() { (($(oks) >= $1)); }
before=$(oks)
on n1 smigrate "$G7" n3 >"$T_TMP/sm7.out" 2>&1 </dev/null &
SM=$!
check "the big job is being moved" wait_for 30 job_state_is n1 "$G7" moving
run on n1 skill -USR1 "$G7"
is "$RC" 0 "skill -USR1 during the move ($ERR)"
wait "$SM"
is "$?" 0 "the move goes through ($(cat "$T_TMP/sm7.out"))"
is "$(node_of "$G7")" n3 "... to n3"
check "the signal sent during the move reached it on n3" wait_for 30 oks_ge $((before + 1))
on n1 skill -KILL "$G7" >/dev/null 2>&1

# A job that writes its memory faster than the pre-copy sends it (memhog
# rewriting 64 MiB at 4 GiB per second of its CPU time, spinning) is
# slowed down for the last rounds (its cgroup frozen most of the time),
# so that they converge; it moves whole, and runs at full speed after.
LOGB=$T_TMP/busy.log
GB=$(on n1 ssubmit -n n1 -o "$LOGB" -- "$BIN/memhog" 64M 100 4096b)
check "a busy writer runs" wait_for 60 grep -q ready "$LOGB"
# Slowing down needs the job's cgroup (noded makes one where the machine
# lets it): without one, there is nothing to test here.
job_cgroup() {
	on n1 sh -c 'for r in /sys/fs/cgroup/unified /sys/fs/cgroup /sys/fs/cgroup/freezer; do [ -d "$r/sshell/n1/$1" ] && exit 0; done; exit 1' sh "$1"
}
if job_cgroup "$GB"; then
run on n1 smigrate "$GB" n2
is "$RC" 0 "the busy writer moves ($OUT$ERR)"
check "... slowed down while its memory went" grep -q "job $GB moved to n2: .*slowed down" "$SSHELL_LC_DIR/n1/noded.log"
on n1 skill -USR1 "$GB" >/dev/null 2>&1
check "... its memory whole on n2" wait_for 30 grep -q '^ok' "$LOGB"
busy_oks() { (($(grep -c '^ok' "$LOGB") >= 2)); }
on n1 skill -USR1 "$GB" >/dev/null 2>&1
check "... and it runs on there (not left frozen): it answers again" wait_for 30 busy_oks
# Its next mover killed while it holds the job slowed down (frozen most
# of the time): the source (n2) thaws the job, which runs on there.
rm -f "$MV/slowed"
touch "$MV/slowhold"
on n1 smigrate "$GB" n3 >"$T_TMP/sm.out" 2>&1 </dev/null &
SM=$!
check "its next move slows it down" wait_for 30 test -s "$MV/slowed"
run on n2 kill -KILL "$(cat "$MV/slowed")"
rm -f "$MV/slowhold"
wait "$SM"
isnt "$?" 0 "its mover killed: the move fails ($(cat "$T_TMP/sm.out"))"
is "$(node_of "$GB")" n2 "... the job is still on n2"
busy_oks3() { (($(grep -c '^ok' "$LOGB") >= 3)); }
on n1 skill -USR1 "$GB" >/dev/null 2>&1
check "... thawed: it answers again" wait_for 30 busy_oks3
is "$(copies "memhog 64M")" 1 "... exactly one copy"
# Again, with n2's noded killed too: the noded started after finds the
# move that never ended, and thaws the job it takes back.
rm -f "$MV/slowed"
touch "$MV/slowhold"
on n1 smigrate "$GB" n3 >"$T_TMP/sm.out" 2>&1 </dev/null &
SM=$!
check "a third move slows it down" wait_for 30 test -s "$MV/slowed"
run lc kill n2
run on n2 kill -KILL "$(cat "$MV/slowed")"
rm -f "$MV/slowhold"
wait "$SM"
run lc start n2
check "n2 is back" wait_for 30 node_state n2 up
busy_oks4() { (($(grep -c '^ok' "$LOGB") >= 4)); }
on n1 skill -USR1 "$GB" >/dev/null 2>&1
check "its mover and its noded killed: thawed by the next noded, it answers again" wait_for 30 busy_oks4
is "$(node_of "$GB")" n2 "... on n2"
is "$(copies "memhog 64M")" 1 "... exactly one copy"
else
	skip 14 "the job has no cgroup on this machine"
fi
on n1 skill -KILL "$GB" >/dev/null 2>&1

# held_fault GPID NODE DESC: smigrate GPID n2, the mover held once the
# target said ready; NODE's noded is killed, then the mover let go.
# smigrate's exit status in SM_RC, its output in $T_TMP/sm.out.
held_fault() {
	touch "$MV/hold"
	on n1 smigrate "$1" n2 >"$T_TMP/sm.out" 2>&1 </dev/null &
	local sm=$!
	check "the target said ready ($3)" wait_for 30 test -e "$MV/held"
	run lc kill "$2"
	rm -f "$MV/hold"
	wait "$sm"
	SM_RC=$?
}

held_fault "$G6" n1 "source fault"
run lc start n1
wait_for 30 node_state n2 up
check "source killed after ready: the job runs again" wait_for 30 job_runs "$G6"
one_live "$G6" "$(node_of "$G6")" "source killed after ready"
rm -f "$MV/held"
on n1 skill -KILL "$G6" >/dev/null 2>&1

# The target noded killed after it said ready, before COMMIT: its shepherd
# keeps the copy stopped; the source records the kill and kills the
# original (the mover's COMMIT finds nobody); the target, restarted, finds
# the copy by its arrivals row, asks the source, and lets it run.
rm -f "$T_TMP/fault.log"
G8=$(fault_job)
held_fault "$G8" n2 "target fault"
isnt "$SM_RC" 0 "smigrate exits 1: the move is not done yet"
like "$(cat "$T_TMP/sm.out")" "smigrate: $G8: n2 did not confirm the move; the job is to run there once that node is back" \
	"... and says so"
check "... the original is gone from n1" wait_for 30 eval '[[ $(on n1 pgrep -fc "i=0; while :") == 0 ]]'
run lc start n2
wait_for 30 node_state n2 up
check "target killed after ready: the copy runs on n2" wait_for 30 job_runs "$G8"
one_live "$G8" n2 "target killed after ready"
rm -f "$MV/held"
on n1 skill -KILL "$G8" >/dev/null 2>&1
check "... and skill ends it there" wait_for 30 job_done n1 "$G8"
