/* nscell.conf: `key = value` lines and `[vhost NAME]` sections. */
#include "conf.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"

#define DEFAULT_STATE_DIR "/run/nscell"
#define DEFAULT_TMP_DIR "$HOMEDIR/.nscell"
#define DEFAULT_CGROUP_PARENT "nscell"
#define DEFAULT_CPU_PERIOD 100000

void conf_init(struct nscell_conf *c)
{
	memset(c, 0, sizeof *c);
}

void conf_free(struct nscell_conf *c)
{
	free(c->file);
	free(c->server_template);
	free(c->state_dir);
	free(c->tmp_dir);
	free(c->cgroup.parent);
	free(c->hostexec);
	free(c->hostexec_dir);
	free(c->hostexec_client);
	for (size_t i = 0; i < c->nvhosts; i++) {
		free(c->vhosts[i].name);
		free(c->vhosts[i].template);
	}
	free(c->vhosts);
	memset(c, 0, sizeof *c);
}

const struct conf_vhost *conf_find_vhost(const struct nscell_conf *c, const char *name)
{
	for (size_t i = 0; name && i < c->nvhosts; i++)
		if (strcmp(c->vhosts[i].name, name) == 0)
			return &c->vhosts[i];
	return NULL;
}

/* digits, optional K/M/G/T; -1 when malformed or too big */
static int64_t parse_scaled(const char *s, bool suffixes)
{
	if (strcmp(s, "max") == 0)
		return 0;
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	int shift = 0;
	if (suffixes && *end) {
		const char *units = "KMGT";
		const char *u = strchr(units, *end >= 'a' ? *end - 'a' + 'A' : *end);
		if (!u || !*u)
			return -1;
		shift = 10 * (int)(u - units + 1);
		end++;
		if (*end == 'B' || *end == 'b' || *end == 'i')
			end++; /* 512MB, 512Mi */
	}
	if (*end || v > (unsigned long long)INT64_MAX >> shift)
		return -1;
	return (int64_t)(v << shift);
}

int64_t conf_parse_size(const char *s)
{
	return s ? parse_scaled(s, true) : -1;
}

struct cparse {
	struct nscell_conf *c;
	struct diags *d;
	const char *file;
	char *dir;         /* absolute directory of the conf file */
	unsigned lineno;
	struct conf_vhost *vhost; /* current section, NULL at top level */
	size_t vhosts_cap;        /* allocated entries of c->vhosts */
	size_t *vcells, vcap;     /* index of c->vhosts by name (vhost_cell) */
	unsigned seen[16];        /* line where each top-level key was set */
};

static const char *const top_keys[] = {
	"template", "state_dir", "tmp_dir", "persist", "cgroup_parent",
	"memory_max", "pids_max", "cpu_max", "hostexec", "hostexec_dir", "hostexec_client",
	"user_database", "plan_cache",
};
#define N_TOP (sizeof top_keys / sizeof *top_keys)

#define cerr(cp, col, ...) diags_add((cp)->d, false, (cp)->file, (cp)->lineno, (col), __VA_ARGS__)

static int set_string(struct cparse *cp, char **field, const char *v, unsigned col)
{
	char *s = strdup(v);
	if (!s) {
		cerr(cp, col, "out of memory");
		return -1;
	}
	free(*field);
	*field = s;
	return 0;
}

/* relative template names are relative to the conf file's directory */
static int set_template(struct cparse *cp, char **field, const char *v, unsigned col)
{
	char *s;
	if (v[0] == '/')
		s = strdup(v);
	else if (asprintf(&s, "%s/%s", strcmp(cp->dir, "/") == 0 ? "" : cp->dir,
			  v[0] == '.' && v[1] == '/' ? v + 2 : v) < 0)
		s = NULL;
	if (!s) {
		cerr(cp, col, "out of memory");
		return -1;
	}
	free(*field);
	*field = s;
	return 0;
}

static int set_bool(struct cparse *cp, bool *field, const char *v, unsigned col)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	for (size_t i = 0; i < 4; i++) {
		if (strcmp(v, yes[i]) == 0 || strcmp(v, no[i]) == 0) {
			*field = strcmp(v, yes[i]) == 0;
			return 0;
		}
	}
	cerr(cp, col, "expected yes or no, got '%s'", v);
	return -1;
}

