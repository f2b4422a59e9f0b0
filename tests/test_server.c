/* Integration tests of lsecho-server: the real program, started as a child
 * process on a private temporary directory, driven by a single-threaded
 * poll() client, every received byte compared with the reference model
 * (tests/model.h) for that connection's own stream.
 *
 * Usage: test_server PATH-TO-lsecho-server [SECTION...]
 * (the sections are listed in main(); by default all but "signals" and
 * "activation", which ctest runs apart).
 *
 * Every wait is bounded (see the *_MS constants); every server is stopped
 * with SIGTERM and must exit 0, remove its socket file and print no
 * sanitizer report; on any failure path it is killed instead (srvtest.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/sockios.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "feed.h"
#include "model.h"
#include "srvtest.h"

#define READY_MS 5000      /* start-up, or a refusal's exit */
#define STOP_MS 8000       /* SIGTERM to exit: the server's 2 s drain, plus slack */
#define RUN_MS 30000       /* one pump of many connections, however slow a sanitizer */
#define NCONN 1000         /* concurrent connections */
#define FRAMED_LIMIT 4096u /* --max-payload of the echo servers */
#define RAW_CHUNK "1000"   /* --chunk: smaller than most raw streams */
#define NSTALL 4           /* clients that never read */
#define STALL_MS 300       /* writes blocked this long: the client is stalled */
#define STALL_CAP (16u << 20)  /* bytes each stalled client tries to send */
#define STALL_FRAME 65536u /* DATA payload of a stalled client (the default limit) */
/* A stalled session holds at most its bound (65682 bytes framed at the
 * default limit, 65536 raw); NSTALL of them, with allocator and sanitizer
 * overhead, stay far below this, and far below the 64 MiB offered. */
#define STALL_RSS_BOUND_KIB 4096L
#define NOBODY 65534u

static const char *server_bin;
static char tmp[128];           /* the private directory; also our cwd */
static uint64_t rng = 0x15EC40;

static void section(const char *what)
{
	printf("-- %s\n", what);
	fflush(stdout);
}

/* The server under test, as its clients see it. */
typedef struct target {
	const char *path;   /* a socket path, or "@name" */
	int raw;
	uint32_t limit;     /* framed: the server's --max-payload */
} target;

/* ---- one client connection and its stream ---- */

typedef struct tconn {
	int fd;             /* -1 once closed */
	lse_bytes in;       /* the client's whole stream */
	size_t sent;        /* sent <= goal <= in.len */
	size_t goal;        /* this phase sends up to here */
	int shut;           /* half-close once all of `in` is sent */
	int shut_done;
	int broken;         /* a send failed (the server closed): sending stops */
	int reads;          /* 0: never reads */
	int done;           /* read the end of input (EOF, or a reset) */
	lse_bytes got;      /* everything received */
} tconn;

static void put_tagged(lse_bytes *b, uint8_t type, uint32_t len, uint32_t id)
{
	uint8_t *p = malloc(len ? len : 1);

	if (p == NULL)
		abort();
	for (uint32_t k = 0; k < len; k++)
		p[k] = (uint8_t)lse_rng(&rng);
	/* The connection's id leads every payload: a stray is never equal. */
	for (uint32_t k = 0; k < 4 && k < len; k++)
		p[k] = (uint8_t)(id >> (24 - 8 * k));
	lse_bytes_frame(b, type, len, p);
	free(p);
}

/* HELLO, then DATA and PING frames with payloads of connection `id`. A
 * quarter of the streams end otherwise: BYE with more after it; a bad magic,
 * an oversized DATA or PING (also one whose length has its top bit set), a
 * second HELLO (the server answers ERROR and reads no more); or a partial
 * frame or header (which the server must drop at end of input). */
static void stream_framed(lse_bytes *b, uint32_t id)
{
	uint32_t want = 64 + (uint32_t)(lse_rng(&rng) % (2 * FRAMED_LIMIT));
	uint32_t max = want < FRAMED_LIMIT ? want : FRAMED_LIMIT;
	int frames = 3 + (int)(lse_rng(&rng) % 6);

	lse_bytes_hello(b, want);
	for (int k = 0; k < frames; k++) {
		if (lse_rng(&rng) % 4 == 0)
			put_tagged(b, LSE_T_PING, (uint32_t)(lse_rng(&rng) % (LSE_PING_MAX + 1)), id);
		else
			put_tagged(b, LSE_T_DATA, (uint32_t)(lse_rng(&rng) % (max + 1)), id);
	}
	switch (id % 32) {
	case 3:
		lse_bytes_frame(b, LSE_T_BYE, 0, NULL);
		put_tagged(b, LSE_T_DATA, 100, id);
		break;
	case 7:
		lse_bytes_byte(b, 0xEE, LSE_HDR_LEN);
		put_tagged(b, LSE_T_DATA, 10, id);
		break;
	case 11:
		put_tagged(b, LSE_T_DATA, max + 1, id);
		break;
	case 13:
		lse_bytes_frame(b, LSE_T_DATA, 100, NULL);
		lse_bytes_byte(b, (uint8_t)id, 50);
		break;
	case 14:
		lse_bytes_byte(b, LSE_MAGIC0, 1);
		lse_bytes_byte(b, LSE_MAGIC1, 1);
		lse_bytes_byte(b, LSE_VERSION, 1);
		break;
	case 19:
		lse_bytes_frame(b, LSE_T_DATA, 0x80000010u, NULL);
		lse_bytes_byte(b, (uint8_t)id, 16);
		break;
	case 23:
		put_tagged(b, LSE_T_HELLO, 5, id);
		break;
	case 27:
		lse_bytes_frame(b, LSE_T_PING, 0xFFFFFFFFu, NULL);
		lse_bytes_byte(b, (uint8_t)id, 16);
		break;
	}
}

static void stream_raw(lse_bytes *b, uint32_t id, size_t len)
{
	uint8_t tag[4] = { (uint8_t)(id >> 24), (uint8_t)(id >> 16), (uint8_t)(id >> 8), (uint8_t)id };

	for (size_t k = 0; k < len; k++)
		lse_bytes_byte(b, k < 4 ? tag[k] : (uint8_t)lse_rng(&rng), 1);
}

static void stream_make(lse_bytes *b, uint32_t id, int raw)
{
	if (raw)
		stream_raw(b, id, 100 + lse_rng(&rng) % 4000);
	else
		stream_framed(b, id);
}

static int model_of(const uint8_t *in, size_t len, const target *t, lse_model_out *m)
{
	return t->raw ? lse_model_raw(in, len, 1, m)
		      : lse_model_framed(in, len, 1, t->limit, m);
}

/* Whether c received exactly the model's answer to its stream and then
 * the end of input. If not, *at is where the bytes first differ and *want
 * the model's length, for the caller to report. */
static int tconn_agrees(const tconn *c, const target *t, size_t *at, size_t *want)
{
	lse_model_out m;
	size_t k = 0;
	int ok;

	if (model_of(c->in.p, c->in.len, t, &m) != 0)
		abort();
	ok = c->done && c->got.len == m.len && (m.len == 0 || memcmp(c->got.p, m.buf, m.len) == 0);
	while (k < c->got.len && k < m.len && c->got.p[k] == m.buf[k])
		k++;
	*at = k;
	*want = m.len;
	lse_model_out_free(&m);
	return ok;
}

/* What connection id received equals the model's answer to its stream. */
static int tconn_matches(const tconn *c, size_t id, const target *t)
{
	size_t at, want;

	if (tconn_agrees(c, t, &at, &want))
		return 1;
	fprintf(stderr, "  connection %zu: got %zu bytes%s, model %zu; first difference at %zu\n",
		id, c->got.len, c->done ? "" : " (no end of input)", want, at);
	return 0;
}

static void tconn_free(tconn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	lse_bytes_free(&c->in);
	lse_bytes_free(&c->got);
}

/* ---- the poll() client ---- */

