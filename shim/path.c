/* Resolving paths inside the new root without ever leaving it.
 *
 * Destinations are resolved with openat2(RESOLVE_IN_ROOT): a symlink met
 * on the way (one the user planted in a bound home, say) is followed as
 * the sandbox would see it, never out to the host.  The mount point itself
 * must not be a symlink.  Each path is resolved once into an fd; mounts go
 * onto that fd (CVE-2021-30465: never resolve a checked path again).
 * Without openat2 (before Linux 5.6) every component is opened O_NOFOLLOW
 * and a symlink anywhere is refused. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#endif
#endif

#include "shim/rootfs.h"

#ifndef RESOLVE_IN_ROOT
struct open_how {
	uint64_t flags, mode, resolve;
};
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_NO_SYMLINKS 0x04
#define RESOLVE_BENEATH 0x08
#define RESOLVE_IN_ROOT 0x10
#endif
#ifndef __NR_openat2
#define __NR_openat2 437
#endif

static int sys_openat2(int dirfd, const char *path, int flags, uint64_t resolve)
{
	struct open_how how = { .flags = (uint64_t)(flags | O_CLOEXEC), .resolve = resolve };
	int fd = -1;
	/* EAGAIN: a concurrent rename raced a ".." check; try again */
	for (int tries = 0; tries < 32; tries++) {
		fd = (int)syscall(__NR_openat2, dirfd, path, &how, sizeof how);
		if (fd >= 0 || errno != EAGAIN)
			break;
	}
	return fd;
}

