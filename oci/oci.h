/* OCI runtime-spec back end and front end: plan ↔ config.json (yajl). */
#ifndef NSCELL_OCI_H
#define NSCELL_OCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../translate/error.h"
#include "../translate/plan.h"

/* nscell's OCI hooks and where the plan came from (oci/hooks.c).  With
 * them, config.json gets hooks.createRuntime and hooks.poststop calling
 * `BIN hook STAGE` (env NSCELL_STATE_DIR=STATE_DIR when set), and the
 * annotations org.nscell.conf, .server-template, .vhost-template and
 * .hash, from which `nscell hook` rebuilds the plan on the host it runs
 * on.  All strings optional but bin; paths absolute. */
struct oci_hooks {
	char *bin;        /* absolute path of nscell */
	char *state_dir;  /* NSCELL_STATE_DIR for the hooks, or NULL */
	char *conf;       /* nscell.conf given with -C, or NULL (the default) */
	char *server_tpl; /* -f, or NULL */
	char *vhost_tpl;  /* -2, or NULL */
	char *hash;       /* of the raw bytes of nscell.conf and the templates */
};
void oci_hooks_free(struct oci_hooks *h);
/* "hooks": {...} into an open map of g (emit.c); -1 with err. */
struct yajl_gen_t;
int oci_hooks_emit(struct yajl_gen_t *g, const struct oci_hooks *h, nscell_error_t *err);

struct oci_opts {
	bool rootless;          /* user namespace mapping that unprivileged runc accepts */
	bool hooks;             /* write nscell's hooks: needs hook_info */
	const struct oci_hooks *hook_info;
	const char *rootfs;     /* root.path; NULL = the plan's rootfs, else "rootfs" */
};

/* config.json for the plan, deterministic (same plan, same bytes).
 * *out is malloc'd, NUL-terminated. */
int oci_config_generate(const struct plan *p, const struct oci_opts *o, char **out,
			size_t *len, nscell_error_t *err);
/* Read a config.json (file or buffer) back into a plan.  An unsupported
 * field is an error naming it.  *p must be plan_init'ed.  Reading a file
 * also reads the bundle's files/ entries (see OCI_FILES_DIR) back into
 * PLAN_FILE and PLAN_DIR entries; a buffer keeps them as relative binds. */
int oci_config_read_file(struct plan *p, const char *path, nscell_error_t *err);
int oci_config_read_buffer(struct plan *p, const char *name, const char *buf, size_t len,
			   nscell_error_t *err);
/* The same, also giving back nscell's hooks and origin annotations (h
 * zeroed first; h->bin NULL when the config has no hooks).  The plain
 * readers accept and check them too, and drop them.  oci_hooks_free h. */
int oci_config_read_file_hooks(struct plan *p, const char *path, struct oci_hooks *h,
			       nscell_error_t *err);
int oci_config_read_buffer_hooks(struct plan *p, const char *name, const char *buf,
				 size_t len, struct oci_hooks *h, nscell_error_t *err);

/* The same for a runtime that runs the hooks itself (nscell-runtime):
 * hooks of any OCI stage are accepted and left unread (only their stage
 * names are checked); everything else as oci_config_read_file.  With
 * tree, the parsed document is given back on success for the runtime's
 * own reading (its hooks), so that the file is parsed once; the caller
 * yajl_tree_free's it. */
struct yajl_val_s;
int oci_config_read_file_any_hooks(struct plan *p, const char *path, struct yajl_val_s **tree,
				   nscell_error_t *err);

/* The stages nscell writes a hook for, and `nscell hook STAGE` takes. */
#define OCI_HOOK_CREATE_RUNTIME "createRuntime"
#define OCI_HOOK_POSTSTOP "poststop"

/* ---- shared by oci/emit.c, oci/read.c and bundles/export.c ---- */

#define OCI_VERSION "1.0.2"

/* A generated, copied file or a directory that a mount earlier in the plan
 * would hide (runc mounts over the rootfs) lives in BUNDLE/files/DST and is
 * bind-mounted from there: "files/etc/passwd", relative to the bundle, as
 * runc resolves relative bind sources against the bundle directory. */
#define OCI_FILES_DIR "files"

/* Rootless: from the options or the plan. */
bool oci_rootless(const struct plan *p, const struct oci_opts *o);

/* The mount entry that hides p->mounts[i] from the bundle's rootfs (the
 * last earlier mount whose destination is dst or a parent of it), or NULL.
 * Only mount ops (bind, tmp, tmpfs, proc, mqueue, dev, sysfs, cgroup)
 * hide anything. */
