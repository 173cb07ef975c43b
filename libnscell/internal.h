/* libnscell's insides, shared by spawn.c (the join) and via_shim.c (exec
 * nscell-shim).  See nscell.h for the contract. */
#ifndef NSCELL_LIBNSCELL_INTERNAL_H
#define NSCELL_LIBNSCELL_INTERNAL_H

#include "libnscell/nscell.h"
#include "shim/shim.h"

/* In the child, before credentials are dropped (the shim's before_exec
 * hook, s->before_exec_ctx is the nscell_spawn_opts): default signal
 * dispositions, the caller's umask, stdio dup2'd, kept fds inheritable. */
int spawn_child_setup(struct shim *s, nscell_error_t *err);

/* Fork and exec nscell-shim with mode ("-p" or "-P") and o's options;
 * s has the kept fds (s->keep_fds).  The shim's pid, or -1 with err when
 * it could not be exec'd. */
pid_t spawn_via_shim(const struct nscell_spawn_opts *o, struct shim *s, const char *mode,
		     nscell_error_t *err);

/* join_fast.c: shim_join's join_fast hook (shim.h): the command started
 * by a child that shares our memory (clone CLONE_VM|CLONE_VFORK); 1 when
 * that path does not apply (shim_join forks as usual) */
int spawn_join_fast(struct shim *s, pid_t keeper, int pidfd, unsigned long ns, int *lockfd,
		    nscell_error_t *err);

#endif
