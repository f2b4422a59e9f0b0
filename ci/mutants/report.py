#!/usr/bin/env python3
"""The mutation report: build/mutants/report.json (every mutant), a text
summary on stdout and build/mutants/index.html. Also merges the reports of
several shards: report.py merge OUT SHARD_REPORT.json...

A score is killed / (mutants - not compiling - equivalent): the mutants
that do not compile and those that compile to the original's code, or are
argued equivalent in ci/mutants/equivalent.txt, are counted apart.
"""
import html
import json
import os
import sys
import time

STAGES = ["seeds", "tests", "fuzz"]
COLUMNS = [("seeds only", {"seeds"}), ("+ tests", {"seeds", "tests"}),
           ("+ fuzzing", {"seeds", "tests", "fuzz"})]


def record(r, per_file):
    m = r.m
    src = per_file[m.file][0]
    text = src.text
    a = text.rfind("\n", 0, m.edit[0]) + 1
    z = text.find("\n", m.edit[1])
    z = len(text) if z < 0 else z
    before = text[a:z]
    after = text[a:m.edit[0]] + m.edit[2] + text[m.edit[1]:z]
    status = r.status
    if status in ("survived", "equivalent") and r.listed:
        status = "equivalent"
    return {"id": m.id, "index": m.index, "file": m.file, "func": m.func, "op": m.op,
            "line": m.line, "desc": m.desc, "status": status, "stage": r.stage,
            "by": r.by, "why": r.why, "reached": r.reached, "seconds": round(r.seconds, 2),
            "listed": r.listed, "before": before.strip(), "after": after.strip()}


def counted(rec):
    return rec["status"] not in ("invalid", "same-code", "equivalent")


def scores(recs):
    n = sum(counted(r) for r in recs)
    out = []
    for _, stages in COLUMNS:
        k = sum(1 for r in recs if r["status"] == "killed" and r["stage"] in stages)
        out.append((k, n))
    return out


def pct(k, n):
    return f"{100.0 * k / n:5.1f}%" if n else "    -"


def summary(recs, settings):
    lines = []
    files = sorted({r["file"] for r in recs})
    head = f"{'':34} {'mutants':>7} {'settled':>7} " + " ".join(f"{c:>14}" for c, _ in COLUMNS)
    lines.append(head)

    def row(name, rs):
        sc = scores(rs)
        settled = len(rs) - sum(counted(r) for r in rs)
        return (f"{name:34} {len(rs):7} {settled:7} " +
                " ".join(f"{pct(k, n):>7} {k:>3}/{n:<3}" for k, n in sc))

    for f in files:
        rs = [r for r in recs if r["file"] == f]
        lines.append(row(f, rs))
    lines.append(row("all", recs))
    lines.append("(settled: do not compile, same code, or argued equivalent; counted apart)")
    if not settings.get("tests", 1):
        lines.append("(the tests stage was skipped: '+ tests' is the seeds alone)")
    surv = [r for r in recs if r["status"] == "survived"]
    if surv:
        lines.append("")
        lines.append(f"survivors ({len(surv)}):")
        for r in sorted(surv, key=lambda r: (r["file"], r["line"])):
            lines.append(f"  {r['file']}:{r['line']} {r['id']} "
                         f"({'reached' if r['reached'] else 'not reached'}): {r['desc']}")
    wrong = [r for r in recs if r["status"] == "killed" and r.get("listed")]
    if wrong:
        lines.append("")
        lines.append("listed as equivalent in ci/mutants/equivalent.txt, but killed (remove them):")
        for r in wrong:
            lines.append(f"  {r['id']}: killed by {r['stage']} ({r['by']})")
    return "\n".join(lines)


