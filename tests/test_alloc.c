/* Allocation failure at every allocation site: the k-th allocation fails,
 * for every k a clean run makes. The result is LSE_E_NOMEM, a closed
 * session that sends nothing more, and nothing leaked (the allocator counts
 * bytes; LeakSanitizer watches too). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "failmem.h"
#include "feed.h"
#include "model.h"

static void run_with_failures(const char *name, const lse_sess_config *cfg,
			      const lse_bytes *in)
{
	lse_feed f = { LSE_SPLIT_RANDOM, 3, 0, 0, 1 };
	lse_failmem clean = { .fail_at = 0 };
	lse_mem mem = lse_failmem_mem(&clean);
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
		lse_failmem fm = { .fail_at = k };
		size_t n;
		int rc;

		mem = lse_failmem_mem(&fm);
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
