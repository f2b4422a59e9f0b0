/* lse_sess: the echo session state machine (contract in lse_sess.h). */
#include "lse_sess.h"

#include <assert.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

/* A framed session keeps an ERROR frame's worth of output free beyond all
 * it has taken in (budget()): so a verdict never has to wait for space, and
 * a session never holds more than its bound. */
#define RESERVE ((size_t)LSE_ERR_FRAME_MAX)
#define SMALL_CAP LSE_SESS_FRAMED_BOUND(0)

enum sess_state {      /* the reading states come first: see is_reading() */
	READ_HEADER,  /* collecting a header into hdr[] */
	READ_HELLO,   /* collecting HELLO's value into hello[] */
	READ_PAYLOAD, /* echoing a DATA/PING payload straight into the output */
	READ_RAW,     /* raw echo */
	FLUSHING,     /* reads nothing more; closes once the output is sent */
	CLOSED        /* dead (allocation failure): nothing more is sent */
};

struct lse_sess {
	lse_mem mem;           /* mem.alloc == NULL: caller storage, never allocate */
	enum sess_state st;
	int err;               /* sticky: LSE_OK, a protocol error or LSE_E_NOMEM */
	uint32_t limit;        /* server limit (framed) */
	uint32_t negotiated;   /* 0 until WELCOME */
	uint32_t remaining;    /* READ_PAYLOAD: payload bytes still to echo */
	unsigned got;          /* bytes in hdr[] or hello[]: < their size */
	uint64_t consumed;     /* input bytes taken since creation */
	int filled;            /* raw: the last recv_ack took all it was offered */
	uint8_t hdr[LSE_HDR_LEN];
	uint8_t hello[LSE_HELLO_LEN];
	/* Output ring. Positions are byte counts since the ring was last empty:
	 * sent <= done <= wr <= sent + cap. [sent, done) is answered and may go
	 * out; [done, wr) is the frame being echoed, dropped if input ends. */
	uint8_t *buf;
	size_t cap;            /* capacity now: cap <= bound, grown on demand */
	size_t bound;          /* the documented bound (lse_sess_bound) */
	size_t heap;           /* bytes of buf from mem.alloc, 0 if none */
	uint64_t sent, done, wr;
	alignas(max_align_t) uint8_t small[SMALL_CAP];
};

static void *std_alloc(void *ud, size_t size)
{
	(void)ud;
	return malloc(size);
}

static void std_free(void *ud, void *ptr, size_t size)
{
	(void)ud;
	(void)size;
	free(ptr);
}

static size_t struct_size(void)
{
	size_t a = alignof(max_align_t);
	return (sizeof(struct lse_sess) + a - 1) / a * a;
}

static int config_resolve(const lse_sess_config *cfg, lse_sess_config *r)
{
	if (cfg == NULL || (cfg->mode != LSE_MODE_FRAMED && cfg->mode != LSE_MODE_RAW))
		return LSE_E_INVAL;
	if (cfg->max_payload > LSE_LIMIT_MAX || cfg->chunk > LSE_CHUNK_MAX)
		return LSE_E_INVAL;
	r->mode = cfg->mode;
	r->max_payload = cfg->max_payload ? cfg->max_payload : LSE_LIMIT_DEFAULT;
	r->chunk = cfg->chunk ? cfg->chunk : LSE_CHUNK_DEFAULT;
	return LSE_OK;
}

static size_t config_buf_max(const lse_sess_config *r)
{
	return r->mode == LSE_MODE_RAW ? r->chunk : LSE_SESS_FRAMED_BOUND(r->max_payload);
}

/* ---- output ring ---- */

/* pos % s->cap. Positions rarely run a lap ahead (the ring restarts at 0
 * whenever it empties), and a division costs more than the rest of a step. */
static size_t ring_at(const lse_sess *s, uint64_t pos)
{
	if (pos < s->cap)
		return (size_t)pos;
	if (pos - s->cap < s->cap)
		return (size_t)(pos - s->cap);
	return (size_t)(pos % s->cap);
}

static size_t out_free(const lse_sess *s)
{
	return s->cap - (size_t)(s->wr - s->sent);
}

static void out_put(lse_sess *s, const uint8_t *p, size_t n)
{
	size_t at = ring_at(s, s->wr);
	size_t first = n < s->cap - at ? n : s->cap - at;

	assert(n <= out_free(s));
	memcpy(s->buf + at, p, first);
	memcpy(s->buf, p + first, n - first);
	s->wr += n;
}

static void out_commit(lse_sess *s)
{
	s->done = s->wr;
}

