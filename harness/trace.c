/* The explain mode's formatting (trace.h): frames, session states, the
 * model's answer against the actual one. */
#include "trace.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drive.h"
#include "model.h"

int lse_trace_on;

/* Read before main, so a target needs no initialisation call of its own,
 * under libFuzzer, AFL++ and the standalone runner alike. */
__attribute__((constructor)) static void trace_init(void)
{
	const char *v = getenv("LSE_EXPLAIN");

	lse_trace_on = v != NULL && strcmp(v, "1") == 0;
}

/* Frames shown per stream: an account past this is not read anyway. */
#define SHOWN_MAX 200

static int muted;

void lse_trace_mute(int on)
{
	muted = on;
}

void lse_trace(const char *fmt, ...)
{
	va_list ap;

	if (muted)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fflush(stderr);
}

void lse_trace_flags(uint8_t flags, const char *const names[8])
{
	lse_trace("flags 0x%02x: limit %u", flags, (unsigned)lse_drive_limit(flags));
	for (int b = 3; b < 8; b++)
		if ((flags >> b & 1) && names[b] != NULL)
			lse_trace(", %s", names[b]);
	lse_trace("\n");
}

void lse_trace_settings(uint8_t flags, const char *const names[8], const lse_sess_config *cfg)
{
	lse_trace("settings: ");
	lse_trace_flags(flags, names);
	if (cfg->mode == LSE_MODE_RAW)
		lse_trace("  raw echo, ring of %u bytes%s",
			  (unsigned)(cfg->chunk ? cfg->chunk : LSE_CHUNK_DEFAULT),
			  cfg->chunk ? "" : " (the default)");
	else
		lse_trace("  framed, server limit %u%s",
			  (unsigned)(cfg->max_payload ? cfg->max_payload : LSE_LIMIT_DEFAULT),
			  cfg->max_payload ? "" : " (the default)");
}

static const char *type_name(uint8_t t)
{
	switch (t) {
	case LSE_T_HELLO: return "HELLO";
	case LSE_T_WELCOME: return "WELCOME";
	case LSE_T_DATA: return "DATA";
	case LSE_T_PING: return "PING";
	case LSE_T_PONG: return "PONG";
	case LSE_T_BYE: return "BYE";
	case LSE_T_ERROR: return "ERROR";
	default: return NULL;
	}
}

/* Up to 16 bytes as a quoted string, unprintable ones escaped. */
static void put_text(const uint8_t *p, size_t n, size_t whole)
{
	size_t k = n < 16 ? n : 16;

	lse_trace("\"");
	for (size_t i = 0; i < k; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\')
			lse_trace("%c", p[i]);
		else
			lse_trace("\\x%02x", p[i]);
	}
	lse_trace("%s\"", k < whole ? "..." : "");
}

static void put_hex(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		lse_trace(" %02x", p[i]);
}

/* One frame's header and payload as in `DATA(64, "AAAA...")`; `left`
 * bytes of the stream remain from h (at least a header's worth). */
static void put_frame(const uint8_t *h, size_t left)
{
	const char *name = type_name(h[3]);
	uint32_t len = lse_get_u32(h + 4);
	size_t have = left - LSE_HDR_LEN < len ? left - LSE_HDR_LEN : len;
	const uint8_t *pl = h + LSE_HDR_LEN;

	if (h[0] != LSE_MAGIC0 || h[1] != LSE_MAGIC1) {
		lse_trace("bad magic %02x %02x (header", h[0], h[1]);
		put_hex(h, LSE_HDR_LEN);
		lse_trace(")");
		return;
	}
	if (h[2] != LSE_VERSION) {
		lse_trace("bad version %02x (header", h[2]);
		put_hex(h, LSE_HDR_LEN);
		lse_trace(")");
		return;
	}
	if (name == NULL)
		lse_trace("type 0x%02x(%u)", h[3], (unsigned)len);
	else if ((h[3] == LSE_T_HELLO || h[3] == LSE_T_WELCOME) && len == LSE_HELLO_LEN && have == len)
		lse_trace("%s(%u)", name, (unsigned)lse_get_u32(pl));
	else if (h[3] == LSE_T_ERROR && have >= 2) {
		lse_trace("ERROR(code %u, ", pl[1]);
		put_text(pl + 2, have - 2, len - 2);
		lse_trace(")");
	} else if (len == 0)
		lse_trace("%s(0)", name);
	else {
		lse_trace("%s(%u, ", name, (unsigned)len);
		put_text(pl, have, len);
		lse_trace(")");
	}
	if (have < len)
		lse_trace(", cut: %zu of %u payload bytes", have, (unsigned)len);
}

