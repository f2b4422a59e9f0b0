/* lsecho-soak: the soak test. lsecho-server runs as users run it (its
 * default thread count, a private socket directory) while many clients,
 * driven by one epoll loop, each play a random exchange from its own seed;
 * every reply is compared byte for byte with the reference model
 * (tests/model.h). The fuzz targets drive the core one step at a time; this
 * drives the real process, with threads and clients that write whenever
 * they like.
 *
 * Usage:
 *   lsecho-soak --server PATH [--raw] [--conns N] [--seconds S] [--cases N]
 *               [--seed S] [--save-dir DIR]
 *   lsecho-soak --server PATH --replay FILE [--replays N]
 *
 *   --server PATH   the lsecho-server binary; it is started with
 *                   --socket DIR/lsecho.sock (DIR from mkdtemp, mode 0700),
 *                   plus --raw for the raw phase, and nothing else
 *   --raw           raw echo; default: the framed protocol
 *   --conns N       connections at once, 1..4096 (SOAK_CONNS; default 16)
 *   --seconds S     stop starting connections after S seconds (SOAK_SECONDS)
 *   --cases N       ... or after N connections (SOAK_CASES); with both, the
 *                   first reached; with neither, 30 s. A limit given as a
 *                   flag replaces both SOAK_SECONDS and SOAK_CASES.
 *   --seed S        the run's seed, decimal or 0x hex (SOAK_SEED; default
 *                   random, printed): connection k's seed, and so its stream
 *                   and schedule, follow from it and k
 *   --save-dir DIR  where mismatch-SEED.soak files go (default .)
 *   --replay FILE   run one saved connection alone, --replays times
 *                   (SOAK_REPLAYS; default 10), against a fresh server
 *
 * Each connection's plan (tests/soak.h) is its stream, its write splits and
 * pauses, its read pattern and how it ends: a half-close after the last
 * write (the reply must equal the model's exactly, then EOF); waiting for
 * every answer owed before the half-close (the same check, and the server
 * must not close first unless the model does); or an abrupt close part way
 * (what came must be a prefix of the model's answer). The first SAVE_MAX
 * mismatching connections are saved as replay files (format in
 * tests/soak_plan.c), then replayed alone, in order, until one mismatches
 * by itself (if the server died, every connection in flight went short).
 *
 * At the end the server gets SIGTERM: it must exit 0, remove its socket
 * file and log nothing but its start and stop lines (no sanitizer report).
 * Exit status: 0 all agreed, 1 a mismatch or a server fault (replay: the
 * mismatch reproduced), 2 bad usage. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "model.h"
#include "soak.h"
#include "srvtest.h"

#define CONNS_MAX 4096u
#define CONNS_DEFAULT 16u
#define SECONDS_DEFAULT 30.0
#define SECONDS_MAX 604800.0     /* a week */
#define CASES_MAX 1000000000000ull
#define REPLAYS_DEFAULT 10u
#define REPLAYS_MAX 100000u
#define TRIAGE_REPLAYS 3u
#define SAVE_MAX 16              /* replay files per run */
#define REPORT_MAX 3             /* mismatches reported in full */
#define LINES_MAX 20             /* ... and in a line each, up to here; then only counted */
#define LOG_LINES_MAX 10         /* unexpected server log lines shown */
#define CONN_MS 30000            /* one connection, start to verdict, however slow */
#define READY_MS 10000           /* server start-up (ASan is slow to start) */
#define STOP_MS 8000             /* SIGTERM to exit: the server's 2 s drain, plus slack */
#define PROGRESS_MS 5000
#define POLL_SERVER_MS 200       /* how often the loop checks the server still runs */
#define WAIT_MAX_US 100000       /* longest epoll wait: timers are rechecked at least this often */
#define SLACK 4096               /* bytes kept beyond the model's answer, for the report */
#define STEP_BUDGET 64           /* syscalls per connection per turn, for fairness */
#define EVENTS_MAX 256
#define SHOW 64                  /* bytes shown either side of a first difference */

/* ---- command line and environment ---- */

typedef struct soak_opts {
	const char *server;     /* lsecho-server binary */
	int raw;
	uint32_t conns;
	double seconds;         /* 0: no time limit */
	uint64_t cases;         /* 0: no count limit */
	uint64_t seed;
	int seed_set;
	const char *save_dir;
	const char *replay;     /* a replay file, or NULL */
	uint32_t replays;
	int limit_flag;         /* a limit came as a flag: the env's are dropped */
	int replays_flag;       /* --replays was given */
} soak_opts;

static int usage_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_err(const char *fmt, ...)
{
	va_list ap;

	fputs("lsecho-soak: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see --help)\n", stderr);
	return 2;
}

/* A whole number in [lo, hi]; hex with 0x if `hex`. `name` is the flag or
 * variable the value came from, for the message. */
static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* A bad value of a flag or of a variable: the message names which. */
static int bad_value(const char *name, const char *v, const char *want)
{
	fprintf(stderr, "lsecho-soak: %s '%s': want %s%s\n", name, v, want,
		name[0] == '-' ? " (see --help)" : "");
	return 2;
}

static int parse_u64(const char *name, const char *v, uint64_t lo, uint64_t hi, int hex,
		     uint64_t *out)
{
	char want[96];

	int base = hex && v[0] == '0' && (v[1] == 'x' || v[1] == 'X') ? 16 : 10;
	char *end = NULL;
	unsigned long long n = 0;

	errno = 0;
	if (is_digit(v[0]) && (base == 10 || v[2] != '\0'))
		n = strtoull(v, &end, base);
	if (end == NULL || *end != '\0' || errno == ERANGE || n < lo || n > hi) {
		snprintf(want, sizeof want, "a whole number from %" PRIu64 " to %" PRIu64 "%s",
			 lo, hi, hex ? " (0x for hex)" : "");
		return bad_value(name, v, want);
	}
	*out = n;
	return 0;
}