static void tconn_send(tconn *c)
{
	size_t n = 1 + lse_rng(&rng) % 700;   /* small random writes interleave */
	ssize_t k;

	if (n > c->goal - c->sent)
		n = c->goal - c->sent;
	k = send(c->fd, c->in.p + c->sent, n, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (k > 0)
		c->sent += (size_t)k;
	else if (k < 0 && errno != EAGAIN && errno != EINTR)
		c->broken = 1;   /* EPIPE, ECONNRESET: the server has closed */
}

static void tconn_recv(tconn *c)
{
	static uint8_t buf[65536];
	ssize_t k = read(c->fd, buf, sizeof buf);

	if (k > 0)
		lse_bytes_put(&c->got, buf, (size_t)k);
	else if (k == 0 || (errno != EAGAIN && errno != EINTR))
		c->done = 1;   /* a reset after a server's close counts as the end */
}

/* The events c waits for; returns 1 while it has work left in this phase:
 * bytes to send, or (once all is sent and it half-closed) the end to read. */
static int tconn_events(tconn *c, short *ev)
{
	if (c->fd >= 0 && c->shut && !c->shut_done && (c->sent == c->in.len || c->broken)) {
		shutdown(c->fd, SHUT_WR);
		c->shut_done = 1;
	}
	*ev = 0;
	if (c->fd < 0)
		return 0;
	if (!c->broken && c->sent < c->goal)
		*ev |= POLLOUT;
	if (c->reads && !c->done)
		*ev |= POLLIN;
	return (*ev & POLLOUT) || (c->reads && !c->done && c->shut_done);
}

static void pump_report(const tconn *c, size_t n)
{
	size_t shown = 0;

	for (size_t i = 0; i < n && shown < 5; i++) {
		short ev;
		if (tconn_events((tconn *)&c[i], &ev)) {
			fprintf(stderr, "  stuck connection %zu: sent %zu of %zu (goal %zu), got %zu, done %d\n",
				i, c[i].sent, c[i].in.len, c[i].goal, c[i].got.len, c[i].done);
			shown++;
		}
	}
}

/* Drives every connection until each has sent up to its goal and, if it
 * half-closes, has read to the end. Returns 0, or -1 after ms. */
static int pump(tconn *c, size_t n, int ms)
{
	struct pollfd *pf = calloc(n ? n : 1, sizeof *pf);
	size_t *idx = calloc(n ? n : 1, sizeof *idx);
	long end = srvt_now_ms() + ms;
	int rc = -1;

	if (pf == NULL || idx == NULL)
		abort();
	while (srvt_now_ms() < end) {
		size_t k = 0;
		int busy = 0;

		for (size_t i = 0; i < n; i++) {
			short ev;
			busy |= tconn_events(&c[i], &ev);
			if (ev) {
				pf[k] = (struct pollfd){ .fd = c[i].fd, .events = ev };
				idx[k++] = i;
			}
		}
		if (!busy) {
			rc = 0;
			break;
		}
		if (poll(pf, k, 100) < 0 && errno != EINTR)
			break;
		for (size_t j = 0; j < k; j++) {
			tconn *t = &c[idx[j]];
			short re = pf[j].revents;

			if ((pf[j].events & POLLOUT) && (re & (POLLOUT | POLLERR | POLLHUP)))
				tconn_send(t);
			if ((pf[j].events & POLLIN) && (re & (POLLIN | POLLERR | POLLHUP)))
				tconn_recv(t);
		}
	}
	if (rc != 0)
		pump_report(c, n);
	free(pf);
	free(idx);
	return rc;
}

/* Opens n connections, all held at once. Returns how many failed. */
static size_t tconn_open(tconn *c, size_t n, const char *path)
{
	size_t failed = 0;

	for (size_t i = 0; i < n; i++) {
		c[i].fd = srvt_connect(path);
		if (c[i].fd < 0 && failed++ == 0)
			fprintf(stderr, "  connect %s (connection %zu): %s\n", path, i, strerror(errno));
	}
	return failed;
}

/* n connections at once, each with its own stream, interleaved; each must
 * receive exactly the model's answer to its own stream. */
static void check_echo(const target *t, size_t n)
{
	tconn *c = calloc(n, sizeof *c);
	size_t bad = 0, out = 0, in = 0;
	long t0 = srvt_now_ms();

	if (c == NULL)
		abort();
	for (size_t i = 0; i < n; i++) {
		stream_make(&c[i].in, (uint32_t)i, t->raw);
		c[i].goal = c[i].in.len;
		c[i].shut = c[i].reads = 1;
	}
	if (CHECK_EQ(tconn_open(c, n, t->path), 0) && CHECK_EQ(pump(c, n, RUN_MS), 0)) {
		for (size_t i = 0; i < n; i++) {
			if (!tconn_matches(&c[i], i, t) && ++bad >= 5)
				break;
			out += c[i].sent;
			in += c[i].got.len;
		}
		CHECK_EQ(bad, 0);
		printf("   %zu connections at once: %zu bytes sent, %zu received as the model says, %ld ms\n",
		       n, out, in, srvt_now_ms() - t0);
	}
	for (size_t i = 0; i < n; i++)
		tconn_free(&c[i]);
	free(c);
}

/* ---- clients that never read ---- */

typedef struct staller {
	int fd;
	uint32_t id;
	const target *t;
	lse_bytes sent;     /* every byte the socket took */
	lse_bytes next;     /* generated; next.p[off..] not yet taken */
	size_t off;
	long last_ms;       /* when a write last moved bytes */
	int broken;         /* a write failed: the server closed on it */
	int stalled;        /* 1 stalled; -1 broken, or never pushed back */
} staller;

static void staller_refill(staller *s)
{
	s->next.len = 0;
	s->off = 0;
	if (s->t->raw) {
		stream_raw(&s->next, s->id, STALL_FRAME);
		return;
	}
	if (s->sent.len == 0)
		lse_bytes_hello(&s->next, STALL_FRAME);
	put_tagged(&s->next, LSE_T_DATA, s->t->limit < STALL_FRAME ? s->t->limit : STALL_FRAME, s->id);
}

/* Writes until the socket would block or the cap is reached. Returns the
 * bytes the socket took. */
static size_t staller_push(staller *s)
{
	size_t total = 0;

	while (s->sent.len < STALL_CAP) {
		size_t n;
		ssize_t k;

		if (s->off == s->next.len)
			staller_refill(s);
		n = s->next.len - s->off;
		if (n > STALL_CAP - s->sent.len)
			n = STALL_CAP - s->sent.len;
		k = send(s->fd, s->next.p + s->off, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (k < 0 && errno != EAGAIN && errno != EINTR)
			s->broken = 1;
		if (k <= 0)
			break;
		lse_bytes_put(&s->sent, s->next.p + s->off, (size_t)k);
		s->off += (size_t)k;
		total += (size_t)k;
	}
	return total;
}

/* Connects n clients and pushes each until its writes have been blocked for
 * STALL_MS, or it reached STALL_CAP (then the server did not push back).
 * Returns how many stalled. */
static size_t stall_all(staller *s, size_t n, const target *t)
{
	struct pollfd pf[16];
	long end = srvt_now_ms() + RUN_MS;
	size_t stalled = 0;

	for (size_t i = 0; i < n; i++) {
		memset(&s[i], 0, sizeof s[i]);
		s[i].id = 0x5741u + (uint32_t)i;
		s[i].t = t;
		s[i].fd = srvt_connect(t->path);
		s[i].last_ms = srvt_now_ms();
		if (s[i].fd < 0)
			s[i].stalled = -1;
	}
	while (stalled < n && srvt_now_ms() < end) {
		long now;

		for (size_t i = 0; i < n; i++)
			pf[i] = (struct pollfd){ .fd = s[i].stalled ? -1 : s[i].fd, .events = POLLOUT };
		if (poll(pf, n, 50) < 0 && errno != EINTR)
			break;
		now = srvt_now_ms();
		stalled = 0;
		for (size_t i = 0; i < n; i++) {
			if (!s[i].stalled && pf[i].revents && staller_push(&s[i]) > 0)
				s[i].last_ms = now;
			if (!s[i].stalled && (s[i].broken || s[i].sent.len >= STALL_CAP))
				s[i].stalled = -1;
			if (!s[i].stalled && now - s[i].last_ms >= STALL_MS)
				s[i].stalled = 1;
			stalled += s[i].stalled != 0;
		}
	}
	stalled = 0;
	for (size_t i = 0; i < n; i++) {
		stalled += s[i].stalled == 1;
		if (s[i].stalled != 1)
			fprintf(stderr, "  client %zu did not stall: %s after %zu bytes\n", i,
				s[i].broken ? "closed by the server" : "no push-back", s[i].sent.len);
	}
	return stalled;
}

/* Hands a staller's connection and what it sent to a reading client. */
static void staller_to_tconn(staller *s, tconn *c)
{
	memset(c, 0, sizeof *c);
	c->fd = s->fd;
	c->in = s->sent;
	c->sent = c->goal = c->in.len;
	c->shut = c->reads = 1;
	s->fd = -1;
	memset(&s->sent, 0, sizeof s->sent);
	lse_bytes_free(&s->next);
}

static void staller_free(staller *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	lse_bytes_free(&s->sent);
	lse_bytes_free(&s->next);
}

/* ---- server life cycle ---- */

static int has_arg(const char *const *args, const char *want)
{
	for (size_t i = 0; args && args[i]; i++)
		if (strcmp(args[i], want) == 0)
			return 1;
	return 0;
}

/* Once it accepts, every server has its syscall filter installed, unless
 * told --no-sandbox. */
static int ready(srvt_proc *p, const char *tag, const char *path, const char *const *args)
{
	long want = has_arg(args, "--no-sandbox") ? 0 : 2, mode;

	if (!CHECK_EQ(srvt_wait_ready(p, path, READY_MS), 0)) {
		char *log = srvt_stderr(p);
		fprintf(stderr, "  %s: server log:\n%s", tag, log);
		free(log);
		srvt_kill(p);
		return -1;
	}
	mode = want ? srvt_wait_seccomp(p->pid, want, READY_MS) : srvt_seccomp(p->pid);
	if (!CHECK_EQ(mode, want))
		fprintf(stderr, "  %s: /proc/%d/status says Seccomp: %ld, want %ld\n", tag,
			(int)p->pid, mode, want);
	return 0;
}

static int start(srvt_proc *p, const char *tag, const char *path, const char *const *args)
{
	if (!CHECK_EQ(srvt_spawn(p, tmp, tag, server_bin, args), 0))
		return -1;
	return ready(p, tag, path, args);
}

static int log_clean(const char *log)
{
	return strstr(log, "Sanitizer") == NULL && strstr(log, "runtime error") == NULL;
}

/* Set while the servers under test were handed their socket by
 * systemd-socket-activate: the file is its, and must outlive the server. */
static int systemds_file;

static int ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), k = strlen(tail);

	return n >= k && strcmp(s + n - k, tail) == 0;
}

/* A server sent one SIGTERM: exit 0 within STOP_MS, the socket file gone
 * (kept, if systemd's), no sanitizer report, and the log ends saying it
 * stopped on SIGTERM. Returns 1 if all held. (One signal only: see
 * check_signals for more.) */
static int exited_clean(srvt_proc *p, const char *path)
{
	struct stat st;
	char *log;
	int ok = 1;

	ok &= CHECK_EQ(srvt_wait(p, STOP_MS), 0);
	ok &= CHECK_EQ(srvt_exit_code(p), 0);
	if (path[0] != '@' && systemds_file)
		ok &= CHECK(lstat(path, &st) == 0 && S_ISSOCK(st.st_mode));
	else if (path[0] != '@')
		ok &= CHECK(lstat(path, &st) != 0 && errno == ENOENT);
	log = srvt_stderr(p);
	ok &= CHECK(log_clean(log));
	ok &= CHECK(ends_with(log, "\nlsecho-server: stopped on SIGTERM\n"));
	if (!ok)
		fprintf(stderr, "  server on %s, status %#x, log:\n%s%s", path, p->status, log,
			log[0] && log[strlen(log) - 1] != '\n' ? "\n" : "");
	free(log);
	return ok;
}

static int stop_clean(srvt_proc *p, const char *path)
{
	CHECK_EQ(kill(p->pid, SIGTERM), 0);
	return exited_clean(p, path);
}

static void check_socket_mode(const char *path)
{
	struct stat st;

	if (CHECK_EQ(lstat(path, &st), 0)) {
		CHECK(S_ISSOCK(st.st_mode));
		CHECK_EQ(st.st_mode & 07777, 0600);
		CHECK_EQ(st.st_uid, geteuid());
	}
}

/* ---- 2. abrupt disconnects ---- */

/* Framed: 0 closes mid-payload, 1 with unread output, 2 mid-header.
 * Raw: 0 closes at once, 1 with unread output. */
static void bad_stream(tconn *c, uint32_t id, const target *t, int kind)
{
	c->reads = 0;
	if (t->raw) {
		stream_raw(&c->in, id, 3000);
		c->goal = c->in.len;
		return;
	}
	lse_bytes_hello(&c->in, FRAMED_LIMIT);
	if (kind == 1) {
		for (int k = 0; k < 4; k++)
			put_tagged(&c->in, LSE_T_DATA, FRAMED_LIMIT, id);
		c->goal = c->in.len;
	} else {
		put_tagged(&c->in, LSE_T_DATA, 2000, id);
		c->goal = kind == 0 ? 12 + 8 + 1000 : 12 + 3;
	}
}

/* Waits (bounded) until the server has answered: output is then pending. */
static int wait_readable(int fd, int ms)
{
	struct pollfd pf = { .fd = fd, .events = POLLIN };

	return poll(&pf, 1, ms) == 1;
}

static void check_abrupt(const target *t)
{
	enum { GOOD = 100, BAD = 60 };
	tconn c[GOOD + BAD];
	staller s[NSTALL];
	size_t bad = 0;
	int kinds = t->raw ? 2 : 3;

	memset(c, 0, sizeof c);
	for (size_t i = 0; i < GOOD; i++) {
		stream_make(&c[i].in, (uint32_t)i, t->raw);
		c[i].goal = c[i].in.len / 2;
		c[i].reads = 1;
	}
	for (size_t i = GOOD; i < GOOD + BAD; i++)
		bad_stream(&c[i], (uint32_t)i, t, (int)(i % (size_t)kinds));
	if (!CHECK_EQ(tconn_open(c, GOOD + BAD, t->path), 0) ||
	    !CHECK_EQ(pump(c, GOOD + BAD, RUN_MS), 0))
		goto out;
	/* Vanish: half a frame in, output unread, or stalled with the
	 * session's buffer full. */
	for (size_t i = GOOD; i < GOOD + BAD; i++) {
		if (i % (size_t)kinds == 1)
			CHECK(wait_readable(c[i].fd, READY_MS));
		close(c[i].fd);
		c[i].fd = -1;
	}
	CHECK_EQ(stall_all(s, NSTALL, t), NSTALL);
	for (size_t i = 0; i < NSTALL; i++)
		staller_free(&s[i]);
	/* The others finish, and must still get exact echoes. */
	for (size_t i = 0; i < GOOD; i++) {
		c[i].goal = c[i].in.len;
		c[i].shut = 1;
	}
	if (CHECK_EQ(pump(c, GOOD, RUN_MS), 0)) {
		for (size_t i = 0; i < GOOD; i++)
			bad += !tconn_matches(&c[i], i, t);
		CHECK_EQ(bad, 0);
	}
	printf("   %d connections vanished mid-frame or with unread output (%d stalled); %d others exact\n",
	       BAD + NSTALL, NSTALL, GOOD - (int)bad);
out:
	for (size_t i = 0; i < GOOD + BAD; i++)
		tconn_free(&c[i]);
}

/* ---- 8. SIGTERM with output pending ---- */

/* Output is whole frames up to len: the drain cut nothing in half. */
static int at_frame_boundary(const uint8_t *p, size_t total, size_t len)
{
	size_t pos = 0;

	while (pos < len && total - pos >= LSE_HDR_LEN) {
		const uint8_t *h = p + pos + 4;
		pos += LSE_HDR_LEN + ((size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3]);
	}
	return pos == len;
}

/* Some stalled clients read after SIGTERM: they must get a prefix of the
 * model's answer (the server stops reading at once), cut at a frame
 * boundary; others never read, and the server must give up on them after
 * its drain deadline. Either way: exit 0, socket file removed. */
