/* The host side: clone the sandbox with its namespaces, write its id maps,
 * put it in its cgroup, then wait for it while passing signals on.
 *
 * Three pipes tie the sides together:
 *   sync   host → child: one byte once the maps (and cgroup) are in place;
 *          EOF instead means the host gave up, and the child exits.
 *   error  child/command → host, close-on-exec: a setup failure's message.
 *          EOF without a message means the command was exec'd.
 *   status init → host: the command's exit status, as soon as it is known.
 *
 * As root, the sources are opened here, before the clone (rootfs.c). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shim/shim.h"

/* Most id lines the kernel takes in one map (since Linux 4.15). */
#define MAX_MAP_LINES 340

static pid_t raw_clone(unsigned long flags)
{
	/* like fork(), but with namespaces; s390 swaps the first two arguments */
#if defined(__s390__) || defined(__CRIS__)
	return (pid_t)syscall(__NR_clone, NULL, flags | SIGCHLD);
#else
	return (pid_t)syscall(__NR_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
#endif
}

static bool user_namespaces_allowed(void)
{
	char buf[32];
	if (shim_read_small("/proc/sys/user/max_user_namespaces", buf, sizeof buf) < 0)
		return true; /* no knob: let clone() decide */
	return atol(buf) > 0;
}

static int cmp_gid(const void *a, const void *b)
{
	gid_t x = *(const gid_t *)a, y = *(const gid_t *)b;
	return (x > y) - (x < y);
}

static int write_proc_file(int piddir, const char *name, const char *data, nscell_error_t *err)
{
	_cleanup_close_ int fd = openat(piddir, name, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return nscell_error_errno(err, errno, "open %s of the sandbox", name);
	/* the kernel takes a map in one write() or not at all */
	ssize_t n = write(fd, data, strlen(data));
	if (n < 0 || (size_t)n != strlen(data))
		return nscell_error_errno(err, n < 0 ? errno : EIO, "write %s of the sandbox", name);
	return 0;
}

/* root: the sandbox's root is host root (full capabilities in its own user
 * namespace only, for the mounts), and the user's uid, gid and groups are
 * mapped 1:1 so it can become the user.  Unprivileged: only ourselves. */
static int write_id_maps(const struct shim *s, pid_t pid, nscell_error_t *err)
{
	const struct plan_identity *id = &s->plan->id;
	char path[64];
	snprintf(path, sizeof path, "/proc/%d", (int)pid);
	_cleanup_close_ int dir = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return nscell_error_errno(err, errno, "open %s", path);
	char uid_map[64];
	if (s->rootless) {
		char gid_map[32];
		/* a config's container root (runc spec --rootless): 0 → us, as runc */
		bool root = s->plan->userns_root;
		snprintf(uid_map, sizeof uid_map, "%u %u 1\n", root ? 0 : (unsigned)geteuid(),
			 (unsigned)geteuid());
		snprintf(gid_map, sizeof gid_map, "%u %u 1\n", root ? 0 : (unsigned)getegid(),
			 (unsigned)getegid());
		if (write_proc_file(dir, "uid_map", uid_map, err) < 0 ||
		    write_proc_file(dir, "setgroups", "deny", err) < 0 ||
		    write_proc_file(dir, "gid_map", gid_map, err) < 0)
			return -1;
		return 0;
	}
	int n = snprintf(uid_map, sizeof uid_map, "0 0 1\n");
	if (id->uid != 0)
		snprintf(uid_map + n, sizeof uid_map - (size_t)n, "%u %u 1\n", (unsigned)id->uid,
			 (unsigned)id->uid);
	size_t ngids = id->ngroups + 2, k = 0;
	_cleanup_free_ gid_t *gids = calloc(ngids, sizeof *gids);
	_cleanup_free_ char *gid_map = malloc(ngids * 32);
	if (!gids || !gid_map)
		return nscell_error_set(err, ENOMEM, "out of memory");
	gids[k++] = 0;
	gids[k++] = id->gid;
	for (size_t i = 0; i < id->ngroups; i++)
		gids[k++] = id->groups[i];
	qsort(gids, k, sizeof *gids, cmp_gid);
	size_t len = 0, lines = 0;
	for (size_t i = 0; i < k; i++) {
		if (i && gids[i] == gids[i - 1])
			continue;
		len += (size_t)sprintf(gid_map + len, "%u %u 1\n", (unsigned)gids[i], (unsigned)gids[i]);
		lines++;
	}
	if (lines > MAX_MAP_LINES)
		return nscell_error_set(err, 0, "user %s: %zu groups, more than a gid map holds (%d)",
					id->user, lines, MAX_MAP_LINES);
	if (write_proc_file(dir, "uid_map", uid_map, err) < 0 ||
	    write_proc_file(dir, "gid_map", gid_map, err) < 0)
		return -1;
	return 0;
}

/* The child: wait for the host side, build the sandbox, become its init. */
static void __attribute__((noreturn)) child_main(struct shim *s, int sync_fd)
{
	nscell_error_t err = { 0 };
	char go;
	/* a host side that dies leaves nothing running behind it */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		_exit(NSCELL_EXIT_USAGE);
	/* while the host side writes our id maps */
	creds_drop_bounding_early(s);
	if (read(sync_fd, &go, 1) != 1)
		_exit(NSCELL_EXIT_USAGE);
	close(sync_fd);
	/* now, not at clone: the cgroup namespace's root is the cgroup the
	 * host side has just put us in */
	if ((s->plan->namespaces & PLAN_NS_CGROUP) && unshare(CLONE_NEWCGROUP) < 0)
		nscell_error_errno(&err, errno, "new cgroup namespace");
	else if (rootfs_build(s, &err) == 0) {
		if (s->commit_fd >= 0)
			keeper_become(s);
		init_run(s);
	}
	shim_write_all(s->err_fd, err.msg, strlen(err.msg));
	_exit(NSCELL_EXIT_USAGE);
}

static unsigned long clone_flags(struct shim *s)
{
	const struct plan *p = s->plan;
	unsigned long flags = CLONE_NEWNS;
	if (p->namespaces & PLAN_NS_PID)
		flags |= CLONE_NEWPID;
	if (p->namespaces & PLAN_NS_IPC)
		flags |= CLONE_NEWIPC;
	if (p->namespaces & PLAN_NS_UTS)
		flags |= CLONE_NEWUTS;
	if (p->namespaces & PLAN_NS_NET)
		flags |= CLONE_NEWNET;
	if (s->rootless) {
		/* an unprivileged caller can mount nothing without one */
		if (!(p->namespaces & PLAN_NS_USER))
			shim_log(s, NULL, "no-unshare-user ignored: an unprivileged launch needs "
				 "a user namespace");
		s->userns = true;
	} else if (p->namespaces & PLAN_NS_USER) {
		s->userns = user_namespaces_allowed();
		if (!s->userns)
			shim_log(s, NULL, "user namespaces are disabled (max_user_namespaces is 0): "
				 "going on without one");
	}
	if (s->userns)
		flags |= CLONE_NEWUSER;
	return flags;
}

int shim_block_signals(struct shim *s, sigset_t *waited, nscell_error_t *err)
{
	sigemptyset(waited);
	for (size_t i = 0; i < shim_nforwarded_signals; i++)
		sigaddset(waited, shim_forwarded_signals[i]);
	sigaddset(waited, SIGCHLD);
	/* an ignored SIGCHLD would reap the sandbox behind our back */
	signal(SIGCHLD, SIG_DFL);
	if (sigprocmask(SIG_BLOCK, waited, &s->caller_mask) < 0)
		return nscell_error_errno(err, errno, "block signals");
	return 0;
}

static int exit_status(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return NSCELL_EXIT_USAGE;
}

static void forward(const struct shim *s, pid_t pid, int sig)
{
	shim_log(s, NULL, "passing signal %d on to the sandbox", sig);
	/* a joined command is our own child: to its process group, as the
	 * init does (it leads one once it has called setsid) */
	if (s->joined && kill(-pid, sig) == 0)
		return;
	kill(pid, sig);
}

/* Without a signalfd: until the init has exited, namespaces torn down. */
static int wait_exit(const struct shim *s, pid_t pid, const sigset_t *waited)
{
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(waited, &si), st;
		if (sig > 0 && sig != SIGCHLD)
			forward(s, pid, sig);
		else if (sig == SIGCHLD && waitpid(pid, &st, WNOHANG) == pid)
			return exit_status(st);
	}
}

/* Pass signals on until the sandbox's init reports the command's status
 * through the status pipe (before its namespaces are torn down: that
 * takes a millisecond and more), or exits without a word. */
int shim_wait_sandbox(const struct shim *s, pid_t pid, const sigset_t *waited, int status_fd)
{
	_cleanup_close_ int sfd = signalfd(-1, waited, SFD_CLOEXEC);
	if (sfd < 0)
		return wait_exit(s, pid, waited);
	struct pollfd pf[2] = { { .fd = sfd, .events = POLLIN }, { .fd = status_fd, .events = POLLIN } };
	for (;;) {
		if (poll(pf, 2, -1) < 0)
			continue; /* EINTR */
		if (pf[1].revents) {
			int status;
			if (read(status_fd, &status, sizeof status) == (ssize_t)sizeof status)
				return status;
			pf[1].fd = -1; /* EOF: the init died, SIGCHLD follows */
		}
		struct signalfd_siginfo si;
		int st;
		if (!(pf[0].revents & POLLIN) || read(sfd, &si, sizeof si) != (ssize_t)sizeof si)
			continue;
		if (si.ssi_signo != SIGCHLD)
			forward(s, pid, (int)si.ssi_signo);
		else if (waitpid(pid, &st, WNOHANG) == pid)
			return exit_status(st);
	}
}

/* Everything after the clone that can fail before the command runs. */
static int start_sandbox(struct shim *s, pid_t pid, int sync_fd, int error_fd, nscell_error_t *err)
{
	if (s->userns && write_id_maps(s, pid, err) < 0)
		return -1;
	if (s->want_cgroup && cgroup_attach(s, pid, err) < 0)
		return -1;
	if (shim_write_all(sync_fd, "1", 1) < 0)
		return nscell_error_errno(err, errno, "start the sandbox");
	size_t n = 0;
	for (;;) {
		ssize_t r = read(error_fd, err->msg + n, sizeof err->msg - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		/* a lone NUL: the child waits before its pivot for our step */
		if (r == 1 && n == 0 && err->msg[0] == '\0' && s->before_pivot_host) {
			if (s->before_pivot_host(s, pid, err) < 0)
				return -1;
			continue;
		}
		if (r <= 0 || (n += (size_t)r) == sizeof err->msg - 1)
			break;
	}
	err->msg[n] = '\0';
	return n ? -1 : 0;
}

static void close_pair(int p[2])
{
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0)
			close(p[i]);
	p[0] = p[1] = -1;
}

struct spawned {
	pid_t pid;
	int status_fd; /* the init's status pipe */
	int commit_fd; /* persisting: the socket the keeper waits on */
};

/* Clone the sandbox and start it: on success it is built and its init
 * (or keeper) runs. */
static int spawn(struct shim *s, struct spawned *sp, nscell_error_t *err)
{
	int sync_pipe[2] = { -1, -1 }, error_pipe[2] = { -1, -1 }, status_pipe[2] = { -1, -1 };
	int commit_pipe[2] = { -1, -1 };
	unsigned long flags = clone_flags(s);
	pid_t pid = -1;
	int r = -1;
	*sp = (struct spawned){ .pid = -1, .status_fd = -1, .commit_fd = -1 };
	if (rootfs_open_sources(s, err) < 0 || (s->want_cgroup && !s->cgroup && cgroup_prepare(s, err) < 0))
		goto out;
	if (pipe2(sync_pipe, O_CLOEXEC) < 0 || pipe2(error_pipe, O_CLOEXEC) < 0 ||
	    pipe2(status_pipe, O_CLOEXEC) < 0 ||
	    (s->persist && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, commit_pipe) < 0)) {
		nscell_error_errno(err, errno, "pipe");
		goto out;
	}
	pid = raw_clone(flags);
	if (pid < 0 && s->userns && !s->rootless && s->procfs_source &&
	    (errno == EPERM || errno == ENOSPC || errno == EUSERS)) {
		nscell_error_errno(err, errno, "no user namespace, and a bind's source is a procfs (refused)");
		goto out;
	}
	if (pid < 0 && s->userns && !s->rootless && (errno == EPERM || errno == ENOSPC || errno == EUSERS)) {
		shim_log(s, NULL, "no user namespace (%s): going on without one", strerror(errno));
		s->userns = false;
		flags &= ~(unsigned long)CLONE_NEWUSER;
		pid = raw_clone(flags);
	}
	if (pid == 0) {
		close(sync_pipe[1]);
		close(error_pipe[0]);
		close(status_pipe[0]);
		if (commit_pipe[1] >= 0)
			close(commit_pipe[1]);
		s->err_fd = error_pipe[1];
		s->status_fd = status_pipe[1];
		s->commit_fd = commit_pipe[0];
		child_main(s, sync_pipe[0]);
	}
	if (pid < 0) {
		int e = errno;
		nscell_error_errno(err, e, "clone the sandbox%s",
				   s->rootless && (e == EPERM || e == ENOSPC || e == EUSERS) ?
					   " (are unprivileged user namespaces disabled?)" : "");
		goto out;
	}
	s->ns_flags = flags | (s->plan->namespaces & PLAN_NS_CGROUP ? CLONE_NEWCGROUP : 0);
	/* the child has its own copies of the sources and pipe ends */
	rootfs_free(s);
	close(sync_pipe[0]);
	close(error_pipe[1]);
	close(status_pipe[1]);
	sync_pipe[0] = error_pipe[1] = status_pipe[1] = -1;
	if (commit_pipe[0] >= 0)
		close(commit_pipe[0]);
	commit_pipe[0] = -1;
	shim_log(s, NULL, "sandbox %s is pid %d%s", s->persist ? "keeper" : "init", (int)pid,
		 s->userns ? ", with a user namespace" : "");
	r = start_sandbox(s, pid, sync_pipe[1], error_pipe[0], err);
	if (r < 0) {
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	} else {
		sp->pid = pid;
		sp->status_fd = SHIM_TAKE_FD(status_pipe[0]);
		sp->commit_fd = SHIM_TAKE_FD(commit_pipe[1]);
	}
out:
	close_pair(sync_pipe);
	close_pair(error_pipe);
	close_pair(status_pipe);
	close_pair(commit_pipe);
	rootfs_free(s);
	return r;
}

