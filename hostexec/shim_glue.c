/* What shim/cgroup.c needs from the shim's main.c (log, read, write),
 * for the listener, which puts each relayed program in the user's cgroup the way
 * `nscell-shim -c` does (the same code, linked into nscell). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "shim/shim.h"

void shim_log(const struct shim *s, const struct plan_origin *origin, const char *fmt, ...)
{
	if (!s || !s->verbose)
		return;
	va_list ap;
	va_start(ap, fmt);
	fputs("nscell hostexec-daemon: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	(void)origin;
}

ssize_t shim_read_small(const char *path, char *buf, size_t size)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -1;
	size_t n = 0;
	while (n < size - 1) {
		ssize_t r = read(fd, buf + n, size - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r < 0)
				return -1;
			break;
		}
		n += (size_t)r;
	}
	buf[n] = '\0';
	return (ssize_t)n;
}

int shim_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}
