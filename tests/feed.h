/* Test helpers shared by the unit tests: a check counter, a byte builder
 * for frames, and a driver that runs a session under a chosen schedule
 * (whole, byte by byte, random splits; drain limits; a stalled reader),
 * in the manner of picohttpparser's feeders. */
#ifndef LSE_FEED_H
#define LSE_FEED_H

#include <stddef.h>
#include <stdint.h>

#include "lse_sess.h"

/* ---- checks ---- */
extern int lse_t_pass, lse_t_fail;
#define CHECK(cond) lse_t_check(!!(cond), #cond, __FILE__, __LINE__)
#define CHECK_EQ(a, b) lse_t_check_eq((long long)(a), (long long)(b), #a, #b, __FILE__, __LINE__)
int lse_t_check(int ok, const char *what, const char *file, int line);
int lse_t_check_eq(long long a, long long b, const char *as, const char *bs,
		   const char *file, int line);
/* Prints "N passed, M failed" and returns the exit status. */
int lse_t_report(void);

/* Descriptors this process has open (from /proc/self/fd); -1 if unknown. */
int lse_t_count_fds(void);

/* Runs f(arg) with stderr going into buf (NUL-terminated, at most size - 1
 * bytes kept); returns the length. A check that fails inside f prints into
 * buf too. */
size_t lse_t_capture_stderr(void (*f)(void *), void *arg, char *buf, size_t size);

/* Writes text to a new or emptied file at path; aborts on failure. */
void lse_t_file_put(const char *path, const char *text);

/* Whether the file at path holds text (its first line, up to 63 bytes). */
int lse_t_file_is(const char *path, const char *text);

/* ---- byte builder (aborts on allocation failure: test code only) ---- */
typedef struct lse_bytes {
	uint8_t *p;
	size_t len, cap;
} lse_bytes;

void lse_bytes_put(lse_bytes *b, const void *p, size_t n);
void lse_bytes_byte(lse_bytes *b, uint8_t v, size_t count);
void lse_bytes_frame(lse_bytes *b, uint8_t type, uint32_t len, const void *payload);
void lse_bytes_hello(lse_bytes *b, uint32_t want);
/* A DATA frame whose payload is `len` bytes of a counting pattern from seed. */
void lse_bytes_data(lse_bytes *b, uint32_t len, uint8_t seed);
void lse_bytes_free(lse_bytes *b);

/* ---- schedules ---- */
typedef enum lse_split {
	LSE_SPLIT_AT_ONCE,  /* everything offered in one call */
	LSE_SPLIT_PER_BYTE, /* one byte per call */
	LSE_SPLIT_RANDOM    /* random chunk sizes from seed */
} lse_split;

typedef struct lse_feed {
	lse_split split;
	uint64_t seed;
	size_t drain_max;  /* most bytes the peer takes per step; 0 = no limit */
	int stall;         /* the peer reads only when the session can take no input */
	int eof;           /* half-close once all input is offered */
} lse_feed;

typedef struct lse_run {
	lse_bytes out;      /* everything the session sent */
	size_t consumed;    /* input bytes consumed */
	int closed;         /* lse_sess_want() == LSE_CLOSED at the end */
	int err;            /* lse_sess_error() at the end */
	size_t max_buffered;
	int bound_ok;       /* buffered <= bound held after every call */
	int room_ok;        /* recv consumed all of every offer <= recv_room */
	int count_ok;       /* recv's return agreed with lse_sess_consumed() */
	int stall_free;     /* never neither-read-nor-write while not closed */
} lse_run;

/* Runs `in` through `s` until it is closed or quiescent. */
void lse_run_sess(lse_sess *s, const uint8_t *in, size_t len,
		  const lse_feed *f, lse_run *r);
void lse_run_free(lse_run *r);

/* The schedules every stream is run under: at once, per byte, random
 * splits, each with unlimited, 1-byte, random and stalled drains. */
size_t lse_feed_table(lse_feed *out, size_t max, int eof);

uint64_t lse_rng(uint64_t *state);

#endif
