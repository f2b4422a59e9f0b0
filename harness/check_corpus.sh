#!/bin/sh
# Fails unless the committed seeds are exactly what harness/gen_corpus.c
# writes: every generated file present and byte-identical, and no other file
# in the directories it generates (corpus/regressions/ and the directories
# of other generators are not looked at).
# Usage: sh check_corpus.sh GEN_CORPUS_BINARY CORPUS_DIR
set -u
gen=${1:?usage: check_corpus.sh GEN_CORPUS_BINARY CORPUS_DIR}
corpus=${2:?usage: check_corpus.sh GEN_CORPUS_BINARY CORPUS_DIR}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lse_corpus.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

if ! "$gen" "$tmp" >/dev/null; then
	echo "check_corpus: $gen failed" >&2
	exit 1
fi

bad=0
for dir in "$tmp"/*/; do
	target=$(basename "$dir")
	for f in "$dir"*; do
		[ -e "$f" ] || continue
		name=$target/$(basename "$f")
		if [ ! -f "$corpus/$name" ]; then
			echo "missing:   $corpus/$name"
			bad=1
		elif ! cmp -s "$f" "$corpus/$name"; then
			echo "differs:   $corpus/$name"
			bad=1
		fi
	done
	for f in "$corpus/$target"/* "$corpus/$target"/.[!.]*; do
		[ -e "$f" ] || continue
		if [ ! -e "$tmp/$target/$(basename "$f")" ]; then
			echo "extra:     $f"
			bad=1
		fi
	done
done

if [ "$bad" -ne 0 ]; then
	echo "check_corpus: $corpus differs from what gen_corpus writes; run 'make corpus'" >&2
	exit 1
fi
echo "check_corpus: $corpus in sync with gen_corpus"
