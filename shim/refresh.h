/* File binds of a persisted sandbox whose host file was replaced: bound
 * afresh by the next warm launch (see refresh.c). */
#ifndef NSCELL_SHIM_REFRESH_H
#define NSCELL_SHIM_REFRESH_H

#include <stdbool.h>

#include "shim/shim.h"
#include "shim/state.h"

/* At build time: NAME/binds lists p's binds of files (not directories,
 * not in the user's tree) with their sources' inodes now, and the -try
 * binds whose sources are missing. */
int binds_record(const struct plan *p, int dirfd, const char *name, pid_t keeper,
		 unsigned long long start, nscell_error_t *err);
/* At a warm launch: bind afresh the files replaced since (root), or set
 * *rebuild (unprivileged, a -try source that appeared, or a record that
 * cannot be read). */
int binds_refresh(struct shim *s, int dirfd, const char *name, const struct state_rec *rec,
		  int pidfd, bool *rebuild, nscell_error_t *err);

#endif
