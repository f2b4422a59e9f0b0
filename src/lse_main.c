/* lsecho-server: the command line around lse_server. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "lse_sandbox.h"
#include "lse_sd.h"
#include "lse_server.h"

#define VERSION "0.1.0"


static const char usage[] =
	"usage: lsecho-server [--socket PATH] [--raw] [--max-payload BYTES] [--chunk BYTES]\n"
	"                     [--threads N] [--any-uid] [--no-sandbox] [--help] [--version]\n"
	"  --socket PATH        a socket path, or @name for the abstract namespace\n"
	"                       (default $XDG_RUNTIME_DIR/lsecho/lsecho.sock, else /tmp/lsecho-$UID/)\n"
	"  --raw                raw echo instead of the framed protocol v1\n"
	"  --max-payload BYTES  framed: the server's payload limit, 1..16777216 (default 65536)\n"
	"  --chunk BYTES        raw: the echo buffer, 1..16777216 (default 65536)\n"
	"  --threads N          event-loop threads, 1..1024 (default: the number of cores)\n"
	"  --any-uid            serve peers of any uid (default: only your own)\n"
	"  --no-sandbox         no syscall filter (default: a seccomp allowlist once set up)\n"
	"A listening socket passed by systemd (LISTEN_FDS, LISTEN_PID) is served instead\n"
	"of --socket, and its file left to systemd; with NOTIFY_SOCKET set, the server\n"
	"sends READY=1 once it serves and STOPPING=1 when it stops.\n";

typedef struct cli {
	lse_server_opts o;
	int no_sandbox;
} cli;

typedef struct stopper_arg {
	lse_server *srv;
	sigset_t *set;
	int notify_fd;
} stopper_arg;

/* SIGINT and SIGTERM are blocked in every thread and taken here with
 * sigwait(): no handler ever runs, so none can race start-up or touch a
 * freed server, and a signal that came during start-up waits its turn.
 * When the server stops for its own reasons, main wakes this thread with a
 * signal of its own. */
static void *stopper_main(void *arg)
{
	stopper_arg *a = arg;
	int sig;

	sigwait(a->set, &sig);
	lse_sd_notify(a->notify_fd, "STOPPING=1");
	lse_server_stop(a->srv);
	return (void *)(intptr_t)sig;
}

/* Ends the signal thread, whether it has stopped the server or still
 * waits: the server may be closed only once it has returned. Returns the
 * signal it took. */
static int stopper_end(pthread_t stopper)
{
	void *sig = NULL;

	pthread_kill(stopper, SIGTERM);   /* blocked, so sigwait takes it */
	pthread_join(stopper, &sig);
	return (int)(intptr_t)sig;
}

/* A decimal in [lo, hi], nothing else. */
static int parse_num(const char *flag, const char *v, unsigned long lo,
		     unsigned long hi, unsigned long *out)
{
	char *end;
	unsigned long n;

	errno = 0;
	if (v == NULL || v[0] < '0' || v[0] > '9') {
		fprintf(stderr, "lsecho-server: %s needs a number from %lu to %lu\n", flag, lo, hi);
		return -1;
	}
	n = strtoul(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < lo || n > hi) {
		fprintf(stderr, "lsecho-server: %s %s: want a number from %lu to %lu\n", flag, v, lo, hi);
		return -1;
	}
	*out = n;
	return 0;
}

