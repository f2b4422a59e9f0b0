/* lse_server: listening socket, event-loop threads, accept, shutdown
 * (contract in lse_server.h). Protocol decisions all live in the core:
 * this file moves bytes and file descriptors. */
#define _GNU_SOURCE
#include "lse_server.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lse_conn.h"
#include "lse_sock.h"

#define MAX_EVENTS 256
#define ACCEPT_BATCH 64
#define PAUSE_MS 100          /* accept pause after EMFILE/ENFILE */
#define DRAIN_DEADLINE_MS 2000 /* shutdown: time to send what is owed */

typedef struct worker {
	struct lse_server *srv;
	pthread_t tid;
	int started;
	int epfd;
	int accepting;          /* the listening fd is in this epoll set */
	int emfile_logged;
	lse_conntab tab;
	uint8_t scratch[65536];
} worker;

struct lse_server {
	lse_server_opts o;
	lse_sess_config cfg;
	lse_sock sock;
	int stop_fd;            /* eventfd: readable once stop is asked */
	int nworkers;
	worker *w;
};

static void logf_(const char *fmt, ...)
{
	va_list ap;

	fputs("lsecho-server: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
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

/* ---- epoll registration ---- */

static uint32_t events_of(unsigned interest)
{
	return (interest & LSE_WANT_READ ? EPOLLIN | EPOLLRDHUP : 0) |
	       (interest & LSE_WANT_WRITE ? EPOLLOUT : 0);
}

static void conn_close(worker *w, int fd)
{
	epoll_ctl(w->epfd, EPOLL_CTL_DEL, fd, NULL);
	close(fd);
	lse_conntab_del(&w->tab, fd);
}

static void conn_service(worker *w, lse_conn *c, uint32_t ev)
{
	int readable = (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
	unsigned interest = lse_conn_run(c, &sys_io, readable, w->scratch, sizeof w->scratch);
	struct epoll_event e;

	if (interest == LSE_CLOSED || interest == 0) {
		conn_close(w, c->fd);
		return;
	}
	if (interest == c->interest)
		return;
	e.events = events_of(interest);
	e.data.fd = c->fd;
	if (epoll_ctl(w->epfd, EPOLL_CTL_MOD, c->fd, &e) != 0) {
		conn_close(w, c->fd);
		return;
	}
	c->interest = interest;
}

/* ---- accept ---- */

static int peer_allowed(const lse_server *srv, int fd)
{
	struct ucred cr;
	socklen_t len = sizeof cr;

	if (srv->o.any_uid)
		return 1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0) {
		logf_("refused a peer: SO_PEERCRED: %s", strerror(errno));
		return 0;
	}
	if (cr.uid == getuid())
		return 1;
	logf_("refused a peer: uid %u pid %d (serving uid %u only; --any-uid lifts this)",
	      (unsigned)cr.uid, (int)cr.pid, (unsigned)getuid());
	return 0;
}

static void accept_pause(worker *w, int err)
{
	epoll_ctl(w->epfd, EPOLL_CTL_DEL, w->srv->sock.fd, NULL);
	w->accepting = 0;
	if (!w->emfile_logged)
		logf_("accept: %s: pausing new connections until descriptors free up",
		      strerror(err));
	w->emfile_logged = 1;
}

static void accept_resume(worker *w)
{
	struct epoll_event e = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data.fd = w->srv->sock.fd };

	if (w->accepting || epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->srv->sock.fd, &e) != 0)
		return;
	w->accepting = 1;
}

static void accept_some(worker *w)
{
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		int fd = accept4(w->srv->sock.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct epoll_event e;
		lse_conn *c;

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
				accept_pause(w, errno);
			return;   /* EAGAIN, EINTR, ECONNABORTED: try on the next event */
		}
		if (!peer_allowed(w->srv, fd)) {
			close(fd);
			continue;
		}
		if (lse_conntab_add(&w->tab, fd, &c) != LSE_OK) {
			logf_("out of memory: refused a connection");
			close(fd);
			continue;
		}
		c->interest = LSE_WANT_READ;
		e.events = events_of(c->interest);
		e.data.fd = fd;
		if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &e) != 0) {
			lse_conntab_del(&w->tab, fd);
			close(fd);
		}
	}
}

/* ---- the loop ---- */

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Stop reading everywhere; what is owed still goes out. */
static void begin_shutdown(worker *w)
{
	epoll_ctl(w->epfd, EPOLL_CTL_DEL, w->srv->sock.fd, NULL);
	epoll_ctl(w->epfd, EPOLL_CTL_DEL, w->srv->stop_fd, NULL);
	w->accepting = 0;
	for (size_t fd = 0; fd < w->tab.cap; fd++) {
		lse_conn *c = lse_conntab_get(&w->tab, (int)fd);
		if (c) {
			lse_sess_eof(c->sess);
			conn_service(w, c, EPOLLOUT);
		}
	}
}

