/* test_life: a property test of lsecho-server's own life. The real program
 * runs as a child process (tests/srvtest.h), one server per trial, and each
 * trial draws from a seeded RNG:
 *
 *  - what the socket path holds before start: nothing, a stale socket, a
 *    live one (another lsecho-server, or a listening socket of the test),
 *    a regular file, a directory, a FIFO, a symbolic link (to a live
 *    socket, a stale socket, a file, or dangling), or an abstract name free
 *    or taken; and how its directory is kept (mode, owner);
 *  - --threads 1, 2 or 4, framed or --raw, --max-payload or --chunk;
 *  - the clients: fast readers, slow ones (small reads, pauses), ones that
 *    hold off reading until after the stop, ones that never read, idle
 *    ones; each with its own stream, cut anywhere (often mid-frame);
 *  - the moment of the stop: SIGTERM or SIGINT at start, in flight, with
 *    answers owed, with clients that never read, or idle; sometimes
 *    repeated until the server exits;
 *  - whether the file at the path is replaced while the server runs.
 *
 * The oracles are docs/server.md and docs/protocol.md, the latter through
 * the reference model (tests/model.h):
 *  - the server refuses (exit 1, one line naming the path and the reason)
 *    exactly where docs/server.md says, and otherwise serves;
 *  - it never follows, removes or modifies anything but its own socket
 *    file (every entry of the trial's directories is compared, inode,
 *    times and content, before and after), and a live server or socket it
 *    found keeps serving;
 *  - after the signal, a client that reads gets every answer owed when the
 *    signal came, whole and as the model says, then the end of input; a
 *    client that never reads loses answers only at the 2 s drain deadline;
 *    with nothing owed the server closes at once; it exits 0, its log
 *    the start-up line and then the stop line naming the signal, and it
 *    never hangs;
 *  - at exit it removes the socket file only if it is still its own.
 *
 * What was owed is known exactly: just before the signal the test asks the
 * kernel how many of a client's bytes the server's end has not read
 * (sock_diag, srvt_peer_unread); the model's answer to the prefix it had
 * read, at end of input, is owed for sure (the server may read a little
 * more before the signal lands: owed too, but not required). Where
 * sock_diag is missing, SIOCOUTQ stands in, which overcounts the unread
 * bytes (buffer sizes), so less is required. A trial stops at its first
 * failure and prints the line that replays it.
 *
 * Usage: test_life PATH-TO-lsecho-server [--seed N] [--trials N] [--only K]
 *                  [--verbose 1]
 *        (default: a fresh seed, 20 trials: every case at least once;
 *        --verbose 1 prints what each client sent, got and was owed) */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <linux/sockios.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "feed.h"
#include "model.h"
#include "srvtest.h"

#define READY_MS 5000       /* start-up, or a refusal's exit */
#define DRAIN_MS 2000       /* docs/server.md: what is owed goes out for up to 2 s */
#define CLOCK_SLACK_MS 20   /* millisecond clocks: a close this early is still "at" the deadline */
#define PROMPT_MS 1500      /* nothing owed: the end comes well before the deadline */
#define STOP_MS (DRAIN_MS + 6000)  /* signal to exit, however slow a sanitizer */
#define DRAIN_READ_MS 5000  /* after the exit: readers empty their queues */
#define RUN_MS 20000        /* any one phase of traffic */
#define SETTLE_MS 150       /* no byte sent for this long: the server pushes back */
#define HOLD_MAX_MS 600     /* a held reader starts reading this long after the signal at most */
#define SLOW_PAUSE_MS 300   /* a slow reader's pauses after the signal, in all */
#define MAX_CLIENTS 8
#define DEFAULT_TRIALS 20
#define NOBODY 65534u

static const char *server_bin;
static int verbose;         /* --verbose 1: a line per client */
static char tmp[128];       /* the private directory; also our cwd */
static char logs[160];      /* the servers' stdout and stderr */

/* ---- what a trial is made of ---- */

typedef enum pre_kind {
	PRE_NOTHING, PRE_STALE, PRE_ABSTRACT,        /* served */
	PRE_LIVE_SERVER, PRE_LIVE_PLAIN, PRE_ABSTRACT_LIVE,
	PRE_FILE, PRE_DIR, PRE_FIFO,
	PRE_LINK_LIVE, PRE_LINK_STALE, PRE_LINK_FILE, PRE_LINK_DANGLING,
	PRE_DIR_OPEN,   /* others may write the directory, no sticky bit */
	PRE_DIR_OTHER,  /* another user owns the directory */
	NPRE
} pre_kind;

static const char *const pre_name[NPRE] = {
	"nothing at the path", "a stale socket", "an abstract name",
	"a live lsecho-server", "a live socket of the test", "an abstract name in use",
	"a regular file", "a directory", "a FIFO",
	"a symlink to a live socket", "a symlink to a stale socket",
	"a symlink to a regular file", "a dangling symlink",
	"a directory others may write", "a directory another user owns",
};

typedef enum stop_kind { STOP_START, STOP_INFLIGHT, STOP_OWED, STOP_STALLED, STOP_IDLE, NSTOP } stop_kind;

static const char *const stop_name[NSTOP] = {
	"at start", "in flight", "answers owed", "answers owed, some never read", "idle",
};

typedef enum repl_kind { REPL_NONE, REPL_SOCKET, REPL_STALE, REPL_FILE, REPL_GONE, REPL_MOVED, NREPL } repl_kind;

static const char *const repl_name[NREPL] = {
	"", "; its file replaced by another live socket", "; its file replaced by a stale socket",
	"; its file replaced by a regular file", "; its file removed",
	"; its file moved away, a regular file in its place",
};

typedef enum role { R_FAST, R_SLOW, R_HOLD, R_NONE, R_IDLE } role;

static const char *const role_name[] = { "fast reader", "slow reader", "held reader", "never reads", "idle" };

typedef struct trial {
	int k;
	uint64_t seed;          /* the trial's own RNG starts here */
	uint64_t rng;
	pre_kind pre;
	pre_kind state;         /* PRE_DIR_*: what the path holds besides */
	stop_kind stop;
	repl_kind repl;
	int early;              /* STOP_START: signal as soon as the file appears */
	int threads, raw, sig, repeat, other_uid;
	uint32_t limit;         /* framed --max-payload, raw --chunk */
	mode_t mode;            /* of dir */
	char dir[160];          /* the socket's directory */
	char aux[160];          /* symbolic link targets */
	char path[108];         /* the socket path, or "@name" */
	char moved[120];        /* REPL_MOVED: where the server's file went */
	char link_to[200];      /* PRE_LINK_*: the target */
	int live_fd;            /* a listening socket of the test, or -1 */
	int repl_fd;            /* REPL_SOCKET: the listening socket now at the path */
	srvt_proc peer;         /* PRE_LIVE_SERVER */
	srvt_proc srv;
	int stopped;
	long stop_ms, exit_ms, next_sig_ms;
	int signals;
	size_t owed;            /* answers owed to readers when the signal came, at least */
	size_t lost;            /* answers clients that never read lost at the deadline */
	int guessed;            /* clients whose unread bytes only SIOCOUTQ could bound */
	int failed;
} trial;

