/* One pass over /proc: the processes named nscell-keeper whose command
 * line is "nscell-keeper FD DIR/ENTRY". */
#include "cli/keepers.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shim/keeper.h"

/* the ENTRY of pid's label when it is a keeper of dir; 0 or -1 */
static int label_entry(int procfd, const char *pid, const char *dir, char *entry, size_t size)
{
	char path[64], buf[PATH_MAX + STATE_NAME_MAX + 64];
	snprintf(path, sizeof path, "%s/cmdline", pid);
	int fd = openat(procfd, path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	const char *argv0 = buf, *argv1 = argv0 + strlen(argv0) + 1;
	const char *argv2 = argv1 < buf + n ? argv1 + strlen(argv1) + 1 : buf + n;
	size_t dlen = strlen(dir);
	if (strcmp(argv0, KEEPER_COMM) != 0 || argv2 >= buf + n || strncmp(argv2, dir, dlen) != 0 ||
	    argv2[dlen] != '/' || !argv2[dlen + 1] || strchr(argv2 + dlen + 1, '/'))
		return -1;
	snprintf(entry, size, "%s", argv2 + dlen + 1);
	return 0;
}

struct labelled_keeper *keepers_labelled(const char *dir, size_t *n)
{
	struct labelled_keeper *v = NULL;
	size_t cap = 0;
	*n = 0;
	DIR *proc = opendir("/proc");
	struct dirent *e;
	while (proc && (e = readdir(proc))) {
		char comm[32];
		struct labelled_keeper k = { 0 };
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		struct stat st;
		k.pid = (pid_t)atoi(e->d_name);
		/* ours: a user can name a process of its own nscell-keeper too */
		if (fstatat(dirfd(proc), e->d_name, &st, 0) < 0 || st.st_uid != geteuid() ||
		    state_proc_start(k.pid, &k.start, comm, sizeof comm) < 0 ||
		    strcmp(comm, KEEPER_COMM) != 0 ||
		    label_entry(dirfd(proc), e->d_name, dir, k.entry, sizeof k.entry) < 0)
			continue;
		if (*n == cap) {
			struct labelled_keeper *nv = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof *v);
			if (!nv)
				break;
			v = nv;
		}
		v[(*n)++] = k;
	}
	if (proc)
		closedir(proc);
	return v;
}
