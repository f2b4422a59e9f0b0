/* lsecho-bench: the original echo benchmark as a tool.
 *
 * It mirrors the original client factory: N connections, each with exactly
 * one chunk in flight; every echo is read back in full, checked byte by byte
 * and the next chunk written. The client is one thread and one epoll set.
 * The server under test runs in-process on background threads (or is
 * external, --socket), and the floor (lse_floor.h), a minimal epoll echo,
 * can run beside it in the same invocation so that every row gets a ratio
 * that holds on whatever machine runs it. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>

#include "lse_floor.h"
#include "lse_frame.h"
#ifdef LSE_HAVE_SERVER
#include "lse_server.h"
#endif

#ifndef LSE_BENCH_VERSION
#define LSE_BENCH_VERSION "unknown"
#endif

#define PAT_SPAN 65536u            /* window starts in the pattern; a power of two */
#define SCRATCH_LEN (256u * 1024u) /* one recv() at most */
#define IOV_SEGS 64                /* iovecs per sendmsg() */
#define EV_MAX 1024
#define STALL_MS 10000             /* no event at all for this long: loss */
#define IO_TIMEOUT_S 10            /* connect and handshake */
#define FD_SLACK 64
#define CONNS_MAX 100000u
#define ROUNDS_MAX 1000000000u
#define SECONDS_MAX 3600.0
#define ERRLEN 512

enum { WL_PINGPONG = 1, WL_EXCHANGE = 2 };

static const uint32_t pingpong_conns[] = { 10, 50, 100, 1000, 5000 };
static const uint32_t exchange_conns[] = { 1, 5, 10 };
static const uint32_t exchange_chunks[] = { 100, 1000, 10000, 100000 };

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- command line ------------------------------------------------------ */

typedef struct bench_opts {
	unsigned workloads;     /* WL_* bits */
	int raw, json, compare_floor, floor_only;
	uint32_t conns;         /* 0: the grid */
	uint32_t chunk;         /* exchange; 0: the grid */
	uint64_t rounds;        /* pingpong round trips in total */
	double seconds;         /* exchange, per row */
	int threads;            /* in-process servers' event-loop threads */
	int repeat;             /* runs per row and server; the best one counts */
	const char *socket;     /* external lsecho server, or NULL */
	int set_chunk, set_rounds, set_seconds, set_threads;
} bench_opts;

enum flag_id {
	F_WORKLOAD, F_CONNS, F_CHUNK, F_ROUNDS, F_SECONDS, F_THREADS, F_SOCKET,
	F_REPEAT, F_RAW, F_COMPARE, F_FLOOR_ONLY, F_JSON, F_HELP, F_VERSION
};

static const struct flag {
	const char *name;
	enum flag_id id;
	int takes_value;
} flags[] = {
	{ "--workload", F_WORKLOAD, 1 }, { "--conns", F_CONNS, 1 },
	{ "--chunk", F_CHUNK, 1 }, { "--rounds", F_ROUNDS, 1 },
	{ "--seconds", F_SECONDS, 1 }, { "--threads", F_THREADS, 1 },
	{ "--socket", F_SOCKET, 1 }, { "--repeat", F_REPEAT, 1 }, { "--raw", F_RAW, 0 },
	{ "--compare-floor", F_COMPARE, 0 }, { "--floor-only", F_FLOOR_ONLY, 0 },
	{ "--json", F_JSON, 0 }, { "--help", F_HELP, 0 }, { "--version", F_VERSION, 0 },
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: lsecho-bench [--workload pingpong|exchange|all] [--conns N]\n"
		"                    [--chunk BYTES] [--rounds N] [--seconds S] [--raw]\n"
		"                    [--socket PATH | --floor-only] [--compare-floor]\n"
		"                    [--threads N] [--repeat K] [--json] [--help] [--version]\n"
		"\n"
		"N connections, each with exactly one chunk in flight; every echo is read\n"
		"back in full, verified byte by byte, then the next chunk is written.\n"
		"  pingpong  1-byte chunks, --rounds round trips in total (default 100000)\n"
		"            spread over N in {10, 50, 100, 1000, 5000}\n"
		"  exchange  N in {1, 5, 10} x chunk in {100, 1000, 10000, 100000} bytes,\n"
		"            --seconds per row (default 5); MiB/s of echoed payload received\n"
		"\n"
		"  --workload W      pingpong, exchange or all (default all)\n"
		"  --conns N         only rows with N connections (1..%u)\n"
		"  --chunk BYTES     only exchange rows with this chunk (1..%u)\n"
		"  --raw             raw echo; default: framed protocol v1 (HELLO asking for\n"
		"                    max payload = chunk, then DATA frames of at most the\n"
		"                    negotiated size)\n"
		"  --socket PATH     benchmark an external lsecho server at PATH ('@name':\n"
		"                    abstract); default: start one in-process in a private\n"
		"                    temporary directory\n"
		"  --compare-floor   also run every row against the floor, a minimal epoll\n"
		"                    raw echo started in-process, and print lsecho/floor:\n"
		"                    pingpong time ratio (lower is better), exchange MiB/s\n"
		"                    ratio (higher is better)\n"
		"  --floor-only      benchmark just the floor (raw)\n"
		"  --threads N       event-loop threads of each in-process server (default 1;\n"
		"                    the client is one thread)\n"
		"  --repeat K        run every row K times (1..100; with --compare-floor\n"
		"                    alternating lsecho and floor) and keep each side's best\n"
		"                    run: shields the ratio from other load on the machine\n"
		"  --json            one JSON object with an array of rows\n"
		"\n"
		"Exit status: 0 success, 1 runtime failure (including any lost or corrupt\n"
		"echo), 2 bad usage.\n",
		CONNS_MAX, LSE_LIMIT_MAX);
}

static int usage_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_err(const char *fmt, ...)
{
	va_list ap;

	fputs("lsecho-bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see --help)\n", stderr);
	return 2;
}

