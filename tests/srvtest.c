/* srvtest: lsecho-server as a child process (contract in srvtest.h). */
#define _GNU_SOURCE
#include "srvtest.h"
#include "lse_frame.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STEP_MS 10
#define MAX_LIVE 64

/* Every child not yet reaped, so that any exit path can kill it. */
static pid_t live[MAX_LIVE];

static void live_add(pid_t pid)
{
	for (int i = 0; i < MAX_LIVE; i++) {
		if (live[i] == 0) {
			live[i] = pid;
			return;
		}
	}
	/* More children than slots: the test is broken, not the server. */
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	fprintf(stderr, "srvtest: too many children\n");
	abort();
}

static void live_del(pid_t pid)
{
	for (int i = 0; i < MAX_LIVE; i++)
		if (live[i] == pid)
			live[i] = 0;
}

long srvt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

void srvt_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* In the child: die with the test, and send output to the files. */
static void child_setup(const srvt_proc *p)
{
	int out, err;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		_exit(127);   /* the test died before prctl took hold */
	umask(0);
	out = open(p->out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	err = open(p->err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0 || err < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		_exit(127);
}

int srvt_spawn(srvt_proc *p, const char *dir, const char *tag,
	       const char *bin, const char *const *args)
{
	char *argv[32];
	size_t n = 0;
	pid_t pid;

	memset(p, 0, sizeof *p);
	snprintf(p->out, sizeof p->out, "%s/%s.out", dir, tag);
	snprintf(p->err, sizeof p->err, "%s/%s.err", dir, tag);
	argv[n++] = (char *)bin;
	for (size_t i = 0; args && args[i] && n < sizeof argv / sizeof *argv - 1; i++)
		argv[n++] = (char *)args[i];
	argv[n] = NULL;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		child_setup(p);
		execv(bin, argv);
		fprintf(stderr, "srvtest: exec %s: %s\n", bin, strerror(errno));
		_exit(127);
	}
	p->pid = pid;
	live_add(pid);
	return 0;
}

int srvt_fork(srvt_proc *p, int (*fn)(void *), void *arg)
{
	pid_t pid;

	memset(p, 0, sizeof *p);
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		_exit(fn(arg));
	}
	p->pid = pid;
	live_add(pid);
	return 0;
}

int srvt_poll(srvt_proc *p)
{
	pid_t r;

	if (p->pid <= 0)
		return 1;
	do
		r = waitpid(p->pid, &p->status, WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return 0;
	live_del(p->pid);
	p->pid = 0;
	if (r < 0)
		p->status = -1;
	return 1;
}

void srvt_kill(srvt_proc *p)
{
	if (p->pid <= 0)
		return;
	kill(p->pid, SIGKILL);
	while (waitpid(p->pid, &p->status, 0) < 0 && errno == EINTR)
		;
	live_del(p->pid);
	p->pid = 0;
}

void srvt_kill_all(void)
{
	for (int i = 0; i < MAX_LIVE; i++) {
		if (live[i] > 0) {
			kill(live[i], SIGKILL);
			while (waitpid(live[i], NULL, 0) < 0 && errno == EINTR)
				;
			live[i] = 0;
		}
	}
}

int srvt_wait(srvt_proc *p, int ms)
{
	for (long end = srvt_now_ms() + ms;;) {
		if (srvt_poll(p))
			return 0;
		if (srvt_now_ms() >= end)
			break;
		srvt_sleep_ms(STEP_MS);
	}
	fprintf(stderr, "srvtest: pid %d still running after %d ms: killed\n", (int)p->pid, ms);
	srvt_kill(p);
	return -1;
}

int srvt_stop(srvt_proc *p, int ms)
{
	if (p->pid > 0)
		kill(p->pid, SIGTERM);
	return srvt_wait(p, ms);
}

int srvt_exit_code(const srvt_proc *p)
{
	if (p->pid != 0 || p->status == -1 || !WIFEXITED(p->status))
		return -1;
	return WEXITSTATUS(p->status);
}

static char *slurp(const char *file)
{
	FILE *f = fopen(file, "rb");
	char *s = NULL;
	size_t len = 0, cap = 0;

	if (f) {
		for (;;) {
			if (cap - len < 4096) {
				cap = cap ? cap * 2 : 8192;
				s = realloc(s, cap);
				if (s == NULL)
					abort();
			}
			size_t n = fread(s + len, 1, cap - len - 1, f);
			if (n == 0)
				break;
			len += n;
		}
		fclose(f);
	}
	if (s == NULL && (s = malloc(1)) == NULL)
		abort();
	s[len] = '\0';
	return s;
}

char *srvt_stdout(const srvt_proc *p)
{
	return slurp(p->out);
}

char *srvt_stderr(const srvt_proc *p)
{
	return slurp(p->err);
}

/* A number from a "Name: value" line of /proc/<pid>/status, or -1. */
static long status_field(pid_t pid, const char *name)
{
	char file[64], line[256];
	size_t n = strlen(name);
	long v = -1;
	FILE *f;

	snprintf(file, sizeof file, "/proc/%d/status", (int)pid);
	f = fopen(file, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, name, n) == 0 && line[n] == ':' &&
		    sscanf(line + n + 1, "%ld", &v) == 1)
			break;
	fclose(f);
	return v;
}

