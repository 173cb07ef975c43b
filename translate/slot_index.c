/* Open addressing with linear probing, keyed by the entries' own dst. */
#include "slot_index.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fnv.h"

static size_t hash(const char *dst, bool remount)
{
	uint64_t h = FNV_OFFSET;
	fnv(&h, dst, strlen(dst));
	return (size_t)(h ^ remount);
}

static bool holds(const struct plan *p, size_t cell, const char *dst, bool remount)
{
	const struct plan_mount *m = &p->mounts[cell - 1];
	return m->dst && strcmp(m->dst, dst) == 0 && (m->op == PLAN_REMOUNT_RO) == remount;
}

static size_t *probe(size_t *cells, size_t cap, const struct plan *p, const char *dst,
		     bool remount)
{
	size_t i = hash(dst, remount) & (cap - 1);
	while (cells[i] && !holds(p, cells[i], dst, remount))
		i = (i + 1) & (cap - 1);
	return &cells[i];
}

/* double the table, dropping cells of cleared entries */
static int grow(struct slot_index *ix, const struct plan *p)
{
	size_t cap = ix->cap ? ix->cap * 2 : 64;
	size_t *cells = calloc(cap, sizeof *cells);
	if (!cells)
		return -1;
	size_t used = 0;
	for (size_t i = 0; i < ix->cap; i++) {
		size_t c = ix->cells[i];
		const struct plan_mount *m = c ? &p->mounts[c - 1] : NULL;
		if (!m || !m->dst)
			continue;
		*probe(cells, cap, p, m->dst, m->op == PLAN_REMOUNT_RO) = c;
		used++;
	}
	free(ix->cells);
	*ix = (struct slot_index){ cells, cap, used };
	return 0;
}

size_t *slot_index_cell(struct slot_index *ix, const struct plan *p, const char *dst,
			bool remount)
{
	if ((ix->used + 1) * 2 > ix->cap && grow(ix, p) < 0)
		return NULL;
	size_t *cell = probe(ix->cells, ix->cap, p, dst, remount);
	if (!*cell)
		ix->used++; /* the caller fills it */
	return cell;
}

void slot_index_free(struct slot_index *ix)
{
	free(ix->cells);
	*ix = (struct slot_index){ 0 };
}
