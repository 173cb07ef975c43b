/* A plan as bytes and back: what plan_cache.c keeps on disk.
 *
 * The encoding is this build's own (native byte order and widths; the
 * cache names its format and nscell's version): lengths are u32 or u64,
 * a string is a u32 length and its bytes (NULL: 0xffffffff), a mount's
 * origin names its file by index into the plan's files.  Only what
 * plan_load_base makes is encoded: mounts, namespaces, hostname, the
 * identity, the vhost, the files, sandbox_off, rootfs.  The process, the
 * cgroup limits and rootless are each launch's own. */
#ifndef NSCELL_PLAN_CODEC_H
#define NSCELL_PLAN_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "plan.h"

/* A growable byte buffer; on allocation failure it stays failed and every
 * later put is a no-op. */
struct codec_buf {
	unsigned char *b;
	size_t len, cap;
	int failed;
};

void codec_put(struct codec_buf *w, const void *p, size_t n);
void codec_put_u32(struct codec_buf *w, uint32_t v);
void codec_put_u64(struct codec_buf *w, uint64_t v);
void codec_put_str(struct codec_buf *w, const char *s);

/* A reader over bytes; any read past the end or malformed length sets
 * bad, and every later get returns zeroes. */
struct codec_in {
	const unsigned char *b;
	size_t len, off;
	int bad;
};

uint32_t codec_get_u32(struct codec_in *r);
uint64_t codec_get_u64(struct codec_in *r);
/* A pointer into the buffer and its length (*len; NULL for a NULL string). */
const char *codec_get_bytes(struct codec_in *r, uint32_t *len);
/* A malloc'd copy; NULL for NULL (check r->bad to tell failure). */
char *codec_get_str(struct codec_in *r);

/* Append the plan's base (see above); -1 when a mount's origin names a
 * file the plan does not list (never encoded then). */
int plan_encode(struct codec_buf *w, const struct plan *p);
/* Fill a plan_init'ed p from r; -1 (p partly filled: plan_free it) when
 * the bytes are malformed or memory runs out. */
int plan_decode(struct codec_in *r, struct plan *p);

#endif
