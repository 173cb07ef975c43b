/* File binds of a persisted sandbox, seen fresh without a rebuild.
 *
 * A bound file replaced on the host (a database restart recreates
 * mysqld.sock with a new inode) leaves the sandbox holding the old one.
 * At build time NAME/binds records every bind whose source is not a
 * directory, with the source's device and inode then; a warm launch
 * compares them with the host's now (one stat each) and, for a changed
 * one, attaches a fresh copy of the source over the old bind inside the
 * sandbox (open_tree on the host, then move_mount inside, from a child
 * that joined the sandbox's user and mount namespaces).  The old mount
 * stays below the new one: taking it away by path inside the sandbox
 * could be raced into unmounting something else (an exclusion's mask).
 *
 * The file: "nscell-binds 1 KEEPER START\n", then per bind
 * "DEV INO ATTRS\0SRC\0DST\0".  A file of another keeper is ignored.
 * It also lists the -try binds whose source was missing at build time: a
 * database started after the user's first request (/run/mysqld) gets
 * the sandbox rebuilt once it is there.
 * Unprivileged, the host's tree cannot be copied into the sandbox: a
 * changed bind asks for a rebuild instead. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shim/refresh.h"
#include "shim/rootfs.h"

#define BINDS_MAX (1u << 20)

/* in a record's attrs, beside the ATTR_ bits: a -try bind whose source
 * was missing at build time, looked for with lstat when it is in the
 * user's tree (root follows no link of the user's) */
#define REC_ABSENT (1u << 30)
#define REC_USER_PATH (1u << 31)

static bool exists(const char *path, bool user_path)
{
	struct stat st;
	return (user_path ? lstat(path, &st) : stat(path, &st)) == 0;
}

static bool absent_try(const struct plan_mount *m)
{
	return m->op == PLAN_BIND && m->src && (m->flags & PLAN_F_TRY) &&
	       !exists(m->src, m->flags & PLAN_F_USER_PATH);
}

static bool file_bind(const struct plan_mount *m, struct stat *st)
{
	return m->op == PLAN_BIND && m->src && !(m->flags & PLAN_F_USER_PATH) &&
	       stat(m->src, st) == 0 && !S_ISDIR(st->st_mode);
}

static unsigned bind_attrs(const struct plan_mount *m)
{
	return ATTR_NOSUID | (m->flags & PLAN_F_DEVICES ? 0 : ATTR_NODEV) |
	       (m->flags & PLAN_F_RO ? ATTR_RDONLY : 0);
}

struct bind_rec {
	unsigned long long dev, ino;
	unsigned long long old_dev, old_ino; /* what the sandbox holds now */
	unsigned attrs;
	const char *src, *dst;
	bool changed;
	int tree; /* the fresh copy, -1 */
};

/* NAME/binds anew (atomically), or none when n == 0 */
static int write_binds(int dirfd, const char *name, pid_t keeper, unsigned long long start,
		       const struct bind_rec *v, size_t n, nscell_error_t *err)
{
	char tmp[STATE_NAME_MAX + 32], dst[STATE_NAME_MAX + 32];
	snprintf(tmp, sizeof tmp, "%s/" STATE_BINDS ".tmp", name);
	snprintf(dst, sizeof dst, "%s/" STATE_BINDS, name);
	if (!n)
		return unlinkat(dirfd, dst, 0) < 0 && errno != ENOENT ?
			nscell_error_errno(err, errno, "state %s: remove", dst) : 0;
	int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
	if (!f) {
		if (fd >= 0)
			close(fd);
		return nscell_error_errno(err, errno, "state %s: create", tmp);
	}
	fprintf(f, "nscell-binds 1 %d %llu\n", (int)keeper, start);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%llu %llu %u%c%s%c%s%c", v[i].dev, v[i].ino, v[i].attrs, 0, v[i].src, 0,
			v[i].dst, 0);
	if (fclose(f) != 0)
		return nscell_error_errno(err, errno, "state %s: write", tmp);
	if (renameat(dirfd, tmp, dirfd, dst) < 0)
		return nscell_error_errno(err, errno, "state %s: rename to %s", tmp, dst);
	return 0;
}

