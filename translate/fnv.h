/* FNV-1a, 64 bits: a fast hash for names and file contents (not against
 * an adversary: what it keys is checked in full where that matters). */
#ifndef NSCELL_FNV_H
#define NSCELL_FNV_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

static inline void fnv(uint64_t *h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		*h = (*h ^ b[i]) * FNV_PRIME;
}

/* the string and its NUL; NULL hashes apart from every string */
static inline void fnv_str(uint64_t *h, const char *s)
{
	if (s)
		fnv(h, s, strlen(s) + 1);
	else
		fnv(h, "\1", 1);
}

#endif
