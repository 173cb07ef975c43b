/* Plan → OCI runtime-spec 1.0.2 config.json, through yajl_gen.
 *
 * Deterministic: keys in a fixed order, values only from the plan (no time,
 * no host state), so the same plan gives the same bytes.  Every field runc
 * would otherwise default is written out, except where noted:
 *
 * - process.user.umask is left out: it is a runtime-spec 1.1 field, and runc
 *   sets umask 0022 itself whenever a mount namespace is used (always here).
 * - process.rlimits: only those of the plan (a config's; a template has
 *   none, so the caller's limits are inherited).
 * - process.capabilities: all five sets empty, unless the plan names some
 *   (a config's: a template never does).
 * - linux.devices: runc makes the device nodes of PLAN_DEV (oci/rules.c).
 * - linux.resources.devices: runc always installs its default device cgroup
 *   policy (deny all but the standard nodes) when it manages a cgroup.
 * - linux.seccomp and the masked and read-only paths below /proc are the
 *   shim's own (oci/rules.c), written for every plan.
 * - linux.rootfsPropagation is left out, on purpose: absent, runc makes the
 *   whole copied mount tree a slave (MS_SLAVE|MS_REC, prepareRoot), so host
 *   mounts propagate in (as with LiteSpeed and bwrap) and nothing the
 *   sandbox mounts propagates out.  The 1.0.2 schema allows only the
 *   non-recursive values: "slave" would make "/" alone a slave and leave
 *   every other copied mount a shared peer of the host's, so a bind below
 *   one of them would reach the host.  runc accepts "rslave", but the
 *   schema does not.
 */
#include "oci.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

struct emit {
	yajl_gen g;
	const struct plan *p;
	bool rootless;
	const struct oci_hooks *hooks; /* NULL: no hooks, no origin annotations */
	yajl_gen_status status; /* first failure */
	char where[256];        /* what was being written, for errors */
};

static void chk(struct emit *e, yajl_gen_status s)
{
	if (s != yajl_gen_status_ok && e->status == yajl_gen_status_ok)
		e->status = s;
}

static void str(struct emit *e, const char *s)
{
	chk(e, yajl_gen_string(e->g, (const unsigned char *)s, strlen(s)));
}

static void key(struct emit *e, const char *k)
{
	str(e, k);
}

static void num(struct emit *e, long long v)
{
	chk(e, yajl_gen_integer(e->g, v));
}

static void boolean(struct emit *e, bool v)
{
	chk(e, yajl_gen_bool(e->g, v));
}

static void map_open(struct emit *e) { chk(e, yajl_gen_map_open(e->g)); }
static void map_close(struct emit *e) { chk(e, yajl_gen_map_close(e->g)); }
static void arr_open(struct emit *e) { chk(e, yajl_gen_array_open(e->g)); }
static void arr_close(struct emit *e) { chk(e, yajl_gen_array_close(e->g)); }

static void strv(struct emit *e, char *const *v)
{
	arr_open(e);
	for (size_t i = 0; v && v[i]; i++)
		str(e, v[i]);
	arr_close(e);
}

static void where(struct emit *e, const char *what, const char *name)
{
	if (e->status == yajl_gen_status_ok)
		snprintf(e->where, sizeof e->where, "%s%s%s", what, name ? " " : "",
			 name ? name : "");
}

/* a set of the plan's capabilities, by number */
static void cap_set(struct emit *e, uint64_t set)
{
	arr_open(e);
	for (int cap = 0; cap < PLAN_CAP_COUNT; cap++)
		if (set & (1ull << cap))
			str(e, plan_cap_name(cap));
	arr_close(e);
}

static void u64(struct emit *e, uint64_t v)
{
	char buf[24];
	int n = snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
	chk(e, yajl_gen_number(e->g, buf, (size_t)n));
}

static void emit_rlimits(struct emit *e)
{
	const struct plan_process *pp = &e->p->proc;
	if (!pp->nrlimits)
		return;
	key(e, "rlimits");
	arr_open(e);
	for (size_t i = 0; i < pp->nrlimits; i++) {
		const char *name = plan_rlimit_name(pp->rlimits[i].resource);
		map_open(e);
		key(e, "type");
		str(e, name ? name : "?");
		key(e, "hard");
		u64(e, pp->rlimits[i].hard);
		key(e, "soft");
		u64(e, pp->rlimits[i].soft);
		map_close(e);
	}
	arr_close(e);
}

