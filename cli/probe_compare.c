/* Comparing what the probe saw under runc and under the shim.
 *
 * Only inherent differences between the two runtimes are normalised, each
 * by one rule below and each with its reason (README.md, "nscell diff:
 * normalisations" lists the same rules).  A rule that changed something is
 * noted in the result, so nothing is dropped silently; everything else
 * that differs is a difference. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/probe.h"
#include "oci/oci.h"

/* the six nodes runc (and PLAN_DEV of the shim) always makes in /dev */
static const char *const dev_nodes[] = { "null", "zero", "full", "random", "urandom", "tty" };

/* runc's default maskedPaths below /proc (specconv), masked by the shim too */
static const char *const proc_masked[] = { "kcore", "sysrq-trigger", "keys", "timer_list",
					   "latency_stats", "sched_debug", "timer_stats", "acpi",
					   "scsi", "asound" };

struct norm {
	struct diff_result *r;
	const struct diff_ctx *ctx;
	struct probe *runc, *shim;
	unsigned counts[16]; /* facts changed, per rule */
};

enum rule {
	R_ROOTLESS_IDS,
	R_PID1,
	R_STDIO,
	R_ROOT_MOUNT,
	R_DEV_NODES,
	R_DEV_NODEV,
	R_MASKED,
	R_REMOUNT_RO,
	R_PLACED_FILES,
	R_NOFILE,
	R_ROOTLESS_DEVPTS,
	R_SECCOMP_TTY,
	R_COUNT,
};

/* short reasons; README.md has the long ones */
static const char *const rule_text[R_COUNT] = {
	[R_ROOTLESS_IDS] = "rootless: runc's container uid/gid 0 is the caller (oci/rules.c), "
			   "read as the caller's ids",
	[R_PID1] = "pid 1: under runc the probe itself, under the shim its init; the init is "
		   "left out of the process count and /proc/1/* is not compared",
	[R_STDIO] = "/dev/stdin, stdout, stderr: runc chowns the process's stdio to the "
		    "container user, the shim leaves the caller's fds alone; access not compared",
	[R_ROOT_MOUNT] = "/: a bundle's rootfs is a host directory, the shim's root a tmpfs; "
			 "fstype, nosuid and nodev of / not compared",
	[R_DEV_NODES] = "/dev/null, zero, full, random, urandom, tty: runc mknods or binds them "
			"without flags, the shim binds them nosuid,noexec; compared as paths only",
	[R_DEV_NODEV] = "/dev without a user namespace: runc mknods the nodes into /dev's tmpfs, "
			"so it cannot be nodev; nodev of /dev not compared",
	[R_MASKED] = "masked paths: runc binds /dev/null or an empty read-only tmpfs, the shim "
		     "an empty read-only file or a 0000 directory; compared as 'masked'",
	[R_REMOUNT_RO] = "remount-ro: runc binds the path read-only over itself (readonlyPaths), "
			 "the shim remounts it; only the topmost mount is compared",
	[R_PLACED_FILES] = "dir, file and copy entries: a bundle binds those a mount would hide "
			   "from its files/ directory, the shim makes them in place; compared "
			   "as paths, their mounts not",
	[R_NOFILE] = "RLIMIT_NOFILE soft limit: runc's Go runtime raises it to the hard limit "
		     "and passes that on; only the hard limit is compared",
	[R_ROOTLESS_DEVPTS] = "rootless /dev/pts: devpts's root belongs to uid 0 of the user "
			      "namespace, the caller under rootless runc, unmapped in the shim's; "
			      "owner and access not compared",
	[R_SECCOMP_TTY] = "seccomp with no terminal in reach: the shim's command, in a new "
			  "session, gets the TIOCSTI filter only when a terminal reaches it, runc "
			  "loads the bundle's always; compared as 'the TIOCSTI filter given a "
			  "terminal'",
};

static void count(struct norm *n, enum rule r)
{
	n->counts[r]++;
}

/* ---- struct level: before the facts are made ---- */

