/* lse_loop: epoll registration, accept, dispatch, shutdown (contract in
 * lse_loop.h). Every protocol decision stays in the core. */
#define _GNU_SOURCE
#include "lse_loop.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS 256
#define ACCEPT_BATCH 64
#define PAUSE_MS 100           /* accept pause after EMFILE/ENFILE */
#define DRAIN_DEADLINE_MS 2000 /* shutdown: time to send what is owed */

void lse_log(const char *fmt, ...)
{
	/* One write per line: every loop thread logs, and three stdio calls
	 * on unbuffered stderr could interleave with another thread's. A line
	 * too long for the buffer is cut, never split. */
	static const char prefix[] = "lsecho-server: ";
	char line[512];
	size_t len = sizeof prefix - 1;
	va_list ap;

	memcpy(line, prefix, len);
	va_start(ap, fmt);
	vsnprintf(line + len, sizeof line - len - 1, fmt, ap);
	va_end(ap);
	len += strlen(line + len);
	line[len++] = '\n';
	fwrite(line, 1, len, stderr);
}

/* ---- the socket calls behind lse_io ---- */

/* A byte count, or errno mapped: every hard error closes the connection. */
static ptrdiff_t io_result(ssize_t n)
{
	if (n >= 0)
		return n;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return LSE_IO_AGAIN;
	return errno == EINTR ? LSE_IO_INTR : LSE_IO_BROKEN;
}

static ptrdiff_t sys_read(void *ctx, int fd, uint8_t *buf, size_t len)
{
	(void)ctx;
	return io_result(read(fd, buf, len));
}

static ptrdiff_t sys_write(void *ctx, int fd, const uint8_t *buf, size_t len)
{
	(void)ctx;
	/* MSG_NOSIGNAL: a vanished peer is EPIPE here, never SIGPIPE. */
	return io_result(send(fd, buf, len, MSG_NOSIGNAL));
}

static const lse_io sys_io = { sys_read, sys_write, NULL };

const lse_io *lse_loop_sys_io(void)
{
	return &sys_io;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* ---- connections ---- */

static uint32_t events_of(unsigned interest)
{
	return (interest & LSE_WANT_READ ? EPOLLIN | EPOLLRDHUP : 0) |
	       (interest & LSE_WANT_WRITE ? EPOLLOUT : 0);
}

/* No EPOLL_CTL_DEL first: the loop holds the only descriptor of the socket,
 * so close() takes it out of the epoll set, and a syscall per connection is
 * saved. */
static void conn_close(lse_loop *l, int fd)
{
	close(fd);
	lse_conntab_del(&l->tab, fd);
}

static void conn_service(lse_loop *l, lse_conn *c, uint32_t ev)
{
	/* Registered for EPOLLOUT and not told of it, the socket is full: a
	 * write would only hear EAGAIN (and cost a syscall per input event of
	 * a connection whose reader lags). Not registered, there is room as
	 * far as the loop knows: output made now is tried at once. */
	unsigned ready = (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR) ? LSE_WANT_READ : 0) |
			 (!(c->interest & LSE_WANT_WRITE) || (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR))
				  ? LSE_WANT_WRITE : 0);
	unsigned interest = lse_conn_run(c, l->o.io, ready, l->scratch, sizeof l->scratch);
	struct epoll_event e;

	if (interest == LSE_CLOSED || interest == 0) {
		if (c->fault != NULL)
			lse_log("closing fd %d: %s", c->fd, c->fault);
		conn_close(l, c->fd);
		return;
	}
	if (interest == c->interest)
		return;
	e.events = events_of(interest);
	e.data.fd = c->fd;
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, c->fd, &e) != 0) {
		conn_close(l, c->fd);
		return;
	}
	c->interest = interest;
}

int lse_loop_add(lse_loop *l, int fd)
{
	struct epoll_event e;
	lse_conn *c;

	if (lse_conntab_add(&l->tab, fd, &c) != LSE_OK) {
		lse_log("out of memory: refused a connection");
		close(fd);
		return -1;
	}
	c->interest = LSE_WANT_READ;
	e.events = events_of(c->interest);
	e.data.fd = fd;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &e) != 0) {
		lse_conntab_del(&l->tab, fd);
		close(fd);
		return -1;
	}
	return 0;
}

/* ---- accept ---- */

/* Registers the listening or stop descriptor. */
static int set_add(lse_loop *l, int fd, uint32_t events)
{
	struct epoll_event e = { .events = events, .data.fd = fd };

	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &e);
}

static int peer_allowed(const lse_loop *l, int fd)
{
	struct ucred cr;
	socklen_t len = sizeof cr;

	if (l->o.any_uid)
		return 1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0) {
		lse_log("refused a peer: SO_PEERCRED: %s", strerror(errno));
		return 0;
	}
	if (cr.uid == getuid())
		return 1;
	lse_log("refused a peer: uid %u pid %d (serving uid %u only; --any-uid lifts this)",
		(unsigned)cr.uid, (int)cr.pid, (unsigned)getuid());
	return 0;
}

static void accept_pause(lse_loop *l, int err)
{
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, l->o.listen_fd, NULL);
	l->accepting = 0;
	if (!l->emfile_logged)
		lse_log("accept: %s: pausing new connections until descriptors free up",
			strerror(err));
	l->emfile_logged = 1;
}

