/* lse_sock: a safe listening AF_UNIX socket (docs/server.md, "Socket file").
 * Refuses unsafe directories, never follows a symlink at the socket path,
 * replaces a stale socket file once, and leaves a live server alone. */
#ifndef LSE_SOCK_H
#define LSE_SOCK_H

#include <stddef.h>
#include <sys/types.h>

typedef struct lse_sock {
	int fd;              /* listening, non-blocking, close-on-exec */
	char path[108];      /* as given: a path, or "@name" */
	int abstract;
	int passed;          /* passed in (socket activation): the file is not ours */
	int dirfd;           /* the socket file's directory (O_PATH), or -1: the
			      * file is checked and unlinked through it, the one
			      * directory the syscall filter lets the server touch */
	const char *base;    /* the file's name in that directory, within path */
	dev_t dev;           /* the socket file we bound, to unlink only it; */
	ino_t ino;           /* ino == 0: nothing to unlink */
} lse_sock;

/* The default path: $XDG_RUNTIME_DIR/lsecho/lsecho.sock, else
 * /tmp/lsecho-$UID/lsecho.sock; creates the private directory (0700) if it
 * is missing. Returns 0, or -1 with the reason in err. */
int lse_sock_default_path(char *out, size_t outlen, char *err, size_t errlen);

/* Binds and listens at path ("@name": abstract namespace), socket mode
 * 0600. Returns 0, or -1 with a one-line reason in err. */
int lse_sock_listen(lse_sock *s, const char *path, char *err, size_t errlen);

/* Takes over a listening socket someone else made (socket activation):
 * checks that fd is an AF_UNIX stream socket that listens (SO_DOMAIN,
 * SO_TYPE, SO_ACCEPTCONN), makes it non-blocking and close-on-exec, and
 * records its address for the log. Its file, if any, stays its maker's:
 * lse_sock_close() never unlinks it. Returns 0, or -1 with a one-line
 * reason in err (fd is then left open). */
int lse_sock_adopt(lse_sock *s, int fd, char *err, size_t errlen);

/* Closes the socket and unlinks its file if it is still the one we bound
 * (never a passed socket's). */
void lse_sock_close(lse_sock *s);

/* Formats a one-line reason into err and returns -1: the shell's way of
 * failing with a message. */
int lse_errf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
