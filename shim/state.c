/* The state directory and its entries (see state.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "shim/state.h"

#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif
#ifndef __NR_pidfd_send_signal
#define __NR_pidfd_send_signal 424
#endif

int state_pidfd_open(pid_t pid)
{
	return (int)syscall(__NR_pidfd_open, pid, 0);
}

int state_pidfd_signal(int pidfd, int sig)
{
	return (int)syscall(__NR_pidfd_send_signal, pidfd, sig, NULL, 0);
}

/* ---- the directory */

static bool owned_dir(const char *path, uid_t uid)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == uid;
}

int state_dir_path(const char *conf_dir, char *buf, size_t size, nscell_error_t *err)
{
	uid_t uid = geteuid();
	const char *env = getenv("NSCELL_STATE_DIR");
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	char run_user[64];
	int n;
	snprintf(run_user, sizeof run_user, "/run/user/%u", (unsigned)uid);
	if (uid == 0)
		n = snprintf(buf, size, "%s", conf_dir ? conf_dir : "/run/nscell");
	else if (env && env[0] == '/')
		n = snprintf(buf, size, "%s", env);
	else if (xdg && xdg[0] == '/' && owned_dir(xdg, uid))
		n = snprintf(buf, size, "%s/nscell", xdg);
	else if (owned_dir(run_user, uid))
		n = snprintf(buf, size, "%s/nscell", run_user);
	else
		n = snprintf(buf, size, "/tmp/nscell-%u", (unsigned)uid);
	if (n < 0 || (size_t)n >= size)
		return nscell_error_set(err, ENAMETOOLONG, "state directory: path too long");
	return 0;
}

int state_dir_open(const char *path, bool create, nscell_error_t *err)
{
	uid_t uid = geteuid();
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create) {
		if (mkdir(path, 0700) < 0 && errno != EEXIST)
			return nscell_error_errno(err, errno, "state directory %s: create", path);
		fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (fd < 0)
		return nscell_error_errno(err, errno, "state directory %s", path);
	struct stat st;
	const char *bad = NULL;
	if (fstat(fd, &st) < 0)
		bad = "cannot stat it";
	else if (st.st_uid != uid)
		bad = uid == 0 ? "not owned by root" : "not owned by you";
	else if (st.st_mode & (S_IWGRP | S_IWOTH))
		bad = "writable by group or others";
	else if (uid != 0 && (st.st_mode & 077))
		bad = "accessible by group or others (it must be mode 0700)";
	if (bad) {
		close(fd);
		/* anyone who can write there could forge a sandbox for a user */
		return nscell_error_set(err, EPERM, "state directory %s: %s (mode %04o, owner %u): refused",
					path, bad, (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid);
	}
	return fd;
}

int state_subdir_open(int statefd, const char *name, bool create, nscell_error_t *err)
{
	if (create && mkdirat(statefd, name, 0700) < 0 && errno != EEXIST)
		return nscell_error_errno(err, errno, "mkdir %s", name);
	int fd = openat(statefd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return nscell_error_errno(err, errno, "%s", name);
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 077)) {
		close(fd);
		return nscell_error_set(err, EPERM, "%s: not a private directory of uid %u", name,
					(unsigned)geteuid());
	}
	return fd;
}

int state_plans_open(const char *conf_dir, nscell_error_t *err)
{
	char path[PATH_MAX];
	if (state_dir_path(conf_dir, path, sizeof path, err) < 0)
		return -1;
	_cleanup_close_ int dir = state_dir_open(path, true, err);
	if (dir < 0)
		return -1;
	int fd = state_subdir_open(dir, STATE_PLANS, true, err);
	if (fd < 0)
		nscell_error_wrap(err, "%s", path);
	return fd;
}

int state_plans_clear(int statefd)
{
	int fd = openat(statefd, STATE_PLANS, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return errno == ENOENT ? 0 : -1;
	}
	int n = 0;
	for (struct dirent *e; (e = readdir(d));)
		if (e->d_name[0] != '.' && unlinkat(dirfd(d), e->d_name, 0) == 0)
			n++;
	closedir(d);
	unlinkat(statefd, STATE_PLANS, AT_REMOVEDIR);
	return n;
}

