/* A config's linux.cgroupsPath and linux.resources, as runc applies them
 * (containerd writes "/NAMESPACE/ID" and a device list): the container's
 * processes go into that cgroup, made in every cgroup v1 hierarchy under
 * /sys/fs/cgroup, with
 *   devices    each rule in order to devices.deny or devices.allow
 *              (runc's way: containerd's list is deny all, then the
 *              standard nodes); the kernel enforces them as under runc,
 *              so a CAP_MKNOD the config grants opens no other device
 *   cpu        shares, quota, period (cpu.shares, cpu.cfs_*)
 *   memory     limit (memory.limit_in_bytes)
 *   pids       limit (pids.max)
 * oci/read_linux.c reads them into the plan (struct plan_cgroup), for
 * the runtime only, and refuses what is not here.  cgroup v2 (unified only): the same limits in its files
 * (cpu.weight from shares, as runc), but a device rule other than deny
 * all is refused: v2 enforces them with an eBPF program, which nscell does
 * not load.  delete removes the leaf (rt_cgroup_remove). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "oci/oci.h"
#include "shim/runtime.h"

#define CG_ROOT "/sys/fs/cgroup"
#define CG_V1_MAGIC 0x27e0eb
#define CG_V2_MAGIC 0x63677270

/* cpuset: a new cgroup has no cpus and mems until given its parent's */
static int cpuset_inherit(const char *dir, nscell_error_t *err)
{
	static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
	char parent[PATH_MAX], path[PATH_MAX], value[4096];
	snprintf(parent, sizeof parent, "%s", dir);
	*strrchr(parent, '/') = '\0';
	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, files[i]);
		if (shim_read_small(path, value, sizeof value) > 1)
			continue; /* set already */
		snprintf(path, sizeof path, "%s/%s", parent, files[i]);
		if (shim_read_small(path, value, sizeof value) < 0)
			return nscell_error_errno(err, errno, "cgroup: read %s", path);
		if (cgroup_write(dir, files[i], value, err) < 0)
			return -1;
	}
	return 0;
}

/* hier + path, every missing directory made (cpuset's filled in) */
static int make_leaf(const char *hier, const char *path, bool cpuset, char *out, size_t size,
		     nscell_error_t *err)
{
	size_t n = (size_t)snprintf(out, size, "%s", hier);
	_cleanup_free_ char *rel = strdup(path);
	if (!rel)
		return nscell_error_set(err, ENOMEM, "out of memory");
	for (char *save = NULL, *c = strtok_r(rel, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, ".") == 0 || strcmp(c, "..") == 0)
			return nscell_error_set(err, EINVAL, "linux.cgroupsPath '%s': no . or ..", path);
		n += (size_t)snprintf(out + n, size - n, "/%s", c);
		if (n >= size)
			return nscell_error_set(err, ENAMETOOLONG, "linux.cgroupsPath: too long");
		if (mkdir(out, 0755) < 0 && errno != EEXIST)
			return nscell_error_errno(err, errno, "cgroup: create %s", out);
		if (cpuset && cpuset_inherit(out, err) < 0)
			return -1;
	}
	return 0;
}

/* "c 1:3 rwm": a rule as devices.allow and devices.deny take it */
static void device_rule(const struct plan_device_rule *d, char *buf, size_t size)
{
	char ma[24] = "*", mi[24] = "*";
	if (d->major >= 0)
		snprintf(ma, sizeof ma, "%" PRId64, d->major);
	if (d->minor >= 0)
		snprintf(mi, sizeof mi, "%" PRId64, d->minor);
	snprintf(buf, size, "%c %s:%s %s", d->type, ma, mi, d->access);
}

static int apply_devices(const char *leaf, const struct plan_cgroup *cg, nscell_error_t *err)
{
	for (size_t i = 0; i < cg->ndevices; i++) {
		char rule[96];
		device_rule(&cg->devices[i], rule, sizeof rule);
		if (cgroup_write(leaf, cg->devices[i].allow ? "devices.allow" : "devices.deny", rule,
				 err) < 0)
			return -1;
	}
	return 0;
}

/* v set (not 0): written to file in leaf */
static int write_int(const char *leaf, const char *file, int64_t v, nscell_error_t *err)
{
	char value[32];
	if (!v)
		return 0;
	snprintf(value, sizeof value, "%" PRId64, v);
	return cgroup_write(leaf, file, value, err);
}

/* what one v1 hierarchy (named name) takes of the limits */
static int apply_v1(const char *name, const char *leaf, const struct plan_cgroup *cg,
		    nscell_error_t *err)
{
	if (strcmp(name, "devices") == 0)
		return apply_devices(leaf, cg, err);
	if (strcmp(name, "cpu") == 0 || strstr(name, "cpu,") == name)
		return write_int(leaf, "cpu.shares", cg->cpu_shares, err) < 0 ||
		       write_int(leaf, "cpu.cfs_period_us", cg->cpu_period_us, err) < 0 ||
		       write_int(leaf, "cpu.cfs_quota_us", cg->cpu_quota_us, err) < 0 ? -1 : 0;
	if (strcmp(name, "memory") == 0)
		return write_int(leaf, "memory.limit_in_bytes", cg->memory_max, err);
	if (strcmp(name, "pids") == 0)
		return write_int(leaf, "pids.max", cg->pids_max, err);
	return 0;
}

