/* lse-syscall-jail: runs a program under an allow list of system calls, as
 * systemd's SystemCallFilter= does (refused calls fail with EPERM, as with
 * SystemCallErrorNumber=EPERM), so that ctest units can run lsecho-server
 * under the filter lsecho.service declares, on a machine whose systemd is
 * not running.
 * Usage: lse-syscall-jail LIST PROGRAM [ARG...]   (LIST: one name a line) */
#define _GNU_SOURCE
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	scmp_filter_ctx ctx;
	char name[128];
	FILE *f;
	int n = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: lse-syscall-jail LIST PROGRAM [ARG...]\n");
		return 2;
	}
	f = fopen(argv[1], "r");
	ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	if (f == NULL || ctx == NULL) {
		fprintf(stderr, "lse-syscall-jail: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	while (fscanf(f, "%127s", name) == 1) {
		int nr = seccomp_syscall_resolve_name(name);

		if (nr == __NR_SCMP_ERROR)
			continue;   /* not a call on this architecture */
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0) != 0) {
			fprintf(stderr, "lse-syscall-jail: cannot allow %s\n", name);
			return 1;
		}
		n++;
	}
	fclose(f);
	if (n == 0 || seccomp_load(ctx) != 0) {
		fprintf(stderr, "lse-syscall-jail: cannot load a filter of %d calls\n", n);
		return 1;
	}
	seccomp_release(ctx);
	execv(argv[2], argv + 2);
	fprintf(stderr, "lse-syscall-jail: exec %s: %s\n", argv[2], strerror(errno));
	return 127;
}
