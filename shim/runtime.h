/* nscell-shim as an OCI runtime (the runc-compatible subset):
 *   nscell-shim [--root DIR] [--log FILE] [--log-format text|json] COMMAND ...
 * with COMMAND run, create, start, state, kill, delete or list.
 *
 * shim/runtime.c     the global options, the state directory, the commands
 * shim/runtime_hooks.c  config.json's hooks: read, and run with the state
 *                       JSON on stdin; the state JSON itself
 * shim/runtime_cgroup.c linux.cgroupsPath and linux.resources, as runc
 * shim/bundle.c      a bundle into a plan; run and create's launch
 * shim/console.c     process.terminal: the pty, sent to --console-socket
 * shim/runtime_tty.c    ... or proxied by a foreground run
 *
 * Only nscell-shim links these (with oci/'s reader and yajl), not
 * libnscell.a: the template hot path never calls into them. */
#ifndef NSCELL_SHIM_RUNTIME_H
#define NSCELL_SHIM_RUNTIME_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include <termios.h>

#include "shim/console.h"
#include "shim/shim.h"

/* the OCI stages, in the order the runtime spec runs them */
enum rt_stage {
	RT_PRESTART,
	RT_CREATE_RUNTIME,
	RT_CREATE_CONTAINER,
	RT_START_CONTAINER,
	RT_POSTSTART,
	RT_POSTSTOP,
	RT_NSTAGES
};

struct rt_hook {
	char *path;
	char **args; /* NULL: { path } */
	char **env;  /* NULL: empty */
	long timeout; /* seconds, 0: none */
};

struct rt_hooks {
	struct rt_hook *stage[RT_NSTAGES];
	size_t n[RT_NSTAGES];
};

/* What a hook gets on stdin and `state` prints (pid 0: left out). */
struct rt_state {
	const char *id;
	const char *status; /* creating, created, running, stopped */
	pid_t pid;
	const char *bundle; /* absolute */
	char **annotations; /* the config's: key, value, key, value..., NULL; or NULL */
};

/* runtime_hooks.c */
const char *rt_stage_name(enum rt_stage st);
/* config.json's hooks, all six stages (where each runs:
 * shim/runtime_stages.c), from the file config or from its parsed
 * document root (oci_config_read_file_any_hooks gives it back), then
 * also its annotations into *annotations (a strv of key, value pairs)
 * when not NULL.  -1 with err naming config. */
int rt_hooks_read(const char *config, struct rt_hooks *h, nscell_error_t *err);
struct yajl_val_s;
int rt_hooks_of(struct yajl_val_s *root, const char *config, struct rt_hooks *h,
		char ***annotations, nscell_error_t *err);
void rt_hooks_free(struct rt_hooks *h);
bool rt_hooks_any(const struct rt_hooks *h);
/* Every hook of stage st in order, state on its stdin; the first failure
 * stops them: -1 with err naming hooks.STAGE[i] and its path.  warn: a
 * failure is a warning on stderr and the rest run (poststart, poststop). */
int rt_hooks_run(const struct rt_hooks *h, enum rt_stage st, const struct rt_state *state,
		 bool warn, nscell_error_t *err);
/* the state as OCI state JSON (malloc'd, NUL-terminated); NULL on error */
char *rt_state_json(const struct rt_state *state, bool pretty);

/* bundle.c: DIR/config.json into s->plan (rootfs and bind sources made
 * absolute), its hooks into *h and annotations into *annotations (read
 * once: rt_hooks_of); *abs_dir gets the bundle's absolute path (malloc'd).
 * rt_hooks_free h and plan_strv_free annotations, also after an error. */
int shim_bundle_load(struct shim *s, const char *dir, char **abs_dir, struct rt_hooks *h,
		     char ***annotations, nscell_error_t *err);
/* bundle.c: rootless checks, umask, fds 3 .. 3+preserve-1 kept */
int shim_bundle_prepare(struct shim *s, const char *dir, int preserve, nscell_error_t *err);

/* runtime_argv.c: argv[1] starts the runtime's command line (a command
 * or a global runtime option before one); the commands, "run" first */
bool shim_runtime_wanted(int argc, char **argv);
extern const char *const rt_commands[];
/* the whole runtime command line; returns the exit status (2 with the
 * error printed, and logged to --log) */
int shim_runtime_main(int argc, char **argv, struct shim *s);

/* runtime.c: one container's state, ROOT/ID/state.json (the runtime's
 * own: the spec's state is made from it) */
struct rt_container {
	char *dir;     /* ROOT/ID */
	char *id;
	char *bundle;  /* absolute */
	pid_t pid;     /* the sandbox's pid 1 (its init) */
	unsigned long long start; /* its start time, against pid reuse */
	bool started;
	long long created;
	char **annotations;
	char *cgroup;  /* the container's cgroup path (rt_cgroup_path), NULL for none */
	char *rootfs;  /* root.path, absolute (what `state` prints), or NULL */
};
int rt_container_load(const char *root, const char *id, struct rt_container *c,
		      nscell_error_t *err);
