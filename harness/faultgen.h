/* The fault generator of fuzz_socket's fault injection (harness/README.md),
 * shared with gen_corpus, which picks fault seeds by what they inject. */
#ifndef LSE_FAULTGEN_H
#define LSE_FAULTGEN_H

#include <stdint.h>

enum lse_fault {
	LSE_FAULT_NONE = 0,
	LSE_FAULT_INTR,    /* EINTR */
	LSE_FAULT_AGAIN,   /* a spurious EAGAIN */
	LSE_FAULT_SHORT,   /* a short count (accept: EMFILE) */
	LSE_FAULT_HARD,    /* ECONNRESET/EPIPE (accept: ENFILE) */
	LSE_FAULT_OTHER    /* accept: ECONNABORTED; reads and writes: none */
};

/* The generator's state for the input's fault byte (0: no I/O faults). */
static inline uint32_t lse_faultgen_init(uint8_t seed)
{
	return 0x9E3779B9u ^ (uint32_t)seed * 0x01000193u;
}

/* The fault for the next socket call: about one call in eight gets one. */
static inline enum lse_fault lse_faultgen_next(uint32_t *s)
{
	uint32_t r;

	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	r = *s;
	if ((r & 7) != 0)
		return LSE_FAULT_NONE;
	return (enum lse_fault)(1 + (r >> 3) % 5);
}

#endif