static int parse_u64(const char *flag, const char *s, uint64_t min, uint64_t max,
		     uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return usage_err("%s: '%s' is not a number", flag, s);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end != '\0')
		return usage_err("%s: '%s' is not a number", flag, s);
	if (errno == ERANGE || v < min || v > max)
		return usage_err("%s must be %" PRIu64 "..%" PRIu64 ", not %s", flag, min, max, s);
	*out = v;
	return 0;
}

static int parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	if ((*s < '0' || *s > '9') && *s != '.')
		return usage_err("--seconds: '%s' is not a number", s);
	errno = 0;
	v = strtod(s, &end);
	if (*end != '\0' || end == s)
		return usage_err("--seconds: '%s' is not a number", s);
	if (errno == ERANGE || !isfinite(v) || v < 0.001 || v > SECONDS_MAX)
		return usage_err("--seconds must be 0.001..%.0f, not %s", SECONDS_MAX, s);
	*out = v;
	return 0;
}

static int parse_workload(const char *s, unsigned *out)
{
	if (strcmp(s, "pingpong") == 0)
		*out = WL_PINGPONG;
	else if (strcmp(s, "exchange") == 0)
		*out = WL_EXCHANGE;
	else if (strcmp(s, "all") == 0)
		*out = WL_PINGPONG | WL_EXCHANGE;
	else
		return usage_err("--workload must be pingpong, exchange or all, not '%s'", s);
	return 0;
}

static int socket_path_ok(const char *s)
{
	if (*s == '\0')
		return usage_err("--socket: empty path");
	if (strlen(s) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return usage_err("--socket: path is %zu bytes; the limit is %zu", strlen(s),
				 sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
	return 0;
}

/* One flag with its value (NULL for switches). 0, 2 (usage), or -1: done,
 * exit 0 (help, version). */
static int apply_flag(bench_opts *o, enum flag_id id, const char *v)
{
	uint64_t u;
	int rc = 0;

	switch (id) {
	case F_WORKLOAD: return parse_workload(v, &o->workloads);
	case F_CONNS:
		rc = parse_u64("--conns", v, 1, CONNS_MAX, &u);
		o->conns = (uint32_t)u;
		return rc;
	case F_CHUNK:
		rc = parse_u64("--chunk", v, 1, LSE_LIMIT_MAX, &u);
		o->chunk = (uint32_t)u;
		o->set_chunk = 1;
		return rc;
	case F_ROUNDS:
		o->set_rounds = 1;
		return parse_u64("--rounds", v, 1, ROUNDS_MAX, &o->rounds);
	case F_SECONDS:
		o->set_seconds = 1;
		return parse_seconds(v, &o->seconds);
	case F_THREADS:
		rc = parse_u64("--threads", v, 1, 1024, &u);
		o->threads = (int)u;
		o->set_threads = 1;
		return rc;
	case F_REPEAT:
		rc = parse_u64("--repeat", v, 1, 100, &u);
		o->repeat = (int)u;
		return rc;
	case F_SOCKET:
		o->socket = v;
		return socket_path_ok(v);
	case F_RAW: o->raw = 1; return 0;
	case F_COMPARE: o->compare_floor = 1; return 0;
	case F_FLOOR_ONLY: o->floor_only = 1; return 0;
	case F_JSON: o->json = 1; return 0;
	case F_HELP: usage(stdout); return -1;
	case F_VERSION:
#ifdef LSE_HAVE_SERVER
		printf("lsecho-bench %s (in-process lsecho server: yes)\n", LSE_BENCH_VERSION);
#else
		printf("lsecho-bench %s (in-process lsecho server: no)\n", LSE_BENCH_VERSION);
#endif
		return -1;
	}
	return 0;
}

/* Flags that make no sense together or with the selected workloads. */
static int check_opts(bench_opts *o)
{
	if (o->floor_only && o->socket)
		return usage_err("--floor-only and --socket exclude each other");
	if (o->floor_only && o->compare_floor)
		return usage_err("--floor-only already benchmarks just the floor; drop --compare-floor");
	if (o->set_chunk && !(o->workloads & WL_EXCHANGE))
		return usage_err("--chunk applies to exchange; pingpong always uses 1-byte chunks");
	if (o->set_rounds && !(o->workloads & WL_PINGPONG))
		return usage_err("--rounds applies to pingpong only");
	if (o->set_seconds && !(o->workloads & WL_EXCHANGE))
		return usage_err("--seconds applies to exchange only");
	if (o->set_threads && o->socket && !o->compare_floor)
		return usage_err("--threads sets in-process servers' threads, and with --socket "
				 "and no --compare-floor there is none");
#ifndef LSE_HAVE_SERVER
	if (!o->socket && !o->floor_only)
		return usage_err("this lsecho-bench was built without the in-process lsecho "
				 "server (no lsecho_shell); use --socket PATH or --floor-only");
#endif
	if (o->floor_only)
		o->raw = 1; /* the floor is raw echo only */
	return 0;
}

static int parse_args(bench_opts *o, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *eq = strchr(a, '='), *v = NULL;
		size_t nl = eq ? (size_t)(eq - a) : strlen(a);
		const struct flag *f = NULL;
		int rc;

		for (size_t k = 0; k < NELEM(flags); k++)
			if (strlen(flags[k].name) == nl && strncmp(flags[k].name, a, nl) == 0)
				f = &flags[k];
		if (f == NULL)
			return usage_err(a[0] == '-' ? "unknown flag '%s'" : "unexpected argument '%s'", a);
		if (f->takes_value && eq)
			v = eq + 1;
		else if (f->takes_value && i + 1 < argc)
			v = argv[++i];
		else if (f->takes_value)
			return usage_err("%s needs a value", f->name);
		else if (eq)
			return usage_err("%s takes no value", f->name);
		rc = apply_flag(o, f->id, v);
		if (rc != 0)
			return rc;
	}
	return check_opts(o);
}

/* ---- small helpers ----------------------------------------------------- */

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int failf(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int failf(char *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, ERRLEN, fmt, ap);
	va_end(ap);
	return -1;
}

/* Pseudo-random bytes; chunk k of connection c starts at a window offset
 * derived from (c, k), so a byte that strays to another connection or
 * round almost never matches. */
static uint8_t *pattern_new(uint32_t max_chunk)
{
	size_t len = PAT_SPAN + (size_t)max_chunk;
	uint8_t *p = malloc(len);
	uint32_t x = 2463534242u;

	if (p == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)(x >> 24);
	}
	return p;
}

