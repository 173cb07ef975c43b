/* config.json → plan, through yajl_tree.
 *
 * The reader accepts what oci/emit.c writes (keys in any order), so that
 * generate → read → generate gives the same bytes, and what `runc spec`
 * writes (capabilities, rlimits, runc's /dev, sysfs, cgroup, its masked
 * and read-only paths: README.md lists where nscell-shim differs), and
 * refuses everything else with one error naming the file and the field:
 * "config.json: process.args: expected an array of strings".  A field
 * nscell does not support is an error, never a silent difference.
 * Annotations outside org.nscell.* are ignored: they change nothing. */
#include "reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* org.nscell.conf, .server-template, .vhost-template (absolute paths)
 * and .hash (16 hex digits): where the plan came from, for the hooks.
 * 1 when k is one of them (*slot set), 0 when not. */
static int read_origin(struct reader *r, const char *k, const char *s, const char *f,
		       char ***slot)
{
	struct oci_hooks *h = r->hooks;
	if (strcmp(k, OCI_ANN_HASH) == 0) {
		if (strlen(s) != 16 || strspn(s, "0123456789abcdef") != 16)
			return rd_bad(r, f, "'%s' is not a hash nscell writes (16 hex digits)", s);
		*slot = &h->hash;
		return 1;
	}
	if (strcmp(k, OCI_ANN_CONF) == 0)
		*slot = &h->conf;
	else if (strcmp(k, OCI_ANN_SERVER_TPL) == 0)
		*slot = &h->server_tpl;
	else if (strcmp(k, OCI_ANN_VHOST_TPL) == 0)
		*slot = &h->vhost_tpl;
	else
		return 0;
	if (!rd_path_normal(s))
		return rd_bad(r, f, "'%s' is not an absolute, normalised path", s);
	return 1;
}

static int read_annotations(struct reader *r, yajl_val v)
{
	struct plan *p = r->p;
	int rc = rd_object(r, v, "annotations", false);
	if (rc <= 0)
		return rc;
	static const char *const known[] = { OCI_ANN_HOME, OCI_ANN_TEMPLATES, OCI_ANN_TMP,
					     OCI_ANN_UID, OCI_ANN_USER, OCI_ANN_VHOST,
					     OCI_ANN_CONF, OCI_ANN_HASH, OCI_ANN_SERVER_TPL,
					     OCI_ANN_VHOST_TPL, NULL };
	char f[256];
	for (size_t i = 0; i < v->u.object.len; i++) {
		const char *k = v->u.object.keys[i];
		const char *s;
		rd_sub(f, sizeof f, "annotations", k);
		if (rd_string(r, v->u.object.values[i], f, true, &s) < 0)
			return -1;
		size_t j = 0;
		while (known[j] && strcmp(known[j], k) != 0)
			j++;
		if (!known[j]) {
			if (strncmp(k, "org.nscell.", 11) == 0)
				return rd_bad(r, f, "not an annotation nscell knows");
			continue; /* somebody else's */
		}
		for (size_t d = 0; d < i; d++)
			if (strcmp(v->u.object.keys[d], k) == 0)
				return rd_bad(r, f, "given twice");
		char **slot = NULL;
		int origin = read_origin(r, k, s, f, &slot);
		if (origin < 0)
			return -1;
		if (origin == 1 && !(*slot = strdup(s)))
			return rd_oom(r);
		if (origin == 1)
			continue;
		if (strcmp(k, OCI_ANN_HOME) == 0)
			slot = &p->id.home;
		else if (strcmp(k, OCI_ANN_USER) == 0)
			slot = &p->id.user;
		else if (strcmp(k, OCI_ANN_VHOST) == 0)
			slot = &p->vhost;
		else if (strcmp(k, OCI_ANN_TMP) == 0)
			r->ann_tmp = s;
		else if (strcmp(k, OCI_ANN_UID) == 0)
			r->ann_uid = s;
		else {
			_cleanup_free_ char *list = strdup(s);
			if (!list)
				return rd_oom(r);
			char *save = NULL;
			for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save))
				if (!plan_intern_file(p, t))
					return rd_oom(r);
		}
		if (slot && !(*slot = strdup(s)))
			return rd_oom(r);
	}
	return 0;
}

