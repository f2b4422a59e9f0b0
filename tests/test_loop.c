/* The shell's event loop (lse_loop) stepped by hand in one thread, over
 * socketpairs: real kernel sockets and the server's own dispatch code, with
 * no threads, sleeps or clocks in the way. Each connection's output must be
 * its own model's; closes must match; no descriptor may leak. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "failmem.h"
#include "feed.h"
#include "lse_loop.h"
#include "lse_sock.h"
#include "model.h"

#define CONNS 40

/* epoll_ctl, counted by operation (linked with --wrap=epoll_ctl); while
 * ctl_fail_op is set, that operation fails with ENOMEM, as the kernel's
 * does when it cannot allocate. */
int __real_epoll_ctl(int epfd, int op, int fd, struct epoll_event *e);
static int ctl_count[4], ctl_fail_op;

int __wrap_epoll_ctl(int epfd, int op, int fd, struct epoll_event *e)
{
	if (op >= 0 && op < 4)
		ctl_count[op]++;
	if (ctl_fail_op != 0 && op == ctl_fail_op) {
		errno = ENOMEM;
		return -1;
	}
	return __real_epoll_ctl(epfd, op, fd, e);
}


typedef struct client {
	int fd;
	lse_bytes sent, got;
	size_t pos;        /* of sent, written so far */
	int shut, eof, stall;
	int dead;          /* a write failed: the server closed; stop writing */
} client;


/* Steps the loop until nothing fires; returns the steps that did. */
static int settle(lse_loop *l)
{
	int steps = 0;

	while (lse_loop_run_once(l, 0) > 0 && steps < 100000)
		steps++;
	if (steps == 100000)
		CHECK(0 && "the loop does not settle");
	return steps;
}

static int client_read(client *c)
{
	uint8_t buf[4096];
	ssize_t n;
	int moved = 0;

	while (!c->eof && !c->stall && (n = read(c->fd, buf, sizeof buf)) != 0) {
		if (n < 0)
			return moved;
		lse_bytes_put(&c->got, buf, (size_t)n);
		moved = 1;
	}
	if (!c->stall && !c->eof && n == 0)
		c->eof = moved = 1;
	return moved;
}

static void build_stream(lse_bytes *b, int i, uint64_t *rng)
{
	lse_bytes_hello(b, 64 + (uint32_t)i * 997);
	for (int k = 0; k < 6 + i % 5; k++)
		lse_bytes_data(b, (uint32_t)(lse_rng(rng) % (64 + (uint64_t)i * 997)), (uint8_t)(i + k));
	if (i % 7 == 0)
		lse_bytes_frame(b, LSE_T_BYE, 0, NULL);
	if (i % 11 == 0)
		lse_bytes_put(b, "XE\x01\x03\x00\x00\x00\x01x", 9);   /* bad magic */
	lse_bytes_frame(b, LSE_T_PING, 3, "end");
}

static void test_loop_many_connections(void)
{
	lse_loop_opts o = { { LSE_MODE_FRAMED, 0, 0 }, NULL, NULL, NULL, -1, -1, 0, NULL };
	static lse_loop l;
	client c[CONNS];
	uint64_t rng = 7;
	int fds_before = lse_t_count_fds(), live = 1;

	CHECK_EQ(lse_loop_init(&l, &o), 0);
	memset(c, 0, sizeof c);
	for (int i = 0; i < CONNS; i++) {
		int sv[2], small = 4096;

		CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
		if (i % 3 == 0)   /* small kernel buffers: backpressure in the kernel */
			setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
		CHECK_EQ(lse_loop_add(&l, sv[1]), 0);
		c[i].fd = sv[0];
		c[i].stall = i % 5 == 0;   /* reads nothing until the end */
		build_stream(&c[i].sent, i, &rng);
	}
	CHECK_EQ(lse_loop_count(&l), CONNS);
	/* Interleave: each round every client writes a random chunk. */
	while (live) {
		live = 0;
		for (int i = 0; i < CONNS; i++) {
			size_t left = c[i].sent.len - c[i].pos;
			size_t n = left ? 1 + (size_t)(lse_rng(&rng) % (left < 700 ? left : 700)) : 0;
			ssize_t w = n ? write(c[i].fd, c[i].sent.p + c[i].pos, n) : 0;

			if (w > 0)
				c[i].pos += (size_t)w;
			else if (w < 0 && errno == EAGAIN)
				c[i].stall = 0;   /* blocked: a real client reads now */
			else if (w < 0)
				c[i].dead = 1;
			live |= c[i].pos < c[i].sent.len && !c[i].dead;
			if (!live && !c[i].shut && i % 2 == 0 && c[i].pos == c[i].sent.len) {
				shutdown(c[i].fd, SHUT_WR);
				c[i].shut = 1;
			}
			settle(&l);
			client_read(&c[i]);
		}
	}
	for (int i = 0; i < CONNS; i++) {
		if (c[i].pos == c[i].sent.len && !c[i].shut && i % 2 == 0) {
			shutdown(c[i].fd, SHUT_WR);
			c[i].shut = 1;
		}
		c[i].stall = 0;
	}
	for (int round = 0; round < 1000; round++) {
		int moved = settle(&l) > 0;
		for (int i = 0; i < CONNS; i++)
			moved |= client_read(&c[i]);
		if (!moved)
			break;
	}
	for (int i = 0; i < CONNS; i++) {
		lse_model_out m;
		int ok;

		/* What the client managed to send is the stream. */
		CHECK_EQ(lse_model_framed(c[i].sent.p, c[i].pos, c[i].shut, LSE_LIMIT_DEFAULT, &m), 0);
		ok = CHECK_EQ(c[i].got.len, m.len);
		ok &= CHECK(c[i].got.len == m.len && memcmp(c[i].got.p, m.buf, m.len) == 0);
		ok &= CHECK_EQ(c[i].eof, m.closed);
		if (!ok)
			fprintf(stderr, "  connection %d (shut %d)\n", i, c[i].shut);
		lse_model_out_free(&m);
	}
	lse_loop_fini(&l);
	for (int i = 0; i < CONNS; i++) {
		close(c[i].fd);
		lse_bytes_free(&c[i].sent);
		lse_bytes_free(&c[i].got);
	}
	CHECK_EQ(lse_t_count_fds(), fds_before);
}

