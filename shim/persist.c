/* -p: persisted sandboxes, the shim's side.
 *
 * A warm launch takes its entry's lock shared, reads the record, checks
 * the keeper behind it (pidfd, start time, boot id) and that nothing the
 * sandbox was made from has changed, then joins it (join.c): no mount, no
 * template parsed.  "Changed" is a hash of the raw bytes of nscell.conf
 * and the templates, and of the user's passwd and group entries, kept in
 * the record; ~/.nscell_reload (or LiteSpeed's ~/.lsns_reload), removed
 * with the user's own credentials, asks for a rebuild too.
 *
 * Anything else takes the lock exclusively, looks again (another launch
 * may have built it meanwhile), retires an out-of-date sandbox (its
 * processes keep running, its keeper exits after the last one), drops a
 * stale record, builds a new sandbox with a keeper as its pid 1 (launch.c),
 * records it, lets the keeper go on, and joins it like any other launch.
 * A launch killed at any step leaves either no record, or one whose keeper
 * is gone (the keeper dies with its launch until it is recorded), which
 * the next launch finds stale and replaces. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shim/keeper.h"
#include "shim/refresh.h"
#include "shim/shim.h"
#include "shim/state.h"
#include "translate/conf.h"
#include "translate/fnv.h"
#include "translate/load.h"
#include "translate/resolve.h"
#include "translate/template.h"

#ifndef NSCELL_LIBEXECDIR
#define NSCELL_LIBEXECDIR "/usr/local/libexec/nscell"
#endif

struct persist {
	struct shim *s;
	struct nscell_conf *conf;
	struct load_opts *lo;
	struct diags *d;
	char dir[PATH_MAX]; /* the state directory */
	int dirfd;
	char name[STATE_NAME_MAX];
	char hash[STATE_HASH_LEN + 1];
	char default_cwd[1024]; /* of a build: the plan's cwd without -d */
	char label[PATH_MAX + STATE_NAME_MAX + 2]; /* STATE/ENTRY, its keeper's name */
	sigset_t waited;
};

/* ---- what the sandbox is made from: FNV-1a over raw bytes, no parsing */

static void fnv_file(uint64_t *h, const char *path)
{
	char buf[8192];
	uint64_t total = 0;
	fnv_str(h, path);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		fnv_str(h, "(unreadable)");
		return;
	}
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		fnv(h, buf, (size_t)n);
		total += (uint64_t)n;
	}
	fnv(h, &total, sizeof total);
}

static void sandbox_hash(struct persist *c)
{
	const struct nscell_conf *conf = c->conf;
	const struct load_opts *lo = c->lo;
	const struct plan_identity *id = &c->s->plan->id;
	const struct conf_vhost *vh = lo->vhost ? conf_find_vhost(conf, lo->vhost) : NULL;
	const char *server = lo->server_tpl ? lo->server_tpl : conf->server_template;
	const char *vhost = lo->vhost_tpl ? lo->vhost_tpl : vh ? vh->template : NULL;
	uint64_t h = FNV_OFFSET;
	unsigned char rootless = c->s->rootless;
	fnv_str(&h, "nscell persisted sandbox 1");
	/* a new nscell builds sandboxes anew: an upgrade (a security fix) must
	 * not leave the old ones joined */
	fnv_str(&h, PACKAGE_VERSION);
	fnv(&h, &rootless, 1);
	if (conf->file)
		fnv_file(&h, conf->file);
	else
		fnv_str(&h, "(no nscell.conf)");
	if (server)
		fnv_file(&h, server);
	else
		fnv_str(&h, nscell_default_template);
	if (vhost)
		fnv_file(&h, vhost);
	else
		fnv_str(&h, "(no vhost template)");
	fnv_str(&h, lo->vhost);
	/* the user's entry: the uid and gid maps, /etc/passwd and /etc/group
	 * inside were made from it */
	fnv_str(&h, id->user);
	fnv_str(&h, id->group);
	fnv(&h, &id->uid, sizeof id->uid);
	fnv(&h, &id->gid, sizeof id->gid);
	fnv_str(&h, id->home);
	fnv_str(&h, id->shell);
	fnv(&h, &id->ngroups, sizeof id->ngroups);
	fnv(&h, id->groups, id->ngroups * sizeof *id->groups);
	snprintf(c->hash, sizeof c->hash, "%016llx", (unsigned long long)h);
}

