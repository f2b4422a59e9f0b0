/* lse_conntab: the connection table's contract (lse_conn.h). Its I/O half,
 * lse_conn_run, is driven by test_loop, test_conn_fault and the fuzz
 * targets. */
#include <stdio.h>
#include <string.h>

#include "failmem.h"
#include "feed.h"
#include "lse_conn.h"

/* An allocator that counts and fills every block with garbage, so a field
 * the table forgets to set shows. */
typedef struct counting {
	unsigned calls, frees;
	size_t live;
} counting;

static void *count_alloc(void *ud, size_t size)
{
	counting *c = ud;
	void *p = lse_mem_default()->alloc(NULL, size);

	if (p != NULL) {
		memset(p, 0xAA, size);
		c->calls++;
		c->live += size;
	}
	return p;
}

static void count_free(void *ud, void *ptr, size_t size)
{
	counting *c = ud;

	c->frees++;
	c->live -= size;
	lse_mem_default()->free(NULL, ptr, size);
}

static const lse_sess_config framed = { LSE_MODE_FRAMED, 0, 0 };

static void test_init_checks(void)
{
	lse_conntab t;
	lse_mem half = { count_alloc, NULL, NULL }, other = { NULL, count_free, NULL };
	lse_sess_config bad = { LSE_MODE_FRAMED, LSE_LIMIT_MAX + 1, 0 };

	CHECK_EQ(lse_conntab_init(&t, &framed, &half), LSE_E_INVAL);
	CHECK_EQ(lse_conntab_init(&t, &framed, &other), LSE_E_INVAL);
	CHECK_EQ(lse_conntab_init(&t, &bad, NULL), LSE_E_INVAL);
	CHECK_EQ(lse_conntab_init(NULL, &framed, NULL), LSE_E_INVAL);
	CHECK_EQ(lse_conntab_init(&t, &framed, NULL), LSE_OK);
	lse_conntab_free(&t);
}

/* Connections come from the caller's allocator, and start with nothing
 * registered and no fault, whatever the memory held. */
static void test_add_uses_mem(void)
{
	counting cnt = { 0 };
	lse_mem mem = { count_alloc, count_free, &cnt };
	lse_conntab t;
	lse_conn *c;

	CHECK_EQ(lse_conntab_init(&t, &framed, &mem), LSE_OK);
	CHECK_EQ(lse_conntab_add(&t, 5, &c), LSE_OK);
	CHECK(c != NULL && c == lse_conntab_get(&t, 5));
	CHECK(cnt.calls >= 3);   /* the table, the connection, its session */
	CHECK_EQ(c->fd, 5);
	CHECK_EQ(c->interest, 0);
	CHECK(c->fault == NULL);
	CHECK(c->sess != NULL && lse_sess_want(c->sess) == LSE_WANT_READ);
	CHECK_EQ(t.count, 1);
	CHECK_EQ(lse_conntab_add(&t, 5, &c), LSE_E_INVAL);   /* already there */
	CHECK(c == NULL);
	CHECK_EQ(lse_conntab_add(&t, -1, &c), LSE_E_INVAL);
	lse_conntab_free(&t);
	CHECK_EQ(cnt.live, 0);
	CHECK_EQ(cnt.frees, cnt.calls);
}

/* The table grows by doubling: fds below its capacity allocate only the
 * connection and its session, never the table again (a table copied on
 * every accept costs the server O(n) per connection). */
static void test_growth(void)
{
	counting cnt = { 0 };
	lse_mem mem = { count_alloc, count_free, &cnt };
	lse_conntab t;
	lse_conn *c;
	unsigned before;
	size_t first;

	CHECK_EQ(lse_conntab_init(&t, &framed, &mem), LSE_OK);
	CHECK_EQ(lse_conntab_add(&t, 0, &c), LSE_OK);
	first = t.cap;
	before = cnt.calls;
	for (int fd = 1; fd < (int)first; fd++)
		CHECK_EQ(lse_conntab_add(&t, fd, &c), LSE_OK);
	CHECK_EQ(cnt.calls - before, 2 * (first - 1));
	CHECK_EQ(t.count, first);
	CHECK_EQ(t.cap, first);
	before = cnt.calls;
	CHECK_EQ(lse_conntab_add(&t, 1000, &c), LSE_OK);
	CHECK(t.cap > 1000);
	CHECK_EQ(cnt.calls - before, 3);   /* one table growth, however far */
	for (int fd = 0; fd < (int)first; fd++)
		CHECK(lse_conntab_get(&t, fd) != NULL && lse_conntab_get(&t, fd)->fd == fd);
	CHECK(lse_conntab_get(&t, 999) == NULL);
	CHECK(lse_conntab_get(&t, (int)t.cap) == NULL);
	lse_conntab_free(&t);
	CHECK_EQ(cnt.live, 0);
}

