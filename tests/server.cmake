# Integration tests of lsecho-server (tests/test_server.c): the real program
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
# Signals at the edges of the server's life (SIGTERM as soon as it accepts;
# SIGTERM repeated during shutdown), apart so that a failure names itself.
add_test(NAME test_server_signals COMMAND test_server $<TARGET_FILE:lsecho-server> signals)
set_tests_properties(test_server_signals PROPERTIES TIMEOUT 20)