/* Moves the ring into a buffer of capacity cap, unwrapped. */
static int out_grow(lse_sess *s, size_t cap)
{
	size_t used = (size_t)(s->wr - s->sent);
	size_t at = ring_at(s, s->sent);
	size_t first = used < s->cap - at ? used : s->cap - at;
	uint8_t *nb = s->mem.alloc(s->mem.ud, cap);

	if (nb == NULL)
		return LSE_E_NOMEM;
	memcpy(nb, s->buf + at, first);
	memcpy(nb + first, s->buf, used - first);
	if (s->heap)
		s->mem.free(s->mem.ud, s->buf, s->heap);
	s->buf = nb;
	s->heap = s->cap = cap;
	s->done -= s->sent;
	s->wr -= s->sent;
	s->sent = 0;
	return LSE_OK;
}

/* Makes `need` bytes free if the bound allows it, growing the buffer by
 * doubling: sessions pay for the output they actually hold, not for the
 * bound. On LSE_E_NOMEM the session is dead (sticky). */
static int out_reserve(lse_sess *s, size_t need)
{
	size_t used = (size_t)(s->wr - s->sent);
	size_t cap;

	if (s->cap - used >= need || s->cap == s->bound)
		return LSE_OK;
	cap = s->cap * 2 > used + need ? s->cap * 2 : used + need;
	cap = cap < s->bound ? cap : s->bound;
	if (out_grow(s, cap) == LSE_OK)
		return LSE_OK;
	s->err = LSE_E_NOMEM;
	s->st = CLOSED;
	return LSE_E_NOMEM;
}

/* ---- life cycle ---- */

static void sess_setup(lse_sess *s, const lse_sess_config *r)
{
	s->limit = r->max_payload;
	s->st = r->mode == LSE_MODE_RAW ? READ_RAW : READ_HEADER;
	s->bound = r->mode == LSE_MODE_RAW ? r->chunk : LSE_SESS_FRAMED_BOUND(0);
	s->buf = s->small;
	s->cap = s->bound < SMALL_CAP ? s->bound : SMALL_CAP;
}

const lse_mem *lse_mem_default(void)
{
	static const lse_mem std = { std_alloc, std_free, NULL };

	return &std;
}

int lse_sess_new(lse_sess **out, const lse_sess_config *cfg, const lse_mem *mem)
{
	lse_sess_config r;
	lse_sess *s;

	if (out == NULL)
		return LSE_E_INVAL;
	*out = NULL;
	if (config_resolve(cfg, &r) != LSE_OK)
		return LSE_E_INVAL;
	if (mem == NULL)
		mem = lse_mem_default();
	if (mem->alloc == NULL || mem->free == NULL)
		return LSE_E_INVAL;
	s = mem->alloc(mem->ud, sizeof *s);
	if (s == NULL)
		return LSE_E_NOMEM;
	memset(s, 0, sizeof *s);
	s->mem = *mem;
	sess_setup(s, &r);
	*out = s;
	return LSE_OK;
}

size_t lse_sess_footprint(const lse_sess_config *cfg)
{
	lse_sess_config r;

	if (config_resolve(cfg, &r) != LSE_OK)
		return 0;
	return struct_size() + config_buf_max(&r);
}

int lse_sess_init(lse_sess **out, void *storage, size_t size,
		  const lse_sess_config *cfg)
{
	lse_sess_config r;
	lse_sess *s = storage;

	if (out == NULL)
		return LSE_E_INVAL;
	*out = NULL;
	if (config_resolve(cfg, &r) != LSE_OK || storage == NULL ||
	    (uintptr_t)storage % alignof(max_align_t) != 0 ||
	    size < lse_sess_footprint(&r))
		return LSE_E_INVAL;
	memset(s, 0, sizeof *s);
	sess_setup(s, &r);
	/* The storage holds the largest bound: no growth, ever. */
	s->buf = (uint8_t *)storage + struct_size();
	s->cap = s->bound;
	*out = s;
	return LSE_OK;
}

void lse_sess_free(lse_sess *s)
{
	lse_mem mem;

	if (s == NULL || s->mem.alloc == NULL)
		return;
	mem = s->mem;
	if (s->heap)
		mem.free(mem.ud, s->buf, s->heap);
	mem.free(mem.ud, s, sizeof *s);   /* with an allocator, it made s too */
}

/* ---- framed input ---- */

static int sess_fail(lse_sess *s, int err)
{
	uint8_t frame[LSE_ERR_FRAME_MAX];
	size_t n = lse_frame_error(frame, err);

	assert(s->wr == s->done);   /* errors fall between frames */
	out_put(s, frame, n);
	out_commit(s);
	s->err = err;
	s->st = FLUSHING;
	return err;
}

static void put_header(lse_sess *s, uint8_t type, uint32_t len)
{
	uint8_t h[LSE_HDR_LEN];

	lse_frame_encode(h, type, len);
	out_put(s, h, sizeof h);
}