static uint32_t rnd(trial *t, uint32_t n)
{
	return n ? (uint32_t)(lse_rng(&t->rng) % n) : 0;
}

/* Counts a check; on failure says which trial and what went wrong. */
static int expect(trial *t, int ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int expect(trial *t, int ok, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		lse_t_pass++;
		return 1;
	}
	lse_t_fail++;
	t->failed = 1;
	fprintf(stderr, "  FAIL trial %d: ", t->k);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 0;
}

static int is_abstract(const trial *t)
{
	return t->path[0] == '@';
}

/* snprintf for paths: one too long for its buffer is the test's own
 * mistake, never silently cut. */
static void path_fmt(char *out, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void path_fmt(char *out, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len) {
		fprintf(stderr, "test_life: path too long: %s...\n", out);
		abort();
	}
}

/* ---- snapshots: everything in the trial's directories ---- */

#define SNAP_MAX 32

typedef struct snap_ent {
	char name[256];
	struct stat st;
	char link[256];
	uint64_t sum;           /* a regular file's bytes, hashed */
} snap_ent;

typedef struct snap {
	snap_ent e[SNAP_MAX];
	int n;
} snap;

static uint64_t file_sum(const char *path)
{
	uint64_t h = 0xcbf29ce484222325ull;
	uint8_t buf[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return 0;
	while ((n = read(fd, buf, sizeof buf)) > 0)
		for (ssize_t i = 0; i < n; i++)
			h = (h ^ buf[i]) * 0x100000001b3ull;
	close(fd);
	return h;
}

static void snap_dir(snap *s, const char *dir, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL && s->n < SNAP_MAX) {
		snap_ent *e = &s->e[s->n];

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		memset(e, 0, sizeof *e);
		path_fmt(e->name, sizeof e->name, "%s/%s", dir, de->d_name);
		if (lstat(e->name, &e->st) != 0)
			continue;
		s->n++;
		if (S_ISLNK(e->st.st_mode) && readlink(e->name, e->link, sizeof e->link - 1) < 0)
			e->link[0] = '\0';
		if (S_ISREG(e->st.st_mode))
			e->sum = file_sum(e->name);
		if (S_ISDIR(e->st.st_mode) && depth > 0)
			snap_dir(s, e->name, depth - 1);
	}
	closedir(d);
}

static void snap_take(const trial *t, snap *s)
{
	s->n = 0;
	snap_dir(s, t->dir, 1);
	snap_dir(s, t->aux, 1);
}

static const snap_ent *snap_find(const snap *s, const char *name)
{
	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->e[i].name, name))
			return &s->e[i];
	return NULL;
}

