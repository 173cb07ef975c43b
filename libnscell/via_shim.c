/* nscell_spawn() through nscell-shim: a sandbox to build (-p), one of its
 * own (-P), or a vhost whose mode is off.  The child sets itself up as a
 * joined command would (spawn_child_setup, every other fd closed) and
 * execs the shim with the same request as options; a failed exec comes
 * back through a close-on-exec pipe before nscell_spawn() returns. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libnscell/internal.h"

#ifndef NSCELL_BINDIR
#define NSCELL_BINDIR "/usr/local/bin"
#endif

/* the child's report: its errno, then the message; false at EOF at once
 * (the exec happened) */
static bool child_failed(int fd, nscell_error_t *err)
{
	char buf[sizeof err->msg + sizeof(int)];
	size_t n = 0;
	while (n < sizeof buf - 1) {
		ssize_t r = read(fd, buf + n, sizeof buf - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	if (!n)
		return false;
	buf[n] = '\0';
	if (n < sizeof(int))
		return nscell_error_set(err, ENOEXEC, "nscell-shim could not be started"), true;
	memcpy(&err->errnum, buf, sizeof(int));
	snprintf(err->msg, sizeof err->msg, "%s", buf + sizeof(int));
	return true;
}

/* the fd numbers as strings live in fdbuf (12 bytes each) */
static char **shim_argv(const struct nscell_spawn_opts *o, const struct shim *s, const char *shim,
			const char *mode, char *fdbuf)
{
	size_t argc = 0;
	while (o->argv[argc])
		argc++;
	char **v = calloc(14 + 2 * s->nkeep_fds + argc + 1, sizeof *v);
	if (!v)
		return NULL;
	size_t k = 0;
	v[k++] = (char *)shim;
	v[k++] = (char *)mode;
	const char *pairs[][2] = { { "-u", o->user }, { "-s", o->vhost }, { "-C", o->conf },
				   { "-d", o->cwd } };
	for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++)
		if (pairs[i][1]) {
			v[k++] = (char *)pairs[i][0];
			v[k++] = (char *)pairs[i][1];
		}
	if (o->flags & NSCELL_SPAWN_CGROUP)
		v[k++] = "-c";
	if (o->flags & NSCELL_SPAWN_VERBOSE)
		v[k++] = "-v";
	for (size_t i = 0; i < s->nkeep_fds; i++) {
		char *num = fdbuf + 12 * i;
		snprintf(num, 12, "%d", s->keep_fds[i]);
		v[k++] = "--keep-fd";
		v[k++] = num;
	}
	v[k++] = "--";
	for (size_t i = 0; i < argc; i++)
		v[k++] = o->argv[i];
	v[k] = NULL;
	return v;
}

/* The shim finds the state where nscell_spawn() looked: the caller's
 * NSCELL_STATE_DIR and XDG_RUNTIME_DIR replace envp's (the command sees
 * them too).  The strings are envp's and environ's. */
static char **shim_env(char *const *envp)
{
	static const char *const own[] = { "NSCELL_STATE_DIR=", "XDG_RUNTIME_DIR=" };
	enum { NOWN = sizeof own / sizeof *own };
	extern char **environ;
	size_t n = 0, k = 0;
	while (envp[n])
		n++;
	char **v = calloc(n + NOWN + 1, sizeof *v);
	if (!v)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		bool replaced = false;
		for (size_t j = 0; j < NOWN; j++)
			replaced |= strncmp(envp[i], own[j], strlen(own[j])) == 0;
		if (!replaced)
			v[k++] = envp[i];
	}
	bool added[NOWN] = { false };
	for (size_t i = 0; environ && environ[i]; i++)
		for (size_t j = 0; j < NOWN; j++)
			if (!added[j] && strncmp(environ[i], own[j], strlen(own[j])) == 0) {
				v[k++] = environ[i];
				added[j] = true;
			}
	return v;
}

static void __attribute__((noreturn)) child(struct shim *s, const char *shim, char **argv, char *const *envp)
{
	nscell_error_t err = { 0 };
	char **env;
	if (spawn_child_setup(s, &err) == 0 && (env = fds_finish(s, (char **)envp, &err))) {
		sigprocmask(SIG_SETMASK, &s->caller_mask, NULL);
		execve(shim, argv, env);
		nscell_error_errno(&err, errno, "exec %s", shim);
	}
	shim_write_all(s->err_fd, &err.errnum, sizeof err.errnum);
	shim_write_all(s->err_fd, err.msg, strlen(err.msg));
	_exit(127);
}

pid_t spawn_via_shim(const struct nscell_spawn_opts *o, struct shim *s, const char *mode,
		     nscell_error_t *err)
{
	static char *const no_env[] = { NULL };
	const char *shim = o->shim ? o->shim : NSCELL_BINDIR "/nscell-shim";
	char *fdbuf = calloc(s->nkeep_fds + 1, 12);
	char **argv = fdbuf ? shim_argv(o, s, shim, mode, fdbuf) : NULL;
	char **env = shim_env(o->envp ? o->envp : no_env);
	int pipefd[2] = { -1, -1 };
	pid_t pid = -1;
	if (!argv || !env) {
		nscell_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		nscell_error_errno(err, errno, "pipe");
		goto out;
	}
	shim_log(s, NULL, "exec %s %s for %s", shim, mode, o->argv[0]);
	pid = fork();
	if (pid == 0) {
		close(pipefd[0]);
		s->err_fd = pipefd[1];
		child(s, shim, argv, env);
	}
	if (pid < 0) {
		nscell_error_errno(err, errno, "fork");
		goto out;
	}
	close(SHIM_TAKE_FD(pipefd[1]));
	if (child_failed(pipefd[0], err)) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		pid = -1;
	}
out:
	for (int i = 0; i < 2; i++)
		if (pipefd[i] >= 0)
			close(pipefd[i]);
	free(argv);
	free(env);
	free(fdbuf);
	return pid;
}
