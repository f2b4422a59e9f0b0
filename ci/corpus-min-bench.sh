#!/usr/bin/env bash
# make corpus-min-bench: `make corpus-min` against a bare libFuzzer -merge=1
# on the same 10,000-file corpus, timed in the same run, alternating.
# Env: BENCH_TARGET=fuzz_api   the target (its corpus grows fastest)
#      BENCH_FILES=10000       corpus size
#      BENCH_CORPUS=dir        use this corpus (e.g. from OSS-Fuzz) instead of growing one
#      BENCH_REPEAT=3          timed runs of each; the medians are compared
# Without BENCH_CORPUS the corpus comes from fuzzing the target (value
# profiling on, input reduction off, so it keeps many files) in rounds of one
# 60 s run per core until it holds BENCH_FILES files; it is grown once under
# build/corpus-min-bench/ and reused after.
# Goal: corpus-min within 2x the bare merge, and every edge kept.
set -euo pipefail
cd "$(dirname "$0")/.."
die() { echo "corpus-min-bench: $*" >&2; exit 2; }
t=${BENCH_TARGET:-fuzz_api}
want=${BENCH_FILES:-10000}
repeat=${BENCH_REPEAT:-3}
[[ $want =~ ^[1-9][0-9]*$ ]] || die "BENCH_FILES must be a positive integer, not '$want'"
[[ $repeat =~ ^[1-9][0-9]*$ ]] || die "BENCH_REPEAT must be a positive integer, not '$repeat'"
ci/build.sh fuzz "$t" >/dev/null
bin=build/fuzz/harness/$t
work=build/corpus-min-bench/$t
mkdir -p "$work"
count() { find "$1" -maxdepth 1 -type f | wc -l; }

if [ -n "${BENCH_CORPUS:-}" ]; then
	[ -d "$BENCH_CORPUS" ] || die "BENCH_CORPUS=$BENCH_CORPUS is not a directory"
	src=$BENCH_CORPUS
else
	src=$work/long-run
	mkdir -p "$src"
	rounds=0
	while [ "$(count "$src")" -lt "$want" ]; do
		[ $rounds -lt "${BENCH_GROW_ROUNDS:-20}" ] || die "the corpus stopped growing at $(count "$src") files"
		echo "corpus-min-bench: growing the corpus: $(count "$src") of $want files"
		# One fresh run per core per round, each from the seeds with its own
		# random seed: a run that reloads a big corpus slows to a crawl.
		pids=()
		for j in $(seq "$(nproc)"); do
			d=$work/round/$j
			rm -rf "$d" && mkdir -p "$d"
			"$bin" -use_value_profile=1 -reduce_inputs=0 -max_len=8192 -max_total_time=60 \
				-seed=$((rounds * 64 + j)) -artifact_prefix="$d/" "$d" corpus/"$t" >"$d.log" 2>&1 &
			pids+=($!)
		done
		for p in "${pids[@]}"; do wait "$p" || die "$t failed while growing the corpus (see $work/round/*.log)"; done
		for j in $(seq "$(nproc)"); do
			find "$work/round/$j" -maxdepth 1 -type f -exec mv -t "$src" {} +
		done
		rounds=$((rounds + 1))
	done
	rm -rf "$work/round"
fi
# Exactly BENCH_FILES of them, the same ones every time.
in=$work/corpus
rm -rf "$in" && mkdir -p "$in"
find "$src" -maxdepth 1 -type f | sort | awk -v n="$want" 'NR <= n' | xargs cp -t "$in"
n=$(count "$in")
echo "corpus-min-bench: $t on $n files ($(du -sh "$in" | cut -f1))"

bare=() ours=()
for i in $(seq "$repeat"); do
	rm -rf "$work/bare-out" && mkdir "$work/bare-out"
	s=$EPOCHREALTIME
	"$bin" -merge=1 "$work/bare-out" "$in" >"$work/bare.log" 2>&1 || die "the bare merge failed ($work/bare.log)"
	bare+=("$(awk -v a="$s" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')")
	s=$EPOCHREALTIME
	CORPUS=$in TARGET=$t FUZZ_TARGETS= ci/corpus-min.sh >"$work/ours.log" 2>&1 ||
		{ cat "$work/ours.log"; die "make corpus-min failed"; }
	ours+=("$(awk -v a="$s" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')")
done
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
mb=$(median "${bare[@]}") mo=$(median "${ours[@]}")
bare_edges=$(grep -o '[0-9]* new coverage edges' "$work/bare.log" | cut -d' ' -f1)
read -r kept eb ea res < <(awk -v t="$t" '$1 == t && $2 == "libfuzzer" { print $4, $5, $6, $7 }' "$work/ours.log")
printf '\n%-26s %9s %7s %7s\n' "" "seconds" files edges
printf '%-26s %9.2f %7s %7s\n' "bare -merge=1 (median)" "$mb" "$(count "$work/bare-out")" "$bare_edges"
printf '%-26s %9.2f %7s %7s  (edges before: %s, %s)\n' "make corpus-min (median)" "$mo" "$kept" "$ea" "$eb" "$res"
printf '%-26s %9.2f  (goal <= 2.00)\n' "ratio" "$(awk -v a="$mo" -v b="$mb" 'BEGIN { print a / b }')"
echo "runs: bare ${bare[*]}; corpus-min ${ours[*]}"
[ "$res" = kept-all ] && [ "$ea" = "$bare_edges" ] || die "edges lost: corpus-min kept $ea of $eb, the bare merge found $bare_edges"
