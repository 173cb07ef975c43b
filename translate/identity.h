/* The sandbox user: looked up through NSS, and the generated passwd/group. */
#ifndef NSCELL_IDENTITY_H
#define NSCELL_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "plan.h"

/* Look up USER (a name or a numeric uid) through getpwnam_r/getpwuid_r and
 * fill id, supplementary groups from getgrouplist.  Unknown user: error
 * "unknown user 'x'".  A home of "/" or a relative home is refused.  An
 * empty shell becomes /bin/sh; a primary group missing from the group
 * database is named by its number. */
int identity_lookup(struct plan_identity *id, const char *user, nscell_error_t *err);
/* Where users and groups come from: NSS; FILES, /etc/passwd and
 * /etc/group read directly and nothing else (LiteSpeed's way); or AUTO,
 * the default: the files first when nsswitch.conf would answer from them
 * anyway (identity_files_usable), NSS for what they do not hold. */
enum identity_db { IDENTITY_DB_AUTO, IDENTITY_DB_NSS, IDENTITY_DB_FILES };
void identity_set_database(enum identity_db db);
/* How many lookups went to NSS (rather than the files) so far in this
 * process: a plan made while it stayed put depends on no NSS source. */
unsigned long identity_nss_lookups(void);

/* The default user: the caller itself when unprivileged, "nobody" for root. */
const char *identity_default_user(void);
void identity_free(struct plan_identity *id);
/* A deep copy of from into to; -1 (to left empty) when out of memory. */
int identity_copy(struct plan_identity *to, const struct plan_identity *from);

/* Whether a user (group) of that name exists; -1 with err on lookup failure. */
int identity_user_exists(const char *name, nscell_error_t *err);
int identity_group_exists(const char *name, nscell_error_t *err);

/* Generated /etc/passwd: the user's own entry, then each extra name (a user
 * name; unknown → error).  No line-length limit.  *out is malloc'd. */
int identity_passwd_file(const struct plan_identity *id, char *const *extra, char **out,
			 size_t *len, nscell_error_t *err);
/* Generated /etc/group: the user's primary group, then each extra name.
 * Member lists name only the sandbox user (other users stay private). */
int identity_group_file(const struct plan_identity *id, char *const *extra, char **out,
			size_t *len, nscell_error_t *err);

#endif