/* The stop descriptor: the loop stops reading, sends what is owed, then is
 * done; fini closes what is left. */
static long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void test_loop_stop(void)
{
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), sv[2];
	lse_loop_opts o = { { LSE_MODE_RAW, 0, 0 }, NULL, NULL, NULL, -1, efd, 0, NULL };
	static lse_loop l;
	uint64_t one = 1;
	char buf[16];
	int fds_before = lse_t_count_fds();
	long t0, t1;

	CHECK_EQ(lse_loop_init(&l, &o), 0);
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	CHECK_EQ(lse_loop_add(&l, sv[1]), 0);
	CHECK_EQ(write(sv[0], "hello", 5), 5);
	settle(&l);
	CHECK(!lse_loop_done(&l));
	CHECK_EQ(write(efd, &one, sizeof one), (ssize_t)sizeof one);
	CHECK_EQ(write(sv[0], "late", 4), 4);   /* never read: shutting down */
	memset(ctl_count, 0, sizeof ctl_count);
	t0 = mono_ms();
	CHECK(lse_loop_run_once(&l, 0) > 0);
	t1 = mono_ms();
	/* What is owed gets 2 s (docs/server.md), on the monotonic clock. */
	CHECK(l.deadline_ms >= t0 + 1999 && l.deadline_ms <= t1 + 2001);
	/* Shutting down: only the stop descriptor leaves the set (there is
	 * no listener to take out). */
	CHECK_EQ(ctl_count[EPOLL_CTL_DEL], 1);
	settle(&l);
	CHECK(lse_loop_done(&l));
	CHECK_EQ(lse_loop_count(&l), 0);
	CHECK_EQ(read(sv[0], buf, sizeof buf), 5);
	/* Closed after the echo. "late" was never read, so Linux reports the
	 * close of a socket with unread input as a reset, after the data. */
	CHECK(read(sv[0], buf, sizeof buf) == 0 || errno == ECONNRESET);
	lse_loop_fini(&l);
	close(sv[0]);
	CHECK_EQ(lse_t_count_fds(), fds_before);
	close(efd);
}

/* The real write, counting the calls it is asked for (ctx: an int). */
static ptrdiff_t counted_write(void *ctx, int fd, const uint8_t *buf, size_t len)
{
	++*(int *)ctx;
	return lse_loop_sys_io()->write(NULL, fd, buf, len);
}

/* The real read, counting (ctx: an int). */
static ptrdiff_t counted_read(void *ctx, int fd, uint8_t *buf, size_t len)
{
	++*(int *)ctx;
	return lse_loop_sys_io()->read(NULL, fd, buf, len);
}

/* A connection that only writes (the session's output is full, so it
 * reads nothing) is not woken by input it will not read: the loop settles
 * while the client neither reads nor stops writing. When epoll reports
 * only room to write, the loop writes and does not try a read; a plain
 * echo exchange registers nothing new; a normal close logs nothing. */
struct peer_close {
	lse_loop *l;
	int fd;
};

static void close_and_settle(void *arg)
{
	struct peer_close *p = arg;

	close(p->fd);
	settle(p->l);
}

static void test_loop_registrations(void)
{
	int reads = 0, sv[2], small = 4096, fds_before = lse_t_count_fds();
	lse_io io = { counted_read, lse_loop_sys_io()->write, &reads };
	lse_loop_opts o = { { LSE_MODE_RAW, 4096, 0 }, &io, NULL, NULL, -1, -1, 0, NULL };
	static lse_loop l;
	static uint8_t in[200000];
	struct peer_close pc = { &l, -1 };
	uint8_t buf[8192];
	const lse_conn *c;
	size_t sent = 0, got = 0;
	char log[256];
	ssize_t n;

	CHECK_EQ(lse_loop_init(&l, &o), 0);
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
	setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
	CHECK_EQ(lse_loop_add(&l, sv[1]), 0);
	/* A plain exchange: interest stays READ, nothing re-registered. */
	memset(ctl_count, 0, sizeof ctl_count);
	for (int k = 0; k < 50; k++) {
		CHECK_EQ(write(sv[0], "ping", 4), 4);
		settle(&l);
		CHECK_EQ(read(sv[0], buf, sizeof buf), 4);
	}
	CHECK_EQ(ctl_count[EPOLL_CTL_MOD], 0);
	CHECK_EQ(ctl_count[EPOLL_CTL_ADD], 0);   /* no listener to resume */
	/* Flood without reading, until both directions are full. */
	for (int round = 0; round < 50; round++) {
		while (sent < sizeof in && (n = write(sv[0], in + sent, sizeof in - sent)) > 0)
			sent += (size_t)n;
		settle(&l);
	}
	c = lse_conntab_get(&l.tab, sv[1]);
	CHECK(c != NULL && c->interest == LSE_WANT_WRITE);
	CHECK(lse_loop_run_once(&l, 0) == 0);   /* settled: input waits unread */
	/* Drain what the client's socket holds: only EPOLLOUT fires, and the
	 * run it wakes writes without trying a read. */
	while ((n = read(sv[0], buf, sizeof buf)) > 0)
		got += (size_t)n;
	reads = 0;
	CHECK(lse_loop_run_once(&l, 0) > 0);
	CHECK_EQ(reads, 0);
	/* Everything echoes back, in order. */
	for (int round = 0; got < sent + 200 && round < 100000; round++) {
		while ((n = read(sv[0], buf, sizeof buf)) > 0)
			got += (size_t)n;
		while (sent < sizeof in && (n = write(sv[0], in + sent, sizeof in - sent)) > 0)
			sent += (size_t)n;
		if (settle(&l) == 0 && got == sent)
			break;
	}
	CHECK_EQ(got, sent);
	pc.fd = sv[0];
	CHECK_EQ(lse_t_capture_stderr(close_and_settle, &pc, log, sizeof log), 0);
	CHECK_EQ(lse_loop_count(&l), 0);
	lse_loop_fini(&l);
	CHECK_EQ(lse_t_count_fds(), fds_before);
}

