/* The session driver shared by fuzz_session, fuzz_raw and fuzz_alloc: runs
 * one session under the schedule the input chooses (harness/README.md) and
 * checks it against the reference model. Any violated invariant aborts. */
#ifndef LSE_DRIVE_H
#define LSE_DRIVE_H

#include <stddef.h>
#include <stdint.h>

#include "lse_sess.h"

typedef struct lse_drive {
	lse_mode mode;
	const lse_mem *mem;   /* NULL: malloc */
	int nomem_ok;         /* fuzz_alloc: LSE_E_NOMEM is an allowed ending */
} lse_drive;

/* The server limit that flags bits 0-2 select. */
uint32_t lse_drive_limit(uint8_t flags);

/* What a DRAIN operation's index (0..15) lets the peer read. */
size_t lse_drive_drain(unsigned index);

/* EDGE: the offer an EDGE operation aims at, room - 1, room or room + 1
 * as sel % 3 picks (never below 0). */
size_t lse_drive_edge(size_t room, unsigned sel);

/* SPLIT: how many of the `next_len` upcoming stream bytes a client takes
 * so that its stream (`have_len` bytes so far) ends exactly on the k-th
 * frame boundary ahead, counting both a header's end and a frame's end
 * (k = 0: the first), as the frames' own length fields place them. At most
 * next_len: all of it if the boundary lies beyond. Reads that end there
 * are where a verdict meets the read's end. */
size_t lse_drive_split(const uint8_t *have, size_t have_len,
		       const uint8_t *next, size_t next_len, unsigned k);

/* A growable byte buffer for the harnesses' clients (aborts on OOM). */
typedef struct lse_hbuf {
	uint8_t *p;
	size_t len, cap;
} lse_hbuf;

void lse_hbuf_put(lse_hbuf *b, const uint8_t *p, size_t n);

/* Runs the input; `f` has had its target header bytes read already except
 * `flags` and `chunk` which the caller passes. Returns the session's final
 * error (LSE_OK, a protocol error, or LSE_E_NOMEM if d->nomem_ok). */
struct lse_fdp;
int lse_drive_run(const lse_drive *d, struct lse_fdp *f, uint8_t flags,
		  uint32_t chunk);

/* Aborts with a message if cond is false: the oracle's verdict. */
#define LSE_ORACLE(cond, msg) \
	((cond) ? (void)0 : lse_oracle_fail(msg, #cond, __FILE__, __LINE__))
void lse_oracle_fail(const char *msg, const char *cond, const char *file, int line);

#endif
