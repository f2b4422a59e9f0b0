/* multi2socket: turns fuzz_multi inputs into fuzz_socket inputs, so a
 * corpus grown in-process (libFuzzer) seeds the socket harness (AFL++).
 *
 *   multi2socket OUTDIR FILE_OR_DIR...
 *
 * The two formats share their operations; fuzz_multi reads one more header
 * byte (fail_at), and its flags bit 7 (a small read buffer) is fuzz_socket's
 * fault injection, which is left off. Output files keep their names. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int convert(const char *in, const char *outdir)
{
	FILE *fp = fopen(in, "rb");
	const char *base = strrchr(in, '/');
	unsigned char *buf;
	char out[4096];
	long len;
	int ok = 0;

	if (fp == NULL || fseek(fp, 0, SEEK_END) != 0 || (len = ftell(fp)) < 0 ||
	    fseek(fp, 0, SEEK_SET) != 0) {
		fprintf(stderr, "multi2socket: cannot read %s\n", in);
		if (fp)
			fclose(fp);
		return 0;
	}
	buf = malloc((size_t)len + 1);
	if (buf && fread(buf, 1, (size_t)len, fp) == (size_t)len) {
		/* Read from the back: [..., fail_at, flags] -> [..., flags]. */
		if (len >= 2) {
			buf[len - 2] = (unsigned char)(buf[len - 1] & 0x7F);
			len--;
		}
		snprintf(out, sizeof out, "%s/%s", outdir, base ? base + 1 : in);
		FILE *op = fopen(out, "wb");
		ok = op && fwrite(buf, 1, (size_t)len, op) == (size_t)len;
		if (op && fclose(op) != 0)
			ok = 0;
		if (!ok)
			fprintf(stderr, "multi2socket: cannot write %s\n", out);
	}
	free(buf);
	fclose(fp);
	return ok;
}

static int walk(const char *path, const char *outdir)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	int n = 0;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "multi2socket: no such file or directory: %s\n", path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return convert(path, outdir) ? 1 : -1;
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		char p[4096];
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof p, "%s/%s", path, e->d_name);
		n += convert(p, outdir);
	}
	closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	int total = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: %s OUTDIR FILE_OR_DIR...\n", argv[0]);
		return 2;
	}
	if (mkdir(argv[1], 0777) != 0) {
		struct stat st;
		if (stat(argv[1], &st) != 0 || !S_ISDIR(st.st_mode)) {
			fprintf(stderr, "multi2socket: cannot create %s\n", argv[1]);
			return 1;
		}
	}
	for (int i = 2; i < argc; i++) {
		int n = walk(argv[i], argv[1]);
		if (n < 0)
			return 1;
		total += n;
	}
	printf("multi2socket: %d inputs converted into %s\n", total, argv[1]);
	return 0;
}