static void check_sigterm_pending(srvt_proc *p, const target *t)
{
	staller s[NSTALL];
	tconn c[NSTALL / 2];
	size_t ok = 0, got = 0;
	long t0;

	CHECK_EQ(stall_all(s, NSTALL, t), NSTALL);
	t0 = srvt_now_ms();
	CHECK_EQ(kill(p->pid, SIGTERM), 0);
	for (size_t i = 0; i < NSTALL / 2; i++)
		staller_to_tconn(&s[i], &c[i]);
	CHECK_EQ(pump(c, NSTALL / 2, RUN_MS), 0);
	exited_clean(p, t->path);
	printf("   SIGTERM with %d clients stalled: exit after %ld ms\n", NSTALL, srvt_now_ms() - t0);
	for (size_t i = 0; i < NSTALL / 2; i++) {
		lse_model_out m;

		if (model_of(c[i].in.p, c[i].in.len, t, &m) != 0)
			abort();
		if (c[i].done && c[i].got.len > 0 && c[i].got.len <= m.len &&
		    memcmp(c[i].got.p, m.buf, c[i].got.len) == 0 &&
		    (t->raw || at_frame_boundary(m.buf, m.len, c[i].got.len)))
			ok++;
		else
			fprintf(stderr, "  drained client %zu: got %zu bytes, model %zu, done %d\n",
				i, c[i].got.len, m.len, c[i].done);
		got += c[i].got.len;
		lse_model_out_free(&m);
		tconn_free(&c[i]);
	}
	CHECK_EQ(ok, NSTALL / 2);
	printf("   %d readers drained %zu bytes after SIGTERM, all owed frames whole\n", NSTALL / 2, got);
	for (size_t i = 0; i < NSTALL; i++)
		staller_free(&s[i]);
}

/* ---- the echo server, in one mode: checks 1, 2, 7, 8 ---- */

static int start_activated(srvt_proc *p, const char *tag, const char *path,
			   const char *const *args, const char *notify);

/* activated: the socket is made by systemd-socket-activate and passed in;
 * the same checks, but the file and its mode are systemd's. */
static void check_mode_as(int raw, int activated, const char *notify)
{
	char path[256];
	char limit[16];
	const char *framed[] = { "--socket", path, "--threads", "4", "--max-payload", limit, NULL };
	const char *rawa[] = { "--socket", path, "--threads", "4", "--raw", "--chunk", RAW_CHUNK, NULL };
	const char *const *args = raw ? rawa : framed;
	const char *tag = raw ? "raw" : "framed";
	target t = { path, raw, FRAMED_LIMIT };
	srvt_proc p;
	struct rlimit rl;
	size_t n = NCONN;

	snprintf(path, sizeof path, "%s/%s%s.sock", tmp, activated ? "act-" : "", tag);
	snprintf(limit, sizeof limit, "%u", FRAMED_LIMIT);
	if (activated ? start_activated(&p, tag, path, args + 2, notify) != 0
		      : start(&p, tag, path, args) != 0)
		return;
	if (!activated)
		check_socket_mode(path);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < NCONN + 64) {
		n = rl.rlim_cur > 128 ? rl.rlim_cur - 64 : 64;
		printf("   open-file limit %lu: %zu connections instead of %d\n",
		       (unsigned long)rl.rlim_cur, n, NCONN);
	}
	check_echo(&t, n);
	check_abrupt(&t);
	check_echo(&t, 50);   /* still serving new connections */
	check_sigterm_pending(&p, &t);
}

static void check_mode(int raw)
{
	check_mode_as(raw, 0, NULL);
}

/* ---- 3. a client that never reads ---- */

static long rss_peak(pid_t pid, int samples)
{
	long peak = -1;

	for (int i = 0; i < samples; i++) {
		long r = srvt_rss_kib(pid);
		peak = r > peak ? r : peak;
		srvt_sleep_ms(20);
	}
	return peak;
}

static void check_stall(int raw)
{
	char path[256];
	const char *args[] = { "--socket", path, "--threads", "2", raw ? "--raw" : NULL, NULL };
	target t = { path, raw, LSE_LIMIT_DEFAULT };
	srvt_proc p;
	staller s[NSTALL];
	tconn c[NSTALL];
	size_t bad = 0, sent = 0;
	long base, peak;

	snprintf(path, sizeof path, "%s/stall-%s.sock", tmp, raw ? "raw" : "framed");
	if (start(&p, raw ? "stall-raw" : "stall-framed", path, args) != 0)
		return;
	check_echo(&t, 20);   /* warm: every code path has run once */
	base = rss_peak(p.pid, 3);
	CHECK_EQ(stall_all(s, NSTALL, &t), NSTALL);
	peak = rss_peak(p.pid, 5);
	for (size_t i = 0; i < NSTALL; i++) {
		CHECK(s[i].sent.len < STALL_CAP);
		sent += s[i].sent.len;
	}
	CHECK(base > 0 && peak > 0);
	CHECK(peak - base < STALL_RSS_BOUND_KIB);
	printf("   %d clients offered %u MiB each, the server took %zu KiB in all before pushing back;\n"
	       "   its RSS went %ld -> %ld KiB (+%ld, bound %ld)\n",
	       NSTALL, STALL_CAP >> 20, sent >> 10, base, peak, peak - base, STALL_RSS_BOUND_KIB);
	/* Now read: nothing may be lost. */
	for (size_t i = 0; i < NSTALL; i++)
		staller_to_tconn(&s[i], &c[i]);
	if (CHECK_EQ(pump(c, NSTALL, RUN_MS), 0)) {
		for (size_t i = 0; i < NSTALL; i++)
			bad += !tconn_matches(&c[i], i, &t);
		CHECK_EQ(bad, 0);
	}
	for (size_t i = 0; i < NSTALL; i++) {
		tconn_free(&c[i]);
		staller_free(&s[i]);
	}
	stop_clean(&p, path);
}

/* ---- 4, 5, 6: the socket file ---- */

static void subdir(char *out, size_t len, const char *name, mode_t mode)
{
	snprintf(out, len, "%s/%s", tmp, name);
	if (mkdir(out, 0700) != 0 || chmod(out, mode) != 0) {
		fprintf(stderr, "mkdir %s: %s\n", out, strerror(errno));
		abort();
	}
}

/* A socket file with nobody listening: bound, then closed, not unlinked. */
static int make_stale(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0), rc;

	snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
	rc = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 ? 0 : -1;
	if (fd >= 0)
		close(fd);
	return rc;
}

static void check_stale(void)
{
	char dir[200], path[256];
	const char *args[] = { "--socket", path, "--threads", "2", NULL };
	target t = { path, 0, LSE_LIMIT_DEFAULT };
	struct stat st;
	srvt_proc p;

	subdir(dir, sizeof dir, "stale", 0700);
	snprintf(path, sizeof path, "%s/s.sock", dir);
	CHECK_EQ(make_stale(path), 0);
	CHECK(lstat(path, &st) == 0 && S_ISSOCK(st.st_mode));
	if (start(&p, "stale", path, args) != 0)
		return;
	check_socket_mode(path);
	check_echo(&t, 20);
	stop_clean(&p, path);
}

/* A server that must refuse to start: exit non-zero within READY_MS, its
 * message naming the reason. */
static void expect_refusal(const char *tag, const char *const *args,
			   const char *want1, const char *want2)
{
	srvt_proc p;
	char *log;
	int code;

	if (!CHECK_EQ(srvt_spawn(&p, tmp, tag, server_bin, args), 0))
		return;
	CHECK_EQ(srvt_wait(&p, READY_MS), 0);
	code = srvt_exit_code(&p);
	log = srvt_stderr(&p);
	if (!CHECK_EQ(code, 1) || !CHECK(strstr(log, want1) != NULL) ||
	    !CHECK(want2 == NULL || strstr(log, want2) != NULL) || !CHECK(log_clean(log)))
		fprintf(stderr, "  %s: exit %d, want \"%s\"%s%s%s, log:\n%s", tag, code, want1,
			want2 ? " and \"" : "", want2 ? want2 : "", want2 ? "\"" : "", log);
	else
		printf("   %s refused: %s", tag, log);
	free(log);
}

static void check_live(void)
{
	char path[256];
	const char *args[] = { "--socket", path, "--threads", "2", NULL };
	const char *args2[] = { "--socket", path, "--raw", NULL };
	target t = { path, 0, LSE_LIMIT_DEFAULT };
	struct stat before, after;
	srvt_proc p;

	snprintf(path, sizeof path, "%s/live.sock", tmp);
	if (start(&p, "live", path, args) != 0)
		return;
	CHECK_EQ(lstat(path, &before), 0);
	expect_refusal("second-server", args2, "already listening", path);
	CHECK(lstat(path, &after) == 0 && after.st_ino == before.st_ino);
	check_echo(&t, 20);   /* the first one is unharmed */
	stop_clean(&p, path);
}

static void check_unsafe(void)
{
	char dir[200], path[256], dest[256];
	const char *args[] = { "--socket", path, NULL };
	target t = { path, 0, LSE_LIMIT_DEFAULT };
	struct stat st;
	srvt_proc p;

	subdir(dir, sizeof dir, "open", 0777);
	snprintf(path, sizeof path, "%s/s.sock", dir);
	expect_refusal("dir-0777", args, dir, "sticky");
	CHECK(lstat(path, &st) != 0);

	subdir(dir, sizeof dir, "group", 0770);
	snprintf(path, sizeof path, "%s/s.sock", dir);
	expect_refusal("dir-0770", args, dir, "writable");

	subdir(dir, sizeof dir, "sticky", 01777);   /* as /tmp: fine */
	snprintf(path, sizeof path, "%s/s.sock", dir);
	if (start(&p, "dir-sticky", path, args) == 0) {
		check_socket_mode(path);
		check_echo(&t, 5);
		stop_clean(&p, path);
	}

	subdir(dir, sizeof dir, "link", 0700);
	snprintf(path, sizeof path, "%s/s.sock", dir);
	snprintf(dest, sizeof dest, "%s/target.sock", dir);
	CHECK_EQ(symlink(dest, path), 0);
	expect_refusal("symlink-dangling", args, path, "symbolic link");
	CHECK(lstat(dest, &st) != 0);   /* nothing created through it */
	CHECK_EQ(make_stale(dest), 0);
	expect_refusal("symlink-to-socket", args, path, "symbolic link");
	CHECK(lstat(path, &st) == 0 && S_ISLNK(st.st_mode));
	CHECK(lstat(dest, &st) == 0 && S_ISSOCK(st.st_mode));

	subdir(dir, sizeof dir, "file", 0700);
	snprintf(path, sizeof path, "%s/s.sock", dir);
	lse_t_file_put(path, "keep me\n");
	expect_refusal("regular-file", args, path, "not a socket");
	CHECK(lstat(path, &st) == 0 && S_ISREG(st.st_mode));
	CHECK(lse_t_file_is(path, "keep me\n"));

	if (geteuid() != 0) {
		printf("   not root: the other-owner directory check is skipped\n");
		return;
	}
	subdir(dir, sizeof dir, "other", 0700);
	CHECK_EQ(chown(dir, NOBODY, NOBODY), 0);
	snprintf(path, sizeof path, "%s/s.sock", dir);
	expect_refusal("dir-other-owner", args, dir, "owned by uid 65534");
}

/* ---- 9. the command line ---- */

/* Refused with exit 2 and a one-line reason (containing want, if given). */
static void check_cli_refused(const char *tag, const char *const *args, const char *want)
{
	srvt_proc p;
	char *log;
	int code;

	if (!CHECK_EQ(srvt_spawn(&p, tmp, "cli", server_bin, args), 0))
		return;
	CHECK_EQ(srvt_wait(&p, READY_MS), 0);
	code = srvt_exit_code(&p);
	log = srvt_stderr(&p);
	if (!CHECK_EQ(code, 2) || !CHECK(strncmp(log, "lsecho-server: ", 15) == 0) ||
	    !CHECK(log_clean(log)) || !CHECK(want == NULL || strstr(log, want) != NULL))
		fprintf(stderr, "  cli %s: status %#x, want \"%s\", stderr:\n%s", tag, p.status,
			want ? want : "", log);
	free(log);
}

static void check_cli_bad(const char *tag, const char *const *args)
{
	check_cli_refused(tag, args, NULL);
}