static int parse_seconds(const char *name, const char *v, double *out)
{
	char *end = NULL;
	double s = 0;

	if (is_digit(v[0]) || v[0] == '.')
		s = strtod(v, &end);
	if (end == NULL || end == v || *end != '\0' || !isfinite(s) || s <= 0 || s > SECONDS_MAX)
		return bad_value(name, v, "seconds, more than 0 and at most a week (604800)");
	*out = s;
	return 0;
}

/* One setting, from a flag or a variable. 0, or 2 on a bad value. */
static int apply(soak_opts *o, const char *key, const char *name, const char *v)
{
	uint64_t n;
	int rc = 0;

	if (!strcmp(key, "conns")) {
		rc = parse_u64(name, v, 1, CONNS_MAX, 0, &n);
		o->conns = (uint32_t)n;
	} else if (!strcmp(key, "seconds")) {
		rc = parse_seconds(name, v, &o->seconds);
	} else if (!strcmp(key, "cases")) {
		rc = parse_u64(name, v, 1, CASES_MAX, 0, &o->cases);
	} else if (!strcmp(key, "seed")) {
		rc = parse_u64(name, v, 0, UINT64_MAX, 1, &o->seed);
		o->seed_set = 1;
	} else if (!strcmp(key, "replays")) {
		rc = parse_u64(name, v, 1, REPLAYS_MAX, 0, &n);
		o->replays = (uint32_t)n;
	}
	return rc;
}

static int read_env(soak_opts *o)
{
	static const char *const vars[][2] = {
		{ "SOAK_CONNS", "conns" }, { "SOAK_SECONDS", "seconds" },
		{ "SOAK_CASES", "cases" }, { "SOAK_SEED", "seed" }, { "SOAK_REPLAYS", "replays" },
	};

	for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) {
		const char *v = getenv(vars[i][0]);

		if (v && *v && apply(o, vars[i][1], vars[i][0], v) != 0)
			return 2;
	}
	return 0;
}

static void usage(void)
{
	printf("usage: lsecho-soak --server PATH [--raw] [--conns N] [--seconds S] [--cases N]\n"
	       "                   [--seed S] [--save-dir DIR]\n"
	       "       lsecho-soak --server PATH --replay FILE [--replays N]\n"
	       "Starts PATH (lsecho-server) on a private socket and drives it with N\n"
	       "concurrent random connections (default %u), each reply checked against the\n"
	       "model; stops after S seconds or N connections (default %.0f s).\n"
	       "Environment: SOAK_CONNS, SOAK_SECONDS, SOAK_CASES, SOAK_SEED, SOAK_REPLAYS\n"
	       "(flags win).\n"
	       "Mismatching connections are saved to DIR (default .) as replay files;\n"
	       "--replay runs one alone --replays times (default %u).\n"
	       "Exit status: 0 all agreed, 1 a mismatch or server fault, 2 bad usage.\n",
	       CONNS_DEFAULT, SECONDS_DEFAULT, REPLAYS_DEFAULT);
}

static const char *const value_flags[] = {
	"--server", "--conns", "--seconds", "--cases", "--seed", "--save-dir", "--replay",
	"--replays"
};

/* Returns 0 to run, 1 to exit 0 (--help), 2 on bad usage. */
static int parse_flag(soak_opts *o, const char *flag, const char *v)
{
	if (!strcmp(flag, "--server"))
		o->server = v;
	else if (!strcmp(flag, "--save-dir"))
		o->save_dir = v;
	else if (!strcmp(flag, "--replay"))
		o->replay = v;
	else {
		o->replays_flag |= !strcmp(flag, "--replays");
		if ((!strcmp(flag, "--seconds") || !strcmp(flag, "--cases")) && !o->limit_flag) {
			o->limit_flag = 1;
			o->seconds = 0;
			o->cases = 0;
		}
		return apply(o, flag + 2, flag, v);
	}
	if (*v == '\0')
		return usage_err("%s needs a non-empty value", flag);
	return 0;
}

