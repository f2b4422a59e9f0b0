#!/usr/bin/env bash
# Fuzzes every libFuzzer target in parallel, then tabulates; `make fuzz` runs it.
# Usage: ci/fuzz.sh          build, fuzz every target, print the table
#        ci/fuzz.sh --list   print the target names, one a line, and exit
# Env:   FUZZ_SECONDS=60     -max_total_time of each target
#        FUZZ_JOBS=nproc     how many targets run at once
#        FUZZ_TARGETS="a b"  only these targets
#        FUZZ_MUTATOR=1      use the build/fuzz-mut variant (custom mutator)
#        FUZZ_MAX_LEN=8192   -max_len (small inputs run ~10x faster; limits down to 1 byte reach the bounds);  FUZZ_TIMEOUT=25: -timeout (s per input)
# Each target works in build/fuzz-work/<target>/: corpus/ (new units: the
# first corpus dir is the only one libFuzzer writes), crashes/, log. The
# committed corpus/<target> and corpus/regressions/<target> are read only.
# Exits 0 if clean, 1 if a target crashed or failed, 130 when interrupted.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "fuzz.sh: $*" >&2; exit 2; }

# The targets are listed once, in harness/targets.txt, which CMake reads too.
# Read before any build: repro.sh must name targets without building them all.
list_targets() {
	grep -v -E '^[[:space:]]*(#|$)' harness/targets.txt
}

