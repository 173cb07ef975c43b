/* What nscell-shim's main.c and libnscell share besides the launch code:
 * the verbose log, the signals passed on, the interactive shell's -i (and
 * the libc line of nscell-shim's and nscell-runtime's --version).
 * (Moved out of main.c so that libnscell.a holds every object but main.o.) */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <time.h>
#include <unistd.h>

#include "shim/shim.h"
#include "translate/conf.h"

const int shim_forwarded_signals[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGQUIT };
const size_t shim_nforwarded_signals = sizeof shim_forwarded_signals / sizeof *shim_forwarded_signals;

static struct timespec started; /* verbose lines say how long after this */

bool shim_debug_requested(void)
{
	const char *e = getenv("NSCELL_DEBUG");
	if (e && strcmp(e, "1") == 0)
		return true;
	/* the trigger file sits next to the default nscell.conf */
	char path[512];
	const char *conf = NSCELL_DEFAULT_CONF;
	const char *slash = strrchr(conf, '/');
	int dirlen = slash ? (int)(slash - conf) : 0;
	snprintf(path, sizeof path, "%.*s/debug", dirlen, conf);
	return access(path, F_OK) == 0;
}

void shim_log_start(void)
{
	clock_gettime(CLOCK_MONOTONIC, &started);
}

void shim_log(const struct shim *s, const struct plan_origin *origin, const char *fmt, ...)
{
	if (!s || !s->verbose)
		return;
	char line[1536], where[512];
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long us = (now.tv_sec - started.tv_sec) * 1000000L + (now.tv_nsec - started.tv_nsec) / 1000;
	int n = snprintf(line, sizeof line, "nscell-shim[%d] +%ld.%03ldms: ", (int)getpid(), us / 1000,
			 us % 1000);
	va_list ap;
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	va_end(ap);
	if ((size_t)n < sizeof line && origin)
		n += snprintf(line + n, sizeof line - (size_t)n, " (%s)",
			      plan_origin_str(origin, where, sizeof where));
	if ((size_t)n >= sizeof line - 1)
		n = (int)sizeof line - 2;
	line[n++] = '\n';
	/* one write, so lines of the host side and the sandbox do not mix */
	(void)!write(STDERR_FILENO, line, (size_t)n);
}

/* No command and a terminal on stdin: an interactive shell. */
int shim_make_interactive(struct plan *p, nscell_error_t *err)
{
	size_t n = plan_strv_len(p->proc.argv);
	char **v = realloc(p->proc.argv, (n + 2) * sizeof *v);
	if (!v)
		return nscell_error_set(err, ENOMEM, "out of memory");
	p->proc.argv = v;
	if (!(v[n] = strdup("-i")))
		return nscell_error_set(err, ENOMEM, "out of memory");
	v[n + 1] = NULL;
	return 0;
}

void shim_print_libc(FILE *f)
{
#ifdef __GLIBC__
	fprintf(f, "libc: glibc %d.%d", __GLIBC__, __GLIBC_MINOR__);
#else
	fputs("libc: musl", f); /* the only other one configure builds with */
#endif
	fprintf(f, ", %s\n", getauxval(AT_BASE) ? "dynamic" : "static");
}
