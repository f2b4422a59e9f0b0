/* The syscall allowlist (src/lse_sandbox.c) as a unit: each probe runs in a
 * forked child that installs the very policy lsecho-server installs, then
 * makes one call. A refused call must kill the child with SIGSYS (open and
 * openat: fail with EACCES, creating nothing); an allowed one must work and
 * the child exit 0. The server itself has no switch that would show this:
 * the test loads the policy here instead. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "feed.h"
#include "lse_sandbox.h"

static char dir[64];     /* a private directory: the "socket directory" */
static int dirfd = -1;   /* O_PATH, as lse_sock keeps it */

/* ---- probes: each returns its child's exit code if the call came back ---- */

static int p_socket(void)
{
	return socket(AF_UNIX, SOCK_STREAM, 0) >= 0 ? 0 : 1;
}

static int p_connect(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	snprintf(a.sun_path, sizeof a.sun_path, "%s/nobody.sock", dir);
	/* fd 0 stands in for a socket made before the filter: the call is
	 * refused by number, before the kernel looks at the descriptor. */
	connect(0, (struct sockaddr *)&a, sizeof a);
	return 1;
}

static int p_bind(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	bind(0, (struct sockaddr *)&a, sizeof a);
	return 1;
}

static int p_execve(void)
{
	char *argv[] = { "true", NULL }, *envp[] = { NULL };

	execve("/bin/true", argv, envp);
	return 1;
}

/* fork() is clone() without CLONE_THREAD. */
static int p_fork(void)
{
	long pid = syscall(SYS_clone, (long)SIGCHLD, 0L, 0L, 0L, 0L);

	if (pid == 0)
		_exit(0);
	return 1;
}

static int p_mmap_exec(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? 2 : 1;
}

static int p_mprotect_exec(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return 2;
	mprotect(p, 4096, PROT_READ | PROT_EXEC);
	return 1;
}

/* Unlinking anywhere but in the socket directory. */
static int p_unlink_elsewhere(void)
{
	unlinkat(AT_FDCWD, "/nonexistent/lsecho-test", 0);
	return 1;
}

/* An absolute path ignores the directory descriptor, so a rule on
 * argument 0 must not let -1 through: not when the server has a socket
 * directory, and not when it has none (a passed or abstract socket). The
 * call is made as taken-over code could make it, -1 in all 64 bits of the
 * register (the kernel reads the low 32; a C call's int leaves the high
 * half 0). */
static int p_unlink_absolute(void)
{
	syscall(SYS_unlinkat, -1L, "/nonexistent/lsecho-test", 0L);
	return 1;
}

/* Without a socket directory, not even the directory's descriptor. */
static int p_unlink_in_dir(void)
{
	unlinkat(dirfd, "lsecho-test", 0);
	return 1;
}

static int p_ptrace(void)
{
	syscall(SYS_ptrace, 0L, 0L, 0L, 0L);   /* PTRACE_TRACEME */
	return 1;
}

/* open and openat fail with EACCES, and create nothing. */
static int p_open(void)
{
	char f[128];
	int fd;

	snprintf(f, sizeof f, "%s/opened", dir);
	fd = open(f, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0)
		return 1;
	return errno == EACCES ? 0 : 3;
}

static int p_open_proc(void)
{
	int fd = openat(AT_FDCWD, "/proc/self/maps", O_RDONLY | O_CLOEXEC);

	return fd < 0 && errno == EACCES ? 0 : 1;
}

static void *thread_main(void *arg)
{
	return arg;
}

