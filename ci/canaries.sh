#!/usr/bin/env bash
# Proves the fuzz suite finds bugs: re-introduces each canary defect
# (ci/canaries/NN-name.patch) into a scratch copy of the tree, builds the
# libFuzzer targets there and fuzzes them until one catches it; `make
# canaries` runs it. The shipped source is never touched.
# Usage: ci/canaries.sh
# Env:   CANARY_SECONDS=60    -max_total_time of each target, per canary
#        CANARIES="01 05"     only these canaries (NN, or NN-name)
#        CANARY_JOBS=nproc    how many targets fuzz at once
#        CANARY_MAX_LEN=8192  -max_len (default: FUZZ_MAX_LEN, else ci/fuzz.sh's 8192)
#        CANARY_TIMEOUT=25    -timeout (s per input)
#        CANARY_VARIANT=fuzz  fuzz-mut: the build with the frame-aware mutator
#        CANARY_BASELINE=1    0: skip the unpatched control build
#        CANARY_SEEDS=1       0: no seeds, neither replayed nor given to the
#                             fuzzers: what the fuzzing alone finds
# A patch's "# Withheld: GLOB" lines name inputs (the regressions filed for
# its bug) removed from its tree before anything runs.
# For each canary, in build/canaries/<name>/:
#   src-tree/   src/ harness/ tests/ corpus/ dict/ CMakeLists.txt ci/ docs/,
#               patched, built with its own ci/build.sh fuzz (src-tree/build/fuzz;
#               fuzz-mut with CANARY_VARIANT)
#   patch.log, build.log, seeds-<target>.log, fuzz-<target>.log
#   work/<target>/corpus/  the target's seeds, then what fuzzing adds
#   work/<target>/         crash-*, leak-*, ... artifacts (-artifact_prefix)
# First the seeds are replayed (a canary they catch is found at 0 s); then
# the targets (every fuzz_* the build made, but fuzz_empty) fuzz, CANARY_JOBS
# at a time, each for CANARY_SECONDS, as `make fuzz` would run them. The
# first target to fail finds the canary and the others are stopped.
# Seconds are wall clock from the start of that canary's fuzzing.
# The control (build/canaries/baseline/) is the same tree unpatched: its
# seeds must replay clean, and an artifact that also fails there is a real
# bug, not the canary, and does not count as finding it.
# Exits 0 if every canary was found, 1 if any survived its budget, 2 if a
# patch does not apply, a build fails or the control is not clean, 130 when
# interrupted.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

die() { echo "canaries.sh: $*" >&2; exit 2; }
posint() { [[ $2 =~ ^[1-9][0-9]*$ ]] || die "$1 must be a positive integer, not '$2'"; }

seconds=${CANARY_SECONDS:-60}
jobs=${CANARY_JOBS:-$(nproc 2>/dev/null || echo 2)}
max_len=${CANARY_MAX_LEN:-${FUZZ_MAX_LEN:-8192}}
timeout=${CANARY_TIMEOUT:-25}
posint CANARY_SECONDS "$seconds"
posint CANARY_JOBS "$jobs"
posint CANARY_MAX_LEN "$max_len"
posint CANARY_TIMEOUT "$timeout"
variant=${CANARY_VARIANT:-fuzz}
case $variant in
fuzz | fuzz-mut) ;;
*) die "CANARY_VARIANT must be fuzz or fuzz-mut, not '$variant'" ;;
esac

# shellcheck source=ci/canary-lib.sh
. ci/canary-lib.sh
canary_select
# What first_message falls back to when no oracle or sanitizer line is there.
fallback='ERROR: libFuzzer:|SUMMARY: '

out=$root/build/canaries
mkdir -p "$out"
ASAN_OPTIONS=abort_on_error=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}
# shellcheck source=ci/san-env.sh
. ci/san-env.sh

list_targets() {
	local f
	for f in "$1/build/$variant/harness"/fuzz_*; do
		{ [ -f "$f" ] && [ -x "$f" ]; } || continue
		[ "${f##*/}" = fuzz_empty ] && continue
		echo "${f##*/}"
	done
}

newest_artifact() {
	find "$1" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
		-o -name 'oom-*' -o -name 'slow-unit-*' \) -printf '%T@ %p\n' 2>/dev/null |
		sort -n | tail -n 1 | cut -d' ' -f2-
}

fuzz_args() {   # tree target workdir
	local tree=$1 t=$2 w=$3
	args=(-max_len="$max_len" -timeout="$timeout" -artifact_prefix="$w/")
	if [ -f "$tree/dict/$t.dict" ]; then
		args+=(-dict="$tree/dict/$t.dict")
	elif [ -f "$tree/dict/lsecho.dict" ]; then
		args+=(-dict="$tree/dict/lsecho.dict")
	fi
}

# Fills dir/work/<t>/corpus with the tree's seeds for t (and regressions).
stage_seeds() {   # tree target workdir; returns 1 if there are none
	local tree=$1 t=$2 w=$3 d
	rm -rf "$w"
	mkdir -p "$w/corpus"
	for d in "$tree/corpus/$t" "$tree/corpus/regressions/$t"; do
		[ -d "$d" ] && find "$d" -maxdepth 1 -type f -exec cp {} "$w/corpus/" \;
	done
	[ -n "$(ls -A "$w/corpus")" ]
}

