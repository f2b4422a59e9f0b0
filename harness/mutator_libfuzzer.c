/* libFuzzer glue for the frame-aware mutator: compiled into a target when
 * LSE_FUZZ_MUTATOR=ON, with LSE_MUT_GRAMMAR naming its input format. */
#include "mutator.h"

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
			       unsigned int seed);
size_t LLVMFuzzerCustomCrossOver(const uint8_t *data1, size_t size1,
				 const uint8_t *data2, size_t size2,
				 uint8_t *out, size_t max_out_size,
				 unsigned int seed);

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
			       unsigned int seed)
{
	return lse_mut_mutate(LSE_MUT_GRAMMAR, data, size, max_size, seed,
			      LLVMFuzzerMutate);
}

size_t LLVMFuzzerCustomCrossOver(const uint8_t *data1, size_t size1,
				 const uint8_t *data2, size_t size2,
				 uint8_t *out, size_t max_out_size,
				 unsigned int seed)
{
	return lse_mut_crossover(LSE_MUT_GRAMMAR, data1, size1, data2, size2,
				 out, max_out_size, seed);
}
