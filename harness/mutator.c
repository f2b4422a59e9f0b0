/* The frame-aware mutator (contract in mutator.h). */
#include "mutator.h"

#include <stdlib.h>
#include <string.h>

#include "lse_frame.h"

#define MAX_OPS 4096

/* An input split the way its target reads it. */
typedef struct parsed {
	uint8_t hdr[4];          /* target header bytes, in read order */
	size_t nhdr;
	uint8_t ops[MAX_OPS];    /* schedule bytes (ops and operands), read order */
	size_t nops;
	const uint8_t *stream;   /* client bytes, from the front */
	size_t nstream;
} parsed;

typedef struct rng {
	uint64_t s;
} rng;

static uint64_t next(rng *r)
{
	uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static size_t below(rng *r, size_t n)
{
	return n ? (size_t)(next(r) % n) : 0;
}

static const uint32_t lengths[] = {
	0, 1, 2, 3, 4, 5, 7, 8, 63, 64, 65, 129, 130, 131, 137, 138, 139,
	255, 256, 4095, 4096, 65535, 65536, 65537, 16777215, 16777216,
	16777217, 0x7FFFFFFFu, 0x80000000u, 0xFFFFFFFEu, 0xFFFFFFFFu
};
#define NLENGTHS (sizeof lengths / sizeof *lengths)

/* ---- the grammars: how a target reads its schedule ---- */

static size_t header_len(lse_mut_grammar g)
{
	switch (g) {
	case LSE_MUT_RAW: return 3;
	case LSE_MUT_ALLOC:
	case LSE_MUT_MULTI: return 2;
	default: return 1;
	}
}

/* For one op byte: operand bytes that follow, stream bytes it takes, and
 * whether it ends the schedule. *conns tracks fuzz_multi's open count. */
static void decode(lse_mut_grammar g, uint8_t op, int *conns, size_t *operands,
		   size_t *take, int *end)
{
	*operands = 0;
	*take = 0;
	*end = 0;
	if (g != LSE_MUT_MULTI && g != LSE_MUT_SOCKET) {
		switch (op & 3) {
		case 0: *take = (size_t)(op >> 2) + 1; break;
		case 1: *take = ((size_t)(op >> 2) + 1) * 256; break;
		case 3: *end = 1; break;
		default: break;
		}
		return;
	}
	switch (op & 7) {
	case 0: *conns += *conns < 64; break;
	case 1: *operands = 1; *take = *conns ? (size_t)(op >> 3) + 1 : 0; break;
	case 2: *operands = 1; *take = *conns ? ((size_t)(op >> 3) + 1) * 128 : 0; break;
	case 6: break;
	case 7: *end = 1; break;
	default: *operands = 1; break;
	}
}

/* Replays the target's reading of data to split it. */
static void parse(lse_mut_grammar g, const uint8_t *data, size_t size, parsed *p)
{
	size_t head = 0, tail = size;
	int conns = 0;

	p->nhdr = header_len(g);
	for (size_t i = 0; i < p->nhdr; i++)
		p->hdr[i] = tail > head ? data[--tail] : 0;
	p->nops = 0;
	while (tail > head && p->nops + 2 <= MAX_OPS) {
		uint8_t op = data[--tail];
		size_t operands, take;
		int end;

		decode(g, op, &conns, &operands, &take, &end);
		p->ops[p->nops++] = op;
		for (size_t i = 0; i < operands; i++)
			p->ops[p->nops++] = tail > head ? data[--tail] : 0;
		head += take < tail - head ? take : tail - head;
		if (end)
			break;
	}
	p->stream = data;
	p->nstream = tail;
}

/* Writes stream + schedule reversed, dropping ops whose takes would run past
 * the stream (they would eat schedule bytes) and ending with END so that
 * the rest is stream. Returns the size, or 0 if it does not fit. */
static size_t serialize(lse_mut_grammar g, const parsed *p, uint8_t *out, size_t max)
{
	uint8_t sched[MAX_OPS + 8];
	size_t n = 0, left = p->nstream;
	int conns = 0, ended = 0;

	for (size_t i = 0; i < p->nhdr; i++)
		sched[n++] = p->hdr[i];
	for (size_t i = 0; i < p->nops && !ended;) {
		size_t operands, take;
		int saved = conns;

		decode(g, p->ops[i], &conns, &operands, &take, &ended);
		if (take > left || i + 1 + operands > p->nops) {
			conns = saved;
			ended = 0;
			i += 1 + operands;
			continue;
		}
		left -= take;
		memcpy(sched + n, p->ops + i, 1 + operands);
		n += 1 + operands;
		i += 1 + operands;
	}
	if (!ended && left > 0)
		sched[n++] = g == LSE_MUT_MULTI || g == LSE_MUT_SOCKET ? 7 : 3;
	if (p->nstream + n > max)
		return 0;
	memmove(out, p->stream, p->nstream);
	for (size_t i = 0; i < n; i++)
		out[p->nstream + i] = sched[n - 1 - i];
	return p->nstream + n;
}

/* ---- stream mutations: frames ---- */

/* Offsets of the frames in s[0, n): a header, then its payload or what is
 * left of it. Returns the count (at most max). */
static size_t frames(const uint8_t *s, size_t n, size_t *at, size_t max)
{
	size_t k = 0, pos = 0;

	while (pos < n && k < max) {
		at[k++] = pos;
		if (n - pos < LSE_HDR_LEN)
			break;
		pos += LSE_HDR_LEN + (lse_get_u32(s + pos + 4) < n - pos - LSE_HDR_LEN
					      ? lse_get_u32(s + pos + 4) : n - pos - LSE_HDR_LEN);
	}
	return k;
}

static size_t frame_end(const uint8_t *s, size_t n, const size_t *at, size_t k, size_t i)
{
	(void)s;
	return i + 1 < k ? at[i + 1] : n;
}

/* A well-formed client frame, into out (room for 8 + 64 bytes). */
static size_t new_frame(rng *r, uint8_t *out)
{
	static const uint8_t types[] = { LSE_T_HELLO, LSE_T_DATA, LSE_T_DATA,
					 LSE_T_PING, LSE_T_BYE };
	uint8_t t = types[below(r, sizeof types)];
	uint32_t len = t == LSE_T_HELLO ? 4 : t == LSE_T_BYE ? 0 : (uint32_t)below(r, 65);

	lse_frame_encode(out, t, len);
	if (t == LSE_T_HELLO)
		lse_put_u32(out + LSE_HDR_LEN, below(r, 2) ? lengths[below(r, NLENGTHS)]
							   : (uint32_t)below(r, 300));
	else
		for (uint32_t i = 0; i < len; i++)
			out[LSE_HDR_LEN + i] = (uint8_t)next(r);
	return LSE_HDR_LEN + len;
}

/* Rewrites the stream into buf (capacity cap). Returns the new length. */
static size_t mutate_stream(rng *r, const uint8_t *s, size_t n, uint8_t *buf,
			    size_t cap, lse_mut_bytes_fn bytes)
{
	size_t at[512], k = frames(s, n, at, 512);
	size_t i = below(r, k), j = below(r, k);
	size_t fi = k ? at[i] : 0, fe = k ? frame_end(s, n, at, k, i) : 0;
	uint8_t f[LSE_HDR_LEN + 64];
	size_t out = 0, flen;

#define PUT(p, len) do { size_t l_ = (len); if (l_ > cap - out) return 0; \
			 memmove(buf + out, (p), l_); out += l_; } while (0)
	switch (k == 0 ? 0 : below(r, 8)) {
	case 0:   /* insert a new frame at a frame boundary */
		flen = new_frame(r, f);
		fi = k ? at[i] : 0;
		PUT(s, fi);
		PUT(f, flen);
		PUT(s + fi, n - fi);
		return out;
	case 1:   /* drop a frame */
		PUT(s, fi);
		PUT(s + fe, n - fe);
		return out;
	case 2:   /* duplicate a frame */
		PUT(s, fe);
		PUT(s + fi, n - fi);
		return out;
	case 3: { /* swap two frames */
		size_t a = i < j ? i : j, b = i < j ? j : i;
		size_t ae = frame_end(s, n, at, k, a), be = frame_end(s, n, at, k, b);
		if (a == b)
			break;
		PUT(s, at[a]);
		PUT(s + at[b], be - at[b]);
		PUT(s + ae, at[b] - ae);
		PUT(s + at[a], ae - at[a]);
		PUT(s + be, n - be);
		return out;
	}
	case 4:   /* the type, or magic and version, of one frame */
		PUT(s, n);
		if (fe - fi >= LSE_HDR_LEN) {
			size_t byte = below(r, 4) ? 3 : below(r, 3);
			buf[fi + byte] = byte == 3 ? (uint8_t)below(r, 9) : (uint8_t)next(r);
			if (byte == 3 && buf[fi + 3] == 8)
				buf[fi + 3] = LSE_T_ERROR;
		}
		return out;
	case 5:   /* the length field alone: inconsistent on purpose */
		PUT(s, n);
		if (fe - fi >= LSE_HDR_LEN)
			lse_put_u32(buf + fi + 4, lengths[below(r, NLENGTHS)]);
		return out;
	case 6: { /* the length and the payload together: consistent */
		uint32_t len = below(r, 2) ? (uint32_t)below(r, 300) : lengths[below(r, 13)];
		if (fe - fi < LSE_HDR_LEN)
			break;
		PUT(s, fi + LSE_HDR_LEN);
		lse_put_u32(buf + fi + 4, len);
		for (uint32_t b = 0; b < len; b++) {
			uint8_t v = fi + LSE_HDR_LEN + b < fe ? s[fi + LSE_HDR_LEN + b] : (uint8_t)next(r);
			PUT(&v, 1);
		}
		PUT(s + fe, n - fe);
		return out;
	}
	default: { /* the payload's bytes, by the engine */
		size_t pl = fe - fi > LSE_HDR_LEN ? fe - fi - LSE_HDR_LEN : 0;
		size_t nl;
		if (pl == 0)
			break;
		PUT(s, n);
		nl = bytes(buf + fi + LSE_HDR_LEN, pl, pl);
		(void)nl;   /* same size: the length field stays right */
		return out;
	}
	}
	PUT(s, n);
	return out;
#undef PUT
}