/* v2: the same limits; a device rule other than deny all is refused */
static int apply_v2(const char *leaf, const struct plan_cgroup *cg, nscell_error_t *err)
{
	if (cg->ndevices > 1)
		return nscell_error_set(err, 0, "linux.resources.devices: rules beyond deny all "
					"need the cgroup v1 devices controller (nscell loads no "
					"eBPF device filter on cgroup v2)");
	if (cg->cpu_shares) {
		/* runc's mapping of shares (2..262144) onto weights (1..10000) */
		int64_t s = cg->cpu_shares;
		if (write_int(leaf, "cpu.weight", s < 2 ? 1 : 1 + ((s - 2) * 9999) / 262142, err) < 0)
			return -1;
	}
	if (cg->cpu_quota_us) {
		char v[64];
		snprintf(v, sizeof v, "%" PRId64 " %" PRId64, cg->cpu_quota_us,
			 cg->cpu_period_us ? cg->cpu_period_us : 100000);
		if (cgroup_write(leaf, "cpu.max", v, err) < 0)
			return -1;
	}
	return write_int(leaf, "memory.max", cg->memory_max, err) < 0 ||
	       write_int(leaf, "pids.max", cg->pids_max, err) < 0 ? -1 : 0;
}

/* pid and its children (the container's command, waiting for start) */
static int attach(const char *leaf, pid_t pid, nscell_error_t *err)
{
	char path[64], kids[4096], v[24];
	snprintf(v, sizeof v, "%d", (int)pid);
	if (cgroup_write(leaf, "cgroup.procs", v, err) < 0)
		return -1;
	snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid, (int)pid);
	if (shim_read_small(path, kids, sizeof kids) < 0)
		return nscell_error_errno(err, errno, "%s", path);
	for (char *save = NULL, *k = strtok_r(kids, " \n", &save); k; k = strtok_r(NULL, " \n", &save))
		if (cgroup_write(leaf, "cgroup.procs", k, err) < 0)
			return -1;
	return 0;
}

/* each cgroup hierarchy with its leaf: fn(name, hier, leaf_or_NULL) */
typedef int (*hier_fn)(const char *name, const char *hier, void *ctx, nscell_error_t *err);

static int each_hierarchy(hier_fn fn, void *ctx, nscell_error_t *err)
{
	if (cgroup_fs_is(CG_ROOT, CG_V2_MAGIC))
		return fn("", CG_ROOT, ctx, err);
	DIR *d = opendir(CG_ROOT);
	if (!d)
		return nscell_error_errno(err, errno, "cgroup: %s", CG_ROOT);
	int rc = 0;
	for (struct dirent *e; rc == 0 && (e = readdir(d));) {
		char hier[PATH_MAX];
		snprintf(hier, sizeof hier, CG_ROOT "/%s", e->d_name);
		struct stat st;
		/* cpu,cpuacct and its symlinks: the hierarchy once */
		if (e->d_name[0] == '.' || lstat(hier, &st) < 0 || !S_ISDIR(st.st_mode) ||
		    !cgroup_fs_is(hier, CG_V1_MAGIC))
			continue;
		rc = fn(e->d_name, hier, ctx, err);
	}
	closedir(d);
	return rc;
}

struct apply_ctx {
	const char *path;
	const struct plan_cgroup *cg;
	pid_t pid;
};

static int apply_one(const char *name, const char *hier, void *ctx, nscell_error_t *err)
{
	struct apply_ctx *a = ctx;
	char leaf[PATH_MAX];
	bool cpuset = strstr(name, "cpuset") != NULL;
	if (make_leaf(hier, a->path, cpuset, leaf, sizeof leaf, err) < 0)
		return -1;
	int rc = *name ? apply_v1(name, leaf, a->cg, err) : apply_v2(leaf, a->cg, err);
	return rc < 0 ? -1 : attach(leaf, a->pid, err);
}

int rt_cgroup_path(const struct plan *p, char **path, nscell_error_t *err)
{
	*path = NULL;
	if (p->cgroup.path && !(*path = strdup(p->cgroup.path)))
		return nscell_error_set(err, ENOMEM, "out of memory");
	if (!p->cgroup.path && oci_cgroup_limited(p) && !(*path = oci_cgroup_path(p, err)))
		return -1;
	return 0;
}

int rt_cgroup_apply(const struct plan *p, const char *path, pid_t pid, nscell_error_t *err)
{
	struct apply_ctx a = { .path = path, .cg = &p->cgroup, .pid = pid };
	return path ? each_hierarchy(apply_one, &a, err) : 0;
}

static int remove_one(const char *name, const char *hier, void *ctx, nscell_error_t *err)
{
	char leaf[PATH_MAX];
	snprintf(leaf, sizeof leaf, "%s%s%s", hier, *(const char *)ctx == '/' ? "" : "/",
		 (const char *)ctx);
	/* the processes are gone; a cgroup still busy stays */
	rmdir(leaf);
	return 0;
}

void rt_cgroup_remove(const char *path)
{
	nscell_error_t err = { 0 };
	if (path && !strstr(path, ".."))
		each_hierarchy(remove_one, (void *)path, &err);
}