/* Accepted: the server starts, and its start-up line says want. */
static void check_cli_good(const char *tag, const char *const *args, const char *path,
			   const char *want)
{
	srvt_proc p;
	char *log;

	if (start(&p, tag, path, args) != 0)
		return;
	stop_clean(&p, path);
	log = srvt_stderr(&p);
	if (!CHECK(strstr(log, want) != NULL))
		fprintf(stderr, "  cli %s: want \"%s\" in:\n%s", tag, want, log);
	free(log);
}

/* The server as a service manager may start it: a low soft limit on open
 * files (raised to the hard limit at start), and stderr a pipe nobody reads
 * (a log line must not kill it: SIGPIPE is ignored). */
struct harsh_env {
	int err_fd;
	const char *const *argv;
	int nproc;   /* > 0: run as nobody with RLIMIT_NPROC at this */
	int no_leak_check;   /* LeakSanitizer off (its tracer is a process too) */
};

static int exec_harsh(void *arg)
{
	struct harsh_env *h = arg;
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	struct rlimit rl;

	sigaction(SIGPIPE, &dfl, NULL);   /* this test ignores it; a service manager does not */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max > 256) {
		rl.rlim_cur = 256;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (h->err_fd >= 0)
		dup2(h->err_fd, 2);
	if (h->no_leak_check) {
		char opts[512];

		snprintf(opts, sizeof opts, "%s:detect_leaks=0",
			 getenv("ASAN_OPTIONS") ? getenv("ASAN_OPTIONS") : "");
		setenv("ASAN_OPTIONS", opts, 1);
	}
	if (h->nproc > 0) {
		rl.rlim_cur = rl.rlim_max = (rlim_t)h->nproc;
		if (setgroups(0, NULL) != 0 || setresgid(NOBODY, NOBODY, NOBODY) != 0 ||
		    setresuid(NOBODY, NOBODY, NOBODY) != 0 || setrlimit(RLIMIT_NPROC, &rl) != 0)
			return 126;
	}
	execv(server_bin, (char *const *)h->argv);
	return 127;
}

/* The signals blocked in a process's main thread, from /proc. */
static unsigned long long proc_sigblk(pid_t pid)
{
	char path[64], line[256];
	unsigned long long mask = ~0ull;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return mask;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, "SigBlk:", 7) == 0)
			mask = strtoull(line + 7, NULL, 16);
	fclose(f);
	return mask;
}

static long proc_limit(pid_t pid, int hard)
{
	char path[64], line[256];
	FILE *f;
	long soft = -1, max = -1;

	snprintf(path, sizeof path, "/proc/%d/limits", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, "Max open files", 14) == 0)
			sscanf(line + 14, "%ld %ld", &soft, &max);
	fclose(f);
	return hard ? max : soft;
}

/* A thread that cannot start (RLIMIT_NPROC, as nobody): the server says
 * which and exits 1 at once, rather than serving short-handed or hanging,
 * and removes its socket file. With a limit of 1 the signal thread is the
 * one (LeakSanitizer is off there: its tracer at exit could not start
 * either); with 4, an event-loop thread (or the signal thread, if nobody
 * runs other processes just then). */
static void check_thread_failure_at(int nproc, const char *want)
{
	char dir[64], path[128], errpath[sizeof ((srvt_proc *)0)->err];
	const char *argv[] = { server_bin, "--threads", "8", "--socket", path, NULL };
	struct harsh_env h = { -1, argv, nproc, nproc == 1 };
	srvt_proc p;

	/* Outside the test's private directory, which nobody cannot enter. */
	snprintf(dir, sizeof dir, "/tmp/lsecho-nproc-XXXXXX");
	if (!CHECK(mkdtemp(dir) != NULL) || !CHECK_EQ(chown(dir, NOBODY, NOBODY), 0)) {
		rmdir(dir);
		return;
	}
	snprintf(path, sizeof path, "%s/s.sock", dir);
	snprintf(errpath, sizeof errpath, "%s/nproc-%d.err", tmp, nproc);
	h.err_fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (CHECK(h.err_fd >= 0) && CHECK_EQ(srvt_fork(&p, exec_harsh, &h), 0)) {
		char *log;

		snprintf(p.err, sizeof p.err, "%s", errpath);
		CHECK_EQ(srvt_wait(&p, STOP_MS), 0);
		CHECK_EQ(srvt_exit_code(&p), 1);
		CHECK(access(path, F_OK) != 0);
		log = srvt_stderr(&p);
		/* It failed; it did not stop on a signal. */
		if (!CHECK(strstr(log, want) != NULL && log_clean(log)) ||
		    !CHECK(strstr(log, "stopped on") == NULL))
			fprintf(stderr, "  RLIMIT_NPROC %d: want \"%s\" (and no stop line) in:\n%s",
				nproc, want, log);
		free(log);
	}
	if (h.err_fd >= 0)
		close(h.err_fd);
	unlink(path);
	rmdir(dir);
}

static void check_thread_failure(void)
{
	if (geteuid() != 0) {
		printf("   not root: the thread-limit check is skipped\n");
		return;
	}
	check_thread_failure_at(1, "lsecho-server: cannot start the signal thread\n");
	check_thread_failure_at(4, "lsecho-server: cannot start ");
}

static void check_harsh_env(void)
{
	char path[256];
	const char *argv[] = { server_bin, "--raw", "--socket", path, NULL };
	struct harsh_env h = { -1, argv, 0, 0 };
	int pfd[2], fd;
	char buf[8];
	ssize_t n = -1;
	srvt_proc p;

	snprintf(path, sizeof path, "%s/harsh.sock", tmp);
	if (!CHECK_EQ(pipe(pfd), 0))
		return;
	close(pfd[0]);   /* nobody will read the server's stderr */
	h.err_fd = pfd[1];
	if (!CHECK_EQ(srvt_fork(&p, exec_harsh, &h), 0) || !CHECK_EQ(srvt_wait_ready(&p, path, READY_MS), 0)) {
		close(pfd[1]);
		srvt_kill(&p);
		return;
	}
	close(pfd[1]);
	CHECK(proc_limit(p.pid, 0) > 256 && proc_limit(p.pid, 0) == proc_limit(p.pid, 1));
	/* SIGINT and SIGTERM wait for the signal thread, and nothing else is
	 * held back. (pthread_create blocks signals in its caller for a
	 * moment, every one in glibc, most under TSan: the mask is read until
	 * it settles, for up to 3 s.) */
	{
		const unsigned long long want = (1ull << (SIGINT - 1)) | (1ull << (SIGTERM - 1));
		unsigned long long blk = proc_sigblk(p.pid);

		for (int k = 0; k < 300 && blk != want; k++) {
			srvt_sleep_ms(10);
			blk = proc_sigblk(p.pid);
		}
		CHECK_EQ(blk, want);
	}
	fd = srvt_connect(path);
	CHECK(fd >= 0 && write(fd, "abc", 3) == 3);
	for (int k = 0; k < 500 && (n = read(fd, buf, sizeof buf)) < 0; k++)
		srvt_sleep_ms(10);
	CHECK(n == 3 && memcmp(buf, "abc", 3) == 0);   /* echoed */
	close(fd);
	CHECK_EQ(kill(p.pid, SIGINT), 0);   /* as SIGTERM */
	CHECK_EQ(srvt_wait(&p, STOP_MS), 0);
	CHECK_EQ(srvt_exit_code(&p), 0);
	check_thread_failure();
}

/* An outer filter that refuses seccomp() with EPERM, as a systemd unit
 * whose SystemCallFilter= lacks it does; everything else is allowed. Or
 * it refuses only what installs a filter: then libseccomp starts, and the
 * failure comes at a later step of lse_sandbox_apply. */
#if defined(__x86_64__)
#define JAIL_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define JAIL_ARCH AUDIT_ARCH_AARCH64
#endif

#ifdef JAIL_ARCH
enum jail_mode {
	JAIL_SECCOMP,       /* every seccomp() */
	JAIL_SET_FILTER,    /* seccomp(SECCOMP_SET_MODE_FILTER, ...), probes too */
	JAIL_LOAD           /* seccomp(SECCOMP_SET_MODE_FILTER, ...) with a program */
};

struct jail_env {
	const char *const *argv;
	const char *err;
	enum jail_mode mode;
};

static int exec_no_seccomp(void *arg)
{
	const struct jail_env *e = arg;
	/* Little-endian: an argument's low half comes first. */
	const uint32_t a0 = offsetof(struct seccomp_data, args[0]);
	const uint32_t a2 = offsetof(struct seccomp_data, args[2]);
	const struct sock_filter refuse = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM);
	struct sock_filter f[] = {
		/* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		/* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, JAIL_ARCH, 1, 0),
		/* 2 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		/* 3 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		/* 4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_seccomp, 0, 7),   /* else 12 */
		/* 5 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, a0),
		/* 6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SECCOMP_SET_MODE_FILTER, 0, 5),
		/* 7 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, a2),
		/* 8 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 2),   /* else 11 */
		/* 9 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, a2 + 4),
		/* 10 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0),  /* NULL: 12 */
		/* 11 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		/* 12 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { (unsigned short)(sizeof f / sizeof *f), f };
	int fd = open(e->err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (e->mode == JAIL_SECCOMP)
		f[5] = refuse;   /* whatever the operation */
	else if (e->mode == JAIL_SET_FILTER)
		f[7] = refuse;   /* whatever the program */
	if (fd < 0 || dup2(fd, 2) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
		return 126;
	execv(server_bin, (char *const *)e->argv);
	return 127;
}
#endif

static int notify_listen(const char *path);
static int notify_expect(int fd, const char *want, int ms);

/* The filter cannot be installed (seccomp() refused from outside, at
 * each of lse_sandbox_apply's steps): the server says why and exits 1 at
 * once, its signal thread stopped (STOPPING=1, and never READY=1) and its
 * socket file removed, rather than serving unconfined. */
static void check_sandbox_refused(void)
{
#ifdef JAIL_ARCH
	static const struct {
		enum jail_mode mode;
		const char *what, *want;
	} cases[] = {
		{ JAIL_SECCOMP, "seccomp()", "lsecho-server: seccomp: cannot make a filter" },
		{ JAIL_SET_FILTER, "seccomp(SECCOMP_SET_MODE_FILTER)",
		  "lsecho-server: seccomp: thread sync: " },
		{ JAIL_LOAD, "seccomp(SECCOMP_SET_MODE_FILTER) with a program",
		  "lsecho-server: seccomp: cannot install the filter: " },
	};
	char path[256], err[sizeof ((srvt_proc *)0)->err];
	const char *argv[] = { server_bin, "--raw", "--socket", path, NULL };
	srvt_proc p;
	char *log;

	char notify[256];
	int nfd;

	snprintf(path, sizeof path, "%s/jail.sock", tmp);
	snprintf(err, sizeof err, "%s/jail.err", tmp);
	snprintf(notify, sizeof notify, "%s/jail.notify", tmp);
	if (!CHECK((nfd = notify_listen(notify)) >= 0))
		return;
	setenv("NOTIFY_SOCKET", notify, 1);
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct jail_env e = { argv, err, cases[i].mode };

		if (!CHECK_EQ(srvt_fork(&p, exec_no_seccomp, &e), 0))
			return;
		snprintf(p.err, sizeof p.err, "%s", err);
		CHECK_EQ(srvt_wait(&p, STOP_MS), 0);
		CHECK_EQ(srvt_exit_code(&p), 1);
		CHECK(access(path, F_OK) != 0);
		log = srvt_stderr(&p);
		if (!CHECK(strstr(log, cases[i].want) != NULL && log_clean(log)))
			fprintf(stderr, "  under a filter refusing %s, status %#x, log:\n%s",
				cases[i].what, p.status, log);
		else
			printf("   under a filter refusing %s: %s", cases[i].what,
			       strstr(log, cases[i].want));
		free(log);
		notify_expect(nfd, "STOPPING=1", READY_MS);
		CHECK(!wait_readable(nfd, 0));
	}
	unsetenv("NOTIFY_SOCKET");
	close(nfd);
#else
	printf("   no outer filter for this architecture: the refused-seccomp check is skipped\n");
#endif
}

/* Without NOTIFY_SOCKET the server notifies nobody: not even a socket it
 * finds on its standard input, as an inetd-style or careless parent may
 * leave there. */
struct stdin_env {
	const char *const *argv;
	const char *err;
	int in_fd;         /* made the server's stdin; -1: stdin closed */
};

