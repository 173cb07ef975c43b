/* Pid 1 of the sandbox, and the command's last steps before exec.
 *
 * The init forks the command, then gives up what it no longer needs
 * (every fd, every capability but CAP_KILL, dumpability), passes the
 * forwarded signals on to the command's process group, reaps every zombie, and exits with the
 * command's status (128+N for signal N) as soon as the command is gone:
 * the pid namespace dies with it, and so does anything left behind.  The
 * status goes to the host side through a pipe first, so the launch ends
 * without waiting for the namespaces' teardown. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shim/keeper.h"
#include "shim/shim.h"

#ifndef __NR_close_range
#define __NR_close_range 436
#endif
#ifndef __NR_execveat
#define __NR_execveat 322
#endif

static void __attribute__((noreturn)) fail(const struct shim *s, const nscell_error_t *err)
{
	if (s->err_fd >= 0)
		shim_write_all(s->err_fd, err->msg, strlen(err->msg));
	else
		fprintf(stderr, "nscell-shim: %s\n", err->msg);
	_exit(NSCELL_EXIT_USAGE);
}

static int enter_cwd(const struct shim *s, bool in_sandbox, nscell_error_t *err)
{
	const char *cwd = s->plan->proc.cwd ? s->plan->proc.cwd : "/";
	if (chdir(cwd) < 0) {
		/* the home need not be in the sandbox: then start at / */
		if (s->cwd_given || !in_sandbox || chdir("/") < 0)
			return nscell_error_errno(err, errno, "working directory %s", cwd);
		shim_log(s, NULL, "working directory %s is not in the sandbox: using /", cwd);
	}
	char buf[PATH_MAX];
	/* "(unreachable)/..." or an error: the cwd is outside our root */
	if (!getcwd(buf, sizeof buf) || buf[0] != '/')
		return nscell_error_set(err, 0, "working directory %s is outside the sandbox", cwd);
	return 0;
}

/* A config's process.rlimits (a template sets none: the caller's stay),
 * while the command may still raise a hard limit */
static int set_rlimits(const struct plan_process *pp, nscell_error_t *err)
{
	for (size_t i = 0; i < pp->nrlimits; i++) {
		const struct plan_rlimit *l = &pp->rlimits[i];
		struct rlimit rl = { .rlim_cur = (rlim_t)l->soft, .rlim_max = (rlim_t)l->hard };
		if (setrlimit(l->resource, &rl) < 0)
			return nscell_error_errno(err, errno, "process.rlimits %s soft %llu hard %llu",
						  plan_rlimit_name(l->resource) ?
							  plan_rlimit_name(l->resource) : "?",
						  (unsigned long long)l->soft,
						  (unsigned long long)l->hard);
	}
	return 0;
}

int command_exec(struct shim *s, bool in_sandbox, nscell_error_t *err)
{
	struct plan *p = s->plan;
	/* the init (pid 1) in a sandbox of our own; a joined command's parent
	 * is the shim, outside the pid namespace: getppid() says 0 */
	pid_t parent = s->joined ? 0 : getppid();
	if (s->before_exec && s->before_exec(s, err) < 0)
		return -1;
	/* A new session: no controlling terminal to push input into
	 * (TIOCSTI).  An interactive shell too: the caller's session (and its
	 * process groups) lies outside the sandbox's pid namespace, so job
	 * control could not work there anyway.  A pty of the runtime's
	 * (shim/console.c) has made the session already. */
	if (getsid(0) != getpid() && setsid() < 0 && in_sandbox)
		return nscell_error_errno(err, errno, "setsid");
	/* A terminal the command holds could still be pushed into once it
	 * made it its own (TIOCSCTTY, when no session has it): then the
	 * filter too.  Without a new session it is the only lock; a bundle
	 * whose config asks for it gets it as runc would give it. */
	s->tty_filter = !in_sandbox || s->bundle_seccomp || fds_reach_terminal(s);
	umask(s->umask);
	if (set_rlimits(&p->proc, err) < 0 || creds_drop(s, in_sandbox, parent, err) < 0)
		return -1;
	if (enter_cwd(s, in_sandbox, err) < 0)
		return -1;
	/* OCI startContainer hooks, as the process (shim/runtime_stages.c) */
	if (s->before_execve && s->before_execve(s, err) < 0)
		return -1;
	char **env = fds_finish(s, p->proc.env, err);
	if (!env)
		return -1;
	if (!p->proc.argv || !p->proc.argv[0])
		return nscell_error_set(err, EINVAL, "no command");
	shim_log(s, NULL, "exec %s as uid %u in %s%s", p->proc.argv[0], (unsigned)getuid(),
		 p->proc.cwd ? p->proc.cwd : "/", s->joined ? " (joined)" : "");
	sigprocmask(SIG_SETMASK, &s->caller_mask, NULL);
	/* execvp searches the PATH of environ: make it the command's own */
	extern char **environ;
	environ = env;
	execvp(p->proc.argv[0], p->proc.argv);
	return nscell_error_errno(err, errno, "exec %s", p->proc.argv[0]);
}

static int status_of(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return NSCELL_EXIT_USAGE;
}

/* The command starts the way vfork(2) starts one: it shares the init's
 * memory and the init waits until it has exec'd (or died), so no page
 * table is copied, no page faulted in twice, and the init's own steps
 * (dropping its capabilities, closing its fds) do not compete with the
 * command's for the CPU: a cold launch is 0.3 to 0.5 ms shorter.
 * command_exec never returns; what it allocates stays allocated, and all
 * else it changes (credentials, session, fds, cwd, umask, signal mask,
 * seccomp) is the command's own: nothing the init reads afterwards.
 * Not when the command waits before its exec (before_exec: an OCI
 * container waiting for `start`): the init must close its end of the
 * error pipe meanwhile.  A macro, not a function: a vfork child must not
 * return from the function that called vfork (its return would clobber
 * the frame the init returns through). */
