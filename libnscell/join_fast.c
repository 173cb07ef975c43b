/* nscell_spawn()'s join of a warm sandbox, the fast way (shim_join's
 * join_fast hook): as posix_spawn does, the child shares the caller's
 * memory and the caller waits until it has exec'd (clone with CLONE_VM
 * and CLONE_VFORK, on a stack of its own), so no page table is copied
 * and no page faulted in again.  Everything the child needs (the
 * environment, the PATH search's buffers, the ids and groups, the
 * seccomp program) is made here first; the child (child.c) makes system
 * calls only and reports a failed step through a close-on-exec pipe,
 * worded here.
 *
 * Taken for a privileged caller joining a sandbox with its own pid
 * namespace on Linux 5.8+ (setns on a pidfd) on x86-64 (the prebuilt
 * TIOCSTI filter), without NSCELL_SPAWN_CGROUP (the command must wait
 * for its cgroup, the caller cannot while it is stopped); otherwise
 * shim_join's fork path, with the same steps.  Built with
 * AddressSanitizer (configure --enable-sanitizers), the child is a plain
 * fork(): ASan does not follow a child that runs on the caller's memory
 * with a stack of its own. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libnscell/child.h"
#include "libnscell/internal.h"

#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif

#ifdef SHIM_ASAN
#define CHILD_FORKS 1
#endif

#define CHILD_STACK (64 * 1024)
#define DEFAULT_PATH "/bin:/usr/bin" /* execvp's, when the environment has none */

#define JOIN_NS_MASK \
	(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET | CLONE_NEWCGROUP)

struct fast {
	struct child_plan c;
	char **env;
	char *stack;
};

/* the command's 0, 1, 2 (the caller's, or what stdio names) and kept
 * fds: with a terminal among them, the TIOCSTI filter too (shim/init.c) */
static bool reaches_terminal(const struct shim *s, const struct nscell_spawn_opts *o)
{
	int stdio[3];
	for (int fd = 0; fd < 3; fd++)
		stdio[fd] = o->stdio[fd] >= 0 ? o->stdio[fd] : fd;
	return fds_any_terminal(stdio, 3) || fds_any_terminal(s->keep_fds, s->nkeep_fds);
}

static void fast_free(struct fast *f)
{
	free(f->env);
	free(f->c.exec_buf);
	free(f->c.sh_argv);
	free(f->c.cwd_buf);
	free(f->stack);
}

/* the plan's environment less LISTEN_* (none is passed on here) */
static char **command_env(char **env, const char **path)
{
	static const char *const drop[] = { "LISTEN_PID=", "LISTEN_FDS=", "LISTEN_FDNAMES=" };
	size_t n = plan_strv_len(env), k = 0;
	char **out = calloc(n + 1, sizeof *out);
	*path = DEFAULT_PATH;
	for (size_t i = 0; out && i < n; i++) {
		bool dropped = false;
		for (size_t j = 0; j < sizeof drop / sizeof *drop; j++)
			dropped |= strncmp(env[i], drop[j], strlen(drop[j])) == 0;
		if (dropped)
			continue;
		if (strncmp(env[i], "PATH=", 5) == 0)
			*path = env[i] + 5;
		out[k++] = env[i];
	}
	return out;
}

