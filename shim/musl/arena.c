/* The allocator of shim/musl/arena.h. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "shim/musl/arena.h"

/* classes 16, 32, ... ARENA_SMALL_MAX bytes */
#define MIN_SHIFT 4
#define CLASSES 13
_Static_assert(((size_t)1 << (MIN_SHIFT + CLASSES - 1)) == ARENA_SMALL_MAX, "classes");

struct header {
	size_t capacity; /* a class's size, or a mapping's usable bytes */
	size_t pad;	 /* keeps the block 16-byte aligned */
};
_Static_assert(sizeof(struct header) == 16, "header");

struct free_block {
	struct free_block *next;
};

static struct free_block *free_lists[CLASSES];
static char *bump, *bump_end; /* what is left of the current chunk */

static struct header *header_of(const void *p)
{
	return (struct header *)p - 1;
}

static int class_of(size_t n)
{
	int c = 0;
	while (((size_t)1 << (MIN_SHIFT + c)) < n)
		c++;
	return c;
}

static void *map(size_t n)
{
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		errno = ENOMEM;
		return NULL;
	}
	return p;
}

static size_t page_round(size_t n)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	return (n + page - 1) & ~(page - 1);
}

static void *large_malloc(size_t n)
{
	if (n > SIZE_MAX / 2) {
		errno = ENOMEM;
		return NULL;
	}
	size_t len = page_round(n + sizeof(struct header));
	struct header *h = map(len);
	if (!h)
		return NULL;
	h->capacity = len - sizeof *h;
	return h + 1;
}

static void *small_malloc(int c)
{
	if (free_lists[c]) {
		struct free_block *b = free_lists[c];
		free_lists[c] = b->next;
		return b;
	}
	size_t need = sizeof(struct header) + ((size_t)1 << (MIN_SHIFT + c));
	if ((size_t)(bump_end - bump) < need) {
		/* the rest of the old chunk is left unused: at most a block's worth */
		char *chunk = map(ARENA_CHUNK);
		if (!chunk)
			return NULL;
		bump = chunk;
		bump_end = chunk + ARENA_CHUNK;
	}
	struct header *h = (struct header *)bump;
	bump += need;
	h->capacity = need - sizeof *h;
	return h + 1;
}

void *arena_malloc(size_t n)
{
	if (n > ARENA_SMALL_MAX)
		return large_malloc(n);
	return small_malloc(class_of(n));
}

void arena_free(void *p)
{
	if (!p)
		return;
	struct header *h = header_of(p);
	if (h->capacity > ARENA_SMALL_MAX) {
		munmap(h, h->capacity + sizeof *h);
		return;
	}
	struct free_block *b = p;
	int c = class_of(h->capacity);
	b->next = free_lists[c];
	free_lists[c] = b;
}

void *arena_calloc(size_t count, size_t size)
{
	size_t n;
	if (__builtin_mul_overflow(count, size, &n)) {
		errno = ENOMEM;
		return NULL;
	}
	void *p = arena_malloc(n);
	if (p && n <= ARENA_SMALL_MAX) /* a new mapping is zero already */
		memset(p, 0, n);
	return p;
}

void *arena_realloc(void *p, size_t n)
{
	if (!p)
		return arena_malloc(n);
	struct header *h = header_of(p);
	if (n <= h->capacity)
		return p;
	if (h->capacity > ARENA_SMALL_MAX) {
		if (n > SIZE_MAX / 2) {
			errno = ENOMEM;
			return NULL;
		}
		size_t len = page_round(n + sizeof *h);
		struct header *moved = mremap(h, h->capacity + sizeof *h, len, MREMAP_MAYMOVE);
		if (moved == MAP_FAILED) {
			errno = ENOMEM;
			return NULL;
		}
		moved->capacity = len - sizeof *moved;
		return moved + 1;
	}
	void *q = arena_malloc(n);
	if (!q)
		return NULL;
	memcpy(q, p, h->capacity);
	arena_free(p);
	return q;
}

size_t arena_usable_size(const void *p)
{
	return p ? header_of(p)->capacity : 0;
}
