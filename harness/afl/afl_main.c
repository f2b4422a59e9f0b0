/* AFL++ persistent-mode main for any lsecho target (LLVMFuzzerTestOneInput).
 *
 * The target's one-time set-up (fuzz_socket's listening socket) runs before
 * __AFL_INIT, so the fork server starts after it and no work is repeated
 * per child; no thread exists before it. Test cases come through shared
 * memory (__AFL_FUZZ_TESTCASE_BUF/LEN) and __AFL_LOOP runs many per fork.
 * Built without afl-clang-fast (no __AFL_FUZZ_TESTCASE_LEN), or run outside
 * afl-fuzz, the same binary reads each file named on the command line, or
 * stdin, so it reproduces a crash with `make repro` too. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

/* LSE_AFL_FORK_PER_RUN builds the baseline make fuzz-bench compares with:
 * no deferred fork server, no persistent loop, so every input costs a fork
 * and the target's whole set-up (fuzz_socket binds its socket again). */
#if defined(__AFL_FUZZ_TESTCASE_LEN) && !defined(LSE_AFL_FORK_PER_RUN)
#define LSE_AFL_PERSISTENT 1
__AFL_FUZZ_INIT();
#endif

/* Runs one file (or stdin for NULL), sized exactly so ASan sees overreads. */
static int run_file(const char *path)
{
	FILE *fp = path ? fopen(path, "rb") : stdin;
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (fp == NULL) {
		fprintf(stderr, "afl_main: cannot open %s\n", path);
		return 1;
	}
	do {
		if (len == cap) {
			uint8_t *grown = realloc(buf, cap = cap ? cap * 2 : 4096);
			if (grown == NULL)
				abort();
			buf = grown;
		}
		n = fread(buf + len, 1, cap - len, fp);
		len += n;
	} while (n > 0);
	if (path)
		fclose(fp);
	{
		uint8_t *exact = malloc(len ? len : 1);
		if (exact == NULL)
			abort();
		for (size_t i = 0; i < len; i++)
			exact[i] = buf[i];
		free(buf);
		LLVMFuzzerTestOneInput(exact, len);
		free(exact);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
#ifdef LSE_AFL_PERSISTENT
	/* Set-up that the target does lazily happens here, once. */
	LLVMFuzzerTestOneInput((const uint8_t *)"", 0);
	if (getenv("__AFL_SHM_ID") || getenv("AFL_PERSISTENT") || getenv("__AFL_SHM_FUZZ_ID")) {
		unsigned char *buf;

		__AFL_INIT();
		buf = __AFL_FUZZ_TESTCASE_BUF;
		while (__AFL_LOOP(10000))
			LLVMFuzzerTestOneInput(buf, (size_t)__AFL_FUZZ_TESTCASE_LEN);
		return 0;
	}
#endif
	if (argc < 2)
		return run_file(NULL);
	for (int i = 1; i < argc; i++)
		if (run_file(argv[i]) != 0)
			return 1;
	return 0;
}