void lse_trace_header(const uint8_t h[8])
{
	const char *name = type_name(h[3]);

	if (h[0] != LSE_MAGIC0 || h[1] != LSE_MAGIC1 || h[2] != LSE_VERSION) {
		put_frame(h, LSE_HDR_LEN);
		return;
	}
	if (name != NULL)
		lse_trace("%s header, length %u", name, (unsigned)lse_get_u32(h + 4));
	else
		lse_trace("type 0x%02x header, length %u", h[3], (unsigned)lse_get_u32(h + 4));
}

/* Prints the frame at p[pos] with its index and offset, no newline;
 * returns the next frame's offset, or len if the stream ends inside it. */
static size_t walk_one(const uint8_t *p, size_t len, size_t pos, size_t idx)
{
	size_t left = len - pos;
	uint32_t flen;

	lse_trace("  frame %zu @%zu: ", idx, pos);
	if (left < LSE_HDR_LEN) {
		lse_trace("truncated header, %zu of 8 bytes:", left);
		put_hex(p + pos, left);
		return len;
	}
	put_frame(p + pos, left);
	flen = lse_get_u32(p + pos + 4);
	return flen > left - LSE_HDR_LEN ? len : pos + LSE_HDR_LEN + flen;
}

/* The model's verdict on the header at h, or 0; tracks the HELLO. */
static int judge(const uint8_t *h, size_t left, int *hello_done, uint32_t *neg, uint32_t limit)
{
	int code = lse_model_judge(h, *hello_done, *neg);
	uint32_t req;

	if (code != 0 || h[3] != LSE_T_HELLO || left < LSE_HDR_LEN + LSE_HELLO_LEN)
		return code;
	req = lse_get_u32(h + LSE_HDR_LEN);
	if (req == 0)
		return -LSE_E_BAD_HELLO;
	*neg = req < limit ? req : limit;
	*hello_done = 1;
	return 0;
}

static void trace_bytes(const char *who, const uint8_t *p, size_t len)
{
	lse_trace("%s: %zu bytes, raw:", who, len);
	put_hex(p, len < 32 ? len : 32);
	lse_trace("%s\n", len > 32 ? " ..." : "");
}

void lse_trace_stream(const char *who, const uint8_t *p, size_t len, uint32_t limit, int raw)
{
	int hello_done = 0;
	uint32_t neg = 0;
	size_t pos = 0, idx = 0;

	if (raw) {
		trace_bytes(who, p, len);
		return;
	}
	lse_trace("%s: %zu bytes\n", who, len);
	while (pos < len && idx < SHOWN_MAX) {
		int code = len - pos < LSE_HDR_LEN ? 0 : judge(p + pos, len - pos, &hello_done, &neg, limit);

		if (code != 0) {
			/* Refused on its header: its payload is never read. */
			lse_trace("  frame %zu @%zu: ", idx, pos);
			lse_trace_header(p + pos);
			lse_trace(": refused, code %d (%s); the server reads nothing after it (%zu bytes)\n",
				  code, lse_strerror(-code), len - pos - LSE_HDR_LEN);
			return;
		}
		pos = walk_one(p, len, pos, idx++);
		lse_trace("\n");
	}
	if (pos < len)
		lse_trace("  ... %zu more bytes\n", len - pos);
}

