/* fuzz_multi: up to 64 connections served by the shell's own connection
 * code (lse_conntab + lse_conn_run) over in-memory sockets, driven by an
 * event loop that works like the shell's: collect what fired, then dispatch,
 * re-checking each connection is still registered.
 * Input (harness/README.md): client bytes from the front; from the back a
 * flags byte and a fail_at byte (the k-th allocation is refused), then
 * operations: open, send to k, drain k, half-close k,
 * abort k, run to quiescence, end. Checked: each connection's output equals
 * the model's for that connection's stream alone (a prefix, if the client
 * aborted), it is closed exactly when the model says so, the loop always
 * settles, and the table ends holding exactly the open connections. */
#include <stdlib.h>
#include <string.h>

#include "drive.h"
#include "failmem.h"
#include "fdp.h"
#include "lse_conn.h"
#include "model.h"

#define PEERS 64   /* one bit each in world.dirty */

typedef struct peer {
	int shut, aborted, server_closed;
	unsigned interest;   /* what "epoll" has registered; 0 once closed */
	lse_hbuf in;          /* everything the client sent */
	size_t rd;       /* the server has read in.p[0, rd) */
	lse_hbuf out;         /* everything the server wrote */
	size_t unread;   /* of out, still in the "kernel buffer" */
	size_t cap;      /* kernel buffer capacity */
} peer;

typedef struct world {
	peer peers[PEERS];
	int npeers;
	/* Peers whose state changed since the loop last looked, or that fired
	 * then: only they can fire now, since fires() depends on a peer's own
	 * state alone. A pass over them is the full scan's pass, at a fraction. */
	uint64_t dirty;
	lse_failmem fm;       /* the table's allocator */
	lse_conntab tab;
	/* What loop_once and dispatch would keep on the stack. Here, not
	 * there: an array or a local whose address is taken costs every call
	 * a fake stack frame under ASan's detect_stack_use_after_return,
	 * which the fuzzers run with. */
	int fired[PEERS];
	lse_io io;
	uint8_t scratch[65536];
	size_t scratch_len;
} world;

static ptrdiff_t mem_read(void *ctx, int fd, uint8_t *dst, size_t len)
{
	peer *p = &((world *)ctx)->peers[fd];
	size_t n = p->in.len - p->rd;

	if (p->aborted)
		return LSE_IO_BROKEN;
	if (n == 0)
		return p->shut ? 0 : LSE_IO_AGAIN;
	n = n < len ? n : len;
	memcpy(dst, p->in.p + p->rd, n);
	p->rd += n;
	return (ptrdiff_t)n;
}

static ptrdiff_t mem_write(void *ctx, int fd, const uint8_t *src, size_t len)
{
	peer *p = &((world *)ctx)->peers[fd];
	size_t n = p->cap - p->unread;

	if (p->aborted)
		return LSE_IO_BROKEN;
	if (n == 0)
		return LSE_IO_AGAIN;
	n = n < len ? n : len;
	lse_hbuf_put(&p->out, src, n);
	p->unread += n;
	return (ptrdiff_t)n;
}

static int readable(const peer *p)
{
	return p->rd < p->in.len || p->shut || p->aborted;
}

/* What the loop hands lse_conn_run (lse_loop.c's conn_service): a peer
 * registered for writing is written to only when epoll says it has room. */
static unsigned ready(const peer *p)
{
	return (readable(p) ? LSE_WANT_READ : 0) |
	       (!(p->interest & LSE_WANT_WRITE) || p->unread < p->cap || p->aborted ? LSE_WANT_WRITE : 0);
}

/* What epoll would report, from the registration alone. */
static int fires(const world *w, int fd)
{
	const peer *p = &w->peers[fd];

	if (p->interest == 0)
		return 0;
	return p->aborted || ((p->interest & LSE_WANT_READ) && readable(p)) ||
	       ((p->interest & LSE_WANT_WRITE) && p->unread < p->cap);
}

