# lsecho: the user-facing verbs, over CMake. Build trees live under build/.
#   make         release build into build/
#   make test    ASan+UBSan (clang) and gcc builds, every ctest test in both
#   make fuzz    the fuzzing suite (issue 5)
GEN := $(if $(shell command -v ninja 2>/dev/null),Ninja,Unix Makefiles)
CMAKE := cmake -G "$(GEN)" -Wno-dev
# Assertions stay on in test builds: they are invariants, not debugging.
ASAN_ENV := ASAN_OPTIONS=abort_on_error=1:detect_leaks=1:strict_string_checks=1 \
            UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

.PHONY: all test fuzz clean deps-build deps-test

all: deps-build
	$(CMAKE) -S . -B build -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG" >/dev/null
	cmake --build build

deps-build:
	@ci/deps.sh build
deps-test:
	@ci/deps.sh test

test: deps-test
	$(CMAKE) -S . -B build/asan -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
	  -DCMAKE_C_FLAGS_DEBUG="-O1 -g" -DLSE_SANITIZE=address,undefined >/dev/null
	cmake --build build/asan
	cd build/asan && $(ASAN_ENV) ctest --output-on-failure -j2
	$(CMAKE) -S . -B build/gcc -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=Release \
	  -DCMAKE_C_FLAGS_RELEASE="-O2 -g" >/dev/null
	cmake --build build/gcc
	cd build/gcc && ctest --output-on-failure -j2

fuzz:
	@echo "make fuzz: the libFuzzer suite is not built yet (issue 5)." >&2; exit 1

clean:
	rm -rf build
