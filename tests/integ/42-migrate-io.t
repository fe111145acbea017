#!/bin/bash
# 42-migrate-io.t: a moved job keeps its channel to sshell.  Input written
# while the job is frozen for a move (held at the mover's test point, after
# the target said ready) arrives after the move, in order, once; a job on a
# terminal keeps the terminal's size and mode across moves and sees a
# resize made on its new node; sshell's migrate builtin moves its own job.
. "$(dirname "$0")/lib.sh"

MV=$T_TMP/mover
mkdir -p "$MV"
export SSHELL_TEST_MOVER_DIR=$MV
cluster_up 3

# --- input through pipes ------------------------------------------------------
# Our write end (fd 7) is the job's only writer: no child of ours keeps
# it (7>&-), so closing it is the job's EOF.
mkfifo "$T_TMP/in"
on n1 sshell -c '@n1 cat' <"$T_TMP/in" >"$T_TMP/cat.out" 2>&1 &
SH=$!
exec 7>"$T_TMP/in"
lines() { wc -l <"$T_TMP/cat.out"; }
lines_ge() { (($(lines) >= $1)); }
for i in 1 2 3; do echo "line $i" >&7; done
check "cat echoes its input" wait_for 20 lines_ge 3
G=$(on n1 sps --no-headers -o gpid,cmd | awk '$2 == "cat" { print $1; exit }')
like "$G" '^[0-9]+$' "its GPID: $G"

touch "$MV/hold"
on n1 smigrate "$G" n2 >"$T_TMP/sm.out" 2>&1 </dev/null 7>&- &
SM=$!
check "the job is frozen and the target ready" wait_for 30 test -e "$MV/held"
for i in 4 5 6; do echo "line $i" >&7; done
rm -f "$MV/hold"
wait "$SM"
is "$?" 0 "the move with input waiting goes through ($(cat "$T_TMP/sm.out"))"
for i in 7 8; do echo "line $i" >&7; done
check "input written during and after the move arrives" wait_for 20 lines_ge 8
run on n1 smigrate "$G" n3
is "$RC" 0 "and moves on to n3 ($ERR)"
echo "line 9" >&7
exec 7>&-
wait "$SH"
is "$?" 0 "EOF on its input ends it on n3, and sshell exits 0"
seq 1 9 | sed 's/^/line /' >"$T_TMP/cat.want"
check "it read 1 to 9, in order, each once" cmp "$T_TMP/cat.out" "$T_TMP/cat.want"

# --- a signal the job traps, sent the moment a move returns ---------------------
# A line with quotes only runs as the program itself: no sh of sshell's
# in the job's process group to die of the signal the program traps.
on n1 sshell -c "@n1 sh -c 'trap \"echo trapped; exit 0\" USR1; echo ready; while :; do sleep 0.05; done'" \
	>"$T_TMP/trap.out" 2>&1 </dev/null 7>&- &
SH=$!
trap_ready() { grep -q '^ready$' "$T_TMP/trap.out"; }
check "a job that traps SIGUSR1 runs" wait_for 20 trap_ready
GT=$(on n1 sps --no-headers -o gpid,cmd | awk '/trapped/ { print $1; exit }')
run on n1 smigrate "$GT" n2
is "$RC" 0 "it moves to n2 ($ERR)"
run on n1 skill -USR1 "$GT"
is "$RC" 0 "skill -USR1 at once after the move ($ERR)"
wait "$SH"
is "$?" 0 "the trap ends the job with its own status 0, and sshell exits 0"
check "... after printing what its trap prints" grep -qx trapped "$T_TMP/trap.out"
is "$(on n1 sps --no-headers -a -o exit "$GT")" 0 "sps shows exit status 0"

# --- sshell's migrate builtin ----------------------------------------------------
run on n1 sshell -c '@n1 sleep 300 &
migrate %1 n2
jobs -l
kill %1'
is "$RC" 0 "migrate %1 n2 in sshell ($ERR)"
like "$OUT" '[0-9]+ n1 -> n2: [0-9.]+ MiB, total [0-9.]+ s, downtime [0-9.]+ ms' \
	"... prints smigrate's line"
like "$OUT" $'\n''\[1\].* n2 .*sleep 300' "... and jobs -l shows the job on n2"
run on n1 sshell -c 'migrate 999001 n2'
is "$RC" 1 "migrate of no such job exits 1"
like "$ERR" 'smigrate: 999001: ' "... saying why"

