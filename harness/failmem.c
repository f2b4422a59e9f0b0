#include "failmem.h"

#include <stdlib.h>

static void *fm_alloc(void *ud, size_t size)
{
	lse_failmem *fm = ud;
	void *p;

	if (++fm->calls == fm->fail_at) {
		fm->refused = 1;
		return NULL;
	}
	p = malloc(size);
	fm->live += p ? size : 0;
	return p;
}

static void fm_free(void *ud, void *ptr, size_t size)
{
	lse_failmem *fm = ud;

	if (ptr == NULL || size > fm->live)
		abort();
	fm->live -= size;
	free(ptr);
}

lse_mem lse_failmem_mem(lse_failmem *fm)
{
	lse_mem m = { fm_alloc, fm_free, fm };

	return m;
}
