#!/bin/sh
# Fails if a script under `set -o pipefail` ends a pipeline with a reader
# that may stop before its writer is done: `| head`, `| grep -q`, `| grep -m`.
# The writer then dies of SIGPIPE, pipefail turns that into the pipeline's
# failure, and the script fails or takes the wrong branch, on some runs only
# (how much the writer had left when the reader quit is a race). Read the
# whole stream instead: `sed -n 1p`, or `grep -q PATTERN <<<"$(command)"`.
# Usage: ci/check-pipes.sh [REPO_DIR]
cd "${1:-$(dirname "$0")/..}" || exit 2
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	files=$(git ls-files | xargs grep -l -I -E 'set -[a-z]*o pipefail|set -o pipefail' -- 2>/dev/null)
else
	files=$(find . -path ./build -prune -o -type f -print | xargs grep -l -I -E 'set -[a-z]*o pipefail' -- 2>/dev/null)
fi
[ -n "$files" ] || { echo "check-pipes: no script sets pipefail"; exit 1; }
pattern='\|[[:space:]]*(head\b|grep[[:space:]]+(-[a-zA-Z]*[qm]|--quiet|--max-count))'
# shellcheck disable=SC2086
hits=$(grep -n -E "$pattern" -- $files | grep -v -E '^[^:]+:[0-9]+:[[:space:]]*#')
if [ -n "$hits" ]; then
	echo "check-pipes: a pipeline under pipefail whose reader may quit early (its writer's SIGPIPE fails it at random):"
	printf '%s\n' "$hits"
	exit 1
fi
echo "check-pipes: no early-quitting reader in the pipelines of $(printf '%s\n' $files | wc -l) pipefail scripts"
