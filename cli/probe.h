/* `nscell probe` and `nscell diff`: a probe report, read from the raw
 * facts of probe/collect.h, printed as text or JSON, and compared.
 *
 *   probe_parse.c    raw facts → struct probe (libmount for the mounts)
 *   probe_report.c   struct probe → facts (text, and what diff compares), JSON
 *   probe_compare.c  normalisations and the comparison of two reports
 *   cmd_probe.c      `nscell probe`
 *   cmd_diff.c       `nscell diff`: export, runc run, the shim, compare */
#ifndef NSCELL_CLI_PROBE_H
#define NSCELL_CLI_PROBE_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "translate/error.h"
#include "translate/plan.h"

struct probe_kv {
	char *name, *value;
};

struct probe_path {
	char *path;
	char *status; /* "ok" or the errno name of lstat */
	char *type, *mode, *uid, *gid, *rdev, *link, *access, *size; /* "-" when unknown */
};

struct probe_mount {
	char *target, *fstype;
	bool ro, nosuid, nodev, noexec;
	const char *propagation; /* "shared", "slave", "shared,slave", "private", "unbindable" */
	size_t order;            /* position in mountinfo, to keep stacked mounts in order */
};

/* the ids of one namespace type that count as "the host's" */
struct probe_ref_ns {
	char name[16];
	unsigned long long ino;
};
#define PROBE_NS_TYPES 8

struct probe {
	unsigned long uid[3], gid[3]; /* real, effective, saved */
	unsigned long *groups;
	size_t ngroups;
	struct probe_kv *status, *ns, *rlimits;
	size_t nstatus, nns, nrlimits;
	char **uid_map, **gid_map, **env, **passwd, **group, **mountinfo;
	char *passwd_error, *group_error; /* errno name when the file could not be read */
	char *hostname, *cwd;
	struct probe_mount *mounts;
	size_t nmounts;
	struct probe_path *paths;
	size_t npaths;
	long self_pid;
	struct probe_kv *procs; /* pid, comm */
	size_t nprocs;
};

/* One line of a report: "path /etc/passwd" → "file 0644 0:0 r-- 45 bytes".
 * path is set for facts about a place in the sandbox (mounts, paths), so a
 * difference can be traced to the template line behind that place. */
struct probe_fact {
	char *key, *value;
	char *path; /* the place in the sandbox, or NULL */
};

struct probe_facts {
	struct probe_fact *v;
	size_t n, cap;
};

/* probe_parse.c */
void probe_init(struct probe *p);
void probe_free(struct probe *p);
/* Read raw facts (buf, len) into *p (probe_init'ed).  name is for messages. */
int probe_parse(struct probe *p, const char *name, const char *buf, size_t len,
		nscell_error_t *err);
/* Read a whole file ("-": stdin) into *buf (NUL-terminated). */
int probe_read_file(const char *path, char **buf, size_t *len, nscell_error_t *err);
/* "mnt=4026531840,pid=..." (or NULL: this process's own namespaces) */
int probe_ref_ns_parse(struct probe_ref_ns *ref, size_t *n, const char *spec,
		       nscell_error_t *err);
/* remove the path entry at index i / the mount at index i */
void probe_remove_path(struct probe *p, size_t i);
void probe_remove_mount(struct probe *p, size_t i);
struct probe_path *probe_find_path(struct probe *p, const char *path);

/* probe_report.c */
void probe_facts_free(struct probe_facts *f);
/* The report as facts, in a fixed order; ref: the host's namespaces (n 0:
 * every namespace "unknown"). */
int probe_facts_make(const struct probe *p, const struct probe_ref_ns *ref, size_t nref,
		     struct probe_facts *f, nscell_error_t *err);
void probe_facts_print(const struct probe_facts *f, FILE *out);
int probe_json_print(const struct probe *p, const struct probe_ref_ns *ref, size_t nref,
		     FILE *out, nscell_error_t *err);
/* name of an id from the passwd/group lines the probe saw, or NULL */
const char *probe_user_name(const struct probe *p, unsigned long uid, char *buf, size_t size);
const char *probe_group_name(const struct probe *p, unsigned long gid, char *buf, size_t size);

/* probe_compare.c */
struct diff_ctx {
	const struct plan *plan; /* what was exported and run (origins, masks) */
	bool rootless;           /* runc ran rootless: its container uid 0 is the caller */
	unsigned long caller_uid, caller_gid;
};

struct diff_result {
	struct probe_facts runc, shim;
	char **notes;            /* the normalisations that changed something */
	size_t nnotes;
	struct probe_fact **diffs; /* pairs: runc side (or NULL), shim side (or NULL) */
	size_t ndiffs;
};

/* Normalise both reports (each applied rule is noted), make their facts,
 * and list the keys whose values differ. */
int diff_compare(struct probe *runc, struct probe *shim, const struct diff_ctx *ctx,
		 const struct probe_ref_ns *ref, size_t nref, struct diff_result *r,
		 nscell_error_t *err);
void diff_result_free(struct diff_result *r);
/* The template line behind a place in the sandbox: the entry whose
 * destination is path or its nearest parent; NULL when none is. */
const struct plan_mount *diff_origin(const struct plan *plan, const char *path);
/* cli/diff_bundle.c (nscell diff --bundle): DIR/config.json into
 * OUT_DIR/config.json with args as process.args, relative paths made
 * absolute in DIR (an absolute DIR) and no hooks. */
int diff_bundle_write(const char *dir, const char *out_dir, char *const *args,
		      nscell_error_t *err);

#endif
