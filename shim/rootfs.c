/* The sandbox's mount tree, built by one loop over the plan (bwrap's
 * setup_newroot, without the parsing).
 *
 * Order: (1) open every source before anything covers it, so host paths
 * (host /tmp too) resolve as the host sees them and a missing source fails
 * the launch before any mount: as root the host side does it before the
 * clone, with all of root's access, and hands detached copies of the
 * mount trees over; unprivileged, the child does it first thing; (2) make
 * every mount of the child's namespace a slave, so nothing mounted there
 * ever reaches the host; (3) a tmpfs base on /tmp with the new root in it;
 * (4) the plan's entries in order; (5) pivot into the new root and detach
 * everything else.
 *
 * A bundle's plan (nscell-shim run -b) has a rootfs: in (3) it is bound
 * on newroot in place of the tmpfs, and made read-only after (4) when the
 * config says root.readonly, as runc does (the mount points must be made
 * first). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim/rootfs.h"

static int entry_error(nscell_error_t *err, const struct plan_mount *m)
{
	char where[512], old[sizeof err->msg];
	memcpy(old, err->msg, sizeof old);
	/* paths are abbreviated so the template line always fits */
	const char *dst = m->dst ? m->dst : "";
	snprintf(err->msg, sizeof err->msg, "%s %.200s%s: %.480s%s (%s)", plan_op_name(m->op), dst,
		 strlen(dst) > 200 ? "..." : "", old, strlen(old) > 480 ? "..." : "",
		 plan_origin_str(&m->origin, where, sizeof where));
	return -1;
}

/* The bundle's rootfs: a directory the bundle's owner (root, or the
 * rootless caller) chose; followed like runc follows it. */
static int open_bundle_root(struct rootfs *r, nscell_error_t *err)
{
	int fd = open(r->p->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return nscell_error_errno(err, errno, "root.path %s", r->p->rootfs);
	r->root_src = files_as_tree(r, fd, true);
	if (r->root_src < 0)
		return nscell_error_errno(err, errno, "copy the mount tree of %s", r->p->rootfs);
	return 0;
}

static int prepare_sources(struct rootfs *r, nscell_error_t *err)
{
	const struct plan *p = r->p;
	bool need_dev = false;
	r->src_fds = malloc((p->nmounts ? p->nmounts : 1) * sizeof *r->src_fds);
	if (!r->src_fds)
		return nscell_error_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < p->nmounts; i++)
		r->src_fds[i] = -1;
	if (p->rootfs && open_bundle_root(r, err) < 0)
		return -1;
	for (size_t i = 0; i < p->nmounts; i++) {
		need_dev |= p->mounts[i].op == PLAN_DEV;
		if (files_open_source(r, i, err) < 0 ||
		    (p->mounts[i].op == PLAN_CGROUP && dev_open_cgroup(r, i, err) < 0))
			return entry_error(err, &p->mounts[i]);
	}
	return need_dev ? dev_open_host_nodes(r, err) : 0;
}

/* a fresh tmpfs on name in dirfd; returns an O_PATH fd of its root */
static int base_tmpfs(struct rootfs *r, int dirfd, const char *name, const char *path,
		      const char *options, nscell_error_t *err)
{
	struct target t = { .parent = dirfd, .path = path };
	snprintf(t.name, sizeof t.name, "%s", name);
	t.fd = openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (t.fd < 0)
		return nscell_error_errno(err, errno, "%s", path);
	int rc = mnt_fs(r, "tmpfs", options, ATTR_NOSUID | ATTR_NODEV, &t, err);
	int fd = rc < 0 ? -1 : rfs_reopen(&t, err);
	close(t.fd);
	if (fd >= 0)
		rfs_add_own(r, fd);
	return fd;
}

/* the bundle's rootfs on base/newroot, nosuid and nodev like every bind
 * (runc's has the flags of its source: `nscell diff` does not compare
 * them); returns an O_PATH fd of the new root */
