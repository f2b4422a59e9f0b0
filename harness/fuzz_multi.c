/* fuzz_multi: up to 64 connections served by the shell's own connection
 * code (lse_conntab + lse_conn_run) over in-memory sockets, driven by an
 * event loop that works like the shell's: collect what fired, then dispatch,
 * re-checking each connection is still registered.
 * Input (harness/README.md): client bytes from the front; from the back a
 * flags byte and a fail_at byte (the k-th allocation is refused), then
 * operations: open, send to k, drain k, half-close k, abort k, run to
 * quiescence, end; an open may make the first read and the first write of
 * each service of its connection meet EINTR.
 * Checked: each connection's output equals the model's for that
 * connection's stream alone (a prefix, if the client aborted), it is closed
 * exactly when the model says so, the loop always settles, and the table
 * ends holding exactly the open connections; each lse_conn_run call keeps
 * lse_conn.h's contract as its socket sees it (readiness, flush first,
 * framed reads within scratch, EINTR retried, no call again after a short
 * one, the budget, stopping only when nothing can move). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drive.h"
#include "failmem.h"
#include "fdp.h"
#include "lse_conn.h"
#include "model.h"
#include "trace.h"

#define PEERS 64   /* one bit each in world.dirty */

typedef struct peer {
	int shut, aborted, server_closed;
	int intr;            /* each service's first read and write meet EINTR */
	unsigned interest;   /* what "epoll" has registered; 0 once closed */
	lse_hbuf in;          /* everything the client sent */
	size_t rd;       /* the server has read in.p[0, rd) */
	lse_hbuf out;         /* everything the server wrote */
	size_t unread;   /* of out, still in the "kernel buffer" */
	size_t cap;      /* kernel buffer capacity */
} peer;

/* One lse_conn_run call as its socket sees it, held to lse_conn.h's
 * contract for that call. Directions are LSE_WANT_READ and LSE_WANT_WRITE. */
typedef struct audit {
	int fd;               /* the connection being serviced */
	const lse_conn *conn;
	unsigned ready;       /* what the loop said it may do */
	unsigned open;        /* of ready, the directions whose last call was
			       * not short and did not block */
	unsigned intr;        /* directions whose first call meets EINTR */
	unsigned retry;       /* the direction EINTR interrupted: call again */
	int broken;           /* a call said the socket broke */
	int calls;            /* reads and writes that returned, EINTR aside */
} audit;

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
	audit a;
} world;

/* A call audit_call refuses: which rule it broke. */
static void audit_refuse(const audit *a, int fd, unsigned dir, size_t len)
{
	LSE_ORACLE(fd == a->fd, "io on a connection other than the one serviced");
	LSE_ORACLE(a->retry == 0 || a->retry == dir, "a call interrupted by EINTR was not made again at once");
	LSE_ORACLE(!a->broken, "io on a socket that said it broke");
	LSE_ORACLE(a->ready & dir, "io the loop did not allow");
	LSE_ORACLE(a->open & dir, "io again in a direction whose last call came up short or would block");
	LSE_ORACLE(len > 0, "io of 0 bytes");
}

/* Checks a read or write (dir) that lse_conn_run makes; returns 1 if EINTR
 * is to be its answer. */
static inline int audit_call(world *w, int fd, unsigned dir, size_t len)
{
	audit *a = &w->a;

	if (fd != a->fd || !(a->open & dir) || (a->retry & ~dir) || len == 0)
		audit_refuse(a, fd, dir, len);
	a->retry = 0;
	if (a->intr & dir) {
		a->intr &= ~dir;
		a->retry = dir;
		return 1;
	}
	LSE_ORACLE(++a->calls <= LSE_CONN_BUDGET, "more calls than LSE_CONN_BUDGET");
	return 0;
}

static inline void audit_result(audit *a, unsigned dir, ptrdiff_t n, size_t len)
{
	if (n == LSE_IO_BROKEN) {
		a->broken = 1;
		a->open = 0;
	} else if (n == LSE_IO_AGAIN || (n > 0 && (size_t)n < len)) {
		a->open &= ~dir;
	}
}

