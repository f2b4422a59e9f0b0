/* test_model: checks the reference model (tests/model.c) against byte
 * strings written by hand from docs/protocol.md.
 *
 * Every expected output below is a literal, never something the model
 * computed, because the model is itself the oracle for everything else: if it
 * drifts from the spec, nothing downstream would notice. */
#include "model.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Frames as the spec draws them: "LE", version 01, type, u32 BE length,
 * payload. Adjacent literals keep a hex escape from eating the next char. */
#define HELLO16 "LE\x01\x01" "\x00\x00\x00\x04" "\x00\x00\x00\x10"
#define WELCOME16 "LE\x01\x02" "\x00\x00\x00\x04" "\x00\x00\x00\x10"
#define BYE "LE\x01\x06" "\x00\x00\x00\x00"

/* The ERROR frames, length = 2 + strlen(reason), then u16 BE code. */
#define ERR1 "LE\x01\x7F" "\x00\x00\x00\x0B" "\x00\x01" "bad magic"
#define ERR2 "LE\x01\x7F" "\x00\x00\x00\x15" "\x00\x02" "unsupported version"
#define ERR3 "LE\x01\x7F" "\x00\x00\x00\x10" "\x00\x03" "bad frame type"
#define ERR4 "LE\x01\x7F" "\x00\x00\x00\x24" "\x00\x04" \
	"payload exceeds negotiated maximum"
#define ERR5 "LE\x01\x7F" "\x00\x00\x00\x11" "\x00\x05" "malformed HELLO"
#define ERR6 "LE\x01\x7F" "\x00\x00\x00\x1B" "\x00\x06" \
	"first frame must be HELLO"
#define ERR7 "LE\x01\x7F" "\x00\x00\x00\x11" "\x00\x07" "duplicate HELLO"
#define ERR8 "LE\x01\x7F" "\x00\x00\x00\x23" "\x00\x08" \
	"bad payload length for frame type"

/* Catch a miscounted hand-written length before it blames the model. */
_Static_assert(sizeof(ERR1) - 1 == 8 + 0x0B, "ERR1 length");
_Static_assert(sizeof(ERR2) - 1 == 8 + 0x15, "ERR2 length");
_Static_assert(sizeof(ERR3) - 1 == 8 + 0x10, "ERR3 length");
_Static_assert(sizeof(ERR4) - 1 == 8 + 0x24, "ERR4 length");
_Static_assert(sizeof(ERR5) - 1 == 8 + 0x11, "ERR5 length");
_Static_assert(sizeof(ERR6) - 1 == 8 + 0x1B, "ERR6 length");
_Static_assert(sizeof(ERR7) - 1 == 8 + 0x11, "ERR7 length");
_Static_assert(sizeof(ERR8) - 1 == 8 + 0x23, "ERR8 length");

#define P16 "0123456789abcdef"
#define P64 P16 P16 P16 P16

#define LIMIT_DEF 65536u

typedef struct tcase {
	const char *name;
	int raw;
	const uint8_t *in;
	size_t in_len;
	int eof;
	uint32_t limit;
	const uint8_t *want;
	size_t want_len;
	size_t consumed;
	int closed;
	int err;
} tcase;

#define LIT(s) (const uint8_t *)(s), sizeof(s) - 1
#define FRAMED(name, in, eof, limit, want, consumed, closed, err) \
	{ name, 0, LIT(in), eof, limit, LIT(want), consumed, closed, err }
#define RAW(name, in, eof, want, consumed, closed) \
	{ name, 1, LIT(in), eof, 0, LIT(want), consumed, closed, 0 }