static int dup_fd(int fd)
{
	return fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

/* One component at a time, O_NOFOLLOW: a symlink anywhere is ELOOP. */
static int walk_nofollow(int dirfd, const char *rel, int flags)
{
	int cur = dup_fd(dirfd);
	const char *p = rel;
	while (*p == '/')
		p++;
	if (!*p || cur < 0)
		return cur;
	for (;;) {
		const char *end = strchrnul(p, '/'), *next = end;
		while (*next == '/')
			next++;
		char comp[NAME_MAX + 1];
		size_t len = (size_t)(end - p);
		bool last = !*next;
		if (len > NAME_MAX || (len == 2 && p[0] == '.' && p[1] == '.')) {
			close(cur);
			errno = len > NAME_MAX ? ENAMETOOLONG : EXDEV;
			return -1;
		}
		memcpy(comp, p, len);
		comp[len] = '\0';
		int fd = openat(cur, comp, (last ? flags : O_PATH | O_DIRECTORY) | O_NOFOLLOW | O_CLOEXEC);
		int e = errno;
		struct stat st;
		if (fd < 0 && (e == ENOTDIR || e == ELOOP) &&
		    fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
			e = ELOOP;
		if (fd >= 0 && last && fstat(fd, &st) == 0 && S_ISLNK(st.st_mode)) {
			close(fd);
			fd = -1;
			e = ELOOP;
		}
		close(cur);
		if (fd < 0) {
			errno = e;
			return -1;
		}
		if (last)
			return fd;
		cur = fd;
		p = next;
	}
}

int rfs_open_in_root(struct rootfs *r, const char *path, int flags)
{
	const char *rel = path;
	while (*rel == '/')
		rel++;
	if (!*rel)
		return dup_fd(r->root_fd);
	if (!r->no_openat2) {
		int fd = sys_openat2(r->root_fd, rel, flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
		if (fd >= 0 || errno != ENOSYS)
			return fd;
		r->no_openat2 = true;
	}
	return walk_nofollow(r->root_fd, rel, flags);
}

int rfs_open_beneath(struct rootfs *r, int dirfd, const char *rel, int flags)
{
	while (*rel == '/')
		rel++;
	if (!*rel)
		return dup_fd(dirfd);
	if (!r->no_openat2) {
		int fd = sys_openat2(dirfd, rel, flags,
				     RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
		if (fd >= 0 || errno != ENOSYS)
			return fd;
		r->no_openat2 = true;
	}
	return walk_nofollow(dirfd, rel, flags);
}

bool rfs_is_own(const struct rootfs *r, int fd)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return false;
	for (size_t i = 0; i < r->nown; i++)
		if (r->own_fs[i] == st.st_dev)
			return true;
	return false;
}

void rfs_add_own(struct rootfs *r, int fd)
{
	struct stat st;
	if (fstat(fd, &st) == 0 && r->nown < ROOTFS_MAX_OWN_FS && !rfs_is_own(r, fd))
		r->own_fs[r->nown++] = st.st_dev;
}

int rfs_create(struct rootfs *r, int dirfd, const char *name, mode_t mode, const char *link,
	       nscell_error_t *err)
{
	/* inside a host bind (the user's home, say) a mount point is made as
	 * the user: with the user's permissions, and owned by the user */
	bool as_user = !rfs_is_own(r, dirfd);
	if (as_user && creds_fs_as_user(r->s, err) < 0)
		return -1;
	int rc;
	if (link)
		rc = symlinkat(link, dirfd, name);
	else if (S_ISDIR(mode))
		rc = mkdirat(dirfd, name, mode & 07777);
	else
		rc = mknodat(dirfd, name, S_IFREG | (mode & 07777), 0);
	int e = errno;
	if (as_user)
		creds_fs_restore();
	if (rc < 0) {
		nscell_error_errno(err, e, "create %s%s", name, as_user ? " (as the user)" : "");
		errno = e;
		return -1;
	}
	return 0;
}

int rfs_open_dir(struct rootfs *r, const char *dir, bool create, nscell_error_t *err)
{
	int fd = rfs_open_in_root(r, dir, O_PATH | O_DIRECTORY);
	if (fd >= 0)
		return fd;
	if (errno != ENOENT || !create)
		return nscell_error_errno(err, errno, "directory %s", dir);
	/* Find the deepest existing ancestor (each resolved whole, inside the
	 * root), then create the rest below that fd, never by path again. */
	int cur = dup_fd(r->root_fd);
	bool creating = false;
	const char *p = dir;
	while (*p == '/')
		p++;
	while (*p && cur >= 0) {
		const char *end = strchrnul(p, '/');
		char prefix[PATH_MAX], comp[NAME_MAX + 1];
		size_t len = (size_t)(end - p);
		if ((size_t)(end - dir) >= sizeof prefix || len > NAME_MAX) {
			close(cur);
			return nscell_error_set(err, ENAMETOOLONG, "directory %s: name too long", dir);
		}
		memcpy(prefix, dir, (size_t)(end - dir));
		prefix[end - dir] = '\0';
		memcpy(comp, p, len);
		comp[len] = '\0';
		fd = -1;
		if (!creating) {
			fd = rfs_open_in_root(r, prefix, O_PATH | O_DIRECTORY);
			if (fd < 0 && errno != ENOENT) {
				close(cur);
				return nscell_error_errno(err, errno, "directory %s", prefix);
			}
			creating = fd < 0;
		}
		if (creating) {
			if (rfs_create(r, cur, comp, S_IFDIR | 0755, NULL, err) < 0 && errno != EEXIST) {
				close(cur);
				return nscell_error_wrap(err, "directory %s", prefix);
			}
			fd = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0) {
				close(cur);
				return nscell_error_errno(err, errno, "directory %s (a symlink?)", prefix);
			}
		}
		close(cur);
		cur = fd;
		p = end;
		while (*p == '/')
			p++;
	}
	if (cur < 0)
		return nscell_error_errno(err, errno, "directory %s", dir);
	return cur;
}

/* st: what t->fd is (follow_target's) */
static int check_target(const struct target *t, const struct stat *st, enum target_kind kind,
			nscell_error_t *err)
{
	if (S_ISLNK(st->st_mode))
		return nscell_error_set(err, ELOOP, "%s is a symlink (refused as a mount point)", t->path);
	if (kind == TARGET_DIR && !S_ISDIR(st->st_mode))
		return nscell_error_set(err, ENOTDIR, "%s exists and is not a directory", t->path);
	if (kind == TARGET_FILE && S_ISDIR(st->st_mode))
		return nscell_error_set(err, EISDIR, "%s is a directory, the source is not", t->path);
	return 0;
}

static int split_target(struct rootfs *r, const char *path, struct target *t, char *dir,
			nscell_error_t *err)
{
	memset(t, 0, sizeof *t);
	t->parent = t->fd = -1;
	t->path = path;
	const char *slash = strrchr(path, '/');
	if (!slash || strlen(slash + 1) > NAME_MAX || (size_t)(slash - path) >= PATH_MAX)
		return nscell_error_set(err, EINVAL, "bad destination '%s'", path);
	if (strcmp(path, "/") == 0) {
		/* the root itself: the newroot mount, by name in the base */
		strcpy(t->name, "newroot");
		t->parent = dup_fd(r->base_fd);
		return t->parent < 0 ? nscell_error_errno(err, errno, "dup") : 1;
	}
	strcpy(t->name, slash + 1);
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	if (!dir[0])
		strcpy(dir, "/");
	return 0;
}

static int fd_realpath(int fd, char *buf, size_t size)
{
	char self[32];
	snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(self, buf, size - 1);
	if (n <= 0 || buf[0] != '/')
		return -1;
	buf[n] = '\0';
	return 0;
}

/* The mount point is a symlink (one the user planted, or /etc/localtime
 * inside a bound /etc): it is followed inside the root to what it names,
 * which must exist.  The kernel resolves it (RESOLVE_IN_ROOT); the name
 * it lands on is found from the fd and checked to be the same inode, so
 * t gets the parent and name the mount can be reached by again.  Without
 * openat2 a symlinked mount point is refused.  *out: what t->fd is then. */
static int follow_target(struct rootfs *r, struct target *t, struct stat *out, nscell_error_t *err)
{
	struct stat st, st2;
	if (fstat(t->fd, out) < 0)
		return nscell_error_errno(err, errno, "stat %s", t->path);
	if (!S_ISLNK(out->st_mode))
		return 0;
	if (r->no_openat2)
		return nscell_error_set(err, ELOOP, "%s is a symlink (refused without openat2)", t->path);
	_cleanup_close_ int fd = rfs_open_in_root(r, t->path, O_PATH);
	if (fd < 0)
		return nscell_error_errno(err, errno, "%s is a symlink to nothing usable", t->path);
	char real[PATH_MAX], root[PATH_MAX];
	if (fd_realpath(fd, real, sizeof real) < 0 || fd_realpath(r->root_fd, root, sizeof root) < 0)
		return nscell_error_errno(err, errno, "%s: where does its symlink lead", t->path);
	size_t n = strlen(root);
	if (strncmp(real, root, n) != 0 || (real[n] != '/' && real[n] != '\0'))
		return nscell_error_set(err, EXDEV, "%s: its symlink leads out of the root", t->path);
	struct target u;
	char dir[PATH_MAX];
	int rc = split_target(r, real[n] ? real + n : "/", &u, dir, err);
	if (rc < 0)
		return -1;
	if (rc == 0 && (u.parent = rfs_open_in_root(r, dir, O_PATH | O_DIRECTORY)) < 0)
		return nscell_error_errno(err, errno, "%s: its symlink's target", t->path);
	u.fd = openat(u.parent, u.name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (u.fd < 0 || fstat(u.fd, &st2) < 0 || fstat(fd, &st) < 0 || st.st_dev != st2.st_dev ||
	    st.st_ino != st2.st_ino) {
		rfs_target_close(&u);
		return nscell_error_set(err, EAGAIN, "%s: its symlink's target changed while resolved",
					t->path);
	}
	rfs_target_close(t);
	t->parent = u.parent;
	t->fd = u.fd;
	memcpy(t->name, u.name, sizeof t->name);
	*out = st2;
	return 0;
}

int rfs_target(struct rootfs *r, const char *path, enum target_kind kind, struct target *t,
	       nscell_error_t *err)
{
	char dir[PATH_MAX];
	int rc = split_target(r, path, t, dir, err);
	if (rc < 0)
		return -1;
	if (rc == 0 && (t->parent = rfs_open_dir(r, dir, kind != TARGET_EXISTING, err)) < 0)
		return -1;
	t->fd = openat(t->parent, t->name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (t->fd < 0 && errno == ENOENT && kind != TARGET_EXISTING) {
		mode_t mode = kind == TARGET_DIR ? S_IFDIR | 0755 : S_IFREG | 0644;
		if (rfs_create(r, t->parent, t->name, mode, NULL, err) < 0 && errno != EEXIST)
			goto fail;
		t->fd = openat(t->parent, t->name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	}
	if (t->fd < 0) {
		nscell_error_errno(err, errno, "%s", path);
		goto fail;
	}
	struct stat st;
	if (follow_target(r, t, &st, err) < 0 || check_target(t, &st, kind, err) < 0)
		goto fail;
	return 0;
fail:
	rfs_target_close(t);
	return -1;
}

int rfs_target_if_exists(struct rootfs *r, const char *path, struct target *t, bool *missing,
			 nscell_error_t *err)
{
	char dir[PATH_MAX];
	*missing = false;
	int rc = split_target(r, path, t, dir, err);
	if (rc < 0)
		return -1;
	if (rc == 0 && (t->parent = rfs_open_in_root(r, dir, O_PATH | O_DIRECTORY)) < 0) {
		*missing = errno == ENOENT;
		return *missing ? 0 : nscell_error_errno(err, errno, "directory %s", dir);
	}
	t->fd = openat(t->parent, t->name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (t->fd < 0) {
		*missing = errno == ENOENT;
		int e = errno;
		rfs_target_close(t);
		return *missing ? 0 : nscell_error_errno(err, e, "%s", path);
	}
	return 0;
}

void rfs_target_close(struct target *t)
{
	if (t->fd >= 0)
		close(t->fd);
	if (t->parent >= 0)
		close(t->parent);
	t->fd = t->parent = -1;
}

int rfs_reopen(const struct target *t, nscell_error_t *err)
{
	int fd = openat(t->parent, t->name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return nscell_error_errno(err, errno, "reopen %s", t->path);
	return fd;
}
