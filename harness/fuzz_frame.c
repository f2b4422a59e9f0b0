/* fuzz_frame: the header codec on arbitrary bytes.
 * Input: 12-byte records, an 8-byte header then a u32 BE negotiated value
 * (0 = before HELLO). Checked: lse_frame_decode() gives the code the model's
 * independent judge gives (the spec's check order); accepted headers
 * re-encode to the same bytes; each rejection's ERROR frame is well formed
 * and carries that code. */
#include <string.h>

#include "drive.h"
#include "lse_frame.h"
#include "model.h"
#include "trace.h"

static void check_record(const uint8_t *rec)
{
	uint32_t neg = lse_get_u32(rec + LSE_HDR_LEN);
	lse_frame_hdr h;
	int got = lse_frame_decode(rec, neg, &h);
	int want = lse_model_judge(rec, neg != 0, neg);
	uint8_t buf[LSE_ERR_FRAME_MAX];

	LSE_TRACE(lse_trace(", negotiated %u: decode says %d (%s), the model's judge %d\n",
			    (unsigned)neg, -got, got ? lse_strerror(got) : "accepted", want));

	LSE_ORACLE(got == -want, "decode verdict differs from the spec's check order");
	if (got == LSE_OK) {
		lse_frame_encode(buf, h.type, h.len);
		LSE_ORACLE(memcmp(buf, rec, LSE_HDR_LEN) == 0, "accepted header does not re-encode");
	} else {
		size_t n = lse_frame_error(buf, got);
		LSE_ORACLE(n >= LSE_HDR_LEN + 2 && n <= LSE_ERR_FRAME_MAX, "ERROR frame size");
		LSE_ORACLE(buf[3] == LSE_T_ERROR && lse_get_u32(buf + 4) == n - LSE_HDR_LEN,
			   "ERROR frame header");
		LSE_ORACLE(buf[8] == 0 && buf[9] == want, "ERROR frame code");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	LSE_TRACE(lse_trace("fuzz_frame: %zu records of 12 bytes (8 header, 4 negotiated)%s\n",
			    size / 12, size % 12 ? ", and a short tail nothing reads" : ""));
	for (size_t i = 0; i + 12 <= size; i += 12) {
		LSE_TRACE(lse_trace("record @%zu: ", i));
		LSE_TRACE(lse_trace_header(data + i));
		check_record(data + i);
	}
	return 0;
}
