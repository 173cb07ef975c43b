/* The user database through NSS (see identity_nss.h). */
#include "identity_nss.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

/* NSS buffers grow until the entry fits: no line-length limit, but a bound
 * so that a broken NSS module cannot eat the memory. */
#define NSS_BUF_MAX (64u << 20)

static bool nss_not_found(int r)
{
	/* what getpwnam_r(3) lists as "not found" */
	return r == 0 || r == ENOENT || r == ESRCH || r == EBADF || r == EPERM;
}

int identity_nss_user(const char *name, uid_t uid, struct passwd *pw, char **buf,
		      nscell_error_t *err)
{
	for (size_t size = 1024;; size *= 2) {
		char *b = realloc(*buf, size);
		if (!b)
			return nscell_error_errno(err, ENOMEM, "looking up a user");
		*buf = b;
		struct passwd *res = NULL;
		int r = name ? getpwnam_r(name, pw, b, size, &res) :
			       getpwuid_r(uid, pw, b, size, &res);
		if (r == ERANGE && size < NSS_BUF_MAX)
			continue;
		if (res)
			return 1;
		if (nss_not_found(r))
			return 0;
		if (name)
			return nscell_error_errno(err, r, "looking up user '%s'", name);
		return nscell_error_errno(err, r, "looking up uid %u", (unsigned)uid);
	}
}

int identity_nss_group(const char *name, gid_t gid, struct group *gr, char **buf,
		       nscell_error_t *err)
{
	for (size_t size = 1024;; size *= 2) {
		char *b = realloc(*buf, size);
		if (!b)
			return nscell_error_errno(err, ENOMEM, "looking up a group");
		*buf = b;
		struct group *res = NULL;
		int r = name ? getgrnam_r(name, gr, b, size, &res) :
			       getgrgid_r(gid, gr, b, size, &res);
		if (r == ERANGE && size < NSS_BUF_MAX)
			continue;
		if (res)
			return 1;
		if (nss_not_found(r))
			return 0;
		if (name)
			return nscell_error_errno(err, r, "looking up group '%s'", name);
		return nscell_error_errno(err, r, "looking up gid %u", (unsigned)gid);
	}
}

int identity_nss_grouplist(const char *user, gid_t gid, gid_t **groups, size_t *n,
			   nscell_error_t *err)
{
	int cap = 16;
	for (;;) {
		gid_t *v = realloc(*groups, (size_t)cap * sizeof *v);
		if (!v)
			return nscell_error_errno(err, ENOMEM, "groups of '%s'", user);
		*groups = v;
		int got = cap;
		if (getgrouplist(user, gid, v, &got) >= 0) {
			*n = (size_t)got;
			return 0;
		}
		if (got <= cap) {
			if (cap >= 65536)
				return nscell_error_set(err, 0, "groups of '%s': too many", user);
			got = cap * 2;
		}
		cap = got;
	}
}