/* Returns 0 to run, 1 to exit 0 (help, version), -1 to exit 2. */
static int parse_args(int argc, char **argv, cli *c)
{
	lse_server_opts *o = &c->o;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *eq = strchr(a, '=');
		char flag[32];
		const char *v;
		unsigned long n;
		size_t fl = eq ? (size_t)(eq - a) : strlen(a);

		if (fl >= sizeof flag) {
			fprintf(stderr, "lsecho-server: unknown option %s\n%s", a, usage);
			return -1;
		}
		memcpy(flag, a, fl);
		flag[fl] = '\0';
		if (!strcmp(flag, "--help") || !strcmp(flag, "-h")) {
			fputs(usage, stdout);
			return 1;
		}
		if (!strcmp(flag, "--version")) {
			puts("lsecho-server " VERSION);
			return 1;
		}
		if (!strcmp(flag, "--raw") || !strcmp(flag, "--any-uid") ||
		    !strcmp(flag, "--no-sandbox")) {
			if (eq) {
				fprintf(stderr, "lsecho-server: %s takes no value\n", flag);
				return -1;
			}
			if (flag[2] == 'r')
				o->mode = LSE_MODE_RAW;
			else if (flag[2] == 'a')
				o->any_uid = 1;
			else
				c->no_sandbox = 1;
			continue;
		}
		if (strcmp(flag, "--socket") && strcmp(flag, "--max-payload") &&
		    strcmp(flag, "--chunk") && strcmp(flag, "--threads")) {
			fprintf(stderr, "lsecho-server: unknown option %s\n%s", a, usage);
			return -1;
		}
		v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
		if (v == NULL) {
			fprintf(stderr, "lsecho-server: %s needs a value\n", flag);
			return -1;
		}
		if (!strcmp(flag, "--socket")) {
			if (v[0] == '\0') {
				fprintf(stderr, "lsecho-server: --socket needs a non-empty path\n");
				return -1;
			}
			o->socket_path = v;
		} else if (!strcmp(flag, "--threads")) {
			if (parse_num(flag, v, 1, 1024, &n) != 0)
				return -1;
			o->threads = (int)n;
		} else {
			if (parse_num(flag, v, 1, LSE_LIMIT_MAX, &n) != 0)
				return -1;
			if (flag[2] == 'm')
				o->max_payload = (uint32_t)n;
			else
				o->chunk = (uint32_t)n;
		}
	}
	return 0;
}

static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Socket activation and the notify socket, from the environment. */
static int from_systemd(lse_server_opts *o, int *notify_fd, char *err, size_t errlen)
{
	int rc = lse_sd_listen(err, errlen);

	if (rc < 0)
		return -1;
	if (rc > 0)
		o->listen_fd = LSE_SD_LISTEN_FD;
	return lse_sd_notify_open(notify_fd, err, errlen);
}

int main(int argc, char **argv)
{
	cli c = { { 0 }, 0 };
	lse_server *srv;
	sigset_t set;
	pthread_t stopper;
	stopper_arg sa;
	char err[256] = "";
	int notify_fd = -1, sig;
	int rc = parse_args(argc, argv, &c);

	if (rc != 0)
		return rc > 0 ? 0 : 2;
	if (from_systemd(&c.o, &notify_fd, err, sizeof err) != 0) {
		fprintf(stderr, "lsecho-server: %s\n", err);
		return 2;
	}
	raise_nofile();
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	/* Exactly these, whatever mask the parent left us: a service
	 * manager or shell that blocked others must not have them stay
	 * blocked in every thread. */
	pthread_sigmask(SIG_SETMASK, &set, NULL);
	if (lse_server_open(&srv, &c.o, err, sizeof err) != 0) {
		fprintf(stderr, "lsecho-server: %s\n", err);
		return 1;
	}
	sa.srv = srv;
	sa.set = &set;
	sa.notify_fd = notify_fd;
	/* The first thread is started before the filter: glibc installs a
	 * signal handler of its own then, which the filter would refuse. */
	if (pthread_create(&stopper, NULL, stopper_main, &sa) != 0) {
		fprintf(stderr, "lsecho-server: cannot start the signal thread\n");
		lse_server_close(srv);
		return 1;
	}
	/* Set up: from here on, serve and nothing else. */
	if (!c.no_sandbox && lse_sandbox_apply(lse_server_sock_dirfd(srv), err, sizeof err) != 0) {
		fprintf(stderr, "lsecho-server: %s\n", err);
		stopper_end(stopper);
		lse_server_close(srv);
		return 1;
	}
	lse_sd_notify(notify_fd, "READY=1");
	rc = lse_server_run(srv);
	sig = stopper_end(stopper);
	lse_server_close(srv);
	/* run returns 0 only when the signal thread stopped it: the last line
	 * of the log says on what, once every answer owed has gone out. */
	if (rc == 0)
		fprintf(stderr, "lsecho-server: stopped on %s\n",
			sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "an unknown signal");
	if (notify_fd >= 0)
		close(notify_fd);
	return rc == 0 ? 0 : 1;
}
