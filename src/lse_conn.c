/* lse_conn: connection table and per-connection I/O (contract in lse_conn.h). */
#include "lse_conn.h"

#include <assert.h>
#include <string.h>

int lse_conntab_init(lse_conntab *t, const lse_sess_config *cfg, const lse_mem *mem)
{
	if (t == NULL || lse_sess_footprint(cfg) == 0)
		return LSE_E_INVAL;
	if (mem != NULL && (mem->alloc == NULL || mem->free == NULL))
		return LSE_E_INVAL;
	memset(t, 0, sizeof *t);
	t->cfg = *cfg;
	t->mem = mem ? *mem : *lse_mem_default();
	return LSE_OK;
}

void lse_conntab_free(lse_conntab *t)
{
	if (t == NULL)
		return;
	for (size_t fd = 0; fd < t->cap && t->count > 0; fd++)
		lse_conntab_del(t, (int)fd);
	if (t->by_fd)
		t->mem.free(t->mem.ud, t->by_fd, t->cap * sizeof *t->by_fd);
	t->by_fd = NULL;
	t->cap = 0;
}

/* Makes by_fd[fd] addressable. */
static int tab_reserve(lse_conntab *t, size_t fd)
{
	size_t cap = t->cap ? t->cap : 64;
	lse_conn **grown;

	if (fd < t->cap)
		return LSE_OK;
	while (cap <= fd)
		cap *= 2;
	grown = t->mem.alloc(t->mem.ud, cap * sizeof *grown);
	if (grown == NULL)
		return LSE_E_NOMEM;
	if (t->cap)
		memcpy(grown, t->by_fd, t->cap * sizeof *grown);
	memset(grown + t->cap, 0, (cap - t->cap) * sizeof *grown);
	if (t->by_fd)
		t->mem.free(t->mem.ud, t->by_fd, t->cap * sizeof *t->by_fd);
	t->by_fd = grown;
	t->cap = cap;
	return LSE_OK;
}

int lse_conntab_add(lse_conntab *t, int fd, lse_conn **out)
{
	lse_conn *c;
	int rc;

	*out = NULL;
	if (fd < 0 || lse_conntab_get(t, fd) != NULL)
		return LSE_E_INVAL;
	if (tab_reserve(t, (size_t)fd) != LSE_OK)
		return LSE_E_NOMEM;
	c = t->mem.alloc(t->mem.ud, sizeof *c);
	if (c == NULL)
		return LSE_E_NOMEM;
	rc = lse_sess_new(&c->sess, &t->cfg, &t->mem);
	if (rc != LSE_OK) {
		t->mem.free(t->mem.ud, c, sizeof *c);
		return rc;
	}
	c->fd = fd;
	c->interest = 0;
	c->fault = NULL;
	t->by_fd[fd] = c;
	t->count++;
	*out = c;
	return LSE_OK;
}

lse_conn *lse_conntab_get(const lse_conntab *t, int fd)
{
	if (fd < 0 || (size_t)fd >= t->cap)
		return NULL;
	return t->by_fd[fd];
}

void lse_conntab_del(lse_conntab *t, int fd)
{
	lse_conn *c = lse_conntab_get(t, fd);

	if (c == NULL)
		return;
	lse_sess_free(c->sess);
	t->mem.free(t->mem.ud, c, sizeof *c);
	t->by_fd[fd] = NULL;
	t->count--;
}

/* One write attempt. Returns 1 if all offered bytes moved, 2 if some did
 * (a short write: the socket is full for now), 0 if it would block, -1 if
 * the socket broke. */
