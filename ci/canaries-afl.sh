#!/usr/bin/env bash
# Proves the AFL++ socket harness (fuzz_socket, harness/afl/afl_main.c) finds
# each canary bug: re-introduces the defect (ci/canaries/NN-name.patch) into a
# scratch copy of the tree, builds fuzz_socket there with afl-clang-fast and
# fuzzes it on 2 cores until a crash; `make canaries-afl` runs it. The goal:
# every canary found within 5 minutes. The shipped source is never touched.
# Usage: ci/canaries-afl.sh
# Env:   CANARY_SECONDS=300   budget of each canary's fuzzing (wall clock)
#        CANARIES="01 09"     only these canaries (NN, or NN-name)
# In build/canaries-afl/:
#   seeds/        the seeds of `make fuzz-afl` for fuzz_socket: corpus/fuzz_socket
#                 and corpus/afl/fuzz_socket (fuzz_multi's and fuzz_session's)
#   base/         src/ harness/ tests/ corpus/ dict/ CMakeLists.txt ci/ docs/,
#                 copied once at the start, so every canary patches the same tree
#   fuzz_socket.control, control.log  the unpatched binary (build/afl/harness/
#                 fuzz_socket, built at the start) and its seed replay
#   <canary>/src-tree/  base/ patched, built with its own ci/build.sh afl fuzz_socket
#   <canary>/     patch.log, build.log, seeds.log (the failing seed's replay),
#                 afl/out/{main,s1}/ (queue, crashes, fuzzer_stats), afl/*.log,
#                 repro.log and control.log (the crash on the canary, unpatched)
#   summary.txt   the final table
# First every seed is replayed through the canary binary (one run per file):
# a seed that fails finds the canary at 0 s. Otherwise afl-fuzz runs, one -M
# main and one -S s1 instance with the dictionary, and both stop as soon as
# either saves a crash; seconds are wall clock from the start of afl-fuzz to
# the first crash file. The crash must then fail alone on the canary binary
# and pass on the unpatched one; one that fails there too is a real bug, not
# the canary, and does not count as finding it.
# Exits 0 if every canary was found, 1 if any survived its budget (or only
# a real bug turned up), 2 if a patch does not apply, a build fails, afl-fuzz
# does not run or the unpatched seeds fail, 130 when interrupted.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

die() { echo "canaries-afl.sh: $*" >&2; exit 2; }

seconds=${CANARY_SECONDS:-300}
[[ $seconds =~ ^[1-9][0-9]*$ ]] ||
	die "CANARY_SECONDS must be a positive integer, not '$seconds'"
replay_timeout=10   # s per input outside afl-fuzz; a seed runs in well under 1 s

# shellcheck source=ci/canary-lib.sh
. ci/canary-lib.sh
canary_select
# What first_message falls back to when no oracle or sanitizer line is there.
fallback='SUMMARY: |^timeout after'
command -v afl-fuzz >/dev/null 2>&1 || die "afl-fuzz not found (ci/deps.sh afl installs it)"

out=$root/build/canaries-afl
mkdir -p "$out"
# What afl-fuzz wants (no symbolizing inside the fuzzer, abort on error).
export AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_BENCH_UNTIL_CRASH=1
# A stray stopped target of an earlier run holds a core: do not bind.
export AFL_NO_AFFINITY=1
export ASAN_OPTIONS=abort_on_error=1:symbolize=0:detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1
if command -v llvm-symbolizer >/dev/null 2>&1; then
	export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-$(command -v llvm-symbolizer)}
fi

# Runs one input through an AFL++ binary outside afl-fuzz; its status.
# SYMBOLIZE=1 for a report with function names.
run_one() {   # binary input log
	local rc=0 asan=$ASAN_OPTIONS
	[ "${SYMBOLIZE:-0}" = 1 ] && asan=${asan/symbolize=0/symbolize=1}
	# (the braces keep bash's "Aborted" notice out of the terminal)
	{ ASAN_OPTIONS=$asan timeout -k 2 "$replay_timeout" "$1" "$2" >"$3" 2>&1; } 2>/dev/null || rc=$?
	[ "$rc" = 124 ] && echo "timeout after ${replay_timeout}s: $2" >>"$3"
	return "$rc"
}

# Replays every seed through binary; prints the first that fails.
failing_seed() {   # binary log
	local s
	for s in "$out"/seeds/*; do
		run_one "$1" "$s" "$2" || { echo "$s"; return 0; }
	done
}

now() { echo "$EPOCHREALTIME"; }
since() { awk -v a="$1" -v b="${2:-$(now)}" 'BEGIN { printf "%.1f", b - a }'; }

pids=()
stop_afl() {
	local p i alive
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for ((i = 0; i < 50; i++)); do   # afl-fuzz stops its fork server on TERM
		alive=0
		for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ "$alive" = 0 ] && break
		sleep 0.1
	done
	for p in "${pids[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	pids=()
}
# shellcheck disable=SC2317  # reached through the trap
on_signal() {
	stop_afl
	echo "canaries-afl.sh: interrupted" >&2
	exit 130
}
trap on_signal INT TERM
trap stop_afl EXIT

# Crash files of every instance, oldest first, as "mtime path".
crash_files() {
	{ find "$1"/out/*/crashes -maxdepth 1 -type f -name 'id:*' -printf '%T@ %p\n' 2>/dev/null || true; } |
		sort -n
}

