/* to_socket: turns fuzz_multi and fuzz_session inputs into fuzz_socket
 * inputs, so a corpus grown in-process (libFuzzer) seeds the socket harness
 * (AFL++), and each seed's meaning is checked again through the real shell.
 *
 *   to_socket multi|session OUTDIR FILE_OR_DIR...
 *
 * Output files are named <from>-<input's name>.
 *
 * multi: the two formats share their operations; fuzz_multi reads one more
 * header byte (fail_at), which is dropped, and its flags bit 7 (a small read
 * buffer) is fuzz_socket's fault injection, which is left off.
 *
 * session: one connection carries the session's stream. The session's
 * schedule is replayed as the session driver reads it (harness/README.md),
 * and each operation becomes fuzz_socket's: FEED and FEED_BIG become SENDs
 * of exactly the bytes they took, DRAIN the same drain index, END (or the
 * flags) a half-close, and the bytes left at the end one last run of SENDs.
 * The limit is kept; flags bit 4 (caller storage, which the shell does not
 * have) chooses how the connection comes: through the listening socket or
 * as a socketpair. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fdp.h"

enum { OP_OPEN = 0, OP_SEND = 1, OP_SEND_BIG = 2, OP_DRAIN = 3, OP_SHUT = 4, OP_END = 7 };

typedef struct ops {
	uint8_t *p;   /* schedule bytes in the order fuzz_socket reads them */
	size_t len;
} ops;

/* Room for the worst case is reserved up front (see session_ops). */
static void put(ops *o, uint8_t b)
{
	o->p[o->len++] = b;
}

/* SENDs of exactly n bytes on connection 0. */
static void put_sends(ops *o, size_t n)
{
	while (n >= 128) {
		size_t m = n / 128 < 32 ? n / 128 : 32;

		put(o, (uint8_t)((m - 1) << 3 | OP_SEND_BIG));
		put(o, 0);
		n -= m * 128;
	}
	while (n > 0) {
		size_t m = n < 32 ? n : 32;

		put(o, (uint8_t)((m - 1) << 3 | OP_SEND));
		put(o, 0);
		n -= m;
	}
}

/* Replays the session driver's reading of in[0, len); returns how many
 * stream bytes it took, all of which the ops send. */
static size_t session_ops(const uint8_t *in, size_t len, ops *o)
{
	lse_fdp f;
	uint8_t flags;
	int eof;

	lse_fdp_init(&f, in, len);
	flags = lse_fdp_u8(&f);
	eof = (flags >> 3) & 1;
	put(o, flags & 7);   /* the limit; framed, no faults */
	put(o, flags & 0x10 ? 8 | OP_OPEN : OP_OPEN);
	while (lse_fdp_left(&f) > 0) {
		uint8_t op = lse_fdp_u8(&f);

		if ((op & 3) == 0) {
			put_sends(o, lse_fdp_take(&f, (size_t)(op >> 2) + 1));
		} else if ((op & 3) == 1) {
			put_sends(o, lse_fdp_take(&f, ((size_t)(op >> 2) + 1) * 256));
		} else if ((op & 3) == 2) {
			put(o, (uint8_t)(((op & 0xc0) == 0xc0 ? 0x80 : 0) | ((op >> 2) & 15) << 3 | OP_DRAIN));   /* DRAIN, or EDGE */
			put(o, 0);
		} else {
			eof = (op >> 2) & 1;
			break;
		}
	}
	put_sends(o, lse_fdp_take(&f, lse_fdp_left(&f)));
	if (eof) {
		put(o, OP_SHUT);
		put(o, 0);
	}
	put(o, OP_END);
	return f.head;
}

/* Writes in[0, len) as fuzz_socket reads it: stream from the front, the
 * schedule from the back. */
static int convert_buf(const char *from, uint8_t *in, size_t len, ops *o,
		       const char *out)
{
	size_t stream = len;
	FILE *op;
	int ok;

	if (strcmp(from, "session") == 0) {
		stream = session_ops(in, len, o);
	} else if (len >= 2) {
		/* Read from the back: [..., fail_at, flags] -> [..., flags]. */
		in[len - 2] = (uint8_t)(in[len - 1] & 0x7F);
		stream = len - 1;
	}
	op = fopen(out, "wb");
	ok = op != NULL && fwrite(in, 1, stream, op) == stream;
	for (size_t i = o->len; ok && i > 0; i--)
		ok = fputc(o->p[i - 1], op) != EOF;
	if (op != NULL && fclose(op) != 0)
		ok = 0;
	if (!ok)
		fprintf(stderr, "to_socket: cannot write %s\n", out);
	return ok;
}

static int convert(const char *from, const char *in, const char *outdir)
{
	FILE *fp = fopen(in, "rb");
	const char *base = strrchr(in, '/');
	uint8_t *buf = NULL;
	ops o = { NULL, 0 };
	char out[4096];
	long len;
	int ok = 0;

	if (fp == NULL || fseek(fp, 0, SEEK_END) != 0 || (len = ftell(fp)) < 0 ||
	    fseek(fp, 0, SEEK_SET) != 0) {
		fprintf(stderr, "to_socket: cannot read %s\n", in);
		if (fp)
			fclose(fp);
		return 0;
	}
	/* Every input byte makes at most two schedule bytes, plus the header
	 * and the end (OPEN, flags, SHUT and its k, END). */
	buf = malloc((size_t)len + 1);
	o.p = malloc(2 * (size_t)len + 8);
	if (buf == NULL || o.p == NULL) {
		fprintf(stderr, "to_socket: out of memory on %s\n", in);
	} else if (fread(buf, 1, (size_t)len, fp) != (size_t)len) {
		fprintf(stderr, "to_socket: cannot read %s\n", in);
	} else {
		snprintf(out, sizeof out, "%s/%s-%s", outdir, from, base ? base + 1 : in);
		ok = convert_buf(from, buf, (size_t)len, &o, out);
	}
	free(o.p);
	free(buf);
	fclose(fp);
	return ok;
}

/* Returns how many files it converted, or -1. */
static int walk(const char *from, const char *path, const char *outdir)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	int n = 0;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "to_socket: no such file or directory: %s\n", path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return convert(from, path, outdir) ? 1 : -1;
	if ((d = opendir(path)) == NULL) {
		fprintf(stderr, "to_socket: cannot open directory %s\n", path);
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		char p[4096];

		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof p, "%s/%s", path, e->d_name);
		if (!convert(from, p, outdir)) {
			n = -1;
			break;
		}
		n++;
	}
	closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	int total = 0;
	struct stat st;

	if (argc < 4 || (strcmp(argv[1], "multi") != 0 && strcmp(argv[1], "session") != 0)) {
		fprintf(stderr, "usage: %s multi|session OUTDIR FILE_OR_DIR...\n"
			"  turns fuzz_multi or fuzz_session inputs into fuzz_socket inputs\n",
			argv[0]);
		return 2;
	}
	if (mkdir(argv[2], 0777) != 0 && (stat(argv[2], &st) != 0 || !S_ISDIR(st.st_mode))) {
		fprintf(stderr, "to_socket: cannot create directory %s\n", argv[2]);
		return 1;
	}
	for (int i = 3; i < argc; i++) {
		int n = walk(argv[1], argv[i], argv[2]);

		if (n < 0)
			return 1;
		total += n;
	}
	printf("to_socket: %d %s inputs converted into %s\n", total, argv[1], argv[2]);
	return 0;
}
