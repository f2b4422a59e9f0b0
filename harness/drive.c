/* The session driver: schedule interpreter and oracle (harness/README.md). */
#include "drive.h"

#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fdp.h"
#include "model.h"
#include "sanitize.h"
#include "trace.h"


static const uint32_t limits[8] = { 65536, 1, 64, 130, 131, 4096, 65535, 16777216 };
/* Buffer growths one call may make: doubling from 276 bytes passes
 * LSE_CHUNK_MAX within 17. */
#define GROWN_MAX 24

static const size_t drains[16] = { 1, 2, 3, 7, 8, 12, 13, 64, 137, 138, 139,
				   1000, 4096, 65536, 131072, SIZE_MAX };

typedef struct run {
	const lse_drive *d;
	lse_fdp *f;
	lse_sess *s;
	size_t bound;         /* documented bound for the current negotiation */
	uint32_t chunk;
	uint8_t *out;         /* everything sent; out_len <= out_cap */
	size_t out_len, out_cap;
	int closed;
	int direct;           /* raw: feed through recv_buf/recv_ack */
	/* The length send_buf/recv_buf report. A field, not a local: a local
	 * whose address is taken costs every call a fake stack frame under
	 * ASan's detect_stack_use_after_return, which the fuzzers run with. */
	size_t avail;
	int filled;           /* raw direct: the last recv_ack took all offered */
	/* The output buffer as the allocator sees it (watch_alloc): the
	 * session's allocations pass through the run, so its growth can be
	 * held to lse_sess_new's promise. */
	const lse_mem *inner; /* the allocator the session was given */
	size_t cap;           /* the buffer's capacity: its size once allocated */
	int storage;          /* caller storage: the capacity is the bound */
	int fresh;            /* the ring emptied and no ack has split it since */
	int may_grow;         /* inside recv or recv_buf: growth is allowed */
	unsigned ngrown;      /* buffers allocated in this call, in grown[] */
} run;

/* The sizes of the buffers one call allocated. Beside the run, not in it:
 * a run is zeroed at its start, and an array in it would cost every short
 * run its clearing. */
static size_t grown[GROWN_MAX];

void lse_oracle_fail(const char *msg, const char *cond, const char *file, int line)
{
	fprintf(stderr, "lsecho oracle: %s\n  %s:%d: %s\n", msg, file, line, cond);
	LSE_TRACE(lse_trace("explain: the oracle failed after the last step above\n"));
	abort();
}

uint32_t lse_drive_limit(uint8_t flags)
{
	return limits[flags & 7];
}

size_t lse_drive_drain(unsigned index)
{
	return drains[index & 15];
}

size_t lse_drive_edge(size_t room, unsigned sel)
{
	switch (sel % 3) {
	case 0: return room > 0 ? room - 1 : 0;
	case 1: return room;
	default: return room + 1;
	}
}

/* Byte i of have followed by next. */
static uint8_t split_at(const uint8_t *have, size_t have_len, const uint8_t *next, size_t i)
{
	return i < have_len ? have[i] : next[i - have_len];
}

size_t lse_drive_split(const uint8_t *have, size_t have_len,
		       const uint8_t *next, size_t next_len, unsigned k)
{
	size_t end = have_len + next_len, pos = 0;

	/* Walk the frames from the stream's start: a boundary is only known
	 * from the headers before it. */
	while (pos + LSE_HDR_LEN <= end) {
		uint64_t len = 0;
		size_t bounds[2];

		for (size_t i = 4; i < LSE_HDR_LEN; i++)
			len = len << 8 | split_at(have, have_len, next, pos + i);
		bounds[0] = pos + LSE_HDR_LEN;
		bounds[1] = len > end - bounds[0] ? end : bounds[0] + (size_t)len;
		for (int b = 0; b < 2; b++) {
			if (bounds[b] <= have_len || (b == 1 && bounds[1] == bounds[0]))
				continue;
			if (k-- == 0)
				return bounds[b] - have_len;
		}
		if (bounds[1] == end)
			break;
		pos = bounds[1];
	}
	return next_len;
}

void lse_hbuf_put(lse_hbuf *b, const uint8_t *p, size_t n)
{
	if (n == 0)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n)
			cap *= 2;
		b->p = realloc(b->p, cap);
		LSE_ORACLE(b->p != NULL, "harness out of memory");
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

/* The peer's receive buffer, kept from run to run: a fresh one per run cost
 * more than a short run's session. */
