/* The sandbox's /dev, /proc and a config's /sys/fs/cgroup.
 *
 * /dev: a tmpfs holding binds of the host's null zero full random urandom
 * tty (binds work inside a user namespace, mknod does not), a devpts
 * instance of its own, a /dev/shm tmpfs and the usual symlinks.  runc
 * spec's /dev (PLAN_F_RUNC_DEV) has the same nodes, with runc's options
 * (runc spec --rootless's: devpts without gid=5).
 *
 * /proc: a procfs of the sandbox's pid namespace, with the kernel knobs
 * read-only (sys, irq, bus, fs: as bwrap and runc) and runc's masked paths
 * hidden behind an empty file or directory (kcore, sysrq-trigger, ...). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "shim/rootfs.h"

const char *const rootfs_dev_names[ROOTFS_NDEV] = { "null", "zero", "full", "random", "urandom",
						    "tty" };
/* what each must be, so a tampered host /dev cannot pass a disk in */
static const unsigned dev_numbers[ROOTFS_NDEV][2] = { { 1, 3 }, { 1, 5 }, { 1, 7 },
						       { 1, 8 }, { 1, 9 }, { 5, 0 } };

int dev_open_host_nodes(struct rootfs *r, nscell_error_t *err)
{
	for (size_t i = 0; i < ROOTFS_NDEV; i++) {
		char path[32];
		snprintf(path, sizeof path, "/dev/%s", rootfs_dev_names[i]);
		r->dev_fds[i] = open(path, O_PATH | O_CLOEXEC);
		if (r->dev_fds[i] < 0 && errno == ENOENT) {
			shim_log(r->s, NULL, "host %s is missing: the sandbox goes without it", path);
			continue;
		}
		struct stat st;
		if (r->dev_fds[i] < 0 || fstat(r->dev_fds[i], &st) < 0)
			return nscell_error_errno(err, errno, "host %s", path);
		/* only the real device node is bound in with device access */
		if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != dev_numbers[i][0] ||
		    minor(st.st_rdev) != dev_numbers[i][1])
			return nscell_error_set(err, 0, "host %s is not the character device %u:%u", path,
						dev_numbers[i][0], dev_numbers[i][1]);
		if ((r->dev_fds[i] = files_as_tree(r, r->dev_fds[i], false)) < 0)
			return nscell_error_errno(err, errno, "copy the mount of %s", path);
	}
	return 0;
}

/* a mount point named name in dirfd (created), as a target */
static int sub_target(struct rootfs *r, int dirfd, const char *name, mode_t mode, const char *path,
		      struct target *t, nscell_error_t *err)
{
	memset(t, 0, sizeof *t);
	t->parent = dirfd;
	t->path = path;
	snprintf(t->name, sizeof t->name, "%s", name);
	if (mode && rfs_create(r, dirfd, name, mode, NULL, err) < 0 && errno != EEXIST)
		return -1;
	t->fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (t->fd < 0)
		return nscell_error_errno(err, errno, "%s", path);
	return 0;
}

static int fresh_fs(struct rootfs *r, int dirfd, const char *name, const char *fstype,
		    const char *options, unsigned attrs, mode_t mode, nscell_error_t *err)
{
	struct target t;
	char path[64];
	snprintf(path, sizeof path, "dev/%s", name);
	if (sub_target(r, dirfd, name, mode, path, &t, err) < 0)
		return -1;
	int rc = mnt_fs(r, fstype, options, attrs, &t, err);
	if (rc == 0) {
		_cleanup_close_ int fd = rfs_reopen(&t, err);
		if (fd < 0)
			rc = -1;
		else
			rfs_add_own(r, fd);
	}
	close(t.fd);
	return rc;
}

/* mount options and attributes of /dev, pts and shm: nscell's, or runc's */
struct dev_flavour {
	const char *opts[3];
	unsigned attrs[3];
};

static const struct dev_flavour nscell_dev = {
	{ "mode=0755", "newinstance,ptmxmode=0666,mode=620", "mode=01777" },
	{ ATTR_NOSUID | ATTR_NODEV | ATTR_NOEXEC, ATTR_NOSUID | ATTR_NOEXEC,
	  ATTR_NOSUID | ATTR_NODEV },
};

