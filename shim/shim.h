/* nscell-shim: the hot-path launcher.  It builds the sandbox a plan
 * describes and execs the user's command in it.
 *
 * Process tree:
 *   host side  nscell-shim (the caller's process): clones the sandbox, writes
 *              its uid/gid maps, puts it in a cgroup, forwards signals and
 *              returns the command's status.
 *   pid 1      the cloned child: builds the mount tree (rootfs.c), pivots
 *              into it, then stays as a tiny init (init.c).
 *   pid 2      the command: drops every privilege (creds.c), keeps only the
 *              file descriptors asked for (fds.c) and execs.
 *
 * Persisted (-p, persist.c): pid 1 becomes the keeper (keeper.h) once the
 * tree is built and stays; every launch, the first included, joins it
 * from the host side (join.c): the command is the shim's own child,
 * inside the sandbox's namespaces.
 *
 * Nothing in shim/ parses a template: everything comes from the plan. */
#ifndef NSCELL_SHIM_H
#define NSCELL_SHIM_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "translate/error.h"
#include "translate/plan.h"

/* Built with AddressSanitizer (configure --enable-sanitizers): a child
 * that shares its parent's memory (vfork, CLONE_VM) is a plain fork()
 * instead, which ASan follows. */
#if defined(__SANITIZE_ADDRESS__)
#define SHIM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SHIM_ASAN 1
#endif
#endif

struct shim_cgroup;
struct rootfs;

/* What the command line asked for, plus what main() learnt about the caller. */
struct shim {
	struct plan *plan;
	bool verbose;
	bool rootless;        /* unprivileged caller launching for itself */
	bool userns;          /* a user namespace is created */
	bool procfs_source;   /* a bind's source is a procfs: needs the user namespace */
	bool cwd_given;       /* -d: a missing working directory is an error */
	bool want_cgroup;     /* -c */
	bool interactive;     /* no command, stdin is a tty: the shell with -i */
	bool compat;          /* NSCELL_SHIM_COMPAT=1: take the pre-5.12 kernel paths */
	bool tty_filter;      /* the command gets the TIOCSTI filter (init.c decides) */
	bool bundle_seccomp;  /* an OCI bundle's linux.seccomp asks for that filter: always */
	int *keep_fds;        /* sorted, unique, all >= 3: --keep-fd and LISTEN_FDS */
	size_t nkeep_fds;
	unsigned listen_fds;  /* LISTEN_FDS passed on (fds 3..3+n-1), 0 when none */
	mode_t umask;         /* the caller's, restored for the command */
	sigset_t caller_mask; /* the caller's signal mask, restored for the command */
	int err_fd;           /* write end of the error pipe (child side), -1 elsewhere */
	int status_fd;        /* write end of the status pipe (the init's), -1 elsewhere */
	struct shim_cgroup *cgroup;
	struct rootfs *rootfs; /* sources opened by the host side, or NULL */
	bool persist;         /* the sandbox is built to be kept: its pid 1 is a keeper */
	bool joined;          /* the command joins a persisted sandbox (its parent is outside) */
	bool as_root;         /* enter --root: the command is the sandbox's root */
	int keeper_fd;        /* O_PATH of nscell-keeper; -1: the shim keeps the sandbox itself */
	int commit_fd;        /* child side: the socket the keeper waits on; -1 when not persisting */
	const char *keeper_label; /* STATE/ENTRY, the keeper's argv[2]: found again by it
				     even when its state entry is gone (nscell ls) */
	unsigned long ns_flags; /* CLONE_NEW* flags the sandbox was made with */
	/* libnscell (nscell_spawn): join a warm sandbox from the caller's
	 * process and return, changing nothing process-wide in it */
	bool no_wait;         /* shim_join returns once the command exec'd: its pid in spawned */
	bool warm_only;       /* shim_persist never builds: no sandbox, or one out of date,
				 is an error with cold set; no dir made, no reload file removed */
	bool cold;            /* out: what warm_only refused */
	pid_t spawned;        /* out (no_wait): the command, the caller's child */
	/* in the command, first thing in command_exec (NULL: none) */
	int (*before_exec)(struct shim *s, nscell_error_t *err);
	void *before_exec_ctx;
	/* host side of shim_launch, once the sandbox is built and its init
	 * runs (pid): -1 with err kills it (NULL: none; OCI runtime hooks) */
	int (*after_spawn)(struct shim *s, pid_t pid, nscell_error_t *err);
	void *after_spawn_ctx;
	/* OCI hooks around the pivot and the exec (shim/runtime_stages.c;
	 * NULL: none).  before_pivot: in the child, the mounts made, root_fd
	 * the new root; it may write a lone NUL on the error pipe, and the
	 * host side then runs before_pivot_host(pid) in the middle of the
	 * launch (a failure kills the child).  before_execve: in the command,
	 * its credentials and cwd set, before its fds are closed and it execs. */
	int (*before_pivot)(struct shim *s, int root_fd, nscell_error_t *err);
	int (*before_pivot_host)(struct shim *s, pid_t pid, nscell_error_t *err);
	int (*before_execve)(struct shim *s, nscell_error_t *err);
	void *stages_ctx;
	/* the OCI runtime's create: the init outlives the host side, whose
	 * caller's subreaper (containerd's shim) reaps it as runc's; no
	 * parent-death signal, no status through the pipe (runtime_cmds.c) */
	bool init_outlives_host;
	/* tried first by shim_join (NULL: none), same contract; 1: not
	 * applicable here, shim_join goes on (libnscell/join_fast.c) */
	int (*join_fast)(struct shim *s, pid_t keeper, int pidfd, unsigned long ns, int *lockfd,
			 nscell_error_t *err);
};

