#!/usr/bin/env bash
# The socket harness's speed under AFL++, beside its two references, in one
# run (make fuzz-bench calls it when AFL++ is installed): the bare
# persistent socketpair floor (harness/afl/floor_socketpair.c) and the same
# harness forking and binding for every input (fuzz_socket_fork). Each runs
# afl-fuzz alone for AFL_BENCH_SECONDS (20) on one-connection seeds under
# 1 KiB. Goals (issue 6): >= 0.70 of the floor, >= 25x the fork-per-run.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${AFL_BENCH_SECONDS:-20}
ci/build.sh afl floor_socketpair fuzz_socket fuzz_socket_fork >/dev/null
work=build/afl-bench
rm -rf "$work"
mkdir -p "$work/seeds"
for s in slow_reader_small_sndbuf raw_chunk7; do   # small, few connections
	cp corpus/fuzz_socket/"$s" "$work/seeds/"
done
export AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
export ASAN_OPTIONS=abort_on_error=1:symbolize=0:detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1
rate() {   # binary -> exec/s
	local out=$work/$1
	afl-fuzz -i "$work/seeds" -o "$out" -S one -m none -V "$secs" -g 1 -G 1024 \
		-- build/afl/harness/"$1" >"$out.log" 2>&1 || true
	awk -F' *: *' '$1 == "execs_per_sec" { print $2 }' "$out/one/fuzzer_stats"
}
floor=$(rate floor_socketpair)
sock=$(rate fuzz_socket)
fork=$(rate fuzz_socket_fork)
printf '%-18s | %10s | %s\n' harness "exec/s" ratio
printf '%-18s | %10s | %s\n' floor_socketpair "$floor" 1
printf '%-18s | %10s | %s of the floor (goal 0.70)\n' fuzz_socket "$sock" "$(awk -v a="$sock" -v b="$floor" 'BEGIN { printf "%.2f", a / b }')"
printf '%-18s | %10s | fuzz_socket runs %sx as fast (goal 25)\n' fuzz_socket_fork "$fork" "$(awk -v a="$sock" -v b="$fork" 'BEGIN { printf "%.1f", a / b }')"
