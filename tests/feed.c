#define _GNU_SOURCE
#include "feed.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lse_t_pass, lse_t_fail;

int lse_t_check(int ok, const char *what, const char *file, int line)
{
	if (ok) {
		lse_t_pass++;
	} else {
		lse_t_fail++;
		fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
	}
	return ok;
}

int lse_t_check_eq(long long a, long long b, const char *as, const char *bs,
		   const char *file, int line)
{
	if (a == b) {
		lse_t_pass++;
		return 1;
	}
	lse_t_fail++;
	fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", file, line,
		as, bs, a, b);
	return 0;
}

int lse_t_report(void)
{
	printf("%d passed, %d failed\n", lse_t_pass, lse_t_fail);
	return lse_t_fail == 0 && lse_t_pass > 0 ? 0 : 1;
}

uint64_t lse_rng(uint64_t *state)
{
	/* splitmix64: deterministic, so a failing schedule replays. */
	uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

void lse_bytes_put(lse_bytes *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		while (cap < b->len + n)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (b->p == NULL)
			abort();
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

void lse_bytes_byte(lse_bytes *b, uint8_t v, size_t count)
{
	while (count--)
		lse_bytes_put(b, &v, 1);
}

void lse_bytes_frame(lse_bytes *b, uint8_t type, uint32_t len, const void *payload)
{
	uint8_t h[LSE_HDR_LEN];

	lse_frame_encode(h, type, len);
	lse_bytes_put(b, h, sizeof h);
	if (payload)
		lse_bytes_put(b, payload, len);
}

void lse_bytes_hello(lse_bytes *b, uint32_t want)
{
	uint8_t v[4];

	lse_put_u32(v, want);
	lse_bytes_frame(b, LSE_T_HELLO, 4, v);
}

void lse_bytes_data(lse_bytes *b, uint32_t len, uint8_t seed)
{
	lse_bytes_frame(b, LSE_T_DATA, len, NULL);
	for (uint32_t i = 0; i < len; i++)
		lse_bytes_byte(b, (uint8_t)(seed + i * 7u), 1);
}

void lse_bytes_free(lse_bytes *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}

static size_t pick(uint64_t *rng, size_t max)
{
	return max <= 1 ? max : 1 + (size_t)(lse_rng(rng) % max);
}

static size_t offer_size(const lse_feed *f, uint64_t *rng, size_t left)
{
	switch (f->split) {
	case LSE_SPLIT_PER_BYTE: return left ? 1 : 0;
	case LSE_SPLIT_RANDOM: return pick(rng, left < 300 ? left : 300);
	default: return left;
	}
}

static int feed_input(lse_sess *s, const uint8_t *in, size_t len,
		      const lse_feed *f, uint64_t *rng, lse_run *r)
{
	size_t n = offer_size(f, rng, len - r->consumed);
	size_t room = lse_sess_recv_room(s);
	ptrdiff_t got;

	if (n == 0 || !(lse_sess_want(s) & LSE_WANT_READ))
		return 0;
	got = lse_sess_recv(s, in + r->consumed, n);
	if (got >= 0 && n <= room && (size_t)got != n && (lse_sess_want(s) & LSE_WANT_READ))
		r->room_ok = 0;
	if (got >= 0 && r->consumed + (size_t)got != lse_sess_consumed(s))
		r->count_ok = 0;
	r->consumed = (size_t)lse_sess_consumed(s);
	return got > 0 || got < 0;
}

static int drain_output(lse_sess *s, const lse_feed *f, uint64_t *rng, lse_run *r)
{
	size_t n;
	const uint8_t *p = lse_sess_send_buf(s, &n);

	if (n == 0)
		return 0;
	if (f->drain_max)
		n = n < f->drain_max ? n : f->drain_max;
	if (f->split == LSE_SPLIT_RANDOM)
		n = pick(rng, n);
	lse_bytes_put(&r->out, p, n);
	return lse_sess_send_ack(s, n) == LSE_OK;
}

void lse_run_sess(lse_sess *s, const uint8_t *in, size_t len,
		  const lse_feed *f, lse_run *r)
{
	uint64_t rng = f->seed;
	int eof_sent = 0;

	memset(r, 0, sizeof *r);
	r->bound_ok = r->room_ok = r->count_ok = r->stall_free = 1;
	for (;;) {
		int progress = feed_input(s, in, len, f, &rng, r);
		unsigned w;

		if (f->eof && !eof_sent && r->consumed == len) {
			lse_sess_eof(s);
			eof_sent = progress = 1;
		}
		if (!f->stall || !progress)
			progress |= drain_output(s, f, &rng, r);
		if (lse_sess_buffered(s) > r->max_buffered)
			r->max_buffered = lse_sess_buffered(s);
		if (lse_sess_buffered(s) > lse_sess_bound(s))
			r->bound_ok = 0;
		w = lse_sess_want(s);
		if (w == 0)
			r->stall_free = 0;
		if (w == LSE_CLOSED || !progress)
			break;
	}
	r->closed = lse_sess_want(s) == LSE_CLOSED;
	r->err = lse_sess_error(s);
}

void lse_run_free(lse_run *r)
{
	lse_bytes_free(&r->out);
}

size_t lse_feed_table(lse_feed *out, size_t max, int eof)
{
	static const lse_split splits[] = { LSE_SPLIT_AT_ONCE, LSE_SPLIT_PER_BYTE,
					    LSE_SPLIT_RANDOM, LSE_SPLIT_RANDOM,
					    LSE_SPLIT_RANDOM };
	static const size_t drains[] = { 0, 1, 13 };
	size_t n = 0;

	for (size_t i = 0; i < sizeof splits / sizeof *splits; i++) {
		for (size_t d = 0; d <= sizeof drains / sizeof *drains; d++) {
			lse_feed f = { splits[i], 0x5EEDull + i * 977u + d, 0, 0, eof };
			if (d < sizeof drains / sizeof *drains)
				f.drain_max = drains[d];
			else
				f.stall = 1;
			if (n < max)
				out[n] = f;
			n++;
		}
	}
	return n;
}

int lse_t_count_fds(void)
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

size_t lse_t_capture_stderr(void (*f)(void *), void *arg, char *buf, size_t size)
{
	int pfd[2], saved = dup(2);
	ssize_t n;
	size_t len = 0;

	buf[0] = '\0';
	if (saved < 0 || pipe2(pfd, O_NONBLOCK) != 0) {
		if (saved >= 0)
			close(saved);
		f(arg);   /* no pipe to spare: run it uncaptured */
		return 0;
	}
	dup2(pfd[1], 2);
	f(arg);
	dup2(saved, 2);
	close(saved);
	close(pfd[1]);
	while (len + 1 < size && (n = read(pfd[0], buf + len, size - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	close(pfd[0]);
	return len;
}

void lse_t_file_put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0)
		abort();
}

int lse_t_file_is(const char *path, const char *text)
{
	FILE *f = fopen(path, "r");
	char buf[64] = "";
	int ok = f && fgets(buf, sizeof buf, f) && strcmp(buf, text) == 0;

	if (f)
		fclose(f);
	return ok;
}
