/* -c: the sandbox's init goes into a per-user cgroup, PARENT/nscell-UID,
 * with the plan's memory, pids and cpu limits.  All of a user's sandboxes
 * share it, so the limits are the user's, not one request's.
 *
 * cgroup v2 (unified, with the controllers enabled down to PARENT):
 * memory.max, pids.max, cpu.max.  cgroup v1 (one hierarchy per controller
 * under /sys/fs/cgroup/<ctrl>): memory.limit_in_bytes, pids.max,
 * cpu.cfs_period_us + cpu.cfs_quota_us.  A hybrid host uses v1 for each
 * controller mounted there and v2 for the rest.  No systemctl, no fork:
 * a few mkdir and write calls. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "shim/shim.h"

#define CGROUP_ROOT "/sys/fs/cgroup"
#define CGROUP_SUPER_MAGIC_V1 0x27e0eb
#define CGROUP2_SUPER_MAGIC_V2 0x63677270
#define DEFAULT_PARENT "nscell"
#define DEFAULT_CPU_PERIOD 100000
#define MAX_DIRS 16

enum { CG_MEMORY, CG_PIDS, CG_CPU, CG_N };
static const char *const controller_names[CG_N] = { "memory", "pids", "cpu" };
static const char *const limit_names[CG_N] = { "memory_max", "pids_max", "cpu_max" };

struct shim_cgroup {
	char *leaf[CG_N];        /* the cgroup dir used for each controller, or NULL */
	char *created[MAX_DIRS]; /* dirs this launch made, in creation order */
	size_t ncreated;
};

bool cgroup_fs_is(const char *path, long magic)
{
	struct statfs sf;
	return statfs(path, &sf) == 0 && (long)sf.f_type == magic;
}

static bool lists_controller(const char *unified, const char *name)
{
	char path[PATH_MAX], buf[512];
	snprintf(path, sizeof path, "%s/cgroup.controllers", unified);
	if (shim_read_small(path, buf, sizeof buf) < 0)
		return false;
	for (char *save = NULL, *w = strtok_r(buf, " \n", &save); w; w = strtok_r(NULL, " \n", &save))
		if (strcmp(w, name) == 0)
			return true;
	return false;
}

int cgroup_write(const char *dir, const char *name, const char *value, nscell_error_t *err)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || shim_write_all(fd, value, strlen(value)) < 0)
		return nscell_error_errno(err, errno, "cgroup: write %s to %s", value, path);
	return 0;
}

/* PARENT/nscell-UID below hier, made when missing; "../" is refused */
static char *make_dirs(struct shim_cgroup *cg, const char *hier, const char *parent, uid_t uid,
		       nscell_error_t *err)
{
	char path[PATH_MAX];
	int n = snprintf(path, sizeof path, "%s", hier);
	_cleanup_free_ char *rel = NULL;
	if (asprintf(&rel, "%s/nscell-%u", parent, (unsigned)uid) < 0) {
		nscell_error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	for (char *save = NULL, *c = strtok_r(rel, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, "..") == 0 || strcmp(c, ".") == 0) {
			nscell_error_set(err, EINVAL, "cgroup parent '%s': no '.' or '..' allowed", parent);
			return NULL;
		}
		n += snprintf(path + n, sizeof path - (size_t)n, "/%s", c);
		if ((size_t)n >= sizeof path) {
			nscell_error_set(err, ENAMETOOLONG, "cgroup parent '%s': too long", parent);
			return NULL;
		}
		if (mkdir(path, 0755) == 0) {
			if (cg->ncreated < MAX_DIRS)
				cg->created[cg->ncreated++] = strdup(path);
		} else if (errno != EEXIST) {
			nscell_error_errno(err, errno, "cgroup: create %s", path);
			return NULL;
		}
	}
	return strdup(path);
}

/* v2: a controller works in a cgroup only once every ancestor enables it */
static int enable_v2(const char *unified, const char *leaf, const char *name, nscell_error_t *err)
{
	char dir[PATH_MAX], value[32];
	snprintf(value, sizeof value, "+%s", name);
	snprintf(dir, sizeof dir, "%s", unified);
	size_t n = strlen(dir);
	const char *rest = leaf + strlen(unified);
	while (*rest == '/') {
		if (cgroup_write(dir, "cgroup.subtree_control", value, err) < 0)
			return -1;
		const char *end = strchrnul(rest + 1, '/');
		if (!*end)
			break; /* the leaf itself holds processes: nothing to enable */
		n += (size_t)snprintf(dir + n, sizeof dir - n, "%.*s", (int)(end - rest), rest);
		rest = end;
	}
	return 0;
}

