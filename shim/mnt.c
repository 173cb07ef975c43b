/* Mount primitives.  Every mount lands on an fd (struct target), never on
 * a path string.
 *
 * Binds use open_tree(OPEN_TREE_CLONE) + mount_setattr + move_mount: the
 * copy gets nosuid/nodev/ro on its whole subtree in one linear call while
 * still detached, and is attached only then.  Read-only and the other
 * flags are only ever added, so flags the kernel locked stay as they are.
 * Older kernels take mount(2) on /proc/self/fd/N and per-mount remounts
 * found through /proc/self/mountinfo (the only time it is read). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim/rootfs.h"

#ifndef __NR_open_tree
#define __NR_open_tree 428
#endif
#ifndef __NR_move_mount
#define __NR_move_mount 429
#endif
#ifndef __NR_mount_setattr
#define __NR_mount_setattr 442
#endif
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef MOVE_MOUNT_T_EMPTY_PATH
#define MOVE_MOUNT_T_EMPTY_PATH 0x00000040
#endif

/* struct mount_attr of mount_setattr(2), under our own name: glibc 2.36
 * declares it, older ones do not */
struct shim_mount_attr {
	uint64_t attr_set, attr_clr, propagation, userns_fd;
};

static int sys_open_tree(int dfd, const char *path, unsigned flags)
{
	return (int)syscall(__NR_open_tree, dfd, path, flags);
}

static int sys_move_mount(int from_dfd, int to_dfd)
{
	return (int)syscall(__NR_move_mount, from_dfd, "", to_dfd, "",
			    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
}

static int sys_mount_setattr(int dfd, const char *path, unsigned flags, unsigned attrs)
{
	struct shim_mount_attr a = { .attr_set = attrs };
	return (int)syscall(__NR_mount_setattr, dfd, path, flags, &a, sizeof a);
}

static const char *fd_path(char *buf, size_t size, int fd)
{
	snprintf(buf, size, "/proc/self/fd/%d", fd);
	return buf;
}

static unsigned long ms_flags(unsigned attrs)
{
	return (attrs & ATTR_RDONLY ? MS_RDONLY : 0) | (attrs & ATTR_NOSUID ? MS_NOSUID : 0) |
	       (attrs & ATTR_NODEV ? MS_NODEV : 0) | (attrs & ATTR_NOEXEC ? MS_NOEXEC : 0) |
	       (attrs & ATTR_STRICTATIME ? MS_STRICTATIME : 0);
}

const char *mnt_attrs_str(unsigned attrs, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%s%s", attrs & ATTR_RDONLY ? "ro" : "rw",
		 attrs & ATTR_NOSUID ? ",nosuid" : "", attrs & ATTR_NODEV ? ",nodev" : "",
		 attrs & ATTR_NOEXEC ? ",noexec" : "");
	return buf;
}

/* ---- the pre-5.12 path: remount each mount, keeping its locked flags ---- */

static int remount_one(const char *path, unsigned attrs, nscell_error_t *err)
{
	struct statvfs sv;
	if (statvfs(path, &sv) < 0)
		return nscell_error_errno(err, errno, "statvfs %s", path);
	/* flags a mount already has may be locked: pass them all back */
	unsigned long keep = (sv.f_flag & ST_RDONLY ? MS_RDONLY : 0) |
			     (sv.f_flag & ST_NOSUID ? MS_NOSUID : 0) |
			     (sv.f_flag & ST_NODEV ? MS_NODEV : 0) |
			     (sv.f_flag & ST_NOEXEC ? MS_NOEXEC : 0) |
			     (sv.f_flag & ST_NOATIME ? MS_NOATIME : 0) |
			     (sv.f_flag & ST_NODIRATIME ? MS_NODIRATIME : 0) |
			     (sv.f_flag & ST_RELATIME ? MS_RELATIME : 0);
	if (!(sv.f_flag & (ST_NOATIME | ST_RELATIME)))
		keep |= MS_STRICTATIME;
	if (mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | keep | ms_flags(attrs), NULL) < 0)
		return nscell_error_errno(err, errno, "remount %s", path);
	return 0;
}

/* a mountinfo path field, octal escapes (\040) undone, in place */
static char *unescape(char *s)
{
	char *w = s;
	for (char *p = s; *p; p++) {
		if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' &&
		    p[3] >= '0' && p[3] <= '7') {
			*w++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
			p += 3;
		} else {
			*w++ = *p;
		}
	}
	*w = '\0';
	return s;
}

static int remount_below(const char *top, unsigned attrs, nscell_error_t *err)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return nscell_error_errno(err, errno, "open /proc/self/mountinfo");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0, toplen = strlen(top);
	while (getline(&line, &cap, f) > 0) {
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT ... */
		char *save = NULL, *mp = strtok_r(line, " ", &save);
		for (int i = 0; mp && i < 4; i++)
			mp = strtok_r(NULL, " ", &save);
		if (!mp)
			continue;
		unescape(mp);
		if (strncmp(mp, top, toplen) == 0 && mp[toplen] == '/' &&
		    remount_one(mp, attrs, err) < 0)
			return -1;
	}
	return 0;
}