int state_entry_name(uid_t uid, const char *vhost, char *buf, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	int n = snprintf(buf, size, "%u", (unsigned)uid);
	if (n < 0 || (size_t)n >= size)
		return -1;
	size_t k = (size_t)n;
	if (!vhost)
		return 0;
	if (k + 1 >= size)
		return -1;
	buf[k++] = '@';
	for (const unsigned char *p = (const unsigned char *)vhost; *p; p++) {
		bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			     (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
			     (*p == '.' && p != (const unsigned char *)vhost);
		if (k + (plain ? 1 : 3) >= size)
			return -1;
		if (plain) {
			buf[k++] = (char)*p;
		} else {
			buf[k++] = '%';
			buf[k++] = hex[*p >> 4];
			buf[k++] = hex[*p & 15];
		}
	}
	buf[k] = '\0';
	return 0;
}

/* ---- the lock */

static int lock_once(int dirfd, const char *name, bool create, char *path, size_t size,
		     nscell_error_t *err)
{
	snprintf(path, size, "%s/" STATE_LOCK, name);
	int fd = openat(dirfd, path, O_RDWR | O_NOFOLLOW | O_CLOEXEC | (create ? O_CREAT : 0), 0600);
	if (fd < 0 && errno == ENOENT && create) {
		if (mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST)
			return nscell_error_errno(err, errno, "state entry %s: create", name);
		fd = openat(dirfd, path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	}
	if (fd < 0)
		return nscell_error_errno(err, errno, "state entry %s: open %s", name, path);
	return fd;
}

/* still the file at NAME/lock (not unlinked by an unmount meanwhile) */
static bool lock_current(int dirfd, const char *path, int fd)
{
	struct stat a, b;
	return fstat(fd, &a) == 0 && fstatat(dirfd, path, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static long long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int take(int fd, int how, int timeout_ms, bool *told, state_wait_fn waiting, void *ctx,
		const char *path)
{
	if (flock(fd, how | LOCK_NB) == 0)
		return 0;
	if (errno != EWOULDBLOCK || timeout_ms == 0)
		return -1;
	if (waiting && !*told)
		waiting(ctx, path);
	*told = true;
	if (timeout_ms < 0) {
		int r;
		while ((r = flock(fd, how)) < 0 && errno == EINTR)
			;
		return r;
	}
	/* bounded: never hang behind a stuck holder */
	long long end = now_ms() + timeout_ms;
	while (now_ms() < end) {
		struct timespec nap = { 0, 5 * 1000000L };
		nanosleep(&nap, NULL);
		if (flock(fd, how | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK)
			return -1;
	}
	errno = EWOULDBLOCK;
	return -1;
}

int state_lock(int dirfd, const char *name, int how, bool create, int timeout_ms,
	       state_wait_fn waiting, void *ctx, nscell_error_t *err)
{
	char rel[STATE_NAME_MAX + 16];
	bool told = false;
	for (int tries = 0; tries < 100; tries++) {
		int fd = lock_once(dirfd, name, create, rel, sizeof rel, err);
		if (fd < 0)
			return -1;
		if (take(fd, how, timeout_ms, &told, waiting, ctx, rel) < 0) {
			int e = errno;
			close(fd);
			return nscell_error_errno(err, e, "state entry %s: lock", name);
		}
		if (lock_current(dirfd, rel, fd))
			return fd;
		close(fd); /* removed while we waited: lock the new one */
	}
	return nscell_error_set(err, EAGAIN, "state entry %s: its lock keeps being replaced", name);
}

/* ---- records */

static char *field(char *line, const char *key)
{
	size_t n = strlen(key);
	return strncmp(line, key, n) == 0 && line[n] == '=' ? line + n + 1 : NULL;
}

static int parse_rec(char *buf, struct state_rec *r)
{
	unsigned seen = 0;
	memset(r, 0, sizeof *r);
	for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *v, *end = NULL;
		if ((v = field(l, "keeper")))
			r->keeper = (pid_t)strtol(v, &end, 10), seen |= 1;
		else if ((v = field(l, "start")))
			r->start = strtoull(v, &end, 10), seen |= 2;
		else if ((v = field(l, "boot")))
			snprintf(r->boot, sizeof r->boot, "%s", v), seen |= 4;
		else if ((v = field(l, "created")))
			r->created = strtoll(v, &end, 10);
		else if ((v = field(l, "hash")))
			snprintf(r->hash, sizeof r->hash, "%s", v), seen |= 8;
		else if ((v = field(l, "user")))
			snprintf(r->user, sizeof r->user, "%s", v);
		else if ((v = field(l, "uid")))
			r->uid = (unsigned)strtoul(v, &end, 10), seen |= 16;
		else if ((v = field(l, "vhost")))
			snprintf(r->vhost, sizeof r->vhost, "%s", v);
		else if ((v = field(l, "ns")))
			r->ns = strtoul(v, &end, 0), seen |= 32;
		else if ((v = field(l, "rootless")))
			r->rootless = strcmp(v, "1") == 0;
		else if ((v = field(l, "cwd")))
			snprintf(r->cwd, sizeof r->cwd, "%s", v);
		if (end && *end)
			return -1;
	}
	if (r->cwd[0] != '/')
		snprintf(r->cwd, sizeof r->cwd, "/");
	return seen == 63 && r->keeper > 1 ? 0 : -1;
}

int state_read(int dirfd, const char *name, const char *file, struct state_rec *r,
	       nscell_error_t *err)
{
	char path[STATE_NAME_MAX + 64], buf[4096];
	snprintf(path, sizeof path, "%s/%s", name, file);
	_cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 && errno == ENOENT)
		return 1;
	if (fd < 0)
		return nscell_error_errno(err, errno, "state %s", path);
	size_t n = 0;
	for (;;) {
		ssize_t k = read(fd, buf + n, sizeof buf - 1 - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return nscell_error_errno(err, errno, "state %s", path);
		if (k == 0 || (n += (size_t)k) == sizeof buf - 1)
			break;
	}
	buf[n] = '\0';
	if (parse_rec(buf, r) < 0)
		return nscell_error_set(err, EINVAL, "state %s: malformed", path);
	return 0;
}

/* user and vhost names go on one line each */
static void one_line(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src);
	for (char *p = dst; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = '?';
}

int state_write(int dirfd, const char *name, const struct state_rec *r, nscell_error_t *err)
{
	char tmp[STATE_NAME_MAX + 32], dst[STATE_NAME_MAX + 32], buf[4096], user[256], vhost[256];
	char cwd[sizeof r->cwd];
	snprintf(tmp, sizeof tmp, "%s/" STATE_TMP, name);
	snprintf(dst, sizeof dst, "%s/" STATE_FILE, name);
	one_line(user, sizeof user, r->user);
	one_line(vhost, sizeof vhost, r->vhost);
	one_line(cwd, sizeof cwd, r->cwd);
	int n = snprintf(buf, sizeof buf,
			 "version=1\nkeeper=%d\nstart=%llu\nboot=%s\ncreated=%lld\nhash=%s\n"
			 "user=%s\nuid=%u\nvhost=%s\nns=%#lx\nrootless=%d\ncwd=%s\n",
			 (int)r->keeper, r->start, r->boot, r->created, r->hash, user, r->uid, vhost,
			 r->ns, r->rootless ? 1 : 0, cwd);
	_cleanup_close_ int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
					0600);
	if (fd < 0)
		return nscell_error_errno(err, errno, "state %s: create", tmp);
	ssize_t w = write(fd, buf, (size_t)n);
	if (w != n)
		return nscell_error_errno(err, w < 0 ? errno : EIO, "state %s: write", tmp);
	if (renameat(dirfd, tmp, dirfd, dst) < 0)
		return nscell_error_errno(err, errno, "state %s: rename to %s", tmp, dst);
	return 0;
}

int state_retire(int dirfd, const char *name, const struct state_rec *r, nscell_error_t *err)
{
	char from[STATE_NAME_MAX + 32], to[STATE_NAME_MAX + 48];
	snprintf(from, sizeof from, "%s/" STATE_FILE, name);
	snprintf(to, sizeof to, "%s/" STATE_RETIRED "%d", name, (int)r->keeper);
	if (renameat(dirfd, from, dirfd, to) < 0)
		return nscell_error_errno(err, errno, "state %s: move aside to %s", from, to);
	return 0;
}

int state_unlink(int dirfd, const char *name, const char *file)
{
	char path[STATE_NAME_MAX + 64];
	snprintf(path, sizeof path, "%s/%s", name, file);
	return unlinkat(dirfd, path, 0) < 0 && errno != ENOENT ? -1 : 0;
}

static bool is_record(const char *file)
{
	return strcmp(file, STATE_FILE) == 0 || strncmp(file, STATE_RETIRED, strlen(STATE_RETIRED)) == 0;
}

int state_remove_entry(int dirfd, const char *name)
{
	nscell_error_t err;
	char **recs = state_records(dirfd, name, &err);
	bool left = !recs || recs[0];
	state_records_free(recs);
	if (left)
		return 1;
	state_unlink(dirfd, name, STATE_TMP);
	state_unlink(dirfd, name, STATE_BINDS);
	state_unlink(dirfd, name, STATE_BINDS ".tmp");
	state_unlink(dirfd, name, STATE_LOCK);
	/* anything else in there is not ours to delete: then it stays */
	return unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT ? 1 : 0;
}

char **state_records(int dirfd, const char *name, nscell_error_t *err)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		nscell_error_errno(err, errno, "state entry %s", name);
		return NULL;
	}
	size_t n = 0, cap = 4;
	char **v = calloc(cap, sizeof *v);
	bool oom = !v;
	struct dirent *e;
	while (!oom && (e = readdir(d))) {
		if (!is_record(e->d_name))
			continue;
		if (n + 2 > cap) {
			char **nv = realloc(v, (cap *= 2) * sizeof *v);
			if (!(oom = !nv))
				v = nv;
		}
		if (!oom && !(oom = !(v[n] = strdup(e->d_name))))
			v[++n] = NULL;
	}
	closedir(d);
	if (oom) {
		state_records_free(v);
		nscell_error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	return v;
}

void state_records_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* ---- the keeper */

const char *state_boot_id(void)
{
	static char id[40];
	if (id[0])
		return id;
	_cleanup_close_ int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, id, sizeof id - 1);
	if (n <= 0) {
		snprintf(id, sizeof id, "unknown");
		return id;
	}
	id[n] = '\0';
	id[strcspn(id, "\n")] = '\0';
	return id;
}

int state_proc_start(pid_t pid, unsigned long long *start, char *comm, size_t size)
{
	char path[32], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* "PID (COMM) S PPID ...": COMM may hold anything, even ") " */
	char *open_paren = strchr(buf, '('), *close_paren = strrchr(buf, ')');
	if (!open_paren || !close_paren || close_paren < open_paren)
		return -1;
	if (comm)
		snprintf(comm, size, "%.*s", (int)(close_paren - open_paren - 1), open_paren + 1);
	/* field 3 (state) follows ") "; start time is field 22 */
	char *p = close_paren + 1;
	for (int f = 3; f <= 22; f++) {
		while (*p == ' ')
			p++;
		if (!*p)
			return -1;
		if (f == 22) {
			char *end;
			*start = strtoull(p, &end, 10);
			return end == p ? -1 : 0;
		}
		p += strcspn(p, " ");
	}
	return -1;
}

int state_keeper_open(const struct state_rec *r, const char **why)
{
	if (strcmp(r->boot, state_boot_id()) != 0) {
		*why = "built before a reboot";
		return -1;
	}
	int fd = state_pidfd_open(r->keeper);
	if (fd < 0) {
		*why = errno == ESRCH ? "its keeper is not running" : "its keeper cannot be opened";
		return -1;
	}
	/* the pidfd pins the process: if it is still alive after the read,
	 * what we read was its start time, not that of a later holder of
	 * the pid */
	unsigned long long start;
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	if (state_proc_start(r->keeper, &start, NULL, 0) < 0 || poll(&pf, 1, 0) != 0) {
		*why = "its keeper is not running";
	} else if (start != r->start) {
		*why = "its keeper's pid belongs to another process now";
	} else {
		return fd;
	}
	close(fd);
	return -1;
}
