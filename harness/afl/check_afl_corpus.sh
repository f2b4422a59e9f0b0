#!/bin/sh
# Fails unless corpus/afl/fuzz_socket/ is exactly what to_socket makes of
# corpus/fuzz_multi/ and corpus/fuzz_session/ (make corpus writes all three).
# Usage: sh check_afl_corpus.sh TO_SOCKET_BINARY CORPUS_DIR
set -u
conv=${1:?usage: check_afl_corpus.sh TO_SOCKET_BINARY CORPUS_DIR}
corpus=${2:?usage: check_afl_corpus.sh TO_SOCKET_BINARY CORPUS_DIR}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lse_afl_corpus.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM
for from in multi session; do
	if ! "$conv" "$from" "$tmp" "$corpus/fuzz_$from" >/dev/null; then
		echo "check_afl_corpus: $conv $from failed" >&2
		exit 1
	fi
done
if ! diff -r "$tmp" "$corpus/afl/fuzz_socket"; then
	echo "check_afl_corpus: $corpus/afl/fuzz_socket differs from to_socket's conversion of $corpus/fuzz_multi and $corpus/fuzz_session; run 'make corpus'" >&2
	exit 1
fi
echo "check_afl_corpus: $corpus/afl/fuzz_socket in sync with $corpus/fuzz_multi and $corpus/fuzz_session"