static int set_cpu_max(struct cparse *cp, const char *v, unsigned col)
{
	char quota[32], period[32], extra[2];
	int n = sscanf(v, "%31s %31s %1s", quota, period, extra);
	int64_t q = n >= 1 ? parse_scaled(quota, false) : -1;
	int64_t p = n >= 2 ? parse_scaled(period, false) : DEFAULT_CPU_PERIOD;
	if (n < 1 || n > 2 || q < 0 || p <= 0 || (n == 2 && strcmp(period, "max") == 0)) {
		cerr(cp, col, "cpu_max: expected QUOTA [PERIOD] in microseconds, got '%s'", v);
		return -1;
	}
	cp->c->cgroup.cpu_quota_us = q;
	cp->c->cgroup.cpu_period_us = q ? p : 0;
	return 0;
}

/* a ".." component in the n bytes at s */
static bool has_dotdot(const char *s, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++)
		if (s[i] == '.' && s[i + 1] == '.' && (i == 0 || s[i - 1] == '/') &&
		    (i + 2 == n || s[i + 2] == '/'))
			return true;
	return false;
}

/* `hostexec = PATH...`: each an absolute path without '..' */
static int set_hostexec(struct cparse *cp, const char *v, unsigned col)
{
	for (const char *s = v; *s;) {
		size_t n = strcspn(s, " \t");
		if (n && (s[0] != '/' || has_dotdot(s, n))) {
			cerr(cp, col + (unsigned)(s - v),
			     "hostexec: expected absolute program paths without '..', got '%.*s'",
			     (int)n, s);
			return -1;
		}
		s += n;
		s += strspn(s, " \t");
	}
	cp->c->hostexec_line = cp->lineno;
	cp->c->hostexec_col = col;
	return set_string(cp, &cp->c->hostexec, v, col);
}

static int set_user_database(struct cparse *cp, const char *v, unsigned col)
{
	static const struct {
		const char *name;
		enum identity_db db;
	} dbs[] = { { "auto", IDENTITY_DB_AUTO }, { "nss", IDENTITY_DB_NSS }, { "files", IDENTITY_DB_FILES } };
	for (size_t i = 0; i < sizeof dbs / sizeof *dbs; i++)
		if (strcmp(v, dbs[i].name) == 0) {
			cp->c->user_database = dbs[i].db;
			return 0;
		}
	cerr(cp, col, "user_database: expected auto, nss or files, got '%s'", v);
	return -1;
}

static int set_top(struct cparse *cp, size_t key, const char *v, unsigned col)
{
	struct nscell_conf *c = cp->c;
	int64_t n;
	switch (key) {
	case 0:
		return set_template(cp, &c->server_template, v, col);
	case 1:
		if (v[0] != '/') {
			cerr(cp, col, "state_dir must be an absolute path, got '%s'", v);
			return -1;
		}
		return set_string(cp, &c->state_dir, v, col);
	case 2:
		if (v[0] != '/' && v[0] != '$') {
			cerr(cp, col, "tmp_dir must be an absolute path (symbols allowed), got '%s'", v);
			return -1;
		}
		return set_string(cp, &c->tmp_dir, v, col);
	case 3:
		return set_bool(cp, &c->persist, v, col);
	case 4:
		while (*v == '/')
			v++;
		if (!*v || strstr(v, "..")) {
			cerr(cp, col, "cgroup_parent must be a cgroup path without '..', got '%s'", v);
			return -1;
		}
		return set_string(cp, &c->cgroup.parent, v, col);
	case 5:
	case 6:
		n = key == 5 ? conf_parse_size(v) : parse_scaled(v, false);
		if (n < 0) {
			cerr(cp, col, "%s: expected %s, got '%s'", top_keys[key],
			     key == 5 ? "a size like 512M or 1G" : "a number", v);
			return -1;
		}
		*(key == 5 ? &c->cgroup.memory_max : &c->cgroup.pids_max) = n;
		return 0;
	case 8:
		return set_hostexec(cp, v, col);
	case 9:
	case 10:
		if (v[0] != '/') {
			cerr(cp, col, "%s must be an absolute path, got '%s'", top_keys[key], v);
			return -1;
		}
		return set_string(cp, key == 9 ? &c->hostexec_dir : &c->hostexec_client, v, col);
	case 7:
		return set_cpu_max(cp, v, col);
	case 11:
		return set_user_database(cp, v, col);
	case 12: {
		bool on = true;
		int r = set_bool(cp, &on, v, col);
		c->plan_cache_off = !on;
		return r;
	}
	default:
		return -1;
	}
}