static int ts_eq(struct timespec a, struct timespec b)
{
	return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

/* What differs between two states of one entry, or NULL. */
static const char *ent_change(const snap_ent *a, const snap_ent *b)
{
	if (a->st.st_ino != b->st.st_ino || a->st.st_dev != b->st.st_dev)
		return "a different file (inode) now";
	if (a->st.st_mode != b->st.st_mode || a->st.st_uid != b->st.st_uid ||
	    a->st.st_gid != b->st.st_gid)
		return "its type, mode or owner changed";
	if (a->st.st_size != b->st.st_size || a->sum != b->sum)
		return "its content changed";
	if (strcmp(a->link, b->link) != 0)
		return "its link target changed";
	if (a->st.st_nlink != b->st.st_nlink || !ts_eq(a->st.st_mtim, b->st.st_mtim) ||
	    !ts_eq(a->st.st_ctim, b->st.st_ctim))
		return "it was modified (times or links changed)";
	return NULL;
}

static int skipped(const char *name, const char *skip1, const char *skip2)
{
	return (skip1 && !strcmp(name, skip1)) || (skip2 && !strcmp(name, skip2));
}

/* Every entry but skip1 and skip2 is as it was. */
static void snap_same(trial *t, const snap *a, const snap *b, const char *skip1,
		      const char *skip2, const char *when)
{
	for (int i = 0; i < a->n; i++) {
		const snap_ent *x = &a->e[i], *y = snap_find(b, x->name);
		const char *why;

		if (skipped(x->name, skip1, skip2))
			continue;
		if (!expect(t, y != NULL, "%s: %s was removed (not the server's to remove)", when, x->name))
			continue;
		why = ent_change(x, y);
		expect(t, why == NULL, "%s: %s: %s (not the server's to touch)", when, x->name, why);
	}
	for (int i = 0; i < b->n; i++)
		if (!skipped(b->e[i].name, skip1, skip2))
			expect(t, snap_find(a, b->e[i].name) != NULL, "%s: %s appeared", when,
			       b->e[i].name);
}

/* ---- streams ---- */

static void fill(trial *t, uint8_t *p, size_t len, uint32_t id)
{
	uint64_t x = lse_rng(&t->rng);

	for (size_t i = 0; i < len; i++) {
		if (i % 8 == 0)
			x = lse_rng(&t->rng);
		p[i] = (uint8_t)(x >> (8 * (i % 8)));
	}
	/* The client's id leads every payload: a stray answer is never equal. */
	for (size_t i = 0; i < 4 && i < len; i++)
		p[i] = (uint8_t)(id >> (24 - 8 * i));
}

static void put_frame(trial *t, lse_bytes *b, uint8_t type, uint32_t len, uint32_t id)
{
	uint8_t *p = malloc(len ? len : 1);

	if (p == NULL)
		abort();
	fill(t, p, len, id);
	lse_bytes_frame(b, type, len, p);
	free(p);
}

/* HELLO, then DATA and PING frames to about `size` bytes; one stream in
 * eight ends in a way that stops the server reading (BYE with more after
 * it, a bad magic, an oversized DATA, a second HELLO). */
static void stream_framed(trial *t, lse_bytes *b, uint32_t id, size_t size, int big)
{
	uint32_t lim = t->limit, want, nego;

	switch (rnd(t, 4)) {
	case 0: want = lim; break;
	case 1: want = 1 + rnd(t, lim); break;
	case 2: want = lim + 1 + rnd(t, lim); break;
	default: want = 1 + rnd(t, 2 * lim); break;
	}
	nego = want < lim ? want : lim;
	lse_bytes_hello(b, want);
	while (b->len < size) {
		if (rnd(t, 6) == 0)
			put_frame(t, b, LSE_T_PING, rnd(t, LSE_PING_MAX + 1), id);
		else
			put_frame(t, b, LSE_T_DATA, big ? nego - rnd(t, nego / 4 + 1) : rnd(t, nego + 1), id);
	}
	switch (rnd(t, 32)) {
	case 0:
		lse_bytes_frame(b, LSE_T_BYE, 0, NULL);
		put_frame(t, b, LSE_T_DATA, 10, id);
		break;
	case 1:
		lse_bytes_byte(b, 0xEE, LSE_HDR_LEN);
		break;
	case 2:
		if (nego < LSE_LIMIT_MAX)
			lse_bytes_frame(b, LSE_T_DATA, nego + 1, NULL);
		break;
	case 3:
		lse_bytes_hello(b, want);
		break;
	}
}

static void stream_raw(trial *t, lse_bytes *b, uint32_t id, size_t size)
{
	uint8_t *p = malloc(size ? size : 1);

	if (p == NULL)
		abort();
	fill(t, p, size, id);
	lse_bytes_put(b, p, size);
	free(p);
}

static void model_of(const trial *t, const uint8_t *in, size_t len, lse_model_out *m)
{
	if ((t->raw ? lse_model_raw(in, len, 1, m) : lse_model_framed(in, len, 1, t->limit, m)) != 0)
		abort();
}

/* ---- clients ---- */

typedef struct client {
	int fd;                 /* -1 once closed */
	role role;
	int slow;               /* reads small pieces, with pauses */
	lse_bytes in;           /* the client's whole stream */
	size_t sent;            /* sent <= goal <= in.len */
	size_t goal;            /* sends up to here before the signal */
	size_t goal_after;      /* and up to here after it */
	int shut, shut_done;    /* half-close once all of in is sent */
	int broken;             /* a send failed: the server closed */
	int done;               /* read the end of input (EOF, or a reset) */
	int hup;                /* R_NONE: saw the server hang up */
	lse_bytes got;
	long hold_ms;           /* R_HOLD: reads this long after the signal */
	long read_at;           /* slow: no read before */
	long pause_left;        /* slow: pause budget after the signal */
	long last_send;
	size_t idle_len;        /* R_IDLE: the whole answer to in[0, goal) */
	size_t sent_at_stop;
	long unread_at_stop;    /* of sent_at_stop, what the server had not read; -1 unknown */
	long end_ms;            /* end of input read, or hang-up seen */
} client;

static long outq(int fd)
{
	int q = 0;

	return ioctl(fd, SIOCOUTQ, &q) == 0 ? q : -1;
}

/* The stream's size: large ones fill the socket buffers and the session. */
static size_t stream_size(trial *t, role r)
{
	size_t fill_all = 300000 + 3 * (size_t)t->limit;

	switch (r) {
	case R_HOLD:
	case R_NONE:
		return fill_all;
	case R_IDLE:
		return rnd(t, 4) ? 1 + rnd(t, 8000) : 0;
	default:
		return rnd(t, 4) ? 1 + rnd(t, 20000) : fill_all;
	}
}

static void client_make(trial *t, client *c, role r, uint32_t id)
{
	size_t size = stream_size(t, r);

	memset(c, 0, sizeof *c);
	c->fd = -1;
	c->role = r;
	c->slow = r == R_SLOW || (r == R_HOLD && rnd(t, 2));
	c->hold_ms = (long)rnd(t, HOLD_MAX_MS + 1);
	c->pause_left = SLOW_PAUSE_MS;
	c->unread_at_stop = -1;
	if (size > 0) {
		if (t->raw)
			stream_raw(t, &c->in, id, size);
		else
			stream_framed(t, &c->in, id, size, size > 100000);
	}
	switch (r) {
	case R_FAST:
	case R_SLOW:
		c->goal = rnd(t, 3) ? rnd(t, (uint32_t)c->in.len + 1) : c->in.len;
		c->goal_after = rnd(t, 2) ? c->goal : c->in.len;
		break;
	case R_HOLD:
		c->goal = rnd(t, 3) ? c->in.len : c->in.len / 2 + rnd(t, (uint32_t)c->in.len / 2);
		c->goal_after = c->goal;
		break;
	case R_NONE:
		c->goal = c->goal_after = c->in.len;
		break;
	case R_IDLE:
		c->goal = c->goal_after = rnd(t, 2) ? c->in.len : rnd(t, (uint32_t)c->in.len + 1);
		break;
	}
	c->shut = c->goal_after == c->in.len && r != R_NONE && rnd(t, 4) == 0;
	if (r == R_IDLE) {
		lse_model_out m;

		model_of(t, c->in.p, c->goal, &m);
		c->idle_len = m.len;
		lse_model_out_free(&m);
	}
}

static void client_free(client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	lse_bytes_free(&c->in);
	lse_bytes_free(&c->got);
}

static int reads_now(const trial *t, const client *c, long now)
{
	switch (c->role) {
	case R_FAST:
	case R_IDLE:
		return 1;
	case R_SLOW:
		return now >= c->read_at;
	case R_HOLD:
		return t->stopped && now >= t->stop_ms + c->hold_ms && now >= c->read_at;
	default:
		return 0;
	}
}

/* The poll events c waits for now; *wake is lowered to when a paused
 * reader reads again. */
static short client_events(trial *t, client *c, long now, long *wake)
{
	short ev = 0;

	if (c->fd < 0)
		return 0;
	if (c->shut && !c->shut_done && (c->sent == c->in.len || c->broken)) {
		shutdown(c->fd, SHUT_WR);
		c->shut_done = 1;
	}
	if (!c->broken && c->sent < c->goal)
		ev |= POLLOUT;
	if (c->role == R_NONE) {
		if (t->stopped && !c->hup)
			ev |= POLLRDHUP;
	} else if (!c->done) {
		long at = c->role == R_HOLD ? (t->stopped ? t->stop_ms + c->hold_ms : 0) : 0;

		at = c->read_at > at ? c->read_at : at;
		if (reads_now(t, c, now))
			ev |= POLLIN;
		else if (at > 0 && at < *wake)
			*wake = at;
	}
	return ev;
}

static void client_send(trial *t, client *c, long now)
{
	size_t n = 1 + rnd(t, rnd(t, 2) ? 700 : 65536);
	ssize_t k;

	if (n > c->goal - c->sent)
		n = c->goal - c->sent;
	k = send(c->fd, c->in.p + c->sent, n, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (k > 0) {
		c->sent += (size_t)k;
		c->last_send = now;
	} else if (k < 0 && errno != EAGAIN && errno != EINTR) {
		c->broken = 1;   /* EPIPE, ECONNRESET: the server has closed */
	}
}

static void client_recv(trial *t, client *c, long now)
{
	static uint8_t buf[65536];
	size_t n = c->slow ? 1 + rnd(t, 2048) : sizeof buf;
	ssize_t k = read(c->fd, buf, n);

	if (k > 0) {
		lse_bytes_put(&c->got, buf, (size_t)k);
		if (c->slow && (!t->stopped || c->pause_left > 0)) {
			long pause = (long)rnd(t, 4);
			c->read_at = now + pause;
			if (t->stopped)
				c->pause_left -= pause;
		}
	} else if (k == 0 || (errno != EAGAIN && errno != EINTR)) {
		c->done = 1;   /* a reset after the server's close counts as the end */
		c->end_ms = now;
	}
}

/* Stops when enough() says so (returns 1) or at `until` (returns 0). After
 * the signal it also reaps the server and repeats the signal if asked. */
static int drive(trial *t, client *c, int n, long until,
		 int (*enough)(trial *, client *, int, long))
{
	struct pollfd pf[MAX_CLIENTS];
	int idx[MAX_CLIENTS];

	for (;;) {
		long now = srvt_now_ms(), wake = now + 10;
		int k = 0;

		if (t->stopped && t->srv.pid > 0) {
			if (srvt_poll(&t->srv))
				t->exit_ms = now;
			else if (t->repeat && now >= t->next_sig_ms) {
				kill(t->srv.pid, rnd(t, 2) ? SIGTERM : SIGINT);
				t->signals++;
				t->next_sig_ms = now + (long)rnd(t, 40);
			}
		}
		if (enough(t, c, n, now))
			return 1;
		if (now >= until)
			return 0;
		for (int i = 0; i < n; i++) {
			short ev = client_events(t, &c[i], now, &wake);
			if (ev) {
				pf[k] = (struct pollfd){ .fd = c[i].fd, .events = ev };
				idx[k++] = i;
			}
		}
		if (wake > until)
			wake = until;
		if (poll(pf, (nfds_t)k, wake > now ? (int)(wake - now) : 0) < 0 && errno != EINTR)
			return 0;
		now = srvt_now_ms();
		for (int j = 0; j < k; j++) {
			client *x = &c[idx[j]];
			short ev = pf[j].events, re = pf[j].revents;

			if ((ev & POLLOUT) && (re & (POLLOUT | POLLERR | POLLHUP)))
				client_send(t, x, now);
			if ((ev & POLLIN) && (re & (POLLIN | POLLERR | POLLHUP)))
				client_recv(t, x, now);
			if ((ev & POLLRDHUP) && (re & (POLLRDHUP | POLLERR | POLLHUP))) {
				x->hup = 1;
				x->end_ms = now;
			}
		}
	}
}

/* ---- the phases' ends ---- */

static long phase_end;

static int enough_time(trial *t, client *c, int n, long now)
{
	(void)t, (void)c, (void)n;
	return now >= phase_end;
}

/* Every client sent what it meant to, or has been pushed back for a while. */
static int enough_settled(trial *t, client *c, int n, long now)
{
	(void)t;
	if (now < phase_end)
		return 0;
	for (int i = 0; i < n; i++)
		if (c[i].sent < c[i].goal && !c[i].broken && now - c[i].last_send < SETTLE_MS)
			return 0;
	return 1;
}

/* Every idle client has its whole answer and the server read all it sent. */
static int enough_idle(trial *t, client *c, int n, long now)
{
	(void)t, (void)now;
	for (int i = 0; i < n; i++)
		if (!c[i].done && (c[i].sent < c[i].goal || c[i].got.len < c[i].idle_len ||
				   outq(c[i].fd) != 0))
			return 0;
	return 1;
}

/* The server has exited and every client that reads saw its end. */
static int enough_over(trial *t, client *c, int n, long now)
{
	(void)now;
	if (t->srv.pid > 0)
		return 0;
	for (int i = 0; i < n; i++)
		if (c[i].role != R_NONE && !c[i].done && c[i].fd >= 0)
			return 0;
	return 1;
}

/* ---- checks of one client after the server exited ---- */

static size_t common_prefix(const lse_bytes *got, const lse_model_out *m)
{
	size_t k = 0;

	while (k < got->len && k < m->len && got->p[k] == m->buf[k])
		k++;
	return k;
}

static void client_check(trial *t, client *c, int i)
{
	lse_model_out up, low;
	size_t lower = 0, at;
	long end = c->end_ms ? c->end_ms : t->exit_ms;

	if (c->unread_at_stop >= 0 && (size_t)c->unread_at_stop < c->sent_at_stop)
		lower = c->sent_at_stop - (size_t)c->unread_at_stop;
	model_of(t, c->in.p, c->sent, &up);
	model_of(t, c->in.p, lower, &low);
	at = common_prefix(&c->got, &up);
	if (verbose)
		printf("     client %d (%s%s): stream %zu, sent %zu (%zu at the signal, %ld unread), got %zu, owed %zu, answer %zu, end %ld ms\n",
		       i, role_name[c->role], c->slow ? ", slow" : "", c->in.len, c->sent,
		       c->sent_at_stop, c->unread_at_stop, c->got.len, low.len, up.len,
		       (c->end_ms ? c->end_ms : t->exit_ms) - t->stop_ms);
	expect(t, at == c->got.len,
	       "client %d (%s) received %zu bytes; byte %zu differs from the model's answer to the %zu bytes it sent (%zu bytes)",
	       i, role_name[c->role], c->got.len, at, c->sent, up.len);
	if (c->role != R_NONE) {
		t->owed += low.len;
		expect(t, c->done, "client %d (%s): no end of input %d ms after the server exited",
		       i, role_name[c->role], DRAIN_READ_MS);
		expect(t, c->got.len >= low.len,
		       "client %d (%s): answers owed were dropped: it got %zu bytes, but %zu were owed when the signal came (the server had read %zu of the %zu bytes sent); the server exited %ld ms after the signal",
		       i, role_name[c->role], c->got.len, low.len, lower, c->sent_at_stop,
		       t->exit_ms - t->stop_ms);
		if (!t->raw)
			expect(t, srvt_frames_whole(up.buf, up.len, c->got.len),
			       "client %d (%s): its %zu bytes end inside a frame", i,
			       role_name[c->role], c->got.len);
		if (t->stop == STOP_IDLE)
			expect(t, c->end_ms - t->stop_ms < PROMPT_MS,
			       "client %d (idle, nothing owed): the end of input came %ld ms after the signal; the server holds idle connections to its %d ms deadline",
			       i, c->end_ms - t->stop_ms, DRAIN_MS);
	} else if (c->got.len < low.len) {
		t->lost += low.len - c->got.len;
		expect(t, end - t->stop_ms >= DRAIN_MS - CLOCK_SLACK_MS,
		       "client %d (never reads) lost answers owed %ld ms after the signal, before the %d ms drain deadline (got %zu of %zu bytes)",
		       i, end - t->stop_ms, DRAIN_MS, c->got.len, low.len);
	}
	lse_model_out_free(&up);
	lse_model_out_free(&low);
}

/* Whatever a client that never read has queued: the kernel keeps it after
 * the server's close. */
static void client_drain(client *c)
{
	uint8_t buf[65536];
	ssize_t k;

	if (c->fd < 0)
		return;
	while ((k = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT)) > 0)
		lse_bytes_put(&c->got, buf, (size_t)k);
	if (k == 0 || (errno != EAGAIN && errno != EINTR))
		c->done = 1;
}

/* ---- the path before start ---- */

static void file_put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
		fprintf(stderr, "test_life: cannot write %s: %s\n", path, strerror(errno));
		abort();
	}
}