static void emit_process(struct emit *e)
{
	const struct plan *p = e->p;
	where(e, "process", NULL);
	key(e, "process");
	map_open(e);
	key(e, "terminal");
	/* a config read back (nscell export never asks for one) */
	boolean(e, p->proc.terminal);
	if (p->proc.console_height || p->proc.console_width) {
		key(e, "consoleSize");
		map_open(e);
		key(e, "height");
		num(e, p->proc.console_height);
		key(e, "width");
		num(e, p->proc.console_width);
		map_close(e);
	}
	key(e, "user");
	map_open(e);
	key(e, "uid");
	num(e, oci_container_uid(p, e->rootless));
	key(e, "gid");
	num(e, oci_container_gid(p, e->rootless));
	if (!e->rootless) {
		/* rootless: setgroups is denied in the user namespace */
		key(e, "additionalGids");
		arr_open(e);
		for (size_t i = 0; i < p->id.ngroups; i++)
			num(e, p->id.groups[i]);
		arr_close(e);
	}
	map_close(e);
	key(e, "args");
	if (p->proc.argv && p->proc.argv[0]) {
		strv(e, p->proc.argv);
	} else {
		arr_open(e);
		str(e, p->id.shell ? p->id.shell : "/bin/sh");
		arr_close(e);
	}
	key(e, "env");
	strv(e, p->proc.env);
	key(e, "cwd");
	str(e, p->proc.cwd ? p->proc.cwd : p->id.home ? p->id.home : "/");
	key(e, "capabilities");
	map_open(e);
	static const char *const sets[] = { "bounding", "effective", "inheritable",
					    "permitted", "ambient" };
	const struct plan_caps *c = &p->proc.caps;
	const uint64_t have[] = { c->bounding, c->effective, c->inheritable, c->permitted,
				  c->ambient };
	for (size_t i = 0; i < sizeof sets / sizeof *sets; i++) {
		key(e, sets[i]);
		cap_set(e, p->proc.has_caps ? have[i] : 0);
	}
	map_close(e);
	emit_rlimits(e);
	key(e, "noNewPrivileges");
	boolean(e, true);
	map_close(e);
}

static void emit_mount(struct emit *e, const char *dst, const char *type, const char *src,
		       const struct oci_mount_opts *o)
{
	map_open(e);
	key(e, "destination");
	str(e, dst);
	key(e, "type");
	str(e, type);
	key(e, "source");
	str(e, src);
	key(e, "options");
	arr_open(e);
	for (size_t i = 0; i < o->n; i++)
		str(e, o->v[i]);
	arr_close(e);
	map_close(e);
}

static int emit_dev(struct emit *e, const struct plan_mount *m)
{
	for (int part = 0; part < OCI_DEV_NPARTS; part++) {
		struct oci_mount_opts o;
		char *dst = NULL;
		const char *base = strcmp(m->dst, "/") == 0 ? "" : m->dst;
		if (asprintf(&dst, "%s%s", part == OCI_DEV_TMPFS ? m->dst : base,
			     oci_dev_suffix[part]) < 0)
			return -1;
		oci_dev_options(part, e->p->namespaces & PLAN_NS_USER, m->flags & PLAN_F_RUNC_DEV,
				&o);
		emit_mount(e, dst, oci_dev_type[part], oci_dev_source[part], &o);
		free(dst);
	}
	return 0;
}