/* A connection whose reader lags: once the loop waits for room (EPOLLOUT),
 * more input is read without a write into the full socket, and the echo
 * resumes, whole and in order, when the reader drains it. */
static void test_loop_full_socket_not_written(void)
{
	int writes = 0, sv[2], small = 4096, before, fds_before = lse_t_count_fds();
	lse_io io = { lse_loop_sys_io()->read, counted_write, &writes };
	lse_loop_opts o = { { LSE_MODE_RAW, 0, 0 }, &io, NULL, NULL, -1, -1, 0, NULL };
	static lse_loop l;
	static uint8_t in[40000];
	lse_bytes got = { 0 };
	const lse_conn *c;
	uint8_t buf[4096];
	ssize_t n;

	for (size_t i = 0; i < sizeof in; i++)
		in[i] = (uint8_t)(i * 7 + i / 251);
	CHECK_EQ(lse_loop_init(&l, &o), 0);
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	CHECK_EQ(setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
	CHECK_EQ(lse_loop_add(&l, sv[1]), 0);
	CHECK_EQ(write(sv[0], in, 30000), 30000);
	settle(&l);
	c = lse_conntab_get(&l.tab, sv[1]);
	CHECK(c != NULL && (c->interest & LSE_WANT_WRITE) && (c->interest & LSE_WANT_READ));
	before = writes;
	CHECK_EQ(write(sv[0], in + 30000, 10000), 10000);
	CHECK(settle(&l) > 0);        /* the new input is read... */
	CHECK_EQ(writes, before);     /* ...and the full socket left alone */
	while (got.len < sizeof in) {
		int moved = 0;

		while ((n = read(sv[0], buf, sizeof buf)) > 0) {
			lse_bytes_put(&got, buf, (size_t)n);
			moved = 1;
		}
		if (settle(&l) == 0 && !moved)
			break;
	}
	CHECK(got.len == sizeof in && memcmp(got.p, in, sizeof in) == 0);
	CHECK(writes > before);
	close(sv[0]);
	settle(&l);
	CHECK_EQ(lse_loop_count(&l), 0);
	lse_loop_fini(&l);
	CHECK_EQ(lse_t_count_fds(), fds_before);
	lse_bytes_free(&got);
}

/* An accept hook that fails with EMFILE while *ctx is set: the loop pauses
 * accepting (takes the listener out of its set). */
static int accept_emfile(void *ctx, int listen_fd)
{
	if (*(int *)ctx) {
		errno = EMFILE;
		return -1;
	}
	return accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

/* Whether fd is in the epoll set: adding it again says EEXIST. */
static int in_set(int epfd, int fd)
{
	struct epoll_event e = { .events = EPOLLIN, .data.fd = fd };

	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &e) == 0) {
		epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
		return 0;
	}
	return errno == EEXIST;
}

/* A connection through the listener, echoed by loop l. */
static void echo_through(lse_loop *l, const struct sockaddr_un *addr, socklen_t len)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	char buf[8];

	CHECK(fd >= 0);
	CHECK_EQ(connect(fd, (const struct sockaddr *)addr, len), 0);
	CHECK_EQ(write(fd, "ping", 4), 4);
	settle(l);   /* accepts, reads, echoes */
	CHECK_EQ(read(fd, buf, sizeof buf), 4);
	CHECK(memcmp(buf, "ping", 4) == 0);
	close(fd);
	settle(l);
	CHECK_EQ(lse_loop_count(l), 0);
}

/* Loops taking turns on one lent epoll set (lse_loop_init_on): each after
 * the first finds the listener and stop descriptor registered, whatever the
 * one before did to them (paused accepting, shut down), and the set
 * outlives them all. */
static void test_loop_lent_set(void)
{
	int emfile = 0, efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), epfd, fds_before;
	lse_loop_opts o = { { LSE_MODE_RAW, 0, 0 }, NULL, accept_emfile, &emfile, -1, efd, 0, NULL };
	static lse_loop l;
	struct sockaddr_un addr;
	socklen_t len = sizeof addr;
	lse_sock ls;
	char name[64], err[256];
	uint64_t one = 1;

	snprintf(name, sizeof name, "@lsecho-test-loop-%ld", (long)getpid());
	CHECK_EQ(lse_sock_listen(&ls, name, err, sizeof err), 0);
	CHECK_EQ(getsockname(ls.fd, (struct sockaddr *)&addr, &len), 0);
	o.listen_fd = ls.fd;
	epfd = epoll_create1(EPOLL_CLOEXEC);
	CHECK(epfd >= 0);
	fds_before = lse_t_count_fds();

	/* The first loop registers both, then pauses accepting on EMFILE. */
	CHECK_EQ(lse_loop_init_on(&l, &o, epfd, 0), 0);
	CHECK(in_set(epfd, ls.fd) && in_set(epfd, efd));
	emfile = 1;
	{
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		CHECK_EQ(connect(fd, (const struct sockaddr *)&addr, len), 0);
		CHECK(lse_loop_run_once(&l, 0) > 0);
		CHECK(!in_set(epfd, ls.fd));   /* paused */
		close(fd);   /* never accepted: the kernel drops it */
	}
	emfile = 0;
	lse_loop_fini(&l);
	CHECK(in_set(epfd, ls.fd));   /* put back for the next loop */

	/* The next loop is told both are registered, and serves. */
	CHECK_EQ(lse_loop_init_on(&l, &o, epfd, 1), 0);
	echo_through(&l, &addr, len);
	/* Shut down: both leave the set, and fini puts them back. */
	CHECK_EQ(write(efd, &one, sizeof one), (ssize_t)sizeof one);
	settle(&l);
	CHECK(lse_loop_done(&l));
	CHECK(!in_set(epfd, ls.fd) && !in_set(epfd, efd));
	CHECK_EQ(read(efd, &one, sizeof one), (ssize_t)sizeof one);
	lse_loop_fini(&l);
	CHECK(in_set(epfd, ls.fd) && in_set(epfd, efd));

	/* And a third serves again; the set stays open, nothing else leaks. */
	CHECK_EQ(lse_loop_init_on(&l, &o, epfd, 1), 0);
	echo_through(&l, &addr, len);
	lse_loop_fini(&l);
	CHECK_EQ(lse_t_count_fds(), fds_before);
	CHECK_EQ(fcntl(epfd, F_GETFD), FD_CLOEXEC);
	close(epfd);
	lse_sock_close(&ls);
	close(efd);
}

