/* Framed sessions: every frame type and error, every stream under every
 * schedule (at once, per byte, random splits; drains; a stalled reader),
 * against the reference model, plus the API contract. */
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"
#include "model.h"

typedef void (*build_fn)(lse_bytes *b);

static void s_hello_small(lse_bytes *b) { lse_bytes_hello(b, 10); }
static void s_hello_clamped(lse_bytes *b) { lse_bytes_hello(b, 100000); }

static void s_all_types(lse_bytes *b)
{
	lse_bytes_hello(b, 4096);
	lse_bytes_data(b, 0, 0);
	lse_bytes_data(b, 5, 1);
	lse_bytes_frame(b, LSE_T_PING, 0, NULL);
	lse_bytes_frame(b, LSE_T_PING, 64, "0123456789012345678901234567890123456789012345678901234567890123");
	lse_bytes_data(b, 4096, 2);
	lse_bytes_frame(b, LSE_T_BYE, 0, NULL);
}

static void s_pipeline(lse_bytes *b)
{
	lse_bytes_hello(b, 300);
	for (uint32_t i = 0; i < 40; i++)
		lse_bytes_data(b, (i * 37u) % 301u, (uint8_t)i);
}

static void s_tiny_negotiation(lse_bytes *b)
{
	lse_bytes_hello(b, 1);
	for (int i = 0; i < 50; i++)
		lse_bytes_data(b, 1, (uint8_t)i);
	lse_bytes_frame(b, LSE_T_PING, 64, "................................................................");
	lse_bytes_data(b, 1, 9);
}

static void s_big(lse_bytes *b)
{
	lse_bytes_hello(b, 65536);
	for (int i = 0; i < 3; i++)
		lse_bytes_data(b, 65536, (uint8_t)i);
	lse_bytes_data(b, 3, 3);
}

static void hdr_raw(lse_bytes *b, uint8_t m0, uint8_t m1, uint8_t v, uint8_t t, uint32_t len)
{
	uint8_t h[8] = { m0, m1, v, t };
	lse_put_u32(h + 4, len);
	lse_bytes_put(b, h, 8);
}

static void e_magic(lse_bytes *b) { hdr_raw(b, 'X', 'E', 1, 1, 4); }
static void e_magic_and_version(lse_bytes *b) { hdr_raw(b, 'L', 'X', 9, 1, 4); }
static void e_version(lse_bytes *b) { hdr_raw(b, 'L', 'E', 2, 1, 4); }
static void e_version_and_type(lse_bytes *b) { hdr_raw(b, 'L', 'E', 0, 9, 4); }
static void e_type_unknown(lse_bytes *b) { hdr_raw(b, 'L', 'E', 1, 0x09, 0); }
static void e_type_welcome(lse_bytes *b) { lse_bytes_hello(b, 8); hdr_raw(b, 'L', 'E', 1, LSE_T_WELCOME, 4); }
static void e_type_pong_first(lse_bytes *b) { hdr_raw(b, 'L', 'E', 1, LSE_T_PONG, 0); }
static void e_type_error(lse_bytes *b) { lse_bytes_hello(b, 8); hdr_raw(b, 'L', 'E', 1, LSE_T_ERROR, 2); }
static void e_too_large(lse_bytes *b) { lse_bytes_hello(b, 16); lse_bytes_data(b, 17, 0); }
static void e_too_large_4g(lse_bytes *b) { lse_bytes_hello(b, 16); hdr_raw(b, 'L', 'E', 1, LSE_T_DATA, 0xFFFFFFFFu); }
static void e_hello_len(lse_bytes *b) { lse_bytes_frame(b, LSE_T_HELLO, 3, "abc"); }
static void e_hello_zero(lse_bytes *b) { lse_bytes_hello(b, 0); lse_bytes_data(b, 1, 1); }
static void e_not_negotiated(lse_bytes *b) { lse_bytes_data(b, 1, 0); }
static void e_not_negotiated_huge(lse_bytes *b) { hdr_raw(b, 'L', 'E', 1, LSE_T_DATA, 0xFFFFFFFFu); }
static void e_duplicate(lse_bytes *b) { lse_bytes_hello(b, 8); lse_bytes_hello(b, 8); }
static void e_duplicate_badlen(lse_bytes *b) { lse_bytes_hello(b, 8); lse_bytes_frame(b, LSE_T_HELLO, 3, "abc"); }
static void e_ping_long(lse_bytes *b) { lse_bytes_hello(b, 8); hdr_raw(b, 'L', 'E', 1, LSE_T_PING, 65); lse_bytes_byte(b, 0, 65); }
static void e_bye_payload(lse_bytes *b) { lse_bytes_hello(b, 8); lse_bytes_frame(b, LSE_T_BYE, 1, "x"); }