/* Every allocation of an add may fail: then the add reports LSE_E_NOMEM,
 * the table holds what it held, and nothing leaks. */
static void test_add_failures(void)
{
	for (unsigned k = 1; k <= 8; k++) {
		lse_failmem fm = { .fail_at = 0 };
		lse_mem mem = lse_failmem_mem(&fm);
		lse_conntab t;
		lse_conn *c;
		int rc;

		CHECK_EQ(lse_conntab_init(&t, &framed, &mem), LSE_OK);
		CHECK_EQ(lse_conntab_add(&t, 3, &c), LSE_OK);
		fm.fail_at = fm.calls + k;
		rc = lse_conntab_add(&t, 70, &c);
		if (fm.refused) {
			CHECK_EQ(rc, LSE_E_NOMEM);
			CHECK(c == NULL && lse_conntab_get(&t, 70) == NULL);
			CHECK_EQ(t.count, 1);
		} else {
			CHECK_EQ(rc, LSE_OK);
			CHECK_EQ(t.count, 2);
		}
		CHECK(lse_conntab_get(&t, 3) != NULL);
		lse_conntab_free(&t);
		CHECK_EQ(fm.live, 0);
	}
}

/* Freed, a table is empty: a get finds nothing, a second free does
 * nothing, and it can be filled again. */
static void test_free_leaves_empty(void)
{
	counting cnt = { 0 };
	lse_mem mem = { count_alloc, count_free, &cnt };
	lse_conntab t;
	lse_conn *c;

	CHECK_EQ(lse_conntab_init(&t, &framed, &mem), LSE_OK);
	for (int fd = 2; fd < 200; fd += 7)
		CHECK_EQ(lse_conntab_add(&t, fd, &c), LSE_OK);
	lse_conntab_del(&t, 9);
	lse_conntab_del(&t, 9);
	CHECK(lse_conntab_get(&t, 9) == NULL);
	lse_conntab_free(&t);
	CHECK_EQ(cnt.live, 0);
	CHECK_EQ(t.count, 0);
	CHECK_EQ(t.cap, 0);
	CHECK(lse_conntab_get(&t, 2) == NULL);
	CHECK(lse_conntab_get(&t, 100) == NULL);
	lse_conntab_free(&t);
	CHECK_EQ(lse_conntab_add(&t, 4, &c), LSE_OK);
	CHECK(lse_conntab_get(&t, 4) == c);
	lse_conntab_free(&t);
	CHECK_EQ(cnt.live, 0);
}

/* ---- lse_conn_run over a scripted lse_io ---- */

typedef struct script {
	const ptrdiff_t *reads, *writes;   /* results in turn; > 0: take that many */
	int nreads, nwrites;
	lse_bytes in, out;                 /* bytes to be read; bytes written */
	size_t in_pos;
} script;

static ptrdiff_t script_read(void *ctx, int fd, uint8_t *buf, size_t len)
{
	script *s = ctx;
	ptrdiff_t r = s->reads[s->nreads++];
	size_t n;

	(void)fd;
	if (r <= 0)
		return r;
	n = (size_t)r < len ? (size_t)r : len;
	n = n < s->in.len - s->in_pos ? n : s->in.len - s->in_pos;
	memcpy(buf, s->in.p + s->in_pos, n);
	s->in_pos += n;
	return (ptrdiff_t)n;
}

static ptrdiff_t script_write(void *ctx, int fd, const uint8_t *buf, size_t len)
{
	script *s = ctx;
	ptrdiff_t r = s->writes[s->nwrites++];

	(void)fd;
	if (r <= 0)
		return r;
	r = (size_t)r < len ? r : (ptrdiff_t)len;
	lse_bytes_put(&s->out, buf, (size_t)r);
	return r;
}

/* A HELLO read in one piece, then EAGAIN; the WELCOME written under the
 * given write results. Returns lse_conn_run's interest. */
static unsigned run_script(script *s, lse_conntab *t)
{
	static uint8_t scratch[4096];
	lse_io io = { script_read, script_write, s };
	lse_conn *c;
	unsigned want;

	lse_bytes_hello(&s->in, 100);
	CHECK_EQ(lse_conntab_init(t, &framed, NULL), LSE_OK);
	CHECK_EQ(lse_conntab_add(t, 3, &c), LSE_OK);
	want = lse_conn_run(c, &io, LSE_WANT_READ | LSE_WANT_WRITE, scratch, sizeof scratch);
	lse_bytes_free(&s->in);
	return want;
}

