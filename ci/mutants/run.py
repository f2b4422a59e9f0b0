#!/usr/bin/env python3
"""make mutants: mutation analysis of src/*.c against lsecho's own suite.

Stages, cheapest first; a mutant ends in the first that settles it:
  compile    the mutant alone does not compile (-Wall -Wextra -Werror), or
             compiles to the same code as the original at -O2 (equivalent)
  reach      no committed seed or test executes its lines (llvm-cov)
  seeds      the committed seeds and regressions replayed through the targets
  tests      the ctest suite (test_server one section at a time)
  fuzz       libFuzzer, MUTANTS_SECONDS a target, for the survivors only

All mutants of a file are compiled into one build (mutant schemata, gen.py)
and chosen at run time with LSE_MUTANT=<index>; a test or target runs only
if its coverage reaches the mutant's lines.

Settings (environment): FILES, DIFF, MUTANTS_SHARD=k/n, MUTANTS_SECONDS (60),
MUTANTS_SEEDS (1; 0: no seeds or tests stage, fuzz from an empty corpus),
MUTANTS_TESTS (1; 0: skip the tests stage), MUTANTS_IDS (ids or indices,
space-separated), MUTANTS_JOBS (cores), MUTANTS_OUT (build/mutants),
MUTANTS_MIN (a score below it, in percent, fails the run),
MUTANTS_EQUIVALENT=check (run the mutants ci/mutants/equivalent.txt argues
equivalent through the seeds and tests too, and report any that die).
For the smoke test in make test: MUTANTS_CTEST (the only tests to run,
and the only targets to build) and MUTANTS_REACH=0 (no coverage build:
every listed test is taken to reach every mutant).
"""
import concurrent.futures as cf
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen      # noqa: E402
import report   # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CFLAGS = ["-std=c11", "-Wall", "-Wextra", "-Werror", "-Isrc"]
# Tests about the tree, not about behaviour: a mutant cannot fail them, or
# fails them only by changing a golden file.
META_TESTS = {"core_has_no_io", "canaries_apply", "no_process_words", "pipes_read_whole",
              "workflows_valid", "tests_have_timeouts", "corpus_in_sync", "afl_corpus_in_sync",
              "regress_canary", "mutants_smoke", "figures_agree",
              "explain_corpus", "explain_canary"}
SAN_ENV = {"ASAN_OPTIONS": "abort_on_error=1:detect_leaks=1:strict_string_checks=1",
           "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1"}
# Which fuzz targets link each file (harness/CMakeLists.txt).
CORE = {"src/lse_frame.c", "src/lse_sess.c", "src/lse_conn.c"}
SHELL_FUZZED = {"src/lse_loop.c", "src/lse_sock.c"}


def log(msg):
    print(f"mutants: {msg}", flush=True)


def die(msg):
    print(f"mutants: {msg}", file=sys.stderr, flush=True)
    sys.exit(2)


def env_int(name, default, lo=0):
    v = os.environ.get(name, "")
    if v == "":
        return default
    if not re.fullmatch(r"[0-9]+", v) or int(v) < lo:
        die(f"{name} must be a whole number >= {lo}, not '{v}'")
    return int(v)


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw).stdout


# ---- the plan: which mutants ----

def all_files():
    return sorted(f"src/{f}" for f in os.listdir(os.path.join(ROOT, "src")) if f.endswith(".c"))


def changed_lines(rev, files):
    """{file: set(lines)} changed in the work tree since rev."""
    try:
        out = sh(["git", "diff", "-U0", rev, "--", *files], cwd=ROOT)
    except subprocess.CalledProcessError as e:
        die(f"DIFF={rev}: git diff failed: {e.stderr.strip()}")
    lines, cur = {}, None
    for ln in out.splitlines():
        if ln.startswith("+++ "):
            cur = ln[6:] if ln.startswith("+++ b/") else None
        elif ln.startswith("@@") and cur:
            m = re.match(r"@@ -\S+ \+(\d+)(?:,(\d+))? @@", ln)
            start, count = int(m.group(1)), int(m.group(2) or "1")
            lines.setdefault(cur, set()).update(range(start, start + count))
    return lines


