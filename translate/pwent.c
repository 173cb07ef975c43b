/* translate/pwent.h: glibc's fgetpwent_r and fgetgrent_r over fgetpwent
 * and fgetgrent. */
#include "pwent.h"

#include <errno.h>
#include <stdalign.h>
#include <stdint.h>
#include <string.h>

/* a string into the buffer's rest; NULL when it does not fit */
static char *put(char **at, size_t *left, const char *s)
{
	size_t n = strlen(s) + 1;
	if (n > *left)
		return NULL;
	char *d = memcpy(*at, s, n);
	*at += n;
	*left -= n;
	return d;
}

/* fgetpwent/fgetgrent returned NULL: the end, or a read error */
static int end_or_error(FILE *f)
{
	return ferror(f) && errno ? errno : ENOENT;
}

int pwent_read_user(FILE *f, struct passwd *ent, char *buf, size_t size, struct passwd **res)
{
	*res = NULL;
	errno = 0;
	const struct passwd *p = fgetpwent(f);
	if (!p)
		return end_or_error(f);
	char *at = buf;
	size_t left = size;
	*ent = *p;
	if (!(ent->pw_name = put(&at, &left, p->pw_name)) ||
	    !(ent->pw_passwd = put(&at, &left, p->pw_passwd)) ||
	    !(ent->pw_gecos = put(&at, &left, p->pw_gecos)) ||
	    !(ent->pw_dir = put(&at, &left, p->pw_dir)) ||
	    !(ent->pw_shell = put(&at, &left, p->pw_shell)))
		return ERANGE;
	*res = ent;
	return 0;
}

int pwent_read_group(FILE *f, struct group *ent, char *buf, size_t size, struct group **res)
{
	*res = NULL;
	errno = 0;
	const struct group *g = fgetgrent(f);
	if (!g)
		return end_or_error(f);
	size_t n = 0;
	while (g->gr_mem && g->gr_mem[n])
		n++;
	/* the member pointers first, aligned, then the strings */
	size_t skip = (alignof(char *) - (uintptr_t)buf % alignof(char *)) % alignof(char *);
	if (size < skip || (size - skip) / sizeof(char *) < n + 1)
		return ERANGE;
	char **mem = (char **)(void *)(buf + skip);
	char *at = (char *)(mem + n + 1);
	size_t left = size - skip - (n + 1) * sizeof(char *);
	*ent = *g;
	if (!(ent->gr_name = put(&at, &left, g->gr_name)) ||
	    !(ent->gr_passwd = put(&at, &left, g->gr_passwd)))
		return ERANGE;
	for (size_t i = 0; i < n; i++)
		if (!(mem[i] = put(&at, &left, g->gr_mem[i])))
			return ERANGE;
	mem[n] = NULL;
	ent->gr_mem = mem;
	*res = ent;
	return 0;
}