/* The log: one line per call, prefixed, ending in a newline; a message
 * too long for the line is cut, never split. */
static void test_log_lines(void)
{
	static const char want[] = "lsecho-server: short 42\n";
	char big[1000], buf[2048];
	int pfd[2], saved = dup(2);
	ssize_t n;

	CHECK_EQ(pipe(pfd), 0);
	CHECK_EQ(dup2(pfd[1], 2), 2);
	lse_log("short %d", 42);
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	lse_log("%s", big);
	dup2(saved, 2);
	close(saved);
	close(pfd[1]);
	n = read(pfd[0], buf, sizeof buf);
	close(pfd[0]);
	CHECK_EQ(n, (ssize_t)(sizeof want - 1) + 511);
	CHECK(n > 0 && memcmp(buf, want, sizeof want - 1) == 0);
	if (n == (ssize_t)(sizeof want - 1) + 511) {
		const char *l = buf + sizeof want - 1;
		CHECK(memcmp(l, "lsecho-server: xxx", 18) == 0);
		CHECK(memchr(l, '\n', 510) == NULL && l[510] == '\n');
	}
}

/* A peer that goes away with output unread: the server's read hears
 * ECONNRESET (or its write EPIPE), the connection is closed, and the loop
 * settles with nothing held. */
static void test_loop_peer_reset(void)
{
	lse_loop_opts o = { { LSE_MODE_RAW, 0, 0 }, NULL, NULL, NULL, -1, -1, 0, NULL };
	static lse_loop l;
	int fds_before = lse_t_count_fds();
	uint8_t junk[3000];

	memset(junk, 'r', sizeof junk);
	CHECK_EQ(lse_loop_init(&l, &o), 0);
	for (int k = 0; k < 4; k++) {
		int sv[2];

		CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
		CHECK_EQ(lse_loop_add(&l, sv[1]), 0);
		CHECK_EQ(write(sv[0], junk, sizeof junk), (ssize_t)sizeof junk);
		settle(&l);   /* echoed into the client's socket, never read */
		if (k % 2)   /* and more input the server has not read yet */
			CHECK_EQ(write(sv[0], junk, 100), 100);
		close(sv[0]);
	}
	settle(&l);
	CHECK_EQ(lse_loop_count(&l), 0);
	lse_loop_fini(&l);
	CHECK_EQ(lse_t_count_fds(), fds_before);
}

/* A descriptor epoll refuses (a regular file): lse_loop_add says so and
 * closes it, as its contract promises. */
static void test_loop_add_refused(void)
{
	lse_loop_opts o = { { LSE_MODE_RAW, 0, 0 }, NULL, NULL, NULL, -1, -1, 0, NULL };
	static lse_loop l;
	FILE *f = tmpfile();
	int fd = f ? dup(fileno(f)) : -1;

	CHECK(fd >= 0);
	CHECK_EQ(lse_loop_init(&l, &o), 0);
	CHECK_EQ(lse_loop_add(&l, fd), -1);
	CHECK(fcntl(fd, F_GETFD) == -1 && errno == EBADF);
	CHECK_EQ(lse_loop_count(&l), 0);
	lse_loop_fini(&l);
	if (f)
		fclose(f);
}

/* A loop that cannot start says so, and its fini closes nothing that is
 * not its own: here descriptor 0 is a regular file that epoll refuses as a
 * listener, then as the stop descriptor, then a bad configuration fails
 * before any epoll set exists. */
static void test_loop_init_fails(void)
{
	lse_loop_opts o = { { LSE_MODE_RAW, 0, 0 }, NULL, NULL, NULL, 0, -1, 0, NULL };
	static lse_loop l;
	int saved0 = dup(0);
	FILE *f = tmpfile();

	CHECK(f != NULL && saved0 >= 0);
	if (f == NULL)
		return;
	CHECK_EQ(dup2(fileno(f), 0), 0);
	CHECK_EQ(lse_loop_init(&l, &o), -1);
	lse_loop_fini(&l);
	CHECK(fcntl(0, F_GETFD) >= 0);   /* still open */
	o.listen_fd = -1;   /* the same, as the stop descriptor */
	o.stop_fd = 0;
	errno = 0;
	CHECK_EQ(lse_loop_init(&l, &o), -1);
	CHECK_EQ(errno, EPERM);
	lse_loop_fini(&l);
	CHECK(fcntl(0, F_GETFD) >= 0);
	o.stop_fd = -1;
	o.listen_fd = -1;
	o.cfg.chunk = LSE_CHUNK_MAX + 1;
	CHECK_EQ(lse_loop_init(&l, &o), -1);
	CHECK_EQ(errno, EINVAL);
	lse_loop_fini(&l);
	CHECK(fcntl(0, F_GETFD) >= 0);
	dup2(saved0, 0);
	close(saved0);
	fclose(f);
}

/* No memory for a connection: refused, closed, logged. */
static void add_without_memory(void *arg)
{
	lse_loop *l = arg;
	int sv[2];

	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	CHECK_EQ(lse_loop_add(l, sv[1]), -1);
	CHECK(fcntl(sv[1], F_GETFD) == -1 && errno == EBADF);
	CHECK_EQ(lse_loop_count(l), 0);
	close(sv[0]);
}

