/* The fuzz targets' allocator (harness/failmem.h): the refused call, the
 * live count, and recycling: a block freed in a run is never handed out
 * again in that run, stays poisoned under ASan until the next run starts,
 * and comes back filled with 0xbe; other sizes and large blocks are not
 * recycled. */
#include <stdint.h>
#include <string.h>

#include "failmem.h"
#include "feed.h"
#include "sanitize.h"

static int all_be(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0xbe)
			return 0;
	return 1;
}

static void refuses_the_named_call(void)
{
	lse_failmem fm;
	lse_mem m = lse_failmem_mem(&fm);
	void *a, *b;

	lse_failmem_start(&fm, 2);
	a = m.alloc(m.ud, 32);
	CHECK(a != NULL);
	CHECK(m.alloc(m.ud, 32) == NULL);
	CHECK(fm.refused);
	b = m.alloc(m.ud, 32);
	CHECK(b != NULL);
	CHECK_EQ(fm.calls, 3);
	CHECK_EQ(fm.live, 64);
	m.free(m.ud, a, 32);
	m.free(m.ud, b, 32);
	CHECK_EQ(fm.live, 0);
}

static void recycles_across_runs_only(void)
{
	lse_failmem fm;
	lse_mem m = lse_failmem_mem(&fm);
	uint8_t *a, *b, *c, *big;

	lse_failmem_start(&fm, 0);
	a = m.alloc(m.ud, 100);
	CHECK(a != NULL);
	memset(a, 1, 100);
	m.free(m.ud, a, 100);
#ifdef LSE_HAS_ASAN
	CHECK(__asan_address_is_poisoned(a));
	CHECK(__asan_address_is_poisoned(a + 99));
#endif
	b = m.alloc(m.ud, 100);   /* same run: a is held, not reused */
	CHECK(b != NULL && b != a);
	m.free(m.ud, b, 100);
	big = m.alloc(m.ud, 8192);   /* too large to keep */
	CHECK(big != NULL);
	m.free(m.ud, big, 8192);

	lse_failmem_start(&fm, 0);
	CHECK_EQ(fm.live, 0);
	c = m.alloc(m.ud, 100);
	CHECK(c == a || c == b);
	CHECK(all_be(c, 100));
#ifdef LSE_HAS_ASAN
	CHECK(!__asan_region_is_poisoned(c, 100));
#endif
	CHECK(m.alloc(m.ud, 100) == (c == a ? b : a));   /* both come back */
	m.free(m.ud, a, 100);
	m.free(m.ud, b, 100);
	CHECK_EQ(fm.live, 0);
}

static void plain_without_start(void)
{
	lse_failmem fm = { .fail_at = 0 };
	lse_mem m = lse_failmem_mem(&fm);
	void *a = m.alloc(m.ud, 48);

	CHECK(a != NULL);
	CHECK(!fm.recycle);
	m.free(m.ud, a, 48);
	CHECK_EQ(fm.live, 0);
}

int main(void)
{
	refuses_the_named_call();
	recycles_across_runs_only();
	plain_without_start();
	return lse_t_report();
}
