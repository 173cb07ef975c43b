/* nscell hostexec-daemon: the listener that runs hostexec programs on the
 * host for sandboxed users (hostexec/daemon.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "hostexec/daemon.h"
#include "hostexec/protocol.h"

static const char usage_text[] =
	"usage: nscell hostexec-daemon [-f|--foreground] [-C CONF] [--socket PATH] [-v]\n"
	"Listen for hostexec requests from sandboxes and run the programs the user's\n"
	"templates and nscell.conf list (PATH,hostexec; hostexec = PATH...) on the host,\n"
	"as that user.  The socket is hostexec_dir/" HX_SOCKET_NAME " unless --socket.\n"
	"Without -f it goes to the background once it listens.  Root only.\n";

int cmd_hostexec_daemon(struct cli *c)
{
	static const struct option options[] = {
		{ "foreground", no_argument, NULL, 'f' },
		{ "socket", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct hx_daemon d = { 0 };
	char **argv = c->argv - 1; /* "hostexec-daemon", then its options */
	int argc = 1, ch;
	while (argv[argc])
		argc++;
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+fC:vh", options, NULL)) != -1) {
		switch (ch) {
		case 'f': d.foreground = true; break;
		case 'C': d.conf_path = optarg; break;
		case 'S': d.socket = optarg; break;
		case 'v': d.verbose = true; break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fprintf(stderr, "nscell hostexec-daemon: bad option %s\n%s", argv[optind - 1],
				usage_text);
			return NSCELL_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "nscell hostexec-daemon: unexpected '%s'\n%s", argv[optind],
			usage_text);
		return NSCELL_EXIT_USAGE;
	}
	return hx_daemon_run(&d);
}
