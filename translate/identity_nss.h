/* The user database through NSS (getpwnam_r, getgrnam_r, getgrouplist):
 * what identity.c asks when the files do not answer.  nscell-shim, linked
 * statically, cannot load NSS modules and links shim/nss_handover.c's
 * versions of these three instead, which hand the launch over to a
 * dynamically linked program (README.md, "A static shim"). */
#ifndef NSCELL_IDENTITY_NSS_H
#define NSCELL_IDENTITY_NSS_H

#include <grp.h>
#include <pwd.h>
#include <stddef.h>

#include "error.h"

/* By name when name != NULL, else by id.  1 found, 0 not, -1 error.
 * *buf (malloc'd, grown as needed) holds the entry's strings. */
int identity_nss_user(const char *name, uid_t uid, struct passwd *pw, char **buf,
		      nscell_error_t *err);
int identity_nss_group(const char *name, gid_t gid, struct group *gr, char **buf,
		       nscell_error_t *err);
/* user's groups, gid among them, in *groups (malloc'd) and *n */
int identity_nss_grouplist(const char *user, gid_t gid, gid_t **groups, size_t *n,
			   nscell_error_t *err);

#endif
