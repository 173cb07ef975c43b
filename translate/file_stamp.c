/* File stamps (file_stamp.h). */
#include "file_stamp.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

void file_stamp_take(struct file_stamp *s, const char *path)
{
	struct stat st;
	memset(s, 0, sizeof *s);
	if (stat(path, &st) < 0) {
		s->err = errno ? (uint64_t)errno : EIO;
		return;
	}
	*s = (struct file_stamp){ 0, st.st_dev, st.st_ino, (uint64_t)st.st_size, st.st_mode,
				  (uint64_t)st.st_mtim.tv_sec, (uint64_t)st.st_mtim.tv_nsec,
				  (uint64_t)st.st_ctim.tv_sec, (uint64_t)st.st_ctim.tv_nsec };
}

bool file_stamp_same(const struct file_stamp *a, const struct file_stamp *b)
{
	return memcmp(a, b, sizeof *a) == 0;
}

bool file_stamp_absent(const struct file_stamp *s)
{
	return s->err == ENOENT || s->err == ENOTDIR;
}

bool file_stamp_settled(const struct file_stamp *s, int settle)
{
	if (s->err)
		return true;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	return (int64_t)s->ctime_s <= (int64_t)now.tv_sec - settle;
}