static int bind_bundle_root(struct rootfs *r, nscell_error_t *err)
{
	struct target t = { .parent = r->base_fd, .name = "newroot", .path = r->p->rootfs };
	t.fd = openat(r->base_fd, "newroot", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (t.fd < 0)
		return nscell_error_errno(err, errno, "the new root");
	unsigned attrs = ATTR_NOSUID | ATTR_NODEV;
	shim_log(r->s, NULL, "bundle root %s on / (%s)", r->p->rootfs,
		 r->p->rootfs_readonly ? "read-only once the mounts are made" : "read-write");
	int rc = r->trees ? mnt_attach(r, r->root_src, &t, attrs, true, err) :
			    mnt_bind(r, r->root_src, &t, attrs, true, err);
	int fd = rc < 0 ? -1 : rfs_reopen(&t, err);
	close(t.fd);
	return fd;
}

/* root.readonly: the top mount of / only, as runc remounts it */
static int bundle_root_readonly(struct rootfs *r, nscell_error_t *err)
{
	struct target t = { .parent = r->base_fd, .name = "newroot", .fd = r->root_fd,
			    .path = "/ (root.readonly)" };
	shim_log(r->s, NULL, "root read-only");
	return mnt_setattr(r, &t, ATTR_RDONLY, false, err);
}

static int make_base(struct rootfs *r, nscell_error_t *err)
{
	_cleanup_close_ int slash = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (slash < 0)
		return nscell_error_errno(err, errno, "open /");
	r->base_fd = base_tmpfs(r, slash, "tmp", "/tmp (the base the sandbox is built on)", "mode=0700", err);
	if (r->base_fd < 0)
		return -1;
	if (mkdirat(r->base_fd, "newroot", 0755) < 0 || mkdirat(r->base_fd, "stage", 0700) < 0)
		return nscell_error_errno(err, errno, "base directories");
	if (r->root_src >= 0)
		r->root_fd = bind_bundle_root(r, err);
	else
		r->root_fd = base_tmpfs(r, r->base_fd, "newroot", "the new root", "mode=0755", err);
	if (r->root_fd < 0)
		return -1;
	r->stage_fd = openat(r->base_fd, "stage", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (r->stage_fd < 0)
		return nscell_error_errno(err, errno, "stage directory");
	return 0;
}

/* attrs on the whole tree, then top_attrs on its top mount alone */
static int do_bind(struct rootfs *r, const struct plan_mount *m, int src, unsigned attrs,
		   unsigned top_attrs, nscell_error_t *err)
{
	struct stat st;
	struct target t;
	char a[64];
	if (fstat(src, &st) < 0)
		return nscell_error_errno(err, errno, "stat source %s", m->src);
	enum target_kind kind = S_ISDIR(st.st_mode) ? TARGET_DIR : TARGET_FILE;
	if (rfs_target(r, m->dst, kind, &t, err) < 0)
		return -1;
	shim_log(r->s, &m->origin, "%s %s on %s (%s%s)", plan_op_name(m->op), m->src, m->dst,
		 mnt_attrs_str(attrs, a, sizeof a), top_attrs & ATTR_RDONLY ? ", top mount ro" : "");
	int rc = r->trees ? mnt_attach(r, src, &t, attrs, true, err) : mnt_bind(r, src, &t, attrs, true, err);
	if (rc == 0 && top_attrs)
		rc = mnt_setattr(r, &t, top_attrs, false, err);
	rfs_target_close(&t);
	return rc;
}

static int do_fs(struct rootfs *r, const struct plan_mount *m, const char *fstype,
		 const char *options, unsigned attrs, nscell_error_t *err)
{
	struct target t;
	if (rfs_target(r, m->dst, TARGET_DIR, &t, err) < 0)
		return -1;
	shim_log(r->s, &m->origin, "%s on %s (%s)", fstype, m->dst, options ? options : "");
	int rc = mnt_fs(r, fstype, options, attrs, &t, err);
	_cleanup_close_ int fd = rc < 0 ? -1 : rfs_reopen(&t, err);
	rfs_target_close(&t);
	if (fd < 0)
		return -1;
	rfs_add_own(r, fd);
	return 0;
}

static int do_tmpfs(struct rootfs *r, const struct plan_mount *m, nscell_error_t *err)
{
	char options[96];
	mode_t mode = m->mode ? m->mode & 07777 : 01777;
	/* a config's (containerd's /run), as runc mounts it; nodev all the same */
	if (m->flags & PLAN_F_RUNC_TMPFS) {
		snprintf(options, sizeof options, "mode=%04o,size=65536k", (unsigned)mode);
		return do_fs(r, m, "tmpfs", options, ATTR_NOSUID | ATTR_NODEV | ATTR_STRICTATIME, err);
	}
	/* a sticky dir is everyone's (like /tmp); otherwise it is the user's */
	if (mode & S_ISVTX)
		snprintf(options, sizeof options, "mode=%04o", (unsigned)mode);
	else
		snprintf(options, sizeof options, "mode=%04o,uid=%u,gid=%u", (unsigned)mode,
			 (unsigned)r->p->id.uid, (unsigned)r->p->id.gid);
	return do_fs(r, m, "tmpfs", options, ATTR_NOSUID | ATTR_NODEV, err);
}

static int do_dir(struct rootfs *r, const struct plan_mount *m, nscell_error_t *err)
{
	struct target t;
	mode_t mode = m->mode & 07777;
	if (rfs_target(r, m->dst, TARGET_DIR, &t, err) < 0)
		return -1;
	int rc = 0;
	/* Ours to shape only when it is on a filesystem of ours, never in
	 * a host bind: the fd is the object itself (a symlink the user
	 * planted may have led here), changed through the fd, not a name. */
	if (rfs_is_own(r, t.parent) && rfs_is_own(r, t.fd)) {
		char self[32];
		snprintf(self, sizeof self, "/proc/self/fd/%d", t.fd);
		shim_log(r->s, &m->origin, "dir %s (%04o, owned by %s)", m->dst, (unsigned)mode,
			 r->p->id.user);
		if (chmod(self, mode) < 0 ||
		    fchownat(t.fd, "", r->p->id.uid, r->p->id.gid, AT_EMPTY_PATH) < 0)
			rc = nscell_error_errno(err, errno, "set mode and owner");
	}
	rfs_target_close(&t);
	return rc;
}

static int do_symlink(struct rootfs *r, const struct plan_mount *m, nscell_error_t *err)
{
	const char *slash = strrchr(m->dst, '/');
	char dir[PATH_MAX], have[PATH_MAX];
	if (!slash[1])
		return nscell_error_set(err, EINVAL, "no name");
	snprintf(dir, sizeof dir, "%.*s", slash == m->dst ? 1 : (int)(slash - m->dst), m->dst);
	_cleanup_close_ int parent = rfs_open_dir(r, dir, true, err);
	if (parent < 0)
		return -1;
	shim_log(r->s, &m->origin, "symlink %s -> %s", m->dst, m->src);
	if (rfs_create(r, parent, slash + 1, 0, m->src, err) == 0)
		return 0;
	if (errno != EEXIST)
		return -1;
	ssize_t n = readlinkat(parent, slash + 1, have, sizeof have - 1);
	if (n >= 0) {
		have[n] = '\0';
		if (strcmp(have, m->src) == 0)
			return 0;
	}
	return nscell_error_set(err, EEXIST, "something else is already there");
}

static int do_mask(struct rootfs *r, const struct plan_mount *m, nscell_error_t *err)
{
	struct target t;
	bool missing;
	if (rfs_target_if_exists(r, m->dst, &t, &missing, err) < 0)
		return -1;
	if (missing) {
		shim_log(r->s, &m->origin, "mask %s: nothing there, skipped", m->dst);
		return 0;
	}
	struct stat st;
	int rc = 0;
	if (fstat(t.fd, &st) < 0) {
		rc = nscell_error_errno(err, errno, "stat");
	} else if (S_ISLNK(st.st_mode)) {
		shim_log(r->s, &m->origin, "mask %s: a symlink, nothing behind it to hide", m->dst);
	} else if (m->flags & PLAN_F_RUNC_MASK) {
		rc = dev_mask_runc(r, m, &t, S_ISDIR(st.st_mode), err);
	} else {
		int what = S_ISDIR(st.st_mode) ? files_empty_dir(r, err) : files_empty_file(r, err);
		shim_log(r->s, &m->origin, "mask %s (an empty read-only %s)", m->dst,
			 S_ISDIR(st.st_mode) ? "directory" : "file");
		rc = what < 0 ? -1 :
				mnt_bind(r, what, &t, ATTR_RDONLY | ATTR_NOSUID | ATTR_NODEV | ATTR_NOEXEC,
					 false, err);
	}
	rfs_target_close(&t);
	return rc;
}

static int do_remount_ro(struct rootfs *r, const struct plan_mount *m, nscell_error_t *err)
{
	struct target t;
	bool missing = false;
	/* a config's readonlyPaths: a missing path is skipped, as runc does */
	if ((m->flags & PLAN_F_TRY) && rfs_target_if_exists(r, m->dst, &t, &missing, err) < 0)
		return -1;
	if (m->flags & PLAN_F_TRY)
		rfs_target_close(&t);
	if (missing) {
		shim_log(r->s, &m->origin, "remount-ro %s: nothing there, skipped", m->dst);
		return 0;
	}
	if (rfs_target(r, m->dst, TARGET_EXISTING, &t, err) < 0)
		return -1;
	shim_log(r->s, &m->origin, "remount-ro %s", m->dst);
	int rc = mnt_remount_ro(r, &t, err);
	rfs_target_close(&t);
	return rc;
}

static int run_entry(struct rootfs *r, size_t i, nscell_error_t *err)
{
	const struct plan_mount *m = &r->p->mounts[i];
	unsigned attrs = ATTR_NOSUID;
	switch (m->op) {
	case PLAN_BIND: {
		if (r->src_fds[i] < 0)
			return 0; /* a -try source that is missing */
		bool top = m->flags & PLAN_F_RO_TOP;
		attrs |= (m->flags & PLAN_F_DEVICES ? 0 : ATTR_NODEV) |
			 (m->flags & PLAN_F_RO && !top ? ATTR_RDONLY : 0);
		/* runc spec --rootless's /sys: noexec too, on the top mount */
		unsigned top_attrs = (m->flags & PLAN_F_RO && top ? ATTR_RDONLY : 0) |
				     (m->flags & PLAN_F_RUNC_TOP ? ATTR_NOEXEC : 0);
		return do_bind(r, m, r->src_fds[i], attrs, top_attrs, err);
	}
	case PLAN_TMP:
		if (r->src_fds[i] < 0)
			return do_fs(r, m, "tmpfs", "mode=01777", ATTR_NOSUID | ATTR_NODEV, err);
		return do_bind(r, m, r->src_fds[i], ATTR_NOSUID | ATTR_NODEV, 0, err);
	case PLAN_TMPFS:
		return do_tmpfs(r, m, err);
	case PLAN_PROC:
		shim_log(r->s, &m->origin,
			 "proc on %s (sys, irq, bus, fs read-only; kcore, sysrq-trigger, ... masked)", m->dst);
		return proc_setup(r, m, err);
	case PLAN_MQUEUE:
		return do_fs(r, m, "mqueue", NULL, ATTR_NOSUID | ATTR_NODEV | ATTR_NOEXEC, err);
	case PLAN_DEV:
		shim_log(r->s, &m->origin, "dev on %s", m->dst);
		return dev_setup(r, m, err);
	case PLAN_DIR:
		return do_dir(r, m, err);
	case PLAN_SYMLINK:
		return do_symlink(r, m, err);
	case PLAN_COPY:
		if (r->src_fds[i] < 0)
			return 0;
		shim_log(r->s, &m->origin, "copy %s to %s", m->src, m->dst);
		return files_copy(r, i, err);
	case PLAN_FILE:
		shim_log(r->s, &m->origin, "file %s (%zu bytes, %04o)", m->dst, m->len, (unsigned)m->mode);
		return files_write(r, i, err);
	case PLAN_MASK:
		return do_mask(r, m, err);
	case PLAN_REMOUNT_RO:
		return do_remount_ro(r, m, err);
	case PLAN_SYSFS:
		return do_fs(r, m, "sysfs", NULL, ATTR_NOSUID | ATTR_NODEV | ATTR_NOEXEC |
			     (m->flags & PLAN_F_RO ? ATTR_RDONLY : 0), err);
	case PLAN_CGROUP:
		return do_bind(r, m, r->src_fds[i], ATTR_RDONLY | ATTR_NOSUID | ATTR_NODEV | ATTR_NOEXEC,
			       0, err);
	}
	return nscell_error_set(err, EINVAL, "unknown operation %d", (int)m->op);
}

/* A network namespace of the sandbox's own (a config's): its loopback
 * up, as runc brings it up */
static int loopback_up(struct rootfs *r, nscell_error_t *err)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	_cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		return nscell_error_errno(err, errno, "network namespace: loopback");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		return nscell_error_errno(err, errno, "network namespace: bring lo up");
	shim_log(r->s, NULL, "network namespace: lo up");
	return 0;
}

/* The new root becomes / and the host's tree (with the base) is detached. */
static int enter_root(struct rootfs *r, nscell_error_t *err)
{
	const struct plan *p = r->p;
	if ((p->namespaces & PLAN_NS_NET) && loopback_up(r, err) < 0)
		return -1;
	if (p->hostname) {
		if (!(p->namespaces & PLAN_NS_UTS))
			return nscell_error_set(err, 0, "hostname %s: needs a uts namespace", p->hostname);
		shim_log(r->s, NULL, "hostname %s", p->hostname);
		if (sethostname(p->hostname, strlen(p->hostname)) < 0)
			return nscell_error_errno(err, errno, "sethostname %s", p->hostname);
	}
	if (fchdir(r->root_fd) < 0)
		return nscell_error_errno(err, errno, "enter the new root");
	/* pivot_root(".", "."): the old root lands on top of the new one and
	 * is detached from there, with every mount below it */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return nscell_error_errno(err, errno, "pivot_root");
	if (umount2(".", MNT_DETACH) < 0)
		return nscell_error_errno(err, errno, "detach the old root");
	if (chdir("/") < 0)
		return nscell_error_errno(err, errno, "chdir /");
	return 0;
}

static void close_all(struct rootfs *r)
{
	int *fds[] = { &r->base_fd, &r->root_fd, &r->stage_fd, &r->home_fd, &r->empty_file, &r->empty_dir };
	for (size_t i = 0; i < sizeof fds / sizeof *fds; i++)
		if (*fds[i] >= 0) {
			close(*fds[i]);
			*fds[i] = -1;
		}
	for (size_t i = 0; r->src_fds && i < r->p->nmounts; i++)
		if (r->src_fds[i] >= 0)
			close(r->src_fds[i]);
	for (size_t i = 0; i < ROOTFS_NDEV; i++)
		if (r->dev_fds[i] >= 0)
			close(r->dev_fds[i]);
	free(r->src_fds);
	r->src_fds = NULL;
	if (r->root_src >= 0)
		close(r->root_src);
	r->root_src = -1;
}

static struct rootfs *rootfs_new(struct shim *s, nscell_error_t *err)
{
	struct rootfs *r = calloc(1, sizeof *r);
	if (!r) {
		nscell_error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	*r = (struct rootfs){
		.s = s, .p = s->plan,
		.base_fd = -1, .root_fd = -1, .stage_fd = -1, .home_fd = -1, .root_src = -1,
		.empty_file = -1, .empty_dir = -1,
		.no_openat2 = s->compat, .no_mount_api = s->compat,
	};
	for (size_t i = 0; i < ROOTFS_NDEV; i++)
		r->dev_fds[i] = -1;
	return r;
}

void rootfs_free(struct shim *s)
{
	if (!s->rootfs)
		return;
	close_all(s->rootfs);
	free(s->rootfs);
	s->rootfs = NULL;
}

/* (host side, root) Open every source here, with all of root's access,
 * as detached copies of their mount trees: inside its user namespace the
 * sandbox's root is host root only for files root owns or the user's ids
 * own, so a source below another user's 0700 directory (mysql's, say)
 * would be out of its reach.  The copies are attached in the child. */
int rootfs_open_sources(struct shim *s, nscell_error_t *err)
{
	if (s->rootless || s->compat)
		return 0;
	/* open_tree (Linux 5.2) is how a tree crosses into the sandbox */
	int probe = mnt_open_tree(AT_FDCWD, "/", false, false);
	if (probe < 0)
		return 0; /* the child opens them itself */
	close(probe);
	struct rootfs *r = rootfs_new(s, err);
	if (!r)
		return -1;
	r->trees = true;
	s->rootfs = r;
	if (prepare_sources(r, err) < 0) {
		rootfs_free(s);
		return -1;
	}
	return 0;
}

int rootfs_build(struct shim *s, nscell_error_t *err)
{
	const struct plan *p = s->plan;
	struct rootfs *r = s->rootfs;
	int rc = -1;
	if (!r && !(r = s->rootfs = rootfs_new(s, err)))
		return -1;
	if (mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0) {
		nscell_error_errno(err, errno, "make / a slave mount");
		goto out;
	}
	if ((!r->trees && prepare_sources(r, err) < 0) || make_base(r, err) < 0)
		goto out;
	for (size_t i = 0; i < p->nmounts; i++) {
		if (run_entry(r, i, err) < 0) {
			entry_error(err, &p->mounts[i]);
			goto out;
		}
		if (p->mounts[i].dst && strcmp(p->mounts[i].dst, "/") == 0) {
			/* something was mounted on / itself: build on top of it */
			int fd = openat(r->base_fd, "newroot", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0) {
				nscell_error_errno(err, errno, "reopen the new root");
				goto out;
			}
			close(r->root_fd);
			r->root_fd = fd;
		}
	}
	if (p->rootfs && p->rootfs_readonly && bundle_root_readonly(r, err) < 0)
		goto out;
	/* OCI createRuntime and createContainer hooks (shim/runtime_stages.c) */
	if (s->before_pivot && s->before_pivot(s, r->root_fd, err) < 0)
		goto out;
	rc = enter_root(r, err);
out:
	rootfs_free(s);
	return rc;
}
