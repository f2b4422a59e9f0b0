/* The frame codec: each verdict of the header check order, re-encoding of
 * accepted headers, and the ERROR frames. */
#include <string.h>

#include "feed.h"
#include "lse_frame.h"

struct vec {
	uint8_t h[8];
	uint32_t negotiated;
	int want;
};

#define H(t, a, b, c, d) { 'L', 'E', 1, t, a, b, c, d }

static const struct vec vecs[] = {
	{ H(1, 0, 0, 0, 4), 0, LSE_OK },
	{ H(3, 0, 0, 0, 0), 1, LSE_OK },
	{ H(3, 0, 0, 0, 1), 1, LSE_OK },
	{ H(3, 0, 0, 0, 2), 1, LSE_E_TOO_LARGE },
	{ H(3, 0, 1, 0, 0), 65536, LSE_OK },
	{ H(3, 0, 1, 0, 1), 65536, LSE_E_TOO_LARGE },
	{ H(3, 0xFF, 0xFF, 0xFF, 0xFF), 16777216, LSE_E_TOO_LARGE },
	{ H(4, 0, 0, 0, 64), 1, LSE_OK },
	{ H(4, 0, 0, 0, 65), 100000, LSE_E_BAD_LENGTH },
	{ H(4, 1, 0, 0, 0), 1, LSE_E_BAD_LENGTH },
	{ H(6, 0, 0, 0, 0), 5, LSE_OK },
	{ H(6, 0, 0, 0, 1), 5, LSE_E_BAD_LENGTH },
	{ { 'X', 'E', 1, 1, 0, 0, 0, 4 }, 0, LSE_E_BAD_MAGIC },
	{ { 'L', 'e', 1, 1, 0, 0, 0, 4 }, 0, LSE_E_BAD_MAGIC },
	{ { 'E', 'L', 9, 9, 9, 9, 9, 9 }, 7, LSE_E_BAD_MAGIC },
	{ { 'L', 'E', 0, 1, 0, 0, 0, 4 }, 0, LSE_E_BAD_VERSION },
	{ { 'L', 'E', 2, 0xEE, 0, 0, 0, 4 }, 0, LSE_E_BAD_VERSION },
	{ H(0, 0, 0, 0, 0), 0, LSE_E_BAD_TYPE },
	{ H(2, 0, 0, 0, 4), 9, LSE_E_BAD_TYPE },   /* WELCOME: server only */
	{ H(5, 0, 0, 0, 0), 0, LSE_E_BAD_TYPE },   /* PONG: before HELLO too */
	{ H(7, 0, 0, 0, 0), 9, LSE_E_BAD_TYPE },
	{ H(0x7F, 0, 0, 0, 2), 9, LSE_E_BAD_TYPE }, /* ERROR: server only */
	{ H(0xFF, 0, 0, 0, 2), 9, LSE_E_BAD_TYPE },
	{ H(3, 0, 0, 0, 0), 0, LSE_E_NOT_NEGOTIATED },
	{ H(3, 0xFF, 0xFF, 0xFF, 0xFF), 0, LSE_E_NOT_NEGOTIATED },
	{ H(6, 0, 0, 0, 9), 0, LSE_E_NOT_NEGOTIATED },
	{ H(1, 0, 0, 0, 4), 1, LSE_E_DUPLICATE_HELLO },
	{ H(1, 0, 0, 0, 5), 1, LSE_E_DUPLICATE_HELLO },
	{ H(1, 0, 0, 0, 3), 0, LSE_E_BAD_HELLO },
	{ H(1, 0, 0, 0, 0), 0, LSE_E_BAD_HELLO },
	{ H(1, 0x80, 0, 0, 4), 0, LSE_E_BAD_HELLO },
};

static void test_decode_vectors(void)
{
	for (size_t i = 0; i < sizeof vecs / sizeof *vecs; i++) {
		lse_frame_hdr h = { 0xAA, 0xBBBBBBBBu };
		int got = lse_frame_decode(vecs[i].h, vecs[i].negotiated, &h);

		CHECK_EQ(got, vecs[i].want);
		if (got == LSE_OK) {
			uint8_t again[8];
			lse_frame_encode(again, h.type, h.len);
			CHECK(memcmp(again, vecs[i].h, 8) == 0);
		} else {
			CHECK(h.type == 0xAA && h.len == 0xBBBBBBBBu);
		}
	}
}

static void test_encode_layout(void)
{
	uint8_t h[8];

	lse_frame_encode(h, LSE_T_DATA, 0x01020304u);
	CHECK(memcmp(h, "LE\x01\x03\x01\x02\x03\x04", 8) == 0);
	lse_put_u32(h, 0xFFFFFFFEu);
	CHECK_EQ(lse_get_u32(h), 0xFFFFFFFEu);
}

static void test_error_frames(void)
{
	uint8_t f[LSE_ERR_FRAME_MAX];

	for (int e = LSE_E_BAD_MAGIC; e >= LSE_E_BAD_LENGTH; e--) {
		size_t n = lse_frame_error(f, e);
		const char *why = lse_strerror(e);

		CHECK(n > LSE_HDR_LEN + 2 && n <= LSE_ERR_FRAME_MAX);
		CHECK(memcmp(f, "LE\x01\x7F", 4) == 0);
		CHECK_EQ(lse_get_u32(f + 4), n - LSE_HDR_LEN);
		CHECK_EQ(f[8] << 8 | f[9], -e);
		CHECK(n - 10 == strlen(why) && memcmp(f + 10, why, n - 10) == 0);
	}
	CHECK_EQ(lse_frame_error(f, LSE_OK), 0);
	CHECK_EQ(lse_frame_error(f, LSE_E_NOMEM), 0);
	CHECK_EQ(lse_frame_error(f, -9), 0);
	CHECK(strcmp(lse_strerror(12345), "unknown error") == 0);
	CHECK(strcmp(lse_strerror(LSE_E_NOMEM), "out of memory") == 0);
	/* Every enum lse_err value has its own text: the ends of the protocol
	 * range and the two API errors apart from "unknown". */
	CHECK(strcmp(lse_strerror(LSE_OK), "success") == 0);
	CHECK(strcmp(lse_strerror(LSE_E_INVAL), "invalid argument") == 0);
	CHECK(strcmp(lse_strerror(LSE_E_BAD_LENGTH - 1), "unknown error") == 0);
	CHECK(strcmp(lse_strerror(1), "unknown error") == 0);
}

int main(void)
{
	test_decode_vectors();
	test_encode_layout();
	test_error_frames();
	return lse_t_report();
}
