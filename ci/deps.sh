#!/usr/bin/env bash
# Checks what a make verb needs; on Debian as root installs what is missing,
# otherwise names the exact command to run. Usage: ci/deps.sh build|test|fuzz|afl
set -euo pipefail
verb=${1:-build}
missing=()
lean=()   # big packages whose recommendations are not needed
have() { command -v "$1" >/dev/null 2>&1; }

have gcc || missing+=(gcc)
have make || missing+=(make)
have cmake || missing+=(cmake)
have patch || missing+=(patch)
have zip || missing+=(zip)
have unzip || missing+=(unzip)
python3 -c 'import yaml' 2>/dev/null || missing+=(python3-yaml)
have ninja || missing+=(ninja-build)
have pkg-config || missing+=(pkg-config)
# lsecho-server's syscall allowlist (src/lse_sandbox.c)
pkg-config --exists libseccomp 2>/dev/null || missing+=(libseccomp-dev)
if [ "$verb" != build ]; then
	have clang || missing+=(clang)
	have llvm-symbolizer || missing+=(llvm)
	# ctest hardening_check, units, test_server_activation
	have hardening-check || lean+=(devscripts)
	have systemd-analyze && have systemd-socket-activate || missing+=(systemd)
	have man || missing+=(man-db)   # ctest install_tree renders the man page
fi
if [ "$verb" = afl ]; then
	have afl-fuzz && have afl-clang-fast || missing+=(afl++)
	have gnuplot || missing+=(gnuplot-nox)   # afl-plot's coverage-over-time PNGs
fi

# clang is there but can it link the sanitizer (and fuzzer) runtimes?
runtime_ok() {
	local flags=-fsanitize=address,undefined dir
	[ "$verb" = fuzz ] && flags=-fsanitize=fuzzer,address,undefined
	dir=$(mktemp -d)
	if [ "$verb" = fuzz ]; then
		printf '#include <stdint.h>\n#include <stddef.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' >"$dir/t.c"
	else
		printf 'int main(void) { return 0; }\n' >"$dir/t.c"
	fi
	clang $flags "$dir/t.c" -o "$dir/t" >/dev/null 2>&1
	local rc=$?
	rm -rf "$dir"
	return $rc
}
# A link that worked once is remembered in build/ for this clang (its path
# and time), so that every make verb does not pay a compile for the check.
runtime_ok_cached() {
	local stamp id
	stamp="$(cd "$(dirname "$0")/.." && pwd)/build/.clang-runtimes-$verb"
	id=$(stat -L -c '%n %Y' "$(command -v clang)" 2>/dev/null) || id=none
	[ -f "$stamp" ] && [ "$(cat "$stamp")" = "$id" ] && return 0
	runtime_ok || return 1
	mkdir -p "$(dirname "$stamp")" && echo "$id" >"$stamp" || true
}
if [ "$verb" != build ] && have clang && ! runtime_ok_cached; then
	missing+=("libclang-rt-$(clang -dumpversion | cut -d. -f1)-dev")
fi

[ ${#missing[@]} -eq 0 ] && [ ${#lean[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && have apt-get; then
	echo "lsecho: installing ${missing[*]} ${lean[*]} (apt-get)"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	[ ${#missing[@]} -eq 0 ] || apt-get install -y -qq "${missing[@]}" >/dev/null
	# devscripts (hardening-check) recommends a mail system and more.
	[ ${#lean[@]} -eq 0 ] || apt-get install -y -qq --no-install-recommends "${lean[@]}" >/dev/null
	if [ "$verb" != build ] && ! runtime_ok; then
		echo "lsecho: clang still cannot link the sanitizer runtimes" >&2
		exit 1
	fi
	exit 0
fi
echo "lsecho: missing ${missing[*]} ${lean[*]}. Install them with:" >&2
[ ${#missing[@]} -eq 0 ] || echo "  sudo apt-get install -y ${missing[*]}" >&2
[ ${#lean[@]} -eq 0 ] || echo "  sudo apt-get install -y --no-install-recommends ${lean[*]}" >&2
exit 1