static void e_after_good(lse_bytes *b)
{
	lse_bytes_hello(b, 64);
	lse_bytes_data(b, 64, 5);
	lse_bytes_frame(b, LSE_T_PING, 3, "abc");
	hdr_raw(b, 'L', 'E', 7, LSE_T_DATA, 1);
	lse_bytes_data(b, 3, 3);
}

static void s_bye_mid_pipeline(lse_bytes *b)
{
	lse_bytes_hello(b, 64);
	lse_bytes_data(b, 10, 1);
	lse_bytes_frame(b, LSE_T_BYE, 0, NULL);
	lse_bytes_data(b, 10, 2);
	lse_bytes_frame(b, LSE_T_PING, 0, NULL);
}

static void s_partial_payload(lse_bytes *b)
{
	lse_bytes_hello(b, 64);
	lse_bytes_data(b, 10, 1);
	hdr_raw(b, 'L', 'E', 1, LSE_T_DATA, 10);
	lse_bytes_byte(b, 'p', 3);
}

static void s_partial_header(lse_bytes *b)
{
	lse_bytes_hello(b, 64);
	lse_bytes_data(b, 2, 1);
	lse_bytes_put(b, "LE\x01\x03\x00", 5);
}

static void s_partial_hello(lse_bytes *b) { lse_bytes_put(b, "LE\x01\x01\x00\x00\x00\x04\x00\x00", 10); }

struct stream {
	const char *name;
	build_fn build;
	uint32_t limit;
	int err;     /* expected sticky error once all input is in */
};

static const struct stream streams[] = {
	{ "hello_small", s_hello_small, 0, 0 },
	{ "hello_clamped", s_hello_clamped, 0, 0 },
	{ "hello_limit_1", s_hello_small, 1, 0 },
	{ "all_types", s_all_types, 0, 0 },
	{ "pipeline", s_pipeline, 0, 0 },
	{ "tiny_negotiation", s_tiny_negotiation, 0, 0 },
	{ "big_frames", s_big, 0, 0 },
	{ "bye_mid_pipeline", s_bye_mid_pipeline, 0, 0 },
	{ "partial_payload", s_partial_payload, 0, 0 },
	{ "partial_header", s_partial_header, 0, 0 },
	{ "partial_hello", s_partial_hello, 0, 0 },
	{ "err_magic", e_magic, 0, LSE_E_BAD_MAGIC },
	{ "err_magic_before_version", e_magic_and_version, 0, LSE_E_BAD_MAGIC },
	{ "err_version", e_version, 0, LSE_E_BAD_VERSION },
	{ "err_version_before_type", e_version_and_type, 0, LSE_E_BAD_VERSION },
	{ "err_type_unknown", e_type_unknown, 0, LSE_E_BAD_TYPE },
	{ "err_type_welcome", e_type_welcome, 0, LSE_E_BAD_TYPE },
	{ "err_type_before_negotiated", e_type_pong_first, 0, LSE_E_BAD_TYPE },
	{ "err_type_error", e_type_error, 0, LSE_E_BAD_TYPE },
	{ "err_too_large", e_too_large, 0, LSE_E_TOO_LARGE },
	{ "err_too_large_4g", e_too_large_4g, 0, LSE_E_TOO_LARGE },
	{ "err_hello_len", e_hello_len, 0, LSE_E_BAD_HELLO },
	{ "err_hello_zero", e_hello_zero, 0, LSE_E_BAD_HELLO },
	{ "err_not_negotiated", e_not_negotiated, 0, LSE_E_NOT_NEGOTIATED },
	{ "err_not_negotiated_before_length", e_not_negotiated_huge, 0, LSE_E_NOT_NEGOTIATED },
	{ "err_duplicate_hello", e_duplicate, 0, LSE_E_DUPLICATE_HELLO },
	{ "err_duplicate_before_length", e_duplicate_badlen, 0, LSE_E_DUPLICATE_HELLO },
	{ "err_ping_long", e_ping_long, 0, LSE_E_BAD_LENGTH },
	{ "err_bye_payload", e_bye_payload, 0, LSE_E_BAD_LENGTH },
	{ "err_after_good_frames", e_after_good, 0, LSE_E_BAD_VERSION },
};