/* Everything serving needs, in one child. */
static int p_serving(void)
{
	int pfd[2], ep, ev;
	struct epoll_event e = { .events = EPOLLIN }, got;
	struct timespec ts;
	pthread_t t;
	void *ret = NULL;
	char b = 'x', f[128];
	uint64_t one = 1;
	struct stat st;
	size_t big = 8u << 20;
	char *m;

	/* Made before the filter in the server too; here they are made in
	 * the parent's image before lse_sandbox_apply in run(). */
	if (pipe2(pfd, O_CLOEXEC | O_NONBLOCK) != 0 || (ep = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (ev = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
		return 10;
	snprintf(f, sizeof f, "%s/lsecho.sock", dir);
	if (mknod(f, S_IFREG | 0600, 0) != 0 && errno != EEXIST)
		return 11;
	/* As in lsecho-server, a thread runs before the filter: glibc's first
	 * pthread_create() installs a signal handler (rt_sigaction), which
	 * the filter refuses. */
	if (pthread_create(&t, NULL, thread_main, &b) != 0 || pthread_join(t, &ret) != 0)
		return 20;
	{
		char err[256];

		if (lse_sandbox_apply(dirfd, err, sizeof err) != 0) {
			fprintf(stderr, "test_sandbox: %s\n", err);
			return 12;
		}
	}
	e.data.fd = pfd[0];
	if (epoll_ctl(ep, EPOLL_CTL_ADD, pfd[0], &e) != 0)
		return 13;
	if (write(pfd[1], &b, 1) != 1 || epoll_wait(ep, &got, 1, 1000) != 1 ||
	    read(pfd[0], &b, 1) != 1 || b != 'x')
		return 14;
	if (write(ev, &one, sizeof one) != sizeof one)
		return 15;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 16;
	if (pthread_create(&t, NULL, thread_main, &b) != 0 || pthread_join(t, &ret) != 0 ||
	    ret != &b)
		return 17;
	m = malloc(big);   /* mmap, then munmap on free */
	if (m == NULL)
		return 18;
	memset(m, 1, big);
	free(m);
	if (fstatat(dirfd, "lsecho.sock", &st, AT_SYMLINK_NOFOLLOW) != 0 ||
	    unlinkat(dirfd, "lsecho.sock", 0) != 0)
		return 19;
	(void)getuid();
	return 0;
}

/* A thread that runs before the filter goes in is under it too
 * (lsecho-server's signal thread is one): a refused call it makes once the
 * filter is in kills the process. */
static int tsync_pipe[2];

static void *thread_socket(void *arg)
{
	char b;

	(void)arg;
	if (read(tsync_pipe[0], &b, 1) == 1)
		socket(AF_UNIX, SOCK_STREAM, 0);
	return NULL;
}

static int p_thread_before(void)
{
	pthread_t t;
	char err[256];

	if (pipe(tsync_pipe) != 0 || pthread_create(&t, NULL, thread_socket, NULL) != 0)
		return 10;
	if (lse_sandbox_apply(dirfd, err, sizeof err) != 0) {
		fprintf(stderr, "test_sandbox: %s\n", err);
		return 12;
	}
	if (write(tsync_pipe[1], "x", 1) != 1)
		return 13;
	pthread_join(t, NULL);
	return 1;
}

/* The socket directory on descriptor 0 (a server started with stdin
 * closed gets it there) is a directory like any other: its socket file
 * can still be removed at exit. */
static int p_dir_on_0(void)
{
	char f[128], err[256];
	struct stat st;

	snprintf(f, sizeof f, "%s/lsecho.sock", dir);
	if (mknod(f, S_IFREG | 0600, 0) != 0 && errno != EEXIST)
		return 11;
	if (dup2(dirfd, 0) != 0)
		return 10;
	if (lse_sandbox_apply(0, err, sizeof err) != 0) {
		fprintf(stderr, "test_sandbox: %s\n", err);
		return 12;
	}
	if (fstatat(0, "lsecho.sock", &st, AT_SYMLINK_NOFOLLOW) != 0 ||
	    unlinkat(0, "lsecho.sock", 0) != 0)
		return 19;
	return 0;
}

/* ---- the harness ---- */

typedef struct probe {
	const char *name;
	int (*fn)(void);
	int killed;        /* 1: SIGSYS expected; 0: exit 0 expected */
	int sanitized_ok;  /* a sanitizer build allows it (its runtime needs it) */
	int no_dir;        /* the policy of a server with no socket directory */
} probe;

static const probe probes[] = {
	{ "socket", p_socket, 1, 0, 0 },
	{ "connect", p_connect, 1, 0, 0 },
	{ "bind", p_bind, 1, 0, 0 },
	{ "execve", p_execve, 1, 1, 0 },
	{ "fork (clone without CLONE_THREAD)", p_fork, 1, 1, 0 },
	{ "mmap PROT_EXEC", p_mmap_exec, 1, 0, 0 },
	{ "mprotect PROT_EXEC", p_mprotect_exec, 1, 0, 0 },
	{ "unlinkat outside the socket directory", p_unlink_elsewhere, 1, 0, 0 },
	{ "unlinkat by absolute path, descriptor -1", p_unlink_absolute, 1, 0, 0 },
	{ "unlinkat by absolute path, descriptor -1, no socket directory", p_unlink_absolute, 1, 0, 1 },
	{ "unlinkat on the directory's descriptor, no socket directory", p_unlink_in_dir, 1, 0, 1 },
	{ "ptrace", p_ptrace, 1, 1, 0 },
	{ "open (EACCES)", p_open, 0, 1, 0 },
	{ "openat /proc/self/maps (EACCES)", p_open_proc, 0, 1, 0 },
};

/* The coverage build's profile writer, if linked: a child that ends in
 * _exit() writes no profile by itself, and make mutants reads from the
 * profiles which tests run which lines. */
extern int __llvm_profile_write_file(void) __attribute__((weak));

/* Runs fn in a child under the filter (p_serving installs it itself),
 * applied for a server with a socket directory (dirfd) or, with no_dir,
 * without one. */
static int run(int (*fn)(void), int apply, int no_dir, int *status)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		char err[256];

		int rc;

		if (apply && lse_sandbox_apply(no_dir ? -1 : dirfd, err, sizeof err) != 0) {
			fprintf(stderr, "test_sandbox: %s\n", err);
			_exit(12);
		}
		rc = fn();
		if (__llvm_profile_write_file)
			__llvm_profile_write_file();
		_exit(rc);
	}
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

int main(void)
{
	int status;
	struct stat st;
	char f[128];

	snprintf(dir, sizeof dir, "/tmp/lsecho-sandbox-XXXXXX");
	if (mkdtemp(dir) == NULL || (dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		perror("test_sandbox: setup");
		return 1;
	}
	for (size_t i = 0; i < sizeof probes / sizeof *probes; i++) {
		const probe *p = &probes[i];

		if (LSE_SANDBOX_SANITIZED && p->sanitized_ok) {
			printf("   %s: allowed in sanitizer builds (their runtime needs it); "
			       "the gcc build's test_sandbox checks it\n", p->name);
			continue;
		}
		if (!CHECK_EQ(run(p->fn, 1, p->no_dir, &status), 0))
			continue;
		if (p->killed) {
			if (!CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS))
				fprintf(stderr, "  %s: status %#x, want killed by SIGSYS\n", p->name, status);
			else
				printf("   %s: killed by SIGSYS\n", p->name);
		} else if (!CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
			fprintf(stderr, "  %s: status %#x, want exit 0\n", p->name, status);
		} else {
			printf("   %s: refused\n", p->name);
		}
	}
	snprintf(f, sizeof f, "%s/opened", dir);
	CHECK(lstat(f, &st) != 0 && errno == ENOENT);   /* the refused open made nothing */
	/* The probes' calls work without the filter: what stopped them was it. */
	CHECK_EQ(run(p_open_proc, 0, 0, &status), 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	CHECK_EQ(run(p_socket, 0, 0, &status), 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* A thread started before the filter is under it. */
	if (CHECK_EQ(run(p_thread_before, 0, 0, &status), 0) &&
	    !CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS))
		fprintf(stderr, "  socket() in a thread started before the filter: status %#x, "
			"want killed by SIGSYS\n", status);
	else
		printf("   socket() in a thread started before the filter: killed by SIGSYS\n");
	/* The socket directory on descriptor 0. */
	if (CHECK_EQ(run(p_dir_on_0, 0, 0, &status), 0) &&
	    !CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		fprintf(stderr, "  socket directory on descriptor 0: status %#x, want exit 0\n", status);
	else
		printf("   socket directory on descriptor 0: its socket file removed\n");
	/* Serving works under it, and the socket file can be removed. */
	if (CHECK_EQ(run(p_serving, 0, 0, &status), 0) &&
	    !CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		fprintf(stderr, "  serving under the filter: status %#x, want exit 0\n", status);
	else
		printf("   read, write, epoll, eventfd, clock, threads, malloc/free, "
		       "unlinkat in the socket directory: allowed\n");
	snprintf(f, sizeof f, "%s/lsecho.sock", dir);
	CHECK(lstat(f, &st) != 0 && errno == ENOENT);
	rmdir(dir);
	return lse_t_report();
}
