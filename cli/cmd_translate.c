/* nscell translate / export: the plan as an OCI config.json or bundle. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bundles/bundle.h"
#include "cli/cli.h"
#include "oci/oci.h"

/* the options, and nscell's hooks unless --no-hooks (h: oci_hooks_free) */
static int oci_options(const struct cli *c, const struct plan *p, struct oci_opts *o,
		       struct oci_hooks *h)
{
	nscell_error_t err = { 0 };
	o->rootless = c->load.rootless;
	o->hooks = !c->no_hooks;
	o->hook_info = o->hooks ? h : NULL;
	o->rootfs = NULL;
	if (o->hooks && hook_info_for(c, p, h, &err) < 0) {
		fprintf(stderr, "nscell %s: hooks: %s\n", c->cmd, err.msg);
		return NSCELL_EXIT_USAGE;
	}
	return 0;
}

int cmd_translate(struct cli *c)
{
	struct plan p;
	int rc = cli_load_plan(c, &p, true);
	if (rc)
		return rc;
	struct oci_opts o = { 0 };
	struct oci_hooks h = { 0 };
	nscell_error_t err = { 0 };
	char *json = NULL;
	size_t len = 0;
	if ((rc = oci_options(c, &p, &o, &h)) != 0) {
		/* said */
	} else if (oci_config_generate(&p, &o, &json, &len, &err) < 0) {
		fprintf(stderr, "nscell translate: %s\n", err.msg);
		rc = NSCELL_EXIT_USAGE;
	} else if (fwrite(json, 1, len, stdout) != len || fflush(stdout) != 0) {
		fprintf(stderr, "nscell translate: writing config.json failed\n");
		rc = NSCELL_EXIT_USAGE;
	}
	free(json);
	oci_hooks_free(&h);
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
	struct oci_hooks h = { 0 };
	nscell_error_t err = { 0 };
	if ((rc = oci_options(c, &p, &o, &h)) != 0) {
		/* said */
	} else if (bundle_export(&p, c->outdir, &o, &err) < 0) {
		fprintf(stderr, "nscell export: %s\n", err.msg);
		rc = NSCELL_EXIT_USAGE;
	} else if (o.hooks && access(h.bin, X_OK) < 0) {
		/* written all the same: the bundle may be meant for another host */
		fprintf(stderr, "nscell export: warning: the hook program %s is not there "
			"(install nscell, set NSCELL_HOOK_BIN, or export with --no-hooks): runc "
			"will not start this bundle here\n", h.bin);
	}
	oci_hooks_free(&h);
	plan_free(&p);
	return rc;
}
