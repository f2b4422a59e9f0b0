/* fuzz_raw: raw echo with a chunk capacity, splits and drains the input
 * chooses. Input (harness/README.md): stream from the front; from the back
 * flags, then the chunk capacity (1 + u16), then operations. Checked
 * (drive.c): the output is the input, in order, nothing lost or doubled;
 * unsent output never exceeds the chunk; closed exactly on half-close. */
#include "drive.h"
#include "fdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const lse_drive d = { LSE_MODE_RAW, NULL, 0 };
	lse_fdp f;
	uint8_t flags;
	uint32_t chunk;

	lse_fdp_init(&f, data, size);
	flags = lse_fdp_u8(&f);
	chunk = 1u + lse_fdp_u16(&f);
	lse_drive_run(&d, &f, flags, chunk);
	return 0;
}
