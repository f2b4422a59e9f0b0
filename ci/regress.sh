#!/usr/bin/env bash
# make minimize / make regress: shrink a failing input, check that it still
# fails the same way, and (regress) keep it in corpus/regressions/ forever.
# Usage: ci/regress.sh minimize|regress FILE [TARGET]
# The target is inferred as make repro does. Minimizing uses libFuzzer's
# -minimize_crash=1, or afl-tmin (on the AFL++ ASan build) for an AFL++
# input: a file named id:... or under build/afl-work/ (MINIMIZE_ENGINE=afl or
# libfuzzer forces one). Both engines read the same input format, so the
# check runs the libFuzzer build either way. "The same way" means the same
# kind of report (the sanitizer's ERROR line, UBSan's runtime error or the
# oracle's message) and the same top frame.
# Env: MINIMIZE_RUNS=20000 (libFuzzer -runs per minimizing step),
#      REGRESS_DIR=corpus/regressions (where regress files the result).
set -euo pipefail
die() { echo "regress.sh: $*" >&2; exit 2; }
verb=${1:-}
file=${2:-}
[[ $verb == minimize || $verb == regress ]] || die "usage: ci/regress.sh minimize|regress FILE [TARGET]"
[ -f "$file" ] || die "no such file: ${file:-<none>} (usage: make $verb FILE=path [TARGET=name])"
abs=$(cd "$(dirname -- "$file")" && pwd)/$(basename -- "$file")
cd "$(dirname "$0")/.."
target=$(REPRO_WHICH=1 ci/repro.sh "$abs" "${3:-}") || exit $?
ci/build.sh fuzz "$target" >/dev/null
bin=build/fuzz/harness/$target
work=build/regress/$target
mkdir -p "$work"
export ASAN_OPTIONS="symbolize=1:detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:symbolize=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

# "kind|top frame" of a failing run, or nothing if it passes.
signature() {
	local log=$work/run.log
	if "$bin" -runs=1 "$1" >"$log" 2>&1; then
		return 0
	fi
	kind=$(grep -m1 -o -E 'ERROR: [A-Za-z]+Sanitizer: [a-z-]+|runtime error: [a-z -]+|lsecho oracle: .*|Assertion `.*. failed|ERROR: libFuzzer: [a-z -]+' "$log" |
		sed -E 's/^Assertion .*/assertion failed/' || echo unknown)
	# The top frame in lsecho's own code (src/, harness/, tests/).
	frame=$(grep -m1 -E '^ *#[0-9]+ .* in [^ ]+ [^ ]*/(src|harness|tests)/[^ ]+\.c' "$log" |
		sed -E 's/.* in ([^ ]+) .*/\1/' || true)
	echo "$kind|${frame:-?}"
}

before=$(signature "$abs")
[ -n "$before" ] || die "$file does not fail with $target: nothing to minimize"
echo "regress.sh: $target fails: $before"
engine=${MINIMIZE_ENGINE:-}
if [ -z "$engine" ]; then
	engine=libfuzzer
	[[ $(basename -- "$abs") == id:* || $abs == */afl-work/* ]] && engine=afl
fi
out=$work/minimized-$(basename -- "$abs" | tr ':,' '__')
rm -f "$out"
echo "regress.sh: minimizing with $engine (log: $work/minimize.log)"
case $engine in
libfuzzer)
	"$bin" -minimize_crash=1 -runs="${MINIMIZE_RUNS:-20000}" -exact_artifact_path="$out" "$abs" \
		>"$work/minimize.log" 2>&1 || true ;;
afl)
	ci/deps.sh afl >/dev/null || die "afl-tmin needs AFL++ (ci/deps.sh afl installs it)"
	ci/build.sh afl "$target" >/dev/null
	# afl-tmin sees the crash and minimizes in crash mode; it insists on
	# sanitizers that abort and do not symbolize.
	ASAN_OPTIONS=abort_on_error=1:symbolize=0:detect_leaks=1 \
	UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:symbolize=0 AFL_QUIET=1 \
		afl-tmin -i "$abs" -o "$out" -m none -t 5000 -- build/afl/harness/"$target" \
		>"$work/minimize.log" 2>&1 || die "afl-tmin failed; the end of $work/minimize.log:
$(tail -5 "$work/minimize.log")" ;;
*) die "MINIMIZE_ENGINE must be libfuzzer or afl, not '$engine'" ;;
esac
[ -s "$out" ] || cp "$abs" "$out"   # nothing smaller found: keep the original
after=$(signature "$out")
[ "$after" = "$before" ] || die "the minimized input fails differently: '$after' (was '$before'); kept $out"
echo "regress.sh: minimized $(wc -c <"$abs") -> $(wc -c <"$out") bytes, same failure: $out"
[ "$verb" = regress ] || exit 0

kind=$(printf '%s' "${before%%|*}" | sed -E 's/^(ERROR: |lsecho )//; s/[^A-Za-z0-9]+/-/g; s/^-+|-+$//g' | tr 'A-Z' 'a-z' | cut -c1-40)
regdir=${REGRESS_DIR:-corpus/regressions}
dest=$regdir/$target/$kind-$(sha1sum "$out" | cut -c1-8)
mkdir -p "$regdir/$target"
cp "$out" "$dest"
echo "regress.sh: kept as $dest; make test replays it from now on. To commit it:"
echo "  git add $dest"