static socklen_t addr_of(struct sockaddr_un *sa, const char *path)
{
	size_t len = strlen(path);

	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, path, len);   /* checked: len < sizeof sun_path */
	if (path[0] == '@') {
		sa->sun_path[0] = '\0';    /* abstract: no terminator counted */
		return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	}
	return (socklen_t)sizeof *sa;
}

/* ---- the client -------------------------------------------------------- */

typedef struct bconn {
	int fd;
	uint32_t id;
	int busy;               /* a chunk is in flight */
	uint32_t events;        /* registered: EPOLLIN, plus EPOLLOUT while sent < total */
	uint64_t seq;           /* rounds completed */
	uint64_t rounds_left;   /* pingpong: rounds still to start */
	uint32_t maxp;          /* framed: payload bytes per frame (negotiated) */
	size_t total;           /* bytes of one round's message, and of its echo */
	size_t sent, got;       /* got <= sent <= total */
	const uint8_t *payload; /* this round's chunk: a window of the pattern */
	uint8_t hdr_full[LSE_HDR_LEN], hdr_last[LSE_HDR_LEN];
} bconn;

typedef struct target {
	const char *name;       /* "lsecho" or "floor" */
	const char *path;
	int framed;
} target;

typedef struct row {
	unsigned workload;
	uint32_t conns, chunk;
	uint64_t rounds;        /* pingpong */
	double seconds;         /* exchange */
} row;

typedef struct result {
	double setup_s, secs;
	uint64_t rounds;        /* echoes received in full */
	uint64_t bytes;         /* payload bytes of those echoes */
} result;

typedef struct client {
	const target *t;
	const row *r;
	const uint8_t *pattern;
	int ep;
	bconn *conns;
	uint32_t active;        /* connections with a chunk in flight */
	double deadline;        /* exchange: no round starts after it */
	uint64_t rounds, bytes;
	uint8_t *scratch;
	const sigset_t *waitmask;
	char *err;
} client;

/* The contiguous bytes of the round's message (and expected echo) at pos;
 * sets *len to how many follow. Framed: frames of maxp payload bytes, each
 * after its header; the last frame may be shorter. */
static const uint8_t *msg_seg(const client *cl, const bconn *c, size_t pos, size_t *len)
{
	size_t stride, f, off, plen;

	if (!cl->t->framed) {
		*len = c->total - pos;
		return c->payload + pos;
	}
	stride = LSE_HDR_LEN + (size_t)c->maxp;
	f = pos / stride;
	off = pos % stride;
	plen = cl->r->chunk - f * c->maxp;
	if (plen > c->maxp)
		plen = c->maxp;
	if (off < LSE_HDR_LEN) {
		*len = LSE_HDR_LEN - off;
		return (plen == c->maxp ? c->hdr_full : c->hdr_last) + off;
	}
	off -= LSE_HDR_LEN;
	*len = plen - off;
	return c->payload + f * c->maxp + off;
}

static void conn_frames(const client *cl, bconn *c, uint32_t maxp)
{
	uint32_t chunk = cl->r->chunk;
	uint32_t nframes = chunk / maxp + (chunk % maxp != 0);

	c->maxp = maxp;
	c->total = (size_t)chunk + (size_t)nframes * LSE_HDR_LEN;
	lse_frame_encode(c->hdr_full, LSE_T_DATA, maxp);
	lse_frame_encode(c->hdr_last, LSE_T_DATA, chunk - (nframes - 1) * maxp);
}

static int conn_want_out(client *cl, bconn *c, int out)
{
	uint32_t ev = EPOLLIN | (out ? EPOLLOUT : 0);
	struct epoll_event e = { .events = ev, .data.u32 = c->id };

	if (ev == c->events)
		return 0;
	if (epoll_ctl(cl->ep, EPOLL_CTL_MOD, c->fd, &e) != 0)
		return failf(cl->err, "epoll_ctl: %s", strerror(errno));
	c->events = ev;
	return 0;
}

static int conn_send(client *cl, bconn *c)
{
	while (c->sent < c->total) {
		struct iovec iov[IOV_SEGS];
		struct msghdr mh = { .msg_iov = iov };
		size_t pos = c->sent, len;
		ssize_t n;

		while (mh.msg_iovlen < IOV_SEGS && pos < c->total) {
			const uint8_t *p = msg_seg(cl, c, pos, &len);

			iov[mh.msg_iovlen].iov_base = (void *)p;
			iov[mh.msg_iovlen++].iov_len = len;
			pos += len;
		}
		n = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0)
			c->sent += (size_t)n;
		else if (n < 0 && errno == EINTR)
			continue;
		else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return conn_want_out(cl, c, 1);
		else
			return failf(cl->err, "connection %" PRIu32 ": send failed at byte %zu of "
				     "round %" PRIu64 ": %s", c->id, c->sent, c->seq,
				     n < 0 ? strerror(errno) : "sent nothing");
	}
	return conn_want_out(cl, c, 0);
}

static void round_start(const client *cl, bconn *c)
{
	uint32_t off = ((c->id * 2654435761u) ^ ((uint32_t)c->seq * 40503u)) & (PAT_SPAN - 1);

	c->payload = cl->pattern + off;
	c->sent = c->got = 0;
	c->busy = 1;
}