int binds_record(const struct plan *p, int dirfd, const char *name, pid_t keeper,
		 unsigned long long start, nscell_error_t *err)
{
	struct bind_rec *v = calloc(p->nmounts ? p->nmounts : 1, sizeof *v);
	if (!v)
		return nscell_error_set(err, ENOMEM, "out of memory");
	size_t n = 0;
	for (size_t i = 0; i < p->nmounts; i++) {
		struct stat st;
		const struct plan_mount *m = &p->mounts[i];
		if (file_bind(m, &st))
			v[n++] = (struct bind_rec){ .dev = (unsigned long long)st.st_dev,
						    .ino = (unsigned long long)st.st_ino,
						    .attrs = bind_attrs(m), .src = m->src,
						    .dst = m->dst, .tree = -1 };
		else if (absent_try(m))
			v[n++] = (struct bind_rec){ .attrs = REC_ABSENT |
							     (m->flags & PLAN_F_USER_PATH ? REC_USER_PATH : 0),
						    .src = m->src, .dst = m->dst, .tree = -1 };
	}
	int rc = write_binds(dirfd, name, keeper, start, v, n, err);
	free(v);
	return rc;
}

/* ---- reading it back */

struct binds {
	char *buf;
	size_t len;
	struct bind_rec *v;
	size_t n;
};

static void binds_free(struct binds *b)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->v[i].tree >= 0)
			close(b->v[i].tree);
	free(b->v);
	free(b->buf);
}

