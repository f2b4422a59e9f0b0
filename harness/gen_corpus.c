#define _POSIX_C_SOURCE 200809L
/* gen_corpus: writes the committed seed corpus of the fuzz targets.
 *
 *   gen_corpus OUTDIR
 *
 * creates OUTDIR/fuzz_frame/, fuzz_session/, fuzz_raw/, fuzz_alloc/ and
 * fuzz_multi/, fuzz_api/ and fuzz_socket/ and
 * writes one small seed per protocol feature into them, named after what it
 * exercises; files of the same name are overwritten, nothing is removed.
 * Regenerate the committed seeds with `make corpus`; the test corpus_in_sync
 * (check_corpus.sh) fails when corpus/ and this file disagree. Output is a
 * pure function of this file: no clock, no randomness.
 *
 * The input formats are those of harness/README.md. A session seed is
 *
 *     [ stream bytes ... ][ schedule bytes, last one read first ]
 *
 * so the builder below keeps the stream and the schedule apart, the
 * schedule in the order the driver reads it (target header bytes first),
 * and seed_write() appends the schedule reversed. It also refuses a seed
 * whose FEED operations would take more bytes than its stream holds: those
 * would eat schedule bytes and the seed would not mean what its name says. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "faultgen.h"
#include "lse_frame.h"
#include "lse_sess.h"

#define SEED_STREAM_MAX 16384u
#define SEED_SCHED_MAX 256u
#define SEED_NAMES_MAX 256u

/* flags byte (harness/README.md): bits 0-2 pick the server limit. */
enum seed_limit {
	LIM_65536 = 0, LIM_1 = 1, LIM_64 = 2, LIM_130 = 3,
	LIM_131 = 4, LIM_4096 = 5, LIM_65535 = 6, LIM_16M = 7
};
#define HALF_CLOSE 0x08u    /* flags bit 3: half-close if no END says otherwise */

enum seed_end { END_OPEN = 0, END_EOF = 1 };   /* END: stay open or half-close */

/* What DRAIN's index selects, exactly as drive.c's drains[]. */
#define DRAIN_ALL SIZE_MAX
static const size_t seed_drains[16] = { 1, 2, 3, 7, 8, 12, 13, 64, 137, 138,
					139, 1000, 4096, 65536, 131072, DRAIN_ALL };

typedef struct seed {
	const char *target;              /* directory under OUTDIR */
	uint8_t stream[SEED_STREAM_MAX]; /* [0, len) */
	size_t len;
	uint8_t sched[SEED_SCHED_MAX];   /* [0, nsched), in read order */
	size_t nsched;
	size_t fed;                      /* stream bytes FEED ops take; <= len when written */
	int ended;                       /* an END op closes the schedule */
	uint8_t pat;                     /* next payload pattern byte */
} seed;

