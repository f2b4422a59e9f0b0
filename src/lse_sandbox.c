/* lse_sandbox: the syscall allowlist (contract in lse_sandbox.h). The
 * table below is the whole policy; docs/server.md, "Sandbox", gives the
 * reason for each entry. Names, not numbers: a name this architecture
 * lacks (epoll_wait on arm64) is skipped. */
#define _GNU_SOURCE
#include "lse_sandbox.h"

#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "lse_sock.h"

typedef enum sb_kind {
	SB_ANY,       /* any arguments */
	SB_MASKED,    /* only when (argument `arg` & mask) == value */
	SB_SOCK_DIR,  /* only on the socket file's directory (argument 0) */
	SB_ERRNO      /* refused with the errno in `value`, not killed: libc
		       * copes (falls back, or goes without) */
} sb_kind;

typedef struct sb_rule {
	const char *name;
	sb_kind kind;
	unsigned arg;
	uint64_t mask, value;
} sb_rule;

/* The sanitizer runtimes' needs, where an entry differs (see the end of
 * the table). */
#if LSE_SANDBOX_SANITIZED
#define SB_PLAIN_OR_SAN(plain, san) san
#else
#define SB_PLAIN_OR_SAN(plain, san) plain
#endif

static const sb_rule policy[] = {
	/* Serving: the event loop, accept, the peer check, client I/O. */
	{ "epoll_wait", SB_ANY, 0, 0, 0 },
	{ "epoll_pwait", SB_ANY, 0, 0, 0 },
	{ "epoll_ctl", SB_ANY, 0, 0, 0 },
	{ "accept4", SB_ANY, 0, 0, 0 },
	{ "getsockopt", SB_ANY, 0, 0, 0 },
	{ "getuid", SB_ANY, 0, 0, 0 },
	{ "read", SB_ANY, 0, 0, 0 },
	{ "sendto", SB_ANY, 0, 0, 0 },
	{ "write", SB_ANY, 0, 0, 0 },
	{ "close", SB_ANY, 0, 0, 0 },
	{ "clock_gettime", SB_ANY, 0, 0, 0 },
	/* Threads: start, wait, stop, signals. */
	{ "clone", SB_PLAIN_OR_SAN(SB_MASKED, SB_ANY), 0, CLONE_THREAD, CLONE_THREAD },
	{ "clone3", SB_ERRNO, 0, 0, ENOSYS },
	{ "set_robust_list", SB_ANY, 0, 0, 0 },
	{ "rseq", SB_ANY, 0, 0, 0 },
	{ "futex", SB_ANY, 0, 0, 0 },
	{ "rt_sigprocmask", SB_ANY, 0, 0, 0 },
	{ "rt_sigtimedwait", SB_ANY, 0, 0, 0 },
	{ "rt_sigreturn", SB_ANY, 0, 0, 0 },
	{ "getpid", SB_ANY, 0, 0, 0 },
	{ "tgkill", SB_ANY, 0, 0, 0 },
	{ "restart_syscall", SB_ANY, 0, 0, 0 },
	{ "exit", SB_ANY, 0, 0, 0 },
	{ "exit_group", SB_ANY, 0, 0, 0 },
	/* Memory: malloc, thread stacks; nothing mapped executable. */
	{ "brk", SB_ANY, 0, 0, 0 },
	{ "mmap", SB_MASKED, 2, PROT_EXEC, 0 },
	{ "mprotect", SB_MASKED, 2, PROT_EXEC, 0 },
	{ "munmap", SB_ANY, 0, 0, 0 },
	{ "mremap", SB_ANY, 0, 0, 0 },
	{ "madvise", SB_ANY, 0, 0, 0 },
	/* glibc's free() in a thread's arena reads /proc/sys/vm/overcommit_memory
	 * once, and does without it. */
	{ "open", SB_PLAIN_OR_SAN(SB_ERRNO, SB_ANY), 0, 0, EACCES },
	{ "openat", SB_PLAIN_OR_SAN(SB_ERRNO, SB_ANY), 0, 0, EACCES },
	/* Exit: the socket file is unlinked if it is still the one bound. */
	{ "newfstatat", SB_PLAIN_OR_SAN(SB_SOCK_DIR, SB_ANY), 0, 0, 0 },
	{ "unlinkat", SB_SOCK_DIR, 0, 0, 0 },
#if LSE_SANDBOX_SANITIZED
	/* Sanitizer builds only (clone, open, openat and newfstatat are
	 * allowed whole above). LeakSanitizer at exit: a clone()d tracer
	 * ptrace()s every thread listed in /proc/PID/task. A report: reads
	 * /proc/self/maps, runs llvm-symbolizer through a pipe. */
	{ "gettid", SB_ANY, 0, 0, 0 },
	{ "sigaltstack", SB_ANY, 0, 0, 0 },
	{ "rt_sigaction", SB_ANY, 0, 0, 0 },
	{ "prctl", SB_ANY, 0, 0, 0 },
	{ "sched_getaffinity", SB_ANY, 0, 0, 0 },
	{ "sched_yield", SB_ANY, 0, 0, 0 },
	{ "ptrace", SB_ANY, 0, 0, 0 },
	{ "wait4", SB_ANY, 0, 0, 0 },
	{ "kill", SB_ANY, 0, 0, 0 },
	{ "getdents", SB_ANY, 0, 0, 0 },
	{ "getdents64", SB_ANY, 0, 0, 0 },
	{ "readlink", SB_ANY, 0, 0, 0 },
	{ "readlinkat", SB_ANY, 0, 0, 0 },
	{ "fstat", SB_ANY, 0, 0, 0 },
	{ "lseek", SB_ANY, 0, 0, 0 },
	{ "pread64", SB_ANY, 0, 0, 0 },
	{ "getppid", SB_ANY, 0, 0, 0 },
	{ "gettimeofday", SB_ANY, 0, 0, 0 },
	{ "nanosleep", SB_ANY, 0, 0, 0 },
	{ "clock_nanosleep", SB_ANY, 0, 0, 0 },
	{ "getrlimit", SB_ANY, 0, 0, 0 },
	{ "prlimit64", SB_ANY, 0, 0, 0 },
	{ "setrlimit", SB_ANY, 0, 0, 0 },
	{ "pipe", SB_ANY, 0, 0, 0 },
	{ "pipe2", SB_ANY, 0, 0, 0 },
	{ "dup2", SB_ANY, 0, 0, 0 },
	{ "dup3", SB_ANY, 0, 0, 0 },
	{ "fcntl", SB_ANY, 0, 0, 0 },
	{ "execve", SB_ANY, 0, 0, 0 },
	{ "vfork", SB_ANY, 0, 0, 0 },
	{ "fork", SB_ANY, 0, 0, 0 },
#endif
};

