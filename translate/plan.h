/* The sandbox plan: the one structure every back end consumes.
 *
 * Front ends (templates, config.json) produce a plan; back ends (config.json,
 * bundle, shim, JSON dump) consume one.  A plan is resolved: every path is
 * absolute and normalised, no symbol is left, the user is looked up, and the
 * mount list is ordered so that executing it front to back is correct
 * (parents before children, remount-ro last). */
#ifndef NSCELL_PLAN_H
#define NSCELL_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

/* Where an entry came from: "server.conf:12:1" (file interned in the plan). */
struct plan_origin {
	const char *file; /* NULL for entries nscell adds itself */
	unsigned line, col;
};

enum plan_op {
	PLAN_BIND,        /* bind host src at dst (recursive) */
	PLAN_TMP,         /* disk-backed per-user dir: host src, created as the user, bound at dst */
	PLAN_TMPFS,       /* memory-backed dir at dst, writable by the user (see mode) */
	PLAN_PROC,        /* procfs of the sandbox's pid namespace */
	PLAN_MQUEUE,      /* mqueue of the sandbox's ipc namespace */
	PLAN_DEV,         /* minimal /dev: null zero full random urandom tty, pts, shm, fd links */
	PLAN_DIR,         /* empty directory at dst (mode), owned by the user */
	PLAN_SYMLINK,     /* symlink at dst pointing to src, src kept as written */
	PLAN_COPY,        /* copy host file src to dst, keeping its mode */
	PLAN_FILE,        /* generated file (data, len) at dst with mode */
	PLAN_MASK,        /* hide dst: an excluded path below a bind */
	PLAN_REMOUNT_RO,  /* make dst and everything below it read-only */
	/* from a config.json only (no template command makes them) */
	PLAN_SYSFS,       /* sysfs at dst (PLAN_F_RO: read-only) */
	PLAN_CGROUP,      /* the host's cgroup tree (src, /sys/fs/cgroup) bound read-only at dst */
};

/* flags of a plan_mount */
enum {
	PLAN_F_RO = 1u << 0,       /* read-only */
	PLAN_F_DEVICES = 1u << 1,  /* dev-bind: device nodes work (no nodev) */
	PLAN_F_TRY = 1u << 2,      /* a missing source (remount-ro: dst) is skipped, not an error */
	PLAN_F_USER_PATH = 1u << 3,/* src lies in a user-controlled tree: never follow symlinks there */
	PLAN_F_HOSTEXEC = 1u << 4, /* a hostexec program: src is the relay client, dst the host
				      program it stands for (a plain ro bind to the back ends) */
	PLAN_F_RO_TOP = 1u << 5,   /* with PLAN_F_RO on a bind: the top mount only (a config's
				      "ro", as runc remounts it), not the mounts below */
	PLAN_F_RUNC_DEV = 1u << 6, /* PLAN_DEV as `runc spec` writes it: /dev without nodev and
				      noexec, strictatime, devpts gid=5, /dev/shm noexec, both
				      tmpfs size=65536k */
	PLAN_F_RUNC_MASK = 1u << 7,/* PLAN_MASK as runc masks a config's maskedPaths: a directory
				      gets an empty read-only tmpfs, anything else the sandbox's
				      /dev/null */
	PLAN_F_RUNC_TMPFS = 1u << 8,/* PLAN_TMPFS as runc mounts containerd's /run: strictatime,
				      size=65536k, owned by root (the shim adds nodev) */
	PLAN_F_RUNC_TOP = 1u << 9, /* with PLAN_F_RO | PLAN_F_RO_TOP on a bind: runc spec
				      --rootless's /sys, its "nosuid", "noexec", "nodev", "ro" on
				      the top mount (the shim keeps nosuid, nodev on every mount) */
};

struct plan_mount {
	enum plan_op op;
	unsigned flags;
	char *src;   /* absolute host path, symlink target as written, or NULL */
	char *dst;   /* absolute normalised path inside the sandbox */
	mode_t mode; /* DIR, TMPFS, FILE: permission bits; 0 elsewhere */
	char *data;  /* FILE: contents (not NUL-terminated necessarily) */
	size_t len;
	struct plan_origin origin;
};

/* namespaces to create; those not set are shared with the caller */
enum {
	PLAN_NS_MOUNT = 1u << 0,
	PLAN_NS_PID = 1u << 1,
	PLAN_NS_IPC = 1u << 2,
	PLAN_NS_UTS = 1u << 3,
	PLAN_NS_USER = 1u << 4,
	PLAN_NS_CGROUP = 1u << 5,
	PLAN_NS_NET = 1u << 6,
};

struct plan_identity {
	char *user, *group; /* names */
	uid_t uid;
	gid_t gid;
	gid_t *groups;      /* supplementary groups, from the group database */
	size_t ngroups;
	char *home, *shell;
};

/* process.rlimits of a config.json: setrlimit(resource) before the exec */
struct plan_rlimit {
	int resource;       /* RLIMIT_* */
	uint64_t soft, hard; /* UINT64_MAX: unlimited */
};

