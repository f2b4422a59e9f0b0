# make install (PREFIX, DESTDIR): the programs, the systemd units, the
# sysusers.d file and the man page. The service's ExecStart= names the
# program where this install puts it, so lsecho.service is written at
# install time from contrib/systemd/lsecho.service.in, with the prefix
# given then (cmake --install --prefix).
include(GNUInstallDirs)
set(LSE_UNITDIR "lib/systemd/system" CACHE STRING
    "Where the systemd units go, under the prefix (or absolute)")
set(LSE_SYSUSERSDIR "lib/sysusers.d" CACHE STRING
    "Where the sysusers.d file goes, under the prefix (or absolute)")

install(TARGETS lsecho-server lsecho-bench RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(CODE "
  set(LSE_UNIT_BINDIR \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}\")
  configure_file(\"${PROJECT_SOURCE_DIR}/contrib/systemd/lsecho.service.in\"
                 \"${CMAKE_BINARY_DIR}/contrib/lsecho.service\" @ONLY)
")
install(FILES contrib/systemd/lsecho.socket ${CMAKE_BINARY_DIR}/contrib/lsecho.service
        DESTINATION ${LSE_UNITDIR})
install(FILES contrib/systemd/lsecho.sysusers DESTINATION ${LSE_SYSUSERSDIR}
        RENAME lsecho.conf)
install(FILES docs/man/lsecho-server.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
