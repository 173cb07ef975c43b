/* Containers that runc runs from exported bundles, in nscell's state
 * directory next to the shim's persisted sandboxes, so that `nscell ls`,
 * `enter` and `unmount` see both.  `nscell hook createRuntime` registers
 * one, `nscell hook poststop` removes it:
 *
 *   STATE/.runc/            0700, the state directory's owner's
 *     ID/lock, ID/state     one entry per container ID, shim/state.c's
 *                           format: keeper = the container's pid 1
 *
 * The dot keeps the shim's own code (which looks up UID[@VHOST] entries
 * by name) and its scans blind to it. */
#ifndef NSCELL_CLI_RUNC_H
#define NSCELL_CLI_RUNC_H

#include <stdbool.h>
#include <stddef.h>

#include "shim/state.h"
#include "translate/error.h"

#define RUNC_SUBDIR ".runc"

/* A container ID as runc takes it: [A-Za-z0-9_+.-], not starting with '.',
 * at most STATE_NAME_MAX - 1 bytes. */
bool runc_id_valid(const char *id);

/* STATE/.runc below the open state directory (made 0700 when create);
 * -1 with err (errnum ENOENT: none yet). */
int runc_dir_open(int statefd, bool create, nscell_error_t *err);

/* Write (replace) ID's record, under its lock. */
int runc_register(int rundir, const char *id, const struct state_rec *r, nscell_error_t *err);
/* Remove ID's record and entry; 0 when it was not there. */
int runc_deregister(int rundir, const char *id, nscell_error_t *err);

struct runc_entry {
	char id[STATE_NAME_MAX];
	struct state_rec r;
	bool live; /* its pid 1 is the process that was registered */
};
/* Every readable record below STATE/.runc (statefd may be -1): malloc'd,
 * *n of them; NULL when there are none. */
struct runc_entry *runc_entries_load(int statefd, size_t *n);

/* Run argv (NULL: the user's shell) inside container e: its namespaces
 * joined through a pidfd of its pid 1, as the user (or as the sandbox's
 * root with as_root), in cwd (NULL: the record's), no capabilities,
 * no_new_privs, a new session.  Returns the command's exit status
 * (128+N for signal N), or 2 after printing why it could not. */
int runc_enter(const struct runc_entry *e, bool as_root, const char *cwd, char *const *argv);

/* unmount: end the containers of uid (-1: all) [and vhost]: with kill,
 * SIGKILL to pid 1 and the record removed; without, left running (runc
 * owns them) and said so.  Stale records are removed.  0, or 1 when one
 * could not be ended. */
int runc_unmount(int statefd, long uid, const char *vhost, bool kill, bool verbose);
/* enter: parse the shim's --enter options in args; when the shim has no
 * live sandbox for that user (and vhost) and runc runs a container for
 * them, enter the newest and return its status; else -1 (the shim
 * enters, or says why it cannot). */
int runc_enter_instead(char **args);

#endif
