/* lse_sandbox: lsecho-server's syscall allowlist, a seccomp filter built
 * with libseccomp from the one table in lse_sandbox.c (docs/server.md,
 * "Sandbox", explains each entry). Installed once setup is done (the socket
 * bound or adopted, the event loops made, the notify socket connected),
 * before any thread starts; from then on the process can serve, log to
 * stderr, start its threads, unlink its own socket file and exit, and
 * nothing else: no open, exec, fork, socket, connect, bind, ptrace.
 * A call outside the table kills the whole process with SIGSYS, at once
 * and visibly (a core, systemd's "status=31/SYS"), rather than failing
 * with an errno that code written for a normal process might retry,
 * ignore or misreport.
 *
 * Builds with a sanitizer add what its runtime needs at exit and on a
 * report (LSE_SANDBOX_SANITIZED): LeakSanitizer stops the world with a
 * ptrace()ing clone, reads /proc, and a report runs llvm-symbolizer. The
 * coverage build (ci/build.sh cov) sets it too: its profile runtime asks
 * prctl(PR_GET_PDEATHSIG) at exit and opens and writes the .profraw file. */
#ifndef LSE_SANDBOX_H
#define LSE_SANDBOX_H

#include <stddef.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define LSE_SANDBOX_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
	__has_feature(memory_sanitizer)
#define LSE_SANDBOX_SANITIZED 1
#endif
#endif
#ifndef LSE_SANDBOX_SANITIZED
#define LSE_SANDBOX_SANITIZED 0
#endif

/* Installs the filter in the calling process (every thread: TSYNC) and sets
 * no_new_privs. sock_dirfd is the socket file's directory
 * (lse_server_sock_dirfd()): unlinkat() and fstatat() are allowed on it
 * alone; -1 allows them nowhere. Returns 0, or -1 with a one-line reason
 * in err (the process is then unchanged, or as libseccomp left it). */
int lse_sandbox_apply(int sock_dirfd, char *err, size_t errlen);

#endif
