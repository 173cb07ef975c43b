/* Plan → OCI bundle: DIR/config.json, DIR/rootfs/ and DIR/files/.
 *
 * rootfs/ holds what runc cannot make itself: every mount point (a
 * directory, or an empty file where a file is bound), the template's
 * directories, symlinks, generated and copied files.  What a mount would
 * hide (runc mounts over the rootfs) goes to files/ and is bound from there
 * (see OCI_FILES_DIR).  Everything is made relative to directory fds with
 * O_NOFOLLOW, so a symlink in the bundle is never followed; a failure
 * removes whatever was made. */
#include "bundle.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct exporter {
	const struct plan *p;
	bool rootless;
	bool chown_dirs; /* root exporting for the user: PLAN_DIRs are the user's */
	int bundle_fd, rootfs_fd, files_fd;
	bool *skip;      /* entries left out: copy-try without a source */
	nscell_error_t *err;
};

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

/* Open (creating 0755 where missing) every directory of path below base
 * but the last; *name is the last component, inside *buf. */
static int open_parent(int base, const char *path, char **buf, const char **name,
		       nscell_error_t *err)
{
	while (*path == '/')
		path++;
	if (!(*buf = strdup(path)))
		return nscell_error_set(err, ENOMEM, "out of memory");
	int fd = dup(base);
	if (fd < 0)
		return nscell_error_errno(err, errno, "dup");
	char *c = *buf, *slash;
	while ((slash = strchr(c, '/'))) {
		*slash = '\0';
		bool made = mkdirat(fd, c, 0700) == 0;
		int nfd = openat(fd, c, DIR_FLAGS);
		if (nfd < 0) {
			int e = errno;
			close(fd);
			return nscell_error_errno(err, e, "%.*s", (int)(slash - *buf), *buf);
		}
		close(fd);
		fd = nfd;
		if (made && fchmod(fd, 0755) < 0) {
			close(fd);
			return nscell_error_errno(err, errno, "chmod %s", *buf);
		}
		*slash = '/';
		c = slash + 1;
	}
	*name = c;
	return fd;
}

/* A directory at path: mode and owner set when made here, or always when
 * `own` (a template's dir owns the place even if a parent made it). */
static int make_dir(int base, const char *path, mode_t mode, bool own, uid_t uid, gid_t gid,
		    bool do_chown, nscell_error_t *err)
{
	_cleanup_free_ char *buf = NULL;
	const char *name;
	_cleanup_close_ int pfd = open_parent(base, path, &buf, &name, err);
	if (pfd < 0)
		return -1;
	if (!*name)
		return 0; /* "/" is the base itself */
	bool made = mkdirat(pfd, name, 0700) == 0;
	if (!made && errno != EEXIST)
		return nscell_error_errno(err, errno, "mkdir %s", path);
	_cleanup_close_ int fd = openat(pfd, name, DIR_FLAGS);
	if (fd < 0)
		return nscell_error_errno(err, errno, "%s", path);
	if (made || own) {
		if (do_chown && fchown(fd, uid, gid) < 0)
			return nscell_error_errno(err, errno, "chown %s", path);
		if (fchmod(fd, mode) < 0)
			return nscell_error_errno(err, errno, "chmod %s", path);
	}
	return 0;
}

/* A new regular file with data (or the contents of src_fd), then mode.
 * An existing one is an error unless `mount_point` (then it is kept). */
static int make_file(int base, const char *path, mode_t mode, const char *data, size_t len,
		     int src_fd, bool mount_point, nscell_error_t *err)
{
	_cleanup_free_ char *buf = NULL;
	const char *name;
	_cleanup_close_ int pfd = open_parent(base, path, &buf, &name, err);
	if (pfd < 0)
		return -1;
	_cleanup_close_ int fd = openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
						   O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST && mount_point) {
		struct stat st;
		if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
			return 0;
		return nscell_error_set(err, EEXIST, "%s: exists and is not a file", path);
	}
	if (fd < 0)
		return nscell_error_errno(err, errno, "create %s", path);
	char chunk[65536];
	for (size_t off = 0;;) {
		ssize_t n;
		const char *from = chunk;
		if (src_fd >= 0) {
			n = read(src_fd, chunk, sizeof chunk);
		} else {
			n = len - off;
			from = data + off;
			off += n;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return nscell_error_errno(err, errno, "read for %s", path);
		if (n == 0)
			break;
		for (ssize_t done = 0; done < n;) {
			ssize_t w = write(fd, from + done, n - done);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return nscell_error_errno(err, errno, "write %s", path);
			done += w;
		}
	}
	if (fchmod(fd, mode) < 0)
		return nscell_error_errno(err, errno, "chmod %s", path);
	return 0;
}