def page(recs, settings, meta):
    e = html.escape
    out = ["<!doctype html><meta charset=utf-8><title>lsecho mutants</title>",
           "<style>body{font:14px sans-serif;margin:2em}table{border-collapse:collapse}"
           "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}"
           "td.l,th.l{text-align:left}code{white-space:pre}.s{background:#fee}</style>",
           "<h1>lsecho mutation analysis</h1>",
           f"<p>{e(meta)}</p>", "<h2>Scores per file and function</h2><table>",
           "<tr><th class=l>file / function</th><th>mutants</th><th>settled</th>" +
           "".join(f"<th>{e(c)}</th>" for c, _ in COLUMNS) + "</tr>"]
    for f in sorted({r["file"] for r in recs}):
        rs = [r for r in recs if r["file"] == f]
        for name, group in [(f"<b>{e(f)}</b>", rs)] + [
                (f"&nbsp;&nbsp;{e(fn)}", [r for r in rs if r["func"] == fn])
                for fn in sorted({r["func"] for r in rs})]:
            sc = scores(group)
            settled = len(group) - sum(counted(r) for r in group)
            out.append(f"<tr><td class=l>{name}</td><td>{len(group)}</td><td>{settled}</td>" +
                       "".join(f"<td>{pct(k, n)} ({k}/{n})</td>" for k, n in sc) + "</tr>")
    sc = scores(recs)
    out.append(f"<tr><td class=l><b>all</b></td><td>{len(recs)}</td>"
               f"<td>{len(recs) - sum(counted(r) for r in recs)}</td>" +
               "".join(f"<td><b>{pct(k, n)}</b> ({k}/{n})</td>" for k, n in sc) + "</tr></table>")
    surv = sorted((r for r in recs if r["status"] == "survived"), key=lambda r: (r["file"], r["line"]))
    out.append(f"<h2>Survivors ({len(surv)})</h2><table><tr><th class=l>where</th>"
               "<th class=l>mutant</th><th class=l>reached</th><th class=l>line, then mutated</th></tr>")
    for r in surv:
        out.append(f"<tr class=s><td class=l>{e(r['file'])}:{r['line']}</td><td class=l>{e(r['id'])}"
                   f"<br>{e(r['desc'])}</td><td class=l>{'yes' if r['reached'] else 'no'}</td>"
                   f"<td class=l><code>- {e(r['before'])}\n+ {e(r['after'])}</code></td></tr>")
    out.append("</table><h2>Every mutant</h2><table><tr><th class=l>mutant</th>"
               "<th class=l>status</th><th class=l>by</th><th>s</th></tr>")
    for r in sorted(recs, key=lambda r: (r["file"], r["line"], r["id"])):
        st = r["status"] + (f" ({r['stage']})" if r["status"] == "killed" else "")
        out.append(f"<tr><td class=l>{e(r['id'])}<br><small>{e(r['file'])}:{r['line']} "
                   f"{e(r['desc'])}</small></td><td class=l>{e(st)}</td>"
                   f"<td class=l>{e(r['by'])} {e(r['why'][:120])}</td><td>{r['seconds']}</td></tr>")
    out.append("</table>")
    return "\n".join(out)


def emit(out, recs, settings, seconds, stale=()):
    meta = (f"{len(recs)} mutants; settings {json.dumps(settings)}; "
            f"{seconds:.0f} s; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    with open(os.path.join(out, "report.json"), "w") as fh:
        json.dump({"settings": settings, "seconds": seconds, "mutants": recs}, fh, indent=0)
    with open(os.path.join(out, "index.html"), "w") as fh:
        fh.write(page(recs, settings, meta))
    text = summary(recs, settings)
    with open(os.path.join(out, "summary.txt"), "w") as fh:
        fh.write(text + "\n")
    print()
    print(text)
    if stale:
        print("\nci/mutants/equivalent.txt names mutants that no longer exist: " + " ".join(stale))
    print(f"\nmutants: {meta}")
    print(f"mutants: report {os.path.join(out, 'index.html')} and report.json")


def write(out, results, per_file, t_start, settings, stale=()):
    recs = [record(r, per_file) for r in results]
    emit(out, recs, settings, time.time() - t_start, stale)


def merge(out, paths):
    recs, settings, seconds = {}, {}, 0.0
    for p in paths:
        with open(p) as fh:
            d = json.load(fh)
        settings = dict(d["settings"], shard="merged")
        seconds += d["seconds"]
        for r in d["mutants"]:
            recs[r["id"]] = r
    # The list as it is now: a survivor argued equivalent since its run
    # counts apart, as it would in a fresh run.
    listed = {}
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "equivalent.txt")) as fh:
        for ln in fh:
            if ln.strip() and not ln.startswith("#"):
                k, _, why = ln.strip().partition(" ")
                listed[k] = why
    for r in recs.values():
        if r["status"] == "survived" and r["id"] in listed:
            r["status"], r["listed"] = "equivalent", listed[r["id"]]
    os.makedirs(out, exist_ok=True)
    emit(out, list(recs.values()), settings, seconds)


if __name__ == "__main__":
    if len(sys.argv) < 4 or sys.argv[1] != "merge":
        sys.exit("usage: report.py merge OUT_DIR REPORT.json...")
    merge(sys.argv[2], sys.argv[3:])