mapfile -t known < <(list_targets)
[ ${#known[@]} -gt 0 ] || die "found no targets in harness/targets.txt"
if [ "${1:-}" = --list ]; then
	printf '%s\n' "${known[@]}"
	exit 0
fi
[ $# -eq 0 ] || die "unknown argument '$1' (usage: ci/fuzz.sh [--list]; settings are env vars)"

posint() { [[ $2 =~ ^[1-9][0-9]*$ ]] || die "$1 must be a positive integer, not '$2'"; }
seconds=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}
max_len=${FUZZ_MAX_LEN:-8192}
timeout=${FUZZ_TIMEOUT:-25}
posint FUZZ_SECONDS "$seconds"
posint FUZZ_JOBS "$jobs"
posint FUZZ_MAX_LEN "$max_len"
posint FUZZ_TIMEOUT "$timeout"

targets=()
for t in ${FUZZ_TARGETS:-${known[*]}}; do
	[[ " ${known[*]} " == *" $t "* ]] || die "unknown target '$t'; known: ${known[*]}"
	targets+=("$t")
done

variant=fuzz
[ "${FUZZ_MUTATOR:-0}" = 1 ] && variant=fuzz-mut
ci/build.sh "$variant" "${targets[@]}"
bindir=build/$variant/harness
for t in "${targets[@]}"; do
	[ -x "$bindir/$t" ] || die "$t is in LSE_FUZZ_TARGETS but the build made no $bindir/$t"
done

# ClusterFuzz's sanitizer options; options callers set win.
# shellcheck source=ci/san-env.sh
. ci/san-env.sh

work=build/fuzz-work
declare -A pid rc

launch() {
	local t=$1 w=$work/$1 args
	mkdir -p "$w/corpus" "$w/crashes"
	args=(-max_total_time="$seconds" -print_final_stats=1 -close_fd_mask=0
	      -artifact_prefix="$w/crashes/" -max_len="$max_len" -timeout="$timeout")
	if [ -f "dict/$t.dict" ]; then
		args+=(-dict="dict/$t.dict")
	elif [ -f dict/lsecho.dict ]; then
		args+=(-dict=dict/lsecho.dict)
	fi
	args+=("$w/corpus")
	[ -d "corpus/$t" ] && args+=("corpus/$t")
	[ -d "corpus/regressions/$t" ] && args+=("corpus/regressions/$t")
	# Artifacts newer than this mark are this run's; older ones stay as they were.
	touch "$w/.start"
	echo "start  $t: $bindir/$t ${args[*]}"
	"$bindir/$t" "${args[@]}" >"$w/log" 2>&1 &
	pid[$t]=$!
}

# Prints "runs cov corp exec/s" from a log: the final stats when there are
# any, else the latest status line ("#123 NEW cov: 253 ft: 940 corp: 179/21Kb ...").
summarize() {
	awk '
	/^#[0-9]+[ \t]/ {
		runs = substr($1, 2); eps = "-"
		for (i = 2; i < NF; i++) {
			if ($i == "cov:") cov = $(i + 1)
			if ($i == "corp:") { corp = $(i + 1); sub(/\/.*/, "", corp) }
			if ($i == "exec/s:") eps = $(i + 1)
		}
	}
	/^stat::number_of_executed_units:/ { runs = $2 }
	/^stat::average_exec_per_sec:/ { eps = $2 }
	END {
		printf "%s %s %s %s\n", runs == "" ? "-" : runs, cov == "" ? "-" : cov,
		       corp == "" ? "-" : corp, eps == "" ? "-" : eps
	}' "$1" 2>/dev/null || echo "- - - -"
}

new_artifacts() {
	find "$work/$1/crashes" -maxdepth 1 -type f \
		\( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) \
		-newer "$work/$1/.start" | sort
}

interrupted=0
any_running() {
	local t
	for t in "${running[@]}"; do
		kill -0 "${pid[$t]}" 2>/dev/null && return 0
	done
	return 1
}
stop_all() {
	local t i
	for t in "${running[@]}"; do
		kill -TERM "${pid[$t]}" 2>/dev/null || true
	done
	# libFuzzer prints its final stats on SIGTERM; give it 5 s to.
	for ((i = 0; i < 50; i++)); do
		any_running || break
		sleep 0.1
	done
	for t in "${running[@]}"; do
		kill -KILL "${pid[$t]}" 2>/dev/null || true
		rc[$t]=0
		wait "${pid[$t]}" || rc[$t]=$?
	done
	running=()
}
trap 'interrupted=1' INT TERM

echo "fuzz.sh: ${targets[*]}: ${seconds}s each, $jobs at a time ($variant build)"
pending=("${targets[@]}")
running=()
begin=$SECONDS
next_report=$((SECONDS + 10))
while [ ${#pending[@]} -gt 0 ] || [ ${#running[@]} -gt 0 ]; do
	still=()
	for t in "${running[@]}"; do
		if kill -0 "${pid[$t]}" 2>/dev/null; then
			still+=("$t")
		else
			rc[$t]=0
			wait "${pid[$t]}" || rc[$t]=$?
			read -r runs cov corp eps < <(summarize "$work/$t/log")
			echo "done   $t: exit ${rc[$t]}, $runs runs, cov $cov, corp $corp"
		fi
	done
	running=("${still[@]}")
	if [ "$interrupted" = 1 ]; then
		echo "fuzz.sh: interrupted; stopping ${running[*]:-nothing}"
		stop_all
		break
	fi
	while [ ${#pending[@]} -gt 0 ] && [ ${#running[@]} -lt "$jobs" ]; do
		launch "${pending[0]}"
		running+=("${pending[0]}")
		pending=("${pending[@]:1}")
	done
	if [ $SECONDS -ge $next_report ] && [ ${#running[@]} -gt 0 ]; then
		for t in "${running[@]}"; do
			read -r runs cov corp eps < <(summarize "$work/$t/log")
			printf '[%4ds] %-16s #%-10s cov: %-6s corp: %-6s exec/s: %s\n' \
				$((SECONDS - begin)) "$t" "$runs" "$cov" "$corp" "$eps"
		done
		next_report=$((SECONDS + 10))
	fi
	sleep 1 || true
done
trap - INT TERM

failed=0
echo
printf '%-16s | %10s | %8s | %11s | %14s | %7s | %s\n' \
	target runs exec/s 'cov (edges)' 'corpus (units)' crashes status
printf -- '-%.0s' {1..92}
echo
for t in "${targets[@]}"; do
	if [ -z "${rc[$t]+set}" ]; then
		printf '%-16s | %10s | %8s | %11s | %14s | %7s | %s\n' "$t" - - - - - 'not run'
		continue
	fi
	read -r runs cov corp eps < <(summarize "$work/$t/log")
	n=$(new_artifacts "$t" | wc -l)
	if [ "$n" -gt 0 ]; then
		status=CRASH failed=1
	elif [ "${rc[$t]}" != 0 ] && [ "$interrupted" = 0 ]; then
		status="FAILED (exit ${rc[$t]})" failed=1
	elif [ "$interrupted" = 1 ]; then
		status=interrupted
	else
		status=ok
	fi
	printf '%-16s | %10s | %8s | %11s | %14s | %7s | %s\n' \
		"$t" "$runs" "$eps" "$cov" "$corp" "$n" "$status"
done

for t in "${targets[@]}"; do
	[ -n "${rc[$t]+set}" ] || continue
	mapfile -t found < <(new_artifacts "$t")
	old=$(find "$work/$t/crashes" -maxdepth 1 -type f ! -newer "$work/$t/.start" | wc -l)
	if [ "$old" -gt 0 ]; then
		echo "note: $t: $old older file(s) in $work/$t/crashes/ from earlier runs, not counted"
	fi
	if [ ${#found[@]} -gt 0 ]; then
		echo
		echo "$t: ${#found[@]} artifact(s); log: $work/$t/log. Reproduce with:"
		for f in "${found[@]}"; do
			echo "  make repro FILE=$f TARGET=$t"
		done
	elif [ "${rc[$t]}" != 0 ] && [ "$interrupted" = 0 ]; then
		echo
		echo "$t: exited with status ${rc[$t]} but left no artifact; end of $work/$t/log:"
		tail -n 20 "$work/$t/log" | sed 's/^/  /'
	fi
done

if [ "$interrupted" = 1 ]; then
	exit 130
fi
exit "$failed"
