/* fuzz_api: the public API's contract under arbitrary, also wrong, calls.
 * Input: from the back a mode byte and u32 limit and chunk (any values),
 * then operations on a session and a connection table: recv of stream bytes
 * (from the front), recv with NULL, ack of any size, EOF, a full drain,
 * table adds/gets/dels at any fd, strerror of any int. Checked: a config is
 * refused (LSE_E_INVAL) exactly when docs/protocol.md's ranges say, by new,
 * footprint, init and conntab_init alike; every misuse returns the error its
 * header comment lists and changes nothing; NULL sessions are harmless;
 * sticky errors stay; every error has a text of its own (values outside
 * the enum share one), and a protocol error's text is its ERROR frame's
 * reason. */
#include <limits.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "drive.h"
#include "failmem.h"
#include "fdp.h"
#include "lse_conn.h"
#include "trace.h"

static uint32_t fdp_u32(lse_fdp *f)
{
	uint32_t hi = lse_fdp_u16(f);
	return hi << 16 | lse_fdp_u16(f);
}

static void check_null_session(void)
{
	size_t n = 1;
	uint8_t b = 0;

	LSE_ORACLE(lse_sess_want(NULL) == LSE_CLOSED && lse_sess_error(NULL) == LSE_E_INVAL,
		   "NULL session state");
	LSE_ORACLE(lse_sess_recv(NULL, &b, 1) == LSE_E_INVAL && lse_sess_send_ack(NULL, 0) == LSE_E_INVAL,
		   "NULL session I/O");
	LSE_ORACLE(lse_sess_send_buf(NULL, &n) == NULL && n == 0, "NULL session send_buf");
	LSE_ORACLE(lse_sess_recv_room(NULL) == 0 && lse_sess_buffered(NULL) == 0 &&
		   lse_sess_bound(NULL) == 0 && lse_sess_negotiated(NULL) == 0 &&
		   lse_sess_consumed(NULL) == 0, "NULL session queries");
	lse_sess_eof(NULL);
	lse_sess_free(NULL);
}

static int is_lse_err(int e)
{
	return (e <= LSE_OK && e >= LSE_E_BAD_LENGTH) || e == LSE_E_NOMEM || e == LSE_E_INVAL;
}

static void check_strerror(int e)
{
	const char *t = lse_strerror(e);
	const char *unknown = lse_strerror(INT_MIN);
	uint8_t f[LSE_ERR_FRAME_MAX];
	size_t n = lse_frame_error(f, e);

	LSE_ORACLE(t != NULL && strlen(t) <= LSE_REASON_MAX, "strerror text");
	/* A description of each enum lse_err value (lse_frame.h): one of its
	 * own, and the same one for every value outside the enum. */
	if (is_lse_err(e)) {
		LSE_ORACLE(strcmp(t, unknown) != 0, "an error's text is that of unknown values");
		for (int o = LSE_E_INVAL; o <= LSE_OK; o++)
			LSE_ORACLE(o == e || !is_lse_err(o) || strcmp(t, lse_strerror(o)) != 0,
				   "two errors share a text");
	} else {
		LSE_ORACLE(strcmp(t, unknown) == 0, "values outside the enum differ in text");
	}
	LSE_ORACLE((n != 0) == LSE_ERR_IS_PROTO(e), "ERROR frame for non-protocol error");
	LSE_ORACLE(n == 0 || (n - 10 == strlen(t) && memcmp(f + 10, t, n - 10) == 0),
		   "ERROR frame reason differs from strerror");
}

/* Returns whether the config is valid, after checking every entry point
 * agrees on it. */
