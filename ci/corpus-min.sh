#!/usr/bin/env bash
# make corpus-min: merge and minimize each target's corpus, keeping every edge.
# Usage: ci/corpus-min.sh
# Env:   FUZZ_TARGETS="a b"  only these targets (default: all of harness/targets.txt)
#        CORPUS=dir          minimize this corpus instead (one target: TARGET=name),
#                            e.g. one downloaded from ClusterFuzzLite's storage;
#                            the result goes to build/corpus-min/<target>/, the
#                            directory itself is left alone
# libFuzzer: the input is the work corpus of `make fuzz`
# (build/fuzz-work/<t>/corpus) with the seeds and regressions; one -merge=1
# into an empty directory picks the files, which then replace the work
# corpus. The edges before come from that merge's control file, the edges
# after from a second merge over the result alone (small, so cheap): the two
# edge sets must be identical, or the old corpus is kept and this fails.
# Inputs that crash or time out during the merge are named with a repro line.
# AFL++: each build/afl-work/<t>/out/*/queue goes through afl-cmin into
# build/corpus-min/afl/<t>/, and afl-showmap -C counts the tuples before and
# after, which must be equal.
set -euo pipefail
cd "$(dirname "$0")/.."
die() { echo "corpus-min: $*" >&2; exit 2; }

mapfile -t known < <(ci/fuzz.sh --list)
targets=(${FUZZ_TARGETS:-${TARGET:-${known[*]}}})
for t in "${targets[@]}"; do
	[[ " ${known[*]} " == *" $t "* ]] || die "unknown target '$t'; known: ${known[*]}"
done
if [ -n "${CORPUS:-}" ]; then
	[ -d "$CORPUS" ] || die "CORPUS=$CORPUS is not a directory"
	[ ${#targets[@]} -eq 1 ] || die "CORPUS=dir needs TARGET=name (one of: ${known[*]})"
fi
ci/build.sh fuzz "${targets[@]}" >/dev/null
# shellcheck source=ci/san-env.sh
. ci/san-env.sh

# The union of the COV (edge) lines of a merge control file, one per line;
# with "crashed", the files that STARTED and never reported (crash, timeout).
ctl_edges() {
	awk '$1 == "COV" { for (i = 3; i <= NF; i++) print $i }' "$1" | sort -un
}
ctl_crashed() {
	awk 'NR == 1 { n = $1 } NR > 2 && NR <= n + 2 { f[NR - 3] = $0 }
		$1 == "STARTED" { s[$2] = 1 } $1 == "FT" { delete s[$2] }
		END { for (i in s) print f[i] }' "$1"
}
count() { find "$@" -maxdepth 1 -type f 2>/dev/null | wc -l; }

rows=()
fail=0
for t in "${targets[@]}"; do
	bin=build/fuzz/harness/$t
	tmp=build/corpus-min/.$t
	rm -rf "$tmp" && mkdir -p "$tmp/out" "$tmp/check"
	if [ -n "${CORPUS:-}" ]; then
		inputs=("$CORPUS")
		dest=build/corpus-min/$t
	else
		dest=build/fuzz-work/$t/corpus
		mkdir -p "$dest"
		inputs=("$dest" corpus/"$t")
		[ -d corpus/regressions/"$t" ] && inputs+=(corpus/regressions/"$t")
	fi
	before=$(count "${inputs[@]}")
	start=$EPOCHREALTIME
	if ! "$bin" -merge=1 -merge_control_file="$tmp/ctl" -timeout="${FUZZ_TIMEOUT:-25}" \
		"$tmp/out" "${inputs[@]}" >"$tmp/merge.log" 2>&1; then
		tail -5 "$tmp/merge.log" >&2
		die "$t: the merge failed (log: $tmp/merge.log)"
	fi
	secs=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')
	ctl_edges "$tmp/ctl" >"$tmp/edges.before"
	"$bin" -merge=1 -merge_control_file="$tmp/ctl2" "$tmp/check" "$tmp/out" >"$tmp/check.log" 2>&1 ||
		die "$t: re-measuring the result failed (log: $tmp/check.log)"
	ctl_edges "$tmp/ctl2" >"$tmp/edges.after"
	eb=$(wc -l <"$tmp/edges.before") ea=$(wc -l <"$tmp/edges.after")
	after=$(count "$tmp/out")
	if cmp -s "$tmp/edges.before" "$tmp/edges.after"; then
		rm -rf "$dest" && mv "$tmp/out" "$dest"
		res=kept-all
	else
		res=LOST-EDGES
		fail=1
	fi
	while IFS= read -r f; do
		[ -n "$f" ] || continue
		echo "corpus-min: $t: $f crashed or timed out in the merge: make repro FILE=$f TARGET=$t"
		fail=1
	done < <(ctl_crashed "$tmp/ctl")
	rows+=("$t libfuzzer $before $after $eb $ea $res $secs $dest")
	[ "$res" = LOST-EDGES ] || rm -rf "$tmp"
done

# AFL++ queues, where make fuzz-afl / make fuzz ENGINE=afl left some.
for t in "${targets[@]}"; do
	queues=(build/afl-work/"$t"/out/*/queue)
	[ -d "${queues[0]}" ] && [ -z "${CORPUS:-}" ] || continue
	command -v afl-cmin >/dev/null || { echo "corpus-min: $t: AFL++ queues skipped (no afl-cmin)"; continue; }
	ci/build.sh afl "$t" >/dev/null
	bin=build/afl/harness/$t
	tmp=build/corpus-min/.afl-$t dest=build/corpus-min/afl/$t
	rm -rf "$tmp" "$dest" && mkdir -p "$tmp/in" "$(dirname "$dest")"
	# One flat input directory; the queues' file names repeat across instances.
	for q in "${queues[@]}"; do
		for f in "$q"/id:*; do [ -f "$f" ] && cp "$f" "$tmp/in/$(basename "$(dirname "$q")")-${f##*/id:}"; done
	done
	before=$(count "$tmp/in")
	start=$EPOCHREALTIME
	AFL_QUIET=1 afl-cmin -i "$tmp/in" -o "$dest" -m none -t 5000 -- "$bin" >"$tmp/cmin.log" 2>&1 ||
		die "$t: afl-cmin failed (log: $tmp/cmin.log)"
	secs=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')
	tuples() { AFL_QUIET=1 afl-showmap -C -i "$1" -o "$tmp/map" -m none -t 5000 -- "$bin" >/dev/null 2>&1 || true; wc -l <"$tmp/map"; }
	eb=$(tuples "$tmp/in") ea=$(tuples "$dest")
	res=kept-all
	[ "$eb" = "$ea" ] || { res=LOST-TUPLES; fail=1; }
	rows+=("$t afl++ $before $(count "$dest") $eb $ea $res $secs $dest")
	[ "$res" = LOST-TUPLES ] || rm -rf "$tmp"
done

printf '\n%-13s %-9s %7s %7s %8s %8s %-10s %8s %s\n' target engine files kept edges edges result seconds "minimized corpus"
printf '%-13s %-9s %7s %7s %8s %8s %-10s %8s\n' "" "" before after before after "" merge
for r in "${rows[@]}"; do
	# shellcheck disable=SC2086
	set -- $r
	printf '%-13s %-9s %7s %7s %8s %8s %-10s %8.2f %s\n' "$@"
done
exit $fail
