/* nscell unmount: retire (or with --kill end) persisted sandboxes, and
 * with -a the plan cache too; nscell enter: join one through the shim.
 * unmount never waits for ever: a lock it cannot get within
 * LOCK_TIMEOUT_MS is reported busy, a keeper that does not die within
 * EXIT_TIMEOUT_MS is reported and left. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include <dirent.h>

#include "cli/persisted.h"
#include "cli/runc.h"
#include "shim/keeper.h"

#define LOCK_TIMEOUT_MS 5000
#define EXIT_TIMEOUT_MS 5000

static bool wait_exit(int pidfd, int ms)
{
	struct pollfd pf = { .fd = pidfd, .events = POLLIN };
	return poll(&pf, 1, ms) == 1;
}

static void describe(const struct sandbox *sb, char *buf, size_t size)
{
	snprintf(buf, size, "%s (uid %u%s%s, keeper %d%s)", sb->r.user, sb->r.uid,
		 sb->r.vhost[0] ? ", vhost " : "", sb->r.vhost, (int)sb->r.keeper,
		 sb->retired ? ", retired" : "");
}

/* What runs in each sandbox, counted in one pass over /proc before
 * unmount takes the entries one by one: a pass per sandbox made
 * `unmount -a` quadratic (2,000 sandboxes: 27 s). */
struct census {
	struct sandbox *v;
	size_t n;
};

/* sb's processes from the census, or counted now for a keeper it has
 * not seen (a sandbox built meanwhile) */
static void count_one(const struct census *cs, struct sandbox *sb)
{
	for (size_t i = 0; cs && i < cs->n; i++) {
		const struct sandbox *c = &cs->v[i];
		if (c->live && c->r.keeper == sb->r.keeper && c->r.start == sb->r.start) {
			sb->procs = c->procs;
			snprintf(sb->inside, sizeof sb->inside, "%s", c->inside);
			return;
		}
	}
	sandboxes_count_inside(sb, 1, true);
}

/* end one record: its keeper (killed, or retired) and the file; 0 or 1 */
static int unmount_record(const struct popts *o, int dirfd, const struct census *cs,
			  struct sandbox *sb)
{
	char what[600];
	const char *inside = sb->inside;
	const char *why;
	nscell_error_t err = { 0 };
	bool keep = false; /* its processes still run: the record stays, retired */
	int rc = 0;
	int pidfd = sb->readable ? state_keeper_open(&sb->r, &why) : -1;
	describe(sb, what, sizeof what);
	if (pidfd < 0) {
		if (o->verbose)
			printf("%s: stale record %s/%s removed\n", what, sb->entry, sb->file);
	} else {
		sb->live = true;
		count_one(cs, sb);
		if (o->kill) {
			/* pid 1 gone: the kernel kills everything in its pid namespace */
			state_pidfd_signal(pidfd, SIGKILL);
			if (!wait_exit(pidfd, EXIT_TIMEOUT_MS)) {
				fprintf(stderr, "nscell unmount: %s: the keeper did not exit\n", what);
				rc = 1;
			} else if (o->verbose || sb->procs) {
				printf("%s: killed%s%s\n", what, sb->procs ? ": " : "", inside);
			}
		} else {
			state_pidfd_signal(pidfd, KEEPER_RETIRE_SIGNAL);
			if (sb->procs) {
				/* kept aside: ls shows it, unmount --kill still reaches it */
				printf("%s: retired; still running: %s (the sandbox ends with them; "
				       "--kill ends them now)\n", what, inside);
				keep = true;
			} else if (!wait_exit(pidfd, EXIT_TIMEOUT_MS)) {
				printf("%s: retired; its keeper has not exited yet\n", what);
				keep = true;
			} else if (o->verbose) {
				printf("%s: unmounted\n", what);
			}
		}
		close(pidfd);
	}
	if (keep && !sb->retired && state_retire(dirfd, sb->entry, &sb->r, &err) < 0) {
		fprintf(stderr, "nscell unmount: %s\n", err.msg);
		rc = 1;
	}
	if (rc == 0 && !keep && state_unlink(dirfd, sb->entry, sb->file) < 0) {
		fprintf(stderr, "nscell unmount: remove %s/%s: %s\n", sb->entry, sb->file, strerror(errno));
		rc = 1;
	}
	return rc;
}

static void lock_wait_log(void *ctx, const char *path)
{
	const struct popts *o = ctx;
	if (o->verbose)
		printf("waiting for the lock %s (at most %d s)\n", path, LOCK_TIMEOUT_MS / 1000);
}

static int unmount_entry(const struct popts *o, int dirfd, const struct census *cs,
			 const char *entry)
{
	nscell_error_t err = { 0 };
	int lockfd = state_lock(dirfd, entry, LOCK_EX, false, LOCK_TIMEOUT_MS, lock_wait_log, (void *)o,
				&err);
	if (lockfd < 0 && err.errnum == ENOENT)
		return 0; /* gone meanwhile */
	if (lockfd < 0) {
		fprintf(stderr, "nscell unmount: %s%s\n", err.msg,
			err.errnum == EWOULDBLOCK ? " (busy: a launch holds it)" : "");
		return 1;
	}
	size_t n = 0;
	int rc = 0;
	struct sandbox *sbs = sandboxes_load(dirfd, NULL, entry, &n);
	for (size_t i = 0; i < n; i++)
		rc |= unmount_record(o, dirfd, cs, &sbs[i]);
	free(sbs);
	/* left when a retired sandbox still has processes */
	state_remove_entry(dirfd, entry);
	close(lockfd);
	return rc;
}