static void must(int ok, const char *what, const char *path)
{
	if (!ok) {
		fprintf(stderr, "test_life: %s %s: %s\n", what, path, strerror(errno));
		abort();
	}
}

static int start_peer(trial *t);

/* Puts at t->path what the trial's case says; the directory's mode and
 * owner last. Returns 0, or -1 if the case could not be set up. */
static int path_setup(trial *t)
{
	pre_kind s = t->state;

	if (s == PRE_LINK_LIVE || s == PRE_LINK_STALE || s == PRE_LINK_FILE || s == PRE_LINK_DANGLING) {
		char target[200];
		const char *leaf = s == PRE_LINK_LIVE ? "live.sock" : s == PRE_LINK_STALE ? "stale.sock"
				 : s == PRE_LINK_FILE ? "file" : "nothing.sock";

		path_fmt(t->link_to, sizeof t->link_to, "%s/%s", t->aux, leaf);
		/* Relative or absolute, as people write them. */
		if (rnd(t, 2))
			path_fmt(target, sizeof target, "../%s/%s", strrchr(t->aux, '/') + 1, leaf);
		else
			path_fmt(target, sizeof target, "%s", t->link_to);
		if (s == PRE_LINK_LIVE)
			must((t->live_fd = srvt_listen(t->link_to)) >= 0, "listen", t->link_to);
		else if (s == PRE_LINK_STALE)
			must(srvt_make_stale(t->link_to) == 0, "bind", t->link_to);
		else if (s == PRE_LINK_FILE)
			file_put(t->link_to, "a link's target\n");
		must(symlink(target, t->path) == 0, "symlink", t->path);
	} else if (s == PRE_STALE) {
		must(srvt_make_stale(t->path) == 0, "bind", t->path);
	} else if (s == PRE_LIVE_PLAIN || s == PRE_ABSTRACT_LIVE) {
		must((t->live_fd = srvt_listen(t->path)) >= 0, "listen", t->path);
	} else if (s == PRE_FILE) {
		file_put(t->path, "not a socket\n");
	} else if (s == PRE_DIR) {
		char keep[200];

		must(mkdir(t->path, 0700) == 0, "mkdir", t->path);
		path_fmt(keep, sizeof keep, "%s/keep", t->path);
		file_put(keep, "inside\n");
	} else if (s == PRE_FIFO) {
		must(mkfifo(t->path, 0600) == 0, "mkfifo", t->path);
	} else if (s == PRE_LIVE_SERVER && start_peer(t) != 0) {
		return -1;
	}
	must(chmod(t->dir, t->mode) == 0, "chmod", t->dir);
	if (t->other_uid)
		must(chown(t->dir, NOBODY, NOBODY) == 0, "chown", t->dir);
	return 0;
}