static int check_config(const lse_sess_config *cfg)
{
	int valid = (cfg->mode == LSE_MODE_FRAMED || cfg->mode == LSE_MODE_RAW) &&
		    cfg->max_payload <= LSE_LIMIT_MAX && cfg->chunk <= LSE_CHUNK_MAX;
	static const lse_mem half = { NULL, NULL, NULL };
	const lse_mem only_alloc = { lse_mem_default()->alloc, NULL, NULL };
	const lse_mem only_free = { NULL, lse_mem_default()->free, NULL };
	alignas(max_align_t) uint8_t small[64];
	lse_conntab t;
	lse_sess *s = (lse_sess *)small;

	LSE_ORACLE((lse_sess_footprint(cfg) != 0) == valid, "footprint disagrees on validity");
	if (valid) {
		/* A fixed part, the same for all configs, plus the largest
		 * bound the config allows, a 0 asking for the default. */
		static const lse_sess_config one = { LSE_MODE_RAW, 0, 1 };
		size_t largest = cfg->mode == LSE_MODE_RAW
			? (cfg->chunk ? cfg->chunk : LSE_CHUNK_DEFAULT)
			: LSE_SESS_FRAMED_BOUND(cfg->max_payload ? cfg->max_payload : LSE_LIMIT_DEFAULT);

		LSE_ORACLE(lse_sess_footprint(cfg) == lse_sess_footprint(&one) - 1 + largest,
			   "footprint is not a fixed part plus the largest bound");
	}
	LSE_ORACLE(lse_sess_init(&s, small + 1, sizeof small - 1, cfg) == LSE_E_INVAL && s == NULL,
		   "misaligned storage accepted");
	LSE_ORACLE(lse_sess_new(&s, cfg, &half) == LSE_E_INVAL && s == NULL, "half allocator accepted");
	LSE_ORACLE(lse_sess_new(&s, cfg, &only_alloc) == LSE_E_INVAL && s == NULL,
		   "allocator without free accepted");
	LSE_ORACLE(lse_sess_new(&s, cfg, &only_free) == LSE_E_INVAL && s == NULL,
		   "allocator without alloc accepted");
	LSE_ORACLE(lse_sess_new(NULL, cfg, NULL) == LSE_E_INVAL, "new(NULL out)");
	LSE_ORACLE(lse_sess_init(NULL, small, sizeof small, cfg) == LSE_E_INVAL, "init(NULL out)");
	lse_conntab_free(NULL);
	LSE_ORACLE(lse_conntab_init(&t, cfg, NULL) == (valid ? LSE_OK : LSE_E_INVAL),
		   "conntab_init disagrees on validity");
	LSE_ORACLE(lse_conntab_init(&t, cfg, &half) == LSE_E_INVAL &&
		   lse_conntab_init(&t, cfg, &only_alloc) == LSE_E_INVAL &&
		   lse_conntab_init(&t, cfg, &only_free) == LSE_E_INVAL, "conntab half allocator");
	return valid;
}

static void op_ack(lse_sess *s, size_t n)
{
	size_t offered, before = lse_sess_buffered(s);
	int rc;

	lse_sess_send_buf(s, &offered);
	rc = lse_sess_send_ack(s, n);
	if (n > offered)
		LSE_ORACLE(rc == LSE_E_INVAL && lse_sess_buffered(s) == before, "over-ack accepted");
	else
		LSE_ORACLE(rc == LSE_OK && lse_sess_buffered(s) == before - n, "ack refused");
}

/* how & 3: 0 add, 1 del, else probe; for add, (how >> 2) & 3 = k fails the
 * k-th allocation the add makes (table growth, connection, session). */
static void op_table(lse_conntab *t, lse_failmem *fm, int fd, uint8_t how)
{
	lse_conn *c = (lse_conn *)t;
	int present = lse_conntab_get(t, fd) != NULL;
	size_t count = t->count;

	switch (how & 3) {
	case 0: {
		size_t live = fm->live, cap = t->cap;
		unsigned calls = fm->calls;
		int rc, refused;

		fm->fail_at = (how >> 2) & 3 ? fm->calls + ((how >> 2) & 3) : 0;
		rc = lse_conntab_add(t, fd, &c);
		refused = fm->fail_at != 0 && fm->fail_at <= fm->calls;
		fm->fail_at = 0;
		if (rc == LSE_E_NOMEM && fd >= 0 && !present) {
			LSE_ORACLE(refused, "conntab_add: out of memory with no allocation refused");
			LSE_ORACLE(c == NULL && lse_conntab_get(t, fd) == NULL && t->count == count,
				   "a failed add changed the table");
			break;
		}
		LSE_ORACLE(!refused, "conntab_add succeeded although an allocation was refused");
		LSE_ORACLE(rc == (fd < 0 || present ? LSE_E_INVAL : LSE_OK), "conntab_add result");
		LSE_ORACLE(rc == LSE_OK ? c != NULL : c == NULL, "conntab_add out");
		if (rc != LSE_OK)
			break;
		LSE_ORACLE(c->fd == fd && lse_conntab_get(t, fd) == c, "conntab_add entry");
		LSE_ORACLE(c->sess != NULL && c->interest == 0 && c->fault == NULL,
			   "a new connection is not fresh");
		/* The connection, its session, and the table once if fd is
		 * beyond it: all from the table's allocator. */
		LSE_ORACLE(fm->live > live && fm->calls - calls == 2u + ((size_t)fd >= cap),
			   "conntab_add allocated other than the connection, its session and the table");
		break;
	}
	case 1:
		lse_conntab_del(t, fd);
		LSE_ORACLE(lse_conntab_get(t, fd) == NULL && t->count == count - (size_t)present,
			   "conntab_del");
		break;
	default:
		LSE_ORACLE(fd >= 0 || !present, "negative fd present");
		break;
	}
}