static const tcase cases[] = {
	/* HELLO negotiation */
	FRAMED("hello below limit",
	       "LE\x01\x01" "\x00\x00\x00\x04" "\x00\x00\x01\x00",
	       0, LIMIT_DEF,
	       "LE\x01\x02" "\x00\x00\x00\x04" "\x00\x00\x01\x00",
	       12, 0, 0),
	FRAMED("hello above limit",
	       "LE\x01\x01" "\x00\x00\x00\x04" "\x00\x10\x00\x00",
	       0, LIMIT_DEF,
	       "LE\x01\x02" "\x00\x00\x00\x04" "\x00\x01\x00\x00",
	       12, 0, 0),
	FRAMED("hello equal to limit",
	       "LE\x01\x01" "\x00\x00\x00\x04" "\x00\x00\x01\x01",
	       0, 257,
	       "LE\x01\x02" "\x00\x00\x00\x04" "\x00\x00\x01\x01",
	       12, 0, 0),
	FRAMED("hello value is big-endian (0x201 > limit 0x102)",
	       "LE\x01\x01" "\x00\x00\x00\x04" "\x00\x00\x02\x01",
	       0, 0x102,
	       "LE\x01\x02" "\x00\x00\x00\x04" "\x00\x00\x01\x02",
	       12, 0, 0),
	FRAMED("hello 0xFFFFFFFF, limit 16 MiB, eof",
	       "LE\x01\x01" "\x00\x00\x00\x04" "\xFF\xFF\xFF\xFF",
	       1, 16777216u,
	       "LE\x01\x02" "\x00\x00\x00\x04" "\x01\x00\x00\x00",
	       12, 1, 0),
	FRAMED("limit 1: DATA of 1 echoed, DATA of 2 refused",
	       "LE\x01\x01" "\x00\x00\x00\x04" "\x00\x00\x03\xE8"
	       "LE\x01\x03" "\x00\x00\x00\x01" "x"
	       "LE\x01\x03" "\x00\x00\x00\x02" "xy",
	       0, 1,
	       "LE\x01\x02" "\x00\x00\x00\x04" "\x00\x00\x00\x01"
	       "LE\x01\x03" "\x00\x00\x00\x01" "x"
	       ERR4,
	       29, 1, 4),

	/* code 1 */
	FRAMED("bad magic byte 0",
	       "XE\x01\x01" "\x00\x00\x00\x04" "\x00\x00\x00\x10",
	       0, LIMIT_DEF, ERR1, 8, 1, 1),
	FRAMED("bad magic byte 1 after HELLO",
	       HELLO16 "LF\x01\x03" "\x00\x00\x00\x00",
	       0, LIMIT_DEF, WELCOME16 ERR1, 20, 1, 1),
	FRAMED("order: bad magic + bad version + bad type -> 1",
	       "\x00\x00\x02\x09" "\x00\x00\x00\x00",
	       0, LIMIT_DEF, ERR1, 8, 1, 1),
	/* code 2 */
	FRAMED("bad version",
	       "LE\x02\x01" "\x00\x00\x00\x04" "\x00\x00\x00\x10",
	       0, LIMIT_DEF, ERR2, 8, 1, 2),
	FRAMED("order: bad version + bad type -> 2",
	       "LE\x00\x7F" "\x00\x00\x00\x00",
	       1, LIMIT_DEF, ERR2, 8, 1, 2),
	/* code 3 */
	FRAMED("order: PONG from client before HELLO -> 3, not 6",
	       "LE\x01\x05" "\x00\x00\x00\x00",
	       0, LIMIT_DEF, ERR3, 8, 1, 3),
	FRAMED("unknown type 0x09 after HELLO",
	       HELLO16 "LE\x01\x09" "\x00\x00\x00\x00",
	       0, LIMIT_DEF, WELCOME16 ERR3, 20, 1, 3),
	FRAMED("WELCOME from client",
	       HELLO16 "LE\x01\x02" "\x00\x00\x00\x04" "\x00\x00\x00\x10",
	       0, LIMIT_DEF, WELCOME16 ERR3, 20, 1, 3),
	FRAMED("ERROR from client",
	       HELLO16 "LE\x01\x7F" "\x00\x00\x00\x02" "\x00\x01",
	       0, LIMIT_DEF, WELCOME16 ERR3, 20, 1, 3),
	FRAMED("type 0x00 before HELLO",
	       "LE\x01\x00" "\x00\x00\x00\x00",
	       0, LIMIT_DEF, ERR3, 8, 1, 3),
	FRAMED("order: PONG with 4 GiB length -> 3",
	       HELLO16 "LE\x01\x05" "\xFF\xFF\xFF\xFF",
	       0, LIMIT_DEF, WELCOME16 ERR3, 20, 1, 3),
	/* code 4 */
	FRAMED("DATA announcing 0xFFFFFFFF, no payload follows",
	       HELLO16 "LE\x01\x03" "\xFF\xFF\xFF\xFF",
	       0, LIMIT_DEF, WELCOME16 ERR4, 20, 1, 4),
	FRAMED("DATA one byte over negotiated 16",
	       HELLO16 "LE\x01\x03" "\x00\x00\x00\x11" P16 "!",
	       1, LIMIT_DEF, WELCOME16 ERR4, 20, 1, 4),
	/* code 5 */
	FRAMED("HELLO value 0",
	       "LE\x01\x01" "\x00\x00\x00\x04" "\x00\x00\x00\x00",
	       0, LIMIT_DEF, ERR5, 12, 1, 5),
	FRAMED("HELLO value 0, later frames unread",
	       "LE\x01\x01" "\x00\x00\x00\x04" "\x00\x00\x00\x00"
	       "LE\x01\x03" "\x00\x00\x00\x01" "x",
	       1, LIMIT_DEF, ERR5, 12, 1, 5),
	FRAMED("HELLO length 3",
	       "LE\x01\x01" "\x00\x00\x00\x03" "abc",
	       0, LIMIT_DEF, ERR5, 8, 1, 5),
	FRAMED("HELLO length 0",
	       "LE\x01\x01" "\x00\x00\x00\x00",
	       0, LIMIT_DEF, ERR5, 8, 1, 5),
	FRAMED("HELLO value 0 with payload incomplete: no verdict yet",
	       "LE\x01\x01" "\x00\x00\x00\x04" "\x00\x00\x00",
	       0, LIMIT_DEF, "", 11, 0, 0),
	/* code 6 */
	FRAMED("DATA before HELLO",
	       "LE\x01\x03" "\x00\x00\x00\x02" "hi",
	       0, LIMIT_DEF, ERR6, 8, 1, 6),
	FRAMED("order: DATA before HELLO with bad length -> 6, not 4",
	       "LE\x01\x03" "\xFF\xFF\xFF\xFF",
	       0, LIMIT_DEF, ERR6, 8, 1, 6),
	FRAMED("order: PING of 65 before HELLO -> 6, not 8",
	       "LE\x01\x04" "\x00\x00\x00\x41",
	       0, LIMIT_DEF, ERR6, 8, 1, 6),
	FRAMED("BYE before HELLO",
	       BYE, 1, LIMIT_DEF, ERR6, 8, 1, 6),
	/* code 7 */
	FRAMED("duplicate HELLO",
	       HELLO16 HELLO16,
	       0, LIMIT_DEF, WELCOME16 ERR7, 20, 1, 7),
	FRAMED("order: duplicate HELLO of length 3 -> 7, not 5",
	       HELLO16 "LE\x01\x01" "\x00\x00\x00\x03" "abc",
	       0, LIMIT_DEF, WELCOME16 ERR7, 20, 1, 7),
	FRAMED("duplicate HELLO with value 0 -> 7",
	       HELLO16 "LE\x01\x01" "\x00\x00\x00\x04" "\x00\x00\x00\x00",
	       0, LIMIT_DEF, WELCOME16 ERR7, 20, 1, 7),
	/* code 8 */
	FRAMED("PING of 65 bytes",
	       HELLO16 "LE\x01\x04" "\x00\x00\x00\x41" P64 "!",
	       0, LIMIT_DEF, WELCOME16 ERR8, 20, 1, 8),
	FRAMED("BYE with payload",
	       HELLO16 "LE\x01\x06" "\x00\x00\x00\x01" "x",
	       0, LIMIT_DEF, WELCOME16 ERR8, 20, 1, 8),
	FRAMED("PING of 64 bytes is fine",
	       HELLO16 "LE\x01\x04" "\x00\x00\x00\x40" P64,
	       0, LIMIT_DEF,
	       WELCOME16 "LE\x01\x05" "\x00\x00\x00\x40" P64,
	       84, 0, 0),

	/* answers already owed survive a later error */
	FRAMED("ERROR after good frames keeps earlier answers",
	       HELLO16
	       "LE\x01\x03" "\x00\x00\x00\x02" "hi"
	       "LE\x01\x04" "\x00\x00\x00\x01" "p"
	       "XE\x01\x03" "\x00\x00\x00\x00",
	       0, LIMIT_DEF,
	       WELCOME16
	       "LE\x01\x03" "\x00\x00\x00\x02" "hi"
	       "LE\x01\x05" "\x00\x00\x00\x01" "p"
	       ERR1,
	       39, 1, 1),

	/* pipelining and BYE */
	FRAMED("pipelined frames in one write",
	       HELLO16
	       "LE\x01\x03" "\x00\x00\x00\x03" "abc"
	       "LE\x01\x04" "\x00\x00\x00\x00"
	       "LE\x01\x03" "\x00\x00\x00\x00"
	       "LE\x01\x04" "\x00\x00\x00\x02" "pq"
	       BYE,
	       0, LIMIT_DEF,
	       WELCOME16
	       "LE\x01\x03" "\x00\x00\x00\x03" "abc"
	       "LE\x01\x05" "\x00\x00\x00\x00"
	       "LE\x01\x03" "\x00\x00\x00\x00"
	       "LE\x01\x05" "\x00\x00\x00\x02" "pq"
	       BYE,
	       57, 1, 0),
	FRAMED("BYE mid-pipeline: later frames get no answer",
	       HELLO16
	       "LE\x01\x03" "\x00\x00\x00\x01" "a"
	       BYE
	       "LE\x01\x03" "\x00\x00\x00\x01" "b"
	       "LE\x01\x04" "\x00\x00\x00\x00",
	       0, LIMIT_DEF,
	       WELCOME16
	       "LE\x01\x03" "\x00\x00\x00\x01" "a"
	       BYE,
	       29, 1, 0),
	FRAMED("garbage after BYE is never judged",
	       HELLO16 BYE "XXXXXXXX",
	       1, LIMIT_DEF, WELCOME16 BYE, 20, 1, 0),
	FRAMED("DATA payload that looks like a frame is echoed, not parsed",
	       HELLO16 "LE\x01\x03" "\x00\x00\x00\x08"
	       "LE\x01\x7F" "\x00\x00\x00\x00",
	       0, LIMIT_DEF,
	       WELCOME16 "LE\x01\x03" "\x00\x00\x00\x08"
	       "LE\x01\x7F" "\x00\x00\x00\x00",
	       28, 0, 0),
	FRAMED("DATA of exactly the negotiated 16",
	       HELLO16 "LE\x01\x03" "\x00\x00\x00\x10" P16,
	       0, LIMIT_DEF,
	       WELCOME16 "LE\x01\x03" "\x00\x00\x00\x10" P16,
	       36, 0, 0),
	FRAMED("empty DATA and empty PING",
	       HELLO16
	       "LE\x01\x03" "\x00\x00\x00\x00"
	       "LE\x01\x04" "\x00\x00\x00\x00",
	       0, LIMIT_DEF,
	       WELCOME16
	       "LE\x01\x03" "\x00\x00\x00\x00"
	       "LE\x01\x05" "\x00\x00\x00\x00",
	       28, 0, 0),

	/* partial trailing frames are dropped; only eof decides `closed` */
	FRAMED("partial payload, no eof: waits",
	       HELLO16 "LE\x01\x03" "\x00\x00\x00\x05" "abc",
	       0, LIMIT_DEF, WELCOME16, 23, 0, 0),
	FRAMED("partial payload, eof: dropped and closed",
	       HELLO16 "LE\x01\x03" "\x00\x00\x00\x05" "abc",
	       1, LIMIT_DEF, WELCOME16, 23, 1, 0),
	FRAMED("partial header, no eof",
	       HELLO16 "LE\x01",
	       0, LIMIT_DEF, WELCOME16, 15, 0, 0),
	FRAMED("partial header, eof",
	       HELLO16 "LE\x01",
	       1, LIMIT_DEF, WELCOME16, 15, 1, 0),
	FRAMED("7 bytes of a bad header are not judged",
	       "XX\x09\x09" "\x00\x00\x00",
	       1, LIMIT_DEF, "", 7, 1, 0),
	FRAMED("partial HELLO payload, eof",
	       "LE\x01\x01" "\x00\x00\x00\x04" "\x00\x10",
	       1, LIMIT_DEF, "", 10, 1, 0),
	FRAMED("empty stream, no eof", "", 0, LIMIT_DEF, "", 0, 0, 0),
	FRAMED("empty stream, eof", "", 1, LIMIT_DEF, "", 0, 1, 0),

	/* raw echo */
	RAW("raw echoes framed-looking bytes verbatim",
	    "XE\x02\x05" "\x00" "hello", 0,
	    "XE\x02\x05" "\x00" "hello", 10, 0),
	RAW("raw with eof closes", "abc", 1, "abc", 3, 1),
	RAW("raw empty, eof", "", 1, "", 0, 1),
	RAW("raw empty, no eof", "", 0, "", 0, 0),
};

