/* lse_conn's read path as a release build has it (NDEBUG), against a fake
 * session that can break lse_sess_recv_room()'s promise: the connection is
 * closed with lse_conn.fault set, never left running with bytes dropped.
 * A session that stops reading (BYE, ERROR) may take fewer bytes: that is
 * no fault. This file stands in for the core's lse_sess, so it links
 * src/lse_conn.c alone. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lse_conn.h"
#include "lse_loop.h"

/* feed.h's checks need the real session (its feeder drives one). */
static int failed;
#define CHECK(cond) ((cond) ? 1 : (fprintf(stderr, "%s:%d: %s failed\n", __FILE__, __LINE__, #cond), failed++, 0))

struct lse_sess {
	size_t room;      /* what recv_room promises */
	size_t takes;     /* what recv takes of any offer, at most */
	int reading;      /* what lse_sess_reading says after recv */
	size_t offered;   /* the last offer's length */
};

static lse_sess fake;

static void *std_alloc(void *ud, size_t n) { (void)ud; return malloc(n); }
static void std_free(void *ud, void *p, size_t n) { (void)ud; (void)n; free(p); }

const lse_mem *lse_mem_default(void)
{
	static const lse_mem m = { std_alloc, std_free, NULL };

	return &m;
}

size_t lse_sess_footprint(const lse_sess_config *cfg) { return cfg != NULL; }

int lse_sess_new(lse_sess **out, const lse_sess_config *cfg, const lse_mem *mem)
{
	(void)cfg;
	(void)mem;
	*out = &fake;
	return LSE_OK;
}

void lse_sess_free(lse_sess *s) { (void)s; }
size_t lse_sess_recv_room(const lse_sess *s) { return s->room; }
int lse_sess_reading(const lse_sess *s) { return s->reading; }
int lse_sess_error(const lse_sess *s) { (void)s; return LSE_OK; }
void lse_sess_eof(lse_sess *s) { (void)s; }
int lse_sess_recv_ack(lse_sess *s, size_t n) { (void)s; (void)n; return LSE_E_INVAL; }
int lse_sess_send_ack(lse_sess *s, size_t n) { (void)s; return n == 0 ? LSE_OK : LSE_E_INVAL; }

uint8_t *lse_sess_recv_buf(lse_sess *s, size_t *len)
{
	(void)s;
	*len = 0;
	return NULL;   /* framed: bytes go through lse_sess_recv */
}

ptrdiff_t lse_sess_recv(lse_sess *s, const uint8_t *in, size_t len)
{
	(void)in;
	s->offered = len;
	return (ptrdiff_t)(len < s->takes ? len : s->takes);
}

const uint8_t *lse_sess_send_buf(lse_sess *s, size_t *len)
{
	static const uint8_t none[1];

	(void)s;
	*len = 0;
	return none;
}

unsigned lse_sess_want(const lse_sess *s)
{
	return s->reading && s->room > 0 ? LSE_WANT_READ : LSE_CLOSED;
}

/* A socket that always has 100 bytes to read. */
static ptrdiff_t full_read(void *ctx, int fd, uint8_t *buf, size_t len)
{
	(void)ctx;
	(void)fd;
	len = len < 100 ? len : 100;
	memset(buf, 'x', len);
	return (ptrdiff_t)len;
}

static ptrdiff_t no_write(void *ctx, int fd, const uint8_t *buf, size_t len)
{
	(void)ctx;
	(void)fd;
	(void)buf;
	(void)len;
	return LSE_IO_AGAIN;
}

/* One lse_conn_run over a fake session; returns its result and the fault. */
static unsigned run(size_t room, size_t takes, int reading, const char **fault)
{
	static uint8_t scratch[4096];
	lse_sess_config cfg = { LSE_MODE_FRAMED, 0, 0 };
	lse_io io = { full_read, no_write, NULL };
	lse_conntab t;
	lse_conn *c;
	unsigned r;

	fake = (lse_sess){ room, takes, reading, 0 };
	if (lse_conntab_init(&t, &cfg, NULL) != LSE_OK || lse_conntab_add(&t, 3, &c) != LSE_OK)
		abort();
	r = lse_conn_run(c, &io, LSE_WANT_READ, scratch, sizeof scratch);
	*fault = c->fault;
	lse_conntab_free(&t);
	return r;
}

/* The same broken session behind the shell's loop: the connection is
 * closed and the log says why, once. */
static void loop_logs_fault(void)
{
	lse_loop_opts o = { { LSE_MODE_FRAMED, 0, 0 }, NULL, NULL, NULL, -1, -1, 0, NULL };
	static lse_loop l;
	char buf[512] = "";
	int sv[2], pfd[2], saved = dup(2);
	ssize_t n;

	fake = (lse_sess){ 10, 7, 1, 0 };
	if (lse_loop_init(&l, &o) != 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0 ||
	    lse_loop_add(&l, sv[1]) != 0 || pipe(pfd) != 0)
		abort();
	CHECK(write(sv[0], "0123456789", 10) == 10);
	dup2(pfd[1], 2);
	while (lse_loop_run_once(&l, 0) > 0)
		;
	dup2(saved, 2);
	close(saved);
	close(pfd[1]);
	n = read(pfd[0], buf, sizeof buf - 1);
	close(pfd[0]);
	CHECK(lse_loop_count(&l) == 0);
	CHECK(n > 0 && strstr(buf, "lsecho-server: closing fd ") == buf &&
	      strstr(buf, "promised room\n") != NULL && strchr(buf, '\n')[1] == '\0');
	lse_loop_fini(&l);
	close(sv[0]);
}

int main(void)
{
	const char *fault;

	loop_logs_fault();
	/* The promise kept: every byte of the room taken, no fault. */
	CHECK(run(10, 10, 1, &fault) == LSE_WANT_READ);
	CHECK(fake.offered == 10);
	CHECK(fault == NULL);
	/* Broken: 7 of a 10-byte room taken while still reading. */
	CHECK(run(10, 7, 1, &fault) == LSE_CLOSED);
	CHECK(fault != NULL && strstr(fault, "promised room") != NULL);
	/* Stopped reading part way (BYE, ERROR): the rest is to be dropped. */
	CHECK(run(10, 7, 0, &fault) == LSE_CLOSED);
	CHECK(fault == NULL);
	/* Broken at the edge: nothing of the room taken while still reading. */
	CHECK(run(10, 0, 1, &fault) == LSE_CLOSED);
	CHECK(fault != NULL && strstr(fault, "promised room") != NULL);
	printf("test_conn_fault: %s\n", failed ? "FAILED" : "a broken room closes the connection with a fault; a stop does not");
	return failed != 0;
}
