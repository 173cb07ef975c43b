/* Option parsing shared by the subcommands, and loading their plan. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "translate/identity.h"

static const struct option long_options[] = {
	{ "rootless", no_argument, NULL, 'R' },
	{ "no-hooks", no_argument, NULL, 'H' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int usage_error(const struct cli *c, const char *what)
{
	fprintf(stderr, "nscell %s: %s (see nscell --help)\n", c->cmd, what);
	return NSCELL_EXIT_USAGE;
}

int cli_parse(struct cli *c, int argc, char **argv, const char *allowed)
{
	char optstring[64];
	snprintf(optstring, sizeof optstring, "+:%sh", allowed);
	optind = 1;
	opterr = 0;
	int ch;
	while ((ch = getopt_long(argc, argv, optstring, long_options, NULL)) != -1) {
		/* long-only options are allowed only where their letter is listed */
		if ((ch == 'R' || ch == 'H') && !strchr(allowed, ch))
			ch = '?';
		switch (ch) {
		case 'C': c->load.conf_path = optarg; break;
		case 'f': c->load.server_tpl = optarg; break;
		case '2': c->load.vhost_tpl = optarg; break;
		case 's': c->load.vhost = optarg; break;
		case 'u': c->load.user = optarg; break;
		case 'd': c->load.cwd = optarg; break;
		case 'o': c->outdir = optarg; break;
		case 'J': c->json = true; break;
		case 'v': c->verbose = true; break;
		case 'R': c->rootless = true; break;
		case 'H': c->no_hooks = true; break;
		case 'h':
			fprintf(stdout, "see nscell --help\n");
			exit(0);
		case ':': {
			char msg[64];
			snprintf(msg, sizeof msg, "option -%c needs an argument", optopt);
			return usage_error(c, msg);
		}
		default: {
			char msg[128];
			if (optopt)
				snprintf(msg, sizeof msg, "unknown option -%c", optopt);
			else
				snprintf(msg, sizeof msg, "unknown option %s", argv[optind - 1]);
			return usage_error(c, msg);
		}
		}
	}
	if (optind < argc) {
		if (strcmp(argv[optind - 1], "--") != 0)
			return usage_error(c, "a command goes after '--'");
		c->argv = argv + optind;
	}
	/* an unprivileged caller always gets a rootless plan */
	c->load.rootless = c->rootless || geteuid() != 0;
	c->load.argv = c->argv;
	return 0;
}

void cli_free(struct cli *c)
{
	(void)c; /* argv points into main's argv; nothing is owned yet */
}

int cli_load_plan(struct cli *c, struct plan *p, bool check_sources)
{
	struct nscell_conf conf;
	struct diags d;
	nscell_error_t err = { 0 };
	conf_init(&conf);
	diags_init(&d);
	plan_init(p);
	c->load.check_sources = check_sources;
	int rc = plan_load(p, &conf, &c->load, &d, &err);
	diags_print(&d, stderr);
	if (rc < 0 && !d.nerrors)
		fprintf(stderr, "nscell %s: %s\n", c->cmd, err.msg);
	bool template_error = d.nerrors > 0;
	diags_free(&d);
	conf_free(&conf);
	if (rc < 0) {
		plan_free(p);
		/* `check` reports template errors as "not so"; the rest cannot go on */
		if (template_error && strcmp(c->cmd, "check") == 0)
			return NSCELL_EXIT_NOT_SO;
		return NSCELL_EXIT_USAGE;
	}
	return 0;
}