/* Everything written so far, to refuse a repeated name or content. */
static struct {
	const char *outdir;
	unsigned n;
	struct { const char *target, *name; uint64_t hash; } w[SEED_NAMES_MAX];
} gen;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("gen_corpus: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* ---- seed: the stream ---- */

static void seed_begin(seed *s, const char *target)
{
	memset(s, 0, sizeof *s);
	s->target = target;
	s->pat = 0x20;
}

static void seed_bytes(seed *s, const void *p, size_t n)
{
	if (n > SEED_STREAM_MAX - s->len)
		die("seed stream longer than %u bytes", SEED_STREAM_MAX);
	memcpy(s->stream + s->len, p, n);
	s->len += n;
}

static void seed_u32(seed *s, uint32_t v)
{
	uint8_t b[4];

	lse_put_u32(b, v);
	seed_bytes(s, b, sizeof b);
}

/* A header with any magic, version and type: for the error cases. */
static void seed_hdr_raw(seed *s, uint8_t m0, uint8_t m1, uint8_t ver,
			 uint8_t type, uint32_t len)
{
	uint8_t b[4] = { m0, m1, ver, type };

	seed_bytes(s, b, sizeof b);
	seed_u32(s, len);
}

static void seed_hdr(seed *s, uint8_t type, uint32_t len)
{
	seed_hdr_raw(s, LSE_MAGIC0, LSE_MAGIC1, LSE_VERSION, type, len);
}

/* n payload bytes of a printable pattern that continues across frames, so
 * no two frames of a seed carry the same bytes. */
static void seed_payload(seed *s, size_t n)
{
	while (n--) {
		seed_bytes(s, &s->pat, 1);
		s->pat = s->pat == 0x7E ? 0x20 : (uint8_t)(s->pat + 1);
	}
}

static void seed_frame(seed *s, uint8_t type, uint32_t len)
{
	seed_hdr(s, type, len);
	seed_payload(s, len);
}

static void seed_hello(seed *s, uint32_t want)
{
	seed_hdr(s, LSE_T_HELLO, LSE_HELLO_LEN);
	seed_u32(s, want);
}

static void seed_data(seed *s, uint32_t len) { seed_frame(s, LSE_T_DATA, len); }
static void seed_ping(seed *s, uint32_t len) { seed_frame(s, LSE_T_PING, len); }
static void seed_bye(seed *s) { seed_hdr(s, LSE_T_BYE, 0); }

/* ---- seed: the schedule, in read order ---- */

static void seed_sched(seed *s, uint8_t b)
{
	if (s->ended)
		die("schedule byte after END");
	if (s->nsched == SEED_SCHED_MAX)
		die("schedule longer than %u bytes", SEED_SCHED_MAX);
	s->sched[s->nsched++] = b;
}

static void seed_session(seed *s, uint8_t flags)
{
	seed_begin(s, "fuzz_session");
	seed_sched(s, flags);
}

/* chunk: the raw buffer capacity, 1..65536, read as 1 + u16 high byte first. */
static void seed_raw(seed *s, uint8_t flags, uint32_t chunk)
{
	if (chunk < 1 || chunk > 65536)
		die("raw chunk %u out of range", (unsigned)chunk);
	seed_begin(s, "fuzz_raw");
	seed_sched(s, flags);
	seed_sched(s, (uint8_t)((chunk - 1) >> 8));
	seed_sched(s, (uint8_t)(chunk - 1));
}

static void seed_alloc(seed *s, uint8_t flags, uint8_t fail_at)
{
	seed_begin(s, "fuzz_alloc");
	seed_sched(s, flags);
	seed_sched(s, fail_at);
}

/* FEED: the next n (1..64) stream bytes. */
static void seed_op_feed(seed *s, size_t n)
{
	if (n < 1 || n > 64)
		die("FEED of %zu bytes", n);
	seed_sched(s, (uint8_t)((n - 1) << 2));
	s->fed += n;
}

/* FEED_BIG: the next k * 256 (k = 1..64) stream bytes. */
static void seed_op_feed_big(seed *s, size_t k)
{
	if (k < 1 || k > 64)
		die("FEED_BIG of %zu blocks", k);
	seed_sched(s, (uint8_t)((k - 1) << 2 | 1));
	s->fed += k * 256;
}

/* Feeds the rest of the stream in pieces of at most step bytes. */
static void seed_feed_rest(seed *s, size_t step)
{
	while (s->fed < s->len) {
		size_t n = s->len - s->fed;
		seed_op_feed(s, n < step ? n : step);
	}
}

/* DRAIN: the peer reads up to max bytes, one of seed_drains[]. */
static void seed_op_drain(seed *s, size_t max)
{
	for (unsigned i = 0; i < 16; i++) {
		if (seed_drains[i] == max) {
			seed_sched(s, (uint8_t)(i << 2 | 2));
			return;
		}
	}
	die("no DRAIN of %zu bytes", max);
}

/* END: the rest of the input is stream; half-close iff eof. */
static void seed_op_end(seed *s, int eof)
{
	seed_sched(s, eof ? 0x07 : 0x03);
	s->ended = 1;
}

/* ---- seed: the file ---- */

static uint64_t fnv1a(const uint8_t *p, size_t n, uint64_t h)
{
	while (n--)
		h = (h ^ *p++) * 0x100000001B3ull;
	return h;
}

static void seed_remember(const seed *s, const char *name, uint64_t hash)
{
	for (unsigned i = 0; i < gen.n; i++) {
		if (strcmp(gen.w[i].target, s->target) != 0)
			continue;
		if (strcmp(gen.w[i].name, name) == 0)
			die("%s/%s written twice", s->target, name);
		if (gen.w[i].hash == hash)
			die("%s/%s has the bytes of %s", s->target, name, gen.w[i].name);
	}
	if (gen.n == SEED_NAMES_MAX)
		die("more than %u seeds", SEED_NAMES_MAX);
	gen.w[gen.n].target = s->target;
	gen.w[gen.n].name = name;
	gen.w[gen.n].hash = hash;
	gen.n++;
}

static void write_file(const char *path, const uint8_t *p, size_t n)
{
	FILE *fp = fopen(path, "wb");

	if (fp == NULL)
		die("cannot create %s: %s", path, strerror(errno));
	if (fwrite(p, 1, n, fp) != n || fflush(fp) != 0) {
		int e = errno;
		fclose(fp);
		die("cannot write %s: %s", path, strerror(e));
	}
	if (fclose(fp) != 0)
		die("cannot close %s: %s", path, strerror(errno));
}

/* Writes OUTDIR/target/name: the stream, then the schedule reversed. */
static void seed_write(const seed *s, const char *name)
{
	uint8_t buf[SEED_STREAM_MAX + SEED_SCHED_MAX];
	char path[4096];
	size_t n = s->len;

	/* Without END the schedule runs until the ends meet, so a stream byte
	 * left over would be read as an operation. */
	if (s->fed > s->len || (!s->ended && s->nsched > 0 && s->fed != s->len))
		die("%s/%s: FEEDs take %zu of %zu stream bytes", s->target, name,
		    s->fed, s->len);
	memcpy(buf, s->stream, s->len);
	for (size_t i = s->nsched; i > 0; i--)
		buf[n++] = s->sched[i - 1];
	seed_remember(s, name, fnv1a(buf, n, 0xCBF29CE484222325ull));
	if (snprintf(path, sizeof path, "%s/%s/%s", gen.outdir, s->target, name) >=
	    (int)sizeof path)
		die("path too long: %s/%s/%s", gen.outdir, s->target, name);
	write_file(path, buf, n);
}

static void make_dir(const char *outdir, const char *sub)
{
	char path[4096];

	if (snprintf(path, sizeof path, "%s%s%s", outdir, sub ? "/" : "",
		     sub ? sub : "") >= (int)sizeof path)
		die("path too long: %s/%s", outdir, sub);
	if (mkdir(path, 0777) != 0 && errno != EEXIST)
		die("cannot create directory %s: %s", path, strerror(errno));
}

/* ---- fuzz_session: frame types ---- */

static void gen_session_frames(void)
{
	seed s;

	seed_session(&s, LIM_4096);       /* WELCOME carries min(request, limit) */
	seed_hello(&s, 0xFFFFFFFFu);
	seed_data(&s, 5);
	seed_op_end(&s, END_EOF);
	seed_write(&s, "hello_clamped");

	seed_session(&s, LIM_65536);
	seed_hello(&s, 1);
	seed_data(&s, 0);
	seed_data(&s, 1);
	seed_data(&s, 0);
	seed_op_end(&s, END_EOF);
	seed_write(&s, "hello_min_1_data_empty_and_1");

	seed_session(&s, LIM_64);
	seed_hello(&s, 100);
	seed_data(&s, 64);
	seed_op_end(&s, END_EOF);
	seed_write(&s, "data_at_max");

	seed_session(&s, LIM_65536);     /* PING is not bound by the negotiation */
	seed_hello(&s, 16);
	seed_ping(&s, 0);
	seed_ping(&s, LSE_PING_MAX);
	seed_op_end(&s, END_EOF);
	seed_write(&s, "ping_0_and_64");

	seed_session(&s, LIM_65536);
	seed_hello(&s, 256);
	seed_bye(&s);
	seed_op_end(&s, END_OPEN);           /* BYE closes without a half-close */
	seed_write(&s, "bye_after_hello");

	seed_session(&s, LIM_65536);
	seed_hello(&s, 256);
	seed_data(&s, 5);
	seed_ping(&s, 3);
	seed_bye(&s);
	seed_data(&s, 5);                /* never read */
	seed_ping(&s, 0);
	seed_op_end(&s, END_OPEN);
	seed_write(&s, "bye_mid_pipeline");

	seed_session(&s, LIM_65536);
	seed_hello(&s, 100);
	seed_data(&s, 3);
	seed_ping(&s, 2);
	seed_data(&s, 0);
	seed_ping(&s, 0);
	seed_data(&s, 10);
	seed_bye(&s);
	seed_op_end(&s, END_EOF);
	seed_write(&s, "pipeline_at_once");
}

/* ---- fuzz_session: every error code, and the check order ---- */

static void gen_session_errors_hdr(void)
{
	seed s;

	seed_session(&s, LIM_65536);
	seed_hdr_raw(&s, 'X', 'Y', LSE_VERSION, LSE_T_HELLO, 4);
	seed_u32(&s, 64);
	seed_op_end(&s, END_EOF);
	seed_write(&s, "err1_bad_magic");

	seed_session(&s, LIM_65536);     /* magic is judged before version */
	seed_hdr_raw(&s, 'L', 'F', 0x02, LSE_T_HELLO, 4);
	seed_u32(&s, 64);
	seed_op_end(&s, END_EOF);
	seed_write(&s, "err1_bad_magic_and_version");

	seed_session(&s, LIM_65536);     /* version before type */
	seed_hdr_raw(&s, LSE_MAGIC0, LSE_MAGIC1, 0x02, 0xFF, 0);
	seed_op_end(&s, END_EOF);
	seed_write(&s, "err2_bad_version_and_type");

	seed_session(&s, LIM_65536);     /* type before HELLO-first */
	seed_hdr(&s, 0x00, 0);
	seed_op_end(&s, END_EOF);
	seed_write(&s, "err3_unknown_type_before_hello");

	seed_session(&s, LIM_65536);
	seed_hdr(&s, LSE_T_WELCOME, 4);
	seed_u32(&s, 64);
	seed_op_end(&s, END_EOF);
	seed_write(&s, "err3_welcome_from_client");

	seed_session(&s, LIM_65536);
	seed_hello(&s, 64);
	seed_frame(&s, LSE_T_PONG, 2);
	seed_op_end(&s, END_EOF);
	seed_write(&s, "err3_pong_from_client");

	seed_session(&s, LIM_65536);
	seed_hello(&s, 64);
	seed_hdr(&s, LSE_T_ERROR, 2);
	seed_u32(&s, 0x00010000u);       /* code 1, then stray bytes */
	seed_op_end(&s, END_OPEN);
	seed_write(&s, "err3_error_from_client");
}

static void gen_session_errors_len(void)
{
	seed s;

	seed_session(&s, LIM_65536);
	seed_hello(&s, 64);
	seed_data(&s, 65);
	seed_op_end(&s, END_EOF);
	seed_write(&s, "err4_too_large");

	seed_session(&s, LIM_65536);     /* refused at the header, nothing awaited */
	seed_hello(&s, 65536);
	seed_hdr(&s, LSE_T_DATA, 0xFFFFFFFFu);
	seed_op_end(&s, END_OPEN);
	seed_write(&s, "err4_too_large_4g");

	seed_session(&s, LIM_65536);
	seed_hdr(&s, LSE_T_HELLO, 5);
	seed_payload(&s, 5);
	seed_op_end(&s, END_EOF);
	seed_write(&s, "err5_hello_len_5");

	seed_session(&s, LIM_65536);
	seed_hello(&s, 0);
	seed_data(&s, 1);
	seed_op_end(&s, END_EOF);
	seed_write(&s, "err5_hello_value_0");

	seed_session(&s, LIM_65536);
	seed_data(&s, 4);
	seed_op_end(&s, END_EOF);
	seed_write(&s, "err6_data_first");

	seed_session(&s, LIM_65536);     /* HELLO-first before the length check */
	seed_hdr(&s, LSE_T_DATA, 0xFFFFFFFFu);
	seed_op_end(&s, END_OPEN);
	seed_write(&s, "err6_data_first_4g");

	seed_session(&s, LIM_65536);
	seed_hdr(&s, LSE_T_BYE, 1);
	seed_payload(&s, 1);
	seed_op_end(&s, END_EOF);
	seed_write(&s, "err6_bye_with_payload_first");

	seed_session(&s, LIM_65536);
	seed_hello(&s, 64);
	seed_hello(&s, 128);
	seed_op_end(&s, END_EOF);
	seed_write(&s, "err7_duplicate_hello");

	seed_session(&s, LIM_65536);     /* duplicate before the HELLO length */
	seed_hello(&s, 64);
	seed_hdr(&s, LSE_T_HELLO, 7);
	seed_payload(&s, 7);
	seed_op_end(&s, END_EOF);
	seed_write(&s, "err7_duplicate_hello_bad_len");

	seed_session(&s, LIM_65536);
	seed_hello(&s, 64);
	seed_ping(&s, LSE_PING_MAX + 1);
	seed_op_end(&s, END_EOF);
	seed_write(&s, "err8_ping_65");

	seed_session(&s, LIM_65536);
	seed_hello(&s, 64);
	seed_hdr(&s, LSE_T_BYE, 2);
	seed_payload(&s, 2);
	seed_op_end(&s, END_EOF);
	seed_write(&s, "err8_bye_with_payload");

	seed_session(&s, LIM_65536);     /* answers owed go out before the ERROR */
	seed_hello(&s, 64);
	seed_data(&s, 4);
	seed_ping(&s, 4);
	seed_data(&s, 0);
	seed_hdr_raw(&s, 'L', 'L', LSE_VERSION, LSE_T_DATA, 1);
	seed_data(&s, 2);                /* never read */
	seed_op_end(&s, END_OPEN);
	seed_write(&s, "err_after_pipeline");
}

/* ---- fuzz_session: input that ends mid-frame ---- */

static void gen_session_partial(void)
{
	static const char *const name[2][2] = {
		{ "partial_header_open", "partial_payload_open" },
		{ "partial_header_halfclose", "partial_payload_halfclose" },
	};
	seed s;

	for (int eof = 0; eof < 2; eof++) {
		seed_session(&s, LIM_65536);
		seed_hello(&s, 64);
		seed_data(&s, 3);
		seed_bytes(&s, "LE\x01\x03\x00", 5);
		seed_op_end(&s, eof);
		seed_write(&s, name[eof][0]);

		seed_session(&s, LIM_65536);
		seed_hello(&s, 64);
		seed_ping(&s, 1);
		seed_hdr(&s, LSE_T_DATA, 10);
		seed_payload(&s, 4);
		seed_op_end(&s, eof);
		seed_write(&s, name[eof][1]);
	}

	seed_session(&s, LIM_65536);
	seed_hdr(&s, LSE_T_HELLO, 4);
	seed_bytes(&s, "\x00\x01", 2);
	seed_op_end(&s, END_EOF);
	seed_write(&s, "partial_hello_value_halfclose");
}

/* ---- fuzz_session: the server limits (flags bits 0-2) and bit 3 ---- */

static void gen_session_limits(void)
{
	seed s;

	seed_session(&s, LIM_1);
	seed_hello(&s, 65536);
	seed_data(&s, 1);
	seed_data(&s, 2);
	seed_op_end(&s, END_EOF);
	seed_write(&s, "limit1_data_1_then_2");

	seed_session(&s, LIM_130);       /* the largest negotiation without a heap buffer */
	seed_hello(&s, 1000);
	seed_data(&s, 130);
	seed_op_end(&s, END_EOF);
	seed_write(&s, "limit130_data_130");

	seed_session(&s, LIM_131);       /* the smallest with one */
	seed_hello(&s, 1000);
	seed_data(&s, 131);
	seed_op_end(&s, END_EOF);
	seed_write(&s, "limit131_data_131");

	seed_session(&s, LIM_65535);
	seed_hello(&s, 65536);
	seed_data(&s, 3);
	seed_hdr(&s, LSE_T_DATA, 65536);
	seed_op_end(&s, END_OPEN);
	seed_write(&s, "limit65535_data_65536");

	seed_session(&s, LIM_16M);
	seed_hello(&s, 0xFFFFFFFFu);
	seed_data(&s, 8);
	seed_hdr(&s, LSE_T_DATA, LSE_LIMIT_MAX + 1);
	seed_op_end(&s, END_OPEN);
	seed_write(&s, "limit16m_data_16m_plus_1");

	/* No END: the schedule runs until it meets the stream, so flags bit 3
	 * decides the half-close. */
	seed_session(&s, LIM_65536 | HALF_CLOSE);
	seed_hello(&s, 64);
	seed_data(&s, 3);
	seed_bytes(&s, "LE", 2);         /* partial, dropped at the half-close */
	seed_feed_rest(&s, 12);
	seed_write(&s, "halfclose_by_flag");

	seed_session(&s, LIM_65536 | HALF_CLOSE);
	seed_hello(&s, 64);
	seed_data(&s, 3);
	seed_op_end(&s, END_OPEN);           /* END's bit 2 overrides flags bit 3 */
	seed_write(&s, "end_overrides_flag");
}

/* ---- fuzz_session: splits and drains ---- */

static void gen_session_splits(void)
{
	static const size_t odd[] = { 7, 1, 4, 9, 5, 1, 7, 3 };
	seed s;

	seed_session(&s, LIM_65536);
	seed_hello(&s, 64);
	seed_data(&s, 5);
	seed_ping(&s, 2);
	seed_bye(&s);
	seed_feed_rest(&s, 1);
	seed_op_end(&s, END_OPEN);
	seed_write(&s, "split_per_byte");

	/* 7|1: a header completes alone; 9: a header and one payload byte;
	 * 1|7: a header's first byte alone. */
	seed_session(&s, LIM_65536);
	seed_hello(&s, 64);
	seed_data(&s, 6);
	seed_ping(&s, 3);
	for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++)
		seed_op_feed(&s, odd[i]);
	seed_op_end(&s, END_EOF);
	seed_write(&s, "split_odd_header_boundary");

	seed_session(&s, LIM_65536);
	seed_hello(&s, 64);
	seed_ping(&s, 3);
	seed_data(&s, 4);
	seed_op_feed(&s, 12);
	for (int i = 0; i < 13; i++)
		seed_op_drain(&s, 1);
	seed_feed_rest(&s, 64);
	for (int i = 0; i < 12; i++)
		seed_op_drain(&s, 1);
	seed_op_end(&s, END_EOF);
	seed_write(&s, "drain_1_byte");

	/* Drains that stop one short of, at, and one past a header, WELCOME
	 * and an answer. */
	seed_session(&s, LIM_65536);
	seed_hello(&s, 64);
	seed_data(&s, 5);
	seed_ping(&s, 0);
	seed_feed_rest(&s, 64);
	seed_op_drain(&s, 7);
	seed_op_drain(&s, 1);
	seed_op_drain(&s, 3);
	seed_op_drain(&s, 2);
	seed_op_drain(&s, 12);
	seed_op_drain(&s, 8);
	seed_op_end(&s, END_EOF);
	seed_write(&s, "drain_header_boundaries");
}

