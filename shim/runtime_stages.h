/* The OCI hooks that run inside the launch (shim/runtime_stages.c): the
 * prestart and createRuntime hooks before the pivot, on the host side,
 * the createContainer hooks after them in the container's namespaces
 * (before the pivot), the startContainer hooks in the container's process
 * before its exec.  Only nscell-runtime has it. */
#ifndef NSCELL_SHIM_RUNTIME_STAGES_H
#define NSCELL_SHIM_RUNTIME_STAGES_H

#include "shim/runtime.h"

struct rt_stages {
	const struct rt_hooks *hooks;
	struct rt_state *state; /* the host side's: pid and status set when known */
	int pivot_go[2];        /* host → child: prestart and createRuntime have run */
	int started[2];         /* command → host: 'S' once startContainer has run */
	int *exec_fds;          /* createContainer's programs, opened in the runtime's
				   namespace (O_PATH; -1: not found, tried again by path) */
	/* the caller's, on the host side before prestart (NULL: none; set
	 * after rt_stages_install: create's cgroup) */
	int (*host_first)(struct shim *s, pid_t pid, nscell_error_t *err);
};

/* Set s's before_pivot, before_pivot_host and before_execve for h (none
 * when h has no hook of those stages: then st->host_first is not called
 * either, rt_stages_pivot_hooks says which); state is the host side's (id,
 * bundle, annotations), kept by the caller for the launch.  Before the
 * launch; the stages must outlive it (rt_stages_free after). */
int rt_stages_install(struct shim *s, struct rt_stages *st, const struct rt_hooks *h,
		      struct rt_state *state, nscell_error_t *err);
void rt_stages_free(struct rt_stages *st);
/* whether h has hooks that run before the pivot (prestart, createRuntime,
 * createContainer): then the host side runs prestart and createRuntime
 * in the middle of the launch, not after it */
bool rt_stages_pivot_hooks(const struct rt_hooks *h);
/* The host side of the launch (run), once it has let the command go:
 * 0 when its startContainer hooks have run (or there are none), 1 when
 * they failed (the command has said why on its stderr and exits 2) */
int rt_stages_started(struct rt_stages *st);
/* A starter that is not the launch's host side (start), once it has let
 * the command go through go
 * (its write end: a pipe or the exec fifo): wait, when there are
 * startContainer hooks, until the command has run them (it holds the read
 * end until then), so that poststart follows them as the spec orders. */
void rt_stages_wait_started(const struct rt_hooks *h, int go);

/* runtime_hooks.c: stage st's hooks, failing at the first (as
 * rt_hooks_run without warn), each exec'd from exec_fds[i] when not NULL
 * and >= 0, in cwd_fd when >= 0 */
int rt_hooks_run_at(const struct rt_hooks *h, enum rt_stage st, const struct rt_state *state,
		    const int *exec_fds, int cwd_fd, nscell_error_t *err);

#endif