def plan():
    files = os.environ.get("FILES", "").split() or all_files()
    for f in files:
        if not re.fullmatch(r"src/[A-Za-z0-9_]+\.c", f) or not os.path.isfile(os.path.join(ROOT, f)):
            die(f"FILES: {f} is not a C file under src/ (known: {' '.join(all_files())})")
    per_file, muts = {}, []
    for f in files:
        src, ms, sites = gen.collect(ROOT, f, CFLAGS[:-1] + ["-Isrc"])
        per_file[f] = (src, ms, sites)
        muts.extend(ms)
    for i, m in enumerate(muts):
        m.index = i
    chosen = list(muts)
    diff = os.environ.get("DIFF", "")
    if diff:
        lines = changed_lines(diff, files)
        chosen = [m for m in chosen if lines.get(m.file, set()) & span_lines(per_file[m.file][0], m)]
        log(f"DIFF={diff}: {len(chosen)} mutants on lines changed since {diff}")
    ids = os.environ.get("MUTANTS_IDS", "").split()
    if ids:
        want = set(ids)
        chosen = [m for m in chosen if m.id in want or str(m.index) in want]
        unknown = want - {m.id for m in chosen} - {str(m.index) for m in chosen}
        if unknown:
            die(f"MUTANTS_IDS: no such mutant: {' '.join(sorted(unknown))}")
    shard = os.environ.get("MUTANTS_SHARD", "")
    if shard:
        m_ = re.fullmatch(r"([0-9]+)/([0-9]+)", shard)
        if not m_ or not 1 <= int(m_.group(1)) <= int(m_.group(2)):
            die(f"MUTANTS_SHARD must be k/n with 1 <= k <= n, not '{shard}'")
        k, n = int(m_.group(1)), int(m_.group(2))
        chosen = [m for m in chosen
                  if int(hashlib.sha1(m.id.encode()).hexdigest(), 16) % n == k - 1]
        log(f"shard {k}/{n}: {len(chosen)} mutants")
    return per_file, chosen


def span_lines(src, m):
    s = m.site.span
    return set(range(src.line_of(s[0]), src.line_of(max(s[0], s[1] - 1)) + 1))


def load_equivalent():
    path = os.path.join(ROOT, "ci", "mutants", "equivalent.txt")
    eq = {}
    if os.path.exists(path):
        for n, ln in enumerate(open(path, encoding="utf-8"), 1):
            ln = ln.strip()
            if not ln or ln.startswith("#"):
                continue
            parts = ln.split(None, 1)
            if len(parts) < 2:
                die(f"ci/mutants/equivalent.txt:{n}: an ID and a one-line argument, please")
            eq[parts[0]] = parts[1]
    return eq


# ---- stage 0: does it compile, and to other code? ----

def asm(path, cwd):
    r = subprocess.run(["clang", *CFLAGS, "-I" + os.path.join(ROOT, "src"), "-O2", "-g0", "-S",
                        "-o", "-", path], cwd=cwd, text=True, capture_output=True)
    if r.returncode != 0:
        return None, r.stderr
    keep = [ln for ln in r.stdout.splitlines() if not ln.startswith(("\t.file", "\t.ident"))]
    return "\n".join(keep), ""


def compile_stage(per_file, chosen, jobs):
    base = {}
    tmp = tempfile.mkdtemp(prefix="lse-mutants-")
    try:
        for f in {m.file for m in chosen}:
            d = os.path.join(tmp, "orig")
            os.makedirs(d, exist_ok=True)
            shutil.copy(os.path.join(ROOT, f), d)
            base[f], err = asm(os.path.basename(f), d)
            if base[f] is None:
                die(f"{f} does not compile as it is:\n{err}")

        def one(m):
            d = os.path.join(tmp, str(m.index))
            os.makedirs(d)
            name = os.path.basename(m.file)
            with open(os.path.join(d, name), "w") as out:
                out.write(gen.apply_edit(per_file[m.file][0].text, m.edit))
            code, err = asm(name, d)
            shutil.rmtree(d)
            if code is None:
                first = next((ln for ln in err.splitlines() if "error" in ln), err.strip()[:200])
                return m, "invalid", first
            if code == base[m.file]:
                return m, "same-code", "compiles to the original's code (-O2)"
            return m, None, ""

        with cf.ThreadPoolExecutor(jobs) as ex:
            return list(ex.map(one, chosen))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---- the tests: ctest's list, test_server by section ----