static int conn_flush(lse_conn *c, const lse_io *io)
{
	size_t len;
	const uint8_t *p = lse_sess_send_buf(c->sess, &len);
	ptrdiff_t n;

	do
		n = io->write(io->ctx, c->fd, p, len);
	while (n == LSE_IO_INTR);
	if (n > 0 && (size_t)n <= len) {
		int ok = lse_sess_send_ack(c->sess, (size_t)n);

		assert(ok == LSE_OK);   /* n <= len: the ack cannot be refused */
		(void)ok;
		return (size_t)n == len ? 1 : 2;
	}
	return n == LSE_IO_AGAIN ? 0 : -1;
}

/* Hands the session n bytes read within its room. It takes every one unless
 * it stops reading (BYE, ERROR), and then the rest is to be dropped. Fewer
 * taken while it still reads is a broken promise of lse_sess_recv_room():
 * the bytes left over would be lost and the stream would go out of step.
 * Test and fuzz builds abort on it, so every harness turns it into a crash;
 * a release build closes the connection and says why (c->fault). */
static int conn_give(lse_conn *c, const uint8_t *p, size_t n)
{
	ptrdiff_t got = lse_sess_recv(c->sess, p, n);

	if (got == LSE_E_NOMEM)
		return LSE_E_NOMEM;
	if (got >= 0 && (size_t)got < n && lse_sess_reading(c->sess)) {
		assert(0 && "lse_conn: the session took fewer bytes than lse_sess_recv_room() promised");
		c->fault = "the session refused bytes within its promised room";
		return LSE_E_INVAL;
	}
	return LSE_OK;
}

/* One read attempt. Returns 1 if it filled all it asked for (or saw EOF),
 * 2 if it got less (a short read: the socket is drained for now), 0 if it
 * would block, -1 if the socket broke or the session ran out of memory. */
static int conn_fill(lse_conn *c, const lse_io *io, uint8_t *scratch, size_t len)
{
	size_t room = lse_sess_recv_room(c->sess);
	size_t direct;
	/* Raw echo reads straight into the session's ring: no copy. */
	uint8_t *dst = lse_sess_recv_buf(c->sess, &direct);
	ptrdiff_t n;

	if (dst == NULL && lse_sess_error(c->sess) == LSE_E_NOMEM)
		return -1;
	len = dst ? direct : room < len ? room : len;
	do
		n = io->read(io->ctx, c->fd, dst ? dst : scratch, len);
	while (n == LSE_IO_INTR);
	if (n == 0) {
		lse_sess_eof(c->sess);
		return 1;
	}
	if (n < 0 || (size_t)n > len)
		return n == LSE_IO_AGAIN ? 0 : -1;
	if (dst ? lse_sess_recv_ack(c->sess, (size_t)n) != LSE_OK
		: conn_give(c, scratch, (size_t)n) != LSE_OK)
		return -1;
	return (size_t)n == len ? 1 : 2;
}

unsigned lse_conn_run(lse_conn *c, const lse_io *io, unsigned ready,
		      uint8_t *scratch, size_t scratch_len)
{
	int readable = (ready & LSE_WANT_READ) != 0;
	int writable = (ready & LSE_WANT_WRITE) != 0;   /* until a write says otherwise */
	unsigned want = lse_sess_want(c->sess);

	for (int budget = LSE_CONN_BUDGET; budget > 0 && want != LSE_CLOSED; budget--) {
		int r;

		/* Flush before reading more: a slow reader stalls only itself.
		 * A short count means the socket is full (drained): trying
		 * again would only cost a syscall that says EAGAIN; the
		 * level-triggered poll tells when it changes. */
		if ((want & LSE_WANT_WRITE) && writable) {
			r = conn_flush(c, io);
			writable = r == 1;
		} else if ((want & LSE_WANT_READ) && readable) {
			r = conn_fill(c, io, scratch, scratch_len);
			readable = r == 1;
		} else {
			break;   /* nothing it wants can be done now */
		}
		if (r < 0)
			return LSE_CLOSED;
		want = lse_sess_want(c->sess);
	}
	/* Output left over means a write blocked or the budget ran out:
	 * either way, ask to hear when the socket can take more. */
	return want;
}
