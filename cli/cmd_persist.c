/* nscell ls, unmount and enter: persisted sandboxes from the admin's side
 * (the shim's side is shim/persist.c; both read shim/state.c's records).
 *
 * ls and unmount are the only places that scan: the state directory, and
 * /proc once to count (or list) the processes inside each sandbox's pid
 * namespace.  unmount never waits for ever: a lock it cannot get within
 * LOCK_TIMEOUT_MS is reported busy, a keeper that does not die within
 * EXIT_TIMEOUT_MS is reported and left. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "cli/cli.h"
#include "cli/keepers.h"
#include "cli/runc.h"
#include "shim/keeper.h"
#include "shim/state.h"

#define LOCK_TIMEOUT_MS 5000
#define EXIT_TIMEOUT_MS 5000

struct popts {
	const char *cmd, *conf, *user, *vhost;
	bool all, kill, json, verbose;
};

/* one record of the state directory */
struct sandbox {
	char entry[STATE_NAME_MAX];
	char file[64];
	struct state_rec r;
	bool readable, live, retired;
	bool runc;     /* a container runc runs (cli/runc.h); entry is its id */
	bool orphan;   /* a keeper whose state entry is gone (cli/keepers.h) */
	ino_t pidns;   /* of a live one */
	long procs;    /* processes inside but the keeper */
	char inside[512]; /* "PID COMM, ..." of them, when asked for */
};

static int usage_error(const struct popts *o, const char *what)
{
	fprintf(stderr, "nscell %s: %s (see nscell --help)\n", o->cmd, what);
	return NSCELL_EXIT_USAGE;
}

static int parse(struct cli *c, struct popts *o, const char *allowed)
{
	enum { OPT_KILL = 0x100 };
	static const struct option longopts[] = {
		{ "kill", no_argument, NULL, OPT_KILL },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	size_t n = plan_strv_len(c->argv);
	char **argv = calloc(n + 2, sizeof *argv);
	if (!argv)
		return NSCELL_EXIT_USAGE;
	argv[0] = (char *)c->cmd;
	memcpy(argv + 1, c->argv, n * sizeof *argv);
	char optstring[32];
	snprintf(optstring, sizeof optstring, ":%sh", allowed);
	optind = 1;
	opterr = 0;
	int ch, rc = 0;
	while (rc == 0 && (ch = getopt_long((int)n + 1, argv, optstring, longopts, NULL)) != -1) {
		switch (ch) {
		case 'C': o->conf = optarg; break;
		case 'u': o->user = optarg; break;
		case 's': o->vhost = optarg; break;
		case 'a': o->all = true; break;
		case 'J': o->json = true; break;
		case 'v': o->verbose = true; break;
		case OPT_KILL:
			if (!strchr(allowed, 'a'))
				rc = usage_error(o, "unknown option --kill");
			o->kill = true;
			break;
		case 'h':
			printf("see nscell --help\n");
			exit(0);
		case ':':
			rc = usage_error(o, "an option needs an argument");
			break;
		default:
			rc = usage_error(o, "unknown option");
		}
	}
	if (rc == 0 && optind <= (int)n)
		rc = usage_error(o, "unexpected argument");
	free(argv);
	return rc;
}

/* the state directory of nscell.conf (-C) for this caller; -1: none yet */
static int open_state_dir(const struct popts *o, char *path, size_t size)
{
	struct nscell_conf conf;
	struct diags d;
	nscell_error_t err = { 0 };
	conf_init(&conf);
	diags_init(&d);
	int rc = conf_load(&conf, o->conf, o->conf != NULL, &d);
	if (rc < 0)
		diags_print(&d, stderr);
	else if ((rc = state_dir_path(conf.state_dir, path, size, &err)) < 0)
		fprintf(stderr, "nscell %s: %s\n", o->cmd, err.msg);
	diags_free(&d);
	conf_free(&conf);
	if (rc < 0)
		return -2;
	int fd = state_dir_open(path, false, &err);
	if (fd < 0 && err.errnum != ENOENT) {
		fprintf(stderr, "nscell %s: %s\n", o->cmd, err.msg);
		return -2;
	}
	return fd;
}

/* ---- what runs inside: one pass over /proc */

struct nsref {
	ino_t ino;
	struct sandbox *sb;
};

static int cmp_nsref(const void *a, const void *b)
{
	ino_t x = ((const struct nsref *)a)->ino, y = ((const struct nsref *)b)->ino;
	return (x > y) - (x < y);
}

/* Count the processes of each live sandbox's pid namespace, and with
 * list, name them as "PID COMM" in its inside[] as well. */
static void count_inside(struct sandbox *sbs, size_t n, bool list)
{
	struct nsref *refs = calloc(n ? n : 1, sizeof *refs);
	size_t k = 0;
	if (!refs)
		return;
	for (size_t i = 0; i < n; i++) {
		char path[64];
		struct stat st;
		snprintf(path, sizeof path, "/proc/%d/ns/pid", (int)sbs[i].r.keeper);
		if (sbs[i].live && stat(path, &st) == 0)
			refs[k++] = (struct nsref){ .ino = sbs[i].pidns = st.st_ino, .sb = &sbs[i] };
	}
	qsort(refs, k, sizeof *refs, cmp_nsref);
	DIR *proc = k ? opendir("/proc") : NULL;
	struct dirent *e;
	while (proc && (e = readdir(proc))) {
		char path[300];
		struct stat st;
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "%s/ns/pid", e->d_name);
		if (fstatat(dirfd(proc), path, &st, 0) < 0)
			continue;
		struct nsref key = { .ino = st.st_ino };
		struct nsref *hit = bsearch(&key, refs, k, sizeof *refs, cmp_nsref);
		if (!hit || atoi(e->d_name) == hit->sb->r.keeper)
			continue;
		struct sandbox *sb = hit->sb;
		sb->procs++;
		size_t len = strlen(sb->inside);
		if (list && len + 64 < sizeof sb->inside) {
			char comm[32] = "?";
			snprintf(path, sizeof path, "/proc/%s/comm", e->d_name);
			FILE *f = fopen(path, "re");
			if (f && fgets(comm, sizeof comm, f))
				comm[strcspn(comm, "\n")] = '\0';
			if (f)
				fclose(f);
			snprintf(sb->inside + len, sizeof sb->inside - len, "%s%s %s", len ? ", " : "",
				 e->d_name, comm);
		}
	}
	if (proc)
		closedir(proc);
	free(refs);
}