static void map_id_str(char **s, unsigned long from, unsigned long to, struct norm *n)
{
	char want[24], repl[24];
	snprintf(want, sizeof want, "%lu", from);
	snprintf(repl, sizeof repl, "%lu", to);
	if (strcmp(*s, want) != 0)
		return;
	char *v = strdup(repl);
	if (!v)
		return;
	free(*s);
	*s = v;
	count(n, R_ROOTLESS_IDS);
}

/* "0 1001 1" (container 0 is host 1001) reads "1001 1001 1", as in the shim */
static void map_line(char **lines, unsigned long caller, struct norm *n)
{
	for (size_t i = 0; lines && lines[i]; i++) {
		unsigned long c, h, len;
		char *v = NULL;
		if (sscanf(lines[i], "%lu %lu %lu", &c, &h, &len) != 3 || c != 0 || h != caller ||
		    asprintf(&v, "%lu %lu %lu", h, h, len) < 0)
			continue;
		free(lines[i]);
		lines[i] = v;
		count(n, R_ROOTLESS_IDS);
	}
}

static void rootless_ids(struct norm *n)
{
	struct probe *p = n->runc;
	unsigned long u = n->ctx->caller_uid, g = n->ctx->caller_gid;
	for (int i = 0; i < 3; i++) {
		if (p->uid[i] == 0 && u != 0)
			p->uid[i] = u, count(n, R_ROOTLESS_IDS);
		if (p->gid[i] == 0 && g != 0)
			p->gid[i] = g, count(n, R_ROOTLESS_IDS);
	}
	for (size_t i = 0; i < p->ngroups; i++)
		if (p->groups[i] == 0 && g != 0)
			p->groups[i] = g, count(n, R_ROOTLESS_IDS);
	for (size_t i = 0; i < p->npaths; i++) {
		if (strcmp(p->paths[i].status, "ok") != 0)
			continue;
		map_id_str(&p->paths[i].uid, 0, u, n);
		map_id_str(&p->paths[i].gid, 0, g, n);
	}
	map_line(p->uid_map, u, n);
	map_line(p->gid_map, g, n);
}

/* ---- facts level ---- */

static struct probe_fact *find(struct probe_facts *f, const char *key)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->v[i].key, key) == 0)
			return &f->v[i];
	return NULL;
}

static void set(struct probe_fact *e, const char *value)
{
	char *v = strdup(value);
	if (!v)
		return;
	free(e->value);
	e->value = v;
}

static void drop(struct probe_facts *f, size_t i)
{
	free(f->v[i].key);
	free(f->v[i].value);
	free(f->v[i].path);
	memmove(&f->v[i], &f->v[i + 1], (f->n - i - 1) * sizeof *f->v);
	f->n--;
}

/* drop the facts of both sides matching pred; count them for rule r */
static void drop_where(struct norm *n, enum rule r,
		       bool (*pred)(const struct probe_fact *, const void *), const void *arg)
{
	struct probe_facts *sides[2] = { &n->r->runc, &n->r->shim };
	for (int s = 0; s < 2; s++)
		for (size_t i = 0; i < sides[s]->n;) {
			if (pred(&sides[s]->v[i], arg)) {
				drop(sides[s], i);
				count(n, r);
			} else {
				i++;
			}
		}
}

static bool is_mount_at(const struct probe_fact *e, const void *path)
{
	return strncmp(e->key, "mount ", 6) == 0 && e->path && strcmp(e->path, path) == 0;
}

static bool is_proc1(const struct probe_fact *e, const void *arg)
{
	return strncmp(e->key, "path /proc/1/", 13) == 0;
}

static bool strip_word(char *value, const char *word)
{
	char *w = strstr(value, word);
	if (!w)
		return false;
	memmove(w, w + strlen(word), strlen(w + strlen(word)) + 1);
	return true;
}

