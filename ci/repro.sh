#!/usr/bin/env bash
# Runs one input through its libFuzzer target, with a symbolized sanitizer
# report, then again in the explain mode for what the input did (as `make
# explain` shows it); `make repro FILE=path [TARGET=name]` runs it.
# Usage: ci/repro.sh FILE [TARGET]
# Without TARGET it is inferred, first match wins:
#   - a directory in FILE's path named after a target, deepest first
#     (build/fuzz-work/fuzz_session/crashes/crash-abc, corpus/regressions/fuzz_raw/x)
#   - an OSS-Fuzz/ClusterFuzzLite name: clusterfuzz-testcase[-minimized]-<target>-<digits>
# Env: FUZZ_TIMEOUT=25 (-timeout, s), so that timeout-* artifacts reproduce;
#      REPRO_WHICH=1 only prints the inferred target.
# Exits 0 if the input runs clean ("does not reproduce"), the target's
# non-zero status if it still fails, 2 on a usage error.
set -euo pipefail

die() { echo "repro.sh: $*" >&2; exit 2; }

file=${1:-}
target=${2:-}
[ -n "$file" ] || die "usage: make repro FILE=path [TARGET=name]  (or ci/repro.sh FILE [TARGET])"
[ -e "$file" ] || die "no such file: $file"
[ ! -d "$file" ] || die "$file is a directory; give one input file"
[ -f "$file" ] || die "$file is not a regular file"
[ -r "$file" ] || die "cannot read $file"
# Absolute before the cd, so a path relative to the caller still works.
abs=$(cd "$(dirname -- "$file")" && pwd)/$(basename -- "$file")

cd "$(dirname "$0")/.."
mapfile -t known < <(ci/fuzz.sh --list)
is_known() { [[ " ${known[*]} " == *" $1 "* ]]; }

how="TARGET="
if [ -n "$target" ]; then
	is_known "$target" || die "unknown TARGET '$target'; known targets: ${known[*]}"
else
	IFS=/ read -r -a parts <<<"$(dirname -- "$abs")"
	for ((i = ${#parts[@]} - 1; i >= 0; i--)); do
		if is_known "${parts[i]}"; then
			target=${parts[i]} how="directory ${parts[i]}/ in the path"
			break
		fi
	done
	name=$(basename -- "$abs")
	if [ -z "$target" ] && [[ $name =~ ^clusterfuzz-testcase-(minimized-)?(.+)-[0-9]+$ ]] &&
		is_known "${BASH_REMATCH[2]}"; then
		target=${BASH_REMATCH[2]} how="the ClusterFuzz test case name"
	fi
	[ -n "$target" ] || die "cannot tell which target $file is for.
  Known targets: ${known[*]}
  Pass one: make repro FILE=$file TARGET=<target>"
fi
if [ -n "${REPRO_WHICH:-}" ]; then   # ci/regress.sh asks only which target
	echo "$target"
	exit 0
fi
echo "repro.sh: target $target (from $how)"

ci/build.sh fuzz "$target"
bin=build/fuzz/harness/$target
[ -x "$bin" ] || die "the build made no $bin"

# Options callers set win: later entries override earlier ones.
export ASAN_OPTIONS="symbolize=1:detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:symbolize=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
if command -v llvm-symbolizer >/dev/null 2>&1; then
	export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-$(command -v llvm-symbolizer)}
fi
timeout=${FUZZ_TIMEOUT:-25}
[[ $timeout =~ ^[1-9][0-9]*$ ]] || die "FUZZ_TIMEOUT must be a positive integer, not '$timeout'"

# Given a file rather than a directory, libFuzzer runs just that input.
cmd=("$bin" -runs=1 -timeout="$timeout" "$abs")
echo "repro.sh: running, from $PWD:"
printf '  '
for v in ASAN_OPTIONS UBSAN_OPTIONS ASAN_SYMBOLIZER_PATH; do
	[ -n "${!v:-}" ] && printf '%s=%q ' "$v" "${!v}"
done
printf '%q ' "${cmd[@]}"
echo
rc=0
"${cmd[@]}" || rc=$?
echo
if [ "$rc" = 0 ]; then
	echo "repro.sh: $file does not reproduce: $target ran it cleanly (exit 0)"
	exit 0
fi
echo "repro.sh: $file reproduces: $target exited with status $rc (report above)"
# What the input did: the explain mode of the standalone build, the same
# driver code (make explain).
echo
echo "repro.sh: what the input did (make explain FILE=$file):"
"$(dirname "$0")/explain.sh" "$file" "$target" || true
exit "$rc"
