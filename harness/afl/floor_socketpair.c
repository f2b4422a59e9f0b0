/* The floor for the socket harness's speed (make fuzz-bench): a bare
 * persistent loop that pushes each input through a fresh socketpair and
 * reads it back. Nothing of lsecho runs; fuzz_socket is measured against
 * this in the same run. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t buf[4096];
	int sv[2];
	size_t off = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		abort();
	while (off < size) {   /* in pieces the socket buffer always takes */
		size_t n = size - off < sizeof buf ? size - off : sizeof buf;
		ssize_t w = write(sv[0], data + off, n), r = 0;
		for (ssize_t got = 0; w > 0 && got < w; got += r)
			if ((r = read(sv[1], buf, (size_t)(w - got))) <= 0)
				abort();
		if (w <= 0)
			abort();
		off += (size_t)w;
	}
	close(sv[0]);
	close(sv[1]);
	return 0;
}
