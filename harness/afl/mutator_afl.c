/* AFL++ custom-mutator glue for the frame-aware mutator (harness/mutator.c):
 * built as a shared library per input grammar (`ci/build.sh gcc
 * mutator_<target>` builds build/gcc/harness/libmutator_<target>.so) and
 * loaded with AFL_CUSTOM_MUTATOR_LIBRARY (make fuzz-afl FUZZ_MUTATOR=1). Plain byte mutation, which the libFuzzer glue
 * gets from LLVMFuzzerMutate, is a small havoc here: AFL++ runs its own
 * havoc stages besides this one anyway. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mutator.h"

typedef struct afl_mut {
	uint8_t *buf;
	size_t cap;
	unsigned seed;
} afl_mut;

static unsigned havoc_seed;

static size_t havoc(uint8_t *data, size_t size, size_t max_size)
{
	unsigned r = havoc_seed = havoc_seed * 1103515245u + 12345u;

	if (size == 0 || (r & 3) == 0) {   /* grow by a byte */
		if (size < max_size)
			data[size++] = (uint8_t)(r >> 8);
		return size;
	}
	data[(r >> 8) % size] ^= (uint8_t)(1u << ((r >> 4) & 7));
	return size;
}

void *afl_custom_init(void *afl, unsigned int seed);
size_t afl_custom_fuzz(void *data, uint8_t *buf, size_t buf_size, uint8_t **out_buf,
		       uint8_t *add_buf, size_t add_buf_size, size_t max_size);
void afl_custom_deinit(void *data);

void *afl_custom_init(void *afl, unsigned int seed)
{
	afl_mut *m = calloc(1, sizeof *m);

	(void)afl;
	if (m)
		m->seed = seed;
	return m;
}

size_t afl_custom_fuzz(void *data, uint8_t *buf, size_t buf_size, uint8_t **out_buf,
		       uint8_t *add_buf, size_t add_buf_size, size_t max_size)
{
	afl_mut *m = data;

	if (max_size > m->cap) {
		uint8_t *grown = realloc(m->buf, max_size);
		if (grown == NULL) {
			*out_buf = buf;
			return buf_size;
		}
		m->buf = grown;
		m->cap = max_size;
	}
	m->seed = m->seed * 2654435761u + 1;
	havoc_seed = m->seed;
	/* Half the time a splice with the other input AFL++ offers. */
	if (add_buf && add_buf_size && (m->seed & 1)) {
		size_t n = lse_mut_crossover(LSE_MUT_GRAMMAR, buf, buf_size, add_buf,
					     add_buf_size, m->buf, max_size, m->seed);
		if (n) {
			*out_buf = m->buf;
			return n;
		}
	}
	buf_size = buf_size < max_size ? buf_size : max_size;
	memcpy(m->buf, buf, buf_size);
	*out_buf = m->buf;
	return lse_mut_mutate(LSE_MUT_GRAMMAR, m->buf, buf_size, max_size, m->seed, havoc);
}

void afl_custom_deinit(void *data)
{
	afl_mut *m = data;

	if (m)
		free(m->buf);
	free(m);
}