static void gen_session_backpressure(void)
{
	seed s;

	/* Bound 276 after HELLO 64; four 72-byte PONGs do not fit, and the
	 * peer reads nothing until END. */
	seed_session(&s, LIM_65536);
	seed_hello(&s, 64);
	for (int i = 0; i < 4; i++)
		seed_ping(&s, 64);
	seed_feed_rest(&s, 64);
	seed_op_end(&s, END_EOF);
	seed_write(&s, "backpressure_stalled_reader");

	/* As above, then a bad header: its ERROR needs room too. */
	seed_session(&s, LIM_65536);
	seed_hello(&s, 64);
	for (int i = 0; i < 3; i++)
		seed_ping(&s, 64);
	seed_hdr(&s, LSE_T_PONG, 0);
	seed_feed_rest(&s, 64);
	seed_op_drain(&s, 13);
	seed_op_end(&s, END_EOF);
	seed_write(&s, "backpressure_error_when_full");

	/* Limit 65536, HELLO 512: eight 520-byte echoes, more than the bound
	 * holds, and drains too small to keep up: the ring never empties, so
	 * its positions run laps ahead of its start. */
	seed_session(&s, LIM_65536);
	seed_hello(&s, 512);
	for (int i = 0; i < 8; i++)
		seed_data(&s, 512);
	seed_op_feed_big(&s, 2);
	seed_op_feed_big(&s, 2);
	seed_op_drain(&s, 137);
	seed_op_feed_big(&s, 2);
	seed_op_drain(&s, 1000);
	seed_op_drain(&s, 139);
	for (int i = 0; i < 4; i++) {
		seed_op_feed_big(&s, 2);
		seed_op_drain(&s, 137);
		seed_op_drain(&s, 138);
		seed_op_drain(&s, 139);
	}
	seed_feed_rest(&s, 64);
	seed_op_drain(&s, 4096);
	seed_op_end(&s, END_EOF);
	seed_write(&s, "backpressure_large_frames_limit65536");
}

