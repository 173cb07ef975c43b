/* Joining a persisted sandbox: no mount, no clone of namespaces, only
 * setns and a fork.
 *
 *   shim (host) ── fork ──► joiner: setns(pidfd of the keeper, all its
 *                           namespaces) in one call (Linux 5.8+; before
 *                           that, or with NSCELL_SHIM_COMPAT=1, one
 *                           /proc/KEEPER/ns/NAME fd each, user first); then
 *                           clone(CLONE_PARENT): the command is created
 *                           in the sandbox's pid namespace as the shim's
 *                           own child, and the joiner exits
 *   (as root the shim enters the pid namespace itself, for its children,
 *   and forks the command straight in, which joins the rest: one fork)
 *   command ──► credentials, fds, cwd, exec, exactly as in a new sandbox
 *               (init.c command_exec), its parent-death signal tied to
 *               the shim
 *
 * The shim waits for the command and passes signals on, as for a sandbox
 * of its own; orphans the command leaves are reaped by the keeper. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shim/shim.h"

#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif

#define JOIN_NS_MASK \
	(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET | \
	 CLONE_NEWCGROUP)

struct joiner {
	pid_t keeper;
	int pidfd;
	unsigned long ns;
	int pid_w;  /* joiner → shim: the command's pid */
	int go_r;   /* shim → command: in its cgroup, go on (-1: no wait) */
	int lockfd; /* the entry's lock: the joiner has no use for it */
};

static bool keeper_exited(int pidfd)
{
	struct pollfd pf = { .fd = pidfd, .events = POLLIN };
	return poll(&pf, 1, 0) == 1;
}

/* Before Linux 5.8 (or compat): one fd per namespace, all opened before
 * the first setns (after it, /proc is no longer the host's), user first
 * so that the others are entered with its capabilities. */
static int enter_one_by_one(const struct joiner *j, nscell_error_t *err)
{
	static const struct {
		unsigned long flag;
		const char *name;
	} order[] = {
		{ CLONE_NEWUSER, "user" }, { CLONE_NEWNS, "mnt" },  { CLONE_NEWPID, "pid" },
		{ CLONE_NEWIPC, "ipc" },   { CLONE_NEWUTS, "uts" }, { CLONE_NEWNET, "net" },
		{ CLONE_NEWCGROUP, "cgroup" },
	};
	enum { N = sizeof order / sizeof *order };
	int fds[N];
	int rc = 0;
	for (size_t i = 0; i < N; i++) {
		char path[64];
		fds[i] = -1;
		if (!(j->ns & order[i].flag) || rc < 0)
			continue;
		snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)j->keeper, order[i].name);
		if ((fds[i] = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			rc = nscell_error_errno(err, errno, "open %s", path);
	}
	/* the pidfd pins the keeper: alive now, the fds were its */
	if (rc == 0 && keeper_exited(j->pidfd))
		rc = nscell_error_set(err, ESRCH, "the sandbox's keeper (pid %d) is gone", (int)j->keeper);
	for (size_t i = 0; i < N; i++) {
		if (fds[i] < 0)
			continue;
		if (rc == 0 && setns(fds[i], 0) < 0)
			rc = nscell_error_errno(err, errno, "join the %s namespace of pid %d", order[i].name,
						(int)j->keeper);
		close(fds[i]);
	}
	return rc;
}

static int enter_namespaces(const struct shim *s, const struct joiner *j, nscell_error_t *err)
{
	unsigned long flags = j->ns & JOIN_NS_MASK;
	if (!s->compat) {
		if (setns(j->pidfd, (int)flags) == 0)
			return 0;
		/* EINVAL: a kernel before 5.8 takes no pidfd here */
		if (errno != EINVAL)
			return nscell_error_errno(err, errno, "join the namespaces of pid %d", (int)j->keeper);
	}
	return enter_one_by_one(j, err);
}

/* the command: in the namespaces (enter: it joins them itself), in its
 * cgroup when asked (go), then credentials, fds, cwd, exec */
static void __attribute__((noreturn)) command_main(struct shim *s, const struct joiner *j, bool enter)
{
	nscell_error_t err = { 0 };
	char go;
	if (j->pid_w >= 0)
		close(j->pid_w);
	if (enter && enter_namespaces(s, j, &err) < 0)
		goto fail;
	if (j->go_r >= 0 && read(j->go_r, &go, 1) != 1)
		_exit(NSCELL_EXIT_USAGE);
	command_exec(s, true, &err);
fail:
	shim_write_all(s->err_fd, err.msg, strlen(err.msg));
	_exit(NSCELL_EXIT_USAGE);
}

static void __attribute__((noreturn)) joiner_main(struct shim *s, const struct joiner *j)
{
	nscell_error_t err = { 0 };
	/* the shim dying now leaves nothing behind (the command sets its own) */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) {
		nscell_error_errno(&err, errno, "set the parent-death signal");
		goto fail;
	}
	if (enter_namespaces(s, j, &err) < 0)
		goto fail;
	pid_t cmd = (pid_t)syscall(__NR_clone, CLONE_PARENT, NULL, NULL, NULL, NULL);
	if (cmd == 0)
		command_main(s, j, false);
	if (cmd < 0) {
		nscell_error_errno(&err, errno, "fork into the sandbox");
		goto fail;
	}
	shim_write_all(j->pid_w, &cmd, sizeof cmd);
	_exit(0);
fail:
	shim_write_all(s->err_fd, err.msg, strlen(err.msg));
	_exit(NSCELL_EXIT_USAGE);
}

