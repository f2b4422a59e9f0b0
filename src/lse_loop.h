/* lse_loop: one event-loop thread's worth of lsecho, in the shape of
 * Redis's ae: an epoll set, the connections it owns (lse_conntab), and a
 * run-once call that collects what fired and then dispatches it. The server
 * runs one per thread; a harness can run one in its own thread, adding
 * connections it made itself (socketpair) and stepping it with a zero
 * timeout until nothing fires. */
#ifndef LSE_LOOP_H
#define LSE_LOOP_H

#include <stddef.h>
#include <stdint.h>

#include "lse_conn.h"

typedef struct lse_loop_opts {
	lse_sess_config cfg;
	const lse_io *io;   /* NULL: read(2) and send(2) */
	/* NULL: accept4(2), non-blocking and close-on-exec. The I/O seam a
	 * harness uses to inject faults; returns an fd, or -1 with errno. */
	int (*accept)(void *ctx, int listen_fd);
	void *accept_ctx;
	int listen_fd;      /* accept from it (shared, EPOLLEXCLUSIVE), or -1 */
	int stop_fd;        /* readable means: shut down, or -1 */
	int any_uid;        /* serve peers of any uid */
	/* NULL: malloc. The allocator of the connection table and its sessions;
	 * a harness passes one that fails on request (a refused allocation
	 * closes that one connection). */
	const lse_mem *mem;
} lse_loop_opts;

typedef struct lse_loop {
	lse_loop_opts o;
	int epfd;
	lse_conntab tab;
	int lent;           /* epfd is the caller's (lse_loop_init_on) */
	int accepting;      /* listen_fd is in the epoll set */
	int emfile_logged;
	long deadline_ms;   /* shutting down: monotonic deadline, else -1 */
	uint8_t scratch[65536];
} lse_loop;

/* Returns 0, or -1 with errno set (epoll_create1, a bad cfg: EINVAL). */
int lse_loop_init(lse_loop *l, const lse_loop_opts *o);

/* As lse_loop_init, on the caller's epoll set epfd instead of a fresh one,
 * which lse_loop_fini leaves open: a harness making a loop per input saves
 * making, filling and closing a set each time. Loops take turns on a set,
 * never two at once, with the same listen and stop fds. The first registers
 * them (registered = 0); fini leaves them in the set (it puts back one it
 * took out: a listener paused after EMFILE, both after a shutdown), so the
 * next loop is told they are there (registered = 1) and costs no syscall.
 * Returns as lse_loop_init. */
int lse_loop_init_on(lse_loop *l, const lse_loop_opts *o, int epfd, int registered);

/* Closes every connection it holds and frees; the listen and stop fds stay
 * the caller's, and so does a lent epoll set. Called once after every init,
 * a failed one too (which may have made the epoll set): the loop's last
 * call, after which l may only be initialised again. */
void lse_loop_fini(lse_loop *l);


/* Takes a connected, non-blocking socket: from now on the loop owns fd.
 * Returns 0, or -1 (fd closed) if it could not be registered. */
int lse_loop_add(lse_loop *l, int fd);

/* Waits up to timeout_ms (-1: forever; 0: just look) and dispatches what
 * fired. Returns the number of events handled, 0 if none, -1 on an epoll
 * error. After the stop fd fires it stops accepting and reading, and
 * sends what is owed until lse_loop_done(). */
int lse_loop_run_once(lse_loop *l, int timeout_ms);

/* Shutting down and finished: nothing owed, or the deadline passed. */
int lse_loop_done(const lse_loop *l);

/* Connections held now. */
size_t lse_loop_count(const lse_loop *l);

/* read(2) and send(2) as an lse_io: what a NULL io means. */
const lse_io *lse_loop_sys_io(void);

/* The server's log line: "lsecho-server: ..." on stderr. */
void lse_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
