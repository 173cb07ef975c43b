/* Persisted sandboxes on disk: the state directory, one entry per (user,
 * vhost), its lock and its records.  libc only: nscell-shim (launch, join)
 * and nscell (ls, unmount) both use it.
 *
 *   STATE/                the caller's own (root's for root launches), never
 *                         writable by group or others
 *     plans/              resolved plans of cold launches (translate/plan_cache.h)
 *     UID[@VHOST]/        one entry, 0700
 *       lock              flock: LOCK_SH to join, LOCK_EX to build, retire or remove
 *       state             the current sandbox, key=value lines, replaced whole
 *                         (state.tmp + rename)
 *       retired.PID       a sandbox retired by a reload whose processes still run
 *
 * A warm launch opens its entry by name: never a scan of this directory,
 * of /proc or of a mount table.  Nothing here is trusted blindly: a record
 * names a keeper by pid, start time and boot id, and is believed only when
 * the process under that pid matches all three. */
#ifndef NSCELL_SHIM_STATE_H
#define NSCELL_SHIM_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "translate/error.h"

#define STATE_FILE "state"
#define STATE_TMP "state.tmp"
#define STATE_LOCK "lock"
#define STATE_RETIRED "retired."
#define STATE_BINDS "binds" /* the file binds of the current keeper (refresh.c) */
#define STATE_NAME_MAX 200
#define STATE_HASH_LEN 16

struct state_rec {
	pid_t keeper;
	unsigned long long start; /* the keeper's start time (/proc/PID/stat field 22) */
	char boot[40];            /* boot id when it was built */
	long long created;        /* seconds since the epoch */
	char hash[STATE_HASH_LEN + 1]; /* templates, nscell.conf, the user's entry */
	char user[256];
	unsigned uid;
	char vhost[256];          /* "" when none */
	unsigned long ns;         /* CLONE_NEW* flags of its namespaces */
	bool rootless;
	char cwd[1024];           /* where a command starts without -d: the home if
				     the sandbox has it, else / */
};

/* The state directory of this caller: root: conf_dir (nscell.conf's
 * state_dir, NSCELL_STATE_DIR already applied).  Unprivileged: NSCELL_STATE_DIR,
 * else $XDG_RUNTIME_DIR/nscell, /run/user/UID/nscell, /tmp/nscell-UID. */
int state_dir_path(const char *conf_dir, char *buf, size_t size, nscell_error_t *err);
/* Open the directory (mkdir 0700 first when create and it is missing) and
 * check it: a directory owned by the caller, not writable by group or
 * others (unprivileged: no access for them at all).  Returns an
 * O_RDONLY|O_DIRECTORY fd, or -1 with err (errnum ENOENT: missing). */
int state_dir_open(const char *path, bool create, nscell_error_t *err);
/* A subdirectory of STATE (create: mkdir 0700 first), checked: the
 * caller's own and private.  An O_DIRECTORY fd, or -1 with err. */
int state_subdir_open(int statefd, const char *name, bool create, nscell_error_t *err);
/* STATE/plans, the plan cache (translate/plan_cache.h), made when missing:
 * an O_DIRECTORY fd, or -1 with err (the launch goes on without it). */
#define STATE_PLANS "plans"
int state_plans_open(const char *conf_dir, nscell_error_t *err);
/* Empty STATE/plans and remove it: how many entries went, -1 on error. */
int state_plans_clear(int statefd);

/* "1001" or "1001@example.com"; bytes outside [A-Za-z0-9._-] of the vhost
 * become %XX.  -1 when it does not fit. */
int state_entry_name(uid_t uid, const char *vhost, char *buf, size_t size);

/* Called once before a lock call blocks: path is the lock file's. */
typedef void (*state_wait_fn)(void *ctx, const char *path);

/* Lock entry `name`: how is LOCK_SH or LOCK_EX; create makes the entry
 * when missing; timeout_ms -1 waits for ever, 0 not at all.  A lock
 * whose file was removed while we waited (unmount) is dropped and taken
 * again on the new one.  Returns the lock fd (close to release) or -1
 * with err (errnum EWOULDBLOCK: timed out; ENOENT: no entry). */
int state_lock(int dirfd, const char *name, int how, bool create, int timeout_ms,
	       state_wait_fn waiting, void *ctx, nscell_error_t *err);

/* Read NAME/FILE: 0, 1 when there is none, -1 with err when unreadable or
 * malformed (treat as stale). */
int state_read(int dirfd, const char *name, const char *file, struct state_rec *r,
	       nscell_error_t *err);
/* Replace NAME/state with r, atomically. */
int state_write(int dirfd, const char *name, const struct state_rec *r, nscell_error_t *err);
/* Move NAME/state aside as NAME/retired.PID. */
int state_retire(int dirfd, const char *name, const struct state_rec *r, nscell_error_t *err);
int state_unlink(int dirfd, const char *name, const char *file);
/* Remove NAME/state.tmp, NAME/lock and NAME itself (holding its lock);
 * 1 when records are left in it, 0 when it is gone. */
int state_remove_entry(int dirfd, const char *name);
/* The record files of an entry ("state", "retired.*"), malloc'd,
 * NULL-terminated; NULL with err on failure. */
char **state_records(int dirfd, const char *name, nscell_error_t *err);
void state_records_free(char **v);

/* This boot's id (cached). */
const char *state_boot_id(void);
/* /proc/PID/stat: start time and comm; -1 when gone. */
int state_proc_start(pid_t pid, unsigned long long *start, char *comm, size_t size);
/* Is r's keeper running?  Returns a pidfd of it (O_CLOEXEC), or -1 with
 * *why set ("not running", "pid reused", "built before a reboot"). */
int state_keeper_open(const struct state_rec *r, const char **why);

/* pidfd_open and pidfd_send_signal, without needing a libc that has them */
int state_pidfd_open(pid_t pid);
int state_pidfd_signal(int pidfd, int sig);

#endif
