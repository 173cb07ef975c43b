/* The sandbox user, from NSS (files, LDAP, sssd alike), and the passwd and
 * group files the sandbox gets instead of the host's.  Where NSS would
 * answer from /etc/passwd and /etc/group anyway, they are read directly
 * (identity_files.c), which spares the launch loading NSS modules. */
#include "identity.h"
#include "identity_files.h"
#include "identity_nss.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static enum identity_db database = IDENTITY_DB_AUTO;
static int files_first = -1; /* -1: not decided yet */
static unsigned long nss_lookups;

unsigned long identity_nss_lookups(void)
{
	return nss_lookups;
}

void identity_set_database(enum identity_db db)
{
	database = db;
	files_first = -1;
}

static bool use_files(void)
{
	if (files_first < 0)
		files_first = database == IDENTITY_DB_FILES ||
			      (database == IDENTITY_DB_AUTO && identity_files_usable(NULL));
	return files_first;
}

/* by name when name != NULL, else by uid.  1 found, 0 not, -1 error.
 * *in_files (unless NULL): found in /etc/passwd, read directly. */
static int pw_get(const char *name, uid_t uid, struct passwd *pw, char **buf, bool *in_files,
		  nscell_error_t *err)
{
	if (in_files)
		*in_files = false;
	if (use_files()) {
		int r = identity_files_user(name, uid, pw, buf, err);
		if (r != 0 || database == IDENTITY_DB_FILES) {
			if (in_files)
				*in_files = r > 0;
			return r;
		}
	}
	nss_lookups++;
	return identity_nss_user(name, uid, pw, buf, err);
}

