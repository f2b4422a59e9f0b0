/* lse_server: the socket shell around the core. A listening AF_UNIX stream
 * socket, N event-loop threads (epoll, level-triggered), each owning the
 * connections it accepts (lse_conntab + lse_conn_run); no mutable state is
 * shared between threads but the listening socket the kernel shares.
 *
 * lsecho-server's main() and lsecho-bench's in-process server both use
 * this API. */
#ifndef LSE_SERVER_H
#define LSE_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "lse_sess.h"

typedef struct lse_server_opts {
	const char *socket_path;  /* a path, or "@name" (abstract); NULL: the default */
	int listen_fd;            /* > 0: a listening socket passed in (socket
				   * activation), served instead of binding one;
				   * then socket_path must be NULL. 0: none */
	lse_mode mode;            /* LSE_MODE_FRAMED or LSE_MODE_RAW */
	uint32_t max_payload;     /* framed server limit, 1..LSE_LIMIT_MAX; 0 = default */
	uint32_t chunk;           /* raw buffer, 1..LSE_CHUNK_MAX; 0 = default */
	int threads;              /* event-loop threads, >= 1; 0 = number of cores */
	int any_uid;              /* serve peers of any uid (default: own uid only) */
	int quiet;                /* no start-up log line */
} lse_server_opts;

typedef struct lse_server lse_server;

/* Validates opts, makes the socket directory safe, binds and listens.
 * Returns 0, or -1 with a one-line reason in err (never a crash). */
int lse_server_open(lse_server **out, const lse_server_opts *opts,
		    char *err, size_t errlen);

/* The socket's path as bound ("@name" for abstract sockets). */
const char *lse_server_path(const lse_server *s);

/* The socket file's directory (O_PATH descriptor), through which the file
 * is unlinked at close; -1 for an abstract or a passed socket. */
int lse_server_sock_dirfd(const lse_server *s);

/* Runs the event-loop threads until lse_server_stop(); then stops accepting,
 * flushes pending output within a short deadline, closes every connection.
 * Returns 0, or -1 if a thread could not start. */
int lse_server_run(lse_server *s);

/* Asks a running server to stop. Async-signal-safe; idempotent. */
void lse_server_stop(lse_server *s);

/* Unlinks the socket file (if a filesystem path) and frees everything. */
void lse_server_close(lse_server *s);

#endif
