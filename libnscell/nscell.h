/* libnscell: start a program in a user's nscell sandbox from your own
 * process, without exec'ing nscell-shim when the user's persisted sandbox
 * is running.
 *
 *   #include <nscell.h>          (pkg-config --cflags --libs nscell)
 *
 *   struct nscell_spawn_opts o;
 *   struct nscell_spawn_error e;
 *   char *argv[] = { "/usr/bin/php-cgi", NULL };
 *   nscell_spawn_opts_init(&o);
 *   o.user = "alice";
 *   o.argv = argv;
 *   o.flags = NSCELL_SPAWN_PERSIST;
 *   pid_t pid = nscell_spawn(&o, &e);
 *   if (pid < 0)
 *           fprintf(stderr, "spawn: %s\n", e.msg);
 *   else
 *           waitpid(pid, &status, 0);
 *
 * What it does.  nscell_spawn() reads nscell.conf and the user's entry,
 * finds the user's persisted sandbox (the state entry nscell-shim -p
 * keeps), checks that it is running and up to date exactly as nscell-shim
 * does, and forks: the child joins the sandbox's namespaces (setns on the
 * keeper's pidfd), becomes the user (groups, ids, no capability in any
 * set, no_new_privs, the seccomp filter against TIOCSTI, a new session,
 * the parent-death signal), closes every fd but 0, 1, 2 and those kept,
 * changes to the working directory and execs argv.  nscell-shim is not
 * run.  The same code (shim/join.c, shim/creds.c, shim/init.c) serves
 * nscell-shim -p.
 *
 * When there is no such sandbox (none yet, its keeper is gone, or
 * nscell.conf, a template, the user or ~/.nscell_reload asks for a new
 * one):
 *   - flags without NSCELL_SPAWN_PERSIST: an error, errnum ENOENT (none)
 *     or ESTALE (stale or out of date);
 *   - NSCELL_SPAWN_PERSIST: the child execs `nscell-shim -p` instead,
 *     which builds the sandbox, keeps it and runs argv in it; later calls
 *     join it.  The pid returned is then the shim's: it exits with the
 *     command's status (128+N when the command was killed by signal N,
 *     2 when the sandbox could not be built, with one line on the
 *     child's stderr).
 * NSCELL_SPAWN_NO_PERSIST: a sandbox of its own, always through
 * `nscell-shim -P` (the pid is the shim's, as above).  A vhost whose
 * mode is off is also run through the shim.
 *
 * Returns the child's pid, which the caller waits for (waitpid), or -1
 * with *err filled in (and errno = err->errnum).  Every failure before
 * the exec of argv (or of the shim), in the caller or in the child, is
 * reported this way before nscell_spawn() returns: the child reports
 * through a close-on-exec pipe, and a child that failed is reaped.
 *
 * Who may call.  Root, for any user; an unprivileged process, for itself
 * only (its sandbox state under NSCELL_STATE_DIR, $XDG_RUNTIME_DIR/nscell,
 * /run/user/UID/nscell or /tmp/nscell-UID).  Not setuid.
 *
 * What the caller keeps.  Nothing process-wide is changed in the caller:
 * no signal disposition, no umask, no fd flag, no working directory.
 * During the call the calling thread blocks every signal (restored
 * before returning); as root it enters the sandbox's pid namespace for
 * its children only for the fork and returns to its own (setns on the
 * calling thread, before any other thread could notice: it is the
 * thread's own).  Left behind: the boot id, cached once, and the cache
 * below (nscell_spawn_cache_clear frees it).
 *
 * The cache.  Between calls the process keeps the loaded nscell.conf and
 * the users looked up with it (at most 64 per nscell.conf), so that a
 * call does not parse them again.  Every call stats nscell.conf,
 * /etc/passwd, /etc/group and /etc/nsswitch.conf (device, inode, size,
 * mtime, ctime, or the error): when any of them differs from when the
 * cache was filled, or the call names another nscell.conf, everything is
 * read afresh.  Only users that come from /etc/passwd and /etc/group
 * (user_database files, or auto with nsswitch.conf answering from them)
 * are kept: a user from another NSS source (LDAP, sssd) is looked up on
 * every call, as its changes cannot be seen by stat.  The sandbox's state
 * (its record, keeper, ~/.nscell_reload, the templates' and bound files)
 * is checked on every call as before.  NSCELL_SPAWN_NO_CACHE reads
 * everything afresh and keeps nothing.  The cache is shared by the
 * process's threads under a mutex (held for the stats and a copy, not
 * for a lookup or the spawn); a fork()ed child of a threaded caller must
 * not call nscell_spawn() (as with any lock, it may be held by a thread
 * the child does not have).
 *
 * The child.  0, 1 and 2 are the caller's, or stdio[i] when that is not
 * -1 (dup2 onto i, in the order 0, 1, 2); they must be open in the
 * caller (EBADF otherwise).  keep_fds (each >= 3, open) are passed at
 * the same numbers, every other fd is closed.  Signal dispositions are
 * reset to the default and the mask is empty; the umask is the
 * caller's.  The environment is envp (NULL: none) with HOME, USER,
 * LOGNAME and SHELL set for the user and a default PATH when envp has
 * none.  The working directory is cwd, else where the sandbox says (the
 * user's home when the sandbox has it, else /).  The parent-death signal
 * (SIGKILL) is tied to the calling thread: a thread that spawns must
 * outlive its children.
 *
 * Requirements.  SIGCHLD must not be ignored (SIG_IGN would reap the
 * child before you can wait for it).  Linux 5.8 or later for the
 * one-call join (earlier kernels: one /proc/KEEPER/ns file each).
 *
 * The child.  As root on x86-64 (Linux 5.8+, without NSCELL_SPAWN_CGROUP)
 * the command is started as posix_spawn starts one: a child that shares
 * the caller's memory on a stack of its own while the calling thread
 * waits (clone CLONE_VM|CLONE_VFORK), so the caller's size costs nothing;
 * all it needs is prepared before, and it makes raw system calls only
 * (libnscell/child.c).  Otherwise, and in a build with AddressSanitizer,
 * the child is forked: fork() copies the caller's page tables, a very
 * large caller pays for it.
 *
 * Thread safety: nscell_spawn() may be called from several threads at
 * once; fds another thread opens without O_CLOEXEC during a call may
 * reach the child's setup, never the program (it closes them). */
