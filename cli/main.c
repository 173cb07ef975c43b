/* nscell: the admin and test CLI (check, plan, translate, export, run). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

struct command {
	const char *name;
	const char *options; /* short options it takes */
	int (*run)(struct cli *c);
	const char *usage;
};

static const struct command commands[] = {
	{ "check", "C:f:2:s:u:v", cmd_check,
	  "check     [-C CONF] [-f F] [-2 F] [-s VHOST] [-u USER]   FILE:LINE:COL: message; exit 1 on errors" },
	{ "plan", "C:f:2:s:u:d:vJ", cmd_plan,
	  "plan      -u USER [-J] [-C CONF] [-f F] [-2 F] [-s VHOST]  the resolved plan" },
	{ "translate", "C:f:2:s:u:d:vRH", cmd_translate,
	  "translate -u USER [--rootless] [--no-hooks] [-f F] [-2 F] [-s VHOST] [-- CMD ARGS]  config.json on stdout" },
	{ "export", "C:f:2:s:u:d:o:vRH", cmd_export,
	  "export    -u USER -o DIR [--rootless] [--no-hooks] [-f F] [-2 F] [-s VHOST] [-- CMD ARGS]" },
	{ "run", NULL, cmd_run,
	  "run       [-u USER] [-d DIR] [-c] [-v] [--keep-fd N] [-- CMD ARGS]  same options as nscell-shim" },
	{ "enter", NULL, cmd_enter,
	  "enter     [-u USER] [-s VHOST] [-d DIR] [--root] [-C CONF] [-- CMD ARGS]  join a persisted sandbox" },
	{ "ls", NULL, cmd_ls,
	  "ls        [-J] [-C CONF]  persisted sandboxes: user, vhost, keeper, processes, live/stale" },
	{ "unmount", NULL, cmd_unmount,
	  "unmount   (-u USER|UID [-s VHOST] | -a) [--kill] [-v] [-C CONF]  retire (or kill) persisted sandboxes" },
	{ "probe", NULL, cmd_probe,
	  "probe     [-J] [--ref-ns TYPE=INODE,...] [--raw FILE] [-- PATH...]  what this process sees" },
	{ "diff", NULL, cmd_diff,
	  "diff      -u USER [-s VHOST] [-f F] [-2 F] [-C CONF] [-J] [-v] [--keep] [--rootless]  shim vs runc; exit 1 on differences" },
	{ "hook", NULL, cmd_hook,
	  "hook      STAGE  OCI hook of exported bundles (createRuntime, poststop), state JSON on stdin" },
	{ "hostexec-daemon", NULL, cmd_hostexec_daemon,
	  "hostexec-daemon [-f|--foreground] [-C CONF] [--socket PATH] [-v]  run hostexec programs on the host for sandboxed users" },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: nscell COMMAND [OPTIONS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
		fprintf(out, "  %s\n", commands[i].usage);
	fprintf(out, "\ncommon options: -C CONF (nscell.conf)  -f SERVER_TEMPLATE  -2 VHOST_TEMPLATE"
		     "  -s VHOST  -u USER  -v\n"
		     "exit status: 0 ok, 1 the thing checked is not so, 2 usage or environment error\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return NSCELL_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) {
		const struct command *k = &commands[i];
		if (strcmp(argv[1], k->name) != 0)
			continue;
		struct cli c = { .cmd = k->name };
		int rc = 0;
		if (k->options)
			rc = cli_parse(&c, argc - 1, argv + 1, k->options);
		else
			c.argv = argv + 2; /* handed on unchanged */
		if (rc == 0)
			rc = k->run(&c);
		if (k->options)
			cli_free(&c);
		return rc;
	}
	fprintf(stderr, "nscell: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return NSCELL_EXIT_USAGE;
}
