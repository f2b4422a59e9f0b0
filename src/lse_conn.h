/* lse_conn: the connections of one event-loop thread, and the routine that
 * moves bytes between a connection's socket and its session.
 *
 * Still pure: every socket call goes through an lse_io table, so the shell
 * passes read(2)/write(2) wrappers, the fuzz harnesses pass memory pipes or
 * fault injectors, and all of them run this same code. */
#ifndef LSE_CONN_H
#define LSE_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "lse_sess.h"

/* lse_io results besides a byte count. */
#define LSE_IO_AGAIN (-1)  /* would block: wait for readiness */
#define LSE_IO_INTR (-2)   /* interrupted: call again now */
#define LSE_IO_BROKEN (-3) /* reset, broken pipe, any hard error: close */

typedef struct lse_io {
	/* Bytes moved (> 0), 0 for end of input (read only), or LSE_IO_*. */
	ptrdiff_t (*read)(void *ctx, int fd, uint8_t *buf, size_t len);
	ptrdiff_t (*write)(void *ctx, int fd, const uint8_t *buf, size_t len);
	void *ctx;
} lse_io;

typedef struct lse_conn {
	int fd;
	lse_sess *sess;
	unsigned interest;   /* LSE_WANT_* the shell has registered for fd */
	/* Why lse_conn_run() closed it, when that is a bug of ours rather than
	 * the peer's doing (for the shell's log line); NULL otherwise. */
	const char *fault;
} lse_conn;

typedef struct lse_conntab {
	lse_conn **by_fd;    /* by_fd[fd] for 0 <= fd < cap, NULL if free */
	size_t cap;
	size_t count;        /* non-NULL entries */
	lse_sess_config cfg;
	lse_mem mem;
} lse_conntab;

/* Reads and writes per lse_conn_run() call at most, so one busy peer
 * cannot starve the others on its thread. */
#define LSE_CONN_BUDGET 16

/* Prepares an empty table whose sessions use cfg and mem (NULL: malloc).
 * Returns LSE_OK or LSE_E_INVAL (bad cfg, or a mem without both hooks). */
int lse_conntab_init(lse_conntab *t, const lse_sess_config *cfg, const lse_mem *mem);

/* Frees every connection and the table; closes no descriptor. The table is
 * left empty, as lse_conntab_init left it: it may be freed again or
 * filled again. */
void lse_conntab_free(lse_conntab *t);

/* Adds a connection for fd with a fresh session; *out points at it until
 * lse_conntab_del(). Returns LSE_OK, LSE_E_INVAL (fd < 0 or already
 * present) or LSE_E_NOMEM (then the table is unchanged). */
int lse_conntab_add(lse_conntab *t, int fd, lse_conn **out);

/* The connection for fd, or NULL. */
lse_conn *lse_conntab_get(const lse_conntab *t, int fd);

/* Frees fd's connection and session; a no-op if there is none. */
void lse_conntab_del(lse_conntab *t, int fd);

/* Services one connection: writes pending output first (only if `ready`
 * has LSE_WANT_WRITE), then reads (only if it has LSE_WANT_READ) the
 * session's room, into the session's ring in raw mode or into scratch (as
 * much of the room as scratch_len allows),
 * and repeats while bytes move, up to LSE_CONN_BUDGET calls. EINTR is
 * retried; a short write resumes from where it stopped, at the next call;
 * a short read or write ends the attempts on that direction, since the
 * socket is drained or full (level-triggered readiness reports any
 * change).
 * Returns the interest to register next (LSE_WANT_READ and/or
 * LSE_WANT_WRITE, the latter when output is left over), or LSE_CLOSED
 * when the session is done or the socket broke: then close fd and del.
 * A session that breaks lse_sess_recv_room()'s promise aborts the program
 * in builds with assertions; without them the connection is closed with
 * c->fault set, and no byte is silently dropped. */
unsigned lse_conn_run(lse_conn *c, const lse_io *io, unsigned ready,
		      uint8_t *scratch, size_t scratch_len);

#endif
