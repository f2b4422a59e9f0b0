/* Raw echo: order, backpressure at the chunk capacity, and end of input,
 * under every schedule, against the model. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"
#include "model.h"

static void test_raw_matches_model(void)
{
	static const uint32_t chunks[] = { 1, 7, 275, 276, 277, 4096, 0 };
	static const size_t lens[] = { 0, 1, 100, 5000, 70000 };
	lse_feed feeds[64];
	uint64_t rng = 42;

	for (size_t c = 0; c < sizeof chunks / sizeof *chunks; c++) {
		for (size_t l = 0; l < sizeof lens / sizeof *lens; l++) {
			lse_bytes in = { 0 };

			for (size_t i = 0; i < lens[l]; i++)
				lse_bytes_byte(&in, (uint8_t)lse_rng(&rng), 1);
			for (int eof = 0; eof <= 1; eof++) {
				size_t nf = lse_feed_table(feeds, 64, eof);
				lse_model_out m = { 0 };

				CHECK_EQ(lse_model_raw(in.p, in.len, eof, &m), 0);
				for (size_t k = 0; k < nf; k++) {
					lse_sess_config cfg = { LSE_MODE_RAW, 0, chunks[c] };
					lse_sess *s;
					lse_run r;
					int ok = 1;

					/* Per-byte runs of big inputs add time, not cover. */
					if (lens[l] > 5000 && feeds[k].split == LSE_SPLIT_PER_BYTE)
						continue;
					CHECK_EQ(lse_sess_new(&s, &cfg, NULL), LSE_OK);
					lse_run_sess(s, in.p, in.len, &feeds[k], &r);
					ok &= CHECK(r.out.len == m.len && (m.len == 0 || memcmp(r.out.p, m.buf, m.len) == 0));
					ok &= CHECK_EQ(r.consumed, in.len);
					ok &= CHECK_EQ(r.closed, eof);
					ok &= CHECK_EQ(r.err, LSE_OK);
					ok &= CHECK(r.bound_ok && r.room_ok && r.count_ok && r.stall_free);
					ok &= CHECK(r.max_buffered <= (chunks[c] ? chunks[c] : LSE_CHUNK_DEFAULT));
					if (!ok)
						fprintf(stderr, "  chunk %u len %zu eof %d schedule %zu\n",
							chunks[c], lens[l], eof, k);
					lse_run_free(&r);
					lse_sess_free(s);
				}
				lse_model_out_free(&m);
			}
			lse_bytes_free(&in);
		}
	}
}

/* A reader that never reads stops the session at exactly the chunk size. */
static void test_raw_backpressure(void)
{
	lse_sess_config cfg = { LSE_MODE_RAW, 0, 16 };
	uint8_t in[100];
	lse_sess *s;
	const uint8_t *p;
	size_t n;

	for (size_t i = 0; i < sizeof in; i++)
		in[i] = (uint8_t)i;
	CHECK_EQ(lse_sess_new(&s, &cfg, NULL), LSE_OK);
	CHECK_EQ(lse_sess_bound(s), 16);
	CHECK_EQ(lse_sess_recv_room(s), 16);
	CHECK_EQ(lse_sess_recv(s, in, sizeof in), 16);
	CHECK_EQ(lse_sess_recv(s, in + 16, 84), 0);
	CHECK_EQ(lse_sess_want(s), LSE_WANT_WRITE);
	p = lse_sess_send_buf(s, &n);
	CHECK_EQ(n, 16);
	CHECK(memcmp(p, in, 16) == 0);
	CHECK_EQ(lse_sess_send_ack(s, 10), LSE_OK);
	CHECK_EQ(lse_sess_want(s), LSE_WANT_READ | LSE_WANT_WRITE);
	CHECK_EQ(lse_sess_recv(s, in + 16, 84), 10);   /* wraps around the ring */
	p = lse_sess_send_buf(s, &n);
	CHECK_EQ(n, 6);
	CHECK(memcmp(p, in + 10, 6) == 0);
	CHECK_EQ(lse_sess_send_ack(s, 6), LSE_OK);
	p = lse_sess_send_buf(s, &n);
	CHECK_EQ(n, 10);
	CHECK(memcmp(p, in + 16, 10) == 0);
	lse_sess_eof(s);
	CHECK_EQ(lse_sess_want(s), LSE_WANT_WRITE);   /* still owes 10 bytes */
	CHECK_EQ(lse_sess_recv(s, in, 5), 0);          /* reads nothing after EOF */
	CHECK_EQ(lse_sess_send_ack(s, 10), LSE_OK);
	CHECK_EQ(lse_sess_want(s), LSE_CLOSED);
	lse_sess_free(s);
}

int main(void)
{
	test_raw_matches_model();
	test_raw_backpressure();
	return lse_t_report();
}
