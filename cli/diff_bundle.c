/* nscell diff --bundle DIR: the bundle's config.json copied into the work
 * directory with the probe as process.args and every relative path made
 * absolute in DIR (root.path, bind sources in DIR/files), so runc and
 * `nscell-shim run -b` both run it on DIR's own rootfs, unchanged.  The
 * hooks are left out: they do not change what the process sees, and the
 * shim does not run them yet.  Everything else is copied as it is
 * (through yajl: numbers keep their text). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "cli/probe.h"

struct rewrite {
	const char *dir;       /* DIR, absolute */
	char *const *args;     /* the probe's argv */
	yajl_gen g;
	nscell_error_t *err;
};

static void gen_str(yajl_gen g, const char *s)
{
	yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

/* "DIR/rel" for a relative path, else the path */
static void gen_path(struct rewrite *w, const char *s)
{
	char buf[PATH_MAX * 2];
	if (s[0] == '/') {
		gen_str(w->g, s);
		return;
	}
	snprintf(buf, sizeof buf, "%s/%s", w->dir, s);
	gen_str(w->g, buf);
}

static void gen_value(struct rewrite *w, yajl_val v, const char *where);

static bool is_bind(yajl_val mount)
{
	const char *type_path[] = { "type", NULL }, *opts_path[] = { "options", NULL };
	yajl_val type = yajl_tree_get(mount, type_path, yajl_t_string);
	yajl_val opts = yajl_tree_get(mount, opts_path, yajl_t_array);
	if (type && strcmp(type->u.string, "bind") == 0)
		return true;
	for (size_t i = 0; opts && i < opts->u.array.len; i++) {
		const char *o = YAJL_GET_STRING(opts->u.array.values[i]);
		if (o && (strcmp(o, "bind") == 0 || strcmp(o, "rbind") == 0))
			return true;
	}
	return false;
}

/* one key of an object at where ("", "process", "root", "mount") */
static void gen_member(struct rewrite *w, const char *where, const char *k, yajl_val v,
		       yajl_val obj)
{
	if (!*where && strcmp(k, "hooks") == 0)
		return;
	gen_str(w->g, k);
	if (strcmp(where, "process") == 0 && strcmp(k, "args") == 0) {
		yajl_gen_array_open(w->g);
		for (size_t i = 0; w->args[i]; i++)
			gen_str(w->g, w->args[i]);
		yajl_gen_array_close(w->g);
	} else if (((strcmp(where, "root") == 0 && strcmp(k, "path") == 0) ||
		    (strcmp(where, "mount") == 0 && strcmp(k, "source") == 0 && is_bind(obj))) &&
		   YAJL_IS_STRING(v)) {
		gen_path(w, YAJL_GET_STRING(v));
	} else {
		const char *sub = !*where && (strcmp(k, "process") == 0 || strcmp(k, "root") == 0 ||
					      strcmp(k, "mounts") == 0) ? k : "-";
		gen_value(w, v, sub);
	}
}

static void gen_value(struct rewrite *w, yajl_val v, const char *where)
{
	yajl_gen g = w->g;
	if (YAJL_IS_OBJECT(v)) {
		yajl_gen_map_open(g);
		for (size_t i = 0; i < v->u.object.len; i++)
			gen_member(w, where, v->u.object.keys[i], v->u.object.values[i], v);
		yajl_gen_map_close(g);
	} else if (YAJL_IS_ARRAY(v)) {
		yajl_gen_array_open(g);
		for (size_t i = 0; i < v->u.array.len; i++)
			gen_value(w, v->u.array.values[i], strcmp(where, "mounts") == 0 ? "mount" : "-");
		yajl_gen_array_close(g);
	} else if (YAJL_IS_STRING(v)) {
		gen_str(g, YAJL_GET_STRING(v));
	} else if (YAJL_IS_NUMBER(v)) {
		yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r));
	} else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)) {
		yajl_gen_bool(g, YAJL_IS_TRUE(v));
	} else {
		yajl_gen_null(g);
	}
}

static int write_out(const char *path, const unsigned char *buf, size_t len, nscell_error_t *err)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return nscell_error_errno(err, errno, "%s", path);
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return nscell_error_errno(err, n < 0 ? errno : EIO, "write %s", path);
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int diff_bundle_write(const char *dir, const char *out_dir, char *const *args,
		      nscell_error_t *err)
{
	char in[PATH_MAX + 16], out[PATH_MAX + 16], msg[512];
	snprintf(in, sizeof in, "%s/config.json", dir);
	snprintf(out, sizeof out, "%s/config.json", out_dir);
	_cleanup_free_ char *text = NULL;
	size_t len;
	if (probe_read_file(in, &text, &len, err) < 0)
		return -1;
	yajl_val root = yajl_tree_parse(text, msg, sizeof msg);
	if (!root) {
		msg[strcspn(msg, "\n")] = '\0';
		return nscell_error_set(err, EINVAL, "%s: invalid JSON: %s", in, msg);
	}
	struct rewrite w = { .dir = dir, .args = args, .g = yajl_gen_alloc(NULL), .err = err };
	int rc = -1;
	const unsigned char *buf;
	if (!w.g) {
		nscell_error_set(err, ENOMEM, "out of memory");
	} else {
		yajl_gen_config(w.g, yajl_gen_beautify, 1);
		gen_value(&w, root, "");
		if (yajl_gen_get_buf(w.g, &buf, &len) != yajl_gen_status_ok)
			nscell_error_set(err, EINVAL, "%s: could not be written again", in);
		else
			rc = write_out(out, buf, len, err);
		yajl_gen_free(w.g);
	}
	yajl_tree_free(root);
	return rc;
}