static void dispatch(world *w, int fd)
{
	lse_conn *c = lse_conntab_get(&w->tab, fd);
	unsigned interest;

	if (c == NULL)   /* closed by an earlier dispatch in this pass */
		return;
	interest = lse_conn_run(c, &w->io, ready(&w->peers[fd]), w->scratch, w->scratch_len);
	if (interest == LSE_CLOSED) {
		lse_conntab_del(&w->tab, fd);
		w->peers[fd].server_closed = 1;
		w->peers[fd].interest = 0;
	} else {
		c->interest = w->peers[fd].interest = interest;
	}
}

static void touch(world *w, int fd)
{
	w->dirty |= (uint64_t)1 << fd;
}

/* One epoll_wait: collect what fired, in fd order, then dispatch. Returns
 * how many fired. */
static int loop_once(world *w)
{
	int *fired = w->fired, n = 0;
	uint64_t look = w->dirty;

	w->dirty = 0;
	while (look != 0) {
		int fd = __builtin_ctzll(look);

		look &= look - 1;
		if (fires(w, fd))
			fired[n++] = fd;
	}
	for (int i = 0; i < n; i++) {
		dispatch(w, fired[i]);
		touch(w, fired[i]);
	}
	return n;
}

/* Runs the loop until nothing fires; returns the passes that fired. */
static int loop_settle(world *w)
{
	int passes = 0;

	while (loop_once(w) > 0)
		LSE_ORACLE(++passes < 1000000, "event loop does not settle");
	return passes;
}

static void client_drain(peer *p, size_t max)
{
	p->unread -= p->unread < max ? p->unread : max;
}

static void op_open(world *w, uint8_t op)
{
	static const size_t caps[8] = { 1, 7, 64, 138, 512, 4096, 65536, 262144 };
	peer *p;
	lse_conn *c;

	if (w->npeers == PEERS)
		return;
	p = &w->peers[w->npeers];
	p->cap = caps[(op >> 3) & 7];
	if (lse_conntab_add(&w->tab, w->npeers, &c) != LSE_OK) {
		/* As the shell does: the accepted socket is closed at once. */
		LSE_ORACLE(w->fm.refused && lse_conntab_get(&w->tab, w->npeers) == NULL,
			   "conntab_add failed without a refused allocation");
		p->server_closed = 1;
		w->npeers++;
		return;
	}
	c->interest = p->interest = LSE_WANT_READ;
	touch(w, w->npeers);
	w->npeers++;
}

/* EDGE: the client on fd sends until its socket holds
 * lse_drive_edge(the server's read room, sel) unread bytes, so the next read
 * lands on the room's edge in whatever state the session is in. */
static void client_edge(world *w, lse_fdp *f, int fd, unsigned sel)
{
	peer *p = &w->peers[fd];
	const lse_conn *c = lse_conntab_get(&w->tab, fd);
	size_t want, unread = p->in.len - p->rd, at = f->head;

	if (c == NULL || p->shut || p->aborted)
		return;
	want = lse_drive_edge(lse_sess_recv_room(c->sess), sel);
	if (want > unread)
		lse_hbuf_put(&p->in, f->p + at, lse_fdp_take(f, want - unread));
}

static void op_peer(world *w, lse_fdp *f, uint8_t op)
{
	uint8_t k = lse_fdp_u8(f);
	peer *p;
	size_t at = f->head, n;

	if (w->npeers == 0)
		return;
	p = &w->peers[k % w->npeers];
	touch(w, k % w->npeers);
	switch (op & 7) {
	case 1:
	case 2:
		n = lse_fdp_take(f, (op & 7) == 1 ? (size_t)(op >> 3) + 1
						  : ((size_t)(op >> 3) + 1) * 128);
		if (!p->shut && !p->aborted)
			lse_hbuf_put(&p->in, f->p + at, n);
		break;
	case 3:
		if (op & 0x80)
			client_edge(w, f, k % w->npeers, (op >> 3) & 15);
		else
			client_drain(p, lse_drive_drain(op >> 3));
		break;
	case 4:
		if (!(op & 0x80)) {
			p->shut = 1;
		} else if (!p->shut && !p->aborted) {   /* SPLIT */
			n = lse_drive_split(p->in.p, p->in.len, f->p + at, lse_fdp_left(f), (op >> 3) & 15);
			lse_hbuf_put(&p->in, f->p + at, lse_fdp_take(f, n));
		}
		break;
	default:
		p->aborted = 1;
		break;
	}
}