static void test_loop_add_nomem(void)
{
	lse_failmem fm = { .fail_at = 1 };
	lse_mem mem = lse_failmem_mem(&fm);
	lse_loop_opts o = { { LSE_MODE_RAW, 0, 0 }, NULL, NULL, NULL, -1, -1, 0, &mem };
	static lse_loop l;
	char log[512];

	CHECK_EQ(lse_loop_init(&l, &o), 0);
	lse_t_capture_stderr(add_without_memory, &l, log, sizeof log);
	CHECK(strcmp(log, "lsecho-server: out of memory: refused a connection\n") == 0);
	lse_loop_fini(&l);
	CHECK_EQ(fm.live, 0);
}

/* How many times needle occurs in hay. */
static int occurrences(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* EMFILE on two accepts in a row: paused both times, logged once. */
/* The timeout each epoll_wait was asked for (linked with
 * --wrap=epoll_wait). While probing, the wait itself is made with timeout
 * 0, so a test can ask for a long wait and see what the loop would do. */
int __real_epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout);
static int wait_probe, wait_timeout, wait_errno;

int __wrap_epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout)
{
	wait_timeout = timeout;
	if (wait_errno) {   /* the next wait fails with it, once */
		errno = wait_errno;
		wait_errno = 0;
		return -1;
	}
	return __real_epoll_wait(epfd, ev, max, wait_probe ? 0 : timeout);
}

/* The timeout a pass of l asked for, given its own timeout. */
static int timeout_of(lse_loop *l, int timeout)
{
	wait_probe = 1;
	wait_timeout = -2;
	lse_loop_run_once(l, timeout);
	wait_probe = 0;
	return wait_timeout;
}

/* The loop neither spins nor sleeps through what it owes: idle, it waits
 * as long as asked; shutting down, no longer than the drain deadline, and
 * not at all once it has passed. */
static void test_loop_waits(void)
{
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), sv[2], small = 4096, t;
	lse_loop_opts o = { { LSE_MODE_RAW, 0, 0 }, NULL, NULL, NULL, -1, efd, 0, NULL };
	static lse_loop l;
	static uint8_t in[100000];
	uint64_t one = 1;

	CHECK_EQ(lse_loop_init(&l, &o), 0);
	wait_errno = EINTR;   /* interrupted (as after SIGSTOP and SIGCONT): not an error */
	CHECK_EQ(lse_loop_run_once(&l, 0), 0);
	/* Any other failure is the loop's end: -1, errno kept, so the thread
	 * running it stops instead of spinning on a broken set. */
	wait_errno = EBADF;
	errno = 0;
	CHECK_EQ(lse_loop_run_once(&l, -1), -1);
	CHECK_EQ(errno, EBADF);
	CHECK_EQ(timeout_of(&l, -1), -1);
	CHECK_EQ(timeout_of(&l, 0), 0);
	CHECK_EQ(timeout_of(&l, 150), 150);
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
	CHECK_EQ(lse_loop_add(&l, sv[1]), 0);
	for (int k = 0; k < 20; k++) {   /* owed output the client never reads */
		if (write(sv[0], in, sizeof in) < 0)
			break;
		settle(&l);
	}
	CHECK_EQ(write(efd, &one, sizeof one), (ssize_t)sizeof one);
	settle(&l);
	CHECK(!lse_loop_done(&l));
	t = timeout_of(&l, -1);
	CHECK(t > 1000 && t <= 2000);
	CHECK_EQ(timeout_of(&l, 50), 50);
	CHECK_EQ(timeout_of(&l, 0), 0);
	l.deadline_ms = mono_ms() - 5;   /* as if 2 s had passed */
	CHECK(lse_loop_done(&l));
	CHECK_EQ(timeout_of(&l, -1), 0);
	CHECK_EQ(timeout_of(&l, 300), 0);
	lse_loop_fini(&l);
	close(sv[0]);
	close(efd);
}

struct emfile_run {
	lse_loop *l;
	int *emfile;
	const struct sockaddr_un *addr;
	socklen_t len;
	int fd;
};

static void emfile_twice(void *arg)
{
	struct emfile_run *r = arg;
	/* Paused, a pass looks again within 100 ms however long it was asked
	 * to wait, and waits no longer than asked; a quiet pass resumes. */
	static const int asked[] = { -1, 500, 0, 50 }, want[] = { 100, 100, 0, 50 };

	*r->emfile = 1;
	r->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK_EQ(connect(r->fd, (const struct sockaddr *)r->addr, r->len), 0);
	for (int k = 0; k < 4; k++) {
		CHECK_EQ(lse_loop_run_once(r->l, 0), 1);   /* EMFILE: paused */
		CHECK(!r->l->accepting);
		CHECK_EQ(timeout_of(r->l, asked[k]), want[k]);
		CHECK(r->l->accepting);
	}
	*r->emfile = 0;
}

/* Accepting: at most 64 connections per wake-up, so other work on the
 * thread goes on; a batch that ends in EAGAIN keeps the listener; EMFILE
 * pauses it and is logged once; descriptor 0 is a descriptor like any
 * other (the listener's, then an accepted connection's, finished at
 * shutdown like the rest). */