int rt_container_save(const struct rt_container *c, nscell_error_t *err);
void rt_container_free(struct rt_container *c);
/* created, running or stopped */
const char *rt_container_status(const struct rt_container *c);
/* the spec's state of c (pid left out when stopped) */
struct rt_state rt_container_state(const struct rt_container *c);
/* ROOT/ID/config.json's hooks */
int rt_container_hooks(const struct rt_container *c, struct rt_hooks *h, nscell_error_t *err);
/* "ROOT/ID/NAME" (malloc'd), or NULL */
char *rt_path(const char *dir, const char *name);
/* The runtime's JSON (state.json, `state`, the hooks' stdin), with yajl:
 * a string; "annotations": {k: v, ...} (a: key, value pairs, NULL-ended);
 * the text made (malloc'd, NULL when out of memory), g freed. */
struct yajl_gen_t;
void rt_gen_str(struct yajl_gen_t *g, const char *s);
void rt_gen_annotations(struct yajl_gen_t *g, char *const *a);
char *rt_gen_take(struct yajl_gen_t *g);

/* runtime_cgroup.c: the cgroup a bundle's plan puts its container in, as
 * runc would, in *path (malloc'd; NULL for none): a config's
 * linux.cgroupsPath, or for nscell's own configs PARENT/nscell-UID */
int rt_cgroup_path(const struct plan *p, char **path, nscell_error_t *err);
/* make path in every hierarchy with p's limits and device rules, and put
 * pid and its children in it */
int rt_cgroup_apply(const struct plan *p, const char *path, pid_t pid, nscell_error_t *err);
/* remove path's leaf in every hierarchy (a busy one stays); path may be NULL */
void rt_cgroup_remove(const char *path);

/* runtime_cmds.c: each command, argv[0] its name; status or -1 with err */
struct rt_ctx {
	const char *root; /* the state directory of containers */
	struct shim *s;
};
int rt_cmd_create(struct rt_ctx *c, int argc, char **argv, nscell_error_t *err);
int rt_cmd_start(struct rt_ctx *c, int argc, char **argv, nscell_error_t *err);
int rt_cmd_state(struct rt_ctx *c, int argc, char **argv, nscell_error_t *err);
int rt_cmd_kill(struct rt_ctx *c, int argc, char **argv, nscell_error_t *err);
int rt_cmd_delete(struct rt_ctx *c, int argc, char **argv, nscell_error_t *err);
int rt_cmd_list(struct rt_ctx *c, int argc, char **argv, nscell_error_t *err);
/* ps [-f table|json] ID [PS-ARGS]: the processes in its pid namespace */
int rt_cmd_ps(struct rt_ctx *c, int argc, char **argv, nscell_error_t *err);

/* bundle.c: run (run -b); with hooks, in the spec's order */
int shim_bundle_run(int argc, char **argv, struct shim *s, nscell_error_t *err);
/* the two ends the container's command waits on (s->before_exec_ctx) */
struct go_fds {
	int wait;  /* read in the command: one byte lets it go */
	int other; /* closed in the command (-1: none) */
};
/* bundle.c: the container's command waits for one byte on go_fd (closing
 * the error pipe first, so the launch returns once the sandbox is built);
 * set on s->before_exec with the fd in s->before_exec_ctx */
int shim_bundle_wait_go(struct shim *s, nscell_error_t *err);
bool rt_id_valid(const char *id);

/* runtime_tty.c: run in the foreground with process.terminal and no
 * console socket: the pty's master comes back to us and a copier passes
 * our stdin and stdout through it (runc's way) */
struct rt_tty {
	int sock[2];           /* [0] ours, [1] the command's */
	int master;
	pid_t copier;
	bool raw;              /* our stdin's terminal put in raw mode */
	struct termios saved;
	struct console console;
	int (*next)(struct shim *s, pid_t pid, nscell_error_t *err); /* after_spawn set before */
	void *next_ctx;
};
/* install the terminal's hooks on s (after the others are set) */
int rt_tty_prepare(struct shim *s, struct rt_tty *t, nscell_error_t *err);
/* once the launch has returned: wait for the copier, restore our terminal */
void rt_tty_finish(struct rt_tty *t);
/* runc's checks of process.terminal against --console-socket and
 * detaching (create, run -d: detached) */
int rt_terminal_check(const struct plan *p, const char *console_socket, bool detached,
		      nscell_error_t *err);
/* runtime_cmds.c: run (argv[0] "run"): in the foreground (shim_bundle_run),
 * or with -d create and start it */
int rt_cmd_run(struct rt_ctx *c, int argc, char **argv, nscell_error_t *err);

#endif