static int round_done(client *cl, bconn *c)
{
	c->seq++;
	cl->rounds++;
	cl->bytes += cl->r->chunk;
	if (cl->r->workload == WL_PINGPONG ? c->rounds_left > 0 : now_s() < cl->deadline) {
		c->rounds_left -= c->rounds_left > 0;
		round_start(cl, c);
		return conn_send(cl, c);
	}
	c->busy = 0;
	cl->active--;
	return 0;
}

/* After a mismatch: if what arrived holds an ERROR frame starting at or
 * before the bad byte, the server's reason says more than the byte does. */
static void describe_error_frame(const client *cl, const uint8_t *in, size_t n,
				 size_t bad, char *out, size_t outlen)
{
	static const uint8_t err_hdr[4] = { LSE_MAGIC0, LSE_MAGIC1, LSE_VERSION, LSE_T_ERROR };

	out[0] = '\0';
	for (size_t k = 0; k <= bad && k + 10 <= n; k++) {
		uint32_t len;
		size_t rlen;

		if (memcmp(in + k, err_hdr, sizeof err_hdr) != 0)
			continue;
		len = lse_get_u32(in + k + 4);
		rlen = len >= 2 ? len - 2 : 0;
		if (rlen > n - k - 10)
			rlen = n - k - 10;
		if (rlen > LSE_REASON_MAX)
			rlen = LSE_REASON_MAX;
		snprintf(out, outlen, "; the server sent ERROR %u \"%.*s\"%s",
			 (unsigned)in[k + 8] << 8 | in[k + 9], (int)rlen, (const char *)in + k + 10,
			 cl->t->framed ? "" : " (it speaks the framed protocol: drop --raw)");
		return;
	}
}

/* Checks n received bytes against the expected echo from c->got on. */
static int verify(client *cl, bconn *c, const uint8_t *in, size_t n)
{
	size_t pos = c->got, i = 0, len = 0, j;
	const uint8_t *exp = NULL;
	char why[256];

	while (i < n) {
		exp = msg_seg(cl, c, pos, &len);
		if (len > n - i)
			len = n - i;
		if (memcmp(exp, in + i, len) != 0)
			break;
		pos += len;
		i += len;
	}
	if (i == n)
		return 0;
	for (j = 0; exp[j] == in[i + j]; j++)
		;
	describe_error_frame(cl, in, n, i + j, why, sizeof why);
	return failf(cl->err, "connection %" PRIu32 ": echo mismatch at byte %zu of round %"
		     PRIu64 " (expected 0x%02x, got 0x%02x)%s", c->id, pos + j, c->seq,
		     exp[j], in[i + j], why);
}

static int conn_recv(client *cl, bconn *c)
{
	size_t want = c->total - c->got;
	ssize_t n;

	do
		n = recv(c->fd, cl->scratch, SCRATCH_LEN, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (n <= 0)
		return failf(cl->err, "connection %" PRIu32 ": %s after %zu of %zu echo bytes "
			     "of round %" PRIu64, c->id,
			     n == 0 ? "the server closed the connection" : strerror(errno),
			     c->got, c->total, c->seq);
	if (!c->busy)
		return failf(cl->err, "connection %" PRIu32 ": %zd unexpected bytes after its "
			     "last echo (round %" PRIu64 ")", c->id, n, c->seq);
	if (verify(cl, c, cl->scratch, (size_t)n < want ? (size_t)n : want) != 0)
		return -1;
	if ((size_t)n > want)
		return failf(cl->err, "connection %" PRIu32 ": %zu bytes beyond the echo of "
			     "round %" PRIu64, c->id, (size_t)n - want, c->seq);
	if (c->got + (size_t)n > c->sent)
		return failf(cl->err, "connection %" PRIu32 ": echo of bytes not yet sent "
			     "(round %" PRIu64 ")", c->id, c->seq);
	c->got += (size_t)n;
	return c->got == c->total ? round_done(cl, c) : 0;
}

static int stalled(client *cl)
{
	for (uint32_t i = 0; i < cl->r->conns; i++) {
		const bconn *c = &cl->conns[i];

		if (!c->busy)
			continue;
		return failf(cl->err, "connection %" PRIu32 ": no echo for %d s (round %" PRIu64
			     ": sent %zu of %zu bytes, received %zu)%s", c->id, STALL_MS / 1000,
			     c->seq, c->sent, c->total, c->got,
			     !cl->t->framed && c->got == 0 && cl->r->chunk < LSE_HDR_LEN
			     ? "; a framed server waits for an 8-byte header: drop --raw if "
			       "it is framed" : "");
	}
	return failf(cl->err, "no progress for %d s", STALL_MS / 1000);
}

static int client_loop(client *cl)
{
	struct epoll_event ev[EV_MAX];

	while (cl->active > 0) {
		int n = epoll_pwait(cl->ep, ev, EV_MAX, STALL_MS, cl->waitmask);

		if (interrupted)
			return failf(cl->err, "interrupted");
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return failf(cl->err, "epoll_wait: %s", strerror(errno));
		if (n == 0)
			return stalled(cl);
		for (int i = 0; i < n; i++) {
			bconn *c = &cl->conns[ev[i].data.u32];
			uint32_t e = ev[i].events;

			if ((e & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && c->busy &&
			    c->sent < c->total && conn_send(cl, c) != 0)
				return -1;
			if ((e & (EPOLLIN | EPOLLERR | EPOLLHUP)) && conn_recv(cl, c) != 0)
				return -1;
		}
	}
	return 0;
}

/* Blocking, with the socket's timeouts: the whole of buf, or -1. */
static int io_full(client *cl, const bconn *c, uint8_t *buf, size_t len, int out)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = out ? send(c->fd, buf + done, len - done, MSG_NOSIGNAL)
				: recv(c->fd, buf + done, len - done, 0);

		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return failf(cl->err, "connection %" PRIu32 ": handshake with %s failed: %s",
			     c->id, cl->t->path,
			     n == 0 ? "the server closed the connection"
			     : errno == EAGAIN || errno == EWOULDBLOCK
			     ? "no answer within 10 s" : strerror(errno));
	}
	return 0;
}

