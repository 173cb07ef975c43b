/* nscell-shim and nscell-runtime on musl: the allocator of arena.h as
 * their malloc (musl lets a static program replace it).  The aligned
 * allocators are here too, so that musl's, which would hand free() blocks
 * of its own malloc, are never linked; nothing in either program asks for
 * more than malloc's 16-byte alignment. */
#include <errno.h>
#include <stdlib.h>

#include "shim/musl/arena.h"

size_t malloc_usable_size(void *p);
void *memalign(size_t align, size_t n);

void *malloc(size_t n)
{
	return arena_malloc(n);
}

void *calloc(size_t count, size_t size)
{
	return arena_calloc(count, size);
}

void *realloc(void *p, size_t n)
{
	return arena_realloc(p, n);
}

void free(void *p)
{
	arena_free(p);
}

size_t malloc_usable_size(void *p)
{
	return arena_usable_size(p);
}

void *aligned_alloc(size_t align, size_t n)
{
	if (align == 0 || (align & (align - 1))) {
		errno = EINVAL;
		return NULL;
	}
	if (align > 16) {
		errno = ENOMEM;
		return NULL;
	}
	return arena_malloc(n);
}

void *memalign(size_t align, size_t n)
{
	return aligned_alloc(align, n);
}

int posix_memalign(void **out, size_t align, size_t n)
{
	if (align < sizeof(void *))
		return EINVAL;
	void *p = aligned_alloc(align, n);
	if (!p)
		return errno;
	*out = p;
	return 0;
}
