/* A plan as bytes and back (plan_codec.h). */
#include "plan_codec.h"

#include <stdlib.h>
#include <string.h>

#define NULL_LEN UINT32_MAX
/* a bound on every count, against a damaged file's huge allocations */
#define COUNT_MAX (1u << 24)

/* ---- writing ---- */

void codec_put(struct codec_buf *w, const void *p, size_t n)
{
	if (w->failed || n == 0)
		return;
	if (w->cap - w->len < n) {
		size_t cap = w->cap ? w->cap : 4096;
		while (cap - w->len < n)
			cap *= 2;
		unsigned char *b = realloc(w->b, cap);
		if (!b) {
			w->failed = 1;
			return;
		}
		w->b = b;
		w->cap = cap;
	}
	memcpy(w->b + w->len, p, n);
	w->len += n;
}

void codec_put_u32(struct codec_buf *w, uint32_t v)
{
	codec_put(w, &v, sizeof v);
}

void codec_put_u64(struct codec_buf *w, uint64_t v)
{
	codec_put(w, &v, sizeof v);
}

/* the bytes and a NUL, so that a reader can point into its buffer */
void codec_put_str(struct codec_buf *w, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (s && n >= NULL_LEN) {
		w->failed = 1;
		return;
	}
	codec_put_u32(w, s ? (uint32_t)n : NULL_LEN);
	if (s)
		codec_put(w, s, n + 1);
}

/* ---- reading ---- */

static const void *take(struct codec_in *r, size_t n)
{
	if (r->bad || r->len - r->off < n) {
		r->bad = 1;
		return NULL;
	}
	const void *p = r->b + r->off;
	r->off += n;
	return p;
}

uint32_t codec_get_u32(struct codec_in *r)
{
	uint32_t v = 0;
	const void *p = take(r, sizeof v);
	if (p)
		memcpy(&v, p, sizeof v);
	return v;
}

uint64_t codec_get_u64(struct codec_in *r)
{
	uint64_t v = 0;
	const void *p = take(r, sizeof v);
	if (p)
		memcpy(&v, p, sizeof v);
	return v;
}

const char *codec_get_bytes(struct codec_in *r, uint32_t *len)
{
	*len = codec_get_u32(r);
	if (r->bad || *len == NULL_LEN)
		return NULL;
	const char *s = take(r, (size_t)*len + 1);
	/* a C string of exactly that length */
	if (s && (s[*len] != '\0' || memchr(s, '\0', *len))) {
		r->bad = 1;
		return NULL;
	}
	return s;
}

char *codec_get_str(struct codec_in *r)
{
	uint32_t n;
	const char *s = codec_get_bytes(r, &n);
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		r->bad = 1;
	return d;
}

/* ---- the plan ---- */

static uint32_t file_index(const struct plan *p, const char *file)
{
	if (!file)
		return NULL_LEN;
	for (size_t i = 0; i < p->nfiles; i++)
		if (p->files[i] == file || strcmp(p->files[i], file) == 0)
			return (uint32_t)i;
	return NULL_LEN - 1; /* not listed */
}

int plan_encode(struct codec_buf *w, const struct plan *p)
{
	codec_put_u32(w, p->namespaces);
	codec_put_u32(w, p->sandbox_off);
	codec_put_u32(w, p->rootfs_readonly);
	codec_put_str(w, p->hostname);
	codec_put_str(w, p->vhost);
	codec_put_str(w, p->rootfs);
	codec_put_u32(w, (uint32_t)p->nfiles);
	for (size_t i = 0; i < p->nfiles; i++)
		codec_put_str(w, p->files[i]);

	const struct plan_identity *id = &p->id;
	codec_put_str(w, id->user);
	codec_put_str(w, id->group);
	codec_put_u32(w, id->uid);
	codec_put_u32(w, id->gid);
	codec_put_u32(w, (uint32_t)id->ngroups);
	for (size_t i = 0; i < id->ngroups; i++)
		codec_put_u32(w, id->groups[i]);
	codec_put_str(w, id->home);
	codec_put_str(w, id->shell);

	codec_put_u32(w, (uint32_t)p->nmounts);
	for (size_t i = 0; i < p->nmounts; i++) {
		const struct plan_mount *m = &p->mounts[i];
		uint32_t file = file_index(p, m->origin.file);
		if (file == NULL_LEN - 1)
			return -1;
		codec_put_u32(w, m->op);
		codec_put_u32(w, m->flags);
		codec_put_u32(w, m->mode);
		codec_put_str(w, m->src);
		codec_put_str(w, m->dst);
		codec_put_u64(w, m->data ? m->len : UINT64_MAX);
		if (m->data)
			codec_put(w, m->data, m->len);
		codec_put_u32(w, file);
		codec_put_u32(w, m->origin.line);
		codec_put_u32(w, m->origin.col);
	}
	return w->failed ? -1 : 0;
}

static int decode_identity(struct codec_in *r, struct plan_identity *id)
{
	id->user = codec_get_str(r);
	id->group = codec_get_str(r);
	id->uid = codec_get_u32(r);
	id->gid = codec_get_u32(r);
	uint32_t n = codec_get_u32(r);
	if (r->bad || n > COUNT_MAX)
		return -1;
	id->groups = malloc((n ? n : 1) * sizeof *id->groups);
	if (!id->groups)
		return -1;
	for (id->ngroups = 0; id->ngroups < n; id->ngroups++)
		id->groups[id->ngroups] = codec_get_u32(r);
	id->home = codec_get_str(r);
	id->shell = codec_get_str(r);
	return r->bad || !id->user || !id->group || !id->home || !id->shell ? -1 : 0;
}

static int decode_mount(struct codec_in *r, struct plan *p)
{
	uint32_t op = codec_get_u32(r), flags = codec_get_u32(r), mode = codec_get_u32(r), n;
	const char *src = codec_get_bytes(r, &n);
	const char *dst = codec_get_bytes(r, &n);
	uint64_t len = codec_get_u64(r);
	const char *data = len == UINT64_MAX ? NULL : take(r, len);
	uint32_t file = codec_get_u32(r);
	struct plan_origin o = { .line = codec_get_u32(r), .col = codec_get_u32(r) };
	if (r->bad || op > PLAN_CGROUP || (file != NULL_LEN && file >= p->nfiles))
		return -1;
	o.file = file == NULL_LEN ? NULL : p->files[file];
	struct plan_mount *m = plan_add_mount(p, (enum plan_op)op, flags, src, dst, mode, &o);
	return !m || (data && plan_mount_set_data(m, data, len) < 0) ? -1 : 0;
}

int plan_decode(struct codec_in *r, struct plan *p)
{
	p->namespaces = codec_get_u32(r);
	p->sandbox_off = codec_get_u32(r) != 0;
	p->rootfs_readonly = codec_get_u32(r) != 0;
	p->hostname = codec_get_str(r);
	p->vhost = codec_get_str(r);
	p->rootfs = codec_get_str(r);
	uint32_t n = codec_get_u32(r);
	if (r->bad || n > COUNT_MAX)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t len;
		const char *f = codec_get_bytes(r, &len);
		/* interned: a repeated name would shift every later index */
		if (!f || plan_intern_file(p, f) == NULL || p->nfiles != i + 1)
			return -1;
	}
	if (decode_identity(r, &p->id) < 0)
		return -1;
	n = codec_get_u32(r);
	if (r->bad || n > COUNT_MAX)
		return -1;
	for (uint32_t i = 0; i < n; i++)
		if (decode_mount(r, p) < 0)
			return -1;
	return r->bad || r->off != r->len ? -1 : 0;
}
