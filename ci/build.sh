#!/usr/bin/env bash
# Configures and builds one build tree; the single place build flags live.
# Usage: ci/build.sh VARIANT [TARGET...]
#   release  build/          cc (gcc unless CC says otherwise), -O2, hardened (LSE_HARDEN,
#                            cmake/harden.cmake), no sanitizers
#   unhardened  build/unhardened  as release without LSE_HARDEN: ci/harden-bench.sh's baseline
#   release-drop build/drop-NAME  as release without the hardening flags named in
#                            $LSE_HARDEN_DROP (cmake/harden.cmake): ci/harden-bench.sh
#   asan     build/asan      clang, ASan+UBSan, standalone fuzz driver (tests, replays)
#   gcc      build/gcc       gcc -O2, hardened, standalone fuzz driver
#   fuzz     build/fuzz      clang, libFuzzer + ASan+UBSan
#   fuzz-mut build/fuzz-mut  as fuzz, with the frame-aware custom mutator
#   cov      build/cov       clang source-based coverage, standalone fuzz driver
#   tsan     build/tsan      clang ThreadSanitizer: the server and its integration tests
#   afl      build/afl       afl-clang-fast, ASan+UBSan, AFL++ persistent main (harness/afl/)
#   afl-cmplog build/afl-cmplog  the same with AFL_LLVM_CMPLOG=1, for afl-fuzz -c
#   afl-plain  build/afl-plain   afl-clang-fast, no sanitizers: for afl-showmap coverage
# LSE_WERROR=OFF in the environment keeps warnings from failing the build
# (the mutant schemata of make mutants compare a size_t with an int).
set -euo pipefail
cd "$(dirname "$0")/.."
variant=${1:?variant}
shift
gen=Ninja
command -v ninja >/dev/null 2>&1 || gen="Unix Makefiles"
# Assertions stay on in every test and fuzz build: they are invariants.
san=(-DCMAKE_BUILD_TYPE=Debug "-DCMAKE_C_FLAGS_DEBUG=-O1 -g" -DLSE_SANITIZE=address,undefined)
case $variant in
release) dir=build; args=(-DCMAKE_BUILD_TYPE=Release "-DCMAKE_C_FLAGS_RELEASE=-O2 -g -DNDEBUG" -DLSE_FUZZ_ENGINE=none -DLSE_HARDEN=ON) ;;
unhardened) dir=build/unhardened; args=(-DCMAKE_BUILD_TYPE=Release "-DCMAKE_C_FLAGS_RELEASE=-O2 -g -DNDEBUG" -DLSE_FUZZ_ENGINE=none -DLSE_HARDEN=OFF) ;;
release-drop) drop=${LSE_HARDEN_DROP:?release-drop needs LSE_HARDEN_DROP}; dir=build/drop-${drop// /-}; args=(-DCMAKE_BUILD_TYPE=Release "-DCMAKE_C_FLAGS_RELEASE=-O2 -g -DNDEBUG" -DLSE_FUZZ_ENGINE=none -DLSE_HARDEN=ON "-DLSE_HARDEN_DROP=${drop// /;}") ;;
asan) dir=build/asan; args=(-DCMAKE_C_COMPILER=clang "${san[@]}" -DLSE_FUZZ_ENGINE=standalone) ;;
gcc) dir=build/gcc; args=(-DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=Release "-DCMAKE_C_FLAGS_RELEASE=-O2 -g" -DLSE_FUZZ_ENGINE=standalone -DLSE_HARDEN=ON) ;;
fuzz) dir=build/fuzz; args=(-DCMAKE_C_COMPILER=clang "${san[@]}" -DLSE_FUZZ_ENGINE=libfuzzer -DLSE_FUZZ_MUTATOR=OFF) ;;
afl) dir=build/afl; args=(-DCMAKE_C_COMPILER=afl-clang-fast "${san[@]}" -DLSE_FUZZ_ENGINE=afl) ;;
afl-plain) dir=build/afl-plain; args=(-DCMAKE_C_COMPILER=afl-clang-fast -DCMAKE_BUILD_TYPE=Release "-DCMAKE_C_FLAGS_RELEASE=-O2 -g" -DLSE_FUZZ_ENGINE=afl) ;;
afl-cmplog) export AFL_LLVM_CMPLOG=1; dir=build/afl-cmplog; args=(-DCMAKE_C_COMPILER=afl-clang-fast "${san[@]}" -DLSE_FUZZ_ENGINE=afl) ;;
tsan) dir=build/tsan; args=(-DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_C_FLAGS_DEBUG=-O1 -g" -DLSE_SANITIZE=thread -DLSE_FUZZ_ENGINE=none) ;;
cov) dir=build/cov; args=(-DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_C_FLAGS_DEBUG=-O0 -g -fprofile-instr-generate -fcoverage-mapping -DLSE_SANDBOX_SANITIZED=1" -DCMAKE_EXE_LINKER_FLAGS=-fprofile-instr-generate -DLSE_FUZZ_ENGINE=standalone) ;;
fuzz-mut) dir=build/fuzz-mut; args=(-DCMAKE_C_COMPILER=clang "${san[@]}" -DLSE_FUZZ_ENGINE=libfuzzer -DLSE_FUZZ_MUTATOR=ON) ;;
*) echo "ci/build.sh: unknown variant '$variant'" >&2; exit 2 ;;
esac
if [[ $variant == afl* ]]; then
	# The harness helpers stay uninstrumented (harness/afl/denylist.txt).
	# afl-clang-fast reads the list at compile time, where ninja cannot see
	# it: a changed list rebuilds the tree.
	export AFL_LLVM_DENYLIST=$PWD/harness/afl/denylist.txt
	if [ -d "$dir" ] && ! cmp -s "$AFL_LLVM_DENYLIST" "$dir/denylist.used"; then
		rm -rf "$dir"
	fi
	mkdir -p "$dir"
	cp "$AFL_LLVM_DENYLIST" "$dir/denylist.used"
fi
cmake -G "$gen" -Wno-dev -S . -B "$dir" "${args[@]}" -DLSE_WERROR="${LSE_WERROR:-ON}" >/dev/null
if [ $# -gt 0 ]; then
	cmake --build "$dir" --target "$@"
else
	cmake --build "$dir"
fi
