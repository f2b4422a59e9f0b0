# The socket shell: lsecho_shell (used by lsecho-server, lsecho-bench and
# the socket harness) and the lsecho-server program.
find_package(Threads REQUIRED)
add_library(lsecho_shell STATIC src/lse_server.c src/lse_loop.c src/lse_sock.c)
target_link_libraries(lsecho_shell PUBLIC lsecho_core Threads::Threads)
target_include_directories(lsecho_shell PUBLIC src)

add_executable(lsecho-server src/lse_main.c)
target_link_libraries(lsecho-server PRIVATE lsecho_shell)
set_target_properties(lsecho-server PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})
include(${PROJECT_SOURCE_DIR}/tests/server.cmake OPTIONAL)
