/* lse_server: listening socket, event-loop threads, accept, shutdown
 * (contract in lse_server.h). Protocol decisions all live in the core:
 * this file moves bytes and file descriptors. */
#define _GNU_SOURCE
#include "lse_server.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lse_loop.h"
#include "lse_sock.h"

typedef struct worker {
	pthread_t tid;
	int started;
	int ready;              /* loop initialised */
	lse_loop loop;
} worker;

struct lse_server {
	lse_server_opts o;
	lse_sess_config cfg;
	lse_sock sock;
	int stop_fd;            /* eventfd: readable once stop is asked */
	int nworkers;
	worker *w;
};

static void *worker_main(void *arg)
{
	worker *w = arg;

	while (!lse_loop_done(&w->loop))
		if (lse_loop_run_once(&w->loop, -1) < 0)
			break;
	return NULL;
}

static int worker_init(worker *w, lse_server *srv)
{
	lse_loop_opts o = { srv->cfg, NULL, NULL, NULL, srv->sock.fd, srv->stop_fd, srv->o.any_uid, NULL };

	if (lse_loop_init(&w->loop, &o) != 0) {
		lse_loop_fini(&w->loop);
		return -1;
	}
	w->ready = 1;
	return 0;
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
	s->sock.fd = s->sock.dirfd = s->stop_fd = -1;
	s->cfg.mode = opts->mode;
	s->cfg.max_payload = opts->max_payload;
	s->cfg.chunk = opts->chunk;
	if (lse_sess_footprint(&s->cfg) == 0) {
		free(s);
		return lse_errf(err, errlen, "bad settings: max payload and chunk must be 1..%u",
			    LSE_LIMIT_MAX);
	}
	s->nworkers = opts->threads ? opts->threads : (cores > 0 ? (int)cores : 1);
	if (opts->listen_fd > 0 && opts->socket_path != NULL) {
		free(s);
		return lse_errf(err, errlen, "--socket %s and a socket passed by systemd: "
				"serve one or the other", opts->socket_path);
	}
	if (opts->listen_fd > 0) {
		path[0] = '\0';
	} else if (opts->socket_path == NULL) {
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
	if (opts->listen_fd > 0 ? lse_sock_adopt(&s->sock, opts->listen_fd, err, errlen)
				: lse_sock_listen(&s->sock, path, err, errlen))
		goto out;
	for (int i = 0; i < s->nworkers; i++) {
		if (worker_init(&s->w[i], s) != 0) {
			lse_errf(err, errlen, "cannot set up event loop: %s", strerror(errno));
			goto out;
		}
	}
	if (!opts->quiet)
		lse_log("listening on %s (%s, %s %u, %d threads)", s->sock.path,
		      s->sock.passed ? "passed by systemd"
				     : s->sock.abstract ? "abstract" : "file, mode 0600",
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

int lse_server_sock_dirfd(const lse_server *s)
{
	return s->sock.dirfd;
}

int lse_server_run(lse_server *s)
{
	int rc = 0;

	for (int i = 0; i < s->nworkers; i++) {
		int e = pthread_create(&s->w[i].tid, NULL, worker_main, &s->w[i]);

		if (e != 0) {   /* pthread_create returns its error; errno is not set */
			lse_log("cannot start thread %d: %s", i, strerror(e));
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
	for (int i = 0; s->w && i < s->nworkers; i++)
		if (s->w[i].ready)
			lse_loop_fini(&s->w[i].loop);
	free(s->w);
	if (s->sock.fd >= 0 || s->sock.dirfd >= 0)
		lse_sock_close(&s->sock);
	if (s->stop_fd >= 0)
		close(s->stop_fd);
	free(s);
}
