/* model: the reference model of docs/protocol.md (see model.h).
 *
 * It walks the whole client stream from its first byte, one frame at a time,
 * and appends every answer to one growing buffer. It is written to be read
 * against the spec, not to be bounded: no backpressure, no incremental state.
 * Only the numeric constants come from lse_frame.h; the checks, the byte
 * order helpers and the reason texts are all written out again here, so a
 * slip in src/ cannot hide by being shared. */
#include "model.h"
#include "lse_frame.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Wire error codes, spelled out rather than negated from enum lse_err. */
enum model_code {
	MODEL_OK = 0,
	MODEL_BAD_MAGIC = 1,
	MODEL_BAD_VERSION = 2,
	MODEL_BAD_TYPE = 3,
	MODEL_TOO_LARGE = 4,
	MODEL_BAD_HELLO = 5,
	MODEL_NOT_NEGOTIATED = 6,
	MODEL_DUPLICATE_HELLO = 7,
	MODEL_BAD_LENGTH = 8
};

/* Copied from the table in docs/protocol.md, not from lse_strerror(). */
static const char *const model_reason[] = {
	[MODEL_BAD_MAGIC] = "bad magic",
	[MODEL_BAD_VERSION] = "unsupported version",
	[MODEL_BAD_TYPE] = "bad frame type",
	[MODEL_TOO_LARGE] = "payload exceeds negotiated maximum",
	[MODEL_BAD_HELLO] = "malformed HELLO",
	[MODEL_NOT_NEGOTIATED] = "first frame must be HELLO",
	[MODEL_DUPLICATE_HELLO] = "duplicate HELLO",
	[MODEL_BAD_LENGTH] = "bad payload length for frame type"
};

/* The output under construction (out->len <= out->cap). */
typedef struct model_w {
	lse_model_out *out;
} model_w;

static uint32_t model_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void model_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Doubling keeps a fuzz run linear however many small frames it sends. */
static int model_reserve(model_w *w, size_t more)
{
	size_t need, cap;
	uint8_t *p;

	if (more > SIZE_MAX - w->out->len)
		return -1;
	need = w->out->len + more;
	if (need <= w->out->cap)
		return 0;
	cap = w->out->cap ? w->out->cap : 256;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	p = realloc(w->out->buf, cap);
	if (!p)
		return -1;
	w->out->buf = p;
	w->out->cap = cap;
	return 0;
}

static int model_put(model_w *w, const void *src, size_t n)
{
	if (n == 0)
		return 0; /* src may be NULL; memcpy must not see it */
	if (model_reserve(w, n) < 0)
		return -1;
	memcpy(w->out->buf + w->out->len, src, n);
	w->out->len += n;
	return 0;
}

static int model_put_hdr(model_w *w, uint8_t type, uint32_t len)
{
	uint8_t h[LSE_HDR_LEN] = { LSE_MAGIC0, LSE_MAGIC1, LSE_VERSION, type };

	model_put_be32(h + 4, len);
	return model_put(w, h, sizeof h);
}

static int model_put_frame(model_w *w, uint8_t type, const uint8_t *payload,
			   uint32_t len)
{
	if (model_put_hdr(w, type, len) < 0)
		return -1;
	return model_put(w, payload, len);
}

static int model_put_error(model_w *w, int code)
{
	const char *reason = model_reason[code];
	size_t rlen = strlen(reason);
	uint8_t c[2] = { (uint8_t)(code >> 8), (uint8_t)code };

	w->out->err = code;
	if (model_put_hdr(w, LSE_T_ERROR, (uint32_t)(2 + rlen)) < 0 ||
	    model_put(w, c, sizeof c) < 0)
		return -1;
	return model_put(w, reason, rlen);
}

/* The header verdict, in exactly the order of "How the server judges a
 * frame", step 1. A separate `hello_done` (not negotiated != 0) keeps the
 * HELLO-first rule independent of what limit the caller passed. */