def ctest_list(build):
    out = sh(["ctest", "--show-only=json-v1"], cwd=build)
    only = os.environ.get("MUTANTS_CTEST", "").split()
    tests = []
    for t in json.loads(out)["tests"]:
        if t["name"] in META_TESTS or "command" not in t:
            continue
        props = {p["name"]: p["value"] for p in t.get("properties", [])}
        env = dict(e.split("=", 1) for e in props.get("ENVIRONMENT", []))
        cwd = props.get("WORKING_DIRECTORY", build)
        cmd = t["command"]
        if t["name"] == "test_server" and len(cmd) == 2:
            for sec in test_server_sections(cmd[0]):
                tests.append({"name": f"test_server:{sec}", "cmd": cmd + [sec], "env": env, "cwd": cwd})
            continue
        tests.append({"name": t["name"], "cmd": cmd, "env": env, "cwd": cwd})
    if only:
        tests = [t for t in tests if t["name"] in only or t["name"].split(":")[0] in only]
        missing = set(only) - {t["name"] for t in tests} - {t["name"].split(":")[0] for t in tests}
        if missing:
            die(f"MUTANTS_CTEST: no such test: {' '.join(sorted(missing))}")
    return tests


def ctest_targets():
    """The build targets MUTANTS_CTEST's tests need; none: everything."""
    names = set()
    for t in os.environ.get("MUTANTS_CTEST", "").split():
        t = t.split(":")[0]
        if t.startswith("replay_"):
            names.add(t[len("replay_"):])
        elif t in ("test_server", "test_server_signals") or t.startswith("soak_short"):
            names |= {"test_server", "lsecho-server", "lsecho-soak"}
        elif t == "test_server_life":
            names |= {"test_life", "lsecho-server"}
        else:
            names.add(t)
    return sorted(names)


def test_server_sections(binary):
    r = subprocess.run([binary], text=True, capture_output=True,
                       env=dict(os.environ, LLVM_PROFILE_FILE=os.devnull))
    m = re.search(r"sections \(default: all but ([\w ]+)\):(.*)", r.stderr)
    if not m:
        die(f"cannot list {binary}'s sections: {r.stderr.strip()[:200]}")
    # The others are ctest tests of their own (test_server_signals, ...).
    return [s for s in m.group(2).split() if s not in m.group(1).split()]


def is_seed(t):
    return t["name"].startswith("replay_")


def run_test(t, mutant, timeout, logf=None):
    """(ok, why, seconds)."""
    env = dict(os.environ, **SAN_ENV, **t["env"])
    env.pop("LSE_MUTANT", None)
    if mutant is not None:
        env["LSE_MUTANT"] = str(mutant)
    t0 = time.monotonic()
    with subprocess.Popen(t["cmd"], cwd=t["cwd"], env=env, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          start_new_session=True) as p:
        try:
            stdout, _ = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            # The whole session: a hung test's children (servers, scripts)
            # must not outlive it and load the mutants that follow.
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                out = p.communicate(timeout=5)[0].decode(errors="replace")
            except subprocess.TimeoutExpired:   # a child left the session
                out = ""
            if logf:
                logf.write(out[-4000:])
            return False, f"timed out after {timeout:.0f} s", time.monotonic() - t0
        r = subprocess.CompletedProcess(p.args, p.returncode, stdout)
    dt = time.monotonic() - t0
    out = r.stdout.decode(errors="replace")
    if r.returncode == 0:
        return True, "", dt
    if logf:
        logf.write(out[-4000:])
    why = f"exit {r.returncode}" if r.returncode > 0 else f"signal {-r.returncode}"
    hint = [ln.strip() for ln in out.splitlines()
            if re.search(r"FAIL|ERROR|Sanitizer|oracle|mismatch|assert|Assertion", ln)]
    return False, why + (": " + hint[0][:160] if hint else ""), dt


# ---- reach: llvm-cov of every test and seed replay ----

def tree_key():
    h = hashlib.sha1(b"reach 3")   # bumped when what reach records changes
    for f in sorted(sh(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT).split("\n")):
        p = os.path.join(ROOT, f)
        if f and os.path.isfile(p) and not f.startswith(("docs/", "ci/mutants/")):
            h.update(f.encode())
            with open(p, "rb") as fh:
                h.update(fh.read())
    return h.hexdigest()