static int gr_get(const char *name, gid_t gid, struct group *gr, char **buf,
		  nscell_error_t *err)
{
	if (use_files()) {
		int r = identity_files_group(name, gid, gr, buf, err);
		if (r != 0 || database == IDENTITY_DB_FILES)
			return r;
	}
	nss_lookups++;
	return identity_nss_group(name, gid, gr, buf, err);
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

void identity_free(struct plan_identity *id)
{
	free(id->user);
	free(id->group);
	free(id->groups);
	free(id->home);
	free(id->shell);
	memset(id, 0, sizeof *id);
}

int identity_copy(struct plan_identity *to, const struct plan_identity *from)
{
	*to = *from;
	to->user = strdup(from->user);
	to->group = strdup(from->group);
	to->home = strdup(from->home);
	to->shell = strdup(from->shell);
	to->groups = malloc((from->ngroups ? from->ngroups : 1) * sizeof *to->groups);
	if (!to->user || !to->group || !to->home || !to->shell || !to->groups) {
		identity_free(to);
		return -1;
	}
	if (from->ngroups)
		memcpy(to->groups, from->groups, from->ngroups * sizeof *to->groups);
	return 0;
}

static int lookup_groups(struct plan_identity *id, bool in_files, nscell_error_t *err)
{
	if (in_files)
		return identity_files_grouplist(id->user, id->gid, &id->groups, &id->ngroups, err);
	nss_lookups++;
	return identity_nss_grouplist(id->user, id->gid, &id->groups, &id->ngroups, err);
}

static int fill_identity(struct plan_identity *id, const struct passwd *pw, bool in_files,
			 nscell_error_t *err)
{
	size_t hlen = strlen(pw->pw_dir);
	while (hlen > 1 && pw->pw_dir[hlen - 1] == '/')
		hlen--;
	if (pw->pw_dir[0] != '/')
		return nscell_error_set(err, 0, "user '%s' has a relative home '%s': refused",
					pw->pw_name, pw->pw_dir);
	if (hlen == 1)
		return nscell_error_set(err, 0,
					"user '%s' has home '/': refused (the sandbox would hold the whole host)",
					pw->pw_name);
	id->user = strdup(pw->pw_name);
	id->uid = pw->pw_uid;
	id->gid = pw->pw_gid;
	id->home = strndup(pw->pw_dir, hlen);
	id->shell = strdup(pw->pw_shell && *pw->pw_shell ? pw->pw_shell : "/bin/sh");
	if (!id->user || !id->home || !id->shell)
		return nscell_error_errno(err, ENOMEM, "user '%s'", pw->pw_name);

	_cleanup_free_ char *buf = NULL;
	struct group gr;
	int r = gr_get(NULL, id->gid, &gr, &buf, err);
	if (r < 0)
		return -1;
	if (r)
		id->group = strdup(gr.gr_name);
	else if (asprintf(&id->group, "%u", (unsigned)id->gid) < 0)
		id->group = NULL;
	if (!id->group)
		return nscell_error_errno(err, ENOMEM, "user '%s'", pw->pw_name);
	return lookup_groups(id, in_files, err);
}

int identity_lookup(struct plan_identity *id, const char *user, nscell_error_t *err)
{
	memset(id, 0, sizeof *id);
	if (!user || !*user)
		return nscell_error_set(err, 0, "empty user name");
	_cleanup_free_ char *buf = NULL;
	struct passwd pw;
	bool in_files;
	int r = pw_get(user, 0, &pw, &buf, &in_files, err);
	if (r == 0 && all_digits(user)) {
		errno = 0;
		char *end;
		unsigned long uid = strtoul(user, &end, 10);
		if (errno == 0 && uid < (uid_t)-1)
			r = pw_get(NULL, (uid_t)uid, &pw, &buf, &in_files, err);
	}
	if (r < 0)
		return -1;
	if (r == 0)
		return nscell_error_set(err, 0, "unknown user '%s'", user);
	if (fill_identity(id, &pw, in_files, err) < 0) {
		identity_free(id);
		return -1;
	}
	return 0;
}

const char *identity_default_user(void)
{
	static char name[256];
	uid_t uid = geteuid();
	if (uid == 0)
		return "nobody";
	_cleanup_free_ char *buf = NULL;
	struct passwd pw;
	if (pw_get(NULL, uid, &pw, &buf, NULL, NULL) == 1 && strlen(pw.pw_name) < sizeof name)
		snprintf(name, sizeof name, "%s", pw.pw_name);
	else
		snprintf(name, sizeof name, "%u", (unsigned)uid);
	return name;
}

int identity_user_exists(const char *name, nscell_error_t *err)
{
	_cleanup_free_ char *buf = NULL;
	struct passwd pw;
	return pw_get(name, 0, &pw, &buf, NULL, err);
}

int identity_group_exists(const char *name, nscell_error_t *err)
{
	_cleanup_free_ char *buf = NULL;
	struct group gr;
	return gr_get(name, 0, &gr, &buf, err);
}

static bool seen(char *const *v, size_t i, const char *name, const char *own)
{
	if (strcmp(name, own) == 0)
		return true;
	for (size_t j = 0; j < i; j++)
		if (strcmp(v[j], name) == 0)
			return true;
	return false;
}

/* close the open_memstream into *out and *len */
static int finish(FILE *f, char **mem, size_t *memlen, char **out, size_t *len,
		  nscell_error_t *err)
{
	if (fclose(f) != 0 || !*mem) {
		free(*mem);
		return nscell_error_errno(err, ENOMEM, "generated file");
	}
	*out = *mem;
	*len = *memlen;
	return 0;
}

int identity_passwd_file(const struct plan_identity *id, char *const *extra, char **out,
			 size_t *len, nscell_error_t *err)
{
	char *mem = NULL;
	size_t memlen = 0;
	FILE *f = open_memstream(&mem, &memlen);
	if (!f)
		return nscell_error_errno(err, errno, "generated passwd");
	_cleanup_free_ char *buf = NULL;
	struct passwd pw;
	int r = pw_get(id->user, 0, &pw, &buf, NULL, err);
	/* the user's own entry from the identity, gecos from NSS */
	if (r >= 0)
		fprintf(f, "%s:x:%u:%u:%s:%s:%s\n", id->user, (unsigned)id->uid,
			(unsigned)id->gid, r && pw.pw_gecos ? pw.pw_gecos : "", id->home, id->shell);
	for (size_t i = 0; r >= 0 && extra && extra[i]; i++) {
		if (seen(extra, i, extra[i], id->user))
			continue;
		r = pw_get(extra[i], 0, &pw, &buf, NULL, err);
		if (r == 0)
			r = nscell_error_set(err, 0, "unknown user '%s'", extra[i]);
		if (r > 0)
			fprintf(f, "%s:x:%u:%u:%s:%s:%s\n", pw.pw_name, (unsigned)pw.pw_uid,
				(unsigned)pw.pw_gid, pw.pw_gecos ? pw.pw_gecos : "", pw.pw_dir,
				pw.pw_shell ? pw.pw_shell : "");
	}
	if (r < 0) {
		fclose(f);
		free(mem);
		return -1;
	}
	return finish(f, &mem, &memlen, out, len, err);
}

static void group_line(FILE *f, const char *name, gid_t gid, char *const *members,
		       const char *user)
{
	bool member = false;
	for (size_t i = 0; members && members[i]; i++)
		if (strcmp(members[i], user) == 0)
			member = true;
	fprintf(f, "%s:x:%u:%s\n", name, (unsigned)gid, member ? user : "");
}

int identity_group_file(const struct plan_identity *id, char *const *extra, char **out,
			size_t *len, nscell_error_t *err)
{
	char *mem = NULL;
	size_t memlen = 0;
	FILE *f = open_memstream(&mem, &memlen);
	if (!f)
		return nscell_error_errno(err, errno, "generated group");
	_cleanup_free_ char *buf = NULL;
	struct group gr;
	int r = gr_get(NULL, id->gid, &gr, &buf, err);
	if (r >= 0)
		group_line(f, id->group, id->gid, r ? gr.gr_mem : NULL, id->user);
	for (size_t i = 0; r >= 0 && extra && extra[i]; i++) {
		if (seen(extra, i, extra[i], id->group))
			continue;
		r = gr_get(extra[i], 0, &gr, &buf, err);
		if (r == 0)
			r = nscell_error_set(err, 0, "unknown group '%s'", extra[i]);
		if (r > 0)
			group_line(f, gr.gr_name, gr.gr_gid, gr.gr_mem, id->user);
	}
	if (r < 0) {
		fclose(f);
		free(mem);
		return -1;
	}
	return finish(f, &mem, &memlen, out, len, err);
}
