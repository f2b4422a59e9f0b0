/* srvtest: lsecho-server as a child process, for tests/test_server.c and
 * tests/test_life.c.
 *
 * Spawns the real binary, waits until it accepts, stops and reaps it. Every
 * wait is bounded (a deadline in milliseconds, checked in 10 ms steps), and
 * no child outlives the test: each is killed if the test process dies
 * (PR_SET_PDEATHSIG), and srvt_kill_all() (registered with atexit by the
 * test) kills and reaps whatever is still running on any exit path. */
#ifndef LSE_SRVTEST_H
#define LSE_SRVTEST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct srvt_proc {
	pid_t pid;        /* > 0 while running; 0 once reaped */
	int status;       /* waitpid() status, valid once reaped */
	char out[256];    /* file holding its stdout */
	char err[256];    /* file holding its stderr */
} srvt_proc;

/* Starts bin with args (NULL-terminated, argv[0] excluded); its stdout and
 * stderr go to files named after `tag` in `dir`, and it runs under umask 0
 * so that any file mode it gets is the program's own doing.
 * Returns 0, or -1 if fork failed. */
int srvt_spawn(srvt_proc *p, const char *dir, const char *tag,
	       const char *bin, const char *const *args);

/* A child process running fn(arg) and _exit()ing with its return value,
 * tracked like a server (srvt_wait, srvt_kill). Returns 0, or -1. */
int srvt_fork(srvt_proc *p, int (*fn)(void *), void *arg);

/* Waits until `path` ("@name": abstract) accepts a connection, trying
 * every millisecond. Returns 0; -1 if the child exited first or ms passed. */
int srvt_wait_ready(srvt_proc *p, const char *path, int ms);

/* Reaps the child if it has exited: 1 if it is reaped (now or before),
 * 0 if it still runs. Never waits. */
int srvt_poll(srvt_proc *p);

/* Waits for the child to exit and reaps it. Returns 0; -1 if ms passed
 * (the child is then killed with SIGKILL and reaped). */
int srvt_wait(srvt_proc *p, int ms);

/* SIGTERM, then srvt_wait(p, ms). */
int srvt_stop(srvt_proc *p, int ms);

/* SIGKILL and reap; a no-op once reaped. */
void srvt_kill(srvt_proc *p);

/* Kills and reaps every child still running. */
void srvt_kill_all(void);

/* The exit code of a reaped child that exited normally, else -1. */
int srvt_exit_code(const srvt_proc *p);

/* The child's stdout or stderr so far: malloc'd, NUL-terminated, never NULL. */
char *srvt_stdout(const srvt_proc *p);
char *srvt_stderr(const srvt_proc *p);

/* VmRSS of a process in KiB, from /proc/<pid>/status; -1 if unreadable. */
long srvt_rss_kib(pid_t pid);

/* The process's seccomp mode, from /proc/<pid>/status ("Seccomp:"): 0 none,
 * 1 strict, 2 a filter; -1 if unreadable. */
long srvt_seccomp(pid_t pid);

/* The seccomp mode once it is `want`, or as it is after ms: a server
 * accepts from listen() on and installs its filter a moment later. */
long srvt_wait_seccomp(pid_t pid, long want, int ms);

/* A client connected to `path` ("@name": abstract), non-blocking, or -1
 * with errno set. The connect itself blocks at most 5 s (a full backlog). */
int srvt_connect(const char *path);

/* A socket file nobody listens on (bound, then closed, never unlinked), as
 * a server that died leaves it. Returns 0, or -1 with errno set. */
int srvt_make_stale(const char *path);

/* A listening socket of the test's own at path ("@name": abstract), as
 * another server would hold it, or -1 with errno set. */
int srvt_listen(const char *path);

/* How many of the bytes sent on the connected AF_UNIX stream socket fd the
 * peer has not read yet: the Recv-Q of the peer's end, asked of the kernel
 * through sock_diag (what `ss -x` shows), exact where SIOCOUTQ on fd
 * counts buffer sizes. -1 if it cannot tell (no sock_diag, or the peer has
 * closed: then it reads nothing more). */
long srvt_peer_unread(int fd);

/* 1 if a server's stderr holds no sanitizer report. */
int srvt_log_clean(const char *log);

/* 1 if the first len of the total bytes of framed output p end where a
 * frame ends: nothing was cut in half. */
int srvt_frames_whole(const uint8_t *p, size_t total, size_t len);

/* Monotonic milliseconds, and a bounded sleep. */
long srvt_now_ms(void);
void srvt_sleep_ms(int ms);

#endif