static int exec_socket_stdin(void *arg)
{
	const struct stdin_env *e = arg;
	int fd = open(e->err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || dup2(fd, 2) < 0 || (e->in_fd >= 0 ? dup2(e->in_fd, 0) < 0 : close(0) != 0))
		return 126;
	execv(server_bin, (char *const *)e->argv);
	return 127;
}

static void check_socket_stdin(void)
{
	char path[256], err[sizeof ((srvt_proc *)0)->err], b[64];
	const char *argv[] = { server_bin, "--socket", path, NULL };
	target t = { path, 0, LSE_LIMIT_DEFAULT };
	struct stdin_env e = { argv, err, -1 };
	int sv[2];
	srvt_proc p;

	if (!CHECK_EQ(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0))
		return;
	snprintf(path, sizeof path, "%s/stdin.sock", tmp);
	snprintf(err, sizeof err, "%s/stdin.err", tmp);
	e.in_fd = sv[1];
	if (CHECK_EQ(srvt_fork(&p, exec_socket_stdin, &e), 0)) {
		snprintf(p.err, sizeof p.err, "%s", err);
		if (CHECK_EQ(srvt_wait_ready(&p, path, READY_MS), 0)) {
			check_echo(&t, 5);
			stop_clean(&p, path);
		} else {
			srvt_kill(&p);
		}
	}
	close(sv[1]);
	if (!CHECK(recv(sv[0], b, sizeof b, MSG_DONTWAIT) < 0 && errno == EAGAIN))
		fprintf(stderr, "  a socket on the server's stdin got a datagram\n");
	else
		printf("   a socket on stdin, no NOTIFY_SOCKET: nothing sent to it\n");
	close(sv[0]);
}

/* NOTIFY_SOCKET's socket at descriptor 0 (stdin closed) serves as any
 * other. */
static void check_notify_fd_edges(void)
{
	char path[256], err[sizeof ((srvt_proc *)0)->err], notify[256];
	const char *argv[] = { server_bin, "--socket", path, NULL };
	struct stdin_env e = { argv, err, -1 };
	srvt_proc p;
	int nfd;

	snprintf(path, sizeof path, "%s/fd0.sock", tmp);
	snprintf(err, sizeof err, "%s/fd0.err", tmp);
	snprintf(notify, sizeof notify, "%s/fd0.notify", tmp);
	if (!CHECK((nfd = notify_listen(notify)) >= 0))
		return;
	setenv("NOTIFY_SOCKET", notify, 1);
	if (CHECK_EQ(srvt_fork(&p, exec_socket_stdin, &e), 0)) {
		snprintf(p.err, sizeof p.err, "%s", err);
		if (CHECK_EQ(srvt_wait_ready(&p, path, READY_MS), 0) &&
		    notify_expect(nfd, "READY=1", READY_MS)) {
			stop_clean(&p, path);
			if (notify_expect(nfd, "STOPPING=1", READY_MS))
				printf("   stdin closed: the notify socket is descriptor 0, READY=1 and STOPPING=1 sent\n");
		} else {
			srvt_kill(&p);
		}
	}
	/* The manager's end gone before the stop: STOPPING=1 cannot be sent,
	 * and the server stops all the same. */
	e.in_fd = 0;
	if (CHECK_EQ(srvt_fork(&p, exec_socket_stdin, &e), 0)) {
		snprintf(p.err, sizeof p.err, "%s", err);
		if (CHECK_EQ(srvt_wait_ready(&p, path, READY_MS), 0) &&
		    notify_expect(nfd, "READY=1", READY_MS)) {
			close(nfd);
			nfd = -1;
			if (stop_clean(&p, path))
				printf("   the notify socket's reader gone: stops as ever\n");
		} else {
			srvt_kill(&p);
		}
	}
	unsetenv("NOTIFY_SOCKET");
	if (nfd >= 0)
		close(nfd);
}

/* --no-sandbox: no filter (start() checks Seccomp: 0), and it serves. */
static void check_no_sandbox(void)
{
	char path[256];
	const char *args[] = { "--socket", path, "--no-sandbox", "--threads", "1", NULL };
	target t = { path, 0, LSE_LIMIT_DEFAULT };
	srvt_proc p;

	snprintf(path, sizeof path, "%s/nosandbox.sock", tmp);
	if (start(&p, "no-sandbox", path, args) != 0)
		return;
	check_echo(&t, 20);
	/* start() read Seccomp: 0 as soon as the socket accepted, which is
	 * before the filter would go in; an answered echo comes from a worker,
	 * and workers start only once the filter is in or refused. */
	if (!CHECK_EQ(srvt_seccomp(p.pid), 0))
		fprintf(stderr, "  no-sandbox: Seccomp: %ld once serving\n", srvt_seccomp(p.pid));
	stop_clean(&p, path);
	printf("   --no-sandbox: Seccomp: 0, serves\n");
}

/* Socket activation and notification variables that are not what the
 * protocol says: a one-line error and exit 2, before anything is bound. */
static void check_env_bad(void)
{
	/* NOTIFY_SOCKET paths of 108 bytes (one too many for sun_path) and of
	 * 107 (which fit, and are then not there). */
	static char long108[109], long107[108], long107_want[140];
	static const struct {
		const char *vars[3][2];
		const char *want;
	} cases[] = {
		{ { { "LISTEN_FDS", "1" }, { "LISTEN_PID", "1" } }, "is not this process" },
		{ { { "LISTEN_FDS", "1" } }, "without LISTEN_PID" },
		{ { { "LISTEN_FDS", "x" }, { "LISTEN_PID", "1" } }, "LISTEN_FDS=x: want a positive number" },
		{ { { "LISTEN_FDS", "0" }, { "LISTEN_PID", "1" } }, "LISTEN_FDS=0: want a positive number" },
		{ { { "LISTEN_FDS", "1" }, { "LISTEN_PID", "-3" } }, "LISTEN_PID=-3: want a process id" },
		{ { { "LISTEN_PID", "1" } }, "without LISTEN_FDS" },
		{ { { "LISTEN_FDNAMES", "a" } }, "without LISTEN_FDS" },
		{ { { "NOTIFY_SOCKET", "notify.sock" } }, "want an absolute path or @name" },
		{ { { "NOTIFY_SOCKET", "/nonexistent/notify.sock" } }, "NOTIFY_SOCKET=/nonexistent/notify.sock: connect" },
		/* Numbers at the edges: 9 and INT_MAX are process ids (of
		 * another process), 2^31 is none. */
		{ { { "LISTEN_FDS", "1" }, { "LISTEN_PID", "9" } }, "LISTEN_PID=9 is not this process" },
		{ { { "LISTEN_FDS", "1" }, { "LISTEN_PID", "2147483647" } },
		  "LISTEN_PID=2147483647 is not this process" },
		{ { { "LISTEN_FDS", "1" }, { "LISTEN_PID", "2147483648" } },
		  "LISTEN_PID=2147483648: want a process id" },
		{ { { "LISTEN_FDS", "1" }, { "LISTEN_PID", "01" } }, "LISTEN_PID=01: want a process id" },
		{ { { "LISTEN_FDS", "1" }, { "LISTEN_PID", "1x" } }, "LISTEN_PID=1x: want a process id" },
		{ { { "NOTIFY_SOCKET", "@" } }, "NOTIFY_SOCKET=@: want an absolute path or @name" },
		{ { { "NOTIFY_SOCKET", "/" } }, "NOTIFY_SOCKET=/: want an absolute path or @name" },
		{ { { "NOTIFY_SOCKET", "/%" } }, "NOTIFY_SOCKET=/%: connect" },   /* 2 bytes: a name */
		{ { { "NOTIFY_SOCKET", long108 } }, "NOTIFY_SOCKET is 108 bytes; the limit is 107" },
		{ { { "NOTIFY_SOCKET", long107 } }, long107_want },
	};
	char path[256];
	const char *args[] = { "--socket", path, NULL };
	struct stat st;

	memset(long108, 'n', sizeof long108 - 1);
	long108[0] = '/';
	memcpy(long107, long108, sizeof long107 - 1);
	snprintf(long107_want, sizeof long107_want, "NOTIFY_SOCKET=%s: connect", long107);
	snprintf(path, sizeof path, "%s/env.sock", tmp);
	for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
		srvt_proc p;
		char *log;
		int code;

		for (size_t v = 0; v < 3 && cases[k].vars[v][0]; v++)
			setenv(cases[k].vars[v][0], cases[k].vars[v][1], 1);
		code = srvt_spawn(&p, tmp, "env", server_bin, args);
		for (size_t v = 0; v < 3 && cases[k].vars[v][0]; v++)
			unsetenv(cases[k].vars[v][0]);
		if (!CHECK_EQ(code, 0))
			continue;
		CHECK_EQ(srvt_wait(&p, READY_MS), 0);
		code = srvt_exit_code(&p);
		log = srvt_stderr(&p);
		if (!CHECK_EQ(code, 2) || !CHECK(strstr(log, cases[k].want) != NULL) ||
		    !CHECK(strchr(log, '\n') == log + strlen(log) - 1) || !CHECK(log_clean(log)))
			fprintf(stderr, "  env case %zu: exit %d, want \"%s\", log:\n%s", k, code,
				cases[k].want, log);
		free(log);
		CHECK(lstat(path, &st) != 0 && errno == ENOENT);   /* nothing bound */
	}
	printf("   %zu bad LISTEN_*/NOTIFY_SOCKET settings refused, nothing bound\n",
	       sizeof cases / sizeof *cases);
}

static void check_cli(void)
{
	char path[256], big[64], flag32[33], sockeq[300];
	const char *a1[] = { "--bogus", NULL };
	const char *a2[] = { "--max-payload", "0", "--socket", path, NULL };
	const char *a3[] = { "--max-payload", "16777217", "--socket", path, NULL };
	const char *a4[] = { "--threads", "0", "--socket", path, NULL };
	const char *a5[] = { "--chunk", "abc", "--socket", path, NULL };
	const char *a6[] = { "--socket", "", NULL };
	const char *a7[] = { "--socket", NULL };
	const char *a8[] = { "--threads", "1025", "--socket", path, NULL };
	const char *a9[] = { "--max-payload=-1", "--socket", path, NULL };
	const char *a10[] = { "--raw=1", "--socket", path, NULL };
	const char *a11[] = { "--chunk", "99999999999999999999999", "--socket", path, NULL };
	const char *a12[] = { "--threads", "4x", "--socket", path, NULL };
	const char *a13[] = { big, NULL };
	const char *a14[] = { "--socket", path, "extra", NULL };
	const char *help[] = { "--help", NULL };
	const char *version[] = { "--version", NULL };
	srvt_proc p;
	char *out;

	snprintf(path, sizeof path, "%s/cli.sock", tmp);
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	big[0] = big[1] = '-';
	check_cli_refused("unknown flag", a1, "unknown option --bogus");
	check_cli_bad("--max-payload 0", a2);
	check_cli_bad("--max-payload 16777217", a3);
	check_cli_bad("--threads 0", a4);
	check_cli_bad("--chunk abc", a5);
	check_cli_bad("--socket ''", a6);
	check_cli_bad("--socket (no value)", a7);
	check_cli_bad("--threads 1025", a8);
	check_cli_bad("--max-payload=-1", a9);
	check_cli_bad("--raw=1", a10);
	check_cli_bad("--chunk huge", a11);
	check_cli_bad("--threads 4x", a12);
	check_cli_bad("long unknown flag", a13);
	check_cli_bad("stray argument", a14);
	/* Numbers are plain decimals: no sign, no space, no base prefix; the
	 * bounds are inclusive; --flag=value is --flag value. */
	{
		const char *b1[] = { "--threads", "+5", "--socket", path, NULL };
		const char *b2[] = { "--threads", " 5", "--socket", path, NULL };
		const char *b3[] = { "--threads", "-1", "--socket", path, NULL };
		const char *b4[] = { "--threads", "4x", "--socket", path, NULL };
		const char *b5[] = { flag32, "--socket", path, NULL };
		const char *g1[] = { "--raw", "--chunk", "0100", "--threads", "2", "--socket", path, NULL };
		const char *g2[] = { "--max-payload=16777216", "--threads=9", "--socket=", path, NULL };
		const char *g3[] = { "--max-payload", "1", "--threads", "1", "--socket", path, NULL };

		memset(flag32, 'y', 32);
		flag32[0] = flag32[1] = '-';
		flag32[32] = '\0';
		check_cli_refused("--threads +5", b1, "--threads needs a number from 1 to 1024");
		check_cli_refused("--threads ' 5'", b2, "--threads needs a number from 1 to 1024");
		check_cli_refused("--threads -1", b3, "--threads needs a number from 1 to 1024");
		check_cli_refused("--threads 4x", b4, "--threads 4x: want a number from 1 to 1024");
		check_cli_refused("32-byte flag", b5, "unknown option --yyyy");
		check_cli_good("--chunk 0100", g1, path, "raw, chunk 100, 2 threads");
		g2[2] = sockeq;
		snprintf(sockeq, sizeof sockeq, "--socket=%s", path);
		g2[3] = NULL;
		check_cli_good("--max-payload=16777216", g2, path, "framed, limit 16777216, 9 threads");
		check_cli_good("--max-payload 1", g3, path, "framed, limit 1, 1 threads");
	}
	check_env_bad();
	check_socket_stdin();
	check_notify_fd_edges();
	check_no_sandbox();
	check_sandbox_refused();
	check_harsh_env();
	if (CHECK_EQ(srvt_spawn(&p, tmp, "help", server_bin, help), 0)) {
		CHECK_EQ(srvt_wait(&p, READY_MS), 0);
		CHECK_EQ(srvt_exit_code(&p), 0);
		out = srvt_stdout(&p);
		CHECK(strstr(out, "usage: lsecho-server") != NULL);
		free(out);
	}
	if (CHECK_EQ(srvt_spawn(&p, tmp, "version", server_bin, version), 0)) {
		CHECK_EQ(srvt_wait(&p, READY_MS), 0);
		CHECK_EQ(srvt_exit_code(&p), 0);
		out = srvt_stdout(&p);
		if (!CHECK(strcmp(out, "lsecho-server " LSE_TEST_VERSION "\n") == 0))
			fprintf(stderr, "  --version printed \"%s\"\n", out);
		free(out);
	}
}

