/* fuzz_empty: does nothing. Built with the same flags as every target, it is
 * the baseline `make fuzz-bench` divides by: the engine's own cost per run. */
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	(void)data;
	(void)size;
	return 0;
}
