/* An lse_mem that refuses its fail_at-th allocation and counts the bytes it
 * has out, for the allocation-failure tests and fuzz targets. */
#ifndef LSE_FAILMEM_H
#define LSE_FAILMEM_H

#include <stddef.h>

#include "lse_sess.h"

typedef struct lse_failmem {
	unsigned calls;    /* allocations asked for so far */
	unsigned fail_at;  /* 1-based call to refuse; 0 = never */
	int refused;       /* one was refused */
	size_t live;       /* bytes allocated and not yet freed */
	int recycle;       /* set by lse_failmem_start: blocks are recycled */
} lse_failmem;

/* The hooks for fm; fm must outlive every allocation made through them.
 * A free of more than is live aborts (a size or ownership mix-up). */
lse_mem lse_failmem_mem(lse_failmem *fm);

/* Starts a fuzzing run on fm: the counters are zeroed, fail_at is set, and
 * from now on fm recycles blocks of up to 4 KiB across runs instead of
 * handing each allocation fresh memory. A block freed during a run stays
 * poisoned (ASan: use-after-poison) until the next lse_failmem_start, so a
 * use after free within a run is still caught; one handed out again is
 * filled with 0xbe, as ASan's malloc fills. Under ASan every free must name
 * a block and size the allocator handed out. A leak no longer reaches
 * LeakSanitizer per run, so a caller checks fm->live == 0 itself. */
void lse_failmem_start(lse_failmem *fm, unsigned fail_at);

#endif
