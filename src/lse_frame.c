/* lse_frame: protocol v1 header codec and error texts. */
#include "lse_frame.h"

#include <string.h>

static int type_is_client(uint8_t t)
{
	return t == LSE_T_HELLO || t == LSE_T_DATA || t == LSE_T_PING ||
	       t == LSE_T_BYE;
}

int lse_frame_decode(const uint8_t hdr[LSE_HDR_LEN], uint32_t negotiated,
		     lse_frame_hdr *h)
{
	uint8_t t = hdr[3];
	uint32_t len = lse_get_u32(hdr + 4);

	if (hdr[0] != LSE_MAGIC0 || hdr[1] != LSE_MAGIC1)
		return LSE_E_BAD_MAGIC;
	if (hdr[2] != LSE_VERSION)
		return LSE_E_BAD_VERSION;
	if (!type_is_client(t))
		return LSE_E_BAD_TYPE;
	if (negotiated == 0 && t != LSE_T_HELLO)
		return LSE_E_NOT_NEGOTIATED;
	if (negotiated != 0 && t == LSE_T_HELLO)
		return LSE_E_DUPLICATE_HELLO;
	if (t == LSE_T_HELLO && len != LSE_HELLO_LEN)
		return LSE_E_BAD_HELLO;
	if (t == LSE_T_DATA && len > negotiated)
		return LSE_E_TOO_LARGE;
	if ((t == LSE_T_PING && len > LSE_PING_MAX) || (t == LSE_T_BYE && len != 0))
		return LSE_E_BAD_LENGTH;
	h->type = t;
	h->len = len;
	return LSE_OK;
}

void lse_frame_encode(uint8_t hdr[LSE_HDR_LEN], uint8_t type, uint32_t len)
{
	hdr[0] = LSE_MAGIC0;
	hdr[1] = LSE_MAGIC1;
	hdr[2] = LSE_VERSION;
	hdr[3] = type;
	lse_put_u32(hdr + 4, len);
}

/* The protocol texts go on the wire: keep each <= LSE_REASON_MAX and in step
 * with docs/protocol.md. A table, not a switch: every ERROR frame looks its
 * text up, and under fuzzing a switch costs a comparison callback each time.
 * The lengths are the literals' own, so no ERROR frame measures its text. */
#define TEXT(s) { s, sizeof s - 1 }
static const struct {
	const char *text;
	size_t len;
} proto_text[] = {
	TEXT("success"),
	TEXT("bad magic"),
	TEXT("unsupported version"),
	TEXT("bad frame type"),
	TEXT("payload exceeds negotiated maximum"),
	TEXT("malformed HELLO"),
	TEXT("first frame must be HELLO"),
	TEXT("duplicate HELLO"),
	TEXT("bad payload length for frame type"),
};
#undef TEXT
_Static_assert(sizeof proto_text / sizeof proto_text[0] == 1 - LSE_E_BAD_LENGTH,
	       "one text per protocol error, and success");

size_t lse_frame_error(uint8_t out[LSE_ERR_FRAME_MAX], int err)
{
	size_t rlen;

	if (!LSE_ERR_IS_PROTO(err))
		return 0;
	rlen = proto_text[-err].len;
	lse_frame_encode(out, LSE_T_ERROR, (uint32_t)(2 + rlen));
	out[LSE_HDR_LEN] = 0;
	out[LSE_HDR_LEN + 1] = (uint8_t)-err;
	memcpy(out + LSE_HDR_LEN + 2, proto_text[-err].text, rlen);
	return LSE_HDR_LEN + 2 + rlen;
}

const char *lse_strerror(int err)
{
	if (err <= LSE_OK && err >= LSE_E_BAD_LENGTH)
		return proto_text[-err].text;
	if (err == LSE_E_NOMEM)
		return "out of memory";
	if (err == LSE_E_INVAL)
		return "invalid argument";
	return "unknown error";
}
