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
} lse_failmem;

/* The hooks for fm; fm must outlive every allocation made through them.
 * A free of more than is live aborts (a size or ownership mix-up). */
lse_mem lse_failmem_mem(lse_failmem *fm);

#endif