/* Every stream, every schedule, with and without EOF: the output, the bytes
 * consumed, the close and the error all equal the model's. */
static void test_streams_match_model(void)
{
	lse_feed feeds[64];

	for (size_t i = 0; i < sizeof streams / sizeof *streams; i++) {
		const struct stream *st = &streams[i];
		lse_bytes in = { 0 };
		uint32_t limit = st->limit ? st->limit : LSE_LIMIT_DEFAULT;

		st->build(&in);
		for (int eof = 0; eof <= 1; eof++) {
			lse_model_out m = { 0 };
			size_t nf = lse_feed_table(feeds, 64, eof);

			if (lse_model_framed(in.p, in.len, eof, limit, &m) != 0)
				abort();
			for (size_t k = 0; k < nf; k++) {
				lse_sess_config cfg = { LSE_MODE_FRAMED, st->limit, 0 };
				lse_sess *s;
				lse_run r;
				int ok = 1;

				CHECK_EQ(lse_sess_new(&s, &cfg, NULL), LSE_OK);
				lse_run_sess(s, in.p, in.len, &feeds[k], &r);
				ok &= CHECK_EQ(r.out.len, m.len);
				ok &= CHECK(r.out.len == m.len && (m.len == 0 || memcmp(r.out.p, m.buf, m.len) == 0));
				ok &= CHECK_EQ(r.consumed, m.consumed);
				ok &= CHECK_EQ(r.closed, m.closed);
				ok &= CHECK_EQ(-r.err, m.err);
				ok &= CHECK_EQ(r.err, st->err);
				ok &= CHECK(r.bound_ok && r.room_ok && r.count_ok && r.stall_free);
				if (!ok)
					fprintf(stderr, "  in stream %s, eof=%d, schedule %zu\n", st->name, eof, k);
				lse_run_free(&r);
				lse_sess_free(s);
			}
			lse_model_out_free(&m);
		}
		lse_bytes_free(&in);
	}
}

static void expect_bytes(const lse_run *r, const void *want, size_t n)
{
	CHECK_EQ(r->out.len, n);
	CHECK(r->out.len == n && memcmp(r->out.p, want, n) == 0);
}

/* Byte-exact answers written out by hand, independent of both the core's
 * encoder and the model. */
static void test_exact_bytes(void)
{
	static const uint8_t welcome[] = "LE\x01\x02\x00\x00\x00\x04\x00\x01\x00\x00";
	static const uint8_t pong[] = "LE\x01\x05\x00\x00\x00\x02hi";
	static const uint8_t err4[] = "LE\x01\x7F\x00\x00\x00\x24\x00\x04payload exceeds negotiated maximum";
	lse_sess_config cfg = { LSE_MODE_FRAMED, 0, 0 };
	lse_feed f = { LSE_SPLIT_AT_ONCE, 0, 0, 0, 0 };
	lse_bytes in = { 0 }, want = { 0 };
	lse_sess *s;
	lse_run r;

	lse_bytes_hello(&in, 1u << 20);   /* clamped to the 65536 default */
	lse_bytes_frame(&in, LSE_T_PING, 2, "hi");
	lse_bytes_put(&in, "LE\x01\x03\xFF\xFF\xFF\xFF", 8);
	lse_bytes_put(&want, welcome, sizeof welcome - 1);
	lse_bytes_put(&want, pong, sizeof pong - 1);
	lse_bytes_put(&want, err4, sizeof err4 - 1);
	CHECK_EQ(lse_sess_new(&s, &cfg, NULL), LSE_OK);
	lse_run_sess(s, in.p, in.len, &f, &r);
	expect_bytes(&r, want.p, want.len);
	CHECK_EQ(r.err, LSE_E_TOO_LARGE);
	CHECK(r.closed);
	lse_run_free(&r);
	lse_sess_free(s);
	lse_bytes_free(&in);
	lse_bytes_free(&want);
}

/* A 4 GiB announcement is refused on its header alone, and the error is
 * sticky: later calls report it and consume nothing. */