static void pid1(struct norm *n)
{
	struct probe_fact *a = find(&n->r->runc, "pid 1"), *b = find(&n->r->shim, "pid 1");
	struct probe_fact *ca = find(&n->r->runc, "processes"), *cb = find(&n->r->shim, "processes");
	/* nscell's init: nscell-shim's, or nscell-runtime's for a bundle */
	if (!a || !b || !ca || !cb || strcmp(a->value, "the probe itself") != 0 ||
	    (strcmp(b->value, "nscell-shim") != 0 && strcmp(b->value, "nscell-runtime") != 0))
		return;
	set(a, "the runtime's");
	set(b, "the runtime's");
	char v[32];
	snprintf(v, sizeof v, "%ld", strtol(cb->value, NULL, 10) - 1);
	set(cb, v);
	count(n, R_PID1);
	drop_where(n, R_PID1, is_proc1, NULL);
}

/* "link 0777 0:0 rw- -> /proc/self/fd/1": the access word becomes "?" */
static void stdio(struct norm *n)
{
	static const char *const names[] = { "path /dev/stdin", "path /dev/stdout",
					     "path /dev/stderr" };
	struct probe_facts *sides[2] = { &n->r->runc, &n->r->shim };
	for (int s = 0; s < 2; s++)
		for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
			struct probe_fact *e = find(sides[s], names[i]);
			char type[16], mode[16], owner[64], access[8];
			const char *rest;
			if (!e || sscanf(e->value, "%15s %15s %63s %7s", type, mode, owner, access) != 4 ||
			    !(rest = strstr(e->value, " -> ")))
				continue;
			char *v = NULL;
			if (asprintf(&v, "%s %s %s ?%s", type, mode, owner, rest) < 0)
				continue;
			free(e->value);
			e->value = v;
			count(n, R_STDIO);
		}
}

static void root_mount(struct norm *n)
{
	struct probe_fact *e[2] = { find(&n->r->runc, "mount /"), find(&n->r->shim, "mount /") };
	for (int s = 0; s < 2; s++) {
		if (!e[s])
			continue;
		/* "ext4 rw,nosuid,nodev private" → "(root) rw private" */
		const char *sp = strchr(e[s]->value, ' ');
		char *v = NULL;
		if (!sp || asprintf(&v, "(root)%s", sp) < 0)
			continue;
		strip_word(v, ",nosuid");
		strip_word(v, ",nodev");
		free(e[s]->value);
		e[s]->value = v;
		count(n, R_ROOT_MOUNT);
	}
}

static void dev(struct norm *n)
{
	const struct plan *p = n->ctx->plan;
	bool userns = (p->namespaces & PLAN_NS_USER) || n->ctx->rootless;
	for (size_t i = 0; i < p->nmounts; i++) {
		const struct plan_mount *m = &p->mounts[i];
		if (m->op != PLAN_DEV)
			continue;
		const char *base = strcmp(m->dst, "/") == 0 ? "" : m->dst;
		for (size_t k = 0; k < sizeof dev_nodes / sizeof *dev_nodes; k++) {
			char path[4200];
			snprintf(path, sizeof path, "%s/%s", base, dev_nodes[k]);
			drop_where(n, R_DEV_NODES, is_mount_at, path);
		}
		if (!userns) {
			char key[4200];
			snprintf(key, sizeof key, "mount %s", m->dst);
			struct probe_fact *e = find(&n->r->shim, key);
			if (e && strip_word(e->value, ",nodev"))
				count(n, R_DEV_NODEV);
		}
		if (n->ctx->rootless) {
			char key[4200];
			snprintf(key, sizeof key, "path %s/pts", base);
			struct probe_fact *e[2] = { find(&n->r->runc, key), find(&n->r->shim, key) };
			for (int s = 0; s < 2; s++) {
				char type[16], mode[16], owner[64], access[8];
				char *v = NULL;
				if (!e[s] || sscanf(e[s]->value, "%15s %15s %63s %7s", type, mode, owner,
						    access) != 4 ||
				    asprintf(&v, "%s %s ? ?", type, mode) < 0)
					continue;
				free(e[s]->value);
				e[s]->value = v;
				count(n, R_ROOTLESS_DEVPTS);
			}
		}
	}
}

/* does the probe's object at path look like a masked path: /dev/null, an
 * empty file, or a directory that is empty or cannot be read */
