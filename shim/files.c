/* Sources and files: opening bind sources on the host (once, before
 * anything is mounted), the disk-backed tmp directories, copies and
 * generated files.
 *
 * Sources in the user's tree (PLAN_F_USER_PATH) are opened below the home
 * directory with no symlink followed, so a link the user planted cannot
 * turn a bind or a copy into one of a host file the user may not read.
 * Copies and generated files are written into the sandbox's own tmpfs;
 * one whose destination lies in a host bind is written to the stage
 * instead and bound over the destination: nothing is written to the host. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <unistd.h>

#include "shim/rootfs.h"

/* rel: path below home, "" for home itself; NULL when path is not below it */
static const char *below(const char *path, const char *home)
{
	size_t n = strlen(home);
	while (n > 1 && home[n - 1] == '/')
		n--;
	if (strncmp(path, home, n) != 0 || (path[n] != '/' && path[n] != '\0'))
		return NULL;
	return path + n + (path[n] == '/');
}

/* the user's home on the host; -1 with errno when it cannot be opened */
static int home_fd(struct rootfs *r)
{
	/* the home's own path comes from the user database: followed, but
	 * with the user's own access (see open_src) */
	if (r->home_fd < 0)
		r->home_fd = open(r->p->id.home, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return r->home_fd;
}

static int open_user_src(struct rootfs *r, const struct plan_mount *m, int flags);

/* Sources in the user's tree are opened with the user's filesystem ids:
 * a home the user can point elsewhere (a symlink in a directory the user
 * owns) must not lead, with root's access, into a directory the user
 * cannot enter on the host. */
static int open_src(struct rootfs *r, const struct plan_mount *m, int flags)
{
	if (!(m->flags & PLAN_F_USER_PATH))
		return open(m->src, flags | O_CLOEXEC);
	nscell_error_t ignored;
	if (creds_fs_as_user(r->s, &ignored) < 0) {
		errno = EPERM;
		return -1;
	}
	int fd = open_user_src(r, m, flags);
	int e = errno;
	creds_fs_restore();
	errno = e;
	return fd;
}

static int open_user_src(struct rootfs *r, const struct plan_mount *m, int flags)
{
	const char *rel = below(m->src, r->p->id.home);
	if (!rel) {
		_cleanup_close_ int slash = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		return rfs_open_beneath(r, slash, m->src, flags);
	}
	if (home_fd(r) < 0)
		return -1;
	if (!*rel && (flags & O_PATH))
		return fcntl(r->home_fd, F_DUPFD_CLOEXEC, 3);
	return rfs_open_beneath(r, r->home_fd, *rel ? rel : ".", flags);
}

/* The disk-backed tmp directory (~/.nscell/tmp): created as the user, one
 * component at a time, O_NOFOLLOW|O_DIRECTORY, so a symlink the user put
 * anywhere on the way is refused rather than followed. */
static int open_tmp_dir(struct rootfs *r, const struct plan_mount *m, nscell_error_t *err)
{
	const char *rel = below(m->src, r->p->id.home);
	char parent[PATH_MAX];
	int cur;
	if ((m->flags & PLAN_F_USER_PATH) && rel) {
		if (creds_fs_as_user(r->s, err) < 0)
			return -1;
		int e = home_fd(r) < 0 ? errno : 0;
		creds_fs_restore();
		if (r->home_fd < 0 && e == ENOENT)
			return -2; /* no home (nobody's /nonexistent): a tmpfs instead */
		errno = e;
		if (r->home_fd < 0)
			return nscell_error_errno(err, errno, "home %s", r->p->id.home);
		cur = fcntl(r->home_fd, F_DUPFD_CLOEXEC, 3);
	} else {
		/* elsewhere (tmp_dir in nscell.conf): the parent is the admin's,
		 * only the last component is made */
		const char *slash = strrchr(m->src, '/');
		snprintf(parent, sizeof parent, "%.*s", slash == m->src ? 1 : (int)(slash - m->src), m->src);
		cur = open(parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (cur < 0)
			return nscell_error_errno(err, errno, "tmp parent %s", parent);
		rel = slash + 1;
	}
	if (creds_fs_as_user(r->s, err) < 0) {
		close(cur);
		return -1;
	}
	while (*rel && cur >= 0) {
		const char *end = strchrnul(rel, '/');
		char comp[NAME_MAX + 1];
		snprintf(comp, sizeof comp, "%.*s", (int)(end - rel), rel);
		if (mkdirat(cur, comp, 0700) < 0 && errno != EEXIST) {
			nscell_error_errno(err, errno, "create %s in %s", comp, m->src);
			break;
		}
		int fd = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			nscell_error_errno(err, errno, "%s: '%s' is not a directory (a symlink?)",
					   m->src, comp);
		close(cur);
		cur = fd;
		rel = *end ? end + 1 : end;
	}
	creds_fs_restore();
	if (cur < 0 || *rel) {
		if (cur >= 0)
			close(cur);
		return -1;
	}
	struct stat st;
	if (fstat(cur, &st) < 0 || st.st_uid != r->p->id.uid) {
		close(cur);
		return nscell_error_set(err, EPERM, "tmp dir %s is not owned by %s", m->src, r->p->id.user);
	}
	return cur;
}

int files_as_tree(struct rootfs *r, int fd, bool recursive)
{
	if (!r->trees || fd < 0)
		return fd;
	int tree = mnt_open_tree(fd, "", true, recursive);
	int e = errno;
	close(fd);
	errno = e;
	return tree;
}

int files_open_source(struct rootfs *r, size_t i, nscell_error_t *err)
{
	const struct plan_mount *m = &r->p->mounts[i];
	int fd;
	/* a host path as root: straight into a detached copy of its tree, one
	 * call instead of open, open_tree and close (a user's path is opened
	 * as the user first, beneath its home) */
	bool tree = m->op == PLAN_BIND && r->trees && !(m->flags & PLAN_F_USER_PATH);
	r->src_fds[i] = -1;
	switch (m->op) {
	case PLAN_TMP:
		fd = open_tmp_dir(r, m, err);
		if (fd == -2)
			shim_log(r->s, &m->origin, "tmp %s: home %s is missing, a tmpfs instead", m->dst,
				 r->p->id.home);
		if (fd == -1)
			return -1;
		if (fd >= 0 && (fd = files_as_tree(r, fd, true)) < 0)
			return nscell_error_errno(err, errno, "copy the mount tree of %s", m->src);
		r->src_fds[i] = fd < 0 ? -1 : fd;
		return 0;
	case PLAN_BIND:
		fd = tree ? mnt_open_tree(AT_FDCWD, m->src, true, true) : open_src(r, m, O_PATH);
		break;
	case PLAN_COPY:
		/* O_NONBLOCK: a fifo must not hang the launch (it is refused below) */
		fd = open_src(r, m, O_RDONLY | O_NONBLOCK | O_NOCTTY);
		break;
	default:
		return 0;
	}
	if (fd < 0 && (errno == ENOENT || errno == ENOTDIR) && (m->flags & PLAN_F_TRY)) {
		shim_log(r->s, &m->origin, "%s %s: source missing, skipped", plan_op_name(m->op), m->src);
		return 0;
	}
	if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))
		return nscell_error_set(err, errno, "source %s missing", m->src);
	if (fd < 0 && errno == ELOOP && (m->flags & PLAN_F_USER_PATH))
		return nscell_error_set(err, errno, "source %s: a symlink in the user's tree (refused)",
					m->src);
	if (fd < 0)
		return nscell_error_errno(err, errno, tree ? "copy the mount tree of %s" : "source %s",
					  m->src);
	struct stat st;
	if (m->op == PLAN_COPY && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))) {
		close(fd);
		return nscell_error_set(err, EINVAL, "source %s is not a regular file", m->src);
	}
	/* a process of the user outside the sandbox is, without a user
	 * namespace, the user's to inspect: its /proc/PID/root in a host
	 * procfs would be the host's / */
	struct statfs sf;
	if (m->op == PLAN_BIND && fstatfs(fd, &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC) {
		if (!r->s->userns) {
			close(fd);
			return nscell_error_set(err, EPERM, "source %s is a procfs: refused without a "
						"user namespace (host processes would lead to the host's /)",
						m->src);
		}
		r->s->procfs_source = true;
	}
	if (m->op == PLAN_BIND && !tree && (fd = files_as_tree(r, fd, true)) < 0)
		return nscell_error_errno(err, errno, "copy the mount tree of %s", m->src);
	r->src_fds[i] = fd;
	return 0;
}