/* ---- reading the state directory */

static void load_record(int dirfd, const char *entry, const char *file, struct sandbox *sb)
{
	nscell_error_t err;
	const char *why;
	memset(sb, 0, sizeof *sb);
	snprintf(sb->entry, sizeof sb->entry, "%s", entry);
	snprintf(sb->file, sizeof sb->file, "%s", file);
	sb->retired = strcmp(file, STATE_FILE) != 0;
	sb->readable = state_read(dirfd, entry, file, &sb->r, &err) == 0;
	int fd = sb->readable ? state_keeper_open(&sb->r, &why) : -1;
	sb->live = fd >= 0;
	if (fd >= 0)
		close(fd);
}

/* does entry belong to the -u/-s/-a selection? */
static bool selected(const char *entry, const char *uid, const char *exact)
{
	if (entry[0] < '0' || entry[0] > '9')
		return false; /* not an entry: plans/, the plan cache */
	if (exact)
		return strcmp(entry, exact) == 0;
	if (!uid)
		return true;
	size_t n = strlen(uid);
	return strncmp(entry, uid, n) == 0 && (entry[n] == '\0' || entry[n] == '@');
}

/* every record of the selected entries; *n of them, malloc'd */
static struct sandbox *load_all(int dirfd, const char *uid, const char *exact, size_t *n)
{
	struct sandbox *v = NULL;
	size_t cap = 0;
	*n = 0;
	int fd = dirfd < 0 ? -1 : dup(dirfd);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	rewinddir(d);
	struct dirent *e;
	while ((e = readdir(d))) {
		nscell_error_t err;
		if (e->d_name[0] == '.' || !selected(e->d_name, uid, exact))
			continue;
		char **recs = state_records(dirfd, e->d_name, &err);
		for (size_t i = 0; recs && recs[i]; i++) {
			if (*n == cap) {
				struct sandbox *nv = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof *v);
				if (!nv)
					break;
				v = nv;
			}
			load_record(dirfd, e->d_name, recs[i], &v[(*n)++]);
		}
		state_records_free(recs);
	}
	closedir(d);
	return v;
}