static int read_root(struct reader *r, yajl_val v)
{
	static const char *const known[] = { "path", "readonly", NULL };
	const char *path;
	if (rd_object(r, v, "root", true) < 0 || rd_check_keys(r, v, "root", known) < 0 ||
	    rd_string(r, rd_get(v, "path"), "root.path", true, &path) < 0 ||
	    rd_bool(r, rd_get(v, "readonly"), "root.readonly", &r->p->rootfs_readonly) < 0)
		return -1;
	if (!*path)
		return rd_bad(r, "root.path", "is empty");
	if (!(r->p->rootfs = strdup(path)))
		return rd_oom(r);
	return 0;
}

static const struct {
	const char *name;
	unsigned bit;
} ns_types[] = {
	{ "pid", PLAN_NS_PID },   { "network", PLAN_NS_NET }, { "ipc", PLAN_NS_IPC },
	{ "uts", PLAN_NS_UTS },   { "mount", PLAN_NS_MOUNT }, { "user", PLAN_NS_USER },
	{ "cgroup", PLAN_NS_CGROUP },
};

static int read_namespaces(struct reader *r, yajl_val v)
{
	static const char *const known[] = { "type", NULL };
	char f[64], g[80];
	if (!v)
		return rd_bad(r, "linux.namespaces", "missing (required)");
	if (!YAJL_IS_ARRAY(v))
		return rd_bad(r, "linux.namespaces", "expected an array of objects");
	r->p->namespaces = 0;
	for (size_t i = 0; i < v->u.array.len; i++) {
		yajl_val n = v->u.array.values[i];
		const char *type;
		rd_idx(f, sizeof f, "linux.namespaces", i);
		if (rd_object(r, n, f, true) < 0)
			return -1;
		if (rd_get(n, "path"))
			return rd_bad(r, rd_sub(g, sizeof g, f, "path"),
				      "not supported by nscell (joining a namespace)");
		if (rd_check_keys(r, n, f, known) < 0 ||
		    rd_string(r, rd_get(n, "type"), rd_sub(g, sizeof g, f, "type"), true,
			      &type) < 0)
			return -1;
		size_t j = 0;
		while (j < sizeof ns_types / sizeof *ns_types && strcmp(ns_types[j].name, type))
			j++;
		if (j == sizeof ns_types / sizeof *ns_types)
			return rd_bad(r, g, "namespace '%s' not supported by nscell", type);
		if (r->p->namespaces & ns_types[j].bit)
			return rd_bad(r, g, "namespace '%s' given twice", type);
		r->p->namespaces |= ns_types[j].bit;
	}
	if (!(r->p->namespaces & PLAN_NS_MOUNT))
		return rd_bad(r, "linux.namespaces", "nscell needs a mount namespace");
	return 0;
}

static int read_idmaps(struct reader *r, yajl_val v, const char *field, struct oci_idmap **out,
		       size_t *n)
{
	static const char *const known[] = { "containerID", "hostID", "size", NULL };
	char f[64], g[80];
	*out = NULL;
	*n = 0;
	if (!v)
		return rd_bad(r, field, "missing (a user namespace needs it)");
	if (!YAJL_IS_ARRAY(v))
		return rd_bad(r, field, "expected an array of mappings");
	if (!v->u.array.len)
		return rd_bad(r, field, "is empty");
	if (!(*out = calloc(v->u.array.len, sizeof **out)))
		return rd_oom(r);
	for (size_t i = 0; i < v->u.array.len; i++) {
		yajl_val m = v->u.array.values[i];
		struct oci_idmap *o = &(*out)[i];
		rd_idx(f, sizeof f, field, i);
		if (rd_object(r, m, f, true) < 0 || rd_check_keys(r, m, f, known) < 0 ||
		    rd_u32(r, rd_get(m, "containerID"), rd_sub(g, sizeof g, f, "containerID"),
			   &o->container) < 0 ||
		    rd_u32(r, rd_get(m, "hostID"), rd_sub(g, sizeof g, f, "hostID"),
			   &o->host) < 0 ||
		    rd_u32(r, rd_get(m, "size"), rd_sub(g, sizeof g, f, "size"), &o->size) < 0)
			return -1;
		*n = i + 1;
	}
	return 0;
}

