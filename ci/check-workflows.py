#!/usr/bin/env python3
"""Parses the ClusterFuzzLite workflows and project files with a YAML parser
and checks that they use only the actions and inputs the ClusterFuzzLite
documentation lists (https://google.github.io/clusterfuzzlite/)."""
import pathlib
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
ACTIONS = {
    "google/clusterfuzzlite/actions/build_fuzzers@v1": {
        "language", "sanitizer", "github-token", "upload-build", "storage-repo",
        "storage-repo-branch", "storage-repo-branch-coverage", "dry-run",
        "bad-build-check", "project-src-path", "keep-unaffected-fuzz-targets",
        "output-sarif"},
    "google/clusterfuzzlite/actions/run_fuzzers@v1": {
        "github-token", "fuzz-seconds", "mode", "sanitizer", "storage-repo",
        "storage-repo-branch", "storage-repo-branch-coverage",
        "report-unreproducible-crashes", "output-sarif", "minimize-crashes",
        "dry-run", "parallel-fuzzing", "report-timeouts", "report-ooms"},
}
MODES = {"code-change", "batch", "prune", "coverage"}
SANITIZERS = {"address", "undefined", "memory", "coverage"}
WORKFLOWS = {"cflite_pr.yml": "code-change", "cflite_batch.yml": "batch",
             "cflite_cron.yml": None, "cflite_build.yml": None}
errors = []


def check_step(wf, step):
    uses = step.get("uses")
    if uses not in ACTIONS:
        errors.append(f"{wf}: unknown action {uses!r}")
        return None
    inputs = step.get("with") or {}
    for key in inputs:
        if key not in ACTIONS[uses]:
            errors.append(f"{wf}: {uses} has no input {key!r}")
    if "language" in inputs and inputs["language"] != "c":
        errors.append(f"{wf}: language must be c")
    san = str(inputs.get("sanitizer", "address"))
    if "${{" not in san and san not in SANITIZERS:
        errors.append(f"{wf}: unknown sanitizer {san!r}")
    if "mode" in inputs and inputs["mode"] not in MODES:
        errors.append(f"{wf}: unknown mode {inputs['mode']!r}")
    return inputs.get("mode")


for name, want_mode in WORKFLOWS.items():
    path = ROOT / ".github" / "workflows" / name
    doc = yaml.safe_load(path.read_text())
    # YAML 1.1 reads a bare "on" as True.
    if not doc.get("jobs") or not (doc.get("on") or doc.get(True)):
        errors.append(f"{name}: needs 'on' and 'jobs'")
        continue
    modes = set()
    for job in doc["jobs"].values():
        for step in job.get("steps", []):
            mode = check_step(name, step)
            if mode:
                modes.add(mode)
    if want_mode and modes != {want_mode}:
        errors.append(f"{name}: runs modes {sorted(modes)}, want {want_mode}")
    if name == "cflite_cron.yml" and modes != {"prune", "coverage"}:
        errors.append(f"{name}: must prune and report coverage, runs {sorted(modes)}")
    if name == "cflite_build.yml" and modes:
        errors.append(f"{name}: must only build")

for path in (ROOT / ".clusterfuzzlite" / "project.yaml", ROOT / "ci" / "oss-fuzz" / "project.yaml"):
    doc = yaml.safe_load(path.read_text())
    if doc.get("language") != "c":
        errors.append(f"{path.relative_to(ROOT)}: language must be c")
oss = yaml.safe_load((ROOT / "ci" / "oss-fuzz" / "project.yaml").read_text())
for key, want in (("sanitizers", {"address", "undefined", "memory"}),
                  ("fuzzing_engines", {"libfuzzer", "afl", "honggfuzz"})):
    if set(oss.get(key, [])) != want:
        errors.append(f"ci/oss-fuzz/project.yaml: {key} must be {sorted(want)}")
for key in ("main_repo", "primary_contact"):
    if not oss.get(key):
        errors.append(f"ci/oss-fuzz/project.yaml: {key} missing")

# The mutation workflows: make mutants on the change, and the whole analysis
# in shards whose reports one job merges.
MUTANT_ACTIONS = {"actions/checkout@v4", "actions/upload-artifact@v4",
                  "actions/download-artifact@v4"}
mutant_runs = {}
for name in ("mutants_pr.yml", "mutants_nightly.yml"):
    doc = yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text())
    if not doc.get("jobs") or not (doc.get("on") or doc.get(True)):
        errors.append(f"{name}: needs 'on' and 'jobs'")
        continue
    runs = []
    for job in doc["jobs"].values():
        for step in job.get("steps", []):
            if "uses" in step and step["uses"] not in MUTANT_ACTIONS:
                errors.append(f"{name}: unexpected action {step['uses']!r}")
            runs.append(step.get("run", ""))
    mutant_runs[name] = (doc, "\n".join(runs))
if "mutants_pr.yml" in mutant_runs:
    doc, runs = mutant_runs["mutants_pr.yml"]
    if "pull_request" not in (doc.get("on") or doc.get(True)) or "make mutants DIFF=" not in runs:
        errors.append("mutants_pr.yml: must run make mutants DIFF=... on pull requests")
if "mutants_nightly.yml" in mutant_runs:
    doc, runs = mutant_runs["mutants_nightly.yml"]
    shards = doc["jobs"].get("shard", {}).get("strategy", {}).get("matrix", {}).get("shard", [])
    if not shards or "MUTANTS_SHARD=${{ matrix.shard }}/%d" % len(shards) not in runs:
        errors.append("mutants_nightly.yml: the shard matrix and MUTANTS_SHARD=k/n must agree")
    if "report.py merge" not in runs:
        errors.append("mutants_nightly.yml: must merge the shards' reports")

for e in errors:
    print("check-workflows:", e)
print(f"check-workflows: {len(WORKFLOWS) + len(mutant_runs)} workflows and 2 project files, "
      f"{len(errors)} problem(s)")
sys.exit(1 if errors else 0)
