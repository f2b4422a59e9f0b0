/* fuzz_socket: the real shell over real kernel sockets. Connections reach
 * the shell's own event loop (lse_loop, the code each server thread runs)
 * either through a real listening AF_UNIX socket and accept, or as
 * socketpairs handed to lse_loop_add; clients write, read, half-close and
 * abort on non-blocking sockets, and the loop is stepped by hand with a zero
 * timeout until nothing fires: deterministic, no threads, no sleeps.
 * Input (harness/README.md): client bytes from the front; from the back a
 * flags byte (bit 7: fault injection, then a fault byte), then
 * fuzz_multi's operations (OPEN's bits choose accept or socketpair and the
 * server end's send buffer). Checked: each connection's
 * bytes equal its own model's for what its client managed to write (a
 * prefix, if it aborted); a connection is closed exactly when the model
 * says; at the end the loop holds nothing and no descriptor leaked. The
 * same file runs under libFuzzer, the standalone driver, and AFL++
 * (harness/afl/). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "drive.h"
#include "failmem.h"
#include "faultgen.h"
#include "fdp.h"
#include "lse_loop.h"
#include "lse_sock.h"
#include "model.h"
#include "trace.h"

#define PEERS 32

typedef struct peer {
	int fd;              /* the client's end, -1 once aborted */
	int srv;             /* the loop's end of a socketpair, -1 if accepted */
	lse_hbuf out;             /* taken from the input, to be written */
	size_t wrote;        /* of out, written: the stream the server saw */
	lse_hbuf got;             /* read back */
	int shut_wanted, shut, aborted, eof, dead;
	unsigned long empty_at;   /* passes + 1 when a read last heard EAGAIN, or 0 */
} peer;

/* The clients of the run. The buffers live on from run to run. */
static peer peers[PEERS];
/* The explain mode's count of peers[] in use, for naming a connection. */
static int trace_npeers;

/* Loop passes that handled an event, ever. Only such a pass writes to a
 * client's socket or closes the server's end of it, so a socket found empty
 * stays empty until the count moves. */
static unsigned long passes;

/* Fault injection (flags bit 7): a generator seeded by the input's fault
 * byte (0: off) makes about one socket call in eight, read, write or accept, fail
 * or come up short, as a real kernel may. EINTR, spurious EAGAIN and short
 * counts must change nothing; a reset or broken pipe may cut a connection
 * short (then every output need only be a prefix of its model's). */
typedef struct faults {
	uint32_t s;
	int on, hard;
} faults;

static faults fx;

/* The loop's allocator (recycling blocks, harness/failmem.h): counts what
 * is out, so memory left after every connection closed is caught per run,
 * and under fault injection refuses the allocation the input names: the
 * connection it was for must close cleanly, the others go on, nothing
 * leaks. */
static lse_failmem fm;

static void trace_fault(const char *call, int fd, unsigned k);

/* The fault for this call (harness/faultgen.h). */
static unsigned fx_pick(const char *call, int fd)
{
	unsigned k = fx.on ? lse_faultgen_next(&fx.s) : LSE_FAULT_NONE;

	if (k != LSE_FAULT_NONE)
		LSE_TRACE(trace_fault(call, fd, k));
	return k;
}

static ptrdiff_t fx_read(void *ctx, int fd, uint8_t *buf, size_t len)
{
	switch (fx_pick("read", fd)) {
	case LSE_FAULT_INTR: return LSE_IO_INTR;
	case LSE_FAULT_AGAIN: return LSE_IO_AGAIN;
	case LSE_FAULT_SHORT: len = len > 1 ? len / 2 : len; break;
	case LSE_FAULT_HARD: fx.hard = 1; return LSE_IO_BROKEN;   /* ECONNRESET */
	default: break;
	}
	return lse_loop_sys_io()->read(ctx, fd, buf, len);
}

static ptrdiff_t fx_write(void *ctx, int fd, const uint8_t *buf, size_t len)
{
	switch (fx_pick("write", fd)) {
	case LSE_FAULT_INTR: return LSE_IO_INTR;
	case LSE_FAULT_AGAIN: return LSE_IO_AGAIN;
	case LSE_FAULT_SHORT: len = len > 1 ? len / 2 : len; break;
	case LSE_FAULT_HARD: fx.hard = 1; return LSE_IO_BROKEN;   /* EPIPE */
	default: break;
	}
	return lse_loop_sys_io()->write(ctx, fd, buf, len);
}