static void test_loop_accepting(void)
{
	int emfile = 0, efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), epfd = epoll_create1(EPOLL_CLOEXEC);
	lse_loop_opts o = { { LSE_MODE_RAW, 0, 0 }, NULL, accept_emfile, &emfile, -1, efd, 0, NULL };
	static lse_loop l;
	struct sockaddr_un addr;
	socklen_t len = sizeof addr;
	int saved0 = dup(0), clients[100], fd, fds_before = lse_t_count_fds();
	lse_sock ls;
	char name[64], err[256], log[1024], buf[16];
	uint64_t one = 1;
	struct emfile_run er = { &l, &emfile, &addr, 0, -1 };

	snprintf(name, sizeof name, "@lsecho-test-accept-%ld", (long)getpid());
	close(0);
	CHECK_EQ(lse_sock_listen(&ls, name, err, sizeof err), 0);
	CHECK_EQ(ls.fd, 0);
	CHECK_EQ(getsockname(ls.fd, (struct sockaddr *)&addr, &len), 0);
	er.len = len;
	o.listen_fd = ls.fd;
	CHECK_EQ(lse_loop_init_on(&l, &o, epfd, 0), 0);
	CHECK(in_set(epfd, ls.fd));
	for (int i = 0; i < 100; i++) {
		clients[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		CHECK_EQ(connect(clients[i], (const struct sockaddr *)&addr, len), 0);
	}
	CHECK_EQ(lse_loop_run_once(&l, 0), 1);
	CHECK_EQ(lse_loop_count(&l), 64);
	settle(&l);
	CHECK_EQ(lse_loop_count(&l), 100);
	CHECK(in_set(epfd, ls.fd));   /* the batches ended in EAGAIN */
	for (int i = 0; i < 100; i++)
		close(clients[i]);
	settle(&l);
	CHECK_EQ(lse_loop_count(&l), 0);
	lse_t_capture_stderr(emfile_twice, &er, log, sizeof log);
	if (!CHECK_EQ(occurrences(log, "pausing new connections"), 1) || strstr(log, "failed"))
		fputs(log, stderr);   /* the checks' own messages, if any */
	timeout_of(&l, 0);   /* quiet: listening again */
	settle(&l);
	CHECK_EQ(lse_loop_count(&l), 1);   /* accepted once descriptors were back */
	close(er.fd);
	settle(&l);
	/* Paused: activity on a connection does not resume accepting, its
	 * close does (a descriptor came free). */
	{
		int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), c2 = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		char b[8];

		CHECK_EQ(connect(c, (const struct sockaddr *)&addr, len), 0);
		settle(&l);
		CHECK_EQ(lse_loop_count(&l), 1);
		emfile = 1;
		CHECK_EQ(connect(c2, (const struct sockaddr *)&addr, len), 0);
		CHECK_EQ(lse_loop_run_once(&l, 0), 1);
		CHECK(!l.accepting);
		CHECK_EQ(write(c, "act", 3), 3);
		CHECK_EQ(lse_loop_run_once(&l, 0), 1);   /* the echo */
		CHECK(!l.accepting);
		CHECK_EQ(read(c, b, sizeof b), 3);
		close(c);
		CHECK_EQ(lse_loop_run_once(&l, 0), 1);   /* the close */
		CHECK(l.accepting);
		emfile = 0;
		settle(&l);
		CHECK_EQ(lse_loop_count(&l), 1);   /* c2, accepted at last */
		close(c2);
		settle(&l);
		CHECK_EQ(lse_loop_count(&l), 0);
	}
	lse_loop_fini(&l);
	lse_sock_close(&ls);

	/* Stop and a connection ready in the same pass, the stop first: the
	 * connection is not taken. */
	{
		int efd2 = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		lse_loop_opts o2 = o;

		o2.stop_fd = efd2;
		CHECK_EQ(lse_sock_listen(&ls, name, err, sizeof err), 0);
		o2.listen_fd = ls.fd;
		CHECK_EQ(lse_loop_init(&l, &o2), 0);
		CHECK_EQ(write(efd2, &one, sizeof one), (ssize_t)sizeof one);
		CHECK_EQ(connect(c, (const struct sockaddr *)&addr, len), 0);
		CHECK_EQ(lse_loop_run_once(&l, 0), 2);
		CHECK_EQ(lse_loop_count(&l), 0);
		CHECK(lse_loop_done(&l));
		lse_loop_fini(&l);
		lse_sock_close(&ls);
		close(c);
		close(efd2);
	}

	/* An accepted connection on descriptor 0. */
	CHECK_EQ(dup2(saved0, 0), 0);
	CHECK_EQ(lse_sock_listen(&ls, name, err, sizeof err), 0);
	o.listen_fd = ls.fd;
	CHECK_EQ(lse_loop_init(&l, &o), 0);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	close(0);
	CHECK_EQ(connect(fd, (const struct sockaddr *)&addr, len), 0);
	settle(&l);
	CHECK(lse_conntab_get(&l.tab, 0) != NULL);
	CHECK_EQ(write(fd, "zero", 4), 4);
	settle(&l);
	CHECK_EQ(read(fd, buf, sizeof buf), 4);
	CHECK_EQ(write(efd, &one, sizeof one), (ssize_t)sizeof one);
	settle(&l);
	CHECK(lse_loop_done(&l));
	CHECK_EQ(lse_loop_count(&l), 0);
	CHECK_EQ(read(fd, buf, sizeof buf), 0);   /* closed at shutdown */
	close(fd);
	lse_loop_fini(&l);
	lse_sock_close(&ls);
	close(efd);
	close(epfd);
	dup2(saved0, 0);
	close(saved0);
	CHECK_EQ(lse_t_count_fds(), fds_before - 3);   /* efd, epfd, saved0 */
}

/* Descriptor 0 made free, as for a daemon started with stdin closed; the
 * saved copy for restore0. */
static int free0(void)
{
	int saved = dup(0);

	close(0);
	return saved;
}

static void restore0(int saved)
{
	dup2(saved, 0);
	close(saved);
}

/* A connection whose new interest epoll cannot take (EPOLL_CTL_MOD fails):
 * closed, never left registered for what it no longer wants (a reader
 * lagging behind its echo would otherwise wait forever for an EPOLLOUT the
 * set was never told of). */
