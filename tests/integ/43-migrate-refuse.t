#!/bin/bash
# 43-migrate-refuse.t: the target refuses a move, and the job runs on where
# it was, its output whole (issue 6, "Faults": the target refusing).
#
#   - disk: the job has a file open that only its node's disk has (in
#     n1's own /run/sshell); n2's restore cannot open it and refuses,
#     after the image was sent and before anything ran there;
#   - an unknown key: the source's mover signs in with a key n2 does not
#     know (n1's host key file replaced after n1 started, so that the
#     nodes' own sessions stay up); n2 turns it away before anything is
#     frozen.
# Each time: smigrate fails naming the reason, the job stays on n1 and keeps
# counting with no gap or repeat, no copy runs on n2, and once the cause is
# gone the same job moves.
. "$(dirname "$0")/lib.sh"

cluster_up 3

# counts_on LOG N: LOG holds "1 PID", "2 PID", ... up to at least N, one
# PID, no gap, repeat or reorder.
counts_on() {
	awk -v want="$2" '
		{ if ($1 != NR) { print "line " NR ": " $0; exit 1 } pids[$2] = 1 }
		END { n = 0; for (p in pids) n++
		      if (n != 1 || NR < want) exit 1 }' "$1"
}
lines() { wc -l <"$1" 2>/dev/null || echo 0; }
grown() { (($(lines "$1") >= $2)); }
node_of() { sps_field n1 "$1" node; }
no_copy_on() { # NODE PATTERN: no process on NODE has PATTERN in its command line
	! on "$1" pgrep -f "$2" >/dev/null
}

# --- disk: a file only n1 has -------------------------------------------------

# /run/sshell is each node's own directory ($SSHELL_LC_DIR/nI/run, bind-
# mounted in its mount namespace from the start): a file there is on n1's
# disk and nowhere else.
ONLY=/run/sshell
touch "$SSHELL_LC_DIR/n1/run/test-data"
check "a file only n1 has" on n1 test -e "$ONLY/test-data"
check "... n2 does not" on n2 test ! -e "$ONLY/test-data"

LOG1=$T_TMP/disk.log
TAG1=disk-$$-job
G1=$(on n1 ssubmit -n n1 -o "$LOG1" -- sh -c 'exec 3>>"$1/test-data"; i=0; while :; do i=$((i+1)); echo "$i $$"; echo "$i" >&3; sleep 0.05; done' "$TAG1" "$ONLY")
like "$G1" '^[0-9]+$' "a job writing to a file only n1 has: $G1"
check "it counts" wait_for 20 grown "$LOG1" 5
run on n1 smigrate "$G1" n2
isnt "$RC" 0 "smigrate to n2: refused"
like "$ERR" "n2" "... saying it was n2 ($ERR)"
like "$ERR" "$ONLY/test-data" "... naming the file n2 does not have"
is "$(node_of "$G1")" n1 "... the job is still on n1"
n=$(lines "$LOG1")
check "... and counts on" wait_for 20 grown "$LOG1" $((n + 10))
check "... no gap or repeat in its output" counts_on "$LOG1" $((n + 10))
check "... no copy of it runs on n2" no_copy_on n2 "$TAG1"
check "... the file on n1 goes on too" on n1 sh -c 'test "$(tail -n 1 "$1/test-data")" -ge "$2"' sh "$ONLY" $((n + 10))

# With the file on n2 too, the same job moves: the refusal was the file.
touch "$SSHELL_LC_DIR/n2/run/test-data"
run on n1 smigrate "$G1" n2
is "$RC" 0 "with the file on n2 too, the same job moves there ($ERR)"
n=$(lines "$LOG1")
check "... and counts on, no gap or repeat" wait_for 20 counts_on "$LOG1" $((n + 10))
check "... writing to n2's file now" on n2 sh -c 'test "$(tail -n 1 "$1/test-data")" -ge "$2"' sh "$ONLY" $((n + 10))
on n1 skill -KILL "$G1" >/dev/null 2>&1
check "skill ends it" wait_for 20 job_done n1 "$G1"

# --- an unknown key -------------------------------------------------------------

KEY=$SSHELL_LC_DIR/n1/lib/hostkey
[[ -f $KEY ]] || bail_out "no host key at $KEY"
cp -p "$KEY" "$T_TMP/hostkey.n1"
restore_key() { cp -p "$T_TMP/hostkey.n1" "$KEY"; }

LOG2=$T_TMP/key.log
TAG2=key-$$-job
G2=$(on n1 ssubmit -n n1 -o "$LOG2" -- sh -c 'i=0; while :; do i=$((i+1)); echo "$i $$"; sleep 0.05; done' "$TAG2")
like "$G2" '^[0-9]+$' "a counting job on n1: $G2"
check "it counts" wait_for 20 grown "$LOG2" 5

run "$BIN/noded" --print-key -s "$T_TMP/stranger"
is "$RC" 0 "a key nobody in the cluster knows ($ERR)"
cp "$T_TMP/stranger/hostkey" "$KEY"
run on n1 smigrate "$G2" n2
restore_key
isnt "$RC" 0 "smigrate with a key n2 does not know: refused"
like "$ERR" "n2" "... saying it was n2 ($ERR)"
like "$ERR" "key" "... and that it was the key"
is "$(node_of "$G2")" n1 "... the job is still on n1"
check "... the nodes still see each other" on n1 sh -c 'snodes | grep -q "^[0-9]* *n2 .* up "'
n=$(lines "$LOG2")
check "... and it counts on" wait_for 20 grown "$LOG2" $((n + 10))
check "... no copy of it runs on n2" no_copy_on n2 "$TAG2"

run on n1 smigrate "$G2" n2
is "$RC" 0 "with n1's own key back, the same job moves to n2 ($ERR)"
is "$(node_of "$G2")" n2 "... and sps shows it there"
n=$(lines "$LOG2")
check "... where it counts on" wait_for 20 grown "$LOG2" $((n + 10))
check "... with no gap or repeat from the start" counts_on "$LOG2" $((n + 10))
on n1 skill -KILL "$G2" >/dev/null 2>&1
check "skill ends it" wait_for 20 job_done n1 "$G2"