static void test_too_large_is_immediate_and_sticky(void)
{
	static const uint8_t hdr[] = "LE\x01\x03\xFF\xFF\xFF\xFF";
	lse_sess_config cfg = { LSE_MODE_FRAMED, 0, 0 };
	lse_bytes in = { 0 };
	lse_sess *s;
	size_t n;

	lse_bytes_hello(&in, 100);
	CHECK_EQ(lse_sess_new(&s, &cfg, NULL), LSE_OK);
	CHECK_EQ(lse_sess_recv(s, in.p, in.len), (ptrdiff_t)in.len);
	CHECK_EQ(lse_sess_recv(s, hdr, 7), 7);
	CHECK_EQ(lse_sess_recv(s, hdr + 7, 1), LSE_E_TOO_LARGE);
	CHECK_EQ(lse_sess_recv(s, hdr, 8), LSE_E_TOO_LARGE);
	CHECK_EQ(lse_sess_error(s), LSE_E_TOO_LARGE);
	CHECK_EQ(lse_sess_want(s), LSE_WANT_WRITE);
	lse_sess_eof(s);
	CHECK_EQ(lse_sess_error(s), LSE_E_TOO_LARGE);
	lse_sess_send_buf(s, &n);
	CHECK_EQ(n, 12 + 8 + 2 + strlen("payload exceeds negotiated maximum"));
	CHECK_EQ(lse_sess_send_ack(s, n), LSE_OK);
	CHECK_EQ(lse_sess_want(s), LSE_CLOSED);
	CHECK_EQ(lse_sess_recv(s, hdr, 8), LSE_E_TOO_LARGE);
	lse_sess_free(s);
	lse_bytes_free(&in);
}

/* A peer that never reads: the session stops at its bound, wants only to
 * write, and once drained every byte arrives intact. */
static void test_backpressure(void)
{
	lse_sess_config cfg = { LSE_MODE_FRAMED, 0, 0 };
	lse_bytes in = { 0 };
	lse_model_out m = { 0 };
	lse_bytes out = { 0 };
	size_t pos = 0, bound;
	lse_sess *s;
	ptrdiff_t got;

	lse_bytes_hello(&in, 65536);
	for (int i = 0; i < 16; i++)
		lse_bytes_data(&in, 65536, (uint8_t)i);
	CHECK_EQ(lse_sess_new(&s, &cfg, NULL), LSE_OK);
	while ((got = lse_sess_recv(s, in.p + pos, in.len - pos)) > 0)
		pos += (size_t)got;
	bound = lse_sess_bound(s);
	CHECK_EQ(got, 0);
	CHECK_EQ(bound, LSE_SESS_FRAMED_BOUND(65536));
	CHECK(pos < in.len);
	CHECK(lse_sess_buffered(s) <= bound);
	CHECK(lse_sess_buffered(s) + LSE_HDR_LEN + 65536 > bound); /* full, not idle */
	CHECK_EQ(lse_sess_want(s), LSE_WANT_WRITE);
	CHECK_EQ(lse_sess_recv_room(s), 0);
	/* Drain in 1000-byte reads, feeding whenever room opens. */
	while (lse_sess_want(s) != 0 && out.len < in.len * 2) {
		size_t n;
		const uint8_t *p = lse_sess_send_buf(s, &n);
		if (n > 1000)
			n = 1000;
		lse_bytes_put(&out, p, n);
		CHECK_EQ(lse_sess_send_ack(s, n), LSE_OK);
		got = lse_sess_recv(s, in.p + pos, in.len - pos);
		CHECK(got >= 0);
		pos += got > 0 ? (size_t)got : 0;
		CHECK(lse_sess_buffered(s) <= bound);
		if (pos == in.len && lse_sess_buffered(s) == 0)
			break;
	}
	CHECK_EQ(lse_model_framed(in.p, in.len, 0, LSE_LIMIT_DEFAULT, &m), 0);
	CHECK_EQ(out.len, m.len);
	CHECK(out.len == m.len && memcmp(out.p, m.buf, m.len) == 0);
	lse_model_out_free(&m);
	lse_bytes_free(&out);
	lse_bytes_free(&in);
	lse_sess_free(s);
}

/* Offering exactly recv_room() bytes is always consumed whole, whatever
 * the stream holds. */
static void test_room_is_a_promise(void)
{
	lse_sess_config cfg = { LSE_MODE_FRAMED, 0, 0 };
	lse_bytes in = { 0 };
	lse_sess *s;
	size_t pos = 0;

	lse_bytes_hello(&in, 200);
	for (uint32_t i = 0; i < 200; i++)
		lse_bytes_data(&in, i, (uint8_t)i);
	CHECK_EQ(lse_sess_new(&s, &cfg, NULL), LSE_OK);
	while (pos < in.len) {
		size_t room = lse_sess_recv_room(s), n;
		size_t take = room < in.len - pos ? room : in.len - pos;
		if (take > 0 && !CHECK_EQ(lse_sess_recv(s, in.p + pos, take), (ptrdiff_t)take))
			break;
		pos += take;
		lse_sess_send_buf(s, &n);
		if (take == 0 && n == 0 && !CHECK(lse_sess_want(s) & LSE_WANT_READ))
			break;   /* neither reads nor writes: would spin */
		lse_sess_send_ack(s, n / 2 + 1 > n ? n : n / 2 + 1);
	}
	CHECK_EQ(lse_sess_error(s), LSE_OK);
	lse_sess_free(s);
	lse_bytes_free(&in);
}

