/* Input splitting for the fuzz targets, after LLVM's FuzzedDataProvider:
 * stream bytes from the front, schedule numbers from the back, so that the
 * two never share a byte. An exhausted provider returns zeros. */
#ifndef LSE_FDP_H
#define LSE_FDP_H

#include <stddef.h>
#include <stdint.h>

typedef struct lse_fdp {
	const uint8_t *p;
	size_t head, tail;   /* head <= tail; [head, tail) is unread */
} lse_fdp;

static inline void lse_fdp_init(lse_fdp *f, const uint8_t *p, size_t n)
{
	f->p = p;
	f->head = 0;
	f->tail = n;
}

static inline size_t lse_fdp_left(const lse_fdp *f)
{
	return f->tail - f->head;
}

static inline uint8_t lse_fdp_u8(lse_fdp *f)
{
	return f->tail > f->head ? f->p[--f->tail] : 0;
}

/* First byte read is the high byte. */
static inline uint16_t lse_fdp_u16(lse_fdp *f)
{
	uint16_t hi = lse_fdp_u8(f);
	return (uint16_t)(hi << 8 | lse_fdp_u8(f));
}

/* Takes up to n bytes from the front; returns how many it took. */
static inline size_t lse_fdp_take(lse_fdp *f, size_t n)
{
	size_t k = lse_fdp_left(f) < n ? lse_fdp_left(f) : n;
	f->head += k;
	return k;
}

#endif