/* the containers runc runs, after the shim's sandboxes */
static struct sandbox *add_runc(struct sandbox *sbs, size_t *n, int dirfd)
{
	size_t k = 0;
	_cleanup_free_ struct runc_entry *v = runc_entries_load(dirfd, &k);
	struct sandbox *all = k ? realloc(sbs, (*n + k) * sizeof *sbs) : sbs;
	if (!all)
		return sbs;
	for (size_t i = 0; i < k; i++) {
		struct sandbox *sb = &all[(*n)++];
		memset(sb, 0, sizeof *sb);
		snprintf(sb->entry, sizeof sb->entry, "%s", v[i].id);
		snprintf(sb->file, sizeof sb->file, "%s", STATE_FILE);
		sb->r = v[i].r;
		sb->readable = sb->runc = true;
		sb->live = v[i].live;
	}
	return all;
}

static const char *state_name(const struct sandbox *sb)
{
	return !sb->live ? "stale" : sb->orphan ? "orphaned" : sb->retired ? "retired" : "live";
}

/* ---- keepers whose state entry is gone */

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
	return (x > y) - (x < y);
}

/* The keepers labelled with an entry of the state directory path (and
 * selected) that no record names, as sandboxes appended to sbs: a state
 * directory emptied behind the keepers' backs leaves them holding their
 * sandboxes with nothing else to find them by. */
static struct sandbox *add_orphans(struct sandbox *sbs, size_t *n, const char *path, const char *uid,
				   const char *exact)
{
	size_t k = 0, nknown = 0;
	_cleanup_free_ struct labelled_keeper *v = keepers_labelled(path, &k);
	_cleanup_free_ pid_t *known = k ? calloc(*n ? *n : 1, sizeof *known) : NULL;
	if (!known)
		return sbs;
	for (size_t i = 0; i < *n; i++)
		if (sbs[i].live && !sbs[i].runc)
			known[nknown++] = sbs[i].r.keeper;
	qsort(known, nknown, sizeof *known, cmp_pid);
	for (size_t i = 0; i < k; i++) {
		if (!selected(v[i].entry, uid, exact) ||
		    bsearch(&v[i].pid, known, nknown, sizeof *known, cmp_pid))
			continue;
		struct sandbox *all = realloc(sbs, (*n + 1) * sizeof *sbs);
		if (!all)
			break;
		sbs = all;
		struct sandbox *sb = &sbs[(*n)++];
		memset(sb, 0, sizeof *sb);
		snprintf(sb->entry, sizeof sb->entry, "%s", v[i].entry);
		sb->r.keeper = v[i].pid;
		sb->r.start = v[i].start;
		sb->r.uid = (unsigned)strtoul(v[i].entry, NULL, 10);
		const char *at = strchr(v[i].entry, '@');
		snprintf(sb->r.vhost, sizeof sb->r.vhost, "%s", at ? at + 1 : "");
		struct passwd *pw = getpwuid(sb->r.uid);
		snprintf(sb->r.user, sizeof sb->r.user, "%s", pw ? pw->pw_name : "?");
		sb->readable = sb->live = sb->orphan = true;
	}
	return sbs;
}


/* ---- ls */

static void ls_json(const struct sandbox *sbs, size_t n)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	yajl_gen_config(g, yajl_gen_beautify, 1);
#define KEY(k) yajl_gen_string(g, (const unsigned char *)(k), strlen(k))
#define STR(s) yajl_gen_string(g, (const unsigned char *)(s), strlen(s))
	yajl_gen_map_open(g);
	KEY("sandboxes");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < n; i++) {
		const struct sandbox *sb = &sbs[i];
		char when[32] = "";
		time_t t = (time_t)sb->r.created;
		struct tm tm;
		if (sb->readable && gmtime_r(&t, &tm))
			strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
		yajl_gen_map_open(g);
		KEY("entry"); STR(sb->entry);
		KEY("kind"); STR(sb->runc ? "runc" : "shim");
		if (sb->runc) {
			KEY("container"); STR(sb->entry);
		}
		KEY("state"); STR(sb->readable ? state_name(sb) : "unreadable");
		KEY("user"); STR(sb->r.user);
		KEY("uid"); yajl_gen_integer(g, sb->r.uid);
		KEY("vhost");
		if (sb->r.vhost[0])
			STR(sb->r.vhost);
		else
			yajl_gen_null(g);
		KEY("keeper"); yajl_gen_integer(g, sb->r.keeper);
		KEY("created"); STR(when);
		KEY("hash"); STR(sb->r.hash);
		KEY("processes");
		if (sb->live)
			yajl_gen_integer(g, sb->procs);
		else
			yajl_gen_null(g);
		KEY("rootless"); yajl_gen_bool(g, sb->r.rootless);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
#undef KEY
#undef STR
	const unsigned char *buf;
	size_t len;
	yajl_gen_get_buf(g, &buf, &len);
	fwrite(buf, 1, len, stdout);
	yajl_gen_free(g);
}