/* Rootless is what emit.c writes for it: container 0 → the caller's own
 * id, process as container 0:0, no additional groups. */
static int read_identity(struct reader *r, yajl_val lx, struct oci_idmap **um, size_t *nu,
			 struct oci_idmap **gm, size_t *ng)
{
	struct plan *p = r->p;
	*um = *gm = NULL;
	*nu = *ng = 0;
	if (!(p->namespaces & PLAN_NS_USER)) {
		if (rd_get(lx, "uidMappings") || rd_get(lx, "gidMappings"))
			return rd_bad(r, rd_get(lx, "uidMappings") ? "linux.uidMappings" :
				      "linux.gidMappings", "given without a user namespace");
	} else if (read_idmaps(r, rd_get(lx, "uidMappings"), "linux.uidMappings", um, nu) < 0 ||
		   read_idmaps(r, rd_get(lx, "gidMappings"), "linux.gidMappings", gm, ng) < 0) {
		return -1;
	}
	r->rootless = *nu == 1 && *ng == 1 && r->user_uid == 0 && r->user_gid == 0 &&
		      !r->has_groups && (*um)[0].container == 0 && (*um)[0].size == 1 &&
		      (*gm)[0].container == 0 && (*gm)[0].size == 1 && (*um)[0].host != 0;
	p->rootless = r->rootless;
	/* runc spec --rootless's container root: 0 → the caller, as runc */
	p->userns_root = r->rootless && !r->ann_uid;
	p->id.uid = r->rootless ? (*um)[0].host : r->user_uid;
	p->id.gid = r->rootless ? (*gm)[0].host : r->user_gid;
	return 0;
}

/* After the mounts (the gid mapping depends on /dev): the mappings must be
 * what nscell writes for this identity. */
static int check_mappings(struct reader *r, const struct oci_idmap *m, size_t n, bool gids)
{
	if (!(r->p->namespaces & PLAN_NS_USER))
		return 0;
	const char *field = gids ? "linux.gidMappings" : "linux.uidMappings";
	struct oci_idmap *want;
	size_t nwant;
	if (oci_id_mappings(r->p, r->rootless, gids, &want, &nwant) < 0)
		return rd_oom(r);
	bool same = n == nwant;
	for (size_t i = 0; same && i < n; i++)
		same = m[i].container == want[i].container && m[i].host == want[i].host &&
		       m[i].size == want[i].size;
	free(want);
	if (!same)
		return rd_bad(r, field, "not a mapping nscell writes for %s %u (0 and the user's "
			      "own ids 1:1, or rootless: container 0 to the caller)",
			      gids ? "gid" : "uid", gids ? (unsigned)r->p->id.gid :
			      (unsigned)r->p->id.uid);
	return 0;
}

/* runc's default device rule, deny everything (runc then allows its own
 * list of standard nodes): nscell's /dev holds only those nodes and the
 * process cannot make others, so the effect is the same.  No other rule. */
static int read_devices(struct reader *r, yajl_val v)
{
	static const char *const known[] = { "allow", "access", NULL };
	const char *f = "linux.resources.devices", *access;
	char g[64], h[80];
	bool allow = true;
	yajl_val d = YAJL_IS_ARRAY(v) && v->u.array.len == 1 ? v->u.array.values[0] : NULL;
	if (!d)
		return rd_bad(r, f, "only [{\"allow\": false, \"access\": \"rwm\"}] (deny all, "
			      "runc's default) is supported by nscell");
	rd_idx(g, sizeof g, f, 0);
	if (rd_object(r, d, g, true) < 0 || rd_check_keys(r, d, g, known) < 0 ||
	    rd_bool(r, rd_get(d, "allow"), rd_sub(h, sizeof h, g, "allow"), &allow) < 0 ||
	    rd_string(r, rd_get(d, "access"), rd_sub(h, sizeof h, g, "access"), true, &access) < 0)
		return -1;
	if (!rd_get(d, "allow") || allow || strcmp(access, "rwm") != 0)
		return rd_bad(r, g, "only {\"allow\": false, \"access\": \"rwm\"} (deny all, "
			      "runc's default) is supported by nscell");
	return 0;
}

