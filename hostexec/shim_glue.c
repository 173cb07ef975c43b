/* What shim/cgroup.c needs from the shim's main.c, its log, for the
 * listener, which puts each relayed program in the user's cgroup the way
 * `nscell-shim -c` does (the same code, and shim/io.c, linked into nscell). */
#include <stdarg.h>
#include <stdio.h>

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
