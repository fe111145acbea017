#!/bin/bash
# Commands with quotes, newlines and UTF-8 in their arguments survive the
# round trip through ssubmit, the directory and sps unchanged: the job gets
# its argv exactly, and `sps --json -a GPID` shows cmd equal to the
# arguments joined by spaces, on every node.
. "$(dirname "$0")/lib.sh"
cluster_up 3

gpid_of() { local o=${OUT%$'\n'}; [[ $o =~ ^[0-9]+$ ]] && echo "$o" || echo 0; }
# cmd_is NODE GPID ARG...: sps --json -a GPID on NODE shows cmd = ARGs joined by spaces.
cmd_is() {
	local n=$1 g=$2
	shift 2
	on "$n" sps --json -a "$g" </dev/null >"$T_TMP/json" 2>"$T_TMP/json.err" || { cat "$T_TMP/json.err"; return 1; }
	perl -MJSON::PP -e '
		open my $f, "<", shift or die; my $t = do { local $/; <$f> };
		my $j = JSON::PP->new->utf8->decode($t);
		@$j == 1 or die "sps --json -a GPID gave " . scalar(@$j) . " rows\n";
		my $got = $j->[0]{cmd};
		utf8::encode($got);
		my $want = join " ", @ARGV;
		exit 0 if $got eq $want;
		printf "got:  %s\nwant: %s\n", map { my $s = $_; $s =~ s/([^\x20-\x7e])/sprintf "\\x%02x", ord $1/ge; $s } $got, $want;
		exit 1' "$T_TMP/json" "$@"
}

cases=(
	"printf|%s\n|a \"b\" c|x"$'\n'"y|héllo→✓"
	"printf|[%s]\n|it's|\\back\\slash|\$HOME \$(id) \`id\`|*|	tab	|"
	"printf|%s\n|--|-n|;|&&|>|<|#|~|日本語 🙂|"$'\x01\x7f'
)
i=0
for c in "${cases[@]}"; do
	i=$((i + 1))
	IFS='|' read -r -d '' -a args < <(printf '%s\0' "$c")
	for n in n1 n2; do
		run on n1 ssubmit -n $n --wait -- "${args[@]}"
		is "$RC" 0 "case $i on $n: ssubmit --wait exits 0" || diag "$ERR"
		g=$(gpid_of)
		want=$(printf "${args[1]}" "${args[@]:2}" | sha256sum)
		got=$(on n1 cat "$(sps_field n1 "$g" log)" </dev/null | sha256sum)
		is "$got" "$want" "... the job got exactly its arguments (its output is printf's, byte for byte)"
		for m in n1 n2 n3; do
			out=$(cmd_is $m "$g" "${args[@]}")
			ok $? "... sps --json -a on $m: cmd is the arguments joined by spaces" || diag "$out"
		done
	done
done

# A running job, without -a; and the table's cmd column for a one-line case.
run on n2 ssubmit -n n3 -- sh -c 'sleep 100; echo "«done»"' 'arg one' "it's"
g=$(gpid_of)
out=$(on n1 sps --json "$g" </dev/null | perl -MJSON::PP -e 'my $j = JSON::PP->new->utf8->decode(do { local $/; <STDIN> }); my $c = $j->[0]{cmd}; utf8::encode($c); print $c')
is "$out" "sh -c sleep 100; echo \"«done»\" arg one it's" "a running job: sps --json (no -a) on n1 shows its cmd exactly"
is "$(on n3 sps -e --no-headers -o cmd "$g" </dev/null)" "sh -c sleep 100; echo \"«done»\" arg one it's" "... and sps -o cmd on n3 prints it as is"
on n2 skill -KILL "$g" </dev/null
