#!/usr/bin/env bash
# Speed of every libFuzzer target beside the empty target fuzz_empty, built
# with the same flags and run in the same session; `make fuzz-bench` runs it.
# Usage: ci/fuzz-bench.sh
# Env:   FUZZ_BENCH_RUNS=200000    -runs of each target
#        FUZZ_BENCH_TARGETS="a b"  only these targets
#        FUZZ_MUTATOR=1            bench the build/fuzz-mut variant
# Each target runs `-runs=N -print_final_stats=1 -seed=1` on a throwaway copy
# of its seeds (libFuzzer adds units to a corpus dir it is given), one after
# another, fuzz_empty first and last: the baseline is their mean. exec/s is
# runs / wall seconds of the process; libFuzzer's own figure divides by whole
# seconds, so it is shown beside it, not used. Exits 1 if a target fails.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "fuzz-bench.sh: $*" >&2; exit 2; }

mapfile -t known < <(ci/fuzz.sh --list)
runs=${FUZZ_BENCH_RUNS:-200000}
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "FUZZ_BENCH_RUNS must be a positive integer, not '$runs'"
targets=()
for t in ${FUZZ_BENCH_TARGETS:-${known[*]}}; do
	[[ " ${known[*]} " == *" $t "* ]] || die "unknown target '$t'; known: ${known[*]}"
	targets+=("$t")
done

variant=fuzz
[ "${FUZZ_MUTATOR:-0}" = 1 ] && variant=fuzz-mut
ci/build.sh "$variant" fuzz_empty "${targets[@]}"
bindir=build/$variant/harness
for t in fuzz_empty "${targets[@]}"; do
	[ -x "$bindir/$t" ] || die "the build made no $bindir/$t"
done

# The same environment as ci/fuzz.sh, so the figures are what fuzzing gets.
export ASAN_OPTIONS="detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lse-fuzz-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# fuzz_empty has no seeds of its own; it mutates a real target's.
seeds_of() {
	local t
	if [ "$1" != fuzz_empty ]; then
		echo "corpus/$1"
		return
	fi
	for t in fuzz_session "${known[@]}"; do
		[ -d "corpus/$t" ] && { echo "corpus/$t"; return; }
	done
	echo "corpus/fuzz_session"
}

# bench N TARGET: runs it; sets units, eps (wall), lf_eps (libFuzzer), secs.
bench() {
	local i=$1 t=$2 dir=$tmp/$1 seeds start end rc=0
	seeds=$(seeds_of "$t")
	mkdir -p "$dir"
	[ -d "$seeds" ] && cp -R "$seeds/." "$dir/"
	echo "fuzz-bench.sh: $t ($(find "$dir" -type f | wc -l) seeds from $seeds)" >&2
	start=$(date +%s%N)
	"$bindir/$t" -runs="$runs" -print_final_stats=1 -seed=1 "$dir" >"$dir.log" 2>&1 || rc=$?
	end=$(date +%s%N)
	if [ "$rc" != 0 ]; then
		echo "fuzz-bench.sh: $t exited with status $rc; end of its log:" >&2
		tail -n 30 "$dir.log" | sed 's/^/  /' >&2
		exit 1
	fi
	units=$(awk '/^stat::number_of_executed_units:/ { print $2 }' "$dir.log")
	lf_eps=$(awk '/^stat::average_exec_per_sec:/ { print $2 }' "$dir.log")
	units=${units:-$runs}
	secs=$(awk -v ns=$((end - start)) 'BEGIN { printf "%.3f", ns / 1e9 }')
	eps=$(awk -v u="$units" -v s="$secs" 'BEGIN { printf "%.0f", (s > 0 ? u / s : 0) }')
}

order=(fuzz_empty "${targets[@]}" fuzz_empty)
declare -a r_units r_eps r_lf r_secs
for i in "${!order[@]}"; do
	bench "$i" "${order[$i]}"
	r_units[i]=$units r_eps[i]=$eps r_lf[i]=${lf_eps:--} r_secs[i]=$secs
done
last=$((${#order[@]} - 1))
first_eps=${r_eps[0]} last_eps=${r_eps[last]}
base=$(awk -v a="$first_eps" -v b="$last_eps" 'BEGIN { printf "%.0f", (a + b) / 2 }')

echo
echo "fuzz-bench: $variant build, -runs=$runs -seed=1; exec/s = runs / wall seconds"
fmt='%-18s | %10s | %8s | %9s | %15s | %s\n'
# shellcheck disable=SC2059
printf "$fmt" target runs 'wall s' exec/s 'libFuzzer exec/s' 'ratio to empty'
printf -- '-%.0s' {1..86}
echo
for i in "${!order[@]}"; do
	name=${order[$i]}
	[ "$i" = 0 ] && name="fuzz_empty (first)"
	[ "$i" = "$last" ] && name="fuzz_empty (last)"
	ratio=$(awk -v e="${r_eps[i]}" -v b="$base" 'BEGIN { printf "%.3f", (b > 0 ? e / b : 0) }')
	# shellcheck disable=SC2059
	printf "$fmt" "$name" "${r_units[i]}" "${r_secs[i]}" "${r_eps[i]}" "${r_lf[i]}" "$ratio"
done
echo "baseline (mean of the two fuzz_empty runs): $base exec/s"

# The same figures, one key=value line per target, for scripts.
for i in "${!order[@]}"; do
	[ "$i" = 0 ] || [ "$i" = "$last" ] && continue
	awk -v t="${order[$i]}" -v u="${r_units[i]}" -v s="${r_secs[i]}" -v e="${r_eps[i]}" \
	    -v l="${r_lf[i]}" -v b="$base" \
	    'BEGIN { printf "bench target=%s runs=%s wall_s=%s exec_s=%s libfuzzer_exec_s=%s ratio=%.3f\n", t, u, s, e, l, (b > 0 ? e / b : 0) }'
done
echo "bench target=fuzz_empty exec_s=$base first_exec_s=$first_eps last_exec_s=$last_eps"

if awk -v a="$first_eps" -v b="$last_eps" \
	'BEGIN { lo = a < b ? a : b; hi = a < b ? b : a; exit !(lo <= 0 || hi / lo > 1.2) }'; then
	echo "fuzz-bench.sh: warning: fuzz_empty ran at $first_eps exec/s first and $last_eps last," \
		"more than 20% apart: the machine is noisy, the ratios are rough" >&2
fi

# The socket harness under AFL++, beside its floor and its fork-per-run
# baseline, when AFL++ is installed (ci/deps.sh afl installs it).
if command -v afl-fuzz >/dev/null 2>&1 && command -v afl-clang-fast >/dev/null 2>&1; then
	echo
	ci/afl-bench.sh
else
	echo "(AFL++ not installed: the socket harness's bench is skipped; ci/deps.sh afl)"
fi
