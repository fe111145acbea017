#!/bin/bash
# 05-manpages.t: every manual page in man/ renders cleanly.
#
# For each page: man(1) formats it at 80 columns with warnings on and says
# nothing on stderr; the page is linted without a warning (mandoc -T lint
# when mandoc is installed, else groff's own warnings); its .Dt line names
# the file.  Every page man/man.mk installs exists.  Needs no cluster.
# MANLINT=groff uses groff even where mandoc is installed.
# Output is TAP, for prove(1).

set -u
cd "$(dirname "$0")/../.." || exit 1

n=0
failed=0
ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}
not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
	# The diagnostic, indented as TAP comments.
	[ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/#   /'
}
skip() {
	n=$((n + 1))
	echo "ok $n - $1 # SKIP $2"
}
check_empty() {		# check_empty DESCRIPTION OUTPUT
	if [ -z "$2" ]; then ok "$1"; else not_ok "$1" "$2"; fi
}

shopt -s nullglob
pages=(man/*.[1-9])
if [ ${#pages[@]} -eq 0 ]; then
	echo "1..1"
	not_ok "man/ holds manual pages"
	exit 1
fi

# MANLINT=groff forces the fallback linter, to test it where mandoc exists.
if [ "${MANLINT:-}" = groff ]; then
	linter=groff
elif command -v mandoc >/dev/null 2>&1; then
	linter=mandoc
elif command -v groff >/dev/null 2>&1; then
	linter=groff
else
	linter=
fi

# The pages man.mk installs, so that a page listed but missing is caught too.
listed=()
if [ -f man/man.mk ]; then
	listed=($(grep -o 'man/[A-Za-z0-9._-]*\.[1-9]' man/man.mk | sort -u))
fi

echo "1..$((${#pages[@]} * 3 + ${#listed[@]}))"

for p in "${listed[@]}"; do
	if [ -f "$p" ]; then ok "$p, listed in man.mk, exists"
	else not_ok "$p, listed in man.mk, exists"; fi
done

for p in "${pages[@]}"; do
	# 1. man(1), as a user would read it, with its warnings.
	if command -v man >/dev/null 2>&1; then
		out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l -E UTF-8 "$p" \
			2>&1 >/dev/null)
		check_empty "$p: man --warnings renders it silently" "$out"
	else
		skip "$p: man --warnings renders it silently" "no man(1)"
	fi

	# 2. The linter.
	case $linter in
	mandoc)
		out=$(mandoc -T lint -W warning "$p" 2>&1)
		check_empty "$p: mandoc -T lint finds no warning" "$out"
		;;
	groff)
		out=$(LC_ALL=C.UTF-8 groff -mandoc -ww -z "$p" 2>&1)
		check_empty "$p: groff -mandoc -ww finds no warning" "$out"
		;;
	*)
		skip "$p: lint" "neither mandoc nor groff installed"
		;;
	esac

	# 3. .Dt (or .TH) names the file: man/sps.1 is "SPS 1".
	base=${p##*/}
	want="${base%.*} ${base##*.}"
	got=$(sed -n -E 's/^\.(Dt|TH)[[:space:]]+("?)([^" ]+)\2[[:space:]]+([1-9]).*/\3 \4/p' "$p" |
		head -n 1)
	if [ "$(printf '%s' "$got" | tr '[:lower:]' '[:upper:]')" = \
	    "$(printf '%s' "$want" | tr '[:lower:]' '[:upper:]')" ]; then
		ok "$p: title is $got"
	else
		not_ok "$p: title names the file" "want '$want', got '$got'"
	fi
done

[ $failed -eq 0 ]
