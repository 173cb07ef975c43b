/* fgetpwent_r/fgetgrent_r parse the files themselves: no NSS module is
 * loaded.  musl has neither: pwent.h stands in. */
#include "identity_files.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef __GLIBC__
#include "pwent.h"
#endif

#define PASSWD_FILE IDENTITY_PASSWD_FILE
#define GROUP_FILE IDENTITY_GROUP_FILE
/* no line-length limit, but a bound */
#define ENTRY_BUF_MAX (64u << 20)

/* ---- nsswitch.conf ---- */

/* "files" or "files systemd" (a [STATUS=action] item, or any other
 * source, makes the answer NSS's alone) */
static bool files_first(char *sources)
{
	char *save = NULL;
	unsigned n = 0;
	for (char *w = strtok_r(sources, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save), n++) {
		if (n == 0 && strcmp(w, "files") != 0)
			return false;
		if (n > 0 && strcmp(w, "systemd") != 0)
			return false;
	}
	return n > 0;
}

bool identity_files_usable(const char *nsswitch)
{
	FILE *f = fopen(nsswitch ? nsswitch : IDENTITY_NSSWITCH_FILE, "re");
	if (!f)
		return false; /* glibc's defaults then include more than files */
	bool passwd = false, group = false;
	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) > 0) {
		char *s = line + strspn(line, " \t");
		char *hash = strchr(s, '#');
		if (hash)
			*hash = '\0';
		if (strncmp(s, "passwd:", 7) == 0)
			passwd = files_first(s + 7);
		else if (strncmp(s, "group:", 6) == 0)
			group = files_first(s + 6);
	}
	free(line);
	fclose(f);
	return passwd && group;
}

/* ---- entries ---- */

static int grow(char **buf, size_t *size)
{
	size_t n = *size ? *size * 2 : 1024;
	char *b = n <= ENTRY_BUF_MAX ? realloc(*buf, n) : NULL;
	if (!b)
		return -1;
	*buf = b;
	*size = n;
	return 0;
}

#ifdef __GLIBC__
/* The next entry in ent, its strings in *buf (grown while an entry does
 * not fit, reading the entry again): 1, 0 at the end, -1 with errno. */
static int next_user(FILE *f, struct passwd *ent, char **buf, size_t *size)
{
	for (;;) {
		long at = ftell(f);
		struct passwd *res = NULL;
		int r = *size ? fgetpwent_r(f, ent, *buf, *size, &res) : ERANGE;
		if (r == ERANGE && grow(buf, size) == 0 && fseek(f, at, SEEK_SET) == 0)
			continue;
		if (r == 0 || r == ENOENT)
			return res ? 1 : 0;
		errno = r;
		return -1;
	}
}

static int next_group(FILE *f, struct group *ent, char **buf, size_t *size)
{
	for (;;) {
		long at = ftell(f);
		struct group *res = NULL;
		int r = *size ? fgetgrent_r(f, ent, *buf, *size, &res) : ERANGE;
		if (r == ERANGE && grow(buf, size) == 0 && fseek(f, at, SEEK_SET) == 0)
			continue;
		if (r == 0 || r == ENOENT)
			return res ? 1 : 0;
		errno = r;
		return -1;
	}
}
#else
/* The same on musl, which has no _r functions: its entry copied
 * (pwent.h), the buffer grown while it does not fit; no ftell and fseek
 * per entry, which are system calls on musl. */
static int next_user(FILE *f, struct passwd *ent, char **buf, size_t *size)
{
	errno = 0;
	const struct passwd *p = fgetpwent(f);
	if (!p)
		return ferror(f) ? -1 : 0;
	while (pwent_copy_user(ent, p, *buf, *size) == ERANGE)
		if (grow(buf, size) < 0)
			return errno = ERANGE, -1;
	return 1;
}

static int next_group(FILE *f, struct group *ent, char **buf, size_t *size)
{
	errno = 0;
	const struct group *g = fgetgrent(f);
	if (!g)
		return ferror(f) ? -1 : 0;
	while (pwent_copy_group(ent, g, *buf, *size) == ERANGE)
		if (grow(buf, size) < 0)
			return errno = ERANGE, -1;
	return 1;
}
#endif

/* a missing file holds no entry */
#define OPEN_DB(f, path, err)                                                                \
	FILE *f = fopen(path, "re");                                                         \
	if (!f)                                                                              \
		return errno == ENOENT ? 0 : nscell_error_errno(err, errno, "open %s", path)

int identity_files_user(const char *name, uid_t uid, struct passwd *ent, char **buf,
			nscell_error_t *err)
{
	OPEN_DB(f, PASSWD_FILE, err);
	size_t size = 0;
	int r;
	while ((r = next_user(f, ent, buf, &size)) > 0)
		if (name ? strcmp(ent->pw_name, name) == 0 : ent->pw_uid == uid)
			break;
	if (r < 0)
		nscell_error_errno(err, errno, "read %s", PASSWD_FILE);
	fclose(f);
	return r;
}

int identity_files_group(const char *name, gid_t gid, struct group *ent, char **buf,
			 nscell_error_t *err)
{
	OPEN_DB(f, GROUP_FILE, err);
	size_t size = 0;
	int r;
	while ((r = next_group(f, ent, buf, &size)) > 0)
		if (name ? strcmp(ent->gr_name, name) == 0 : ent->gr_gid == gid)
			break;
	if (r < 0)
		nscell_error_errno(err, errno, "read %s", GROUP_FILE);
	fclose(f);
	return r;
}

static bool member(char *const *mem, const char *user)
{
	for (; mem && *mem; mem++)
		if (strcmp(*mem, user) == 0)
			return true;
	return false;
}

static int push(gid_t **v, size_t *n, size_t *cap, gid_t g)
{
	for (size_t i = 0; i < *n; i++)
		if ((*v)[i] == g)
			return 0;
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		gid_t *w = realloc(*v, c * sizeof *w);
		if (!w)
			return -1;
		*v = w;
		*cap = c;
	}
	(*v)[(*n)++] = g;
	return 0;
}

int identity_files_grouplist(const char *user, gid_t gid, gid_t **v, size_t *n,
			     nscell_error_t *err)
{
	size_t cap = 0;
	*n = 0;
	if (push(v, n, &cap, gid) < 0)
		return nscell_error_errno(err, ENOMEM, "groups of '%s'", user);
	OPEN_DB(f, GROUP_FILE, err);
	_cleanup_free_ char *buf = NULL;
	size_t size = 0;
	struct group gr;
	int r;
	while ((r = next_group(f, &gr, &buf, &size)) > 0)
		if (member(gr.gr_mem, user) && push(v, n, &cap, gr.gr_gid) < 0) {
			errno = ENOMEM;
			r = -1;
			break;
		}
	if (r < 0)
		nscell_error_errno(err, errno, "groups of '%s' from %s", user, GROUP_FILE);
	fclose(f);
	return r < 0 ? -1 : 0;
}
