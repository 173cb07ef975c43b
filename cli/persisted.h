/* Persisted sandboxes from the admin's side: the records of the state
 * directory, the containers runc runs for nscell, and keepers whose entry
 * is gone, for nscell ls, unmount and enter (cmd_ls.c, cmd_unmount.c; the
 * shim's side is shim/persist.c, and both read shim/state.c's records).
 *
 * ls and unmount are the only places that scan: the state directory, and
 * /proc once to count (or list) the processes inside each sandbox's pid
 * namespace. */
#ifndef NSCELL_CLI_PERSISTED_H
#define NSCELL_CLI_PERSISTED_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cli/cli.h"
#include "shim/state.h"

/* the options of ls, unmount and enter */
struct popts {
	const char *cmd, *conf, *user, *vhost;
	bool all, kill, json, verbose;
};

/* one record of the state directory */
struct sandbox {
	char entry[STATE_NAME_MAX];
	char file[64];
	struct state_rec r;
	bool readable, live, retired;
	bool runc;     /* a container runc runs (cli/runc.h); entry is its id */
	bool orphan;   /* a keeper whose state entry is gone (cli/keepers.h) */
	ino_t pidns;   /* of a live one */
	long procs;    /* processes inside but the keeper */
	char inside[512]; /* "PID COMM, ..." of them, when asked for */
};

/* "nscell CMD: WHAT (see nscell --help)" on stderr; NSCELL_EXIT_USAGE */
int popts_usage_error(const struct popts *o, const char *what);
/* -C -u -s -a -J -v (those in allowed, getopt style) and --kill (with -a);
 * 0, or the exit status of a usage error */
int popts_parse(struct cli *c, struct popts *o, const char *allowed);
/* The state directory of nscell.conf (-C) for this caller, its path in
 * path: an fd, -1 when there is none yet, -2 after an error (said). */
int popts_state_dir(const struct popts *o, char *path, size_t size);

/* Does entry belong to the -u UID / -s (exact entry) / -a selection?
 * Names that are not entries (plans/, runc/) never do. */
bool entry_selected(const char *entry, const char *uid, const char *exact);
/* Every record of the selected entries; *n of them, malloc'd. */
struct sandbox *sandboxes_load(int dirfd, const char *uid, const char *exact, size_t *n);
/* The containers runc runs, appended. */
struct sandbox *sandboxes_add_runc(struct sandbox *sbs, size_t *n, int dirfd);
/* The keepers labelled with an entry of the state directory path (and
 * selected) that no record names, appended: a state directory emptied
 * behind the keepers' backs leaves them with nothing else to find them by. */
struct sandbox *sandboxes_add_orphans(struct sandbox *sbs, size_t *n, const char *path,
				      const char *uid, const char *exact);
/* Count the processes of each live sandbox's pid namespace (one pass over
 * /proc), and with list, name them as "PID COMM" in its inside[] too. */
void sandboxes_count_inside(struct sandbox *sbs, size_t n, bool list);
/* "live", "retired", "orphaned" or "stale" */
const char *sandbox_state_name(const struct sandbox *sb);

#endif