static int remount_tree(struct rootfs *r, const struct target *t, unsigned attrs, bool recursive,
			nscell_error_t *err)
{
	_cleanup_close_ int fd = rfs_reopen(t, err);
	if (fd < 0)
		return -1;
	char self[32], top[PATH_MAX];
	fd_path(self, sizeof self, fd);
	if (remount_one(self, attrs, err) < 0)
		return -1;
	if (!recursive)
		return 0;
	ssize_t n = readlink(self, top, sizeof top - 1);
	if (n <= 0)
		return nscell_error_errno(err, errno, "readlink %s", self);
	top[n] = '\0';
	return remount_below(top, attrs, err);
}

/* ---- the primitives ---- */

int mnt_setattr(struct rootfs *r, const struct target *t, unsigned attrs, bool recursive,
		nscell_error_t *err)
{
	if (!r->no_mount_api) {
		unsigned flags = AT_SYMLINK_NOFOLLOW | (recursive ? AT_RECURSIVE : 0);
		if (sys_mount_setattr(t->parent, t->name, flags, attrs) == 0)
			return 0;
		if (errno != ENOSYS)
			return nscell_error_errno(err, errno, "set %s on %s",
						  attrs & ATTR_RDONLY ? "ro" : "flags", t->path);
	}
	return remount_tree(r, t, attrs, recursive, err);
}

int mnt_open_tree(int dirfd, const char *path, bool clone, bool recursive)
{
	unsigned flags = OPEN_TREE_CLOEXEC | (clone ? OPEN_TREE_CLONE : 0) |
			 (recursive ? AT_RECURSIVE : 0) | (*path ? 0 : AT_EMPTY_PATH);
	return sys_open_tree(dirfd, path, flags);
}

int mnt_attach(struct rootfs *r, int tree, const struct target *t, unsigned attrs, bool recursive,
	       nscell_error_t *err)
{
	(void)r;
	unsigned rec = recursive ? AT_RECURSIVE : 0;
	if (attrs && sys_mount_setattr(tree, "", AT_EMPTY_PATH | rec, attrs) < 0)
		return nscell_error_errno(err, errno, "set flags on the copy for %s", t->path);
	if (sys_move_mount(tree, t->fd) < 0)
		return nscell_error_errno(err, errno, "attach the copy at %s", t->path);
	return 0;
}

int mnt_bind(struct rootfs *r, int srcfd, const struct target *t, unsigned attrs, bool recursive,
	     nscell_error_t *err)
{
	unsigned rec = recursive ? AT_RECURSIVE : 0;
	if (!r->no_mount_api) {
		_cleanup_close_ int tree =
			sys_open_tree(srcfd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | rec);
		if (tree >= 0) {
			bool done = !attrs || sys_mount_setattr(tree, "", AT_EMPTY_PATH | rec, attrs) == 0;
			if (!done && errno != ENOSYS)
				return nscell_error_errno(err, errno, "set flags on the copy for %s",
							  t->path);
			if (sys_move_mount(tree, t->fd) < 0)
				return nscell_error_errno(err, errno, "attach the copy at %s", t->path);
			/* 5.2 to 5.11: open_tree without mount_setattr */
			return done ? 0 : remount_tree(r, t, attrs, recursive, err);
		}
		if (errno != ENOSYS)
			return nscell_error_errno(err, errno, "copy the mount tree for %s", t->path);
		r->no_mount_api = true;
	}
	char from[32], to[32];
	if (mount(fd_path(from, sizeof from, srcfd), fd_path(to, sizeof to, t->fd), NULL,
		  MS_BIND | (recursive ? MS_REC : 0), NULL) < 0)
		return nscell_error_errno(err, errno, "bind onto %s", t->path);
	return attrs ? remount_tree(r, t, attrs, recursive, err) : 0;
}

int mnt_fs(struct rootfs *r, const char *fstype, const char *options, unsigned attrs,
	   const struct target *t, nscell_error_t *err)
{
	(void)r;
	char to[32];
	if (mount(fstype, fd_path(to, sizeof to, t->fd), fstype, ms_flags(attrs), options) < 0)
		return nscell_error_errno(err, errno, "mount %s on %s", fstype, t->path);
	return 0;
}

int mnt_remount_ro(struct rootfs *r, const struct target *t, nscell_error_t *err)
{
	if (mnt_setattr(r, t, ATTR_RDONLY, true, err) == 0)
		return 0;
	if (err->errnum != EINVAL)
		return -1;
	/* not a mount of its own: bind it onto itself first (as bwrap does) */
	return mnt_bind(r, t->fd, t, ATTR_RDONLY, true, err);
}