static bool looks_masked(struct probe *p, const char *path)
{
	struct probe_path *e = probe_find_path(p, path);
	if (!e || strcmp(e->status, "ok") != 0)
		return false;
	if (!strcmp(e->type, "char"))
		return !strcmp(e->rdev, "1:3");
	if (!strcmp(e->type, "file"))
		return !strcmp(e->size, "0");
	if (!strcmp(e->type, "dir"))
		return !strcmp(e->size, "0") || e->access[0] != 'r';
	return false;
}

/* a path masked on a side (something mounted there that looks masked)
 * reads "masked file" or "masked directory", its mounts "masked" */
static void masked_one(struct norm *n, const char *path)
{
	struct probe *probes[2] = { n->runc, n->shim };
	struct probe_facts *sides[2] = { &n->r->runc, &n->r->shim };
	char key[4200];
	snprintf(key, sizeof key, "path %s", path);
	for (int s = 0; s < 2; s++) {
		struct probe_fact *e = find(sides[s], key);
		bool mounted = false;
		for (size_t i = 0; i < sides[s]->n; i++)
			mounted |= is_mount_at(&sides[s]->v[i], path);
		if (!e || !mounted || !looks_masked(probes[s], path))
			continue;
		struct probe_path *pp = probe_find_path(probes[s], path);
		set(e, strcmp(pp->type, "dir") == 0 ? "masked directory" : "masked file");
		count(n, R_MASKED);
		for (size_t i = 0; i < sides[s]->n; i++)
			if (is_mount_at(&sides[s]->v[i], path)) {
				set(&sides[s]->v[i], "masked");
				count(n, R_MASKED);
			}
	}
}

/* keep only the last (topmost) mount at path on each side */
static void topmost(struct norm *n, const char *path)
{
	struct probe_facts *sides[2] = { &n->r->runc, &n->r->shim };
	for (int s = 0; s < 2; s++) {
		size_t last = sides[s]->n;
		for (size_t i = 0; i < sides[s]->n; i++)
			if (is_mount_at(&sides[s]->v[i], path))
				last = i;
		if (last == sides[s]->n)
			continue;
		for (size_t i = 0; i < last;) {
			if (is_mount_at(&sides[s]->v[i], path)) {
				drop(sides[s], i);
				last--;
				count(n, R_REMOUNT_RO);
			} else {
				i++;
			}
		}
		/* the survivor's key loses its "(#2)" */
		char key[4200];
		snprintf(key, sizeof key, "mount %s", path);
		char *k = strdup(key);
		if (k) {
			free(sides[s]->v[last].key);
			sides[s]->v[last].key = k;
		}
	}
}

static void plan_entries(struct norm *n)
{
	const struct plan *p = n->ctx->plan;
	for (size_t i = 0; i < p->nmounts; i++) {
		const struct plan_mount *m = &p->mounts[i];
		switch (m->op) {
		case PLAN_MASK:
			masked_one(n, m->dst);
			break;
		case PLAN_PROC:
			/* runc's default maskedPaths, which the shim masks too */
			for (size_t k = 0; k < sizeof proc_masked / sizeof *proc_masked; k++) {
				char path[4200];
				snprintf(path, sizeof path, "%s/%s", strcmp(m->dst, "/") ? m->dst : "",
					 proc_masked[k]);
				masked_one(n, path);
			}
			break;
		case PLAN_REMOUNT_RO:
			topmost(n, m->dst);
			break;
		case PLAN_DIR: case PLAN_FILE: case PLAN_COPY:
			drop_where(n, R_PLACED_FILES, is_mount_at, m->dst);
			break;
		default:
			break;
		}
	}
}

static void nofile(struct norm *n)
{
	struct probe_fact *e[2] = { find(&n->r->runc, "rlimit NOFILE"),
				    find(&n->r->shim, "rlimit NOFILE") };
	for (int s = 0; s < 2; s++) {
		const char *sp = e[s] ? strchr(e[s]->value, ' ') : NULL;
		char *v = NULL;
		if (!sp || asprintf(&v, "?%s", sp) < 0)
			continue;
		free(e[s]->value);
		e[s]->value = v;
		count(n, R_NOFILE);
	}
}