/* EINTR is retried on both directions; the connection lives on. */
static void test_run_eintr(void)
{
	static const ptrdiff_t reads[] = { LSE_IO_INTR, 12, LSE_IO_AGAIN, LSE_IO_AGAIN };
	static const ptrdiff_t writes[] = { LSE_IO_INTR, 1 << 20, LSE_IO_AGAIN };
	script s = { reads, writes, 0, 0, { 0 }, { 0 }, 0 };
	lse_conntab t;

	CHECK_EQ(run_script(&s, &t), LSE_WANT_READ);
	CHECK_EQ(s.nwrites, 2);
	CHECK_EQ(s.out.len, 12);   /* the WELCOME, whole */
	CHECK(s.out.len == 12 && s.out.p[3] == LSE_T_WELCOME);
	lse_conntab_free(&t);
	lse_bytes_free(&s.out);
}

/* A short write means the socket is full: no second write in the same run
 * (it could only hear EAGAIN), and the interest asks for EPOLLOUT. */
static void test_run_short_write(void)
{
	static const ptrdiff_t reads[] = { 12, LSE_IO_AGAIN, LSE_IO_AGAIN };
	static const ptrdiff_t writes[] = { 5, LSE_IO_AGAIN, LSE_IO_AGAIN };
	script s = { reads, writes, 0, 0, { 0 }, { 0 }, 0 };
	lse_conntab t;

	CHECK_EQ(run_script(&s, &t), LSE_WANT_READ | LSE_WANT_WRITE);
	CHECK_EQ(s.nwrites, 1);
	CHECK_EQ(s.out.len, 5);
	lse_conntab_free(&t);
	lse_bytes_free(&s.out);
}

/* A hard error on either side closes. */
static void test_run_broken(void)
{
	static const ptrdiff_t reads[] = { 12, LSE_IO_AGAIN };
	static const ptrdiff_t writes[] = { LSE_IO_BROKEN };
	static const ptrdiff_t reads2[] = { LSE_IO_BROKEN };
	script s = { reads, writes, 0, 0, { 0 }, { 0 }, 0 };
	script s2 = { reads2, writes, 0, 0, { 0 }, { 0 }, 0 };
	lse_conntab t;

	CHECK_EQ(run_script(&s, &t), LSE_CLOSED);
	lse_conntab_free(&t);
	CHECK_EQ(run_script(&s2, &t), LSE_CLOSED);
	CHECK_EQ(s2.nwrites, 0);
	lse_conntab_free(&t);
	lse_bytes_free(&s.out);
}

/* Reads go on while the socket fills every read, and stop at a short read
 * or EAGAIN (the next would only hear EAGAIN); a half-close with nothing
 * owed closes within the same run. Raw mode: reads go straight into the
 * ring, as large as its free space. */
static void test_run_read_policy(void)
{
	static uint8_t scratch[4096];
	static const lse_sess_config raw = { LSE_MODE_RAW, 4096, 0 };
	static const ptrdiff_t big[] = { 1 << 20, 1 << 20, LSE_IO_AGAIN, LSE_IO_AGAIN };
	static const ptrdiff_t again[] = { LSE_IO_AGAIN, LSE_IO_AGAIN };
	static const ptrdiff_t shortr[] = { 100, LSE_IO_AGAIN };
	static const ptrdiff_t eof[] = { 0, 0 };
	static const ptrdiff_t writes[] = { LSE_IO_AGAIN, LSE_IO_AGAIN, LSE_IO_AGAIN };
	struct { const ptrdiff_t *reads; int nreads; unsigned want; } cases[] = {
		{ big, 3, LSE_WANT_READ | LSE_WANT_WRITE },   /* two full reads, then EAGAIN */
		{ again, 1, LSE_WANT_READ },
		{ shortr, 1, LSE_WANT_READ | LSE_WANT_WRITE },
		{ eof, 1, LSE_CLOSED },
	};

	for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
		script s = { cases[k].reads, writes, 0, 0, { 0 }, { 0 }, 0 };
		lse_io io = { script_read, script_write, &s };
		lse_conntab t;
		lse_conn *c;
		unsigned want;

		lse_bytes_byte(&s.in, 'x', 1 << 16);
		CHECK_EQ(lse_conntab_init(&t, &raw, NULL), LSE_OK);
		CHECK_EQ(lse_conntab_add(&t, 3, &c), LSE_OK);
		/* Readable only: output waits for the socket to say so. */
		want = lse_conn_run(c, &io, LSE_WANT_READ, scratch, sizeof scratch);
		if (!CHECK_EQ(s.nreads, cases[k].nreads) || !CHECK_EQ(want, cases[k].want))
			fprintf(stderr, "  read policy case %zu\n", k);
		CHECK_EQ(s.nwrites, 0);
		lse_conntab_free(&t);
		lse_bytes_free(&s.in);
	}
}