def reach(out, jobs):
    """{test: {file: [lines]}} from the coverage build; cached per tree."""
    key = tree_key()
    cache = os.path.join(out, "reach.json")
    if os.path.exists(cache):
        with open(cache) as fh:
            data = json.load(fh)
        if data.get("key") == key:
            return data["tests"], data["seconds"]
    log("reach: coverage build (ci/build.sh cov) and every test under llvm-cov")
    subprocess.run([os.path.join(ROOT, "ci", "build.sh"), "cov"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    build = os.path.join(ROOT, "build", "cov")
    tests = ctest_list(build)
    raw = os.path.join(out, "profraw")
    shutil.rmtree(raw, ignore_errors=True)
    objects = sorted({os.path.join(build, "lsecho-server")} | {
        os.path.join(dp, f) for dp, _, fs in os.walk(build) for f in fs
        if os.access(os.path.join(dp, f), os.X_OK) and not f.endswith((".so", ".sh"))
        and "CMakeFiles" not in dp and os.path.isfile(os.path.join(dp, f))})
    objects = [o for o in objects if is_elf(o)]

    def cover(t):
        # ":" made ".", not "_": test_server:x and a ctest test named
        # test_server_x must not share a directory.
        d = os.path.join(raw, re.sub(r"[^A-Za-z0-9_.-]", "_", t["name"].replace(":", ".")))
        os.makedirs(d)
        # Writable by all: test_server runs servers as nobody (its thread
        # limit checks), and a profile they cannot write is lines not reached.
        os.chmod(d, 0o1777)
        tt = dict(t, env=dict(t["env"], LLVM_PROFILE_FILE=os.path.join(d, "%p.profraw")))
        ok, why, dt = run_test(tt, None, 600)
        if not ok:
            die(f"reach: {t['name']} fails on the unmutated coverage build: {why}")
        prof = os.path.join(d, "merged.profdata")
        files = [os.path.join(d, f) for f in os.listdir(d) if f.endswith(".profraw")]
        sh(["llvm-profdata", "merge", "-sparse", "-o", prof, *files])
        args = ["llvm-cov", "export", "-format=text", "-skip-expansions", "-skip-functions",
                "-instr-profile=" + prof, objects[0]]
        for o in objects[1:]:
            args += ["-object", o]
        export = json.loads(sh(args + [os.path.join(ROOT, "src")], cwd=ROOT))
        lines = {}
        for data in export["data"]:
            for f in data["files"]:
                hit = executed_lines(f["segments"])
                if hit:
                    name = os.path.relpath(f["filename"], ROOT)
                    lines[name] = sorted(set(lines.get(name, [])) | hit)
        return t["name"], lines, dt

    with cf.ThreadPoolExecutor(jobs) as ex:
        res = list(ex.map(cover, tests))
    data = {"key": key, "tests": {n: l for n, l, _ in res}, "seconds": {n: dt for n, _, dt in res}}
    with open(cache, "w") as fh:
        json.dump(data, fh)
    return data["tests"], data["seconds"]


def executed_lines(segments):
    """The lines with code that ran, from llvm-cov's segments ([line, col,
    count, has_count, region_entry, gap]). llvm-cov's own line counts (as
    in lcov's DA:) follow LineCoverageStats, which counts a line from the
    segment wrapping into it and the regions starting on it. After an
    assert() the wrapping segment is a gap region of count 0 and the
    statement's code continues in a segment that starts no region, so the
    line after every assert reads as never run. Here that case counts: a
    line wrapped by a gap also takes the counts of the plain segments on it
    before its first region entry."""
    hit, wrapped, i = set(), None, 0
    last = segments[-1][0] if segments else 0
    for line in range(1, last + 1):
        on = []
        while i < len(segments) and segments[i][0] == line:
            on.append(segments[i])
            i += 1
        entries = [s for s in on if s[3] and s[4] and not s[5]]
        skipped = on and not on[0][3] and on[0][4]
        if not skipped and ((wrapped and wrapped[3]) or entries):
            count = wrapped[2] if wrapped else 0
            count = max([count] + [s[2] for s in entries])
            if wrapped and wrapped[5]:
                for s in on:
                    if s[4]:
                        break
                    if s[3] and not s[5]:
                        count = max(count, s[2])
            if count > 0:
                hit.add(line)
        if on:
            wrapped = on[-1]
    return hit


def is_elf(p):
    try:
        with open(p, "rb") as fh:
            return fh.read(4) == b"\x7fELF"
    except OSError:
        return False


# ---- the schemata builds ----

def schemata_tree(out, per_file, live):
    """A copy of the work tree with the chosen files' schemata in src/."""
    tree = os.path.join(out, "tree")
    files = [f for f in sh(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT).split("\n")
             if f and not f.startswith("build/")]
    keep = {os.path.join(tree, "build")}
    for f in files:
        src, dst = os.path.join(ROOT, f), os.path.join(tree, f)
        if not os.path.isfile(src):
            continue
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if f in per_file:
            s, ms, sites = per_file[f]
            text = gen.render_schemata(s, sites, {m for m in ms if m in live})
        else:
            with open(src, "rb") as fh:
                text = fh.read()
        mode = "w" if isinstance(text, str) else "wb"
        # Unchanged files keep their timestamps: a rebuild compiles only
        # what changed.
        if os.path.exists(dst):
            with open(dst, "rb") as fh:
                old = fh.read()
            if old == (text.encode() if isinstance(text, str) else text):
                keep.add(dst)
                continue
        with open(dst, mode) as fh:
            fh.write(text)
        shutil.copymode(src, dst)
        keep.add(dst)
    return tree


def build(tree, variant, *targets):
    log(f"building the schemata ({variant})")
    env = dict(os.environ, LSE_WERROR="OFF")
    r = subprocess.run([os.path.join(tree, "ci", "build.sh"), variant, *targets], cwd=tree,
                       env=env, text=True, capture_output=True)
    if r.returncode != 0:
        die(f"the schemata build ({variant}) failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")


# ---- stages ----

class Result:
    def __init__(self, m):
        self.m = m
        self.status, self.stage, self.by, self.why = "survived", None, "", ""
        self.reached = False
        self.seconds = 0.0
        self.listed = None


class _All:
    def __contains__(self, x):
        return True

    def __bool__(self):
        return True


ALL = _All()


def order_tests(tests, secs, covering):
    return sorted((t for t in tests if t["name"] in covering), key=lambda t: secs.get(t["name"], 1e9))


def run_stage(r, stage, tests, secs, mult, floor, logdir):
    for t in tests:
        base = secs.get(t["name"], 10.0)
        with open(os.path.join(logdir, f"{r.m.index}.log"), "a") as lf:
            lf.write(f"== {stage} {t['name']}\n")
            ok, why, dt = run_test(t, r.m.index, max(floor, mult * base + 5), lf)
        r.seconds += dt
        if not ok:
            r.status, r.stage, r.by, r.why = "killed", stage, t["name"], why
            return True
    return False


def fuzz_targets(m, seed_reach, funcs_lines):
    linked = (["fuzz_frame", "fuzz_session", "fuzz_raw", "fuzz_alloc", "fuzz_multi", "fuzz_api",
               "fuzz_socket"] if m.file in CORE else ["fuzz_socket"] if m.file in SHELL_FUZZED else [])
    fl = funcs_lines.get((m.file, m.func), set())
    near = [t for t in linked if fl & seed_reach.get("replay_" + t, {}).get(m.file, set())]
    return near or linked


def fuzz_one(r, tree, seconds, seeds, workdir):
    for t in r.targets:
        w = os.path.join(workdir, str(r.m.index), t)
        corpus = os.path.join(w, "corpus")
        os.makedirs(corpus, exist_ok=True)
        os.makedirs(os.path.join(w, "crashes"), exist_ok=True)
        args = [os.path.join(tree, "build", "fuzz", "harness", t),
                f"-max_total_time={seconds}", "-close_fd_mask=3", "-max_len=8192", "-timeout=25",
                f"-artifact_prefix={w}/crashes/", "-print_final_stats=0"]
        d = os.path.join(ROOT, "dict", f"{t}.dict")
        d = d if os.path.exists(d) else os.path.join(ROOT, "dict", "lsecho.dict")
        if os.path.exists(d):
            args.append(f"-dict={d}")
        args.append(corpus)
        if seeds:
            for c in (f"corpus/{t}", f"corpus/regressions/{t}"):
                if os.path.isdir(os.path.join(ROOT, c)):
                    args.append(os.path.join(ROOT, c))
        env = dict(os.environ, LSE_MUTANT=str(r.m.index),
                   ASAN_OPTIONS="allocator_may_return_null=1:detect_leaks=1:abort_on_error=0",
                   UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1")
        t0 = time.monotonic()
        with open(os.path.join(w, "log"), "w") as lf:
            p = subprocess.run(args, env=env, stdout=lf, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, timeout=seconds * 3 + 120)
        r.seconds += time.monotonic() - t0
        with open(os.path.join(w, "log"), errors="replace") as lf, \
                open(os.path.join(workdir, "..", "logs", f"{r.m.index}.log"), "a") as out:
            tail = lf.read()[-3000:]
            out.write(f"== fuzz {t} ({seconds} s)\n{tail}\n")
        crashes = sorted(os.listdir(os.path.join(w, "crashes")))
        if p.returncode != 0 or crashes:
            r.status, r.stage, r.by = "killed", "fuzz", t
            r.why = (crashes[0] if crashes else f"exit {p.returncode}")
            keep = os.path.join(workdir, "crashes", r.m.id.replace("/", "_").replace(":", "_"))
            os.makedirs(keep, exist_ok=True)
            for c in crashes:
                shutil.copy(os.path.join(w, "crashes", c), keep)
            shutil.rmtree(os.path.join(workdir, str(r.m.index)), ignore_errors=True)
            return
    shutil.rmtree(os.path.join(workdir, str(r.m.index)), ignore_errors=True)


def list_mutants():
    """--list: every mutant of FILES (or MUTANTS_IDS), its line, as mutated."""
    per_file, chosen = plan()
    for m in chosen:
        text = per_file[m.file][0].text
        a = text.rfind("\n", 0, m.edit[0]) + 1
        z = text.find("\n", m.edit[1])
        after = (text[a:m.edit[0]] + m.edit[2] + text[m.edit[1]:z if z >= 0 else len(text)]).strip()
        print(f"{m.index}\t{m.id}\t{m.file}:{m.line}\t{after}")
    return 0


def main():
    if sys.argv[1:] == ["--list"]:
        return list_mutants()
    t_start = time.time()
    jobs = env_int("MUTANTS_JOBS", os.cpu_count() or 1, 1)
    seconds = env_int("MUTANTS_SECONDS", 60)
    seeds = env_int("MUTANTS_SEEDS", 1)
    use_tests = env_int("MUTANTS_TESTS", 1)
    check_eq = os.environ.get("MUTANTS_EQUIVALENT", "") == "check"
    out = os.path.abspath(os.environ.get("MUTANTS_OUT", os.path.join(ROOT, "build", "mutants")))
    os.makedirs(out, exist_ok=True)
    per_file, chosen = plan()
    equivalent = load_equivalent()
    log(f"{len(chosen)} mutants of {len({m.file for m in chosen})} files; "
        f"stages: compile, reach{', seeds' if seeds else ''}{', tests' if seeds and use_tests else ''}"
        f"{f', fuzz {seconds} s a target' if seconds else ''}; {jobs} jobs")
    results = {m.index: Result(m) for m in chosen}
    if not chosen:
        report.write(out, [], {}, t_start, settings(seconds, seeds, use_tests))
        return 0

    t0 = time.monotonic()
    for m, st, why in compile_stage(per_file, chosen, jobs):
        if st:
            results[m.index].status, results[m.index].stage, results[m.index].why = st, "compile", why
    n_bad = sum(r.status != "survived" for r in results.values())
    cost_compile = (time.monotonic() - t0) / len(chosen)
    log(f"compile: {n_bad} settled ({sum(r.status == 'invalid' for r in results.values())} do not compile, "
        f"{sum(r.status == 'same-code' for r in results.values())} same code), {cost_compile:.2f} s a mutant")

    if env_int("MUTANTS_REACH", 1):
        cover, secs = reach(out, jobs)
    else:
        cover, secs = None, {}
    seed_reach = {t: {f: set(ls) for f, ls in fl.items()} for t, fl in (cover or {}).items()}
    funcs_lines = {}
    for m in chosen:
        funcs_lines.setdefault((m.file, m.func), set()).update(span_lines(per_file[m.file][0], m))
    live = [r for r in results.values() if r.status == "survived"]
    for r in live:
        lines = span_lines(per_file[r.m.file][0], r.m)
        r.covering = {t for t, fl in seed_reach.items() if lines & fl.get(r.m.file, set())} \
            if cover is not None else ALL
        r.reached = bool(r.covering)
        r.listed = equivalent.get(r.m.id)
    if not check_eq:
        # Argued equivalent: counted apart without running (MUTANTS_EQUIVALENT=check
        # runs them through the seeds and tests, to catch a wrong argument).
        for r in live:
            if r.listed:
                r.status, r.stage = "equivalent", "listed"
        live = [r for r in live if not r.listed]

    tree = schemata_tree(out, per_file, {r.m for r in live})
    logdir = os.path.join(out, "logs")
    shutil.rmtree(logdir, ignore_errors=True)
    os.makedirs(logdir)
    if seeds and any(r.reached for r in live):
        build(tree, "asan", *ctest_targets())
        tests = ctest_list(os.path.join(tree, "build", "asan"))
        # The suite must pass on the schemata build with no mutant chosen.
        for t in tests:
            if any(t["name"] in r.covering for r in live):
                if t["name"] not in secs:
                    secs[t["name"]] = 10.0
                ok, why, dt = run_test(t, None, max(60, 3 * secs.get(t["name"], 10) + 10))
                if not ok:
                    die(f"{t['name']} fails on the schemata build with no mutant: {why}")
                secs[t["name"]] = dt
        seed_tests = [t for t in tests if is_seed(t)]
        other_tests = [t for t in tests if not is_seed(t)] if use_tests else []
        todo = [r for r in live if r.reached]
        done = [0]
        t_stage = time.monotonic()

        def one(r):
            if not run_stage(r, "seeds", order_tests(seed_tests, secs, r.covering), secs, 5, 10, logdir):
                run_stage(r, "tests", order_tests(other_tests, secs, r.covering), secs, 3, 20, logdir)
            return r

        with cf.ThreadPoolExecutor(jobs) as ex:
            for r in ex.map(one, todo):
                done[0] += 1
                progress(done[0], len(todo), r)
        log(f"seeds and tests: {len(todo)} mutants in {time.monotonic() - t_stage:.0f} s "
            f"({(time.monotonic() - t_stage) * jobs / max(1, len(todo)):.1f} core-s a mutant)")

    if seconds:
        fz = [r for r in results.values() if r.status == "survived" and not r.listed]
        for r in fz:
            r.targets = fuzz_targets(r.m, seed_reach, funcs_lines)
        fz = [r for r in fz if r.targets]
        if fz:
            build(tree, "fuzz", *sorted({t for r in fz for t in r.targets}))
            workdir = os.path.join(out, "fuzz")
            shutil.rmtree(workdir, ignore_errors=True)
            log(f"fuzz: {len(fz)} survivors, {seconds} s a target")

            def onef(r):
                fuzz_one(r, tree, seconds, seeds, workdir)
                return r

            with cf.ThreadPoolExecutor(jobs) as ex:
                for k, r in enumerate(ex.map(onef, fz), 1):
                    progress(k, len(fz), r)

    res = list(results.values())
    report.write(out, res, per_file, t_start, settings(seconds, seeds, use_tests),
                 stale=sorted({e for e in equivalent if e.split(":")[0] in per_file} -
                              {m.id for fs in per_file.values() for m in fs[1]})
                 if not os.environ.get("DIFF") and not os.environ.get("MUTANTS_IDS") else [])
    floor = os.environ.get("MUTANTS_MIN", "")
    if floor:
        k, n = report.scores([report.record(r, per_file) for r in res])[-1]
        if n and 100.0 * k / n < float(floor):
            log(f"score {100.0 * k / n:.1f}% is below MUTANTS_MIN={floor}%")
            return 1
    return 0


def settings(seconds, seeds, use_tests):
    return {"seconds": seconds, "seeds": seeds, "tests": use_tests,
            "diff": os.environ.get("DIFF", ""), "shard": os.environ.get("MUTANTS_SHARD", ""),
            "files": os.environ.get("FILES", "")}


def progress(k, n, r):
    what = f"killed by {r.stage} ({r.by}: {r.why})" if r.status == "killed" else r.status
    print(f"[{k}/{n}] {r.m.id} {r.m.desc[:50]!r}: {what[:140]} {r.seconds:.1f}s", flush=True)


if __name__ == "__main__":
    sys.exit(main())
