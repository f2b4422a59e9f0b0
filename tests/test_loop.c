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
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "feed.h"
#include "lse_loop.h"
#include "lse_sock.h"
#include "model.h"

#define CONNS 40

typedef struct client {
	int fd;
	lse_bytes sent, got;
	size_t pos;        /* of sent, written so far */
	int shut, eof, stall;
	int dead;          /* a write failed: the server closed; stop writing */
} client;

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;   /* the DIR's own descriptor */
}

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
	int fds_before = count_fds(), live = 1;

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
	CHECK_EQ(count_fds(), fds_before);
}

/* The stop descriptor: the loop stops reading, sends what is owed, then is
 * done; fini closes what is left. */
static void test_loop_stop(void)
{
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), sv[2];
	lse_loop_opts o = { { LSE_MODE_RAW, 0, 0 }, NULL, NULL, NULL, -1, efd, 0, NULL };
	static lse_loop l;
	uint64_t one = 1;
	char buf[16];
	int fds_before = count_fds();

	CHECK_EQ(lse_loop_init(&l, &o), 0);
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	CHECK_EQ(lse_loop_add(&l, sv[1]), 0);
	CHECK_EQ(write(sv[0], "hello", 5), 5);
	settle(&l);
	CHECK(!lse_loop_done(&l));
	CHECK_EQ(write(efd, &one, sizeof one), (ssize_t)sizeof one);
	CHECK_EQ(write(sv[0], "late", 4), 4);   /* never read: shutting down */
	settle(&l);
	CHECK(lse_loop_done(&l));
	CHECK_EQ(lse_loop_count(&l), 0);
	CHECK_EQ(read(sv[0], buf, sizeof buf), 5);
	/* Closed after the echo. "late" was never read, so Linux reports the
	 * close of a socket with unread input as a reset, after the data. */
	CHECK(read(sv[0], buf, sizeof buf) == 0 || errno == ECONNRESET);
	lse_loop_fini(&l);
	close(sv[0]);
	CHECK_EQ(count_fds(), fds_before);
	close(efd);
}

/* The real write, counting the calls it is asked for (ctx: an int). */
static ptrdiff_t counted_write(void *ctx, int fd, const uint8_t *buf, size_t len)
{
	++*(int *)ctx;
	return lse_loop_sys_io()->write(NULL, fd, buf, len);
}

/* A connection whose reader lags: once the loop waits for room (EPOLLOUT),
 * more input is read without a write into the full socket, and the echo
 * resumes, whole and in order, when the reader drains it. */
static void test_loop_full_socket_not_written(void)
{
	int writes = 0, sv[2], small = 4096, before, fds_before = count_fds();
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
	CHECK_EQ(count_fds(), fds_before);
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
	fds_before = count_fds();

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
	CHECK_EQ(count_fds(), fds_before);
	CHECK_EQ(fcntl(epfd, F_GETFD), FD_CLOEXEC);
	close(epfd);
	lse_sock_close(&ls);
	close(efd);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);   /* clients write to servers that closed */
	test_loop_many_connections();
	test_loop_stop();
	test_loop_lent_set();
	test_loop_full_socket_not_written();
	return lse_t_report();
}
