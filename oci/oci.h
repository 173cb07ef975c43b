/* OCI runtime-spec back end and front end: plan ↔ config.json (yajl). */
#ifndef NSCELL_OCI_H
#define NSCELL_OCI_H

#include <stdbool.h>
#include <stddef.h>

#include "../translate/error.h"
#include "../translate/plan.h"

struct oci_opts {
	bool rootless;          /* user namespace mapping that unprivileged runc accepts */
	bool hooks;             /* write nscell hooks (issue: OCI hooks); off for now */
	const char *rootfs;     /* root.path; NULL = "rootfs" */
};

/* config.json for the plan, deterministic (same plan, same bytes).
 * *out is malloc'd, NUL-terminated. */
int oci_config_generate(const struct plan *p, const struct oci_opts *o, char **out,
			size_t *len, nscell_error_t *err);
/* Read a config.json (file or buffer) back into a plan.  An unsupported
 * field is an error naming it.  *p must be plan_init'ed. */
int oci_config_read_file(struct plan *p, const char *path, nscell_error_t *err);
int oci_config_read_buffer(struct plan *p, const char *name, const char *buf, size_t len,
			   nscell_error_t *err);

#endif
