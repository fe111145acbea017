#!/bin/bash
# sps: run on any node, lists every job with the node and pid where it
# really runs (checked against that node's /proc); --json, -o, -e, -a, -u,
# -n, --no-headers, GPID arguments.
. "$(dirname "$0")/lib.sh"
cluster_up 3

submit() {	# submit NODE [-u USER] ARGS...: the GPID (empty on failure)
	local n=$1 u=()
	shift
	if [[ $1 == -u ]]; then u=(-u "$2"); shift 2; fi
	on "${u[@]}" "$n" ssubmit "$@" </dev/null 2>>"$T_TMP/submit.err"
}
root_jobs=()
root_jobs+=("$(submit n1 -n n1 -- sleep 101)")
root_jobs+=("$(submit n1 -n n2 -- sleep 102)")
root_jobs+=("$(submit n1 -n n3 -- sh -c 'sleep 103; :')")
root_jobs+=("$(submit n2 -- sleep 104)")
root_jobs+=("$(submit n3 -n n1 -- sleep 105)")
nobody_jobs=("$(submit n2 -u nobody -n n3 -- sleep 106)" "$(submit n3 -u nobody -n n2 -- sleep 107)")
ended=$(submit n1 -n n2 --wait -- true)
all=("${root_jobs[@]}" "${nobody_jobs[@]}")
n_ok=0
for g in "${all[@]}" "$ended"; do [[ $g =~ ^[0-9]+$ ]] && n_ok=$((n_ok + 1)); done
is "$n_ok" 8 "8 jobs submitted from n1, n2, n3, as root and nobody" || diag "$(cat "$T_TMP/submit.err")"
sorted() { printf '%s\n' "$@" | sort -n | tr '\n' ' '; }
all_running() { local g; for g in "${all[@]}"; do job_state_is n1 "$g" S || return 1; done; }
check "they all run" wait_for 10 all_running

# --- every node lists every job, where it really runs ---------------------------
for n in n1 n2 n3; do
	run on "$n" sps -e --json
	is "$RC" 0 "sps -e --json on $n exits 0" || diag "$ERR"
	printf '%s' "$OUT" >"$T_TMP/sps-$n.json"
	# "gpid node pid user cmd" per job, sorted.
	perl -MJSON::PP -e '
		my $j = decode_json(do { local $/; <STDIN> }) or exit 1;
		print join("\t", @$_{qw(gpid node pid user cmd)}), "\n"
		    for sort { $a->{gpid} <=> $b->{gpid} } @$j;' <"$T_TMP/sps-$n.json" >"$T_TMP/rows-$n" 2>"$T_TMP/perl.err"
	is "$?" 0 "... its output is one JSON array" || diag "$(cat "$T_TMP/perl.err")" "$OUT"
	is "$(cut -f1 "$T_TMP/rows-$n" | tr '\n' ' ')" "$(sorted "${all[@]}")" "... it lists every running job of every user (and no ended one)"
	bad=0
	while IFS=$'\t' read -r g node pid user cmd; do
		real=$(on "$node" sh -c 'tr "\0" " " </proc/$1/cmdline' sh "$pid" </dev/null 2>/dev/null)
		[[ $real == "$cmd " ]] || { bad=1; diag "job $g: sps on $n says $node pid $pid ($cmd); /proc/$pid/cmdline on $node: '$real'"; }
	done <"$T_TMP/rows-$n"
	ok $bad "... each on the node and with the pid where it really runs (that node's /proc)"
done
is "$(cat "$T_TMP/rows-n2")" "$(cat "$T_TMP/rows-n1")" "sps on n2 shows the same nodes and pids as on n1"
is "$(cat "$T_TMP/rows-n3")" "$(cat "$T_TMP/rows-n1")" "sps on n3 shows the same nodes and pids as on n1"
is "$(awk -F'\t' -v g="${root_jobs[1]}" '$1 == g { print $2 }' "$T_TMP/rows-n1")" n2 "the job pinned to n2 shows on n2"
is "$(awk -F'\t' -v g="${nobody_jobs[0]}" '$1 == g { print $2 " " $4 }' "$T_TMP/rows-n1")" "n3 nobody" "nobody's job pinned to n3 shows on n3, user nobody"

# --- --json: every field, the right types --------------------------------------------
perl -MJSON::PP -e '
	my $j = decode_json(do { local $/; <STDIN> });
	my @want = sort qw(gpid node pid user state cpu rss_kb time cmd home moves name log exit);
	my $bad = 0;
	for my $r (@$j) {
		my @k = sort keys %$r;
		if ("@k" ne "@want") { print STDERR "keys: @k\n"; $bad = 1 }
		for (qw(gpid pid rss_kb time moves)) {
			$bad = 1, print STDERR "$_ = $r->{$_} not an int\n" unless defined $r->{$_} && $r->{$_} =~ /^\d+$/ && !ref $r->{$_};
		}
		$bad = 1, print STDERR "cpu $r->{cpu}\n" unless defined $r->{cpu} && $r->{cpu} =~ /^[\d.]+(e[-+]?\d+)?$/;
		$bad = 1, print STDERR "exit of a running job not null\n" if defined $r->{exit};
		$bad = 1, print STDERR "state $r->{state}\n" unless $r->{state} =~ /^[RSDTZ]$/;
	}
	exit $bad' <"$T_TMP/sps-n1.json" 2>"$T_TMP/perl.err"
