#!/bin/bash
# Placement at exec time: six CPU-bound jobs submitted from n1 to three idle
# nodes land two on each node (as sps says, and as each node's /proc says);
# `ssubmit -n n3` lands on n3.
. "$(dirname "$0")/lib.sh"
cluster_up -n 3

# A node that every snodes shows up takes jobs at once, from every node.
bad=0
for i in 1 2 3; do
	for j in 1 2 3; do
		run on n$i ssubmit -n n$j --wait -- true
		((RC == 0)) || { bad=1; diag "ssubmit -n n$j on n$i: exit $RC: $ERR"; }
	done
done
ok $bad "once snodes on every node shows every node up, every node runs a job on every node (ssubmit -n)"
mesh_ready
# Idle: wait until every node's load as n1 sees it has decayed (below 0.1).
idle() { on n1 snodes --json | perl -MJSON::PP -e '
	my $j = decode_json(do { local $/; <STDIN> }); exit(grep({ $_->{load} >= 0.1 } @$j) ? 1 : 0)'; }
wait_for 20 idle || diag "the nodes are not idle: $(on n1 snodes </dev/null)"

spin='while :; do :; done'
gpids=()
for i in 1 2 3 4 5 6; do
	run on n1 ssubmit -- sh -c "$spin"
	is "$RC" 0 "ssubmit of CPU-bound job $i exits 0" || diag "$ERR"
	gpids+=("${OUT%$'\n'}")
done

# Where sps says each job runs.
declare -A count=()
all_real=0
for g in "${gpids[@]}"; do
	read -r node pid <<<"$(on n1 sps --no-headers -o node,pid "$g" </dev/null)"
	count[${node:-none}]=$((${count[${node:-none}]:-0} + 1))
	# That pid exists on that node, and is this job's command.
	cmdline=$(on "${node:-n1}" sh -c 'tr "\0" " " </proc/$1/cmdline' sh "${pid:-0}" 2>/dev/null)
	if [[ $cmdline == "sh -c $spin " ]]; then :; else
		all_real=1
		diag "job $g: sps says $node pid $pid; /proc/$pid/cmdline there is '$cmdline'"
	fi
done
is "${count[n1]:-0} ${count[n2]:-0} ${count[n3]:-0}" "2 2 2" "six CPU-bound jobs on three idle nodes: two on each node" ||
	diag "in submission order: $(for g in "${gpids[@]}"; do sps_field n1 "$g" node; done | tr '\n' ' ')" "$(on n1 snodes </dev/null)"
ok $all_real "each job runs on its node with the pid sps shows (node's /proc/PID/cmdline)"

# Kill them; all end, recorded as TERM.
run on n1 skill "${gpids[@]}"
is "$RC" 0 "skill of the six jobs exits 0" || diag "$ERR"
all_done() { local g; for g in "${gpids[@]}"; do job_done n1 "$g" || return 1; done; }
check "the six jobs end" wait_for 15 all_done
exits=$(for g in "${gpids[@]}"; do sps_field n1 "$g" exit; done | sort -u | tr '\n' ' ')
is "$exits" "143 " "their exit is 143 (SIGTERM)"

# -n pins, even to a node that is not the least loaded.
run on n1 ssubmit -n n3 -- sleep 100
is "$RC" 0 "ssubmit -n n3 exits 0" || diag "$ERR"
g=${OUT%$'\n'}
is "$(sps_field n1 "$g" node)" n3 "ssubmit -n n3: the job runs on n3"
pid=$(sps_field n1 "$g" pid)
check "... and its pid is a sleep in n3's /proc" \
	on n3 sh -c '[ "$(tr "\0" " " </proc/$1/cmdline)" = "sleep 100 " ]' sh "${pid:-0}"
run on n1 ssubmit -n n3 -- sleep 100
g2=${OUT%$'\n'}
is "$(sps_field n1 "$g2" node)" n3 "a second ssubmit -n n3 also lands on n3"
on n1 skill "$g" "$g2" </dev/null