# --- input the job had not read, when the target dies before COMMIT -----------
# The job (home n3, running on n1) reads one line, then leaves its stdin
# alone until a file appears, saying how many bytes wait in its pipe
# (FIONREAD), and "ended" once the pipe has no writer left.  Two more
# lines wait there when it is frozen; the mover takes them out for the
# COMMIT, but n2's noded is killed once it said ready, so
# the COMMIT never arrives.  n1 recorded them with its "killed": n2,
# restarted, asks that record and gets them with its answer.
cat >"$T_TMP/reader.pl" <<'EOS'
use IO::Poll qw(POLLIN POLLHUP);
$| = 1;
my $l = <STDIN>;
print "got $l";
my $p = IO::Poll->new;
$p->mask(\*STDIN => POLLIN);
my $last = "";
until (-e $ARGV[0]) {
	my $n = pack("i", 0);
	ioctl(STDIN, 0x541B, $n) or die "FIONREAD: $!\n";
	$p->poll(0);
	my $s = "pending " . unpack("i", $n) .
	    (($p->events(\*STDIN) & POLLHUP) ? " ended" : "");
	print "$s\n" if $s ne $last;
	$last = $s;
	select(undef, undef, undef, 0.05);
}
print "then $_" while <STDIN>;
print "eof\n";
EOS
# reader_job FROM NAME: reader.pl on n1, started by sshell on FROM, its
# stdin the fifo NAME (our fd 7), its output NAME.out, its go file
# NAME.go; once it has read "line 1", two more lines go into its pipe.
reader_job() {
	mkfifo "$T_TMP/$2"
	on "$1" sshell -c "@n1 perl $T_TMP/reader.pl $T_TMP/$2.go" \
		<"$T_TMP/$2" >"$T_TMP/$2.out" 2>&1 7>&- &
	SH=$!
	exec 7>"$T_TMP/$2"
	echo "line 1" >&7
	check "the job reads its first line" wait_for 20 grep -qx "got line 1" "$T_TMP/$2.out"
	printf 'line 2\nline 3\n' >&7
}
reader_job n3 late
check "two more lines wait in its pipe" wait_for 20 grep -qx "pending 14" "$T_TMP/late.out"
GL=$(on n1 sps --no-headers -o gpid,cmd | awk '/reader.pl/ { print $1; exit }')
like "$GL" '^[0-9]+$' "its GPID: $GL"
rm -f "$MV/held"
touch "$MV/hold"
on n1 smigrate "$GL" n2 >"$T_TMP/sm.out" 2>&1 </dev/null 7>&- &
SM=$!
check "the target said ready" wait_for 30 test -e "$MV/held"
run lc kill n2
rm -f "$MV/hold"
wait "$SM"
isnt "$?" 0 "smigrate: the move is not confirmed ($(cat "$T_TMP/sm.out"))"
rm -f "$MV/held"
run lc start n2
node_up() { on n1 snodes 2>/dev/null | grep -q "^[0-9]* *n2 .* up "; }
check "n2 is back" wait_for 30 node_up
late_runs() { [[ $(sps_field n1 "$GL" node) == n2 && $(sps_field n1 "$GL" state) == [RSD] ]]; }
check "the copy runs on n2, let go by n1's record" wait_for 30 late_runs
touch "$T_TMP/late.go"
exec 7>&-
wait "$SH"
is "$?" 0 "EOF ends the job, and sshell exits 0"
printf 'got line 1\nthen line 2\nthen line 3\neof\n' >"$T_TMP/late.want"
grep -v '^pending ' "$T_TMP/late.out" >"$T_TMP/late.got"
check "the lines it had not read reached it on n2, once, in order" cmp "$T_TMP/late.got" "$T_TMP/late.want"

# --- input that ended before the move, not all read --------------------------
# The job reads one line, then waits; two more lines and the input's EOF
# follow, so its pipe holds them with no writer left (noded and the
# shepherd closed theirs).  The moved copy reads them and then EOF, once.
reader_job n1 ended
exec 7>&-
check "two lines wait in its pipe, with no writer left" \
	wait_for 20 grep -qx "pending 14 ended" "$T_TMP/ended.out"
