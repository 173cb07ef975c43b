/* The raw facts of collect.h.  libc only and no NSS (a static binary cannot
 * load NSS modules): the passwd and group files are sent as they are. */
#include "probe/collect.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

/* fixed probe paths; every entry of /dev and $HOME are added */
static const char *const fixed_paths[] = { "/", "/etc/passwd", "/etc/shadow", "/root", "/home",
					   "/proc/1/root", "/sys" };

void probe_escape(FILE *out, const char *s)
{
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c == '\\' || *c < 0x20 || *c == 0x7f)
			fprintf(out, "\\%03o", *c);
		else
			fputc(*c, out);
	}
}

/* a record: name, then each field escaped; NULL ends the fields */
static void record(FILE *out, const char *name, ...)
{
	va_list ap;
	va_start(ap, name);
	fputs(name, out);
	for (const char *f; (f = va_arg(ap, const char *));) {
		fputc('\t', out);
		probe_escape(out, f);
	}
	va_end(ap);
	fputc('\n', out);
}

static const char *errno_name(int e, char *buf, size_t size)
{
	const char *n = strerrorname_np(e);
	if (n)
		return n;
	snprintf(buf, size, "E%d", e);
	return buf;
}

static void ids(FILE *out)
{
	uid_t u[3];
	gid_t g[3];
	char a[3][24];
	getresuid(&u[0], &u[1], &u[2]);
	getresgid(&g[0], &g[1], &g[2]);
	for (int i = 0; i < 3; i++)
		snprintf(a[i], sizeof a[i], "%u", (unsigned)u[i]);
	record(out, "uid", a[0], a[1], a[2], NULL);
	for (int i = 0; i < 3; i++)
		snprintf(a[i], sizeof a[i], "%u", (unsigned)g[i]);
	record(out, "gid", a[0], a[1], a[2], NULL);
	int n = getgroups(0, NULL);
	gid_t *v = n > 0 ? calloc((size_t)n, sizeof *v) : NULL;
	if (v)
		n = getgroups(n, v);
	fputs("groups", out);
	for (int i = 0; v && i < n; i++)
		fprintf(out, "\t%u", (unsigned)v[i]);
	fputc('\n', out);
	free(v);
}

/* each line of a small file, as records "name [arg] LINE" */
static void file_lines(FILE *out, const char *name, const char *arg, const char *path,
		       bool squeeze)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		char buf[24], e[32];
		snprintf(e, sizeof e, "-%s", errno_name(errno, buf, sizeof buf));
		record(out, name, arg ? arg : e, arg ? e : NULL, NULL);
		return;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if (squeeze) {
			/* "         0       1000          1": one blank between */
			char *w = line;
			for (char *r = line; *r; r++)
				if (*r != ' ' || (w > line && w[-1] != ' '))
					*w++ = *r;
			while (w > line && w[-1] == ' ')
				w--;
			*w = '\0';
		}
		record(out, name, arg ? arg : line, arg ? line : NULL, NULL);
	}
	free(line);
	fclose(f);
}

static void status(FILE *out)
{
	static const char *const wanted[] = { "Umask", "CapInh", "CapPrm", "CapEff", "CapBnd",
					      "CapAmb", "NoNewPrivs", "Seccomp", "Seccomp_filters" };
	FILE *f = fopen("/proc/self/status", "re");
	if (!f)
		return;
	char line[512];
	while (fgets(line, sizeof line, f)) {
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = '\0';
		for (size_t i = 0; i < sizeof wanted / sizeof *wanted; i++) {
			if (strcmp(line, wanted[i]) != 0)
				continue;
			char *v = colon + 1;
			v += strspn(v, " \t");
			v[strcspn(v, "\n")] = '\0';
			record(out, "status", line, v, NULL);
		}
	}
	fclose(f);
}

