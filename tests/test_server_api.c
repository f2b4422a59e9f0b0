/* lse_server's API (lse_server.h) in-process, as lsecho-bench uses it:
 * every bad setting refused with its reason, every failure of set-up
 * leaving nothing open or allocated, the default path, the start-up line.
 * calloc is wrapped (--wrap=calloc) so a test can refuse the k-th one. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "feed.h"
#include "lse_server.h"

void *__real_calloc(size_t n, size_t size);
static int calloc_fail_in;   /* > 0: the calloc this many calls from now fails */

void *__wrap_calloc(size_t n, size_t size)
{
	if (calloc_fail_in > 0 && --calloc_fail_in == 0) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_calloc(n, size);
}

/* The same for an event loop's epoll set (EMFILE), its registrations
 * (EPOLL_CTL_ADD: ENOMEM, as the kernel says when it cannot allocate) and
 * a thread (EAGAIN, returned as pthread_create returns its errors). */
int __real_epoll_create1(int flags);
int __real_epoll_ctl(int epfd, int op, int fd, struct epoll_event *e);
int __real_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg);
static int epoll_fail_in, add_fail_in, thread_fail_in;

int __wrap_epoll_create1(int flags)
{
	if (epoll_fail_in > 0 && --epoll_fail_in == 0) {
		errno = EMFILE;
		return -1;
	}
	return __real_epoll_create1(flags);
}

int __wrap_epoll_ctl(int epfd, int op, int fd, struct epoll_event *e)
{
	if (op == EPOLL_CTL_ADD && add_fail_in > 0 && --add_fail_in == 0) {
		errno = ENOMEM;
		return -1;
	}
	return __real_epoll_ctl(epfd, op, fd, e);
}

int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg)
{
	if (thread_fail_in > 0 && --thread_fail_in == 0)
		return EAGAIN;
	return __real_pthread_create(t, a, fn, arg);
}

static char tmp[64];



struct open_call {
	lse_server_opts o;
	lse_server *srv;
	char err[256];
	int rc;
};

static int do_open(struct open_call *c)
{
	c->err[0] = '\0';
	c->rc = lse_server_open(&c->srv, &c->o, c->err, sizeof c->err);
	return c->rc;
}

static void open_quietly(void *arg)
{
	do_open(arg);
}

/* lse_server_open refuses o: -1, *out NULL, the reason contains want, and
 * no descriptor is left open nor file left behind. */
static void refused_how(const char *tag, const lse_server_opts *o, const char *want, int capture)
{
	struct open_call c = { *o, NULL, "", 0 };
	int fds = lse_t_count_fds(), rc, zero = fcntl(0, F_GETFD) >= 0;
	char log[512];

	if (capture)
		lse_t_capture_stderr(open_quietly, &c, log, sizeof log);
	else
		do_open(&c);
	rc = c.rc;
	if (!CHECK_EQ(rc, -1) || !CHECK(c.srv == NULL) || !CHECK(strstr(c.err, want) != NULL))
		fprintf(stderr, "  %s: rc %d, err \"%s\", want \"%s\"\n", tag, rc, c.err, want);
	CHECK_EQ(lse_t_count_fds(), fds);
	CHECK_EQ(fcntl(0, F_GETFD) >= 0, zero);   /* nothing of ours was closed either */
	if (c.srv)
		lse_server_close(c.srv);
}

static void refused(const char *tag, const lse_server_opts *o, const char *want)
{
	refused_how(tag, o, want, 1);
}