/* ---- fuzz_raw ---- */

static void gen_raw_small(void)
{
	seed s;

	seed_raw(&s, 0, 1);
	seed_payload(&s, 3);
	for (int i = 0; i < 3; i++) {
		seed_op_feed(&s, 1);
		seed_op_drain(&s, 1);
	}
	seed_op_end(&s, END_EOF);
	seed_write(&s, "chunk1_per_byte");

	seed_raw(&s, 0, 2);
	seed_payload(&s, 10);
	seed_op_feed(&s, 10);            /* takes 2, then nothing until drained */
	seed_op_drain(&s, 1);
	seed_op_end(&s, END_EOF);
	seed_write(&s, "chunk2_stalled_reader");

	seed_raw(&s, 0, 7);
	seed_payload(&s, 40);
	seed_op_feed(&s, 13);
	seed_op_drain(&s, 3);
	seed_op_feed(&s, 9);
	seed_op_drain(&s, 8);
	seed_op_drain(&s, 12);
	seed_op_feed(&s, 7);
	seed_op_end(&s, END_OPEN);
	seed_write(&s, "chunk7_odd_drains_open");

	seed_raw(&s, 0, 65536);
	seed_op_end(&s, END_EOF);
	seed_write(&s, "empty_halfclose");

	seed_raw(&s, HALF_CLOSE, 64);
	seed_payload(&s, 20);
	seed_op_feed(&s, 11);
	seed_op_feed(&s, 9);
	seed_write(&s, "chunk64_halfclose_by_flag");
}

/* Chunks around the framed bound 276, fed past the chunk, then drained
 * partly and fed again. */
#define DIRECT 0x40u   /* fuzz_raw flags bit 6: recv_buf/recv_ack */

static void gen_raw_direct(void)
{
	seed s;

	seed_raw(&s, DIRECT, 65536);             /* zero copy, the ring grows */
	seed_payload(&s, 1500);
	seed_op_feed_big(&s, 1);
	seed_op_drain(&s, 1000);
	seed_op_end(&s, END_EOF);
	seed_write(&s, "direct_grow_halfclose");

	seed_raw(&s, DIRECT, 7);                 /* zero copy, wrapping a 7-byte ring */
	seed_payload(&s, 40);
	seed_op_feed(&s, 5);
	seed_op_drain(&s, 3);
	seed_op_feed(&s, 9);
	seed_op_drain(&s, 2);
	seed_op_end(&s, END_OPEN);
	seed_write(&s, "direct_chunk7_wrap");
}

static void gen_raw_bound(void)
{
	static const struct {
		uint32_t chunk;
		size_t d1, d2;
		int eof;
		const char *name;
	} c[] = {
		{ 275, 137, 138, END_EOF, "chunk275_backpressure_halfclose" },
		{ 276, 138, 139, END_OPEN, "chunk276_backpressure_open" },
		{ 277, 139, 1000, END_EOF, "chunk277_backpressure_halfclose" },
	};
	seed s;

	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		seed_raw(&s, 0, c[i].chunk);
		seed_payload(&s, 330);
		for (int k = 0; k < 5; k++)
			seed_op_feed(&s, 64);
		seed_op_drain(&s, c[i].d1);
		seed_op_feed(&s, 10);
		seed_op_drain(&s, c[i].d2);
		seed_op_end(&s, c[i].eof);
		seed_write(&s, c[i].name);
	}
}

static void gen_raw_big(void)
{
	seed s;

	seed_raw(&s, 0, 100);            /* FEED_BIG past a 100-byte chunk */
	seed_payload(&s, 600);
	seed_op_feed_big(&s, 1);
	seed_op_drain(&s, 64);
	seed_op_feed_big(&s, 1);
	seed_op_drain(&s, 1000);
	seed_op_end(&s, END_EOF);
	seed_write(&s, "chunk100_feed_big");

	seed_raw(&s, 0, 4096);
	seed_payload(&s, 100);
	seed_op_end(&s, END_EOF);
	seed_write(&s, "chunk4096_at_once_halfclose");

	seed_raw(&s, 0, 65536);          /* frames mean nothing here */
	seed_hello(&s, 64);
	seed_data(&s, 4);
	seed_hdr_raw(&s, 'X', 'X', 0, 0, 0);
	seed_op_end(&s, END_OPEN);
	seed_write(&s, "chunk65536_frames_echoed_open");
}

/* ---- caller storage (flags bit 4): no allocator at all ---- */

#define STORAGE 0x10u

static void gen_storage(void)
{
	seed s;

	seed_session(&s, STORAGE | LIM_4096);     /* negotiation in storage sized for the limit */
	seed_hello(&s, 300);
	seed_data(&s, 300);
	seed_ping(&s, 10);
	seed_op_feed(&s, 30);
	seed_op_drain(&s, 13);
	seed_op_end(&s, END_EOF);
	seed_write(&s, "storage_limit4096");

	seed_raw(&s, STORAGE, 64);               /* raw echo in storage, wrapping */
	seed_payload(&s, 300);
	seed_op_feed(&s, 50);
	seed_op_drain(&s, 7);
	seed_op_feed(&s, 50);
	seed_op_end(&s, END_EOF);
	seed_write(&s, "storage_chunk64_wrap");
}

/* ---- fuzz_alloc ----
 * Allocation 1 is the session. Its output buffer starts inside it (276
 * bytes), so only a negotiation above 130 can ever need allocation 2, and
 * only once the output held outgrows those 276 bytes: each "big" seed holds
 * more than that, each "small" one stays below. The seeds name their input,
 * not the outcome, so they stay meaningful if the growth policy changes. */