static int set_vhost(struct cparse *cp, const char *key, const char *v, unsigned kcol,
		     unsigned vcol)
{
	struct conf_vhost *vh = cp->vhost;
	if (strcmp(key, "template") == 0)
		return set_template(cp, &vh->template, v, vcol);
	if (strcmp(key, "mode") == 0) {
		static const char *const modes[] = {
			[CONF_VHOST_INHERIT] = "inherit", [CONF_VHOST_OFF] = "off",
			[CONF_VHOST_ON] = "on",
		};
		for (int m = 0; m < 3; m++) {
			if (strcmp(v, modes[m]) == 0) {
				vh->mode = (enum conf_vhost_mode)m;
				return 0;
			}
		}
		cerr(cp, vcol, "mode: expected on, off or inherit, got '%s'", v);
		return -1;
	}
	for (size_t i = 0; i < N_TOP; i++) {
		if (strcmp(key, top_keys[i]) == 0) {
			cerr(cp, kcol, "'%s' is not a vhost setting (a vhost has mode and template)",
			     key);
			return -1;
		}
	}
	cerr(cp, kcol, "unknown key '%s' in [vhost %s]", key, vh->name);
	return -1;
}

/* The cell of name in cp's index of vhosts (index + 1 there, 0: none);
 * NULL when out of memory.  A host may have 10,000 vhosts: no scan per
 * section. */
static size_t *vhost_cell(struct cparse *cp, const char *name)
{
	struct nscell_conf *c = cp->c;
	if ((c->nvhosts + 1) * 2 > cp->vcap) {
		size_t cap = cp->vcap ? cp->vcap * 2 : 64;
		size_t *cells = calloc(cap, sizeof *cells);
		if (!cells)
			return NULL;
		free(cp->vcells);
		cp->vcells = cells;
		cp->vcap = cap;
		for (size_t i = 0; i < c->nvhosts; i++)
			*vhost_cell(cp, c->vhosts[i].name) = i + 1;
	}
	uint64_t h = 1469598103934665603u;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 1099511628211u;
	size_t i = (size_t)h & (cp->vcap - 1);
	while (cp->vcells[i] && strcmp(c->vhosts[cp->vcells[i] - 1].name, name) != 0)
		i = (i + 1) & (cp->vcap - 1);
	return &cp->vcells[i];
}

static void add_vhost(struct cparse *cp, const char *name, unsigned col)
{
	struct nscell_conf *c = cp->c;
	size_t *cell = vhost_cell(cp, name);
	if (!cell) {
		cerr(cp, col, "out of memory");
		return;
	}
	if (*cell) {
		struct conf_vhost *old = &c->vhosts[*cell - 1];
		cerr(cp, col, "vhost '%s' is already defined at line %u", name, old->line);
		cp->vhost = old; /* keep checking its keys */
		return;
	}
	if (c->nvhosts == cp->vhosts_cap) {
		size_t cap = cp->vhosts_cap ? cp->vhosts_cap * 2 : 8;
		struct conf_vhost *v = realloc(c->vhosts, cap * sizeof *v);
		if (!v) {
			cerr(cp, col, "out of memory");
			return;
		}
		c->vhosts = v;
		cp->vhosts_cap = cap;
	}
	struct conf_vhost *v = &c->vhosts[c->nvhosts];
	memset(v, 0, sizeof *v);
	v->line = cp->lineno;
	if (!(v->name = strdup(name))) {
		cerr(cp, col, "out of memory");
		return;
	}
	c->nvhosts++;
	*cell = c->nvhosts;
	cp->vhost = v;
}

static bool blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

/* only blanks or a comment may follow */
static bool rest_is_empty(const char *s)
{
	while (blank(*s))
		s++;
	return !*s || *s == '#';
}

static void parse_section(struct cparse *cp, char *s, char *line)
{
	char *close = strchr(s, ']');
	if (!close || !rest_is_empty(close + 1)) {
		cerr(cp, (unsigned)(s - line) + 1, "expected [vhost NAME]");
		return;
	}
	*close = '\0';
	char *p = s + 1;
	while (blank(*p))
		p++;
	if (strcmp(p, "vhost") == 0) {
		cerr(cp, (unsigned)(s - line) + 1, "expected [vhost NAME]");
		return;
	}
	if (strncmp(p, "vhost", 5) != 0 || !blank(p[5])) {
		cerr(cp, (unsigned)(p - line) + 1, "unknown section '[%s]' (expected [vhost NAME])",
		     p);
		return;
	}
	p += 5;
	while (blank(*p))
		p++;
	char *end = p + strlen(p);
	while (end > p && blank(end[-1]))
		*--end = '\0';
	if (!*p || strpbrk(p, " \t")) {
		cerr(cp, (unsigned)(p - line) + 1, "expected [vhost NAME]");
		return;
	}
	add_vhost(cp, p, (unsigned)(p - line) + 1);
}