int shim_launch(struct shim *s, nscell_error_t *err)
{
	sigset_t waited;
	struct spawned sp;
	int status = -1;
	if (shim_block_signals(s, &waited, err) == 0 && spawn(s, &sp, err) == 0) {
		if (s->after_spawn && s->after_spawn(s, sp.pid, err) < 0) {
			kill(sp.pid, SIGKILL);
			while (waitpid(sp.pid, NULL, 0) < 0 && errno == EINTR)
				;
		} else {
			status = shim_wait_sandbox(s, sp.pid, &waited, sp.status_fd);
			shim_log(s, NULL, "sandbox exited with status %d", status);
		}
		close(sp.status_fd);
	}
	if (s->want_cgroup)
		cgroup_release(s, status < 0);
	return status;
}

int shim_build(struct shim *s, pid_t *keeper, int *commit_fd, nscell_error_t *err)
{
	struct spawned sp;
	if (spawn(s, &sp, err) < 0)
		return -1;
	close(sp.status_fd);
	*keeper = sp.pid;
	*commit_fd = sp.commit_fd;
	return 0;
}

int shim_exec_unsandboxed(struct shim *s, nscell_error_t *err)
{
	shim_log(s, NULL, "the vhost's mode is off: no sandbox");
	if (sigprocmask(SIG_SETMASK, NULL, &s->caller_mask) < 0)
		return nscell_error_errno(err, errno, "signal mask");
	if (s->want_cgroup) {
		if (cgroup_prepare(s, err) < 0 || cgroup_attach(s, getpid(), err) < 0) {
			cgroup_release(s, true);
			return -1;
		}
	}
	command_exec(s, false, err);
	return -1;
}