static void gen_alloc_grid(void)
{
	static const char *const name[4][2] = {
		{ "fail0_hello_4096_data_300", "fail0_hello_64_data_60" },
		{ "fail1_hello_4096_data_300", "fail1_hello_64_data_60" },
		{ "fail2_hello_4096_data_300", "fail2_hello_64_data_60" },
		{ "fail3_hello_4096_data_300", "fail3_hello_64_data_60" },
	};
	seed s;

	for (uint8_t k = 0; k < 4; k++) {
		for (int small = 0; small < 2; small++) {
			seed_alloc(&s, LIM_65536, k);
			seed_hello(&s, small ? 64 : 4096);
			seed_data(&s, small ? 60 : 300);
			seed_bye(&s);
			seed_op_end(&s, END_OPEN);   /* all at once, nothing drained */
			seed_write(&s, name[k][small]);
		}
	}
}

static void gen_alloc_raw(void)
{
	seed s;

	for (uint8_t k = 1; k <= 2; k++) {      /* raw: the session, then its growth */
		seed_alloc(&s, 0x20 | LIM_4096, k);
		seed_payload(&s, 600);
		seed_op_end(&s, END_EOF);
		seed_write(&s, k == 1 ? "raw_fail1_session" : "raw_fail2_growth");
	}
}

static void gen_alloc_edges(void)
{
	seed s;

	seed_alloc(&s, LIM_65536, 2);    /* the smallest bound above 276: 277 */
	seed_hello(&s, 131);
	seed_data(&s, 131);
	seed_data(&s, 131);
	seed_op_end(&s, END_EOF);
	seed_write(&s, "fail2_hello_131_data_131_twice");

	seed_alloc(&s, LIM_130, 2);      /* the limit keeps it at 276: a full */
	seed_hello(&s, 65536);           /* buffer stalls, never allocates */
	seed_data(&s, 130);
	seed_data(&s, 130);
	seed_op_end(&s, END_EOF);
	seed_write(&s, "fail2_hello_clamped_to_130");

	seed_alloc(&s, LIM_65536, 2);    /* WELCOME read before anything grows */
	seed_hello(&s, 1000);
	seed_data(&s, 500);
	seed_op_feed(&s, 12);
	seed_op_drain(&s, DRAIN_ALL);
	seed_feed_rest(&s, 64);
	seed_op_end(&s, END_EOF);
	seed_write(&s, "fail2_after_welcome_drained");

	seed_alloc(&s, LIM_65536, 3);    /* held output grows twice */
	seed_hello(&s, 4096);
	seed_data(&s, 400);
	seed_data(&s, 400);
	seed_op_end(&s, END_EOF);
	seed_write(&s, "fail3_hello_4096_data_400_twice");

	seed_alloc(&s, LIM_65536, 2);
	seed_hello(&s, 0);
	seed_op_end(&s, END_EOF);
	seed_write(&s, "fail2_hello_value_0");
}

/* ---- fuzz_frame: 12-byte records, header then u32 negotiated ---- */

static void rec(seed *s, const char *mvt, uint32_t len, uint32_t neg)
{
	seed_hdr_raw(s, (uint8_t)mvt[0], (uint8_t)mvt[1], (uint8_t)mvt[2],
		     (uint8_t)mvt[3], len);
	seed_u32(s, neg);
}

static void gen_frame_ok(void)
{
	seed s;

	seed_begin(&s, "fuzz_frame");
	rec(&s, "LE\x01\x01", 4, 0);              /* HELLO */
	rec(&s, "LE\x01\x03", 0, 1);              /* DATA, empty */
	rec(&s, "LE\x01\x03", 1, 1);              /* DATA at the max */
	rec(&s, "LE\x01\x03", 65536, 65536);
	rec(&s, "LE\x01\x03", LSE_LIMIT_MAX, LSE_LIMIT_MAX);
	rec(&s, "LE\x01\x04", 0, 64);             /* PING */
	rec(&s, "LE\x01\x04", 64, 1);
	rec(&s, "LE\x01\x06", 0, 130);            /* BYE */
	seed_write(&s, "accept_every_client_type");
}

static void gen_frame_early(void)
{
	seed s;

	seed_begin(&s, "fuzz_frame");
	rec(&s, "XY\x01\x01", 4, 0);
	rec(&s, "LF\x02\x01", 4, 0);              /* magic before version */
	rec(&s, "EL\xFF\xFF", 0xFFFFFFFFu, 64);
	rec(&s, "\x00\x00\x00\x00", 0, 0);
	seed_write(&s, "code1_bad_magic");

	seed_begin(&s, "fuzz_frame");
	rec(&s, "LE\x00\x01", 4, 0);
	rec(&s, "LE\x02\x03", 1, 64);
	rec(&s, "LE\xFF\x00", 0, 0);              /* version before type */
	seed_write(&s, "code2_bad_version");

	seed_begin(&s, "fuzz_frame");
	rec(&s, "LE\x01\x00", 0, 0);              /* type before HELLO-first */
	rec(&s, "LE\x01\x02", 4, 0);              /* WELCOME */
	rec(&s, "LE\x01\x05", 0, 64);             /* PONG */
	rec(&s, "LE\x01\x7F", 2, 64);             /* ERROR */
	rec(&s, "LE\x01\x07", 0, 64);
	rec(&s, "LE\x01\x80", 4, 0);
	rec(&s, "LE\x01\xFF", 0xFFFFFFFFu, 1);
	seed_write(&s, "code3_bad_type");
}

static void gen_frame_late(void)
{
	seed s;

	seed_begin(&s, "fuzz_frame");
	rec(&s, "LE\x01\x03", 65, 64);
	rec(&s, "LE\x01\x03", 2, 1);
	rec(&s, "LE\x01\x03", 0xFFFFFFFFu, 65536);
	rec(&s, "LE\x01\x03", LSE_LIMIT_MAX + 1, LSE_LIMIT_MAX);
	rec(&s, "LE\x01\x03", 65536, 65535);
	seed_write(&s, "code4_too_large");

	seed_begin(&s, "fuzz_frame");
	rec(&s, "LE\x01\x01", 0, 0);
	rec(&s, "LE\x01\x01", 3, 0);
	rec(&s, "LE\x01\x01", 5, 0);
	rec(&s, "LE\x01\x01", 0xFFFFFFFFu, 0);
	seed_write(&s, "code5_bad_hello_len");

	seed_begin(&s, "fuzz_frame");
	rec(&s, "LE\x01\x03", 0, 0);
	rec(&s, "LE\x01\x03", 0xFFFFFFFFu, 0);    /* before the length check */
	rec(&s, "LE\x01\x04", 65, 0);
	rec(&s, "LE\x01\x06", 1, 0);
	seed_write(&s, "code6_not_negotiated");

	seed_begin(&s, "fuzz_frame");
	rec(&s, "LE\x01\x01", 4, 1);
	rec(&s, "LE\x01\x01", 5, 65536);          /* before the HELLO length */
	seed_write(&s, "code7_duplicate_hello");

	seed_begin(&s, "fuzz_frame");
	rec(&s, "LE\x01\x04", 65, 64);
	rec(&s, "LE\x01\x04", 0xFFFFFFFFu, LSE_LIMIT_MAX);
	rec(&s, "LE\x01\x06", 1, 64);
	rec(&s, "LE\x01\x06", 0xFFFFFFFFu, 1);
	seed_write(&s, "code8_bad_length");

	seed_begin(&s, "fuzz_frame");             /* a session's worth, in order */
	rec(&s, "LE\x01\x01", 4, 0);
	rec(&s, "LE\x01\x03", 130, 130);
	rec(&s, "LE\x01\x03", 131, 130);
	rec(&s, "LE\x01\x04", 64, 130);
	rec(&s, "LE\x01\x01", 4, 130);
	rec(&s, "LE\x01\x06", 0, 130);
	seed_write(&s, "session_sequence");

	seed_begin(&s, "fuzz_frame");             /* a record cut short is ignored */
	rec(&s, "LE\x01\x03", 7, 8);
	seed_bytes(&s, "LE\x01\x04\x00\x00\x00", 7);
	seed_write(&s, "trailing_partial_record");
}