static int read_cgroup(struct reader *r, yajl_val lx)
{
	struct plan *p = r->p;
	yajl_val path = rd_get(lx, "cgroupsPath"), res = rd_get(lx, "resources");
	static const char *const known[] = { "memory", "cpu", "pids", "devices", NULL };
	/* another config's cgroup (containerd's "/default/ID", its device
	 * list), for nscell-runtime, which applies it as runc does */
	if (path && r->any_hooks && !r->ann_uid)
		return rd_runc_cgroup(r, path, res);
	if (res && (rd_object(r, res, "linux.resources", true) < 0 ||
		    rd_check_keys(r, res, "linux.resources", known) < 0 ||
		    (rd_get(res, "devices") && read_devices(r, rd_get(res, "devices")) < 0)))
		return -1;
	/* the device rule alone needs no cgroup of nscell's */
	if (res && rd_get(res, "devices") && res->u.object.len == 1 && !path)
		return 0;
	if (!path && !res)
		return 0;
	const char *field = path ? "linux.cgroupsPath" : "linux.resources";
	if (r->rootless)
		return rd_bad(r, field, "nscell writes no cgroup for rootless runc");
	if (!path || !res)
		return rd_bad(r, path ? "linux.resources" : "linux.cgroupsPath",
			      "missing (nscell writes both or neither)");
	const char *s;
	static const char *const limit[] = { "limit", NULL };
	static const char *const cpu[] = { "quota", "period", NULL };
	if (rd_string(r, path, "linux.cgroupsPath", true, &s) < 0)
		return -1;
	const char *slash = strrchr(s, '/');
	if (s[0] == '/' && slash > s && !(p->cgroup.parent = strndup(s + 1, slash - s - 1)))
		return rd_oom(r);
	yajl_val v;
	if ((v = rd_get(res, "memory")) &&
	    (rd_object(r, v, "linux.resources.memory", true) < 0 ||
	     rd_check_keys(r, v, "linux.resources.memory", limit) < 0 ||
	     rd_positive(r, rd_get(v, "limit"), "linux.resources.memory.limit",
			 &p->cgroup.memory_max) < 0))
		return -1;
	if ((v = rd_get(res, "pids")) &&
	    (rd_object(r, v, "linux.resources.pids", true) < 0 ||
	     rd_check_keys(r, v, "linux.resources.pids", limit) < 0 ||
	     rd_positive(r, rd_get(v, "limit"), "linux.resources.pids.limit",
			 &p->cgroup.pids_max) < 0))
		return -1;
	if ((v = rd_get(res, "cpu")) &&
	    (rd_object(r, v, "linux.resources.cpu", true) < 0 ||
	     rd_check_keys(r, v, "linux.resources.cpu", cpu) < 0 ||
	     rd_positive(r, rd_get(v, "quota"), "linux.resources.cpu.quota",
			 &p->cgroup.cpu_quota_us) < 0 ||
	     (rd_get(v, "period") && rd_positive(r, rd_get(v, "period"),
						 "linux.resources.cpu.period",
						 &p->cgroup.cpu_period_us) < 0)))
		return -1;
	if (!oci_cgroup_limited(p))
		return rd_bad(r, "linux.resources", "sets no limit");
	nscell_error_t e = { 0 };
	_cleanup_free_ char *want = oci_cgroup_path(p, &e);
	if (!want)
		return rd_bad(r, "linux.cgroupsPath", "%s", e.msg);
	if (strcmp(want, s) != 0)
		return rd_bad(r, "linux.cgroupsPath", "'%s' is not what nscell writes (%s)", s,
			      want);
	return 0;
}

