/* An index of a plan's entries by destination, so that resolving a
 * template of n lines finds the entry a line overrides in O(1) instead of
 * scanning the plan (a 100,000-line template took 30 s that way). */
#ifndef NSCELL_SLOT_INDEX_H
#define NSCELL_SLOT_INDEX_H

#include <stdbool.h>
#include <stddef.h>

#include "plan.h"

/* A slot is a destination; remount-ro entries have slots of their own, as
 * they apply on top of whatever else is at the same place. */
struct slot_index {
	size_t *cells; /* index + 1 of a plan entry; 0: empty */
	size_t cap, used;
};

/* The cell of (dst, remount) in p: *cell - 1 is the entry there when
 * *cell != 0; else the caller may store index + 1 of the entry it adds.
 * Entries whose dst was cleared (plan_clear_mount) are passed over.
 * NULL when out of memory. */
size_t *slot_index_cell(struct slot_index *ix, const struct plan *p, const char *dst,
			bool remount);
void slot_index_free(struct slot_index *ix);

#endif