/* USER or UID → the uid as a string */
static int resolve_uid(const struct popts *o, char *buf, size_t size)
{
	char *end;
	unsigned long v = strtoul(o->user, &end, 10);
	if (*o->user && !*end && v <= UINT_MAX) {
		snprintf(buf, size, "%lu", v);
		return 0;
	}
	struct passwd *pw = getpwnam(o->user);
	if (!pw) {
		fprintf(stderr, "nscell %s: unknown user '%s'\n", o->cmd, o->user);
		return -1;
	}
	snprintf(buf, size, "%u", (unsigned)pw->pw_uid);
	return 0;
}

/* end (--kill) or retire the orphaned keepers among sbs; 0 or 1 */
static int unmount_orphans(const struct popts *o, const struct sandbox *sbs, size_t n)
{
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		const struct sandbox *sb = &sbs[i];
		unsigned long long start;
		if (!sb->orphan)
			continue;
		int pidfd = state_pidfd_open(sb->r.keeper);
		if (pidfd < 0 || state_proc_start(sb->r.keeper, &start, NULL, 0) < 0 || start != sb->r.start) {
			if (pidfd >= 0)
				close(pidfd);
			continue; /* gone meanwhile */
		}
		state_pidfd_signal(pidfd, o->kill ? SIGKILL : KEEPER_RETIRE_SIGNAL);
		if (o->kill && !wait_exit(pidfd, EXIT_TIMEOUT_MS)) {
			fprintf(stderr, "nscell unmount: orphaned keeper pid %d (%s) did not exit\n",
				(int)sb->r.keeper, sb->entry);
			rc = 1;
		} else {
			printf("keeper pid %d of %s, whose state entry was gone: %s\n", (int)sb->r.keeper,
			       sb->entry, o->kill ? "killed" : "retired (it ends with its last process)");
		}
		close(pidfd);
	}
	return rc;
}

int cmd_unmount(struct cli *c)
{
	struct popts o = { .cmd = c->cmd };
	char path[PATH_MAX], uid[32], exact[STATE_NAME_MAX];
	int rc = popts_parse(c, &o, "C:u:s:av");
	if (rc)
		return rc;
	if (o.all == (o.user != NULL) || (o.vhost && !o.user))
		return popts_usage_error(&o, "give -u USER [-s VHOST] or -a");
	if (o.user && resolve_uid(&o, uid, sizeof uid) < 0)
		return NSCELL_EXIT_USAGE;
	if (o.vhost && state_entry_name((uid_t)strtoul(uid, NULL, 10), o.vhost, exact, sizeof exact) < 0)
		return popts_usage_error(&o, "vhost name too long");
	int dirfd = popts_state_dir(&o, path, sizeof path);
	if (dirfd == -2)
		return NSCELL_EXIT_USAGE;
	const char *sel_uid = o.user ? uid : NULL, *sel_exact = o.vhost ? exact : NULL;
	/* the records and what runs in them first (one pass over /proc),
	 * then the entries one at a time under their locks; then keepers
	 * whose entry is gone */
	struct census cs = { 0 };
	cs.v = sandboxes_load(dirfd, sel_uid, sel_exact, &cs.n);
	sandboxes_count_inside(cs.v, cs.n, true);
	cs.v = sandboxes_add_orphans(cs.v, &cs.n, path, sel_uid, sel_exact);
	if (dirfd < 0) {
		if (o.verbose)
			printf("no state directory %s: nothing persisted\n", path);
		rc = unmount_orphans(&o, cs.v, cs.n);
		free(cs.v);
		return rc ? NSCELL_EXIT_NOT_SO : 0;
	}
	DIR *d = fdopendir(dup(dirfd));
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	if (d)
		rewinddir(d); /* the offset is shared with load_all's dup */
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.' || !entry_selected(e->d_name, sel_uid, sel_exact))
			continue;
		if (n == cap) {
			char **nv = realloc(names, (cap = cap ? cap * 2 : 16) * sizeof *names);
			if (!nv)
				break;
			names = nv;
		}
		if (!(names[n] = strdup(e->d_name)))
			break;
		n++;
	}
	if (d)
		closedir(d);
	if (n == 0 && o.verbose)
		printf("nothing persisted for %s\n", o.user ? o.user : "anyone");
	for (size_t i = 0; i < n; i++) {
		rc |= unmount_entry(&o, dirfd, &cs, names[i]);
		free(names[i]);
	}
	free(names);
	rc |= unmount_orphans(&o, cs.v, cs.n);
	free(cs.v);
	/* and the containers runc runs for them (cli/runc.c) */
	rc |= runc_unmount(dirfd, o.user ? (long)strtoul(uid, NULL, 10) : -1, o.vhost, o.kill,
			   o.verbose);
	/* -a leaves nothing: the plan cache goes too (the next launches
	 * resolve again) */
	int plans = o.all ? state_plans_clear(dirfd) : 0;
	if (plans > 0 && o.verbose)
		printf("plan cache: %d entr%s removed\n", plans, plans == 1 ? "y" : "ies");
	close(dirfd);
	return rc ? NSCELL_EXIT_NOT_SO : 0;
}

/* ---- enter: the shim joins (its --enter), with the same options */

int cmd_enter(struct cli *c)
{
	/* a container runc runs, when the shim has no sandbox for the user */
	int status = runc_enter_instead(c->argv);
	if (status >= 0)
		return status;
	return cli_exec_shim(c, (char *[]){ "--enter", NULL });
}
