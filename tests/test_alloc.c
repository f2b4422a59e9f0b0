/* Allocation failure at every allocation site: the k-th allocation fails,
 * for every k a clean run makes. The result is LSE_E_NOMEM, a closed
 * session that sends nothing more, and nothing leaked (the allocator counts
 * bytes; LeakSanitizer watches too). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"
#include "model.h"

typedef struct failmem {
	unsigned calls;     /* allocations attempted */
	unsigned fail_at;   /* 1-based call to refuse; 0 = never */
	size_t live;        /* bytes outstanding */
} failmem;

static void *fm_alloc(void *ud, size_t size)
{
	failmem *fm = ud;
	void *p;

	if (++fm->calls == fm->fail_at)
		return NULL;
	p = malloc(size);
	if (p)
		fm->live += size;
	return p;
}

static void fm_free(void *ud, void *ptr, size_t size)
{
	failmem *fm = ud;

	fm->live -= size;
	free(ptr);
}

static void run_with_failures(const char *name, const lse_sess_config *cfg,
			      const lse_bytes *in)
{
	lse_feed f = { LSE_SPLIT_RANDOM, 3, 0, 0, 1 };
	failmem clean = { 0, 0, 0 };
	lse_mem mem = { fm_alloc, fm_free, &clean };
	lse_sess *s;
	lse_run r;
	unsigned sites;

	CHECK_EQ(lse_sess_new(&s, cfg, &mem), LSE_OK);
	lse_run_sess(s, in->p, in->len, &f, &r);
	CHECK_EQ(r.err, LSE_OK);
	lse_run_free(&r);
	lse_sess_free(s);
	CHECK_EQ(clean.live, 0);
	sites = clean.calls;
	CHECK(sites >= 2);   /* the session, then its output buffer */
	for (unsigned k = 1; k <= sites; k++) {
		failmem fm = { 0, k, 0 };
		size_t n;
		int rc;

		mem.ud = &fm;
		rc = lse_sess_new(&s, cfg, &mem);
		if (rc != LSE_OK) {
			CHECK_EQ(rc, LSE_E_NOMEM);
			CHECK(s == NULL);
		} else {
			lse_run_sess(s, in->p, in->len, &f, &r);
			if (!CHECK_EQ(r.err, LSE_E_NOMEM))
				fprintf(stderr, "  %s: failing allocation %u\n", name, k);
			CHECK(r.closed);
			CHECK_EQ(lse_sess_recv(s, in->p, 1), LSE_E_NOMEM);
			CHECK_EQ(lse_sess_want(s), LSE_CLOSED);
			lse_sess_send_buf(s, &n);
			CHECK_EQ(n, 0);   /* dead: nothing more is sent */
			lse_run_free(&r);
			lse_sess_free(s);
		}
		CHECK_EQ(fm.live, 0);
	}
}

int main(void)
{
	lse_sess_config framed = { LSE_MODE_FRAMED, 0, 0 };
	lse_sess_config raw = { LSE_MODE_RAW, 0, 0 };
	lse_bytes in = { 0 };

	lse_bytes_hello(&in, 65536);
	lse_bytes_data(&in, 1000, 1);
	lse_bytes_frame(&in, LSE_T_BYE, 0, NULL);
	run_with_failures("framed", &framed, &in);
	run_with_failures("raw", &raw, &in);
	lse_bytes_free(&in);
	return lse_t_report();
}