/* Caller-owned storage: no allocator at all, same bytes out. */
static void test_caller_storage(void)
{
	lse_sess_config cfg = { LSE_MODE_FRAMED, 4096, 0 };
	lse_feed f = { LSE_SPLIT_RANDOM, 7, 0, 0, 1 };
	size_t size = lse_sess_footprint(&cfg);
	void *mem = aligned_alloc(alignof(max_align_t), (size + 63) / 64 * 64);
	lse_bytes in = { 0 };
	lse_model_out m = { 0 };
	lse_sess *s;
	lse_run r;

	CHECK(size > LSE_SESS_FRAMED_BOUND(4096));
	CHECK_EQ(lse_sess_init(&s, mem, size - 1, &cfg), LSE_E_INVAL);
	CHECK(s == NULL);
	CHECK_EQ(lse_sess_init(&s, (char *)mem + 1, size, &cfg), LSE_E_INVAL);
	CHECK_EQ(lse_sess_init(&s, mem, size, &cfg), LSE_OK);
	s_all_types(&in);
	lse_run_sess(s, in.p, in.len, &f, &r);
	CHECK_EQ(lse_model_framed(in.p, in.len, 1, 4096, &m), 0);
	CHECK(r.out.len == m.len && memcmp(r.out.p, m.buf, m.len) == 0);
	CHECK(r.closed && r.bound_ok);
	lse_sess_free(s);
	lse_run_free(&r);
	lse_model_out_free(&m);
	lse_bytes_free(&in);
	free(mem);
}

/* Caller storage of exactly lse_sess_footprint() bytes holds a session
 * whose output is filled to its limit, never drained: framed at the
 * default limit, raw with a ring larger than the framed bound. (The
 * storage comes from malloc, so ASan marks its exact end.) */
static void test_caller_storage_full(void)
{
	static const lse_sess_config cfgs[] = {
		{ LSE_MODE_FRAMED, 0, 0 },
		{ LSE_MODE_RAW, 0, 1u << 20 },
	};

	for (size_t k = 0; k < sizeof cfgs / sizeof *cfgs; k++) {
		size_t size = lse_sess_footprint(&cfgs[k]), held = 0;
		void *mem = malloc(size);
		lse_bytes in = { 0 };
		lse_sess *s;
		ptrdiff_t n;

		if (cfgs[k].mode == LSE_MODE_FRAMED) {
			lse_bytes_hello(&in, LSE_LIMIT_DEFAULT);
			lse_bytes_data(&in, LSE_LIMIT_DEFAULT, 9);
		} else {
			lse_bytes_byte(&in, 'r', (1u << 20) + 100);
		}
		CHECK(mem != NULL);
		CHECK_EQ(lse_sess_init(&s, mem, size, &cfgs[k]), LSE_OK);
		while (held < in.len && (n = lse_sess_recv(s, in.p + held, in.len - held)) > 0)
			held += (size_t)n;
		CHECK(lse_sess_buffered(s) >= (cfgs[k].mode == LSE_MODE_RAW ? 1u << 20 : LSE_LIMIT_DEFAULT));
		CHECK(lse_sess_buffered(s) <= lse_sess_bound(s));
		CHECK(lse_sess_bound(s) <= size);
		lse_sess_free(s);
		free(mem);
		lse_bytes_free(&in);
	}
}