static void test_bad_settings(void)
{
	char path[160], longdir[128];
	lse_server_opts o = { .socket_path = path, .mode = LSE_MODE_FRAMED, .threads = 1, .quiet = 1 };

	snprintf(path, sizeof path, "%s/api.sock", tmp);
	o.threads = -1;
	refused("threads -1", &o, "threads must be 1..1024, not -1");
	o.threads = 1025;
	refused("threads 1025", &o, "threads must be 1..1024, not 1025");
	o.threads = 1024;   /* the bound is inclusive */
	{
		struct open_call c = { o, NULL, "", 0 };
		struct rlimit rl;

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 2048 && rl.rlim_max >= 2048) {
			rl.rlim_cur = 2048;   /* an epoll set per thread */
			setrlimit(RLIMIT_NOFILE, &rl);
		}
		CHECK_EQ(do_open(&c), 0);
		if (c.srv)
			lse_server_close(c.srv);
	}
	o.threads = 1;
	o.max_payload = LSE_LIMIT_MAX + 1;
	refused("max payload", &o, "bad settings: max payload and chunk must be 1..16777216");
	o.max_payload = 0;
	o.mode = LSE_MODE_RAW;
	o.chunk = LSE_CHUNK_MAX + 1;
	refused("chunk", &o, "bad settings");
	o.chunk = 0;
	/* A path of 108 bytes does not fit sun_path; 107 does. */
	memset(longdir, 'd', sizeof longdir);
	memcpy(longdir, tmp, strlen(tmp));
	longdir[strlen(tmp)] = '/';
	longdir[100] = '\0';
	CHECK_EQ(mkdir(longdir, 0700), 0);
	snprintf(path, sizeof path, "%s/%.*s", longdir, (int)(107 - strlen(longdir) - 1), "sssssssssss");
	CHECK_EQ(strlen(path), 107);
	{
		struct open_call c = { o, NULL, "", 0 };

		CHECK_EQ(do_open(&c), 0);
		if (c.srv) {
			CHECK(strcmp(lse_server_path(c.srv), path) == 0);
			lse_server_close(c.srv);
		}
		CHECK(access(path, F_OK) != 0);   /* unlinked at close */
	}
	strcat(path, "x");
	refused("108-byte path", &o, "socket path is 108 bytes; the limit is 107");
	/* A path and a passed socket: one or the other. */
	o.listen_fd = 3;
	refused("path and passed socket", &o, "and a socket passed by systemd: serve one or the other");
	o.listen_fd = 0;
	/* No path, and a default that does not fit: refused, nothing made
	 * (and nothing left allocated: LeakSanitizer). */
	{
		char xdg[240];

		memset(xdg, 'x', sizeof xdg - 1);
		xdg[0] = '/';
		xdg[sizeof xdg - 1] = '\0';
		setenv("XDG_RUNTIME_DIR", xdg, 1);
		o.socket_path = NULL;
		refused("default path too long", &o, "default socket path under /xxx");
		o.socket_path = path;
		unsetenv("XDG_RUNTIME_DIR");
	}
}

/* Every allocation and descriptor of set-up may fail: the reason says
 * which, and nothing stays open or allocated (LeakSanitizer). */
static void test_setup_failures(void)
{
	char path[160];
	lse_server_opts o = { .socket_path = path, .mode = LSE_MODE_FRAMED, .threads = 2, .quiet = 1 };
	struct rlimit rl, low;

	snprintf(path, sizeof path, "%s/fail.sock", tmp);
	calloc_fail_in = 1;
	refused("no memory for the server", &o, "out of memory");
	calloc_fail_in = 2;
	refused("no memory for the workers", &o, "cannot set up");
	calloc_fail_in = 0;
	/* The second thread's event loop gets no epoll set, or epoll cannot
	 * take its stop descriptor, or the first's its listener: the first's
	 * loop is undone, its set closed. */
	epoll_fail_in = 2;
	refused("no epoll set", &o, "cannot set up event loop: Too many open files");
	epoll_fail_in = 0;
	add_fail_in = 3;
	refused("no room in the set", &o, "cannot set up event loop: Cannot allocate memory");
	add_fail_in = 2;
	refused("no room for the listener", &o, "cannot set up event loop");
	add_fail_in = 0;
	/* Out of descriptors at the eventfd: the way out must close nothing
	 * it did not open (descriptor 0 least of all: the socket fields are
	 * not yet a socket). */
	{
		static int filler[4096];
		int nfill = 0, maxfd = 0;
		DIR *d = opendir("/proc/self/fd");
		struct dirent *e;

		while (d && (e = readdir(d)) != NULL)
			if (e->d_name[0] != '.' && atoi(e->d_name) > maxfd)
				maxfd = atoi(e->d_name);
		if (d)
			closedir(d);
		CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
		low = rl;
		low.rlim_cur = (rlim_t)maxfd + 1;
		CHECK_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
		while (nfill < 4096 && (filler[nfill] = open("/dev/null", O_RDONLY)) >= 0)
			nfill++;   /* every hole below the limit taken */
		refused_how("no descriptor for the eventfd", &o, "cannot set up", 0);
		/* Then room for one descriptor more each time (every number
		 * below the limit is taken): the socket's directory, the
		 * socket, the first loop's epoll set, the second's. */
		{
			static const char *const want[] = {
				"directory ", "socket: Too many open files",
				"cannot set up event loop: Too many open files",
				"cannot set up event loop: Too many open files",
			};

			for (size_t k = 0; k < sizeof want / sizeof *want; k++) {
				low.rlim_cur++;
				CHECK_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
				refused_how(want[k], &o, want[k], 0);
			}
		}
		while (nfill > 0)
			close(filler[--nfill]);
		CHECK_EQ(setrlimit(RLIMIT_NOFILE, &rl), 0);
	}
	CHECK(access(path, F_OK) != 0);
}