/* ~/.nscell_reload or ~/.lsns_reload: removed (never followed: unlinkat
 * removes a symlink itself) as the user, so that nothing the user could
 * not remove is; true when one was there.  warm_only (libnscell): only
 * looked at, the build (nscell-shim -p) removes it. */
static bool reload_files(struct persist *c, bool remove)
{
	static const char *const names[] = { ".nscell_reload", ".lsns_reload" };
	struct shim *s = c->s;
	bool found = false;
	int home = open(s->plan->id.home, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	for (size_t i = 0; home >= 0 && i < sizeof names / sizeof *names; i++)
		if (remove ? unlinkat(home, names[i], 0) == 0 :
			     fstatat(home, names[i], &st, AT_SYMLINK_NOFOLLOW) == 0) {
			if (remove)
				shim_log(s, NULL, "~/%s was there (removed): the user asks for a new "
					 "sandbox", names[i]);
			found = true;
		}
	if (home >= 0)
		close(home);
	return found;
}

static bool reload_requested(struct persist *c)
{
	struct shim *s = c->s;
	nscell_error_t e;
	if (s->rootless)
		return reload_files(c, !s->warm_only);
	/* a look with our own ids first, which follows and changes nothing:
	 * none there (the usual case), none the user could remove or see */
	if (!reload_files(c, false))
		return false;
	if (creds_fs_as_user(s, &e) < 0)
		return false;
	bool found = reload_files(c, !s->warm_only);
	creds_fs_restore();
	if (found && s->warm_only)
		shim_log(s, NULL, "~/.nscell_reload or ~/.lsns_reload is there: the user asks for a "
			 "new sandbox");
	return found;
}

/* ---- records */

static void lock_wait_log(void *ctx, const char *path)
{
	struct persist *c = ctx;
	shim_log(c->s, NULL, "waiting for the lock %s/%s (another launch holds it)", c->dir, path);
}

/* The current record, and a pidfd of its keeper when that is alive (else
 * -1).  *had: there was a record. */
static int current(struct persist *c, struct state_rec *r, bool *had)
{
	nscell_error_t e = { 0 };
	const char *why;
	int rc = state_read(c->dirfd, c->name, STATE_FILE, r, &e);
	*had = rc != 1;
	if (rc == 1)
		return -1;
	if (rc < 0) {
		shim_log(c->s, NULL, "%s: stale", e.msg);
		return -1;
	}
	int fd = state_keeper_open(r, &why);
	if (fd < 0)
		shim_log(c->s, NULL, "the sandbox of keeper pid %d is stale: %s", (int)r->keeper, why);
	return fd;
}

static bool up_to_date(struct persist *c, const struct state_rec *r)
{
	if (r->rootless == c->s->rootless && strcmp(r->hash, c->hash) == 0)
		return true;
	shim_log(c->s, NULL, "templates, nscell.conf or the user's entry changed (hash %s, now %s)", r->hash,
		 c->hash);
	return false;
}

/* Out of date: new launches get a new sandbox, the old one's processes
 * keep running and its keeper goes when they are gone. */
static void retire(struct persist *c, const struct state_rec *r, int pidfd)
{
	nscell_error_t e = { 0 };
	if (state_retire(c->dirfd, c->name, r, &e) < 0) {
		shim_log(c->s, NULL, "%s: removing it instead", e.msg);
		state_unlink(c->dirfd, c->name, STATE_FILE);
	}
	state_pidfd_signal(pidfd, KEEPER_RETIRE_SIGNAL);
	shim_log(c->s, NULL, "retired the sandbox of keeper pid %d: it ends with its last process",
		 (int)r->keeper);
}

/* retired records whose keeper has gone */
static void sweep(struct persist *c)
{
	nscell_error_t e;
	char **recs = state_records(c->dirfd, c->name, &e);
	for (size_t i = 0; recs && recs[i]; i++) {
		struct state_rec r;
		const char *why;
		if (strncmp(recs[i], STATE_RETIRED, strlen(STATE_RETIRED)) != 0)
			continue;
		int fd = state_read(c->dirfd, c->name, recs[i], &r, &e) == 0 ? state_keeper_open(&r, &why) : -1;
		if (fd >= 0)
			close(fd);
		else
			state_unlink(c->dirfd, c->name, recs[i]);
	}
	state_records_free(recs);
}

/* ---- building */

/* nscell-keeper next to the shim (a build tree), else in the libexec dir.
 * *fd -1 when there is none: the shim keeps the sandbox itself. */
static int open_keeper(struct shim *s, int *fd, nscell_error_t *err)
{
	char path[PATH_MAX + 32];
	shim_sibling(KEEPER_COMM, NSCELL_LIBEXECDIR, path, sizeof path);
	*fd = open(path, O_PATH | O_CLOEXEC);
	if (*fd < 0) {
		shim_log(s, NULL, "no %s (%s): the shim itself keeps the sandbox", path, strerror(errno));
		return 0;
	}
	struct stat st;
	/* it runs as the sandbox's root: only root (or the caller) may have made it */
	if (fstat(*fd, &st) < 0 || !S_ISREG(st.st_mode) || (st.st_uid != 0 && st.st_uid != geteuid()) ||
	    (st.st_mode & (S_IWGRP | S_IWOTH))) {
		close(*fd);
		*fd = -1;
		return nscell_error_set(err, EPERM, "%s: not a regular file owned by root (or you) and "
					"writable by nobody else: refused", path);
	}
	return 0;
}

/* the whole plan, templates included, in place of the warm one; the cwd
 * a command gets without -d is kept for the record */
static int load_full_plan(struct persist *c, nscell_error_t *err)
{
	struct shim *s = c->s;
	const char *cwd = c->lo->cwd;
	plan_free(s->plan);
	diags_free(c->d);
	diags_init(c->d);
	c->lo->no_templates = false;
	c->lo->cwd = NULL;
	int r = plan_load(s->plan, c->conf, c->lo, c->d, err);
	c->lo->cwd = cwd;
	if (c->d->nerrors || (s->verbose && c->d->nwarnings))
		diags_print(c->d, stderr);
	if (r < 0 && c->d->nerrors)
		err->msg[0] = '\0';
	if (r < 0)
		return -1;
	snprintf(c->default_cwd, sizeof c->default_cwd, "%s", s->plan->proc.cwd);
	if (cwd) {
		free(s->plan->proc.cwd);
		if (!(s->plan->proc.cwd = resolve_normalise(cwd)))
			return nscell_error_set(err, 0, "working directory '%s': not an absolute path "
						"without '..'", cwd);
	}
	if (s->interactive && shim_make_interactive(s->plan, err) < 0)
		return -1;
	return 0;
}

/* join a sandbox built before: without -d the command starts where the
 * build said (the home if the sandbox has it) */
static int join_current(struct persist *c, const struct state_rec *r, int pidfd, int *lockfd,
			nscell_error_t *err)
{
	struct plan *p = c->s->plan;
	if (!c->lo->cwd) {
		free(p->proc.cwd);
		if (!(p->proc.cwd = strdup(r->cwd)))
			return nscell_error_set(err, ENOMEM, "out of memory");
	}
	return shim_join(c->s, r->keeper, pidfd, r->ns, lockfd, &c->waited, err);
}

/* Files bound into the sandbox that were replaced on the host since:
 * bound afresh (a failure is said, the launch goes on with the old
 * ones); true when the sandbox must be rebuilt for them instead. */
static bool refresh_binds(struct persist *c, const struct state_rec *r, int pidfd)
{
	nscell_error_t err = { 0 };
	bool rebuild;
	if (binds_refresh(c->s, c->dirfd, c->name, r, pidfd, &rebuild, &err) < 0)
		fprintf(stderr, "nscell-shim: warning: %s\n", err.msg);
	return rebuild;
}

/* The keeper closes its end once it has dropped its parent-death signal:
 * only then may this launch end without taking the sandbox with it. */
static bool keeper_committed(int commit)
{
	char x;
	ssize_t n;
	while ((n = read(commit, &x, 1)) < 0 && errno == EINTR)
		;
	return n == 0;
}

static int build(struct persist *c, struct state_rec *r, int *pidfd, nscell_error_t *err)
{
	struct shim *s = c->s;
	int keeper_fd, commit = -1;
	pid_t pid;
	if (load_full_plan(c, err) < 0 || open_keeper(s, &keeper_fd, err) < 0)
		return -1;
	s->persist = true;
	s->keeper_fd = keeper_fd;
	snprintf(c->label, sizeof c->label, "%s/%s", c->dir, c->name);
	s->keeper_label = c->label;
	int rc = shim_build(s, &pid, &commit, err);
	if (keeper_fd >= 0)
		close(keeper_fd);
	s->keeper_fd = -1;
	if (rc < 0)
		return -1;
	memset(r, 0, sizeof *r);
	r->keeper = pid;
	snprintf(r->boot, sizeof r->boot, "%s", state_boot_id());
	r->created = (long long)time(NULL);
	snprintf(r->hash, sizeof r->hash, "%s", c->hash);
	snprintf(r->user, sizeof r->user, "%s", s->plan->id.user);
	r->uid = (unsigned)s->plan->id.uid;
	snprintf(r->vhost, sizeof r->vhost, "%s", s->plan->vhost ? s->plan->vhost : "");
	r->ns = s->ns_flags;
	r->rootless = s->rootless;
	snprintf(r->cwd, sizeof r->cwd, "%s", c->default_cwd);
	/* our child, not reaped: its pid cannot be anyone else's yet */
	rc = -1;
	*pidfd = state_pidfd_open(pid);
	if (*pidfd < 0)
		nscell_error_errno(err, errno, "pidfd of the keeper");
	else if (state_proc_start(pid, &r->start, NULL, 0) < 0)
		nscell_error_set(err, ESRCH, "the keeper (pid %d) died", (int)pid);
	else if (binds_record(s->plan, c->dirfd, c->name, pid, r->start, err) < 0)
		;
	else if (state_write(c->dirfd, c->name, r, err) < 0)
		;
	else if (shim_write_all(commit, (char[]){ KEEPER_COMMIT }, 1) < 0)
		nscell_error_errno(err, errno, "start the keeper");
	else if (!keeper_committed(commit))
		nscell_error_set(err, ESRCH, "the keeper (pid %d) died", (int)pid);
	else
		rc = 0;
	close(commit);
	if (rc < 0) {
		if (*pidfd >= 0)
			close(SHIM_TAKE_FD(*pidfd));
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		state_unlink(c->dirfd, c->name, STATE_FILE);
		return -1;
	}
	shim_log(s, NULL, "built: keeper pid %d recorded in %s/%s/" STATE_FILE, (int)pid, c->dir, c->name);
	return 0;
}

/* ---- a launch */

static int no_sandbox(struct persist *c, nscell_error_t *err)
{
	const struct plan *p = c->s->plan;
	return nscell_error_set(err, ENOENT, "no persisted sandbox of %s%s%s is running (%s/%s)", p->id.user,
				p->vhost ? " for vhost " : "", p->vhost ? p->vhost : "", c->dir, c->name);
}

/* warm_only: what would be built is the caller's to build (nscell-shim -p) */
static int not_warm(struct persist *c, bool had, nscell_error_t *err)
{
	c->s->cold = true;
	if (!had)
		return no_sandbox(c, err);
	return nscell_error_set(err, ESTALE, "the persisted sandbox of %s (%s/%s) is stale or out of date",
				c->s->plan->id.user, c->dir, c->name);
}

static int attempt(struct persist *c, bool enter, nscell_error_t *err)
{
	struct shim *s = c->s;
	struct state_rec r, seen = { 0 };
	bool had;
	bool create = !enter && !s->warm_only;
	_cleanup_close_ int lockfd = state_lock(c->dirfd, c->name, LOCK_SH, create, -1, lock_wait_log, c, err);
	if (lockfd < 0 && s->warm_only && err->errnum == ENOENT)
		return not_warm(c, false, err);
	if (lockfd < 0)
		return enter && err->errnum == ENOENT ? no_sandbox(c, err) : -1;
	if (enter) {
		_cleanup_close_ int pidfd = current(c, &r, &had);
		if (pidfd < 0)
			return no_sandbox(c, err);
		return join_current(c, &r, pidfd, &lockfd, err);
	}
	bool reload = reload_requested(c);
	int pidfd = current(c, &r, &had);
	if (pidfd >= 0 && !reload && up_to_date(c, &r)) {
		if (!refresh_binds(c, &r, pidfd)) {
			shim_log(s, NULL, "warm: keeper pid %d, built %lld s ago", (int)r.keeper,
				 (long long)time(NULL) - r.created);
			int rc = join_current(c, &r, pidfd, &lockfd, err);
			close(pidfd);
			return rc;
		}
		reload = true; /* a bound file changed and cannot be bound afresh */
	}
	if (s->warm_only) {
		if (pidfd >= 0)
			close(pidfd);
		return not_warm(c, had, err);
	}
	if (pidfd >= 0) {
		seen = r;
		close(pidfd);
	}
	close(SHIM_TAKE_FD(lockfd));
	lockfd = state_lock(c->dirfd, c->name, LOCK_EX, true, -1, lock_wait_log, c, err);
	if (lockfd < 0)
		return -1;
	pidfd = current(c, &r, &had);
	if (pidfd >= 0) {
		bool same = seen.keeper == r.keeper && seen.start == r.start;
		if (!(reload && same) && up_to_date(c, &r)) {
			/* built by another launch while we waited for the lock */
			shim_log(s, NULL, "keeper pid %d is new: joining it", (int)r.keeper);
			int rc = join_current(c, &r, pidfd, &lockfd, err);
			close(pidfd);
			return rc;
		}
		retire(c, &r, pidfd);
		close(pidfd);
	} else if (had) {
		state_unlink(c->dirfd, c->name, STATE_FILE);
	}
	sweep(c);
	if (build(c, &r, &pidfd, err) < 0)
		return -1;
	int rc = shim_join(s, r.keeper, pidfd, r.ns, &lockfd, &c->waited, err);
	close(pidfd);
	return rc;
}

int shim_persist(struct shim *s, struct nscell_conf *conf, struct load_opts *lo, struct diags *d,
		 bool enter, nscell_error_t *err)
{
	struct persist c = { .s = s, .conf = conf, .lo = lo, .d = d, .dirfd = -1 };
	int rc = -1;
	/* no_wait (libnscell): the caller's signals are its own */
	if (!s->no_wait && shim_block_signals(s, &c.waited, err) < 0)
		return -1;
	if (state_dir_path(conf->state_dir, c.dir, sizeof c.dir, err) < 0)
		return -1;
	if (state_entry_name(s->plan->id.uid, s->plan->vhost, c.name, sizeof c.name) < 0)
		return nscell_error_set(err, ENAMETOOLONG, "vhost name too long for the state directory");
	if ((c.dirfd = state_dir_open(c.dir, !enter && !s->warm_only, err)) < 0) {
		if (s->warm_only && err->errnum == ENOENT)
			s->cold = true;
		return (enter || s->warm_only) && err->errnum == ENOENT ? no_sandbox(&c, err) : -1;
	}
	if (!enter)
		sandbox_hash(&c);
	shim_log(s, NULL, "persisted sandbox %s/%s%s%s", c.dir, c.name, enter ? "" : ", hash ", c.hash);
	for (int tries = 0; tries < 2; tries++) {
		rc = attempt(&c, enter, err);
		if (rc != -2 || enter)
			break;
		/* killed between our check and our joining: it is stale now */
		shim_log(s, NULL, "%s: the keeper is gone, once more", err->msg);
		err->msg[0] = '\0';
	}
	close(c.dirfd);
	if (s->want_cgroup)
		cgroup_release(s, rc < 0);
	return rc < 0 ? -1 : rc;
}
