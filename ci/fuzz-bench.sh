#!/usr/bin/env bash
# Speed of every libFuzzer target beside the empty target fuzz_empty, built
# with the same flags and run in the same session; `make fuzz-bench` runs it.
# Usage: ci/fuzz-bench.sh
# Env:   FUZZ_BENCH_RUNS=200000    -runs of each target
#        FUZZ_BENCH_TARGETS="a b"  only these targets (default: all but fuzz_socket,
#                                  which runs under AFL++ at the end unless
#                                  FUZZ_BENCH_TARGETS leaves it out)
#        FUZZ_BENCH_REPEAT=5       rounds; medians are reported (the empty
#                                  target alone drifts by 2x within minutes here)
#        FUZZ_MUTATOR=1            bench the build/fuzz-mut variant
# Each target runs `-runs=N -print_final_stats=1 -seed=1` on a throwaway copy
# of its seeds (libFuzzer adds units to a corpus dir it is given), one after
# another, fuzz_empty first and last: the baseline is their mean. exec/s is
# the marginal rate: the same command is also run with -runs=N/10, and
# exec/s = (N - N/10) / (wall(N) - wall(N/10)). With -seed=1 the first N/10
# runs of both are the same, so start-up and loading the seeds cancel out;
# they would otherwise be most of the empty target's time (0.1-0.2 s against
# 0.15 s of running). libFuzzer's own figure divides by whole seconds, so it
# is shown beside it, not used. Exits 1 if a target fails.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "fuzz-bench.sh: $*" >&2; exit 2; }

mapfile -t known < <(ci/fuzz.sh --list)
runs=${FUZZ_BENCH_RUNS:-200000}
repeat=${FUZZ_BENCH_REPEAT:-5}
[[ $runs =~ ^[1-9][0-9]*$ ]] && [ "$runs" -ge 10 ] || die "FUZZ_BENCH_RUNS must be an integer >= 10, not '$runs'"
[[ $repeat =~ ^[1-9][0-9]*$ ]] || die "FUZZ_BENCH_REPEAT must be a positive integer, not '$repeat'"
targets=()
# fuzz_socket is benched under AFL++ beside its own floor (ci/afl-bench.sh,
# below); FUZZ_BENCH_TARGETS=fuzz_socket adds its libFuzzer build here.
for t in ${FUZZ_BENCH_TARGETS:-${known[*]/fuzz_socket/}}; do
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
# shellcheck source=ci/san-env.sh
. ci/san-env.sh

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

# run_once DIR TARGET RUNS: one timed run on a fresh copy of the seeds;
# sets wall_ns, or exits on a failure.
run_once() {
	local dir=$1 t=$2 n=$3 seeds start end rc=0
	seeds=$(seeds_of "$t")
	rm -rf "$dir" && mkdir -p "$dir"
	[ -d "$seeds" ] && cp -R "$seeds/." "$dir/"
	start=$(date +%s%N)
	"$bindir/$t" -runs="$n" -print_final_stats=1 -seed=1 "$dir" >"$dir.log" 2>&1 || rc=$?
	end=$(date +%s%N)
	if [ "$rc" != 0 ]; then
		echo "fuzz-bench.sh: $t exited with status $rc; end of its log:" >&2
		tail -n 30 "$dir.log" | sed 's/^/  /' >&2
		exit 1
	fi
	wall_ns=$((end - start))
}

# bench N TARGET: sets units, eps (marginal), lf_eps (libFuzzer), secs (the long run's wall).
bench() {
	local i=$1 t=$2 short=$((runs / 10)) long_ns
	echo "fuzz-bench.sh: $t ($(find "$(seeds_of "$t")" -type f 2>/dev/null | wc -l) seeds from $(seeds_of "$t"))" >&2
	run_once "$tmp/$i" "$t" "$runs"
	long_ns=$wall_ns
	units=$(awk '/^stat::number_of_executed_units:/ { print $2 }' "$tmp/$i.log")
	lf_eps=$(awk '/^stat::average_exec_per_sec:/ { print $2 }' "$tmp/$i.log")
	units=${units:-$runs}
	run_once "$tmp/$i-short" "$t" "$short"
	secs=$(awk -v ns="$long_ns" 'BEGIN { printf "%.3f", ns / 1e9 }')
	eps=$(awk -v u="$((runs - short))" -v ns="$((long_ns - wall_ns))" 'BEGIN { printf "%.0f", (ns > 0 ? u / (ns / 1e9) : 0) }')
}