/* ---- 10. the abstract namespace, and peer credentials ---- */

/* In a child running as nobody: 10 if the server closed on it unanswered,
 * 11 if it was answered, other values if the probe itself failed. */
static int probe_as_nobody(void *arg)
{
	const char *path = arg;
	uint8_t hello[12] = { LSE_MAGIC0, LSE_MAGIC1, LSE_VERSION, LSE_T_HELLO, 0, 0, 0, 4, 0, 0, 1, 0 };
	uint8_t buf[64];
	int fd;
	ssize_t n;

	if (setgroups(0, NULL) != 0 || setresgid(NOBODY, NOBODY, NOBODY) != 0 ||
	    setresuid(NOBODY, NOBODY, NOBODY) != 0)
		return 3;
	fd = srvt_connect(path);
	if (fd < 0)
		return 4;
	if (send(fd, hello, sizeof hello, MSG_NOSIGNAL) != (ssize_t)sizeof hello && errno != EPIPE)
		return 5;
	if (!wait_readable(fd, READY_MS))
		return 6;
	n = read(fd, buf, sizeof buf);
	close(fd);
	return n > 0 ? 11 : 10;
}

static int run_probe(const char *path)
{
	srvt_proc p;

	if (srvt_fork(&p, probe_as_nobody, (void *)path) != 0 || srvt_wait(&p, STOP_MS) != 0)
		return -1;
	return srvt_exit_code(&p);
}

static void check_abstract(void)
{
	char name[64], name2[64];
	const char *args[] = { "--socket", name, "--threads", "2", NULL };
	const char *args2[] = { "--socket", name2, "--any-uid", NULL };
	target t = { name, 0, LSE_LIMIT_DEFAULT };
	struct stat st;
	srvt_proc p, q;
	char *log;

	snprintf(name, sizeof name, "@lsecho-test-%d", (int)getpid());
	snprintf(name2, sizeof name2, "@lsecho-test-%d-any", (int)getpid());
	if (start(&p, "abstract", name, args) != 0)
		return;
	check_echo(&t, 50);
	CHECK(lstat(name, &st) != 0);   /* no file by that name in its cwd */
	expect_refusal("abstract-second", args, "already in use", NULL);
	check_echo(&t, 5);
	if (geteuid() == 0) {
		int ok = CHECK_EQ(run_probe(name), 10);

		log = srvt_stderr(&p);
		ok &= CHECK(strstr(log, "refused a peer: uid 65534") != NULL);
		free(log);
		if ((ok &= start(&q, "abstract-any-uid", name2, args2) == 0)) {
			ok &= CHECK_EQ(run_probe(name2), 11);
			stop_clean(&q, name2);
		}
		if (ok)
			printf("   a uid-65534 peer: refused (and logged) by default, served with --any-uid\n");
	} else {
		printf("   not root: the peer-credential check is skipped\n");
	}
	stop_clean(&p, name);
}

/* ---- 12. socket activation: systemd-socket-activate ---- */

static char activate_bin[256];   /* systemd-socket-activate, or "" */
static int skipped;              /* a section could not run: exit 77 */

static int find_tool(const char *name, char *out, size_t len)
{
	const char *path = getenv("PATH");

	if (path == NULL || path[0] == '\0')
		path = "/usr/bin:/bin";
	for (const char *d = path; *d;) {
		size_t n = strcspn(d, ":");

		snprintf(out, len, "%.*s/%s", (int)n, d, name);
		if (n > 0 && access(out, X_OK) == 0)
			return 0;
		d += n + (d[n] == ':');
	}
	out[0] = '\0';
	return -1;
}

/* systemd-socket-activate -l PATH [its options] [-E VAR...] lsecho-server
 * args: it binds PATH, waits for the first connection, then execs the
 * server in its own process with LISTEN_FDS=1 and LISTEN_PID set. It passes
 * on only the variables named with -E. */
static int spawn_activated(srvt_proc *p, const char *tag, const char *path,
			   const char *const *sa_opts, const char *const *args,
			   const char *notify)
{
	/* The sanitizers' settings, and make mutants' choice of mutant and
	 * coverage file: without them the activated server would run as
	 * no other test's does. */
	static const char *const vars[] = { "ASAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS",
					    "ASAN_SYMBOLIZER_PATH", "LSE_MUTANT",
					    "LLVM_PROFILE_FILE" };
	const char *argv[32];
	char notify_var[300];
	size_t n = 0;

	argv[n++] = "-l";
	argv[n++] = path;
	for (size_t i = 0; sa_opts && sa_opts[i]; i++)
		argv[n++] = sa_opts[i];
	for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) {
		if (getenv(vars[i])) {
			argv[n++] = "-E";
			argv[n++] = vars[i];
		}
	}
	if (notify) {
		snprintf(notify_var, sizeof notify_var, "NOTIFY_SOCKET=%s", notify);
		argv[n++] = "-E";
		argv[n++] = notify_var;
	}
	argv[n++] = server_bin;
	for (size_t i = 0; args && args[i] && n < sizeof argv / sizeof *argv - 1; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	return srvt_spawn(p, tmp, tag, activate_bin, argv);
}

/* path in a, or -1 if it does not fit. */
static int unix_addr(struct sockaddr_un *a, const char *path)
{
	size_t n = strlen(path);

	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	if (n >= sizeof a->sun_path)
		return -1;
	memcpy(a->sun_path, path, n);
	return 0;
}

static int notify_fd = -1;   /* bound at the path given as NOTIFY_SOCKET */
static int notify_expect(int fd, const char *want, int ms);
static void poke(const char *path, int type);

/* systemd-socket-activate's socket accepts before the server even runs:
 * READY=1 says it serves, and by then its filter is installed. */
static int start_activated(srvt_proc *p, const char *tag, const char *path,
			   const char *const *args, const char *notify)
{
	char *log;
	int ok;

	systemds_file = 1;
	if (!CHECK_EQ(spawn_activated(p, tag, path, NULL, args, notify), 0))
		return -1;
	poke(path, SOCK_STREAM);
	if (!notify_expect(notify_fd, "READY=1", READY_MS) || ready(p, tag, path, args) != 0) {
		srvt_kill(p);
		return -1;
	}
	/* The start line comes once the server runs: it speaks of the passed
	 * socket, and of nothing it made. */
	for (long end = srvt_now_ms() + READY_MS;; srvt_sleep_ms(5)) {
		log = srvt_stderr(p);
		ok = strstr(log, "(passed by systemd, ") != NULL;
		if (ok || srvt_now_ms() >= end)
			break;
		free(log);
	}
	if (!CHECK(ok))
		fprintf(stderr, "  %s: no \"passed by systemd\" start line; log:\n%s", tag, log);
	free(log);
	return 0;
}

/* Connects to a socket of `type`, so that systemd-socket-activate execs
 * the server; the connection is then dropped. */
static void poke(const char *path, int type)
{
	struct sockaddr_un a;
	int fd = unix_addr(&a, path) == 0 ? socket(AF_UNIX, type | SOCK_CLOEXEC, 0) : -1;

	for (long end = srvt_now_ms() + READY_MS; fd >= 0; srvt_sleep_ms(1))
		if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0 || srvt_now_ms() >= end)
			break;
	if (fd >= 0)
		close(fd);
}

/* A datagram socket for NOTIFY_SOCKET, as systemd has one: at a path, or
 * at "@name" in the abstract namespace. */
