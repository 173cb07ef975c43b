/* config.json linux.maskedPaths, linux.readonlyPaths and linux.seccomp →
 * plan.  Below every proc mount and in the seccomp filter is the shim's
 * own protection, which every plan gets (oci/rules.c): in a config nscell
 * wrote the reader checks it is there, exactly, and drops it, so export →
 * read → export gives the same bytes.  Another config's lists of paths
 * (runc spec's) are taken as runc takes them; a seccomp filter other than
 * nscell's is refused, none at all gets nscell's all the same. */
#include "reader.h"

#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

/* As nscell writes the list: first, below every proc mount, what the shim
 * hides there anyway (checked, exactly, and dropped), then the plan's own
 * entries. */
static int read_ours(struct reader *r, yajl_val v, const char *field,
		     const char *const *defaults, size_t *k)
{
	char f[64], want[4096 + 64];
	size_t n = v ? v->u.array.len : 0;
	for (size_t i = 0; i < r->p->nmounts; i++) {
		const struct plan_mount *m = &r->p->mounts[i];
		for (size_t j = 0; m->op == PLAN_PROC && defaults[j]; j++, (*k)++) {
			oci_proc_path(want, sizeof want, m->dst, defaults[j]);
			if (*k >= n)
				return rd_bad(r, field, "'%s' missing (nscell-shim hides it below "
					      "the proc mount at %s; nscell writes it first)", want,
					      m->dst);
			yajl_val s = v->u.array.values[*k];
			if (!YAJL_IS_STRING(s) || strcmp(s->u.string, want) != 0)
				return rd_bad(r, rd_idx(f, sizeof f, field, *k),
					      "expected '%s' (nscell writes what nscell-shim hides "
					      "below the proc mount at %s first, in its order)", want,
					      m->dst);
		}
	}
	return 0;
}

/* A config nscell wrote (it carries org.nscell.uid) lists what the shim
 * hides below /proc first: dropped.  Any other config (runc spec's) is
 * taken as runc takes it: its masks are made as runc makes them
 * (PLAN_F_RUNC_MASK) and a missing read-only path is skipped; the shim
 * still does its own below every proc mount (README.md). */
int rd_paths(struct reader *r, yajl_val v, const char *field, enum plan_op op,
	     const char *const *defaults)
{
	char f[64];
	if (v && !YAJL_IS_ARRAY(v))
		return rd_bad(r, field, "expected an array of paths");
	size_t n = v ? v->u.array.len : 0, k = 0;
	bool ours = r->ann_uid != NULL;
	/* checked before any entry is added: the plan's array moves */
	if (ours && read_ours(r, v, field, defaults, &k) < 0)
		return -1;
	unsigned flags = ours ? 0 : op == PLAN_MASK ? PLAN_F_RUNC_MASK : PLAN_F_TRY;
	for (; k < n; k++) {
		const char *path;
		if (rd_path(r, v->u.array.values[k], rd_idx(f, sizeof f, field, k), &path) < 0)
			return -1;
		if (!plan_add_mount(r->p, op, flags, NULL, path, 0, NULL))
			return rd_oom(r);
	}
	return 0;
}

/* ---- linux.seccomp ---- */

static const char filter_is[] = "nscell's filter makes ioctl TIOCSTI and TIOCLINUX fail "
				"with EPERM and allows everything else";

static int want_str(struct reader *r, yajl_val v, const char *field, const char *want)
{
	const char *s;
	if (rd_string(r, v, field, true, &s) < 0)
		return -1;
	if (strcmp(s, want) != 0)
		return rd_bad(r, field, "'%s' not supported by nscell (expected '%s': %s)", s,
			      want, filter_is);
	return 0;
}

static int want_int(struct reader *r, yajl_val v, const char *field, long long want)
{
	if (!v)
		return rd_bad(r, field, "missing (required)");
	if (!YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) != want)
		return rd_bad(r, field, "expected %lld (%s)", want, filter_is);
	return 0;
}

/* an array of n values; 0, or -1 with the error */
static int want_array(struct reader *r, yajl_val v, const char *field, size_t n,
		      const char *what)
{
	if (!v)
		return rd_bad(r, field, "missing (required)");
	if (!YAJL_IS_ARRAY(v) || v->u.array.len != n)
		return rd_bad(r, field, "expected %s (%s)", what, filter_is);
	return 0;
}

static int read_arch(struct reader *r, yajl_val v)
{
	const char *field = "linux.seccomp.architectures";
	char list[256] = "", f[96];
	size_t n = 0;
	for (; oci_seccomp_arches[n]; n++)
		snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", n ? ", " : "",
			 oci_seccomp_arches[n]);
	if (!v)
		return rd_bad(r, field, "missing (nscell names this build's architectures: [%s])",
			      list);
	if (!YAJL_IS_ARRAY(v) || v->u.array.len != n)
		return rd_bad(r, field, "expected [%s] (the architectures of this build, as "
			      "nscell-shim filters them)", list);
	for (size_t i = 0; i < n; i++)
		if (want_str(r, v->u.array.values[i], rd_idx(f, sizeof f, field, i),
			     oci_seccomp_arches[i]) < 0)
			return -1;
	return 0;
}

