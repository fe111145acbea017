#!/bin/bash
# A noded killed with SIGKILL: shown down by snodes on the other nodes
# (polled up to 15 s; the contract says 10), gets no new jobs, its jobs keep
# running; after `localcluster start` it finds them again, and jobs printing
# a line every 100 ms meanwhile lose no line: one whose home is the killed
# node (running on n3), one running on it with another home (n1).
. "$(dirname "$0")/lib.sh"
cluster_up 3

gpid_of() { local o=${OUT%$'\n'}; [[ $o =~ ^[0-9]+$ ]] && echo "$o" || echo 0; }
counter='i=0; while [ $i -lt 150 ]; do echo $i; i=$((i+1)); sleep 0.1; done'
node_state() {	# node_state FROM NODE: NODE's state as snodes on FROM shows it
	on "$1" snodes --json </dev/null 2>/dev/null | perl -MJSON::PP -e '
		my $j = decode_json(do { local $/; <STDIN> });
		print map({ $_->{name} eq $ARGV[0] ? $_->{state} : () } @$j), "\n"' "$2"
}
state_is() { [[ $(node_state "$1" "$2") == "$3" ]]; }
log_lines() { on "$1" cat "$2" </dev/null 2>/dev/null | wc -l; }
has_lines() { (($(log_lines "$1" "$2") >= $3)); }

run on n2 ssubmit -n n3 -- sh -c "$counter"
home_job=$(gpid_of)
run on n1 ssubmit -n n2 -- sh -c "$counter"
guest_job=$(gpid_of)
run on n1 ssubmit -n n2 -- sleep 300
sleeper=$(gpid_of)
run on n3 ssubmit -n n2 -- sh -c 'sleep 300 & sleep 300; wait'
sleeper2=$(gpid_of)
home_log=$(sps_field n2 "$home_job" log)
guest_log=$(sps_field n1 "$guest_job" log)
is "$(sps_field n1 "$home_job" home) $(sps_field n1 "$home_job" node)" "n2 n3" "counter job $home_job: home n2, runs on n3"
is "$(sps_field n1 "$guest_job" home) $(sps_field n1 "$guest_job" node)" "n1 n2" "counter job $guest_job: home n1, runs on n2"
check "both counters have started printing" wait_for 10 eval 'has_lines n2 "$home_log" 3 && has_lines n1 "$guest_log" 3'
spid=$(sps_field n1 "$sleeper" pid)
spid2=$(sps_field n1 "$sleeper2" pid)
check "sleep job $sleeper runs on n2 as pid $spid" pid_runs_on n2 "$spid"

# --- kill n2's noded --------------------------------------------------------------
n2pid=$(lc pid n2)
run lc kill n2
is "$RC" 0 "localcluster kill n2" || diag "$ERR"
check "n2's noded ($n2pid) is gone" eval '! lc pid n2 2>/dev/null'
t0=$SECONDS
check "snodes on n1 shows n2 down (polled up to 15 s)" wait_for 15 state_is n1 n2 down
check "snodes on n3 shows n2 down (polled up to 15 s)" wait_for 15 state_is n3 n2 down
note "n2 seen down by n1 and n3 after about $((SECONDS - t0)) s (contract: within 10 s)"
is "$(node_state n1 n1) $(node_state n1 n3)" "up up" "n1 and n3 stay up"

# No new jobs.
new=()
for i in 1 2 3 4 5 6; do run on n1 ssubmit -- sleep 100; new+=("$(gpid_of)"); done
nodes=$(for g in "${new[@]}"; do sps_field n1 "$g" node; done | sort | tr '\n' ' ')
unlike "$nodes" n2 "six jobs submitted while n2 is down: none placed on n2 ($nodes)"
is "$(wc -w <<<"$nodes")" 6 "... all six placed"
run on n3 ssubmit -n n2 -- true
isnt "$RC" 0 "ssubmit -n n2 while n2 is down fails"
like "$ERR" '^ssubmit: ' "... with a message"
on n1 skill -KILL "${new[@]}" </dev/null

# Its jobs keep running.
check "the sleep job keeps running on n2 (pid $spid in n2's /proc)" pid_runs_on n2 "$spid"
check "... so does the other (pid $spid2)" pid_runs_on n2 "$spid2"
is "$(sps_field n1 "$sleeper" state)" lost "sps on n1 shows the sleep job lost while n2 is down"

# The gap must fall inside the counters' output for the last test to mean
# anything: the counter running on n2 is still running now.
check "the counter job running on n2 is still printing while its noded is down" \
	eval '! has_lines n1 "$guest_log" 150'

# --- start it again ------------------------------------------------------------------
run lc start n2
is "$RC" 0 "localcluster start n2" || diag "$ERR"
check "snodes on n1 shows n2 up again" wait_for 15 state_is n1 n2 up
check "snodes on n3 shows n2 up again" wait_for 15 state_is n3 n2 up
check "snodes on n2 shows n1 and n3 up" wait_for 15 eval 'state_is n2 n1 up && state_is n2 n3 up'
found() { [[ $(sps_field "$1" "$2" node) == n2 && $(sps_field "$1" "$2" pid) == "$3" && $(sps_field "$1" "$2" state) == S ]]; }
check "sps on n1 finds the sleep job on n2 again, same pid, sleeping" wait_for 15 found n1 "$sleeper" "$spid"
check "sps on n2 too" wait_for 15 found n2 "$sleeper" "$spid"
check "sps on n3 finds the other job on n2, same pid" wait_for 15 found n3 "$sleeper2" "$spid2"
run on n3 skill "$sleeper2"
is "$RC" 0 "skill from n3 of a job the restarted n2 found again" || diag "$ERR"
check "... it ends" wait_for 10 job_done n1 "$sleeper2"
is "$(sps_field n3 "$sleeper2" exit)" 143 "... with exit 143"
check "... and its pid is gone from n2" pid_gone_on n2 "$spid2"

# --- no line lost -------------------------------------------------------------------------
check "the counter job homed on n2 ends (polled up to 40 s)" wait_for 40 job_done n2 "$home_job"
check "the counter job running on n2 ends (polled up to 40 s)" wait_for 40 job_done n1 "$guest_job"
is "$(sps_field n1 "$home_job" exit) $(sps_field n1 "$guest_job" exit)" "0 0" "both exit 0"
want=$(seq 0 149)
got=$(on n2 cat "$home_log" </dev/null)
is "$got" "$want" "the log of the job homed on n2 has 0..149, each once, in order" ||
	diag "$(diff <(echo "$want") <(echo "$got") | head -20)"
got=$(on n1 cat "$guest_log" </dev/null)
is "$got" "$want" "the log of the job that ran on n2 has 0..149, each once, in order" ||
	diag "$(diff <(echo "$want") <(echo "$got") | head -20)"
on n1 skill -KILL "$sleeper" </dev/null