static void namespaces(FILE *out)
{
	static const char *const types[] = { "cgroup", "ipc", "mnt", "net", "pid", "time", "user",
					     "uts" };
	for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
		char path[64], ino[32] = "-";
		struct stat st;
		snprintf(path, sizeof path, "/proc/self/ns/%s", types[i]);
		if (stat(path, &st) == 0)
			snprintf(ino, sizeof ino, "%llu", (unsigned long long)st.st_ino);
		record(out, "ns", types[i], ino, NULL);
	}
}

static void environment(FILE *out)
{
	extern char **environ;
	for (char **e = environ; e && *e; e++) {
		char name[256];
		size_t n = strcspn(*e, "=");
		snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name ? n : sizeof name - 1), *e);
		record(out, "env", name, NULL);
	}
}

static void rlimits(FILE *out)
{
	static const struct {
		int res;
		const char *name;
	} limits[] = {
		{ RLIMIT_AS, "AS" },       { RLIMIT_CORE, "CORE" },       { RLIMIT_CPU, "CPU" },
		{ RLIMIT_DATA, "DATA" },   { RLIMIT_FSIZE, "FSIZE" },     { RLIMIT_LOCKS, "LOCKS" },
		{ RLIMIT_MEMLOCK, "MEMLOCK" }, { RLIMIT_MSGQUEUE, "MSGQUEUE" },
		{ RLIMIT_NICE, "NICE" },   { RLIMIT_NOFILE, "NOFILE" },   { RLIMIT_NPROC, "NPROC" },
		{ RLIMIT_RSS, "RSS" },     { RLIMIT_RTPRIO, "RTPRIO" },   { RLIMIT_RTTIME, "RTTIME" },
		{ RLIMIT_SIGPENDING, "SIGPENDING" }, { RLIMIT_STACK, "STACK" },
	};
	for (size_t i = 0; i < sizeof limits / sizeof *limits; i++) {
		struct rlimit rl;
		char v[2][32];
		if (getrlimit(limits[i].res, &rl) < 0)
			continue;
		rlim_t r[2] = { rl.rlim_cur, rl.rlim_max };
		for (int k = 0; k < 2; k++) {
			if (r[k] == RLIM_INFINITY)
				snprintf(v[k], sizeof v[k], "unlimited");
			else
				snprintf(v[k], sizeof v[k], "%llu", (unsigned long long)r[k]);
		}
		record(out, "rlimit", limits[i].name, v[0], v[1], NULL);
	}
}

static const char *type_name(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG: return "file";
	case S_IFDIR: return "dir";
	case S_IFLNK: return "link";
	case S_IFCHR: return "char";
	case S_IFBLK: return "block";
	case S_IFIFO: return "fifo";
	case S_IFSOCK: return "socket";
	}
	return "unknown";
}

/* entries of a directory (without . and ..), or -1.  In a procfs the
 * pid directories are not counted: they come and go (and the process
 * count is reported on its own). */
static long count_entries(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return -1;
	struct statfs sf;
	bool proc = fstatfs(dirfd(d), &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC;
	long n = 0;
	for (struct dirent *de; (de = readdir(d));)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
		    !(proc && de->d_name[strspn(de->d_name, "0123456789")] == '\0'))
			n++;
	closedir(d);
	return n;
}

