/* Where the OCI hooks run inside the launch, as runc 1.1.5 runs them
 * (runtime spec config.md, "POSIX-platform Hooks"):
 *
 *   child (pid 1)    host side (the runtime)        the command (pid 2)
 *   mounts made
 *   NUL on the   →   prestart, createRuntime
 *   error pipe       (runtime namespace, pid as
 *                    the host sees it, creating)
 *   waits        ←   one byte on pivot_go
 *   createContainer (container's namespaces, before the pivot: the
 *     path opened in the runtime's namespace beforehand, cwd the new
 *     root, pid 1, creating)
 *   pivot, init ...                                 waits for start
 *                    start: one byte on go      →   credentials, cwd
 *                                                   startContainer (as the
 *                                                   process, path in the
 *                                                   container, created)
 *                    waits for 'S' (run), or    ←   'S' on started, then
 *                    until go is closed (start)     closes go with its fds,
 *                    poststart                      exec
 *
 * A failing prestart, createRuntime or createContainer hook fails the
 * launch (the child is killed, its error names the hook); a failing
 * startContainer hook ends the command before its exec with the error on
 * its stderr (status 2). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shim/runtime_stages.h"

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* host side: the child has its mounts and waits */
static int host_before_pivot(struct shim *s, pid_t pid, nscell_error_t *err)
{
	struct rt_stages *st = s->stages_ctx;
	close_fd(&st->pivot_go[0]);
	st->state->pid = pid;
	st->state->status = "creating";
	if ((st->host_first && st->host_first(s, pid, err) < 0) ||
	    rt_hooks_run(st->hooks, RT_PRESTART, st->state, false, err) < 0 ||
	    rt_hooks_run(st->hooks, RT_CREATE_RUNTIME, st->state, false, err) < 0)
		return -1;
	if (shim_write_all(st->pivot_go[1], "1", 1) < 0)
		return nscell_error_errno(err, errno, "let the container go on to createContainer");
	close_fd(&st->pivot_go[1]);
	return 0;
}

/* the child, before its pivot: the host's step, then createContainer */
static int child_before_pivot(struct shim *s, int root_fd, nscell_error_t *err)
{
	struct rt_stages *st = s->stages_ctx;
	/* always, with createContainer hooks only too: the host side learns
	 * our pid before them (a failure runs poststop) */
	close_fd(&st->pivot_go[1]);
	if (shim_write_all(s->err_fd, "", 1) < 0)
		return nscell_error_errno(err, errno, "ask for the createRuntime hooks");
	char c;
	ssize_t n;
	while ((n = read(st->pivot_go[0], &c, 1)) < 0 && errno == EINTR)
		;
	close_fd(&st->pivot_go[0]);
	if (n != 1)
		return nscell_error_set(err, EPIPE, "the runtime went away during createRuntime");
	/* the pid as the container sees it (the spec's rule for hooks run in
	 * its namespaces; runc's too) */
	struct rt_state in = *st->state;
	in.pid = getpid();
	in.status = "creating";
	return rt_hooks_run_at(st->hooks, RT_CREATE_CONTAINER, &in, st->exec_fds, root_fd, err);
}

/* the command, as the process it will be: startContainer */
static int command_before_execve(struct shim *s, nscell_error_t *err)
{
	struct rt_stages *st = s->stages_ctx;
	struct rt_state in = *st->state;
	in.pid = getppid(); /* the container's pid 1, nscell's init */
	in.status = "created";
	if (rt_hooks_run_at(st->hooks, RT_START_CONTAINER, &in, NULL, -1, err) < 0)
		return -1;
	/* nobody may read it (create's monitor): no SIGPIPE */
	send(st->started[1], "S", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	return 0;
}

int rt_stages_install(struct shim *s, struct rt_stages *st, const struct rt_hooks *h,
		      struct rt_state *state, nscell_error_t *err)
{
	*st = (struct rt_stages){ .hooks = h, .state = state, .pivot_go = { -1, -1 },
				  .started = { -1, -1 } };
	size_t ncc = h->n[RT_CREATE_CONTAINER];
	bool before_pivot = rt_stages_pivot_hooks(h);
	if (before_pivot && pipe2(st->pivot_go, O_CLOEXEC) < 0)
		return nscell_error_errno(err, errno, "pipe");
	if (h->n[RT_START_CONTAINER] &&
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, st->started) < 0)
		return nscell_error_errno(err, errno, "socketpair");
	if (ncc && !(st->exec_fds = malloc(ncc * sizeof *st->exec_fds)))
		return nscell_error_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < ncc; i++)
		st->exec_fds[i] = open(h->stage[RT_CREATE_CONTAINER][i].path, O_PATH | O_CLOEXEC);
	s->stages_ctx = st;
	s->before_pivot = before_pivot ? child_before_pivot : NULL;
	s->before_pivot_host = before_pivot ? host_before_pivot : NULL;
	s->before_execve = h->n[RT_START_CONTAINER] ? command_before_execve : NULL;
	return 0;
}

bool rt_stages_pivot_hooks(const struct rt_hooks *h)
{
	return h->n[RT_PRESTART] || h->n[RT_CREATE_RUNTIME] || h->n[RT_CREATE_CONTAINER];
}

void rt_stages_free(struct rt_stages *st)
{
	if (!st->hooks)
		return; /* never installed */
	close_fd(&st->pivot_go[0]);
	close_fd(&st->pivot_go[1]);
	close_fd(&st->started[0]);
	close_fd(&st->started[1]);
	for (size_t i = 0; st->exec_fds && i < st->hooks->n[RT_CREATE_CONTAINER]; i++)
		close_fd(&st->exec_fds[i]);
	free(st->exec_fds);
	st->exec_fds = NULL;
}

int rt_stages_started(struct rt_stages *st)
{
	if (st->started[0] < 0)
		return 0;
	/* the command's end (and its EOF once it is gone) is the only one left */
	close_fd(&st->started[1]);
	char c = 0;
	while (recv(st->started[0], &c, 1, 0) < 0 && errno == EINTR)
		;
	close_fd(&st->started[0]);
	return c == 'S' ? 0 : 1;
}

void rt_stages_wait_started(const struct rt_hooks *h, int go)
{
	if (!h->n[RT_START_CONTAINER])
		return;
	/* no event asked for: poll waits for POLLERR (no reader left) or
	 * POLLHUP */
	struct pollfd p = { .fd = go, .events = 0 };
	while (poll(&p, 1, -1) < 0 && errno == EINTR)
		;
}