/* as runc mounts runc spec's: no nodev (runc mknods the nodes there),
 * devpts group tty, /dev/shm noexec, both tmpfs 64 MiB */
static const struct dev_flavour runc_dev = {
	{ "mode=0755,size=65536k", "newinstance,ptmxmode=0666,mode=620,gid=5",
	  "mode=01777,size=65536k" },
	{ ATTR_NOSUID | ATTR_STRICTATIME, ATTR_NOSUID | ATTR_NOEXEC,
	  ATTR_NOSUID | ATTR_NODEV | ATTR_NOEXEC },
};

/* as runc mounts runc spec --rootless's, in a user namespace, where gid 5
 * is not mapped: devpts without gid=5 */
static const struct dev_flavour runc_userns_dev = {
	{ "mode=0755,size=65536k", "newinstance,ptmxmode=0666,mode=620",
	  "mode=01777,size=65536k" },
	{ ATTR_NOSUID | ATTR_STRICTATIME, ATTR_NOSUID | ATTR_NOEXEC,
	  ATTR_NOSUID | ATTR_NODEV | ATTR_NOEXEC },
};

int dev_setup(struct rootfs *r, const struct plan_mount *m, nscell_error_t *err)
{
	bool userns = r->p->namespaces & PLAN_NS_USER;
	const struct dev_flavour *fl = !(m->flags & PLAN_F_RUNC_DEV) ? &nscell_dev :
				       userns ? &runc_userns_dev : &runc_dev;
	struct target t;
	if (rfs_target(r, m->dst, TARGET_DIR, &t, err) < 0)
		return -1;
	int rc = mnt_fs(r, "tmpfs", fl->opts[0], fl->attrs[0], &t, err);
	_cleanup_close_ int dev = rc < 0 ? -1 : rfs_reopen(&t, err);
	rfs_target_close(&t);
	if (dev < 0)
		return -1;
	rfs_add_own(r, dev);

	for (size_t i = 0; i < ROOTFS_NDEV; i++) {
		if (r->dev_fds[i] < 0)
			continue;
		struct target node;
		if (sub_target(r, dev, rootfs_dev_names[i], S_IFREG | 0666, rootfs_dev_names[i], &node,
			       err) < 0)
			return -1;
		/* no nodev: these are the devices */
		rc = r->trees ? mnt_attach(r, r->dev_fds[i], &node, ATTR_NOSUID | ATTR_NOEXEC, false, err) :
				mnt_bind(r, r->dev_fds[i], &node, ATTR_NOSUID | ATTR_NOEXEC, false, err);
		close(node.fd);
		if (rc < 0)
			return -1;
	}
	if (fresh_fs(r, dev, "pts", "devpts", fl->opts[1], fl->attrs[1], S_IFDIR | 0755,
		     err) < 0 ||
	    fresh_fs(r, dev, "shm", "tmpfs", fl->opts[2], fl->attrs[2], S_IFDIR | 01777, err) < 0)
		return -1;

	static const char *const links[][2] = {
		{ "ptmx", "pts/ptmx" },          { "fd", "/proc/self/fd" },
		{ "stdin", "/proc/self/fd/0" },  { "stdout", "/proc/self/fd/1" },
		{ "stderr", "/proc/self/fd/2" }, { "core", "/proc/kcore" },
	};
	for (size_t i = 0; i < sizeof links / sizeof *links; i++) {
		/* as runc: core only when the kernel has a /proc/kcore (not yet
		 * pivoted, / is the host's; the sandbox's /proc, same kernel) */
		if (strcmp(links[i][0], "core") == 0 &&
		    faccessat(AT_FDCWD, links[i][1], F_OK, 0) < 0)
			continue;
		if (symlinkat(links[i][1], dev, links[i][0]) < 0)
			return nscell_error_errno(err, errno, "symlink %s", links[i][0]);
	}
	return 0;
}

