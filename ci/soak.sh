#!/usr/bin/env bash
# The soak test (`make soak`): lsecho-server as users run it (its default
# thread count, a private socket directory) under lsecho-soak
# (tests/soak.c), one client process driving many concurrent random
# connections, every reply checked byte for byte against the model
# (tests/model.c). Two phases: framed, then raw (--raw). The first
# mismatching connections are saved as replay files under build/soak/.
#
# Usage: ci/soak.sh [FILE]
#   make soak                      framed then raw, SOAK_SECONDS each
#   make soak FILE=build/soak/mismatch-SEED.soak
#                                  replay that one connection alone against a
#                                  fresh server, SOAK_REPLAYS times
# Env (a bad value stops the run with a message saying which):
#   SOAK_SECONDS  seconds per phase (default 30: about a minute for both)
#   SOAK_CASES    connections per phase (with SOAK_SECONDS: whichever comes first)
#   SOAK_CONNS    connections at once (default 16, at most 4096)
#   SOAK_SEED     the seed (default random, printed): the same streams again
#   SOAK_PHASES   the phases, in order (default "framed raw")
#   SOAK_BUILD    release (default: build/, -O2, no assertions) or asan
#                 (build/asan: ASan+UBSan and assertions, server and client)
#   SOAK_REPLAYS  with FILE: how many times to run it (default 10)
# Exit status: 0 every phase passed (FILE: no mismatch); 1 a mismatch or a
# server fault (FILE: it reproduced); 2 bad usage.
set -euo pipefail
die() { echo "soak.sh: $*" >&2; exit 2; }

file=${1:-}
if [ -n "$file" ]; then
	[ -e "$file" ] || die "FILE=$file: no such file"
	[ -f "$file" ] || die "FILE=$file: not a regular file"
	[ -r "$file" ] || die "FILE=$file: cannot read it"
	# Absolute before the cd, so a path relative to the caller still works.
	file=$(cd "$(dirname -- "$file")" && pwd)/$(basename -- "$file")
fi
cd "$(dirname "$0")/.."

build=${SOAK_BUILD:-release}
case $build in
release) dir=build ;;
asan) dir=build/asan ;;
*) die "SOAK_BUILD='$build': want release or asan" ;;
esac
phases=${SOAK_PHASES-framed raw}
[ -n "${phases//[[:space:]]/}" ] || die "SOAK_PHASES is empty: want framed, raw or both"
for p in $phases; do
	case $p in
	framed | raw) ;;
	*) die "SOAK_PHASES='$phases': '$p' is not a phase (want framed, raw or both)" ;;
	esac
done

if [ "$build" = asan ]; then
	# As `make test` runs them: the first report ends the process.
	export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
	if command -v llvm-symbolizer >/dev/null 2>&1; then
		export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-$(command -v llvm-symbolizer)}
	fi
fi
ci/build.sh "$build" lsecho-server lsecho-soak
soak=$dir/tests/lsecho-soak
server=$dir/lsecho-server

if [ -n "$file" ]; then
	exec "$soak" --server "$server" --replay "$file"   # it reads SOAK_REPLAYS itself
fi

mkdir -p build/soak
rc=0
verdicts=()
for p in $phases; do
	args=(--server "$server" --save-dir build/soak)
	[ "$p" = raw ] && args+=(--raw)
	echo
	if "$soak" "${args[@]}"; then
		verdicts+=("$p PASS")
	else
		r=$?
		[ "$r" -ne 2 ] || exit 2   # a bad setting: the next phase would say the same
		verdicts+=("$p FAIL")
		rc=1
	fi
done
echo
echo "soak ($build): ${verdicts[*]}"
exit $rc