long srvt_rss_kib(pid_t pid)
{
	return status_field(pid, "VmRSS");
}

long srvt_seccomp(pid_t pid)
{
	return status_field(pid, "Seccomp");
}

long srvt_wait_seccomp(pid_t pid, long want, int ms)
{
	long mode;

	for (long end = srvt_now_ms() + ms;; srvt_sleep_ms(1)) {
		mode = srvt_seccomp(pid);
		if (mode == want || srvt_now_ms() >= end)
			return mode;
	}
}

static socklen_t make_addr(struct sockaddr_un *a, const char *path)
{
	size_t n = strlen(path);

	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	if (n >= sizeof a->sun_path)
		n = sizeof a->sun_path - 1;
	if (path[0] == '@') {
		memcpy(a->sun_path + 1, path + 1, n - 1);
		return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	}
	memcpy(a->sun_path, path, n);
	return (socklen_t)sizeof *a;
}

int srvt_connect(const char *path)
{
	struct sockaddr_un a;
	socklen_t alen = make_addr(&a, path);
	struct timeval tv = { 5, 0 };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), e;

	if (fd < 0)
		return -1;
	/* A blocking AF_UNIX connect waits for backlog room; SO_SNDTIMEO
	 * bounds that wait. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0 ||
	    connect(fd, (struct sockaddr *)&a, alen) != 0 ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* One non-blocking attempt: 1 connected, 0 not (yet). */
static int try_connect(const char *path)
{
	struct sockaddr_un a;
	socklen_t alen = make_addr(&a, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int ok;

	if (fd < 0)
		return 0;
	ok = connect(fd, (struct sockaddr *)&a, alen) == 0;
	close(fd);
	return ok;
}

int srvt_wait_ready(srvt_proc *p, const char *path, int ms)
{
	for (long end = srvt_now_ms() + ms;;) {
		if (srvt_poll(p)) {
			fprintf(stderr, "srvtest: server exited before accepting on %s\n", path);
			return -1;
		}
		if (try_connect(path))
			return 0;
		if (srvt_now_ms() >= end)
			break;
		srvt_sleep_ms(1);   /* fine-grained: a start-up race shows */
	}
	fprintf(stderr, "srvtest: %s not accepting after %d ms\n", path, ms);
	return -1;
}

int srvt_make_stale(const char *path)
{
	struct sockaddr_un a;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), rc, e;

	if (fd < 0)
		return -1;
	make_addr(&a, path);
	rc = bind(fd, (struct sockaddr *)&a, sizeof a);
	e = errno;
	close(fd);
	errno = e;
	return rc == 0 ? 0 : -1;
}