static int make_symlink(int base, const char *path, const char *target, nscell_error_t *err)
{
	_cleanup_free_ char *buf = NULL;
	const char *name;
	_cleanup_close_ int pfd = open_parent(base, path, &buf, &name, err);
	if (pfd < 0)
		return -1;
	if (symlinkat(target, pfd, name) == 0)
		return 0;
	if (errno == EEXIST) {
		char have[PATH_MAX];
		ssize_t n = readlinkat(pfd, name, have, sizeof have - 1);
		if (n >= 0 && (have[n] = '\0', strcmp(have, target) == 0))
			return 0;
	}
	return nscell_error_errno(err, errno, "symlink %s -> %s", path, target);
}

/* The mount point in rootfs: a directory, or an empty file when a file is
 * bound (runc would make it, but inside a user namespace it may not be
 * allowed to write the rootfs, and making it here keeps runc's hands off). */
static int make_mount_point(struct exporter *x, const struct plan_mount *m)
{
	bool is_dir = true;
	if (m->op == PLAN_BIND) {
		struct stat st;
		if (m->flags & PLAN_F_USER_PATH) {
			/* runc follows symlinks in a source; the user must not
			 * point one of their paths at something of root's */
			if (lstat(m->src, &st) == 0 && S_ISLNK(st.st_mode))
				return nscell_error_set(x->err, ELOOP, "bind %s: source %s is a "
							"symlink in a user's tree", m->dst, m->src);
		}
		if (stat(m->src, &st) < 0)
			return nscell_error_errno(x->err, errno, "bind %s: source %s", m->dst,
						  m->src);
		is_dir = S_ISDIR(st.st_mode);
	}
	/* runc 1.1.5 chmods a tmpfs to the mode of the mount point it finds in
	 * the rootfs, whatever mode= says: give the point the tmpfs's mode */
	if (m->op == PLAN_TMPFS)
		return make_dir(x->rootfs_fd, m->dst, m->mode & 07777, true, 0, 0, false, x->err);
	if (is_dir)
		return make_dir(x->rootfs_fd, m->dst, 0755, false, 0, 0, false, x->err);
	return make_file(x->rootfs_fd, m->dst, 0644, "", 0, -1, true, x->err);
}

static int files_dir(struct exporter *x)
{
	if (x->files_fd >= 0)
		return x->files_fd;
	if (mkdirat(x->bundle_fd, OCI_FILES_DIR, 0700) < 0 && errno != EEXIST)
		return nscell_error_errno(x->err, errno, "mkdir %s", OCI_FILES_DIR);
	x->files_fd = openat(x->bundle_fd, OCI_FILES_DIR, DIR_FLAGS);
	if (x->files_fd < 0 || fchmod(x->files_fd, 0755) < 0)
		return nscell_error_errno(x->err, errno, "%s", OCI_FILES_DIR);
	return x->files_fd;
}

static int copy_entry(struct exporter *x, size_t i, int base)
{
	const struct plan_mount *m = &x->p->mounts[i];
	int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
	if (m->flags & PLAN_F_USER_PATH)
		flags |= O_NOFOLLOW;
	_cleanup_close_ int fd = open(m->src, flags);
	if (fd < 0 && errno == ENOENT && (m->flags & PLAN_F_TRY)) {
		x->skip[i] = true;
		return 0;
	}
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return nscell_error_errno(x->err, errno, "copy %s: source %s", m->dst, m->src);
	if (!S_ISREG(st.st_mode))
		return nscell_error_set(x->err, EINVAL, "copy %s: source %s is not a regular "
					"file", m->dst, m->src);
	/* the copy belongs to root, not to the source's owner: set-id bits
	 * would hand out root's ids */
	return make_file(base, m->dst, st.st_mode & 01777, NULL, 0, fd, false, x->err);
}

