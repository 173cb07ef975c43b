/* suexec's checks, in suexec's order: who the target is, what the command
 * may look like, then (run with the target's effective ids, as suexec
 * does after its setuid, so that they hold over root-squashed NFS too)
 * where the program is and who may write it.  Stricter than suexec where
 * it costs nothing: PROGRAM is one name (Apache passes the basename and
 * runs us in its directory), it must be a regular file, the group must be
 * the user's own (the sandbox runs with the user's groups), and the cwd
 * must be the document root or below it at a '/' boundary. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "suexec/suexec.h"

/* "1001", "#1001" or a name; -1 when it is not a number */
static long numeric_id(const char *s)
{
	if (*s == '#')
		s++;
	if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 10)
		return -1;
	long v = strtol(s, NULL, 10);
	return v > 0x7fffffffL ? -1 : v;
}

static int find_user(const char *arg, struct suexec_request *r, nscell_error_t *err)
{
	long id = numeric_id(arg);
	errno = 0;
	struct passwd *pw = id >= 0 ? getpwuid((uid_t)id) : getpwnam(arg);
	if (!pw)
		return nscell_error_set(err, errno, "invalid target user '%s'", arg);
	if (strlen(pw->pw_name) >= sizeof r->user || strlen(pw->pw_dir) >= sizeof r->home ||
	    pw->pw_dir[0] != '/')
		return nscell_error_set(err, 0, "target user '%s': name or home unusable", arg);
	r->uid = pw->pw_uid;
	snprintf(r->user, sizeof r->user, "%s", pw->pw_name);
	snprintf(r->home, sizeof r->home, "%s", pw->pw_dir);
	return (int)pw->pw_gid;
}

static int find_group(const char *arg, gid_t *gid, nscell_error_t *err)
{
	long id = numeric_id(arg);
	if (id >= 0) {
		*gid = (gid_t)id;
		return 0;
	}
	errno = 0;
	struct group *gr = getgrnam(arg);
	if (!gr)
		return nscell_error_set(err, errno, "invalid target group '%s'", arg);
	*gid = gr->gr_gid;
	return 0;
}

int suexec_resolve_target(const struct suexec_conf *c, const char *user, const char *group,
			  struct suexec_request *r, nscell_error_t *err)
{
	r->userdir = user[0] == '~';
	if (r->userdir)
		user++;
	int primary = find_user(user, r, err);
	if (primary < 0 || find_group(group, &r->gid, err) < 0)
		return -1;
	if (r->uid == 0 || r->uid < c->uid_min)
		return nscell_error_set(err, 0, "cannot run as forbidden uid %u (%s; uid_min %lu)",
					(unsigned)r->uid, r->user, c->uid_min);
	if (r->gid == 0 || r->gid < c->gid_min)
		return nscell_error_set(err, 0, "cannot run as forbidden gid %u (gid_min %lu)",
					(unsigned)r->gid, c->gid_min);
	if (r->gid != (gid_t)primary)
		return nscell_error_set(err, 0, "gid %u is not %s's own group %d (the sandbox runs "
						"with the user's groups)", (unsigned)r->gid, r->user, primary);
	if (r->userdir && !*c->userdir)
		return nscell_error_set(err, 0, "~%s: user directories are disabled (userdir none)", r->user);
	if (!r->userdir && !*c->docroot)
		return nscell_error_set(err, 0, "%s: only ~user requests are allowed (docroot none)", r->user);
	return 0;
}

int suexec_check_command(const char *cmd, nscell_error_t *err)
{
	if (!*cmd || strchr(cmd, '/') || strcmp(cmd, ".") == 0 || strcmp(cmd, "..") == 0)
		return nscell_error_set(err, 0, "invalid command '%s' (one file name in the current "
						"directory)", cmd);
	return 0;
}

/* the docroot of the request, resolved: ~USER/userdir or docroot */
static int docroot_of(const struct suexec_conf *c, const struct suexec_request *r, char *dwd,
		      nscell_error_t *err)
{
	char want[PATH_MAX * 2];
	if (r->userdir)
		snprintf(want, sizeof want, "%s/%s", r->home, c->userdir);
	else
		snprintf(want, sizeof want, "%s", c->docroot);
	if (!realpath(want, dwd))
		return nscell_error_errno(err, errno, "cannot get docroot information (%s)", want);
	return 0;
}

static bool below(const char *path, const char *root)
{
	size_t n = strlen(root);
	if (n == 1 && root[0] == '/')
		return true;
	return strncmp(path, root, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static int check_owner(const struct stat *st, const struct suexec_request *r, const char *what,
		       nscell_error_t *err)
{
	if (st->st_mode & 022)
		return nscell_error_set(err, 0, "%s is writable by group or others (mode %03o)", what,
					(unsigned)(st->st_mode & 07777));
	if (st->st_uid != r->uid || st->st_gid != r->gid)
		return nscell_error_set(err, 0, "%s is owned by %u:%u, not by the target %u:%u (%s)", what,
					(unsigned)st->st_uid, (unsigned)st->st_gid, (unsigned)r->uid,
					(unsigned)r->gid, r->user);
	return 0;
}

int suexec_check_files(const struct suexec_conf *c, const char *cmd, struct suexec_request *r,
		       nscell_error_t *err)
{
	char dwd[PATH_MAX], what[PATH_MAX + 32];
	struct stat st;
	if (!getcwd(r->cwd, sizeof r->cwd))
		return nscell_error_errno(err, errno, "cannot get the current working directory");
	if (docroot_of(c, r, dwd, err) < 0)
		return -1;
	if (!below(r->cwd, dwd))
		return nscell_error_set(err, 0, "command not in docroot (%s/%s is not below %s)", r->cwd, cmd, dwd);
	if (stat(".", &st) < 0 || !S_ISDIR(st.st_mode))
		return nscell_error_errno(err, errno, "cannot stat directory %s", r->cwd);
	snprintf(what, sizeof what, "directory %s", r->cwd);
	if (check_owner(&st, r, what, err) < 0)
		return -1;
	snprintf(what, sizeof what, "%s/%s", r->cwd, cmd);
	if (fstatat(AT_FDCWD, cmd, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return nscell_error_errno(err, errno, "cannot stat program %s", what);
	if (S_ISLNK(st.st_mode))
		return nscell_error_set(err, 0, "%s is a symbolic link", what);
	if (!S_ISREG(st.st_mode))
		return nscell_error_set(err, 0, "%s is not a regular file", what);
	if (st.st_mode & (S_ISUID | S_ISGID))
		return nscell_error_set(err, 0, "%s is setuid or setgid", what);
	if (check_owner(&st, r, what, err) < 0)
		return -1;
	if (!(st.st_mode & S_IXUSR))
		return nscell_error_set(err, 0, "%s has no execute permission", what);
	if (strlen(what) >= sizeof r->program)
		return nscell_error_set(err, 0, "%s: path too long", what);
	snprintf(r->program, sizeof r->program, "%s", what);
	return 0;
}
