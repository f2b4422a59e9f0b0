#!/usr/bin/env bash
# What the hardening costs: lsecho-bench (in-process server and floor)
# built unhardened (LSE_HARDEN off), hardened as shipped, and hardened
# without each flag in turn, run round-robin in one invocation so that the
# machine's drift touches every build alike.
# Usage: ci/harden-bench.sh
# Env:
#   HB_ROUNDS   rounds; each runs every build once, in a rotated order (default 3)
#   HB_FLAGS    the flags to take out one at a time (default: every name
#               cmake/harden.cmake knows; "" for none)
#   HB_SECONDS  exchange seconds per row (default 0.5); exchange runs for the
#               unhardened and hardened builds only
#   HB_REPEAT   lsecho-bench --repeat: each row K times, lsecho and floor
#               alternating, the best of each kept (default 1)
#   HB_MODE     time (default), or count: instead of timing, count the
#               user-space instructions of one pingpong run of each build
#               (100 connections, 20,000 round trips, client and in-process
#               server; valgrind --tool=cachegrind). A count does not move
#               with the machine's load, which on a shared machine swamps
#               the few per cent a flag can cost in wall-clock time.
# Prints, per row, the unhardened and hardened figures (medians over the
# rounds), their floor ratios, and hardened/unhardened; then per flag, the
# hardened build's time over the time without that flag.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${HB_ROUNDS:-3}
flags=${HB_FLAGS-fortify stack-protector stack-clash cf-protection auto-var-init semantics exceptions pie relro-now}
secs=${HB_SECONDS:-0.5}
repeat=${HB_REPEAT:-1}
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "harden-bench: HB_ROUNDS=$rounds: want a positive number" >&2; exit 2; }
[[ $repeat =~ ^[1-9][0-9]?$ ]] || { echo "harden-bench: HB_REPEAT=$repeat: want 1..99" >&2; exit 2; }

declare -A bin
ci/build.sh unhardened lsecho-bench >/dev/null
bin[unhardened]=build/unhardened/lsecho-bench
ci/build.sh release lsecho-bench >/dev/null
bin[hardened]=build/lsecho-bench
for f in $flags; do
	LSE_HARDEN_DROP=$f ci/build.sh release-drop lsecho-bench >/dev/null
	bin["no-$f"]=build/drop-$f/lsecho-bench
done
variants=(unhardened hardened)
for f in $flags; do variants+=("no-$f"); done

out=build/harden-bench
rm -rf "$out"
mkdir -p "$out"
if [ "${HB_MODE:-time}" = count ]; then
	command -v valgrind >/dev/null 2>&1 || { echo "harden-bench: HB_MODE=count needs valgrind (apt-get install valgrind)" >&2; exit 2; }
	for v in "${variants[@]}"; do
		valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file="$out/$v.cg" \
			"${bin[$v]}" --workload pingpong --conns 100 --rounds 20000 >/dev/null 2>"$out/$v.log" ||
			{ cat "$out/$v.log" >&2; exit 1; }
	done
	python3 - "$out" "$PWD/src/" "${variants[@]}" <<'PY'
import sys
out, src, variants = sys.argv[1], sys.argv[2], sys.argv[3:]
def count(v):   # instructions in lsecho's server code (src/), and in all
    server = total = 0
    in_src = False
    with open(f"{out}/{v}.cg") as f:
        for line in f:
            if line.startswith("fl="):
                in_src = line[3:].startswith(src)
            elif line[:1].isdigit():
                n = int(line.split()[1])
                total += n
                server += n if in_src else 0
    return server, total
c = {v: count(v) for v in variants}
hs, ht = c["hardened"]
print("user-space instructions per round trip, 20,000 pingpong round trips over 100 connections")
print("(server: lsecho's code in src/, the in-process server; all: with the client and the C library)")
print("| build | server | against hardened | all | against hardened |")
print("|---|---|---|---|---|")
for v in variants:
    s, t = c[v]
    print(f"| {v} | {s / 20000:.0f} | {s / hs:.4f} | {t / 20000:.0f} | {t / ht:.4f} |")
PY
	exit 0
fi
n=${#variants[@]}
for ((r = 0; r < rounds; r++)); do
	for ((k = 0; k < n; k++)); do
		v=${variants[$(((k + r) % n))]}
		"${bin[$v]}" --workload pingpong --compare-floor --repeat "$repeat" --json >"$out/$v.pingpong.$r.json"
		if [ "$v" = unhardened ] || [ "$v" = hardened ]; then
			"${bin[$v]}" --workload exchange --compare-floor --repeat "$repeat" --seconds "$secs" --json \
				>"$out/$v.exchange.$r.json"
		fi
	done
	echo "harden-bench: round $((r + 1)) of $rounds done"
done
python3 - "$out" "$rounds" "$repeat" "${variants[@]}" <<'PY'
import json, statistics, sys
out, rounds, repeat, variants = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
med = statistics.median
def rows(v, wl, r):
    try:
        with open(f"{out}/{v}.{wl}.{r}.json") as f:
            return json.load(f)["rows"]
    except FileNotFoundError:
        return []
def key(row):
    return (row["conns"], row["chunk"])
def value(row):   # pingpong: seconds (lower is better); exchange: MiB/s (higher)
    return row["seconds"] if row["workload"] == "pingpong" else row["mib_per_second"]
for wl, unit in (("pingpong", "s"), ("exchange", "MiB/s")):
    print(f"\n{wl} ({unit}; median of {rounds} rounds, best of {repeat} in each; ratio = lsecho/floor; "
          f"hardened/unhardened per round, median and range)")
    print(f"| N | chunk | unhardened {unit} | ratio | hardened {unit} | ratio | hardened/unhardened |")
    print("|---|---|---|---|---|---|---|")
    base = {r: {key(x): x for x in rows("unhardened", wl, r)} for r in range(rounds)}
    hard = {r: {key(x): x for x in rows("hardened", wl, r)} for r in range(rounds)}
    for k in sorted(base[0]):
        u = [value(base[r][k]) for r in range(rounds)]
        h = [value(hard[r][k]) for r in range(rounds)]
        ur = [base[r][k]["ratio"] for r in range(rounds)]
        hr = [hard[r][k]["ratio"] for r in range(rounds)]
        q = [h[r] / u[r] for r in range(rounds)]
        print(f"| {k[0]} | {k[1]} | {med(u):.3f} | {med(ur):.2f} | {med(h):.3f} | {med(hr):.2f} | "
              f"{med(q):.3f} ({min(q):.3f}-{max(q):.3f}) |")
print("\nper flag, pingpong: hardened time / time without the flag, all rows, per round "
      "(above 1: the flag costs that much)")
print("| flag | median | range |")
print("|---|---|---|")
for v in variants[2:]:
    q = []
    for r in range(rounds):
        h = {key(x): x["seconds"] for x in rows("hardened", "pingpong", r)}
        d = {key(x): x["seconds"] for x in rows(v, "pingpong", r)}
        q += [h[k] / d[k] for k in h if k in d]
    if q:
        print(f"| {v[3:]} | {med(q):.3f} | {min(q):.3f}-{max(q):.3f} |")
PY