static void check_peer(world *w, int fd, uint32_t limit, int raw)
{
	peer *p = &w->peers[fd];
	static lse_model_out m;   /* its buffer is reused from peer to peer */
	int rc = raw ? lse_model_raw_again(p->in.p, p->in.len, p->shut, &m)
		     : lse_model_framed_again(p->in.p, p->in.len, p->shut, limit, &m);

	LSE_ORACLE(rc == 0, "model out of memory");
	LSE_ORACLE(p->out.len <= m.len && (p->out.len == 0 || memcmp(p->out.p, m.buf, p->out.len) == 0),
		   "a connection's output is not its own model's (cross-talk, loss or duplication)");
	if (p->aborted)
		LSE_ORACLE(p->server_closed, "an aborted connection was not closed");
	else if (!w->fm.refused)   /* a refused allocation may have cut any one short */
		LSE_ORACLE(p->out.len == m.len && p->server_closed == m.closed,
			   "a connection's output or close differs from its model");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t chunks[8] = { 1, 2, 7, 64, 277, 4096, 65536, 100000 };
	static world w;
	lse_fdp f;
	uint8_t flags;
	lse_sess_config cfg;
	int open = 0;

	/* The client buffers live on from run to run (the world is static and
	 * holds them): fresh ones cost more than the rest of a short run. */
	for (int fd = 0; fd < PEERS; fd++) {
		peer *p = &w.peers[fd];
		lse_hbuf in = { p->in.p, 0, p->in.cap }, out = { p->out.p, 0, p->out.cap };

		memset(p, 0, sizeof *p);
		p->in = in;
		p->out = out;
	}
	w.npeers = 0;
	w.dirty = 0;
	w.io = (lse_io){ mem_read, mem_write, &w };
	lse_fdp_init(&f, data, size);
	flags = lse_fdp_u8(&f);
	lse_failmem_start(&w.fm, lse_fdp_u8(&f));
	cfg.mode = flags & 8 ? LSE_MODE_RAW : LSE_MODE_FRAMED;
	cfg.max_payload = lse_drive_limit(flags);
	cfg.chunk = chunks[(flags >> 4) & 7];
	w.scratch_len = flags & 0x80 ? 17 : sizeof w.scratch;
	{
		const lse_mem mem = lse_failmem_mem(&w.fm);
		LSE_ORACLE(lse_conntab_init(&w.tab, &cfg, &mem) == LSE_OK, "conntab_init failed");
	}
	while (lse_fdp_left(&f) > 0) {
		uint8_t op = lse_fdp_u8(&f);

		if ((op & 7) == 7)
			break;
		if ((op & 7) == 0)
			op_open(&w, op);
		else if ((op & 7) == 6)
			loop_settle(&w);
		else
			op_peer(&w, &f, op);
		loop_once(&w);
	}
	/* The end: every client reads everything until nothing moves. */
	for (;;) {
		int drained = 0;

		for (int fd = 0; fd < w.npeers; fd++) {
			/* A peer with nothing to read is unchanged by reading:
			 * what it fires is what it fired before. */
			if (w.peers[fd].unread == 0)
				continue;
			drained = 1;
			client_drain(&w.peers[fd], SIZE_MAX);
			touch(&w, fd);
		}
		if (loop_settle(&w) == 0 && !drained)
			break;
	}
	for (int fd = 0; fd < w.npeers; fd++) {
		open += !w.peers[fd].server_closed;
		LSE_ORACLE(w.peers[fd].unread == 0 || w.peers[fd].aborted, "output left unread");
	}
	LSE_ORACLE(w.tab.count == (size_t)open, "the table holds closed connections");
	for (int fd = 0; fd < w.npeers; fd++)
		check_peer(&w, fd, cfg.max_payload, cfg.mode == LSE_MODE_RAW);
	lse_conntab_free(&w.tab);
	/* Recycled blocks never reach LeakSanitizer: the count is the check. */
	LSE_ORACLE(w.fm.live == 0, "memory still held after the table was freed");
	return 0;
}
