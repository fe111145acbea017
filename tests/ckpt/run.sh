#!/bin/bash
# run.sh: the zdtm-style tests of the checkpoint engine and sckpt(1), in
# TAP for prove(1).  Each test program sets up some state, is dumped and
# restored (through a file, and through a pipe `sckpt dump -o - | sckpt
# restore -i -`; trees that need their pids back go through the pipe into
# a new PID namespace, see pidns_ckpt), then checks its state itself and
# exits 0 or 1.  No test looks at a clock: we poll for conditions, with a
# generous bound so a hung test fails instead of hanging.  Every process
# and file made here is removed on exit, also on failure.
#
# Needs root (ptrace of any process, PR_SET_MM_MAP with exe, clone3
# set_tid).  B= names the build directory (default build).
set -u
B=${B:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SCKPT=$ROOT/$B/bin/sckpt
TB=$ROOT/$B/tests/ckpt
T=$(mktemp -d /tmp/sckpt-test.XXXXXX)
PIDS=()
n=0
fails=0

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null
	done
	wait 2>/dev/null
	[ -n "${CG:-}" ] && rmdir "$CG" 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
# The dumps kill their processes on purpose (and so do the tests), and a
# script's bash reports each background job killed by a signal ("line 82:
# 1234 Killed ...") unless that signal is trapped.  KILL cannot be caught
# or ignored (bash's sigaction for it fails), so this only keeps the
# reports out of make check's output; `wait` still gives 137.
trap '' KILL

ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() {
	n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $*"
	local f
	for f in "$D"/*.err; do
		[ -s "$f" ] && sed 's/^/# /' "$f"
	done
	return 0
}
diag() { echo "# $*"; }
# check NAME CMD...: one TAP line for a condition.
check() { local name=$1; shift; if "$@"; then ok "$name"; else not_ok "$name"; fi; }

# Polls until a command succeeds (bounded: 30 s of 20 ms polls).
wait_for() {
	local i=0
	until "$@"; do
		sleep 0.02
		i=$((i + 1))
		[ $i -gt 1500 ] && return 1
	done
	return 0
}
nonempty() { [ -s "$1" ]; }
pids_free() {
	local p
	for p in $("$SCKPT" info "$1" | awk '$1 == "process" { print $2 }'); do
		[ -e "/proc/$p" ] && return 1
	done
	return 0
}
in_syscall() { local s; s=$(cut -d' ' -f1 "/proc/$1/syscall" 2>/dev/null); [[ $s =~ ^[0-9]+$ ]]; }
lines_over() { [ "$(wc -l < "$1")" -gt "$2" ]; }

# newdir NAME: a fresh directory $D for one test.
newdir() { D=$T/$1; mkdir -p "$D"; }

# start CMD...: runs CMD in the background in $D, pid in $P.
start() {
	"$@" </dev/null >"$D/stdout" 2>"$D/prog.err" &
	P=$!
	PIDS+=("$P")
}

# ckpt MODE PID [extra restore args]: dumps PID and restores it in the
# background; the new pid in $NP, the restorer's pid in $RP (its exit
# status is the restored root's).  MODE is file or pipe.  With PC=N set,
# the dump does N pre-copy rounds first (--precopy N).
ckpt() {
	local mode=$1 pid=$2
	shift 2
	rm -f "$D/newpid"
	if [ "$mode" = file ]; then
		if ! "$SCKPT" dump -t "$pid" -o "$D/img" ${PC:+--precopy $PC} \
		    2>"$D/dump.err"; then
			return 1
		fi
		wait "$pid" 2>/dev/null
		# --same-pid: wait until the dead tree's pids are free again.
		[[ " $* " == *" --same-pid "* ]] && wait_for pids_free "$D/img"
		"$SCKPT" restore -i "$D/img" "$@" >"$D/newpid" 2>"$D/restore.err" &
		RP=$!
	else
		( "$SCKPT" dump -t "$pid" -o - ${PC:+--precopy $PC} \
		    2>"$D/dump.err" |
		  "$SCKPT" restore -i - "$@" >"$D/newpid" 2>"$D/restore.err" ) &
		RP=$!
	fi
	PIDS+=("$RP")
	if ! wait_for nonempty "$D/newpid"; then
		return 1
	fi
	NP=$(head -1 "$D/newpid")
	PIDS+=("$NP")
	[ "$mode" = pipe ] && wait "$pid" 2>/dev/null
	return 0
}

# ns_pid PID: sets NSPID to the pid of PID in its own (innermost) PID
# namespace, or to nothing.  Builtins only: it runs between a check and a
# dump, while the tree goes on.
ns_pid() {
	local k v
	NSPID=
	while read -r k v; do
		[ "$k" = NSpid: ] && NSPID=${v##*[[:space:]]}
	done 2>/dev/null < "/proc/$1/status"
}
# ns_tree PID: the pids of PID and its descendants as they see them, a
# line each (builtins only, as ns_pid).
ns_tree() {
	local c
	local -a kids=()
	ns_pid "$1"
	[ -n "$NSPID" ] && echo "$NSPID"
	read -r -a kids 2>/dev/null < "/proc/$1/task/$1/children"
	for c in "${kids[@]}"; do
		ns_tree "$c"
	done
}

# pidns_ckpt PID: dumps the tree of PID through a pipe into a restore in a
# fresh PID namespace, where its old pids are free, with --same-pid:
#	sckpt dump -t PID -o - |
#	    unshare --pid --fork --mount-proc sckpt restore -i - --same-pid
# A tree that itself lives in such a namespace (an earlier restore) is
# dumped from inside it (nsenter), so that the image holds the pids its
# processes know.  $RP is unshare, whose status is the restorer's, hence
# the root's; $NP the root's pid here (for kill, wait, the next dump);
# $NSP the root's pid in the new namespace as sckpt printed it.  The
# tree's pids as seen inside, just before the dump and just after the
# restore, go to pids.before and pids.after in $D (the latter empty if the
# tree has already ended).  Only pids of this namespace go into $PIDS.
pidns_ckpt() {
	local pid=$1 in c r=
	local -a dump
	rm -f "$D/newpid" "$D/pids.after"
	ns_pid "$pid"
	in=$NSPID
	[ -n "$in" ] || return 1
	ns_tree "$pid" > "$D/pids.before"
	if [ "$in" = "$pid" ]; then
		dump=("$SCKPT" dump -t "$pid" -o - ${PC:+--precopy $PC})
	else
		dump=(nsenter -t "$pid" -p -m "$SCKPT" dump -t "$in" -o -
		    ${PC:+--precopy $PC})
	fi
	"${dump[@]}" 2>"$D/dump.err" |
	    unshare --pid --fork --mount-proc \
	    "$SCKPT" restore -i - --same-pid >"$D/newpid" 2>"$D/restore.err" &
	RP=$!
	PIDS+=("$RP")
	if ! wait_for nonempty "$D/newpid"; then
		return 1
	fi
	NSP=$(head -1 "$D/newpid")
	# unshare's child is the restorer (pid 1 inside; killing it ends
	# everything in the namespace), the root is the restorer's child.
	NP=
	r=$(ps -o pid= --ppid "$RP" | awk 'NR == 1 { print $1 }')
	if [ -n "$r" ]; then
		PIDS+=("$r")
		for c in $(ps -o pid= --ppid "$r"); do
			ns_pid "$c"
			[ "$NSPID" = "$NSP" ] && NP=$c
		done
	fi
	if [ -n "$NP" ]; then
		PIDS+=("$NP")
		ns_tree "$NP" > "$D/pids.after"
	else
		: > "$D/pids.after"
	fi
	[ "$in" = "$pid" ] && wait "$pid" 2>/dev/null
	return 0
}

# dump_tree MODE PID: a tree that needs its pids back (sh waits for its
# children by pid), through a file with --same-pid or through a pipe into
# a new PID namespace.
dump_tree() {
	if [ "$1" = file ]; then
		ckpt file "$2" --same-pid
	else
		pidns_ckpt "$2"
	fi
}

# tree_pids PID: PID and its descendants, a line each (our pids).
tree_pids() {
	local c
	local -a kids=()
	echo "$1"
	read -r -a kids 2>/dev/null < "/proc/$1/task/$1/children"
	for c in "${kids[@]}"; do
		tree_pids "$c"
	done
}

# pipe_end_gone PID FD MODE: the pipe that a process of PID's tree has at
# fd FD is open with access MODE (0 read, 1 write) nowhere in the tree,
# the parent shell's own copies included (false while there is no such
# pipe yet).
pipe_end_gone() {
	local p f pipe= acc
	local -a ps
	mapfile -t ps < <(tree_pids "$1")
	for p in "${ps[@]}"; do
		f=$(readlink "/proc/$p/fd/$2" 2>/dev/null) || continue
		if [[ $f == pipe:* ]]; then
			pipe=$f
			break
		fi
	done
	[ -n "$pipe" ] || return 1
	for p in "${ps[@]}"; do
		for f in /proc/$p/fd/*; do
			[ "$(readlink "$f" 2>/dev/null)" = "$pipe" ] || continue
			acc=$(awk '$1 == "flags:" { print substr($2, length($2)) % 4 }' \
			    "/proc/$p/fdinfo/${f##*/}" 2>/dev/null)
			[ "$acc" = "$3" ] && return 1
		done
	done
	return 0
}

