/* One hostexec connection, in a child of the listener: who is asking
 * (SO_PEERCRED only), what for (read within bounds and a deadline), may
 * they (policy.c), then the program on the host as that user, watched
 * until it ends or the client goes away. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hostexec/daemon.h"
#include "hostexec/protocol.h"
#include "shim/shim.h"

#define KILL_GRACE_MS 5000

struct conn {
	const struct hx_daemon *d;
	int fd;
	struct ucred peer;
	int fds[HX_NFDS];
	struct hx_request_header h;
	char *data;
	struct hx_request req;
};

static void say(const struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const struct conn *c, const char *fmt, ...)
{
	if (!c->d->verbose)
		return;
	char line[1200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	fprintf(stderr, "nscell hostexec-daemon[%d]: uid %u pid %d: %s\n", (int)getpid(),
		(unsigned)c->peer.uid, (int)c->peer.pid, line);
}

static void reply(const struct conn *c, enum hx_reply_kind kind, int value, const char *msg)
{
	size_t len = msg ? strnlen(msg, HX_MAX_MESSAGE) : 0;
	struct hx_reply r = { .magic = HX_MAGIC, .kind = kind, .value = value, .len = (uint32_t)len };
	char buf[sizeof r + HX_MAX_MESSAGE];
	memcpy(buf, &r, sizeof r);
	if (len)
		memcpy(buf + sizeof r, msg, len);
	(void)!send(c->fd, buf, sizeof r + len, MSG_NOSIGNAL);
}

static void __attribute__((noreturn)) refuse(const struct conn *c, int status, const char *msg)
{
	say(c, "refused: %s", msg);
	reply(c, HX_REFUSED, status, msg);
	_exit(1);
}

/* exactly len bytes, or refuse (end of file, the deadline, an error) */
static void read_all(struct conn *c, void *buf, size_t len)
{
	for (size_t got = 0; got < len;) {
		ssize_t n = read(c->fd, (char *)buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			refuse(c, HX_EXIT_SOFTWARE, n == 0 ? "request cut short" :
				   errno == EAGAIN ? "request not sent in time" : "cannot read the request");
		got += (size_t)n;
	}
}

/* the header's first bytes, with fds 0-2 of the client */
static void read_header(struct conn *c)
{
	union {
		char buf[CMSG_SPACE(16 * sizeof(int))];
		struct cmsghdr align;
	} control;
	struct iovec iov = { .iov_base = &c->h, .iov_len = sizeof c->h };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
			      .msg_controllen = sizeof control.buf };
	ssize_t n;
	do
		n = recvmsg(c->fd, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	size_t nfds = 0;
	for (struct cmsghdr *m = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL; m; m = CMSG_NXTHDR(&msg, m)) {
		if (m->cmsg_level != SOL_SOCKET || m->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (m->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++, nfds++) {
			int fd;
			memcpy(&fd, CMSG_DATA(m) + i * sizeof(int), sizeof fd);
			if (nfds < HX_NFDS)
				c->fds[nfds] = fd;
			else
				close(fd);
		}
	}
	if (n <= 0)
		refuse(c, HX_EXIT_SOFTWARE, "no request");
	if (nfds != HX_NFDS || (msg.msg_flags & MSG_CTRUNC))
		refuse(c, HX_EXIT_SOFTWARE, "a request passes exactly fds 0, 1 and 2");
	read_all(c, (char *)&c->h + n, sizeof c->h - (size_t)n);
}

static void read_request(struct conn *c)
{
	nscell_error_t err = { 0 };
	read_header(c);
	if (hx_request_check_header(&c->h, &err) < 0)
		refuse(c, HX_EXIT_SOFTWARE, err.msg);
	if (!(c->data = malloc(c->h.len)))
		refuse(c, HX_EXIT_SOFTWARE, "out of memory");
	read_all(c, c->data, c->h.len);
	if (hx_request_decode(&c->h, c->data, &c->req, &err) < 0)
		refuse(c, HX_EXIT_SOFTWARE, err.msg);
}

/* ---- the program, as the user */

/* the message goes to the relay, the status says which (126 or 127) */
static void __attribute__((noreturn)) child_fail(int errfd, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void child_fail(int errfd, int status, const char *fmt, ...)
{
	char msg[HX_MAX_MESSAGE];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	(void)!write(errfd, msg, n < 0 ? 0 : (size_t)n >= sizeof msg ? sizeof msg - 1 : (size_t)n);
	_exit(status);
}

/* the user's cgroup, as nscell-shim -c makes it (shim/cgroup.c) */
static int join_cgroup(const struct plan *p, nscell_error_t *err)
{
	const struct plan_cgroup *cg = &p->cgroup;
	if (!cg->memory_max && !cg->pids_max && !cg->cpu_quota_us)
		return 0;
	struct shim s = { .plan = (struct plan *)p, .err_fd = -1, .status_fd = -1 };
	int r = cgroup_prepare(&s, err) < 0 || cgroup_attach(&s, getpid(), err) < 0 ? -1 : 0;
	cgroup_release(&s, false);
	return r;
}

static void __attribute__((noreturn)) run_program(struct conn *c, const struct plan *p,
						  int errfd, pid_t parent)
{
	const struct plan_identity *id = &p->id;
	nscell_error_t err = { 0 };
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL); /* the listener ignores it; exec would keep that */
	setsid();
	if (join_cgroup(p, &err) < 0)
		child_fail(errfd, 126, "%s", err.msg);
	/* fds 0-2 from the client; everything else closes at exec */
	for (int i = 0; i < HX_NFDS; i++)
		if ((c->fds[i] = fcntl(c->fds[i], F_DUPFD_CLOEXEC, 10)) < 0)
			child_fail(errfd, 126, "fd %d: %s", i, strerror(errno));
	for (int i = 0; i < HX_NFDS; i++)
		if (dup2(c->fds[i], i) < 0)
			child_fail(errfd, 126, "fd %d: %s", i, strerror(errno));
	if (syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */) < 0)
		for (int fd = 3; fd < 1024; fd++)
			if (fd != errfd)
				close(fd);
	if (setgroups(id->ngroups, id->groups) < 0 || setgid(id->gid) < 0 || setuid(id->uid) < 0 ||
	    getuid() != id->uid || geteuid() != id->uid || getegid() != id->gid)
		child_fail(errfd, 126, "cannot become user %s: %s", id->user, strerror(errno));
	/* No no_new_privs: the program is the admin's, run as the user runs
	 * it from a shell on the host, and its set-id helpers are the host's
	 * own policy (Postfix's sendmail hands mail to the setgid postdrop,
	 * Exim's sendmail is setuid).  The environment is the cleaned one. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		child_fail(errfd, 126, "prctl: %s", strerror(errno));
	if (getppid() != parent)
		_exit(127); /* the relay is gone already */
	if (!id->home || chdir(id->home) < 0)
		(void)!chdir("/");
	umask(022);
	char **env = hx_policy_env(id, c->req.env);
	if (!env)
		child_fail(errfd, 126, "out of memory");
	execve(c->req.program, c->req.argv, env);
	child_fail(errfd, errno == ENOENT ? 127 : 126, "cannot run %s: %s", c->req.program,
		   strerror(errno));
}

/* wait for pid, or for the client to go away (then end the program) */
static int watch(struct conn *c, pid_t pid)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	struct pollfd pf[2] = { { .fd = pidfd, .events = POLLIN }, { .fd = c->fd, .events = POLLIN } };
	bool gone = false;
	while (pidfd >= 0 && !gone) {
		if (poll(pf, 2, -1) < 0 && errno != EINTR)
			break;
		if (pf[0].revents)
			break;
		gone = pf[1].revents != 0; /* hung up, or sending what it should not */
	}
	if (gone) {
		say(c, "client gone: ending %s (pid %d)", c->req.program, (int)pid);
		kill(pid, SIGTERM);
		pf[0].revents = 0;
		if (poll(pf, 1, KILL_GRACE_MS) <= 0)
			kill(pid, SIGKILL);
	}
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (pidfd >= 0)
		close(pidfd);
	return status;
}

