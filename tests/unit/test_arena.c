/* Unit tests for shim/musl/arena.c, the malloc of nscell-shim and
 * nscell-runtime on musl: alignment, blocks that do not overlap, reuse of freed blocks, realloc
 * keeping the contents, calloc zeroing reused memory, large blocks
 * unmapped on free, and ENOMEM instead of a wrapped size.  Built against
 * glibc (the functions have their own names), so they run everywhere. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "shim/musl/arena.h"
#include "tests/unit/unit.h"

static int aligned16(const void *p)
{
	return ((uintptr_t)p & 15) == 0;
}

/* the first of n bytes that is not c, or n */
static size_t first_not(const unsigned char *p, size_t n, unsigned char c)
{
	size_t i = 0;
	while (i < n && p[i] == c)
		i++;
	return i;
}

START_TEST(zero_bytes_is_a_unique_block)
{
	void *a = arena_malloc(0), *b = arena_malloc(0);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_ne(a, b);
	ck_assert(aligned16(a) && aligned16(b));
	arena_free(a);
	arena_free(b);
	arena_free(NULL);
}
END_TEST

/* sizes across every class and past the largest, each filled with its own
 * byte: no block overlaps another, each is aligned and holds its size */
START_TEST(blocks_are_aligned_and_apart)
{
	enum { N = 300 };
	static unsigned char *blocks[N];
	static size_t sizes[N];
	for (int i = 0; i < N; i++) {
		sizes[i] = (size_t)(i * 977 % 70000) + (i % 7);
		blocks[i] = arena_malloc(sizes[i]);
		ck_assert_ptr_nonnull(blocks[i]);
		ck_assert_msg(aligned16(blocks[i]), "block %d of %zu bytes", i, sizes[i]);
		ck_assert_uint_ge(arena_usable_size(blocks[i]), sizes[i]);
		memset(blocks[i], i & 0xff, sizes[i]);
	}
	for (int i = 0; i < N; i++) {
		size_t k = first_not(blocks[i], sizes[i], i & 0xff);
		ck_assert_msg(k == sizes[i], "block %d overwritten at %zu", i, k);
		arena_free(blocks[i]);
	}
}
END_TEST

START_TEST(a_freed_block_is_reused)
{
	void *a = arena_malloc(100);
	arena_free(a);
	void *b = arena_malloc(120); /* the same 128-byte class */
	ck_assert_ptr_eq(a, b);
	void *c = arena_malloc(100);
	ck_assert_ptr_ne(b, c);
	arena_free(b);
	arena_free(c);
}
END_TEST

/* more than a chunk's worth of the largest class */
START_TEST(past_one_chunk)
{
	enum { N = 3 * ARENA_CHUNK / ARENA_SMALL_MAX };
	static char *p[N];
	for (int i = 0; i < N; i++) {
		p[i] = arena_malloc(ARENA_SMALL_MAX);
		ck_assert_ptr_nonnull(p[i]);
		p[i][0] = (char)i;
		p[i][ARENA_SMALL_MAX - 1] = (char)i;
	}
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(p[i][0], (char)i);
		ck_assert_int_eq(p[i][ARENA_SMALL_MAX - 1], (char)i);
		arena_free(p[i]);
	}
}
END_TEST

static void fill(unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(i * 31 + 7);
}

static void check_fill(const unsigned char *p, size_t n)
{
	size_t i = 0;
	while (i < n && p[i] == (unsigned char)(i * 31 + 7))
		i++;
	ck_assert_msg(i == n, "byte %zu lost", i);
}

/* small to small, small to large, large to larger (mremap) */
START_TEST(realloc_keeps_the_contents)
{
	unsigned char *p = arena_realloc(NULL, 40);
	ck_assert_ptr_nonnull(p);
	fill(p, 40);
	ck_assert_ptr_eq(arena_realloc(p, 10), p); /* shrinking stays */
	ck_assert_ptr_eq(arena_realloc(p, 48), p); /* within its 64-byte class */
	p = arena_realloc(p, 5000);
	ck_assert_ptr_nonnull(p);
	check_fill(p, 40);
	fill(p, 5000);
	p = arena_realloc(p, 200000);
	ck_assert_ptr_nonnull(p);
	check_fill(p, 5000);
	fill(p, 200000);
	p = arena_realloc(p, 3000000);
	ck_assert_ptr_nonnull(p);
	ck_assert(aligned16(p));
	check_fill(p, 200000);
	ck_assert_uint_ge(arena_usable_size(p), 3000000);
	arena_free(p);
}
END_TEST

START_TEST(calloc_zeroes_a_reused_block)
{
	unsigned char *p = arena_malloc(1000);
	memset(p, 0xff, 1000);
	arena_free(p);
	unsigned char *q = arena_calloc(10, 100);
	ck_assert_ptr_eq(p, q);
	ck_assert_uint_eq(first_not(q, 1000, 0), 1000);
	arena_free(q);
	q = arena_calloc(1, 100000);
	ck_assert_ptr_nonnull(q);
	ck_assert_uint_eq(first_not(q, 100000, 0), 100000);
	arena_free(q);
}
END_TEST

/* a large block is its own mapping and goes back to the kernel */
START_TEST(a_large_block_is_unmapped_on_free)
{
	char *p = arena_malloc(ARENA_SMALL_MAX + 1);
	ck_assert_ptr_nonnull(p);
	p[0] = 1;
	long page = sysconf(_SC_PAGESIZE);
	unsigned char vec;
	void *start = (void *)((uintptr_t)p & ~(uintptr_t)(page - 1));
	ck_assert_int_eq(mincore(start, 1, &vec), 0);
	arena_free(p);
	ck_assert_int_eq(mincore(start, 1, &vec), -1);
	ck_assert_int_eq(errno, ENOMEM);
}
END_TEST

START_TEST(sizes_that_cannot_be_are_enomem)
{
	errno = 0;
	ck_assert_ptr_null(arena_malloc(SIZE_MAX));
	ck_assert_int_eq(errno, ENOMEM);
	errno = 0;
	ck_assert_ptr_null(arena_malloc(SIZE_MAX - 8));
	ck_assert_int_eq(errno, ENOMEM);
	errno = 0;
	ck_assert_ptr_null(arena_calloc(SIZE_MAX / 2, 3)); /* wraps */
	ck_assert_int_eq(errno, ENOMEM);
	unsigned char *p = arena_malloc(64);
	fill(p, 64);
	errno = 0;
	ck_assert_ptr_null(arena_realloc(p, SIZE_MAX));
	ck_assert_int_eq(errno, ENOMEM);
	check_fill(p, 64); /* still the caller's */
	arena_free(p);
}
END_TEST

static Suite *arena_suite(void)
{
	Suite *s = suite_create("arena");
	TCase *tc = tcase_create("arena");
	tcase_add_test(tc, zero_bytes_is_a_unique_block);
	tcase_add_test(tc, blocks_are_aligned_and_apart);
	tcase_add_test(tc, a_freed_block_is_reused);
	tcase_add_test(tc, past_one_chunk);
	tcase_add_test(tc, realloc_keeps_the_contents);
	tcase_add_test(tc, calloc_zeroes_a_reused_block);
	tcase_add_test(tc, a_large_block_is_unmapped_on_free);
	tcase_add_test(tc, sizes_that_cannot_be_are_enomem);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(arena_suite)
