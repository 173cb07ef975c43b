/* Plan → OCI bundle directory: config.json and a rootfs/ holding the mount
 * points, directories, symlinks, generated and copied files. */
#ifndef NSCELL_BUNDLE_H
#define NSCELL_BUNDLE_H

#include "../oci/oci.h"

/* Write the bundle into dir (created if missing; must be empty or absent).
 * On failure nothing half-made is left behind. */
int bundle_export(const struct plan *p, const char *dir, const struct oci_opts *o,
		  nscell_error_t *err);

#endif