/* With both directions ready, a run echoes as it reads: every full write
 * lets the next one go in the same run, EAGAIN on a write ends writing,
 * and a direction not reported ready is not tried. */
static void test_run_write_policy(void)
{
	static uint8_t scratch[4096];
	static const lse_sess_config raw = { LSE_MODE_RAW, 4096, 0 };
	static const ptrdiff_t big[] = { 1 << 20, 1 << 20, LSE_IO_AGAIN, LSE_IO_AGAIN };
	static const ptrdiff_t some[] = { 100, LSE_IO_AGAIN, LSE_IO_AGAIN };
	static const ptrdiff_t take[] = { 1 << 20, 1 << 20, 1 << 20, LSE_IO_AGAIN };
	static const ptrdiff_t full[] = { LSE_IO_AGAIN, LSE_IO_AGAIN, LSE_IO_AGAIN };
	struct {
		const ptrdiff_t *reads, *writes;
		unsigned ready;
		int nreads, nwrites;
		unsigned want;
	} cases[] = {
		{ big, take, LSE_WANT_READ | LSE_WANT_WRITE, 3, 2, LSE_WANT_READ },
		{ some, full, LSE_WANT_READ | LSE_WANT_WRITE, 1, 1, LSE_WANT_READ | LSE_WANT_WRITE },
		{ some, take, LSE_WANT_WRITE, 0, 0, LSE_WANT_READ },
	};

	for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
		script s = { cases[k].reads, cases[k].writes, 0, 0, { 0 }, { 0 }, 0 };
		lse_io io = { script_read, script_write, &s };
		lse_conntab t;
		lse_conn *c;
		unsigned want;

		lse_bytes_byte(&s.in, 'y', 1 << 16);
		CHECK_EQ(lse_conntab_init(&t, &raw, NULL), LSE_OK);
		CHECK_EQ(lse_conntab_add(&t, 3, &c), LSE_OK);
		want = lse_conn_run(c, &io, cases[k].ready, scratch, sizeof scratch);
		if (!CHECK_EQ(s.nreads, cases[k].nreads) || !CHECK_EQ(s.nwrites, cases[k].nwrites) ||
		    !CHECK_EQ(want, cases[k].want))
			fprintf(stderr, "  write policy case %zu\n", k);
		if (cases[k].want == LSE_WANT_READ)
			CHECK_EQ(s.out.len, s.in_pos);   /* everything read was echoed */
		lse_conntab_free(&t);
		lse_bytes_free(&s.in);
		lse_bytes_free(&s.out);
	}
}

/* A peer that always has more and always takes more gets LSE_CONN_BUDGET
 * reads and writes per run, no more, so it cannot starve the others on
 * its thread; and no fewer. */
static void test_run_budget(void)
{
	static uint8_t scratch[4096];
	static const lse_sess_config raw = { LSE_MODE_RAW, 4096, 0 };
	ptrdiff_t endless[64];
	script s = { endless, endless, 0, 0, { 0 }, { 0 }, 0 };
	lse_io io = { script_read, script_write, &s };
	lse_conntab t;
	lse_conn *c;

	for (size_t k = 0; k < 64; k++)
		endless[k] = 1 << 20;
	lse_bytes_byte(&s.in, 'z', 1 << 20);
	CHECK_EQ(lse_conntab_init(&t, &raw, NULL), LSE_OK);
	CHECK_EQ(lse_conntab_add(&t, 3, &c), LSE_OK);
	CHECK(lse_conn_run(c, &io, LSE_WANT_READ | LSE_WANT_WRITE, scratch, sizeof scratch) &
	      LSE_WANT_READ);
	CHECK_EQ(s.nreads + s.nwrites, LSE_CONN_BUDGET);
	lse_conntab_free(&t);
	lse_bytes_free(&s.in);
	lse_bytes_free(&s.out);
}

int main(void)
{
	test_run_budget();
	test_run_read_policy();
	test_run_write_policy();
	test_run_eintr();
	test_run_short_write();
	test_run_broken();
	test_init_checks();
	test_add_uses_mem();
	test_growth();
	test_add_failures();
	test_free_leaves_empty();
	return lse_t_report();
}
