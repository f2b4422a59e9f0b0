# Integration tests of lsecho-server (tests/test_server.c, tests/test_life.c): the real program
# as a child process, in raw and framed modes. Included at the end of
# src/shell.cmake, so lsecho-server exists here; tests/CMakeLists.txt (and
# its lse_testlib) comes later, so the model and check helpers are compiled
# in directly rather than linked, whatever the order.
set(LSE_TESTS_DIR ${CMAKE_CURRENT_LIST_DIR})
add_executable(test_server
  ${LSE_TESTS_DIR}/test_server.c ${LSE_TESTS_DIR}/srvtest.c
  ${LSE_TESTS_DIR}/model.c ${LSE_TESTS_DIR}/feed.c)
target_include_directories(test_server PRIVATE ${LSE_TESTS_DIR})
target_link_libraries(test_server PRIVATE lsecho_core)
target_compile_definitions(test_server PRIVATE LSE_TEST_VERSION="${PROJECT_VERSION}")
set_target_properties(test_server PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
add_dependencies(test_server lsecho-server)
add_test(NAME test_server COMMAND test_server $<TARGET_FILE:lsecho-server>)
set_tests_properties(test_server PROPERTIES TIMEOUT 60)

# The server's own life as a property test (tests/test_life.c): what the
# socket path holds before start, the moment of the stop, the socket file
# at exit, every answer owed checked against the model. A fresh seed each
# run (printed, with the command that replays it); the default 20 trials
# deal every case at least once, in 5 to 10 s in the ASan and TSan builds
# (more: test_life SERVER --trials N). It stops at its first failing trial.
add_executable(test_life
  ${LSE_TESTS_DIR}/test_life.c ${LSE_TESTS_DIR}/srvtest.c
  ${LSE_TESTS_DIR}/model.c ${LSE_TESTS_DIR}/feed.c)
target_include_directories(test_life PRIVATE ${LSE_TESTS_DIR})
target_link_libraries(test_life PRIVATE lsecho_core)
set_target_properties(test_life PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
add_dependencies(test_life lsecho-server)
add_test(NAME test_server_life COMMAND test_life $<TARGET_FILE:lsecho-server>)
set_tests_properties(test_server_life PROPERTIES TIMEOUT 60)

# Signals at the edges of the server's life (SIGTERM as soon as it accepts;
# SIGTERM repeated during shutdown), apart so that a failure names itself.
# About 5 s on an idle machine, past 20 s at a load of 8.
add_test(NAME test_server_signals COMMAND test_server $<TARGET_FILE:lsecho-server> signals)
set_tests_properties(test_server_signals PROPERTIES TIMEOUT 60)
# Socket activation: the same echo checks through a socket that
# systemd-socket-activate made and passed (skipped, exit 77, only when the
# tool is missing: ci/deps.sh installs it), sd_notify, bad LISTEN_* setups.
add_test(NAME test_server_activation COMMAND test_server $<TARGET_FILE:lsecho-server> activation)
set_tests_properties(test_server_activation PROPERTIES TIMEOUT 60 SKIP_RETURN_CODE 77)

# lsecho-soak (tests/soak.c, `make soak`): the server as a process under many
# concurrent random clients, every reply checked against the model. The
# client links the model and no lsecho library: it shares only lse_frame.h's
# constants with the server.
add_executable(lsecho-soak
  ${LSE_TESTS_DIR}/soak.c ${LSE_TESTS_DIR}/soak_plan.c
  ${LSE_TESTS_DIR}/srvtest.c ${LSE_TESTS_DIR}/model.c)
target_include_directories(lsecho-soak PRIVATE ${LSE_TESTS_DIR} ${PROJECT_SOURCE_DIR}/src)
set_target_properties(lsecho-soak PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
add_dependencies(lsecho-soak lsecho-server)
# A short soak in the ASan build: a few seconds per mode, both the client
# and the server under the sanitizers. The flags replace any SOAK_SECONDS or
# SOAK_CASES in the environment.
if(LSE_SANITIZE MATCHES "address" AND LSE_FUZZ_ENGINE STREQUAL "standalone")
  add_test(NAME soak_short
           COMMAND lsecho-soak --server $<TARGET_FILE:lsecho-server> --seconds 3)
  add_test(NAME soak_short_raw
           COMMAND lsecho-soak --server $<TARGET_FILE:lsecho-server> --raw --seconds 2)
  set_tests_properties(soak_short soak_short_raw PROPERTIES TIMEOUT 30)
endif()

# The hardened build, as shipped: hardening-check (Debian's devscripts) on
# the program.
if(LSE_HARDEN)
  add_test(NAME hardening_check
           COMMAND ${PROJECT_SOURCE_DIR}/ci/check-hardening.sh $<TARGET_FILE:lsecho-server> ${CMAKE_BINARY_DIR})
  set_tests_properties(hardening_check PROPERTIES TIMEOUT 30 SKIP_RETURN_CODE 77)
endif()