static void ls_text(const struct sandbox *sbs, size_t n)
{
	printf("%-16s %8s %-20s %8s %-20s %-16s %5s %s\n", "USER", "UID", "VHOST", "KEEPER", "CREATED",
	       "HASH", "PROCS", "STATE");
	for (size_t i = 0; i < n; i++) {
		const struct sandbox *sb = &sbs[i];
		char when[32] = "-", procs[16] = "-";
		time_t t = (time_t)sb->r.created;
		struct tm tm;
		if (sb->readable && localtime_r(&t, &tm))
			strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
		if (sb->live)
			snprintf(procs, sizeof procs, "%ld", sb->procs);
		printf("%-16s %8u %-20s %8d %-20s %-16s %5s %s%s%s\n", sb->readable ? sb->r.user : sb->entry,
		       sb->r.uid, sb->r.vhost[0] ? sb->r.vhost : "-", (int)sb->r.keeper, when,
		       sb->r.hash[0] ? sb->r.hash : "-", procs, sb->readable ? state_name(sb) : "unreadable",
		       sb->runc ? " runc:" : "", sb->runc ? sb->entry : "");
	}
}

int cmd_ls(struct cli *c)
{
	struct popts o = { .cmd = c->cmd };
	char path[PATH_MAX];
	int rc = parse(c, &o, "C:Jv");
	if (rc)
		return rc;
	int dirfd = open_state_dir(&o, path, sizeof path);
	if (dirfd == -2)
		return NSCELL_EXIT_USAGE;
	size_t n = 0, k = 0;
	struct sandbox *sbs = load_all(dirfd, NULL, NULL, &n);
	/* a retired sandbox whose keeper is gone has simply ended */
	for (size_t i = 0; i < n; i++)
		if (!sbs[i].retired || sbs[i].live)
			sbs[k++] = sbs[i];
	n = k;
	sbs = add_runc(sbs, &n, dirfd);
	sbs = add_orphans(sbs, &n, path, NULL, NULL);
	count_inside(sbs, n, false);
	if (o.json)
		ls_json(sbs, n);
	else
		ls_text(sbs, n);
	free(sbs);
	if (dirfd >= 0)
		close(dirfd);
	return 0;
}

/* ---- unmount */

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
	count_inside(sb, 1, true);
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
	struct sandbox *sbs = load_all(dirfd, NULL, entry, &n);
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
	int rc = parse(c, &o, "C:u:s:av");
	if (rc)
		return rc;
	if (o.all == (o.user != NULL) || (o.vhost && !o.user))
		return usage_error(&o, "give -u USER [-s VHOST] or -a");
	if (o.user && resolve_uid(&o, uid, sizeof uid) < 0)
		return NSCELL_EXIT_USAGE;
	if (o.vhost && state_entry_name((uid_t)strtoul(uid, NULL, 10), o.vhost, exact, sizeof exact) < 0)
		return usage_error(&o, "vhost name too long");
	int dirfd = open_state_dir(&o, path, sizeof path);
	if (dirfd == -2)
		return NSCELL_EXIT_USAGE;
	const char *sel_uid = o.user ? uid : NULL, *sel_exact = o.vhost ? exact : NULL;
	/* the records and what runs in them first (one pass over /proc),
	 * then the entries one at a time under their locks; then keepers
	 * whose entry is gone */
	struct census cs = { 0 };
	cs.v = load_all(dirfd, sel_uid, sel_exact, &cs.n);
	count_inside(cs.v, cs.n, true);
	cs.v = add_orphans(cs.v, &cs.n, path, sel_uid, sel_exact);
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
		if (e->d_name[0] == '.' || !selected(e->d_name, sel_uid, sel_exact))
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
