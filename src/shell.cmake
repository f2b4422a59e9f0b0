# The socket shell: lsecho_shell (used by lsecho-server, lsecho-bench and
# the socket harness) and the lsecho-server program.
find_package(Threads REQUIRED)
add_library(lsecho_shell STATIC src/lse_server.c src/lse_loop.c src/lse_sock.c)
target_link_libraries(lsecho_shell PUBLIC lsecho_core Threads::Threads)
target_include_directories(lsecho_shell PUBLIC src)

# libseccomp for the syscall allowlist, in lsecho-server alone: the fuzz
# targets and the benchmark run the shell without it.
find_package(PkgConfig REQUIRED)
pkg_check_modules(SECCOMP REQUIRED IMPORTED_TARGET libseccomp)
add_library(lsecho_sandbox STATIC src/lse_sandbox.c src/lse_sd.c)
target_link_libraries(lsecho_sandbox PUBLIC lsecho_shell PkgConfig::SECCOMP)

add_executable(lsecho-server src/lse_main.c)
target_link_libraries(lsecho-server PRIVATE lsecho_sandbox)
set_target_properties(lsecho-server PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})
include(${PROJECT_SOURCE_DIR}/tests/server.cmake OPTIONAL)