/* Descriptors: a run notes every descriptor number it sees made (the
 * sockets it makes, what the loop accepts, the epoll set); at the end none of
 * them may be open. A number open before the run cannot be handed out during
 * it, so an open one is a leak. One poll() asks about all of them at once
 * (POLLNVAL: not open), where listing /proc/self/fd twice cost ten syscalls
 * a run and an fcntl() per descriptor one each. */
#define FD_BITS 4096
static uint64_t fd_seen_bits[FD_BITS / 64];
static int fd_hi;   /* the highest number seen, -1 if none */

static void fd_seen(int fd)
{
	if (fd < 0)
		return;
	if (fd < FD_BITS)
		fd_seen_bits[fd / 64] |= (uint64_t)1 << (fd % 64);
	fd_hi = fd > fd_hi ? fd : fd_hi;
}

static void check_no_fd_leaked(void)
{
	static struct pollfd pfd[FD_BITS];
	nfds_t n = 0;

	for (int w = 0; w <= fd_hi / 64 && w < FD_BITS / 64; w++) {
		for (uint64_t m = fd_seen_bits[w]; m != 0; m &= m - 1)
			pfd[n++] = (struct pollfd){ .fd = w * 64 + __builtin_ctzll(m) };
		fd_seen_bits[w] = 0;
	}
	/* An open descriptor with nothing to report leaves revents 0, so the
	 * count alone does not say which: each is looked at. A run that made
	 * no descriptor (a third of them under afl-fuzz: a mutant without an
	 * OPEN) has nothing to ask about. */
	LSE_ORACLE(n == 0 || poll(pfd, n, 0) >= 0, "poll on the run's descriptors");
	for (nfds_t i = 0; i < n; i++)
		LSE_ORACLE(pfd[i].revents & POLLNVAL, "a file descriptor leaked");
	/* Past the bitmap (a process with thousands of descriptors open): every
	 * number up to the highest, which could flag one opened before the run. */
	for (int fd = FD_BITS; fd <= fd_hi; fd++)
		LSE_ORACLE(fcntl(fd, F_GETFD) == -1 && errno == EBADF, "a file descriptor leaked");
	fd_hi = -1;
}

/* Connections made through the listening socket this run and not yet
 * accepted by the loop. */
static unsigned unaccepted;

static int sys_accept_seen(int listen_fd)
{
	int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	fd_seen(fd);
	unaccepted -= fd >= 0;
	return fd;
}

/* Without fault injection: the kernel's accept, noting the descriptor. */
static int plain_accept(void *ctx, int listen_fd)
{
	(void)ctx;
	return sys_accept_seen(listen_fd);
}

static int fx_accept(void *ctx, int listen_fd)
{
	static const int errs[5] = { EINTR, EAGAIN, EMFILE, ENFILE, ECONNABORTED };
	unsigned k = fx_pick("accept", listen_fd);

	(void)ctx;
	if (k) {
		errno = errs[k - 1];
		return -1;
	}
	return sys_accept_seen(listen_fd);
}

static const lse_io fx_io = { fx_read, fx_write, NULL };

static void trace_fault(const char *call, int fd, unsigned k)
{
	static const char *const io[6] = { "", "EINTR", "EAGAIN (spurious)", "a short count",
					   "ECONNRESET/EPIPE", "" };
	static const char *const acc[6] = { "", "EINTR", "EAGAIN", "EMFILE", "ENFILE", "ECONNABORTED" };
	int conn = -1;

	if (k == LSE_FAULT_OTHER && strcmp(call, "accept") != 0)
		return;   /* no fault for reads and writes */
	for (int i = 0; i < trace_npeers; i++)
		if (peers[i].srv == fd)
			conn = i;
	lse_trace("\n    fault injected: %s on fd %d", call, fd);
	if (conn >= 0)
		lse_trace(" (conn %d)", conn);
	lse_trace(": %s; ", strcmp(call, "accept") == 0 ? acc[k] : io[k]);
}

static lse_sock listener;   /* one listening socket for the whole run */
static int listening;
/* One epoll set for the whole run too, lent to each input's loop
 * (lse_loop_init_on): making, registering and closing a set per input cost
 * three syscalls of the twenty or so a typical input made. The fork server
 * and its children share the set; a child's sockets leave it as they close
 * (at the latest when the child exits), so between inputs it holds only the
 * listener. */
