# Compiler and linker hardening for the builds that ship (LSE_HARDEN: the
# release and gcc variants of ci/build.sh), after the OpenSSF Compiler
# Options Hardening Guide for C. Each flag is tried on the compiler in use
# first: what it lacks is left out and named in the configure output, so
# gcc and clang builds both stay clean. The sanitizer and fuzz builds do
# without: ASan and the fuzzers instrument memory themselves, and FORTIFY's
# checked functions would hide accesses from them.
#
# LSE_HARDEN_DROP (a list of the names below) leaves flags out, to measure
# what each costs (docs/results.md).
include(CheckCCompilerFlag)
include(CheckCSourceCompiles)
include(CheckPIESupported)

set(LSE_HARDEN_DROP "" CACHE STRING
    "Hardening flags to leave out, by name (fortify stack-protector stack-clash cf-protection auto-var-init semantics exceptions pie relro-now)")
set(LSE_HARDEN_USED "")

function(lse_harden_want name out)
  if(name IN_LIST LSE_HARDEN_DROP)
    set(${out} OFF PARENT_SCOPE)
  else()
    set(${out} ON PARENT_SCOPE)
  endif()
endfunction()

# Compile flags named `name`, if the compiler takes them all without a
# warning (-Werror: clang warns rather than fails on some it ignores).
function(lse_harden_flags name)
  lse_harden_want(${name} want)
  if(NOT want)
    message(STATUS "hardening: ${name} left out (LSE_HARDEN_DROP)")
    return()
  endif()
  string(MAKE_C_IDENTIFIER "LSE_HAVE_${name}_${ARGN}" var)
  set(CMAKE_REQUIRED_QUIET ON)
  set(CMAKE_REQUIRED_FLAGS "-Werror")
  string(REPLACE ";" " " flat "${ARGN}")
  check_c_compiler_flag("${flat}" ${var})
  if(${var})
    add_compile_options(${ARGN})
    set(LSE_HARDEN_USED "${LSE_HARDEN_USED} ${name}" PARENT_SCOPE)
    message(STATUS "hardening: ${name}: ${flat}")
  else()
    message(STATUS "hardening: ${name}: ${flat} not supported by this compiler")
  endif()
endfunction()

# _FORTIFY_SOURCE=3 where glibc and the compiler give level 3 (glibc 2.34+
# with gcc 12+ or clang 9+: __builtin_dynamic_object_size), else 2. The
# level glibc settles on is what counts, so that is what is tested.
lse_harden_want(fortify want)
if(want)
  foreach(level 3 2)
    set(CMAKE_REQUIRED_QUIET ON)
    set(CMAKE_REQUIRED_FLAGS "-O2 -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=${level}")
    check_c_source_compiles("#include <stdio.h>
#if !defined(__USE_FORTIFY_LEVEL) || __USE_FORTIFY_LEVEL != ${level}
#error no level ${level}
#endif
int main(void) { return 0; }" LSE_HAVE_FORTIFY_${level})
    if(LSE_HAVE_FORTIFY_${level})
      add_compile_options(-U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=${level})
      set(LSE_HARDEN_USED "${LSE_HARDEN_USED} fortify")
      message(STATUS "hardening: fortify: -D_FORTIFY_SOURCE=${level}")
      break()
    endif()
  endforeach()
endif()

lse_harden_flags(stack-protector -fstack-protector-strong)
lse_harden_flags(stack-clash -fstack-clash-protection)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|i.86)$")
  lse_harden_flags(cf-protection -fcf-protection=full)
endif()
# clang before 16 takes the flag only with its opt-in switch.
lse_harden_flags(auto-var-init -ftrivial-auto-var-init=zero)
if(NOT LSE_HARDEN_USED MATCHES "auto-var-init" AND NOT "auto-var-init" IN_LIST LSE_HARDEN_DROP)
  lse_harden_flags(auto-var-init -ftrivial-auto-var-init=zero
    -enable-trivial-auto-var-init-zero-knowing-it-will-be-removed-from-clang)
endif()
# The guide's "semantics" group: overflow wraps, null checks stay, and no
# type-based aliasing assumptions: undefined behaviour the optimiser would
# otherwise exploit.
lse_harden_flags(semantics -fno-delete-null-pointer-checks -fno-strict-overflow -fno-strict-aliasing)
# Unwind tables for every function, so a thread's cleanup handlers run
# through C frames (the guide's advice for multithreaded C).
lse_harden_flags(exceptions -fexceptions)

lse_harden_want(pie want)
if(want)
  check_pie_supported(OUTPUT_VARIABLE pie_why LANGUAGES C)
  if(CMAKE_C_LINK_PIE_SUPPORTED)
    set(CMAKE_POSITION_INDEPENDENT_CODE ON)
    set(LSE_HARDEN_USED "${LSE_HARDEN_USED} pie")
    message(STATUS "hardening: pie: -fPIE -pie")
  else()
    message(STATUS "hardening: pie: not supported: ${pie_why}")
  endif()
endif()

lse_harden_want(relro-now want)
if(want)
  add_link_options(-Wl,-z,relro -Wl,-z,now)
  set(LSE_HARDEN_USED "${LSE_HARDEN_USED} relro-now")
endif()
# Not a cost, so never dropped: no executable stack, and only the libraries
# a program uses.
add_link_options(-Wl,-z,noexecstack -Wl,--as-needed -Wl,--no-copy-dt-needed-entries)
message(STATUS "hardening:${LSE_HARDEN_USED} (and -z noexecstack, --as-needed)")
