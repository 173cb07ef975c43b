/* Building the sandbox's mount tree: shared by rootfs.c (the plan loop),
 * path.c (resolving inside the new root), mnt.c (mount primitives),
 * dev.c (/dev and /proc) and files.c (sources, copies, generated files).
 *
 * Layout while building, all in the child's private mount namespace:
 *   host /tmp      covered by the base tmpfs (sources were opened before)
 *     newroot/     a tmpfs: the sandbox's /
 *     stage/       files bound into the tree from outside it (a generated
 *                  file whose destination is in a host bind), the empty
 *                  file and directory that masks are bound from
 * At the end newroot becomes / and everything else is detached. */
#ifndef NSCELL_SHIM_ROOTFS_H
#define NSCELL_SHIM_ROOTFS_H

#include <limits.h>
#include <stdint.h>
#include <sys/stat.h>

#include "shim/shim.h"

#define ROOTFS_MAX_OWN_FS 64
#define ROOTFS_NDEV 6

/* MOUNT_ATTR_* of mount_setattr(2), the attributes a mount gets */
enum {
	ATTR_RDONLY = 0x1,
	ATTR_NOSUID = 0x2,
	ATTR_NODEV = 0x4,
	ATTR_NOEXEC = 0x8,
	ATTR_STRICTATIME = 0x20, /* mnt_fs only: a fresh mount with strictatime */
};

struct rootfs {
	struct shim *s;
	const struct plan *p;
	int base_fd;   /* O_PATH: the base tmpfs */
	int root_fd;   /* O_PATH: the top mount at base/newroot */
	int stage_fd;  /* O_PATH: base/stage */
	int home_fd;   /* O_PATH: the user's home on the host, -1 if not needed */
	int root_src;  /* a bundle's rootfs (p->rootfs), opened like a bind source; -1 for none */
	int *src_fds;  /* per plan entry: its opened source, -1 for none or skipped */
	int dev_fds[ROOTFS_NDEV]; /* host /dev nodes for PLAN_DEV, -1 when missing */
	int empty_file, empty_dir; /* O_PATH, in stage, made on first use */
	unsigned nstaged;
	dev_t own_fs[ROOTFS_MAX_OWN_FS]; /* filesystems mounted fresh here */
	size_t nown;
	bool trees;          /* src_fds and dev_fds are detached mount trees (the host side's) */
	bool no_openat2;     /* fall back to O_NOFOLLOW walks */
	bool no_mount_api;   /* fall back to mount(2) and remounts */
};

/* Where an entry mounts: the directory holding it and its name there, and
 * an O_PATH fd of the mount point itself.  Mounts go onto fd; the new
 * mount is reached again by name from parent, never by path. */
struct target {
	int parent;
	char name[NAME_MAX + 1];
	int fd;
	const char *path; /* for messages */
};

enum target_kind {
	TARGET_DIR,      /* create a directory when missing */
	TARGET_FILE,     /* create an empty file when missing */
	TARGET_EXISTING, /* must exist, any type but a symlink */
};

extern const char *const rootfs_dev_names[ROOTFS_NDEV];

/* path.c */
int rfs_open_in_root(struct rootfs *r, const char *path, int flags);
int rfs_open_beneath(struct rootfs *r, int dirfd, const char *rel, int flags);
int rfs_open_dir(struct rootfs *r, const char *dir, bool create, nscell_error_t *err);
int rfs_target(struct rootfs *r, const char *path, enum target_kind kind, struct target *t,
	       nscell_error_t *err);
/* the target, or *missing = true (and 0) when it or its parent does not exist */
int rfs_target_if_exists(struct rootfs *r, const char *path, struct target *t, bool *missing,
			 nscell_error_t *err);
void rfs_target_close(struct target *t);
/* O_PATH fd of what is at the target now (the new mount after mounting) */
int rfs_reopen(const struct target *t, nscell_error_t *err);
bool rfs_is_own(const struct rootfs *r, int fd);
void rfs_add_own(struct rootfs *r, int fd);
/* mkdirat/mknodat/symlinkat as the user when dirfd is not on our own fs */
int rfs_create(struct rootfs *r, int dirfd, const char *name, mode_t mode, const char *link,
	       nscell_error_t *err);

/* mnt.c */
/* open_tree(2): an O_PATH fd of path (clone: a detached copy of its mount
 * tree, recursive: with every mount below); -1 and errno on failure */
int mnt_open_tree(int dirfd, const char *path, bool clone, bool recursive);
/* attach a detached tree (from mnt_open_tree) at t, with attrs on it all */
int mnt_attach(struct rootfs *r, int tree, const struct target *t, unsigned attrs, bool recursive,
	       nscell_error_t *err);
int mnt_bind(struct rootfs *r, int srcfd, const struct target *t, unsigned attrs, bool recursive,
	     nscell_error_t *err);
int mnt_fs(struct rootfs *r, const char *fstype, const char *options, unsigned attrs,
	   const struct target *t, nscell_error_t *err);
int mnt_setattr(struct rootfs *r, const struct target *t, unsigned attrs, bool recursive,
		nscell_error_t *err);
int mnt_remount_ro(struct rootfs *r, const struct target *t, nscell_error_t *err);
const char *mnt_attrs_str(unsigned attrs, char *buf, size_t size);

/* dev.c */
int dev_open_host_nodes(struct rootfs *r, nscell_error_t *err);
int dev_setup(struct rootfs *r, const struct plan_mount *m, nscell_error_t *err);
int proc_setup(struct rootfs *r, const struct plan_mount *m, nscell_error_t *err);
/* PLAN_CGROUP: open the host's cgroup tree (m->src) as entry i's source */
int dev_open_cgroup(struct rootfs *r, size_t i, nscell_error_t *err);
/* PLAN_F_RUNC_MASK: mask t (a directory or not) as runc does */
int dev_mask_runc(struct rootfs *r, const struct plan_mount *m, const struct target *t, bool dir,
		  nscell_error_t *err);

/* files.c */
/* fd as a detached copy of its tree when r->trees (fd is consumed), else fd */
int files_as_tree(struct rootfs *r, int fd, bool recursive);
int files_open_source(struct rootfs *r, size_t i, nscell_error_t *err);
int files_copy(struct rootfs *r, size_t i, nscell_error_t *err);
int files_write(struct rootfs *r, size_t i, nscell_error_t *err);
int files_empty_file(struct rootfs *r, nscell_error_t *err);
int files_empty_dir(struct rootfs *r, nscell_error_t *err);

#endif