static int on_header(lse_sess *s)
{
	lse_frame_hdr h;
	int e = lse_frame_decode(s->hdr, s->negotiated, &h);

	s->got = 0;
	if (e != LSE_OK)
		return sess_fail(s, e);
	if (h.type == LSE_T_HELLO) {
		s->st = READ_HELLO;
		return LSE_OK;
	}
	put_header(s, h.type == LSE_T_PING ? LSE_T_PONG : h.type, h.len);
	if (h.type == LSE_T_BYE) {
		out_commit(s);
		s->st = FLUSHING;
	} else if (h.len == 0) {
		out_commit(s);
	} else {
		s->remaining = h.len;
		s->st = READ_PAYLOAD;
	}
	return LSE_OK;
}

static int on_hello(lse_sess *s)
{
	uint32_t want = lse_get_u32(s->hello);
	uint8_t v[LSE_HELLO_LEN];

	s->got = 0;
	if (want == 0)
		return sess_fail(s, LSE_E_BAD_HELLO);
	want = want < s->limit ? want : s->limit;
	s->negotiated = want;
	s->bound = LSE_SESS_FRAMED_BOUND(want);
	if (s->mem.alloc == NULL)
		s->cap = s->bound;   /* caller storage; the ring is empty */
	put_header(s, LSE_T_WELCOME, LSE_HELLO_LEN);
	lse_put_u32(v, want);
	out_put(s, v, sizeof v);
	out_commit(s);
	s->st = READ_HEADER;
	return LSE_OK;
}

/* Output that bytes already taken in will become: held header bytes turn
 * into an 8-byte answer header, a held HELLO (its header and part of its
 * value) into a 12-byte WELCOME. With it, every input byte a valid stream
 * carries charges exactly one byte of output. */
static size_t held_charge(const lse_sess *s)
{
	if (s->st == READ_HEADER)
		return s->got;
	if (s->st == READ_HELLO)
		return LSE_HDR_LEN + s->got;
	return 0;
}

/* Framed input bytes the session takes now: what keeps the output, with
 * what held bytes will add, RESERVE short of the bound. Since each byte
 * charges one byte of output, a verdict at a header's last byte always
 * finds RESERVE free, and an offer of up to budget() bytes is taken whole
 * whatever it holds (only a HELLO that raises the bound lets in more). */
static size_t budget(const lse_sess *s)
{
	size_t charged = (size_t)(s->wr - s->sent) + held_charge(s);

	return s->bound - RESERVE > charged ? s->bound - RESERVE - charged : 0;
}

/* Copies up to `size - s->got` bytes into dst, within budget(); the final
 * byte makes room for the verdict's answer. Returns the count taken, or
 * LSE_E_NOMEM. */
static ptrdiff_t collect(lse_sess *s, uint8_t *dst, size_t size,
			 const uint8_t *in, size_t avail)
{
	size_t want = size - s->got;
	size_t room = budget(s);
	size_t n = avail < want ? avail : want;

	n = n < room ? n : room;
	if (n == want && out_reserve(s, RESERVE) != LSE_OK)
		return LSE_E_NOMEM;
	memcpy(dst + s->got, in, n);
	s->got += (unsigned)n;
	return (ptrdiff_t)n;
}

/* Echoes payload bytes into the output, within budget(); returns the count
 * or LSE_E_NOMEM. */
static ptrdiff_t echo(lse_sess *s, const uint8_t *in, size_t avail)
{
	size_t room = budget(s);
	size_t n = avail < s->remaining ? avail : s->remaining;

	n = n < room ? n : room;
	if (out_reserve(s, n) != LSE_OK)
		return LSE_E_NOMEM;
	out_put(s, in, n);
	s->remaining -= (uint32_t)n;
	if (s->remaining == 0) {
		out_commit(s);
		s->st = READ_HEADER;
	}
	return (ptrdiff_t)n;
}

static ptrdiff_t framed_recv(lse_sess *s, const uint8_t *in, size_t len)
{
	size_t i = 0;

	while (i < len) {
		ptrdiff_t n;
		int e = LSE_OK;

		switch (s->st) {
		case READ_HEADER:
			n = collect(s, s->hdr, LSE_HDR_LEN, in + i, len - i);
			if (s->got == LSE_HDR_LEN)
				e = on_header(s);
			break;
		case READ_HELLO:
			n = collect(s, s->hello, LSE_HELLO_LEN, in + i, len - i);
			if (s->got == LSE_HELLO_LEN)
				e = on_hello(s);
			break;
		case READ_PAYLOAD:
			n = echo(s, in + i, len - i);
			break;
		default:
			return (ptrdiff_t)i;
		}
		if (n < 0)
			return n;
		s->consumed += (size_t)n;
		if (e != LSE_OK)
			return e;
		if (n == 0)
			break;
		i += (size_t)n;
	}
	return (ptrdiff_t)i;
}

