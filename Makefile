# lsecho: the user-facing verbs, over CMake (flags live in ci/build.sh).
#   make                 release build into build/
#   make install         the release build into PREFIX (/usr/local), under DESTDIR if set:
#                        bin/lsecho-server, bin/lsecho-bench, lib/systemd/system/lsecho.{socket,service},
#                        lib/sysusers.d/lsecho.conf, share/man/man1/lsecho-server.1
#   make test            ASan+UBSan (clang) and gcc builds, every test and corpus replay in both
#                        (and a short soak against the ASan server); the hardened release build's
#                        tests (hardening-check, install, units, the sandbox, the server and
#                        socket activation);
#                        the dictionaries through libFuzzer; the server tests under TSan;
#                        the OSS-Fuzz build (ci/oss-fuzz/check-build) for libFuzzer and AFL++
#   make fuzz            every libFuzzer target on its seeds, FUZZ_SECONDS (60) each, in parallel,
#                        then the socket harness under AFL++ (installed if missing), FUZZ_SECONDS
#                        or 90 s (AFL++ writes no plot row in its first minute)
#                        (ENGINE=afl: every target under AFL++ instead)
#   make fuzz-afl        AFL++ (-M/-S, CMPLOG) on the socket harness, FUZZ_SECONDS (90)
#   make repro FILE=f    reproduce one input [TARGET=name], symbolized report, then what it did
#   make explain FILE=f  what one input does, step by step [TARGET=name] (ASan standalone build)
#   make minimize FILE=f minimize a failing input, checking it fails the same way
#   make regress FILE=f  minimize, then keep it in corpus/regressions/<target>/
#   make corpus-min      merge/minimize each target's work corpus (libFuzzer -merge=1, afl-cmin),
#                        keeping every edge [CORPUS=dir TARGET=name: a downloaded corpus]
#   make corpus-min-bench  corpus-min against a bare -merge=1 on 10,000 files
#   make fuzz-bench      exec/s of every target beside an empty target
#   make corpus          regenerate the committed seeds from harness/gen_corpus.c (and
#                        corpus/afl/fuzz_socket from them through to_socket)
#   make coverage        llvm-cov of src/ from every target's seeds (HTML under build/coverage/)
#   make canaries        fuzz each canary bug (ci/canaries/) and report who finds it, how fast
#   make canaries-afl    the same under AFL++: the socket harness, 2 cores, 5 minutes per canary
#   make fuzz-compare    coverage after FUZZ_SECONDS, plain libFuzzer vs the frame-aware mutator
#   make mutants         mutation analysis of src/*.c against the seeds, the tests and the
#                        fuzzers, report under build/mutants/ [FILES=src/x.c] [DIFF=rev]
#                        [MUTANTS_SECONDS=60] [MUTANTS_SHARD=k/n] [MUTANTS_SEEDS=0]
#                        (docs/mutants.md)
#   make soak            lsecho-server as a process under many concurrent random clients, every
#                        reply checked against the model: framed then raw, SOAK_SECONDS (30) each;
#                        mismatches saved under build/soak/ [FILE=f: replay one alone]
#                        (SOAK_BUILD=asan: the ASan build; more settings in ci/soak.sh)
# FUZZ_SECONDS reaches the scripts from the environment or the command line;
# each has its own default (ci/fuzz.sh 60, ci/fuzz-afl.sh 90).
export FUZZ_SECONDS
SAN_ENV := ASAN_OPTIONS=abort_on_error=1:detect_leaks=1:strict_string_checks=1 \
           UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

PREFIX ?= /usr/local

.PHONY: all install test fuzz fuzz-afl repro explain minimize regress corpus-min corpus-min-bench fuzz-bench fuzz-compare corpus coverage canaries canaries-afl soak mutants clean

all:
	@ci/deps.sh build
	@ci/build.sh release

install: all
	DESTDIR="$(DESTDIR)" cmake --install build --prefix "$(PREFIX)"