static int emit_mounts(struct emit *e, nscell_error_t *err)
{
	const struct plan *p = e->p;
	key(e, "mounts");
	arr_open(e);
	for (size_t i = 0; i < p->nmounts; i++) {
		const struct plan_mount *m = &p->mounts[i];
		struct oci_mount_opts o;
		where(e, plan_op_name(m->op), m->dst);
		if (!m->dst || m->dst[0] != '/')
			return nscell_error_set(err, 0, "%s: destination is not absolute",
						plan_op_name(m->op));
		switch (m->op) {
		case PLAN_BIND:
		case PLAN_TMP:
			if (!m->src)
				return nscell_error_set(err, 0, "%s %s: no source",
							plan_op_name(m->op), m->dst);
			oci_mount_options(p, m, e->rootless, false, &o);
			emit_mount(e, m->dst, "bind", m->src, &o);
			break;
		case PLAN_TMPFS:
			oci_mount_options(p, m, e->rootless, false, &o);
			emit_mount(e, m->dst, "tmpfs", "tmpfs", &o);
			break;
		case PLAN_PROC:
			oci_mount_options(p, m, e->rootless, false, &o);
			emit_mount(e, m->dst, "proc", "proc", &o);
			break;
		case PLAN_MQUEUE:
			oci_mount_options(p, m, e->rootless, false, &o);
			emit_mount(e, m->dst, "mqueue", "mqueue", &o);
			break;
		case PLAN_SYSFS:
		case PLAN_CGROUP: /* a config's, read back */
			oci_mount_options(p, m, e->rootless, false, &o);
			emit_mount(e, m->dst, plan_op_name(m->op), plan_op_name(m->op), &o);
			break;
		case PLAN_DEV:
			if (emit_dev(e, m) < 0)
				return nscell_error_set(err, 0, "out of memory");
			break;
		case PLAN_DIR:
		case PLAN_COPY:
		case PLAN_FILE:
		case PLAN_SYMLINK: {
			/* they live in the rootfs, unless a mount above hides them */
			const struct plan_mount *h = oci_hidden_by(p, i);
			if (!h)
				break;
			char at[256];
			if (m->op == PLAN_SYMLINK)
				return nscell_error_set(err, 0,
					"symlink %s: hidden by the %s mount at %s, and a bundle "
					"cannot create a symlink inside a mount (runc makes none) "
					"(%s)", m->dst, plan_op_name(h->op), h->dst,
					plan_origin_str(&m->origin, at, sizeof at));
			char *src = NULL;
			if (asprintf(&src, "%s%s", OCI_FILES_DIR, m->dst) < 0)
				return nscell_error_set(err, 0, "out of memory");
			oci_mount_options(p, m, e->rootless, true, &o);
			emit_mount(e, m->dst, "bind", src, &o);
			free(src);
			break;
		}
		case PLAN_MASK:
		case PLAN_REMOUNT_RO:
			break; /* linux.maskedPaths, linux.readonlyPaths */
		}
	}
	arr_close(e);
	return 0;
}

static void ann(struct emit *e, const char *k, const char *v)
{
	key(e, k);
	str(e, v);
}

/* A comma-joined list of the plan's strings; NULL when empty. */
static int join(char **out, size_t n, const char *(*get)(const struct plan *, size_t, void *),
		const struct plan *p, void *arg)
{
	size_t len = 0;
	*out = NULL;
	for (size_t i = 0; i < n; i++) {
		const char *s = get(p, i, arg);
		if (s)
			len += strlen(s) + 1;
	}
	if (!len)
		return 0;
	char *buf = malloc(len);
	if (!buf)
		return -1;
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const char *s = get(p, i, arg);
		if (!s)
			continue;
		if (buf[0])
			strcat(buf, ",");
		strcat(buf, s);
	}
	*out = buf;
	return 0;
}

static const char *get_file(const struct plan *p, size_t i, void *arg)
{
	return p->files[i];
}

static const char *get_tmp(const struct plan *p, size_t i, void *arg)
{
	return p->mounts[i].op == PLAN_TMP ? p->mounts[i].dst : NULL;
}

/* Annotations in key order.  org.nscell.tmp names the binds that are
 * disk-backed tmp dirs, so reading the config back can tell them from
 * plain binds; org.nscell.home lets an export of that plan find where to
 * start creating their sources as the user. */
static int emit_annotations(struct emit *e, nscell_error_t *err)
{
	const struct plan *p = e->p;
	_cleanup_free_ char *templates = NULL;
	_cleanup_free_ char *tmps = NULL;
	if (join(&templates, p->nfiles, get_file, p, NULL) < 0 ||
	    join(&tmps, p->nmounts, get_tmp, p, NULL) < 0)
		return nscell_error_set(err, 0, "annotations: out of memory");
	for (size_t i = 0; i < p->nmounts; i++)
		if (p->mounts[i].op == PLAN_TMP && strchr(p->mounts[i].dst, ','))
			return nscell_error_set(err, 0, "tmp %s: a ',' cannot be annotated",
						p->mounts[i].dst);
	char uid[24];
	snprintf(uid, sizeof uid, "%u", (unsigned)p->id.uid);
	const struct oci_hooks *h = e->hooks;
	where(e, "annotations", NULL);
	key(e, "annotations");
	map_open(e);
	if (h && h->conf)
		ann(e, OCI_ANN_CONF, h->conf);
	if (h && h->hash)
		ann(e, OCI_ANN_HASH, h->hash);
	if (p->id.home)
		ann(e, OCI_ANN_HOME, p->id.home);
	if (h && h->server_tpl)
		ann(e, OCI_ANN_SERVER_TPL, h->server_tpl);
	if (templates)
		ann(e, OCI_ANN_TEMPLATES, templates);
	if (tmps)
		ann(e, OCI_ANN_TMP, tmps);
	ann(e, OCI_ANN_UID, uid);
	if (p->id.user)
		ann(e, OCI_ANN_USER, p->id.user);
	if (p->vhost)
		ann(e, OCI_ANN_VHOST, p->vhost);
	if (h && h->vhost_tpl)
		ann(e, OCI_ANN_VHOST_TPL, h->vhost_tpl);
	map_close(e);
	return 0;
}

