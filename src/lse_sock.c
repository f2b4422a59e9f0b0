/* lse_sock: socket file safety (contract in lse_sock.h). */
#define _GNU_SOURCE
#include "lse_sock.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

int lse_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* A directory we may put a socket in: ours or root's, and not writable by
 * others unless sticky (then nobody can replace our file). */
static int dir_safe(const char *dir, char *err, size_t errlen)
{
	struct stat st;

	if (stat(dir, &st) != 0)
		return lse_errf(err, errlen, "directory %s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return lse_errf(err, errlen, "%s is not a directory", dir);
	if (st.st_uid != getuid() && st.st_uid != 0)
		return lse_errf(err, errlen, "refusing directory %s: owned by uid %u, not by you (uid %u) or root",
			    dir, (unsigned)st.st_uid, (unsigned)getuid());
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX))
		return lse_errf(err, errlen, "refusing directory %s: writable by other users without the sticky bit (mode %04o)",
			    dir, (unsigned)(st.st_mode & 07777));
	return 0;
}

/* A directory of our own, created 0700 if missing, and then exactly ours. */
static int private_dir(const char *dir, char *err, size_t errlen)
{
	struct stat st;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return lse_errf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
	if (lstat(dir, &st) != 0)
		return lse_errf(err, errlen, "%s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode) || st.st_uid != getuid() || (st.st_mode & 077))
		return lse_errf(err, errlen, "refusing %s: not a private directory of yours (want mode 0700, uid %u)",
			    dir, (unsigned)getuid());
	return 0;
}

int lse_sock_default_path(char *out, size_t outlen, char *err, size_t errlen)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	char dir[256];
	int n;

	if (xdg && xdg[0] == '/')
		n = snprintf(dir, sizeof dir, "%s/lsecho", xdg);
	else
		n = snprintf(dir, sizeof dir, "/tmp/lsecho-%u", (unsigned)getuid());
	/* Checked before anything is made: a truncated name is another
	 * directory. */
	if ((size_t)n >= sizeof dir || (size_t)snprintf(out, outlen, "%s/lsecho.sock", dir) >= outlen)
		return lse_errf(err, errlen, "default socket path under %s is too long", dir);
	return private_dir(dir, err, errlen);
}

static int make_addr(struct sockaddr_un *a, socklen_t *alen, const char *path,
		     char *err, size_t errlen)
{
	size_t n = strlen(path);

	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	if (n == 0 || (path[0] == '@' && n == 1))
		return lse_errf(err, errlen, "empty socket path");
	if (n >= sizeof a->sun_path)
		return lse_errf(err, errlen, "socket path is %zu bytes; the limit is %zu", n,
			    sizeof a->sun_path - 1);
	if (path[0] == '@') {   /* abstract: a leading NUL, no file */
		memcpy(a->sun_path + 1, path + 1, n - 1);
		*alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	} else {
		memcpy(a->sun_path, path, n);
		*alen = (socklen_t)sizeof *a;
	}
	return 0;
}