static int n_pass, n_fail;

static void dump(const char *label, const uint8_t *p, size_t n)
{
	size_t i;

	fprintf(stderr, "    %s (%zu):", label, n);
	for (i = 0; i < n && i < 160; i++)
		fprintf(stderr, " %02x", p[i]);
	fprintf(stderr, "%s\n", n > 160 ? " ..." : "");
}

static void report(const char *what, const char *name, int ok)
{
	if (ok) {
		n_pass++;
	} else {
		n_fail++;
		fprintf(stderr, "FAIL (%s): %s\n", what, name);
	}
}

static int out_matches(const lse_model_out *o, const uint8_t *want,
		       size_t want_len, size_t consumed, int closed, int err)
{
	return o->len == want_len &&
	       (want_len == 0 || memcmp(o->buf, want, want_len) == 0) &&
	       o->consumed == consumed && o->closed == closed &&
	       o->err == err;
}

static void check_case(const tcase *c)
{
	lse_model_out o;
	int rc, ok;

	if (c->raw)
		rc = lse_model_raw(c->in, c->in_len, c->eof, &o);
	else
		rc = lse_model_framed(c->in, c->in_len, c->eof, c->limit, &o);
	ok = rc == 0 && out_matches(&o, c->want, c->want_len, c->consumed,
				    c->closed, c->err);
	report("bytes", c->name, ok);
	if (!ok) {
		fprintf(stderr, "    rc %d consumed %zu/%zu closed %d/%d "
			"err %d/%d (got/want)\n", rc, o.consumed, c->consumed,
			o.closed, c->closed, o.err, c->err);
		dump("got ", o.buf, o.len);
		dump("want", c->want, c->want_len);
	}
	lse_model_out_free(&o);
}

