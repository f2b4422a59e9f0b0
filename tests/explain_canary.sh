#!/usr/bin/env bash
# ctest explain_canary: the account of a real bug's failure names where the
# answers part. In a scratch copy of the tree with canary 07 applied (a
# second HELLO of the wrong length judged malformed, code 5, before
# duplicate, code 7), fuzz_session is built and `make explain` (ci/explain.sh)
# runs an input that sends HELLO(100) then a HELLO header of length 5. The
# model answers WELCOME(100) then ERROR(code 7), the canary ERROR(code 5):
# the first difference is frame 1, byte 9 (the code). The same input, in
# the shipped code (SHIPPED_FUZZ_SESSION), runs clean and says so.
# Usage: tests/explain_canary.sh SHIPPED_FUZZ_SESSION C_COMPILER
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shipped=${1:?usage: explain_canary.sh SHIPPED_FUZZ_SESSION C_COMPILER}
cc=${2:?usage: explain_canary.sh SHIPPED_FUZZ_SESSION C_COMPILER}
fail() { [ ! -f "$tmp/explain.log" ] || cat "$tmp/explain.log"; echo "explain_canary: FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d /tmp/lse-explain.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
tree=$tmp/tree
mkdir -p "$tree" "$tmp/fuzz_session"
for p in src harness tests ci docs cmake bench contrib dict CMakeLists.txt; do
	[ -e "$root/$p" ] && cp -r "$root/$p" "$tree/"
done
patch -s -p1 -d "$tree" -i "$root/ci/canaries/07-hello-check-order.patch"
gen=Ninja
command -v ninja >/dev/null 2>&1 || gen="Unix Makefiles"
cmake -G "$gen" -Wno-dev -S "$tree" -B "$tree/b" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=Debug \
	-DLSE_FUZZ_ENGINE=standalone -DLSE_WERROR=OFF >"$tmp/build.log" 2>&1 &&
	cmake --build "$tree/b" --target fuzz_session >>"$tmp/build.log" 2>&1 ||
	{ cat "$tmp/build.log"; fail "the canary tree does not build"; }

# Stream: HELLO(100), a HELLO header of length 5. Schedule (read from the
# back): flags 0x00 (limit 65536), then END.
in=$tmp/fuzz_session/dup-hello-len5
printf 'LE\001\001\000\000\000\004\000\000\000\144LE\001\001\000\000\000\005\003\000' >"$in"

rc=0
EXPLAIN_BIN=$tree/b/harness "$root/ci/explain.sh" "$in" >"$tmp/explain.log" 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "the canary ran the input clean"
grep -q '^explain.sh: fuzz_session on ' "$tmp/explain.log" || fail "the target was not inferred from the path"
grep -q '^the connection: first difference: frame 1, byte 9 of it (offset 21)' "$tmp/explain.log" ||
	fail "the account does not name frame 1, byte 9 as the first difference"
grep -q '^  frame 1 @12: ERROR(code 7, "duplicate HELLO")$' "$tmp/explain.log" || fail "no model ERROR(code 7)"
grep -q '^  frame 1 @12: ERROR(code 5, "malformed HELLO")$' "$tmp/explain.log" || fail "no actual ERROR(code 5)"
grep -q '^lsecho oracle: ' "$tmp/explain.log" || fail "no oracle message after the account"
cat "$tmp/explain.log"

EXPLAIN_BIN=$(dirname "$shipped") "$root/ci/explain.sh" "$in" >"$tmp/explain.log" 2>&1 ||
	fail "the shipped code fails the input"
grep -q '^the connection: the answer is the model.s$' "$tmp/explain.log" || fail "the shipped account has no verdict"
echo "explain_canary: ok: canary 07's failure located at frame 1, byte 9; the shipped code answers as the model"
