/* lse_sock (docs/server.md, "Socket file") in-process, on paths in a
 * private temporary directory: every state the path can be in before
 * lse_sock_listen (nothing, a stale socket, a live one, a datagram socket,
 * symbolic links, a file, a directory, a FIFO), the parent directory's
 * type, mode and owner (as root and as uid 65534), names at the sun_path
 * limit, abstract names, the file's mode from birth and its owner, that
 * lse_sock_close removes only the file it bound, lse_sock_adopt on every
 * kind of descriptor, and lse_sock_default_path. Every refusal is checked
 * word for word and must leave no descriptor open. Calls the kernel
 * rarely fails are failed on purpose through link-time wraps (--wrap, in
 * tests/CMakeLists.txt), and races are staged from inside them. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <netinet/in.h>
#include <unistd.h>

#include "feed.h"
#include "lse_sock.h"

#define NOBODY 65534
#define ANY (-1)

static char base[64];   /* the private directory; also our cwd */
static char name_pfx[48];   /* abstract names: "@lsecho-test-sock-PID-" */

/* ---- faults: the wrapped calls ---- */

/* The next call of fault.fn (with fault.op as its fcntl command or
 * getsockopt option, unless ANY) after fault.skip matching ones fails
 * with fault.err. stat and lstat fill the buffer first: a failed call
 * whose buffer looks fine, so only the return value can be trusted. */
static struct {
	const char *fn;
	int op, skip, err;
} fault;
static void (*after_bind)(const char *path);     /* once, after a bind to a path */
static void (*after_unlink)(const char *path);   /* once, after an unlink */

static void arm(const char *fn, int op, int skip, int err)
{
	fault.fn = fn;
	fault.op = op;
	fault.skip = skip;
	fault.err = err;
}

static int hit(const char *fn, int op)
{
	if (fault.fn == NULL || strcmp(fault.fn, fn) != 0 || (fault.op != ANY && fault.op != op))
		return 0;
	if (fault.skip-- > 0)
		return 0;
	fault.fn = NULL;
	return 1;
}

int __real_stat(const char *path, struct stat *st);
int __real_lstat(const char *path, struct stat *st);
int __real_bind(int fd, const struct sockaddr *a, socklen_t len);
int __real_unlink(const char *path);
int __real_chmod(const char *path, mode_t mode);
int __real_listen(int fd, int backlog);
int __real_getsockopt(int fd, int level, int opt, void *val, socklen_t *len);
int __real_getsockname(int fd, struct sockaddr *a, socklen_t *len);
int __real_fcntl(int fd, int cmd, ...);

int __wrap_stat(const char *path, struct stat *st)
{
	if (hit("stat", ANY)) {
		__real_stat(path, st);
		errno = EIO;
		return -1;
	}
	return __real_stat(path, st);
}

int __wrap_lstat(const char *path, struct stat *st)
{
	if (hit("lstat", ANY)) {
		__real_lstat(path, st);
		errno = EIO;
		return -1;
	}
	return __real_lstat(path, st);
}

int __wrap_bind(int fd, const struct sockaddr *a, socklen_t len)
{
	struct sockaddr_un u = { 0 };
	void (*hook)(const char *) = after_bind;
	int rc;

	if (hit("bind", ANY)) {
		errno = fault.err;
		return -1;
	}
	rc = __real_bind(fd, a, len);
	memcpy(&u, a, len < sizeof u ? len : sizeof u);
	if (rc == 0 && hook && u.sun_family == AF_UNIX && u.sun_path[0] != '\0') {
		after_bind = NULL;
		hook(u.sun_path);
	}
	return rc;
}

int __wrap_unlink(const char *path)
{
	void (*hook)(const char *) = after_unlink;
	int rc;

	if (hit("unlink", ANY)) {
		errno = fault.err;
		return -1;
	}
	rc = __real_unlink(path);
	if (rc == 0 && hook) {
		after_unlink = NULL;
		hook(path);
	}
	return rc;
}

#define WRAP_FAIL(fn, op) \
	do { \
		if (hit(fn, op)) { \
			errno = fault.err; \
			return -1; \
		} \
	} while (0)

int __wrap_chmod(const char *path, mode_t mode)
{
	WRAP_FAIL("chmod", ANY);
	return __real_chmod(path, mode);
}

int __wrap_listen(int fd, int backlog)
{
	WRAP_FAIL("listen", ANY);
	return __real_listen(fd, backlog);
}

int __wrap_getsockopt(int fd, int level, int opt, void *val, socklen_t *len)
{
	WRAP_FAIL("getsockopt", opt);
	return __real_getsockopt(fd, level, opt, val, len);
}

int __wrap_getsockname(int fd, struct sockaddr *a, socklen_t *len)
{
	WRAP_FAIL("getsockname", ANY);
	return __real_getsockname(fd, a, len);
}

/* Every fcntl in this program takes no argument or an int. */
int __wrap_fcntl(int fd, int cmd, ...)
{
	va_list ap;
	int arg;

	WRAP_FAIL("fcntl", cmd);
	if (cmd == F_GETFD || cmd == F_GETFL)
		return __real_fcntl(fd, cmd);
	va_start(ap, cmd);
	arg = va_arg(ap, int);
	va_end(ap);
	return __real_fcntl(fd, cmd, arg);
}

/* ---- paths and sockets ---- */

static void at(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", base, name);
}