static int read_linux(struct reader *r, yajl_val lx)
{
	static const char *const known[] = { "namespaces", "uidMappings", "gidMappings",
					     "cgroupsPath", "resources", "rootfsPropagation",
					     "maskedPaths", "readonlyPaths", "seccomp", NULL };
	const char *prop;
	if (rd_object(r, lx, "linux", true) < 0 || rd_check_keys(r, lx, "linux", known) < 0 ||
	    read_namespaces(r, rd_get(lx, "namespaces")) < 0 ||
	    rd_string(r, rd_get(lx, "rootfsPropagation"), "linux.rootfsPropagation", false,
		      &prop) < 0 ||
	    rd_seccomp(r, rd_get(lx, "seccomp")) < 0)
		return -1;
	/* nscell leaves it out: runc's default is rslave (see emit.c); the
	 * non-recursive values would leave mounts shared with the host */
	if (prop && strcmp(prop, "rslave") != 0)
		return rd_bad(r, "linux.rootfsPropagation", "'%s' not supported by nscell "
			      "(only rslave, runc's default: nothing may propagate to the host)",
			      prop);
	return 0;
}

static int read_tree(struct reader *r, yajl_val root)
{
	static const char *const top[] = { "ociVersion", "process", "root", "hostname",
					   "mounts", "hooks", "annotations", "linux", NULL };
	struct plan *p = r->p;
	const char *version, *hostname;
	if (!YAJL_IS_OBJECT(root))
		return nscell_error_set(r->err, EINVAL, "%s: expected a JSON object", r->name);
	if (rd_check_keys(r, root, "", top) < 0 ||
	    rd_string(r, rd_get(root, "ociVersion"), "ociVersion", true, &version) < 0)
		return -1;
	if (strncmp(version, "1.0.", 4) != 0 && strncmp(version, "1.1.", 4) != 0)
		return rd_bad(r, "ociVersion", "version '%s' not supported (nscell writes %s)",
			      version, OCI_VERSION);
	if (read_annotations(r, rd_get(root, "annotations")) < 0 ||
	    rd_hooks(r, rd_get(root, "hooks")) < 0 ||
	    read_root(r, rd_get(root, "root")) < 0 ||
	    rd_process(r, rd_get(root, "process")) < 0 ||
	    rd_string(r, rd_get(root, "hostname"), "hostname", false, &hostname) < 0)
		return -1;
	yajl_val lx = rd_get(root, "linux");
	if (read_linux(r, lx) < 0)
		return -1;
	if (hostname && *hostname) {
		if (!(p->namespaces & PLAN_NS_UTS))
			return rd_bad(r, "hostname", "needs a uts namespace");
		if (!(p->hostname = strdup(hostname)))
			return rd_oom(r);
	}
	_cleanup_free_ struct oci_idmap *um = NULL;
	_cleanup_free_ struct oci_idmap *gm = NULL;
	size_t nu, ng;
	if (read_identity(r, lx, &um, &nu, &gm, &ng) < 0 ||
	    rd_mounts(r, rd_get(root, "mounts")) < 0 ||
	    check_mappings(r, um, nu, false) < 0 || check_mappings(r, gm, ng, true) < 0 ||
	    read_cgroup(r, lx) < 0 ||
	    rd_paths(r, rd_get(lx, "maskedPaths"), "linux.maskedPaths", PLAN_MASK,
		     oci_proc_masked) < 0 ||
	    rd_paths(r, rd_get(lx, "readonlyPaths"), "linux.readonlyPaths", PLAN_REMOUNT_RO,
		     oci_proc_readonly) < 0)
		return -1;
	if (r->ann_uid) {
		char uid[24];
		snprintf(uid, sizeof uid, "%u", (unsigned)p->id.uid);
		if (strcmp(uid, r->ann_uid) != 0)
			return rd_bad(r, "annotations." OCI_ANN_UID, "'%s' is not the user's uid %s",
				      r->ann_uid, uid);
	}
	return 0;
}