/* Our children are born in our own pid namespace again: whatever forks
 * later (a sanitizer's tracer at exit, or the next spawn of a program
 * embedding libnscell) is not put in the sandbox.  self was opened before
 * we left it. */
static void restore_pid_ns(const struct shim *s, int self)
{
	if (setns(self, CLONE_NEWPID) < 0)
		shim_log(s, NULL, "cannot return to our own pid namespace: %s", strerror(errno));
	close(self);
}

/* all of a pipe (fd) into buf until EOF; the length read */
static size_t read_all(int fd, void *buf, size_t size)
{
	size_t n = 0;
	while (n < size) {
		ssize_t r = read(fd, (char *)buf + n, size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	return n;
}

static void reap(pid_t pid)
{
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

int shim_join(struct shim *s, pid_t keeper, int pidfd, unsigned long ns, int *lockfd,
	      const sigset_t *waited, nscell_error_t *err)
{
	int error_pipe[2] = { -1, -1 }, pid_pipe[2] = { -1, -1 }, go_pipe[2] = { -1, -1 };
	int rc = -1;
	pid_t cmd = -1;
	if (s->join_fast && (rc = s->join_fast(s, keeper, pidfd, ns, lockfd, err)) != 1)
		return rc;
	rc = -1;
	if (s->want_cgroup && !s->cgroup && cgroup_prepare(s, err) < 0)
		goto out;
	if (pipe2(error_pipe, O_CLOEXEC) < 0 || pipe2(pid_pipe, O_CLOEXEC) < 0 ||
	    (s->want_cgroup && pipe2(go_pipe, O_CLOEXEC) < 0)) {
		nscell_error_errno(err, errno, "pipe");
		goto out;
	}
	s->joined = true;
	struct joiner j = { .keeper = keeper, .pidfd = pidfd, .ns = ns, .pid_w = pid_pipe[1],
			    .go_r = go_pipe[0], .lockfd = *lockfd };
	/* Root: the shim itself enters the pid namespace (which only its
	 * children see) and forks the command straight into it: one fork,
	 * not two.  A keeper gone now has changed nothing: once more. */
	bool direct = !s->rootless && !s->compat && (ns & CLONE_NEWPID);
	int self = direct ? (int)syscall(__NR_pidfd_open, getpid(), 0) : -1;
	direct = self >= 0;
	if (direct && setns(pidfd, CLONE_NEWPID) < 0) {
		int e = errno;
		close(SHIM_TAKE_FD(self));
		if (e == ESRCH) {
			nscell_error_set(err, ESRCH, "the sandbox's keeper (pid %d) is gone", (int)keeper);
			rc = -2;
			goto out;
		}
		direct = false; /* before Linux 5.8 */
	}
	j.ns &= direct ? ~(unsigned long)CLONE_NEWPID : ~0UL;
	pid_t child = fork();
	if (child == 0) {
		close(error_pipe[0]);
		close(pid_pipe[0]);
		if (go_pipe[1] >= 0)
			close(go_pipe[1]);
		close(j.lockfd);
		if (self >= 0)
			close(self);
		s->err_fd = error_pipe[1];
		if (direct)
			command_main(s, &j, true);
		joiner_main(s, &j);
	}
	if (direct)
		restore_pid_ns(s, self);
	if (child < 0) {
		nscell_error_errno(err, errno, "fork");
		goto out;
	}
	close(SHIM_TAKE_FD(error_pipe[1]));
	close(SHIM_TAKE_FD(pid_pipe[1]));
	if (go_pipe[0] >= 0)
		close(SHIM_TAKE_FD(go_pipe[0]));
	if (direct) {
		cmd = child;
	} else {
		bool got = read_all(pid_pipe[0], &cmd, sizeof cmd) == sizeof cmd;
		reap(child);
		if (!got) {
			size_t n = read_all(error_pipe[0], err->msg, sizeof err->msg - 1);
			err->msg[n] = '\0';
			if (!n)
				nscell_error_set(err, 0, "joining the sandbox failed");
			/* this shim's pid namespace is still its own: it may build anew */
			rc = keeper_exited(pidfd) ? -2 : -1;
			goto out;
		}
	}
	/* the command is inside: an unmount may come now, it will see it */
	close(*lockfd);
	*lockfd = -1;
	shim_log(s, NULL, "joined the sandbox of keeper pid %d: the command is pid %d", (int)keeper,
		 (int)cmd);
	if (s->want_cgroup) {
		if (cgroup_attach(s, cmd, err) < 0 || shim_write_all(go_pipe[1], "1", 1) < 0) {
			kill(cmd, SIGKILL);
			reap(cmd);
			goto out;
		}
		close(SHIM_TAKE_FD(go_pipe[1]));
	}
	size_t n = read_all(error_pipe[0], err->msg, sizeof err->msg - 1);
	err->msg[n] = '\0';
	if (n) {
		reap(cmd);
		goto out;
	}
	if (s->no_wait) {
		s->spawned = cmd;
		rc = 0;
		goto out;
	}
	rc = shim_wait_sandbox(s, cmd, waited, -1);
	shim_log(s, NULL, "the command exited with status %d", rc);
out:
	for (int i = 0; i < 2; i++) {
		if (error_pipe[i] >= 0)
			close(error_pipe[i]);
		if (pid_pipe[i] >= 0)
			close(pid_pipe[i]);
		if (go_pipe[i] >= 0)
			close(go_pipe[i]);
	}
	return rc;
}