static int export_entry(struct exporter *x, size_t i)
{
	const struct plan *p = x->p;
	const struct plan_mount *m = &p->mounts[i];
	bool hidden = oci_hidden_by(p, i) != NULL;
	int base = x->rootfs_fd;
	if (hidden && (m->op == PLAN_DIR || m->op == PLAN_FILE || m->op == PLAN_COPY) &&
	    (base = files_dir(x)) < 0)
		return -1;
	if ((m->op == PLAN_BIND || m->op == PLAN_TMP) && m->src && m->src[0] != '/')
		return nscell_error_set(x->err, EINVAL, "%s %s: source %s is relative to the "
					"bundle it was read from", plan_op_name(m->op), m->dst,
					m->src);
	switch (m->op) {
	case PLAN_BIND: case PLAN_TMP: case PLAN_TMPFS:
	case PLAN_PROC: case PLAN_MQUEUE: case PLAN_DEV:
	case PLAN_SYSFS: case PLAN_CGROUP:
		return hidden ? 0 : make_mount_point(x, m); /* runc makes hidden ones */
	case PLAN_DIR:
		return make_dir(base, m->dst, m->mode, true, p->id.uid, p->id.gid, x->chown_dirs,
				x->err);
	case PLAN_SYMLINK:
		return make_symlink(base, m->dst, m->src, x->err);
	case PLAN_FILE:
		return make_file(base, m->dst, m->mode, m->data ? m->data : "", m->len, -1, false,
				 x->err);
	case PLAN_COPY:
		return copy_entry(x, i, base);
	case PLAN_MASK:
	case PLAN_REMOUNT_RO:
		return 0;
	}
	return 0;
}

/* ---- disk-backed tmp sources, made as the user ---- */

struct child_report {
	int errnum;
	char msg[512];
};

/* mkdir -p path with 0700, one component at a time from the home (or
 * "/"), never following a symlink the user may have planted. */
static int mkdir_user_path(const char *home, const char *path, struct child_report *rep)
{
	size_t hl = home ? strlen(home) : 0;
	bool in_home = hl > 1 && strncmp(path, home, hl) == 0 && path[hl] == '/';
	int fd = open(in_home ? home : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		rep->errnum = errno;
		snprintf(rep->msg, sizeof rep->msg, "%s", in_home ? home : "/");
		return -1;
	}
	char buf[PATH_MAX];
	snprintf(buf, sizeof buf, "%s", path + (in_home ? hl : 0));
	for (char *save = NULL, *c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		int nfd = -1;
		if (mkdirat(fd, c, 0700) == 0 || errno == EEXIST)
			nfd = openat(fd, c, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0) {
			struct stat st;
			rep->errnum = errno;
			if (fstatat(fd, c, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
				rep->errnum = ELOOP;
			snprintf(rep->msg, sizeof rep->msg, "component '%s'%s", c,
				 rep->errnum == ELOOP ? " is a symlink" : "");
			close(fd);
			return -1;
		}
		close(fd);
		fd = nfd;
	}
	close(fd);
	return 0;
}

static int make_tmp_source(struct exporter *x, const struct plan_mount *m)
{
	const struct plan_identity *id = &x->p->id;
	struct child_report rep = { 0 };
	if (geteuid() != 0 || x->rootless) {
		/* the caller is the user (or cannot become anyone else) */
		if (mkdir_user_path(id->home, m->src, &rep) < 0)
			return nscell_error_errno(x->err, rep.errnum, "tmp %s: source %s: %s", m->dst,
						  m->src, rep.msg);
		return 0;
	}
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return nscell_error_errno(x->err, errno, "pipe");
	pid_t pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return nscell_error_errno(x->err, errno, "fork");
	}
	if (pid == 0) {
		close(pipefd[0]);
		if (setgroups(id->ngroups, id->groups) < 0 || setgid(id->gid) < 0 ||
		    setuid(id->uid) < 0) {
			rep.errnum = errno;
			snprintf(rep.msg, sizeof rep.msg, "becoming uid %u", (unsigned)id->uid);
		} else {
			mkdir_user_path(id->home, m->src, &rep);
		}
		if (write(pipefd[1], &rep, sizeof rep) < 0)
			_exit(2);
		_exit(rep.errnum ? 1 : 0);
	}
	close(pipefd[1]);
	ssize_t n;
	do
		n = read(pipefd[0], &rep, sizeof rep);
	while (n < 0 && errno == EINTR);
	close(pipefd[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof rep)
		return nscell_error_set(x->err, EIO, "tmp %s: the child making %s died", m->dst,
					m->src);
	if (rep.errnum)
		return nscell_error_errno(x->err, rep.errnum, "tmp %s: source %s as uid %u: %s",
					  m->dst, m->src, (unsigned)id->uid, rep.msg);
	return 0;
}

/* ---- the bundle directory ---- */

static void remove_contents(int dfd)
{
	int fd = dup(dfd);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	struct dirent *de;
	rewinddir(d); /* the dup shares its offset with dfd */
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		struct stat st;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
			int sub = openat(dfd, de->d_name, DIR_FLAGS);
			if (sub >= 0) {
				remove_contents(sub);
				close(sub);
			}
			unlinkat(dfd, de->d_name, AT_REMOVEDIR);
		} else {
			unlinkat(dfd, de->d_name, 0);
		}
	}
	closedir(d);
}