int lse_model_judge(const uint8_t h[LSE_HDR_LEN], int hello_done,
		    uint32_t negotiated)
{
	uint8_t type = h[3];
	uint32_t len = model_get_be32(h + 4);

	if (h[0] != LSE_MAGIC0 || h[1] != LSE_MAGIC1)
		return MODEL_BAD_MAGIC;
	if (h[2] != LSE_VERSION)
		return MODEL_BAD_VERSION;
	if (type != LSE_T_HELLO && type != LSE_T_DATA && type != LSE_T_PING &&
	    type != LSE_T_BYE)
		return MODEL_BAD_TYPE;
	if (!hello_done && type != LSE_T_HELLO)
		return MODEL_NOT_NEGOTIATED;
	if (hello_done && type == LSE_T_HELLO)
		return MODEL_DUPLICATE_HELLO;
	if (type == LSE_T_HELLO && len != LSE_HELLO_LEN)
		return MODEL_BAD_HELLO;
	if (type == LSE_T_DATA && len > negotiated)
		return MODEL_TOO_LARGE;
	if (type == LSE_T_PING && len > LSE_PING_MAX)
		return MODEL_BAD_LENGTH;
	if (type == LSE_T_BYE && len != 0)
		return MODEL_BAD_LENGTH;
	return MODEL_OK;
}

/* Everything but the allocation-failure cleanup, which the caller does.
 * Indices rather than pointers, so an empty NULL input forms no pointer. */
static int model_walk(model_w *w, const uint8_t *in, size_t len, int eof,
		      uint32_t limit)
{
	lse_model_out *out = w->out;
	size_t pos = 0;
	int hello_done = 0;
	uint32_t negotiated = 0;

	while (len - pos >= LSE_HDR_LEN) {
		const uint8_t *h = in + pos;
		const uint8_t *payload = h + LSE_HDR_LEN;
		uint8_t type = h[3];
		uint32_t plen = model_get_be32(h + 4);
		int code = lse_model_judge(h, hello_done, negotiated);

		if (code != MODEL_OK) {
			/* The verdict needs only the header; the payload,
			 * however large it claims to be, is never read. */
			out->consumed = pos + LSE_HDR_LEN;
			out->closed = 1;
			return model_put_error(w, code);
		}
		if (plen > len - pos - LSE_HDR_LEN)
			break; /* incomplete: dropped without an answer */
		pos += LSE_HDR_LEN + (size_t)plen;

		switch (type) {
		case LSE_T_HELLO: {
			uint32_t req = model_get_be32(payload);
			uint8_t v[LSE_HELLO_LEN];

			if (req == 0) {
				out->consumed = pos;
				out->closed = 1;
				return model_put_error(w, MODEL_BAD_HELLO);
			}
			negotiated = req < limit ? req : limit;
			hello_done = 1;
			model_put_be32(v, negotiated);
			if (model_put_frame(w, LSE_T_WELCOME, v,
					    (uint32_t)sizeof v) < 0)
				return -1;
			break;
		}
		case LSE_T_DATA:
			if (model_put_frame(w, LSE_T_DATA, payload, plen) < 0)
				return -1;
			break;
		case LSE_T_PING:
			if (model_put_frame(w, LSE_T_PONG, payload, plen) < 0)
				return -1;
			break;
		default: /* LSE_T_BYE, the only client type left */
			out->consumed = pos;
			out->closed = 1;
			return model_put_hdr(w, LSE_T_BYE, 0);
		}
	}
	/* The server takes every byte offered, even a partial frame's, and
	 * closes only when the client does. */
	out->consumed = len;
	out->closed = eof ? 1 : 0;
	return 0;
}

/* Empties out, keeping its buffer. */
static void model_out_reset(lse_model_out *out)
{
	out->len = 0;
	out->consumed = 0;
	out->closed = 0;
	out->err = 0;
}

int lse_model_framed_again(const uint8_t *in, size_t len, int eof, uint32_t limit,
			   lse_model_out *out)
{
	model_w w = { out };

	model_out_reset(out);
	if (model_walk(&w, in, len, eof, limit) < 0) {
		lse_model_out_free(out);
		return -1;
	}
	return 0;
}

int lse_model_framed(const uint8_t *in, size_t len, int eof, uint32_t limit,
		     lse_model_out *out)
{
	memset(out, 0, sizeof *out);
	return lse_model_framed_again(in, len, eof, limit, out);
}

int lse_model_raw_again(const uint8_t *in, size_t len, int eof, lse_model_out *out)
{
	model_w w = { out };

	model_out_reset(out);
	if (model_put(&w, in, len) < 0) {
		lse_model_out_free(out);
		return -1;
	}
	out->consumed = len;
	out->closed = eof ? 1 : 0;
	return 0;
}

int lse_model_raw(const uint8_t *in, size_t len, int eof, lse_model_out *out)
{
	memset(out, 0, sizeof *out);
	return lse_model_raw_again(in, len, eof, out);
}

void lse_model_out_free(lse_model_out *out)
{
	free(out->buf);
	memset(out, 0, sizeof *out);
}
