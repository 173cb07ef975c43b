/* What stat(2) says of a file, to tell later whether it changed: device,
 * inode, size, mode, mtime and ctime, or the error stat gave.  Every
 * change to a file moves its ctime, and a file replaced by rename has
 * another inode; but timestamps are coarse (a clock tick, a second on
 * some filesystems), so a change in the same tick as the stamp can leave
 * it as it was: a stamp is only trusted to tell a later change once the
 * file has been left alone for FILE_STAMP_SETTLE seconds. */
#ifndef NSCELL_FILE_STAMP_H
#define NSCELL_FILE_STAMP_H

#include <stdbool.h>
#include <stdint.h>

#define FILE_STAMP_SETTLE 2 /* seconds */

struct file_stamp {
	uint64_t err; /* stat's errno; 0: the fields below are the file's */
	uint64_t dev, ino, size, mode, mtime_s, mtime_ns, ctime_s, ctime_ns;
};
#define FILE_STAMP_FIELDS (sizeof(struct file_stamp) / sizeof(uint64_t))

void file_stamp_take(struct file_stamp *s, const char *path);
bool file_stamp_same(const struct file_stamp *a, const struct file_stamp *b);
/* Whether it is missing (ENOENT, ENOTDIR) rather than unreadable. */
bool file_stamp_absent(const struct file_stamp *s);
/* Whether the file was last changed at least settle seconds ago (a
 * missing file counts as settled; so does any stat error). */
bool file_stamp_settled(const struct file_stamp *s, int settle);

#endif
