#!/bin/sh
# Fails unless corpus/afl/fuzz_socket/ is exactly what multi2socket makes of
# corpus/fuzz_multi/ (make corpus writes both).
# Usage: sh check_afl_corpus.sh MULTI2SOCKET_BINARY CORPUS_DIR
set -u
conv=${1:?usage: check_afl_corpus.sh MULTI2SOCKET_BINARY CORPUS_DIR}
corpus=${2:?usage: check_afl_corpus.sh MULTI2SOCKET_BINARY CORPUS_DIR}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lse_afl_corpus.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM
if ! "$conv" "$tmp" "$corpus/fuzz_multi" >/dev/null; then
	echo "check_afl_corpus: $conv failed" >&2
	exit 1
fi
if ! diff -r "$tmp" "$corpus/afl/fuzz_socket"; then
	echo "check_afl_corpus: $corpus/afl/fuzz_socket differs from multi2socket's conversion of $corpus/fuzz_multi; run 'make corpus'" >&2
	exit 1
fi
echo "check_afl_corpus: $corpus/afl/fuzz_socket in sync with $corpus/fuzz_multi"
