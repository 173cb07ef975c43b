/* The user database read straight from /etc/passwd and /etc/group,
 * without NSS: loading an NSS module (libnss_systemd on Debian) costs a
 * launch ~0.4 M instructions and ~0.6 MB of memory, more than the rest of
 * the translation.  identity.c uses it only where NSS would give the same
 * answer (see identity_files_usable). */
#ifndef NSCELL_IDENTITY_FILES_H
#define NSCELL_IDENTITY_FILES_H

#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* what the files answer from (and what a cached plan depends on) */
#define IDENTITY_PASSWD_FILE "/etc/passwd"
#define IDENTITY_GROUP_FILE "/etc/group"
#define IDENTITY_NSSWITCH_FILE "/etc/nsswitch.conf"

/* Whether nsswitch.conf (path; NULL: /etc/nsswitch.conf) makes `files`
 * the first source of both passwd and group, with `systemd` as the only
 * other one: then a user found in the files is what NSS would return.
 * (nss-systemd serves systemd's own dynamic and userdb users, and the
 * memberships of userdb records, which the files do not hold.) */
bool identity_files_usable(const char *nsswitch);

/* By name when name != NULL, else by id.  1 found, 0 not, -1 error.
 * *buf is (re)allocated to hold the strings; the caller frees it. */
int identity_files_user(const char *name, uid_t uid, struct passwd *pw, char **buf,
			nscell_error_t *err);
int identity_files_group(const char *name, gid_t gid, struct group *gr, char **buf,
			 nscell_error_t *err);
/* gid, then every group that lists user as a member, without repeats, as
 * getgrouplist(3) orders them.  *v is malloc'd. */
int identity_files_grouplist(const char *user, gid_t gid, gid_t **v, size_t *n,
			     nscell_error_t *err);

#endif