static int parse_args(soak_opts *o, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *eq = strchr(a, '=');
		char flag[32];
		size_t fl = eq ? (size_t)(eq - a) : strlen(a);
		int takes = 0, rc;

		if (fl >= sizeof flag)
			return usage_err("unknown flag '%s'", a);
		memcpy(flag, a, fl);
		flag[fl] = '\0';
		if (!strcmp(flag, "--help")) {
			usage();
			return 1;
		}
		if (!strcmp(flag, "--raw")) {
			if (eq)
				return usage_err("--raw takes no value");
			o->raw = 1;
			continue;
		}
		for (size_t k = 0; k < sizeof value_flags / sizeof *value_flags; k++)
			takes |= !strcmp(flag, value_flags[k]);
		if (!takes)
			return usage_err(a[0] == '-' ? "unknown flag '%s'" : "unexpected argument '%s'",
					 a);
		if (!eq && i + 1 >= argc)
			return usage_err("%s needs a value", flag);
		rc = parse_flag(o, flag, eq ? eq + 1 : argv[++i]);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* The save directory exists (made if missing) and takes files. */
static int check_save_dir(soak_opts *o)
{
	static char abs[PATH_MAX];
	struct stat st;

	if (mkdir(o->save_dir, 0777) != 0 && errno != EEXIST)
		return usage_err("--save-dir %s: %s", o->save_dir, strerror(errno));
	if (stat(o->save_dir, &st) != 0 || !S_ISDIR(st.st_mode) || access(o->save_dir, W_OK) != 0)
		return usage_err("--save-dir %s: not a writable directory", o->save_dir);
	if (realpath(o->save_dir, abs) != NULL)
		o->save_dir = abs;
	return 0;
}

static int check_opts(soak_opts *o)
{
	if (o->server == NULL)
		return usage_err("--server PATH (the lsecho-server binary) is required");
	if (access(o->server, X_OK) != 0)
		return usage_err("--server %s: %s", o->server, strerror(errno));
	if (o->replay && o->raw)
		return usage_err("--raw: a replay file names its own mode");
	if (o->replay && access(o->replay, R_OK) != 0)
		return usage_err("--replay %s: %s", o->replay, strerror(errno));
	if (o->replays_flag && !o->replay)
		return usage_err("--replays applies to --replay only");
	if (o->replays == 0)
		o->replays = REPLAYS_DEFAULT;
	if (o->seconds == 0 && o->cases == 0)
		o->seconds = SECONDS_DEFAULT;
	if (!o->seed_set && getrandom(&o->seed, sizeof o->seed, 0) != (ssize_t)sizeof o->seed)
		o->seed = (uint64_t)time(NULL) * UINT64_C(0x9E3779B97F4A7C15) ^ (uint64_t)getpid();
	return o->replay ? 0 : check_save_dir(o);
}

/* ---- time ---- */

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* ---- the server ---- */

typedef struct soak_server {
	srvt_proc proc;
	char dir[128];          /* private, from mkdtemp: 0700 */
	char path[192];         /* the socket, in dir */
	int threads;            /* from its start line; 0 if not said */
	long rss_kib, hwm_kib;  /* at the end, before SIGTERM; -1 if gone */
} soak_server;

static long proc_kib(pid_t pid, const char *key)
{
	char file[64], line[256];
	long kib = -1;
	size_t kl = strlen(key);
	FILE *f;

	snprintf(file, sizeof file, "/proc/%d/status", (int)pid);
	f = fopen(file, "r");
	if (f == NULL)
		return -1;
	while (kib < 0 && fgets(line, sizeof line, f))
		if (!strncmp(line, key, kl))
			kib = strtol(line + kl, NULL, 10);
	fclose(f);
	return kib;
}

static void server_rmdir(soak_server *s)
{
	char f[256];

	snprintf(f, sizeof f, "%s/server.out", s->dir);
	unlink(f);
	snprintf(f, sizeof f, "%s/server.err", s->dir);
	unlink(f);
	if (rmdir(s->dir) != 0)
		fprintf(stderr, "lsecho-soak: cannot remove %s: %s\n", s->dir, strerror(errno));
}

/* The thread count from the start line, which may come a moment after the
 * socket accepts; 0 if it does not come within READY_MS. */
static int server_threads(const srvt_proc *p)
{
	for (long end = srvt_now_ms() + READY_MS;; srvt_sleep_ms(5)) {
		char *log = srvt_stderr(p), *t = strstr(log, " threads)");
		int n = 0;

		while (t && t > log && t[-1] >= '0' && t[-1] <= '9')
			t--;
		if (t)
			n = atoi(t);
		free(log);
		if (n > 0 || srvt_now_ms() >= end)
			return n;
	}
}

static int server_start(soak_server *s, const char *bin, int raw)
{
	const char *base = getenv("TMPDIR");
	const char *args[4] = { "--socket", s->path, raw ? "--raw" : NULL, NULL };
	char *log;
	long mode;

	memset(s, 0, sizeof *s);
	if (base == NULL || base[0] != '/' || strlen(base) > 60)
		base = "/tmp";   /* the socket path must fit in sun_path */
	snprintf(s->dir, sizeof s->dir, "%s/lsecho-soak-XXXXXX", base);
	if (mkdtemp(s->dir) == NULL) {
		fprintf(stderr, "lsecho-soak: mkdtemp %s: %s\n", s->dir, strerror(errno));
		return -1;
	}
	snprintf(s->path, sizeof s->path, "%s/lsecho.sock", s->dir);
	if (srvt_spawn(&s->proc, s->dir, "server", bin, args) != 0) {
		fprintf(stderr, "lsecho-soak: cannot start %s: %s\n", bin, strerror(errno));
		server_rmdir(s);
		return -1;
	}
	if (srvt_wait_ready(&s->proc, s->path, READY_MS) != 0) {
		srvt_kill(&s->proc);
		log = srvt_stderr(&s->proc);
		fprintf(stderr, "lsecho-soak: %s did not start; its log:\n%s", bin, log);
		free(log);
		unlink(s->path);
		server_rmdir(s);
		return -1;
	}
	s->threads = server_threads(&s->proc);
	/* The server runs as shipped: its syscall filter installed. */
	if ((mode = srvt_wait_seccomp(s->proc.pid, 2, READY_MS)) != 2) {
		fprintf(stderr, "lsecho-soak: %s runs without its seccomp filter (Seccomp: %ld in "
			"/proc/%d/status, want 2)\n", bin, mode, (int)s->proc.pid);
		srvt_kill(&s->proc);
		unlink(s->path);
		server_rmdir(s);
		return -1;
	}
	return 0;
}

static void status_text(const srvt_proc *p, char *buf, size_t len)
{
	if (p->pid != 0)
		snprintf(buf, len, "still running");
	else if (WIFEXITED(p->status))
		snprintf(buf, len, "exit %d", WEXITSTATUS(p->status));
	else if (WIFSIGNALED(p->status))
		snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(p->status),
			 strsignal(WTERMSIG(p->status)));
	else
		snprintf(buf, len, "status %#x", p->status);
}

/* Prints every log line but the start line and the stop line; returns how
 * many there were and whether a sanitizer spoke. */
static size_t log_extra(const char *log, int *sanitizer)
{
	size_t n = 0;

	*sanitizer = strstr(log, "Sanitizer") != NULL || strstr(log, "runtime error") != NULL;
	for (const char *s = log; *s;) {
		size_t len = strcspn(s, "\n");

		if (strncmp(s, "lsecho-server: listening on ", 28) != 0 &&
		    !(len == 33 && strncmp(s, "lsecho-server: stopped on SIGTERM", 33) == 0)) {
			if (n < LOG_LINES_MAX)
				printf("  server log: %.*s\n", (int)len, s);
			n++;
		}
		s += len + (s[len] == '\n');
	}
	if (n > LOG_LINES_MAX)
		printf("  server log: ... (%zu such lines in all)\n", n);
	return n;
}

/* SIGTERM and the checks on the way out. Returns 1 if the server exited 0,
 * removed its socket file and logged nothing but its start and stop lines. */
