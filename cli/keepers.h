/* Keepers found by their label rather than by a state record: those
 * whose state entry is gone (a state directory wiped by hand or by a
 * cleaner) still hold their sandboxes, and only a look at /proc finds
 * them.  For nscell ls and unmount only: never on a launch's path. */
#ifndef NSCELL_CLI_KEEPERS_H
#define NSCELL_CLI_KEEPERS_H

#include <stddef.h>
#include <sys/types.h>

#include "shim/state.h"

struct labelled_keeper {
	pid_t pid;
	unsigned long long start; /* /proc/PID/stat field 22 */
	char entry[STATE_NAME_MAX]; /* the ENTRY of its STATE/ENTRY label */
};

/* The nscell-keeper processes of the caller's uid labelled with an entry
 * of the state directory dir (the path as the shim names it), malloc'd;
 * *n of them. */
struct labelled_keeper *keepers_labelled(const char *dir, size_t *n);

#endif
