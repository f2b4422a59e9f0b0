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


static const uint32_t limits[8] = { 65536, 1, 64, 130, 131, 4096, 65535, 16777216 };
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
} run;

void lse_oracle_fail(const char *msg, const char *cond, const char *file, int line)
{
	fprintf(stderr, "lsecho oracle: %s\n  %s:%d: %s\n", msg, file, line, cond);
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

/* Raw, zero copy: copies what recv_buf has room for, acks it. */
static int offer_direct(run *r, size_t at, size_t n)
{
	uint8_t *p = lse_sess_recv_buf(r->s, &r->avail);
	size_t len = r->avail;

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
	memcpy(p, r->f->p + at, n);
	LSE_ORACLE(lse_sess_recv_ack(r->s, n) == LSE_OK, "recv_ack refused");
	LSE_ORACLE(at + n == lse_sess_consumed(r->s), "recv_ack count disagrees with consumed");
	return n > 0;
}

/* Offers every taken, unconsumed stream byte. Returns 1 if any was taken,
 * 0 if none, -1 if there was nothing to offer (no call was made). */
static int offer(run *r)
{
	size_t at = (size_t)lse_sess_consumed(r->s);
	size_t n = r->f->head - at;
	size_t room = lse_sess_recv_room(r->s), bound;
	ptrdiff_t got;

	if (n == 0)
		return -1;
	if (r->direct)
		return offer_direct(r, at, n);
	bound = lse_sess_bound(r->s);
	got = lse_sess_recv(r->s, r->f->p + at, n);
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
static int offer_edge(run *r, unsigned sel)
{
	size_t pending = r->f->head - (size_t)lse_sess_consumed(r->s);
	size_t want = lse_drive_edge(lse_sess_recv_room(r->s), sel);

	if (want > pending)
		lse_fdp_take(r->f, want - pending);
	return offer(r);
}

/* The peer reads up to max bytes. Returns 1 if it read any. */
static int drain(run *r, size_t max)
{
	size_t total = 0;

	while (total < max) {
		const uint8_t *p = lse_sess_send_buf(r->s, &r->avail);
		size_t n = r->avail;

		LSE_ORACLE(n == 0 || lse_sess_want(r->s) != LSE_CLOSED, "a closed session offers output");
		if (n == 0)
			break;
		n = n < max - total ? n : max - total;
		LSE_ORACLE(n <= r->out_cap - r->out_len, "more output than any stream can cause");
		memcpy(r->out + r->out_len, p, n);
		r->out_len += n;
		total += n;
		LSE_ORACLE(lse_sess_send_ack(r->s, n) == LSE_OK, "ack of offered bytes refused");
	}
	return total > 0;
}

static void check(run *r)
{
	unsigned w = lse_sess_want(r->s);
	size_t bound = lse_sess_bound(r->s);

	LSE_ORACLE(lse_sess_buffered(r->s) <= bound, "output exceeds the bound");
	LSE_ORACLE(bound == documented_bound(r), "bound differs from docs/protocol.md");
	LSE_ORACLE(!r->closed || w == LSE_CLOSED, "a closed session came back");
	LSE_ORACLE(w != 0, "session neither reads nor writes: it would stall");
	r->closed = w == LSE_CLOSED;
}

static void settle(run *r)
{
	int progress;

	do {
		progress = offer(r) > 0;
		progress |= drain(r, SIZE_MAX);
		check(r);
	} while (progress);
}

static int schedule(run *r, uint8_t flags)
{
	lse_fdp *f = r->f;

	while (lse_fdp_left(f) > 0) {
		uint8_t op = lse_fdp_u8(f);
		int called;   /* made a call that may change the session */

		switch (op & 3) {
		case 0:
			lse_fdp_take(f, (size_t)(op >> 2) + 1);
			called = offer(r) >= 0;
			break;
		case 1:
			lse_fdp_take(f, ((size_t)(op >> 2) + 1) * 256);
			called = offer(r) >= 0;
			break;
		case 2:
			/* Raw rooms are the ring's free space, met by the
			 * small chunks already; EDGE is for framed sessions. */
			if ((op & 0xc0) == 0xc0 && r->d->mode == LSE_MODE_FRAMED) {
				called = offer_edge(r, (op >> 2) & 15) >= 0;
				break;
			}
			/* Reading nothing acknowledges nothing: send_buf alone
			 * changes no state. */
			called = drain(r, lse_drive_drain(op >> 2));
			break;
		default:
			return (op >> 2) & 1;
		}
		/* The invariants hold until a call may have changed the
		 * session; the checks after the last one still stand. */
		if (called)
			check(r);
	}
	return (flags >> 3) & 1;
}

static void compare(run *r, int eof, uint32_t limit)
{
	static lse_model_out m;   /* its buffer is reused from run to run */
	size_t len = r->f->head;
	int err = lse_sess_error(r->s);
	int rc = r->d->mode == LSE_MODE_RAW ? lse_model_raw_again(r->f->p, len, eof, &m)
					    : lse_model_framed_again(r->f->p, len, eof, limit, &m);

	LSE_ORACLE(rc == 0, "model out of memory");
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

int lse_drive_run(const lse_drive *d, lse_fdp *f, uint8_t flags, uint32_t chunk)
{
	lse_sess_config cfg = { d->mode, lse_drive_limit(flags), chunk };
	run r = { d, f, NULL, 0, chunk, NULL, 0, 0, 0, d->mode == LSE_MODE_RAW && (flags & 0x40), 0 };
	void *storage = NULL;
	int eof, err, rc;

	/* Caller storage holds the largest bound up front: beyond 64 KiB that
	 * costs an mmap and teaches nothing the allocator path does not. */
	if ((flags & 0x10) && d->mem == NULL && cfg.max_payload <= 65536) {
		size_t size = lse_sess_footprint(&cfg);
		storage = storage_space(size);
		LSE_ORACLE(lse_sess_init(&r.s, storage, size - 1, &cfg) == LSE_E_INVAL,
			   "storage one byte short accepted");
		rc = lse_sess_init(&r.s, storage, size, &cfg);
	} else {
		rc = lse_sess_new(&r.s, &cfg, d->mem);
	}
	if (rc != LSE_OK) {
		LSE_ORACLE(rc == LSE_E_NOMEM && d->nomem_ok && r.s == NULL, "lse_sess_new failed");
		return rc;
	}
	r.out_cap = f->tail + 2 * LSE_ERR_FRAME_MAX;
	r.out = out_space(r.out_cap);
	check(&r);
	eof = schedule(&r, flags);
	lse_fdp_take(f, lse_fdp_left(f));
	settle(&r);
	if (eof) {
		lse_sess_eof(r.s);
		settle(&r);
	}
	compare(&r, eof, cfg.max_payload);
	err = lse_sess_error(r.s);
	lse_sess_free(r.s);
	return err;
}