static ptrdiff_t mem_read(void *ctx, int fd, uint8_t *dst, size_t len)
{
	world *w = ctx;
	peer *p = &w->peers[fd];
	const lse_conn *c = w->a.conn;
	size_t n = p->in.len - p->rd;
	ptrdiff_t got;

	if (audit_call(w, fd, LSE_WANT_READ, len))
		return LSE_IO_INTR;
	LSE_ORACLE(!(w->a.open & LSE_WANT_WRITE) || !(lse_sess_want(c->sess) & LSE_WANT_WRITE),
		   "a read before the pending output was written");
	/* Raw reads go into the session's ring, framed ones into scratch. */
	LSE_ORACLE(w->tab.cfg.mode == LSE_MODE_RAW || (dst == w->scratch && len <= w->scratch_len),
		   "a framed read not into scratch, or past its end");
	if (p->aborted)
		got = LSE_IO_BROKEN;
	else if (n == 0)
		got = p->shut ? 0 : LSE_IO_AGAIN;
	else {
		n = n < len ? n : len;
		memcpy(dst, p->in.p + p->rd, n);
		p->rd += n;
		got = (ptrdiff_t)n;
	}
	audit_result(&w->a, LSE_WANT_READ, got, len);
	return got;
}

static ptrdiff_t mem_write(void *ctx, int fd, const uint8_t *src, size_t len)
{
	world *w = ctx;
	peer *p = &w->peers[fd];
	size_t n = p->cap - p->unread;
	ptrdiff_t put;

	if (audit_call(w, fd, LSE_WANT_WRITE, len))
		return LSE_IO_INTR;
	if (p->aborted)
		put = LSE_IO_BROKEN;
	else if (n == 0)
		put = LSE_IO_AGAIN;
	else {
		n = n < len ? n : len;
		lse_hbuf_put(&p->out, src, n);
		p->unread += n;
		put = (ptrdiff_t)n;
	}
	audit_result(&w->a, LSE_WANT_WRITE, put, len);
	return put;
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

/* After lse_conn_run: closed exactly when the socket broke or the session
 * is done, else the session's own interest; and, within the budget, it
 * stopped only when nothing it wants can be done. */
static void check_run(const world *w, const lse_conn *c, unsigned interest)
{
	const audit *a = &w->a;

	LSE_ORACLE(a->retry == 0, "a call interrupted by EINTR was not made again");
	if (interest == LSE_CLOSED) {
		LSE_ORACLE(a->broken || lse_sess_want(c->sess) == LSE_CLOSED,
			   "closed a connection with a sound socket and session");
		return;
	}
	LSE_ORACLE(!a->broken, "the socket broke and the connection stays open");
	/* The interest's READ and WRITE are the directions' bits. An interest
	 * that is not the session's want shows in the loop's behaviour, which
	 * the models check. */
	LSE_ORACLE(a->calls == LSE_CONN_BUDGET || !(interest & a->open),
		   "lse_conn_run stopped, within its budget, while bytes could still move");
}

static void dispatch(world *w, int fd)
{
	lse_conn *c = lse_conntab_get(&w->tab, fd);
	unsigned interest;

	if (c == NULL)   /* closed by an earlier dispatch in this pass */
		return;
	w->a = (audit){ .fd = fd, .conn = c, .ready = ready(&w->peers[fd]) };
	w->a.open = w->a.ready;
	w->a.intr = w->peers[fd].intr ? LSE_WANT_READ | LSE_WANT_WRITE : 0;
	interest = lse_conn_run(c, &w->io, w->a.ready, w->scratch, w->scratch_len);
	check_run(w, c, interest);
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
	p->intr = (op >> 6) & 1;
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

static void trace_op(const world *w, uint8_t op, int fd, size_t from, size_t to)
{
	static const char *const names[8] = { "OPEN", "SEND", "SEND_BIG", "DRAIN", "SHUT", "ABORT",
					      "LOOP", "END" };
	unsigned i = op & 7;

	if (fd >= 0)
		lse_trace("conn %d ", fd);
	if (i == 3 && (op & 0x80))
		lse_trace("EDGE %s", ((op >> 3) & 15) % 3 == 0 ? "room-1" : ((op >> 3) & 15) % 3 == 1 ? "room" : "room+1");
	else if (i == 4 && (op & 0x80))
		lse_trace("SPLIT at boundary %u ahead", (op >> 3) & 15);
	else if (i == 3 && lse_drive_drain(op >> 3) == SIZE_MAX)
		lse_trace("DRAIN all");
	else if (i == 3)
		lse_trace("DRAIN %zu", lse_drive_drain(op >> 3));
	else if (i == 0 && fd >= 0)
		lse_trace("OPEN, kernel buffer %zu%s", w->peers[fd].cap,
			  w->peers[fd].intr ? ", EINTR at each service's first read and write" : "");
	else
		lse_trace("%s", names[i]);
	if (to > from)
		lse_trace(", stream [%zu, %zu) (%zu bytes)", from, to, to - from);
	lse_trace(": ");
}

/* After an operation and its loop pass: the connection's session. */
static void trace_after(const world *w, int fired, int fd)
{
	const lse_conn *c = fd >= 0 ? lse_conntab_get(&w->tab, fd) : NULL;

	lse_trace("%d fired", fired);
	if (fd < 0 || fd >= w->npeers) {
		lse_trace("\n");
		return;
	}
	lse_trace("; conn %d: sent %zu, server read %zu, got %zu, unread %zu, ", fd,
		  w->peers[fd].in.len, w->peers[fd].rd, w->peers[fd].out.len, w->peers[fd].unread);
	if (c == NULL)
		lse_trace("%s\n", w->peers[fd].server_closed ? "closed" : "not open");
	else
		lse_trace_state(c->sess, w->peers[fd].in.p, w->tab.cfg.mode == LSE_MODE_RAW);
}

/* Returns the connection the operation concerned, or -1 if none. */
static int op_peer(world *w, lse_fdp *f, uint8_t op)
{
	uint8_t k = lse_fdp_u8(f);
	peer *p;
	size_t at = f->head, n;

	if (w->npeers == 0) {
		LSE_TRACE(trace_op(w, op, -1, at, at));
		LSE_TRACE(lse_trace("no connection yet, "));
		return -1;
	}
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
	LSE_TRACE(trace_op(w, op, k % w->npeers, at, f->head));
	return k % w->npeers;
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

static void trace_start(const world *w, uint8_t flags, const lse_sess_config *cfg)
{
	static const char *const names[8] = { NULL, NULL, NULL, "raw", NULL, NULL, NULL,
					       "17-byte reads" };

	lse_trace_settings(flags, names, cfg);
	lse_trace(", reads of %zu bytes; the table's allocation %u fails (0: none)\nschedule:\n",
		  w->scratch_len, (unsigned)w->fm.fail_at);
}

static void trace_end(const world *w, int fd, uint32_t limit, int raw);

/* Each connection's stream and answer, before the checks that compare them. */
static void trace_ends(const world *w, const lse_sess_config *cfg)
{
	for (int fd = 0; fd < w->npeers; fd++)
		trace_end(w, fd, cfg->max_payload, cfg->mode == LSE_MODE_RAW);
}

static void trace_end(const world *w, int fd, uint32_t limit, int raw)
{
	const peer *p = &w->peers[fd];
	static lse_model_out m;
	char who[32];

	snprintf(who, sizeof who, "conn %d", fd);
	lse_trace("%s:%s%s%s\n", who, p->shut ? " half-closed" : "", p->aborted ? " aborted" : "",
		  p->server_closed ? " closed by the server" : " open");
	{
		char title[64];

		snprintf(title, sizeof title, "%s, the client's stream", who);
		lse_trace_stream(title, p->in.p, p->in.len, limit, raw);
	}
	if ((raw ? lse_model_raw_again(p->in.p, p->in.len, p->shut, &m)
		 : lse_model_framed_again(p->in.p, p->in.len, p->shut, limit, &m)) == 0)
		lse_trace_compare(who, p->out.p, p->out.len, m.buf, m.len, raw,
				  p->aborted || w->fm.refused);
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
	 * holds them): fresh ones cost more than the rest of a short run.
	 * Only the last run's peers need resetting; the rest are as reset. */
	for (int fd = 0; fd < w.npeers; fd++) {
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
	LSE_TRACE(trace_start(&w, flags, &cfg));
	for (unsigned step = 0; lse_fdp_left(&f) > 0; step++) {
		uint8_t op = lse_fdp_u8(&f);
		int fd = -1, fired;

		LSE_TRACE(lse_trace("step %u (op 0x%02x @%zu): ", step, op, f.tail));
		if ((op & 7) == 7) {
			LSE_TRACE(lse_trace("END\n"));
			break;
		}
		if ((op & 7) == 0) {
			op_open(&w, op);
			fd = w.npeers - 1;
			LSE_TRACE(trace_op(&w, op, fd, 0, 0));
		} else if ((op & 7) == 6) {
			int passes;

			LSE_TRACE(lse_trace("LOOP until quiet: "));
			passes = loop_settle(&w);
			LSE_TRACE(lse_trace("%d passes, ", passes));
		} else {
			fd = op_peer(&w, &f, op);
		}
		fired = loop_once(&w);
		LSE_TRACE(trace_after(&w, fired, fd));
	}
	LSE_TRACE(lse_trace("the end: every client reads everything until nothing moves\n"));
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
	LSE_TRACE(trace_ends(&w, &cfg));
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