# subset A B: every line of A is in B.
subset() { [ -z "$(comm -23 <(sort "$1") <(sort "$2"))" ]; }

# consecutive FILE: 0, 1, 2 ... then "end", no gap, no repeat.
consecutive() {
	awk 'BEGIN { n = 0 } $0 == "end" { e = 1; exit } $0 != n { exit 1 }
	    { n++ } END { exit !e }' "$1"
}

# ONLY="group ..." runs some groups (default: all).
want() { [ -z "${ONLY:-}" ] || [[ " $ONLY " == *" $1 "* ]]; }

g_basic() {
for mode in file pipe; do
	# A counter with a 256 MiB heap, appending to a file.
	newdir counter-$mode
	start "$TB/counter" "$D/out" 256
	wait_for test -e "$D/out.ready"
	wait_for lines_over "$D/out" 2
	if ckpt $mode $P; then
		c=$(wc -l < "$D/out")
		wait_for lines_over "$D/out" $((c + 2))
		kill -USR2 "$NP"
		wait "$RP"; rc=$?
		check "counter 256 MiB ($mode): heap checksum holds" [ $rc = 0 ]
		check "counter ($mode): file continues without a gap" \
		    consecutive "$D/out"
	else
		not_ok "counter ($mode): dump and restore"
		not_ok "counter ($mode): file continues"
	fi

	# Blocked in a system call at dump time.
	for call in nanosleep read poll wait4; do
		newdir $call-$mode
		start "$TB/blocking" $call "$D/f"
		wait_for test -e "$D/f.ready"
		wait_for in_syscall $P
		if ckpt $mode $P; then
			wait "$RP"; rc=$?
			check "blocked in $call ($mode): resumes correctly" [ $rc = 0 ]
		else
			not_ok "blocked in $call ($mode): dump and restore"
		fi
	done

	for t in threads signals; do
		newdir $t-$mode
		start "$TB/$t" "$D/f"
		wait_for test -e "$D/f.ready"
		if ckpt $mode $P; then
			kill -USR2 "$NP"
			wait "$RP"; rc=$?
			check "$t ($mode)" [ $rc = 0 ]
		else
			not_ok "$t ($mode): dump and restore"
		fi
	done

	# A pipeline with bytes in the pipe: output equals an undisturbed run.
	# sh waits for its children by pid, so they need their pids back:
	# --same-pid.  Through a pipe on the same machine the original still
	# holds them when the restore starts: restore into a new PID
	# namespace, where they are free.
	newdir pipeline-$mode
	seq 1 20000 > "$D/want"
	start sh -c 'seq 1 20000 | { sleep 0.3; while read l; do echo "$l"; done; } > '"$D/out"
	wait_for test -s "$D/out"
	if dump_tree $mode $P; then
		if [ $mode = pipe ]; then
			# The restored tree may end before we look: every
			# process still there must have its dumped pid.
			what="sh -c 'producer | consumer' (pipe)"
			check "$what: three processes dumped" \
			    lines_over "$D/pids.before" 2
			check "$what: root keeps pid $P inside" \
			    [ "$NSP" = "$P" ]
			check "$what: every process its dumped pid" \
			    subset "$D/pids.after" "$D/pids.before"
		fi
		wait "$RP"; rc=$?
		check "sh -c 'producer | consumer' ($mode): exit 0" [ $rc = 0 ]
		check "sh -c 'producer | consumer' ($mode): same output" \
		    cmp -s "$D/want" "$D/out"
	else
		not_ok "pipeline ($mode): dump and restore"
		not_ok "pipeline ($mode): same output"
	fi

	# The same after the producer has ended: the pipe holds the rest of
	# its output and has no writer left.  The restored reader reads the
	# rest, then EOF (not the restorer's stdin).  The reader waits in one
	# sleep, which the dump comes well within: a loop of short sleeps
	# would have processes ending while the dump checks the tree, which
	# it refuses.
	newdir ended-writer-$mode
	seq 1 10000 > "$D/want"
	start sh -c 'seq 1 10000 | { sleep 3; while read l; do echo "$l";
	    done; } > '"$D/out"
	wait_for pipe_end_gone $P 0 1
	what="pipeline whose writer ended ($mode)"
	if dump_tree $mode $P; then
		wait "$RP"; rc=$?
		check "$what: exit 0" [ $rc = 0 ]
		check "$what: the rest of the output, then EOF" \
		    cmp -s "$D/want" "$D/out"
		[ $mode = file ] && check "$what: sckpt info tells of it" \
		    grep -q 'bytes in flight, no writer left' \
		    <("$SCKPT" info "$D/img")
	else
		not_ok "$what: dump and restore"
	fi

	# A writer whose reader has ended: after the restore its write
	# fails with EPIPE (SIGPIPE ignored), as it would have.
	newdir ended-reader-$mode
	start sh -c '{ trap "" PIPE; sleep 3; echo x; echo "rc=$?" > '"$D/rc"';
	    } | true'
	wait_for pipe_end_gone $P 1 0
	what="pipeline whose reader ended ($mode)"
	if dump_tree $mode $P; then
		wait "$RP"
		check "$what: the write fails" grep -q '^rc=[1-9]' "$D/rc"
	else
		not_ok "$what: dump and restore"
	fi