/* ---- schedule mutations ---- */

static uint8_t random_op(rng *r, lse_mut_grammar g)
{
	if (g == LSE_MUT_MULTI || g == LSE_MUT_SOCKET) {
		static const uint8_t kinds[] = { 0, 1, 1, 1, 2, 3, 3, 4, 5, 6 };
		uint8_t k = kinds[below(r, sizeof kinds)];
		return (uint8_t)(below(r, 32) << 3 | k);
	}
	return (uint8_t)(below(r, 64) << 2 | below(r, 4));
}

static void mutate_schedule(rng *r, lse_mut_grammar g, parsed *p)
{
	size_t at = below(r, p->nops + 1);

	switch (below(r, 5)) {
	case 0:   /* a header byte: flags, chunk, fail_at */
		p->hdr[below(r, p->nhdr)] = (uint8_t)next(r);
		break;
	case 1:   /* drop one schedule byte */
		if (p->nops) {
			at = below(r, p->nops);
			memmove(p->ops + at, p->ops + at + 1, p->nops - at - 1);
			p->nops--;
		}
		break;
	case 2:   /* change one */
		if (p->nops) {
			p->ops[below(r, p->nops)] = random_op(r, g);
			break;
		}
		__attribute__((fallthrough));   /* nothing to change: insert one */
	default:  /* insert an op, with a connection byte for fuzz_multi */
		if (p->nops + 2 <= MAX_OPS) {
			uint8_t op = random_op(r, g);
			size_t w = (g == LSE_MUT_MULTI || g == LSE_MUT_SOCKET) &&
				   (op & 7) >= 1 && (op & 7) <= 5 ? 2 : 1;
			memmove(p->ops + at + w, p->ops + at, p->nops - at);
			p->ops[at] = op;
			if (w == 2)
				p->ops[at + 1] = (uint8_t)below(r, 8);
			p->nops += w;
		}
		break;
	}
}