static int read_file(int dirfd, const char *path, struct binds *b)
{
	int fd = openat(dirfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	size_t cap = 4096;
	ssize_t r = 0;
	char *buf;
	while ((buf = realloc(b->buf, cap + 1)) && (b->buf = buf) &&
	       (r = read(fd, b->buf + b->len, cap - b->len)) > 0) {
		b->len += (size_t)r;
		if (b->len == cap && (cap *= 2) > BINDS_MAX)
			break;
	}
	close(fd);
	if (!buf || r < 0 || cap > BINDS_MAX)
		return -1;
	b->buf[b->len] = '\0';
	return 1;
}

/* the records of keeper/start's file; 0 with none */
static int parse(struct binds *b, pid_t keeper, unsigned long long start)
{
	int k, used = 0;
	unsigned long long s;
	if (sscanf(b->buf, "nscell-binds 1 %d %llu\n%n", &k, &s, &used) != 2 || !used)
		return -1;
	if (k != (int)keeper || s != start)
		return 0; /* another keeper's, left by a build that died */
	for (size_t at = (size_t)used; at < b->len;) {
		struct bind_rec r = { .tree = -1 };
		char *head = b->buf + at, *src = head + strlen(head) + 1;
		char *dst = src < b->buf + b->len ? src + strlen(src) + 1 : NULL;
		if (!dst || dst >= b->buf + b->len ||
		    sscanf(head, "%llu %llu %u", &r.dev, &r.ino, &r.attrs) != 3)
			return -1;
		r.src = src;
		r.dst = dst;
		struct bind_rec *v = realloc(b->v, (b->n + 1) * sizeof *v);
		if (!v)
			return -1;
		b->v = v;
		b->v[b->n++] = r;
		at = (size_t)(dst - b->buf) + strlen(dst) + 1;
	}
	return 0;
}

/* which sources are another file now (the fresh copies opened: root);
 * *appeared: -try sources missing at build time that are there now */
static size_t compare(struct binds *b, bool open_trees, size_t *appeared)
{
	size_t changed = 0;
	*appeared = 0;
	for (size_t i = 0; i < b->n; i++) {
		struct bind_rec *r = &b->v[i];
		struct stat st;
		if (r->attrs & REC_ABSENT) {
			*appeared += exists(r->src, r->attrs & REC_USER_PATH);
			continue;
		}
		if (stat(r->src, &st) < 0 || S_ISDIR(st.st_mode))
			continue; /* gone for now: the old one stays */
		if ((unsigned long long)st.st_dev == r->dev && (unsigned long long)st.st_ino == r->ino)
			continue;
		/* root: only what could be copied counts (else: next time) */
		if (open_trees && (r->tree = mnt_open_tree(AT_FDCWD, r->src, true, false)) < 0)
			continue;
		r->changed = true;
		r->old_dev = r->dev;
		r->old_ino = r->ino;
		r->dev = (unsigned long long)st.st_dev;
		r->ino = (unsigned long long)st.st_ino;
		changed++;
	}
	return changed;
}

/* (child) Take the old bind at dst away and put the fresh copy there.
 * The old one is mostly of a file deleted on the host, which nothing can
 * be mounted over.  Unmounted by name from its directory, held by fd (no
 * path walk to race), and only when it is still the old file. */
static int attach_one(struct rootfs *r, const struct bind_rec *x, nscell_error_t *err)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(x->dst, '/');
	if (!slash || slash == x->dst + strlen(x->dst) - 1)
		return nscell_error_set(err, 0, "refresh %s: not a file's path", x->dst);
	snprintf(dir, sizeof dir, "%.*s", (int)(slash - x->dst), x->dst);
	const char *base = slash + 1;
	_cleanup_close_ int parent = rfs_open_in_root(r, *dir ? dir : "/", O_PATH | O_DIRECTORY);
	if (parent < 0)
		return nscell_error_errno(err, errno, "refresh %s: open %s in the sandbox", x->dst, dir);
	struct stat st;
	if (fstatat(parent, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return nscell_error_errno(err, errno, "refresh %s", x->dst);
	if ((unsigned long long)st.st_dev == x->dev && (unsigned long long)st.st_ino == x->ino)
		return 0; /* a launch at the same time did it */
	if ((unsigned long long)st.st_dev == x->old_dev && (unsigned long long)st.st_ino == x->old_ino &&
	    (fchdir(parent) < 0 || umount2(base, MNT_DETACH | UMOUNT_NOFOLLOW) < 0))
		return nscell_error_errno(err, errno, "refresh %s: take the old bind away", x->dst);
	struct target t = { .parent = parent, .path = x->dst };
	snprintf(t.name, sizeof t.name, "%s", base);
	t.fd = openat(parent, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (t.fd < 0)
		return nscell_error_errno(err, errno, "refresh %s: open it in the sandbox", x->dst);
	int rc = mnt_attach(r, x->tree, &t, x->attrs, false, err);
	close(t.fd);
	return rc;
}

/* (child) in the sandbox's user and mount namespaces */
static int attach_all(struct shim *s, const struct binds *b, int pidfd, unsigned long ns,
		      nscell_error_t *err)
{
	int flags = CLONE_NEWNS | (int)(ns & CLONE_NEWUSER);
	if (setns(pidfd, flags) < 0)
		return nscell_error_errno(err, errno, "join the sandbox's mount namespace");
	struct rootfs r = { .s = s, .root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC),
			    .no_openat2 = s->compat, .no_mount_api = s->compat };
	if (r.root_fd < 0)
		return nscell_error_errno(err, errno, "open the sandbox's root");
	int rc = 0;
	for (size_t i = 0; i < b->n && rc == 0; i++)
		if (b->v[i].tree >= 0)
			rc = attach_one(&r, &b->v[i], err);
	close(r.root_fd);
	return rc;
}

static int attach_in_child(struct shim *s, const struct binds *b, int pidfd, unsigned long ns,
			   nscell_error_t *err)
{
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return nscell_error_errno(err, errno, "pipe");
	pid_t pid = fork();
	if (pid == 0) {
		close(pipefd[0]);
		nscell_error_t e = { 0 };
		if (attach_all(s, b, pidfd, ns, &e) < 0) {
			shim_write_all(pipefd[1], e.msg, strlen(e.msg));
			_exit(1);
		}
		_exit(0);
	}
	close(pipefd[1]);
	if (pid < 0) {
		close(pipefd[0]);
		return nscell_error_errno(err, errno, "fork");
	}
	ssize_t n;
	while ((n = read(pipefd[0], err->msg, sizeof err->msg - 1)) < 0 && errno == EINTR)
		;
	close(pipefd[0]);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (n > 0) {
		err->msg[n] = '\0';
		return -1;
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 :
		nscell_error_set(err, 0, "refreshing the sandbox's file binds failed");
}

int binds_refresh(struct shim *s, int dirfd, const char *name, const struct state_rec *rec,
		  int pidfd, bool *rebuild, nscell_error_t *err)
{
	char path[STATE_NAME_MAX + 32];
	snprintf(path, sizeof path, "%s/" STATE_BINDS, name);
	struct binds b = { 0 };
	*rebuild = false;
	int r = read_file(dirfd, path, &b);
	int rc = 0;
	if (r <= 0 || parse(&b, rec->keeper, rec->start) < 0) {
		if (r != 0) /* unreadable: the sandbox may be stale, rebuild it */
			*rebuild = true;
		goto out;
	}
	size_t appeared;
	size_t changed = compare(&b, !s->rootless, &appeared);
	if (appeared) {
		shim_log(s, NULL, "%zu -try source(s) missing at build time are there now: rebuilding",
			 appeared);
		*rebuild = true;
		goto out;
	}
	if (!changed)
		goto out;
	if (s->rootless) {
		shim_log(s, NULL, "%zu bound file(s) replaced on the host: rebuilding", changed);
		*rebuild = true;
		goto out;
	}
	for (size_t i = 0; i < b.n; i++)
		if (b.v[i].changed)
			shim_log(s, NULL, "%s was replaced on the host: bound afresh at %s", b.v[i].src,
				 b.v[i].dst);
	if ((rc = attach_in_child(s, &b, pidfd, rec->ns, err)) < 0)
		goto out;
	/* the next launch compares with the new inodes */
	rc = write_binds(dirfd, name, rec->keeper, rec->start, b.v, b.n, err);
out:
	binds_free(&b);
	return rc;
}