static int emit_mappings(struct emit *e, const char *name, bool gids, nscell_error_t *err)
{
	struct oci_idmap *m;
	size_t n;
	if (oci_id_mappings(e->p, e->rootless, gids, &m, &n) < 0)
		return nscell_error_set(err, 0, "linux.%s: out of memory", name);
	key(e, name);
	arr_open(e);
	for (size_t i = 0; i < n; i++) {
		map_open(e);
		key(e, "containerID");
		num(e, m[i].container);
		key(e, "hostID");
		num(e, m[i].host);
		key(e, "size");
		num(e, m[i].size);
		map_close(e);
	}
	arr_close(e);
	free(m);
	return 0;
}

/* Below each proc mount what the shim hides there (defaults), then the
 * plan's own entries of op. */
static void emit_paths(struct emit *e, const char *name, enum plan_op op,
		       const char *const *defaults)
{
	char path[4096 + 64];
	key(e, name);
	arr_open(e);
	for (size_t i = 0; i < e->p->nmounts; i++)
		for (size_t j = 0; e->p->mounts[i].op == PLAN_PROC && defaults[j]; j++)
			str(e, oci_proc_path(path, sizeof path, e->p->mounts[i].dst, defaults[j]));
	for (size_t i = 0; i < e->p->nmounts; i++)
		if (e->p->mounts[i].op == op)
			str(e, e->p->mounts[i].dst);
	arr_close(e);
}

/* the shim's filter against TIOCSTI and TIOCLINUX (oci/rules.c) */
static void emit_seccomp(struct emit *e)
{
	key(e, "seccomp");
	map_open(e);
	key(e, "defaultAction");
	str(e, "SCMP_ACT_ALLOW");
	key(e, "architectures");
	arr_open(e);
	for (size_t i = 0; oci_seccomp_arches[i]; i++)
		str(e, oci_seccomp_arches[i]);
	arr_close(e);
	key(e, "syscalls");
	arr_open(e);
	for (size_t i = 0; i < OCI_SECCOMP_NREQUESTS; i++) {
		map_open(e);
		key(e, "names");
		arr_open(e);
		str(e, "ioctl");
		arr_close(e);
		key(e, "action");
		str(e, "SCMP_ACT_ERRNO");
		key(e, "errnoRet");
		num(e, OCI_SECCOMP_ERRNO);
		key(e, "args");
		arr_open(e);
		map_open(e);
		key(e, "index");
		num(e, 1);
		key(e, "value");
		num(e, OCI_SECCOMP_MASK);
		key(e, "valueTwo");
		num(e, oci_seccomp_requests[i]);
		key(e, "op");
		str(e, "SCMP_CMP_MASKED_EQ");
		map_close(e);
		arr_close(e);
		map_close(e);
	}
	arr_close(e);
	map_close(e);
}

static const struct {
	unsigned bit;
	const char *name;
} ns_names[] = {
	{ PLAN_NS_PID, "pid" },   { PLAN_NS_NET, "network" }, { PLAN_NS_IPC, "ipc" },
	{ PLAN_NS_UTS, "uts" },   { PLAN_NS_MOUNT, "mount" }, { PLAN_NS_USER, "user" },
	{ PLAN_NS_CGROUP, "cgroup" },
};

static int emit_resources(struct emit *e, nscell_error_t *err)
{
	const struct plan_cgroup *c = &e->p->cgroup;
	/* rootless runc cannot manage a cgroup v1 hierarchy: no limits */
	if (e->rootless || !oci_cgroup_limited(e->p))
		return 0;
	_cleanup_free_ char *path = oci_cgroup_path(e->p, err);
	if (!path)
		return -1;
	key(e, "cgroupsPath");
	str(e, path);
	key(e, "resources");
	map_open(e);
	if (c->memory_max > 0) {
		key(e, "memory");
		map_open(e);
		key(e, "limit");
		num(e, c->memory_max);
		map_close(e);
	}
	if (c->cpu_quota_us > 0) {
		key(e, "cpu");
		map_open(e);
		key(e, "quota");
		num(e, c->cpu_quota_us);
		if (c->cpu_period_us > 0) {
			key(e, "period");
			num(e, c->cpu_period_us);
		}
		map_close(e);
	}
	if (c->pids_max > 0) {
		key(e, "pids");
		map_open(e);
		key(e, "limit");
		num(e, c->pids_max);
		map_close(e);
	}
	map_close(e);
	return 0;
}

