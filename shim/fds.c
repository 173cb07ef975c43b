/* File descriptor hygiene: nothing leaks into the sandbox except 0, 1, 2,
 * the --keep-fd ones and systemd's LISTEN_FDS.
 *
 * Early on, every fd above 2 is marked close-on-exec in one close_range()
 * call and only the kept ones are cleared again; the command then closes
 * the gaps itself, so even an fd someone opens without O_CLOEXEC between
 * here and the exec does not survive it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim/shim.h"

#ifndef __NR_close_range
#define __NR_close_range 436
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static int close_range_sys(unsigned first, unsigned last, unsigned flags)
{
	return (int)syscall(__NR_close_range, first, last, flags);
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

/* Without close_range (before Linux 5.11): walk /proc/self/fd. */
static int cloexec_all_slow(nscell_error_t *err)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return nscell_error_errno(err, errno, "open /proc/self/fd");
	struct dirent *e;
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name);
		if (fd > 2 && fd != dirfd(d))
			fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	closedir(d);
	return 0;
}

int fds_setup(struct shim *s, const int *keep, size_t nkeep, nscell_error_t *err)
{
	/* a closed 0, 1 or 2 would be taken by the next open() and handed to
	 * the command as its stdin/stdout/stderr */
	for (int fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		int n = open("/dev/null", O_RDWR | O_NOCTTY);
		if (n < 0)
			return nscell_error_errno(err, errno, "open /dev/null for fd %d", fd);
		if (n != fd)
			return nscell_error_set(err, 0, "fd %d is closed and could not be reopened", fd);
	}
	int *v = calloc(nkeep ? nkeep : 1, sizeof *v);
	if (!v)
		return nscell_error_set(err, ENOMEM, "out of memory");
	memcpy(v, keep, nkeep * sizeof *v);
	qsort(v, nkeep, sizeof *v, cmp_int);
	size_t n = 0;
	for (size_t i = 0; i < nkeep; i++) {
		if (n && v[n - 1] == v[i])
			continue;
		if (fcntl(v[i], F_GETFD) < 0) {
			bool listen = s->listen_fds && v[i] < 3 + (int)s->listen_fds;
			int e = errno;
			free(v);
			return nscell_error_errno(err, e, "%s %d: not an open file descriptor",
						  listen ? "LISTEN_FDS: fd" : "--keep-fd", keep[i]);
		}
		v[n++] = v[i];
	}
	s->keep_fds = v;
	s->nkeep_fds = n;
	if (close_range_sys(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0 && cloexec_all_slow(err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (fcntl(v[i], F_SETFD, 0) < 0)
			return nscell_error_errno(err, errno, "keep fd %d", v[i]);
	return 0;
}

bool fds_any_terminal(const int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0 && isatty(fds[i]))
			return true;
	return false;
}

bool fds_reach_terminal(const struct shim *s)
{
	static const int stdio[] = { 0, 1, 2 };
	return fds_any_terminal(stdio, 3) || fds_any_terminal(s->keep_fds, s->nkeep_fds);
}

static void close_from_to(int first, int last)
{
	if (first > last)
		return;
	if (close_range_sys((unsigned)first, (unsigned)last, 0) == 0)
		return;
	/* old kernel: in the shim everything here is close-on-exec already
	 * (fds_setup); libnscell's child has had no fds_setup: close them */
	long max = sysconf(_SC_OPEN_MAX);
	for (long fd = first; fd <= last && fd < max; fd++)
		close((int)fd);
}

static bool env_is(const char *entry, const char *key)
{
	size_t n = strlen(key);
	return strncmp(entry, key, n) == 0 && entry[n] == '=';
}

char **fds_finish(const struct shim *s, char **env, nscell_error_t *err)
{
	/* the error pipe stays until the exec closes it (O_CLOEXEC): a failed
	 * exec still has a way to say why */
	int next = 3;
	for (size_t i = 0; i <= s->nkeep_fds; i++) {
		int keep = i < s->nkeep_fds ? s->keep_fds[i] : INT_MAX;
		if (s->err_fd >= next && s->err_fd < keep) {
			close_from_to(next, s->err_fd - 1);
			next = s->err_fd + 1;
		}
		close_from_to(next, keep - 1);
		if (keep == INT_MAX)
			break;
		next = keep + 1;
	}

	/* LISTEN_PID names the process the fds are for: now that is us (our
	 * pid as seen in the sandbox), or nobody when they are not passed on */
	size_t n = plan_strv_len(env), k = 0;
	char **out = calloc(n + 2, sizeof *out);
	char *pid = NULL;
	if (!out || (s->listen_fds && asprintf(&pid, "LISTEN_PID=%d", (int)getpid()) < 0)) {
		free(out);
		nscell_error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		if (env_is(env[i], "LISTEN_PID"))
			continue;
		if (!s->listen_fds && (env_is(env[i], "LISTEN_FDS") || env_is(env[i], "LISTEN_FDNAMES")))
			continue;
		out[k++] = env[i];
	}
	if (pid)
		out[k++] = pid;
	out[k] = NULL;
	return out;
}