static void run(struct conn *c, const struct plan *p)
{
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		refuse(c, HX_EXIT_SOFTWARE, "pipe failed");
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0)
		refuse(c, HX_EXIT_SOFTWARE, "fork failed");
	if (pid == 0) {
		close(pipefd[0]);
		run_program(c, p, pipefd[1], parent);
	}
	close(pipefd[1]);
	for (int i = 0; i < HX_NFDS; i++)
		close(c->fds[i]); /* the program's now: its readers see its end */
	char msg[HX_MAX_MESSAGE + 1];
	ssize_t n;
	while ((n = read(pipefd[0], msg, HX_MAX_MESSAGE)) < 0 && errno == EINTR)
		;
	close(pipefd[0]);
	if (n > 0) {
		int status = 0;
		msg[n] = '\0';
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		refuse(c, WIFEXITED(status) && WEXITSTATUS(status) == 127 ? 127 : 126, msg);
	}
	say(c, "running %s as %s (pid %d)", c->req.program, p->id.user, (int)pid);
	int status = watch(c, pid);
	if (WIFSIGNALED(status)) {
		say(c, "%s ended by signal %d", c->req.program, WTERMSIG(status));
		reply(c, HX_SIGNALED, WTERMSIG(status), NULL);
	} else {
		say(c, "%s exited %d", c->req.program, WEXITSTATUS(status));
		reply(c, HX_EXITED, WEXITSTATUS(status), NULL);
	}
}

void hx_serve(const struct hx_daemon *d, int fd)
{
	struct conn c = { .d = d, .fd = fd, .fds = { -1, -1, -1 } };
	socklen_t len = sizeof c.peer;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c.peer, &len) < 0)
		_exit(1);
	if (c.peer.uid == 0)
		refuse(&c, HX_EXIT_NOPERM, "uid 0 is not served: hostexec runs programs as users");
	struct timeval t = { .tv_sec = HX_REQUEST_TIMEOUT_S };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &t, sizeof t);
	read_request(&c);
	struct plan p;
	nscell_error_t err = { 0 };
	int r = hx_policy_check(d->conf_path, c.peer.uid, c.req.program, &p, &err);
	if (r <= 0)
		refuse(&c, r == 0 ? HX_EXIT_NOPERM : HX_EXIT_SOFTWARE, err.msg);
	run(&c, &p);
	plan_free(&p);
	_exit(0);
}