/* threads 0 is the number of cores; NULL is the default path; quiet says
 * nothing; otherwise one start-up line with the settings. */
static void test_defaults_and_line(void)
{
	char xdg[128], want[300], log[512], line[64];
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	struct open_call c = { { .mode = LSE_MODE_FRAMED, .quiet = 1 }, NULL, "", 0 };
	int rc, fds;

	snprintf(xdg, sizeof xdg, "%s/xdg", tmp);
	CHECK_EQ(mkdir(xdg, 0700), 0);
	setenv("XDG_RUNTIME_DIR", xdg, 1);
	lse_t_capture_stderr(open_quietly, &c, log, sizeof log);
	rc = c.rc;
	CHECK_EQ(rc, 0);
	CHECK_EQ(strlen(log), 0);   /* quiet */
	snprintf(want, sizeof want, "%s/lsecho/lsecho.sock", xdg);
	if (c.srv) {
		CHECK(strcmp(lse_server_path(c.srv), want) == 0);
		lse_server_close(c.srv);
	}
	c.o.quiet = 0;
	lse_t_capture_stderr(open_quietly, &c, log, sizeof log);
	rc = c.rc;
	CHECK_EQ(rc, 0);
	snprintf(line, sizeof line, "framed, limit 65536, %ld threads)\n", cores > 0 ? cores : 1);
	if (!CHECK(strstr(log, "lsecho-server: listening on ") == log && strstr(log, "(file, mode 0600, ") &&
		   strstr(log, line) && strchr(log, '\n')[1] == '\0'))
		fprintf(stderr, "  start-up line: %s", log);
	if (c.srv)
		lse_server_close(c.srv);
	/* Descriptor 0 free: the eventfd may well get it, and that is fine. */
	{
		int saved0 = dup(0);

		close(0);
		c.o.quiet = 1;
		CHECK_EQ(do_open(&c), 0);
		if (c.srv)
			lse_server_close(c.srv);
		CHECK(fcntl(0, F_GETFD) == -1 && errno == EBADF);   /* closed with the rest */
		dup2(saved0, 0);
		close(saved0);
		c.o.quiet = 0;
	}
	/* Raw with the default chunk, and raw and abstract. */
	c.o.mode = LSE_MODE_RAW;
	lse_t_capture_stderr(open_quietly, &c, log, sizeof log);
	rc = c.rc;
	CHECK_EQ(rc, 0);
	if (!CHECK(strstr(log, "raw, chunk 65536, ") != NULL))
		fprintf(stderr, "  start-up line: %s", log);
	if (c.srv)
		lse_server_close(c.srv);
	snprintf(want, sizeof want, "@lsecho-api-%ld", (long)getpid());
	c.o.socket_path = want;
	c.o.mode = LSE_MODE_RAW;
	c.o.chunk = 4096;
	c.o.threads = 3;
	fds = lse_t_count_fds();
	lse_t_capture_stderr(open_quietly, &c, log, sizeof log);
	rc = c.rc;
	CHECK_EQ(rc, 0);
	if (!CHECK(strstr(log, "(abstract, raw, chunk 4096, 3 threads)\n") != NULL))
		fprintf(stderr, "  start-up line: %s", log);
	if (c.srv)
		lse_server_close(c.srv);
	CHECK_EQ(lse_t_count_fds(), fds);   /* an abstract socket has no file, but a descriptor */
	unsetenv("XDG_RUNTIME_DIR");
}

/* Open, run in a thread, stop, close: the run returns 0 and the socket
 * file goes. */
static void *run_thread(void *arg)
{
	return (void *)(long)lse_server_run(arg);
}