static void *worker_main(void *arg)
{
	worker *w = arg;
	struct epoll_event ev[MAX_EVENTS];
	long deadline = -1;

	for (;;) {
		int timeout = -1, n;

		if (deadline >= 0) {
			long left = deadline - now_ms();
			if (left <= 0 || w->tab.count == 0)
				break;
			timeout = (int)left;
		} else if (!w->accepting) {
			timeout = PAUSE_MS;
		}
		n = epoll_wait(w->epfd, ev, MAX_EVENTS, timeout);
		if (n < 0 && errno != EINTR)
			break;
		if (n <= 0 && deadline < 0 && !w->accepting)
			accept_resume(w);
		for (int i = 0; i < n; i++) {
			int fd = ev[i].data.fd;
			lse_conn *c;

			if (fd == w->srv->stop_fd) {
				if (deadline < 0) {
					deadline = now_ms() + DRAIN_DEADLINE_MS;
					begin_shutdown(w);
				}
			} else if (fd == w->srv->sock.fd) {
				if (deadline < 0)
					accept_some(w);
			} else if ((c = lse_conntab_get(&w->tab, fd)) != NULL) {
				/* Re-checked: an earlier event may have closed it. */
				size_t before = w->tab.count;
				conn_service(w, c, ev[i].events);
				if (w->tab.count < before && !w->accepting && deadline < 0)
					accept_resume(w);
			}
		}
	}
	for (size_t fd = 0; fd < w->tab.cap; fd++)
		if (lse_conntab_get(&w->tab, (int)fd))
			conn_close(w, (int)fd);
	return NULL;
}

/* ---- life cycle ---- */

static int worker_init(worker *w, lse_server *srv)
{
	struct epoll_event e = { .events = EPOLLIN, .data.fd = srv->stop_fd };

	w->srv = srv;
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (w->epfd < 0)
		return -1;
	if (lse_conntab_init(&w->tab, &srv->cfg, NULL) != LSE_OK ||
	    epoll_ctl(w->epfd, EPOLL_CTL_ADD, srv->stop_fd, &e) != 0)
		return -1;
	accept_resume(w);
	return w->accepting ? 0 : -1;
}

int lse_server_open(lse_server **out, const lse_server_opts *opts,
		    char *err, size_t errlen)
{
	lse_server *s;
	char path[108];
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	*out = NULL;
	if (opts->threads < 0 || opts->threads > 1024)
		return lse_errf(err, errlen, "threads must be 1..1024, not %d", opts->threads);
	s = calloc(1, sizeof *s);
	if (s == NULL)
		return lse_errf(err, errlen, "out of memory");
	s->o = *opts;
	s->sock.fd = s->stop_fd = -1;
	s->cfg.mode = opts->mode;
	s->cfg.max_payload = opts->max_payload;
	s->cfg.chunk = opts->chunk;
	if (lse_sess_footprint(&s->cfg) == 0) {
		free(s);
		return lse_errf(err, errlen, "bad settings: max payload and chunk must be 1..%u",
			    LSE_LIMIT_MAX);
	}
	s->nworkers = opts->threads ? opts->threads : (cores > 0 ? (int)cores : 1);
	if (opts->socket_path == NULL) {
		if (lse_sock_default_path(path, sizeof path, err, errlen) != 0) {
			free(s);
			return -1;
		}
	} else {
		snprintf(path, sizeof path, "%s", opts->socket_path);
		if (strlen(opts->socket_path) >= sizeof path) {
			free(s);
			return lse_errf(err, errlen, "socket path is %zu bytes; the limit is %zu",
				    strlen(opts->socket_path), sizeof path - 1);
		}
	}
	s->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	s->w = calloc((size_t)s->nworkers, sizeof *s->w);
	if (s->stop_fd < 0 || s->w == NULL) {
		lse_errf(err, errlen, "cannot set up: %s", strerror(errno));
		goto out;
	}
	for (int i = 0; i < s->nworkers; i++)
		s->w[i].epfd = -1;
	if (lse_sock_listen(&s->sock, path, err, errlen) != 0)
		goto out;
	for (int i = 0; i < s->nworkers; i++) {
		if (worker_init(&s->w[i], s) != 0) {
			lse_errf(err, errlen, "cannot set up event loop: %s", strerror(errno));
			goto out;
		}
	}
	if (!opts->quiet)
		logf_("listening on %s (%s, mode 0600, %s %u, %d threads)", s->sock.path,
		      s->sock.abstract ? "abstract" : "file",
		      opts->mode == LSE_MODE_RAW ? "raw, chunk" : "framed, limit",
		      opts->mode == LSE_MODE_RAW ? (opts->chunk ? opts->chunk : LSE_CHUNK_DEFAULT)
						 : (opts->max_payload ? opts->max_payload : LSE_LIMIT_DEFAULT),
		      s->nworkers);
	*out = s;
	return 0;
out:
	lse_server_close(s);
	return -1;
}

const char *lse_server_path(const lse_server *s)
{
	return s->sock.path;
}

int lse_server_run(lse_server *s)
{
	int rc = 0;

	for (int i = 0; i < s->nworkers; i++) {
		if (pthread_create(&s->w[i].tid, NULL, worker_main, &s->w[i]) != 0) {
			logf_("cannot start thread %d: %s", i, strerror(errno));
			lse_server_stop(s);
			rc = -1;
			break;
		}
		s->w[i].started = 1;
	}
	for (int i = 0; i < s->nworkers; i++)
		if (s->w[i].started)
			pthread_join(s->w[i].tid, NULL);
	return rc;
}

void lse_server_stop(lse_server *s)
{
	uint64_t one = 1;

	/* write(2) on an eventfd: async-signal-safe, and it stays readable,
	 * so every thread sees it. */
	if (write(s->stop_fd, &one, sizeof one) < 0) {
		/* Counter saturated: stop was asked already. */
	}
}

void lse_server_close(lse_server *s)
{
	if (s == NULL)
		return;
	for (int i = 0; s->w && i < s->nworkers; i++) {
		lse_conntab_free(&s->w[i].tab);
		if (s->w[i].epfd >= 0)
			close(s->w[i].epfd);
	}
	free(s->w);
	if (s->sock.fd >= 0 || s->sock.ino)
		lse_sock_close(&s->sock);
	if (s->stop_fd >= 0)
		close(s->stop_fd);
	free(s);
}