# Replays every target's seeds in tree; prints the first target that fails.
replay_seeds() {   # tree logdir
	local tree=$1 dir=$2 t w rc
	for t in $(list_targets "$tree"); do
		w=$dir/work/$t
		stage_seeds "$tree" "$t" "$w" || continue
		fuzz_args "$tree" "$t" "$w"
		rc=0
		"$tree/build/$variant/harness/$t" "${args[@]}" -runs=0 "$w/corpus" \
			>"$dir/seeds-$t.log" 2>&1 || rc=$?
		if [ "$rc" != 0 ]; then
			echo "$t"
			return 0
		fi
	done
}

# Runs one input on the unpatched control; 0 if it passes there.
control_passes() {   # target artifact
	local bin=$control/src-tree/build/$variant/harness/$1
	[ -n "$control" ] && [ -x "$bin" ] || return 0
	"$bin" -runs=1 -timeout="$timeout" "$2" >"$2.control.log" 2>&1
}

declare -A pid tstart
running=()
stop_running() {
	local t i
	for t in "${running[@]}"; do
		kill -TERM "${pid[$t]}" 2>/dev/null || true
	done
	for ((i = 0; i < 50; i++)); do
		local alive=0
		for t in "${running[@]}"; do
			kill -0 "${pid[$t]}" 2>/dev/null && alive=1
		done
		[ "$alive" = 0 ] && break
		sleep 0.1
	done
	for t in "${running[@]}"; do
		kill -KILL "${pid[$t]}" 2>/dev/null || true
		wait "${pid[$t]}" 2>/dev/null || true
	done
	running=()
}
# shellcheck disable=SC2317  # reached through the trap
on_signal() {
	stop_running
	echo "canaries.sh: interrupted" >&2
	exit 130
}
trap on_signal INT TERM