/* ---- public I/O ---- */

static int is_reading(const lse_sess *s)
{
	return s->st <= READ_RAW;
}

ptrdiff_t lse_sess_recv(lse_sess *s, const uint8_t *in, size_t len)
{
	size_t n;

	if (s == NULL || (in == NULL && len > 0))
		return LSE_E_INVAL;
	if (s->err != LSE_OK)
		return s->err;
	if (len == 0)
		return 0;
	if (s->st != READ_RAW)
		return framed_recv(s, in, len);
	if (out_reserve(s, len) != LSE_OK)
		return LSE_E_NOMEM;
	n = out_free(s);
	n = len < n ? len : n;
	out_put(s, in, n);
	out_commit(s);
	s->consumed += n;
	return (ptrdiff_t)n;
}

uint8_t *lse_sess_recv_buf(lse_sess *s, size_t *len)
{
	size_t at, n;

	if (len != NULL)
		*len = 0;
	if (s == NULL || len == NULL || s->st != READ_RAW)
		return NULL;
	/* A read that filled all the space offered had more behind it: offer
	 * twice as much (up to the bound) next time. A ring that copying
	 * input filled grows the same way, so room is offered while the
	 * session wants to read. */
	if ((s->filled || out_free(s) == 0) && out_reserve(s, out_free(s) + 1) != LSE_OK)
		return NULL;
	s->filled = 0;
	at = ring_at(s, s->wr);
	n = out_free(s) < s->cap - at ? out_free(s) : s->cap - at;
	*len = n;
	return s->buf + at;
}

int lse_sess_recv_ack(lse_sess *s, size_t n)
{
	size_t at, avail;

	if (s == NULL || s->st != READ_RAW)
		return LSE_E_INVAL;
	at = ring_at(s, s->wr);
	avail = out_free(s) < s->cap - at ? out_free(s) : s->cap - at;
	if (n > avail)
		return LSE_E_INVAL;
	s->filled = n == avail && n > 0;
	s->wr += n;
	out_commit(s);
	s->consumed += n;
	return LSE_OK;
}

size_t lse_sess_recv_room(const lse_sess *s)
{
	if (s == NULL || !is_reading(s))
		return 0;
	if (s->st == READ_RAW)   /* growth is implied */
		return s->bound - (size_t)(s->wr - s->sent);
	return budget(s);
}

int lse_sess_reading(const lse_sess *s)
{
	return s != NULL && is_reading(s);
}

void lse_sess_eof(lse_sess *s)
{
	if (s == NULL || !is_reading(s))
		return;
	s->wr = s->done;   /* held header bytes (got) count only while reading */
	s->st = FLUSHING;
}

static size_t send_len(const lse_sess *s)
{
	size_t at = ring_at(s, s->sent);
	size_t n = s->st == CLOSED ? 0 : (size_t)(s->done - s->sent);

	return n < s->cap - at ? n : s->cap - at;
}

const uint8_t *lse_sess_send_buf(lse_sess *s, size_t *len)
{
	if (s == NULL || len == NULL) {
		if (len != NULL)
			*len = 0;
		return NULL;
	}
	*len = send_len(s);
	return s->buf + ring_at(s, s->sent);
}

int lse_sess_send_ack(lse_sess *s, size_t n)
{
	if (s == NULL || n > send_len(s))
		return LSE_E_INVAL;
	s->sent += n;
	if (s->sent == s->wr)   /* empty: restart at 0 so sends stay contiguous */
		s->sent = s->done = s->wr = 0;
	return LSE_OK;
}

unsigned lse_sess_want(const lse_sess *s)
{
	unsigned w = 0;

	if (s == NULL || s->st == CLOSED)
		return LSE_CLOSED;
	if (s->done > s->sent)
		w |= LSE_WANT_WRITE;
	else if (s->st == FLUSHING)
		return LSE_CLOSED;
	if (lse_sess_recv_room(s) > 0)
		w |= LSE_WANT_READ;
	return w;
}

int lse_sess_error(const lse_sess *s)
{
	return s == NULL ? LSE_E_INVAL : s->err;
}

size_t lse_sess_buffered(const lse_sess *s)
{
	return s == NULL ? 0 : (size_t)(s->wr - s->sent);
}

size_t lse_sess_bound(const lse_sess *s)
{
	return s == NULL ? 0 : s->bound;
}

uint64_t lse_sess_consumed(const lse_sess *s)
{
	return s == NULL ? 0 : s->consumed;
}

uint32_t lse_sess_negotiated(const lse_sess *s)
{
	return s == NULL ? 0 : s->negotiated;
}
