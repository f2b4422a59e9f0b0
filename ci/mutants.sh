#!/usr/bin/env bash
# make mutants: mutation analysis of src/*.c against lsecho's own suite
# (ci/mutants/run.py says how; docs/mutants.md says what to do with it).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v llvm-cov >/dev/null && command -v llvm-profdata >/dev/null ||
	{ echo "mutants: llvm-cov and llvm-profdata are needed (apt-get install llvm)" >&2; exit 2; }
exec python3 ci/mutants/run.py "$@"
