/* soak_plan: a soak connection from a seed, and its replay file (soak.h).
 *
 * Replay file format, one item a line, '#' starts a comment line:
 *
 *   lsecho-soak-plan 1          first line, the format version
 *   mode framed                 or raw
 *   seed 0x0123456789abcdef     the seed the plan was made from
 *   close half                  half, open or abrupt (enum soak_close)
 *   stream 345                  the stream's length in bytes
 *   x 4c450101000000040000...   its bytes in hex, in order, any number of lines
 *   cut 345                     bytes written; the stream's length unless abrupt
 *   write 17 250                write up to 17 bytes, then pause 250 us; each
 *                               once, in order; the sizes add up to cut
 *   read 4096 0                 read up to 4096 bytes (0: none), then pause;
 *                               in order, repeated until EOF
 *
 * Streams are drawn to reach what the server judges: every frame type and
 * error, payloads at every boundary (0, 1, 64, 65, the negotiated size and
 * one past it), HELLOs weighted to 1..138 where the output bound is tight,
 * and partial frames at the end. */
#define _GNU_SOURCE
#include "soak.h"
#include "lse_frame.h"
#include "model.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define WRITES_MAX 512u      /* write calls per plan: a long stream gets bigger steps */
#define READS_MAX 256u       /* the same for small-piece reads */
#define PAUSE_BUDGET_US 5000u /* most pausing one plan's writes do in all */
#define STEPS_MAX 1000000u   /* most steps a replay file may hold */
#define HEX_PER_LINE 64
#define STREAM_MAX (16u << 20) /* longest stream a replay file may hold */

/* ---- generation ---- */

typedef struct gen {
	uint64_t rng;       /* splitmix64 state */
	soak_plan *p;
	int oom;            /* sticky: an append failed, the plan is void */
	size_t budget;      /* the stream grows no further than this */
	uint32_t n;         /* negotiated maximum; 0 before HELLO */
	uint32_t paused_us; /* pauses handed out so far, <= PAUSE_BUDGET_US */
	int slow;           /* a long stream for a reader that keeps stopping */
} gen;