/* ---- fuzz_multi: connections (harness/README.md, fuzz_multi) ----
 * Operations: op & 7 = 0 OPEN (kernel buffer caps[op >> 3 & 7]), 1 SEND
 * (1..32 bytes), 2 SEND_BIG (k * 128), 3 DRAIN, 4 SHUT, 5 ABORT, each of
 * 1-5 followed by a connection byte; 6 LOOP; 7 END. */

enum mcap { CAP_1, CAP_7, CAP_64, CAP_138, CAP_512, CAP_4096, CAP_64K, CAP_256K };
#define MULTI_RAW 0x08u
#define MULTI_SMALL_SCRATCH 0x80u

static void mseed_begin_failing(seed *s, uint8_t flags, uint8_t fail_at)
{
	seed_begin(s, "fuzz_multi");
	seed_sched(s, flags);
	seed_sched(s, fail_at);
}

static void mseed_begin(seed *s, uint8_t flags)
{
	mseed_begin_failing(s, flags, 0);
}

static void mseed_open(seed *s, enum mcap cap) { seed_sched(s, (uint8_t)(cap << 3)); }
static void mseed_loop(seed *s) { seed_sched(s, 6); }

static void mseed_end(seed *s)
{
	seed_sched(s, 7);
	s->ended = 1;
}

static void mseed_conn_op(seed *s, uint8_t op, uint8_t conn)
{
	seed_sched(s, op);
	seed_sched(s, conn);
}

/* The client on `conn` sends p[0, n) in SENDs of at most `piece` bytes. */
static void mseed_send(seed *s, uint8_t conn, const uint8_t *p, size_t n, size_t piece)
{
	if (piece < 1 || piece > 32)
		die("SEND piece of %zu bytes", piece);
	seed_bytes(s, p, n);
	while (n > 0) {
		size_t k = n < piece ? n : piece;
		mseed_conn_op(s, (uint8_t)((k - 1) << 3 | 1), conn);
		s->fed += k;
		n -= k;
	}
}

/* The client on `conn` sends p[0, blocks * 128) in one SEND_BIG. */
static void mseed_send_big(seed *s, uint8_t conn, const uint8_t *p, size_t blocks)
{
	if (blocks < 1 || blocks > 32)
		die("SEND_BIG of %zu blocks", blocks);
	seed_bytes(s, p, blocks * 128);
	mseed_conn_op(s, (uint8_t)((blocks - 1) << 3 | 2), conn);
	s->fed += blocks * 128;
}

static void mseed_drain(seed *s, uint8_t conn, size_t max)
{
	for (unsigned i = 0; i < 16; i++) {
		if (seed_drains[i] == max) {
			mseed_conn_op(s, (uint8_t)(i << 3 | 3), conn);
			return;
		}
	}
	die("no DRAIN of %zu bytes", max);
}

/* Frames for one connection, built apart and then sent. */
static size_t frames(seed *tmp, void (*build)(seed *))
{
	seed_begin(tmp, "scratch");
	build(tmp);
	return tmp->len;
}

static void f_hello_data(seed *t) { seed_hello(t, 4096); seed_data(t, 12); }
static void f_hello_data_bye(seed *t) { seed_hello(t, 64); seed_data(t, 5); seed_bye(t); seed_data(t, 3); }
static void f_hello_pipeline(seed *t) { seed_hello(t, 300); seed_data(t, 40); seed_ping(t, 9); seed_data(t, 70); }
static void f_bad_magic(seed *t) { seed_hello(t, 64); seed_hdr_raw(t, 'X', 'X', 1, 3, 1); }
static void f_big(seed *t) { seed_hello(t, 65536); seed_data(t, 600); }
static void f_bulk(seed *t)   /* 12 KiB of echo: more than a 4 KiB send buffer holds */
{
	seed_hello(t, 65536);
	for (int i = 0; i < 3; i++)
		seed_data(t, 4096);
}
static void f_small(seed *t) { seed_hello(t, 1); seed_data(t, 1); }

static void gen_multi(void)
{
	seed s, t;
	size_t n;

	mseed_begin(&s, 0);                        /* two clients, interleaved */
	mseed_open(&s, CAP_4096);
	mseed_open(&s, CAP_4096);
	n = frames(&t, f_hello_data);
	mseed_send(&s, 0, t.stream, 10, 10);
	mseed_send(&s, 1, t.stream, n, 7);
	mseed_send(&s, 0, t.stream + 10, n - 10, 32);
	mseed_end(&s);
	seed_write(&s, "two_interleaved");

	mseed_begin(&s, 0);                        /* 64 connections, one send each */
	n = frames(&t, f_small);
	for (int i = 0; i < 64; i++)
		mseed_open(&s, (enum mcap)(i & 7));
	for (int i = 0; i < 64; i++)
		mseed_send(&s, (uint8_t)i, t.stream, n, 32);
	mseed_end(&s);
	seed_write(&s, "sixty_four_connections");

	mseed_begin(&s, 0);                        /* a reader that drains one byte at a time */
	mseed_open(&s, CAP_1);
	n = frames(&t, f_hello_pipeline);
	mseed_send(&s, 0, t.stream, n, 32);
	for (int i = 0; i < 6; i++)
		mseed_drain(&s, 0, 1);
	mseed_loop(&s);
	mseed_end(&s);
	seed_write(&s, "slow_reader");

	mseed_begin(&s, 0);                        /* BYE on one, the other goes on */
	mseed_open(&s, CAP_64);
	mseed_open(&s, CAP_64K);
	n = frames(&t, f_hello_data_bye);
	mseed_send(&s, 0, t.stream, n, 32);
	n = frames(&t, f_hello_pipeline);
	mseed_send(&s, 1, t.stream, n, 13);
	mseed_end(&s);
	seed_write(&s, "bye_on_one");

	mseed_begin(&s, 0);                        /* ERROR on one, the other goes on */
	mseed_open(&s, CAP_138);
	mseed_open(&s, CAP_138);
	n = frames(&t, f_bad_magic);
	mseed_send(&s, 0, t.stream, n, 32);
	n = frames(&t, f_hello_data);
	mseed_send(&s, 1, t.stream, n, 32);
	mseed_end(&s);
	seed_write(&s, "error_on_one");

	mseed_begin(&s, 0);                        /* abort mid-frame, the other unharmed */
	mseed_open(&s, CAP_512);
	mseed_open(&s, CAP_512);
	n = frames(&t, f_hello_pipeline);
	mseed_send(&s, 0, t.stream, 30, 30);
	mseed_conn_op(&s, 5, 0);
	mseed_send(&s, 1, t.stream, n, 32);
	mseed_end(&s);
	seed_write(&s, "abort_mid_frame");

	mseed_begin(&s, 0);                        /* half-close mid-frame and after */
	mseed_open(&s, CAP_4096);
	mseed_open(&s, CAP_4096);
	n = frames(&t, f_hello_data);
	mseed_send(&s, 0, t.stream, n - 3, 32);
	mseed_conn_op(&s, 4, 0);
	mseed_send(&s, 1, t.stream, n, 32);
	mseed_conn_op(&s, 4, 1);
	mseed_end(&s);
	seed_write(&s, "half_close");

	mseed_begin(&s, MULTI_SMALL_SCRATCH);      /* 17-byte reads, a big frame */
	mseed_open(&s, CAP_7);
	n = frames(&t, f_big);
	mseed_send(&s, 0, t.stream, n, 32);
	mseed_drain(&s, 0, 137);
	mseed_loop(&s);
	mseed_end(&s);
	seed_write(&s, "small_reads_big_frame");

	mseed_begin(&s, MULTI_RAW | 2u << 4);      /* raw, chunk 7, three clients */
	for (int i = 0; i < 3; i++)
		mseed_open(&s, CAP_7);
	n = frames(&t, f_hello_pipeline);
	for (int i = 0; i < 3; i++)
		mseed_send(&s, (uint8_t)i, t.stream + 20 * i, 40, 11);
	mseed_conn_op(&s, 4, 2);
	mseed_end(&s);
	seed_write(&s, "raw_three_chunk7");

	/* Refused allocations: the table's array, a connection, a session, a
	 * ring growth; raw (read straight into the ring) and framed. One
	 * SEND_BIG makes the first read fill the 276 inline bytes. */
	static const char *const failing[2][6] = {
		{ "raw_fail_alloc_1", "raw_fail_alloc_2", "raw_fail_alloc_3",
		  "raw_fail_alloc_4", "raw_fail_alloc_5", "raw_fail_alloc_6" },
		{ "framed_fail_alloc_1", "framed_fail_alloc_2", "framed_fail_alloc_3",
		  "framed_fail_alloc_4", "framed_fail_alloc_5", "framed_fail_alloc_6" },
	};
	for (int framed = 0; framed <= 1; framed++) {
		for (uint8_t k = 1; k <= 6; k++) {
			mseed_begin_failing(&s, framed ? 0 : MULTI_RAW | 6u << 4, k);
			mseed_open(&s, CAP_64K);
			mseed_open(&s, CAP_64K);
			n = frames(&t, f_big);   /* HELLO 65536, DATA 600: 620 bytes */
			mseed_send_big(&s, 0, t.stream, 4);
			mseed_send(&s, 1, t.stream, 100, 32);
			mseed_end(&s);
			seed_write(&s, failing[framed][k - 1]);
		}
	}
}

