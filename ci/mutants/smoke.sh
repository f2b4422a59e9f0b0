#!/bin/sh
# make test's smoke of make mutants: five mutants of src/lse_frame.c, one
# settled by each early stage, through the real pipeline (clang's syntax
# tree, the compile check, a schemata build of two targets, the seeds and
# the tests), each checked against the stage it must end in. No coverage
# build and no fuzzing: those run in make mutants itself.
# Usage: ci/mutants/smoke.sh OUT_DIR
set -eu
cd "$(dirname "$0")/../.."
out=${1:?usage: smoke.sh OUT_DIR}
rm -rf "$out/logs"
MUTANTS_OUT=$out MUTANTS_REACH=0 MUTANTS_SECONDS=0 MUTANTS_JOBS=1 \
MUTANTS_CTEST="replay_fuzz_frame test_frame" FILES=src/lse_frame.c \
MUTANTS_IDS="src/lse_frame.c:lse_frame_encode:const+1:2 src/lse_frame.c:lse_strerror:eq:1
             src/lse_frame.c:type_is_client:logic:1 src/lse_frame.c:lse_frame_decode:ret:9
             src/lse_frame.c:lse_strerror:rel:1" \
	python3 ci/mutants/run.py
python3 - "$out/report.json" <<'PY'
import json, sys
want = {
    "src/lse_frame.c:lse_frame_encode:const+1:2": ("killed", "seeds"),
    "src/lse_frame.c:lse_strerror:eq:1": ("killed", "tests"),
    "src/lse_frame.c:type_is_client:logic:1": ("invalid", "compile"),
    "src/lse_frame.c:lse_frame_decode:ret:9": ("same-code", "compile"),
    "src/lse_frame.c:lse_strerror:rel:1": ("killed", "tests"),
}
got = {r["id"]: (r["status"], r["stage"]) for r in json.load(open(sys.argv[1]))["mutants"]}
bad = [f"{i}: want {w}, got {got.get(i)}" for i, w in want.items() if got.get(i) != w]
if bad:
    print("mutants smoke: a mutant ended in the wrong stage (if src/lse_frame.c changed,\n"
          "its IDs may have: pick new ones with make mutants FILES=src/lse_frame.c):")
    print("\n".join("  " + b for b in bad))
    sys.exit(1)
print(f"mutants smoke: {len(want)} mutants, each in its stage")
PY
