/* The config.json reader's internals, shared by oci/read.c (the document),
 * oci/read_process.c (process), oci/read_mounts.c (mounts), oci/read_linux.c
 * (paths, seccomp) and oci/read_json.c (typed access to a yajl tree whose
 * errors name the file and the field). */
#ifndef NSCELL_OCI_READER_H
#define NSCELL_OCI_READER_H

#include <stdbool.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

#include "oci.h"

#define READ_MAX_CONFIG (16u << 20)
#define READ_MAX_FILE (64u << 20)

struct reader {
	struct plan *p;
	const char *name;
	nscell_error_t *err;
	int bundle_fd;       /* the config file's directory, or -1 */
	bool rootless;
	uint32_t user_uid, user_gid;
	bool has_groups;
	const char *ann_tmp; /* org.nscell.tmp, in the tree */
	const char *ann_uid; /* set: a config nscell wrote */
	struct oci_hooks *hooks; /* filled by rd_hooks and the origin annotations */
	bool any_hooks;      /* hooks of every OCI stage pass, unread (a runtime reads them) */
	yajl_val *tree;      /* set: the parsed document is given back here */
};

/* "NAME: FIELD: message"; returns -1 */
int rd_bad(struct reader *r, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int rd_oom(struct reader *r);
/* "process" + "user" → "process.user"; "mounts", 3 → "mounts[3]" */
const char *rd_sub(char *buf, size_t size, const char *field, const char *key);
const char *rd_idx(char *buf, size_t size, const char *field, size_t i);
yajl_val rd_get(yajl_val obj, const char *k);
/* Every key of obj in known (NULL-terminated) and given once. */
int rd_check_keys(struct reader *r, yajl_val obj, const char *field, const char *const *known);
/* 1 for an object, 0 when absent and not required, -1 on error */
int rd_object(struct reader *r, yajl_val v, const char *field, bool required);
int rd_string(struct reader *r, yajl_val v, const char *field, bool required, const char **out);
int rd_bool(struct reader *r, yajl_val v, const char *field, bool *out);
int rd_u32(struct reader *r, yajl_val v, const char *field, uint32_t *out);
int rd_positive(struct reader *r, yajl_val v, const char *field, int64_t *out);
int rd_strv(struct reader *r, yajl_val v, const char *field, bool nonempty, char ***out);
bool rd_path_normal(const char *s);
/* a string that is an absolute, normalised path */
int rd_path(struct reader *r, yajl_val v, const char *field, const char **out);

/* process: the command, user, capabilities, rlimits (oci/read_process.c) */
int rd_process(struct reader *r, yajl_val v);
/* The mounts array → plan entries (r->rootless and the identity known). */
int rd_mounts(struct reader *r, yajl_val v);
/* linux.maskedPaths or readonlyPaths (after the mounts) → PLAN_MASK or
 * PLAN_REMOUNT_RO entries of op.  In a config nscell wrote (r->ann_uid),
 * first, below each proc mount, the shim's defaults (dropped); another
 * config's entries get runc's meaning (PLAN_F_RUNC_MASK, PLAN_F_TRY). */
int rd_paths(struct reader *r, yajl_val v, const char *field, enum plan_op op,
	     const char *const *defaults);
/* linux.cgroupsPath (absolute) and linux.resources as runc applies them
 * (containerd's): checked here, applied by nscell-runtime itself
 * (shim/runtime_cgroup.c), so read only for it (r->any_hooks) */
int rd_runc_cgroup(struct reader *r, yajl_val path, yajl_val res);
/* hooks: exactly nscell's own (oci/hooks.c), into r->hooks. */
int rd_hooks(struct reader *r, yajl_val v);
/* linux.seccomp: exactly nscell's filter (oci/rules.c), or, in a config
 * nscell did not write, none (the shim loads it all the same). */
int rd_seccomp(struct reader *r, yajl_val v);

#endif