static int epfd = -1, listener_in_set;
/* PEERS, or LSE_FUZZ_SOCKET_PEERS from the environment: make fuzz-bench sets
 * 1 to measure against the socketpair floor on the same work, one connection
 * per input, as the floor does. Fuzzing leaves it unset. */
static int max_peers = PEERS;
static struct sockaddr_un listen_addr;
static socklen_t listen_addr_len;

/* In each child of a fork server: connections a child that crashed or
 * timed out left in the listening socket's backlog (the socket outlives its
 * children) are not the new child's to serve or count. */
static void drop_dead_connects(void)
{
	int fd;

	while ((fd = accept4(listener.fd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
		close(fd);
}

/* One-time set-up, before any fork server: the listening socket, made by
 * the shell's own socket code, and the epoll set. An abstract name leaves
 * no file behind, whichever process of a fuzzing run exits first. */
static void setup(void)
{
	char name[64], err[256], *end;
	const char *env = getenv("LSE_FUZZ_SOCKET_PEERS");

	if (listening)
		return;
	if (env != NULL) {
		long v = strtol(env, &end, 10);

		max_peers = (int)v;
		if (*env == '\0' || *end != '\0' || v < 1 || v > PEERS) {
			fprintf(stderr, "fuzz_socket: LSE_FUZZ_SOCKET_PEERS must be 1..%d, not '%s'\n",
				PEERS, env);
			abort();
		}
	}
	signal(SIGPIPE, SIG_IGN);
	snprintf(name, sizeof name, "@lsecho-fuzz-socket-%ld", (long)getpid());
	if (lse_sock_listen(&listener, name, err, sizeof err) != 0) {
		fprintf(stderr, "fuzz_socket: %s\n", err);
		abort();
	}
	listen_addr_len = sizeof listen_addr;
	if (getsockname(listener.fd, (struct sockaddr *)&listen_addr, &listen_addr_len) != 0) {
		perror("fuzz_socket: getsockname");
		abort();
	}
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0) {
		perror("fuzz_socket: epoll_create1");
		abort();
	}
	pthread_atfork(NULL, NULL, drop_dead_connects);
	listening = 1;
}

static int connect_listener(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	LSE_ORACLE(fd >= 0, "socket");
	fd_seen(fd);
	if (connect(fd, (const struct sockaddr *)&listen_addr, listen_addr_len) != 0) {
		close(fd);
		return -1;
	}
	unaccepted++;
	return fd;
}

/* Returns whether the loop has something to see: a connection waiting in
 * the listening socket's backlog. A socketpair's end is registered already
 * and, until its client writes, quiet. */
static int op_open(lse_loop *l, peer *peers, int *npeers, uint8_t op)
{
	static const int sndbuf[4] = { 0, 4096, 16384, 65536 };
	peer *p = &peers[*npeers];
	int sv[2], size = sndbuf[(op >> 4) & 3];

	if (*npeers == max_peers)
		return 0;
	{
		/* The buffers live on from run to run (peers[] is static): a
		 * fresh pair per connection cost an allocation, and under ASan
		 * a page fault, each. */
		lse_hbuf out = { p->out.p, 0, p->out.cap }, got = { p->got.p, 0, p->got.cap };

		memset(p, 0, sizeof *p);
		p->out = out;
		p->got = got;
	}
	if (op & 8) {            /* through the listening socket: the loop accepts */
		p->fd = connect_listener();
		p->srv = -1;
		if (p->fd < 0)
			return 0;    /* backlog full: as a refused connect */
	} else {
		LSE_ORACLE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0,
			   "socketpair");
		fd_seen(sv[0]);
		fd_seen(sv[1]);
		if (size)
			setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
		p->fd = sv[0];
		p->srv = sv[1];
		if (lse_loop_add(l, sv[1]) != 0)
			p->dead = 1;
	}
	(*npeers)++;
	return (op & 8) != 0;
}

/* Whether a pass now could fire nothing: the last one was quiet (and did
 * not end an accept pause) or the loop holds nothing, and no client has
 * since changed a socket in a way the loop can see. Only the harness
 * touches these sockets, so a settled loop stays settled until the harness
 * clears this. */
static int settled;

/* One loop pass, counted in passes if it handled anything. A quiet pass
 * also ends an accept pause (after EMFILE): then the next may accept. */
static int step(lse_loop *l)
{
	int paused = !l->accepting;
	int n;

	/* Nothing can fire in a loop that holds no connection and has none
	 * waiting in the backlog: no pass is taken to hear so (an input's
	 * operations after the server closed its connections, the end). */
	if (lse_loop_count(l) == 0 && unaccepted == 0) {
		settled = 1;
		return 0;
	}
	n = lse_loop_run_once(l, 0);

	passes += n != 0;
	settled = n == 0 && !(paused && l->accepting);
	return n;
}

/* Steps the loop until nothing fires. A settled loop, or one holding no
 * connection with none waiting to be accepted, has nothing that can fire:
 * no step is taken to hear so. Returns whether anything fired. */
static int settle(lse_loop *l)
{
	int steps = 0;

	while (!settled) {
		if (step(l) == 0 && settled)
			break;
		LSE_ORACLE(++steps < 100000, "the event loop does not settle");
	}
	return steps > 0;
}

static int client_write(peer *p)
{
	ssize_t n;

	if (p->aborted || p->dead || p->wrote == p->out.len)
		return 0;
	n = send(p->fd, p->out.p + p->wrote, p->out.len - p->wrote, MSG_NOSIGNAL);
	if (n > 0) {
		p->wrote += (size_t)n;
		return 1;
	}
	if (n < 0 && errno != EAGAIN)
		p->dead = 1;   /* the server closed: the rest is never sent */
	return 0;
}

static int client_shut(peer *p)
{
	if (!p->shut_wanted || p->shut || p->aborted || (p->wrote < p->out.len && !p->dead))
		return 0;
	shutdown(p->fd, SHUT_WR);
	p->shut = 1;
	return 1;
}

static int client_read(peer *p, size_t max)
{
	/* Static, not on the stack: a stack array costs every call a fake
	 * frame under ASan's detect_stack_use_after_return. */
	static uint8_t b[4096];
	size_t total = 0;

	if (p->empty_at == passes + 1)
		return 0;   /* it would hear EAGAIN again: no pass wrote since */
	while (!p->aborted && !p->eof && total < max) {
		size_t want = max - total < sizeof b ? max - total : sizeof b;
		ssize_t n = read(p->fd, b, want);

		if (n == 0 || (n < 0 && errno == ECONNRESET)) {
			p->eof = 1;   /* a reset only follows every byte written */
			break;
		}
		if (n < 0) {
			if (errno == EAGAIN)
				p->empty_at = passes + 1;
			break;
		}
		lse_hbuf_put(&p->got, b, (size_t)n);
		total += (size_t)n;
		/* A short read emptied the socket: asking again would only hear
		 * EAGAIN (a stream socket hands over all it holds, up to want). */
		if ((size_t)n < want)
			break;
	}
	return total > 0;
}

/* Whether a connection of the loop is registered for want: only then can
 * a client's write (LSE_WANT_READ) or read (LSE_WANT_WRITE, which frees room
 * in a socket the server writes to) make anything fire. A connection that
 * stopped reading (its output is blocked) hears nothing of a write. */
static int loop_waits(const lse_loop *l, unsigned want)
{
	/* The table is indexed by descriptor, at least 64 wide, and the
	 * connections sit at its low end: the scan stops after the last. */
	size_t left = lse_loop_count(l);

	for (size_t fd = 0; left > 0 && fd < l->tab.cap; fd++) {
		const lse_conn *c = lse_conntab_get(&l->tab, (int)fd);

		if (c == NULL)
			continue;
		if (c->interest & want)
			return 1;
		left--;
	}
	return 0;
}

/* EDGE: the client takes stream bytes until the server's session has
 * lse_drive_edge(its read room, sel) bytes coming, and writes them, so the
 * loop's next read lands on the room's edge in whatever state the session
 * is in. Only a socketpair's server end is known to the harness. Returns
 * as client_write(). */
static int client_edge(const lse_loop *l, lse_fdp *f, peer *p, unsigned sel)
{
	const lse_conn *c = p->srv >= 0 ? lse_conntab_get(&l->tab, p->srv) : NULL;
	size_t want, coming, at = f->head;

	if (c == NULL || p->shut_wanted || p->aborted)
		return 0;
	want = lse_drive_edge(lse_sess_recv_room(c->sess), sel);
	coming = p->out.len - (size_t)lse_sess_consumed(c->sess);
	if (want > coming)
		lse_hbuf_put(&p->out, f->p + at, lse_fdp_take(f, want - coming));
	return client_write(p);
}

/* Returns whether the operation changed a socket in a way the loop can
 * see: wrote to one while a connection reads, shut or closed one, or read
 * one while a connection waits to write. *conn: the connection it was
 * for, or -1. */
static int op_peer(const lse_loop *l, lse_fdp *f, peer *peers, int npeers, uint8_t op, int *conn)
{
	uint8_t k = lse_fdp_u8(f);
	size_t at = f->head, n;
	peer *p;

	*conn = -1;
	if (npeers == 0)
		return 0;
	*conn = k % npeers;
	p = &peers[k % npeers];
	switch (op & 7) {
	case 1:
	case 2:
		n = lse_fdp_take(f, (op & 7) == 1 ? (size_t)(op >> 3) + 1
						  : ((size_t)(op >> 3) + 1) * 128);
		if (!p->shut_wanted && !p->aborted)
			lse_hbuf_put(&p->out, f->p + at, n);
		return client_write(p) && loop_waits(l, LSE_WANT_READ);
	case 3:
		if (op & 0x80)
			return client_edge(l, f, p, (op >> 3) & 15) && loop_waits(l, LSE_WANT_READ);
		return client_read(p, lse_drive_drain(op >> 3)) && loop_waits(l, LSE_WANT_WRITE);
	case 4:
		if (op & 0x80) {   /* SPLIT */
			if (p->shut_wanted || p->aborted)
				return 0;
			n = lse_drive_split(p->out.p, p->out.len, f->p + at, lse_fdp_left(f), (op >> 3) & 15);
			lse_hbuf_put(&p->out, f->p + at, lse_fdp_take(f, n));
			return client_write(p) && loop_waits(l, LSE_WANT_READ);
		}
		p->shut_wanted = 1;
		return client_shut(p);
	default:
		if (p->aborted)
			return 0;
		close(p->fd);
		p->aborted = 1;
		return 1;
	}
}

static void check_peer(peer *p, uint32_t limit, int raw, int exact)
{
	static lse_model_out m;   /* its buffer is reused from peer to peer */
	int rc = raw ? lse_model_raw_again(p->out.p, p->wrote, p->shut, &m)
		     : lse_model_framed_again(p->out.p, p->wrote, p->shut, limit, &m);

	LSE_ORACLE(rc == 0, "model out of memory");
	LSE_ORACLE(p->got.len <= m.len && (p->got.len == 0 || memcmp(p->got.p, m.buf, p->got.len) == 0),
		   "a connection's bytes are not its own model's (cross-talk, loss or duplication)");
	if (exact && !p->aborted) {
		LSE_ORACLE(p->got.len == m.len, "a connection's output is short of its model's");
		/* A client that could not write all it had (dead) was closed on
		 * by the server: the model must close there too, on what the
		 * client did write (the bytes after an ERROR or BYE are never
		 * read, by either). */
		LSE_ORACLE(p->eof == m.closed && (!p->dead || m.closed),
			   "a connection's close differs from its model");
	}
	if (!p->aborted)
		close(p->fd);
}

static void trace_start(uint8_t flags, const lse_loop_opts *o, unsigned fail_at)
{
	static const char *const names[8] = { NULL, NULL, NULL, "raw", NULL, NULL, NULL,
					       "fault injection" };

	lse_trace_settings(flags, names, &o->cfg);
	lse_trace("; I/O faults %s; the loop's allocation %u fails (0: none); up to %d connections\n"
		  "schedule:\n", fx.on ? "on" : "off", fail_at, max_peers);
}

static void trace_op(uint8_t op, int conn, int npeers, size_t from, size_t to)
{
	static const char *const names[8] = { "OPEN", "SEND", "SEND_BIG", "DRAIN", "SHUT", "ABORT",
					      "LOOP", "END" };
	static const char *const edge[3] = { "room-1", "room", "room+1" };
	unsigned i = op & 7;

	trace_npeers = npeers;
	if (conn < 0) {
		lse_trace("%s: no connection yet; ", names[i]);
		return;
	}
	lse_trace("conn %d ", conn);
	if (i == 0)
		lse_trace("OPEN through %s", op & 8 ? "the listening socket (accept)" : "a socketpair");
	else if (i == 3 && (op & 0x80))
		lse_trace("EDGE %s", edge[((op >> 3) & 15) % 3]);
	else if (i == 4 && (op & 0x80))
		lse_trace("SPLIT at boundary %u ahead", (op >> 3) & 15);
	else if (i == 3 && lse_drive_drain(op >> 3) == SIZE_MAX)
		lse_trace("DRAIN all");
	else if (i == 3)
		lse_trace("DRAIN %zu", lse_drive_drain(op >> 3));
	else
		lse_trace("%s", names[i]);
	if (to > from)
		lse_trace(", stream [%zu, %zu)", from, to);
	lse_trace(": ");
}

/* After an operation and its loop pass (changed: 0 none taken, else 1 +
 * what fired): the client's counts and, for a socketpair, the session. */
static void trace_after(const lse_loop *l, int conn, int changed)
{
	const peer *p;
	const lse_conn *c;

	if (changed)
		lse_trace("pass: %d fired", changed - 1);
	else
		lse_trace("no pass");
	if (conn < 0 || conn >= trace_npeers) {
		lse_trace("\n");
		return;
	}
	p = &peers[conn];
	lse_trace("; conn %d: wrote %zu of %zu, read %zu%s%s, ", conn, p->wrote, p->out.len,
		  p->got.len, p->aborted ? ", aborted" : "", p->eof ? ", EOF" : "");
	c = p->srv >= 0 && !p->dead ? lse_conntab_get(&l->tab, p->srv) : NULL;
	if (c != NULL)
		lse_trace_state(c->sess, p->out.p, l->o.cfg.mode == LSE_MODE_RAW);
	else
		lse_trace("%s\n", p->srv >= 0 ? "not in the loop" : "accepted (its session is not shown)");
}

/* Each connection's stream and answer, before the checks compare them. */
static void trace_ends(int npeers, uint32_t limit, int raw)
{
	static lse_model_out m;

	for (int i = 0; i < npeers; i++) {
		const peer *p = &peers[i];
		char who[32], title[64];

		snprintf(who, sizeof who, "conn %d", i);
		snprintf(title, sizeof title, "conn %d, the client's stream as written", i);
		lse_trace("%s:%s%s%s\n", who, p->shut ? " half-closed" : "", p->aborted ? " aborted" : "",
			  p->eof ? ", the server closed" : "");
		lse_trace_stream(title, p->out.p, p->wrote, limit, raw);
		if ((raw ? lse_model_raw_again(p->out.p, p->wrote, p->shut, &m)
			 : lse_model_framed_again(p->out.p, p->wrote, p->shut, limit, &m)) == 0)
			lse_trace_compare(who, p->got.p, p->got.len, m.buf, m.len, raw,
					  p->aborted || fx.hard || fm.refused);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* fuzz_multi's raw buffer sizes, but 16 for its 1. A 1-byte ring costs
	 * the shell a read and a write per byte (a 338-byte input: 1.5 ms, 40
	 * times the median one), and afl-fuzz spent most of its time there, for
	 * no line or branch of the core or shell that 2 and 7 leave unreached
	 * (llvm-cov after 60 s of fuzzing each way); fuzz_raw and fuzz_multi
	 * test the 1-byte ring in memory. */
	static const uint32_t chunks[8] = { 16, 2, 7, 64, 277, 4096, 65536, 100000 };
	static lse_loop l;
	lse_loop_opts o = { { LSE_MODE_FRAMED, 0, 0 }, NULL, NULL, NULL, -1, -1, 0, NULL };
	int npeers = 0;
	unsigned fail_at;
	uint8_t flags;
	lse_fdp f;

	setup();
	fd_hi = -1;
	unaccepted = 0;
	settled = 0;
	lse_fdp_init(&f, data, size);
	flags = lse_fdp_u8(&f);
	/* Faults (flags bit 7): a byte seeding the I/O fault generator (0: no
	 * I/O faults), then the allocation to refuse (0: none). */
	fx.on = 0;
	fx.hard = 0;
	fail_at = 0;
	if (flags & 0x80) {
		uint8_t seed = lse_fdp_u8(&f);

		fail_at = lse_fdp_u8(&f);
		fx.on = seed != 0;
		fx.s = lse_faultgen_init(seed);
	}
	o.accept = plain_accept;
	if (fx.on) {
		o.io = &fx_io;
		o.accept = fx_accept;
	}
	{
		static lse_mem mem;

		mem = lse_failmem_mem(&fm);
		o.mem = &mem;
	}
	o.cfg.mode = flags & 8 ? LSE_MODE_RAW : LSE_MODE_FRAMED;
	o.cfg.max_payload = lse_drive_limit(flags);
	o.cfg.chunk = chunks[(flags >> 4) & 7];
	o.listen_fd = listener.fd;
	/* A fresh loop per run, on the run's one epoll set. Keeping the loop
	 * itself for the process made the first run of each process take
	 * other edges than the rest (its table grew), and afl-fuzz's
	 * stability fell from 99.8% to 98.8%. */
	lse_failmem_start(&fm, fail_at);
	/* The first loop on the set (setup's empty run, before any fork
	 * server) registers the listener; the loops after find it there. */
	LSE_ORACLE(lse_loop_init_on(&l, &o, epfd, listener_in_set) == 0, "lse_loop_init_on");
	listener_in_set = 1;
	LSE_TRACE(trace_start(flags, &o, fail_at));
	for (unsigned st = 0; lse_fdp_left(&f) > 0; st++) {
		uint8_t op = lse_fdp_u8(&f);
		size_t from = f.head;
		int changed, conn = npeers;

		LSE_TRACE(lse_trace("step %u (op 0x%02x @%zu): ", st, op, f.tail));
		if ((op & 7) == 7) {
			LSE_TRACE(lse_trace("END\n"));
			break;
		}
		if ((op & 7) == 6) {
			LSE_TRACE(lse_trace("LOOP until quiet: "));
			changed = settle(&l);
			LSE_TRACE(lse_trace("%s\n", changed ? "something fired" : "nothing fired"));
			continue;
		}
		changed = (op & 7) == 0 ? op_open(&l, peers, &npeers, op)
					: op_peer(&l, &f, peers, npeers, op, &conn);
		LSE_TRACE(trace_op(op, conn, npeers, from, f.head));
		/* One loop pass after each operation that changed a socket: an
		 * unchanged one gives the pass nothing new to see (the input's
		 * LOOP operation runs the loop on demand, unless settled). */
		if (changed)
			changed = step(&l) + 1;
		LSE_TRACE(trace_after(&l, conn, changed));
	}
	LSE_TRACE(lse_trace("the end: clients write the rest, half-close if asked, read everything\n"));
	/* The end: clients write what is left, half-close if they meant to,
	 * and read everything, until nothing moves. The loop is stepped again
	 * only after a client did something it can see (as op_peer decides);
	 * a client that moved bytes gets another round either way. */
	for (int round = 0, seen = 0;; round++) {
		int moved;

		settled &= !seen;
		moved = settle(&l);
		LSE_ORACLE(round < 100000, "the end does not settle");
		seen = 0;
		for (int i = 0; i < npeers; i++) {
			int wrote = client_write(&peers[i]), got;

			seen |= wrote && loop_waits(&l, LSE_WANT_READ);
			seen |= client_shut(&peers[i]);
			got = client_read(&peers[i], SIZE_MAX);
			seen |= got && loop_waits(&l, LSE_WANT_WRITE);
			moved |= wrote | got;
		}
		if (!moved && !seen)
			break;
	}
	LSE_TRACE(trace_ends(npeers, o.cfg.max_payload, o.cfg.mode == LSE_MODE_RAW));
	for (int i = 0; i < npeers; i++)
		check_peer(&peers[i], o.cfg.max_payload, o.cfg.mode == LSE_MODE_RAW,
			   !fx.hard && !fm.refused);
	/* Clients are gone: the loop must see every close and let go. */
	settled = 0;
	settle(&l);
	LSE_ORACLE(lse_loop_count(&l) == 0, "the loop still holds connections its clients closed");
	LSE_ORACLE(unaccepted == 0, "a connection was never accepted");
	lse_loop_fini(&l);
	LSE_ORACLE(fm.live == 0, "memory still held after every connection closed");
	check_no_fd_leaked();
	return 0;
}