# Runs afl-fuzz -M main and -S s1 on binary until a crash or the budget.
# Sets found_by (instance), found_secs; afl_error and afl_inst if an
# instance quit early.
fuzz_canary() {   # tree binary workdir
	local tree=$1 bin=$2 w=$3 inst begin first i insts=(main s1)
	found_by='' found_secs='' afl_error='' afl_inst=''
	rm -rf "$w"
	mkdir -p "$w"
	begin=$(now)
	for inst in "${insts[@]}"; do
		local -a role=(-S "$inst")
		[ "$inst" = main ] && role=(-M main)
		# -V: a backstop only (the loop below keeps the budget), past it.
		afl-fuzz -i "$out/seeds" -o "$w/out" "${role[@]}" -m none -V $((seconds + 30)) \
			-x "$tree/dict/lsecho.dict" -- "$bin" >"$w/$inst.log" 2>&1 &
		pids+=($!)
	done
	while :; do
		first=$(crash_files "$w" | sed -n 1p)
		if [ -n "$first" ]; then
			found_by=${first#*/out/}
			found_by=${found_by%%/*}
			found_secs=$(since "$begin" "${first%% *}")
			break
		fi
		[ "$(since "$begin" | cut -d. -f1)" -ge "$seconds" ] && break
		for i in 0 1; do
			inst=${insts[$i]}
			kill -0 "${pids[$i]}" 2>/dev/null && continue
			# AFL_BENCH_UNTIL_CRASH quits after a crash: look once more.
			[ -n "$(crash_files "$w")" ] && continue 2
			afl_inst=$inst
			afl_error="afl-fuzz $inst quit after $(since "$begin") s without a crash"
		done
		[ -n "$afl_error" ] && break
		sleep 1
	done
	stop_afl
	if [ -n "$found_secs" ] && awk -v s="$found_secs" -v b="$seconds" 'BEGIN { exit !(s > b) }'; then
		found_by=''   # saved a moment after the budget
	fi
	return 0
}

stat_of() {   # fuzzer_stats key
	awk -F' *: *' -v k="$2" '$1 == k { print $2 }' "$1" 2>/dev/null
}

# ---- set-up: the tree, the unpatched binary, the seeds, the control replay ----
# One copy of the tree and of the unpatched binary, taken together: the
# canaries then agree with each other and with their control even if the
# tree changes during the run.
echo "canaries-afl.sh: tree copy, unpatched fuzz_socket (ci/build.sh afl), seeds, control replay"
make_tree "$out/base"
ci/build.sh afl fuzz_socket >"$out/build-control.log" 2>&1 ||
	die "the unpatched tree does not build; see $out/build-control.log"
control=$out/fuzz_socket.control
cp build/afl/harness/fuzz_socket "$control"
rm -rf "$out/seeds"
mkdir -p "$out/seeds"
cp "$out"/base/corpus/fuzz_socket/* "$out"/base/corpus/afl/fuzz_socket/* "$out/seeds/"
echo "  $(find "$out/seeds" -type f | wc -l) seeds in $out/seeds"
bad=$(failing_seed "$control" "$out/control.log")
if [ -n "$bad" ]; then
	echo "canaries-afl.sh: the UNPATCHED binary already fails seed $bad:" >&2
	SYMBOLIZE=1 run_one "$control" "$bad" "$out/control.log" || true
	echo "  $(first_message "$out/control.log" "$fallback")" >&2
	die "fix the tree first: every canary would look found (log: $out/control.log)"
fi

# ---- the canaries ----
status=0
declare -A r_by r_secs r_msg r_ok
for c in "${canaries[@]}"; do
	dir=$out/$c
	tree=$dir/src-tree
	echo "canaries-afl.sh: $c"
	rm -rf "$dir"
	mkdir -p "$dir"
	cp -r "$out/base" "$tree"
	if ! patch -p1 --batch --forward --fuzz=0 --no-backup-if-mismatch -d "$tree" \
		-i "$out/base/ci/canaries/$c.patch" >"$dir/patch.log" 2>&1; then
		echo "canaries-afl.sh: $c.patch DOES NOT APPLY to the current tree:" >&2
		sed 's/^/  /' "$dir/patch.log" >&2
		r_by[$c]="PATCH FAILED" r_secs[$c]=- r_msg[$c]="see $dir/patch.log" r_ok[$c]=2
		status=2
		continue
	fi
	if diff -rq "$out/base/src" "$tree/src" >/dev/null; then
		r_by[$c]="PATCH EMPTY" r_secs[$c]=- r_msg[$c]="the patch changes nothing in src/" r_ok[$c]=2
		status=2
		continue
	fi
	echo "  patched: $(grep -E '^patching file' "$dir/patch.log" | sed 's/^patching file //' | tr '\n' ' ')"
	bin=$tree/build/afl/harness/fuzz_socket
	if ! "$tree/ci/build.sh" afl fuzz_socket >"$dir/build.log" 2>&1 || [ ! -x "$bin" ]; then
		echo "canaries-afl.sh: $c does not build; end of $dir/build.log:" >&2
		tail -n 15 "$dir/build.log" | sed 's/^/  /' >&2
		r_by[$c]="BUILD FAILED" r_secs[$c]=- r_msg[$c]="see $dir/build.log" r_ok[$c]=2
		status=2
		continue
	fi

	seed=$(failing_seed "$bin" "$dir/seeds.log")
	if [ -n "$seed" ]; then
		# Every seed passed on the unpatched binary: this one is the canary.
		echo "  seed ${seed##*/} catches it"
		SYMBOLIZE=1 run_one "$bin" "$seed" "$dir/repro.log" || true
		r_by[$c]=seeds r_secs[$c]=0 r_msg[$c]=$(first_message "$dir/repro.log" "$fallback") r_ok[$c]=0
		echo "  -> seeds, 0 s: ${r_msg[$c]}"
		continue
	fi

	echo "  seeds pass; afl-fuzz -M main -S s1, up to ${seconds}s"
	fuzz_canary "$tree" "$bin" "$dir/afl"
	for inst in main s1; do
		st=$dir/afl/out/$inst/fuzzer_stats
		[ -f "$st" ] && echo "  $inst: $(stat_of "$st" execs_done) execs," \
			"$(stat_of "$st" execs_per_sec) exec/s, stability $(stat_of "$st" stability)," \
			"$(stat_of "$st" corpus_count) paths"
	done
	if [ -n "$afl_error" ]; then
		echo "canaries-afl.sh: $c: $afl_error; end of $dir/afl/$afl_inst.log:" >&2
		tail -n 15 "$dir/afl/$afl_inst.log" | sed 's/^/  /' >&2
		r_by[$c]="AFL-FUZZ FAILED" r_secs[$c]=- r_msg[$c]="$afl_error; see $dir/afl/$afl_inst.log" r_ok[$c]=2
		status=2
		continue
	fi
	if [ -z "$found_by" ]; then
		r_by[$c]=SURVIVED r_secs[$c]=">$seconds" r_msg[$c]="no crash saved" r_ok[$c]=1
		[ "$status" = 2 ] || status=1
		echo "  -> SURVIVED ${seconds}s"
		continue
	fi

	# The crash must fail alone on the canary binary (the first that does,
	# oldest first: persistent mode can leave state behind) and pass unpatched.
	crash=''
	while read -r _ f; do
		if ! SYMBOLIZE=1 run_one "$bin" "$f" "$dir/repro.log"; then
			crash=$f
			break
		fi
	done < <(crash_files "$dir/afl")
	if [ -z "$crash" ]; then
		r_by[$c]="afl-fuzz: NOT REPRODUCED" r_secs[$c]=$found_secs
		r_msg[$c]="no crash in $dir/afl/out/*/crashes fails outside afl-fuzz" r_ok[$c]=1
		[ "$status" = 2 ] || status=1
	elif ! SYMBOLIZE=1 run_one "$control" "$crash" "$dir/control.log"; then
		echo "canaries-afl.sh: REAL BUG: $crash also fails on the UNPATCHED fuzz_socket:" >&2
		echo "  $(first_message "$dir/control.log" "$fallback")  (log: $dir/control.log)" >&2
		r_by[$c]="afl-fuzz: PRE-EXISTING BUG" r_secs[$c]=$found_secs
		r_msg[$c]="unpatched fails too: $(first_message "$dir/control.log" "$fallback")" r_ok[$c]=1
		[ "$status" = 2 ] || status=1
	else
		r_by[$c]="afl-fuzz ($found_by)" r_secs[$c]=$found_secs
		r_msg[$c]=$(first_message "$dir/repro.log" "$fallback") r_ok[$c]=0
	fi
	echo "  -> ${r_by[$c]}, ${r_secs[$c]} s: ${r_msg[$c]}"
	[ -n "$crash" ] && echo "     crash: $crash"
done

{
	echo
	printf '%-36s | %-24s | %-8s | %s\n' canary 'found by' seconds message
	printf -- '-%.0s' {1..140}
	echo
	for c in "${canaries[@]}"; do
		printf '%-36s | %-24s | %-8s | %s\n' "$c" "${r_by[$c]}" "${r_secs[$c]}" "${r_msg[$c]}"
	done
	echo
	echo "fuzz_socket under AFL++ (-M main, -S s1, dict/lsecho.dict), ${seconds}s per canary;"
	echo "seconds: wall clock from the start of afl-fuzz to the first crash file (0 = a seed fails)."
} | tee "$out/summary.txt"
for c in "${canaries[@]}"; do
	[ "${r_ok[$c]}" = 0 ] && continue
	echo "canaries-afl.sh: $c: ${r_by[$c]}; logs in build/canaries-afl/$c/" >&2
done
exit "$status"