ok $? "--json: each object has exactly the 14 fields, ints as numbers, exit null while running" || diag "$(cat "$T_TMP/perl.err")"
run python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert isinstance(j, list) and len(j) == 7' "$T_TMP/sps-n1.json"
is "$RC" 0 "--json parses with python3's json too" || diag "$ERR"
hj=$(on n2 sps -e --json "${root_jobs[0]}" </dev/null | json_get home)
is "$hj" n1 "--json: home of a job submitted on n1 is n1"
lj=$(on n2 sps -e --json "${root_jobs[3]}" </dev/null | json_get log)
is "$lj" "/var/lib/sshell/jobs/${root_jobs[3]}.log" "--json: log of a job submitted on n2 is STATEDIR/jobs/GPID.log"

# --- users: default, -e, -u ----------------------------------------------------------
run on n3 sps --no-headers -o gpid
is "$(sorted $OUT)" "$(sorted "${root_jobs[@]}")" "sps as root (no -e): root's running jobs only"
run on -u nobody n1 sps --no-headers -o gpid
is "$(sorted $OUT)" "$(sorted "${nobody_jobs[@]}")" "sps as nobody: nobody's running jobs only" || diag "$ERR"
run on -u nobody n2 sps -e --no-headers -o gpid
is "$(sorted $OUT)" "$(sorted "${all[@]}")" "sps -e as nobody: every user's jobs"
run on n1 sps -u nobody --no-headers -o gpid,user
is "$OUT" "$(printf '%s nobody\n' "${nobody_jobs[@]}" | sort -n)"$'\n' "sps -u nobody: nobody's jobs, user column nobody" || diag "$ERR"
run on n2 sps -u root --no-headers -o gpid
is "$(sorted $OUT)" "$(sorted "${root_jobs[@]}")" "sps -u root: root's jobs"

# --- -n NODE ---------------------------------------------------------------------------
for n in n1 n2 n3; do
	want=$(awk -F'\t' -v n=$n '$2 == n { print $1 }' "$T_TMP/rows-n1")
	run on n2 sps -e -n $n --no-headers -o gpid,node
	is "$(sorted $(awk '{ print $1 }' <<<"$OUT"))" "$(sorted $want)" "sps -e -n $n: the jobs on $n"
	unlike "$(awk '{ print $2 }' <<<"$OUT")" "n[^${n#n}]" "... and nothing on another node"
done

# --- -a ------------------------------------------------------------------------------------
run on n1 sps --no-headers -o gpid "$ended"
is "$OUT" "" "an ended job is not shown without -a (even by GPID)"
run on n3 sps -a --no-headers -o gpid,state,exit,node "$ended"
like "$OUT" "^$ended +done +0 +n2"$'\n$' "sps -a GPID on n3 shows the ended job: done, exit 0, ran on n2"
run on n2 sps -a -e --no-headers -o gpid,state
like " $(sorted $(awk '{ print $1 }' <<<"$OUT"))" " $ended " "sps -a -e lists it among the others"
is "$(awk 'NF && $2 != "done" { print $1 }' <<<"$OUT" | sort -n | tr '\n' ' ')" "$(sorted "${all[@]}")" "... with the 7 running jobs"

# --- -o, headers, GPID arguments -----------------------------------------------------------
run on n1 sps -o gpid,node,pid,user,state,cpu,rss_kb,time,cmd,home,moves,name,log,exit "${root_jobs[1]}"
is "$RC" 0 "sps -o with every field exits 0" || diag "$ERR"
hdr=$(head -n1 <<<"$OUT")
read -r -a h <<<"$hdr"
is "${#h[@]}" 14 "... a header of 14 columns: $hdr"
like "$(sed -n 2p <<<"$OUT")" "^${root_jobs[1]} +n2 +[0-9]+ +root +S +[0-9.]+ +[0-9]+ +[0-9]+ +sleep 102 +n1 +0 +/var/lib/sshell/jobs/${root_jobs[1]}.log *\$" "... the row: every field in order (empty name and exit)"
is "$(printf '%s' "$OUT" | wc -l)" 2 "... header and one row"
run on n1 sps
is "$(head -n1 <<<"$OUT" | tr -s ' ' | sed 's/ $//')" "GPID NODE PID USER STATE %CPU RSS TIME COMMAND" "default headers"
run on n1 sps --no-headers -o cmd "${root_jobs[2]}"
is "$OUT" $'sh -c sleep 103; :\n' "sps --no-headers -o cmd GPID: just the command"
run on n3 sps -e --no-headers -o gpid "${nobody_jobs[1]}" "${root_jobs[0]}"
is "$(sorted $OUT)" "$(sorted "${nobody_jobs[1]}" "${root_jobs[0]}")" "sps GPID GPID: just those jobs"
run on n1 sps -o nosuchfield
isnt "$RC" 0 "sps -o nosuchfield fails"
like "$ERR" '^sps: ' "... with a message on stderr starting with 'sps: '"

on n1 skill -e -KILL "${all[@]}" </dev/null >/dev/null 2>&1
on n1 skill -KILL "${all[@]}" </dev/null >/dev/null 2>&1
