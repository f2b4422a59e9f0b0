#!/usr/bin/env bash
# What `make fuzz-compare` runs: for every target, plain libFuzzer and the
# frame-aware custom mutator side by side (the two at once, one core each, so
# they share whatever noise the machine has), each for FUZZ_SECONDS from the
# same seeds and dictionary; prints the edges (cov) and features (ft) each
# reached. Env: FUZZ_SECONDS (60), FUZZ_TARGETS (all), COMPARE_SEED (1).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-60}
seed=${COMPARE_SEED:-1}
targets=${FUZZ_TARGETS:-$(ci/fuzz.sh --list | tr '\n' ' ')}
ci/build.sh fuzz >/dev/null
ci/build.sh fuzz-mut >/dev/null
work=build/fuzz-compare
rm -rf "$work"
# shellcheck source=ci/san-env.sh
. ci/san-env.sh

run() {   # variant target -> log
	local v=$1 t=$2 dir=$work/$1/$2 dict=dict/lsecho.dict
	[ -f dict/"$t".dict ] && dict=dict/$t.dict
	mkdir -p "$dir/corpus"
	[ -d corpus/"$t" ] && cp corpus/"$t"/* "$dir/corpus/"
	build/"$v"/harness/"$t" -max_total_time="$secs" -seed="$seed" -dict="$dict" \
		-artifact_prefix="$dir/" "$dir/corpus" >"$dir/log" 2>&1 || true
}

last() {  # log field -> last value of "field: N" on a status line
	grep -E '^#[0-9]+' "$1" | tail -1 | sed -E "s/.* $2: ([0-9]+).*/\1/"
}

printf '%-14s | %9s %9s | %9s %9s | %s\n' target "plain cov" "mut cov" "plain ft" "mut ft" "crashes (plain/mut)"
for t in $targets; do
	run fuzz "$t" &
	run fuzz-mut "$t" &
	wait
	crashes() { find "$work/$1/$t" -maxdepth 1 -name 'crash-*' -o -maxdepth 1 -name 'leak-*' | wc -l; }
	printf '%-14s | %9s %9s | %9s %9s | %s/%s\n' "$t" \
		"$(last "$work/fuzz/$t/log" cov)" "$(last "$work/fuzz-mut/$t/log" cov)" \
		"$(last "$work/fuzz/$t/log" ft)" "$(last "$work/fuzz-mut/$t/log" ft)" \
		"$(crashes fuzz)" "$(crashes fuzz-mut)"
done