static uint8_t *out_space(size_t need)
{
	static uint8_t *buf;
	static size_t cap;

	if (need > cap) {
		free(buf);
		cap = need > 2 * cap ? need : 2 * cap;
		buf = malloc(cap);
		LSE_ORACLE(buf != NULL, "harness out of memory");
	}
	return buf;
}

/* Caller storage for lse_sess_init, kept from run to run like out_space: a
 * fresh block of up to 128 KiB per run was most of a short run's cost
 * under ASan (its quarantine hands out untouched pages). Past `size` the
 * block is poisoned by hand, so ASan still catches a byte beyond the
 * storage (more exactly than the 64-byte rounded allocation it replaces),
 * and MSan sees the storage uninitialised, as fresh memory would be. */
static void *storage_space(size_t size)
{
	static void *buf;
	static size_t cap;

	if (size > cap) {
		ASAN_UNPOISON_MEMORY_REGION(buf, cap);
		free(buf);
		cap = (size + 4095) / 4096 * 4096;
		buf = aligned_alloc(alignof(max_align_t), cap);
		LSE_ORACLE(buf != NULL, "harness out of memory");
	}
	ASAN_UNPOISON_MEMORY_REGION(buf, size);
	ASAN_POISON_MEMORY_REGION((uint8_t *)buf + size, cap - size);
	LSE_MSAN_UNINIT(buf, size);
	return buf;
}

static size_t documented_bound(const run *r)
{
	if (r->d->mode == LSE_MODE_RAW)
		return r->chunk;
	return LSE_SESS_FRAMED_BOUND(lse_sess_negotiated(r->s));
}

/* The session's allocator, watched. Its first allocation is the session
 * itself (r->s is not set yet); every later one is its output buffer
 * growing, which lse_sess.h allows only inside lse_sess_recv() and
 * lse_sess_recv_buf(). */
static void *watch_alloc(void *ud, size_t size)
{
	run *r = ud;
	void *p = r->inner->alloc(r->inner->ud, size);

	if (p == NULL || r->s == NULL)
		return p;
	LSE_ORACLE(r->may_grow, "the session allocated outside recv and recv_buf");
	LSE_ORACLE(r->ngrown < GROWN_MAX, "the output buffer grew too often in one call");
	grown[r->ngrown++] = size;
	return p;
}

static void watch_free(void *ud, void *ptr, size_t size)
{
	run *r = ud;

	r->inner->free(r->inner->ud, ptr, size);
}

/* Holds the growths of the last call to lse_sess_new's promise: the output
 * buffer starts inside the session (276 bytes, or the bound if smaller)
 * and grows by doubling, only as far as the output actually held needs,
 * never past the bound. need_max is the most the call can have needed:
 * a buffer of need_max bytes would have held all of it. */
static void check_growth(run *r, size_t need_max)
{
	size_t bound = lse_sess_bound(r->s);

	for (unsigned i = 0; i < r->ngrown; i++) {
		size_t c = grown[i], prev = r->cap;

		LSE_TRACE(lse_trace("output buffer grown from %zu to %zu, ", prev, c));
		LSE_ORACLE(need_max > prev, "the output buffer grew although the output fit");
		LSE_ORACLE(c > prev && c <= bound, "the output buffer grew past the bound, or not at all");
		LSE_ORACLE(c >= (2 * prev < bound ? 2 * prev : bound),
			   "the output buffer grew by less than doubling");
		LSE_ORACLE(c <= (2 * prev > need_max ? 2 * prev : need_max),
			   "the output buffer grew past what the output needs");
		r->cap = c;
	}
	r->ngrown = 0;
}

/* recv_buf grows a ring that the last read filled, or that is full, and
 * only then: to twice its size, up to the bound; asked again with nothing
 * read (the read would block), it offers the same space and grows no
 * more. `filled`: the last read filled what recv_buf offered. */
static void check_recv_buf(run *r, int filled, const uint8_t *p, size_t len)
{
	size_t prev = r->cap, bound = lse_sess_bound(r->s);
	int due = (filled || lse_sess_buffered(r->s) == prev) && prev < bound &&
		  (lse_sess_reading(r->s) || lse_sess_error(r->s) == LSE_E_NOMEM);

	LSE_ORACLE(r->ngrown == (due && lse_sess_error(r->s) != LSE_E_NOMEM),
		   due ? "recv_buf did not grow a ring that the last read filled"
		       : "recv_buf grew the ring with no read that filled it");
	check_growth(r, prev + 1);
	if (filled) {
		r->may_grow = 1;
		LSE_ORACLE(lse_sess_recv_buf(r->s, &r->avail) == p && r->avail == len && r->ngrown == 0,
			   "recv_buf asked twice offers different space");
		r->may_grow = 0;
	}
}