static int apply_limit(const struct plan_cgroup *pc, int c, const char *dir, bool v2,
		       nscell_error_t *err)
{
	char v[64];
	int64_t period = pc->cpu_period_us > 0 ? pc->cpu_period_us : DEFAULT_CPU_PERIOD;
	switch (c) {
	case CG_MEMORY:
		snprintf(v, sizeof v, "%" PRId64, pc->memory_max);
		return cgroup_write(dir, v2 ? "memory.max" : "memory.limit_in_bytes", v, err);
	case CG_PIDS:
		snprintf(v, sizeof v, "%" PRId64, pc->pids_max);
		return cgroup_write(dir, "pids.max", v, err);
	default:
		if (v2) {
			snprintf(v, sizeof v, "%" PRId64 " %" PRId64, pc->cpu_quota_us, period);
			return cgroup_write(dir, "cpu.max", v, err);
		}
		snprintf(v, sizeof v, "%" PRId64, period);
		if (cgroup_write(dir, "cpu.cfs_period_us", v, err) < 0)
			return -1;
		snprintf(v, sizeof v, "%" PRId64, pc->cpu_quota_us);
		return cgroup_write(dir, "cpu.cfs_quota_us", v, err);
	}
}

int cgroup_prepare(struct shim *s, nscell_error_t *err)
{
	const struct plan *p = s->plan;
	const struct plan_cgroup *pc = &p->cgroup;
	struct shim_cgroup *cg = calloc(1, sizeof *cg);
	if (!cg)
		return nscell_error_set(err, ENOMEM, "out of memory");
	s->cgroup = cg;
	const char *parent = pc->parent && *pc->parent ? pc->parent : DEFAULT_PARENT;
	while (*parent == '/')
		parent++;
	bool pure_v2 = cgroup_fs_is(CGROUP_ROOT, CGROUP2_SUPER_MAGIC_V2);
	const char *unified = pure_v2 ? CGROUP_ROOT :
			      cgroup_fs_is(CGROUP_ROOT "/unified", CGROUP2_SUPER_MAGIC_V2) ? CGROUP_ROOT "/unified" :
										   NULL;
	bool limited[CG_N] = { pc->memory_max > 0, pc->pids_max > 0, pc->cpu_quota_us > 0 };
	_cleanup_free_ char *v2_leaf = NULL;
	for (int c = 0; c < CG_N; c++) {
		char v1[PATH_MAX];
		snprintf(v1, sizeof v1, CGROUP_ROOT "/%s", controller_names[c]);
		bool is_v1 = !pure_v2 && cgroup_fs_is(v1, CGROUP_SUPER_MAGIC_V1);
		bool is_v2 = !is_v1 && unified && lists_controller(unified, controller_names[c]);
		if (!is_v1 && !is_v2) {
			if (limited[c])
				return nscell_error_set(err, ENOENT,
							"cgroup: the %s controller is not available (%s is set)",
							controller_names[c], limit_names[c]);
			continue;
		}
		if (is_v2 && !v2_leaf && !(v2_leaf = make_dirs(cg, unified, parent, p->id.uid, err)))
			return -1;
		if (is_v2 && enable_v2(unified, v2_leaf, controller_names[c], err) < 0)
			return -1;
		cg->leaf[c] = is_v2 ? strdup(v2_leaf) : make_dirs(cg, v1, parent, p->id.uid, err);
		if (!cg->leaf[c])
			return -1;
		shim_log(s, NULL, "cgroup %s (v%d)", cg->leaf[c], is_v2 ? 2 : 1);
		if (limited[c] && apply_limit(pc, c, cg->leaf[c], is_v2, err) < 0)
			return -1;
	}
	return 0;
}

int cgroup_attach(struct shim *s, pid_t pid, nscell_error_t *err)
{
	struct shim_cgroup *cg = s->cgroup;
	char v[32];
	snprintf(v, sizeof v, "%d", (int)pid);
	for (int c = 0; cg && c < CG_N; c++) {
		bool done = false;
		for (int d = 0; d < c; d++)
			done |= cg->leaf[d] && cg->leaf[c] && strcmp(cg->leaf[d], cg->leaf[c]) == 0;
		if (cg->leaf[c] && !done && cgroup_write(cg->leaf[c], "cgroup.procs", v, err) < 0)
			return -1;
	}
	return 0;
}

void cgroup_release(struct shim *s, bool failed)
{
	struct shim_cgroup *cg = s->cgroup;
	if (!cg)
		return;
	/* only what this launch made, deepest first; a busy one stays */
	for (size_t i = cg->ncreated; failed && i-- > 0;)
		if (cg->created[i])
			rmdir(cg->created[i]);
	for (size_t i = 0; i < cg->ncreated; i++)
		free(cg->created[i]);
	for (int c = 0; c < CG_N; c++)
		free(cg->leaf[c]);
	free(cg);
	s->cgroup = NULL;
}