static void subdir(char *out, size_t len, const char *name, mode_t mode)
{
	at(out, len, name);
	if (mkdir(out, 0700) != 0 || chmod(out, mode) != 0) {
		fprintf(stderr, "mkdir %s: %s\n", out, strerror(errno));
		abort();
	}
}

static socklen_t addr_of(struct sockaddr_un *a, const char *path)
{
	size_t n = strlen(path);

	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	memcpy(a->sun_path, path, n < sizeof a->sun_path ? n : sizeof a->sun_path);
	if (path[0] != '@')
		return (socklen_t)sizeof *a;
	a->sun_path[0] = '\0';
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
}

/* A socket of `type` bound at path; listening (with backlog) unless < 0. */
static int bound(const char *path, int type, int backlog)
{
	struct sockaddr_un a;
	socklen_t len = addr_of(&a, path);
	int fd = socket(AF_UNIX, type, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, len) != 0 ||
	    (backlog >= 0 && listen(fd, backlog) != 0)) {
		fprintf(stderr, "bind %s: %s\n", path, strerror(errno));
		abort();
	}
	return fd;
}

/* A socket file with nobody listening: bound, then closed, not unlinked. */
static void make_stale(const char *path)
{
	close(bound(path, SOCK_STREAM, -1));
}

/* A connected descriptor, or -1 (errno says why). */
static int dial(const char *path)
{
	struct sockaddr_un a;
	socklen_t len = addr_of(&a, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0), e;

	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, len) == 0)
		return fd;
	e = errno;
	if (fd >= 0)
		close(fd);
	errno = e;
	return -1;
}