int srvt_listen(const char *path)
{
	struct sockaddr_un a;
	socklen_t alen = make_addr(&a, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), e;

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&a, alen) != 0 || listen(fd, 16) != 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int srvt_log_clean(const char *log)
{
	return strstr(log, "Sanitizer") == NULL && strstr(log, "runtime error") == NULL;
}

int srvt_frames_whole(const uint8_t *p, size_t total, size_t len)
{
	size_t pos = 0;

	while (pos < len && total - pos >= LSE_HDR_LEN) {
		const uint8_t *h = p + pos + 4;
		pos += LSE_HDR_LEN + ((size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3]);
	}
	return pos == len;
}

/* One sock_diag question about the AF_UNIX socket with inode ino: its
 * peer's inode and its unread bytes, as `show` asks. Returns 0, or -1. */
static int diag_ask(uint32_t ino, uint32_t show, uint32_t *peer, uint32_t *unread)
{
	static int nl = -1;
	static uint32_t seq;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct {
		struct nlmsghdr h;
		struct unix_diag_req r;
	} q;
	union {
		struct nlmsghdr h;
		char b[4096];
	} a;
	const struct unix_diag_msg *m;
	const struct rtattr *at;
	ssize_t n;
	int len, found = 0;

	if (nl < 0) {
		struct timeval tv = { 1, 0 };

		nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
		if (nl < 0 || setsockopt(nl, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0)
			return -1;
	}
	memset(&q, 0, sizeof q);
	q.h.nlmsg_len = sizeof q;
	q.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	q.h.nlmsg_flags = NLM_F_REQUEST;
	q.h.nlmsg_seq = ++seq;
	q.r.sdiag_family = AF_UNIX;
	q.r.udiag_states = ~0u;
	q.r.udiag_ino = ino;
	q.r.udiag_show = show;
	q.r.udiag_cookie[0] = q.r.udiag_cookie[1] = ~0u;   /* no cookie: by inode */
	if (sendto(nl, &q, sizeof q, 0, (struct sockaddr *)&kernel, sizeof kernel) != (ssize_t)sizeof q)
		return -1;
	do
		n = recv(nl, &a, sizeof a, 0);
	while (n > 0 && NLMSG_OK(&a.h, (size_t)n) && a.h.nlmsg_seq != seq);
	if (n <= 0 || !NLMSG_OK(&a.h, (size_t)n) || a.h.nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    a.h.nlmsg_len < NLMSG_LENGTH(sizeof *m))
		return -1;
	m = NLMSG_DATA(&a.h);
	len = (int)(a.h.nlmsg_len - NLMSG_LENGTH(sizeof *m));
	/* RTA_NEXT by hand: the macro mixes int and unsigned, which gcc's
	 * -Wconversion refuses. */
	for (at = (const struct rtattr *)(m + 1); RTA_OK(at, len);
	     len -= (int)RTA_ALIGN(at->rta_len),
	     at = (const struct rtattr *)((const char *)at + RTA_ALIGN(at->rta_len))) {
		if (at->rta_type == UNIX_DIAG_PEER && peer && RTA_PAYLOAD(at) >= sizeof *peer) {
			memcpy(peer, RTA_DATA(at), sizeof *peer);
			found |= 1;
		} else if (at->rta_type == UNIX_DIAG_RQLEN && unread &&
			   RTA_PAYLOAD(at) >= sizeof(struct unix_diag_rqlen)) {
			struct unix_diag_rqlen rq;

			memcpy(&rq, RTA_DATA(at), sizeof rq);
			*unread = rq.udiag_rqueue;
			found |= 2;
		}
	}
	return found == ((peer ? 1 : 0) | (unread ? 2 : 0)) ? 0 : -1;
}

long srvt_peer_unread(int fd)
{
	struct stat st;
	uint32_t peer, unread;

	if (fstat(fd, &st) != 0 || diag_ask((uint32_t)st.st_ino, UDIAG_SHOW_PEER, &peer, NULL) != 0 ||
	    peer == 0 || diag_ask(peer, UDIAG_SHOW_RQLEN, NULL, &unread) != 0)
		return -1;
	return (long)unread;
}