static int read_buffer(struct reader *r, const char *buf, size_t len)
{
	if (len > READ_MAX_CONFIG)
		return nscell_error_set(r->err, EFBIG, "%s: larger than 16 MiB", r->name);
	if (memchr(buf, '\0', len))
		return nscell_error_set(r->err, EINVAL, "%s: invalid JSON: contains a NUL byte",
					r->name);
	_cleanup_free_ char *text = strndup(buf, len);
	if (!text)
		return rd_oom(r);
	char msg[512];
	yajl_val root = yajl_tree_parse(text, msg, sizeof msg);
	if (!root) {
		/* yajl's message is several lines, the first says what */
		msg[strcspn(msg, "\n")] = '\0';
		return nscell_error_set(r->err, EINVAL, "%s: invalid JSON: %s", r->name,
					*msg ? msg : "parse error");
	}
	int rc = read_tree(r, root);
	if (rc == 0 && r->tree)
		*r->tree = root;
	else
		yajl_tree_free(root);
	return rc;
}

int oci_config_read_buffer_hooks(struct plan *p, const char *name, const char *buf,
				 size_t len, struct oci_hooks *h, nscell_error_t *err)
{
	struct reader r = { .p = p, .name = name ? name : "config.json", .err = err,
			    .bundle_fd = -1, .hooks = h };
	memset(h, 0, sizeof *h);
	return read_buffer(&r, buf, len);
}

int oci_config_read_buffer(struct plan *p, const char *name, const char *buf, size_t len,
			   nscell_error_t *err)
{
	struct oci_hooks h;
	int rc = oci_config_read_buffer_hooks(p, name, buf, len, &h, err);
	oci_hooks_free(&h);
	return rc;
}

int oci_config_read_file(struct plan *p, const char *path, nscell_error_t *err)
{
	struct oci_hooks h;
	int rc = oci_config_read_file_hooks(p, path, &h, err);
	oci_hooks_free(&h);
	return rc;
}

static int read_file(struct reader *r, const char *path);

int oci_config_read_file_hooks(struct plan *p, const char *path, struct oci_hooks *h,
			       nscell_error_t *err)
{
	struct reader r = { .p = p, .name = path, .err = err, .bundle_fd = -1, .hooks = h };
	memset(h, 0, sizeof *h);
	return read_file(&r, path);
}

int oci_config_read_file_any_hooks(struct plan *p, const char *path, yajl_val *tree,
				   nscell_error_t *err)
{
	struct oci_hooks h = { 0 };
	struct reader r = { .p = p, .name = path, .err = err, .bundle_fd = -1, .hooks = &h,
			    .any_hooks = true, .tree = tree };
	int rc = read_file(&r, path);
	oci_hooks_free(&h);
	return rc;
}

static int read_file(struct reader *r, const char *path)
{
	nscell_error_t *err = r->err;
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	if (fd < 0)
		return nscell_error_errno(err, errno, "%s", path);
	if (fstat(fd, &st) < 0)
		return nscell_error_errno(err, errno, "%s", path);
	if (!S_ISREG(st.st_mode))
		return nscell_error_set(err, EINVAL, "%s: not a regular file", path);
	if ((uint64_t)st.st_size > READ_MAX_CONFIG)
		return nscell_error_set(err, EFBIG, "%s: larger than 16 MiB", path);
	_cleanup_free_ char *buf = malloc(st.st_size + 1);
	size_t len = 0;
	if (!buf)
		return rd_oom(r);
	for (;;) {
		ssize_t k = read(fd, buf + len, st.st_size + 1 - len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return nscell_error_errno(err, errno, "%s: read", path);
		if (k == 0)
			break;
		len += k;
		if (len > (size_t)st.st_size)
			return nscell_error_set(err, EIO, "%s: changed while read", path);
	}
	_cleanup_free_ char *dir = strdup(path);
	if (!dir)
		return rd_oom(r);
	char *slash = strrchr(dir, '/');
	if (slash == dir)
		dir[1] = '\0';
	else if (slash)
		*slash = '\0';
	_cleanup_close_ int bfd = open(slash ? dir : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	r->bundle_fd = bfd;
	return read_buffer(r, buf, len);
}