static uint64_t gen_u64(gen *g)
{
	uint64_t z = (g->rng += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* 0 .. n-1 (n >= 1); the modulo bias is far below anything measured. */
static uint64_t gen_below(gen *g, uint64_t n)
{
	return gen_u64(g) % n;
}

static uint64_t gen_range(gen *g, uint64_t lo, uint64_t hi)
{
	return lo + gen_below(g, hi - lo + 1);
}

static int gen_chance(gen *g, unsigned percent)
{
	return gen_below(g, 100) < percent;
}

/* 0 .. max, every bit length equally likely: small values are as common as
 * large ones, so boundaries near 0 are hit without starving the rest. */
static uint64_t gen_log(gen *g, uint64_t max)
{
	unsigned bits = 0;
	uint64_t k;

	while (bits < 64 && (max >> bits) != 0)
		bits++;
	k = gen_below(g, bits + 1);
	return k == 0 ? 0 : (gen_u64(g) >> (64 - k)) % (max + 1);
}

static int grow(void **buf, size_t *cap, size_t need, size_t elem)
{
	size_t c = *cap ? *cap : 64;
	void *p;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	p = realloc(*buf, c * elem);
	if (p == NULL)
		return -1;
	*buf = p;
	*cap = c;
	return 0;
}

static uint8_t *gen_room(gen *g, size_t n)
{
	soak_plan *p = g->p;

	if (n == 0)
		return NULL;   /* the stream may still be NULL: no pointer to form */
	if (g->oom || grow((void **)&p->stream, &p->cap, p->len + n, 1) != 0) {
		g->oom = 1;
		return NULL;
	}
	p->len += n;
	return p->stream + p->len - n;
}

static void gen_put(gen *g, const uint8_t *src, size_t n)
{
	uint8_t *d = gen_room(g, n);

	if (d && n)
		memcpy(d, src, n);
}

static void gen_random(gen *g, size_t n)
{
	uint8_t *d = gen_room(g, n);

	for (size_t i = 0; d && i < n; i += 8) {
		uint64_t v = gen_u64(g);
		memcpy(d + i, &v, n - i < 8 ? n - i : 8);
	}
}

/* Written out here, not taken from lse_frame.h: the soak shares only the
 * protocol's constants with the server. */
static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void hdr_make(uint8_t h[LSE_HDR_LEN], uint8_t type, uint32_t len)
{
	h[0] = LSE_MAGIC0;
	h[1] = LSE_MAGIC1;
	h[2] = LSE_VERSION;
	h[3] = type;
	put_be32(h + 4, len);
}

static void gen_frame(gen *g, uint8_t type, uint32_t len)
{
	uint8_t h[LSE_HDR_LEN];

	hdr_make(h, type, len);
	gen_put(g, h, sizeof h);
	gen_random(g, len);
}

static void gen_hello(gen *g, uint32_t value)
{
	uint8_t f[LSE_HDR_LEN + LSE_HELLO_LEN];

	hdr_make(f, LSE_T_HELLO, LSE_HELLO_LEN);
	put_be32(f + LSE_HDR_LEN, value);
	gen_put(g, f, sizeof f);
}

static size_t gen_left(const gen *g)
{
	return g->p->len < g->budget ? g->budget - g->p->len : 0;
}

/* Weighted to 1..138, where a session's output bound is its tightest
 * (2 x 138 up to 130, 8 + n + 138 above), then every size to the limit and
 * beyond it (the server grants min(requested, limit)). */
static uint32_t gen_hello_value(gen *g)
{
	static const uint32_t edge[] = { 1, 2, 7, 8, 9, 63, 64, 65, 120, 129, 130, 131,
					 137, 138, 139, 4095, 4096, SOAK_LIMIT - 1, SOAK_LIMIT,
					 SOAK_LIMIT + 1, LSE_LIMIT_MAX, UINT32_MAX };
	uint64_t r = gen_below(g, 100);

	if (r < 40)
		return (uint32_t)gen_range(g, 1, 138);
	if (r < 55)
		return edge[gen_below(g, NELEM(edge))];
	if (r < 65)
		return (uint32_t)gen_range(g, 139, 300);
	if (r < 90)
		return (uint32_t)(1 + gen_log(g, SOAK_LIMIT - 1));
	return (uint32_t)(SOAK_LIMIT + 1 + gen_log(g, UINT32_MAX - SOAK_LIMIT - 1));
}

static uint32_t gen_data_len(gen *g)
{
	uint32_t n = g->n, v;
	size_t left = gen_left(g);

	switch (gen_below(g, 8)) {
	case 0: v = 0; break;
	case 1: v = 1; break;
	case 2: v = n; break;
	case 3: v = n - 1; break;
	case 4: v = LSE_PING_MAX; break;
	case 5: v = LSE_PING_MAX + 1; break;
	default: v = (uint32_t)gen_log(g, n); break;
	}
	if (v > n)
		v = n;
	if (v > left)
		v = (uint32_t)gen_log(g, left < n ? left : n);
	return v;
}

static uint32_t gen_ping_len(gen *g)
{
	static const uint32_t edge[] = { 0, 1, LSE_PING_MAX - 1, LSE_PING_MAX };

	if (gen_chance(g, 50))
		return edge[gen_below(g, NELEM(edge))];
	return (uint32_t)gen_below(g, LSE_PING_MAX + 1);
}

/* A type no client may send: server-only, or unknown. */
static uint8_t gen_bad_type(gen *g)
{
	static const uint8_t server_only[] = { LSE_T_WELCOME, LSE_T_PONG, LSE_T_ERROR };
	uint8_t t;

	if (gen_chance(g, 40))
		return server_only[gen_below(g, NELEM(server_only))];
	do
		t = (uint8_t)gen_u64(g);
	while (t == LSE_T_HELLO || t == LSE_T_DATA || t == LSE_T_PING || t == LSE_T_BYE ||
	       t == LSE_T_WELCOME || t == LSE_T_PONG || t == LSE_T_ERROR);
	return t;
}

/* A header the server must refuse, in any state: the model names the code
 * (before HELLO most become NOT_NEGOTIATED, which is the point: the checks'
 * order). Some of its payload follows; the server never reads it. */
static void gen_bad_header(gen *g)
{
	uint8_t h[LSE_HDR_LEN];
	uint32_t len = (uint32_t)gen_log(g, 300);
	uint64_t over = gen_chance(g, 50) ? 1 : 1 + gen_log(g, UINT32_MAX - 1);

	hdr_make(h, LSE_T_DATA, 0);
	switch (gen_below(g, 9)) {
	case 0: h[gen_below(g, 2)] ^= (uint8_t)gen_range(g, 1, 255); break;
	case 1: h[2] = (uint8_t)(LSE_VERSION + gen_range(g, 1, 255)); break;
	case 2: h[3] = gen_bad_type(g); break;
	case 3: h[3] = LSE_T_HELLO; len = gen_chance(g, 70) ? LSE_HELLO_LEN : len; break;
	case 4: len = g->n + over > UINT32_MAX ? UINT32_MAX : (uint32_t)(g->n + over); break;
	case 5:
		h[3] = LSE_T_PING;
		len = LSE_PING_MAX + (uint32_t)(over > UINT32_MAX - LSE_PING_MAX ? 1 : over);
		break;
	case 6: h[3] = LSE_T_BYE; len = 1 + (uint32_t)gen_log(g, 1000); break;
	case 7: h[3] = gen_chance(g, 50) ? LSE_T_DATA : LSE_T_PING; break; /* bad before HELLO */
	default:
		for (size_t i = 0; i < sizeof h; i++)
			h[i] = (uint8_t)gen_u64(g);
		len = get_be32(h + 4);
		break;
	}
	put_be32(h + 4, len);
	if (lse_model_judge(h, g->n != 0, g->n) == 0)
		h[0] ^= 0xFF; /* valid by chance (a HELLO first, a small DATA): spoil it */
	gen_put(g, h, sizeof h);
	gen_random(g, gen_log(g, len < 64 ? len : 64));
}

/* After BYE or an ERROR: bytes the server must never answer. */
static void gen_junk(gen *g)
{
	if (!gen_chance(g, 70))
		return;
	if (gen_chance(g, 50)) {
		gen_random(g, 1 + gen_log(g, 300));
		return;
	}
	for (uint64_t k = gen_range(g, 1, 5); k > 0; k--) {
		if (gen_chance(g, 50))
			gen_frame(g, LSE_T_DATA, (uint32_t)gen_log(g, 200));
		else
			gen_frame(g, LSE_T_PING, gen_ping_len(g));
	}
}

/* The end of a stream the server still reads: a partial header (which must
 * not be judged yet, even as garbage) or a frame short of its payload. */
static void gen_tail(gen *g)
{
	uint8_t h[LSE_HDR_LEN];
	uint32_t len = 1 + (uint32_t)gen_log(g, g->n - 1);
	size_t most;

	if (gen_chance(g, 50)) {
		hdr_make(h, gen_chance(g, 50) ? LSE_T_PING : LSE_T_DATA, len);
		if (gen_chance(g, 20))
			for (size_t i = 0; i < sizeof h; i++)
				h[i] = (uint8_t)gen_u64(g);
		gen_put(g, h, gen_range(g, 1, LSE_HDR_LEN - 1));
		return;
	}
	if (gen_chance(g, 30))
		len = 1 + (uint32_t)gen_below(g, LSE_PING_MAX);
	hdr_make(h, len <= LSE_PING_MAX && gen_chance(g, 50) ? LSE_T_PING : LSE_T_DATA, len);
	gen_put(g, h, sizeof h);
	most = len < gen_left(g) + 1 ? len : gen_left(g) + 1;
	gen_random(g, gen_below(g, most));   /* short of len by at least one */
}

/* How a stream starts: mostly a HELLO; else one of the opening errors, or
 * only part of a HELLO. Returns 1 if frames may follow. */
static int gen_opening(gen *g)
{
	uint64_t r = gen_below(g, 1000);
	uint8_t f[LSE_HDR_LEN + LSE_HELLO_LEN];
	static const uint32_t bad_len[] = { 0, 1, 3, 5, 8, 4096, UINT32_MAX };

	if (r < 880) {
		uint32_t v = gen_hello_value(g);

		g->n = v < SOAK_LIMIT ? v : SOAK_LIMIT;
		gen_hello(g, v);
		return 1;
	}
	if (r < 900) {
		gen_hello(g, 0);
	} else if (r < 920) {
		uint32_t len = bad_len[gen_below(g, NELEM(bad_len))];

		hdr_make(f, LSE_T_HELLO, len);
		gen_put(g, f, LSE_HDR_LEN);
		gen_random(g, len < 16 ? len : 16);
	} else if (r < 980) {
		gen_bad_header(g);
	} else {
		hdr_make(f, LSE_T_HELLO, LSE_HELLO_LEN);
		put_be32(f + LSE_HDR_LEN, gen_hello_value(g));
		gen_put(g, f, gen_below(g, sizeof f));   /* part of a HELLO, and no more */
		return 0;
	}
	gen_junk(g);
	return 0;
}

static uint64_t gen_frame_count(gen *g)
{
	uint64_t r = gen_below(g, 100);

	if (g->slow)
		return gen_range(g, 1000, 4000);
	if (r < 30)
		return gen_below(g, 4);
	if (r < 70)
		return gen_range(g, 4, 20);
	if (r < 90)
		return gen_range(g, 21, 100);
	if (r < 98)
		return gen_range(g, 101, 600);
	return gen_range(g, 601, 3000);
}

enum gen_end { END_NONE, END_BYE, END_BAD };

static void gen_framed(gen *g)
{
	uint64_t r = gen_below(g, 100), k, at;
	enum gen_end end = r < 50 ? END_NONE : r < 70 ? END_BYE : END_BAD;

	if (!gen_opening(g))
		return;
	k = gen_frame_count(g);
	at = g->slow ? k : gen_below(g, k + 1);   /* a slow reader's stream stays long */
	for (uint64_t i = 0; i < k && gen_left(g) > 0; i++) {
		if (end != END_NONE && i == at)
			break;
		if (gen_chance(g, 60))
			gen_frame(g, LSE_T_DATA, gen_data_len(g));
		else
			gen_frame(g, LSE_T_PING, gen_ping_len(g));
	}
	if (end == END_BYE)
		gen_frame(g, LSE_T_BYE, 0);
	else if (end == END_BAD)
		gen_bad_header(g);
	if (end != END_NONE)
		gen_junk(g);
	else if (gen_chance(g, 30))
		gen_tail(g);
}

static void gen_raw(gen *g)
{
	static const uint32_t edge[] = { 0, 1, 65535, 65536, 65537, 131071, 131072, 131073 };
	uint64_t r = gen_below(g, 100);

	if (g->slow)
		gen_random(g, gen_range(g, 262144, 524288));
	else if (r < 10)
		gen_random(g, edge[gen_below(g, NELEM(edge))]);
	else if (r < 60)
		gen_random(g, gen_log(g, 4096));
	else if (r < 95)
		gen_random(g, gen_log(g, 131072));
	else
		gen_random(g, gen_log(g, 1u << 19));
}

static void gen_step(gen *g, soak_steps *s, uint32_t size, uint32_t pause_us)
{
	if (g->oom || grow((void **)&s->v, &s->cap, s->n + 1, sizeof *s->v) != 0) {
		g->oom = 1;
		return;
	}
	s->v[s->n].size = size;
	s->v[s->n].pause_us = pause_us;
	s->n++;
}

/* A pause after a write: none for most plans, rare and short for some,
 * frequent for a few; at most PAUSE_BUDGET_US in all. */
static uint32_t gen_pause(gen *g, unsigned style)
{
	uint32_t us = 0;

	if (style == 1 && gen_chance(g, 10))
		us = 1 + (uint32_t)gen_log(g, 499);
	else if (style == 2 && gen_chance(g, 50))
		us = (uint32_t)gen_range(g, 20, 2000);
	if (us > PAUSE_BUDGET_US - g->paused_us)
		us = PAUSE_BUDGET_US - g->paused_us;
	g->paused_us += us;
	return us;
}

/* How many writes a plan makes at most: a few for most, many for some.
 * Every write is a wakeup and a read in the server; a long stream is cut
 * into bigger pieces rather than into thousands of syscalls. */
static size_t gen_write_count(gen *g)
{
	uint64_t r = gen_below(g, 100);

	if (r < 30)
		return 1;
	if (r < 60)
		return (size_t)gen_range(g, 2, 4);
	if (r < 85)
		return (size_t)gen_range(g, 5, 16);
	if (r < 97)
		return (size_t)gen_range(g, 17, 64);
	return (size_t)gen_range(g, 65, WRITES_MAX);
}

/* Splits from 1 byte to the whole stream. */
static void gen_writes(gen *g)
{
	static const uint64_t small[] = { 2, 8, 16, 64, 140, 300, 4096 };
	soak_plan *p = g->p;
	uint64_t style = gen_below(g, 100), r = gen_below(g, 100);
	uint64_t most = small[gen_below(g, NELEM(small))];
	unsigned pauses = r < 65 ? 0 : r < 90 ? 1 : 2;
	size_t k = gen_write_count(g), left = p->cut, first = 1;
	size_t least = p->cut > k ? (p->cut + k - 1) / k : 1;

	while (left > 0 && !g->oom) {
		uint64_t size;

		if (style < 20)
			size = 1;
		else if (style < 60)
			size = gen_range(g, 1, most);
		else if (style < 80)
			size = first ? gen_range(g, 1, left) : left;
		else
			size = 1 + gen_log(g, left - 1);
		if (size < least)
			size = least;
		if (size > left)
			size = left;
		gen_step(g, &p->wr, (uint32_t)size, gen_pause(g, pauses));
		left -= size;
		first = 0;
	}
}

/* Fast readers, readers of small pieces (the server's output backs up),
 * readers that stop for a while, and mixtures. */
static void gen_reads(gen *g)
{
	static const uint32_t piece[] = { 1, 2, 3, 7, 13, 64, 137, 138, 139, 500 };
	soak_plan *p = g->p;
	uint64_t r = gen_below(g, 100);
	uint32_t least = (uint32_t)(p->len / READS_MAX + 1);

	if (g->slow) {
		/* The server's output fills the socket (about 200 KiB, or a
		 * few hundred small writes), then its session; it stops
		 * reading, and the client's writes block. */
		uint32_t s = p->len / 16 > 4096 ? (uint32_t)(p->len / 16) : 4096;

		gen_step(g, &p->rd, 0, (uint32_t)gen_range(g, 500, 5000));
		gen_step(g, &p->rd, (uint32_t)gen_range(g, s, 65536), 0);
	} else if (r < 60) {
		gen_step(g, &p->rd, 65536, 0);
	} else if (r < 75) {
		uint32_t s = piece[gen_below(g, NELEM(piece))];
		gen_step(g, &p->rd, s < least ? least : s, 0);
	} else if (r < 90) {
		gen_step(g, &p->rd, 0, 100 + (uint32_t)gen_log(g, 20000));
		gen_step(g, &p->rd, 65536, 0);
	} else {
		for (uint64_t k = gen_range(g, 2, 6); k > 0; k--) {
			uint32_t s = (uint32_t)gen_log(g, 4096);
			gen_step(g, &p->rd, s && s < least ? least : s,
				 gen_chance(g, 50) ? (uint32_t)gen_log(g, 2000) : 0);
		}
		gen_step(g, &p->rd, least > 4096 ? least : 4096, 0);
	}
}

int soak_plan_make(soak_plan *p, uint64_t seed, int raw)
{
	gen g = { .rng = seed, .p = p };
	uint64_t r;

	p->seed = seed;
	p->raw = raw;
	p->len = p->wr.n = p->rd.n = 0;
	r = gen_below(&g, 100);
	g.slow = r < 1;
	g.budget = r < 1 ? 524288 : r < 80 ? 2048 : r < 95 ? 16384 : r < 99 ? 131072 : 524288;
	if (raw)
		gen_raw(&g);
	else
		gen_framed(&g);
	r = gen_below(&g, 100);
	p->close = r < 55 ? SOAK_HALF : r < 80 ? SOAK_OPEN : SOAK_ABRUPT;
	p->cut = p->close == SOAK_ABRUPT ? gen_range(&g, 0, p->len) : p->len;
	gen_writes(&g);
	gen_reads(&g);
	return g.oom ? -1 : 0;
}

void soak_plan_free(soak_plan *p)
{
	free(p->stream);
	free(p->wr.v);
	free(p->rd.v);
	memset(p, 0, sizeof *p);
}

static const char *const close_names[] = {
	[SOAK_HALF] = "half", [SOAK_OPEN] = "open", [SOAK_ABRUPT] = "abrupt"
};

const char *soak_close_name(enum soak_close c)
{
	return close_names[c];
}

/* ---- the replay file ---- */

static void save_steps(FILE *f, const char *key, const soak_steps *s)
{
	for (size_t i = 0; i < s->n; i++)
		fprintf(f, "%s %" PRIu32 " %" PRIu32 "\n", key, s->v[i].size, s->v[i].pause_us);
}

int soak_plan_save(const soak_plan *p, const char *path, const char *note)
{
	FILE *f = fopen(path, "w");
	int e;

	if (f == NULL)
		return -1;
	fprintf(f, "# lsecho-soak replay file: one connection. Replay it alone against a\n"
		   "# fresh server: make soak FILE=%s\n", path);
	for (const char *s = note; s && *s;) {
		size_t n = strcspn(s, "\n");
		fprintf(f, "# %.*s\n", (int)n, s);
		s += n + (s[n] == '\n');
	}
	fprintf(f, "lsecho-soak-plan 1\nmode %s\nseed 0x%016" PRIx64 "\nclose %s\nstream %zu\n",
		p->raw ? "raw" : "framed", p->seed, soak_close_name(p->close), p->len);
	for (size_t i = 0; i < p->len; i += HEX_PER_LINE) {
		fputs("x ", f);
		for (size_t k = i; k < p->len && k < i + HEX_PER_LINE; k++)
			fprintf(f, "%02x", p->stream[k]);
		fputc('\n', f);
	}
	fprintf(f, "cut %zu\n", p->cut);
	save_steps(f, "write", &p->wr);
	save_steps(f, "read", &p->rd);
	e = ferror(f) ? EIO : 0;
	if (fclose(f) != 0 && e == 0)
		e = errno;
	errno = e;
	return e ? -1 : 0;
}

typedef struct loader {
	const char *path;
	size_t line;
	char *err;
	size_t errlen;
	size_t want_len;    /* "stream N" */
	unsigned seen;      /* LD_* bits */
} loader;

enum { LD_HEAD = 1, LD_MODE = 2, LD_SEED = 4, LD_CLOSE = 8, LD_STREAM = 16, LD_CUT = 32 };

static int ld_fail(loader *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int ld_fail(loader *l, const char *fmt, ...)
{
	va_list ap;
	int n = l->line ? snprintf(l->err, l->errlen, "%s:%zu: ", l->path, l->line)
			: snprintf(l->err, l->errlen, "%s: ", l->path);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < l->errlen)
		vsnprintf(l->err + n, l->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* A whole decimal (or 0x hex) number in [0, max]; *s moves past it. */
static int ld_num(const char **s, uint64_t max, uint64_t *out)
{
	const char *p = *s;
	char *end;
	unsigned long long v;

	while (*p == ' ')
		p++;
	if (*p < '0' || *p > '9')
		return -1;
	errno = 0;
	v = strtoull(p, &end, p[0] == '0' && (p[1] == 'x' || p[1] == 'X') ? 16 : 10);
	if (errno != 0 || v > max || (*end != '\0' && *end != ' '))
		return -1;
	*s = end;
	*out = v;
	return 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int ld_hex(loader *l, soak_plan *p, const char *s)
{
	size_t n = strlen(s);

	if (n % 2 != 0 || p->len + n / 2 > l->want_len)
		return ld_fail(l, "hex bytes: an odd count, or more than 'stream %zu' said",
			       l->want_len);
	for (size_t i = 0; i < n; i += 2) {
		int hi = hex_digit(s[i]), lo = hex_digit(s[i + 1]);

		if (hi < 0 || lo < 0)
			return ld_fail(l, "'%c%c' is not a hex byte", s[i], s[i + 1]);
		p->stream[p->len++] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static int ld_step(loader *l, soak_steps *s, const char *key, const char *v)
{
	uint64_t size, pause;
	uint64_t max = key[0] == 'w' ? UINT32_MAX : SOAK_READ_MAX;

	if (ld_num(&v, max, &size) != 0 || ld_num(&v, SOAK_PAUSE_MAX_US, &pause) != 0 || *v)
		return ld_fail(l, "want '%s SIZE PAUSE_US' (size up to %" PRIu64 ", pause up to %u)",
			       key, max, SOAK_PAUSE_MAX_US);
	if (key[0] == 'w' && size == 0)
		return ld_fail(l, "a write of 0 bytes");
	if (s->n >= STEPS_MAX || grow((void **)&s->v, &s->cap, s->n + 1, sizeof *s->v) != 0)
		return ld_fail(l, "too many %s steps", key);
	s->v[s->n].size = (uint32_t)size;
	s->v[s->n].pause_us = (uint32_t)pause;
	s->n++;
	return 0;
}

static int ld_once(loader *l, unsigned bit, const char *key)
{
	if (l->seen & bit)
		return ld_fail(l, "'%s' given twice", key);
	l->seen |= bit;
	return 0;
}

static int ld_word(loader *l, const char *v, const char *a, const char *b, const char *c)
{
	if (!strcmp(v, a))
		return 0;
	if (!strcmp(v, b))
		return 1;
	if (c && !strcmp(v, c))
		return 2;
	return ld_fail(l, "'%s': want %s, %s%s%s", v, a, b, c ? " or " : "", c ? c : "");
}

/* One line "key value". */
static int ld_line(loader *l, soak_plan *p, char *key)
{
	char *v = strchr(key, ' ');
	const char *cv;
	uint64_t n;
	int k;

	if (!(l->seen & LD_HEAD)) {
		if (strcmp(key, "lsecho-soak-plan 1") != 0)
			return ld_fail(l, "not a soak replay file (want 'lsecho-soak-plan 1' first)");
		l->seen |= LD_HEAD;
		return 0;
	}
	if (v == NULL)
		return ld_fail(l, "want 'key value', got '%.40s'", key);
	*v++ = '\0';
	cv = v;
	if (!strcmp(key, "x"))
		return (l->seen & LD_STREAM) ? ld_hex(l, p, v) : ld_fail(l, "'x' before 'stream'");
	if (!strcmp(key, "write"))
		return ld_step(l, &p->wr, key, v);
	if (!strcmp(key, "read"))
		return ld_step(l, &p->rd, key, v);
	if (!strcmp(key, "mode")) {
		if (ld_once(l, LD_MODE, key) || (k = ld_word(l, v, "framed", "raw", NULL)) < 0)
			return -1;
		p->raw = k;
		return 0;
	}
	if (!strcmp(key, "close")) {
		if (ld_once(l, LD_CLOSE, key) || (k = ld_word(l, v, "half", "open", "abrupt")) < 0)
			return -1;
		p->close = (enum soak_close)k;
		return 0;
	}
	if (!strcmp(key, "seed")) {
		if (ld_once(l, LD_SEED, key))
			return -1;
		if (ld_num(&cv, UINT64_MAX, &p->seed) != 0 || *cv)
			return ld_fail(l, "seed: want a number");
		return 0;
	}
	if (!strcmp(key, "stream") || !strcmp(key, "cut")) {
		int is_stream = key[0] == 's';

		if (ld_once(l, is_stream ? LD_STREAM : LD_CUT, key))
			return -1;
		if (ld_num(&cv, STREAM_MAX, &n) != 0 || *cv)
			return ld_fail(l, "%s: want a byte count up to %u", key, STREAM_MAX);
		if (!is_stream) {
			p->cut = (size_t)n;
			return 0;
		}
		l->want_len = (size_t)n;
		if (grow((void **)&p->stream, &p->cap, n ? (size_t)n : 1, 1) != 0)
			return ld_fail(l, "out of memory");
		return 0;
	}
	return ld_fail(l, "unknown key '%s'", key);
}

/* What a whole file must agree on. */
static int ld_check(loader *l, const soak_plan *p)
{
	uint64_t sum = 0;
	int reads = 0;

	l->line = 0;
	if ((l->seen & (LD_HEAD | LD_MODE | LD_CLOSE | LD_STREAM | LD_CUT)) !=
	    (LD_HEAD | LD_MODE | LD_CLOSE | LD_STREAM | LD_CUT))
		return ld_fail(l, "incomplete: it needs the first line, mode, close, stream, cut");
	if (p->len != l->want_len)
		return ld_fail(l, "'stream %zu', but the x lines hold %zu bytes", l->want_len, p->len);
	if (p->cut > p->len || (p->close != SOAK_ABRUPT && p->cut != p->len))
		return ld_fail(l, "cut %zu: want the stream's length (%zu)%s", p->cut, p->len,
			       p->close == SOAK_ABRUPT ? " or less" : "");
	for (size_t i = 0; i < p->wr.n; i++)
		sum += p->wr.v[i].size;
	if (sum != p->cut)
		return ld_fail(l, "the write sizes add up to %" PRIu64 ", not cut %zu", sum, p->cut);
	for (size_t i = 0; i < p->rd.n; i++)
		reads |= p->rd.v[i].size > 0;
	if (!reads)
		return ld_fail(l, "no 'read' step reads a byte");
	return 0;
}

int soak_plan_load(soak_plan *p, const char *path, char *err, size_t errlen)
{
	loader l = { .path = path, .err = err, .errlen = errlen };
	FILE *f = fopen(path, "r");
	struct stat st;
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;

	err[0] = '\0';
	if (f == NULL)
		return ld_fail(&l, "%s", strerror(errno));
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		fclose(f);
		return ld_fail(&l, "not a regular file");
	}
	p->len = p->wr.n = p->rd.n = 0;
	p->seed = 0;
	while (rc == 0 && (n = getline(&buf, &cap, f)) >= 0) {
		l.line++;
		while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
			buf[--n] = '\0';
		if (n > 0 && buf[0] != '#')
			rc = ld_line(&l, p, buf);
	}
	if (rc == 0 && ferror(f))
		rc = ld_fail(&l, "read error");
	if (rc == 0 && l.line == 0)
		rc = ld_fail(&l, "empty file");
	free(buf);
	fclose(f);
	return rc == 0 ? ld_check(&l, p) : -1;
}

static void describe_steps(FILE *out, const char *what, const soak_steps *s, size_t max)
{
	fprintf(out, "%zu %s:", s->n, what);
	for (size_t i = 0; i < s->n && i < max; i++) {
		fprintf(out, " %" PRIu32, s->v[i].size);
		if (s->v[i].pause_us)
			fprintf(out, "+%" PRIu32 "us", s->v[i].pause_us);
	}
	if (s->n > max)
		fprintf(out, " ... (%zu more)", s->n - max);
}

void soak_plan_describe(const soak_plan *p, FILE *out, size_t max_steps)
{
	fprintf(out, "close %s after %zu of %zu bytes; ", soak_close_name(p->close), p->cut, p->len);
	describe_steps(out, "writes", &p->wr, max_steps);
	fputs("; ", out);
	describe_steps(out, "reads (cycled)", &p->rd, max_steps);
	fputc('\n', out);
}