static int notify_listen(const char *path)
{
	struct sockaddr_un a;
	socklen_t alen = sizeof a;
	int fd = unix_addr(&a, path) == 0 ? socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0) : -1;

	if (path[0] == '@') {
		a.sun_path[0] = '\0';
		alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	}
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, alen) != 0) {
		fprintf(stderr, "  notify socket %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* The next datagram, within ms, must be exactly want. */
static int notify_expect(int fd, const char *want, int ms)
{
	char buf[256];
	ssize_t n = -1;

	if (wait_readable(fd, ms))
		n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
	buf[n > 0 ? n : 0] = '\0';
	if (!CHECK(n == (ssize_t)strlen(want) && memcmp(buf, want, strlen(want)) == 0)) {
		fprintf(stderr, "  notify: got \"%s\" (%zd bytes), want \"%s\"\n", buf, n, want);
		return 0;
	}
	return 1;
}

/* Passed sockets lsecho-server cannot serve: a clear line, exit 2. */
static void expect_activated_refusal(const char *tag, const char *const *sa_opts,
				     int type, int want_code, const char *want)
{
	char path[256];
	srvt_proc p;
	char *log;
	int code;

	snprintf(path, sizeof path, "%s/%s.sock", tmp, tag);
	if (!CHECK_EQ(spawn_activated(&p, tag, path, sa_opts, NULL, NULL), 0))
		return;
	poke(path, type);
	CHECK_EQ(srvt_wait(&p, READY_MS), 0);
	code = srvt_exit_code(&p);
	log = srvt_stderr(&p);
	if (!CHECK_EQ(code, want_code) || !CHECK(strstr(log, want) != NULL) || !CHECK(log_clean(log)))
		fprintf(stderr, "  %s: exit %d, want \"%s\", log:\n%s", tag, code, want, log);
	else
		printf("   %s refused: %s", tag, strstr(log, "lsecho-server: "));
	free(log);
}

static void check_activation(void)
{
	char notify[2][256], two[256];
	const char *two_opts[] = { "-l", two, NULL };
	const char *seqpacket[] = { "--seqpacket", NULL };
	const char *fdnames[] = { "-E", "LISTEN_FDNAMES=a:b", NULL };
	int nfd;

	if (find_tool("systemd-socket-activate", activate_bin, sizeof activate_bin) != 0) {
		printf("   skipped: systemd-socket-activate is not installed (Debian package "
		       "systemd; ci/deps.sh test installs it)\n");
		skipped = 1;
		return;
	}
	/* The framed server notifies a path, the raw one an abstract name. */
	snprintf(notify[0], sizeof notify[0], "%s/notify", tmp);
	snprintf(notify[1], sizeof notify[1], "@lsecho-test-notify-%d", (int)getpid());
	for (int raw = 0; raw <= 1; raw++) {
		if (!CHECK((nfd = notify_listen(notify[raw])) >= 0))
			return;
		notify_fd = nfd;
		printf("   %s, socket passed by %s, NOTIFY_SOCKET=%s\n", raw ? "raw" : "framed",
		       activate_bin, notify[raw]);
		fflush(stdout);
		check_mode_as(raw, 1, notify[raw]);   /* READY=1 checked on the way in */
		/* STOPPING=1 at SIGTERM, and nothing else. */
		notify_expect(nfd, "STOPPING=1", READY_MS);
		CHECK(!wait_readable(nfd, 0));
		close(nfd);
	}
	printf("   READY=1 and STOPPING=1 sent; the socket files left to their maker\n");
	systemds_file = 0;
	snprintf(two, sizeof two, "%s/two-b.sock", tmp);
	/* Variables the server cannot use: 2, as for bad flags. A socket it
	 * cannot serve: 1, as for a path it cannot bind. */
	expect_activated_refusal("two-sockets", two_opts, SOCK_STREAM, 2, "LISTEN_FDS=2");
	expect_activated_refusal("seqpacket", seqpacket, SOCK_SEQPACKET, 1, "not a stream socket");
	expect_activated_refusal("fdnames", fdnames, SOCK_STREAM, 2,
				 "LISTEN_FDNAMES=a:b names more than the one socket");
}

/* ---- 8b. signals at the edges of the server's life ---- */

/* SIGTERM the moment the socket accepts: from then on the server must
 * handle it (exit 0, file removed), not die of it and leave the file. */
static void check_signal_at_start(void)
{
	char path[256];
	const char *args[] = { "--socket", path, "--threads", "1", NULL };
	srvt_proc p;

	snprintf(path, sizeof path, "%s/early.sock", tmp);
	for (int i = 0; i < 20; i++) {
		if (!CHECK_EQ(srvt_spawn(&p, tmp, "early", server_bin, args), 0))
			return;
		if (!CHECK_EQ(srvt_wait_ready(&p, path, READY_MS), 0)) {
			srvt_kill(&p);
			return;
		}
		if (!stop_clean(&p, path)) {
			fprintf(stderr, "  SIGTERM as soon as %s accepted, round %d\n", path, i);
			unlink(path);
			return;
		}
	}
	printf("   SIGTERM as soon as the socket accepts: exit 0, file removed (20 rounds)\n");
}

/* SIGTERM over and over until it exits: the signals after the first must
 * be harmless, even one that lands while the server frees itself. */
static void check_signal_storm(void)
{
	char path[256];
	const char *args[] = { "--socket", path, "--threads", "2", NULL };
	target t = { path, 0, LSE_LIMIT_DEFAULT };
	srvt_proc p;
	long sent = 0;

	snprintf(path, sizeof path, "%s/storm.sock", tmp);
	for (int i = 0; i < 10; i++) {
		if (start(&p, "storm", path, args) != 0)
			return;
		check_echo(&t, 1);   /* answered: the handlers are in place */
		for (long end = srvt_now_ms() + STOP_MS; !srvt_poll(&p) && srvt_now_ms() < end; sent++)
			kill(p.pid, SIGTERM);   /* ours until reaped: no pid reuse */
		if (!exited_clean(&p, path)) {
			fprintf(stderr, "  repeated SIGTERM, round %d\n", i);
			return;
		}
	}
	printf("   %ld SIGTERMs over 10 shutdowns: exit 0 every time\n", sent);
}

static void check_signals(void)
{
	check_signal_at_start();
	check_signal_storm();
}

/* ---- 11. every split of streams at a tight output bound ---- */

/* A framed session that negotiated at most 130 keeps the smallest bound
 * (276 bytes: 138 of answers, 138 in reserve), so the output owed for a
 * header or HELLO held across reads weighs on the next read's room. Each
 * stream here is cut once, at every byte: the server reads the first part
 * alone, then the rest arrives in one write, and the reply must be the
 * model's, whole. Connections run in batches, one pause per batch. */
#define SPLIT_MAX_N 130u     /* the largest HELLO that keeps the 276-byte bound */
#define SPLIT_BATCH 1000     /* connections at once */
#define SPLIT_PAUSE_MS 50    /* the pause where SIOCOUTQ cannot tell */

typedef struct split_case {
	uint32_t n;         /* HELLO(n), DATA(min(n, 64)), DATA(0), PING(ping), PING(0) */
	uint32_t ping;      /* ping <= LSE_PING_MAX */
	size_t k;           /* the first write: bytes [0, k), 0 < k < the stream's length */
} split_case;

static void split_put(lse_bytes *b, uint8_t type, uint32_t len, uint8_t fill)
{
	lse_bytes_frame(b, type, len, NULL);
	lse_bytes_byte(b, fill, len);
}

static void split_stream(lse_bytes *b, const split_case *sc)
{
	lse_bytes_hello(b, sc->n);
	split_put(b, LSE_T_DATA, sc->n < 64 ? sc->n : 64, 'A');
	split_put(b, LSE_T_DATA, 0, 0);
	split_put(b, LSE_T_PING, sc->ping, 'P');
	split_put(b, LSE_T_PING, 0, 0);
}

/* A PING size per HELLO: n % 65 gives every size from 0 to 64 twice,
 * beside DATA lengths from 1 to 64, so the stream lengths (46 to 172) lie
 * on both sides of the room (138). The second read's offer reaches the
 * room only where the rest of the stream, from the cut on, is at least
 * the room less what the session holds at the cut. */
static uint32_t split_ping(uint32_t n)
{
	return n % (LSE_PING_MAX + 1);
}

/* One write of c's stream up to `to`: the socket is fresh and the stream
 * short, so it takes all or the server has closed. */
static void split_send(tconn *c, size_t to)
{
	ssize_t k = send(c->fd, c->in.p + c->sent, to - c->sent, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (k == (ssize_t)(to - c->sent))
		c->sent = to;
	else
		c->broken = 1;
}

/* Waits until the server has read every first part. A Unix stream socket
 * counts what it sent (SIOCOUTQ) until the peer has read it, so this
 * knows rather than hopes; where the count is not kept, a fixed pause
 * stands in. Returns how many still hold unread bytes after ms. */
static size_t split_wait_read(const tconn *c, size_t n, int ms)
{
	long end = srvt_now_ms() + ms;
	size_t left;

	do {
		left = 0;
		for (size_t i = 0; i < n; i++) {
			int q = 0;

			if (c[i].fd < 0 || c[i].broken)
				continue;
			if (ioctl(c[i].fd, SIOCOUTQ, &q) != 0) {
				srvt_sleep_ms(SPLIT_PAUSE_MS);
				return 0;
			}
			left += q > 0;
		}
		if (left > 0)
			srvt_sleep_ms(1);
	} while (left > 0 && srvt_now_ms() < end);
	return left;
}

/* Runs a batch: n connections, each cut at its case's k, every one read
 * to its end (or the deadline). Returns -1 if a connect failed. */
static int split_run(tconn *c, const split_case *sc, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++)
		split_stream(&c[i].in, &sc[i]);
	if (!CHECK_EQ(tconn_open(c, n, path), 0))
		return -1;
	for (size_t i = 0; i < n; i++)
		split_send(&c[i], sc[i].k);
	CHECK_EQ(split_wait_read(c, n, READY_MS), 0);
	for (size_t i = 0; i < n; i++) {
		split_send(&c[i], c[i].in.len);
		c[i].goal = c[i].in.len;
		c[i].shut = c[i].reads = 1;
	}
	CHECK_EQ(pump(c, n, RUN_MS), 0);
	return 0;
}

/* Checks a finished batch against the model. Returns the mismatches; the
 * first one at each of the first few HELLO sizes is named by n and k
 * (*shown: the sizes named so far; *last: the latest). */
static size_t split_check(const tconn *c, const split_case *sc, size_t n,
			  const target *t, size_t *shown, uint32_t *last)
{
	size_t bad = 0, at, want;

	for (size_t i = 0; i < n; i++) {
		if (tconn_agrees(&c[i], t, &at, &want))
			continue;
		bad++;
		if (sc[i].n == *last || *shown >= 5)
			continue;
		*last = sc[i].n;
		++*shown;
		fprintf(stderr, "  HELLO(%u) PING(%u), %zu bytes split at %zu: got %zu%s, model %zu; first difference at %zu\n",
			sc[i].n, sc[i].ping, c[i].in.len, sc[i].k, c[i].got.len,
			c[i].done ? "" : " (no end of input)", want, at);
	}
	return bad;
}

/* Runs every case in batches of `batch`, until a batch cannot connect (a
 * dead server refuses them all). Returns the mismatches; *ran counts the
 * connections run. */
static size_t split_all(const split_case *sc, size_t n, size_t batch, const target *t,
			size_t *ran)
{
	tconn *c = calloc(batch, sizeof *c);
	size_t bad = 0, shown = 0;
	uint32_t last = 0;
	int rc = 0;

	if (c == NULL)
		abort();
	*ran = 0;
	for (size_t i = 0; i < n && rc == 0; i += batch) {
		size_t m = n - i < batch ? n - i : batch;

		rc = split_run(c, sc + i, m, t->path);
		if (rc == 0) {
			bad += split_check(c, sc + i, m, t, &shown, &last);
			*ran += m;
		}
		for (size_t j = 0; j < m; j++) {
			tconn_free(&c[j]);
			memset(&c[j], 0, sizeof c[j]);
		}
	}
	free(c);
	return bad;
}

/* HELLO(100) DATA(64) DATA(0) PING(39) PING(0), cut after 11 bytes (the
 * HELLO's header and 3 bytes of its value): the other 136 follow in one
 * write, then a half-close. The room after the 11 must count the WELCOME
 * they owe; a room that forgets it promises more than the session takes,
 * and the answers stop short. Checked against the model and against the
 * answer spelt out, so a model that drifted would show too. */
static void split_regression(const target *t)
{
	split_case sc = { 100, 39, 11 };
	lse_bytes want = { 0 };
	uint8_t v[4] = { 0, 0, 0, 100 };
	tconn c;

	memset(&c, 0, sizeof c);
	lse_bytes_frame(&want, LSE_T_WELCOME, sizeof v, v);
	split_put(&want, LSE_T_DATA, 64, 'A');
	split_put(&want, LSE_T_DATA, 0, 0);
	split_put(&want, LSE_T_PONG, 39, 'P');
	split_put(&want, LSE_T_PONG, 0, 0);
	if (split_run(&c, &sc, 1, t->path) == 0) {
		CHECK_EQ(c.in.len, 147);
		CHECK(tconn_matches(&c, 0, t));
		if (CHECK_EQ(c.got.len, want.len) && CHECK(memcmp(c.got.p, want.p, want.len) == 0))
			printf("   HELLO(100) DATA(64) DATA(0) PING(39) PING(0), split 11 + 136: all five answers, then EOF\n");
	}
	tconn_free(&c);
	lse_bytes_free(&want);
}

/* Every HELLO(1..SPLIT_MAX_N) stream, cut at every byte. */
static size_t split_cases(split_case **out)
{
	size_t n = 0, cap = 0;
	split_case *sc = NULL;

	for (uint32_t h = 1; h <= SPLIT_MAX_N; h++) {
		split_case one = { h, split_ping(h), 0 };
		lse_bytes b = { 0 };

		split_stream(&b, &one);
		for (one.k = 1; one.k < b.len; one.k++) {
			if (n == cap) {
				cap = cap ? 2 * cap : 4096;
				sc = realloc(sc, cap * sizeof *sc);
				if (sc == NULL)
					abort();
			}
			sc[n++] = one;
		}
		lse_bytes_free(&b);
	}
	*out = sc;
	return n;
}

/* The server's own words on a mismatch: its first line after the one
 * that says it listens, and how many lines there are in all. */
static void split_log(const srvt_proc *p)
{
	char *log = srvt_stderr(p), *next = strchr(log, '\n');
	size_t lines = 0;

	for (const char *q = log; (q = strchr(q, '\n')) != NULL; q++)
		lines++;
	next = next ? next + 1 : log;
	fprintf(stderr, "  server log (%zu lines), after start-up: %.*s\n", lines,
		(int)strcspn(next, "\n"), next);
	free(log);
}

static void check_split(void)
{
	char path[256];
	const char *args[] = { "--socket", path, "--threads", "2", NULL };
	target t = { path, 0, LSE_LIMIT_DEFAULT };
	struct rlimit rl;
	size_t batch = SPLIT_BATCH, n, bad, ran;
	split_case *sc;
	srvt_proc p;
	long t0;

	snprintf(path, sizeof path, "%s/split.sock", tmp);
	if (start(&p, "split", path, args) != 0)
		return;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < SPLIT_BATCH + 64)
		batch = rl.rlim_cur > 128 ? rl.rlim_cur - 64 : 64;
	split_regression(&t);
	t0 = srvt_now_ms();
	n = split_cases(&sc);
	bad = split_all(sc, n, batch, &t, &ran);
	CHECK_EQ(ran, n);
	CHECK_EQ(bad, 0);
	printf("   HELLO(1..%u) streams split at every byte: %zu of %zu connections run, %zu at once; %zu mismatches; %ld ms\n",
	       SPLIT_MAX_N, ran, n, batch, bad, srvt_now_ms() - t0);
	if (bad > 0)
		split_log(&p);
	free(sc);
	stop_clean(&p, path);
}

/* ---- 13. out of descriptors ---- */

#define NOFILE_LIMIT 64    /* the server's RLIMIT_NOFILE, soft and hard */
#define NOFILE_EXTRA 6     /* clients beyond what it can hold */
#define PAUSED_MS 500      /* well past the loop's 100 ms accept pause */

struct nofile_env {
	const char *const *argv;
	const char *err;
};

/* The server with a small hard limit on open files (the soft one is
 * raised to it at start, so both are set), its stderr to a file. */
static int exec_nofile(void *arg)
{
	const struct nofile_env *e = arg;
	struct rlimit rl = { NOFILE_LIMIT, NOFILE_LIMIT };
	int fd = open(e->err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || dup2(fd, 2) < 0 || setrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 126;
	execv(server_bin, (char *const *)e->argv);
	return 127;
}

/* Descriptor numbers below NOFILE_LIMIT that process pid has free: how
 * many more connections it can accept. */
static int nofile_free(pid_t pid)
{
	char path[64];
	int n = NOFILE_LIMIT;

	for (int fd = 0; fd < NOFILE_LIMIT; fd++) {
		snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)pid, fd);
		n -= access(path, F_OK) == 0;
	}
	return n;
}