done
}

# Real programs, each dumped and restored twice mid-run; output compared
# with an undisturbed run.  Once through a file with --same-pid, once
# through a pipe into a new PID namespace (pidns_ckpt; the second dump is
# taken inside the first restore's namespace).
real_prog() {
	local name=$1 cmd=$2 i rc mode W what old
	W=$T/real-$name
	mkdir -p "$W"
	printf '%s\n' "$cmd" > "$W/cmd.sh"
	sh "$W/cmd.sh" > "$W/want" 2>/dev/null </dev/null
	for mode in file pipe; do
		newdir real-$name/$mode
		what=$name
		[ $mode = pipe ] && what="$name (pipe, new PID namespace)"
		setsid sh "$W/cmd.sh" > "$D/out" 2>"$D/prog.err" </dev/null &
		P=$!
		PIDS+=("$P")
		for i in 1 2; do
			# Let it run a little (poll on its CPU time, not a
			# clock).
			wait_for cpu_over $P 30
			ns_pid $P
			old=$NSPID
			# sh waits for its child by pid: --same-pid.
			if ! dump_tree $mode $P; then
				not_ok "$what: dump and restore $i"
				continue 2
			fi
			[ $mode = pipe ] && check \
			    "$what: restore $i: root keeps pid $old inside" \
			    [ "$NSP" = "$old" ]
			# The second dump kills the first copy; its
			# restorer then ends.
			P=$NP
		done
		wait "$RP"; rc=$?
		check "$what: exit 0 after two restores" [ $rc = 0 ]
		check "$what: output equals an undisturbed run's" \
		    cmp -s "$W/want" "$D/out"
	done
}
# cpu_over SID TICKS: the processes of session SID have used more than
# TICKS clock ticks of CPU (their CPU time, not a clock).
cpu_over() {
	local p t=0 u s
	for p in $(ps -s "$1" -o pid=); do
		read -r u s < <(awk '{ sub(/.*\) /, ""); print $12, $13 }' \
		    "/proc/$p/stat" 2>/dev/null) || continue
		t=$((t + u + s))
	done
	[ "$t" -gt "$2" ]
}
g_real() {
seq 1 3000000 > "$T/big.txt"
for i in 1 2 3 4 5 6 7 8 9; do cat "$T/big.txt"; done > "$T/big9.txt"
for i in 1 2 3 4; do cat "$T/big9.txt"; done > "$T/big36.txt"
real_prog awk "awk 'BEGIN { s = 0; for (i = 0; i < 20000000; i++) s += i % 7; print s }'"
real_prog dc "echo 12000k 2v p | dc"
real_prog sha256sum "sha256sum $T/big36.txt"
real_prog sed "sed -e s/1/one/g -e s/2/two/g $T/big9.txt"
real_prog md5sum "cat $T/big36.txt | md5sum"
real_prog tar "tar cf $T/t.tar -C /usr include share && md5sum < $T/t.tar && rm $T/t.tar"
}

# file_maps MAPS: the file mappings, adjacent ones of one file joined
# (the kernel may merge areas that were created apart).
file_maps() {
	awk '$6 ~ /^\// { split($1, a, "-")
		if ($6 == name && a[1] == end) { end = a[2]; next }
		if (name != "") print start "-" end, name
		start = a[1]; end = a[2]; name = $6 }
	    END { if (name != "") print start "-" end, name }' "$1"
}

# /proc of the restored process matches the original's.
g_proc() {
newdir proc
start "$TB/counter" "$D/out" 1
wait_for test -e "$D/out.ready"
for f in cmdline comm environ; do cat "/proc/$P/$f" > "$D/$f.before"; done
readlink "/proc/$P/exe" > "$D/exe.before"
file_maps "/proc/$P/maps" > "$D/maps.before"
if ckpt file $P; then
	for f in cmdline comm environ; do
		cat "/proc/$NP/$f" > "$D/$f.after"
		check "/proc/PID/$f matches" cmp -s "$D/$f.before" "$D/$f.after"
	done
	check "/proc/PID/exe matches" [ "$(readlink /proc/$NP/exe)" = "$(cat "$D/exe.before")" ]
	file_maps "/proc/$NP/maps" > "$D/maps.after"
	check "file mappings (addresses and names) match" cmp -s "$D/maps.before" "$D/maps.after"
	kill -USR2 "$NP"
	wait "$RP"
else
	for f in cmdline comm environ exe maps; do not_ok "/proc/PID/$f: dump"; done
fi
}

