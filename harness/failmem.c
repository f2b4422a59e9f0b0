#include "failmem.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sanitize.h"
#ifdef LSE_HAS_ASAN
#include <sanitizer/allocator_interface.h>
#endif

/* Recycling. Fresh memory is what makes an allocation dear under ASan:
 * with the quarantine cycling through megabytes, every new block is cold in
 * the cache, and a fuzz_multi run makes about 25 sessions. So blocks of
 * the few sizes a run asks for are kept, by exact size: ASan still thinks
 * each is allocated, so its own redzones still guard both ends. */
#define POOL_SIZES 8
#define POOL_DEPTH 256
#define POOL_MAX 4096

typedef struct pool {
	size_t size;               /* 0: slot unused */
	void *ready[POOL_DEPTH];   /* freed in an earlier run: may be handed out */
	unsigned nready;
	void *held[POOL_DEPTH];    /* freed in this run: poisoned until the next */
	unsigned nheld;
} pool;

static pool pools[POOL_SIZES];

static pool *pool_of(size_t size, int make)
{
	if (size == 0 || size > POOL_MAX)
		return NULL;
	for (int i = 0; i < POOL_SIZES; i++) {
		if (pools[i].size == size)
			return &pools[i];
		if (pools[i].size == 0) {
			if (!make)
				return NULL;
			pools[i].size = size;
			return &pools[i];
		}
	}
	return NULL;
}

static void fail(const char *what)
{
	fprintf(stderr, "failmem: %s\n", what);
	abort();
}

static void *fm_alloc(void *ud, size_t size)
{
	lse_failmem *fm = ud;
	pool *pl = fm->recycle ? pool_of(size, 1) : NULL;
	void *p;

	if (++fm->calls == fm->fail_at) {
		fm->refused = 1;
		return NULL;
	}
	if (pl != NULL && pl->nready > 0) {
		p = pl->ready[--pl->nready];
		ASAN_UNPOISON_MEMORY_REGION(p, size);
		memset(p, 0xbe, size);
		LSE_MSAN_UNINIT(p, size);
	} else {
		p = malloc(size);
	}
	fm->live += p ? size : 0;
	return p;
}

static void fm_free(void *ud, void *ptr, size_t size)
{
	lse_failmem *fm = ud;
	pool *pl = fm->recycle ? pool_of(size, 0) : NULL;

	if (ptr == NULL || size > fm->live)
		fail("a free of more than is live (a size or ownership mix-up)");
#ifdef LSE_HAS_ASAN
	/* What free() would check, and the size besides: a block poisoned
	 * here already is a double free. */
	if ((size > 0 && __asan_address_is_poisoned(ptr)) || !__sanitizer_get_ownership(ptr) ||
	    __sanitizer_get_allocated_size(ptr) != size)
		fail("a double free, or a free of a block or size never handed out");
#endif
	fm->live -= size;
	if (pl == NULL || pl->nheld == POOL_DEPTH) {
		free(ptr);
		return;
	}
	ASAN_POISON_MEMORY_REGION(ptr, size);
	pl->held[pl->nheld++] = ptr;
}

lse_mem lse_failmem_mem(lse_failmem *fm)
{
	lse_mem m = { fm_alloc, fm_free, fm };

	return m;
}

void lse_failmem_start(lse_failmem *fm, unsigned fail_at)
{
	memset(fm, 0, sizeof *fm);
	fm->fail_at = fail_at;
	fm->recycle = 1;
	for (int i = 0; i < POOL_SIZES && pools[i].size != 0; i++) {
		pool *pl = &pools[i];

		while (pl->nheld > 0 && pl->nready < POOL_DEPTH)
			pl->ready[pl->nready++] = pl->held[--pl->nheld];
		while (pl->nheld > 0) {
			void *p = pl->held[--pl->nheld];

			ASAN_UNPOISON_MEMORY_REGION(p, pl->size);
			free(p);
		}
	}
}
