/* The records of the state directory for nscell ls, unmount and enter
 * (cli/persisted.h). */
#include "cli/persisted.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/keepers.h"
#include "cli/runc.h"

int popts_usage_error(const struct popts *o, const char *what)
{
	fprintf(stderr, "nscell %s: %s (see nscell --help)\n", o->cmd, what);
	return NSCELL_EXIT_USAGE;
}

int popts_parse(struct cli *c, struct popts *o, const char *allowed)
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
				rc = popts_usage_error(o, "unknown option --kill");
			o->kill = true;
			break;
		case 'h':
			printf("see nscell --help\n");
			exit(0);
		case ':':
			rc = popts_usage_error(o, "an option needs an argument");
			break;
		default:
			rc = popts_usage_error(o, "unknown option");
		}
	}
	if (rc == 0 && optind <= (int)n)
		rc = popts_usage_error(o, "unexpected argument");
	free(argv);
	return rc;
}

int popts_state_dir(const struct popts *o, char *path, size_t size)
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

void sandboxes_count_inside(struct sandbox *sbs, size_t n, bool list)
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

bool entry_selected(const char *entry, const char *uid, const char *exact)
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

struct sandbox *sandboxes_load(int dirfd, const char *uid, const char *exact, size_t *n)
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
		if (e->d_name[0] == '.' || !entry_selected(e->d_name, uid, exact))
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

struct sandbox *sandboxes_add_runc(struct sandbox *sbs, size_t *n, int dirfd)
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

const char *sandbox_state_name(const struct sandbox *sb)
{
	return !sb->live ? "stale" : sb->orphan ? "orphaned" : sb->retired ? "retired" : "live";
}

/* ---- keepers whose state entry is gone */

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
	return (x > y) - (x < y);
}

struct sandbox *sandboxes_add_orphans(struct sandbox *sbs, size_t *n, const char *path, const char *uid,
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
		if (!entry_selected(v[i].entry, uid, exact) ||
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