/* HELLO asking for max payload = chunk; the WELCOME sets the frame size. */
static int conn_hello(client *cl, bconn *c)
{
	uint8_t m[LSE_HDR_LEN + LSE_REASON_MAX + 2];
	uint32_t len, v;

	lse_frame_encode(m, LSE_T_HELLO, LSE_HELLO_LEN);
	lse_put_u32(m + LSE_HDR_LEN, cl->r->chunk);
	if (io_full(cl, c, m, LSE_HDR_LEN + LSE_HELLO_LEN, 1) != 0 ||
	    io_full(cl, c, m, LSE_HDR_LEN, 0) != 0)
		return -1;
	len = lse_get_u32(m + 4);
	if (m[0] != LSE_MAGIC0 || m[1] != LSE_MAGIC1 || m[2] != LSE_VERSION)
		return failf(cl->err, "connection %" PRIu32 ": %s did not answer HELLO with an "
			     "lsecho v1 frame (got %02x %02x %02x %02x)", c->id, cl->t->path,
			     m[0], m[1], m[2], m[3]);
	if (m[3] == LSE_T_HELLO)
		return failf(cl->err, "connection %" PRIu32 ": %s echoed the HELLO back: it is a "
			     "raw echo server, use --raw", c->id, cl->t->path);
	if (m[3] == LSE_T_ERROR && len >= 2 && len <= 2 + LSE_REASON_MAX &&
	    io_full(cl, c, m + LSE_HDR_LEN, len, 0) == 0)
		return failf(cl->err, "connection %" PRIu32 ": the server refused HELLO: ERROR %u "
			     "\"%.*s\"", c->id, (unsigned)m[8] << 8 | m[9], (int)(len - 2),
			     (const char *)m + 10);
	if (m[3] != LSE_T_WELCOME || len != LSE_HELLO_LEN)
		return failf(cl->err, "connection %" PRIu32 ": expected WELCOME, got frame type "
			     "0x%02x length %" PRIu32, c->id, m[3], len);
	if (io_full(cl, c, m + LSE_HDR_LEN, LSE_HELLO_LEN, 0) != 0)
		return -1;
	v = lse_get_u32(m + LSE_HDR_LEN);
	if (v == 0 || v > cl->r->chunk)
		return failf(cl->err, "connection %" PRIu32 ": WELCOME negotiated %" PRIu32
			     " for a HELLO asking %" PRIu32, c->id, v, cl->r->chunk);
	conn_frames(cl, c, v);
	return 0;
}

/* Raw: one byte there and back before the clock starts, as framed
 * connections carry HELLO and WELCOME. The first bytes through a fresh
 * socket pay for the kernel's lazy set-up of its buffers; with the probe both
 * modes time connections that have carried data, and a 5000-connection row
 * measures round trips, not 5000 first writes. */
static int conn_probe(client *cl, bconn *c)
{
	uint8_t out = cl->pattern[0], in = 0;

	if (io_full(cl, c, &out, 1, 1) != 0)
		return -1;
	if (io_full(cl, c, &in, 1, 0) != 0) {
		size_t n = strlen(cl->err);

		snprintf(cl->err + n, ERRLEN - n, " (a framed server waits for an 8-byte "
			 "header: drop --raw if it is framed)");
		return -1;
	}
	if (in != out)
		return failf(cl->err, "connection %" PRIu32 ": %s answered a raw byte 0x%02x with "
			     "0x%02x: not a raw echo", c->id, cl->t->path, out, in);
	return 0;
}

static int conn_connect(client *cl, bconn *c)
{
	struct sockaddr_un sa;
	socklen_t salen = addr_of(&sa, cl->t->path);
	struct timeval tv = { .tv_sec = IO_TIMEOUT_S };

	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return failf(cl->err, "connection %" PRIu32 ": socket: %s", c->id, strerror(errno));
	/* Bounds a blocking connect to a server that never accepts (a full
	 * backlog) and a handshake with one that never answers. */
	if (setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0 ||
	    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0)
		return failf(cl->err, "setsockopt: %s", strerror(errno));
	if (connect(c->fd, (struct sockaddr *)&sa, salen) != 0)
		return failf(cl->err, "connection %" PRIu32 ": connect to %s: %s", c->id,
			     cl->t->path, errno == EAGAIN ? "timed out (the server does not accept)"
			     : strerror(errno));
	return 0;
}

static int conn_open(client *cl, bconn *c)
{
	struct epoll_event e = { .events = EPOLLIN, .data.u32 = c->id };
	int fl;

	if (conn_connect(cl, c) != 0)
		return -1;
	if (cl->t->framed) {
		if (conn_hello(cl, c) != 0)
			return -1;
	} else {
		if (conn_probe(cl, c) != 0)
			return -1;
		c->total = cl->r->chunk;
	}
	fl = fcntl(c->fd, F_GETFL);
	if (fl < 0 || fcntl(c->fd, F_SETFL, fl | O_NONBLOCK) != 0 ||
	    epoll_ctl(cl->ep, EPOLL_CTL_ADD, c->fd, &e) != 0)
		return failf(cl->err, "connection %" PRIu32 ": set up: %s", c->id, strerror(errno));
	c->events = EPOLLIN;
	return 0;
}

/* Starts the first round everywhere: pingpong spreads r->rounds evenly. */
static int client_kick(client *cl)
{
	uint32_t n = cl->r->conns;

	for (uint32_t i = 0; i < n; i++) {
		bconn *c = &cl->conns[i];

		if (cl->r->workload == WL_PINGPONG)
			c->rounds_left = cl->r->rounds / n + (i < cl->r->rounds % n);
		else
			c->rounds_left = 1;
		if (c->rounds_left == 0)
			continue;
		c->rounds_left--;
		cl->active++;
		round_start(cl, c);
		if (conn_send(cl, c) != 0)
			return -1;
	}
	return 0;
}