/* Raw, zero copy: copies what recv_buf has room for, acks it. */
static int offer_direct(run *r, size_t at, size_t n)
{
	int filled = r->filled;
	uint8_t *p;
	size_t len;

	r->may_grow = 1;
	p = lse_sess_recv_buf(r->s, &r->avail);
	r->may_grow = 0;
	len = r->avail;
	r->filled = 0;
	/* A ring that neither grew nor was filled by the last read, and
	 * offers room, was not full: no growth was due. */
	if (r->ngrown || filled || len == 0)
		check_recv_buf(r, filled, p, len);
	if (p == NULL) {
		LSE_ORACLE(len == 0, "recv_buf: NULL with a length");
		LSE_ORACLE(!(lse_sess_want(r->s) & LSE_WANT_READ) || lse_sess_error(r->s) == LSE_E_NOMEM,
			   "recv_buf refused a reading session");
		return 0;
	}
	LSE_ORACLE(len <= lse_sess_bound(r->s) - lse_sess_buffered(r->s),
		   "recv_buf offers more than the bound allows");
	LSE_ORACLE((len > 0) == ((lse_sess_want(r->s) & LSE_WANT_READ) != 0),
		   "recv_buf has room exactly when the session wants to read");
	LSE_ORACLE(lse_sess_recv_ack(r->s, len + 1) == LSE_E_INVAL, "recv_ack past the buffer accepted");
	n = n < len ? n : len;
	LSE_TRACE(lse_trace("offered %zu into recv_buf's %zu, ", n, len));
	memcpy(p, r->f->p + at, n);
	LSE_ORACLE(lse_sess_recv_ack(r->s, n) == LSE_OK, "recv_ack refused");
	r->filled = n == len && n > 0;
	LSE_ORACLE(at + n == lse_sess_consumed(r->s), "recv_ack count disagrees with consumed");
	return n > 0;
}

/* Offers every taken, unconsumed stream byte. Returns 1 if any was taken,
 * 0 if none, -1 if there was nothing to offer (no call was made). */
static int offer(run *r)
{
	size_t at = (size_t)lse_sess_consumed(r->s);
	size_t n = r->f->head - at;
	size_t room = lse_sess_recv_room(r->s), bound, before;
	ptrdiff_t got;

	if (n == 0)
		return -1;
	if (r->direct)
		return offer_direct(r, at, n);
	bound = lse_sess_bound(r->s);
	before = r->d->mode == LSE_MODE_RAW ? lse_sess_buffered(r->s) : 0;
	r->may_grow = 1;
	got = lse_sess_recv(r->s, r->f->p + at, n);
	r->may_grow = 0;
	/* What the call can have needed: raw, what was held and offered;
	 * framed, what it holds now and an ERROR frame's reserve. */
	if (r->ngrown)
		check_growth(r, r->d->mode == LSE_MODE_RAW ? before + n
							   : lse_sess_buffered(r->s) + LSE_ERR_FRAME_MAX);
	LSE_TRACE(got < 0 ? lse_trace("offered %zu, refused: %s, ", n, lse_strerror((int)got))
			  : lse_trace("offered %zu, took %td, ", n, got));
	if (got < 0) {
		LSE_ORACLE(got == lse_sess_error(r->s), "recv error is not the sticky error");
		LSE_ORACLE(LSE_ERR_IS_PROTO(got) || (got == LSE_E_NOMEM && r->d->nomem_ok),
			   "recv failed with an unexpected error");
		return 0;
	}
	LSE_ORACLE(lse_sess_error(r->s) == LSE_OK, "recv returned a count with an error pending");
	LSE_ORACLE((size_t)got <= n, "recv consumed more than it was given");
	LSE_ORACLE(at + (size_t)got == lse_sess_consumed(r->s), "recv count disagrees with consumed");
	/* The room is exact: all of it is taken while the session reads, and
	 * no more unless a HELLO raised the bound. */
	LSE_ORACLE((size_t)got >= (n < room ? n : room) || !lse_sess_reading(r->s),
		   "recv took less than recv_room promised");
	LSE_ORACLE((size_t)got <= room || lse_sess_bound(r->s) > bound,
		   "recv took more than recv_room, which is exact");
	return got > 0;
}

