/* translate/pwent.h: an entry copied into the caller's buffer. */
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

int pwent_copy_user(struct passwd *dst, const struct passwd *src, char *buf, size_t size)
{
	char *at = buf;
	size_t left = size;
	*dst = *src;
	if (!(dst->pw_name = put(&at, &left, src->pw_name)) ||
	    !(dst->pw_passwd = put(&at, &left, src->pw_passwd)) ||
	    !(dst->pw_gecos = put(&at, &left, src->pw_gecos)) ||
	    !(dst->pw_dir = put(&at, &left, src->pw_dir)) ||
	    !(dst->pw_shell = put(&at, &left, src->pw_shell)))
		return ERANGE;
	return 0;
}

int pwent_copy_group(struct group *dst, const struct group *src, char *buf, size_t size)
{
	size_t n = 0;
	while (src->gr_mem && src->gr_mem[n])
		n++;
	/* the member pointers first, aligned, then the strings */
	size_t skip = (alignof(char *) - (uintptr_t)buf % alignof(char *)) % alignof(char *);
	if (size < skip || (size - skip) / sizeof(char *) < n + 1)
		return ERANGE;
	char **mem = (char **)(void *)(buf + skip);
	char *at = (char *)(mem + n + 1);
	size_t left = size - skip - (n + 1) * sizeof(char *);
	*dst = *src;
	if (!(dst->gr_name = put(&at, &left, src->gr_name)) ||
	    !(dst->gr_passwd = put(&at, &left, src->gr_passwd)))
		return ERANGE;
	for (size_t i = 0; i < n; i++)
		if (!(mem[i] = put(&at, &left, src->gr_mem[i])))
			return ERANGE;
	mem[n] = NULL;
	dst->gr_mem = mem;
	return 0;
}