/* ---- fuzz_frame: 12-byte records ---- */

static size_t mutate_records(rng *r, uint8_t *d, size_t size, size_t max)
{
	size_t n = size / 12, i;

	if (n == 0 || (below(r, 4) == 0 && size + 12 <= max)) {   /* append a record */
		i = size / 12;
		if ((i + 1) * 12 > max)
			return size;
		memmove(d + i * 12 + 12, d + i * 12, size - i * 12);
		lse_frame_encode(d + i * 12, (uint8_t)below(r, 8), lengths[below(r, NLENGTHS)]);
		lse_put_u32(d + i * 12 + 8, below(r, 2) ? 0 : lengths[below(r, NLENGTHS)]);
		return size + 12;
	}
	i = below(r, n) * 12;
	switch (below(r, 4)) {
	case 0: d[i + 3] = (uint8_t)below(r, 2) ? (uint8_t)below(r, 8) : (uint8_t)next(r); break;
	case 1: lse_put_u32(d + i + 4, lengths[below(r, NLENGTHS)]); break;
	case 2: lse_put_u32(d + i + 8, below(r, 3) ? lengths[below(r, NLENGTHS)] : 0); break;
	default: d[i + below(r, 3)] = (uint8_t)next(r); break;
	}
	return size;
}

/* ---- entry points ---- */

