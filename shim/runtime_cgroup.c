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
 * oci/read.c lets these through only to the runtime (and refuses what
 * is not here).  cgroup v2 (unified only): the same limits in its files
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
#include <yajl/yajl_tree.h>

#include "shim/runtime.h"

#define CG_ROOT "/sys/fs/cgroup"
#define CG_V1_MAGIC 0x27e0eb
#define CG_V2_MAGIC 0x63677270
#define CONFIG_MAX (16u << 20)

static yajl_val get(yajl_val obj, const char *a, const char *b)
{
	const char *path[] = { a, b, NULL };
	return yajl_tree_get(obj, path, yajl_t_any);
}

/* ROOT/ID/config.json, parsed; NULL with err */
static yajl_val read_config(const char *dir, nscell_error_t *err)
{
	_cleanup_free_ char *path = rt_path(dir, "config.json");
	_cleanup_free_ char *text = malloc(CONFIG_MAX);
	ssize_t n = path && text ? shim_read_small(path, text, CONFIG_MAX) : -1;
	if (n < 0) {
		nscell_error_errno(err, errno, "%s", path ? path : dir);
		return NULL;
	}
	char msg[256];
	yajl_val root = yajl_tree_parse(text, msg, sizeof msg);
	if (!root)
		nscell_error_set(err, EINVAL, "%s: invalid JSON", path);
	return root;
}

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

/* "c 1:3 rwm": one rule as devices.allow and devices.deny take it */
static void device_rule(yajl_val d, char *buf, size_t size)
{
	yajl_val type = get(d, "type", NULL), major = get(d, "major", NULL);
	yajl_val minor = get(d, "minor", NULL), access = get(d, "access", NULL);
	char ma[24] = "*", mi[24] = "*";
	if (YAJL_IS_INTEGER(major) && YAJL_GET_INTEGER(major) >= 0)
		snprintf(ma, sizeof ma, "%lld", YAJL_GET_INTEGER(major));
	if (YAJL_IS_INTEGER(minor) && YAJL_GET_INTEGER(minor) >= 0)
		snprintf(mi, sizeof mi, "%lld", YAJL_GET_INTEGER(minor));
	snprintf(buf, size, "%s %s:%s %s", YAJL_IS_STRING(type) ? type->u.string : "a", ma, mi,
		 YAJL_IS_STRING(access) ? access->u.string : "rwm");
}

static int apply_devices(const char *leaf, yajl_val devices, nscell_error_t *err)
{
	for (size_t i = 0; YAJL_IS_ARRAY(devices) && i < devices->u.array.len; i++) {
		yajl_val d = devices->u.array.values[i];
		char rule[96];
		device_rule(d, rule, sizeof rule);
		if (cgroup_write(leaf, YAJL_IS_TRUE(get(d, "allow", NULL)) ? "devices.allow" :
			     "devices.deny", rule, err) < 0)
			return -1;
	}
	return 0;
}

/* the integer at res.a.b written to file in leaf, when there */
static int apply_int(const char *leaf, yajl_val res, const char *a, const char *b,
		     const char *file, nscell_error_t *err)
{
	yajl_val v = get(get(res, a, NULL), b, NULL);
	char value[32];
	if (!YAJL_IS_INTEGER(v))
		return 0;
	snprintf(value, sizeof value, "%lld", YAJL_GET_INTEGER(v));
	return cgroup_write(leaf, file, value, err);
}

/* what one v1 hierarchy (named name) takes of the resources */
static int apply_v1(const char *name, const char *leaf, yajl_val res, nscell_error_t *err)
{
	if (strcmp(name, "devices") == 0)
		return apply_devices(leaf, get(res, "devices", NULL), err);
	if (strcmp(name, "cpu") == 0)
		return apply_int(leaf, res, "cpu", "shares", "cpu.shares", err) < 0 ||
		       apply_int(leaf, res, "cpu", "period", "cpu.cfs_period_us", err) < 0 ||
		       apply_int(leaf, res, "cpu", "quota", "cpu.cfs_quota_us", err) < 0 ? -1 : 0;
	if (strcmp(name, "memory") == 0)
		return apply_int(leaf, res, "memory", "limit", "memory.limit_in_bytes", err);
	if (strcmp(name, "pids") == 0)
		return apply_int(leaf, res, "pids", "limit", "pids.max", err);
	return 0;
}