/* process.capabilities of a config.json: bit N is capability N */
struct plan_caps {
	uint64_t bounding, effective, inheritable, permitted, ambient;
};

/* Per launch: not part of the plan cache's encoding (translate/plan_codec.c).
 * rlimits and caps come from a config.json only; a template sets neither,
 * and its command keeps the caller's limits and holds no capability. */
struct plan_process {
	char **argv; /* NULL-terminated; NULL means the user's shell */
	char **env;  /* NULL-terminated, complete environment of the command */
	char *cwd;   /* absolute path inside the sandbox; default home */
	struct plan_rlimit *rlimits;
	size_t nrlimits;
	bool has_caps;         /* false: every set empty (templates) */
	struct plan_caps caps; /* with has_caps: exactly these, as runc sets them */
	bool terminal;         /* a config's process.terminal (never a template's) */
	unsigned console_height, console_width; /* process.consoleSize; 0: not given */
};

/* a config's linux.resources.devices rule, as the cgroup v1 devices
 * controller takes it ("c 1:3 rwm" to devices.allow or devices.deny) */
struct plan_device_rule {
	bool allow;
	char type;             /* 'a', 'c' or 'b' */
	int64_t major, minor;  /* -1: any */
	char access[4];        /* letters of "rwm" */
};

/* cgroup limits; 0 = no limit set */
struct plan_cgroup {
	char *parent;          /* cgroup parent below the hierarchy root, e.g. "nscell" */
	int64_t memory_max;    /* bytes */
	int64_t pids_max;
	int64_t cpu_quota_us;  /* per period */
	int64_t cpu_period_us;
	/* another config's (containerd's), which nscell-runtime applies as
	 * runc does (shim/runtime_cgroup.c): NULL for nscell's own */
	char *path;            /* linux.cgroupsPath, absolute, normalised */
	int64_t cpu_shares;
	struct plan_device_rule *devices; /* in order */
	size_t ndevices;
};

struct plan {
	struct plan_mount *mounts;
	size_t nmounts, cap_mounts;
	unsigned namespaces;       /* PLAN_NS_* */
	char *hostname;            /* NULL: keep the host's name (in a new uts ns) */
	struct plan_identity id;
	struct plan_process proc;
	struct plan_cgroup cgroup;
	bool rootless;             /* made for an unprivileged caller launching for itself */
	bool userns_root;          /* rootless, a config's container root (runc spec --rootless):
				      the caller is uid and gid 0 of the user namespace, as runc
				      maps it, and the process runs as 0:0 with the config's
				      capabilities; false: the caller keeps its own ids there */
	char *rootfs;              /* NULL: a fresh empty root (templates); else a bundle's rootfs */
	bool rootfs_readonly;
	char *vhost;               /* NULL when none */
	char **files;              /* template/config files that made this plan, interned */
	size_t nfiles;
	bool sandbox_off;          /* the vhost's mode is off: run without a sandbox (no mounts) */
};

void plan_init(struct plan *p);
void plan_free(struct plan *p);

/* Intern a file name; the returned pointer lives as long as the plan. */
const char *plan_intern_file(struct plan *p, const char *file);

/* Append a mount (strings copied; data copied when len > 0).  Returns the
 * new entry or NULL on allocation failure. */
struct plan_mount *plan_add_mount(struct plan *p, enum plan_op op, unsigned flags,
				  const char *src, const char *dst, mode_t mode,
				  const struct plan_origin *origin);
int plan_mount_set_data(struct plan_mount *m, const char *data, size_t len);

/* Find the entry with this destination, or NULL. */
struct plan_mount *plan_find_dst(struct plan *p, const char *dst);
void plan_remove_mount(struct plan *p, size_t index);
/* Removing many entries one by one is quadratic: clear them (the entry
 * stays, with dst NULL) and drop all cleared entries at once at the end. */
void plan_clear_mount(struct plan *p, size_t index);
void plan_drop_cleared(struct plan *p);

/* Order the mounts for execution: stable, parents before children, masks
 * after the bind they cover, remount-ro after everything. */
void plan_sort(struct plan *p);

/* Copy a NULL-terminated string vector; NULL in, NULL out. */
char **plan_strv_dup(char *const *v);
void plan_strv_free(char **v);
size_t plan_strv_len(char *const *v);

/* "server.conf:12:3" or "built-in" into buf */
const char *plan_origin_str(const struct plan_origin *o, char *buf, size_t size);

const char *plan_op_name(enum plan_op op);
int plan_op_from_name(const char *name, enum plan_op *op);

/* "RLIMIT_NOFILE" ↔ RLIMIT_NOFILE; NULL or -1 when unknown */
const char *plan_rlimit_name(int resource);
int plan_rlimit_from_name(const char *name);
/* "CAP_KILL" ↔ CAP_KILL (as the OCI spec spells them); NULL or -1 when unknown */
const char *plan_cap_name(int cap);
int plan_cap_from_name(const char *name);
#define PLAN_CAP_COUNT 41 /* CAP_CHOWN (0) .. CAP_CHECKPOINT_RESTORE (40) */

#endif