static void test_api_misuse(void)
{
	lse_sess_config bad_mode = { (lse_mode)7, 0, 0 };
	lse_sess_config bad_limit = { LSE_MODE_FRAMED, LSE_LIMIT_MAX + 1, 0 };
	lse_sess_config bad_chunk = { LSE_MODE_RAW, 0, LSE_CHUNK_MAX + 1 };
	lse_sess_config ok = { LSE_MODE_FRAMED, LSE_LIMIT_MAX, 0 };
	lse_mem half = { NULL, NULL, NULL };
	lse_mem no_free = { lse_mem_default()->alloc, NULL, NULL };
	lse_sess *s = (lse_sess *)&ok;
	size_t n = 99;

	CHECK_EQ(lse_sess_new(&s, NULL, NULL), LSE_E_INVAL);
	CHECK(s == NULL);
	CHECK_EQ(lse_sess_new(NULL, &ok, NULL), LSE_E_INVAL);
	CHECK_EQ(lse_sess_new(&s, &bad_mode, NULL), LSE_E_INVAL);
	CHECK_EQ(lse_sess_new(&s, &bad_limit, NULL), LSE_E_INVAL);
	CHECK_EQ(lse_sess_new(&s, &bad_chunk, NULL), LSE_E_INVAL);
	CHECK_EQ(lse_sess_new(&s, &ok, &half), LSE_E_INVAL);
	CHECK_EQ(lse_sess_new(&s, &ok, &no_free), LSE_E_INVAL);
	CHECK(s == NULL);
	CHECK_EQ(lse_sess_footprint(&bad_limit), 0);
	CHECK_EQ(lse_sess_new(&s, &ok, NULL), LSE_OK);
	CHECK_EQ(lse_sess_recv(s, NULL, 1), LSE_E_INVAL);
	CHECK_EQ(lse_sess_recv(s, NULL, 0), 0);
	CHECK_EQ(lse_sess_recv(NULL, (const uint8_t *)"x", 1), LSE_E_INVAL);
	CHECK(lse_sess_send_buf(s, &n) != NULL);
	CHECK_EQ(n, 0);
	CHECK_EQ(lse_sess_send_ack(s, 1), LSE_E_INVAL);
	CHECK_EQ(lse_sess_send_ack(s, 0), LSE_OK);
	CHECK_EQ(lse_sess_error(s), LSE_OK);  /* misuse is not sticky */
	CHECK_EQ(lse_sess_want(s), LSE_WANT_READ);
	CHECK_EQ(lse_sess_want(NULL), LSE_CLOSED);
	lse_sess_free(s);
	lse_sess_free(NULL);
}

/* ---- the output ring: how it grows, what it offers ---- */

#define SMALL 276   /* LSE_SESS_FRAMED_BOUND(0): the buffer inside a session */

/* An allocator that records what it was asked for. */
struct tally {
	size_t calls, last;
};

static void *tally_alloc(void *ud, size_t size)
{
	struct tally *t = ud;

	t->calls++;
	t->last = size;
	return malloc(size);
}

static void tally_free(void *ud, void *ptr, size_t size)
{
	(void)ud;
	(void)size;
	free(ptr);
}

/* Sends everything the session holds into out (at most cap bytes), one
 * send_buf/send_ack pair at a time; returns the bytes taken. */
static size_t drain(lse_sess *s, uint8_t *out, size_t cap)
{
	size_t total = 0, n;
	const uint8_t *p;

	while ((p = lse_sess_send_buf(s, &n)) != NULL && n > 0 && total + n <= cap) {
		memcpy(out + total, p, n);
		total += n;
		if (!CHECK_EQ(lse_sess_send_ack(s, n), LSE_OK))
			break;
	}
	return total;
}

static void fill_pattern(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 13u);
}

/* The header's promise: the buffer grows by doubling, only as far as the
 * output held needs, never past the bound; the echo is intact across
 * every move. */
static void test_growth(void)
{
	static uint8_t in[4096], out[8192];
	struct tally t = { 0, 0 };
	lse_mem mem = { tally_alloc, tally_free, &t };
	lse_sess_config raw = { LSE_MODE_RAW, 0, 4096 };
	lse_sess *s = NULL;
	size_t at = 0;

	fill_pattern(in, sizeof in, 3);
	if (!CHECK_EQ(lse_sess_new(&s, &raw, &mem), LSE_OK))
		return;
	CHECK_EQ(t.calls, 1);   /* the session itself */
	CHECK_EQ(lse_sess_recv(s, in, SMALL), SMALL);
	CHECK_EQ(t.calls, 1);   /* exactly full: no growth */
	CHECK_EQ(lse_sess_buffered(s), SMALL);
	CHECK_EQ(lse_sess_recv(s, in + SMALL, SMALL), SMALL);   /* full, and as much again */
	CHECK_EQ(t.calls, 2);
	CHECK_EQ(t.last, 2 * SMALL);
	CHECK_EQ(lse_sess_recv(s, in + 2 * SMALL, 1), 1);      /* one past: doubles */
	CHECK_EQ(t.calls, 3);
	CHECK_EQ(t.last, 4 * SMALL);
	CHECK_EQ(lse_sess_recv(s, in + 2 * SMALL + 1, 2000), 2000);   /* past double: what it needs */
	CHECK_EQ(t.calls, 4);
	CHECK_EQ(t.last, 2 * SMALL + 1 + 2000);
	CHECK_EQ(lse_sess_recv(s, in + 2 * SMALL + 2001, 4096 - 2 * SMALL - 2001), 4096 - 2 * SMALL - 2001);
	CHECK_EQ(t.calls, 5);
	CHECK_EQ(t.last, 4096);   /* the bound caps it */
	at = drain(s, out, sizeof out);
	CHECK(at == sizeof in && memcmp(out, in, sizeof in) == 0);
	lse_sess_free(s);
}

