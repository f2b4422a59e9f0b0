#!/usr/bin/env bash
# ctest hardening_check: Debian's hardening-check on lsecho-server, and the
# flags it cannot see checked in lsecho's own objects.
# Usage: ci/check-hardening.sh PROGRAM BUILD_DIR
#
# Control flow protection is judged by hardening-check from the program's
# IBT/SHSTK property, which ld sets only if every object linked has it.
# Debian 12's glibc start files (Scrt1.o, crti.o, crtn.o) and
# libc_nonshared.a carry none, so no program linked on it can pass, and the
# check is skipped (--nocfprotection) while that holds; instead each of
# lsecho-server's own objects must have the property. Where the start files
# have it, hardening-check judges the program itself.
#
# Stack clash protection shows in code only where a frame is larger than a
# page (a probe per page); lsecho-server has no such frame, so
# hardening-check says "unknown". With gcc, which records its flags in each
# compilation unit's DW_AT_producer, every unit must show the flag.
set -euo pipefail
prog=${1:?program}
build=${2:?build dir}
fail() { echo "check-hardening: $*" >&2; exit 1; }
if ! command -v hardening-check >/dev/null 2>&1; then
	echo "check-hardening: skipped: hardening-check is not installed (Debian package devscripts; ci/deps.sh test installs it)"
	exit 77
fi
cc=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt")
skip=()
crt=$("${cc:-cc}" -print-file-name=Scrt1.o)
if [ "$(uname -m)" = x86_64 ] && ! grep -q 'IBT, SHSTK' <<<"$(readelf -n "$crt" 2>/dev/null)"; then
	skip=(--nocfprotection)
	objs=$(find "$build/CMakeFiles" -path '*CMakeFiles/lsecho*' -name '*.o')
	[ -n "$objs" ] || fail "no lsecho objects under $build/CMakeFiles"
	n=0
	for o in $objs; do
		grep -q 'IBT, SHSTK' <<<"$(readelf -n "$o")" || fail "$o has no IBT/SHSTK property (-fcf-protection missing?)"
		n=$((n + 1))
	done
	echo "check-hardening: $crt has no IBT/SHSTK property, so no program linked here can show one:"
	echo "  control flow protection checked in lsecho's $n objects instead (all IBT, SHSTK)"
fi
producers=$(readelf --debug-dump=info "$prog" 2>/dev/null | grep 'DW_AT_producer' || true)
if grep -q 'GNU C' <<<"$producers"; then
	n=$(grep -c 'GNU C' <<<"$producers")
	for flag in -fstack-clash-protection -fstack-protector-strong -ftrivial-auto-var-init=zero; do
		bad=$(grep 'GNU C' <<<"$producers" | grep -vc -- "$flag" || true)
		[ "$bad" = 0 ] || fail "$bad of $n compilation units of $prog were built without $flag"
	done
	echo "check-hardening: all $n compilation units built with -fstack-clash-protection," \
		"-fstack-protector-strong, -ftrivial-auto-var-init=zero (DW_AT_producer)"
fi
hardening-check "${skip[@]}" "$prog"
