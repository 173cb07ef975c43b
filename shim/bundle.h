/* nscell-shim run -b DIR ID (shim/bundle.c): an OCI bundle's config.json
 * read into the plan s->plan and run by the shim's executor.  Only
 * nscell-shim links it (with oci/'s reader and yajl), not libnscell.a. */
#ifndef NSCELL_SHIM_BUNDLE_H
#define NSCELL_SHIM_BUNDLE_H

#include "shim/shim.h"

/* argv[0] is "run"; returns the process's status, or -1 with err */
int shim_bundle_run(int argc, char **argv, struct shim *s, nscell_error_t *err);

#endif
