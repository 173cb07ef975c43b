/* The nscell admin and test CLI: one file per subcommand. */
#ifndef NSCELL_CLI_H
#define NSCELL_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "translate/load.h"
#include "translate/plan.h"

struct cli {
	const char *cmd;         /* subcommand name */
	struct load_opts load;
	bool json;               /* -J */
	bool verbose;            /* -v */
	bool rootless;           /* --rootless */
	bool no_hooks;           /* --no-hooks */
	const char *outdir;      /* -o */
	char **argv;             /* after "--" */
	char **shim_args;        /* run: options to hand to nscell-shim unchanged */
	size_t nshim_args;
};

/* Parse argv after the subcommand; `allowed` lists the short options the
 * subcommand takes ("C:f:2:s:u:J"), long ones are matched by name.
 * Returns 0, or 2 after printing a usage error. */
int cli_parse(struct cli *c, int argc, char **argv, const char *allowed);
void cli_free(struct cli *c);

/* plan_load with the CLI's options; prints template diagnostics and the
 * error to stderr.  Returns 0 or the exit status to use. */
int cli_load_plan(struct cli *c, struct plan *p, bool check_sources);

/* exec nscell-shim (cli/cmd_run.c) with the NULL-terminated extra
 * arguments (or NULL), then c->argv; returns the exit status when it cannot */
int cli_exec_shim(const struct cli *c, char *const *extra);

int cmd_check(struct cli *c);
int cmd_plan(struct cli *c);
int cmd_translate(struct cli *c);
int cmd_export(struct cli *c);
int cmd_run(struct cli *c);
int cmd_probe(struct cli *c);
int cmd_diff(struct cli *c);
int cmd_enter(struct cli *c);
int cmd_ls(struct cli *c);
int cmd_unmount(struct cli *c);
int cmd_hostexec_daemon(struct cli *c);
int cmd_hook(struct cli *c);

/* nscell's hooks for an export or translate of p (cli/cmd_hook.c): the
 * hook program (NSCELL_HOOK_BIN, else $(bindir)/nscell), NSCELL_STATE_DIR,
 * -C/-f/-2 made absolute and the hash of p's files.  oci_hooks_free h. */
struct oci_hooks;
int hook_info_for(const struct cli *c, const struct plan *p, struct oci_hooks *h,
		  nscell_error_t *err);
/* 16 hex digits of the raw bytes of p->files (nscell.conf, templates) */
int hook_plan_hash(const struct plan *p, char *out, size_t size, nscell_error_t *err);

/* `nscell plan -J`: the plan as JSON through yajl */
int plan_json_print(const struct plan *p, FILE *out);
/* `nscell plan`: the plan as readable text */
void plan_text_print(const struct plan *p, FILE *out);

#endif
