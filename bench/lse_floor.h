/* lse_floor: the benchmark's floor. A minimal hand-written epoll raw echo
 * server, run in-process on background threads so that lsecho-bench can
 * measure it beside lsecho's own server in the same invocation.
 *
 * It is deliberately the least a correct echo server can do: per connection
 * one LSE_FLOOR_CHUNK buffer; when it is empty, one read into it; then write
 * it back, waiting for EPOLLOUT on a short write. No protocol, no peer
 * checks, no limits, no logging. It shares no code with lsecho, so the
 * ratio lsecho/floor is the cost of lsecho's design, not of the kernel.
 *
 * Each thread has its own epoll set and owns the connections it accepts;
 * the listening socket is shared through EPOLLEXCLUSIVE. */
#ifndef LSE_FLOOR_H
#define LSE_FLOOR_H

#include <stddef.h>

/* Per-connection echo buffer: the same as lsecho's default raw chunk. */
#define LSE_FLOOR_CHUNK 65536u

typedef struct lse_floor lse_floor;

/* Binds `path` (a filesystem path that must not exist yet; its directory
 * should be private, the socket is not chmod-ed), listens, and starts
 * `threads` (1..1024) event-loop threads. Returns 0 and sets *out, or -1
 * with a one-line reason in err and *out NULL. */
int lse_floor_start(lse_floor **out, const char *path, int threads,
		    char *err, size_t errlen);

/* The path the floor listens on (valid until lse_floor_stop()). */
const char *lse_floor_path(const lse_floor *f);

/* Stops the threads, closes every connection and the listening socket,
 * unlinks the socket file and frees everything. NULL is a no-op. */
void lse_floor_stop(lse_floor *f);

#endif