/* syscalls[i]: ioctl, request oci_seccomp_requests[i] on its low 32 bits */
static int read_rule(struct reader *r, yajl_val c, const char *field, size_t i)
{
	static const char *const keys[] = { "names", "action", "errnoRet", "args", NULL };
	static const char *const arg_keys[] = { "index", "value", "valueTwo", "op", NULL };
	char f[128], g[160];
	yajl_val names, args;
	if (rd_object(r, c, field, true) < 0 || rd_check_keys(r, c, field, keys) < 0 ||
	    want_array(r, names = rd_get(c, "names"), rd_sub(f, sizeof f, field, "names"), 1,
		       "[\"ioctl\"]") < 0 ||
	    want_str(r, names->u.array.values[0], rd_idx(g, sizeof g, f, 0), "ioctl") < 0 ||
	    want_str(r, rd_get(c, "action"), rd_sub(f, sizeof f, field, "action"),
		     "SCMP_ACT_ERRNO") < 0 ||
	    want_int(r, rd_get(c, "errnoRet"), rd_sub(f, sizeof f, field, "errnoRet"),
		     OCI_SECCOMP_ERRNO) < 0 ||
	    want_array(r, args = rd_get(c, "args"), rd_sub(f, sizeof f, field, "args"), 1,
		       "one argument condition") < 0)
		return -1;
	yajl_val a = args->u.array.values[0];
	char af[128];
	rd_idx(af, sizeof af, f, 0);
	/* SCMP_CMP_MASKED_EQ: value is the mask, valueTwo the request */
	if (rd_object(r, a, af, true) < 0 || rd_check_keys(r, a, af, arg_keys) < 0 ||
	    want_int(r, rd_get(a, "index"), rd_sub(g, sizeof g, af, "index"), 1) < 0 ||
	    want_str(r, rd_get(a, "op"), rd_sub(g, sizeof g, af, "op"), "SCMP_CMP_MASKED_EQ") < 0 ||
	    want_int(r, rd_get(a, "value"), rd_sub(g, sizeof g, af, "value"),
		     OCI_SECCOMP_MASK) < 0 ||
	    want_int(r, rd_get(a, "valueTwo"), rd_sub(g, sizeof g, af, "valueTwo"),
		     oci_seccomp_requests[i]) < 0)
		return -1;
	return 0;
}

int rd_seccomp(struct reader *r, yajl_val v)
{
	static const char *const known[] = { "defaultAction", "architectures", "syscalls", NULL };
	const char *field = "linux.seccomp";
	char f[96];
	/* nscell-shim loads its filter whatever a config says (README.md);
	 * nscell writes it into every config of its own */
	if (!v && r->ann_uid)
		return rd_bad(r, field, "missing (%s: nscell writes that filter)", filter_is);
	if (!v)
		return 0;
	yajl_val calls;
	if (rd_object(r, v, field, true) < 0 || rd_check_keys(r, v, field, known) < 0 ||
	    want_str(r, rd_get(v, "defaultAction"), "linux.seccomp.defaultAction",
		     "SCMP_ACT_ALLOW") < 0 ||
	    read_arch(r, rd_get(v, "architectures")) < 0 ||
	    want_array(r, calls = rd_get(v, "syscalls"), "linux.seccomp.syscalls",
		       OCI_SECCOMP_NREQUESTS, "two rules, TIOCSTI and TIOCLINUX") < 0)
		return -1;
	for (size_t i = 0; i < OCI_SECCOMP_NREQUESTS; i++)
		if (read_rule(r, calls->u.array.values[i],
			      rd_idx(f, sizeof f, "linux.seccomp.syscalls", i), i) < 0)
			return -1;
	return 0;
}

/* ---- linux.cgroupsPath and linux.resources as runc applies them ---- */

