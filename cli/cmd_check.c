/* nscell check: every template error as FILE:LINE:COL: message. */
#include "cli/cli.h"

int cmd_check(struct cli *c)
{
	struct plan p;
	/* resolving for a user (-u or the default one) finds what parsing
	 * alone cannot: missing required sources, unknown $PASSWD names */
	int rc = cli_load_plan(c, &p, true);
	if (rc)
		return rc;
	plan_free(&p);
	return NSCELL_EXIT_OK;
}
