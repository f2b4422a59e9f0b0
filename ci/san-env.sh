# Sanitizer options for fuzzing, sourced by the ci/ scripts that run the
# libFuzzer targets (fuzz.sh, fuzz-bench.sh, corpus-min.sh, canaries.sh,
# mutator-compare.sh). Options a caller already set come last and win.
#
# The ASan options are ClusterFuzz's, as OSS-Fuzz's base-runner image sets
# them (infra/base-images/base-runner/Dockerfile: "these match the settings
# used in ClusterFuzz"), without its /workspace/ path prefix. So a local
# `make fuzz` finds what the continuous fuzzers find, in the same way: use
# after return is caught on the stack too, a failed huge malloc returns NULL
# (the core then reports LSE_E_NOMEM) instead of killing the run, and the
# quarantine is 10 MB: enough for a use-after-free within a run of these
# targets (a few KiB allocated per input), while ASan's 256 MB default
# would hand every allocation untouched pages, a page fault each, for the
# first 256 MB of a run.
lse_asan_fuzz='alloc_dealloc_mismatch=0:allocator_may_return_null=1:allocator_release_to_os_interval_ms=500:check_malloc_usable_size=0:detect_container_overflow=1:detect_odr_violation=0:detect_leaks=1:detect_stack_use_after_return=1:fast_unwind_on_fatal=0:handle_abort=1:handle_segv=1:handle_sigill=1:max_uar_stack_size_log=16:print_scariness=1:quarantine_size_mb=10:strict_memcmp=1:symbolize=1:use_sigaltstack=1:dedup_token_length=3'
lse_ubsan_fuzz='halt_on_error=1:print_stacktrace=1:print_summary=1:silence_unsigned_overflow=1:symbolize=1:dedup_token_length=3'
export ASAN_OPTIONS="$lse_asan_fuzz${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="$lse_ubsan_fuzz${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
if command -v llvm-symbolizer >/dev/null 2>&1; then
	export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-$(command -v llvm-symbolizer)}
fi