const struct plan_mount *oci_hidden_by(const struct plan *p, size_t i);
bool oci_op_is_mount(enum plan_op op);

/* The uid and gid the process has inside the container: the user's own
 * ids, except rootless, where runc needs container id 0 (see emit.c). */
uid_t oci_container_uid(const struct plan *p, bool rootless);
gid_t oci_container_gid(const struct plan *p, bool rootless);

/* One line of uidMappings/gidMappings. */
struct oci_idmap {
	uint32_t container, host, size;
};
/* The mappings nscell writes: *out malloc'd, sorted, coalesced. */
int oci_id_mappings(const struct plan *p, bool rootless, bool gids, struct oci_idmap **out,
		    size_t *n);

/* The options nscell writes for one mount (also what read.c accepts). */
#define OCI_MAX_OPTS 8
struct oci_mount_opts {
	size_t n;
	const char *v[OCI_MAX_OPTS];
	char mode[24], uid[24], gid[24];
};
/* For a bind, tmp, tmpfs, proc, mqueue, sysfs or cgroup entry, or for a
 * file or directory bound from OCI_FILES_DIR (in_files).  Do not copy *o:
 * v points into it. */
void oci_mount_options(const struct plan *p, const struct plan_mount *m, bool rootless,
		       bool in_files, struct oci_mount_opts *o);
/* The three mounts of PLAN_DEV: DST (tmpfs), DST/pts (devpts), DST/shm.
 * userns: the plan has a user namespace (then /dev is nodev too); runc:
 * the entry has PLAN_F_RUNC_DEV (runc spec's options). */
enum oci_dev_part { OCI_DEV_TMPFS, OCI_DEV_PTS, OCI_DEV_SHM, OCI_DEV_NPARTS };
extern const char *const oci_dev_suffix[OCI_DEV_NPARTS];
extern const char *const oci_dev_type[OCI_DEV_NPARTS];
extern const char *const oci_dev_source[OCI_DEV_NPARTS];
void oci_dev_options(enum oci_dev_part part, bool userns, bool runc, struct oci_mount_opts *o);

/* What nscell hides below every proc mount, as nscell-shim does
 * (shim/dev.c proc_setup), in its order: names relative to the mount,
 * NULL-terminated.  They come first in linux.maskedPaths and
 * linux.readonlyPaths, before the plan's own PLAN_MASK and
 * PLAN_REMOUNT_RO entries; the reader drops them again. */
extern const char *const oci_proc_masked[];
extern const char *const oci_proc_readonly[];
/* "DST/NAME" ("/NAME" for a proc mount at "/") */
const char *oci_proc_path(char *buf, size_t size, const char *dst, const char *name);

/* linux.seccomp, the filter of every nscell sandbox (shim/creds.c
 * block_terminal_injection): default SCMP_ACT_ALLOW; ioctl with one of
 * these requests fails with OCI_SECCOMP_ERRNO (EPERM).  The request is
 * compared on its low 32 bits only, as the kernel truncates it
 * (CVE-2019-10063): SCMP_CMP_MASKED_EQ, value the mask, valueTwo the
 * request (runc hands them to libseccomp in that order). */
#define OCI_SECCOMP_NREQUESTS 2
extern const uint32_t oci_seccomp_requests[OCI_SECCOMP_NREQUESTS];
#define OCI_SECCOMP_ERRNO 1 /* EPERM */
#define OCI_SECCOMP_MASK 0xffffffffu
/* The architectures the filter names for this build (the shim's filter
 * covers the same: the native one and its compat ABIs), NULL-terminated;
 * empty where the build knows none (runc then uses the native one). */
extern const char *const oci_seccomp_arches[];

/* linux.cgroupsPath for the plan ("/PARENT/nscell-UID[-VHOST]"), malloc'd;
 * NULL with *err set on failure.  Only written when limits are set. */
bool oci_cgroup_limited(const struct plan *p);
char *oci_cgroup_path(const struct plan *p, nscell_error_t *err);

/* Annotation keys. */
#define OCI_ANN_CONF "org.nscell.conf"
#define OCI_ANN_HASH "org.nscell.hash"
#define OCI_ANN_HOME "org.nscell.home"
#define OCI_ANN_SERVER_TPL "org.nscell.server-template"
#define OCI_ANN_TEMPLATES "org.nscell.templates"
#define OCI_ANN_TMP "org.nscell.tmp"
#define OCI_ANN_UID "org.nscell.uid"
#define OCI_ANN_USER "org.nscell.user"
#define OCI_ANN_VHOST "org.nscell.vhost"
#define OCI_ANN_VHOST_TPL "org.nscell.vhost-template"

#endif