static void one_path(FILE *out, const char *path)
{
	struct stat st;
	char buf[32];
	if (lstat(path, &st) < 0) {
		const char *e = errno_name(errno, buf, sizeof buf);
		record(out, "path", path, e, "-", "-", "-", "-", "-", "-", "-", "-", NULL);
		return;
	}
	char mode[16], uid[24], gid[24], rdev[32] = "-", link[PATH_MAX] = "-", access[4], size[32] = "-";
	snprintf(mode, sizeof mode, "%04o", (unsigned)(st.st_mode & 07777));
	snprintf(uid, sizeof uid, "%u", (unsigned)st.st_uid);
	snprintf(gid, sizeof gid, "%u", (unsigned)st.st_gid);
	if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
		snprintf(rdev, sizeof rdev, "%u:%u", major(st.st_rdev), minor(st.st_rdev));
	if (S_ISLNK(st.st_mode)) {
		ssize_t n = readlink(path, link, sizeof link - 1);
		link[n < 0 ? 0 : n] = '\0';
		if (n <= 0)
			snprintf(link, sizeof link, "-");
	}
	static const int modes[3] = { R_OK, W_OK, X_OK };
	for (int i = 0; i < 3; i++)
		access[i] = faccessat(AT_FDCWD, path, modes[i], AT_EACCESS) == 0 ? "rwx"[i] : '-';
	access[3] = '\0';
	if (S_ISDIR(st.st_mode)) {
		long n = count_entries(path);
		if (n >= 0)
			snprintf(size, sizeof size, "%ld", n);
	} else if (S_ISREG(st.st_mode)) {
		snprintf(size, sizeof size, "%lld", (long long)st.st_size);
	}
	record(out, "path", path, "ok", type_name(st.st_mode), mode, uid, gid, rdev, link, access,
	       size, NULL);
}

static void paths(FILE *out, char *const *extra)
{
	for (size_t i = 0; i < sizeof fixed_paths / sizeof *fixed_paths; i++)
		one_path(out, fixed_paths[i]);
	const char *home = getenv("HOME");
	if (home && home[0] == '/')
		one_path(out, home);
	for (size_t i = 0; extra && extra[i]; i++)
		one_path(out, extra[i]);
	DIR *d = opendir("/dev");
	if (!d)
		return;
	for (struct dirent *de; (de = readdir(d));) {
		char path[PATH_MAX];
		if (de->d_name[0] == '.' && (!de->d_name[1] || !strcmp(de->d_name, "..")))
			continue;
		snprintf(path, sizeof path, "/dev/%s", de->d_name);
		one_path(out, path);
	}
	closedir(d);
}

static void processes(FILE *out)
{
	char self[24];
	snprintf(self, sizeof self, "%d", (int)getpid());
	record(out, "self", self, NULL);
	DIR *d = opendir("/proc");
	if (!d)
		return;
	for (struct dirent *de; (de = readdir(d));) {
		if (de->d_name[strspn(de->d_name, "0123456789")] != '\0')
			continue;
		char path[300], comm[64] = "";
		snprintf(path, sizeof path, "/proc/%s/comm", de->d_name);
		FILE *f = fopen(path, "re");
		if (f) {
			if (!fgets(comm, sizeof comm, f))
				comm[0] = '\0';
			comm[strcspn(comm, "\n")] = '\0';
			fclose(f);
		}
		record(out, "proc", de->d_name, comm, NULL);
	}
	closedir(d);
}

int probe_collect(FILE *out, char *const *extra)
{
	char buf[PATH_MAX + 1];
	struct utsname u;
	record(out, "nscell-probe", PROBE_RAW_VERSION, NULL);
	ids(out);
	status(out);
	file_lines(out, "map", "uid", "/proc/self/uid_map", true);
	file_lines(out, "map", "gid", "/proc/self/gid_map", true);
	namespaces(out);
	if (uname(&u) == 0)
		record(out, "hostname", u.nodename, NULL);
	if (getcwd(buf, sizeof buf)) {
		record(out, "cwd", buf, NULL);
	} else {
		char e[32], n[40];
		snprintf(n, sizeof n, "-%s", errno_name(errno, e, sizeof e));
		record(out, "cwd", n, NULL);
	}
	environment(out);
	rlimits(out);
	file_lines(out, "mountinfo", NULL, "/proc/self/mountinfo", false);
	paths(out, extra);
	file_lines(out, "file", "/etc/passwd", "/etc/passwd", false);
	file_lines(out, "file", "/etc/group", "/etc/group", false);
	processes(out);
	record(out, "end", NULL);
	return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}
