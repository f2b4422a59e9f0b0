/* The explain mode of the fuzz targets (make explain, harness/README.md).
 * With LSE_EXPLAIN=1 in the environment, the drivers that run an input also
 * narrate it to stderr: the settings its header bytes chose, each schedule
 * step as it runs and what the session answered, the client streams as
 * frames, and at the end the model's answer beside the actual one with the
 * first difference located. The account comes from the code that runs the
 * input, so it cannot drift from it.
 *
 * Off (the default), a trace point costs one predictable branch on
 * lse_trace_on and formats nothing; in the fuzzing builds it costs nothing
 * at all. Every call goes through LSE_TRACE. */
#ifndef LSE_TRACE_H
#define LSE_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "lse_sess.h"

/* Set once, before the first input, from LSE_EXPLAIN (1: on). */
extern int lse_trace_on;

/* The mode is built into the standalone runner (LSE_EXPLAIN_BUILD, set by
 * harness/CMakeLists.txt), which make explain and make repro use. The
 * fuzzing builds compile every trace point away: the call stays visible to
 * the compiler (no unused helpers) behind a constant 0. */
#ifdef LSE_EXPLAIN_BUILD
#define LSE_TRACE(call) (__builtin_expect(lse_trace_on, 0) ? (void)(call) : (void)0)
#else
#define LSE_TRACE(call) (0 ? (void)(call) : (void)0)
#endif

/* printf to stderr, unbuffered: a step printed before a crash precedes the
 * sanitizer's report. No newline is added. */
void lse_trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* While muted (1), lse_trace prints nothing: a long run of like steps is
 * cut short. */
void lse_trace_mute(int on);

/* The server limit flags bits 0-2 select, and the other flag bits as words
 * (`names`, bit 0 first; NULL entries are not shown). */
void lse_trace_flags(uint8_t flags, const char *const names[8]);

/* An account's first lines: `settings: ` with the flags as lse_trace_flags
 * shows them, then the session's mode as `  raw echo, ring of N bytes` or
 * `  framed, server limit N`, marked `(the default)` where cfg asks for it
 * as 0. No newline: the target adds what it chose besides. */
void lse_trace_settings(uint8_t flags, const char *const names[8], const lse_sess_config *cfg);

/* One 8-byte header alone, as `DATA header, length 64` or `bad magic 12 34`;
 * no newline. */
void lse_trace_header(const uint8_t h[8]);

/* A client's stream as frames, one a line, each judged as the model judges
 * it (`limit`: the server limit); the walk stops at a refused header, since
 * the server reads nothing after it. `raw`: shown as bytes. */
void lse_trace_stream(const char *who, const uint8_t *p, size_t len, uint32_t limit, int raw);

/* Where the session stands: its parse position in the stream it consumed
 * (READ_HEADER with the header bytes held, READ_HELLO, READ_PAYLOAD), its
 * error, what it buffers and its read room. Ends the line. */
void lse_trace_state(const lse_sess *s, const uint8_t *in, int raw);

/* The answer a connection got beside the model's: both as frames, and the
 * first difference by frame index and byte offset, with hex around it.
 * `prefix_ok`: the run allows the actual answer to stop short. */
void lse_trace_compare(const char *who, const uint8_t *got, size_t got_len,
		       const uint8_t *want, size_t want_len, int raw, int prefix_ok);

#endif