#ifndef NSCELL_H
#define NSCELL_H

#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* flags */
#define NSCELL_SPAWN_PERSIST 0x1u    /* build the persisted sandbox (via nscell-shim -p) when none is warm */
#define NSCELL_SPAWN_NO_PERSIST 0x2u /* a sandbox of its own (via nscell-shim -P) */
#define NSCELL_SPAWN_CGROUP 0x4u     /* the user's cgroup with nscell.conf's limits (-c) */
#define NSCELL_SPAWN_VERBOSE 0x8u    /* each step on the caller's stderr (-v) */
#define NSCELL_SPAWN_NO_CACHE 0x10u  /* nscell.conf and the user read afresh, nothing kept */

struct nscell_spawn_opts {
	const char *user;     /* the sandbox user; NULL: yourself (root: nobody) */
	const char *vhost;    /* the virtual host (nscell.conf), NULL: none */
	const char *conf;     /* nscell.conf; NULL: the installed default (missing is fine) */
	const char *cwd;      /* working directory inside; NULL: see above */
	char *const *argv;    /* the program and its arguments; argv[0] is looked up in PATH */
	char *const *envp;    /* base environment; NULL: empty */
	const int *keep_fds;  /* fds passed on, each >= 3 */
	size_t nkeep_fds;
	int stdio[3];         /* dup2'd onto 0, 1, 2 in the child; -1: the caller's */
	unsigned flags;       /* NSCELL_SPAWN_* */
	const char *shim;     /* nscell-shim when one is exec'd; NULL: the installed one */
};

struct nscell_spawn_error {
	int errnum;     /* errno of the cause (ENOENT: no sandbox, ESTALE: out of date, ...);
			   EINVAL when it has none: bad input, or a failure in the child
			   (its message says what) */
	char msg[1024]; /* one line: what failed and why, naming the user, file or fd */
};

/* Zero everything, stdio to -1. */
void nscell_spawn_opts_init(struct nscell_spawn_opts *o);

/* See above.  err may not be NULL. */
pid_t nscell_spawn(const struct nscell_spawn_opts *o, struct nscell_spawn_error *err);

/* Free what nscell_spawn() keeps between calls (see "The cache"); the next
 * call reads nscell.conf and the user afresh.  Safe at any time. */
void nscell_spawn_cache_clear(void);

#ifdef __cplusplus
}
#endif

#endif