/* v2: the same limits; a device rule other than deny all is refused */
static int apply_v2(const char *leaf, yajl_val res, nscell_error_t *err)
{
	yajl_val dev = get(res, "devices", NULL), shares = get(get(res, "cpu", NULL), "shares", NULL);
	if (YAJL_IS_ARRAY(dev) && dev->u.array.len > 1)
		return nscell_error_set(err, 0, "linux.resources.devices: rules beyond deny all "
					"need the cgroup v1 devices controller (nscell loads no "
					"eBPF device filter on cgroup v2)");
	if (YAJL_IS_INTEGER(shares)) {
		char w[32];
		long long s = YAJL_GET_INTEGER(shares);
		snprintf(w, sizeof w, "%lld", s < 2 ? 1 : 1 + ((s - 2) * 9999) / 262142);
		if (cgroup_write(leaf, "cpu.weight", w, err) < 0)
			return -1;
	}
	yajl_val quota = get(get(res, "cpu", NULL), "quota", NULL);
	yajl_val period = get(get(res, "cpu", NULL), "period", NULL);
	if (YAJL_IS_INTEGER(quota)) {
		char v[64];
		snprintf(v, sizeof v, "%lld %lld", YAJL_GET_INTEGER(quota),
			 YAJL_IS_INTEGER(period) ? YAJL_GET_INTEGER(period) : 100000LL);
		if (cgroup_write(leaf, "cpu.max", v, err) < 0)
			return -1;
	}
	return apply_int(leaf, res, "memory", "limit", "memory.max", err) < 0 ||
	       apply_int(leaf, res, "pids", "limit", "pids.max", err) < 0 ? -1 : 0;
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
	yajl_val res;
	pid_t pid;
};

static int apply_one(const char *name, const char *hier, void *ctx, nscell_error_t *err)
{
	struct apply_ctx *a = ctx;
	char leaf[PATH_MAX];
	bool cpuset = strstr(name, "cpuset") != NULL;
	if (make_leaf(hier, a->path, cpuset, leaf, sizeof leaf, err) < 0)
		return -1;
	int rc = *name ? apply_v1(name, leaf, a->res, err) : apply_v2(leaf, a->res, err);
	return rc < 0 ? -1 : attach(leaf, a->pid, err);
}

/* linux.cgroupsPath, or NULL when there is none */
static const char *cgroups_path(yajl_val config)
{
	yajl_val p = get(config, "linux", "cgroupsPath");
	return YAJL_IS_STRING(p) && p->u.string[0] ? p->u.string : NULL;
}

bool rt_cgroup_wanted(const char *dir)
{
	nscell_error_t err = { 0 };
	yajl_val config = read_config(dir, &err);
	bool wanted = config && cgroups_path(config);
	yajl_tree_free(config);
	return wanted;
}

int rt_cgroup_apply(const char *dir, pid_t pid, nscell_error_t *err)
{
	yajl_val config = read_config(dir, err);
	if (!config)
		return -1;
	const char *path = cgroups_path(config);
	struct apply_ctx a = { .path = path, .res = get(config, "linux", "resources"), .pid = pid };
	int rc = path ? each_hierarchy(apply_one, &a, err) : 0;
	yajl_tree_free(config);
	return rc;
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

void rt_cgroup_remove(const char *dir)
{
	nscell_error_t err = { 0 };
	yajl_val config = read_config(dir, &err);
	const char *path = config ? cgroups_path(config) : NULL;
	if (path && !strstr(path, ".."))
		each_hierarchy(remove_one, (void *)path, &err);
	yajl_tree_free(config);
}