static int client_body(client *cl, result *res)
{
	double t0 = now_s(), t1, t2;

	for (uint32_t i = 0; i < cl->r->conns; i++)
		if (conn_open(cl, &cl->conns[i]) != 0)
			return -1;
	t1 = now_s();
	cl->deadline = t1 + cl->r->seconds;
	if (client_kick(cl) != 0 || client_loop(cl) != 0)
		return -1;
	t2 = now_s();
	if (cl->r->workload == WL_PINGPONG && cl->rounds != cl->r->rounds)
		return failf(cl->err, "%" PRIu64 " round trips instead of %" PRIu64,
			     cl->rounds, cl->r->rounds);
	res->setup_s = t1 - t0;
	res->secs = t2 - t1;
	res->rounds = cl->rounds;
	res->bytes = cl->bytes;
	return 0;
}

/* One row against one server: connect N, run, close. */
static int client_run(const target *t, const row *r, const uint8_t *pattern,
		      const sigset_t *waitmask, result *res, char *err)
{
	client cl = { .t = t, .r = r, .pattern = pattern, .waitmask = waitmask, .err = err };
	int rc = -1;

	cl.conns = calloc(r->conns, sizeof *cl.conns);
	cl.scratch = malloc(SCRATCH_LEN);
	cl.ep = epoll_create1(EPOLL_CLOEXEC);
	if (cl.conns == NULL || cl.scratch == NULL || cl.ep < 0) {
		failf(err, "cannot set up the client: %s",
		      cl.ep < 0 ? strerror(errno) : "out of memory");
	} else {
		for (uint32_t i = 0; i < r->conns; i++) {
			cl.conns[i].fd = -1;
			cl.conns[i].id = i;
		}
		rc = client_body(&cl, res);
	}
	for (uint32_t i = 0; cl.conns && i < r->conns; i++)
		if (cl.conns[i].fd >= 0)
			close(cl.conns[i].fd);
	if (cl.ep >= 0)
		close(cl.ep);
	free(cl.scratch);
	free(cl.conns);
	return rc;
}

/* ---- the servers ------------------------------------------------------- */

typedef struct servers {
	char dir[PATH_MAX];     /* private temporary directory, or "" */
	char lse_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char floor_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	lse_floor *floor;
#ifdef LSE_HAVE_SERVER
	lse_server *srv;
	pthread_t tid;
	int running;
#endif
} servers;

/* dir/name into out; the caller made sure it fits. */
static void path_join(char *out, size_t outlen, const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);

	out[0] = '\0';
	if (a + 1 + b >= outlen)
		return;
	memcpy(out, dir, a);
	out[a] = '/';
	memcpy(out + a + 1, name, b + 1);
}

static int make_dir(servers *sv, char *err)
{
	const char *base = getenv("TMPDIR");
	static const char tail[] = "/lsecho-bench-XXXXXX/lsecho.sock";

	/* A long $TMPDIR would not fit sun_path: /tmp always does. */
	if (base == NULL || base[0] == '\0' ||
	    strlen(base) + sizeof tail > sizeof sv->lse_path)
		base = "/tmp";
	snprintf(sv->dir, sizeof sv->dir, "%s/lsecho-bench-XXXXXX", base);
	if (mkdtemp(sv->dir) == NULL) {
		failf(err, "cannot create a temporary directory %s: %s", sv->dir, strerror(errno));
		sv->dir[0] = '\0';
		return -1;
	}
	path_join(sv->lse_path, sizeof sv->lse_path, sv->dir, "lsecho.sock");
	path_join(sv->floor_path, sizeof sv->floor_path, sv->dir, "floor.sock");
	return 0;
}

#ifdef LSE_HAVE_SERVER
static void *server_main(void *arg)
{
	lse_server_run(arg);
	return NULL;
}

static int lsecho_start(servers *sv, const bench_opts *o, char *err)
{
	lse_server_opts so = {
		.socket_path = sv->lse_path,
		.mode = o->raw ? LSE_MODE_RAW : LSE_MODE_FRAMED,
		.threads = o->threads,
		.quiet = 1,
	};
	int e;

	if (lse_server_open(&sv->srv, &so, err, ERRLEN) != 0) {
		sv->srv = NULL;
		return -1;
	}
	e = pthread_create(&sv->tid, NULL, server_main, sv->srv);
	if (e != 0)
		return failf(err, "cannot start the server thread: %s", strerror(e));
	sv->running = 1;
	return 0;
}
#endif

static void servers_stop(servers *sv)
{
#ifdef LSE_HAVE_SERVER
	if (sv->running) {
		lse_server_stop(sv->srv);
		pthread_join(sv->tid, NULL);
	}
	lse_server_close(sv->srv);
	sv->srv = NULL;
	sv->running = 0;
#endif
	lse_floor_stop(sv->floor);
	sv->floor = NULL;
	if (sv->dir[0] != '\0' && rmdir(sv->dir) != 0)
		fprintf(stderr, "lsecho-bench: cannot remove %s: %s\n", sv->dir, strerror(errno));
	sv->dir[0] = '\0';
}

static int servers_start(servers *sv, const bench_opts *o, char *err)
{
	int need_lsecho = !o->socket && !o->floor_only;

	if (!need_lsecho && !o->floor_only && !o->compare_floor)
		return 0;
	if (make_dir(sv, err) != 0)
		return -1;
#ifdef LSE_HAVE_SERVER
	if (need_lsecho && lsecho_start(sv, o, err) != 0)
		return -1;
#endif
	if (o->floor_only || o->compare_floor)
		return lse_floor_start(&sv->floor, sv->floor_path, o->threads, err, ERRLEN);
	return 0;
}

/* Raises the soft open-file limit to the hard one; fails if the largest
 * row cannot fit: the client's N, plus N more when servers are in-process. */