/* The spec says output is the same for every split, and a prefix of the
 * stream can only owe a prefix of the answers: a cheap cross-check on top
 * of the literals. */
static void check_prefixes(const tcase *c)
{
	lse_model_out full, part;
	size_t k;
	int ok = 1;

	if (c->raw)
		return;
	if (lse_model_framed(c->in, c->in_len, 0, c->limit, &full) != 0) {
		report("prefixes", c->name, 0);
		return;
	}
	for (k = 0; k <= c->in_len && ok; k++) {
		if (lse_model_framed(c->in, k, 0, c->limit, &part) != 0) {
			ok = 0;
			break;
		}
		ok = part.len <= full.len && part.consumed <= k &&
		     (part.len == 0 ||
		      memcmp(part.buf, full.buf, part.len) == 0);
		lse_model_out_free(&part);
	}
	lse_model_out_free(&full);
	report("prefixes", c->name, ok);
}

/* Big and many frames, to exercise the output buffer's growth. The
 * expected bytes are still laid out by hand here, not by the model. */
static void check_growth(void)
{
	static const uint8_t hello[] = "LE\x01\x01" "\x00\x00\x00\x04"
				       "\x00\x01\x00\x00";
	static const uint8_t welcome[] = "LE\x01\x02" "\x00\x00\x00\x04"
					 "\x00\x01\x00\x00";
	static const uint8_t data_hdr[] = "LE\x01\x03" "\x00\x01\x00\x00";
	static const uint8_t ping[] = "LE\x01\x04" "\x00\x00\x00\x00";
	static const uint8_t pong[] = "LE\x01\x05" "\x00\x00\x00\x00";
	enum { N = 65536, PINGS = 5000 };
	size_t in_len = 12 + 8 + N + 8u * PINGS, i, p;
	uint8_t *in = malloc(in_len), *want = malloc(in_len);
	lse_model_out o;
	int ok;

	if (!in || !want) {
		free(in);
		free(want);
		report("growth", "malloc", 0);
		return;
	}
	memcpy(in, hello, 12);
	memcpy(want, welcome, 12);
	memcpy(in + 12, data_hdr, 8);
	memcpy(want + 12, data_hdr, 8);
	for (i = 0; i < N; i++)
		in[20 + i] = want[20 + i] = (uint8_t)(i * 7 + 3);
	for (i = 0, p = 20 + N; i < PINGS; i++, p += 8) {
		memcpy(in + p, ping, 8);
		memcpy(want + p, pong, 8);
	}
	ok = lse_model_framed(in, in_len, 1, LIMIT_DEF, &o) == 0 &&
	     out_matches(&o, want, in_len, in_len, 1, 0);
	report("growth", "64 KiB DATA then 5000 empty PINGs", ok);
	lse_model_out_free(&o);
	free(in);
	free(want);
}