static int server_finish(soak_server *s, char *verdict, size_t len)
{
	struct stat st;
	char status[96];
	char *log;
	int gone, san, was_running = s->proc.pid != 0;
	size_t extra;

	s->rss_kib = was_running ? proc_kib(s->proc.pid, "VmRSS:") : -1;
	s->hwm_kib = was_running ? proc_kib(s->proc.pid, "VmHWM:") : -1;
	srvt_stop(&s->proc, STOP_MS);
	status_text(&s->proc, status, sizeof status);
	gone = lstat(s->path, &st) != 0 && errno == ENOENT;
	log = srvt_stderr(&s->proc);
	extra = log_extra(log, &san);
	snprintf(verdict, len, "%s%s, socket file %s, %s", status,
		 was_running ? " after SIGTERM" : " during the run", gone ? "removed" : "LEFT BEHIND",
		 san ? "SANITIZER REPORT in its log" : extra ? "UNEXPECTED LOG LINES" : "log clean");
	free(log);
	if (!gone)
		unlink(s->path);
	server_rmdir(s);
	return was_running && srvt_exit_code(&s->proc) == 0 && gone && !san && extra == 0;
}

/* ---- one connection ---- */

typedef struct soak_conn {
	int fd;                 /* -1: the slot is free */
	uint64_t id;            /* the connection's number in its run */
	soak_plan own;          /* the generated plan (buffers reused) */
	const soak_plan *plan;  /* &own, or the replayed plan */
	lse_model_out want;     /* the model's answer to the bytes written */
	uint8_t *got;           /* received: got_len <= got_cap = want.len + SLACK */
	size_t got_len, got_cap;
	size_t sent;            /* stream bytes written, <= plan->cut */
	size_t wi, w_left;      /* the write step, and its bytes not yet written */
	size_t ri;              /* the read step */
	int64_t w_at, r_at;     /* us: no write, no read before this (a pause) */
	int64_t deadline;
	int can_read, can_write;   /* edge-triggered readiness, cleared by EAGAIN */
	int w_done;             /* every write step and pause done, or writing broke */
	int w_err;              /* errno of the write that broke, else 0 */
	int r_err;              /* errno of a read that ended the input, else 0 */
	int held;               /* a write would have blocked: the server held back */
	int shut;               /* shutdown(SHUT_WR) done */
	int eof, eof_early;     /* input ended; before the client ended its side */
	int overflow, timed_out;
} soak_conn;

typedef struct soak_stats {
	uint64_t conns, mismatches;
	uint64_t by_close[3];
	uint64_t sent, received;
	uint64_t ended[9];      /* the model's answer ends: [0] BYE, [k] ERROR code k */
	uint64_t held;          /* connections whose writes the server held back */
	uint64_t server_closed; /* connections the server closed first */
} soak_stats;

typedef struct soak_run {
	const soak_opts *o;
	const char *label;      /* "framed", "raw", "replay" */
	int raw;
	const soak_plan *fixed; /* a replay: every connection runs this plan */
	soak_server *srv;
	uint64_t cases;         /* 0: no limit */
	int64_t t0, until;      /* us */
	int quiet;              /* no progress lines */
	int brief;              /* mismatches in a line each, never in full */
	int ep;
	soak_conn *c;
	size_t nc, active;
	uint64_t started;
	int64_t connect_at, next_progress, next_poll;
	int server_gone, failed;
	double cpu_s;           /* the client's own CPU time in the loop */
	uint64_t first_bad;     /* the first mismatching connection's number */
	double first_bad_s;     /* ... and when its verdict came */
	soak_stats st;
	char saved[SAVE_MAX][PATH_MAX];
	size_t nsaved;
} soak_run;

static uint64_t conn_seed(uint64_t base, int raw, uint64_t id)
{
	uint64_t z = base ^ (raw ? 0x7261770000000000ull : 0);

	z += (id + 1) * 0x9E3779B97F4A7C15ull;
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* The plan and the model's answer for connection r->started. */
static int conn_prepare(soak_run *r, soak_conn *c)
{
	const soak_plan *p = r->fixed;
	size_t n, need;

	if (p == NULL) {
		if (soak_plan_make(&c->own, conn_seed(r->o->seed, r->raw, r->started), r->raw) != 0)
			return -1;
		p = &c->own;
	}
	c->plan = p;
	n = p->close == SOAK_ABRUPT ? p->cut : p->len;
	if ((p->raw ? lse_model_raw_again(p->stream, n, 0, &c->want)
		    : lse_model_framed_again(p->stream, n, 0, SOAK_LIMIT, &c->want)) != 0)
		return -1;
	need = c->want.len + SLACK;
	if (need > c->got_cap) {
		uint8_t *g = realloc(c->got, need);

		if (g == NULL)
			return -1;
		c->got = g;
		c->got_cap = need;
	}
	return 0;
}

/* Returns the connected socket, -1 with errno. EAGAIN: the backlog is full. */
static int conn_connect(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), e;

	if (fd < 0)
		return -1;
	memcpy(a.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* 1 started, 0 not now (a full backlog), -1 cannot (errno). */
static int conn_start(soak_run *r, soak_conn *c, int64_t now)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET };
	const soak_plan *p;

	if (conn_prepare(r, c) != 0) {
		errno = ENOMEM;
		return -1;
	}
	c->fd = conn_connect(r->srv->path);
	if (c->fd < 0)
		return errno == EAGAIN ? 0 : -1;
	ev.data.ptr = c;
	if (epoll_ctl(r->ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
		int e = errno;
		close(c->fd);
		c->fd = -1;
		errno = e;
		return -1;
	}
	p = c->plan;
	c->id = r->started++;
	c->got_len = c->sent = c->wi = c->ri = 0;
	c->w_left = p->wr.n ? p->wr.v[0].size : 0;
	c->w_at = c->r_at = now;
	c->deadline = now + (int64_t)CONN_MS * 1000;
	c->can_read = c->can_write = c->w_done = c->w_err = c->r_err = c->held = 0;
	c->shut = c->eof = c->eof_early = c->overflow = c->timed_out = 0;
	r->active++;
	return 1;
}

static int conn_write(soak_run *r, soak_conn *c, int64_t now)
{
	const soak_plan *p = c->plan;
	ssize_t n = send(c->fd, p->stream + c->sent, c->w_left, MSG_NOSIGNAL);

	if (n < 0 && errno == EINTR)
		return 1;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		c->can_write = 0;
		c->held = 1;
		return 0;
	}
	if (n < 0) {
		c->w_err = errno;   /* EPIPE, ECONNRESET: the server has closed */
		c->w_done = 1;
		return 1;
	}
	c->sent += (size_t)n;
	c->w_left -= (size_t)n;
	r->st.sent += (uint64_t)n;
	if (c->w_left == 0) {
		c->w_at = now + p->wr.v[c->wi].pause_us;
		if (++c->wi < p->wr.n)
			c->w_left = p->wr.v[c->wi].size;
	}
	return 1;
}

