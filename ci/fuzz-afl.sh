#!/usr/bin/env bash
# What `make fuzz-afl` runs: AFL++ on the socket harness (or any target), one
# main instance (-M) and secondaries (-S, the first with CMPLOG) on the
# available cores, from the seeds with the dictionary, then a summary.
# Env: FUZZ_SECONDS (90), FUZZ_JOBS (nproc), FUZZ_TARGETS (fuzz_socket; any
# target works), FUZZ_MUTATOR=1 (the frame-aware mutator as AFL++ plugin).
# Work: build/afl-work/<target>/: seeds/ (corpus/<target>, corpus/afl/<target>,
# and for fuzz_socket fuzz_multi's and fuzz_session's work corpora through to_socket),
# out/<instance>/ (queue, crashes, hangs, fuzzer_stats), plot/.
# Exits 0 if clean, 1 if any instance saved a crash or hang.
set -euo pipefail
cd "$(dirname "$0")/.."
# 90 s by default, not the libFuzzer targets' 60: AFL++ 4.04c writes no
# plot row in its first minute (only one when it stops), and afl-plot needs
# two, so a one-minute run has no coverage plot.
secs=${FUZZ_SECONDS:-90}
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}
targets=${FUZZ_TARGETS:-fuzz_socket}
[[ $secs =~ ^[1-9][0-9]*$ ]] || { echo "fuzz-afl: FUZZ_SECONDS must be a positive integer" >&2; exit 2; }
[[ $jobs =~ ^[1-9][0-9]*$ ]] || { echo "fuzz-afl: FUZZ_JOBS must be a positive integer" >&2; exit 2; }
for t in $targets; do
	grep -qx "$t" harness/targets.txt || { echo "fuzz-afl: unknown target '$t'" >&2; exit 2; }
done
# shellcheck disable=SC2086
ci/build.sh afl $targets
# shellcheck disable=SC2086
ci/build.sh afl-cmplog $targets
if [ "${FUZZ_MUTATOR:-0}" = 1 ]; then   # the frame-aware mutator as a plugin
	# shellcheck disable=SC2086
	ci/build.sh gcc $(printf 'mutator_%s ' $targets)
fi

export AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
export ASAN_OPTIONS=abort_on_error=1:symbolize=0:detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1
failed=0
for t in $targets; do
	work=build/afl-work/$t
	rm -rf "$work"
	mkdir -p "$work"
	dict=dict/lsecho.dict
	[ -f dict/"$t".dict ] && dict=dict/$t.dict
	seeds=$work/seeds
	mkdir -p "$seeds"
	cp corpus/"$t"/* "$seeds"/
	# corpus/afl/<t>: other targets' seeds in this one's format (make corpus);
	# for fuzz_socket, fuzz_multi's and fuzz_session's, and whatever make
	# fuzz grew for those two.
	[ -d corpus/afl/"$t" ] && cp corpus/afl/"$t"/* "$seeds"/
	if [ "$t" = fuzz_socket ]; then
		for from in multi session; do
			[ -d build/fuzz-work/fuzz_$from/corpus ] || continue
			ci/build.sh gcc to_socket >/dev/null
			build/gcc/harness/to_socket $from "$seeds" build/fuzz-work/fuzz_$from/corpus
		done
	fi
	pids=()
	for ((i = 0; i < jobs; i++)); do
		role=(-S "s$i")
		[ "$i" -eq 0 ] && role=(-M main)
		extra=()
		[ "$i" -eq 1 ] && extra=(-c build/afl-cmplog/harness/"$t")
		[ "${FUZZ_MUTATOR:-0}" = 1 ] &&
			export AFL_CUSTOM_MUTATOR_LIBRARY=$PWD/build/gcc/harness/libmutator_$t.so
		afl-fuzz -i "$seeds" -o "$work/out" "${role[@]}" "${extra[@]}" -m none -V "$secs" \
			-x "$dict" -- build/afl/harness/"$t" >"$work/${role[1]}.log" 2>&1 &
		pids+=($!)
	done
	echo "fuzz-afl: $t: $jobs instances for ${secs}s (logs in $work/)"
	for p in "${pids[@]}"; do wait "$p" || true; done

	printf '\n%-8s | %10s | %8s | %9s | %6s | %7s | %5s\n' instance execs "exec/s" stability paths crashes hangs
	for stats in "$work"/out/*/fuzzer_stats; do
		inst=$(basename "$(dirname "$stats")")
		get() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$stats"; }
		printf '%-8s | %10s | %8s | %9s | %6s | %7s | %5s\n' "$inst" "$(get execs_done)" \
			"$(get execs_per_sec)" "$(get stability)" "$(get corpus_count)" \
			"$(get saved_crashes)" "$(get saved_hangs)"
	done
	for f in "$work"/out/*/crashes/id:* "$work"/out/*/hangs/id:*; do
		[ -e "$f" ] || continue
		failed=1
		echo "reproduce: make repro FILE='$f' TARGET=$t"
	done
	rows=$(grep -vc '^#' "$work/out/main/plot_data" 2>/dev/null || true)
	if ! command -v afl-plot >/dev/null 2>&1 || ! command -v gnuplot >/dev/null 2>&1; then
		echo "(afl-plot needs gnuplot: apt-get install gnuplot-nox)"
	elif [ "${rows:-0}" -lt 2 ]; then
		echo "no coverage plot: AFL++ writes plot rows only after its first minute," \
			"and this ${secs}s run left ${rows:-0}; FUZZ_SECONDS=70 or more gives one"
	elif out=$(afl-plot "$work/out/main" "$work/plot" 2>&1); then
		echo "coverage over time: $work/plot/*.png"
	else
		echo "afl-plot: $(printf '%s\n' "$out" | tail -1)"
	fi
done
exit $failed