static int emit_linux(struct emit *e, nscell_error_t *err)
{
	const struct plan *p = e->p;
	where(e, "linux", NULL);
	key(e, "linux");
	map_open(e);
	key(e, "namespaces");
	arr_open(e);
	for (size_t i = 0; i < sizeof ns_names / sizeof *ns_names; i++) {
		if (!(p->namespaces & ns_names[i].bit))
			continue;
		map_open(e);
		key(e, "type");
		str(e, ns_names[i].name);
		map_close(e);
	}
	arr_close(e);
	if (p->namespaces & PLAN_NS_USER) {
		if (emit_mappings(e, "uidMappings", false, err) < 0 ||
		    emit_mappings(e, "gidMappings", true, err) < 0)
			return -1;
	}
	if (emit_resources(e, err) < 0)
		return -1;
	where(e, "linux.maskedPaths", NULL);
	emit_paths(e, "maskedPaths", PLAN_MASK, oci_proc_masked);
	where(e, "linux.readonlyPaths", NULL);
	emit_paths(e, "readonlyPaths", PLAN_REMOUNT_RO, oci_proc_readonly);
	where(e, "linux.seccomp", NULL);
	emit_seccomp(e);
	map_close(e);
	return 0;
}

static int check_plan(const struct plan *p, bool rootless, nscell_error_t *err)
{
	if (!(p->namespaces & PLAN_NS_MOUNT))
		return nscell_error_set(err, 0, "a bundle needs a mount namespace");
	if (rootless && !(p->namespaces & PLAN_NS_USER))
		return nscell_error_set(err, 0, "rootless needs a user namespace "
					"(the template says no-unshare-user)");
	if (p->hostname && !(p->namespaces & PLAN_NS_UTS))
		return nscell_error_set(err, 0, "hostname %s needs a uts namespace", p->hostname);
	return 0;
}

static int generate(struct emit *e, const struct oci_opts *o, nscell_error_t *err)
{
	const struct plan *p = e->p;
	const char *rootfs = o && o->rootfs ? o->rootfs : p->rootfs ? p->rootfs : "rootfs";
	map_open(e);
	key(e, "ociVersion");
	str(e, OCI_VERSION);
	emit_process(e);
	where(e, "root", NULL);
	key(e, "root");
	map_open(e);
	key(e, "path");
	str(e, rootfs);
	key(e, "readonly");
	boolean(e, p->rootfs_readonly);
	map_close(e);
	if (p->hostname) {
		where(e, "hostname", NULL);
		key(e, "hostname");
		str(e, p->hostname);
	}
	if (emit_mounts(e, err) < 0)
		return -1;
	if (e->hooks) {
		where(e, "hooks", NULL);
		if (oci_hooks_emit(e->g, e->hooks, err) < 0)
			return -1;
	}
	if (emit_annotations(e, err) < 0 || emit_linux(e, err) < 0)
		return -1;
	map_close(e);
	return 0;
}

int oci_config_generate(const struct plan *p, const struct oci_opts *o, char **out,
			size_t *len, nscell_error_t *err)
{
	struct emit e = { .p = p, .rootless = oci_rootless(p, o),
			  .hooks = o && o->hooks ? o->hook_info : NULL };
	*out = NULL;
	*len = 0;
	if (check_plan(p, e.rootless, err) < 0)
		return nscell_error_wrap(err, "config.json");
	if (o && o->hooks && !o->hook_info)
		return nscell_error_set(err, 0, "config.json: hooks: no hook program given");
	if (!(e.g = yajl_gen_alloc(NULL)))
		return nscell_error_set(err, 0, "config.json: out of memory");
	yajl_gen_config(e.g, yajl_gen_beautify, 1);
	yajl_gen_config(e.g, yajl_gen_indent_string, "  ");
	yajl_gen_config(e.g, yajl_gen_validate_utf8, 1);
	int rc = generate(&e, o, err);
	if (rc < 0) {
		nscell_error_wrap(err, "config.json");
	} else if (e.status != yajl_gen_status_ok) {
		rc = nscell_error_set(err, 0, "config.json: %s: %s", e.where,
				      e.status == yajl_gen_invalid_string ?
					      "a string is not valid UTF-8" :
					      "JSON generation failed");
	} else {
		const unsigned char *buf;
		size_t n;
		yajl_gen_get_buf(e.g, &buf, &n);
		if (!(*out = malloc(n + 1))) {
			rc = nscell_error_set(err, 0, "config.json: out of memory");
		} else {
			memcpy(*out, buf, n);
			(*out)[n] = '\0';
			*len = n;
		}
	}
	yajl_gen_free(e.g);
	return rc;
}
