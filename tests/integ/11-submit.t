#!/bin/bash
# ssubmit: prints only the GPID; --wait exits with the job's status (128+N
# for signal N); the job's output is in its log byte for byte, binary
# included; the job gets the submitter's cwd, umask and environment, exactly
# fds 0 1 2, and $$ is its pid in its own PID namespace.
. "$(dirname "$0")/lib.sh"
cluster_up 3

# --- the GPID alone ----------------------------------------------------------
run on n1 ssubmit -- true
is "$RC" 0 "ssubmit -- true exits 0"
like "$OUT" $'^[0-9]+\n$' "ssubmit prints only the GPID: one line of digits"
is "$ERR" "" "... and nothing on stderr"
gpid=${OUT%$'\n'}
like "$gpid" '^[0-9]+001$' "a job born on n1 has a GPID ending in 001"
run on n2 ssubmit -n n3 -- true
like "$OUT" $'^[0-9]+002\n$' "a job submitted on n2 (running on n3): GPID ending in 002" || diag "rc $RC: $ERR"

# --- --wait: exit code and signals ------------------------------------------
for n in n1 n2; do
	run on n1 ssubmit --wait -n $n -- sh -c 'exit 3'
	is "$RC" 3 "ssubmit --wait, job on $n exits 3: ssubmit exits 3" || diag "$ERR"
	like "$OUT" $'^[0-9]+\n$' "... and prints only the GPID"
	g=${OUT%$'\n'}
	is "$(sps_field n1 "$g" exit)" 3 "... sps -a -o exit shows 3"
	run on n1 ssubmit --wait -n $n -- sh -c 'kill -9 $$'
	is "$RC" 137 "ssubmit --wait, job on $n killed by SIGKILL: exits 137" || diag "$ERR"
	g=${OUT%$'\n'}
	is "$(sps_field n1 "$g" exit)" 137 "... sps -a -o exit shows 137"
	run on n1 ssubmit --wait -n $n -- true
	is "$RC" 0 "ssubmit --wait -- true on $n exits 0"
done
run on n1 ssubmit --wait -- sh -c 'kill -TERM $$'
is "$RC" 143 "ssubmit --wait: a job ended by SIGTERM gives 143"

# --- output, byte for byte -----------------------------------------------------
data=$T_TMP/data.bin
{ head -c 1048576 /dev/urandom; printf '\0\n\r\377 end without newline'; } >"$data"
chmod 644 "$data"
want=$(sha256sum <"$data")
for n in n1 n2 n3; do
	run on n1 ssubmit --wait -n $n -- cat "$data"
	is "$RC" 0 "job cat of 1 MiB of random bytes on $n: exit 0" || diag "$ERR"
	g=${OUT%$'\n'}
	log=$(sps_field n1 "$g" log)
	like "$log" '^/var/lib/sshell/jobs/' "... its log is under /var/lib/sshell/jobs"
	got=$(on n1 cat "$log" </dev/null | sha256sum)
	is "$got" "$want" "... the log on the home node n1 has the output byte for byte"
	# -o FILE
	out=$T_TMP/out-$n.log
	run on n1 ssubmit --wait -n $n -o "$out" -- cat "$data"
	is "$RC" 0 "ssubmit -o $out on $n: exit 0" || diag "$ERR"
	g=${OUT%$'\n'}
	is "$(sps_field n1 "$g" log)" "$out" "... sps -o log shows $out"
	is "$(sha256sum <"$out" 2>/dev/null)" "$want" "... which has the output byte for byte"
done
# -o relative to ssubmit's cwd; stdout and stderr both in it.
mkdir -p "$T_TMP/rel" && chmod 777 "$T_TMP/rel"
run on n1 sh -c 'cd "$1" && ssubmit --wait -n n2 -o rel.log -- sh -c "echo out; echo err >&2"' sh "$T_TMP/rel"
is "$RC" 0 "ssubmit -o rel.log (relative) exits 0"
is "$(sort "$T_TMP/rel/rel.log" 2>/dev/null | tr '\n' ' ')" "err out " "... stdout and stderr in the file, relative to ssubmit's cwd"
# a job that writes a lot of small pieces, and then ends at once
run on n1 ssubmit --wait -n n3 -- sh -c 'i=0; while [ $i -lt 2000 ]; do echo "line $i"; i=$((i+1)); done'
g=${OUT%$'\n'}
is "$(on n1 cat "$(sps_field n1 "$g" log)" </dev/null | sha256sum)" \
	"$(i=0; while [ $i -lt 2000 ]; do echo "line $i"; i=$((i+1)); done | sha256sum)" \
	"2000 lines written just before the end are all in the log, in order"

# --- cwd, umask, environment -----------------------------------------------------
wd="$T_TMP/a dir with spaces"
mkdir -p "$wd" && chmod 755 "$wd"
for n in n1 n2; do
	run on n1 sh -c 'cd "$1" && umask 027 && SSHELL_T_VAR="v a\"l'"'"'ue é" && export SSHELL_T_VAR &&
		exec ssubmit --wait -n "$2" -- sh -c "pwd; umask; printf \"%s\n\" \"\$SSHELL_T_VAR\""' sh "$wd" $n
	is "$RC" 0 "environment job on $n exits 0" || diag "$ERR"
	g=${OUT%$'\n'}
	log=$(on n1 cat "$(sps_field n1 "$g" log)" </dev/null)
	is "$log" "$wd"$'\n'"0027"$'\n'"v a\"l'ue é" "job on $n sees the submitter's cwd, umask 027 and exported variable"
done

# --- exactly fds 0, 1, 2 ----------------------------------------------------------
for n in n1 n3; do
	run on n1 ssubmit --wait -n $n -- sh -c 'ls /proc/$$/fd'
	g=${OUT%$'\n'}
	log=$(on n1 cat "$(sps_field n1 "$g" log)" </dev/null)
	is "$log" $'0\n1\n2' "job on $n: ls /proc/\$\$/fd inside the job lists exactly 0 1 2"
	# The same seen from the node: the job's process in that node's /proc.
	run on n1 ssubmit -n $n -- sh -c 'echo $$; exec sleep 100'
	g=${OUT%$'\n'}
	check "... a sleeping job on $n starts" wait_for 10 job_state_is n1 "$g" S
	pid=$(sps_field n1 "$g" pid)
	fds=$(on $n ls /proc/"$pid"/fd </dev/null | tr '\n' ' ')
	is "$fds" "0 1 2 " "... and $n's /proc/PID/fd of a job's process lists exactly 0 1 2"
	# $$ is its pid in its own namespace: the last NSpid field on the node.
	nspid=$(on $n awk '/^NSpid:/ { print $NF }' /proc/"$pid"/status </dev/null)
	nslevels=$(on $n awk '/^NSpid:/ { print NF - 1 }' /proc/"$pid"/status </dev/null)
	self=$(on n1 cat "$(sps_field n1 "$g" log)" </dev/null)
	is "$nslevels" 2 "... the job is in a PID namespace of its own below the node's"
	is "$self" "$nspid" "... \$\$ inside it ($self) is its pid in that namespace"
	like "$self" '^[2-9]$' "... a small pid"
	on n1 skill -KILL "$g" </dev/null
done
