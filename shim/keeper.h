/* The keeper: pid 1 of a persisted sandbox once it is built.
 *
 * It holds the sandbox's namespaces (a pid namespace lives as long as its
 * pid 1; the others as long as a process is in them), reaps every orphan
 * forever, and exits only when told: SIGKILL from the host ends it and,
 * being pid 1, everything in its pid namespace; KEEPER_RETIRE_SIGNAL from
 * the host (never from inside: si_pid must be 0) makes it exit as soon as
 * no other process is left in its pid namespace.
 *
 * It runs as the nscell-keeper binary (static, libc only, a few pages of
 * memory), exec'd by the sandbox's first process from an fd opened on the
 * host, or in the shim itself when that binary is missing.  libc only:
 * this file goes into both. */
#ifndef NSCELL_SHIM_KEEPER_H
#define NSCELL_SHIM_KEEPER_H

#include <signal.h>

#define KEEPER_RETIRE_SIGNAL SIGUSR1
/* The byte the host side writes on the commit fd (a socket) once the
 * sandbox is recorded in the state directory; EOF instead means it gave
 * up.  The keeper closes the socket after dropping its parent-death
 * signal: the host side waits for that before it may exit. */
#define KEEPER_COMMIT 'c'
/* /proc/PID/stat's comm of a keeper, checked before joining */
#define KEEPER_COMM "nscell-keeper"

/* Wait for the commit byte on commit_fd (the parent-death signal still
 * armed until then), drop the signal and every fd, then reap until told
 * to go. */
void keeper_run(int commit_fd) __attribute__((noreturn));

#endif
