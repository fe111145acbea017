#!/bin/bash
# skill: GPID from another node reaches the whole job (its process group) and
# the exit signal is recorded; -s / -SIG; -c NAME, -u USER, -n NODE; another
# user's job is refused and not touched.
. "$(dirname "$0")/lib.sh"
cluster_up 3

gpid_of() { local o=${OUT%$'\n'}; [[ $o =~ ^[0-9]+$ ]] && echo "$o" || echo 0; }
# sleeps_of NODE PID: pids of the "sleep 100" children of PID on NODE.
sleeps_of() {
	on "$1" sh -c 'for d in /proc/[0-9]*; do
		[ "$(awk "/^PPid:/ { print \$2 }" $d/status 2>/dev/null)" = "$1" ] || continue
		[ "$(tr "\0" " " <$d/cmdline 2>/dev/null)" = "sleep 100 " ] && echo ${d#/proc/}
	done' sh "$2" </dev/null 2>/dev/null
}
two_sleeps() { [[ $(sleeps_of "$1" "$2" | wc -l) == 2 ]]; }
none_left() { local p; for p in "${@:2}"; do pid_runs_on "$1" "$p" && return 1; done; return 0; }
running() { job_state_is n1 "$1" S || job_state_is n1 "$1" R; }
states() { on n1 sps -a -e --no-headers -o gpid,node,pid,user,state,exit,cmd "$@" </dev/null 2>&1; }

# --- skill GPID from another node: the whole job --------------------------------
for sig in TERM KILL; do
	run on n1 ssubmit -n n2 -- sh -c 'sleep 100 & sleep 100; wait'
	g=$(gpid_of)
	pid=$(sps_field n1 "$g" pid)
	check "job $g on n2: its two sleeps run in n2's /proc" wait_for 10 two_sleeps n2 "$pid"
	sl=($(sleeps_of n2 "$pid"))
	if [[ $sig == TERM ]]; then run on n3 skill "$g"; want=143; else run on n3 skill -KILL "$g"; want=137; fi
	is "$RC" 0 "skill $([[ $sig == KILL ]] && echo '-KILL ')$g on n3 exits 0" || diag "$ERR"
	check "... both sleeps (${sl[*]}) are gone from n2's /proc" wait_for 10 none_left n2 "${sl[@]}"
	check "... and the job's sh ($pid) too" wait_for 10 pid_gone_on n2 "$pid"
	check "... the job is done" wait_for 10 job_done n1 "$g"
	is "$(sps_field n3 "$g" exit)" "$want" "... sps -a -o exit shows $want (SIG$sig)"
done
run on n1 ssubmit -n n3 -- sleep 100
g=$(gpid_of)
check "a sleep job on n3 runs" wait_for 10 running "$g"
run on n2 skill -s INT "$g"
is "$RC" 0 "skill -s INT from n2 exits 0" || diag "$ERR"
check "... the job ends" wait_for 10 job_done n1 "$g"
is "$(sps_field n2 "$g" exit)" 130 "... exit 130"
run on n2 skill 999999001
isnt "$RC" 0 "skill of a GPID that does not exist fails"
like "$ERR" '^skill: ' "... saying so on stderr"

# --- another user's job: refused, untouched -------------------------------------
run on n1 ssubmit -n n3 -- sleep 100
g=$(gpid_of)
check "root's job $g on n3 runs" wait_for 10 running "$g"
pid=$(sps_field n1 "$g" pid)
run on -u nobody n2 skill "$g"
isnt "$RC" 0 "skill GPID as nobody on n2, root's job: exits non-zero"
like "$ERR" '^skill: .*([Pp]ermission|[Nn]ot permitted)' "... with a permission message"
run on -u nobody n1 skill -KILL "$g"
isnt "$RC" 0 "skill -KILL GPID as nobody on n1 also refused"
run on -u nobody n3 skill -u root
# -u of another user as nobody: refused or a no-op, never a kill.
check "... root's job still runs (state)" running "$g"
check "... and its pid $pid is still in n3's /proc" pid_runs_on n3 "$pid"
on n1 skill -KILL "$g" </dev/null

# --- -c NAME ------------------------------------------------------------------------------
sl=() ; other=()
for n in n1 n2 n3; do
	run on n2 ssubmit -n $n -- sleep 100; sl+=("$(gpid_of)")
	run on n2 ssubmit -n $n -- tail -f /dev/null; other+=("$(gpid_of)")
done
all_run() { local g; for g in "$@"; do running "$g" || return 1; done; }
check "three sleep and three tail jobs run" wait_for 10 all_run "${sl[@]}" "${other[@]}"
run on n3 skill -c sleep
is "$RC" 0 "skill -c sleep on n3 exits 0" || diag "$ERR"
all_done() { local g; for g in "$@"; do job_done n1 "$g" || return 1; done; }
check "... the three sleep jobs end" wait_for 10 all_done "${sl[@]}"
check "... the tail jobs still run" all_run "${other[@]}" || diag "$(states "${other[@]}")"

# --- -n NODE ---------------------------------------------------------------------------------
run on n1 skill -s KILL -n n2
is "$RC" 0 "skill -s KILL -n n2 exits 0" || diag "$ERR"
check "... the tail job on n2 ends" wait_for 10 job_done n1 "${other[1]}"
check "... those on n1 and n3 still run" all_run "${other[0]}" "${other[2]}" || diag "$(states "${other[@]}")"
is "$(sps_field n1 "${other[1]}" exit)" 137 "... exit 137"

# --- -u USER ---------------------------------------------------------------------------------
nb=()
for n in n1 n2 n3; do run on -u nobody n1 ssubmit -n $n -- sleep 100; nb+=("$(gpid_of)"); done
check "nobody's three jobs run" wait_for 10 all_run "${nb[@]}"
run on n2 skill -u nobody
is "$RC" 0 "skill -u nobody as root exits 0" || diag "$ERR"
check "... nobody's jobs end" wait_for 10 all_done "${nb[@]}"
check "... root's jobs still run" all_run "${other[0]}" "${other[2]}" || diag "$(states "${other[@]}")"
nb=()
for n in n1 n3; do run on -u nobody n2 ssubmit -n $n -- sleep 100; nb+=("$(gpid_of)"); done
check "nobody's two new jobs run" wait_for 10 all_run "${nb[@]}"
run on -u nobody n3 skill -u nobody
is "$RC" 0 "skill -u nobody as nobody exits 0" || diag "$ERR"
check "... nobody's jobs end" wait_for 10 all_done "${nb[@]}"
check "... root's jobs still run" all_run "${other[0]}" "${other[2]}" || diag "$(states "${other[@]}")"
run on n1 skill -u root
check "skill -u root as root ends root's jobs" wait_for 10 all_done "${other[0]}" "${other[2]}"