/* What docs/server.md says the server must refuse, as the words its line
 * must hold (NULL: it serves), and what the line must name. */
static const char *refusal(const trial *t, const char **where)
{
	*where = t->path;
	if (t->pre == PRE_DIR_OPEN || t->pre == PRE_DIR_OTHER) {
		*where = t->dir;
		return t->pre == PRE_DIR_OPEN ? "writable by other users without the sticky bit"
					      : "owned by uid 65534";
	}
	switch (t->state) {
	case PRE_NOTHING:
	case PRE_STALE:
	case PRE_ABSTRACT:
		return NULL;
	case PRE_LIVE_SERVER:
	case PRE_LIVE_PLAIN:
		return "already listening";
	case PRE_ABSTRACT_LIVE:
		return "already in use";
	case PRE_FILE:
	case PRE_DIR:
	case PRE_FIFO:
		return "not a socket";
	default:
		return "symbolic link";
	}
}

/* ---- servers ---- */

static void server_args(const trial *t, const char **a, char *threads, char *limit,
			const char *path, int raw, int nthreads)
{
	int n = 0;

	snprintf(threads, 8, "%d", nthreads);
	snprintf(limit, 16, "%u", t->limit);
	a[n++] = "--socket";
	a[n++] = path;
	a[n++] = "--threads";
	a[n++] = threads;
	if (raw)
		a[n++] = "--raw";
	a[n++] = raw ? "--chunk" : "--max-payload";
	a[n++] = limit;
	a[n] = NULL;
}

/* Spawns lsecho-server with the trial's directory as its cwd, so that a
 * stray file it makes lands where the snapshots look. */
static int spawn_in(trial *t, srvt_proc *p, const char *tag, const char *path, int raw,
		    int threads)
{
	const char *a[12];
	char th[8], lim[16], name[32];
	int rc;

	server_args(t, a, th, lim, path, raw, threads);
	snprintf(name, sizeof name, "%s-%d", tag, t->k);
	if (chdir(t->dir) != 0)
		return -1;
	rc = srvt_spawn(p, logs, name, server_bin, a);
	if (chdir(tmp) != 0)
		return -1;
	return rc;
}

static char *one_line(char *log)
{
	char *nl = strchr(log, '\n');

	return nl && nl[1] == '\0' ? nl : NULL;
}

/* Every client saw the end of its input. */
static int enough_done(trial *t, client *c, int n, long now)
{
	(void)t, (void)now;
	for (int i = 0; i < n; i++)
		if (!c[i].done)
			return 0;
	return 1;
}

/* One whole exchange with a server that must serve (the live one a
 * refusal must leave alone): the answer is the model's, whole. */
static int echo_once(trial *t, const char *path, int raw)
{
	client c;
	int ok, saved = t->raw;
	lse_model_out m;

	t->raw = raw;
	memset(&c, 0, sizeof c);
	c.role = R_FAST;
	if (raw)
		stream_raw(t, &c.in, 0xEC40u, 1 + rnd(t, 8000));
	else
		stream_framed(t, &c.in, 0xEC40u, 1 + rnd(t, 8000), 0);
	c.goal = c.goal_after = c.in.len;
	c.shut = 1;
	c.fd = srvt_connect(path);
	ok = c.fd >= 0 && drive(t, &c, 1, srvt_now_ms() + RUN_MS, enough_done);
	model_of(t, c.in.p, c.in.len, &m);
	ok = ok && c.got.len == m.len && (m.len == 0 || memcmp(c.got.p, m.buf, m.len) == 0);
	lse_model_out_free(&m);
	client_free(&c);
	t->raw = saved;
	return ok;
}

static int start_peer(trial *t)
{
	if (spawn_in(t, &t->peer, "peer", t->path, !t->raw, 1) != 0 ||
	    srvt_wait_ready(&t->peer, t->path, READY_MS) != 0) {
		expect(t, 0, "the other lsecho-server did not start at %s", t->path);
		srvt_kill(&t->peer);
		return -1;
	}
	return 0;
}

/* The other server, after ours refused: still serving, then stopping as
 * any server must (exit 0, its file gone). */
static void peer_check(trial *t)
{
	struct stat st;
	char *log;

	expect(t, echo_once(t, t->path, !t->raw), "the other lsecho-server at %s stopped serving",
	       t->path);
	kill(t->peer.pid, SIGTERM);
	if (!expect(t, srvt_wait(&t->peer, STOP_MS) == 0, "the other lsecho-server did not exit"))
		return;
	log = srvt_stderr(&t->peer);
	expect(t, srvt_exit_code(&t->peer) == 0 && srvt_log_clean(log),
	       "the other lsecho-server: status %#x, log:\n%s", t->peer.status, log);
	free(log);
	expect(t, lstat(t->path, &st) != 0 && errno == ENOENT,
	       "the other lsecho-server left its socket file %s", t->path);
}

/* A listening socket of the test still takes connections at path. */
static void live_check(trial *t, int fd, const char *path)
{
	int c = srvt_connect(path), a = -1;
	struct pollfd pf = { .fd = fd, .events = POLLIN };

	if (c >= 0 && poll(&pf, 1, READY_MS) == 1)
		a = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	expect(t, c >= 0 && a >= 0, "the live socket at %s no longer takes connections", path);
	if (c >= 0)
		close(c);
	if (a >= 0)
		close(a);
}

/* ---- a trial the server must refuse ---- */