/* ---- fuzz_socket: fuzz_multi's operations over kernel sockets; OPEN's
 * bit 3 connects through the listening socket (else a socketpair), bits
 * 4-5 pick the server end's send buffer {default, 4096, 16384, 65536} ---- */

#define VIA_ACCEPT 0x08u

static void sseed_begin(seed *s, uint8_t flags)
{
	seed_begin(s, "fuzz_socket");
	seed_sched(s, flags);
}

/* Fault injection on: flags bit 7, then the I/O fault generator's seed byte
 * (0: no I/O faults) and the allocation to refuse (0: none). */
static void sseed_begin_faults(seed *s, uint8_t flags, uint8_t fault, uint8_t fail_at)
{
	seed_begin(s, "fuzz_socket");
	seed_sched(s, (uint8_t)(flags | 0x80));
	seed_sched(s, fault);
	seed_sched(s, fail_at);
}

static void sseed_open(seed *s, int accept, unsigned sndbuf)
{
	seed_sched(s, (uint8_t)((accept ? VIA_ACCEPT : 0) | (sndbuf & 3) << 4));
}

static void gen_socket(void)
{
	seed s, t;
	size_t n;

	sseed_begin(&s, 0);                        /* accepted and paired, interleaved */
	sseed_open(&s, 1, 0);
	sseed_open(&s, 0, 0);
	n = frames(&t, f_hello_data);
	mseed_send(&s, 0, t.stream, 10, 10);
	mseed_send(&s, 1, t.stream, n, 7);
	mseed_send(&s, 0, t.stream + 10, n - 10, 32);
	mseed_end(&s);
	seed_write(&s, "accept_and_pair_interleaved");

	sseed_begin(&s, 0);                        /* a reader that waits, a 4 KiB send buffer */
	sseed_open(&s, 0, 1);
	n = frames(&t, f_big);
	mseed_send_big(&s, 0, t.stream, 4);
	mseed_drain(&s, 0, 64);
	mseed_loop(&s);
	mseed_drain(&s, 0, 1000);
	mseed_end(&s);
	seed_write(&s, "slow_reader_small_sndbuf");

	sseed_begin(&s, 0);                        /* BYE on one, ERROR on another, a third goes on */
	for (int i = 0; i < 3; i++)
		sseed_open(&s, i & 1, 2);
	n = frames(&t, f_hello_data_bye);
	mseed_send(&s, 0, t.stream, n, 32);
	n = frames(&t, f_bad_magic);
	mseed_send(&s, 1, t.stream, n, 32);
	n = frames(&t, f_hello_pipeline);
	mseed_send(&s, 2, t.stream, n, 13);
	mseed_end(&s);
	seed_write(&s, "bye_error_and_pipeline");

	sseed_begin(&s, 0);                        /* abort mid-frame and half-close */
	sseed_open(&s, 1, 0);
	sseed_open(&s, 1, 0);
	n = frames(&t, f_hello_pipeline);
	mseed_send(&s, 0, t.stream, 30, 30);
	mseed_conn_op(&s, 5, 0);
	mseed_send(&s, 1, t.stream, n, 32);
	mseed_conn_op(&s, 4, 1);
	mseed_end(&s);
	seed_write(&s, "abort_and_half_close");

	sseed_begin(&s, MULTI_RAW | 2u << 4);      /* raw, chunk 7 */
	sseed_open(&s, 0, 0);
	sseed_open(&s, 1, 3);
	n = frames(&t, f_hello_pipeline);
	mseed_send(&s, 0, t.stream, 40, 11);
	mseed_send(&s, 1, t.stream + 40, 40, 32);
	mseed_conn_op(&s, 4, 0);
	mseed_end(&s);
	seed_write(&s, "raw_chunk7");

	sseed_begin(&s, 0);                        /* 32 connections, both ways in turn */
	n = frames(&t, f_small);
	for (int i = 0; i < 32; i++)
		sseed_open(&s, i & 1, (unsigned)i);
	for (int i = 0; i < 32; i++)
		mseed_send(&s, (uint8_t)i, t.stream, n, 32);
	mseed_end(&s);
	seed_write(&s, "thirty_two_connections");

	sseed_begin(&s, MULTI_RAW | 6u << 4);      /* raw: 12 KiB into a 4 KiB send buffer */
	sseed_open(&s, 0, 1);
	for (int i = 0; i < 3; i++) {
		seed_payload(&s, 4096);
		mseed_conn_op(&s, 31 << 3 | 2, 0);    /* SEND_BIG of 32 blocks */
		s.fed += 4096;
	}
	mseed_loop(&s);
	mseed_drain(&s, 0, 1000);
	mseed_loop(&s);
	mseed_end(&s);
	seed_write(&s, "short_writes_raw");

	static const char *const faulty[4] = { "faults_1", "faults_2", "faults_3", "faults_4" };
	for (uint8_t k = 0; k < 4; k++) {          /* EINTR, EAGAIN, short counts, resets, EMFILE */
		sseed_begin_faults(&s, k & 1 ? MULTI_RAW | 3u << 4 : 0, (uint8_t)(k * 61 + 7), 0);
		for (int i = 0; i < 4; i++)
			sseed_open(&s, i & 1, (unsigned)i);
		n = frames(&t, f_hello_pipeline);
		for (int i = 0; i < 4; i++)
			mseed_send(&s, (uint8_t)i, t.stream, n, 17);
		mseed_drain(&s, 1, 64);
		mseed_conn_op(&s, 4, 2);
		mseed_end(&s);
		seed_write(&s, faulty[k]);
	}

	/* Soft faults only: the first fault seed whose first 60 socket calls (the
	 * run makes about 25)
	 * get EINTR, spurious EAGAINs and short counts but no reset, so the
	 * output must still equal the model's exactly, and whose first few
	 * calls (the server's first reads) include a spurious EAGAIN. A
	 * connection closed on a spurious EAGAIN (canary 10) then shows. */
	{
		uint8_t soft = 0;

		for (unsigned seed = 1; seed < 256 && !soft; seed++) {
			uint32_t g = lse_faultgen_init((uint8_t)seed);
			int early_again = 0, hard = 0;

			for (int call = 0; call < 60; call++) {
				enum lse_fault k = lse_faultgen_next(&g);

				early_again += k == LSE_FAULT_AGAIN && call < 4;
				hard += k == LSE_FAULT_HARD;
			}
			if (!hard && early_again)
				soft = (uint8_t)seed;
		}
		if (!soft)
			die("no fault seed injects only soft faults in 60 calls");
		sseed_begin_faults(&s, 0, soft, 0);
		sseed_open(&s, 0, 0);
		n = frames(&t, f_hello_pipeline);
		for (size_t at = 0; at < n; at += 9) {
			mseed_send(&s, 0, t.stream + at, n - at < 9 ? n - at : 9, 9);
			mseed_loop(&s);
		}
		mseed_drain(&s, 0, 64);
		mseed_conn_op(&s, 4, 0);
		mseed_end(&s);
		seed_write(&s, "faults_soft");
	}

	/* Refused allocations, no I/O faults. A socketpair's connection makes
	 * the table (1), the connection (2), the session (3); behind a full
	 * 4 KiB send buffer (the client reads only at the end) 12 KiB of echo
	 * then grows the ring (4, 5, ...). */
	static const struct { uint8_t fail_at; const char *name; } refused[3] = {
		{ 1, "alloc_refused_table" },
		{ 4, "alloc_refused_first_growth" },
		{ 5, "alloc_refused_second_growth" },
	};
	for (int k = 0; k < 3; k++) {
		sseed_begin_faults(&s, 0, 0, refused[k].fail_at);
		size_t at = 0;

		sseed_open(&s, 0, 1);
		n = frames(&t, f_bulk);
		for (; at + 4096 <= n; at += 4096)
			mseed_send_big(&s, 0, t.stream + at, 32);
		mseed_send(&s, 0, t.stream + at, n - at, 32);
		mseed_loop(&s);
		sseed_open(&s, 1, 0);          /* and one more goes on */
		n = frames(&t, f_small);
		mseed_send(&s, 1, t.stream, n, 32);
		mseed_end(&s);
		seed_write(&s, refused[k].name);
	}
}

