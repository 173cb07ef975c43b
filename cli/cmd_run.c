/* nscell run: the shim's own options, so hand everything to nscell-shim. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

#ifndef NSCELL_BINDIR
#define NSCELL_BINDIR "/usr/local/bin"
#endif

/* nscell-shim next to this binary (a build tree or an install), else the
 * configured bindir */
static void shim_path(char *buf, size_t size)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			snprintf(buf, size, "%s/nscell-shim", self);
			if (access(buf, X_OK) == 0)
				return;
		}
	}
	snprintf(buf, size, "%s/nscell-shim", NSCELL_BINDIR);
}

int cmd_run(struct cli *c)
{
	char shim[PATH_MAX + 16];
	shim_path(shim, sizeof shim);
	size_t n = 0;
	while (c->argv[n])
		n++;
	char **argv = calloc(n + 2, sizeof *argv);
	if (!argv)
		return NSCELL_EXIT_USAGE;
	argv[0] = "nscell-shim";
	memcpy(argv + 1, c->argv, n * sizeof *argv);
	execv(shim, argv);
	fprintf(stderr, "nscell run: cannot run %s: %s\n", shim, strerror(errno));
	free(argv);
	return NSCELL_EXIT_USAGE;
}
