#!/usr/bin/env bash
# ctest explain_corpus: the explain mode (make explain) on every committed
# seed and regression of every target (corpus/<t>, corpus/afl/<t>,
# corpus/regressions/<t>), through this build's targets (BIN_DIR). Every
# input must run clean, and its account must hold the parts every account
# has: the settings and, where answers are compared, a verdict on each
# connection's answer. One process explains a target's whole corpus, as
# the replay tests run it; ci/explain.sh itself (the target inferred from
# the path) runs on one input per target.
# Usage: tests/explain_corpus.sh BIN_DIR
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:?usage: explain_corpus.sh BIN_DIR}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
fail() { tail -n 40 "$log"; echo "explain_corpus: FAIL: $*" >&2; exit 1; }
total=0
while read -r t; do
	dirs=()
	for d in corpus/"$t" corpus/afl/"$t" corpus/regressions/"$t"; do
		[ -d "$root/$d" ] && dirs+=("$root/$d")
	done
	[ ${#dirs[@]} -gt 0 ] || continue
	LSE_EXPLAIN=1 LSE_STANDALONE_VERBOSE=1 "$bin/$t" "${dirs[@]}" >"$log" 2>&1 ||
		fail "$t: an input failed in the explain mode"
	case $t in
	fuzz_frame) first='^fuzz_frame: [0-9]+ records' verdict= ;;
	fuzz_api) first='^settings: mode ' verdict= ;;
	*) first='^(fuzz_alloc: allocation [0-9]+ fails|settings: flags 0x)'
	   verdict=': the answer is the model.s|the session could not be made|no connection yet' ;;
	esac
	# Each input's account, from its "Running:" line to the next.
	bad=$(awk -v first="$first" -v verdict="$verdict" '
		function done() { if (name != "" && (!f || (verdict != "" && !v))) print name }
		/^Running: / { done(); name = $2; f = 0; v = 0; next }
		$0 ~ first { f = 1 }
		verdict != "" && $0 ~ verdict { v = 1 }
		END { done() }' "$log")
	[ -z "$bad" ] || fail "$t: accounts without settings or a verdict: $bad"
	n=$(grep -c '^Running: ' "$log")
	total=$((total + n))
	one=$(find "${dirs[@]}" -type f | sort | sed -n 1p)
	EXPLAIN_BIN=$bin "$root/ci/explain.sh" "$one" >"$log" 2>&1 || fail "ci/explain.sh $one"
	grep -q "^explain.sh: $t on " "$log" || fail "ci/explain.sh did not infer $t from $one"
done < <(grep -E '^[a-z0-9_]+$' "$root/harness/targets.txt")
[ "$total" -gt 0 ] || fail "no input explained"
echo "explain_corpus: $total inputs explained"