static bool dir_is_empty(int dfd)
{
	int fd = dup(dfd);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	struct dirent *de;
	bool empty = true;
	rewinddir(d);
	while (empty && (de = readdir(d)))
		empty = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
	closedir(d);
	return empty;
}

/* Open dir (absent: made 0700; present: must be an empty directory, not a
 * symlink).  *parent_fd and *base let a failure remove what was made. */
static int open_bundle(const char *dir, int *parent_fd, char **base, bool *made,
		       nscell_error_t *err)
{
	_cleanup_free_ char *copy = strdup(dir);
	if (!copy)
		return nscell_error_set(err, ENOMEM, "out of memory");
	size_t n = strlen(copy);
	while (n > 1 && copy[n - 1] == '/')
		copy[--n] = '\0';
	char *slash = strrchr(copy, '/');
	const char *name = slash ? slash + 1 : copy;
	if (slash)
		*slash = '\0';
	if (!*name || !strcmp(name, ".") || !strcmp(name, ".."))
		return nscell_error_set(err, EINVAL, "%s: not a directory name", dir);
	*parent_fd = open(slash ? (*copy ? copy : "/") : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*parent_fd < 0)
		return nscell_error_errno(err, errno, "%s: parent directory", dir);
	if (!(*base = strdup(name)))
		return nscell_error_set(err, ENOMEM, "out of memory");
	*made = mkdirat(*parent_fd, name, 0700) == 0;
	if (!*made && errno != EEXIST)
		return nscell_error_errno(err, errno, "mkdir %s", dir);
	int fd = openat(*parent_fd, name, DIR_FLAGS);
	if (fd < 0) {
		int e = errno;
		struct stat st;
		if (fstatat(*parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
			return nscell_error_set(err, ELOOP, "%s: is a symlink", dir);
		return nscell_error_errno(err, e, "%s", dir);
	}
	if (*made && fchmod(fd, 0700) < 0) {
		close(fd);
		return nscell_error_errno(err, errno, "chmod %s", dir);
	}
	if (!*made && !dir_is_empty(fd)) {
		close(fd);
		return nscell_error_set(err, ENOTEMPTY, "%s: exists and is not empty", dir);
	}
	return fd;
}

static int write_config(struct exporter *x, const struct oci_opts *o)
{
	const struct plan *p = x->p;
	struct plan view = *p; /* the plan without the skipped entries */
	_cleanup_free_ struct plan_mount *kept = malloc((p->nmounts + 1) * sizeof *kept);
	if (!kept)
		return nscell_error_set(x->err, ENOMEM, "out of memory");
	view.nmounts = 0;
	for (size_t i = 0; i < p->nmounts; i++)
		if (!x->skip[i])
			kept[view.nmounts++] = p->mounts[i];
	view.mounts = kept;
	view.cap_mounts = view.nmounts;
	_cleanup_free_ char *json = NULL;
	size_t len;
	if (oci_config_generate(&view, o, &json, &len, x->err) < 0)
		return -1;
	return make_file(x->bundle_fd, "config.json", 0644, json, len, -1, false, x->err);
}

int bundle_make_tmp_source(const struct plan *p, const struct plan_mount *m, bool rootless,
			   nscell_error_t *err)
{
	struct exporter x = { .p = p, .rootless = rootless, .bundle_fd = -1, .rootfs_fd = -1,
			      .files_fd = -1, .err = err };
	return make_tmp_source(&x, m);
}

static int export_all(struct exporter *x, const struct oci_opts *o)
{
	const struct plan *p = x->p;
	if (mkdirat(x->bundle_fd, o->rootfs, 0700) < 0)
		return nscell_error_errno(x->err, errno, "mkdir %s", o->rootfs);
	x->rootfs_fd = openat(x->bundle_fd, o->rootfs, DIR_FLAGS);
	if (x->rootfs_fd < 0 || fchmod(x->rootfs_fd, 0755) < 0)
		return nscell_error_errno(x->err, errno, "%s", o->rootfs);
	for (size_t i = 0; i < p->nmounts; i++) {
		if (export_entry(x, i) < 0) {
			/* "bind /x: source /y: No such file (server.conf:3:1)" */
			char where[256];
			size_t n = x->err ? strlen(x->err->msg) : 0;
			plan_origin_str(&p->mounts[i].origin, where, sizeof where);
			if (x->err && n < sizeof x->err->msg)
				snprintf(x->err->msg + n, sizeof x->err->msg - n, " (%s)", where);
			return -1;
		}
	}
	if (write_config(x, o) < 0)
		return -1;
	/* last: these are outside the bundle and are not removed on failure */
	for (size_t i = 0; i < p->nmounts; i++)
		if (p->mounts[i].op == PLAN_TMP && make_tmp_source(x, &p->mounts[i]) < 0)
			return -1;
	return 0;
}

int bundle_export(const struct plan *p, const char *dir, const struct oci_opts *o,
		  nscell_error_t *err)
{
	struct oci_opts opts = { 0 };
	if (o)
		opts = *o;
	if (!opts.rootfs)
		opts.rootfs = "rootfs";
	if (!*opts.rootfs || strchr(opts.rootfs, '/') || !strcmp(opts.rootfs, ".") ||
	    !strcmp(opts.rootfs, "..") || !strcmp(opts.rootfs, OCI_FILES_DIR) ||
	    !strcmp(opts.rootfs, "config.json"))
		return nscell_error_set(err, EINVAL, "export %s: rootfs '%s' must be a plain name",
					dir, opts.rootfs);
	/* a plan the generator refuses is refused before anything is made */
	_cleanup_free_ char *probe = NULL;
	size_t len;
	if (oci_config_generate(p, &opts, &probe, &len, err) < 0)
		return nscell_error_wrap(err, "export %s", dir);

	struct exporter x = {
		.p = p, .rootless = oci_rootless(p, &opts), .bundle_fd = -1, .rootfs_fd = -1,
		.files_fd = -1, .err = err,
	};
	x.chown_dirs = geteuid() == 0 && !x.rootless;
	_cleanup_free_ bool *skip = calloc(p->nmounts + 1, sizeof *skip);
	_cleanup_close_ int parent_fd = -1;
	_cleanup_free_ char *base = NULL;
	bool made = false;
	if (!skip)
		return nscell_error_set(err, ENOMEM, "out of memory");
	x.skip = skip;
	x.bundle_fd = open_bundle(dir, &parent_fd, &base, &made, err);
	if (x.bundle_fd < 0) {
		if (made)
			unlinkat(parent_fd, base, AT_REMOVEDIR);
		return nscell_error_wrap(err, "export");
	}
	int rc = export_all(&x, &opts);
	if (x.rootfs_fd >= 0)
		close(x.rootfs_fd);
	if (x.files_fd >= 0)
		close(x.files_fd);
	if (rc < 0) {
		remove_contents(x.bundle_fd);
		if (made)
			unlinkat(parent_fd, base, AT_REMOVEDIR);
		nscell_error_wrap(err, "export %s", dir);
	}
	close(x.bundle_fd);
	return rc;
}
