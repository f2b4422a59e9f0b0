#!/bin/bash -eu
# OSS-Fuzz / ClusterFuzzLite build of lsecho's fuzz targets.
# Uses only what the build environment sets, and overrides none of it:
# $CC $CXX $CFLAGS $CXXFLAGS $LIB_FUZZING_ENGINE $OUT $SRC $WORK $SANITIZER
# $FUZZING_ENGINE $ARCHITECTURE. For each target t, $OUT gets t,
# t_seed_corpus.zip (corpus/t, corpus/afl/t: other targets' seeds in t's
# format, and corpus/regressions/t), t.dict, t.options.
src=${SRC}/lsecho
[ -d "$src" ] || src=$(cd "$(dirname "$0")/../.." && pwd)   # ClusterFuzzLite, check-build
build=${WORK}/lsecho-build
targets=$(grep -v -E '^[[:space:]]*(#|$)' "$src/harness/targets.txt")
echo "lsecho: engine=$FUZZING_ENGINE sanitizer=$SANITIZER arch=$ARCHITECTURE"
# AFL++ instruments what the libFuzzer build leaves alone unless told
# (harness/afl/denylist.txt): the harness helpers and the model.
if [ "$FUZZING_ENGINE" = afl ]; then
	export AFL_LLVM_DENYLIST=$src/harness/afl/denylist.txt
fi

cmake -S "$src" -B "$build" -G "Unix Makefiles" -Wno-dev \
	-DCMAKE_BUILD_TYPE=None -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
	-DCMAKE_C_FLAGS="$CFLAGS" -DCMAKE_CXX_FLAGS="$CXXFLAGS" \
	-DLSE_FUZZ_ENGINE=oss-fuzz -DLSE_LIB_FUZZING_ENGINE="$LIB_FUZZING_ENGINE" \
	-DLSE_WERROR=OFF
# shellcheck disable=SC2086
cmake --build "$build" -j"$(nproc)" --target $targets

for t in $targets; do
	cp "$build/harness/$t" "$OUT/$t"
	rm -f "$OUT/${t}_seed_corpus.zip"
	(cd "$src/corpus" && find "$t" "afl/$t" "regressions/$t" -type f 2>/dev/null |
		zip -q -j "$OUT/${t}_seed_corpus.zip" -@)
	dict=$src/dict/lsecho.dict
	[ -f "$src/dict/$t.dict" ] && dict=$src/dict/$t.dict
	cp "$dict" "$OUT/$t.dict"
	# Inputs carry a schedule besides the bytes; 8 KiB holds many frames.
	printf '[libfuzzer]\ndict = %s.dict\nmax_len = 8192\n' "$t" >"$OUT/$t.options"
done