/* bind what (an fd) over name in procfd, when name exists */
static int proc_cover(struct rootfs *r, int procfd, const char *name, int what, unsigned attrs,
		      nscell_error_t *err)
{
	char path[64];
	snprintf(path, sizeof path, "proc/%s", name);
	struct target t = { .parent = procfd, .path = path };
	snprintf(t.name, sizeof t.name, "%s", name);
	t.fd = openat(procfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (t.fd < 0)
		return errno == ENOENT ? 0 : nscell_error_errno(err, errno, "%s", path);
	int rc = mnt_bind(r, what < 0 ? t.fd : what, &t, attrs, true, err);
	close(t.fd);
	return rc;
}

int proc_setup(struct rootfs *r, const struct plan_mount *m, nscell_error_t *err)
{
	static const char *const read_only[] = { "sys", "irq", "bus", "fs" };
	static const char *const masked_files[] = { "kcore", "sysrq-trigger", "keys", "timer_list",
						    "latency_stats", "sched_debug", "timer_stats" };
	static const char *const masked_dirs[] = { "acpi", "scsi", "asound" };
	const unsigned ro = ATTR_RDONLY | ATTR_NOSUID | ATTR_NODEV | ATTR_NOEXEC;
	struct target t;
	if (rfs_target(r, m->dst, TARGET_DIR, &t, err) < 0)
		return -1;
	int rc = mnt_fs(r, "proc", NULL, ATTR_NOSUID | ATTR_NODEV | ATTR_NOEXEC, &t, err);
	_cleanup_close_ int proc = rc < 0 ? -1 : rfs_reopen(&t, err);
	rfs_target_close(&t);
	if (proc < 0)
		return -1;
	for (size_t i = 0; i < sizeof read_only / sizeof *read_only; i++)
		if (proc_cover(r, proc, read_only[i], -1, ro, err) < 0)
			return -1;
	int empty_file = files_empty_file(r, err);
	int empty_dir = empty_file < 0 ? -1 : files_empty_dir(r, err);
	if (empty_dir < 0)
		return -1;
	for (size_t i = 0; i < sizeof masked_files / sizeof *masked_files; i++)
		if (proc_cover(r, proc, masked_files[i], empty_file, ro, err) < 0)
			return -1;
	for (size_t i = 0; i < sizeof masked_dirs / sizeof *masked_dirs; i++)
		if (proc_cover(r, proc, masked_dirs[i], empty_dir, ro, err) < 0)
			return -1;
	return 0;
}

/* runc mounts the container's own cgroups on a config's cgroup mount;
 * nscell binds the host's tree there, read-only (README.md): opened here
 * like a bind's source, before anything covers it */
int dev_open_cgroup(struct rootfs *r, size_t i, nscell_error_t *err)
{
	const struct plan_mount *m = &r->p->mounts[i];
	int fd = open(m->src, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return nscell_error_errno(err, errno, "host %s", m->src);
	if ((r->src_fds[i] = files_as_tree(r, fd, true)) < 0)
		return nscell_error_errno(err, errno, "copy the mount tree of %s", m->src);
	return 0;
}

/* A config's maskedPaths entry, as runc masks it: a directory gets an
 * empty read-only tmpfs, anything else the sandbox's own /dev/null (which
 * must be the null device: a bundle's rootfs could hold anything there). */
int dev_mask_runc(struct rootfs *r, const struct plan_mount *m, const struct target *t, bool dir,
		  nscell_error_t *err)
{
	if (dir) {
		/* read-only alone, as runc mounts it: nothing is in it */
		shim_log(r->s, &m->origin, "mask %s (an empty read-only tmpfs, as runc)", m->dst);
		return mnt_fs(r, "tmpfs", NULL, ATTR_RDONLY, t, err);
	}
	_cleanup_close_ int null = rfs_open_in_root(r, "/dev/null", O_PATH | O_CLOEXEC);
	struct stat st;
	if (null < 0 || fstat(null, &st) < 0)
		return nscell_error_errno(err, errno, "the sandbox's /dev/null (runc binds it over "
					  "a masked file)");
	if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != 1 || minor(st.st_rdev) != 3)
		return nscell_error_set(err, 0, "the sandbox's /dev/null is not the null device");
	shim_log(r->s, &m->origin, "mask %s (/dev/null bound over it, as runc)", m->dst);
	/* no nodev: it is the device */
	return mnt_bind(r, null, t, ATTR_NOSUID | ATTR_NOEXEC, false, err);
}