#ifdef SHIM_ASAN
#define START_COMMAND(s) fork()
#else
#define START_COMMAND(s) ((s)->before_exec ? fork() : vfork())
#endif

void init_run(struct shim *s)
{
	nscell_error_t err = { 0 };
	/* orphans are ours to reap even without a pid namespace */
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	/* not dumpable (no ptrace, no /proc/1 access by the user) before the
	 * command runs: after a vfork the init runs again only once the
	 * command exec'd, and the user's code could look at /proc/1/fd
	 * meanwhile.  The command's exec makes a memory of its own, which
	 * is dumpable as any. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	pid_t cmd = START_COMMAND(s);
	if (cmd < 0) {
		nscell_error_errno(&err, errno, "fork the command");
		fail(s, &err);
	}
	if (cmd == 0) {
		command_exec(s, true, &err);
		fail(s, &err);
	}

	/* The command holds what it needs; the init keeps next to nothing:
	 * CAP_KILL only, not dumpable (above), no fd (the error pipe's EOF
	 * tells the host side the exec happened). */
	if (creds_init_caps(&err) < 0) {
		kill(cmd, SIGKILL);
		fail(s, &err);
	}
	/* setfsuid while building cleared the parent-death signal: set it
	 * again, then make sure the host side (the error pipe's reader) is
	 * still there, or it died before the signal could be armed */
	struct pollfd pfd = { .fd = s->err_fd, .events = POLLOUT };
	/* (cleared for an init that outlives the host side: the build may
	 * have changed no credential, and kept child_main's) */
	int death = s->init_outlives_host ? 0 : SIGKILL;
	if (prctl(PR_SET_PDEATHSIG, death, 0, 0, 0) < 0 ||
	    (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLERR))) {
		kill(cmd, SIGKILL);
		_exit(NSCELL_EXIT_USAGE);
	}
	/* all but the status pipe */
	int keep = s->status_fd;
	if ((keep > 0 && syscall(__NR_close_range, 0, keep - 1, 0) < 0) ||
	    syscall(__NR_close_range, keep + 1, ~0U, 0) < 0)
		for (int fd = 0; fd < 1024; fd++)
			if (fd != keep)
				close(fd);
	s->err_fd = -1;

	sigset_t waited;
	sigemptyset(&waited);
	for (size_t i = 0; i < shim_nforwarded_signals; i++)
		sigaddset(&waited, shim_forwarded_signals[i]);
	sigaddset(&waited, SIGCHLD);
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&waited, &si);
		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			/* to the command's process group (it leads one): a ^C
			 * reaches the shell's foreground job as well */
			if (kill(-cmd, sig) < 0)
				kill(cmd, sig);
			continue;
		}
		int st;
		pid_t r;
		while ((r = waitpid(-1, &st, WNOHANG)) > 0) {
			if (r != cmd)
				continue;
			/* the host side learns the status now, not after the
			 * namespaces are torn down (a millisecond and more) */
			int status = status_of(st);
			if (!s->init_outlives_host) /* else nobody reads it */
				shim_write_all(s->status_fd, &status, sizeof status);
			_exit(status);
		}
	}
}

/* close every fd but the (up to three) in keep */
static void close_all_but(int keep[3])
{
	for (int i = 0; i < 3; i++)
		for (int j = i + 1; j < 3; j++)
			if (keep[j] < keep[i]) {
				int t = keep[i];
				keep[i] = keep[j];
				keep[j] = t;
			}
	int next = 0;
	for (int i = 0; i <= 3; i++) {
		int k = i < 3 ? keep[i] : INT_MAX;
		if (k < next)
			continue;
		if (k > next && syscall(__NR_close_range, (unsigned)next, (unsigned)(k - 1), 0) < 0)
			for (int fd = next; fd < k && fd < 1024; fd++)
				close(fd);
		if (k == INT_MAX)
			break;
		next = k + 1;
	}
}

void keeper_become(struct shim *s)
{
	nscell_error_t err = { 0 };
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (creds_keeper(&err) < 0)
		fail(s, &err);
	/* setfsuid while building cleared the parent-death signal: armed
	 * again, it ends a sandbox whose launch dies before recording it
	 * (the keeper clears it on the commit); then make sure the host
	 * side (the error pipe's reader) has not died already */
	struct pollfd pfd = { .fd = s->err_fd, .events = POLLOUT };
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 ||
	    (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLERR)))
		_exit(NSCELL_EXIT_USAGE);
	signal(SIGCHLD, SIG_DFL);
	int keep[3] = { s->err_fd, s->commit_fd, s->keeper_fd };
	close_all_but(keep);
	if (fcntl(s->commit_fd, F_SETFD, 0) < 0) {
		nscell_error_errno(&err, errno, "keeper: commit socket");
		fail(s, &err);
	}
	if (s->keeper_fd >= 0) {
		char fd[16];
		snprintf(fd, sizeof fd, "%d", s->commit_fd);
		char *argv[] = { KEEPER_COMM, fd, (char *)s->keeper_label, NULL }, *envp[] = { NULL };
		/* the binary was opened on the host: nothing in the sandbox's
		 * tree is needed, it is static */
		syscall(__NR_execveat, s->keeper_fd, "", argv, envp, AT_EMPTY_PATH);
		nscell_error_errno(&err, errno, "exec the keeper (nscell-keeper)");
		fail(s, &err);
	}
	/* no nscell-keeper: this process keeps the sandbox itself */
	prctl(PR_SET_NAME, KEEPER_COMM, 0, 0, 0);
	close(s->err_fd); /* the host side's EOF: built */
	keeper_run(s->commit_fd);
}
