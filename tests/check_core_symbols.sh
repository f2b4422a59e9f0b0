#!/bin/sh
# Fails if the core library calls anything but memory and string functions:
# no syscalls, no stdio, no sockets, no clock, no threads.
nm=$1 lib=$2
allowed='^(malloc|free|memcpy|memmove|memset|memcmp|strlen|__assert_fail|__stack_chk_fail)$'
# Undefined in some member and defined in none: what the library imports.
defined=$("$nm" --defined-only "$lib" | awk 'NF == 3 {print $3}' | sort -u)
undef=$("$nm" -u "$lib" | awk 'NF == 2 {print $2}' | sort -u | comm -23 - /dev/fd/3 3<<EOF2
$defined
EOF2
)
undef=$(printf '%s\n' "$undef" | grep -v -E '^__(asan|ubsan|sanitizer|sancov|tsan|msan|lsan|llvm|gcov)')
bad=$(printf '%s\n' "$undef" | grep -v -E "$allowed" | grep -v '^$')
if [ -n "$bad" ]; then
	echo "core_has_no_io: the core references forbidden symbols:"
	printf '  %s\n' $bad
	exit 1
fi
echo "core_has_no_io: undefined symbols are all allowed:" $undef
