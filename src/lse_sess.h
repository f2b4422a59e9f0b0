/* lse_sess: one echo session, framed (protocol v1) or raw, sans I/O.
 *
 * The caller owns the socket. It passes received bytes to lse_sess_recv(),
 * sends what lse_sess_send_buf() points at and reports what the socket took
 * with lse_sess_send_ack(), and maps lse_sess_want() onto poll events.
 * No syscalls, no clock, no globals, no threads: several sessions may be
 * used from different threads as long as each is used by one at a time.
 *
 * Memory: a session's unsent output never exceeds lse_sess_bound(), which
 * is documented in docs/protocol.md ("Memory bound and backpressure"). When
 * the output is full, lse_sess_recv() consumes less than it is given and
 * lse_sess_want() drops LSE_WANT_READ until the peer drains.
 */
#ifndef LSE_SESS_H
#define LSE_SESS_H

#include <stddef.h>
#include <stdint.h>

#include "lse_frame.h"

typedef struct lse_sess lse_sess;

typedef enum lse_mode {
	LSE_MODE_FRAMED = 0,
	LSE_MODE_RAW = 1
} lse_mode;

#define LSE_CHUNK_DEFAULT 65536u
#define LSE_CHUNK_MAX (16u * 1024u * 1024u)

/* Framed output bound for negotiated maximum n (0 before HELLO): room for
 * the largest answer, max(8 + n, 138), plus an ERROR frame's 138 bytes held
 * in reserve, so a verdict never waits for space and a frame in progress
 * never waits for itself. */
#define LSE_SESS_FRAMED_BOUND(n) \
	(((size_t)(n) + LSE_HDR_LEN > LSE_ERR_FRAME_MAX ? \
	  (size_t)(n) + LSE_HDR_LEN : (size_t)LSE_ERR_FRAME_MAX) + LSE_ERR_FRAME_MAX)

typedef struct lse_sess_config {
	lse_mode mode;
	uint32_t max_payload; /* framed: server limit, 1..LSE_LIMIT_MAX; 0 = default */
	uint32_t chunk;       /* raw: buffer capacity, 1..LSE_CHUNK_MAX; 0 = default */
} lse_sess_config;

/* Allocator hook. alloc returns NULL on failure; free gets the size that
 * was allocated. A NULL lse_mem means malloc/free. */
typedef struct lse_mem {
	void *(*alloc)(void *ud, size_t size);
	void (*free)(void *ud, void *ptr, size_t size);
	void *ud;
} lse_mem;

/* malloc/free as an lse_mem: what a NULL lse_mem means. */
const lse_mem *lse_mem_default(void);

/* lse_sess_want() flags. */
#define LSE_WANT_READ 1u   /* lse_sess_recv() would consume input now */
#define LSE_WANT_WRITE 2u  /* lse_sess_send_buf() has bytes */
#define LSE_CLOSED 4u      /* finished: close the socket and free */

/* Creates a session whose memory comes from `mem` (NULL: malloc). It
 * allocates itself; its output buffer starts inside it (276 bytes) and grows
 * by doubling, only as far as the output actually held needs, never past the
 * bound. A refused growth is reported by lse_sess_recv() as LSE_E_NOMEM.
 * Returns LSE_OK and sets *out, or LSE_E_INVAL (bad config or NULL out),
 * or LSE_E_NOMEM. *out is NULL on failure. */
int lse_sess_new(lse_sess **out, const lse_sess_config *cfg, const lse_mem *mem);

/* Bytes of caller storage that lse_sess_init() needs for `cfg`, enough for
 * the largest negotiation: a fixed part, the same for every config, plus
 * the largest bound cfg allows (raw: the chunk; framed:
 * LSE_SESS_FRAMED_BOUND(max_payload)); 0 if cfg is invalid. */
size_t lse_sess_footprint(const lse_sess_config *cfg);

/* Creates a session inside caller-owned `storage` (aligned for max_align_t,
 * at least lse_sess_footprint(cfg) bytes). It never allocates.
 * Returns LSE_OK and sets *out, or LSE_E_INVAL. */
int lse_sess_init(lse_sess **out, void *storage, size_t size,
		  const lse_sess_config *cfg);

/* Releases what the session allocated; storage given to lse_sess_init()
 * stays the caller's. NULL is a no-op. */
void lse_sess_free(lse_sess *s);