size_t lse_mut_mutate(lse_mut_grammar g, uint8_t *data, size_t size,
		      size_t max_size, unsigned seed, lse_mut_bytes_fn bytes)
{
	static parsed p;
	static uint8_t stream[1 << 20];
	rng r = { seed };
	size_t n;

	if (g == LSE_MUT_FRAME)
		return below(&r, 4) ? mutate_records(&r, data, size, max_size)
				    : bytes(data, size, max_size);
	if (g == LSE_MUT_API)
		return bytes(data, size, max_size);
	if (below(&r, 5) == 0 || max_size > sizeof stream)
		return bytes(data, size, max_size);
	parse(g, data, size, &p);
	if (below(&r, 2)) {
		n = mutate_stream(&r, p.stream, p.nstream, stream, max_size, bytes);
		if (n == 0)
			return bytes(data, size, max_size);
		p.stream = stream;
		p.nstream = n;
	} else {
		mutate_schedule(&r, g, &p);
	}
	n = serialize(g, &p, data, max_size);
	return n ? n : bytes(data, size, max_size);
}

size_t lse_mut_crossover(lse_mut_grammar g, const uint8_t *a, size_t na,
			 const uint8_t *b, size_t nb, uint8_t *out,
			 size_t max_out, unsigned seed)
{
	static parsed pa, pb;
	static uint8_t stream[1 << 20];
	size_t ata[512], atb[512], ka, kb, cut_a, cut_b, n = 0;
	rng r = { seed };

	if (g == LSE_MUT_FRAME) {   /* records of a, then records of b */
		size_t ca = below(&r, na / 12 + 1) * 12, cb = below(&r, nb / 12 + 1) * 12;
		if (ca + (nb - cb) / 12 * 12 > max_out)
			return 0;
		memcpy(out, a, ca);
		memcpy(out + ca, b + cb, (nb - cb) / 12 * 12);
		return ca + (nb - cb) / 12 * 12;
	}
	if (max_out > sizeof stream || g == LSE_MUT_API)
		return 0;
	parse(g, a, na, &pa);
	parse(g, b, nb, &pb);
	ka = frames(pa.stream, pa.nstream, ata, 512);
	kb = frames(pb.stream, pb.nstream, atb, 512);
	cut_a = ka ? ata[below(&r, ka)] : pa.nstream;
	cut_b = kb ? atb[below(&r, kb)] : 0;
	if (cut_a + pb.nstream - cut_b > max_out)
		return 0;
	memcpy(stream, pa.stream, cut_a);
	memcpy(stream + cut_a, pb.stream + cut_b, pb.nstream - cut_b);
	n = cut_a + pb.nstream - cut_b;
	if (below(&r, 2)) {
		pa.stream = stream;
		pa.nstream = n;
		return serialize(g, &pa, out, max_out);
	}
	pb.stream = stream;
	pb.nstream = n;
	return serialize(g, &pb, out, max_out);
}
