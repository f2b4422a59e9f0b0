/* lsecho-sandbox-cost: what lsecho-server's syscall filter adds to a system
 * call. A child times N calls of getuid() (allowed, and about the cheapest
 * call there is) before and after installing the filter
 * (lse_sandbox_apply), in alternation, K rounds; the fastest round of each
 * counts, since the machine's load only ever adds. The filter is run in
 * full for an allowed call: the kernel walks the BPF program to the rule
 * that allows it. Each round is a fresh child, since a filter cannot be
 * taken off.
 *
 * Usage: lsecho-sandbox-cost [N [K]]   (default 2000000 calls, 7 rounds) */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lse_sandbox.h"

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* ns per call of n getuid() calls, in a child, with the filter or not. */
static double child_round(long n, int filtered)
{
	int fd[2], status;
	double ns = -1;
	pid_t pid;

	if (pipe(fd) != 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		char err[256];
		double t0;

		close(fd[0]);
		if (filtered && lse_sandbox_apply(-1, err, sizeof err) != 0) {
			fprintf(stderr, "lsecho-sandbox-cost: %s\n", err);
			_exit(1);
		}
		t0 = now_ns();
		for (long i = 0; i < n; i++)
			syscall(SYS_getuid);   /* never cached by the C library */
		ns = (now_ns() - t0) / (double)n;
		_exit(write(fd[1], &ns, sizeof ns) == sizeof ns ? 0 : 1);
	}
	close(fd[1]);
	if (pid < 0 || read(fd[0], &ns, sizeof ns) != sizeof ns)
		ns = -1;
	close(fd[0]);
	if (pid > 0)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	return ns;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 2000000;
	int k = argc > 2 ? atoi(argv[2]) : 7;
	double best[2] = { 0, 0 };

	if (n < 1 || k < 1 || argc > 3) {
		fprintf(stderr, "usage: lsecho-sandbox-cost [CALLS [ROUNDS]]\n");
		return 2;
	}
	for (int r = 0; r < k; r++) {
		for (int f = 0; f <= 1; f++) {
			double ns = child_round(n, f);

			if (ns < 0)
				return 1;
			if (r == 0 || ns < best[f])
				best[f] = ns;
		}
	}
	printf("getuid(): %.1f ns without the filter, %.1f ns with it: %.1f ns more per call "
	       "(fastest of %d alternating rounds of %ld calls)\n", best[0], best[1],
	       best[1] - best[0], k, n);
	return 0;
}