static void test_run_stop(void)
{
	char path[160];
	lse_server_opts o = { .socket_path = path, .mode = LSE_MODE_RAW, .threads = 1, .quiet = 1 };
	lse_server *srv;
	pthread_t t;
	void *rc = (void *)-1L;
	char err[256];
	int fds = lse_t_count_fds();

	snprintf(path, sizeof path, "%s/run.sock", tmp);
	if (!CHECK_EQ(lse_server_open(&srv, &o, err, sizeof err), 0))
		return;
	CHECK_EQ(pthread_create(&t, NULL, run_thread, srv), 0);
	/* Idle, its threads sleep in epoll_wait: well under half the CPU time
	 * of 300 ms passes in the process. (A one-sided check: a busy machine
	 * can only hide a spin, never fake one.) */
	{
		struct timespec a, b;
		long used;

		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
		usleep(300000);
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
		used = (b.tv_sec - a.tv_sec) * 1000L + (b.tv_nsec - a.tv_nsec) / 1000000L;
		if (!CHECK(used < 150))
			fprintf(stderr, "  an idle server used %ld ms of CPU in 300 ms\n", used);
	}
	/* One thread serves. */
	{
		struct sockaddr_un a = { .sun_family = AF_UNIX };
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct timeval tv = { 5, 0 };
		char buf[8] = "";

		memcpy(a.sun_path, path, strlen(path) + 1);   /* fits: "<tmp>/run.sock" */
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		CHECK_EQ(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
		CHECK_EQ(write(fd, "one", 3), 3);
		CHECK_EQ(read(fd, buf, sizeof buf), 3);
		CHECK(memcmp(buf, "one", 3) == 0);
		close(fd);
	}
	lse_server_stop(srv);
	lse_server_stop(srv);   /* idempotent */
	pthread_join(t, &rc);
	CHECK(rc == NULL);
	lse_server_close(srv);
	CHECK(access(path, F_OK) != 0);
	CHECK_EQ(lse_t_count_fds(), fds);
	lse_server_close(NULL);
}

/* A passed socket on descriptor 1 (any above 0 is one): adopted, its
 * address the server's, and the default socket directory left alone (not
 * made); with a path as well, refused. */
static void test_passed_fd1(void)
{
	lse_server_opts o = { .listen_fd = 1, .mode = LSE_MODE_RAW, .threads = 1, .quiet = 1 };
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct open_call c;
	char name[64], path[160];
	int saved1, ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	socklen_t len;

	snprintf(name, sizeof name, "@lsecho-api-passed-%ld", (long)getpid());
	memcpy(a.sun_path + 1, name + 1, strlen(name) - 1);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name));
	if (!CHECK(ls >= 0) || !CHECK_EQ(bind(ls, (struct sockaddr *)&a, len), 0) ||
	    !CHECK_EQ(listen(ls, 8), 0))
		return;
	fflush(stdout);
	saved1 = dup(1);
	CHECK_EQ(dup2(ls, 1), 1);
	close(ls);
	snprintf(path, sizeof path, "%s/passed.sock", tmp);
	o.socket_path = path;
	c = (struct open_call){ o, NULL, "", 0 };
	CHECK_EQ(do_open(&c), -1);   /* one or the other */
	o.socket_path = NULL;
	snprintf(path, sizeof path, "%s/xdg-passed", tmp);
	CHECK_EQ(mkdir(path, 0700), 0);
	setenv("XDG_RUNTIME_DIR", path, 1);
	c = (struct open_call){ o, NULL, "", 0 };
	if (CHECK_EQ(do_open(&c), 0)) {
		CHECK(strcmp(lse_server_path(c.srv), name) == 0);
		CHECK_EQ(lse_server_sock_dirfd(c.srv), -1);
		lse_server_close(c.srv);
	}
	strcat(path, "/lsecho");
	CHECK(access(path, F_OK) != 0);
	unsetenv("XDG_RUNTIME_DIR");
	dup2(saved1, 1);
	close(saved1);
}

static void run_capture(void *arg)
{
	struct open_call *c = arg;

	c->rc = lse_server_run(c->srv);
}

/* A thread that cannot start: the run says which and why, stops the ones
 * already running and returns -1 once they are joined, rather than
 * serving short-handed or waiting forever. */
static void test_thread_fails(void)
{
	char path[160], log[512];
	struct open_call c = { { .socket_path = path, .mode = LSE_MODE_RAW, .threads = 3, .quiet = 1 },
			       NULL, "", 0 };
	int fds = lse_t_count_fds();

	snprintf(path, sizeof path, "%s/thread.sock", tmp);
	if (!CHECK_EQ(do_open(&c), 0))
		return;
	thread_fail_in = 2;
	lse_t_capture_stderr(run_capture, &c, log, sizeof log);
	thread_fail_in = 0;
	CHECK_EQ(c.rc, -1);
	if (!CHECK(strcmp(log, "lsecho-server: cannot start thread 1: Resource temporarily unavailable\n") == 0))
		fprintf(stderr, "  log: %s", log);
	lse_server_close(c.srv);
	CHECK(access(path, F_OK) != 0);
	CHECK_EQ(lse_t_count_fds(), fds);
}

int main(void)
{
	snprintf(tmp, sizeof tmp, "/tmp/lsecho-api-XXXXXX");
	if (mkdtemp(tmp) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_bad_settings();
	test_setup_failures();
	test_defaults_and_line();
	test_run_stop();
	test_thread_fails();
	test_passed_fd1();
	{
		char cmd[128];

		snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
		if (system(cmd) != 0)
			fprintf(stderr, "test_server_api: could not remove %s\n", tmp);
	}
	return lse_t_report();
}
