/* lse_floor: see lse_floor.h. */
#include "lse_floor.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>

#define FLOOR_EVENTS 256

typedef struct floor_conn {
	int fd;
	uint32_t events;           /* registered: EPOLLIN or EPOLLOUT, never both */
	int eof;                   /* the peer half-closed: close once flushed */
	size_t rpos, wpos;         /* rpos <= wpos <= LSE_FLOOR_CHUNK; unsent: [rpos, wpos) */
	struct floor_conn *prev, *next;
	uint8_t buf[LSE_FLOOR_CHUNK];
} floor_conn;

typedef struct floor_worker {
	lse_floor *f;
	pthread_t tid;
	int started;
	int ep;
	floor_conn *conns;         /* every open connection of this thread */
} floor_worker;

struct lse_floor {
	int lfd;
	int stopfd;                /* eventfd, written once, never read: all see it */
	int bound;                 /* path was created by us: unlink it */
	int nworkers;
	floor_worker *w;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/* epoll_data.ptr tags for the two shared descriptors; connections use their
 * own address. */
static char listen_tag, stop_tag;

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static void conn_close(floor_worker *w, floor_conn *c)
{
	close(c->fd); /* also drops it from the epoll set */
	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
}

/* Returns -1 if the connection had to be closed. */
static int conn_want(floor_worker *w, floor_conn *c, uint32_t events)
{
	struct epoll_event e = { .events = events, .data.ptr = c };

	if (c->events == events)
		return 0;
	if (epoll_ctl(w->ep, EPOLL_CTL_MOD, c->fd, &e) != 0) {
		conn_close(w, c);
		return -1;
	}
	c->events = events;
	return 0;
}

static void conn_io(floor_worker *w, floor_conn *c)
{
	ssize_t n;

	if (c->wpos == 0 && !c->eof) {
		n = recv(c->fd, c->buf, sizeof c->buf, 0);
		if (n > 0) {
			c->wpos = (size_t)n;
		} else if (n == 0) {
			c->eof = 1;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
			return;
		} else {
			conn_close(w, c);
			return;
		}
	}
	while (c->rpos < c->wpos) {
		n = send(c->fd, c->buf + c->rpos, c->wpos - c->rpos, MSG_NOSIGNAL);
		if (n > 0) {
			c->rpos += (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			conn_want(w, c, EPOLLOUT);
			return;
		} else {
			conn_close(w, c);
			return;
		}
	}
	c->rpos = c->wpos = 0;
	if (c->eof)
		conn_close(w, c);
	else
		conn_want(w, c, EPOLLIN);
}

static void accept_all(floor_worker *w)
{
	for (;;) {
		int fd = accept4(w->f->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		floor_conn *c;
		struct epoll_event e = { .events = EPOLLIN };

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return; /* EAGAIN; or EMFILE and the like: retried next wakeup */
		}
		c = malloc(sizeof *c);
		if (c == NULL) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->events = EPOLLIN;
		c->eof = 0;
		c->rpos = c->wpos = 0;
		e.data.ptr = c;
		if (epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &e) != 0) {
			close(fd);
			free(c);
			continue;
		}
		c->prev = NULL;
		c->next = w->conns;
		if (w->conns)
			w->conns->prev = c;
		w->conns = c;
	}
}

static void *worker_main(void *arg)
{
	floor_worker *w = arg;
	struct epoll_event ev[FLOOR_EVENTS];

	for (;;) {
		int n = epoll_wait(w->ep, ev, FLOOR_EVENTS, -1);

		if (n < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n; i++) {
			void *p = ev[i].data.ptr;

			if (p == &stop_tag)
				goto out;
			if (p == &listen_tag)
				accept_all(w);
			else
				conn_io(w, p);
		}
	}
out:
	while (w->conns)
		conn_close(w, w->conns);
	return NULL;
}

static int listen_on(lse_floor *f, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa;

	if (strlen(path) >= sizeof sa.sun_path)
		return fail(err, errlen, "floor socket path is too long (%zu bytes, limit %zu)",
			    strlen(path), sizeof sa.sun_path - 1);
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	memcpy(f->path, path, strlen(path) + 1);
	f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (f->lfd < 0)
		return fail(err, errlen, "floor: socket: %s", strerror(errno));
	if (bind(f->lfd, (struct sockaddr *)&sa, sizeof sa) != 0)
		return fail(err, errlen, "floor: bind %s: %s", path, strerror(errno));
	f->bound = 1;
	if (listen(f->lfd, SOMAXCONN) != 0)
		return fail(err, errlen, "floor: listen %s: %s", path, strerror(errno));
	return 0;
}

static int worker_init(floor_worker *w, lse_floor *f)
{
	struct epoll_event le = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = &listen_tag };
	struct epoll_event se = { .events = EPOLLIN, .data.ptr = &stop_tag };

	w->f = f;
	w->ep = epoll_create1(EPOLL_CLOEXEC);
	if (w->ep < 0)
		return -1;
	if (epoll_ctl(w->ep, EPOLL_CTL_ADD, f->lfd, &le) != 0 ||
	    epoll_ctl(w->ep, EPOLL_CTL_ADD, f->stopfd, &se) != 0)
		return -1;
	return 0;
}

int lse_floor_start(lse_floor **out, const char *path, int threads,
		    char *err, size_t errlen)
{
	lse_floor *f;

	*out = NULL;
	if (threads < 1 || threads > 1024)
		return fail(err, errlen, "floor: threads must be 1..1024, not %d", threads);
	f = calloc(1, sizeof *f);
	if (f == NULL)
		return fail(err, errlen, "floor: out of memory");
	f->lfd = -1;
	f->nworkers = threads;
	f->stopfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	f->w = calloc((size_t)threads, sizeof *f->w);
	if (f->stopfd < 0 || f->w == NULL) {
		fail(err, errlen, "floor: cannot set up: %s", f->w ? strerror(errno) : "out of memory");
		goto bad;
	}
	for (int i = 0; i < threads; i++)
		f->w[i].ep = -1;
	if (listen_on(f, path, err, errlen) != 0)
		goto bad;
	for (int i = 0; i < threads; i++) {
		if (worker_init(&f->w[i], f) != 0) {
			fail(err, errlen, "floor: epoll: %s", strerror(errno));
			goto bad;
		}
	}
	for (int i = 0; i < threads; i++) {
		int e = pthread_create(&f->w[i].tid, NULL, worker_main, &f->w[i]);

		if (e != 0) {
			fail(err, errlen, "floor: cannot start thread: %s", strerror(e));
			goto bad;
		}
		f->w[i].started = 1;
	}
	*out = f;
	return 0;
bad:
	lse_floor_stop(f);
	return -1;
}

const char *lse_floor_path(const lse_floor *f)
{
	return f->path;
}

void lse_floor_stop(lse_floor *f)
{
	uint64_t one = 1;

	if (f == NULL)
		return;
	if (f->stopfd >= 0 && write(f->stopfd, &one, sizeof one) < 0) {
		/* Counter saturated: already stopping. */
	}
	for (int i = 0; f->w && i < f->nworkers; i++) {
		if (f->w[i].started)
			pthread_join(f->w[i].tid, NULL);
		if (f->w[i].ep >= 0)
			close(f->w[i].ep);
	}
	free(f->w);
	if (f->lfd >= 0)
		close(f->lfd);
	if (f->bound)
		unlink(f->path);
	if (f->stopfd >= 0)
		close(f->stopfd);
	free(f);
}
