#!/usr/bin/env bash
# ctest install_tree and units: `make install` into a temporary DESTDIR,
# then checks what it put there.
# Usage: ci/check-install.sh BUILD_DIR files|units [JAIL]
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
	version=$("$root/bin/lsecho-server" --version) || fail "the installed lsecho-server does not run"
	grep -q '^lsecho-server ' <<<"$version" || fail "the installed lsecho-server's --version says: $version"
	help=$("$root/bin/lsecho-server" --help) || fail "the installed lsecho-server --help failed"
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
	for opt in $(grep -oE -- '--[a-z][a-z-]+' <<<"$help" | sort -u); do
		grep -qF -- "$opt" <<<"$text" || fail "--help lists $opt, the man page does not"
	done
	options=$(awk '/^OPTIONS/ { on = 1; next } /^[A-Z]/ { on = 0 } on' <<<"$text")
	[ -n "$options" ] || fail "the man page has no OPTIONS section"
	for opt in $(grep -oE -- '--[a-z][a-z-]+' <<<"$options" | sort -u); do
		grep -qF -- "$opt" <<<"$help" ||
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
	if grep -qw seccomp <<<"$(systemd-analyze syscall-filter @system-service 2>/dev/null)"; then
		echo "check-install: note: @system-service now includes seccomp; the explicit entry is redundant"
	fi
	echo "check-install: systemd-analyze verify clean; security --offline=true: exposure $level (at most 1.5); seccomp() allowed"
	jail=${3:-}
	[ -n "$jail" ] || exit 0
	python3 - "$units/lsecho.service" >"$tmp/allowed" <<'PY'
import subprocess, sys
def expand(tok):
    if not tok.startswith("@"):
        return {tok}
    out = subprocess.run(["systemd-analyze", "syscall-filter", tok],
                         capture_output=True, text=True, check=True).stdout
    names = set()
    for line in out.splitlines()[1:]:   # the first line is the group's name
        w = line.strip()
        if w and not w.startswith("#"):
            names |= expand(w)
    return names
allow = None
for line in open(sys.argv[1]):
    if line.startswith("SystemCallFilter="):
        v = line.split("=", 1)[1].strip()
        toks = set().union(*(expand(t) for t in v.lstrip("~").split()))
        if v.startswith("~"):
            allow -= toks
        else:
            allow = toks if allow is None else allow | toks
print("\n".join(sorted(allow)))
PY
	[ "$(wc -l <"$tmp/allowed")" -gt 100 ] || fail "the service's SystemCallFilter= expands to too little: $(wc -l <"$tmp/allowed") calls"
	grep -vx seccomp "$tmp/allowed" >"$tmp/no-seccomp"
	sock=$tmp/jail.sock
	# Without seccomp(), the server must stop at start and say why.
	if "$jail" "$tmp/no-seccomp" "$root/bin/lsecho-server" --any-uid --raw --socket "$sock" 2>"$tmp/jail0.log"; then
		fail "lsecho-server ran under a filter that refuses seccomp()"
	fi
	grep -q "cannot make a filter" "$tmp/jail0.log" || fail "no clear error without seccomp(): $(cat "$tmp/jail0.log")"
	"$jail" "$tmp/allowed" "$root/bin/lsecho-server" --any-uid --raw --socket "$sock" 2>"$tmp/jail.log" &
	pid=$!
	mode=
	for _ in $(seq 500); do
		mode=$(sed -n 's/^Seccomp_filters:[[:space:]]*//p' /proc/$pid/status 2>/dev/null || true)
		[ -S "$sock" ] && [ "${mode:-0}" -ge 2 ] && break
		sleep 0.01
	done
	[ "${mode:-0}" -ge 2 ] || { kill -KILL $pid 2>/dev/null || true; fail "under the unit's filter the server did not install its own (Seccomp_filters: ${mode:-none}); log: $(cat "$tmp/jail.log")"; }
	python3 - "$sock" <<'PY' || { kill -KILL $pid; fail "no echo under the unit's filter"; }
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
msg = b"lsecho under lsecho.service's SystemCallFilter"
s.sendall(msg)
s.shutdown(socket.SHUT_WR)
got = b""
while True:
    b = s.recv(4096)
    if not b:
        break
    got += b
sys.exit(0 if got == msg else 1)
PY
	kill -TERM $pid
	rc=0
	wait $pid || rc=$?
	[ "$rc" = 0 ] || fail "under the unit's filter the server exited $rc after SIGTERM; log: $(cat "$tmp/jail.log")"
	[ ! -e "$sock" ] || fail "under the unit's filter the server left its socket file"
	[ "$(tail -n 1 "$tmp/jail.log")" = "lsecho-server: stopped on SIGTERM" ] &&
		[ "$(grep -vc -e 'listening on' -e '^lsecho-server: stopped on SIGTERM$' "$tmp/jail.log")" = 0 ] ||
		fail "log under the unit's filter: $(cat "$tmp/jail.log")"
	echo "check-install: under the service's SystemCallFilter= ($(wc -l <"$tmp/allowed") calls): own filter on top, echo, exit 0, file removed; without seccomp it refuses to start"
	;;
*) fail "unknown check '$what' (want files or units)" ;;
esac
