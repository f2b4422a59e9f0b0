#!/usr/bin/env bash
# What one input does, in words: `make explain FILE=path [TARGET=name]`.
# The target is inferred as `make repro` infers it (ci/repro.sh, REPRO_WHICH),
# and runs the input in its explain mode (LSE_EXPLAIN=1, harness/trace.h):
# the settings its header bytes chose, each operation with the session's
# answer, each connection's stream as frames, and the model's answer beside
# the actual one with the first difference. A sanitizer report, if any,
# follows the last operation it interrupted.
# Usage: ci/explain.sh FILE [TARGET]
# Env: EXPLAIN_BIN=dir: take the target from dir (a standalone build's
#      harness/), building nothing (ctest explain_corpus); otherwise
#      ci/build.sh asan builds it into build/asan/harness/.
# Exits with the target's status: 0 if the input ran clean, non-zero if it
# failed (the account says where), 2 on a usage error.
set -euo pipefail

file=${1:-}
target=${2:-}
[ -n "$file" ] || { echo "usage: make explain FILE=path [TARGET=name]  (or ci/explain.sh FILE [TARGET])" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
target=$(REPRO_WHICH=1 "$root/ci/repro.sh" "$file" "$target") || exit 2
abs=$(cd "$(dirname -- "$file")" && pwd)/$(basename -- "$file")

if [ -n "${EXPLAIN_BIN:-}" ]; then
	bin=$EXPLAIN_BIN/$target
else
	log=$(mktemp)
	trap 'rm -f "$log"' EXIT
	(cd "$root" && ci/build.sh asan "$target") >"$log" 2>&1 || { cat "$log" >&2; exit 2; }
	bin=$root/build/asan/harness/$target
fi
[ -x "$bin" ] || { echo "explain.sh: no $bin" >&2; exit 2; }

export ASAN_OPTIONS="symbolize=1:detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:symbolize=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
echo "explain.sh: $target on $file ($(wc -c <"$abs") bytes)"
# The status through a file: the shell's own "Aborted" notice goes nowhere.
st=$(mktemp)
{ LSE_EXPLAIN=1 "$bin" "$abs" 2>&1; echo $? >"$st"; } 2>/dev/null | grep -v '^standalone: [0-9]* inputs ran$' || true
rc=$(cat "$st")
rm -f "$st"
if [ "$rc" = 0 ]; then
	echo "explain.sh: the input runs clean"
else
	echo "explain.sh: the input fails ($target exited with status $rc): the account stops where it failed"
fi
exit "$rc"