# --same-pid gives the old pid back.
g_samepid() {
newdir samepid
start "$TB/counter" "$D/out" 1
wait_for test -e "$D/out.ready"
old=$P
if ckpt file $P --same-pid; then
	check "--same-pid: the old pid back" [ "$NP" = "$old" ]
	kill -USR2 "$NP"
	wait "$RP"; rc=$?
	check "--same-pid: process runs on" [ $rc = 0 ]
else
	not_ok "--same-pid: dump and restore"
	not_ok "--same-pid: runs on"
fi
newdir samepid-threads
start "$TB/threads" "$D/f"
wait_for test -e "$D/f.ready"
ls /proc/$P/task > "$D/tids.before"
cat /proc/$P/task/*/comm > "$D/comms.before"
if ckpt file $P --same-pid; then
	ls /proc/$NP/task > "$D/tids.after"
	cat /proc/$NP/task/*/comm > "$D/comms.after"
	check "--same-pid: every thread its old tid" cmp -s "$D/tids.before" "$D/tids.after"
	check "thread names kept" cmp -s "$D/comms.before" "$D/comms.after"
	# The restorer works on one CPU; every thread gets its affinity
	# back (the test's own: the image keeps none).
	grep -h Cpus_allowed_list /proc/$NP/task/*/status | sort -u \
	    > "$D/cpus.after"
	check "every thread may run on the restorer's CPUs" \
	    cmp -s "$D/cpus.after" <(grep Cpus_allowed_list /proc/self/status)
	kill -USR2 "$NP"
	wait "$RP"; rc=$?
	check "--same-pid: threads join and agree" [ $rc = 0 ]
else
	not_ok "--same-pid threads: dump and restore"
fi
}

# --leave-running, then two restores of the image: three live copies.
g_leave() {
newdir leave
start "$TB/counter" "$D/out" 16
wait_for test -e "$D/out.ready"
if "$SCKPT" dump -t $P -o "$D/img" --leave-running 2>"$D/dump.err"; then
	"$SCKPT" restore -i "$D/img" > "$D/p1" 2>"$D/r1.err" & R1=$!
	"$SCKPT" restore -i "$D/img" > "$D/p2" 2>"$D/r2.err" & R2=$!
	PIDS+=("$R1" "$R2")
	wait_for nonempty "$D/p1"; wait_for nonempty "$D/p2"
	kill -USR2 "$P" "$(cat "$D/p1")" "$(cat "$D/p2")"
	wait "$P"; a=$?; wait "$R1"; b=$?; wait "$R2"; c=$?
	check "--leave-running: original and two copies all pass" \
	    [ "$a$b$c" = 000 ]
	check "--leave-running: three ends in the file" \
	    [ "$(grep -c '^end$' "$D/out")" = 3 ]
else
	not_ok "--leave-running: dump"
	not_ok "--leave-running: copies"
fi
# A shell that forks a short-lived child all the time: a child that
# ends while the dump checks or freezes the tree makes it try again,
# not refuse (before: about one dump in ten refused).
newdir churn
start sh -c 'while :; do /bin/true; done'
nref=0
for i in $(seq 1 20); do
	"$SCKPT" dump -t $P -o /dev/null --leave-running 2>>"$D/dump.err" ||
	    nref=$((nref + 1))
done
check "a tree forking all the time: 20 dumps, none refused" [ $nref = 0 ]
check "... and it runs on" kill -0 $P
kill_tree $P
}

# --freezer: a tree in a cgroup of its own (v2 where there is one, else
# the v1 freezer hierarchy) is frozen before it is seized.  A process of
# the cgroup that is not of the tree is let go untouched; the cgroup is
# thawed after; a directory that is no such cgroup is refused.
cg_make() {
	local r
	for r in /sys/fs/cgroup/unified /sys/fs/cgroup; do
		if [ -w "$r/cgroup.procs" ] && [ -e "$r/cgroup.subtree_control" ]; then
			CG=$r/sckpt-test-$$; CGKIND=2
			mkdir "$CG" 2>/dev/null && return 0
		fi
	done
	r=/sys/fs/cgroup/freezer
	if [ -w "$r/tasks" ]; then
		CG=$r/sckpt-test-$$; CGKIND=1
		mkdir "$CG" 2>/dev/null && return 0
	fi
	CG=
	return 1
}
# in_cg CMD...: CMD, started in the test cgroup (pid in $P).
in_cg() {
	local f=cgroup.procs
	[ "$CGKIND" = 1 ] && f=tasks
	start sh -c 'echo $$ > "$1" && shift && exec "$@"' sh "$CG/$f" "$@"
}
thawed() {
	if [ "$CGKIND" = 2 ]; then grep -qx 'frozen 0' "$CG/cgroup.events"
	else grep -qx THAWED "$CG/freezer.state"; fi
}
untraced() { grep -q '^TracerPid:[[:space:]]*0$' "/proc/$1/status"; }
g_freezer() {
	if ! cg_make; then
		echo "ok $((n + 1)) # skip no writable cgroup freezer here"
		n=$((n + 1))
		return
	fi
	newdir freezer
	in_cg sleep 1000
	DECOY=$P
	in_cg "$TB/counter" "$D/out" 16
	wait_for test -e "$D/out.ready"
	wait_for grep -q "^$P\$" "$CG/cgroup.procs" "$CG/tasks" 2>/dev/null
	if "$SCKPT" dump -t $P -o "$D/img" --freezer "$CG" 2>"$D/dump.err"; then
		wait "$P" 2>/dev/null
		"$SCKPT" restore -i "$D/img" >"$D/newpid" 2>"$D/restore.err" &
		RP=$!
		PIDS+=("$RP")
		wait_for nonempty "$D/newpid"
		check "--freezer: the cgroup is thawed after the dump" thawed
		check "--freezer: the process of the cgroup not dumped runs on" \
		    kill -0 "$DECOY"
		check "--freezer: ... and nobody traces it" untraced "$DECOY"
		c=$(wc -l < "$D/out")
		wait_for lines_over "$D/out" $((c + 1))
		kill -USR2 "$(cat "$D/newpid")"
		wait "$RP"; rc=$?
		check "--freezer: the restored tree runs on and checks out" [ $rc = 0 ]
	else
		not_ok "--freezer: dump"
	fi
	# A shell that spawns all the time (dash spawns with vfork: a
	# parent cannot stop before its child does).  Each try either
	# dumps or says busy (a child that ended and is not reaped yet);
	# none may hang.
	newdir freezer-vfork
	in_cg sh -c 'while :; do /bin/true; done'
	k=0 rc=0 good=0
	while [ $k -lt 50 ] && [ $good -lt 5 ]; do
		timeout 30 "$SCKPT" dump -t $P -o "$D/img" --leave-running \
		    --freezer "$CG" 2>"$D/dump.err"
		rc=$?
		[ $rc = 124 ] && break
		[ $rc = 0 ] && good=$((good + 1))
		k=$((k + 1))
	done
	check "--freezer: a tree spawning with vfork all the time is dumped 5 times ($k tries, last rc $rc)" [ $good = 5 ]
	check "... and runs on, untraced" untraced "$P"
	kill -9 "$P"
	wait "$P" 2>/dev/null
	newdir freezer-bad
	start "$TB/counter" "$D/out" 1
	wait_for test -e "$D/out.ready"
	if "$SCKPT" dump -t $P -o "$D/img" --freezer "$T" 2>"$D/dump.err"; then
		not_ok "--freezer on a directory that is no cgroup: refused"
	else
		check "--freezer on a directory that is no cgroup: refused" \
		    grep -q "not a cgroup with a freezer" "$D/dump.err"
	fi
	c=$(wc -l < "$D/out")
	check "... and the process runs on" wait_for lines_over "$D/out" $((c + 1))
	kill -9 "$P" "$DECOY" 2>/dev/null
	wait "$P" "$DECOY" 2>/dev/null
	# The throttle (migration's auto-converge): the cgroup of a running
	# process frozen and thawed by turns, then thawed; the process goes
	# on; a directory that is no cgroup refused.
	newdir throttle
	in_cg "$TB/counter" "$D/out" 16
	wait_for test -e "$D/out.ready"
	"$TB/api-throttle" "$CG" "$T" 2>"$D/throttle.err"
	check "throttle: frozen and thawed by turns, thawed at the end ($(cat "$D/throttle.err"))" [ $? = 0 ]
	check "throttle: ... the cgroup says thawed" thawed
	c=$(wc -l < "$D/out")
	check "throttle: ... and the process runs on" wait_for lines_over "$D/out" $((c + 1))
	kill -9 "$P" 2>/dev/null
	wait "$P" 2>/dev/null
	rmdir "$CG" && CG=
}

# ctxt PID: the context switches of every thread of PID so far.  A
# process asleep in pause() has none unless something wakes it: a
# ptrace stop, a signal.  So an unchanged count says it was never stopped.
ctxt() {
	cat /proc/$1/task/*/status 2>/dev/null |
	    awk '/ctxt_switches/ { n += $2 } END { print n + 0 }'
}
# kill_tree PID: SIGKILL to PID and its children (by pid).
kill_tree() {
	local c
	for c in $(cat /proc/$1/task/*/children 2>/dev/null); do
		kill -9 "$c" 2>/dev/null
	done
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}
# reason FILE: an error line of sckpt without its "sckpt: VERB PID: ".
reason() { sed 's/^sckpt: [a-z]* [0-9]*: //' "$1"; }

# Refusals: sckpt check refuses first, without stopping the process;
# then the dump refuses with the same reason, and the process runs on.
refuse() {
	local what=$1 word=$2 c0
	newdir refuse-$what
	start "$TB/holder" "$what" "$D/f"
	if ! wait_for test -e "$D/f.ready"; then
		not_ok "refuses $what: holder did not start"
		return
	fi
	c0=$(ctxt $P)
	if "$SCKPT" check -t $P >"$D/check.stdout" 2>"$D/check.out"; then
		not_ok "check refuses $what: said ok"
	else
		check "check refuses $what: process never stopped" \
		    [ "$(ctxt $P)" = "$c0" ]
	fi
	if "$SCKPT" dump -t $P -o "$D/img" 2>"$D/dump.out"; then
		not_ok "refuses $what: dump succeeded"
		kill_tree $P
		return
	fi
	check "refuses $what, naming it" grep -qi -- "$word" "$D/dump.out"
	check "check refuses $what with the dump's reason" \
	    [ -s "$D/check.out" -a "$(reason "$D/check.out")" = \
	    "$(reason "$D/dump.out")" ]
	check "refuses $what: process runs on untouched" \
	    sh -c "kill -0 $P && ! grep -q '^State:.*[tT]' /proc/$P/status"
	check "refuses $what: no image left" [ ! -e "$D/img" ]
	kill_tree $P
}
g_refuse() {
refuse socket socket
refuse eventfd eventfd
refuse timerfd timerfd
refuse signalfd signalfd
refuse epoll eventpoll
refuse inotify inotify
refuse iouring io_uring
refuse deleted deleted
refuse sysvshm SysV
refuse memfd deleted
refuse ptmx ptmx
refuse posixtimer "POSIX timer"
refuse seccomp seccomp
refuse traced "already traced"

# A refused dump removes the image file it made, and only that: a file
# that was there before stays (once, `sckpt dump -o /dev/null` that
# failed removed /dev/null).
newdir refused-out
start "$TB/holder" socket "$D/f"
wait_for test -e "$D/f.ready"
"$SCKPT" dump -t $P -o "$D/new.img" 2>"$D/dump1.out"
check "a refused dump leaves no image of its own behind" \
    [ -s "$D/dump1.out" -a ! -e "$D/new.img" ]
echo mine > "$D/old.img"
"$SCKPT" dump -t $P -o "$D/old.img" 2>"$D/dump2.out"
check "... and removes no file that was there before" \
    [ -s "$D/dump2.out" -a -e "$D/old.img" ]
kill_tree $P

# sckpt check says ok on what can be dumped, and stops nothing.
newdir check-ok
start "$TB/holder" none "$D/f"
wait_for test -e "$D/f.ready"
c0=$(ctxt $P)
"$SCKPT" check -t $P >"$D/check.out" 2>"$D/check.err"; rc=$?
check "check: ok on a process that can be dumped (exit 0)" \
    [ $rc = 0 -a "$(cat "$D/check.out")" = ok ]
check "check: ok without stopping it" [ "$(ctxt $P)" = "$c0" ]
kill_tree $P
start sh -c "\"$TB/holder\" none \"$D/g\" | cat"
wait_for test -e "$D/g.ready"
"$SCKPT" check -t $P >"$D/check2.out" 2>&1; rc=$?
check "check: ok on a pipeline" [ $rc = 0 ]
kill_tree $P
# A refused resource deep in the tree is found, in the right process.
start sh -c "\"$TB/holder\" socket \"$D/h\"; :"
wait_for test -e "$D/h.ready"
read -r kid < /proc/$P/task/$P/children
if "$SCKPT" check -t $P 2>"$D/check.out"; then
	not_ok "check: refuses a socket held by a child"
else
	check "check: refuses a socket held by a child, naming it" \
	    grep -q "process $kid fd 3: socket:" "$D/check.out"
fi
kill_tree $P
}

# Damaged images are refused before any process is created.
g_damaged() {
newdir damaged
start "$TB/counter" "$D/out" 1
wait_for test -e "$D/out.ready"
"$SCKPT" dump -t $P -o "$D/img" 2>"$D/dump.err"
wait $P 2>/dev/null
size=$(stat -c %s "$D/img")
damaged() {
	local name=$1 word=$2
	if "$SCKPT" restore -i "$D/bad" >"$D/bad.pid" 2>"$D/bad.out"; then
		not_ok "refuses $name image: restored"
		return
	fi
	check "refuses $name image ($word)" grep -qi -- "$word" "$D/bad.out"
	check "$name image: no process started" [ ! -s "$D/bad.pid" ]
}
head -c $((size / 2)) "$D/img" > "$D/bad"
damaged truncated truncated
cp "$D/img" "$D/bad"
printf '\x5a' | dd of="$D/bad" bs=1 seek=$((size / 3)) conv=notrunc 2>/dev/null
damaged flipped-byte checksum
# The same through a pipe that stalls just before its end: refused
# without waiting for more input (a page reader blocked in read(2) is
# cancelled).
mkfifo "$D/fifo"
"$SCKPT" restore -i "$D/fifo" >"$D/stall.pid" 2>"$D/stall.out" &
RS=$!
exec 3>"$D/fifo"
head -c $((size - 1)) "$D/bad" >&3
check "refuses a damaged image on a stalled pipe (checksum)" \
    wait_for grep -qi checksum "$D/stall.out"
exec 3>&-
wait $RS
check "damaged image on a stalled pipe: no process started" \
    [ ! -s "$D/stall.pid" ]
cp "$D/img" "$D/bad"
printf '\x09' | dd of="$D/bad" bs=1 seek=7 conv=notrunc 2>/dev/null
damaged other-version version
start "$TB/counter" "$D/out2" 1
wait_for test -e "$D/out2.ready"
CKPT_FAKE_XCR0=0x2ff "$SCKPT" dump -t $P -o "$D/bad" 2>"$D/dump.err"
wait $P 2>/dev/null
damaged other-xstate xstate
}

# An ordinary user dumps and restores their own process, and cannot
# restore root's.
g_user() {
	newdir user
	chmod 755 "$T"
	chmod 777 "$D"
	local U="setpriv --reuid=nobody --regid=nogroup --clear-groups"
	$U "$TB/counter" "$D/out" 4 </dev/null >/dev/null 2>&1 &
	P=$!
	PIDS+=("$P")
	wait_for test -e "$D/out.ready"
	if $U "$SCKPT" dump -t $P -o "$D/img" 2>"$D/dump.err"; then
		wait $P 2>/dev/null
		$U "$SCKPT" restore -i "$D/img" >"$D/newpid" 2>"$D/restore.err" &
		RP=$!
		PIDS+=("$RP")
		wait_for nonempty "$D/newpid"
		NP=$(cat "$D/newpid")
		[ -n "$NP" ] || NP=0
		check "user: restored process runs as nobody" \
		    [ "$(stat -c %U /proc/$NP)" = nobody ]
		kill -USR2 "$NP"
		wait "$RP"; rc=$?
		check "user: dump and restore of one's own process" [ $rc = 0 ]
	else
		not_ok "user: dump of one's own process"
		not_ok "user: restore"
	fi
	start "$TB/counter" "$D/out2" 1
	wait_for test -e "$D/out2.ready"
	"$SCKPT" dump -t $P -o "$D/rootimg" 2>"$D/dump.err"
	wait $P 2>/dev/null
	chmod 644 "$D/rootimg"
	if $U "$SCKPT" restore -i "$D/rootimg" >/dev/null 2>"$D/user.out"; then
		not_ok "user: restores root's process"
	else
		check "user: refused to restore root's process" \
		    grep -q "only root" "$D/user.out"
	fi
	if $U "$SCKPT" dump -t $$ -o "$D/x" 2>"$D/user.out"; then
		not_ok "user: dumps root's process"
	else
		ok "user: refused to dump root's process"
	fi
}

# The API as migration uses it: into a new PID namespace with the old
# pids, left stopped until told to run (api-restore.c checks both).
g_api() {
	newdir api
	start "$TB/counter" "$D/out" 4
	wait_for test -e "$D/out.ready"
	old=$P
	if "$SCKPT" dump -t $P -o "$D/img" 2>"$D/dump.err"; then
		wait $P 2>/dev/null
		"$TB/api-restore" "$D/img" $old >"$D/newpid" 2>"$D/api.err" &
		RP=$!
		PIDS+=("$RP")
		wait_for nonempty "$D/newpid"
		NP=$(cat "$D/newpid")
		[ -n "$NP" ] || NP=0
		check "api: old pid inside a new PID namespace" \
		    grep -q "^NSpid:.*[[:space:]]$old\$" /proc/$NP/status
		check "api: the caller of ckpt_restore is the root's parent" \
		    grep -q "^PPid:[[:space:]]*$RP\$" /proc/$NP/status
		kill -USR2 "$NP"
		wait "$RP"; rc=$?
		check "api: restored stopped, then runs on when told" [ $rc = 0 ]
	else
		not_ok "api: dump"
		not_ok "api: restore"
	fi
}

# Capability sets: a root process with a reduced set keeps exactly it.
g_caps() {
	newdir caps
	setpriv --inh-caps=+net_bind_service,+kill \
	    --bounding-set=-net_raw,-sys_time,-mknod \
	    "$TB/counter" "$D/out" 1 </dev/null >/dev/null 2>"$D/prog.err" &
	P=$!
	PIDS+=("$P")
	wait_for test -e "$D/out.ready"
	grep ^Cap /proc/$P/status > "$D/caps.before"
	for mode in file pipe; do
		if ckpt $mode $P; then
			grep ^Cap /proc/$NP/status > "$D/caps.after"
			check "capabilities ($mode): exactly the reduced sets" \
			    cmp -s "$D/caps.before" "$D/caps.after"
			P=$NP
		else
			not_ok "capabilities ($mode): dump and restore"
		fi
	done
	kill -USR2 "$P"
	wait "$RP"; rc=$?
	check "capabilities: process runs on" [ $rc = 0 ]
}

# A process stopped by SIGSTOP at the dump is restored stopped.
stopped() { grep -q '^State:.*T (stopped)' /proc/$1/status; }
g_stopped() {
	for mode in file pipe; do
		newdir stopped-$mode
		start "$TB/counter" "$D/out" 1
		wait_for test -e "$D/out.ready"
		kill -STOP $P
		wait_for stopped $P
		if ckpt $mode $P; then
			check "SIGSTOPped ($mode): restored stopped" \
			    wait_for stopped $NP
			c=$(wc -l < "$D/out")
			kill -CONT $NP
			wait_for lines_over "$D/out" $((c + 1))
			kill -USR2 "$NP"
			wait "$RP"; rc=$?
			check "SIGSTOPped ($mode): runs on after SIGCONT" \
			    [ $rc = 0 ]
		else
			not_ok "SIGSTOPped ($mode): dump and restore"
		fi
	done
}

# Shared anonymous memory in a tree (shmem.c): a parent and its child
# share a region (at other offsets and lengths in each), each has one of
# its own.  After a restore they share it again (the program checks
# that, and every page), the areas are where they were with their
# protections and names, and the objects are as many as before (one
# object per region, not per process).
# shmem_maps PID: its shared anonymous areas without the inode (which a
# restore changes): range, protection, offset, name.
shmem_maps() {
	awk '$6 == "/dev/zero" { print $1, $2, $3, $6, $7 }' "/proc/$1/maps"
}
# shmem_objects PID...: how many shared anonymous objects they map.
shmem_objects() {
	local p
	for p in "$@"; do
		awk '$6 == "/dev/zero" { print $4, $5 }' "/proc/$p/maps"
	done | sort -u | wc -l
}
kid_of() { local k; read -r k _ < "/proc/$1/task/$1/children"; echo "$k"; }
# image_pages IMG: the pages the image holds.
image_pages() { "$SCKPT" info "$1" | awk '/process\(es\)/ { print $3 }'; }
g_shmem() {
for mode in file pipe pidns; do
	newdir shmem-$mode
	start "$TB/shmem" "$D/f"
	if ! wait_for test -e "$D/f.ready"; then
		not_ok "shmem ($mode): program did not start"
		continue
	fi
	K=$(kid_of $P)
	shmem_maps $P > "$D/maps.parent.before"
	shmem_maps $K > "$D/maps.child.before"
	objs=$(shmem_objects $P $K)
	if [ $mode = file ]; then
		"$SCKPT" check -t $P >"$D/check.out" 2>&1; rc=$?
		check "shmem: check says ok on a tree sharing anonymous memory" \
		    [ $rc = 0 ]
	fi
	case $mode in
	file|pipe) ckpt $mode $P ;;
	pidns) pidns_ckpt $P ;;
	esac
	if [ $? != 0 ]; then
		not_ok "shmem ($mode): dump and restore"
		continue
	fi
	what="shared anonymous memory in a tree ($mode)"
	[ $mode = pidns ] && what="shared anonymous memory in a tree (pipe, --same-pid, new PID namespace)"
	K=$(kid_of $NP)
	[ -n "$K" ] || K=0
	shmem_maps $NP > "$D/maps.parent.after"
	shmem_maps $K > "$D/maps.child.after" 2>/dev/null
	check "$what: the parent's areas, protections and names as before" \
	    cmp -s "$D/maps.parent.before" "$D/maps.parent.after"
	check "$what: the child's areas, protections and names as before" \
	    cmp -s "$D/maps.child.before" "$D/maps.child.after"
	check "$what: $objs objects, as before" \
	    [ "$(shmem_objects $NP $K)" = "$objs" ]
	[ $mode = pidns ] && check "$what: every process its dumped pid" \
	    subset "$D/pids.after" "$D/pids.before"
	# The pattern is 1024 pages; carried twice, the image would hold
	# more than 2048 pages.
	[ $mode = file ] && check "$what: shared pages in the image once" \
	    [ "$(image_pages "$D/img")" -lt 1800 ]
	kill -USR2 "$NP"
	wait "$RP"; rc=$?
	check "$what: both see each other's writes and the old contents" \
	    [ $rc = 0 ]
done
# A user may dump such a tree, but only root can restore it (map_files).
newdir shmem-user
chmod 755 "$T"
chmod 777 "$D"
local U="setpriv --reuid=nobody --regid=nogroup --clear-groups"
$U "$TB/shmem" "$D/f" </dev/null >/dev/null 2>&1 &
P=$!
PIDS+=("$P")
wait_for test -e "$D/f.ready"
if $U "$SCKPT" dump -t $P -o "$D/img" 2>"$D/dump.err"; then
	wait $P 2>/dev/null
	if $U "$SCKPT" restore -i "$D/img" >"$D/newpid" 2>"$D/restore.out"; then
		not_ok "shmem (user): restore of a tree sharing memory refused"
	else
		check "shmem (user): restore of a tree sharing memory refused, saying root" \
		    grep -q "can only be restored by root" "$D/restore.out"
		check "shmem (user): no process started" [ ! -s "$D/newpid" ]
	fi
else
	not_ok "shmem (user): dump"
	kill_tree $P
fi
}

# Children that ended and are not reaped yet are carried as zombies: the
# restored parent reaps them with the statuses they ended with.
zombies_of() { # PID: its children in state Z, as "comm" lines
	local k
	for k in $(cat /proc/$1/task/*/children 2>/dev/null); do
		awk '/^State:/ && $2 == "Z" { z = 1 } /^Name:/ { n = $2 }
		    END { if (z) print n }' /proc/$k/status
	done
}
g_zombie() {
local mode rc pc
for mode in file pipe pipe+precopy; do
	pc=
	[ $mode = pipe+precopy ] && pc=2
	newdir zombie-$mode
	start "$TB/zombie" "$D/out"
	wait_for test -e "$D/out.ready"
	zombies_of $P > "$D/z.before"
	check "zombies ($mode): two children ended, not reaped" \
	    [ "$(wc -l < "$D/z.before")" = 2 ]
	if [ $mode = file ]; then
		"$SCKPT" check -t $P >"$D/check.out" 2>&1; rc=$?
		check "zombies: sckpt check says ok" [ $rc = 0 ]
	fi
	if PC=$pc ckpt ${mode%+precopy} $P; then
		check "zombies ($mode): restored as zombies, same names" \
		    wait_for cmp -s "$D/z.before" <(zombies_of $NP)
		kill -USR2 "$NP"
		wait "$RP"; rc=$?
		check "zombies ($mode): reaped with exit 7 and SIGTERM" [ $rc = 0 ]
		[ $rc = 0 ] || diag "$(cat "$D/prog.err")"
		[ $mode = file ] && check "zombies: sckpt info shows them" \
		    grep -q '^  zombie, wait status 0x700$' <("$SCKPT" info "$D/img")
	else
		not_ok "zombies ($mode): dump and restore"
	fi
done
}