static void accept_resume(lse_loop *l)
{
	if (l->accepting || l->o.listen_fd < 0 || l->deadline_ms >= 0 ||
	    set_add(l, l->o.listen_fd, EPOLLIN | EPOLLEXCLUSIVE) != 0)
		return;
	l->accepting = 1;
}

static int sys_accept(void *ctx, int listen_fd)
{
	(void)ctx;
	return accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

static void accept_some(lse_loop *l)
{
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		int fd = l->o.accept(l->o.accept_ctx, l->o.listen_fd);

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
				accept_pause(l, errno);
			return;   /* EAGAIN, EINTR, ECONNABORTED: try on the next event */
		}
		if (!peer_allowed(l, fd)) {
			close(fd);
			continue;
		}
		lse_loop_add(l, fd);
	}
}

/* ---- the loop ---- */

/* Stop accepting and reading everywhere; what is owed still goes out. */
static void begin_shutdown(lse_loop *l)
{
	if (l->accepting)
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, l->o.listen_fd, NULL);
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, l->o.stop_fd, NULL);
	l->accepting = 0;
	l->deadline_ms = now_ms() + DRAIN_DEADLINE_MS;
	for (size_t fd = 0; fd < l->tab.cap; fd++) {
		lse_conn *c = lse_conntab_get(&l->tab, (int)fd);
		if (c) {
			lse_sess_eof(c->sess);
			conn_service(l, c, EPOLLOUT);
		}
	}
}

int lse_loop_run_once(lse_loop *l, int timeout_ms)
{
	struct epoll_event ev[MAX_EVENTS];
	int n;

	if (l->deadline_ms >= 0) {
		long left = l->deadline_ms - now_ms();
		timeout_ms = left <= 0 ? 0 : timeout_ms < 0 || left < timeout_ms ? (int)left : timeout_ms;
	} else if (!l->accepting && l->o.listen_fd >= 0 &&
		   (timeout_ms < 0 || timeout_ms > PAUSE_MS)) {
		timeout_ms = PAUSE_MS;   /* accepting is paused: look again soon */
	}
	n = epoll_wait(l->epfd, ev, MAX_EVENTS, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -1;
	if (n == 0)
		accept_resume(l);
	for (int i = 0; i < n; i++) {
		int fd = ev[i].data.fd;
		lse_conn *c;

		if (fd == l->o.stop_fd) {
			if (l->deadline_ms < 0)
				begin_shutdown(l);
		} else if (fd == l->o.listen_fd) {
			if (l->deadline_ms < 0)
				accept_some(l);
		} else if ((c = lse_conntab_get(&l->tab, fd)) != NULL) {
			/* Re-checked: an earlier event may have closed it. */
			size_t before = l->tab.count;
			conn_service(l, c, ev[i].events);
			if (l->tab.count < before)
				accept_resume(l);
		}
	}
	return n;
}

int lse_loop_done(const lse_loop *l)
{
	return l->deadline_ms >= 0 && (l->tab.count == 0 || now_ms() >= l->deadline_ms);
}

size_t lse_loop_count(const lse_loop *l)
{
	return l->tab.count;
}

/* Everything but the epoll set. */
static int loop_prepare(lse_loop *l, const lse_loop_opts *o)
{
	/* All but the scratch buffer, which is only ever written before read:
	 * 64 KiB of zeroes per loop would dominate a harness making one per
	 * input. */
	memset(l, 0, offsetof(lse_loop, scratch));
	l->o = *o;
	if (l->o.io == NULL)
		l->o.io = &sys_io;
	if (l->o.accept == NULL)
		l->o.accept = sys_accept;
	l->deadline_ms = -1;
	l->epfd = -1;
	if (lse_conntab_init(&l->tab, &o->cfg, o->mem) != LSE_OK) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* Puts the stop and listening descriptors into the set. */
static int loop_register(lse_loop *l)
{
	if (l->o.stop_fd >= 0 && set_add(l, l->o.stop_fd, EPOLLIN) != 0)
		return -1;
	accept_resume(l);
	return l->o.listen_fd < 0 || l->accepting ? 0 : -1;
}

int lse_loop_init(lse_loop *l, const lse_loop_opts *o)
{
	if (loop_prepare(l, o) != 0)
		return -1;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		return -1;
	return loop_register(l);
}

int lse_loop_init_on(lse_loop *l, const lse_loop_opts *o, int epfd, int registered)
{
	if (loop_prepare(l, o) != 0)
		return -1;
	l->epfd = epfd;
	l->lent = 1;
	if (!registered)
		return loop_register(l);
	l->accepting = o->listen_fd >= 0;
	return 0;
}

void lse_loop_fini(lse_loop *l)
{
	for (size_t fd = 0; fd < l->tab.cap; fd++)
		if (lse_conntab_get(&l->tab, (int)fd))
			conn_close(l, (int)fd);
	lse_conntab_free(&l->tab);
	if (l->lent && l->epfd >= 0) {
		/* As the next loop on the set expects it: a listener paused
		 * after EMFILE, or both after a shutdown, go back in. */
		if (l->o.stop_fd >= 0 && l->deadline_ms >= 0)
			set_add(l, l->o.stop_fd, EPOLLIN);
		l->deadline_ms = -1;
		accept_resume(l);
	} else if (l->epfd >= 0) {
		close(l->epfd);
	}
	l->epfd = -1;
}
