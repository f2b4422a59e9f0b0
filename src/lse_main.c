/* lsecho-server: the command line around lse_server. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "lse_server.h"

#define VERSION "0.1.0"


static const char usage[] =
	"usage: lsecho-server [--socket PATH] [--raw] [--max-payload BYTES] [--chunk BYTES]\n"
	"                     [--threads N] [--any-uid] [--help] [--version]\n"
	"  --socket PATH        a socket path, or @name for the abstract namespace\n"
	"                       (default $XDG_RUNTIME_DIR/lsecho/lsecho.sock, else /tmp/lsecho-$UID/)\n"
	"  --raw                raw echo instead of the framed protocol v1\n"
	"  --max-payload BYTES  framed: the server's payload limit, 1..16777216 (default 65536)\n"
	"  --chunk BYTES        raw: the echo buffer, 1..16777216 (default 65536)\n"
	"  --threads N          event-loop threads, 1..1024 (default: the number of cores)\n"
	"  --any-uid            serve peers of any uid (default: only your own)\n";

/* SIGINT and SIGTERM are blocked in every thread and taken here with
 * sigwait(): no handler ever runs, so none can race start-up or touch a
 * freed server, and a signal that came during start-up waits its turn.
 * When the server stops for its own reasons, main wakes this thread with a
 * signal of its own. */
static void *stopper_main(void *arg)
{
	void **a = arg;
	int sig;

	sigwait(a[1], &sig);
	lse_server_stop(a[0]);
	return NULL;
}

int main(int argc, char **argv)
{
	lse_server_opts o = { 0 };
	lse_server *srv;
	sigset_t set;
	pthread_t stopper;
	void *args[2];
	char err[256] = "";
	int rc = parse_args(argc, argv, &o);

	if (rc != 0)
		return rc > 0 ? 0 : 2;
	raise_nofile();
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (lse_server_open(&srv, &o, err, sizeof err) != 0) {
		fprintf(stderr, "lsecho-server: %s\n", err);
		return 1;
	}
	args[0] = srv;
	args[1] = &set;
	if (pthread_create(&stopper, NULL, stopper_main, args) != 0) {
		fprintf(stderr, "lsecho-server: cannot start the signal thread\n");
		lse_server_close(srv);
		return 1;
	}
	rc = lse_server_run(srv);
	pthread_kill(stopper, SIGTERM);   /* blocked, so sigwait takes it */
	pthread_join(stopper, NULL);
	lse_server_close(srv);
	return rc == 0 ? 0 : 1;
}
