/* A main() for fuzz targets built without a fuzzing engine, after OSS-Fuzz's
 * standalone reproducer: runs LLVMFuzzerTestOneInput once per file, for
 * every file named and every file under every directory named (sorted, dot
 * files skipped). Arguments starting with '-' are libFuzzer flags and are
 * ignored, so the same command line works for either build.
 * Exits 0 when every input ran, 1 if a path is unreadable or none ran. */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

static int run_file(const char *path)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf = NULL;
	long len;
	int ok = 0;

	if (fp == NULL || fseek(fp, 0, SEEK_END) != 0 || (len = ftell(fp)) < 0 ||
	    fseek(fp, 0, SEEK_SET) != 0)
		goto out;
	/* Exactly len bytes, so ASan sees any read past the input. */
	buf = malloc(len ? (size_t)len : 1);
	if (buf == NULL || fread(buf, 1, (size_t)len, fp) != (size_t)len)
		goto out;
	if (getenv("LSE_STANDALONE_VERBOSE"))
		fprintf(stderr, "Running: %s (%ld bytes)\n", path, len);
	LLVMFuzzerTestOneInput(buf, (size_t)len);
	ok = 1;
out:
	if (!ok)
		fprintf(stderr, "standalone: cannot read %s\n", path);
	free(buf);
	if (fp)
		fclose(fp);
	return ok;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs every file under dir; returns the count, or -1 on error. */
static long run_path(const char *path);

static long run_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;
	long total = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		char *p;
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **grown = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof *names);
			if (grown == NULL)
				break;
			names = grown;
		}
		p = malloc(strlen(dir) + strlen(e->d_name) + 2);
		if (p == NULL)
			break;
		sprintf(p, "%s/%s", dir, e->d_name);
		names[n++] = p;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof *names, cmp_str);
	for (size_t i = 0; i < n; i++) {
		long k = total < 0 ? 0 : run_path(names[i]);
		total = k < 0 ? -1 : total + k;
		free(names[i]);
	}
	free(names);
	return total;
}

static long run_path(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "standalone: no such file or directory: %s\n", path);
		return -1;
	}
	if (S_ISDIR(st.st_mode))
		return run_dir(path);
	return run_file(path) ? 1 : -1;
}

int main(int argc, char **argv)
{
	long total = 0;

	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		long k;
		if (argv[i][0] == '-')
			continue;
		k = run_path(argv[i]);
		if (k < 0)
			return 1;
		total += k;
	}
	if (total == 0) {
		fprintf(stderr, "usage: %s FILE_OR_DIR...: no input ran\n", argv[0]);
		return 1;
	}
	printf("standalone: %ld inputs ran\n", total);
	return 0;
}