static void trace_op(uint8_t op, const lse_fdp *f, const lse_sess *s)
{
	static const char *const names[8] = { "recv", "recv(NULL)", "send_ack", "eof", "drain all",
					       "table", "strerror", "state checks" };

	lse_trace("op 0x%02x @%zu: %s", op, f->tail, names[op & 7]);
	if ((op & 7) == 0)
		lse_trace(" of up to %zu stream bytes from %zu", (size_t)(op >> 3) * 9 + 1, f->head);
	lse_trace("; before it: error %d, buffered %zu, consumed %zu\n", lse_sess_error(s),
		  lse_sess_buffered(s), (size_t)lse_sess_consumed(s));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	lse_sess_config cfg;
	lse_failmem fm = { .fail_at = 0 };
	const lse_mem tmem = lse_failmem_mem(&fm);
	lse_conntab t;
	lse_sess *s;
	lse_fdp f;

	check_null_session();
	lse_fdp_init(&f, data, size);
	cfg.mode = (lse_mode)(lse_fdp_u8(&f) % 3);
	cfg.max_payload = fdp_u32(&f);
	cfg.chunk = fdp_u32(&f);
	/* Huge but valid sizes only cost time: keep the search on small ones. */
	if (cfg.max_payload > LSE_LIMIT_MAX + 2u)
		cfg.max_payload &= 0xFFFF;
	if (cfg.chunk > LSE_CHUNK_MAX + 2u)
		cfg.chunk &= 0xFFFF;
	LSE_TRACE(lse_trace("settings: mode %d, limit %u, chunk %u\n", (int)cfg.mode,
			    (unsigned)cfg.max_payload, (unsigned)cfg.chunk));
	if (!check_config(&cfg)) {
		LSE_TRACE(lse_trace("an invalid config: every entry point must refuse it\n"));
		LSE_ORACLE(lse_sess_new(&s, &cfg, NULL) == LSE_E_INVAL && s == NULL, "bad config accepted");
		return 0;
	}
	LSE_ORACLE(lse_sess_new(&s, &cfg, NULL) == LSE_OK, "good config refused");
	LSE_ORACLE(lse_conntab_init(&t, &cfg, &tmem) == LSE_OK, "conntab_init");
	while (lse_fdp_left(&f) > 0) {
		uint8_t op = lse_fdp_u8(&f);
		int before = lse_sess_error(s);
		size_t at = f.head, n;
		ptrdiff_t got;

		LSE_TRACE(trace_op(op, &f, s));
		switch (op & 7) {
		case 0:
			n = lse_fdp_take(&f, (size_t)(op >> 3) * 9 + 1);
			got = lse_sess_recv(s, f.p + at, n);
			LSE_ORACLE(got >= 0 ? before == LSE_OK && (size_t)got <= n
					    : got == lse_sess_error(s), "recv result");
			LSE_ORACLE(before == LSE_OK || got == before, "sticky error changed");
			break;
		case 1:
			LSE_ORACLE(lse_sess_recv(s, NULL, (size_t)(op >> 3) + 1) == LSE_E_INVAL &&
				   lse_sess_error(s) == before, "recv(NULL) not refused, or sticky");
			LSE_ORACLE(lse_sess_recv(s, NULL, 0) == (before ? before : 0), "recv(NULL, 0)");
			break;
		case 2:
			op_ack(s, lse_fdp_u16(&f) >> (op >> 3 & 15));
			break;
		case 3:
			lse_sess_eof(s);
			LSE_ORACLE(!(lse_sess_want(s) & LSE_WANT_READ) && lse_sess_recv_room(s) == 0,
				   "reads after EOF");
			break;
		case 4:
			LSE_ORACLE(lse_sess_send_buf(s, NULL) == NULL, "send_buf(NULL len)");
			lse_sess_send_buf(s, &n);
			op_ack(s, n);
			break;
		case 5:
			op_table(&t, &fm, (int)(int16_t)lse_fdp_u16(&f) % 4096, op >> 3);
			break;
		case 6:
			check_strerror((int)(int8_t)lse_fdp_u8(&f));
			break;
		default:
			if (cfg.mode == LSE_MODE_FRAMED)
				LSE_ORACLE(lse_sess_recv_buf(s, &n) == NULL && n == 0 &&
					   lse_sess_recv_ack(s, 0) == LSE_E_INVAL, "recv_buf in framed mode");
			LSE_ORACLE(lse_sess_recv_buf(s, NULL) == NULL && lse_sess_recv_buf(NULL, &n) == NULL,
				   "recv_buf(NULL)");
			LSE_ORACLE(lse_sess_buffered(s) <= lse_sess_bound(s), "bound");
			LSE_ORACLE(lse_sess_error(s) == before, "a query changed the error");
			break;
		}
	}
	lse_conntab_free(&t);
	/* Left as lse_conntab_init left it: free again, or fill again. */
	LSE_ORACLE(t.by_fd == NULL && t.cap == 0 && t.count == 0 && lse_conntab_get(&t, 0) == NULL,
		   "a freed table is not empty");
	lse_conntab_free(&t);
	LSE_ORACLE(fm.live == 0, "a freed table holds memory");
	lse_sess_free(s);
	return 0;
}
