/* fuzz_socket in the children of a fork server, as afl-fuzz runs it: set
 * up once in the parent, then a child that dies in the middle of a run (a
 * crash, a timeout's SIGKILL) with a connection still in the listening
 * socket's backlog. The next child must not take that connection for one
 * of its own: before the fix, its first run through the listener failed
 * with "a connection was never accepted". Exit status 0 if the next child
 * ran clean. */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Runs fn in a child; returns its exit status, or 128 + the signal. */
static int in_child(void (*fn)(void))
{
	int st;
	pid_t pid = fork();

	if (pid < 0)
		return 127;
	if (pid == 0) {
		fn();
		_exit(0);
	}
	if (waitpid(pid, &st, 0) != pid)
		return 127;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Connects to the harness's listening socket (its name: the set-up
 * process's pid) and dies before any loop accepts. */
static void die_mid_run(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int n = snprintf(a.sun_path + 1, sizeof a.sun_path - 1, "lsecho-fuzz-socket-%ld",
			 (long)getppid());
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&a,
			      (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n)) != 0) {
		perror("fork_children: connect");
		_exit(2);
	}
	_exit(0);   /* the connection stays in the backlog */
}

/* One connection through the listening socket (OPEN, bit 3), a SEND of
 * "hi", the end; flags 0: framed, no faults (harness/README.md). Twice. */
static void run_through_listener(void)
{
	static const uint8_t in[] = { 'h', 'i', 0x00, 0x09, 0x08, 0x00 };

	LLVMFuzzerTestOneInput(in, sizeof in);
	LLVMFuzzerTestOneInput(in, sizeof in);
}

int main(void)
{
	int rc;

	LLVMFuzzerTestOneInput((const uint8_t *)"", 0);   /* set-up, as afl_main does */
	rc = in_child(die_mid_run);
	if (rc != 0) {
		fprintf(stderr, "fork_children: the dying child exited %d\n", rc);
		return 1;
	}
	rc = in_child(run_through_listener);
	if (rc != 0) {
		fprintf(stderr, "fork_children: the next child failed (status %d)\n", rc);
		return 1;
	}
	puts("fork_children: the next child ran clean");
	return 0;
}
