#!/usr/bin/env bash
# make minimize / make regress: shrink a failing input, check that it still
# fails the same way, and (regress) keep it in corpus/regressions/ forever.
# Usage: ci/regress.sh minimize|regress FILE [TARGET]
# The target is inferred as make repro does. Minimizing uses libFuzzer's
# -minimize_crash=1 (the formats are the engines' common one, so AFL++
# finds minimize the same way). "The same way" means the same kind of report
# (the sanitizer's ERROR line, UBSan's runtime error or the oracle's message)
# and the same top frame.
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
	kind=$(grep -m1 -o -E 'ERROR: [A-Za-z]+Sanitizer: [a-z-]+|runtime error: [a-z -]+|lsecho oracle: .*|ERROR: libFuzzer: [a-z-]+' "$log" || echo unknown)
	# The top frame in lsecho's own code (src/, harness/, tests/).
	frame=$(grep -m1 -E '^ *#[0-9]+ .* in [^ ]+ [^ ]*/(src|harness|tests)/[^ ]+\.c' "$log" |
		sed -E 's/.* in ([^ ]+) .*/\1/' || true)
	echo "$kind|${frame:-?}"
}

before=$(signature "$abs")
[ -n "$before" ] || die "$file does not fail with $target: nothing to minimize"
echo "regress.sh: $target fails: $before"
out=$work/minimized-$(basename -- "$abs")
"$bin" -minimize_crash=1 -runs="${MINIMIZE_RUNS:-20000}" -exact_artifact_path="$out" "$abs" \
	>"$work/minimize.log" 2>&1 || true
[ -s "$out" ] || cp "$abs" "$out"   # nothing smaller found: keep the original
after=$(signature "$out")
[ "$after" = "$before" ] || die "the minimized input fails differently: '$after' (was '$before'); kept $out"
echo "regress.sh: minimized $(wc -c <"$abs") -> $(wc -c <"$out") bytes, same failure: $out"
[ "$verb" = regress ] || exit 0

kind=$(printf '%s' "${before%%|*}" | sed -E 's/^(ERROR: |lsecho )//; s/[^A-Za-z0-9]+/-/g; s/^-+|-+$//g' | tr 'A-Z' 'a-z' | cut -c1-40)
dest=corpus/regressions/$target/$kind-$(sha1sum "$out" | cut -c1-8)
mkdir -p "corpus/regressions/$target"
cp "$out" "$dest"
echo "regress.sh: kept as $dest; make test replays it from now on. To commit it:"
echo "  git add $dest"
