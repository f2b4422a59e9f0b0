#!/usr/bin/env bash
# What `make coverage` runs: clang source-based coverage of the core (src/)
# reached by every fuzz target replaying its inputs, as an llvm-cov summary
# and an HTML report under build/coverage/.
#   COVERAGE_INPUTS=seeds  (default) corpus/<t> and corpus/regressions/<t>
#   COVERAGE_INPUTS=work   also build/fuzz-work/<t>/corpus, what `make fuzz` found
set -euo pipefail
cd "$(dirname "$0")/.."
inputs=${COVERAGE_INPUTS:-seeds}
case $inputs in seeds|work) ;; *) echo "coverage: COVERAGE_INPUTS must be seeds or work" >&2; exit 2 ;; esac
ci/build.sh cov
out=build/coverage
rm -rf "$out"
mkdir -p "$out/raw"
objects=()
for t in $(ci/fuzz.sh --list); do
	bin=build/cov/harness/$t
	dirs=(corpus/"$t")
	[ -d corpus/regressions/"$t" ] && dirs+=(corpus/regressions/"$t")
	[ "$inputs" = work ] && [ -d build/fuzz-work/"$t"/corpus ] && dirs+=(build/fuzz-work/"$t"/corpus)
	LLVM_PROFILE_FILE="$out/raw/$t.profraw" "$bin" "${dirs[@]}" >/dev/null
	objects+=(-object "$bin")
done
llvm-profdata merge -sparse "$out"/raw/*.profraw -o "$out/all.profdata"
# objects[0] is "-object": llvm-cov takes the first binary bare.
cov=(-instr-profile="$out/all.profdata" "${objects[@]:1}")
llvm-cov show -format=html -output-dir="$out/html" "${cov[@]}" src/ >/dev/null
echo "coverage from $inputs (HTML: $out/html/index.html)"
echo "the core (the goal: src/lse_frame.c, lse_sess.c, lse_conn.c):"
llvm-cov report "${cov[@]}" src/lse_frame.c src/lse_frame.h src/lse_sess.c src/lse_conn.c | tee "$out/summary.txt"
echo "the shell, as far as fuzz_socket reaches it (src/lse_loop.c, lse_sock.c):"
llvm-cov report "${cov[@]}" src/lse_loop.c src/lse_sock.c | tee -a "$out/summary.txt"