static int copy_data(int in, int out, nscell_error_t *err)
{
	bool plain = false;
	char buf[65536];
	for (;;) {
		ssize_t n;
		if (!plain) {
			n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
			if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
				      errno == EOPNOTSUPP)) {
				plain = true;
				continue;
			}
		} else {
			n = read(in, buf, sizeof buf);
			if (n > 0 && shim_write_all(out, buf, (size_t)n) < 0)
				return nscell_error_errno(err, errno, "write");
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return nscell_error_errno(err, errno, "copy");
		if (n == 0)
			return 0;
	}
}

/* Write a file (copied from srcfd, or data) at m->dst with mode, owned
 * by owner:group when those are the user's (else by the sandbox's root). */
static int place_file(struct rootfs *r, size_t i, mode_t mode, uid_t owner, gid_t group, int srcfd,
		      const char *data, size_t len, nscell_error_t *err)
{
	const struct plan_mount *m = &r->p->mounts[i];
	const char *slash = strrchr(m->dst, '/');
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%.*s", slash == m->dst ? 1 : (int)(slash - m->dst), m->dst);
	_cleanup_close_ int parent = rfs_open_dir(r, dir, true, err);
	if (parent < 0)
		return -1;
	/* Written in place only on our own tmpfs, as a new file or over one
	 * of ours; anything else there (a host file bound in, say) is covered
	 * by a bind of a staged copy, never written through. */
	bool staged = !rfs_is_own(r, parent);
	if (!staged) {
		_cleanup_close_ int old = openat(parent, slash + 1, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		struct stat st;
		if (old >= 0 && fstat(old, &st) == 0 && (S_ISDIR(st.st_mode) || S_ISLNK(st.st_mode)))
			return nscell_error_set(err, EEXIST, "%s is already there, and not a file", m->dst);
		staged = old >= 0 && !rfs_is_own(r, old);
	}
	char name[32];
	snprintf(name, sizeof name, "f%u", r->nstaged++);
	int dirfd = staged ? r->stage_fd : parent;
	const char *fname = staged ? name : slash + 1;
	_cleanup_close_ int fd = openat(dirfd, fname, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
					mode);
	if (fd < 0)
		return nscell_error_errno(err, errno, "create %s", m->dst);
	const struct plan_identity *id = &r->p->id;
	bool users_group = group == id->gid;
	for (size_t g = 0; g < id->ngroups; g++)
		users_group |= group == id->groups[g];
	if ((owner == id->uid || users_group) &&
	    fchown(fd, owner == id->uid ? owner : (uid_t)-1, users_group ? group : (gid_t)-1) < 0)
		return nscell_error_errno(err, errno, "chown %s", m->dst);
	if (fchmod(fd, mode) < 0)
		return nscell_error_errno(err, errno, "chmod %s", m->dst);
	if (srcfd >= 0 ? copy_data(srcfd, fd, err) < 0 : shim_write_all(fd, data, len) < 0)
		return srcfd >= 0 ? -1 : nscell_error_errno(err, errno, "write %s", m->dst);
	if (!staged)
		return 0;
	/* the destination is not ours: bind the staged file over it */
	struct target t = { .parent = parent, .path = m->dst };
	snprintf(t.name, sizeof t.name, "%s", slash + 1);
	_cleanup_close_ int staged_fd = openat(r->stage_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (staged_fd < 0)
		return nscell_error_errno(err, errno, "reopen staged %s", m->dst);
	t.fd = openat(parent, t.name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (t.fd < 0 && errno == ENOENT) {
		if (rfs_create(r, parent, t.name, S_IFREG | 0644, NULL, err) < 0 && errno != EEXIST)
			return -1;
		t.fd = openat(parent, t.name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	}
	if (t.fd < 0)
		return nscell_error_errno(err, errno, "%s", m->dst);
	struct stat st;
	int rc = fstat(t.fd, &st) < 0 || !S_ISREG(st.st_mode) ?
			 nscell_error_set(err, EINVAL, "%s exists and is not a regular file", m->dst) :
			 mnt_bind(r, staged_fd, &t, ATTR_NOSUID | ATTR_NODEV, false, err);
	close(t.fd);
	if (rc == 0)
		shim_log(r->s, &m->origin, "%s is not on the sandbox's own tmpfs: bound from a staged copy",
			 m->dst);
	return rc;
}

int files_copy(struct rootfs *r, size_t i, nscell_error_t *err)
{
	struct stat st;
	int src = r->src_fds[i];
	if (fstat(src, &st) < 0)
		return nscell_error_errno(err, errno, "stat %s", r->p->mounts[i].src);
	/* the permission bits, never set-id bits; the user's own file stays the user's */
	return place_file(r, i, st.st_mode & 01777, st.st_uid, st.st_gid, src, NULL, 0, err);
}

int files_write(struct rootfs *r, size_t i, nscell_error_t *err)
{
	const struct plan_mount *m = &r->p->mounts[i];
	return place_file(r, i, m->mode & 01777, (uid_t)-1, (gid_t)-1, -1, m->data ? m->data : "", m->len,
			  err);
}

int files_empty_file(struct rootfs *r, nscell_error_t *err)
{
	if (r->empty_file >= 0)
		return r->empty_file;
	if (mknodat(r->stage_fd, "empty", S_IFREG | 0444, 0) < 0 && errno != EEXIST)
		return nscell_error_errno(err, errno, "create the empty file for masks");
	r->empty_file = openat(r->stage_fd, "empty", O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (r->empty_file < 0)
		return nscell_error_errno(err, errno, "open the empty file for masks");
	return r->empty_file;
}

int files_empty_dir(struct rootfs *r, nscell_error_t *err)
{
	if (r->empty_dir >= 0)
		return r->empty_dir;
	if (mkdirat(r->stage_fd, "emptydir", 0000) < 0 && errno != EEXIST)
		return nscell_error_errno(err, errno, "create the empty directory for masks");
	r->empty_dir = openat(r->stage_fd, "emptydir", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (r->empty_dir < 0)
		return nscell_error_errno(err, errno, "open the empty directory for masks");
	return r->empty_dir;
}