static int read_device_rule(struct reader *r, yajl_val d, const char *field)
{
	static const char *const known[] = { "allow", "type", "major", "minor", "access", NULL };
	char f[96];
	const char *type, *access;
	bool allow;
	if (rd_object(r, d, field, true) < 0 || rd_check_keys(r, d, field, known) < 0 ||
	    rd_bool(r, rd_get(d, "allow"), rd_sub(f, sizeof f, field, "allow"), &allow) < 0 ||
	    rd_string(r, rd_get(d, "type"), rd_sub(f, sizeof f, field, "type"), false, &type) < 0 ||
	    rd_string(r, rd_get(d, "access"), rd_sub(f, sizeof f, field, "access"), false,
		      &access) < 0)
		return -1;
	if (!rd_get(d, "allow"))
		return rd_bad(r, rd_sub(f, sizeof f, field, "allow"), "missing (required)");
	/* absent: all devices, every access (rd_string leaves NULL) */
	if (type && (strlen(type) != 1 || !strchr("acb", type[0])))
		return rd_bad(r, rd_sub(f, sizeof f, field, "type"), "expected a, c or b");
	if (access && (!*access || strlen(access) > 3 || strspn(access, "rwm") != strlen(access)))
		return rd_bad(r, rd_sub(f, sizeof f, field, "access"), "expected letters of rwm");
	struct plan_cgroup *cg = &r->p->cgroup;
	struct plan_device_rule *rule = &cg->devices[cg->ndevices++];
	*rule = (struct plan_device_rule){ .allow = allow, .type = type ? type[0] : 'a',
					   .major = -1, .minor = -1 };
	snprintf(rule->access, sizeof rule->access, "%s", access ? access : "rwm");
	static const char *const nums[] = { "major", "minor" };
	for (size_t i = 0; i < 2; i++) {
		yajl_val n = rd_get(d, nums[i]);
		if (n && (!YAJL_IS_INTEGER(n) || YAJL_GET_INTEGER(n) < -1 ||
			  YAJL_GET_INTEGER(n) > UINT32_MAX))
			return rd_bad(r, rd_sub(f, sizeof f, field, nums[i]),
				      "expected a device number (-1: any)");
		if (n)
			*(i ? &rule->minor : &rule->major) = YAJL_GET_INTEGER(n);
	}
	return 0;
}

/* res.name: an object of integers, its keys in known, each into the
 * plan's field of the same index in to */
static int read_ints(struct reader *r, yajl_val res, const char *name, const char *const *known,
		     int64_t *const *to)
{
	char f[64], g[96];
	yajl_val v = rd_get(res, name);
	rd_sub(f, sizeof f, "linux.resources", name);
	if (!v)
		return 0;
	if (rd_object(r, v, f, true) < 0 || rd_check_keys(r, v, f, known) < 0)
		return -1;
	for (size_t i = 0; i < v->u.object.len; i++) {
		if (!YAJL_IS_INTEGER(v->u.object.values[i]))
			return rd_bad(r, rd_sub(g, sizeof g, f, v->u.object.keys[i]),
				      "expected an integer");
		for (size_t k = 0; known[k]; k++)
			if (strcmp(known[k], v->u.object.keys[i]) == 0)
				*to[k] = YAJL_GET_INTEGER(v->u.object.values[i]);
	}
	return 0;
}

int rd_runc_cgroup(struct reader *r, yajl_val path, yajl_val res)
{
	static const char *const known[] = { "devices", "cpu", "memory", "pids", NULL };
	static const char *const cpu[] = { "shares", "quota", "period", NULL };
	static const char *const limit[] = { "limit", NULL };
	struct plan_cgroup *cg = &r->p->cgroup;
	int64_t *const cpu_to[] = { &cg->cpu_shares, &cg->cpu_quota_us, &cg->cpu_period_us };
	int64_t *const memory_to[] = { &cg->memory_max }, *const pids_to[] = { &cg->pids_max };
	const char *s;
	char f[64];
	if (r->rootless)
		return rd_bad(r, "linux.cgroupsPath", "not supported by nscell for rootless runc");
	if (rd_string(r, path, "linux.cgroupsPath", true, &s) < 0)
		return -1;
	if (!rd_path_normal(s) || strcmp(s, "/") == 0)
		return rd_bad(r, "linux.cgroupsPath", "'%s': nscell-runtime takes an absolute, "
			      "normalised path below the hierarchies' root (no systemd "
			      "slice:prefix:name)", s);
	if (!(cg->path = strdup(s)))
		return rd_oom(r);
	if (!res)
		return 0;
	if (rd_object(r, res, "linux.resources", true) < 0 ||
	    rd_check_keys(r, res, "linux.resources", known) < 0 ||
	    read_ints(r, res, "cpu", cpu, cpu_to) < 0 ||
	    read_ints(r, res, "memory", limit, memory_to) < 0 ||
	    read_ints(r, res, "pids", limit, pids_to) < 0)
		return -1;
	yajl_val dev = rd_get(res, "devices");
	if (dev && !YAJL_IS_ARRAY(dev))
		return rd_bad(r, "linux.resources.devices", "expected an array of rules");
	if (dev && dev->u.array.len &&
	    !(cg->devices = calloc(dev->u.array.len, sizeof *cg->devices)))
		return rd_oom(r);
	for (size_t i = 0; dev && i < dev->u.array.len; i++)
		if (read_device_rule(r, dev->u.array.values[i],
				     rd_idx(f, sizeof f, "linux.resources.devices", i)) < 0)
			return -1;
	return 0;
}
