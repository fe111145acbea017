#!/bin/bash
# 30-sshell.t: sshell on the 3-node local cluster, as a user sees it.
#
# Non-interactive: exit codes as sh -c (3, 137, 127 with sh's message),
# pipes when there is no terminal, @NODE pinning (hostname and the job's
# pid in that node's /proc), a pipeline with a redirection against
# /bin/sh -c, a script against `sh FILE` (variables, functions, for, if,
# a here-document, $(...), set -e), binary output and input byte for byte,
# a crontab-like run (env -i, no terminal) of sshell -c and ssubmit
# --unique (the migrate builtin: 42-migrate-io.t).  Interactive, in tmux:
# a command and its output, history after a restart, completion of a node
# name, Ctrl-C, Ctrl-Z / bg / jobs / fg, top.  Never a guessed sleep: every wait polls a condition.
. "$(dirname "$0")/lib.sh"
cluster_up 3

# --- exit status as sh -c ---------------------------------------------------
run on n1 sshell -c 'exit 3'
is "$RC" 3 "sshell -c 'exit 3' exits 3"
run on n1 sshell -c 'kill -9 $$'
is "$RC" 137 "sshell -c 'kill -9 \$\$' exits 137"
run on n1 sshell -c 'no-such-command-xyz arg'
is "$RC" 127 "an unknown command exits 127"
like "$ERR" 'sshell: no-such-command-xyz: command not found' \
    "... with 'sshell: NAME: command not found' on stderr"
run on n1 sshell -c 'true'
is "$RC" 0 "sshell -c true exits 0"
run on n1 sshell -c 'false
echo $?'
is "$OUT" $'1\n' "\$? is seeded from the last status"

run on n1 sshell -c 'echo "$0 $# $1"
set -- x "y z"
echo "$# $2"' myname 'a b' c
is "$OUT" $'myname 2 a b\n2 y z\n' "sshell -c LINE NAME ARG...: \$0, \$1..., and set -- kept across lines"

# --- builtins: the job gets sshell's cwd, umask and environment ------------------
run on n1 sshell -c 'cd /tmp
pwd
@n2 /bin/pwd
cd "$HOME"
cd -'
is "$OUT" $'/tmp\n/tmp\n/tmp\n' "cd changes the directory later jobs start in, on any node"
run on n1 sshell -c 'export SSHELL_T_VAR="a b"
@n3 printenv SSHELL_T_VAR
unset SSHELL_T_VAR
printenv SSHELL_T_VAR'
is "$OUT" $'a b\n' "export gives a variable to later jobs, unset takes it away"
is "$RC" 1 "... (printenv of an unset variable exits 1)"
run on n1 sh -c 'umask 027; sshell -c "@n2 sh -c umask"'
is "$OUT" $'0027\n' "a job gets sshell's umask"
run on n1 sshell -c '@n2 sh -c "exit 5" &
wait %1
echo "waited $?"'
is "$OUT" $'waited 5\n' "a background job and wait %1, which returns its status"
run on n1 sshell -c '@n3 sleep 300 &
kill %1
wait %1'
is "$RC" 143 "kill %1 signals a background job through skill (wait gives 143)"
run on n1 sshell -c 'nodes'
like "$OUT" 'n1.*'$'\n''.*n2.*'$'\n''.*n3' "nodes runs snodes"
run on n1 sshell -c 'ps -a -o gpid,cmd --no-headers'
like "$OUT" 'sleep 300' "ps runs sps (which shows the killed job with -a)"

# --- pipes, no terminal ---------------------------------------------------------
got=$(on n1 sshell -c 'seq 3' </dev/null | wc -l)
is "$got" 3 "sshell -c 'seq 3' | wc -l prints 3"

# --- @NODE ------------------------------------------------------------------------
for n in n1 n2 n3; do
	run on n1 sshell -c "@$n hostname"
	is "$OUT" "$n"$'\n' "@$n hostname prints $n"
done
# A job pinned to n2 runs in n2's pid space.
on n1 sshell -c '@n2 sleep 300' </dev/null >/dev/null 2>&1 &
bgpid=$!
find_job() { on n1 sps --no-headers -o gpid,node,pid,cmd </dev/null | awk '$4 == "sleep" && $5 == "300" { print $1, $2, $3; exit }' | grep -q .; }
if wait_for 20 find_job; then
	read -r gpid node pid < <(on n1 sps --no-headers -o gpid,node,pid,cmd </dev/null | awk '$4 == "sleep" && $5 == "300" { print $1, $2, $3; exit }')
	is "$node" n2 "@n2 sleep 300: sps shows it on n2"
	check "... and its pid $pid is in n2's /proc" pid_runs_on n2 "$pid"
	on n1 skill -KILL "$gpid" </dev/null >/dev/null 2>&1
else
	ok 1 "@n2 sleep 300 shows in sps"
	skip 1 "no job to look for"
fi
wait "$bgpid"
is "$?" 137 "sshell exits 137 when its job is killed by SIGKILL"