static int prepare(struct shim *s, struct fast *f, int pidfd, pid_t keeper, unsigned long ns,
		   nscell_error_t *err)
{
	const struct plan *p = s->plan;
	const struct nscell_spawn_opts *o = s->before_exec_ctx;
	struct child_plan *c = &f->c;
	size_t argc = plan_strv_len(p->proc.argv);
	struct rlimit rl;
	const char *path;
	f->env = command_env(p->proc.env, &path);
	*c = (struct child_plan){
		.pidfd = pidfd, .ns = (int)(ns & JOIN_NS_MASK), .keeper = keeper, .err_fd = -1,
		.stdio = { o->stdio[0], o->stdio[1], o->stdio[2] }, .keep = s->keep_fds,
		.nkeep = s->nkeep_fds, .set_groups = true, .groups = p->id.groups,
		.ngroups = p->id.ngroups, .uid = p->id.uid, .gid = p->id.gid,
		.filter = reaches_terminal(s, o) ? creds_tiocsti_filter() : NULL, .cwd = p->proc.cwd ? p->proc.cwd : "/",
		.cwd_given = s->cwd_given, .argv = p->proc.argv, .envp = f->env, .path = path,
		.max_fd = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536 ? (unsigned)rl.rlim_cur :
										       65536,
	};
	c->exec_buf = malloc(strlen(path) + strlen(p->proc.argv[0]) + 2);
	c->sh_argv = calloc(argc + 2, sizeof *c->sh_argv);
	c->cwd_buf = malloc(PATH_MAX);
#ifndef CHILD_FORKS
	f->stack = malloc(CHILD_STACK);
	if (!f->stack)
		return nscell_error_set(err, ENOMEM, "out of memory");
#endif
	if (!f->env || !c->exec_buf || !c->sh_argv || !c->cwd_buf)
		return nscell_error_set(err, ENOMEM, "out of memory");
	return 0;
}

/* the child's report in words (shim/creds.c's and init.c's) */
static int child_error(const struct shim *s, const struct child_plan *c, const struct child_report *r,
		       nscell_error_t *err)
{
	const char *user = s->plan->id.user;
	int e = r->errnum;
	switch (r->step) {
	case STEP_SETNS: return nscell_error_errno(err, e, "join the namespaces of pid %d", r->arg);
	case STEP_STDIO:
		if (c->stdio[r->arg] >= 0 && c->stdio[r->arg] != r->arg)
			return nscell_error_errno(err, e, "stdio[%d]: dup2 %d onto %d", r->arg,
						  c->stdio[r->arg], r->arg);
		return nscell_error_errno(err, e, "fd %d", r->arg);
	case STEP_KEEP_FD: return nscell_error_errno(err, e, "keep fd %d", r->arg);
	case STEP_SETSID: return nscell_error_errno(err, e, "setsid");
	case STEP_SETGROUPS: return nscell_error_errno(err, e, "setgroups for %s", user);
	case STEP_SETRESGID: return nscell_error_errno(err, e, "setresgid %u", (unsigned)r->arg);
	case STEP_BOUNDING:
		return nscell_error_errno(err, e, "drop capability %d from the bounding set", r->arg);
	case STEP_AMBIENT: return nscell_error_errno(err, e, "clear ambient capabilities");
	case STEP_SECUREBITS: return nscell_error_errno(err, e, "set securebits");
	case STEP_SETRESUID: return nscell_error_errno(err, e, "setresuid %u", (unsigned)r->arg);
	case STEP_CAPSET: return nscell_error_errno(err, e, "clear capabilities");
	case STEP_NO_NEW_PRIVS: return nscell_error_errno(err, e, "set no_new_privs");
	case STEP_IDS_CHECK:
		return nscell_error_set(err, 0, "ids are not %u:%u after the switch", (unsigned)c->uid,
					(unsigned)c->gid);
	case STEP_CAPS_CHECK:
		return nscell_error_set(err, e, "capabilities are still set after dropping them");
	case STEP_BOUNDING_CHECK:
		return nscell_error_set(err, 0, "capability %d is still in the bounding set", r->arg);
	case STEP_SECCOMP: return nscell_error_errno(err, e, "seccomp filter against TIOCSTI");
	case STEP_PDEATHSIG: return nscell_error_errno(err, e, "set the parent-death signal");
	case STEP_PARENT_GONE: return nscell_error_set(err, 0, "the caller died during the launch");
	case STEP_CWD: return nscell_error_errno(err, e, "working directory %s", c->cwd);
	case STEP_CWD_OUTSIDE:
		return nscell_error_set(err, 0, "working directory %s is outside the sandbox", c->cwd);
	case STEP_EXEC: return nscell_error_errno(err, e, "exec %s", c->argv[0]);
	default: return nscell_error_set(err, 0, "joining the sandbox failed (step %d)", r->step);
	}
}