/* The _again entry points, as the fuzz oracles use them: every case, forward
 * then backward (so a long answer's buffer then serves shorter ones, and
 * the other way round), through one reused result, must give the literals. */
static void check_again(void)
{
	size_t n = sizeof cases / sizeof cases[0];
	lse_model_out o;
	int ok = 1;

	memset(&o, 0, sizeof o);
	for (size_t k = 0; k < 2 * n && ok; k++) {
		const tcase *c = &cases[k < n ? k : 2 * n - 1 - k];
		int rc = c->raw ? lse_model_raw_again(c->in, c->in_len, c->eof, &o)
				: lse_model_framed_again(c->in, c->in_len, c->eof, c->limit, &o);

		ok = rc == 0 && o.len <= o.cap &&
		     out_matches(&o, c->want, c->want_len, c->consumed, c->closed, c->err);
		if (!ok)
			fprintf(stderr, "    case %s, pass %zu\n", c->name, k);
	}
	lse_model_out_free(&o);
	report("again", "every case through one reused result, both ways", ok);
}

static void check_api_edges(void)
{
	lse_model_out o;
	int ok;

	memset(&o, 0, sizeof o);
	lse_model_out_free(&o);
	lse_model_out_free(&o);
	report("api", "out_free on a zeroed struct, twice", o.buf == NULL &&
	       o.len == 0 && o.consumed == 0 && o.closed == 0 && o.err == 0);

	ok = lse_model_framed(NULL, 0, 1, LIMIT_DEF, &o) == 0 &&
	     o.len == 0 && o.consumed == 0 && o.closed == 1 && o.err == 0;
	lse_model_out_free(&o);
	report("api", "framed: NULL input of length 0", ok);

	ok = lse_model_raw(NULL, 0, 0, &o) == 0 && o.len == 0 &&
	     o.consumed == 0 && o.closed == 0 && o.err == 0;
	lse_model_out_free(&o);
	report("api", "raw: NULL input of length 0", ok);
}

int main(void)
{
	size_t i, n = sizeof cases / sizeof cases[0];

	for (i = 0; i < n; i++)
		check_case(&cases[i]);
	for (i = 0; i < n; i++)
		check_prefixes(&cases[i]);
	check_growth();
	check_again();
	check_api_edges();
	printf("%d passed, %d failed\n", n_pass, n_fail);
	return n_fail != 0;
}