/* EDGE: takes stream bytes until lse_drive_edge(room, sel) are
 * unconsumed, then offers them: every state is tried at the room's edge,
 * where an inexact room shows. Returns as offer(). */
static void trace_op(const run *r, uint8_t op, size_t taken);

static int offer_edge(run *r, unsigned sel, uint8_t op)
{
	size_t pending = r->f->head - (size_t)lse_sess_consumed(r->s);
	size_t want = lse_drive_edge(lse_sess_recv_room(r->s), sel), taken = 0;

	if (want > pending)
		taken = lse_fdp_take(r->f, want - pending);
	LSE_TRACE(trace_op(r, op, taken));
	return offer(r);
}

/* The peer reads up to max bytes. Returns 1 if it read any. */
static int drain(run *r, size_t max)
{
	size_t total = 0;
	int whole = 0;   /* the last piece was all that was answered */

	while (total < max) {
		const uint8_t *p = lse_sess_send_buf(r->s, &r->avail);
		size_t n = r->avail;

		LSE_ORACLE(n == 0 || lse_sess_want(r->s) != LSE_CLOSED, "a closed session offers output");
		/* Output that follows an emptied ring starts at its front:
		 * all of it comes in one piece (lse_sess_send_buf). */
		LSE_ORACLE(n == 0 || !whole, "output after an emptied ring came in two pieces");
		if (n == 0)
			break;
		whole = r->fresh && n <= max - total;
		n = n < max - total ? n : max - total;
		LSE_ORACLE(n <= r->out_cap - r->out_len, "more output than any stream can cause");
		memcpy(r->out + r->out_len, p, n);
		r->out_len += n;
		total += n;
		LSE_ORACLE(lse_sess_send_ack(r->s, n) == LSE_OK, "ack of offered bytes refused");
		r->fresh = n == r->avail && lse_sess_buffered(r->s) == 0;
	}
	return total > 0;
}

static void check(run *r)
{
	unsigned w = lse_sess_want(r->s);
	size_t bound = lse_sess_bound(r->s);

	LSE_ORACLE(lse_sess_buffered(r->s) <= bound, "output exceeds the bound");
	LSE_ORACLE(w != LSE_CLOSED || lse_sess_buffered(r->s) == 0 ||
		   lse_sess_error(r->s) == LSE_E_NOMEM, "a closed session still holds output");
	if (r->storage)
		r->cap = bound;   /* lse_sess_init: the storage holds the bound */
	LSE_ORACLE(bound == documented_bound(r), "bound differs from docs/protocol.md");
	LSE_ORACLE(!r->closed || w == LSE_CLOSED, "a closed session came back");
	LSE_ORACLE(w != 0, "session neither reads nor writes: it would stall");
	r->closed = w == LSE_CLOSED;
}

/* The explain mode's count of steps and of output read so far: kept here,
 * not in locals of the loops, so that a trace that is off costs the loops
 * nothing but its branches. */
static unsigned trace_steps, trace_rounds;
static size_t trace_out_seen;

/* The trace of a step's end: what the peer read, where the session is. */
static void trace_step_end(const run *r)
{
	if (r->out_len > trace_out_seen)
		lse_trace("read %zu, ", r->out_len - trace_out_seen);
	trace_out_seen = r->out_len;
	lse_trace_state(r->s, r->f->p, r->d->mode == LSE_MODE_RAW);
}

/* Rounds of a settle shown in the trace; the rest run muted. */
#define SETTLE_SHOWN 16

static void trace_round_end(const run *r, int progress)
{
	trace_step_end(r);
	if (++trace_rounds == SETTLE_SHOWN && progress) {
		lse_trace("  ... further rounds not shown\n");
		lse_trace_mute(1);
	}
}

static void trace_settled(const run *r)
{
	lse_trace_mute(0);
	lse_trace("  settled after %u rounds: consumed %zu, read %zu in all, ", trace_rounds,
		  (size_t)lse_sess_consumed(r->s), r->out_len);
	lse_trace_state(r->s, r->f->p, r->d->mode == LSE_MODE_RAW);
	trace_rounds = 0;
}