static int fds_ensure(uint32_t conns, int inproc, char *err)
{
	struct rlimit rl;
	unsigned long long need = (unsigned long long)conns * (inproc ? 2 : 1) + FD_SLACK;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return failf(err, "getrlimit: %s", strerror(errno));
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0 && getrlimit(RLIMIT_NOFILE, &rl) != 0)
			return failf(err, "getrlimit: %s", strerror(errno));
	}
	if (rl.rlim_cur != RLIM_INFINITY && need > rl.rlim_cur)
		return failf(err, "%" PRIu32 " connections need about %llu open files (client%s), "
			     "but the limit is %llu even after raising it to the hard limit; "
			     "raise it (ulimit -Hn) or use fewer --conns", conns, need,
			     inproc ? " and in-process server" : "",
			     (unsigned long long)rl.rlim_cur);
	return 0;
}

/* ---- output ------------------------------------------------------------ */

static double rate_of(const row *r, const result *res)
{
	double secs = res->secs > 1e-9 ? res->secs : 1e-9;

	if (r->workload == WL_PINGPONG)
		return (double)res->rounds / secs;
	return (double)res->bytes / (1024.0 * 1024.0) / secs;
}

/* Best of several runs: pingpong by time, exchange by MiB/s. */
static int better(const row *r, const result *x, const result *best)
{
	if (r->workload == WL_PINGPONG)
		return x->secs < best->secs;
	return rate_of(r, x) > rate_of(r, best);
}

/* lsecho/floor: pingpong time (lower is better), exchange MiB/s. */
static double ratio_of(const row *r, const result *a, const result *floor)
{
	if (r->workload == WL_PINGPONG)
		return floor->secs > 1e-9 ? a->secs / floor->secs : 0.0;
	return rate_of(r, floor) > 0.0 ? rate_of(r, a) / rate_of(r, floor) : 0.0;
}