GE=$(on n1 sps --no-headers -o gpid,cmd | awk '/reader.pl/ { print $1; exit }')
run on n1 smigrate "$GE" n2
is "$RC" 0 "it moves to n2 ($ERR)"
touch "$T_TMP/ended.go"
wait "$SH"
is "$?" 0 "it reads to EOF on n2, and sshell exits 0"
printf 'got line 1\nthen line 2\nthen line 3\neof\n' >"$T_TMP/ended.want"
grep -v '^pending ' "$T_TMP/ended.out" >"$T_TMP/ended.got"
check "the two lines reached it on n2, once, then EOF" cmp "$T_TMP/ended.got" "$T_TMP/ended.want"

# --- a terminal: size and mode --------------------------------------------------------
if ! command -v tmux >/dev/null; then
	skip 5 "tmux is not installed"
	exit 0
fi
mkdir -p "$T_TMP/home"
tm new-session -d -x 100 -y 30 -s t \
    "$LCBIN on n1 env HOME=$T_TMP/home TERM=xterm sshell"
check "interactive sshell shows its prompt" wait_for 20 at_prompt
# Every 0.2 s: where it runs, the terminal's size, and whether echo is off.
tm send-keys -t t "@n1 sh -c 'stty -echo; while :; do e=on; stty -a | grep -q -- \" -echo \" && e=off; echo \"at=\$(hostname) size=\$(stty size) echo=\$e\"; sleep 0.2; done'" Enter
check "the job reports its terminal on n1" wait_for 20 screen_has '^at=n1 size=[0-9]+ [0-9]+ echo=off$'
SIZE=$(screen | grep -Eo '^at=n1 size=[0-9]+ [0-9]+' | tail -n 1 | sed 's/.*size=//')
GT=$(on n1 sps --no-headers -o gpid,cmd | awk '/stty/ { print $1; exit }')
run on n1 smigrate "$GT" n2
is "$RC" 0 "the terminal job moves to n2 ($ERR)"
check "on n2 it has the same size ($SIZE) and mode (echo off)" \
	wait_for 20 screen_has "^at=n2 size=$SIZE echo=off\$"
tm resize-window -t t -x 90 -y 24
check "a resize reaches it on n2" wait_for 20 screen_has '^at=n2 size=2[0-9] 90 echo=off$'
tm send-keys -t t C-c
check "Ctrl-C ends it on n2 and the prompt comes back" wait_for 20 at_prompt

# Input typed at the terminal that the job has not read when it is frozen
# moves with it: the job reads its terminal only once a file appears.
GO=$T_TMP/go
tm send-keys -t t "@n1 sh -c 'echo waiting; while [ ! -e $GO ]; do sleep 0.1; done; read -r l; echo got=\$l'" Enter
check "a job that reads its terminal only when told runs" wait_for 20 screen_has '^waiting$'
GR=$(on n1 sps --no-headers -o gpid,cmd | awk '/waiting/ { print $1; exit }')
tm send-keys -t t "typed ahead" Enter
check "... the typed line is echoed on n1" wait_for 20 screen_has '^typed ahead$'
run on n1 smigrate "$GR" n2
is "$RC" 0 "the job moves to n2 with the line unread ($ERR)"
touch "$GO"
check "on n2 it reads the line typed before the move" wait_for 20 screen_has '^got=typed ahead$'
is "$(screen | grep -c '^typed ahead$')" 1 "... and the line shows once: not echoed again on n2"
check "... then ends, and the prompt comes back" wait_for 20 at_prompt

# Half a line typed before the move, the rest after it: the line is one,
# shown once (the half is not echoed again on n2).
GO2=$T_TMP/go2
tm send-keys -t t "@n1 sh -c 'echo waiting2; while [ ! -e $GO2 ]; do sleep 0.1; done; read -r l; echo got=\$l'" Enter
check "a second such job runs" wait_for 20 screen_has '^waiting2$'
GR2=$(on n1 sps --no-headers -o gpid,cmd | awk '/waiting2/ { print $1; exit }')
tm send-keys -t t "half"
check "... half a line typed on n1 shows" wait_for 20 screen_has '^half$'
run on n1 smigrate "$GR2" n2
is "$RC" 0 "the job moves to n2 with half a line typed ($ERR)"
tm send-keys -t t " done" Enter
touch "$GO2"
check "on n2 it reads the whole line" wait_for 20 screen_has '^got=half done$'
is "$(screen | grep -c '^half done$')" 1 "... shown once, as typed: 'half done'"
check "... then ends, and the prompt comes back" wait_for 20 at_prompt