static void settle(run *r)
{
	int progress;

	do {
		LSE_TRACE(lse_trace("  round %u: ", trace_rounds));
		progress = offer(r) > 0;
		progress |= drain(r, SIZE_MAX);
		check(r);
		LSE_TRACE(trace_round_end(r, progress));
	} while (progress);
	LSE_TRACE(trace_settled(r));
}

/* `taken`: the stream bytes the operation took, just before f->head. */
static void trace_op(const run *r, uint8_t op, size_t taken)
{
	static const char *const edge[3] = { "room-1", "room", "room+1" };
	const lse_fdp *f = r->f;
	size_t from = f->head - taken;

	lse_trace("step %u (op 0x%02x @%zu): ", trace_steps++, op, f->tail);
	switch (op & 3) {
	case 0:
	case 1:
		lse_trace("%s %zu, stream [%zu, %zu): ", op & 1 ? "FEED_BIG" : "FEED",
			  op & 1 ? ((size_t)(op >> 2) + 1) * 256 : (size_t)(op >> 2) + 1, from, f->head);
		break;
	case 2:
		if ((op & 0xc0) == 0xc0 && r->d->mode == LSE_MODE_FRAMED)
			lse_trace("EDGE %s, stream [%zu, %zu): ", edge[((op >> 2) & 15) % 3], from, f->head);
		else if (lse_drive_drain(op >> 2) == SIZE_MAX)
			lse_trace("DRAIN all: ");
		else
			lse_trace("DRAIN %zu: ", lse_drive_drain(op >> 2));
		break;
	default:
		lse_trace("END%s\n", op & 4 ? ", half-close" : "");
		break;
	}
}

static int schedule(run *r, uint8_t flags)
{
	lse_fdp *f = r->f;

	while (lse_fdp_left(f) > 0) {
		uint8_t op = lse_fdp_u8(f);
		int called;   /* made a call that may change the session */
		size_t taken;

		switch (op & 3) {
		case 0:
			taken = lse_fdp_take(f, (size_t)(op >> 2) + 1);
			LSE_TRACE(trace_op(r, op, taken));
			called = offer(r) >= 0;
			break;
		case 1:
			taken = lse_fdp_take(f, ((size_t)(op >> 2) + 1) * 256);
			LSE_TRACE(trace_op(r, op, taken));
			called = offer(r) >= 0;
			break;
		case 2:
			/* Raw rooms are the ring's free space, met by the
			 * small chunks already; EDGE is for framed sessions. */
			if ((op & 0xc0) == 0xc0 && r->d->mode == LSE_MODE_FRAMED) {
				called = offer_edge(r, (op >> 2) & 15, op) >= 0;
				break;
			}
			LSE_TRACE(trace_op(r, op, 0));
			/* Reading nothing acknowledges nothing: send_buf alone
			 * changes no state. */
			called = drain(r, lse_drive_drain(op >> 2));
			break;
		default:
			LSE_TRACE(trace_op(r, op, 0));
			return (op >> 2) & 1;
		}
		LSE_TRACE(trace_step_end(r));
		/* The invariants hold until a call may have changed the
		 * session; the checks after the last one still stand. */
		if (called)
			check(r);
	}
	return (flags >> 3) & 1;
}

static void trace_end(const run *r, int eof, uint32_t limit, const lse_model_out *m)
{
	int raw = r->d->mode == LSE_MODE_RAW;

	lse_trace_stream("the client's stream", r->f->p, r->f->head, limit, raw);
	lse_trace("the model: consumes %zu, %s, error %d; the session: consumes %zu, %s, error %d\n",
		  m->consumed, m->closed ? "closes" : "stays open", m->err,
		  (size_t)lse_sess_consumed(r->s), r->closed ? "closes" : "stays open",
		  -lse_sess_error(r->s));
	(void)eof;
	lse_trace_compare("the connection", r->out, r->out_len, m->buf, m->len, raw,
			  lse_sess_error(r->s) == LSE_E_NOMEM);
}

