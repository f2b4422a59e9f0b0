/* The reference model of docs/protocol.md: a deliberately simple,
 * whole-stream implementation with unbounded memory. It shares no code with
 * src/ beyond the constants in lse_frame.h, so a bug in the core cannot hide
 * in both. Used by the unit tests and by every fuzz oracle. */
#ifndef LSE_MODEL_H
#define LSE_MODEL_H

#include <stddef.h>
#include <stdint.h>

typedef struct lse_model_out {
	uint8_t *buf;     /* everything the server sends, malloc'd (may be NULL if len == 0) */
	size_t len;       /* len <= cap */
	size_t cap;       /* bytes allocated at buf */
	size_t consumed;  /* input bytes the server reads before it stops reading */
	int closed;       /* 1 if the server closes the connection */
	int err;          /* wire error code 1..8 sent in ERROR, else 0 */
} lse_model_out;

/* The whole client byte stream `in`, then a half-close if `eof`.
 * `limit` is the server limit (1..16 MiB). Returns 0, or -1 if out of memory. */
int lse_model_framed(const uint8_t *in, size_t len, int eof, uint32_t limit,
		     lse_model_out *out);

/* Raw echo of `in`; closed iff eof. Returns 0, or -1 if out of memory. */
int lse_model_raw(const uint8_t *in, size_t len, int eof, lse_model_out *out);

/* The same, into an `out` that holds an earlier result (or is all zero):
 * its buffer is reused, grown as needed. For the fuzz oracles, which ask
 * the model once per connection and input: an allocation each time cost
 * more than the model. On -1, out is freed (all zero). */
int lse_model_framed_again(const uint8_t *in, size_t len, int eof, uint32_t limit,
			   lse_model_out *out);
int lse_model_raw_again(const uint8_t *in, size_t len, int eof, lse_model_out *out);

void lse_model_out_free(lse_model_out *out);

/* The model's verdict on one complete client header: the wire error code
 * 1..8, or 0 if the header is accepted. A HELLO's value is not judged here. */
int lse_model_judge(const uint8_t hdr[8], int hello_done, uint32_t negotiated);

#endif