/* Feeds `len` received bytes. Returns how many were consumed (0..len); fewer
 * than len when the output is full or the session has stopped reading
 * (after BYE, ERROR or lse_sess_eof()), in which case the rest is the
 * caller's to keep or drop. An offer of at most lse_sess_recv_room() bytes
 * is consumed in full unless the session stops reading or fails in it; a
 * larger one is consumed up to exactly the room, except that a HELLO in it
 * that raises the bound lets in more.
 * Errors: a protocol violation found now or earlier returns its
 * LSE_E_BAD_MAGIC .. LSE_E_BAD_LENGTH code (the ERROR frame is queued and
 * the session finishes sending); LSE_E_NOMEM if an allocation failed now or
 * earlier (the session is LSE_CLOSED, nothing more is sent); LSE_E_INVAL
 * for in == NULL with len > 0 (not sticky). */
ptrdiff_t lse_sess_recv(lse_sess *s, const uint8_t *in, size_t len);

/* Bytes that lse_sess_recv() is guaranteed to consume right now, whatever
 * they hold; 0 when it is not reading or the output is full. Exact: one
 * byte more may be refused. Reading at most this much from the socket means
 * no byte ever has to be kept aside.
 * Framed: the bound, less an ERROR frame's 138 bytes kept in reserve, less
 * the unsent output and the output that held input will become (a partial
 * header: its byte count, since it becomes an 8-byte answer header; a
 * HELLO in progress: 8 plus its value bytes, since it becomes a 12-byte
 * WELCOME). Each byte of a valid stream charges exactly one byte against
 * it. Raw: the free space of the ring. */
size_t lse_sess_recv_room(const lse_sess *s);

/* 1 while lse_sess_recv() still takes input (even with the output full),
 * 0 once it stopped: after BYE, ERROR, lse_sess_eof() or a failure. A
 * caller that offered at most recv_room() and saw fewer bytes taken while
 * this is 1 has found a broken contract. */
int lse_sess_reading(const lse_sess *s);

/* Raw mode, zero copy: points at free space in the output ring and sets
 * *len (> 0 while lse_sess_want() has LSE_WANT_READ) so the caller can
 * read(2) straight into it; lse_sess_recv_ack() then echoes the n bytes
 * read. The space is valid until the next call on this session. Returns
 * NULL and *len = 0 in framed mode (use lse_sess_recv()), when not
 * reading, or if growing the buffer failed (then LSE_E_NOMEM is sticky). */
uint8_t *lse_sess_recv_buf(lse_sess *s, size_t *len);

/* Takes n bytes written at lse_sess_recv_buf(). Returns LSE_OK, or
 * LSE_E_INVAL if n exceeds what recv_buf offered or the session is not a
 * reading raw session. */
int lse_sess_recv_ack(lse_sess *s, size_t n);

/* The peer half-closed: drop any partial frame, finish sending what is owed,
 * then close. Idempotent. */
void lse_sess_eof(lse_sess *s);

/* Points at the next bytes to send and sets *len (0 and a non-NULL pointer
 * when nothing is ready). The bytes stay valid until the next call on this
 * session other than lse_sess_want() and the other const queries. Output
 * that follows an emptied buffer starts at its front, so up to the
 * buffer's capacity it comes in one piece: one write, not two. */
const uint8_t *lse_sess_send_buf(lse_sess *s, size_t *len);

/* Acknowledges that the socket took n bytes of lse_sess_send_buf().
 * Returns LSE_OK, or LSE_E_INVAL if n exceeds what send_buf offered. */
int lse_sess_send_ack(lse_sess *s, size_t n);

/* LSE_WANT_READ | LSE_WANT_WRITE, or LSE_CLOSED alone. A session that is not
 * closed always wants one of the two, so it cannot stall. */
unsigned lse_sess_want(const lse_sess *s);

/* The sticky error: LSE_OK, a protocol error, or LSE_E_NOMEM. */
int lse_sess_error(const lse_sess *s);

/* Unsent output held now (answered and in-progress frames), and its bound:
 * lse_sess_buffered(s) <= lse_sess_bound(s) always holds. */
size_t lse_sess_buffered(const lse_sess *s);
size_t lse_sess_bound(const lse_sess *s);

/* Input bytes consumed since creation, including those of the call that
 * found an error (recv then returns the error, not the count). */
uint64_t lse_sess_consumed(const lse_sess *s);

/* Negotiated maximum payload, or 0 before WELCOME (and in raw mode). */
uint32_t lse_sess_negotiated(const lse_sess *s);

#endif
