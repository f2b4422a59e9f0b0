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
	dev_t dev;           /* the socket file we bound, to unlink only it */
	ino_t ino;
} lse_sock;

/* The default path: $XDG_RUNTIME_DIR/lsecho/lsecho.sock, else
 * /tmp/lsecho-$UID/lsecho.sock; creates the private directory (0700) if it
 * is missing. Returns 0, or -1 with the reason in err. */
int lse_sock_default_path(char *out, size_t outlen, char *err, size_t errlen);

/* Binds and listens at path ("@name": abstract namespace), socket mode
 * 0600. Returns 0, or -1 with a one-line reason in err. */
int lse_sock_listen(lse_sock *s, const char *path, char *err, size_t errlen);

/* Closes the socket and unlinks its file if it is still the one we bound. */
void lse_sock_close(lse_sock *s);

/* Formats a one-line reason into err and returns -1: the shell's way of
 * failing with a message. */
int lse_errf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
