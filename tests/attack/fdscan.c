/* Attack: look for file descriptors the runtime leaked into the sandbox
 * (runc CVE-2024-21626: a leaked directory fd is a way out of the root:
 * fchdir to it, or openat relative to it).  Lists every open fd with
 * what it points to; for a directory fd, tries to leave through it
 * (openat "..", fchdir + getcwd).  Exits with the number of fds that are
 * neither 0, 1, 2 nor named on the command line.
 *
 *   fdscan [ALLOWED-FD...] */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int fds[1024], n = 0, unexpected = 0;
	DIR *d = opendir("/proc/self/fd");
	if (!d) {
		perror("fdscan: /proc/self/fd");
		return 100;
	}
	/* collect first: opening things below changes the list */
	struct dirent *e;
	while ((e = readdir(d)) && n < 1024) {
		if (e->d_name[0] == '.')
			continue;
		int fd = atoi(e->d_name);
		if (fd != dirfd(d))
			fds[n++] = fd;
	}
	closedir(d);
	for (int i = 0; i < n; i++) {
		char self[64], link[PATH_MAX] = "?";
		snprintf(self, sizeof self, "/proc/self/fd/%d", fds[i]);
		ssize_t k = readlink(self, link, sizeof link - 1);
		if (k >= 0)
			link[k] = '\0';
		bool allowed = fds[i] <= 2;
		for (int a = 1; a < argc; a++)
			allowed |= atoi(argv[a]) == fds[i];
		struct stat st;
		bool dir = fstat(fds[i], &st) == 0 && S_ISDIR(st.st_mode);
		printf("fd %d -> %s%s%s\n", fds[i], link, dir ? " (a directory)" : "",
		       allowed ? "" : " UNEXPECTED");
		unexpected += !allowed;
		if (dir) {
			char cwd[PATH_MAX];
			if (fchdir(fds[i]) == 0 && chdir("../../../../..") == 0 && getcwd(cwd, sizeof cwd))
				printf("fd %d: fchdir and .. reach %s\n", fds[i], cwd);
		}
	}
	return unexpected;
}