static void rate_str(char *buf, size_t len, const row *r, const result *res)
{
	if (r->workload == WL_PINGPONG)
		snprintf(buf, len, "%.0f rt/s", rate_of(r, res));
	else
		snprintf(buf, len, "%.1f MiB/s", rate_of(r, res));
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

static void print_head(const bench_opts *o, const servers *sv)
{
	const char *mode = o->raw ? "raw" : "framed";
	const char *srv = o->floor_only ? "none" : o->socket ? "external" : "in-process";

	if (o->json) {
		printf("{\"tool\":\"lsecho-bench\",\"version\":\"%s\",\"server\":\"%s\",\"socket\":",
		       LSE_BENCH_VERSION, srv);
		if (o->floor_only)
			printf("null");
		else
			json_str(o->socket ? o->socket : sv->lse_path);
		printf(",\"mode\":\"%s\",\"threads\":%d,\"repeat\":%d,\"floor\":%s,\"rows\":[",
		       mode, o->threads, o->repeat, o->floor_only || o->compare_floor
		       ? "\"in-process minimal epoll raw echo\"" : "null");
		return;
	}
	printf("# lsecho-bench %s\n", LSE_BENCH_VERSION);
	if (o->floor_only)
		printf("# server: floor only (minimal epoll raw echo, in-process, %d thread%s)\n",
		       o->threads, o->threads == 1 ? "" : "s");
	else if (o->socket)
		printf("# server: external lsecho at %s, %s\n", o->socket, mode);
	else
		printf("# server: lsecho in-process, %d thread%s, %s, socket %s\n", o->threads,
		       o->threads == 1 ? "" : "s", mode, sv->lse_path);
	if (o->compare_floor)
		printf("# floor: minimal epoll raw echo in-process, %d thread%s%s\n"
		       "# ratio = lsecho/floor: pingpong time (lower is better), exchange MiB/s "
		       "(higher is better)\n", o->threads, o->threads == 1 ? "" : "s",
		       o->raw ? "" : "; lsecho runs framed, the floor raw, so ratios include framing");
	if (o->repeat > 1)
		printf("# best of %d runs per row%s\n", o->repeat,
		       o->compare_floor ? ", lsecho and floor alternating" : "");
	printf("# exchange MiB/s: echoed payload bytes received by the client; setup_s: "
	       "connect%s, not timed\n", o->raw ? "" : " and HELLO/WELCOME");
	printf("%-8s  %-6s  %5s  %8s  %7s  %8s  %15s", "workload", "mode", "conns", "chunk",
	       "setup_s", "seconds", "rate");
	if (o->compare_floor)
		printf("  %8s  %15s  %s", "floor_s", "floor_rate", "ratio");
	printf("\n");
}

static void json_result(const row *r, const result *res)
{
	printf("\"rounds\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"setup_seconds\":%.6f,"
	       "\"seconds\":%.6f,\"%s\":%.3f", res->rounds, res->bytes, res->setup_s, res->secs,
	       r->workload == WL_PINGPONG ? "round_trips_per_second" : "mib_per_second",
	       rate_of(r, res));
}

static void print_row(const bench_opts *o, const row *r, const result *res,
		      const result *floor, int first)
{
	const char *wl = r->workload == WL_PINGPONG ? "pingpong" : "exchange";
	const char *mode = o->raw ? "raw" : "framed";
	char rate[32], frate[32];

	if (o->json) {
		printf("%s\n{\"workload\":\"%s\",\"mode\":\"%s\",\"server\":\"%s\",\"conns\":%"
		       PRIu32 ",\"chunk\":%" PRIu32 ",", first ? "" : ",", wl, mode,
		       o->floor_only ? "floor" : "lsecho", r->conns, r->chunk);
		json_result(r, res);
		if (floor) {
			printf(",\"floor\":{\"mode\":\"raw\",");
			json_result(r, floor);
			printf("},\"ratio\":%.4f,\"ratio_of\":\"%s\"", ratio_of(r, res, floor),
			       r->workload == WL_PINGPONG ? "seconds" : "mib_per_second");
		}
		printf("}");
		fflush(stdout);
		return;
	}
	rate_str(rate, sizeof rate, r, res);
	printf("%-8s  %-6s  %5" PRIu32 "  %8" PRIu32 "  %7.3f  %8.3f  %15s", wl, mode,
	       r->conns, r->chunk, res->setup_s, res->secs, rate);
	if (floor) {
		rate_str(frate, sizeof frate, r, floor);
		printf("  %8.3f  %15s  x%.2f of floor", floor->secs, frate,
		       ratio_of(r, res, floor));
	}
	printf("\n");
	fflush(stdout);
}

/* ---- main -------------------------------------------------------------- */

static size_t rows_build(const bench_opts *o, row *rows)
{
	size_t n = 0;

	for (size_t i = 0; (o->workloads & WL_PINGPONG) && i < NELEM(pingpong_conns); i++) {
		if (o->conns && o->conns != pingpong_conns[i])
			continue;
		rows[n++] = (row){ WL_PINGPONG, pingpong_conns[i], 1, o->rounds, 0 };
	}
	if ((o->workloads & WL_PINGPONG) && o->conns && n == 0)
		rows[n++] = (row){ WL_PINGPONG, o->conns, 1, o->rounds, 0 };
	for (size_t i = 0; (o->workloads & WL_EXCHANGE) && i < NELEM(exchange_conns); i++) {
		for (size_t k = 0; k < NELEM(exchange_chunks); k++) {
			uint32_t nc = o->conns ? o->conns : exchange_conns[i];
			uint32_t ch = o->chunk ? o->chunk : exchange_chunks[k];

			/* A pinned value replaces its whole axis: one pass of it. */
			if ((o->conns && i > 0) || (o->chunk && k > 0))
				continue;
			rows[n++] = (row){ WL_EXCHANGE, nc, ch, 0, o->seconds };
		}
	}
	return n;
}

/* Names the server and row in front of the client's message. */
static int row_failed(const target *t, const row *r, char *err)
{
	char why[ERRLEN];

	memcpy(why, err, ERRLEN);
	return failf(err, "%s %s, %" PRIu32 " conns, chunk %" PRIu32 ": %.400s", t->name,
		     r->workload == WL_PINGPONG ? "pingpong" : "exchange", r->conns, r->chunk, why);
}

static int run_rows(const bench_opts *o, const servers *sv, const row *rows, size_t n,
		    const uint8_t *pattern, const sigset_t *waitmask, char *err)
{
	target lsecho = { "lsecho", o->socket ? o->socket : sv->lse_path, !o->raw };
	target floor = { "floor", sv->floor_path, 0 };
	const target *main_t = o->floor_only ? &floor : &lsecho;

	for (size_t i = 0; i < n; i++) {
		result a = { 0 }, f = { 0 }, ra, rf;
		const target *t = main_t;

		for (int k = 0; k < o->repeat; k++) {
			t = main_t;
			if (client_run(t, &rows[i], pattern, waitmask, &ra, err) != 0 ||
			    (o->compare_floor &&
			     client_run(t = &floor, &rows[i], pattern, waitmask, &rf, err) != 0))
				return row_failed(t, &rows[i], err);
			if (k == 0 || better(&rows[i], &ra, &a))
				a = ra;
			if (o->compare_floor && (k == 0 || better(&rows[i], &rf, &f)))
				f = rf;
		}
		print_row(o, &rows[i], &a, o->compare_floor ? &f : NULL, i == 0);
	}
	return 0;
}

/* Checks an external --socket before anything starts. */
static int socket_usable(const char *path, char *err)
{
	struct stat st;

	if (path[0] == '@')
		return 0;
	if (stat(path, &st) != 0)
		return failf(err, "--socket %s: %s", path, strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		return failf(err, "--socket %s: not a socket", path);
	return 0;
}

static int bench(const bench_opts *o, const sigset_t *waitmask, char *err)
{
	row rows[NELEM(pingpong_conns) + 1 + NELEM(exchange_conns) * NELEM(exchange_chunks)];
	size_t n = rows_build(o, rows);
	servers sv = { .dir = "" };
	uint32_t max_conns = 0, max_chunk = 0;
	uint8_t *pattern;
	int rc = -1;

	for (size_t i = 0; i < n; i++) {
		max_conns = rows[i].conns > max_conns ? rows[i].conns : max_conns;
		max_chunk = rows[i].chunk > max_chunk ? rows[i].chunk : max_chunk;
	}
	if ((o->socket && socket_usable(o->socket, err) != 0) ||
	    fds_ensure(max_conns, !o->socket || o->compare_floor, err) != 0)
		return -1;
	pattern = pattern_new(max_chunk);
	if (pattern == NULL)
		return failf(err, "out of memory");
	if (servers_start(&sv, o, err) == 0) {
		print_head(o, &sv);
		rc = run_rows(o, &sv, rows, n, pattern, waitmask, err);
		if (o->json && rc == 0)
			printf("\n]}\n");
	}
	servers_stop(&sv);
	free(pattern);
	return rc;
}

int main(int argc, char **argv)
{
	bench_opts o = {
		.workloads = WL_PINGPONG | WL_EXCHANGE,
		.rounds = 100000,
		.seconds = 5.0,
		.threads = 1,
		.repeat = 1,
	};
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block, waitmask;
	char err[ERRLEN] = "";
	int rc = parse_args(&o, argc, argv);

	if (rc != 0)
		return rc < 0 ? 0 : rc;
	/* SIGINT/SIGTERM stay blocked everywhere (the server threads inherit
	 * the mask) except inside the client's epoll_pwait, which they
	 * interrupt so that everything is cleaned up. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGINT);
	sigdelset(&waitmask, SIGTERM);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (bench(&o, &waitmask, err) != 0) {
		fflush(stdout);
		fprintf(stderr, "lsecho-bench: %s\n", err);
		return 1;
	}
	return 0;
}