static void run_refused(trial *t, const char *want, const char *where)
{
	snap before, after;
	char *log = NULL, *nl;
	int code;
	long end = srvt_now_ms() + READY_MS;

	snap_take(t, &before);
	if (!expect(t, spawn_in(t, &t->srv, "refused", t->path, t->raw, t->threads) == 0, "spawn"))
		return;
	while (!srvt_poll(&t->srv) && srvt_now_ms() < end) {
		free(log);
		log = srvt_stderr(&t->srv);
		if (strncmp(log, "lsecho-server: listening on", 27) == 0)
			break;
		srvt_sleep_ms(5);
	}
	if (t->srv.pid > 0) {
		/* It serves, or hangs: either way not what the case wants. */
		expect(t, 0, "the server did not refuse (%s): it %s", want,
		       log && strncmp(log, "lsecho-server: listening on", 27) == 0 ? "serves" : "is still running");
		kill(t->srv.pid, SIGTERM);
		srvt_wait(&t->srv, STOP_MS);
	}
	free(log);
	log = srvt_stderr(&t->srv);
	code = srvt_exit_code(&t->srv);
	nl = one_line(log);
	expect(t, code == 1, "refusing (%s), the server exited with status %#x, not exit code 1",
	       want, t->srv.status);
	expect(t, nl && !strncmp(log, "lsecho-server: ", 15) && strstr(log, want) && strstr(log, where),
	       "the refusal is not one line naming %s and saying \"%s\":\n%s", where, want, log);
	expect(t, srvt_log_clean(log), "sanitizer report:\n%s", log);
	if (!t->failed)
		printf("   refused: %s", log + 15);
	free(log);
	snap_take(t, &after);
	snap_same(t, &before, &after, NULL, NULL, "after the refusal");
	if (t->state == PRE_LIVE_SERVER)
		peer_check(t);
	if (t->live_fd >= 0)
		live_check(t, t->live_fd, t->state == PRE_LINK_LIVE ? t->link_to : t->path);
}

/* ---- a trial the server must serve ---- */

static int make_clients(trial *t, client *c)
{
	int n = 0;

	switch (t->stop) {
	case STOP_START:
		return 0;
	case STOP_INFLIGHT:
		n = 3 + (int)rnd(t, 6);
		for (int i = 0; i < n; i++)
			client_make(t, &c[i], (role[]){ R_FAST, R_SLOW, R_HOLD, R_IDLE }[rnd(t, 4)], (uint32_t)i);
		break;
	case STOP_OWED:
		n = 2 + (int)rnd(t, 5);
		for (int i = 0; i < n; i++)
			client_make(t, &c[i], i == 0 ? R_HOLD : (role[]){ R_FAST, R_SLOW, R_HOLD, R_IDLE }[rnd(t, 4)],
				    (uint32_t)i);
		break;
	case STOP_STALLED:
		n = 2 + (int)rnd(t, 4);
		for (int i = 0; i < n; i++)
			client_make(t, &c[i], i == 0 ? R_NONE : i == 1 ? R_HOLD
				    : (role[]){ R_FAST, R_SLOW, R_HOLD, R_NONE }[rnd(t, 4)], (uint32_t)i);
		break;
	default:
		n = 2 + (int)rnd(t, 5);
		for (int i = 0; i < n; i++)
			client_make(t, &c[i], R_IDLE, (uint32_t)i);
		break;
	}
	return n;
}

/* Waits until the server's socket file is at the path (where there was
 * nothing), then the caller signals at once: the earliest moment the file
 * can be left behind. Returns 0, or -1 if it never came. */
static int wait_file(trial *t)
{
	long end = srvt_now_ms() + READY_MS;
	struct stat st;

	while (srvt_now_ms() < end && !srvt_poll(&t->srv)) {
		if (lstat(t->path, &st) == 0 && S_ISSOCK(st.st_mode))
			return 0;
		srvt_sleep_ms(1);
	}
	return -1;
}

static void replace_file(trial *t)
{
	switch (t->repl) {
	case REPL_NONE:
		return;
	case REPL_MOVED:
		path_fmt(t->moved, sizeof t->moved, "%s.moved", t->path);
		must(rename(t->path, t->moved) == 0, "rename", t->path);
		file_put(t->path, "in the server's place\n");
		return;
	default:
		must(unlink(t->path) == 0, "unlink", t->path);
		break;
	}
	if (t->repl == REPL_SOCKET)
		must((t->repl_fd = srvt_listen(t->path)) >= 0, "listen", t->path);
	else if (t->repl == REPL_STALE)
		must(srvt_make_stale(t->path) == 0, "bind", t->path);
	else if (t->repl == REPL_FILE)
		file_put(t->path, "in the server's place\n");
}

/* The socket as docs/server.md has it: a socket, mode 0600, ours. */
static void socket_mode_check(trial *t)
{
	struct stat st;

	if (is_abstract(t))
		return;
	expect(t, lstat(t->path, &st) == 0 && S_ISSOCK(st.st_mode) && (st.st_mode & 07777) == 0600 &&
	       st.st_uid == geteuid(), "the server's socket %s is not a socket of mode 0600 owned by uid %u",
	       t->path, (unsigned)geteuid());
}

/* Traffic until the moment the case stops at. */
static void run_before_stop(trial *t, client *c, int n)
{
	long now = srvt_now_ms();

	for (int i = 0; i < n; i++)
		c[i].last_send = now;
	switch (t->stop) {
	case STOP_INFLIGHT:
		phase_end = now + (long)rnd(t, 150);
		drive(t, c, n, phase_end, enough_time);
		break;
	case STOP_OWED:
	case STOP_STALLED:
		phase_end = now + SETTLE_MS;
		drive(t, c, n, now + RUN_MS, enough_settled);
		break;
	case STOP_IDLE:
		expect(t, drive(t, c, n, now + RUN_MS, enough_idle),
		       "the idle clients' exchanges did not finish in %d ms", RUN_MS);
		break;
	default:
		break;
	}
}

static void signal_server(trial *t, client *c, int n)
{
	for (int i = 0; i < n; i++) {
		c[i].sent_at_stop = c[i].sent;
		c[i].unread_at_stop = srvt_peer_unread(c[i].fd);
		if (c[i].unread_at_stop < 0) {
			/* The server has closed (it reads no more), or no sock_diag. */
			c[i].unread_at_stop = outq(c[i].fd);
			t->guessed += c[i].unread_at_stop > 0;
		}
		c[i].goal = c[i].goal_after;
	}
	t->stop_ms = srvt_now_ms();
	t->next_sig_ms = t->stop_ms + (long)rnd(t, 40);
	t->stopped = 1;
	kill(t->srv.pid, t->sig);
	t->signals = 1;
}

