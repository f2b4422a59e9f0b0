/* fuzz_alloc: fuzz_session with the k-th allocation failing.
 * Input (harness/README.md): as fuzz_session, with a fail_at byte read right
 * after flags (0: no failure); flags bit 5 runs raw echo instead, with the
 * limit selector picking the chunk. Checked: a refused allocation ends in
 * LSE_E_NOMEM and a closed session whose output so far is a prefix of the
 * model's; otherwise everything fuzz_session checks; and after
 * lse_sess_free() the allocator holds no byte (LeakSanitizer checks too). */
#include "drive.h"
#include "failmem.h"
#include "fdp.h"
#include "trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	lse_failmem fm = { .fail_at = 0 };
	lse_mem mem = lse_failmem_mem(&fm);
	lse_drive d = { LSE_MODE_FRAMED, &mem, 1 };
	uint32_t chunk = 0;
	lse_fdp f;
	uint8_t flags;
	int err;

	lse_fdp_init(&f, data, size);
	flags = lse_fdp_u8(&f);
	fm.fail_at = lse_fdp_u8(&f);
	LSE_TRACE(lse_trace("fuzz_alloc: allocation %u fails (0: none)\n", (unsigned)fm.fail_at));
	if (flags & 0x20) {   /* raw: the limit selector picks the chunk */
		d.mode = LSE_MODE_RAW;
		chunk = lse_drive_limit(flags);
	}
	err = lse_drive_run(&d, &f, flags, chunk);
	LSE_ORACLE(fm.live == 0, "allocator still holds memory after free");
	LSE_ORACLE((err == LSE_E_NOMEM) == fm.refused,
		   "NOMEM reported iff an allocation was refused");
	return 0;
}