# --- a pipeline with a redirection, as /bin/sh -c -------------------------------
chmod 777 "$T_TMP"
line="seq 20 | grep 1 | sort -r > $T_TMP/p-sshell; wc -l < $T_TMP/p-sshell; echo \"\$HOME\" | tr a-z A-Z"
run on n1 sshell -c "$line"
s_out=$OUT s_rc=$RC
run on n1 /bin/sh -c "${line//p-sshell/p-sh}"
is "$s_out" "$OUT" "a pipeline with redirections prints what /bin/sh -c prints"
is "$s_rc" "$RC" "... and exits with the same status"
is "$(cat "$T_TMP/p-sshell")" "$(cat "$T_TMP/p-sh")" "... and writes the same file"

# --- a script, as sh FILE ----------------------------------------------------------
script=$T_TMP/script.sh
cat >"$script" <<'EOF'
#!/bin/sh
# variables, functions, loops, if, case, here-documents, $(...), set -e
x=5
name="two words"
echo "x=$x name=$name"
greet() {
	echo "hello $1 ($x)"
}
greet world
for i in 1 2 \
    3; do
	echo "i=$i"
done
if [ "$x" -gt 3 ]; then
	echo big
else
	echo small
fi
cat <<EOT
here $x and $name
EOT
d=$(echo computed on "$(hostname)" | wc -w)
echo "d=$d"
false || echo "or-branch"
echo "status $?"
case $x in
5) echo five ;;
*) echo other ;;
esac
x=$((x + 1))
echo "x now $x"
set -e
echo before
false
echo after
EOF
chmod 644 "$script"
run on n1 sshell "$script"
ss_out=$OUT ss_rc=$RC ss_err=$ERR
run on n1 sh "$script"
is "$ss_out" "$OUT" "sshell FILE prints what sh FILE prints"
is "$ss_rc" "$RC" "... and exits with the same status ($RC)"
is "$ss_err" "$ERR" "... and the same on stderr"
run on n1 sh -c "sshell < $script"
is "$OUT" "$ss_out" "the script piped into sshell gives the same output"

# What ends a sh script ends an sshell script, and nothing else does.
i=0
while IFS= read -r -d '' body; do
	i=$((i + 1))
	printf '%s\n' "$body" >"$T_TMP/end-$i.sh"
	chmod 644 "$T_TMP/end-$i.sh"
	run on n1 sshell "$T_TMP/end-$i.sh"
	ss_out=$OUT ss_rc=$RC ss_err=$ERR
	run on n1 sh "$T_TMP/end-$i.sh"
	is "$ss_out|$ss_rc" "$OUT|$RC" "script $i (${body%%$'\n'*}...): output and status as sh's"
	if ((RC < 128)); then
		is "$ss_err" "$ERR" "... and stderr"
	fi
done < <(printf '%s\0' \
    $'set -e\necho a\n[ -f /nonexistent ] && echo yes\necho "b $?"\nfalse || echo c\ntest -d /nonexistent || exit 7\necho never' \
    $'echo a\nkill -9 $$\necho never' \
    $'echo a >&2\nprintf "no newline" >&2\necho b\ncd /nonexistent-dir-x 2>/dev/null || exit 3\necho never' \
    $'x=1\n[ $x = 1 ] && exit 0\necho never')

# --- binary data, byte for byte --------------------------------------------------
big=$T_TMP/big.bin
head -c 10M /dev/urandom >"$big"
chmod 644 "$big"
want=$(sha256sum <"$big")
got=$(timeout 120 "$LCBIN" on n1 sshell -c "@n2 cat $big" </dev/null | sha256sum)
is "$got" "$want" "10 MiB of random bytes out of sshell -c, byte for byte"
got=$(timeout 120 "$LCBIN" on n1 sshell -c 'sha256sum' <"$big")
is "${got%% *}" "${want%% *}" "10 MiB piped into sshell -c sha256sum, byte for byte"

# --- cron: no terminal, an almost empty environment --------------------------------
cron() { on n1 env -i PATH="$BIN:/usr/bin:/bin" HOME=/root "$@"; }
run cron sshell -c 'echo from cron; exit 4'
is "$RC" 4 "cron-like sshell -c exits with the job's status"
is "$OUT" $'from cron\n' "... and prints its output"
run cron ssubmit --unique --name sshell-cron-t -- sleep 300
is "$RC" 0 "cron-like ssubmit --unique starts a job"
first=${OUT%$'\n'}
run cron ssubmit --unique --name sshell-cron-t -- sleep 300
is "$RC" 0 "... a second one while it runs exits 0"
is "${OUT%$'\n'}" "$first" "... printing the running job's GPID"
like "$ERR" "already running" "... and says so on stderr"
on n1 skill -KILL "$first" </dev/null >/dev/null 2>&1
wait_for 20 job_done n1 "$first"
run cron ssubmit --unique --name sshell-cron-t -- true
is "$RC" 0 "... after it ended, a new one starts"
isnt "${OUT%$'\n'}" "$first" "... with a new GPID"

