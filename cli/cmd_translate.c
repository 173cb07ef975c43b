/* nscell translate / export: the plan as an OCI config.json or bundle. */
#include <stdio.h>
#include <stdlib.h>

#include "bundles/bundle.h"
#include "cli/cli.h"
#include "oci/oci.h"

static void oci_options(const struct cli *c, struct oci_opts *o)
{
	o->rootless = c->load.rootless;
	o->hooks = !c->no_hooks;
	o->rootfs = NULL;
}

int cmd_translate(struct cli *c)
{
	struct plan p;
	int rc = cli_load_plan(c, &p, true);
	if (rc)
		return rc;
	struct oci_opts o = { 0 };
	oci_options(c, &o);
	nscell_error_t err = { 0 };
	char *json = NULL;
	size_t len = 0;
	if (oci_config_generate(&p, &o, &json, &len, &err) < 0) {
		fprintf(stderr, "nscell translate: %s\n", err.msg);
		rc = NSCELL_EXIT_USAGE;
	} else if (fwrite(json, 1, len, stdout) != len || fflush(stdout) != 0) {
		fprintf(stderr, "nscell translate: writing config.json failed\n");
		rc = NSCELL_EXIT_USAGE;
	}
	free(json);
	plan_free(&p);
	return rc;
}

int cmd_export(struct cli *c)
{
	if (!c->outdir) {
		fprintf(stderr, "nscell export: -o DIR is required\n");
		return NSCELL_EXIT_USAGE;
	}
	struct plan p;
	int rc = cli_load_plan(c, &p, true);
	if (rc)
		return rc;
	struct oci_opts o = { 0 };
	oci_options(c, &o);
	nscell_error_t err = { 0 };
	if (bundle_export(&p, c->outdir, &o, &err) < 0) {
		fprintf(stderr, "nscell export: %s\n", err.msg);
		rc = NSCELL_EXIT_USAGE;
	}
	plan_free(&p);
	return rc;
}