static void test_loop_mod_fails(void)
{
	lse_loop_opts o = { { LSE_MODE_RAW, 0, 0 }, NULL, NULL, NULL, -1, -1, 0, NULL };
	static lse_loop l;
	static uint8_t in[200000];
	int sv[2], small = 4096, fds_before = lse_t_count_fds();
	uint8_t buf[8192];
	size_t sent = 0;
	ssize_t n;

	CHECK_EQ(lse_loop_init(&l, &o), 0);
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
	CHECK_EQ(lse_loop_add(&l, sv[1]), 0);
	ctl_fail_op = EPOLL_CTL_MOD;
	for (int round = 0; round < 50 && lse_loop_count(&l) > 0; round++) {
		while (sent < sizeof in && (n = write(sv[0], in + sent, sizeof in - sent)) > 0)
			sent += (size_t)n;
		settle(&l);
	}
	ctl_fail_op = 0;
	CHECK(ctl_count[EPOLL_CTL_MOD] > 0);
	CHECK_EQ(lse_loop_count(&l), 0);
	while ((n = read(sv[0], buf, sizeof buf)) > 0)
		;
	CHECK(n == 0 || errno == ECONNRESET);   /* the end, after what was echoed */
	close(sv[0]);
	lse_loop_fini(&l);
	CHECK_EQ(lse_t_count_fds(), fds_before);
}

/* An accept hook that hands out, once, a descriptor with no peer
 * credentials (a pipe: SO_PEERCRED fails), then accepts for real. */
struct odd_accept {
	int fd;
};

static int accept_odd(void *ctx, int listen_fd)
{
	struct odd_accept *a = ctx;
	int fd = a->fd;

	if (fd >= 0) {
		a->fd = -1;
		return fd;
	}
	return accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

struct uncredited {
	lse_loop *l;
	int client;
};

static void settle_uncredited(void *arg)
{
	settle(((struct uncredited *)arg)->l);
}

/* A peer whose credentials cannot be read is refused like a stranger:
 * closed and logged, never served; the next one in the batch still is. */
static void test_loop_peer_uncredited(void)
{
	int pfd[2], efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), fds_before;
	struct odd_accept a = { -1 };
	lse_loop_opts o = { { LSE_MODE_RAW, 0, 0 }, NULL, accept_odd, &a, -1, efd, 0, NULL };
	static lse_loop l;
	struct uncredited u = { &l, -1 };
	struct sockaddr_un addr;
	socklen_t len = sizeof addr;
	lse_sock ls;
	char name[64], err[256], log[512], buf[8];

	snprintf(name, sizeof name, "@lsecho-test-cred-%ld", (long)getpid());
	CHECK_EQ(lse_sock_listen(&ls, name, err, sizeof err), 0);
	CHECK_EQ(getsockname(ls.fd, (struct sockaddr *)&addr, &len), 0);
	o.listen_fd = ls.fd;
	fds_before = lse_t_count_fds();
	CHECK_EQ(pipe2(pfd, O_CLOEXEC), 0);
	a.fd = pfd[0];
	CHECK_EQ(lse_loop_init(&l, &o), 0);
	u.client = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK_EQ(connect(u.client, (const struct sockaddr *)&addr, len), 0);
	lse_t_capture_stderr(settle_uncredited, &u, log, sizeof log);
	if (!CHECK(strstr(log, "lsecho-server: refused a peer: SO_PEERCRED: ") == log))
		fprintf(stderr, "  log: %s", log);
	CHECK(write(pfd[1], "x", 1) == -1 && errno == EPIPE);   /* its read end closed */
	CHECK_EQ(lse_loop_count(&l), 1);   /* the real client, served */
	CHECK_EQ(write(u.client, "ok", 2), 2);
	settle(&l);
	CHECK_EQ(read(u.client, buf, sizeof buf), 2);
	close(u.client);
	close(pfd[1]);
	settle(&l);
	lse_loop_fini(&l);
	CHECK_EQ(lse_t_count_fds(), fds_before);
	lse_sock_close(&ls);
	close(efd);
}

/* Every descriptor taken: init fails with EMFILE (from epoll_create1) and
 * opens nothing. Descriptor 0 free: the set may be descriptor 0, which is
 * as good as any, and fini closes it. */
