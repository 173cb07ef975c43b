/* nscell-suexec's settings: compiled-in defaults, overridden line by line
 * by suexec.conf ("KEY VALUE", '#' comments).  The file is trusted only
 * when root owns it and nobody else may write it: it names the program
 * that runs as root. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "suexec/suexec.h"

#ifndef NSCELL_BINDIR
#define NSCELL_BINDIR "/usr/local/bin"
#endif

void suexec_conf_defaults(struct suexec_conf *c)
{
	memset(c, 0, sizeof *c);
	snprintf(c->httpd_user, sizeof c->httpd_user, "%s", "www-data");
	c->uid_min = 1000;
	c->gid_min = 1000;
	snprintf(c->docroot, sizeof c->docroot, "%s", "/var/www");
	snprintf(c->userdir, sizeof c->userdir, "%s", "public_html");
	snprintf(c->shim, sizeof c->shim, "%s", NSCELL_BINDIR "/nscell-shim");
	snprintf(c->safe_path, sizeof c->safe_path, "%s", "/usr/local/bin:/usr/bin:/bin");
}

static int set_id(unsigned long *out, const char *value)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(value, &end, 10);
	if (errno || end == value || *end || value[0] == '-' || v == 0 || v > 0x7fffffffUL)
		return -1;
	*out = v;
	return 0;
}

static int set_text(char *out, size_t size, const char *value, bool absolute)
{
	if (strcmp(value, "none") == 0) {
		out[0] = '\0';
		return 0;
	}
	if (strlen(value) >= size || (absolute && value[0] != '/') || (!absolute && value[0] == '/') ||
	    strstr(value, "..") || strchr(value, ':'))
		return -1;
	snprintf(out, size, "%s", value);
	return 0;
}

/* one KEY VALUE pair; -1 when the key is unknown or the value bad */
static int set_key(struct suexec_conf *c, const char *key, const char *value)
{
	if (strcmp(key, "httpd_user") == 0)
		return set_text(c->httpd_user, sizeof c->httpd_user, value, false);
	if (strcmp(key, "uid_min") == 0)
		return set_id(&c->uid_min, value);
	if (strcmp(key, "gid_min") == 0)
		return set_id(&c->gid_min, value);
	if (strcmp(key, "docroot") == 0)
		return set_text(c->docroot, sizeof c->docroot, value, true);
	if (strcmp(key, "userdir") == 0)
		return set_text(c->userdir, sizeof c->userdir, value, false);
	if (strcmp(key, "shim") == 0)
		return strcmp(value, "none") ? set_text(c->shim, sizeof c->shim, value, true) : -1;
	if (strcmp(key, "safe_path") == 0) {
		if (strlen(value) >= sizeof c->safe_path || value[0] != '/')
			return -1;
		snprintf(c->safe_path, sizeof c->safe_path, "%s", value);
		return 0;
	}
	errno = ENOENT;
	return -1;
}

static int parse_line(struct suexec_conf *c, char *line, const char *path, int n, nscell_error_t *err)
{
	line[strcspn(line, "#\n")] = '\0';
	char *key = line + strspn(line, " \t");
	if (!*key)
		return 0;
	char *value = key + strcspn(key, " \t");
	if (*value)
		*value++ = '\0';
	value += strspn(value, " \t");
	char *end = value + strlen(value);
	while (end > value && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	errno = 0;
	if (!*value)
		return nscell_error_set(err, 0, "%s:%d: %s: a value is missing", path, n, key);
	if (set_key(c, key, value) < 0)
		return nscell_error_set(err, 0, "%s:%d: %s '%s'", path, n,
					errno == ENOENT ? "unknown setting" : "bad value for", errno == ENOENT ? key : value);
	return 0;
}

int suexec_conf_load(struct suexec_conf *c, const char *path, nscell_error_t *err)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0; /* the defaults */
	if (fd < 0)
		return nscell_error_errno(err, errno, "%s", path);
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022)) {
		close(fd);
		return nscell_error_set(err, 0, "%s: not a regular file that only root may write", path);
	}
	FILE *f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return nscell_error_errno(err, errno, "%s", path);
	}
	char line[1024];
	int n = 0, rc = 0;
	while (rc == 0 && fgets(line, sizeof line, f)) {
		n++;
		if (!strchr(line, '\n') && !feof(f))
			rc = nscell_error_set(err, 0, "%s:%d: line too long", path, n);
		else
			rc = parse_line(c, line, path, n, err);
	}
	fclose(f);
	return rc;
}

void suexec_conf_print(const struct suexec_conf *c, const char *path)
{
	printf("config %s\n", path);
	printf("httpd_user %s\nuid_min %lu\ngid_min %lu\n", c->httpd_user, c->uid_min, c->gid_min);
	printf("docroot %s\nuserdir %s\n", *c->docroot ? c->docroot : "none", *c->userdir ? c->userdir : "none");
	printf("shim %s\nsafe_path %s\n", c->shim, c->safe_path);
}
