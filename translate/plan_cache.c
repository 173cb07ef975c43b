/* Resolved plans kept between cold launches (plan_cache.h).
 *
 *   entry   = MAGIC, key (u64 length, bytes), u32 ndeps, deps, plan
 *   dep     = path (string), its file_stamp (u64 err dev ino size mode
 *             mtime.s mtime.ns ctime.s ctime.ns) */
#include "plan_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "file_stamp.h"
#include "fnv.h"

static const char MAGIC[] = "nscell plan cache 1\n";

void plan_cache_init(struct plan_cache *c, int dirfd)
{
	memset(c, 0, sizeof *c);
	c->dirfd = dirfd;
	c->settle = FILE_STAMP_SETTLE;
	codec_put(&c->key, MAGIC, sizeof MAGIC - 1);
}

void plan_cache_free(struct plan_cache *c)
{
	free(c->key.b);
	c->key = (struct codec_buf){ 0 };
}

void plan_cache_key_str(struct plan_cache *c, const char *s)
{
	codec_put_str(&c->key, s);
}

void plan_cache_key_u32(struct plan_cache *c, unsigned v)
{
	codec_put_u32(&c->key, v);
}

void plan_cache_dep(struct plan_cache *c, const char *path)
{
	for (size_t i = 0; i < c->ndeps; i++)
		if (strcmp(c->deps[i], path) == 0)
			return;
	if (c->ndeps == PLAN_CACHE_MAX_DEPS)
		plan_cache_refuse(c, "too many files");
	else
		c->deps[c->ndeps++] = path;
}

void plan_cache_refuse(struct plan_cache *c, const char *why)
{
	if (!c->uncacheable)
		c->refused = why;
	c->uncacheable = true;
}

static void entry_name(const struct plan_cache *c, char name[17])
{
	uint64_t h = FNV_OFFSET;
	fnv(&h, c->key.b, c->key.len);
	snprintf(name, 17, "%016llx", (unsigned long long)h);
}

/* ---- reading ---- */

/* the entry's bytes, when it is ours and no one else can have written it */
static unsigned char *read_entry(struct plan_cache *c, size_t *len)
{
	char name[17];
	entry_name(c, name);
	_cleanup_close_ int fd = openat(c->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		c->miss = errno == ENOENT ? "no entry yet" : "entry unreadable";
		return NULL;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022) ||
	    st.st_nlink != 1 || (uint64_t)st.st_size > PLAN_CACHE_MAX_SIZE) {
		c->miss = "entry not trusted (owner, mode or links)";
		return NULL;
	}
	unsigned char *b = malloc((size_t)st.st_size + 1);
	if (!b) {
		c->miss = "out of memory";
		return NULL;
	}
	size_t n = 0;
	while (n < (size_t)st.st_size) {
		ssize_t r = read(fd, b + n, (size_t)st.st_size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	*len = n;
	return b;
}

static bool deps_unchanged(struct plan_cache *c, struct codec_in *r)
{
	uint32_t n = codec_get_u32(r);
	if (n > PLAN_CACHE_MAX_DEPS)
		return false;
	for (uint32_t i = 0; i < n && !r->bad; i++) {
		uint32_t len;
		const char *path = codec_get_bytes(r, &len);
		struct file_stamp want, now;
		uint64_t *f = (uint64_t *)&want;
		for (size_t k = 0; k < FILE_STAMP_FIELDS; k++)
			f[k] = codec_get_u64(r);
		if (path)
			file_stamp_take(&now, path);
		if (!path || !file_stamp_same(&now, &want)) {
			c->miss = "a template, nscell.conf or the user database changed";
			return false;
		}
	}
	return !r->bad;
}

int plan_cache_get(struct plan_cache *c, struct plan *p)
{
	if (c->dirfd < 0 || c->key.failed) {
		c->miss = "no cache directory";
		return 0;
	}
	size_t len = 0;
	_cleanup_free_ unsigned char *b = read_entry(c, &len);
	if (!b)
		return 0;
	struct codec_in r = { .b = b, .len = len };
	uint64_t keylen = codec_get_u64(&r);
	if (keylen != c->key.len || len - r.off < keylen ||
	    memcmp(b + r.off, c->key.b, c->key.len) != 0) {
		c->miss = "another key under the same hash";
		return 0;
	}
	r.off += keylen;
	c->miss = "entry damaged";
	if (!deps_unchanged(c, &r))
		return 0;
	struct plan got;
	plan_init(&got);
	if (plan_decode(&r, &got) < 0) {
		plan_free(&got);
		return 0;
	}
	plan_free(p);
	*p = got;
	c->miss = NULL;
	c->hit = true;
	return 1;
}

/* ---- writing ---- */

static int write_entry(struct plan_cache *c, const struct codec_buf *w)
{
	char name[17], tmp[64];
	entry_name(c, name);
	snprintf(tmp, sizeof tmp, "%s.%ld.tmp", name, (long)getpid());
	int fd = openat(c->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		c->refused = "cannot create the entry";
		return -1;
	}
	size_t n = 0;
	while (n < w->len) {
		ssize_t r = write(fd, w->b + n, w->len - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	if (close(fd) < 0 || n != w->len || renameat(c->dirfd, tmp, c->dirfd, name) < 0) {
		unlinkat(c->dirfd, tmp, 0);
		c->refused = "cannot write the entry";
		return -1;
	}
	return 0;
}

/* each dependency's signature; a file that changed too recently to tell
 * a later change apart keeps the plan out */
static int put_deps(struct plan_cache *c, struct codec_buf *w)
{
	codec_put_u32(w, (uint32_t)c->ndeps);
	for (size_t i = 0; i < c->ndeps; i++) {
		struct file_stamp s;
		file_stamp_take(&s, c->deps[i]);
		if (s.err && !file_stamp_absent(&s)) {
			c->refused = "a file it was made from cannot be looked at";
			return -1;
		}
		if (!file_stamp_settled(&s, c->settle)) {
			c->refused = "a file it was made from changed a moment ago";
			return -1;
		}
		codec_put_str(w, c->deps[i]);
		const uint64_t *f = (const uint64_t *)&s;
		for (size_t k = 0; k < FILE_STAMP_FIELDS; k++)
			codec_put_u64(w, f[k]);
	}
	return 0;
}

int plan_cache_put(struct plan_cache *c, const struct plan *p)
{
	if (c->dirfd < 0 || c->uncacheable || c->key.failed) {
		if (!c->uncacheable)
			c->refused = "no cache directory";
		return -1;
	}
	struct codec_buf w = { 0 };
	codec_put_u64(&w, c->key.len);
	codec_put(&w, c->key.b, c->key.len);
	int r = put_deps(c, &w);
	if (r == 0 && plan_encode(&w, p) < 0) {
		c->refused = "out of memory, or a plan it cannot encode";
		r = -1;
	}
	if (r == 0)
		r = write_entry(c, &w);
	free(w.b);
	c->stored = r == 0;
	return r;
}