static int answers(const char *path)
{
	int fd = dial(path);

	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

static int is_sock(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

static int gone(const char *path)
{
	struct stat st;

	return lstat(path, &st) != 0 && errno == ENOENT;
}

/* The listening socket lse_sock_listen promised: non-blocking,
 * close-on-exec, listening, reachable at path. */
static void check_listener(const lse_sock *s, const char *path)
{
	int on = 0;
	socklen_t len = sizeof on;

	CHECK(s->fd >= 0);
	CHECK(strcmp(s->path, path) == 0);
	CHECK_EQ(s->passed, 0);
	CHECK_EQ(s->abstract, path[0] == '@');
	CHECK(fcntl(s->fd, F_GETFL) & O_NONBLOCK);
	CHECK(fcntl(s->fd, F_GETFD) & FD_CLOEXEC);
	CHECK(getsockopt(s->fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 && on);
	CHECK(answers(path));
}

/* The file at path: a socket, mode 0600, ours. */
static void check_file(const char *path)
{
	struct stat st;

	if (!CHECK_EQ(lstat(path, &st), 0))
		return;
	CHECK(S_ISSOCK(st.st_mode));
	CHECK_EQ(st.st_mode & 07777, 0600);
	CHECK_EQ(st.st_uid, geteuid());
}

/* lse_sock_listen(path) succeeds; s is filled with junk first. */
static int listens(lse_sock *s, const char *path)
{
	char err[256] = "";
	int rc;

	memset(s, 0xa5, sizeof *s);
	rc = lse_sock_listen(s, path, err, sizeof err);
	if (!CHECK_EQ(rc, 0)) {
		fprintf(stderr, "  listen %s: %s\n", path, err);
		return -1;
	}
	check_listener(s, path);
	if (path[0] == '@')
		CHECK_EQ(s->dirfd, -1);
	else
		check_file(path);
	return 0;
}

/* listens(), then lse_sock_close(), which must remove the file. */
static void listens_closes(const char *path)
{
	lse_sock s;

	if (listens(&s, path) != 0)
		return;
	lse_sock_close(&s);
	CHECK(path[0] == '@' || gone(path));
	CHECK(!answers(path));
}

/* lse_sock_listen(path) fails with exactly the message given; no
 * descriptor stays open, and a second lse_sock_close (lse_server_close
 * calls it again) touches none that reuse the numbers it had. */
static const struct rlimit *limit_during;   /* RLIMIT_NOFILE for the call */

static void refused(const char *path, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void refused(const char *path, const char *fmt, ...)
{
	char want[512], err[256] = "";
	va_list ap;
	lse_sock s;
	struct rlimit old;
	int fds = lse_t_count_fds(), rc, spare[2];

	va_start(ap, fmt);
	vsnprintf(want, sizeof want, fmt, ap);
	va_end(ap);
	memset(&s, 0xa5, sizeof s);
	if (limit_during && (getrlimit(RLIMIT_NOFILE, &old) != 0 ||
			     setrlimit(RLIMIT_NOFILE, limit_during) != 0))
		abort();
	rc = lse_sock_listen(&s, path, err, sizeof err);
	if (limit_during && setrlimit(RLIMIT_NOFILE, &old) != 0)
		abort();
	if (!CHECK_EQ(rc, -1) || !CHECK(strcmp(err, want) == 0))
		fprintf(stderr, "  %s: rc %d, err \"%s\"\n  want \"%s\"\n", path, rc, err, want);
	CHECK_EQ(lse_t_count_fds(), fds);
	spare[0] = dup(2);
	spare[1] = dup(2);
	lse_sock_close(&s);
	CHECK(fcntl(spare[0], F_GETFD) >= 0 && fcntl(spare[1], F_GETFD) >= 0);
	CHECK(fcntl(0, F_GETFD) >= 0);
	close(spare[0]);
	close(spare[1]);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static void rm_tree(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Runs f as uid and gid 65534 in a child; 1 if every check there passed. */
static int as_nobody(void (*f)(void))
{
	pid_t pid;
	int status, failed = lse_t_fail;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		if (setgroups(0, NULL) != 0 || setresgid(NOBODY, NOBODY, NOBODY) != 0 ||
		    setresuid(NOBODY, NOBODY, NOBODY) != 0)
			_exit(3);
		f();
		fflush(NULL);
		_exit(lse_t_fail != failed);
	}
	return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	       WEXITSTATUS(status) == 0;
}

/* ---- the name ---- */

static void check_names(void)
{
	char path[160], name[160];
	lse_sock s;
	size_t n;

	refused("", "empty socket path");
	refused("@", "empty socket path");

	/* A file path of 107 bytes fits sun_path with its NUL; 108 does not. */
	n = (size_t)snprintf(path, sizeof path, "%s/", base);
	memset(path + n, 'f', 107 - n);
	path[107] = '\0';
	listens_closes(path);
	path[107] = 'f';
	path[108] = '\0';
	refused(path, "socket path is 108 bytes; the limit is 107");
	CHECK(gone(path));

	/* An abstract name: no file anywhere, reachable by its exact name. */
	snprintf(name, sizeof name, "%sname", name_pfx);
	if (listens(&s, name) == 0) {
		CHECK(gone(name));   /* not a file "@..." in the cwd */
		name[strlen(name) - 1] = 'x';
		CHECK(!answers(name));
		name[strlen(name) - 1] = 'e';
		lse_sock_close(&s);
		CHECK(!answers(name));
	}
	/* "@" and 106 bytes: 107, the most there is room for. */
	n = (size_t)snprintf(name, sizeof name, "%s", name_pfx);
	memset(name + n, 'a', 107 - n);
	name[107] = '\0';
	listens_closes(name);
	name[107] = 'a';
	name[108] = '\0';
	refused(name, "socket path is 108 bytes; the limit is 107");

	/* Relative paths: the file is found again through the directory
	 * descriptor, even after a chdir. */
	listens_closes("rel.sock");
	subdir(path, sizeof path, "rel", 0700);
	if (listens(&s, "rel/r.sock") == 0) {
		CHECK_EQ(chdir("/"), 0);
		lse_sock_close(&s);
		CHECK_EQ(chdir(base), 0);
		CHECK(gone("rel/r.sock"));
	}
}

/* ---- the parent directory ---- */

static void check_dir_modes(void)
{
	static const struct { mode_t mode; int ok; } modes[] = {
		{ 0700, 1 }, { 0711, 1 }, { 0750, 1 }, { 0755, 1 }, { 01700, 1 }, { 01770, 1 },
		{ 01777, 1 }, { 0770, 0 }, { 0777, 0 }, { 0720, 0 }, { 0702, 0 }, { 0730, 0 },
	};
	char dir[128], path[160];

	for (size_t i = 0; i < sizeof modes / sizeof *modes; i++) {
		char name[16];

		snprintf(name, sizeof name, "m%04o", (unsigned)modes[i].mode);
		subdir(dir, sizeof dir, name, modes[i].mode);
		snprintf(path, sizeof path, "%s/s.sock", dir);
		if (modes[i].ok)
			listens_closes(path);
		else
			refused(path, "refusing directory %s: writable by other users without the "
				"sticky bit (mode %04o)", dir, (unsigned)modes[i].mode);
		CHECK(gone(path));
	}
	at(dir, sizeof dir, "afile");
	lse_t_file_put(dir, "not a directory\n");
	snprintf(path, sizeof path, "%s/s.sock", dir);
	refused(path, "%s is not a directory", dir);
	at(dir, sizeof dir, "missing");
	snprintf(path, sizeof path, "%s/s.sock", dir);
	refused(path, "directory %s: %s", dir, strerror(ENOENT));

	if (geteuid() != 0) {
		printf("   not root: the directory-owner checks are skipped\n");
		return;
	}
	for (uid_t uid = 1; uid != 0; uid = uid == 1 ? NOBODY : 0) {
		snprintf(path, sizeof path, "owner%u", (unsigned)uid);
		subdir(dir, sizeof dir, path, 0755);
		CHECK_EQ(chown(dir, uid, uid), 0);
		snprintf(path, sizeof path, "%s/s.sock", dir);
		refused(path, "refusing directory %s: owned by uid %u, not by you (uid 0) or root",
			dir, (unsigned)uid);
	}
	subdir(dir, sizeof dir, "rootgroup", 0750);   /* the group does not matter */
	CHECK_EQ(chown(dir, 0, NOBODY), 0);
	snprintf(path, sizeof path, "%s/s.sock", dir);
	listens_closes(path);
}

/* As uid 65534: root's sticky directory and one's own are fine, another
 * user's is not, and a directory one cannot write is bind's refusal. */
static void nobody_dirs(void)
{
	char path[160];

	snprintf(path, sizeof path, "%s/nb-sticky/s.sock", base);
	listens_closes(path);
	snprintf(path, sizeof path, "%s/nb-own/s.sock", base);
	listens_closes(path);
	snprintf(path, sizeof path, "%s/nb-other/s.sock", base);
	refused(path, "refusing directory %s/nb-other: owned by uid 1, not by you (uid %u) or root",
		base, (unsigned)NOBODY);
	snprintf(path, sizeof path, "%s/nb-readonly/s.sock", base);
	refused(path, "bind %s: %s", path, strerror(EACCES));
	CHECK(gone(path));
}

static void check_dir_as_nobody(void)
{
	static const struct { const char *name; uid_t uid; mode_t mode; } dirs[] = {
		{ "nb-sticky", 0, 01777 }, { "nb-own", NOBODY, 0700 },
		{ "nb-other", 1, 0755 }, { "nb-readonly", NOBODY, 0500 },
	};
	char dir[128];

	if (geteuid() != 0) {
		printf("   not root: the checks as another user are skipped\n");
		return;
	}
	for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
		subdir(dir, sizeof dir, dirs[i].name, dirs[i].mode);
		CHECK_EQ(chown(dir, dirs[i].uid, dirs[i].uid), 0);
	}
	CHECK_EQ(chmod(base, 0711), 0);
	CHECK(as_nobody(nobody_dirs));
	CHECK_EQ(chmod(base, 0700), 0);
}

/* ---- what the path holds ---- */

static void check_states(void)
{
	char dir[128], path[160], dest[160], name[128];
	struct stat before, after;
	lse_sock s;
	int fd, c[2];

	subdir(dir, sizeof dir, "states", 0700);
	snprintf(path, sizeof path, "%s/s.sock", dir);
	snprintf(dest, sizeof dest, "%s/dest", dir);

	listens_closes(path);   /* nothing there */
	make_stale(path);       /* a stale socket: replaced */
	listens_closes(path);

	/* A live one: left alone, still answering. */
	fd = bound(path, SOCK_STREAM, 4);
	CHECK_EQ(lstat(path, &before), 0);
	refused(path, "a server is already listening on %s; leaving it alone", path);
	CHECK(lstat(path, &after) == 0 && after.st_ino == before.st_ino);
	CHECK(answers(path));
	close(fd);
	CHECK_EQ(unlink(path), 0);
	/* Its backlog full: a blocking probe would wait as long as the server
	 * does not accept. */
	fd = bound(path, SOCK_STREAM, 0);
	c[0] = dial(path);
	c[1] = dial(path);
	CHECK(c[0] >= 0 && c[1] < 0 && errno == EAGAIN);
	refused(path, "a server is already listening on %s; leaving it alone", path);
	CHECK(is_sock(path));
	close(c[0]);
	close(fd);
	CHECK_EQ(unlink(path), 0);

	/* A datagram socket, live or not: connect cannot tell; left alone. */
	fd = bound(path, SOCK_DGRAM, -1);
	refused(path, "cannot tell whether %s is in use: %s", path, strerror(EPROTOTYPE));
	CHECK(is_sock(path));
	close(fd);
	CHECK_EQ(unlink(path), 0);

	/* Symbolic links, wherever they point: never followed nor removed. */
	for (int k = 0; k < 5; k++) {
		fd = -1;
		if (k == 0)
			make_stale(dest);
		else if (k == 1)
			fd = bound(dest, SOCK_STREAM, 4);
		else if (k == 2)
			lse_t_file_put(dest, "keep me\n");
		else if (k == 3)
			CHECK_EQ(mkdir(dest, 0700), 0);
		CHECK_EQ(symlink(dest, path), 0);
		refused(path, "refusing %s: it is a symbolic link", path);
		CHECK(lstat(path, &after) == 0 && S_ISLNK(after.st_mode));
		if (k == 0)
			CHECK(is_sock(dest));
		else if (k == 1)
			CHECK(answers(dest));
		else if (k == 2)
			CHECK(lse_t_file_is(dest, "keep me\n"));
		else if (k == 4)
			CHECK(gone(dest));   /* nothing made through a dangling one */
		if (fd >= 0)
			close(fd);
		CHECK_EQ(unlink(path), 0);
		if (k != 4)
			CHECK_EQ(remove(dest), 0);
	}

	/* A file, a directory, a FIFO: not sockets, left as they are. */
	lse_t_file_put(path, "keep me\n");
	refused(path, "refusing %s: it exists and is not a socket", path);
	CHECK(lse_t_file_is(path, "keep me\n"));
	CHECK_EQ(unlink(path), 0);
	CHECK_EQ(mkdir(path, 0700), 0);
	refused(path, "refusing %s: it exists and is not a socket", path);
	CHECK(lstat(path, &after) == 0 && S_ISDIR(after.st_mode));
	CHECK_EQ(rmdir(path), 0);
	CHECK_EQ(mkfifo(path, 0600), 0);
	refused(path, "refusing %s: it exists and is not a socket", path);
	CHECK(lstat(path, &after) == 0 && S_ISFIFO(after.st_mode));
	CHECK_EQ(unlink(path), 0);

	/* An abstract name in use: refused; a file of the same spelling in the
	 * cwd is nothing to do with it and stays. */
	snprintf(name, sizeof name, "%staken", name_pfx);
	snprintf(path, sizeof path, "./%s", name);
	make_stale(path);   /* "@lsecho-...-taken", a file in the cwd */
	if (listens(&s, name) == 0) {
		refused(name, "abstract socket %s is already in use", name);
		CHECK(answers(name));
		lse_sock_close(&s);
	}
	CHECK(is_sock(name));
	CHECK_EQ(unlink(name), 0);
}

/* ---- the file: born 0600, ours, removed only if still ours ---- */

static mode_t born;   /* the file's mode right after bind */

static void note_born(const char *path)
{
	struct stat st;

	born = lstat(path, &st) == 0 ? st.st_mode & 07777 : 07777;
}

/* A default ACL on dir that grants the owner read only: what is made
 * there is born 0400 whatever the umask. 0 if the file system has none. */
static int acl_read_only(const char *dir)
{
	struct {
		uint32_t version;
		struct { uint16_t tag, perm; uint32_t id; } e[3];
	} acl = { 2, { { 0x01, 4, UINT32_MAX }, { 0x04, 0, UINT32_MAX }, { 0x20, 0, UINT32_MAX } } };

	return setxattr(dir, "system.posix_acl_default", &acl, sizeof acl, 0) == 0;
}

static void check_file_mode(void)
{
	char dir[128], path[160];

	subdir(dir, sizeof dir, "mode", 0700);
	snprintf(path, sizeof path, "%s/s.sock", dir);
	/* Born 0600 under umask 0177, and the caller's umask given back; no
	 * chmod needed, so one a syscall filter would refuse does no harm. */
	after_bind = note_born;
	arm("chmod", ANY, 0, EPERM);
	listens_closes(path);
	CHECK_EQ(born, 0600);
	CHECK_EQ(umask(022), 022);
	arm(NULL, ANY, 0, 0);

	subdir(dir, sizeof dir, "acl", 0700);
	snprintf(path, sizeof path, "%s/s.sock", dir);
	if (!acl_read_only(dir)) {
		printf("   no POSIX ACLs here: the chmod after bind is not tested\n");
		return;
	}
	after_bind = note_born;
	listens_closes(path);   /* made 0600 after all */
	CHECK_EQ(born, 0400);
	/* chmod refused: the start fails, and the file it made goes. */
	arm("chmod", ANY, 0, EPERM);
	refused(path, "chmod 0600 %s: %s", path, strerror(EPERM));
	CHECK(gone(path));
	arm(NULL, ANY, 0, 0);
}

static void check_close(void)
{
	char dir[128], path[160], other[160];
	struct stat st;
	lse_sock s;
	int keep, fds = lse_t_count_fds();

	subdir(dir, sizeof dir, "close", 0700);
	snprintf(path, sizeof path, "%s/s.sock", dir);
	snprintf(other, sizeof other, "%s/other.sock", dir);
	/* Replaced by another socket, or by a file: the replacement stays. */
	for (int k = 0; k < 2; k++) {
		if (listens(&s, path) != 0)
			return;
		if (k == 0) {
			make_stale(other);
			CHECK_EQ(rename(other, path), 0);
		} else {
			CHECK_EQ(unlink(path), 0);
			lse_t_file_put(path, "keep me\n");
		}
		CHECK_EQ(lstat(path, &st), 0);
		lse_sock_close(&s);
		CHECK(k == 0 ? is_sock(path) : lse_t_file_is(path, "keep me\n"));
		CHECK_EQ(unlink(path), 0);
	}
	CHECK_EQ(lse_t_count_fds(), fds);

	/* Closed twice: the second call closes nothing (the numbers may be
	 * someone else's by then) and removes nothing. */
	if (listens(&s, path) == 0) {
		int spare[2];

		lse_sock_close(&s);
		spare[0] = dup(2);
		spare[1] = dup(2);
		make_stale(path);
		lse_sock_close(&s);
		CHECK(fcntl(spare[0], F_GETFD) >= 0 && fcntl(spare[1], F_GETFD) >= 0);
		CHECK(is_sock(path));
		close(spare[0]);
		close(spare[1]);
		CHECK_EQ(unlink(path), 0);
	}

	/* Started with stdin closed: descriptor 0 is the directory's, or the
	 * abstract socket's, and is a descriptor like any other. */
	keep = dup(0);
	close(0);
	if (listens(&s, path) == 0) {
		CHECK_EQ(s.dirfd, 0);
		lse_sock_close(&s);
		CHECK(gone(path));
		CHECK(fcntl(0, F_GETFD) < 0);
	}
	snprintf(other, sizeof other, "%sstdin", name_pfx);
	if (listens(&s, other) == 0) {
		CHECK_EQ(s.fd, 0);
		lse_sock_close(&s);
		CHECK(fcntl(0, F_GETFD) < 0);
		CHECK(!answers(other));
	}
	dup2(keep, 0);
	close(keep);
	CHECK_EQ(lse_t_count_fds(), fds);
}

/* ---- races and failures, staged through the wraps ---- */

static char staged[160];

static void restale(const char *path)
{
	(void)path;
	make_stale(staged);
}

static void to_file(const char *path)
{
	unlink(path);
	lse_t_file_put(path, "keep me\n");
}

static void to_nobody(const char *path)
{
	if (lchown(path, NOBODY, NOBODY) != 0)
		abort();
}

static void check_races(void)
{
	char dir[128], *path = staged;

	subdir(dir, sizeof dir, "race", 0700);
	snprintf(staged, sizeof staged, "%s/s.sock", dir);
	/* The file bind found gone by the time it is looked at: bind again. */
	arm("bind", ANY, 0, EADDRINUSE);
	listens_closes(path);
	/* Any other bind failure is reported as it is, and not retried. */
	arm("bind", ANY, 0, EACCES);
	refused(path, "bind %s: %s", path, strerror(EACCES));
	CHECK(gone(path));

	/* What is in the way cannot be looked at, or removed: refused, and it
	 * stays. */
	make_stale(path);
	arm("lstat", ANY, 0, EIO);
	refused(path, "%s: %s", path, strerror(EIO));
	CHECK(is_sock(path));
	arm("unlink", ANY, 0, EPERM);
	refused(path, "cannot remove stale socket %s: %s", path, strerror(EPERM));
	CHECK(is_sock(path));
	/* Stale again after the removal: judged once only, so refused. */
	after_unlink = restale;
	refused(path, "bind %s: %s", path, strerror(EADDRINUSE));
	CHECK(is_sock(path));
	CHECK_EQ(unlink(path), 0);

	/* Changed between bind and the look at it: not ours, so refused and
	 * left there. */
	after_bind = to_file;
	refused(path, "%s changed under us after bind", path);
	CHECK(lse_t_file_is(path, "keep me\n"));
	CHECK_EQ(unlink(path), 0);
	arm("lstat", ANY, 0, EIO);
	refused(path, "%s changed under us after bind", path);
	unlink(path);
	if (geteuid() == 0) {
		after_bind = to_nobody;
		refused(path, "%s changed under us after bind", path);
		unlink(path);
	}

	/* listen fails: refused, and the file it made goes. */
	arm("listen", ANY, 0, ENOBUFS);
	refused(path, "listen %s: %s", path, strerror(ENOBUFS));
	CHECK(gone(path));

	/* The directory cannot be looked at. */
	arm("stat", ANY, 0, EIO);
	refused(path, "directory %s: %s", dir, strerror(EIO));
	arm(NULL, ANY, 0, 0);
	after_bind = after_unlink = NULL;
}

/* Out of descriptors at each open: the directory's, the socket, and the
 * one that probes a stale socket. */
static void check_fd_limit(void)
{
	char dir[128], path[160], name[128];
	struct rlimit old, lim;
	int k = dup(2);

	close(k);   /* k: the lowest free descriptor */
	subdir(dir, sizeof dir, "limit", 0700);
	snprintf(path, sizeof path, "%s/s.sock", dir);
	snprintf(name, sizeof name, "%slimit", name_pfx);
	if (getrlimit(RLIMIT_NOFILE, &old) != 0)
		return;
	for (int extra = 0; extra < 3; extra++) {
		lim = old;
		lim.rlim_cur = (rlim_t)(k + extra);
		if (extra == 2)
			make_stale(path);
		limit_during = &lim;
		if (extra == 0)
			refused(path, "directory %s: %s", dir, strerror(EMFILE));
		else
			refused(path, "socket: %s", strerror(EMFILE));
		if (extra == 0)
			refused(name, "socket: %s", strerror(EMFILE));
		limit_during = NULL;
		CHECK(extra == 2 ? is_sock(path) : gone(path));
	}
	unlink(path);
}

/* ---- lse_sock_adopt ---- */

/* lse_sock_adopt(fd) refuses with exactly want, and leaves fd open and
 * nothing for lse_sock_close to close. */
static void not_adopted(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void not_adopted(int fd, const char *fmt, ...)
{
	char want[512], err[256] = "";
	va_list ap;
	lse_sock s;
	int rc, open_before = fcntl(fd, F_GETFD) >= 0;

	va_start(ap, fmt);
	vsnprintf(want, sizeof want, fmt, ap);
	va_end(ap);
	memset(&s, 0xa5, sizeof s);
	rc = lse_sock_adopt(&s, fd, err, sizeof err);
	if (!CHECK_EQ(rc, -1) || !CHECK(strcmp(err, want) == 0))
		fprintf(stderr, "  adopt %d: rc %d, err \"%s\"\n  want \"%s\"\n", fd, rc, err, want);
	CHECK_EQ(s.fd, -1);
	CHECK_EQ(s.dirfd, -1);
	lse_sock_close(&s);
	CHECK_EQ(fcntl(fd, F_GETFD) >= 0, open_before);
	CHECK(fcntl(0, F_GETFD) >= 0);
}

/* A listening socket as systemd passes it (blocking, inheritable) is
 * adopted: non-blocking and close-on-exec after, its other flags kept,
 * its name recorded as want; lse_sock_close closes it and leaves its
 * file to its maker. */
static void adopted(int fd, const char *want, int abstract)
{
	char err[256] = "";
	lse_sock s;
	int rc;

	CHECK_EQ(fcntl(fd, F_SETFL, O_APPEND), 0);
	CHECK_EQ(fcntl(fd, F_SETFD, 0), 0);
	memset(&s, 0xa5, sizeof s);
	rc = lse_sock_adopt(&s, fd, err, sizeof err);
	if (!CHECK_EQ(rc, 0)) {
		fprintf(stderr, "  adopt %s: %s\n", want, err);
		close(fd);
		return;
	}
	CHECK_EQ(s.fd, fd);
	CHECK_EQ(s.dirfd, -1);
	CHECK_EQ(s.passed, 1);
	CHECK_EQ(s.abstract, abstract);
	if (!CHECK(strcmp(s.path, want) == 0))
		fprintf(stderr, "  path \"%s\", want \"%s\"\n", s.path, want);
	CHECK_EQ(fcntl(fd, F_GETFL), O_RDWR | O_APPEND | O_NONBLOCK);
	CHECK_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
	lse_sock_close(&s);
	CHECK(fcntl(fd, F_GETFD) < 0);
	CHECK(fcntl(0, F_GETFD) >= 0);
	CHECK(want[0] == '@' || want[0] == '(' || is_sock(want));
}

static void check_adopt(void)
{
	char path[160], name[160];
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd, p[2];

	fd = dup(2);
	close(fd);
	not_adopted(fd, "passed descriptor %d: %s", fd, strerror(EBADF));
	CHECK_EQ(pipe(p), 0);
	not_adopted(p[0], "passed descriptor %d is not a socket: %s", p[0], strerror(ENOTSOCK));
	close(p[0]);
	close(p[1]);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd >= 0) {
		not_adopted(fd, "passed descriptor %d is not an AF_UNIX socket "
			    "(want ListenStream= a path or @name)", fd);
		close(fd);
	}
	at(path, sizeof path, "dgram.sock");
	fd = bound(path, SOCK_DGRAM, -1);
	not_adopted(fd, "passed descriptor %d is not a stream socket (want ListenStream=)", fd);
	close(fd);
	at(path, sizeof path, "seq.sock");
	fd = bound(path, SOCK_SEQPACKET, 4);
	not_adopted(fd, "passed descriptor %d is not a stream socket (want ListenStream=)", fd);
	close(fd);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	not_adopted(fd, "passed descriptor %d is not listening (want Accept=no)", fd);
	close(fd);
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, p), 0);   /* as Accept=yes passes */
	not_adopted(p[0], "passed descriptor %d is not listening (want Accept=no)", p[0]);
	close(p[0]);
	close(p[1]);

	at(path, sizeof path, "adopt.sock");
	adopted(bound(path, SOCK_STREAM, 4), path, 0);
	adopted(bound("x", SOCK_STREAM, 4), "x", 0);   /* a one-byte name */
	CHECK_EQ(unlink("x"), 0);
	snprintf(name, sizeof name, "%sadopt", name_pfx);
	adopted(bound(name, SOCK_STREAM, 4), name, 1);
	/* The longest abstract name, 107 bytes after its NUL: kept as far as
	 * path has room. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	memset(a.sun_path, 'b', sizeof a.sun_path);
	a.sun_path[0] = '\0';
	memcpy(a.sun_path + 1, name_pfx + 1, strlen(name_pfx) - 1);
	CHECK_EQ(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	CHECK_EQ(listen(fd, 4), 0);
	memcpy(name, "@", 1);
	memcpy(name + 1, a.sun_path + 1, 106);
	name[107] = '\0';
	adopted(fd, name, 1);
	/* Bound with no name: the kernel's autobind name, "@" and five hex
	 * digits. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	{
		socklen_t len = offsetof(struct sockaddr_un, sun_path);

		CHECK_EQ(bind(fd, (struct sockaddr *)&a, len), 0);
		CHECK_EQ(listen(fd, 4), 0);
		len = sizeof a;
		CHECK_EQ(getsockname(fd, (struct sockaddr *)&a, &len), 0);
		CHECK_EQ(len, offsetof(struct sockaddr_un, sun_path) + 6);
		name[0] = '@';
		memcpy(name + 1, a.sun_path + 1, 5);
		name[6] = '\0';
	}
	adopted(fd, name, 1);

	/* Calls that fail: the socket is not taken on trust. */
	static const struct { int opt; const char *why; } opts[] = {
		{ SO_TYPE, "is not a stream socket (want ListenStream=)" },
		{ SO_ACCEPTCONN, "is not listening (want Accept=no)" },
	};
	at(path, sizeof path, "fail.sock");
	fd = bound(path, SOCK_STREAM, 4);
	for (size_t i = 0; i < 2; i++) {
		arm("getsockopt", opts[i].opt, 0, ENOPROTOOPT);
		not_adopted(fd, "passed descriptor %d %s", fd, opts[i].why);
	}
	for (int cmd = 0; cmd < 3; cmd++) {
		arm("fcntl", cmd == 0 ? F_GETFL : cmd == 1 ? F_SETFL : F_SETFD, 0, EBADF);
		not_adopted(fd, "passed descriptor %d: fcntl: %s", fd, strerror(EBADF));
	}
	arm("getsockname", ANY, 0, ENOBUFS);
	adopted(fd, "(unnamed)", 0);
	arm(NULL, ANY, 0, 0);
}

/* ---- lse_sock_default_path ---- */

static int default_path(char *out, size_t outlen, char *err, size_t errlen)
{
	errno = 0;   /* a stale errno must not pass for a failure */
	return lse_sock_default_path(out, outlen, err, errlen);
}

/* With XDG_RUNTIME_DIR=xdg: the path, and its directory made private. */
static void default_ok(const char *xdg, const char *want_dir)
{
	char out[108], err[256] = "", want[160];
	struct stat st;

	if (xdg)
		setenv("XDG_RUNTIME_DIR", xdg, 1);
	else
		unsetenv("XDG_RUNTIME_DIR");
	snprintf(want, sizeof want, "%s/lsecho.sock", want_dir);
	if (!CHECK_EQ(default_path(out, sizeof out, err, sizeof err), 0) ||
	    !CHECK(strcmp(out, want) == 0))
		fprintf(stderr, "  XDG_RUNTIME_DIR=%s: \"%s\" (%s), want \"%s\"\n",
			xdg ? xdg : "(unset)", out, err, want);
	CHECK(stat(want_dir, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0700 &&
	      st.st_uid == getuid());
}

static void default_refused(const char *xdg, size_t outlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void default_refused(const char *xdg, size_t outlen, const char *fmt, ...)
{
	char out[512], want[512], err[512] = "";
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(want, sizeof want, fmt, ap);
	va_end(ap);
	setenv("XDG_RUNTIME_DIR", xdg, 1);
	rc = default_path(out, outlen, err, sizeof err);
	if (!CHECK_EQ(rc, -1) || !CHECK(strcmp(err, want) == 0))
		fprintf(stderr, "  XDG_RUNTIME_DIR=%s: rc %d, err \"%s\"\n  want \"%s\"\n", xdg, rc,
			err, want);
}

static void check_default_path(void)
{
	static const char *const bad[] = { "b-0750", "b-0701", "b-file", "b-link", "b-other" };
	char xdg[128], dir[160], fallback[64];
	const char *saved = getenv("XDG_RUNTIME_DIR");
	char *keep = saved ? strdup(saved) : NULL;
	struct stat st;
	int had_fallback;

	subdir(xdg, sizeof xdg, "xdg", 0700);
	snprintf(dir, sizeof dir, "%s/lsecho", xdg);
	default_ok(xdg, dir);   /* made */
	default_ok(xdg, dir);   /* found */
	{
		char out[160], err[256] = "";
		size_t n = strlen(dir) + strlen("/lsecho.sock");

		default_refused(xdg, n, "default socket path under %s is too long", dir);
		setenv("XDG_RUNTIME_DIR", xdg, 1);
		CHECK_EQ(default_path(out, n + 1, err, sizeof err), 0);
	}
	/* Too long: refused before anything is made. */
	subdir(xdg, sizeof xdg, "xdg-short", 0700);
	snprintf(dir, sizeof dir, "%s/lsecho", xdg);
	default_refused(xdg, 16, "default socket path under %s is too long", dir);
	CHECK(gone(dir));
	{
		/* XDG_RUNTIME_DIR/lsecho of 256 bytes: its first 255 would be
		 * another directory, XDG_RUNTIME_DIR/lsech. */
		char long_xdg[256], cut[264];
		size_t n = (size_t)snprintf(long_xdg, sizeof long_xdg, "%s/", base);

		memset(long_xdg + n, 'x', 249 - n);
		long_xdg[249] = '\0';
		CHECK_EQ(mkdir(long_xdg, 0700), 0);
		snprintf(cut, sizeof cut, "%s/lsech", long_xdg);
		default_refused(long_xdg, 512, "default socket path under %s is too long", cut);
		CHECK(gone(cut));
	}
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		if (i == 4 && geteuid() != 0)
			break;
		subdir(xdg, sizeof xdg, bad[i], 0700);
		snprintf(dir, sizeof dir, "%s/lsecho", xdg);
		if (i == 0)
			CHECK_EQ(mkdir(dir, 0750) == 0 && chmod(dir, 0750) == 0, 1);
		else if (i == 1)
			CHECK_EQ(mkdir(dir, 0701) == 0 && chmod(dir, 0701) == 0, 1);
		else if (i == 2)
			CHECK_EQ(close(open(dir, O_CREAT | O_WRONLY, 0600)), 0);
		else if (i == 3)
			CHECK_EQ(symlink(base, dir), 0);   /* to a private directory */
		else
			CHECK_EQ(mkdir(dir, 0700) == 0 && chown(dir, NOBODY, NOBODY) == 0, 1);
		default_refused(xdg, 108, "refusing %s: not a private directory of yours "
				"(want mode 0700, uid %u)", dir, (unsigned)getuid());
	}
	/* The directory cannot be looked at after mkdir. */
	at(xdg, sizeof xdg, "xdg");
	snprintf(dir, sizeof dir, "%s/lsecho", xdg);
	arm("lstat", ANY, 0, EIO);
	default_refused(xdg, 108, "%s: %s", dir, strerror(EIO));
	arm(NULL, ANY, 0, 0);
	at(xdg, sizeof xdg, "missing/run");
	default_refused(xdg, 108, "cannot create %s/lsecho: %s", xdg, strerror(ENOENT));

	/* Unset, empty or relative: /tmp/lsecho-UID (removed again if made here). */
	snprintf(fallback, sizeof fallback, "/tmp/lsecho-%u", (unsigned)getuid());
	had_fallback = lstat(fallback, &st) == 0;
	default_ok(NULL, fallback);
	default_ok("", fallback);
	default_ok("run/user", fallback);
	CHECK(gone("run"));
	if (!had_fallback)
		rmdir(fallback);
	if (keep)
		setenv("XDG_RUNTIME_DIR", keep, 1);
	else
		unsetenv("XDG_RUNTIME_DIR");
	free(keep);
}

int main(void)
{
	static const struct { const char *what; void (*run)(void); } parts[] = {
		{ "names", check_names },
		{ "directory modes", check_dir_modes },
		{ "directories as uid 65534", check_dir_as_nobody },
		{ "what the path holds", check_states },
		{ "the file's mode", check_file_mode },
		{ "close", check_close },
		{ "races and failed calls", check_races },
		{ "out of descriptors", check_fd_limit },
		{ "adopt", check_adopt },
		{ "default path", check_default_path },
	};
	char tmpl[] = "/tmp/lse-sock-XXXXXX";
	int fds;

	umask(022);
	if (fcntl(0, F_GETFD) < 0 && open("/dev/null", O_RDONLY) != 0)
		return 1;
	if (mkdtemp(tmpl) == NULL || chdir(tmpl) != 0) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(base, sizeof base, "%s", tmpl);
	snprintf(name_pfx, sizeof name_pfx, "@lsecho-test-sock-%d-", (int)getpid());
	fds = lse_t_count_fds();
	for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
		int before = lse_t_fail;

		parts[i].run();
		printf("   %s: %s\n", parts[i].what, lse_t_fail == before ? "ok" : "FAILED");
	}
	CHECK_EQ(lse_t_count_fds(), fds);
	CHECK_EQ(chdir("/"), 0);
	rm_tree(base);
	return lse_t_report();
}