static void parse_line(struct cparse *cp, char *line)
{
	char *s = line;
	while (blank(*s))
		s++;
	if (!*s || *s == '#')
		return;
	if (*s == '[') {
		parse_section(cp, s, line);
		return;
	}
	char *key = s;
	unsigned kcol = (unsigned)(key - line) + 1;
	while (*s && !blank(*s) && *s != '=')
		s++;
	char *kend = s;
	while (blank(*s))
		s++;
	if (*s != '=' || kend == key) {
		cerr(cp, kcol, "expected 'key = value'");
		return;
	}
	*kend = '\0';
	s++;
	while (blank(*s))
		s++;
	char *value = s;
	unsigned vcol = (unsigned)(value - line) + 1;
	if (*s == '"' || *s == '\'') {
		char *close = strchr(s + 1, *s);
		if (!close || !rest_is_empty(close + 1)) {
			cerr(cp, vcol, close ? "unexpected text after the quoted value" :
					       "unbalanced quote");
			return;
		}
		*close = '\0';
		value++;
	} else {
		char *end = s;
		while (*end && !(*end == '#' && (end == s || blank(end[-1]))))
			end++;
		while (end > s && blank(end[-1]))
			end--;
		*end = '\0';
	}
	if (!*value) {
		cerr(cp, vcol, "'%s' needs a value", key);
		return;
	}
	if (cp->vhost) {
		set_vhost(cp, key, value, kcol, vcol);
		return;
	}
	for (size_t i = 0; i < N_TOP; i++) {
		if (strcmp(key, top_keys[i]) != 0)
			continue;
		if (cp->seen[i])
			diags_add(cp->d, true, cp->file, cp->lineno, kcol,
				  "'%s' is set again (first at line %u); the last one counts", key,
				  cp->seen[i]);
		cp->seen[i] = cp->lineno;
		set_top(cp, i, value, vcol);
		return;
	}
	if (strcmp(key, "mode") == 0)
		cerr(cp, kcol, "'mode' belongs in a [vhost NAME] section");
	else
		cerr(cp, kcol, "unknown key '%s'", key);
}

/* absolute directory of path, for relative template names */
static char *conf_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
	if (!dir || dir[0] == '/')
		return dir;
	char cwd[PATH_MAX];
	char *abs = NULL;
	if (getcwd(cwd, sizeof cwd) &&
	    asprintf(&abs, "%s/%s", cwd, strcmp(dir, ".") == 0 ? "" : dir) < 0)
		abs = NULL;
	if (abs && strlen(abs) > 1 && abs[strlen(abs) - 1] == '/')
		abs[strlen(abs) - 1] = '\0';
	free(dir);
	return abs;
}

static int fill_defaults(struct nscell_conf *c, struct diags *d)
{
	const char *env = getenv("NSCELL_STATE_DIR");
	if (env && env[0] == '/') {
		free(c->state_dir);
		c->state_dir = strdup(env);
	} else if (!c->state_dir) {
		c->state_dir = strdup(DEFAULT_STATE_DIR);
	}
	if (!c->tmp_dir)
		c->tmp_dir = strdup(DEFAULT_TMP_DIR);
	if (!c->cgroup.parent)
		c->cgroup.parent = strdup(DEFAULT_CGROUP_PARENT);
	c->loaded = true;
	if (!c->state_dir || !c->tmp_dir || !c->cgroup.parent) {
		diags_add(d, false, c->file, 0, 0, "out of memory");
		return -1;
	}
	return 0;
}

int conf_load(struct nscell_conf *c, const char *path, bool must_exist, struct diags *d)
{
	size_t errors = d->nerrors;
	if (!path)
		path = NSCELL_DEFAULT_CONF;
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT && !must_exist)
			return fill_defaults(c, d);
		diags_add(d, false, path, 0, 0, "cannot read nscell.conf: %s", strerror(errno));
		fill_defaults(c, d);
		return -1;
	}
	struct cparse cp = { .c = c, .d = d, .file = path, .vhosts_cap = c->nvhosts };
	free(c->file);
	c->file = strdup(path);
	cp.dir = conf_dir(path);
	if (!c->file || !cp.dir) {
		diags_add(d, false, path, 0, 0, "out of memory");
		free(cp.dir);
		return -1;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, f)) >= 0) {
		cp.lineno++;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (memchr(line, '\0', (size_t)n))
			cerr(&cp, 0, "NUL byte in the line");
		else
			parse_line(&cp, line);
	}
	free(line);
	free(cp.dir);
	free(cp.vcells);
	if (fill_defaults(c, d) < 0)
		return -1;
	return d->nerrors > errors ? -1 : 0;
}
