/* The frame-aware mutator, engine-neutral: libFuzzer's
 * LLVMFuzzerCustomMutator (mutator_libfuzzer.c) and, later, AFL++'s
 * afl_custom_fuzz call the same two functions.
 *
 * It splits an input as the target reads it (harness/README.md): header
 * bytes and operations from the back, the client stream from the front. It
 * then mutates one of them with knowledge of the format: a frame's type, its
 * length (kept consistent with the payload or deliberately not), its payload,
 * whole frames (insert, drop, duplicate, swap), or the schedule (feeds,
 * drains, connections, the end) and the flags, and writes the input back so
 * that the target reads exactly the schedule meant. */
#ifndef LSE_MUTATOR_H
#define LSE_MUTATOR_H

#include <stddef.h>
#include <stdint.h>

typedef enum lse_mut_grammar {
	LSE_MUT_FRAME,    /* fuzz_frame: 12-byte records */
	LSE_MUT_SESSION,  /* fuzz_session: flags, feed/drain/end ops */
	LSE_MUT_RAW,      /* fuzz_raw: flags, chunk (2 bytes), ops */
	LSE_MUT_ALLOC,    /* fuzz_alloc: flags, fail_at, ops */
	LSE_MUT_MULTI,    /* fuzz_multi: flags, fail_at, connection ops */
	LSE_MUT_API,      /* fuzz_api: no frame structure; plain byte mutation */
	LSE_MUT_SOCKET    /* fuzz_socket: flags, connection ops as fuzz_multi */
} lse_mut_grammar;

/* Plain byte mutation in place (the engine's own, e.g. LLVMFuzzerMutate):
 * returns the new size, at most max_size. */
typedef size_t (*lse_mut_bytes_fn)(uint8_t *data, size_t size, size_t max_size);

/* Mutates data[0, size) in place into at most max_size bytes; returns the
 * new size. Deterministic for a given seed. */
size_t lse_mut_mutate(lse_mut_grammar g, uint8_t *data, size_t size,
		      size_t max_size, unsigned seed, lse_mut_bytes_fn bytes);

/* Writes into out (at most max_out bytes) a child of a and b: frames of
 * one stream spliced onto the other's, with either parent's schedule.
 * Returns its size. */
size_t lse_mut_crossover(lse_mut_grammar g, const uint8_t *a, size_t na,
			 const uint8_t *b, size_t nb, uint8_t *out,
			 size_t max_out, unsigned seed);

#endif