# --- interactive, in tmux ------------------------------------------------------------
if ! command -v tmux >/dev/null; then
	skip 12 "tmux is not installed"
	exit 0
fi
home=$T_TMP/home
mkdir -p "$home"
start_sshell() {
	tm kill-server >/dev/null 2>&1
	tm new-session -d -x 100 -y 30 -s t \
	    "$LCBIN on n1 env HOME=$home TERM=xterm sshell"
	wait_for 20 at_prompt
}

check "interactive sshell shows its prompt" start_sshell
tm send-keys -t t 'echo hello-$((6 * 7))' Enter
check "a command's output appears" wait_for 20 screen_has '^hello-42$'
check "... and the prompt comes back" wait_for 20 at_prompt

tm send-keys -t t 'exit' Enter
start_sshell
tm send-keys -t t Up
check "history: Up after a restart recalls the last command" \
    wait_for 20 screen_has '[$#] exit$'
tm send-keys -t t Up
check "... and the one before it" wait_for 20 screen_has '[$#] echo hello-\$\(\(6 \* 7\)\)$'
tm send-keys -t t C-u

tm send-keys -t t '@n' Tab Tab
check "Tab after @n lists the nodes" wait_for 20 screen_has '@n1 +@n2 +@n3'
tm send-keys -t t '3' Tab 'hostname' Enter
check "... and completes @n3 (which runs hostname there)" \
    wait_for 20 screen_has '^n3$'

wait_for 20 at_prompt
tm send-keys -t t 'sleep 100' Enter
wait_for 20 screen_has '[$#] sleep 100$'
on n1 true	# a little time for the job to start is polled below
find_sleep() { on n1 sps --no-headers -o cmd </dev/null | grep -qx 'sleep 100'; }
wait_for 20 find_sleep
tm send-keys -t t C-c
check "Ctrl-C ends a remote sleep 100 and the prompt comes back" \
    wait_for 20 at_prompt
tm send-keys -t t 'echo "st=$?"' Enter
check "... and \$? is 130" wait_for 20 screen_has '^st=130$'

# Ctrl-C at the prompt is sshell's alone: the login wrapper it runs under
# (localcluster on) is in another process group and lives on, and so
# does sshell.
wait_for 20 at_prompt
tm send-keys -t t 'half a line' C-c
tm send-keys -t t 'echo "alive=$((6 * 7))"' Enter
check "Ctrl-C at the prompt drops the line, and sshell goes on" \
    wait_for 20 screen_has '^alive=42$'

wait_for 20 at_prompt
tm send-keys -t t 'sleep 100' Enter
wait_for 20 find_sleep
tm send-keys -t t C-z
check "Ctrl-Z stops the job: sshell reports it stopped" \
    wait_for 20 screen_has 'Stopped +sleep 100'
tm send-keys -t t 'bg' Enter
wait_for 20 screen_has 'sleep 100 &$'
tm send-keys -t t 'jobs' Enter
check "bg resumes it: jobs shows it running" \
    wait_for 20 screen_has 'Running +[0-9]+ +n[123] +sleep 100 &'
tm send-keys -t t 'fg' Enter
wait_for 20 screen_has '^sleep 100$'
tm send-keys -t t C-c
check "fg brings it back (Ctrl-C then ends it)" wait_for 20 at_prompt

wait_for 20 at_prompt
tm send-keys -t t 'clear' Enter
wait_for 20 at_prompt
tm send-keys -t t '@n3 sleep 200 &' Enter
wait_for 20 screen_has '^\[[0-9]+\] [0-9]+ n3$'
gp=$(screen | sed -n 's/^\[[0-9]*\] \([0-9]*\) n3$/\1/p' | tail -n 1)
tm send-keys -t t 'kill ' Tab Tab
check "Tab after kill lists the job's GPID $gp" wait_for 20 screen_has "(^| )$gp( |\$)"
tm send-keys -t t C-u 'kill %' Tab Enter
check "kill %N (completed) ends it" wait_for 20 screen_has 'Killed \(SIGTERM\) +sleep 200'

wait_for 20 at_prompt
tm send-keys -t t '@n2 sleep 1 &' Enter
check "a background job's end is reported at the prompt" \
    wait_for 20 screen_has '^\[[0-9]+\]\+? +Done +sleep 1$'
tm send-keys -t t 'for i in a b' Enter
check "an open for loop continues with a > prompt" wait_for 20 screen_has '^> ?$'
tm send-keys -t t 'do echo "it-$i"; done' Enter
check "... and runs as one job when closed" wait_for 20 screen_has '^it-b$'

tm send-keys -t t 'top' Enter
check "top draws a screen" wait_for 20 screen_has '^ *PID +USER'
tm send-keys -t t q
check "... and quits on q" wait_for 20 at_prompt
tm send-keys -t t 'exit' Enter
