#!/bin/bash
# 41-balance.t: automatic balancing (balance on, the default).  Three
# CPU-bound jobs start on n1 while n2 and n3 are idle; noded spreads them,
# one per node, each still computing right, and then leaves them be.
. "$(dirname "$0")/lib.sh"

cluster_up 3

# Only n1 takes jobs while they start, unpinned.
run on n1 snodes drain n2
run on n1 snodes drain n3
JOB='BEGIN { for (;;) { s += 1; if (s % 5000000 == 0) { print s; fflush() } } }'
G=()
for i in 1 2 3; do
	run on n1 ssubmit -o "$T_TMP/cpu$i.log" -- awk "$JOB"
	is "$RC" 0 "CPU-bound job $i starts ($ERR)"
	G+=("${OUT%$'\n'}")
done
for g in "${G[@]}"; do
	is "$(sps_field n1 "$g" node)" n1 "job $g starts on n1"
done
run on n1 snodes undrain n2
run on n1 snodes undrain n3

spread() {
	local nodes
	nodes=$(on n1 sps --no-headers -o node "${G[@]}" | sort -u | wc -l)
	((nodes == 3))
}
check "balancing spreads the jobs, one on each node" wait_for 60 spread
diag "$(on n1 sps -o gpid,node,state,moves,cmd "${G[@]}")"

# Each goes on computing, and right: consecutive multiples of 5000000.
right() { # FILE MIN: at least MIN lines, each the next multiple
	awk -v min="$2" '$1 != NR * 5000000 { exit 1 } END { exit NR < min }' "$1"
}
for i in 1 2 3; do
	n=$(wc -l <"$T_TMP/cpu$i.log")
	check "job $i computes on after the moves" wait_for 30 right "$T_TMP/cpu$i.log" $((n + 2))
done
moves=$(on n1 sps --no-headers -o moves "${G[@]}" | awk '{ s += $1 } END { print s }')
is "$moves" 2 "two moves did it: no job moved back and forth"
run on n1 skill -KILL "${G[@]}"
