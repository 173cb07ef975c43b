/* nscell run: the shim's own options, so hand everything to nscell-shim. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "shim/shim.h"

#ifndef NSCELL_BINDIR
#define NSCELL_BINDIR "/usr/local/bin"
#endif

/* exec nscell-shim (next to this binary, else in bindir) with extra, then
 * the command line after the subcommand; returns only when it cannot */
int cli_exec_shim(const struct cli *c, char *const *extra)
{
	char shim[PATH_MAX + 16];
	shim_sibling("nscell-shim", NSCELL_BINDIR, shim, sizeof shim);
	size_t ne = plan_strv_len(extra), n = plan_strv_len(c->argv);
	char **argv = calloc(ne + n + 2, sizeof *argv);
	if (!argv)
		return NSCELL_EXIT_USAGE;
	argv[0] = "nscell-shim";
	if (ne)
		memcpy(argv + 1, extra, ne * sizeof *argv);
	if (n)
		memcpy(argv + 1 + ne, c->argv, n * sizeof *argv);
	execv(shim, argv);
	fprintf(stderr, "nscell %s: cannot run %s: %s\n", c->cmd, shim, strerror(errno));
	free(argv);
	return NSCELL_EXIT_USAGE;
}

int cmd_run(struct cli *c)
{
	return cli_exec_shim(c, NULL);
}