static void conn_next_read(soak_conn *c, int64_t now)
{
	const soak_steps *rd = &c->plan->rd;

	c->r_at = now + rd->v[c->ri].pause_us;
	c->ri = (c->ri + 1) % rd->n;
}

static int conn_read(soak_run *r, soak_conn *c, int64_t now)
{
	uint32_t size = c->plan->rd.v[c->ri].size;
	size_t room = c->got_cap - c->got_len;
	ssize_t n;

	if (size == 0) {
		conn_next_read(c, now);
		return 1;
	}
	if (room == 0) {
		c->overflow = 1;
		return 1;
	}
	n = read(c->fd, c->got + c->got_len, size < room ? size : room);
	if (n > 0) {
		c->got_len += (size_t)n;
		r->st.received += (uint64_t)n;
		conn_next_read(c, now);
		return 1;
	}
	if (n < 0 && errno == EINTR)
		return 1;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		c->can_read = 0;
		return 0;
	}
	/* EOF; ECONNRESET comes only once every byte sent has been read (the
	 * server closed with our input unread), so it ends the input too. */
	c->r_err = n < 0 ? errno : 0;
	c->eof = 1;
	c->eof_early = !c->shut;
	return 1;
}

/* Why c's replies disagree with the model, or NULL; *at: the first
 * differing offset. */
static const char *conn_verdict(const soak_conn *c, size_t *at)
{
	size_t n = c->got_len < c->want.len ? c->got_len : c->want.len, d = 0;

	if (n > 0 && memcmp(c->got, c->want.buf, n) != 0)
		while (c->got[d] == c->want.buf[d])
			d++;
	else
		d = n;
	*at = d;
	if (d < n)
		return "the bytes differ";
	if (c->got_len > c->want.len)
		return "more bytes than the model's answer";
	if ((c->eof_early || c->w_err) && !c->want.closed)
		return "the server closed a connection the model keeps open";
	if (c->timed_out)
		return "no verdict within the deadline (the server stalled)";
	if (c->plan->close != SOAK_ABRUPT && c->got_len < c->want.len)
		return "the reply is short";
	return NULL;
}

/* A replay numbers its attempts; a run, its connections. */
static const char *conn_noun(const soak_run *r)
{
	return r->fixed ? "attempt" : "connection";
}

static void hex_lines(FILE *m, const char *what, const uint8_t *p, size_t from, size_t to,
		      size_t len)
{
	fprintf(m, "  %s [%zu, %zu) of %zu bytes:\n", what, from, to, len);
	for (size_t i = from; i < to; i += 32) {
		fprintf(m, "    %06zx ", i);
		for (size_t k = i; k < to && k < i + 32; k++)
			fprintf(m, "%s%02x", (k - i) % 8 == 0 ? " " : "", p[k]);
		fputc('\n', m);
	}
}

static void model_text(FILE *m, const lse_model_out *w)
{
	fprintf(m, "  model: %zu bytes; the server ", w->len);
	if (w->closed && w->err)
		fprintf(m, "closes after ERROR %d, without waiting for the client\n", w->err);
	else if (w->closed)
		fprintf(m, "closes after BYE, without waiting for the client\n");
	else
		fprintf(m, "closes only when the client does\n");
}

static void report_write(FILE *m, const soak_run *r, const soak_conn *c, const char *why,
			 size_t d)
{
	const soak_plan *p = c->plan;
	size_t lo = d > SHOW ? (d - SHOW) & ~(size_t)31 : 0;

	fprintf(m, "MISMATCH %s %s %" PRIu64 ", seed 0x%016" PRIx64 ": %s\n",
		r->label, conn_noun(r), c->id + (r->fixed != NULL), p->seed, why);
	fputs("  plan: ", m);
	soak_plan_describe(p, m, 24);
	fprintf(m, "  sent %zu of %zu bytes%s%s%s\n", c->sent, p->cut,
		c->w_err ? ", then the write failed: " : "", c->w_err ? strerror(c->w_err) : "",
		c->held ? "; the server held writes back" : "");
	model_text(m, &c->want);
	fprintf(m, "  received %zu bytes, %s%s%s\n", c->got_len,
		!c->eof ? (c->timed_out ? "no EOF before the deadline"
			   : "then the client closed (abrupt)")
		: c->eof_early ? "then EOF before the client ended its side"
			       : "then EOF after the client's half-close",
		c->r_err ? ": " : "", c->r_err ? strerror(c->r_err) : "");
	fprintf(m, "  first difference at offset %zu\n", d);
	hex_lines(m, "expected", c->want.buf, lo, c->want.len < d + SHOW ? c->want.len : d + SHOW,
		  c->want.len);
	hex_lines(m, "received", c->got, lo, c->got_len < d + SHOW ? c->got_len : d + SHOW,
		  c->got_len);
	hex_lines(m, "stream", p->stream, 0, p->len < 2 * SHOW ? p->len : 2 * SHOW, p->len);
}

static void conn_save(soak_run *r, const soak_conn *c, const char *text)
{
	char *path = r->saved[r->nsaved];

	snprintf(path, PATH_MAX, "%s/mismatch-%016" PRIx64 ".soak", r->o->save_dir,
		 c->plan->seed);
	if (soak_plan_save(c->plan, path, text) != 0) {
		printf("  cannot save %s: %s\n", path, strerror(errno));
		return;
	}
	if (r->nsaved == 0)
		printf("  saved %s\n  replay it alone: make soak FILE=%s\n", path, path);
	else
		printf("  saved %s\n", path);
	r->nsaved++;
}

