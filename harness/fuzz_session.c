/* fuzz_session: one framed session under a schedule the input chooses.
 * Input (harness/README.md): client stream from the front; from the back a
 * flags byte (server limit, half-close) then feed/drain/end operations.
 * Checked (drive.c): output, bytes consumed, error and close equal the
 * reference model's; the documented memory bound holds after every step;
 * the session never stalls; recv_room is a promise. */
#include "drive.h"
#include "fdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const lse_drive d = { LSE_MODE_FRAMED, NULL, 0 };
	lse_fdp f;
	uint8_t flags;

	lse_fdp_init(&f, data, size);
	flags = lse_fdp_u8(&f);
	lse_drive_run(&d, &f, flags, 0);
	return 0;
}