# Each target runs between two fuzz_empty runs, and its ratio is to their
# mean: the machine's speed drifts (other tenants, frequency), and a
# neighbour in time is the fairest baseline. FUZZ_BENCH_REPEAT rounds; the
# table shows medians and the spread of the ratio.
declare -A eps_of ratio_of lf_of
empty_eps() {
	bench e fuzz_empty
	echo "$eps"
}
for ((rep = 1; rep <= repeat; rep++)); do
	before=$(empty_eps)
	for t in "${targets[@]}"; do
		bench "$t" "$t"
		after=$(empty_eps)
		eps_of[$t]+="$eps " lf_of[$t]+="${lf_eps:--} "
		ratio_of[$t]+="$(awk -v e="$eps" -v a="$before" -v b="$after" 'BEGIN { printf "%.4f", 2 * e / (a + b) }') "
		eps_of[fuzz_empty]+="$before "
		before=$after
	done
	eps_of[fuzz_empty]+="$before "
done
median() { printf '%s\n' $1 | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
spread() { printf '%s\n' $1 | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.3f-%.3f", lo, hi }'; }
declare -A goal=([fuzz_frame]=0.30 [fuzz_session]=0.10 [fuzz_raw]=0.10 [fuzz_multi]=0.03)

echo
echo "fuzz-bench: $variant build, -runs=$runs -seed=1, $repeat round(s); exec/s = marginal rate over runs $((runs / 10))..$runs (start-up excluded)"
fmt='%-14s | %11s | %16s | %14s | %13s | %s\n'
# shellcheck disable=SC2059
printf "$fmt" target 'exec/s (med)' 'libFuzzer exec/s' 'ratio (median)' 'ratio spread' goal
printf -- '-%.0s' {1..88}
echo
# shellcheck disable=SC2059
printf "$fmt" fuzz_empty "$(median "${eps_of[fuzz_empty]}")" - 1 - ""
for t in "${targets[@]}"; do
	m=$(median "${ratio_of[$t]}")
	# shellcheck disable=SC2059
	printf "$fmt" "$t" "$(median "${eps_of[$t]}")" "$(median "${lf_of[$t]//-/0}")" \
		"$(awk -v m="$m" 'BEGIN { printf "%.3f", m }')" "$(spread "${ratio_of[$t]}")" "${goal[$t]:-}"
done

# The same figures, one key=value line per target, for scripts.
for t in "${targets[@]}"; do
	echo "bench target=$t runs=$runs exec_s=$(median "${eps_of[$t]}") ratio=$(median "${ratio_of[$t]}") ratios=\"${ratio_of[$t]% }\""
done
echo "bench target=fuzz_empty exec_s=$(median "${eps_of[fuzz_empty]}") all=\"${eps_of[fuzz_empty]% }\""

# The socket harness under AFL++, beside its floor and its fork-per-run
# baseline, when AFL++ is installed (ci/deps.sh afl installs it), unless
# FUZZ_BENCH_TARGETS picked other targets only.
if [ -n "${FUZZ_BENCH_TARGETS:-}" ] && [[ " $FUZZ_BENCH_TARGETS " != *" fuzz_socket "* ]]; then
	:
elif command -v afl-fuzz >/dev/null 2>&1 && command -v afl-clang-fast >/dev/null 2>&1; then
	echo
	ci/afl-bench.sh
else
	echo "(AFL++ not installed: the socket harness's bench is skipped; ci/deps.sh afl)"
fi