/* After the exit: the log, the exit status, the socket file. */
static void exit_check(trial *t, const snap *at_stop)
{
	char *log = srvt_stderr(&t->srv), start[256], stop[64], *nl;
	struct stat st;
	snap after;

	snprintf(start, sizeof start, "lsecho-server: listening on %s (%s, ", t->path,
		 is_abstract(t) ? "abstract" : "file, mode 0600");
	expect(t, srvt_exit_code(&t->srv) == 0, "the server's exit status is %#x, not 0; log:\n%s",
	       t->srv.status, log);
	expect(t, srvt_log_clean(log), "sanitizer report:\n%s", log);
	snprintf(stop, sizeof stop, "lsecho-server: stopped on %s\n",
		 t->sig == SIGTERM ? "SIGTERM" : "SIGINT");
	nl = strchr(log, '\n');
	expect(t, !strncmp(log, start, strlen(start)) && nl && !strcmp(nl + 1, stop),
	       "the server's log is not its start-up line, then \"%.*s\":\n%s",
	       (int)strlen(stop) - 1, stop, log);
	free(log);
	snap_take(t, &after);
	if (t->repl != REPL_NONE || is_abstract(t)) {
		snap_same(t, at_stop, &after, NULL, NULL, "after the exit");
	} else {
		snap_same(t, at_stop, &after, t->path, NULL, "after the exit");
		expect(t, lstat(t->path, &st) != 0 && errno == ENOENT,
		       "the server's own socket file %s is still there after its exit", t->path);
	}
	if (t->repl_fd >= 0)
		live_check(t, t->repl_fd, t->path);
}

/* How many threads a process has, from /proc; -1 if unreadable. */
static int threads_of(pid_t pid)
{
	char dir[64];
	DIR *d;
	struct dirent *de;
	int n = 0;

	snprintf(dir, sizeof dir, "/proc/%d/task", (int)pid);
	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static void run_served(trial *t)
{
	client c[MAX_CLIENTS];
	snap before, at_stop;
	int n;
	long t0;

	snap_take(t, &before);
	if (!expect(t, spawn_in(t, &t->srv, "served", t->path, t->raw, t->threads) == 0, "spawn"))
		return;
	if (t->early ? wait_file(t) != 0 : srvt_wait_ready(&t->srv, t->path, READY_MS) != 0) {
		char *log = srvt_stderr(&t->srv);
		expect(t, 0, "the server did not start serving (%s); log:\n%s", pre_name[t->pre], log);
		free(log);
		srvt_kill(&t->srv);
		return;
	}
	if (!t->early)
		socket_mode_check(t);
	n = make_clients(t, c);
	for (int i = 0; i < n; i++)
		if (!expect(t, (c[i].fd = srvt_connect(t->path)) >= 0, "connect %s: %s", t->path,
			    strerror(errno)))
			goto out;
	replace_file(t);
	run_before_stop(t, c, n);
	snap_take(t, &at_stop);
	snap_same(t, &before, &at_stop, t->path, t->moved[0] ? t->moved : NULL, "while serving");
	signal_server(t, c, n);
	t0 = t->stop_ms;
	drive(t, c, n, t0 + STOP_MS, enough_over);
	if (!expect(t, t->srv.pid == 0,
		    "the server was still running %d ms after the signal: it hangs (%d of its threads left; %d loop threads)",
		    STOP_MS, threads_of(t->srv.pid), t->threads)) {
		srvt_kill(&t->srv);
		goto out;
	}
	drive(t, c, n, t->exit_ms + DRAIN_READ_MS, enough_over);
	if (t->stop == STOP_IDLE || t->stop == STOP_START)
		expect(t, t->exit_ms - t0 < PROMPT_MS,
		       "with nothing owed the server exited %ld ms after the signal, as late as its %d ms deadline",
		       t->exit_ms - t0, DRAIN_MS);
	exit_check(t, &at_stop);
	for (int i = 0; i < n; i++) {
		client_drain(&c[i]);
		client_check(t, &c[i], i);
	}
	if (!t->failed) {
		size_t in = 0, out = 0;
		for (int i = 0; i < n; i++) {
			in += c[i].sent;
			out += c[i].got.len;
		}
		printf("   %d clients sent %zu bytes, got %zu; at the signal %zu were owed to readers (all came)",
		       n, in, out, t->owed);
		if (t->lost)
			printf(", %zu to clients that never read (lost at the deadline)", t->lost);
		if (t->guessed)
			printf(" [%d bounded by SIOCOUTQ only]", t->guessed);
		printf("; %d signal%s; exit 0 after %ld ms\n", t->signals, t->signals == 1 ? "" : "s",
		       t->exit_ms - t0);
	}
out:
	for (int i = 0; i < n; i++)
		client_free(&c[i]);
}

/* ---- the schedule ---- */

/* Cards dealt from a shuffled deck, reshuffled when it runs out: every
 * card comes up once per deck, in an order the seed picks. */
typedef struct deck {
	const int *cards;
	int n, next;
	int order[32];
} deck;

static int deal(deck *d, uint64_t *rng)
{
	if (d->next == 0) {
		for (int i = 0; i < d->n; i++)
			d->order[i] = i;
		for (int i = d->n - 1; i > 0; i--) {
			int j = (int)(lse_rng(rng) % (uint64_t)(i + 1)), x = d->order[i];
			d->order[i] = d->order[j];
			d->order[j] = x;
		}
	}
	int v = d->cards[d->order[d->next]];
	d->next = (d->next + 1) % d->n;
	return v;
}

static const int pre_cards[] = {
	PRE_NOTHING, PRE_NOTHING, PRE_NOTHING, PRE_STALE, PRE_STALE, PRE_STALE,
	PRE_ABSTRACT, PRE_ABSTRACT, PRE_LIVE_SERVER, PRE_LIVE_PLAIN, PRE_ABSTRACT_LIVE,
	PRE_FILE, PRE_DIR, PRE_FIFO, PRE_LINK_LIVE, PRE_LINK_STALE, PRE_LINK_FILE,
	PRE_LINK_DANGLING, PRE_DIR_OPEN, PRE_DIR_OTHER,
};
static const int stop_cards[] = { STOP_START, STOP_INFLIGHT, STOP_OWED, STOP_STALLED, STOP_IDLE };
static const int repl_cards[] = { REPL_NONE, REPL_SOCKET, REPL_STALE, REPL_FILE, REPL_GONE, REPL_MOVED };
static const int thread_cards[] = { 1, 2, 4 };
static const int mode_cards[] = { 0, 1 };

typedef struct schedule {
	uint64_t rng;
	deck pre, stop, repl, threads, raw;
} schedule;

#define DECK(c) { c, (int)(sizeof c / sizeof *c), 0, { 0 } }

static void trial_plan(trial *t, schedule *s, int k)
{
	static const mode_t safe[] = { 0700, 0700, 0755, 0750, 0711, 01777, 01770 };
	static const mode_t unsafe[] = { 0777, 0770, 0720, 0702, 0722, 0775, 0757 };
	static const pre_kind open_states[] = { PRE_NOTHING, PRE_STALE, PRE_FILE, PRE_LINK_DANGLING };

	memset(t, 0, sizeof *t);
	t->k = k;
	t->seed = lse_rng(&s->rng);
	t->rng = t->seed;
	t->live_fd = t->repl_fd = -1;
	t->pre = t->state = (pre_kind)deal(&s->pre, &s->rng);
	t->threads = deal(&s->threads, &s->rng);
	t->raw = deal(&s->raw, &s->rng);
	t->mode = safe[rnd(t, 7)];
	if (t->pre == PRE_DIR_OPEN) {
		t->mode = unsafe[rnd(t, 7)];
		t->state = open_states[rnd(t, 4)];
	} else if (t->pre == PRE_DIR_OTHER) {
		/* Only root can give a directory away; as anyone else the
		 * case is the plain one. */
		t->other_uid = geteuid() == 0;
		t->state = PRE_NOTHING;
		if (!t->other_uid)
			t->pre = PRE_NOTHING;
	}
	if (t->pre <= PRE_ABSTRACT) {
		t->stop = (stop_kind)deal(&s->stop, &s->rng);
		t->early = t->stop == STOP_START && t->pre == PRE_NOTHING && rnd(t, 2);
		if (t->pre != PRE_ABSTRACT && !t->early)
			t->repl = (repl_kind)deal(&s->repl, &s->rng);
	}
	switch (rnd(t, 4)) {
	case 0: t->limit = 1 + rnd(t, 64); break;
	case 1: t->limit = 65 + rnd(t, 8000); break;
	case 2: t->limit = 65536; break;
	default: t->limit = 262144; break;
	}
	t->sig = rnd(t, 2) ? SIGTERM : SIGINT;
	t->repeat = rnd(t, 3) == 0;
}

static void trial_dirs(trial *t)
{
	path_fmt(t->dir, sizeof t->dir, "%s/t%d", tmp, t->k);
	path_fmt(t->aux, sizeof t->aux, "%s/t%d-aux", tmp, t->k);
	must(mkdir(t->dir, 0700) == 0, "mkdir", t->dir);
	must(mkdir(t->aux, 0700) == 0, "mkdir", t->aux);
	if (t->state == PRE_ABSTRACT || t->state == PRE_ABSTRACT_LIVE)
		snprintf(t->path, sizeof t->path, "@lsecho-life-%d-%d", (int)getpid(), t->k);
	else
		path_fmt(t->path, sizeof t->path, "%s/s.sock", t->dir);
}

static void trial_describe(const trial *t)
{
	char dir[64] = "";

	if (!is_abstract(t))
		snprintf(dir, sizeof dir, ", directory %04o%s", (unsigned)t->mode,
			 t->other_uid ? " owned by uid 65534" : "");
	printf("-- trial %d (seed %" PRIu64 "): %s%s%s%s; %s %u, %d thread%s",
	       t->k, t->seed, pre_name[t->pre],
	       t->pre != t->state ? " holding " : "", t->pre != t->state ? pre_name[t->state] : "",
	       dir, t->raw ? "raw, chunk" : "framed, limit", t->limit, t->threads,
	       t->threads == 1 ? "" : "s");
	if (refusal(t, &(const char *){ NULL }) == NULL)
		printf("; %s %s%s%s%s", t->sig == SIGTERM ? "SIGTERM" : "SIGINT", stop_name[t->stop],
		       t->early ? " (as the file appears)" : "", t->repeat ? ", repeated" : "",
		       repl_name[t->repl]);
	printf("\n");
	fflush(stdout);
}

static void trial_end(trial *t)
{
	srvt_kill(&t->srv);
	srvt_kill(&t->peer);
	if (t->live_fd >= 0)
		close(t->live_fd);
	if (t->repl_fd >= 0)
		close(t->repl_fd);
}

static int run_trial(trial *t)
{
	const char *want, *where;

	trial_dirs(t);
	trial_describe(t);
	if (path_setup(t) == 0) {
		want = refusal(t, &where);
		if (want)
			run_refused(t, want, where);
		else
			run_served(t);
	}
	trial_end(t);
	return t->failed ? -1 : 0;
}

/* ---- main ---- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if ((flag == FTW_DP ? rmdir(path) : unlink(path)) != 0)
		fprintf(stderr, "test_life: cannot remove %s: %s\n", path, strerror(errno));
	return 0;
}

static void cleanup(void)
{
	srvt_kill_all();
	if (tmp[0]) {
		if (chdir("/") != 0)
			fprintf(stderr, "test_life: chdir /: %s\n", strerror(errno));
		nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	}
}

static int setup(void)
{
	const char *base = getenv("TMPDIR");
	struct sigaction sa = { .sa_handler = SIG_IGN };

	sigaction(SIGPIPE, &sa, NULL);
	/* Socket paths must fit in sun_path (108 bytes). */
	if (base == NULL || base[0] != '/' || strlen(base) > 40)
		base = "/tmp";
	snprintf(tmp, sizeof tmp, "%s/lsecho-life-XXXXXX", base);
	if (mkdtemp(tmp) == NULL) {
		fprintf(stderr, "test_life: mkdtemp %s: %s\n", tmp, strerror(errno));
		tmp[0] = '\0';
		return -1;
	}
	atexit(cleanup);
	path_fmt(logs, sizeof logs, "%s/logs", tmp);
	if (mkdir(logs, 0700) != 0 || chdir(tmp) != 0 || setenv("XDG_RUNTIME_DIR", tmp, 1) != 0)
		return -1;
	return 0;
}

