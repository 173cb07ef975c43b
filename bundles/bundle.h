/* Plan → OCI bundle directory: config.json and a rootfs/ holding the mount
 * points, directories, symlinks, generated and copied files. */
#ifndef NSCELL_BUNDLE_H
#define NSCELL_BUNDLE_H

#include "../oci/oci.h"

/* Write the bundle into dir (created 0700 if missing; an existing one must
 * be an empty directory, not a symlink).  The layout:
 *
 *   DIR/config.json  0644, oci_config_generate of the plan (minus copy-try
 *                    entries whose source is missing)
 *   DIR/ROOTFS/      0755 (o->rootfs, a plain name; default "rootfs"):
 *                    mount points (an empty file where a file is bound),
 *                    PLAN_DIR (owned by the user when root exports), PLAN_SYMLINK,
 *                    PLAN_FILE and PLAN_COPY (mode kept, set-id bits dropped)
 *   DIR/files/       what a mount would hide, bound from there (OCI_FILES_DIR)
 *
 * and, outside the bundle, each PLAN_TMP source, made 0700 as the user
 * without following symlinks (kept on failure: it is the user's own dir).
 * With rootless everything belongs to the caller.  A plan read from a
 * bundle is exported self-contained: p->rootfs is not used.  On failure
 * nothing half-made is left behind in dir. */
int bundle_export(const struct plan *p, const char *dir, const struct oci_opts *o,
		  nscell_error_t *err);

/* The source of PLAN_TMP entry m made as bundle_export makes it (as the
 * user, 0700, no symlink followed); an existing one is kept.  For
 * `nscell hook`. */
int bundle_make_tmp_source(const struct plan *p, const struct plan_mount *m, bool rootless,
			   nscell_error_t *err);

#endif
