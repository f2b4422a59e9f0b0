#!/bin/sh
# Fails if a tracked file speaks of the team's process rather than the
# project: "session <number>", "sessions <number>", "issue <number>" or
# "issues <number>" (any case). The project describes how things are; which
# work period or ticket made them is for commit messages. The protocol's
# sessions (lse_sess, "a session") are untouched: only a number after the
# word counts.
# Usage: ci/check-words.sh [REPO_DIR]
cd "${1:-$(dirname "$0")/..}" || exit 2
pattern='\b(sessions?|issues?)[[:space:]]+#?[0-9]'
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	hits=$(git ls-files -z | xargs -0 grep -I -n -i -E "$pattern" -- 2>/dev/null)
	count=$(git ls-files | wc -l)
else   # a source tree without git (a tarball): every file but the build
	hits=$(find . -path ./build -prune -o -type f -print0 | xargs -0 grep -I -n -i -E "$pattern" -- 2>/dev/null)
	count=$(find . -path ./build -prune -o -type f -print | wc -l)
fi
if [ -n "$hits" ]; then
	echo "check-words: process words in the tree (say what the code does, not when):"
	printf '%s\n' "$hits" | head -n 40
	exit 1
fi
echo "check-words: no 'session N' or 'issue N' in $count files"