void lse_trace_state(const lse_sess *s, const uint8_t *in, int raw)
{
	size_t pos = 0, idx = 0, at = (size_t)lse_sess_consumed(s);
	int err = lse_sess_error(s);

	if (lse_sess_want(s) == LSE_CLOSED) {
		lse_trace("closed%s%s\n", err ? ", error: " : "", err ? lse_strerror(err) : "");
		return;
	}
	if (err != 0)
		lse_trace("state CLOSING (%s)", lse_strerror(err));
	else if (raw)
		lse_trace("state READ_RAW");
	else
		for (;; idx++) {
			size_t left = at - pos;
			uint32_t len;

			if (left < LSE_HDR_LEN) {
				lse_trace("state READ_HEADER of frame %zu, held %zu", idx, left);
				break;
			}
			len = lse_get_u32(in + pos + 4);
			if (len > left - LSE_HDR_LEN) {
				lse_trace("state %s of frame %zu, held %zu of %u",
					  in[pos + 3] == LSE_T_HELLO ? "READ_HELLO" : "READ_PAYLOAD", idx,
					  left - LSE_HDR_LEN, (unsigned)len);
				break;
			}
			pos += LSE_HDR_LEN + len;
		}
	lse_trace("%s, buffered %zu, room %zu\n", lse_sess_reading(s) ? "" : " (not reading)",
		  lse_sess_buffered(s), lse_sess_recv_room(s));
}

/* The frame of out[0, len) that holds offset d: its index and start. */
static size_t frame_at(const uint8_t *out, size_t len, size_t d, size_t *start)
{
	size_t pos = 0, idx = 0;

	while (len - pos >= LSE_HDR_LEN) {
		size_t next = pos + LSE_HDR_LEN + lse_get_u32(out + pos + 4);

		if (next > d || next > len)
			break;
		pos = next;
		idx++;
	}
	*start = pos;
	return idx;
}

static void hex_around(const char *who, const uint8_t *p, size_t len, size_t d)
{
	size_t from = d > 16 ? (d - 16) & ~(size_t)15 : 0;
	size_t to = d + 16 < len ? d + 16 : len;

	lse_trace("  %-6s @%zu:", who, from);
	for (size_t i = from; i < to; i++)
		lse_trace(i == d ? " [%02x]" : " %02x", p[i]);
	lse_trace("%s\n", d >= len ? " [ends]" : "");
}

static void show(const char *who, const char *whose, const uint8_t *p, size_t len, int raw)
{
	char title[96];

	snprintf(title, sizeof title, "%s, %s answer", who, whose);
	if (raw) {
		trace_bytes(title, p, len);
		return;
	}
	lse_trace("%s: %zu bytes\n", title, len);
	for (size_t pos = 0, idx = 0; pos < len; idx++) {
		if (idx == SHOWN_MAX) {
			lse_trace("  ... %zu more bytes\n", len - pos);
			break;
		}
		pos = walk_one(p, len, pos, idx);
		lse_trace("\n");
	}
}

void lse_trace_compare(const char *who, const uint8_t *got, size_t got_len,
		       const uint8_t *want, size_t want_len, int raw, int prefix_ok)
{
	size_t n = got_len < want_len ? got_len : want_len, d = 0, start, idx;

	while (d < n && got[d] == want[d])
		d++;
	if (d == n && got_len == want_len) {
		show(who, "the model's and the actual", got, got_len, raw);
		lse_trace("%s: the answer is the model's\n", who);
		return;
	}
	show(who, "the model's", want, want_len, raw);
	show(who, "the actual", got, got_len, raw);
	if (d == got_len && prefix_ok) {
		lse_trace("%s: the answer is the model's first %zu of %zu bytes (allowed: cut short)\n",
			  who, got_len, want_len);
		return;
	}
	if (raw) {
		lse_trace("%s: first difference: byte %zu\n", who, d);
	} else {
		idx = frame_at(d < want_len ? want : got, d < want_len ? want_len : got_len, d, &start);
		lse_trace("%s: first difference: frame %zu, byte %zu of it (offset %zu)", who, idx,
			  d - start, d);
		if (d == got_len || d == want_len)
			lse_trace(": the %s answer ends there", d == got_len ? "actual" : "model's");
		lse_trace("\n");
	}
	hex_around("model", want, want_len, d);
	hex_around("actual", got, got_len, d);
}