static void compare(run *r, int eof, uint32_t limit)
{
	static lse_model_out m;   /* its buffer is reused from run to run */
	size_t len = r->f->head;
	int err = lse_sess_error(r->s);
	int rc = r->d->mode == LSE_MODE_RAW ? lse_model_raw_again(r->f->p, len, eof, &m)
					    : lse_model_framed_again(r->f->p, len, eof, limit, &m);

	LSE_ORACLE(rc == 0, "model out of memory");
	LSE_TRACE(trace_end(r, eof, limit, &m));
	if (err == LSE_E_NOMEM) {
		LSE_ORACLE(r->closed, "out of memory but not closed");
		LSE_ORACLE(r->out_len <= m.len && memcmp(r->out, m.buf, r->out_len) == 0,
			   "output before the failed allocation is not the model's");
	} else {
		LSE_ORACLE(r->out_len == m.len, "output length differs from the model");
		LSE_ORACLE(m.len == 0 || memcmp(r->out, m.buf, m.len) == 0, "output differs from the model");
		LSE_ORACLE(lse_sess_consumed(r->s) == m.consumed, "consumed differs from the model");
		LSE_ORACLE(r->closed == m.closed, "closed differs from the model");
		LSE_ORACLE(-err == m.err, "error differs from the model");
	}
}

static void trace_start(const run *r, uint8_t flags, const lse_sess_config *cfg, int in_storage)
{
	static const char *const names[8] = { NULL, NULL, NULL, "half-close at the end",
					       "caller storage", "raw (fuzz_alloc)",
					       "zero-copy recv_buf (raw)", NULL };

	trace_steps = trace_rounds = 0;
	trace_out_seen = 0;
	lse_trace_settings(flags, names, cfg);
	lse_trace(", session %s, allocator %s\n",
		  in_storage ? "in caller storage" : "allocated",
		  r->d->mem ? "failing (fuzz_alloc)" : "malloc");
	lse_trace("  1 connection; stream from byte 0 on, operations from byte %zu back\nschedule:\n",
		  r->f->tail ? r->f->tail - 1 : 0);
}

int lse_drive_run(const lse_drive *d, lse_fdp *f, uint8_t flags, uint32_t chunk)
{
	uint32_t limit = lse_drive_limit(flags);
	/* The defaults are asked for as 0, as the server asks for them. */
	lse_sess_config cfg = { d->mode, limit == LSE_LIMIT_DEFAULT ? 0 : limit,
				chunk == LSE_CHUNK_DEFAULT ? 0 : chunk };
	run r = { .d = d, .f = f, .chunk = chunk,
		  .direct = d->mode == LSE_MODE_RAW && (flags & 0x40),
		  .inner = d->mem ? d->mem : lse_mem_default() };
	lse_mem watch = { watch_alloc, watch_free, &r };
	/* Caller storage holds the largest bound up front: beyond 64 KiB that
	 * costs an mmap and teaches nothing the allocator path does not. */
	int in_storage = (flags & 0x10) && d->mem == NULL && limit <= 65536;
	void *storage = NULL;
	int eof, err, rc;

	LSE_TRACE(trace_start(&r, flags, &cfg, in_storage));
	if (in_storage) {
		size_t size = lse_sess_footprint(&cfg);
		storage = storage_space(size);
		LSE_ORACLE(lse_sess_init(&r.s, storage, size - 1, &cfg) == LSE_E_INVAL,
			   "storage one byte short accepted");
		rc = lse_sess_init(&r.s, storage, size, &cfg);
	} else {
		rc = lse_sess_new(&r.s, &cfg, &watch);
	}
	if (rc != LSE_OK) {
		LSE_TRACE(lse_trace("the session could not be made: %s\n", lse_strerror(rc)));
		LSE_ORACLE(rc == LSE_E_NOMEM && d->nomem_ok && r.s == NULL, "lse_sess_new failed");
		return rc;
	}
	r.storage = storage != NULL;
	r.fresh = 1;
	r.cap = lse_sess_bound(r.s) < LSE_SESS_FRAMED_BOUND(0) || r.storage
			? lse_sess_bound(r.s) : LSE_SESS_FRAMED_BOUND(0);
	r.out_cap = f->tail + 2 * LSE_ERR_FRAME_MAX;
	r.out = out_space(r.out_cap);
	check(&r);
	eof = schedule(&r, flags);
	lse_fdp_take(f, lse_fdp_left(f));
	LSE_TRACE(lse_trace("the rest of the input is stream, up to byte %zu; offer it, drain all:\n",
			    f->head));
	settle(&r);
	if (eof) {
		LSE_TRACE(lse_trace("half-close (lse_sess_eof), drain all:\n"));
		lse_sess_eof(r.s);
		settle(&r);
	}
	compare(&r, eof, limit);
	err = lse_sess_error(r.s);
	lse_sess_free(r.s);
	return err;
}