static void test_loop_init_descriptors(void)
{
	lse_loop_opts o = { { LSE_MODE_RAW, 0, 0 }, NULL, NULL, NULL, -1, -1, 0, NULL };
	static lse_loop l;
	static int filler[4096];
	int nfill = 0, maxfd = 0, saved0, sv[2], fds_before = lse_t_count_fds();
	struct rlimit rl, low;
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	char buf[8];

	while (d && (e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' && atoi(e->d_name) > maxfd)
			maxfd = atoi(e->d_name);
	if (d)
		closedir(d);
	CHECK_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
	low = rl;
	low.rlim_cur = (rlim_t)maxfd + 1;
	CHECK_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
	while (nfill < 4096 && (filler[nfill] = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
		nfill++;
	errno = 0;
	CHECK_EQ(lse_loop_init(&l, &o), -1);
	CHECK_EQ(errno, EMFILE);
	lse_loop_fini(&l);
	while (nfill > 0)
		close(filler[--nfill]);
	CHECK_EQ(setrlimit(RLIMIT_NOFILE, &rl), 0);
	CHECK_EQ(lse_t_count_fds(), fds_before);

	saved0 = free0();
	CHECK_EQ(lse_loop_init(&l, &o), 0);
	CHECK_EQ(l.epfd, 0);
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	CHECK_EQ(lse_loop_add(&l, sv[1]), 0);
	CHECK_EQ(write(sv[0], "zero", 4), 4);
	settle(&l);
	CHECK_EQ(read(sv[0], buf, sizeof buf), 4);
	lse_loop_fini(&l);
	CHECK(fcntl(0, F_GETFD) == -1 && errno == EBADF);   /* the set, closed */
	CHECK_EQ(read(sv[0], buf, sizeof buf), 0);
	close(sv[0]);
	restore0(saved0);
	CHECK_EQ(lse_t_count_fds(), fds_before);
}

/* fini closes every connection it holds, descriptor 0's too. */
static void test_loop_fini_closes(void)
{
	lse_loop_opts o = { { LSE_MODE_RAW, 0, 0 }, NULL, NULL, NULL, -1, -1, 0, NULL };
	static lse_loop l;
	int saved0, sv[2], fds_before = lse_t_count_fds();
	char buf[8];

	CHECK_EQ(lse_loop_init(&l, &o), 0);
	saved0 = free0();
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	CHECK_EQ(sv[0], 0);
	CHECK_EQ(lse_loop_add(&l, sv[0]), 0);
	CHECK_EQ(write(sv[1], "held", 4), 4);
	settle(&l);
	CHECK_EQ(read(sv[1], buf, sizeof buf), 4);
	CHECK_EQ(lse_loop_count(&l), 1);
	lse_loop_fini(&l);
	CHECK(fcntl(0, F_GETFD) == -1 && errno == EBADF);
	CHECK_EQ(read(sv[1], buf, sizeof buf), 0);   /* the client sees the end */
	close(sv[1]);
	restore0(saved0);
	CHECK_EQ(lse_t_count_fds(), fds_before);
}

/* Lent sets at their edges: a bad configuration fails as lse_loop_init
 * does; the set, the stop descriptor and the listener may each be
 * descriptor 0; a loop told its listener is registered waits as long as
 * asked; and without a listener a shutdown takes out the stop descriptor
 * alone, and a fini with nothing to put back costs no syscall. */
static void test_loop_lent_edges(void)
{
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), epfd, saved0, fds_before;
	lse_loop_opts o = { { LSE_MODE_RAW, 0, 0 }, NULL, NULL, NULL, -1, efd, 0, NULL };
	static lse_loop l;
	uint64_t one = 1;
	lse_sock ls;
	char name[64], err[256];

	fds_before = lse_t_count_fds();
	o.cfg.chunk = LSE_CHUNK_MAX + 1;
	epfd = epoll_create1(EPOLL_CLOEXEC);
	errno = 0;
	CHECK_EQ(lse_loop_init_on(&l, &o, epfd, 0), -1);
	CHECK_EQ(errno, EINVAL);
	lse_loop_fini(&l);
	CHECK(fcntl(epfd, F_GETFD) >= 0);
	o.cfg.chunk = 0;
	/* No listener, the stop descriptor registered: shutdown takes one
	 * descriptor out, fini puts it back; a loop that was not shut down
	 * touches nothing at fini. */
	CHECK_EQ(lse_loop_init_on(&l, &o, epfd, 0), 0);
	memset(ctl_count, 0, sizeof ctl_count);
	lse_loop_fini(&l);
	CHECK_EQ(ctl_count[EPOLL_CTL_ADD] + ctl_count[EPOLL_CTL_DEL], 0);
	CHECK_EQ(lse_loop_init_on(&l, &o, epfd, 1), 0);
	CHECK_EQ(write(efd, &one, sizeof one), (ssize_t)sizeof one);
	memset(ctl_count, 0, sizeof ctl_count);
	settle(&l);
	CHECK(lse_loop_done(&l));
	CHECK_EQ(ctl_count[EPOLL_CTL_DEL], 1);
	CHECK_EQ(read(efd, &one, sizeof one), (ssize_t)sizeof one);
	lse_loop_fini(&l);
	CHECK(in_set(epfd, efd));
	close(epfd);

	/* The lent set is descriptor 0: fini leaves it open, as the
	 * caller's. */
	saved0 = free0();
	epfd = epoll_create1(EPOLL_CLOEXEC);
	CHECK_EQ(epfd, 0);
	CHECK_EQ(lse_loop_init_on(&l, &o, epfd, 0), 0);
	lse_loop_fini(&l);
	CHECK(in_set(0, efd));
	close(0);

	/* The stop descriptor is descriptor 0: after a shutdown, fini puts it
	 * back in the set. */
	CHECK_EQ(dup(efd), 0);
	o.stop_fd = 0;
	epfd = epoll_create1(EPOLL_CLOEXEC);
	CHECK_EQ(lse_loop_init_on(&l, &o, epfd, 0), 0);
	CHECK_EQ(write(efd, &one, sizeof one), (ssize_t)sizeof one);
	settle(&l);
	CHECK(lse_loop_done(&l));
	CHECK(!in_set(epfd, 0));
	CHECK_EQ(read(efd, &one, sizeof one), (ssize_t)sizeof one);
	lse_loop_fini(&l);
	CHECK(in_set(epfd, 0));
	close(0);
	close(epfd);

	/* The listener is descriptor 0 and registered already: the loop
	 * knows it is accepting, so it waits as long as asked (a paused one
	 * would look again every 100 ms). */
	snprintf(name, sizeof name, "@lsecho-test-lent0-%ld", (long)getpid());
	CHECK_EQ(lse_sock_listen(&ls, name, err, sizeof err), 0);
	CHECK_EQ(ls.fd, 0);
	o.stop_fd = efd;
	o.listen_fd = 0;
	epfd = epoll_create1(EPOLL_CLOEXEC);
	CHECK_EQ(lse_loop_init_on(&l, &o, epfd, 0), 0);
	lse_loop_fini(&l);
	CHECK_EQ(lse_loop_init_on(&l, &o, epfd, 1), 0);
	CHECK(l.accepting);
	CHECK_EQ(timeout_of(&l, -1), -1);
	lse_loop_fini(&l);
	close(epfd);
	lse_sock_close(&ls);
	restore0(saved0);
	CHECK_EQ(lse_t_count_fds(), fds_before);
	close(efd);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);   /* clients write to servers that closed */
	test_loop_registrations();
	test_loop_add_refused();
	test_loop_add_nomem();
	test_loop_init_fails();
	test_loop_waits();
	test_loop_accepting();
	test_log_lines();
	test_loop_peer_reset();
	test_loop_many_connections();
	test_loop_stop();
	test_loop_lent_set();
	test_loop_full_socket_not_written();
	test_loop_mod_fails();
	test_loop_peer_uncredited();
	test_loop_init_descriptors();
	test_loop_fini_closes();
	test_loop_lent_edges();
	return lse_t_report();
}