now() { echo "$EPOCHREALTIME"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# Fuzzes every target of tree, CANARY_JOBS at a time, until one fails.
# Sets found_by, found_secs, found_target_secs, found_log, found_artifact.
fuzz_tree() {   # tree logdir
	local tree=$1 dir=$2 t w rc begin
	local -a pending
	mapfile -t pending < <(list_targets "$tree")
	found_by='' found_secs='' found_target_secs='' found_log='' found_artifact=''
	running=()
	begin=$(now)
	while [ ${#pending[@]} -gt 0 ] || [ ${#running[@]} -gt 0 ]; do
		local -a still=()
		for t in "${running[@]}"; do
			if kill -0 "${pid[$t]}" 2>/dev/null; then
				still+=("$t")
				continue
			fi
			rc=0
			wait "${pid[$t]}" || rc=$?
			if [ "$rc" != 0 ] && [ -z "$found_by" ]; then
				found_by=$t
				found_secs=$(since "$begin")
				found_target_secs=$(since "${tstart[$t]}")
				found_log=$dir/fuzz-$t.log
				found_artifact=$(newest_artifact "$dir/work/$t")
				echo "  [$found_secs s] $t failed (exit $rc)"
			elif [ "$rc" = 0 ]; then
				echo "  [$(since "$begin") s] $t ran ${seconds}s clean"
			fi
		done
		running=("${still[@]}")
		if [ -n "$found_by" ]; then
			stop_running
			return 0
		fi
		while [ ${#pending[@]} -gt 0 ] && [ ${#running[@]} -lt "$jobs" ]; do
			t=${pending[0]}
			pending=("${pending[@]:1}")
			w=$dir/work/$t
			[ -d "$w/corpus" ] || { rm -rf "$w"; mkdir -p "$w/corpus"; }
			fuzz_args "$tree" "$t" "$w"
			tstart[$t]=$(now)
			"$tree/build/$variant/harness/$t" "${args[@]}" -max_total_time="$seconds" \
				-print_final_stats=1 "$w/corpus" >"$dir/fuzz-$t.log" 2>&1 &
			pid[$t]=$!
			running+=("$t")
			echo "  [$(since "$begin") s] start $t"
		done
		sleep 0.2
	done
}

# ---- the control: the same tree, unpatched ----
status=0
control=''
if [ "${CANARY_BASELINE:-1}" != 0 ]; then
	echo "canaries.sh: control (unpatched tree): build, replay seeds"
	bdir=$out/baseline
	rm -rf "$bdir"
	mkdir -p "$bdir"
	make_tree "$bdir/src-tree"
	"$bdir/src-tree/ci/build.sh" "$variant" >"$bdir/build.log" 2>&1 ||
		die "the unpatched tree does not build; see $bdir/build.log"
	bad=$(replay_seeds "$bdir/src-tree" "$bdir")
	if [ -n "$bad" ]; then
		echo "canaries.sh: the UNPATCHED seeds already fail in $bad:" >&2
		echo "  $(first_message "$bdir/seeds-$bad.log" "$fallback")" >&2
		die "fix the tree first: every canary would look found (log: $bdir/seeds-$bad.log)"
	fi
	control=$bdir
fi

# ---- the canaries ----
declare -A r_by r_secs r_msg r_ok
for c in "${canaries[@]}"; do
	dir=$out/$c
	tree=$dir/src-tree
	echo "canaries.sh: $c"
	rm -rf "$dir"
	mkdir -p "$dir"
	make_tree "$tree"
	if ! patch -p1 --batch --forward --fuzz=0 --no-backup-if-mismatch -d "$tree" \
		-i "$root/ci/canaries/$c.patch" >"$dir/patch.log" 2>&1; then
		echo "canaries.sh: $c.patch DOES NOT APPLY to the current tree:" >&2
		sed 's/^/  /' "$dir/patch.log" >&2
		r_by[$c]="PATCH FAILED" r_secs[$c]=- r_msg[$c]="see $dir/patch.log" r_ok[$c]=2
		status=2
		continue
	fi
	if diff -rq "$root/src" "$tree/src" >/dev/null; then
		r_by[$c]="PATCH EMPTY" r_secs[$c]=- r_msg[$c]="the patch changes nothing in src/" r_ok[$c]=2
		status=2
		continue
	fi
	echo "  patched: $(grep -E '^patching file' "$dir/patch.log" | sed 's/^patching file //' | tr '\n' ' ')"
	canary_withhold "$tree" "$root/ci/canaries/$c.patch"
	if ! "$tree/ci/build.sh" "$variant" >"$dir/build.log" 2>&1; then
		echo "canaries.sh: $c does not build; end of $dir/build.log:" >&2
		tail -n 15 "$dir/build.log" | sed 's/^/  /' >&2
		r_by[$c]="BUILD FAILED" r_secs[$c]=- r_msg[$c]="see $dir/build.log" r_ok[$c]=2
		status=2
		continue
	fi
	[ -n "$(list_targets "$tree")" ] || die "$c: the build made no fuzz_* targets"

	how=seeds
	found_by=''
	if [ "${CANARY_SEEDS:-1}" != 0 ]; then
		found_by=$(replay_seeds "$tree" "$dir")
	fi
	if [ -n "$found_by" ]; then
		found_secs=0 found_target_secs=0 found_log=$dir/seeds-$found_by.log
		found_artifact=$(newest_artifact "$dir/work/$found_by")
		echo "  seeds of $found_by catch it"
	else
		how=fuzzing
		if [ "${CANARY_SEEDS:-1}" != 0 ]; then
			echo "  seeds pass; fuzzing, ${seconds}s per target, $jobs at a time"
		else
			echo "  no seeds (CANARY_SEEDS=0); fuzzing, ${seconds}s per target, $jobs at a time"
		fi
		fuzz_tree "$tree" "$dir"
	fi

	if [ -z "$found_by" ]; then
		r_by[$c]="SURVIVED" r_secs[$c]=">$seconds/target" r_msg[$c]="no target failed" r_ok[$c]=1
		[ "$status" = 2 ] || status=1
		continue
	fi
	r_msg[$c]=$(first_message "$found_log" "$fallback")
	r_by[$c]="$found_by ($how)"
	r_secs[$c]=$found_secs
	r_ok[$c]=0
	if [ "$how" = fuzzing ] && [ "$found_target_secs" != "$found_secs" ]; then
		r_secs[$c]="$found_secs ($found_target_secs own)"
	fi
	if [ -z "$found_artifact" ]; then
		# libFuzzer writes an artifact for every crash, leak, timeout and
		# OOM: without one the target broke in some other way.
		r_by[$c]="$found_by: NO ARTIFACT"
		r_ok[$c]=2
		status=2
	elif ! control_passes "$found_by" "$found_artifact"; then
		# The unpatched tree fails the same input: a real bug, not the canary.
		r_by[$c]="$found_by: PRE-EXISTING BUG"
		r_msg[$c]="control fails too: $found_artifact"
		r_ok[$c]=1
		[ "$status" = 2 ] || status=1
	fi
	echo "  -> ${r_by[$c]}, ${r_secs[$c]} s: ${r_msg[$c]}"
	[ -n "$found_artifact" ] && echo "     artifact: $found_artifact"
done
trap - INT TERM

{
	echo
	printf '%-36s | %-24s | %-16s | %s\n' canary 'found by' seconds message
	printf -- '-%.0s' {1..140}
	echo
	for c in "${canaries[@]}"; do
		printf '%-36s | %-24s | %-16s | %s\n' "$c" "${r_by[$c]}" "${r_secs[$c]}" "${r_msg[$c]}"
	done
	echo
	[ "${CANARY_SEEDS:-1}" != 0 ] || echo "CANARY_SEEDS=0: every target fuzzed from an empty corpus."
	echo "seconds: wall clock from the start of the canary's fuzzing (0 = caught by the seeds);"
	echo "\"own\": how long the finding target itself had run ($jobs targets at a time, ${seconds}s each)."
} | tee "$out/summary.txt"
for c in "${canaries[@]}"; do
	[ "${r_ok[$c]}" = 0 ] && continue
	echo "canaries.sh: $c: ${r_by[$c]}; logs in build/canaries/$c/" >&2
done
exit "$status"