static int count_of(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *q = strstr(hay, needle); q; q = strstr(q + 1, needle))
		n++;
	return n;
}

/* Reads what has arrived on client fd into got (up to want bytes): 1 once
 * got holds want bytes, -1 at EOF or an error, 0 otherwise. */
static int echo_poll(int fd, char *got, size_t *have, size_t want)
{
	ssize_t n = 0;

	while (*have < want && (n = read(fd, got + *have, want - *have)) > 0)
		*have += (size_t)n;
	if (*have == want)
		return 1;
	return n == 0 || (n < 0 && errno != EAGAIN) ? -1 : 0;
}

/* Sends msg on each of fds[from, to) and waits up to ms, or until enough
 * have come back whole (marked in served); returns how many did. */
static int echo_all(const int *fds, int from, int to, const char *msg, int ms, int enough,
		    int *served)
{
	char got[64][32];
	size_t have[64] = { 0 }, len = strlen(msg);
	int done = 0, n = to - from;
	long end = srvt_now_ms() + ms;

	for (int i = from; i < to; i++)
		if (write(fds[i], msg, len) != (ssize_t)len)
			return -1;
	memset(served + from, 0, (size_t)n * sizeof *served);
	while (done < enough && srvt_now_ms() < end) {
		for (int i = from; i < to; i++)
			if (!served[i] && echo_poll(fds[i], got[i - from], &have[i - from], len) == 1 &&
			    memcmp(got[i - from], msg, len) == 0) {
				served[i] = 1;
				done++;
			}
		if (done < enough)
			srvt_sleep_ms(5);
	}
	return done;
}

/* Out of descriptors, the server pauses accepting (logged once) and goes
 * on serving what it holds, however long the pause lasts; connections
 * that wait in the backlog are taken and served once some close. */
static void check_nofile(void)
{
	char path[256], err[sizeof ((srvt_proc *)0)->err];
	const char *argv[] = { server_bin, "--raw", "--threads", "1", "--socket", path, NULL };
	struct nofile_env e = { argv, err };
	int fds[64] = { 0 }, served[64] = { 0 }, room, n, held = 0, waiting, ok = 1;
	char *log;
	srvt_proc p;

	snprintf(path, sizeof path, "%s/nofile.sock", tmp);
	snprintf(err, sizeof err, "%s/nofile.err", tmp);
	if (!CHECK_EQ(srvt_fork(&p, exec_nofile, &e), 0))
		return;
	snprintf(p.err, sizeof p.err, "%s", err);
	if (ready(&p, "nofile", path, argv) != 0)
		return;
	/* The readiness probe's connection goes once the server sees it
	 * closed: the count settles. */
	room = nofile_free(p.pid);
	for (int k = 0, last = -1; k < 100 && room != last; k++) {
		srvt_sleep_ms(20);
		last = room;
		room = nofile_free(p.pid);
	}
	n = room + NOFILE_EXTRA;
	if (!CHECK(room > NOFILE_EXTRA && n <= 64)) {
		fprintf(stderr, "  the server has %d descriptors free of %d\n", room, NOFILE_LIMIT);
		srvt_kill(&p);
		return;
	}
	for (int i = 0; i < n; i++)
		if (!CHECK((fds[i] = srvt_connect(path)) >= 0))
			n = i;
	/* Those it has room for are accepted and served, in order; the rest
	 * wait. (One descriptor's slack: a sanitizer's runtime may hold one
	 * for a moment.) */
	echo_all(fds, 0, n, "first\n", 10000, room, served);
	while (held < n && served[held])
		held++;
	for (int i = held; i < n; i++)
		ok &= CHECK(!served[i]);
	ok &= CHECK(held >= room - 1 && held <= room);
	/* Paused for longer than the pause: the waiting ones are still
	 * waiting, the connections held are still served, and the server
	 * still runs. */
	srvt_sleep_ms(PAUSED_MS);
	for (int i = held; i < n; i++) {
		char b[8];

		ok &= CHECK(read(fds[i], b, sizeof b) < 0 && errno == EAGAIN);
	}
	ok &= CHECK_EQ(echo_all(fds, 0, held, "again\n", 10000, held, served), held);
	ok &= CHECK_EQ(srvt_poll(&p), 0);
	/* As many close as wait: every waiting one is taken and served (its
	 * first message, sent long ago, comes back). */
	waiting = n - held;
	for (int i = 0; i < waiting; i++) {
		close(fds[i]);
		fds[i] = -1;
	}
	{
		char got[64][8];
		size_t have[64] = { 0 };
		int done = 0;
		long end = srvt_now_ms() + 10000;

		memset(served, 0, sizeof served);
		while (done < waiting && srvt_now_ms() < end) {
			for (int i = held; i < n; i++)
				if (!served[i] && echo_poll(fds[i], got[i - held], &have[i - held], 6) == 1 &&
				    memcmp(got[i - held], "first\n", 6) == 0) {
					served[i] = 1;
					done++;
				}
			srvt_sleep_ms(5);
		}
		ok &= CHECK_EQ(done, waiting);
	}
	log = srvt_stderr(&p);
	ok &= CHECK(strstr(log, "accept: Too many open files: pausing new connections") != NULL);
	ok &= CHECK_EQ(count_of(log, "pausing"), 1);   /* once, however often it paused */
	if (!ok)
		fprintf(stderr, "  %d clients, room for %d, %d held; server log:\n%s", n, room, held, log);
	else
		printf("   room for %d connections: %d held and served through a %d ms pause, %d waiting then taken\n",
		       room, held, PAUSED_MS, waiting);
	free(log);
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	stop_clean(&p, path);
}

/* ---- main ---- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if ((flag == FTW_DP ? rmdir(path) : unlink(path)) != 0)
		fprintf(stderr, "test_server: cannot remove %s: %s\n", path, strerror(errno));
	return 0;
}

static void cleanup(void)
{
	srvt_kill_all();
	if (tmp[0]) {
		if (chdir("/") != 0)
			fprintf(stderr, "test_server: chdir /: %s\n", strerror(errno));
		nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	}
}

static int setup(void)
{
	const char *base = getenv("TMPDIR");
	struct rlimit rl;
	struct sigaction sa = { .sa_handler = SIG_IGN };

	sigaction(SIGPIPE, &sa, NULL);
	/* 1000 client sockets, plus the stalled ones. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	/* Socket paths must fit in sun_path (108 bytes). */
	if (base == NULL || base[0] != '/' || strlen(base) > 40)
		base = "/tmp";
	snprintf(tmp, sizeof tmp, "%s/lsecho-test-XXXXXX", base);
	if (mkdtemp(tmp) == NULL) {
		fprintf(stderr, "test_server: mkdtemp %s: %s\n", tmp, strerror(errno));
		tmp[0] = '\0';
		return -1;
	}
	atexit(cleanup);
	/* Stray files (an abstract name taken for a path, a default socket)
	 * land in the private directory too. */
	if (chdir(tmp) != 0 || setenv("XDG_RUNTIME_DIR", tmp, 1) != 0)
		return -1;
	return 0;
}

static void check_framed(void)
{
	check_mode(0);
}

static void check_raw(void)
{
	check_mode(1);
}

static void check_stalls(void)
{
	section("3. clients that never read: framed");
	check_stall(0);
	section("3. clients that never read: raw");
	check_stall(1);
}

static const struct {
	const char *name;
	void (*run)(void);
	int by_default;
	const char *what;
} sections[] = {
	{ "cli", check_cli, 1, "9. command line" },
	{ "framed", check_framed, 1, "1, 2, 7, 8. framed: 1000 connections, disconnects, mode, SIGTERM" },
	{ "raw", check_raw, 1, "1, 2, 7, 8. raw: 1000 connections, disconnects, mode, SIGTERM" },
	{ "split", check_split, 1, "11. framed: every split of streams at a tight output bound" },
	{ "stall", check_stalls, 1, NULL },
	{ "stale", check_stale, 1, "4. stale socket file" },
	{ "live", check_live, 1, "5. a live server at the path" },
	{ "unsafe", check_unsafe, 1, "6. unsafe directories and paths" },
	{ "abstract", check_abstract, 1, "10. abstract socket and peer credentials" },
	{ "signals", check_signals, 0, "8b. SIGTERM at start-up, and SIGTERM repeated" },
	{ "activation", check_activation, 0, "12. socket activation (systemd-socket-activate), sd_notify" },
	{ "nofile", check_nofile, 1, "13. out of descriptors: accepting paused, what is held still served" },
};
#define NSECTIONS (sizeof sections / sizeof *sections)

/* The sections named in argv, or every default one. Returns -1 on an
 * unknown name. */
static int pick(int argc, char **argv, int *on)
{
	for (size_t k = 0; k < NSECTIONS; k++)
		on[k] = argc == 0 && sections[k].by_default;
	for (int i = 0; i < argc; i++) {
		size_t k = 0;
		while (k < NSECTIONS && strcmp(argv[i], sections[k].name) != 0)
			k++;
		if (k == NSECTIONS)
			return -1;
		on[k] = 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	long t0 = srvt_now_ms();
	int on[NSECTIONS], rc;

	if (argc < 2 || access(argv[1], X_OK) != 0 || pick(argc - 2, argv + 2, on) != 0) {
		fprintf(stderr, "usage: test_server PATH-TO-lsecho-server [SECTION...]\n"
			"sections (default: all but");
		for (size_t k = 0; k < NSECTIONS; k++)
			if (!sections[k].by_default)
				fprintf(stderr, " %s", sections[k].name);
		fprintf(stderr, "):");
		for (size_t k = 0; k < NSECTIONS; k++)
			fprintf(stderr, " %s", sections[k].name);
		fputc('\n', stderr);
		return 2;
	}
	/* Absolute: the test runs from its private directory. */
	server_bin = realpath(argv[1], NULL);
	if (server_bin == NULL || setup() != 0)
		return 1;
	printf("server %s, directory %s\n", server_bin, tmp);
	for (size_t k = 0; k < NSECTIONS; k++) {
		if (!on[k])
			continue;
		if (sections[k].what)
			section(sections[k].what);
		sections[k].run();
	}
	printf("%ld ms\n", srvt_now_ms() - t0);
	free((char *)server_bin);
	rc = lse_t_report();
	return rc == 0 && skipped ? 77 : rc;
}