static void conn_mismatch(soak_run *r, const soak_conn *c, const char *why, size_t d)
{
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);

	if (r->st.mismatches++ == 0) {
		r->first_bad = c->id;
		r->first_bad_s = (double)(now_us() - r->t0) / 1e6;
	}
	if (m != NULL) {
		report_write(m, r, c, why, d);
		fclose(m);
	}
	if (r->st.mismatches <= REPORT_MAX && text && !r->brief)
		fputs(text, stdout);
	else if (r->st.mismatches <= LINES_MAX)
		printf("MISMATCH %s %s %" PRIu64 ", seed 0x%016" PRIx64 ": %s "
		       "(received %zu of %zu bytes)\n", r->label, conn_noun(r),
		       c->id + (r->fixed != NULL), c->plan->seed, why, c->got_len, c->want.len);
	else if (r->st.mismatches == LINES_MAX + 1)
		printf("MISMATCH ... (from here on only counted)\n");
	if (r->fixed == NULL && r->nsaved < SAVE_MAX)
		conn_save(r, c, text);
	free(text);
	fflush(stdout);
}

static void conn_finish(soak_run *r, soak_conn *c)
{
	const char *why;
	size_t d;

	close(c->fd);
	c->fd = -1;
	r->active--;
	r->st.conns++;
	r->st.by_close[c->plan->close]++;
	if (c->want.closed)
		r->st.ended[c->want.err >= 1 && c->want.err <= 8 ? c->want.err : 0]++;
	r->st.held += (uint64_t)c->held;
	r->st.server_closed += (uint64_t)(c->eof_early || c->w_err);
	why = conn_verdict(c, &d);
	if (why)
		conn_mismatch(r, c, why, d);
}

/* After the reads and writes of a turn: ends the client's side as the plan
 * says, and finishes the connection at EOF. Returns 1 once it is finished. */
static int conn_advance(soak_run *r, soak_conn *c, int64_t now)
{
	const soak_plan *p = c->plan;

	if (!c->w_done && c->wi == p->wr.n && now >= c->w_at)
		c->w_done = 1;
	if (now >= c->deadline)
		c->timed_out = 1;
	if (c->eof || c->overflow || c->timed_out || (c->w_done && p->close == SOAK_ABRUPT)) {
		conn_finish(r, c);
		return 1;
	}
	if (c->w_done && !c->shut && (p->close == SOAK_HALF || c->got_len >= c->want.len)) {
		shutdown(c->fd, SHUT_WR);   /* fails only if the server is gone: EOF tells */
		c->shut = 1;
	}
	return 0;
}

/* When c next needs a turn without an event: a pause ending, or its
 * deadline. */
static int64_t conn_timer(const soak_conn *c, int64_t now)
{
	int64_t t = c->deadline;

	if (!c->w_done && c->w_at > now && c->w_at < t &&
	    (c->can_write || c->wi == c->plan->wr.n))
		t = c->w_at;
	if (!c->eof && c->can_read && c->r_at > now && c->r_at < t)
		t = c->r_at;
	return t;
}

/* One turn: what the plan allows now. Returns when c next needs a turn
 * without an event (now: at once; INT64_MAX: finished). */
static int64_t conn_step(soak_run *r, soak_conn *c, int64_t now)
{
	for (int budget = STEP_BUDGET; budget > 0; budget--) {
		int moved = 0;

		if (!c->w_done && c->wi < c->plan->wr.n && c->can_write && now >= c->w_at)
			moved |= conn_write(r, c, now);
		if (!c->eof && c->can_read && now >= c->r_at)
			moved |= conn_read(r, c, now);
		if (conn_advance(r, c, now))
			return INT64_MAX;
		if (!moved)
			return conn_timer(c, now);
	}
	return now;
}

/* ---- the run ---- */

static int run_may_start(const soak_run *r, int64_t now)
{
	return !interrupted && !r->server_gone && !r->failed && now < r->until &&
	       (r->cases == 0 || r->started < r->cases);
}

static void run_server_gone(soak_run *r)
{
	char status[96];

	if (r->server_gone)
		return;
	r->server_gone = 1;
	status_text(&r->srv->proc, status, sizeof status);
	printf("lsecho-soak %s: the server is gone (%s) after %" PRIu64 " connections\n",
	       r->label, status, r->started);
	fflush(stdout);
}

/* Fills free slots with new connections. */
static void run_fill(soak_run *r, int64_t now)
{
	for (size_t i = 0; i < r->nc && now >= r->connect_at && run_may_start(r, now); i++) {
		int k;

		if (r->c[i].fd >= 0)
			continue;
		k = conn_start(r, &r->c[i], now);
		if (k == 0) {
			r->connect_at = now + 1000;   /* a full backlog: try again soon */
		} else if (k < 0 && srvt_poll(&r->srv->proc)) {
			run_server_gone(r);
		} else if (k < 0) {
			fprintf(stderr, "lsecho-soak: cannot start a connection to %s: %s\n",
				r->srv->path, strerror(errno));
			r->failed = 1;
		}
	}
}

static int run_epoll(int ep, struct epoll_event *ev, int n, int64_t us)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35))
	/* Pauses are in microseconds; epoll_wait would round them to ms. */
	static int no_pwait2;

	if (!no_pwait2) {
		struct timespec ts = { (time_t)(us / 1000000), (long)(us % 1000000) * 1000 };
		int k = epoll_pwait2(ep, ev, n, &ts, NULL);

		if (k >= 0 || errno != ENOSYS)
			return k;
		no_pwait2 = 1;
	}
#endif
	return epoll_wait(ep, ev, n, (int)((us + 999) / 1000));
}

/* Waits until `next` at most, and marks the sockets that became ready.
 * Every event is applied before any connection runs, so none can refer to
 * a slot that was closed and reused in between. */
