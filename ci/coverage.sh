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
cov=(-instr-profile="$out/all.profdata" "${objects[@]:1}" src/)
llvm-cov show -format=html -output-dir="$out/html" "${cov[@]}" >/dev/null
echo "coverage of src/ from $inputs (HTML: $out/html/index.html):"
llvm-cov report "${cov[@]}" | tee "$out/summary.txt"
