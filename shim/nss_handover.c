/* A static nscell-shim's user database beyond the files.  A statically
 * linked program cannot load NSS modules safely (glibc would dlopen them
 * into a process without a dynamic libc), so nscell-shim, static for the
 * speed of its start, links these in place of translate/identity_nss.c:
 * a launch that must ask NSS (a user not in /etc/passwd, user_database =
 * nss) is handed over to nscell-shim-nss, the same launcher linked
 * dynamically.  Users in the files, the common case, never get here. */
#include "shim/shim.h"
#include "translate/identity_nss.h"

int identity_nss_user(const char *name, uid_t uid, struct passwd *pw, char **buf,
		      nscell_error_t *err)
{
	return shim_nss_handover(err);
}

int identity_nss_group(const char *name, gid_t gid, struct group *gr, char **buf,
		       nscell_error_t *err)
{
	return shim_nss_handover(err);
}

int identity_nss_grouplist(const char *user, gid_t gid, gid_t **groups, size_t *n,
			   nscell_error_t *err)
{
	return shim_nss_handover(err);
}