/* an fd out of a variable that is closed at the end */
#define SHIM_TAKE_FD(fd) ({ int _fd = (fd); (fd) = -1; _fd; })

/* Signals the host side and the init pass on to the command. */
extern const int shim_forwarded_signals[];
extern const size_t shim_nforwarded_signals;

/* log.c: -v, NSCELL_DEBUG=1 or the trigger file (s->verbose): one line
 * per step on stderr, naming the template line (origin may be NULL);
 * times are since shim_log_start(). */
void shim_log_start(void);
/* NSCELL_DEBUG=1, or the trigger file next to the default nscell.conf */
bool shim_debug_requested(void);
/* "libc: musl, static" (--version of nscell-shim and nscell-runtime):
 * configure builds them on musl where it can (Makefile.am, "musl/") */
void shim_print_libc(FILE *f);
void shim_log(const struct shim *s, const struct plan_origin *origin, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* launch.c: clone the sandbox, run the host side, return the exit status. */
int shim_launch(struct shim *s, nscell_error_t *err);
/* launch.c: clone and build a sandbox to keep (s->persist): *keeper is its
 * pid 1 (our child), waiting for KEEPER_COMMIT on *commit_fd. */
int shim_build(struct shim *s, pid_t *keeper, int *commit_fd, nscell_error_t *err);
/* launch.c: block the signals passed on (and SIGCHLD), keeping the
 * caller's mask in s->caller_mask. */
int shim_block_signals(struct shim *s, sigset_t *waited, nscell_error_t *err);
/* launch.c: pass signals on to pid (our child) until its status is known
 * (from status_fd, or -1 for none: its exit); 128+N for signal N. */
int shim_wait_sandbox(const struct shim *s, pid_t pid, const sigset_t *waited, int status_fd);
/* The vhost's mode is off: no sandbox, just become the user and exec. */
int shim_exec_unsandboxed(struct shim *s, nscell_error_t *err);

/* rootfs.c: (host side, root) open every source before the clone, as
 * detached mount trees the child attaches; a no-op when unprivileged. */
int rootfs_open_sources(struct shim *s, nscell_error_t *err);
void rootfs_free(struct shim *s);
/* rootfs.c: (child) build the mount tree from the plan and pivot into it. */
int rootfs_build(struct shim *s, nscell_error_t *err);

/* init.c: (child, after the pivot) fork the command and be its pid 1.
 * Never returns. */
void __attribute__((noreturn)) init_run(struct shim *s);
/* init.c: the command's last steps: credentials, fds, cwd, exec.  Returns
 * only on failure. */
int command_exec(struct shim *s, bool in_sandbox, nscell_error_t *err);
/* init.c: (child, after the pivot, persisting) give up every privilege and
 * exec the keeper (or be it).  Never returns. */
void __attribute__((noreturn)) keeper_become(struct shim *s);

/* persist.c: -p: join the user's persisted sandbox, building it first
 * when there is none, it is stale, or it is out of date (templates,
 * nscell.conf or the user changed, or ~/.nscell_reload).  enter: join
 * only (nscell enter).  Returns the command's status. */
struct nscell_conf;
struct load_opts;
struct diags;
int shim_persist(struct shim *s, struct nscell_conf *conf, struct load_opts *lo, struct diags *d,
		 bool enter, nscell_error_t *err);
/* join.c: run the command in the namespaces of the keeper behind pidfd;
 * *lockfd is closed once the command is inside.  Returns its status
 * (s->no_wait: 0 once it exec'd, its pid in s->spawned), -1 with err, or
 * -2 when the keeper was gone before the command got in. */
int shim_join(struct shim *s, pid_t keeper, int pidfd, unsigned long ns, int *lockfd,
	      const sigset_t *waited, nscell_error_t *err);
/* log.c: no command, a terminal: the shell gets -i */
int shim_make_interactive(struct plan *p, nscell_error_t *err);

/* creds.c: become the user with no capability, no_new_privs and the
 * TIOCSTI filter (s->as_root: the sandbox's root, keeping what that
 * holds in its user namespace).  pdeath: set PR_SET_PDEATHSIG last, and
 * check that getppid() is still parent (0: a parent outside the pid
 * namespace, the shim of a joined command). */
int creds_drop(const struct shim *s, bool pdeath, pid_t parent, nscell_error_t *err);
/* creds.c: the TIOCSTI filter creds_drop loads, as a ready program (NULL
 * where it is built by libseccomp at run time: not x86-64) */
struct sock_fprog;
const struct sock_fprog *creds_tiocsti_filter(void);
/* creds.c: the keeper: no capability left, not even after exec'ing as uid 0. */
int creds_keeper(nscell_error_t *err);
/* creds.c: the bounding set dropped (but a config's), right after the
 * clone; best effort, creds_drop makes sure of it */
void creds_drop_bounding_early(const struct shim *s);
/* creds.c: the init keeps its uid and CAP_KILL only (to signal the command). */
int creds_init_caps(nscell_error_t *err);
/* creds.c: setfsuid/setfsgid to the user (to create files as the user) and back. */
int creds_fs_as_user(const struct shim *s, nscell_error_t *err);
void creds_fs_restore(void);

/* fds.c */
/* Make sure 0, 1 and 2 are open, mark every other fd close-on-exec except
 * the kept ones (--keep-fd, LISTEN_FDS), which are validated. */
int fds_setup(struct shim *s, const int *keep, size_t nkeep, nscell_error_t *err);
/* In the command: close everything not kept, and return the environment
 * to exec with: env with LISTEN_PID set to our pid when LISTEN_FDS are
 * passed on, or every LISTEN_* removed when they are not.  The strings
 * are env's (plus one new one); NULL on failure. */
char **fds_finish(const struct shim *s, char **env, nscell_error_t *err);
/* Whether one of the n fds is a terminal. */
bool fds_any_terminal(const int *fds, size_t n);
/* Whether the command would hold a terminal: 0, 1, 2 or a kept fd. */
bool fds_reach_terminal(const struct shim *s);

/* cgroup.c: a per-user cgroup under p->cgroup.parent with the plan's limits */
int cgroup_prepare(struct shim *s, nscell_error_t *err);
int cgroup_attach(struct shim *s, pid_t pid, nscell_error_t *err);
/* remove the cgroups this launch created (after a failure) and free */
void cgroup_release(struct shim *s, bool failed);
/* cgroup.c, for runtime_cgroup.c too: write value to dir/name (one line
 * naming both on failure); whether path is a filesystem of that magic */
int cgroup_write(const char *dir, const char *name, const char *value, nscell_error_t *err);
bool cgroup_fs_is(const char *path, long magic);

/* write(2) all of buf, retrying on EINTR and short writes */
int shim_write_all(int fd, const void *buf, size_t len);
/* read a small file (up to size-1 bytes, NUL-terminated); -1 on error */
ssize_t shim_read_small(const char *path, char *buf, size_t size);
/* io.c: the path of program name next to this executable (a build tree,
 * or the same directory of an install) when it is there, else in dir */
void shim_sibling(const char *name, const char *dir, char *buf, size_t size);

/* shim_main.c: nscell-shim's command line, run (the exit status);
 * nscell-shim-nss, the same program linked dynamically, runs it too */
int shim_main(int argc, char **argv);
/* exec nscell-shim-nss with this launch's command line: a static
 * nscell-shim's answer to a user only NSS knows (shim/nss_handover.c).
 * Returns only on failure, -1 with err. */
int shim_nss_handover(nscell_error_t *err);
#define SHIM_NSS_PROGRAM "nscell-shim-nss"

#endif
