# lsecho-bench: the echo benchmark and its side-by-side floor,
# a minimal epoll echo server run in the same process. Built as
# build/lsecho-bench. With the socket shell (lsecho_shell) it can also run
# lsecho's server in-process; without it, only --socket PATH and
# --floor-only work.
find_package(Threads REQUIRED)
add_executable(lsecho-bench ${PROJECT_SOURCE_DIR}/bench/lse_bench.c ${PROJECT_SOURCE_DIR}/bench/lse_floor.c)
target_link_libraries(lsecho-bench PRIVATE lsecho_core Threads::Threads)
target_include_directories(lsecho-bench PRIVATE ${PROJECT_SOURCE_DIR}/bench)
target_compile_definitions(lsecho-bench PRIVATE _GNU_SOURCE
                           LSE_BENCH_VERSION="${PROJECT_VERSION}")
if(TARGET lsecho_shell)
  target_link_libraries(lsecho-bench PRIVATE lsecho_shell)
  target_compile_definitions(lsecho-bench PRIVATE LSE_HAVE_SERVER=1)
endif()
set_target_properties(lsecho-bench PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})

# lsecho-sandbox-cost: the syscall filter's cost per call (docs/results.md).
if(TARGET lsecho_sandbox)
  add_executable(lsecho-sandbox-cost ${PROJECT_SOURCE_DIR}/bench/lse_sandbox_cost.c)
  target_link_libraries(lsecho-sandbox-cost PRIVATE lsecho_sandbox)
  set_target_properties(lsecho-sandbox-cost PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})
endif()