/* Raw zero copy: the offer doubles only after a read that filled it; a
 * short read, or asking again before acking, offers the same space. Copying
 * and zero-copy input may be mixed: a full ring below the bound still
 * offers room while the session wants to read. */
static void test_raw_offers(void)
{
	static uint8_t in[1024], out[2048];
	struct tally t = { 0, 0 };
	lse_mem mem = { tally_alloc, tally_free, &t };
	lse_sess_config raw = { LSE_MODE_RAW, 0, 1024 };
	lse_sess *s = NULL;
	uint8_t *p, *q;
	size_t len = 0, len2 = 0, took = 0;

	fill_pattern(in, sizeof in, 5);
	if (!CHECK_EQ(lse_sess_new(&s, &raw, &mem), LSE_OK))
		return;
	p = lse_sess_recv_buf(s, &len);
	CHECK(p != NULL && len == SMALL);
	memcpy(p, in, SMALL - 1);
	CHECK_EQ(lse_sess_recv_ack(s, SMALL - 1), LSE_OK);   /* short */
	p = lse_sess_recv_buf(s, &len);
	CHECK(p != NULL && len == 1);                        /* no growth after a short read */
	CHECK_EQ(t.calls, 1);
	memcpy(p, in + SMALL - 1, 1);
	CHECK_EQ(lse_sess_recv_ack(s, 1), LSE_OK);          /* took all it was offered */
	p = lse_sess_recv_buf(s, &len);
	CHECK(p != NULL && len == SMALL);                    /* doubled: 552, 276 held */
	CHECK_EQ(t.calls, 2);
	CHECK_EQ(t.last, 2 * SMALL);
	q = lse_sess_recv_buf(s, &len2);                     /* asked again: the same */
	CHECK(q == p && len2 == len);
	CHECK_EQ(t.calls, 2);
	memcpy(p, in + SMALL, 10);
	CHECK_EQ(lse_sess_recv_ack(s, 10), LSE_OK);
	took = SMALL + 10;
	CHECK_EQ(lse_sess_recv(s, in + took, 2 * SMALL - took), (ptrdiff_t)(2 * SMALL - took));
	took = 2 * SMALL;
	CHECK_EQ(lse_sess_buffered(s), took);                /* full, below the bound */
	CHECK(lse_sess_want(s) & LSE_WANT_READ);
	p = lse_sess_recv_buf(s, &len);
	CHECK(p != NULL && len > 0);                         /* so it offers room */
	if (p != NULL && len > 0) {
		len = len < sizeof in - took ? len : sizeof in - took;
		memcpy(p, in + took, len);
		CHECK_EQ(lse_sess_recv_ack(s, len), LSE_OK);
		took += len;
	}
	CHECK_EQ(drain(s, out, sizeof out), took);
	CHECK(memcmp(out, in, took) == 0);
	CHECK_EQ(lse_sess_recv(s, NULL, 0), 0);              /* nothing offered, nothing done */
	CHECK_EQ(lse_sess_buffered(s), 0);
	lse_sess_free(s);
}

/* An offer cut short by the ring's end, read in full, also had more behind
 * it: the next offer doubles (unwrapped), for an offer of any size, one
 * byte included. */