static void run_wait(soak_run *r, int64_t next, int64_t now)
{
	struct epoll_event ev[EVENTS_MAX];
	int64_t wait = next - now;
	int n;

	if (wait > WAIT_MAX_US)
		wait = WAIT_MAX_US;
	if (wait < 0)
		wait = 0;
	n = run_epoll(r->ep, ev, EVENTS_MAX, wait);
	for (int i = 0; i < n; i++) {
		soak_conn *c = ev[i].data.ptr;

		if (ev[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
			c->can_read = 1;
		if (ev[i].events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
			c->can_write = 1;
	}
}

static void run_progress(soak_run *r, int64_t now)
{
	double s = (double)(now - r->t0) / 1e6;

	if (r->quiet)
		return;
	printf("lsecho-soak %s: %6.1f s  %10" PRIu64 " connections  %7.0f/s  %" PRIu64
	       " mismatches  %zu in flight\n", r->label, s, r->st.conns,
	       s > 0 ? (double)r->st.conns / s : 0.0, r->st.mismatches, r->active);
	fflush(stdout);
}

static void run_tick(soak_run *r, int64_t now, int64_t *next)
{
	if (now >= r->next_poll) {
		r->next_poll = now + POLL_SERVER_MS * 1000;
		if (srvt_poll(&r->srv->proc))
			run_server_gone(r);
	}
	if (now >= r->next_progress) {
		r->next_progress += PROGRESS_MS * 1000;
		run_progress(r, now);
	}
	if (r->next_poll < *next)
		*next = r->next_poll;
	if (r->next_progress < *next)
		*next = r->next_progress;
	if (run_may_start(r, now) && r->active < r->nc && r->connect_at < *next)
		*next = r->connect_at;
}

static double cpu_seconds(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void run_loop(soak_run *r)
{
	int64_t now = now_us(), next = now;
	double cpu0 = cpu_seconds();

	r->next_progress = now + PROGRESS_MS * 1000;
	r->next_poll = now;
	while (!interrupted) {
		run_fill(r, now);
		if (r->active == 0 && !run_may_start(r, now))
			break;
		run_wait(r, next, now);
		now = now_us();
		next = INT64_MAX;
		for (size_t i = 0; i < r->nc; i++) {
			if (r->c[i].fd >= 0) {
				int64_t t = conn_step(r, &r->c[i], now);
				next = t < next ? t : next;
			}
		}
		run_tick(r, now, &next);
		if (r->until < next && run_may_start(r, now))
			next = r->until;
	}
	for (size_t i = 0; i < r->nc; i++) {
		if (r->c[i].fd >= 0) {
			close(r->c[i].fd);   /* interrupted: no verdict, and no drain to wait for */
			r->c[i].fd = -1;
		}
	}
	r->cpu_s = cpu_seconds() - cpu0;
}

static int run_init(soak_run *r, const soak_opts *o, soak_server *srv, int raw,
		    const soak_plan *fixed, uint32_t conns, uint64_t cases, double seconds)
{
	memset(r, 0, sizeof *r);
	r->o = o;
	r->srv = srv;
	r->raw = raw;
	r->fixed = fixed;
	r->label = fixed ? "replay" : raw ? "raw" : "framed";
	r->quiet = fixed != NULL;
	r->cases = cases;
	r->nc = conns;
	r->ep = epoll_create1(EPOLL_CLOEXEC);
	r->c = calloc(conns, sizeof *r->c);
	if (r->ep < 0 || r->c == NULL) {
		fprintf(stderr, "lsecho-soak: cannot set up: %s\n", strerror(errno));
		if (r->ep >= 0)
			close(r->ep);
		free(r->c);
		return -1;
	}
	for (size_t i = 0; i < r->nc; i++)
		r->c[i].fd = -1;
	r->t0 = now_us();
	r->until = seconds > 0 ? r->t0 + (int64_t)(seconds * 1e6) : INT64_MAX;
	return 0;
}

static void run_fini(soak_run *r)
{
	for (size_t i = 0; i < r->nc; i++) {
		soak_conn *c = &r->c[i];

		soak_plan_free(&c->own);
		lse_model_out_free(&c->want);
		free(c->got);
	}
	free(r->c);
	close(r->ep);
}

/* ---- phases, replays, the table ---- */

static void print_ended(const soak_run *r)
{
	printf("  answers ending in      BYE %" PRIu64 ", ERROR", r->st.ended[0]);
	for (int k = 1; k <= 8; k++)
		printf(" %d:%" PRIu64, k, r->st.ended[k]);
	printf("\n");
}

static void print_table(const soak_run *r, const soak_server *s, const char *verdict, int ok,
			double secs)
{
	const soak_stats *st = &r->st;

	printf("lsecho-soak %s: %s\n", r->label, ok ? "PASS" : "FAIL");
	printf("  connections            %" PRIu64 " (half-close %" PRIu64 ", open until answered %"
	       PRIu64 ", abrupt %" PRIu64 "), %u at once\n", st->conns, st->by_close[SOAK_HALF],
	       st->by_close[SOAK_OPEN], st->by_close[SOAK_ABRUPT], (unsigned)r->nc);
	printf("  time                   %.1f s, %.0f connections/s; client CPU %.1f s\n", secs,
	       secs > 0 ? (double)st->conns / secs : 0.0, r->cpu_s);
	printf("  bytes sent             %" PRIu64 "\n", st->sent);
	printf("  bytes received         %" PRIu64 "\n", st->received);
	if (!r->raw)
		print_ended(r);
	printf("  server closed first    %" PRIu64 " connections; held writes back in %" PRIu64 "\n",
	       st->server_closed, st->held);
	printf("  mismatches             %" PRIu64, st->mismatches);
	if (st->mismatches)
		printf(", the first in connection %" PRIu64 " (%.2f s in)", r->first_bad,
		       r->first_bad_s);
	printf("\n");
	if (s->rss_kib >= 0)
		printf("  server RSS at end      %ld KiB (peak %ld KiB), %d threads\n", s->rss_kib,
		       s->hwm_kib, s->threads);
	else
		printf("  server RSS at end      - (it had exited)\n");
	printf("  server                 %s\n", verdict);
	printf("  seed                   0x%016" PRIx64 " (SOAK_SEED=0x%016" PRIx64
	       " repeats these streams)\n", r->o->seed, r->o->seed);
	fflush(stdout);
}

static int replay_plan(const soak_opts *o, const soak_plan *p, uint32_t attempts, int brief,
		       uint64_t *hits, uint64_t *runs);

/* Replays the saved connections alone, in order, until one mismatches by
 * itself: a mismatch may need the timing of a busy server, and when the
 * server died every connection in flight went short with it. */
static void triage(const soak_run *r)
{
	char err[512];

	printf("lsecho-soak %s: %sreplaying the saved connections alone (%u tries each) "
	       "until one mismatches\n", r->label,
	       r->server_gone ? "the server died with connections in flight; " : "",
	       TRIAGE_REPLAYS);
	for (size_t i = 0; i < r->nsaved; i++) {
		soak_plan p = { 0 };
		uint64_t hits = 0, runs = 0;

		if (soak_plan_load(&p, r->saved[i], err, sizeof err) != 0) {
			printf("  %s\n", err);
		} else {
			replay_plan(r->o, &p, TRIAGE_REPLAYS, 1, &hits, &runs);
			printf("  %s: %s (a mismatch in %" PRIu64 " of %" PRIu64 " attempts)\n",
			       r->saved[i], hits ? "REPRODUCES alone" : "does not reproduce alone",
			       hits, runs);
		}
		soak_plan_free(&p);
		if (hits) {
			printf("  replay it: make soak FILE=%s\n", r->saved[i]);
			break;
		}
	}
	fflush(stdout);
}

static int soak_phase(const soak_opts *o, int raw)
{
	soak_server s;
	soak_run r;
	char verdict[256];
	int clean, ok;
	double secs;

	if (server_start(&s, o->server, raw) != 0)
		return 1;
	if (run_init(&r, o, &s, raw, NULL, o->conns, o->cases, o->seconds) != 0) {
		server_finish(&s, verdict, sizeof verdict);
		return 1;
	}
	printf("lsecho-soak %s: %s pid %d (%d threads, seccomp filter on) on %s; %u connections at once, ", r.label,
	       o->server, (int)s.proc.pid, s.threads, s.path, (unsigned)r.nc);
	if (o->seconds > 0)
		printf("%.1f s%s", o->seconds, o->cases ? " or " : "");
	if (o->cases)
		printf("%" PRIu64 " connections", o->cases);
	printf("; seed 0x%016" PRIx64 "\n", o->seed);
	fflush(stdout);
	run_loop(&r);
	secs = (double)(now_us() - r.t0) / 1e6;
	if (interrupted)
		printf("lsecho-soak %s: interrupted\n", r.label);
	clean = server_finish(&s, verdict, sizeof verdict);
	ok = clean && !r.failed && !interrupted && r.st.mismatches == 0;
	print_table(&r, &s, verdict, ok, secs);
	if (r.nsaved > 0 && !interrupted)
		triage(&r);
	run_fini(&r);
	return ok ? 0 : 1;
}

/* Runs p alone `attempts` times, one connection at a time, against a fresh
 * server. *hits: the attempts that mismatched. Returns 0 if all agreed and
 * the server stopped clean. */
static int replay_plan(const soak_opts *o, const soak_plan *p, uint32_t attempts, int brief,
		       uint64_t *hits, uint64_t *runs)
{
	soak_server s;
	soak_run r;
	char verdict[256];
	int clean;

	*hits = *runs = 0;
	if (server_start(&s, o->server, p->raw) != 0)
		return -1;
	if (run_init(&r, o, &s, p->raw, p, 1, attempts, 0) != 0) {
		server_finish(&s, verdict, sizeof verdict);
		return -1;
	}
	r.brief = brief;
	run_loop(&r);
	clean = server_finish(&s, verdict, sizeof verdict);
	*hits = r.st.mismatches;
	*runs = r.st.conns;
	if (!clean)
		printf("  server: %s\n", verdict);
	if (r.server_gone && r.st.mismatches == 0)
		*hits = 1;   /* it died on this plan even if the reply held */
	run_fini(&r);
	return *hits == 0 && clean ? 0 : 1;
}

static int soak_replay(const soak_opts *o)
{
	soak_plan p = { 0 };
	char err[512];
	uint64_t hits, runs;
	int rc;

	if (soak_plan_load(&p, o->replay, err, sizeof err) != 0) {
		fprintf(stderr, "lsecho-soak: %s\n", err);
		soak_plan_free(&p);
		return 2;
	}
	printf("lsecho-soak replay: %s (%s, seed 0x%016" PRIx64 ", %zu bytes), alone, %u times, "
	       "against a fresh %s\n", o->replay, p.raw ? "raw" : "framed", p.seed, p.len,
	       (unsigned)o->replays, o->server);
	fputs("  plan: ", stdout);
	soak_plan_describe(&p, stdout, 24);
	rc = replay_plan(o, &p, o->replays, 0, &hits, &runs);
	printf("lsecho-soak replay: %s: a mismatch in %" PRIu64 " of %" PRIu64 " attempts%s\n",
	       hits ? "REPRODUCED" : rc == 0 ? "does not reproduce" : "server fault", hits, runs,
	       runs < o->replays ? " (then the server was gone)" : "");
	soak_plan_free(&p);
	return rc == 0 ? 0 : 1;
}

static void setup_process(void)
{
	struct sigaction sa = { .sa_handler = SIG_IGN };
	struct rlimit rl;

	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	atexit(srvt_kill_all);
}

int main(int argc, char **argv)
{
	soak_opts o = { .conns = CONNS_DEFAULT, .save_dir = "." };
	int rc = read_env(&o);

	if (rc == 0)
		rc = parse_args(&o, argc, argv);
	if (rc == 0)
		rc = check_opts(&o);
	if (rc != 0)
		return rc == 1 ? 0 : 2;
	setup_process();
	return o.replay ? soak_replay(&o) : soak_phase(&o, o.raw);
}