static pid_t start_child(struct fast *f)
{
#ifdef CHILD_FORKS
	pid_t pid = fork();
	if (pid == 0)
		child_main(&f->c);
	return pid;
#else
	/* the stack grows down on every architecture this runs on */
	char *top = (char *)(((uintptr_t)f->stack + CHILD_STACK) & ~(uintptr_t)15);
	return clone(child_main, top, CLONE_VM | CLONE_VFORK | SIGCHLD, &f->c);
#endif
}

/* in the pid namespace (for our children only) around the child's start:
 * its pid (never 1: that is nobody's child), -1 with err, -2 when the
 * keeper is gone, 1 when setns takes no pidfd (before Linux 5.8) */
static pid_t start_in_pid_ns(struct shim *s, struct fast *f, int pidfd, nscell_error_t *err)
{
	int self = (int)syscall(__NR_pidfd_open, getpid(), 0);
	if (self < 0)
		return 1;
	if (setns(pidfd, CLONE_NEWPID) < 0) {
		int e = errno;
		close(self);
		if (e == ESRCH)
			return nscell_error_set(err, ESRCH, "the sandbox's keeper (pid %d) is gone",
						(int)f->c.keeper), -2;
		return 1;
	}
	pid_t pid = start_child(f);
	int e = errno;
	/* our next children (and a sanitizer's tracer) are born in our own again */
	if (setns(self, CLONE_NEWPID) < 0)
		shim_log(s, NULL, "cannot return to our own pid namespace: %s", strerror(errno));
	close(self);
	if (pid < 0)
		return nscell_error_errno(err, e, "fork");
	return pid;
}

static bool child_reported(int fd, struct child_report *r)
{
	ssize_t n;
	while ((n = read(fd, r, sizeof *r)) < 0 && errno == EINTR)
		;
	return n == (ssize_t)sizeof *r;
}

static int join_fast(struct shim *s, struct fast *f, int pidfd, pid_t keeper, unsigned long ns,
		     int *lockfd, nscell_error_t *err)
{
	int pipefd[2];
	struct child_report r;
	if (prepare(s, f, pidfd, keeper, ns, err) < 0)
		return -1;
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return nscell_error_errno(err, errno, "pipe");
	f->c.err_fd = pipefd[1];
	s->joined = true;
	shim_log(s, NULL, "exec %s as uid %u in %s (joined, fast)", f->c.argv[0], (unsigned)f->c.uid,
		 f->c.cwd);
	pid_t pid = start_in_pid_ns(s, f, pidfd, err);
	close(pipefd[1]);
	bool failed = pid > 1 && child_reported(pipefd[0], &r);
	close(pipefd[0]);
	if (pid <= 1)
		return pid == 1 ? 1 : -1;
	if (failed) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return child_error(s, &f->c, &r, err);
	}
	/* the command is inside: an unmount may come now, it will see it */
	close(*lockfd);
	*lockfd = -1;
	shim_log(s, NULL, "joined the sandbox of keeper pid %d: the command is pid %d", (int)keeper,
		 (int)pid);
	s->spawned = pid;
	return 0;
}

int spawn_join_fast(struct shim *s, pid_t keeper, int pidfd, unsigned long ns, int *lockfd,
		    nscell_error_t *err)
{
	if (s->rootless || s->compat || s->want_cgroup || s->as_root || s->listen_fds ||
	    !(ns & CLONE_NEWPID) || !creds_tiocsti_filter() || !s->no_wait)
		return 1;
	struct fast f = { 0 };
	int rc = join_fast(s, &f, pidfd, keeper, ns, lockfd, err);
	fast_free(&f);
	return rc;
}