static void test_raw_offers_wrapped(void)
{
	static const size_t keep[] = { 200, 275 };   /* the offer at the wrap: 76, then 1 */

	for (size_t k = 0; k < sizeof keep / sizeof *keep; k++) {
		static uint8_t in[1024], out[1024];
		struct tally t = { 0, 0 };
		lse_mem mem = { tally_alloc, tally_free, &t };
		lse_sess_config raw = { LSE_MODE_RAW, 0, 1024 };
		lse_sess *s = NULL;
		uint8_t *p;
		size_t len = 0, took = 0, got = 0;

		fill_pattern(in, sizeof in, 11);
		if (!CHECK_EQ(lse_sess_new(&s, &raw, &mem), LSE_OK))
			return;
		p = lse_sess_recv_buf(s, &len);
		CHECK(p != NULL && len == SMALL);
		memcpy(p, in, keep[k]);
		CHECK_EQ(lse_sess_recv_ack(s, keep[k]), LSE_OK);
		took = keep[k];
		CHECK(lse_sess_send_buf(s, &len) != NULL && len == took);
		memcpy(out, in, 100);
		CHECK_EQ(lse_sess_send_ack(s, 100), LSE_OK);
		got = 100;
		p = lse_sess_recv_buf(s, &len);
		CHECK(p != NULL && len == SMALL - keep[k]);   /* to the ring's end */
		memcpy(p, in + took, len);
		CHECK_EQ(lse_sess_recv_ack(s, len), LSE_OK);
		took += len;
		CHECK_EQ(t.calls, 1);
		p = lse_sess_recv_buf(s, &len);
		CHECK_EQ(t.calls, 2);                         /* doubled, unwrapped */
		CHECK_EQ(t.last, 2 * SMALL);
		CHECK(p != NULL && len == 2 * SMALL - (took - got));
		if (p != NULL && len > 0) {
			memcpy(p, in + took, len);
			CHECK_EQ(lse_sess_recv_ack(s, len), LSE_OK);
			took += len;
		}
		got += drain(s, out + got, sizeof out - got);
		CHECK(got == took && memcmp(out, in, took) == 0);
		lse_sess_free(s);
	}
}

/* Once the output empties, the next output starts at the front: up to the
 * buffer's capacity, it is offered in one piece (one write, not two). */
static void test_send_contiguous(void)
{
	static uint8_t in[SMALL], out[SMALL];
	lse_sess_config raw = { LSE_MODE_RAW, 0, SMALL };
	lse_sess *s = NULL;
	size_t n = 0;

	fill_pattern(in, sizeof in, 9);
	if (!CHECK_EQ(lse_sess_new(&s, &raw, NULL), LSE_OK))
		return;
	CHECK_EQ(lse_sess_recv(s, in, 200), 200);
	CHECK_EQ(drain(s, out, sizeof out), 200);
	CHECK_EQ(lse_sess_recv(s, in, SMALL), SMALL);
	CHECK(lse_sess_send_buf(s, &n) != NULL);
	CHECK_EQ(n, SMALL);
	CHECK_EQ(drain(s, out, sizeof out), SMALL);
	CHECK(memcmp(out, in, SMALL) == 0);
	lse_sess_free(s);
}

/* EOF in the middle of a DATA frame: the partial echo is dropped, so only
 * the answers already whole stay owed (the WELCOME), and they are sent. */
static void test_eof_drops_partial(void)
{
	lse_sess_config cfg = { LSE_MODE_FRAMED, 0, 0 };
	lse_bytes b = { 0 };
	uint8_t out[64];
	lse_sess *s = NULL;

	lse_bytes_hello(&b, 100);
	lse_bytes_data(&b, 100, 1);
	if (!CHECK_EQ(lse_sess_new(&s, &cfg, NULL), LSE_OK)) {
		lse_bytes_free(&b);
		return;
	}
	CHECK_EQ(lse_sess_recv(s, b.p, 12 + 8 + 50), 12 + 8 + 50);
	CHECK_EQ(lse_sess_buffered(s), 12 + 8 + 50);
	lse_sess_eof(s);
	CHECK_EQ(lse_sess_buffered(s), 12);
	CHECK_EQ(lse_sess_want(s), LSE_WANT_WRITE);
	CHECK_EQ(drain(s, out, sizeof out), 12);
	CHECK_EQ(lse_sess_want(s), LSE_CLOSED);
	lse_sess_free(s);
	lse_bytes_free(&b);
}

int main(void)
{
	test_streams_match_model();
	test_exact_bytes();
	test_too_large_is_immediate_and_sticky();
	test_backpressure();
	test_room_is_a_promise();
	test_caller_storage();
	test_caller_storage_full();
	test_api_misuse();
	test_growth();
	test_raw_offers();
	test_raw_offers_wrapped();
	test_send_contiguous();
	test_eof_drops_partial();
	return lse_t_report();
}