static int parse(int argc, char **argv, uint64_t *seed, int *trials, int *only)
{
	for (int i = 2; i < argc; i += 2) {
		char *end;
		unsigned long long v;

		if (i + 1 >= argc)
			return -1;
		errno = 0;
		v = strtoull(argv[i + 1], &end, 0);
		if (errno || *end || end == argv[i + 1])
			return -1;
		if (!strcmp(argv[i], "--seed"))
			*seed = v;
		else if (!strcmp(argv[i], "--trials") && v >= 1 && v <= 100000)
			*trials = (int)v;
		else if (!strcmp(argv[i], "--only") && v < 100000)
			*only = (int)v;
		else if (!strcmp(argv[i], "--verbose"))
			verbose = v != 0;
		else
			return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct timespec ts;
	uint64_t seed;
	int trials = DEFAULT_TRIALS, only = -1, ran = 0;
	long t0 = srvt_now_ms();
	schedule s = { 0, DECK(pre_cards), DECK(stop_cards), DECK(repl_cards),
		       DECK(thread_cards), DECK(mode_cards) };

	clock_gettime(CLOCK_REALTIME, &ts);
	seed = (uint64_t)ts.tv_sec * 1000000007ull ^ (uint64_t)ts.tv_nsec ^ (uint64_t)getpid() << 40;
	if (argc < 2 || access(argv[1], X_OK) != 0 || parse(argc, argv, &seed, &trials, &only) != 0) {
		fprintf(stderr, "usage: test_life PATH-TO-lsecho-server [--seed N] [--trials N] [--only K] [--verbose 1]\n");
		return 2;
	}
	if (only >= trials)
		trials = only + 1;
	server_bin = realpath(argv[1], NULL);
	if (server_bin == NULL || setup() != 0)
		return 1;
	printf("server %s, directory %s\nseed %" PRIu64 ", %d trials (again: test_life SERVER --seed %" PRIu64 " --trials %d)\n",
	       server_bin, tmp, seed, trials, seed, trials);
	s.rng = seed;
	for (int k = 0; k < trials; k++) {
		trial t;

		trial_plan(&t, &s, k);
		if (only >= 0 && k != only)
			continue;
		ran++;
		if (run_trial(&t) != 0) {
			fprintf(stderr, "trial %d failed; it alone again: test_life SERVER --seed %" PRIu64 " --only %d\n",
				k, seed, k);
			break;
		}
	}
	printf("%d trials, %ld ms\n", ran, srvt_now_ms() - t0);
	free((char *)server_bin);
	return lse_t_report();
}
