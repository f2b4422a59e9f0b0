/* lse_sd: socket activation and service notification (contract in
 * lse_sd.h). */
#define _GNU_SOURCE
#include "lse_sd.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lse_sock.h"

/* A positive decimal without sign, spaces or leading zeros, up to max.
 * The first character is checked to be no sign, space or 0; one above '9'
 * is no digit, and strtoul then reads nothing, which *end catches. */
static int parse_pos(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long n;

	if (s == NULL || s[0] < '1')
		return -1;
	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || n > max)
		return -1;
	*out = n;
	return 0;
}

int lse_sd_listen(char *err, size_t errlen)
{
	const char *pid_s = getenv("LISTEN_PID"), *fds_s = getenv("LISTEN_FDS");
	const char *names = getenv("LISTEN_FDNAMES");
	unsigned long pid, fds;
	int rc = 1;

	if (pid_s == NULL && fds_s == NULL && names == NULL)
		return 0;
	/* Every message is made before unsetenv(), which may free the strings. */
	if (fds_s == NULL)
		rc = lse_errf(err, errlen, "LISTEN_PID or LISTEN_FDNAMES is set without LISTEN_FDS: "
			      "not a socket activation this server understands");
	else if (parse_pos(fds_s, INT_MAX, &fds) != 0)
		rc = lse_errf(err, errlen, "LISTEN_FDS=%s: want a positive number", fds_s);
	else if (pid_s == NULL)
		rc = lse_errf(err, errlen, "LISTEN_FDS is set without LISTEN_PID");
	else if (parse_pos(pid_s, INT_MAX, &pid) != 0)
		rc = lse_errf(err, errlen, "LISTEN_PID=%s: want a process id", pid_s);
	else if (pid != (unsigned long)getpid())
		rc = lse_errf(err, errlen, "LISTEN_PID=%lu is not this process (%d): the sockets "
			      "were passed to another one", pid, (int)getpid());
	else if (fds != 1)
		rc = lse_errf(err, errlen, "LISTEN_FDS=%lu: lsecho-server serves one socket "
			      "(one ListenStream= in its .socket unit)", fds);
	else if (names != NULL && strchr(names, ':') != NULL)
		rc = lse_errf(err, errlen, "LISTEN_FDNAMES=%s names more than the one socket", names);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return rc;
}

int lse_sd_notify_open(int *out, char *err, size_t errlen)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un a = { .sun_family = AF_UNIX };   /* the rest zero */
	socklen_t alen;
	size_t n;
	int fd;

	*out = -1;
	if (path == NULL)
		return 0;
	n = strlen(path);
	if (n < 2 || (path[0] != '/' && path[0] != '@'))
		return lse_errf(err, errlen, "NOTIFY_SOCKET=%s: want an absolute path or @name", path);
	if (n >= sizeof a.sun_path)
		return lse_errf(err, errlen, "NOTIFY_SOCKET is %zu bytes; the limit is %zu", n,
				sizeof a.sun_path - 1);
	memcpy(a.sun_path, path, n);
	if (path[0] == '@')
		a.sun_path[0] = '\0';   /* abstract: the name after a NUL, no terminator */
	/* Exactly the name's bytes: an abstract name has no terminator, and
	 * Linux terminates a path itself. */
	alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return lse_errf(err, errlen, "NOTIFY_SOCKET: socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&a, alen) != 0) {
		int e = errno;

		close(fd);
		return lse_errf(err, errlen, "NOTIFY_SOCKET=%s: connect: %s", path, strerror(e));
	}
	unsetenv("NOTIFY_SOCKET");
	*out = fd;
	return 0;
}

void lse_sd_notify(int fd, const char *state)
{
	ssize_t n;

	if (fd < 0)
		return;
	do
		n = send(fd, state, strlen(state), MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
}