/* a template launch (not a bundle's) without a terminal: no filter in the
 * shim, the bundle's under runc; both read as the rule */
static void seccomp_tty(struct norm *n)
{
	struct probe_fact *e[2] = { find(&n->r->runc, "seccomp"), find(&n->r->shim, "seccomp") };
	if (n->ctx->plan->rootfs || !e[0] || !e[1] || strcmp(e[0]->value, "filter, filters 1") != 0 ||
	    strcmp(e[1]->value, "disabled, filters 0") != 0)
		return;
	for (int s = 0; s < 2; s++) {
		char *v = strdup("the TIOCSTI filter given a terminal");
		if (!v)
			continue;
		free(e[s]->value);
		e[s]->value = v;
		count(n, R_SECCOMP_TTY);
	}
}

static int note(struct diff_result *r, const char *text, unsigned k)
{
	char **v = realloc(r->notes, (r->nnotes + 1) * sizeof *v);
	if (!v)
		return -1;
	r->notes = v;
	if (asprintf(&v[r->nnotes], "%s (%u fact%s)", text, k, k == 1 ? "" : "s") < 0)
		return -1;
	r->nnotes++;
	return 0;
}

static int add_diff(struct diff_result *r, struct probe_fact *a, struct probe_fact *b)
{
	struct probe_fact **v = realloc(r->diffs, (r->ndiffs + 1) * 2 * sizeof *v);
	if (!v)
		return -1;
	r->diffs = v;
	v[r->ndiffs * 2] = a;
	v[r->ndiffs * 2 + 1] = b;
	r->ndiffs++;
	return 0;
}

int diff_compare(struct probe *runc, struct probe *shim, const struct diff_ctx *ctx,
		 const struct probe_ref_ns *ref, size_t nref, struct diff_result *r,
		 nscell_error_t *err)
{
	memset(r, 0, sizeof *r);
	struct norm n = { .r = r, .ctx = ctx, .runc = runc, .shim = shim };
	if (ctx->rootless)
		rootless_ids(&n);
	if (probe_facts_make(runc, ref, nref, &r->runc, err) < 0 ||
	    probe_facts_make(shim, ref, nref, &r->shim, err) < 0)
		return -1;
	pid1(&n);
	stdio(&n);
	root_mount(&n);
	dev(&n);
	plan_entries(&n);
	nofile(&n);
	seccomp_tty(&n);
	for (int i = 0; i < R_COUNT; i++)
		if (n.counts[i] && note(r, rule_text[i], n.counts[i]) < 0)
			return nscell_error_set(err, ENOMEM, "out of memory");
	/* in report order: runc's facts, then those only the shim has */
	for (size_t i = 0; i < r->runc.n; i++) {
		struct probe_fact *a = &r->runc.v[i], *b = find(&r->shim, a->key);
		if ((!b || strcmp(a->value, b->value) != 0) && add_diff(r, a, b) < 0)
			return nscell_error_set(err, ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < r->shim.n; i++)
		if (!find(&r->runc, r->shim.v[i].key) && add_diff(r, NULL, &r->shim.v[i]) < 0)
			return nscell_error_set(err, ENOMEM, "out of memory");
	return 0;
}

void diff_result_free(struct diff_result *r)
{
	probe_facts_free(&r->runc);
	probe_facts_free(&r->shim);
	for (size_t i = 0; i < r->nnotes; i++)
		free(r->notes[i]);
	free(r->notes);
	free(r->diffs);
	memset(r, 0, sizeof *r);
}

static bool is_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	if (n == 1 && dir[0] == '/')
		return path[0] == '/';
	return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

const struct plan_mount *diff_origin(const struct plan *plan, const char *path)
{
	const struct plan_mount *best = NULL;
	size_t best_len = 0;
	for (size_t i = 0; path && i < plan->nmounts; i++) {
		const struct plan_mount *m = &plan->mounts[i];
		if (!m->dst || !is_under(path, m->dst))
			continue;
		size_t len = strlen(m->dst);
		/* the deepest destination; among equals the last (it wins) */
		if (!best || len >= best_len) {
			best = m;
			best_len = len;
		}
	}
	return best;
}
