/* lse_frame: the protocol v1 frame codec (docs/protocol.md).
 *
 * Pure functions over caller buffers: no allocation, no state, no syscalls. */
#ifndef LSE_FRAME_H
#define LSE_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define LSE_HDR_LEN 8u
#define LSE_MAGIC0 0x4Cu
#define LSE_MAGIC1 0x45u
#define LSE_VERSION 0x01u

#define LSE_HELLO_LEN 4u          /* HELLO and WELCOME payload */
#define LSE_PING_MAX 64u          /* largest PING / PONG payload */
#define LSE_REASON_MAX 128u       /* largest ERROR reason text */
#define LSE_ERR_FRAME_MAX (LSE_HDR_LEN + 2u + LSE_REASON_MAX) /* 138 */

#define LSE_LIMIT_MIN 1u
#define LSE_LIMIT_MAX (16u * 1024u * 1024u)
#define LSE_LIMIT_DEFAULT 65536u

enum lse_type {
	LSE_T_HELLO = 0x01,
	LSE_T_WELCOME = 0x02,
	LSE_T_DATA = 0x03,
	LSE_T_PING = 0x04,
	LSE_T_PONG = 0x05,
	LSE_T_BYE = 0x06,
	LSE_T_ERROR = 0x7F
};

/* Every status in lsecho. Protocol violations are the negated wire error
 * code, so -LSE_E_TOO_LARGE == 4 is what goes into the ERROR frame. */
enum lse_err {
	LSE_OK = 0,
	LSE_E_BAD_MAGIC = -1,
	LSE_E_BAD_VERSION = -2,
	LSE_E_BAD_TYPE = -3,
	LSE_E_TOO_LARGE = -4,
	LSE_E_BAD_HELLO = -5,
	LSE_E_NOT_NEGOTIATED = -6,
	LSE_E_DUPLICATE_HELLO = -7,
	LSE_E_BAD_LENGTH = -8,
	LSE_E_NOMEM = -32,  /* the allocator refused */
	LSE_E_INVAL = -33   /* the caller broke an API contract */
};

/* Nonzero for LSE_E_BAD_MAGIC .. LSE_E_BAD_LENGTH. */
#define LSE_ERR_IS_PROTO(e) ((e) <= LSE_E_BAD_MAGIC && (e) >= LSE_E_BAD_LENGTH)

typedef struct lse_frame_hdr {
	uint8_t type;    /* one of enum lse_type */
	uint32_t len;    /* payload length */
} lse_frame_hdr;

static inline uint32_t lse_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static inline void lse_put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Judges a complete client header as the server does, checks in the order
 * docs/protocol.md gives. `negotiated` is the negotiated maximum payload, or
 * 0 before HELLO. A HELLO's value is judged later, by the session.
 * Returns LSE_OK and fills *h, or one of LSE_E_BAD_MAGIC, LSE_E_BAD_VERSION,
 * LSE_E_BAD_TYPE, LSE_E_NOT_NEGOTIATED, LSE_E_DUPLICATE_HELLO,
 * LSE_E_BAD_HELLO, LSE_E_TOO_LARGE, LSE_E_BAD_LENGTH (then *h is untouched).
 */
int lse_frame_decode(const uint8_t hdr[LSE_HDR_LEN], uint32_t negotiated,
		     lse_frame_hdr *h);

/* Writes the 8-byte header of a frame. Cannot fail. */
void lse_frame_encode(uint8_t hdr[LSE_HDR_LEN], uint8_t type, uint32_t len);

/* Writes the whole ERROR frame for protocol error `err` into `out` and
 * returns its length (at most LSE_ERR_FRAME_MAX). Returns 0, writing
 * nothing, if `err` is not a protocol error. */
size_t lse_frame_error(uint8_t out[LSE_ERR_FRAME_MAX], int err);

/* A static description of any enum lse_err value; for protocol errors it is
 * the reason text the ERROR frame carries. Never NULL. */
const char *lse_strerror(int err);

#endif