/* ---- fuzz_api: a config (mode, u32 limit, u32 chunk), then calls ---- */

static void aseed_begin(seed *s, uint8_t mode, uint32_t limit, uint32_t chunk)
{
	seed_begin(s, "fuzz_api");
	seed_sched(s, mode);
	for (int i = 24; i >= 0; i -= 8)
		seed_sched(s, (uint8_t)(limit >> i));
	for (int i = 24; i >= 0; i -= 8)
		seed_sched(s, (uint8_t)(chunk >> i));
}

/* recv of the next 9k + 1 stream bytes */
static void aseed_recv(seed *s, unsigned k) { seed_sched(s, (uint8_t)(k << 3)); s->fed += 9 * k + 1; }
static void aseed_op(seed *s, uint8_t op) { seed_sched(s, op); }
static void aseed_u16(seed *s, uint16_t v) { seed_sched(s, (uint8_t)(v >> 8)); seed_sched(s, (uint8_t)v); }

static void gen_api(void)
{
	seed s;

	aseed_begin(&s, 0, 0, 0);                 /* defaults; misuse between good calls */
	seed_hello(&s, 64);
	seed_data(&s, 9);
	aseed_recv(&s, 1);
	aseed_recv(&s, 2);
	aseed_op(&s, 1 | 3 << 3);                 /* recv(NULL, 4) */
	aseed_op(&s, 2);                          /* ack of a u16: too much */
	aseed_u16(&s, 60000);
	aseed_op(&s, 4);                          /* full drain */
	aseed_op(&s, 7);
	aseed_op(&s, 3);                          /* EOF, then recv */
	aseed_op(&s, 1);
	seed_write(&s, "framed_misuse");

	aseed_begin(&s, 1, 0, 5);                 /* raw, chunk 5 */
	seed_payload(&s, 19);
	aseed_recv(&s, 2);
	aseed_op(&s, 2 | 2 << 3);                 /* ack 3 of the 5 offered */
	aseed_u16(&s, 12);
	aseed_op(&s, 4);
	aseed_op(&s, 4);
	seed_write(&s, "raw_chunk5_acks");

	aseed_begin(&s, 0, 0, 0);                 /* a sticky protocol error */
	seed_hdr_raw(&s, 'X', 'E', 1, 1, 4);
	seed_payload(&s, 2);
	aseed_recv(&s, 1);
	aseed_op(&s, 1);
	aseed_op(&s, 6);
	seed_sched(&s, 0xFF);                     /* strerror(-1) */
	aseed_op(&s, 6);
	seed_sched(&s, 0xE0);                     /* strerror(-32) */
	seed_write(&s, "sticky_error_strerror");

	aseed_begin(&s, 0, 0, 0);                 /* strerror of OK, INVAL, unknown */
	aseed_op(&s, 6);
	seed_sched(&s, 0x00);
	aseed_op(&s, 6);
	seed_sched(&s, 0xDF);                     /* -33 */
	aseed_op(&s, 6);
	seed_sched(&s, 0x05);
	seed_write(&s, "strerror_others");

	aseed_begin(&s, 0, 4096, 0);              /* the connection table */
	aseed_op(&s, 5);
	aseed_u16(&s, 3);                         /* add 3 */
	aseed_op(&s, 5);
	aseed_u16(&s, 3);                         /* add 3 again: refused */
	aseed_op(&s, 5);
	aseed_u16(&s, 4000);                      /* add 4000: the table grows */
	aseed_op(&s, 5);
	aseed_u16(&s, 0xFFFF);                    /* add -1: refused */
	aseed_op(&s, 5 | 1 << 3);
	aseed_u16(&s, 3);                         /* del 3 */
	aseed_op(&s, 5 | 1 << 3);
	aseed_u16(&s, 77);                        /* del of nothing */
	seed_write(&s, "conntab_add_del");

	aseed_begin(&s, 0, 0, 0);                 /* adds whose k-th allocation fails */
	for (unsigned k = 3; k >= 1; k--) {      /* each fd grows the table first */
		aseed_op(&s, (uint8_t)(5 | (k << 2) << 3));
		aseed_u16(&s, (uint16_t)((4 - k) * 500 - 130));
	}
	seed_write(&s, "conntab_add_nomem");

	aseed_begin(&s, 2, 0, 0);                 /* bad mode */
	seed_write(&s, "bad_mode");
	aseed_begin(&s, 0, LSE_LIMIT_MAX + 1, 0); /* limit one past the maximum */
	seed_write(&s, "bad_limit");
	aseed_begin(&s, 1, 0, LSE_CHUNK_MAX + 1); /* chunk one past the maximum */
	seed_write(&s, "bad_chunk");
	aseed_begin(&s, 0, LSE_LIMIT_MAX, 1);     /* the largest limit is fine */
	seed_write(&s, "max_limit");
}

int main(int argc, char **argv)
{
	static const char *const targets[] = { "fuzz_frame", "fuzz_session",
					       "fuzz_raw", "fuzz_alloc",
					       "fuzz_multi", "fuzz_api",
					       "fuzz_socket" };

	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTDIR\n", argc > 0 ? argv[0] : "gen_corpus");
		return 2;
	}
	gen.outdir = argv[1];
	make_dir(gen.outdir, NULL);
	for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++)
		make_dir(gen.outdir, targets[i]);

	gen_session_frames();
	gen_session_errors_hdr();
	gen_session_errors_len();
	gen_session_partial();
	gen_session_limits();
	gen_session_splits();
	gen_session_backpressure();
	gen_raw_small();
	gen_raw_direct();
	gen_raw_bound();
	gen_raw_big();
	gen_storage();
	gen_alloc_grid();
	gen_alloc_edges();
	gen_alloc_raw();
	gen_frame_ok();
	gen_frame_early();
	gen_frame_late();
	gen_multi();
	gen_api();
	gen_socket();
	printf("gen_corpus: %u seeds written under %s\n", gen.n, gen.outdir);
	return 0;
}