static int add_rule(scmp_filter_ctx ctx, const sb_rule *r, int sock_dirfd,
		    char *err, size_t errlen)
{
	int nr = seccomp_syscall_resolve_name(r->name), rc;

	if (nr == __NR_SCMP_ERROR)
		return 0;   /* not a syscall on this architecture */
	switch (r->kind) {
	case SB_ANY:
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		break;
	case SB_MASKED:
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
				      SCMP_CMP(r->arg, SCMP_CMP_MASKED_EQ, r->mask, r->value));
		break;
	case SB_SOCK_DIR:
		if (sock_dirfd < 0)
			return 0;
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
				      SCMP_CMP(0, SCMP_CMP_EQ, (scmp_datum_t)sock_dirfd, 0));
		break;
	default:
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO((uint32_t)r->value), nr, 0);
		break;
	}
	if (rc != 0)
		return lse_errf(err, errlen, "seccomp rule for %s: %s", r->name, strerror(-rc));
	return 0;
}

int lse_sandbox_apply(int sock_dirfd, char *err, size_t errlen)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	int rc;

	/* libseccomp probes the kernel first; an outer filter that refuses
	 * seccomp() (systemd's @system-service alone) makes that fail. */
	if (ctx == NULL)
		return lse_errf(err, errlen, "seccomp: cannot make a filter (is seccomp() refused "
				"by an outer filter? a systemd unit must allow it: SystemCallFilter=... seccomp)");
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (rc != 0) {
		seccomp_release(ctx);
		return lse_errf(err, errlen, "seccomp: thread sync: %s", strerror(-rc));
	}
	for (size_t i = 0; i < sizeof policy / sizeof *policy; i++) {
		if (add_rule(ctx, &policy[i], sock_dirfd, err, errlen) != 0) {
			seccomp_release(ctx);
			return -1;
		}
	}
	rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc != 0)
		return lse_errf(err, errlen, "seccomp: cannot install the filter: %s", strerror(-rc));
	return 0;
}
