/* A small single-threaded allocator for nscell-shim and nscell-runtime
 * on musl (shim/musl/malloc.c makes it the programs' malloc).  musl's own malloc
 * (mallocng) maps and unmaps small groups as it goes, which made parsing a
 * bundle's config.json twice as slow as under glibc; this one carves
 * power-of-two blocks out of 1 MiB chunks and keeps freed ones on a list
 * per size, and maps only what is larger than the largest class.
 *
 * Every block has a 16-byte header in front of it holding its capacity,
 * so blocks are 16-byte aligned like malloc's.  Not thread-safe: both
 * programs have one thread. */
#ifndef NSCELL_MUSL_ARENA_H
#define NSCELL_MUSL_ARENA_H

#include <stddef.h>

/* the largest block served from the chunks; larger ones get a mapping each */
#define ARENA_SMALL_MAX ((size_t)64 * 1024)
#define ARENA_CHUNK ((size_t)1024 * 1024)

/* As malloc, calloc, realloc and free (errno ENOMEM when out of memory;
 * arena_malloc(0) gives a unique pointer, realloc(NULL, n) is malloc). */
void *arena_malloc(size_t n);
void *arena_calloc(size_t count, size_t size);
void *arena_realloc(void *p, size_t n);
void arena_free(void *p);
/* what a block can hold (malloc_usable_size) */
size_t arena_usable_size(const void *p);

#endif
