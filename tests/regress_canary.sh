#!/usr/bin/env bash
# ctest regress_canary: the crash-to-regression loop on a real crash.
# In a scratch copy of the tree with canary 01 applied, `make regress` runs on
# a committed crash input of that canary, named as ClusterFuzz names test
# cases. It must infer the target from that name, minimize the input to no
# more than its original size, and file it as
# corpus/regressions/<target>/<kind>-<first 8 hex of its sha1>. The filed
# input must still reproduce in the canary tree (make repro fails) and run
# clean in the shipped code (the standalone target given as $1).
# Usage: tests/regress_canary.sh SHIPPED_FUZZ_SESSION_BINARY
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shipped=${1:?usage: regress_canary.sh SHIPPED_FUZZ_SESSION_BINARY}
fail() { echo "regress_canary: FAIL: $*" >&2; exit 1; }
name=clusterfuzz-testcase-fuzz_session-4617230117355520
input=$root/tests/data/$name
tmp=$(mktemp -d /tmp/lse-regress.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
tree=$tmp/tree
mkdir -p "$tree"
for p in src harness tests corpus dict ci docs CMakeLists.txt Makefile; do cp -r "$root/$p" "$tree/"; done
rm -rf "$tree"/corpus/regressions/fuzz_session
patch -s -p1 -d "$tree" -i "$root/ci/canaries/01-echo-overflow.patch"
cp "$input" "$tmp/$name"

(cd "$tree" && MINIMIZE_RUNS=5000 make -s regress FILE="$tmp/$name") >"$tmp/regress.log" 2>&1 ||
	{ cat "$tmp/regress.log"; fail "make regress failed"; }
cat "$tmp/regress.log"
dest=$(sed -n 's/^regress.sh: kept as \([^;]*\);.*/\1/p' "$tmp/regress.log")
[ -n "$dest" ] || fail "make regress did not say where it kept the input"
[[ $dest =~ ^corpus/regressions/fuzz_session/[a-z0-9-]+-([0-9a-f]{8})$ ]] ||
	fail "kept as '$dest': not corpus/regressions/fuzz_session/<kind>-<sha8>"
kept=$tree/$dest
[ -f "$kept" ] || fail "$dest is not there"
[ "$(sha1sum "$kept" | cut -c1-8)" = "${BASH_REMATCH[1]}" ] || fail "$dest: the name is not its content's hash"
[ "$(find "$tree/corpus/regressions/fuzz_session" -type f | wc -l)" = 1 ] || fail "more than one file was filed"
orig=$(wc -c <"$input") min=$(wc -c <"$kept")
[ "$min" -le "$orig" ] || fail "minimized to $min bytes, larger than the original $orig"
grep -q 'regress.sh: fuzz_session fails: .*|' "$tmp/regress.log" || fail "no failure signature was reported"
grep -q '  git add corpus/regressions/fuzz_session/' "$tmp/regress.log" || fail "no git add line"
rc=0
(cd "$tree" && ci/repro.sh "$kept") >"$tmp/repro.log" 2>&1 || rc=$?
[ "$rc" != 0 ] || { cat "$tmp/repro.log"; fail "the filed input does not reproduce in the canary tree"; }
"$shipped" "$kept" >"$tmp/shipped.log" 2>&1 || { cat "$tmp/shipped.log"; fail "the filed input fails the shipped code"; }
echo "regress_canary: ok: $orig -> $min bytes, filed as $dest, reproduces (exit $rc) with the canary, clean without"