/* What sits at path: 0 nothing, 1 a stale socket (removed), -1 refuse. */
static int clear_path(const char *path, const struct sockaddr_un *a, socklen_t alen,
		      char *err, size_t errlen)
{
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : lse_errf(err, errlen, "%s: %s", path, strerror(errno));
	if (S_ISLNK(st.st_mode))
		return lse_errf(err, errlen, "refusing %s: it is a symbolic link", path);
	if (!S_ISSOCK(st.st_mode))
		return lse_errf(err, errlen, "refusing %s: it exists and is not a socket", path);
	/* Non-blocking: a server whose backlog is full (EAGAIN) is live too,
	 * and a blocking connect would wait on it. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return lse_errf(err, errlen, "socket: %s", strerror(errno));
	rc = connect(fd, (const struct sockaddr *)a, alen);
	close(fd);
	if (rc == 0 || errno == EAGAIN)
		return lse_errf(err, errlen, "a server is already listening on %s; leaving it alone", path);
	if (errno != ECONNREFUSED)
		return lse_errf(err, errlen, "cannot tell whether %s is in use: %s", path, strerror(errno));
	if (unlink(path) != 0)
		return lse_errf(err, errlen, "cannot remove stale socket %s: %s", path, strerror(errno));
	return 1;
}

/* Returns 0; -1 with errno from bind(); -2 with the reason in err. */
static int bind_file(lse_sock *s, const struct sockaddr_un *a, socklen_t alen,
		     char *err, size_t errlen)
{
	mode_t old = umask(0177);   /* the file is born 0600: no window */
	int rc = bind(s->fd, (const struct sockaddr *)a, alen);
	int e = errno;
	struct stat st;

	umask(old);
	if (rc != 0) {
		errno = e;
		return -1;
	}
	if (lstat(s->path, &st) != 0 || !S_ISSOCK(st.st_mode) || st.st_uid != geteuid())
		return lse_errf(err, errlen, "%s changed under us after bind", s->path) - 1;
	s->dev = st.st_dev;   /* ours from here: a failure below removes it */
	s->ino = st.st_ino;
	/* Only a default ACL on the directory makes it other than 0600. */
	if ((st.st_mode & 0777) != 0600 && chmod(s->path, 0600) != 0)
		return lse_errf(err, errlen, "chmod 0600 %s: %s", s->path, strerror(errno)) - 1;
	return 0;
}

int lse_sock_listen(lse_sock *s, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un a;
	socklen_t alen = 0;
	int rc;

	memset(s, 0, sizeof *s);
	s->fd = s->dirfd = -1;
	if (make_addr(&a, &alen, path, err, errlen) != 0)
		return -1;
	snprintf(s->path, sizeof s->path, "%s", path);
	s->abstract = path[0] == '@';
	if (!s->abstract) {
		char buf[sizeof s->path];
		const char *slash = strrchr(s->path, '/'), *dir;

		snprintf(buf, sizeof buf, "%s", path);
		dir = dirname(buf);   /* "." for a bare name: then buf is unchanged */
		if (dir_safe(dir, err, errlen) != 0)
			return -1;
		s->dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (s->dirfd < 0)
			return lse_errf(err, errlen, "directory %s: %s", dir, strerror(errno));
		s->base = slash ? slash + 1 : s->path;
	}
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		lse_errf(err, errlen, "socket: %s", strerror(errno));
		goto out;
	}
	/* A file in the way is judged, and a stale one removed, only once. */
	for (int attempt = 0;; attempt++) {
		rc = s->abstract ? bind(s->fd, (struct sockaddr *)&a, alen)
				 : bind_file(s, &a, alen, err, errlen);
		if (rc == 0)
			break;
		if (rc == -2)
			goto out;
		if (errno == EADDRINUSE && !s->abstract && attempt == 0) {
			if (clear_path(path, &a, alen, err, errlen) < 0)
				goto out;
			continue;
		}
		if (errno == EADDRINUSE && s->abstract)
			lse_errf(err, errlen, "abstract socket %s is already in use", path);
		else
			lse_errf(err, errlen, "bind %s: %s", path, strerror(errno));
		goto out;
	}
	if (listen(s->fd, SOMAXCONN) != 0) {
		lse_errf(err, errlen, "listen %s: %s", path, strerror(errno));
		goto out;
	}
	return 0;
out:
	lse_sock_close(s);
	return -1;
}

int lse_sock_adopt(lse_sock *s, int fd, char *err, size_t errlen)
{
	struct sockaddr_un a;
	socklen_t alen = sizeof a, len;
	int domain = 0, type = 0, listening = 0, fl;

	memset(s, 0, sizeof *s);
	s->fd = s->dirfd = -1;
	if (fcntl(fd, F_GETFD) < 0)
		return lse_errf(err, errlen, "passed descriptor %d: %s", fd, strerror(errno));
	len = sizeof domain;
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0)
		return lse_errf(err, errlen, "passed descriptor %d is not a socket: %s", fd,
				strerror(errno));
	len = sizeof type;
	getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len);
	len = sizeof listening;
	getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len);
	if (domain != AF_UNIX)
		return lse_errf(err, errlen, "passed descriptor %d is not an AF_UNIX socket "
				"(want ListenStream= a path or @name)", fd);
	if (type != SOCK_STREAM)
		return lse_errf(err, errlen, "passed descriptor %d is not a stream socket "
				"(want ListenStream=)", fd);
	if (!listening)
		return lse_errf(err, errlen, "passed descriptor %d is not listening "
				"(want Accept=no)", fd);
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) != 0)
		return lse_errf(err, errlen, "passed descriptor %d: fcntl: %s", fd, strerror(errno));
	memset(&a, 0, sizeof a);
	if (getsockname(fd, (struct sockaddr *)&a, &alen) == 0 &&
	    alen > offsetof(struct sockaddr_un, sun_path) + 1) {
		size_t n = alen - offsetof(struct sockaddr_un, sun_path);

		s->abstract = a.sun_path[0] == '\0';
		if (s->abstract)
			a.sun_path[0] = '@';
		if (n >= sizeof a.sun_path)
			n = sizeof a.sun_path - 1;
		a.sun_path[n] = '\0';
		snprintf(s->path, sizeof s->path, "%s", a.sun_path);
	} else {
		snprintf(s->path, sizeof s->path, "(unnamed)");
	}
	s->fd = fd;
	s->passed = 1;
	return 0;
}

void lse_sock_close(lse_sock *s)
{
	struct stat st;

	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	if (s->ino != 0 && s->dirfd >= 0 &&
	    fstatat(s->dirfd, s->base, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    st.st_dev == s->dev && st.st_ino == s->ino)
		unlinkat(s->dirfd, s->base, 0);
	s->ino = 0;
	if (s->dirfd >= 0)
		close(s->dirfd);
	s->dirfd = -1;
}
