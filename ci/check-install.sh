#!/usr/bin/env bash
# ctest install_tree and units: `make install` into a temporary DESTDIR,
# then checks what it put there.
# Usage: ci/check-install.sh BUILD_DIR files|units
#   files  the programs, units, sysusers.d file and man page are where
#          they belong; the service runs the installed program; the man
#          page renders without a warning and names every option --help
#          lists.
#   units  systemd-analyze verify is clean on the installed units, and
#          systemd-analyze security --offline=true rates lsecho.service at
#          an exposure of 1.5 or less. No systemd needs to run.
set -euo pipefail
build=$(cd "${1:?build dir}" && pwd)
what=${2:?files or units}
prefix=/usr/local
tmp=$(mktemp -d /tmp/lsecho-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "check-install: $*" >&2; exit 1; }

DESTDIR=$tmp/root cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" ||
	{ cat "$tmp/install.log" >&2; fail "cmake --install failed"; }
root=$tmp/root$prefix
units=$root/lib/systemd/system

case $what in
files)
	for f in bin/lsecho-server bin/lsecho-bench; do
		[ -x "$root/$f" ] || fail "$prefix/$f is missing or not executable"
	done
	for f in lib/systemd/system/lsecho.socket lib/systemd/system/lsecho.service \
		lib/sysusers.d/lsecho.conf share/man/man1/lsecho-server.1; do
		[ -f "$root/$f" ] || fail "$prefix/$f is missing"
	done
	grep -qx "ExecStart=$prefix/bin/lsecho-server --any-uid" "$units/lsecho.service" ||
		fail "lsecho.service does not run $prefix/bin/lsecho-server: $(grep ExecStart "$units/lsecho.service")"
	"$root/bin/lsecho-server" --version | grep -q '^lsecho-server ' ||
		fail "the installed lsecho-server does not run"
	man=$root/share/man/man1/lsecho-server.1
	if command -v man >/dev/null 2>&1; then
		warn=$(LC_ALL=C.UTF-8 man --warnings -E UTF-8 -l "$man" 2>&1 >/dev/null) || true
		[ -z "$warn" ] || fail "the man page renders with warnings: $warn"
		text=$(LC_ALL=C.UTF-8 MANWIDTH=200 man -E UTF-8 -l "$man" 2>/dev/null)
	else
		echo "check-install: man is not installed: the page is checked as source only"
		text=$(sed 's/\\-/-/g' "$man")
	fi
	# The man page and --help agree on the options.
	for opt in $("$root/bin/lsecho-server" --help | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
		grep -qF -- "$opt" <<<"$text" || fail "--help lists $opt, the man page does not"
	done
	options=$(awk '/^OPTIONS/ { on = 1; next } /^[A-Z]/ { on = 0 } on' <<<"$text")
	[ -n "$options" ] || fail "the man page has no OPTIONS section"
	for opt in $(grep -oE -- '--[a-z][a-z-]+' <<<"$options" | sort -u); do
		"$root/bin/lsecho-server" --help | grep -qF -- "$opt" ||
			fail "the man page's OPTIONS list $opt, --help does not"
	done
	echo "check-install: $prefix/bin (2 programs), lsecho.socket, lsecho.service, sysusers.d, man page: installed; man page and --help agree"
	;;
units)
	command -v systemd-analyze >/dev/null 2>&1 ||
		{ echo "check-install: skipped: systemd-analyze is not installed (Debian package systemd; ci/deps.sh test installs it)"; exit 77; }
	# verify wants ExecStart='s program to exist on this machine, and
	# --root would want a whole system (sysinit.target) under DESTDIR: the
	# installed units are checked as they are, with the program's path
	# moved into DESTDIR. Documentation='s man page is not installed on
	# this machine, so --man=no; the files check renders it.
	mkdir -p "$tmp/units"
	cp "$units/lsecho.socket" "$tmp/units/"
	sed "s|^ExecStart=$prefix/|ExecStart=$root/|" "$units/lsecho.service" >"$tmp/units/lsecho.service"
	out=$(cd "$tmp/units" && systemd-analyze verify --man=no lsecho.socket lsecho.service 2>&1) ||
		fail "systemd-analyze verify: $out"
	[ -z "$out" ] || fail "systemd-analyze verify printed: $out"
	sec=$(cd "$tmp/units" && systemd-analyze security --offline=true --threshold=15 lsecho.service 2>&1) ||
		{ printf '%s\n' "$sec" | grep -v '^✓' >&2; fail "systemd-analyze security: exposure above 1.5"; }
	level=$(printf '%s\n' "$sec" | sed -n 's/.*Overall exposure level for lsecho.service: \([0-9.]*\).*/\1/p')
	[ -n "$level" ] || fail "no exposure level in: $sec"
	awk -v l="$level" 'BEGIN { exit !(l <= 1.5) }' || fail "exposure $level, want at most 1.5"
	# The server installs its own filter: systemd's must let seccomp() through
	# (@system-service alone does not), or the service fails at start.
	allowed=$(sed -n 's/^SystemCallFilter=\([^~].*\)/\1/p' "$units/lsecho.service")
	grep -qw seccomp <<<"$allowed" || fail "lsecho.service's SystemCallFilter= does not allow seccomp: $allowed"
	if systemd-analyze syscall-filter @system-service 2>/dev/null | grep -qw seccomp; then
		echo "check-install: note: @system-service now includes seccomp; the explicit entry is redundant"
	fi
	echo "check-install: systemd-analyze verify clean; security --offline=true: exposure $level (at most 1.5); seccomp() allowed"
	;;
*) fail "unknown check '$what' (want files or units)" ;;
esac
