/* soak_plan: one connection of the soak test (tests/soak.c) as data: the
 * client's byte stream, how it is written (splits and pauses), how the
 * replies are read, and how the connection ends. A plan comes from a 64-bit
 * seed, or from a replay file; either way the soak runs it the same way.
 *
 * A plan holds no protocol logic of the server's: the stream is built from
 * the frame layout in docs/protocol.md and the constants of lse_frame.h,
 * and what the server must answer comes from the model (tests/model.h). */
#ifndef LSE_SOAK_H
#define LSE_SOAK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* How the client ends the connection. */
enum soak_close {
	SOAK_HALF,   /* shutdown(SHUT_WR) right after the last write */
	SOAK_OPEN,   /* wait for every answer owed, then shutdown(SHUT_WR) */
	SOAK_ABRUPT  /* close() after `cut` bytes: the replies so far must be
		      * a prefix of the model's answer to those bytes */
};

typedef struct soak_step {
	uint32_t size;      /* bytes: write 1.., read 0.. (0: only the pause) */
	uint32_t pause_us;  /* then wait this long before the next step */
} soak_step;

typedef struct soak_steps {
	soak_step *v;
	size_t n;           /* n <= cap */
	size_t cap;
} soak_steps;

typedef struct soak_plan {
	uint64_t seed;          /* what the plan was made from (kept by replays) */
	int raw;                /* raw echo; else the framed protocol */
	enum soak_close close;
	uint8_t *stream;        /* the client's bytes */
	size_t len;             /* len <= cap */
	size_t cap;
	size_t cut;             /* bytes written: the sum of wr; len unless ABRUPT */
	soak_steps wr;          /* each once, in order */
	soak_steps rd;          /* in order, from the first again, until EOF */
} soak_plan;

/* The server limit every plan assumes: lsecho-server's default. */
#define SOAK_LIMIT 65536u
/* Largest pause and read size a plan may hold, so every wait is bounded. */
#define SOAK_PAUSE_MAX_US 1000000u
#define SOAK_READ_MAX (1u << 20)

/* Fills p (all zero, or an earlier plan whose buffers are reused) from
 * `seed`. Returns 0, or -1 if out of memory (p keeps what it owns). */
int soak_plan_make(soak_plan *p, uint64_t seed, int raw);

/* Writes p as a replay file (format: soak_plan.c) with `note` (lines of
 * text, may be NULL) as comments at the top. Returns 0, or -1 with errno. */
int soak_plan_save(const soak_plan *p, const char *path, const char *note);

/* Reads a replay file into p (all zero, or an earlier plan). Returns 0, or
 * -1 with a one-line reason ("FILE:LINE: ...") in err. */
int soak_plan_load(soak_plan *p, const char *path, char *err, size_t errlen);

/* One line: the close kind and both schedules, at most `max_steps` steps
 * each, for a mismatch report. */
void soak_plan_describe(const soak_plan *p, FILE *out, size_t max_steps);

void soak_plan_free(soak_plan *p);

const char *soak_close_name(enum soak_close c);

#endif