# The release tree's tests: the server as shipped, hardened and sandboxed.
# Only what they run is built (the unit tests run in the ASan and gcc trees),
# and the gcc tree, built by the same compiler, leaves them to it.
RELEASE_TESTS = ^(hardening_check|install_tree|units|test_sandbox|test_server.*)$$
RELEASE_TEST_TARGETS = lsecho-server lsecho-bench test_server test_life test_server_api \
	test_sandbox lse-syscall-jail

test:
	@ci/deps.sh fuzz
	ci/build.sh asan
	cd build/asan && $(SAN_ENV) ctest --output-on-failure -j2
	ci/build.sh gcc
	cd build/gcc && ctest --output-on-failure -j2 -E '$(RELEASE_TESTS)'
	ci/build.sh release $(RELEASE_TEST_TARGETS)
	cd build && ctest --output-on-failure -j2 -R '$(RELEASE_TESTS)'
	ci/build.sh fuzz fuzz_empty
	for d in dict/*.dict; do ci/check-dict.sh build/fuzz/harness/fuzz_empty $$d || exit 1; done
	ci/build.sh tsan lsecho-server test_server test_server_api test_life
	cd build/tsan && TSAN_OPTIONS=halt_on_error=1 ctest -R '^test_server' --output-on-failure -j2
	ci/oss-fuzz/check-build libfuzzer:address $$(ci/deps.sh afl >/dev/null 2>&1 && echo afl:address)

ENGINE ?= libfuzzer
fuzz:
ifeq ($(ENGINE),afl)
	@ci/deps.sh afl
	@FUZZ_TARGETS="$${FUZZ_TARGETS:-$$(ci/fuzz.sh --list | tr '\n' ' ')}" ci/fuzz-afl.sh
else
	@ci/deps.sh fuzz
	@rc=0; ci/fuzz.sh || rc=$$?; \
	if [ -z "$$LSE_SKIP_AFL" ] && ci/deps.sh afl; then \
	  echo; echo "make fuzz: and the socket harness under AFL++ (LSE_SKIP_AFL=1 skips it)"; \
	  FUZZ_TARGETS=fuzz_socket ci/fuzz-afl.sh || rc=1; \
	else echo "make fuzz: AFL++ part skipped"; fi; exit $$rc
endif

fuzz-afl:
	@ci/deps.sh afl
	@ci/fuzz-afl.sh

repro:
	@ci/deps.sh fuzz
	@ci/repro.sh "$(FILE)" "$(TARGET)"

explain:
	@ci/deps.sh test
	@ci/explain.sh "$(FILE)" "$(TARGET)"

minimize:
	@ci/deps.sh fuzz
	@ci/regress.sh minimize "$(FILE)" "$(TARGET)"

regress:
	@ci/deps.sh fuzz
	@ci/regress.sh regress "$(FILE)" "$(TARGET)"

corpus-min:
	@ci/deps.sh fuzz
	@ci/corpus-min.sh

corpus-min-bench:
	@ci/deps.sh fuzz
	@ci/corpus-min-bench.sh

fuzz-bench:
	@ci/deps.sh fuzz
	@ci/fuzz-bench.sh

fuzz-compare:
	@ci/deps.sh fuzz
	@ci/mutator-compare.sh

coverage:
	@ci/deps.sh test
	@ci/coverage.sh

canaries:
	@ci/deps.sh fuzz
	@ci/canaries.sh

canaries-afl:
	@ci/deps.sh afl
	@ci/canaries-afl.sh

soak:
	@ci/deps.sh $(if $(filter asan,$(SOAK_BUILD)),test,build)
	@ci/soak.sh "$(FILE)"

mutants:
	@ci/deps.sh fuzz
	@FILES="$(FILES)" DIFF="$(DIFF)" ci/mutants.sh

corpus:
	@ci/deps.sh test
	ci/build.sh asan gen_corpus to_socket
	build/asan/harness/gen_corpus corpus
	rm -rf corpus/afl/fuzz_socket
	build/asan/harness/to_socket multi corpus/afl/fuzz_socket corpus/fuzz_multi
	build/asan/harness/to_socket session corpus/afl/fuzz_socket corpus/fuzz_session

clean:
	rm -rf build