# The pre-copy: memory written while the tree runs, then only what changed.
g_precopy() {
local mode rc what
for mode in file pipe; do
	# Pages rewritten all the time, some to zeros, some dropped.
	newdir dirty-$mode
	start "$TB/dirty" "$D/out" 64
	wait_for test -e "$D/out.ready"
	wait_for lines_over "$D/out" 20
	if PC=4 ckpt $mode $P; then
		c=$(wc -l < "$D/out")
		wait_for lines_over "$D/out" $((c + 20))
		kill -USR2 "$NP"
		wait "$RP"; rc=$?
		check "pre-copy of memory being rewritten ($mode): every page right" \
		    [ $rc = 0 ]
		check "pre-copy ($mode): file continues without a gap" \
		    consecutive "$D/out"
		[ $rc = 0 ] || diag "$(cat "$D/prog.err")"
	else
		not_ok "pre-copy of memory being rewritten ($mode): dump and restore"
		not_ok "pre-copy ($mode): file continues"
	fi
	[ $mode = file ] && check "pre-copy: sckpt info tells of it" \
	    grep -q '^a pre-copy came first: ' <("$SCKPT" info "$D/img")

	# A large heap that does not change: nearly all of it KEPT.
	newdir counter-pc-$mode
	start "$TB/counter" "$D/out" 256
	wait_for test -e "$D/out.ready"
	wait_for lines_over "$D/out" 2
	if PC=2 ckpt $mode $P; then
		c=$(wc -l < "$D/out")
		wait_for lines_over "$D/out" $((c + 2))
		kill -USR2 "$NP"
		wait "$RP"; rc=$?
		check "pre-copy of a 256 MiB heap ($mode): checksum holds" [ $rc = 0 ]
		check "pre-copy counter ($mode): no gap" consecutive "$D/out"
	else
		not_ok "pre-copy counter ($mode): dump and restore"
		not_ok "pre-copy counter ($mode): no gap"
	fi

	# Threads at work on shared memory while it is tracked.
	newdir threads-pc-$mode
	start "$TB/threads" "$D/f"
	wait_for test -e "$D/f.ready"
	if PC=3 ckpt $mode $P; then
		kill -USR2 "$NP"
		wait "$RP"; rc=$?
		check "pre-copy of four threads ($mode)" [ $rc = 0 ]
	else
		not_ok "pre-copy of four threads ($mode): dump and restore"
	fi

	# A tree: every process tracked, the pipe's bytes carried.
	newdir pipeline-pc-$mode
	seq 1 20000 > "$D/want"
	start sh -c 'seq 1 20000 | { sleep 0.3; while read l; do echo "$l"; done; } > '"$D/out"
	wait_for test -s "$D/out"
	if PC=2 dump_tree $mode $P; then
		wait "$RP"; rc=$?
		what="pre-copy of sh -c 'producer | consumer' ($mode)"
		check "$what: exit 0" [ $rc = 0 ]
		check "$what: same output" cmp -s "$D/want" "$D/out"
	else
		not_ok "pre-copy pipeline ($mode): dump and restore"
		not_ok "pre-copy pipeline ($mode): same output"
	fi
done

# A stopped process (Ctrl-Z) stays stopped through the pre-copy's
# injected calls, and is restored stopped.
newdir stopped-pc
start "$TB/counter" "$D/out" 8
wait_for test -e "$D/out.ready"
kill -STOP $P
wait_for stopped $P
"$SCKPT" dump -t $P -o /dev/null --precopy 2 --leave-running 2>"$D/dump.err"
check "pre-copy of a stopped process: it stays stopped" stopped $P
if PC=2 ckpt pipe $P; then
	check "pre-copy of a stopped process: restored stopped" \
	    wait_for stopped $NP
	c=$(wc -l < "$D/out")
	kill -CONT $NP
	wait_for lines_over "$D/out" $((c + 1))
	kill -USR2 "$NP"
	wait "$RP"; rc=$?
	check "pre-copy of a stopped process: runs on after SIGCONT" [ $rc = 0 ]
else
	not_ok "pre-copy of a stopped process: dump and restore"
fi

# A pre-copy cut short, or a KEEP with no pre-copy: refused, nothing runs.
newdir pc-damaged
start "$TB/counter" "$D/out" 16
wait_for test -e "$D/out.ready"
if "$SCKPT" dump -t $P -o "$D/img" --precopy 1 --leave-running \
    2>"$D/dump.err"; then
	head -c 1000000 "$D/img" > "$D/cut"
	"$SCKPT" restore -i "$D/cut" >"$D/newpid" 2>"$D/restore.err"
	rc=$?
	check "a pre-copy cut short is refused" [ $rc = 1 ]
	check "... saying so" grep -q 'truncated image' "$D/restore.err"
	check "... and nothing started" [ ! -s "$D/newpid" ]
	# The image proper alone, without its pre-copy: its KEEPs refer
	# to pages it does not have.
	off=$(LC_ALL=C grep -aboP 'SCKP\x00\x00\x00' "$D/img" |
	    head -1 | cut -d: -f1)
	tail -c +$((off + 1)) "$D/img" > "$D/alone"
	"$SCKPT" restore -i "$D/alone" >"$D/newpid" 2>"$D/restore.err"
	rc=$?
	check "an image without the pre-copy it kept pages of is refused" \
	    [ $rc = 1 ]
	check "... saying so" grep -q 'pages kept from a pre-copy that is not there' \
	    "$D/restore.err"
	check "... and the original ran on" kill -0 $P
else
	not_ok "pre-copy with --leave-running: dump"
fi
kill_tree $P
}

for g in basic real proc samepid leave refuse damaged user api caps stopped \
    freezer shmem precopy zombie; do
	want $g && g_$g
done

echo "1..$n"
[ $fails = 0 ]
