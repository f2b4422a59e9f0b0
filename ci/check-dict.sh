#!/bin/sh
# Checks that libFuzzer takes every entry of a dictionary. It refuses a file
# with a line it cannot parse, and counts but then silently ignores an entry
# longer than 64 bytes; so the count it prints must equal the file's entries,
# and no entry may be longer than 64 bytes.
# Usage: ci/check-dict.sh FUZZ_BINARY DICT_FILE
#   FUZZ_BINARY must be a libFuzzer build (ci/build.sh fuzz TARGET).
set -u
bin=${1:?usage: ci/check-dict.sh FUZZ_BINARY DICT_FILE}
dict=${2:?usage: ci/check-dict.sh FUZZ_BINARY DICT_FILE}

[ -x "$bin" ] || { echo "check-dict: $bin is not an executable" >&2; exit 1; }
[ -r "$dict" ] || { echo "check-dict: cannot read $dict" >&2; exit 1; }

# libFuzzer's rule: a line that is blank or whose first non-space character
# is '#' is not an entry; every other line must be one.
want=$(grep -c -v -E '^[[:space:]]*(#|$)' "$dict")

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lse_dict.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

mkdir "$tmp/corpus" || exit 1
"$bin" -dict="$dict" -runs=0 "$tmp/corpus" >"$tmp/log" 2>&1
rc=$?
got=$(sed -n 's/^Dictionary: \([0-9][0-9]*\) entries$/\1/p' "$tmp/log" | head -n 1)

if [ -z "$got" ]; then
	echo "check-dict: $bin printed no 'Dictionary: N entries' for $dict (exit $rc):" >&2
	grep -i -E 'dict|error' "$tmp/log" >&2 || tail -n 20 "$tmp/log" >&2
	exit 1
fi
if [ "$got" -ne "$want" ]; then
	echo "check-dict: $dict has $want entries but libFuzzer loaded $got" >&2
	exit 1
fi
# Decoded length of each entry: \xNN, \\ and \" are one byte each.
long=$(awk '
/^[[:space:]]*(#|$)/ { next }
{
	s = $0
	sub(/[[:space:]]+$/, "", s)
	v = substr(s, index(s, "\"") + 1)
	v = substr(v, 1, length(v) - 1)
	for (n = 0; v != ""; n++) {
		if (v ~ /^\\x[0-9A-Fa-f][0-9A-Fa-f]/)
			v = substr(v, 5)
		else if (v ~ /^\\/)
			v = substr(v, 3)
		else
			v = substr(v, 2)
	}
	if (n > 64)
		printf "  line %d: %d bytes\n", NR, n
}' "$dict")
if [ -n "$long" ]; then
	echo "check-dict: $dict has entries over 64 bytes, which libFuzzer ignores:" >&2
	echo "$long" >&2
	exit 1
fi
if [ "$rc" -ne 0 ]; then
	echo "check-dict: $bin exited $rc:" >&2
	tail -n 20 "$tmp/log" >&2
	exit 1
fi
echo "check-dict: $dict: $got entries, all loaded"
