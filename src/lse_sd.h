/* lse_sd: the two systemd protocols lsecho-server speaks, written out here
 * rather than linked from libsystemd: socket activation (sd_listen_fds(3):
 * LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES, the sockets from descriptor 3 on)
 * and service notification (sd_notify(3): one datagram to $NOTIFY_SOCKET).
 * systemd documents both as stable interfaces; they are a few environment
 * variables and a send(), too little to bring a library and its
 * dependencies into a sandboxed server's address space. */
#ifndef LSE_SD_H
#define LSE_SD_H

#include <stddef.h>

/* The first passed descriptor (SD_LISTEN_FDS_START). */
#define LSE_SD_LISTEN_FD 3

/* The listening socket systemd passed, if any. Reads LISTEN_PID, LISTEN_FDS
 * and LISTEN_FDNAMES and unsets all three, so no child could take them for
 * its own. Passed means: LISTEN_PID is this process and LISTEN_FDS is 1
 * (lsecho-server serves one socket). It does not look at the descriptor;
 * lse_sock_adopt() does.
 * Returns 1 if a socket was passed (at LSE_SD_LISTEN_FD), 0 if nothing
 * was (none of the variables set), or -1 with a one-line reason in err
 * when the variables are set but not as the protocol says. */
int lse_sd_listen(char *err, size_t errlen);

/* A datagram socket connected to $NOTIFY_SOCKET (a path, or "@name" in the
 * abstract namespace), close-on-exec, and NOTIFY_SOCKET unset. Connected
 * now, so that later notifications are a plain send() and need no socket()
 * or connect() under the syscall filter.
 * Returns 0 with *fd set (-1 if NOTIFY_SOCKET is unset: notifications are
 * then no-ops), or -1 with a one-line reason in err. */
int lse_sd_notify_open(int *fd, char *err, size_t errlen);

/* Sends one state line ("READY=1", "STOPPING=1") on fd. A no-op if fd < 0.
 * Async-signal-safe. A send that fails is dropped: a manager that stopped
 * listening is no reason to stop serving or stopping. */
void lse_sd_notify(int fd, const char *state);

#endif
