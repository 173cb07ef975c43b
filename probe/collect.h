/* What a process sees, collected as raw facts (libc only).
 *
 * Shared by the static helper nscell-probe, which runs inside a sandbox
 * and needs nothing from it, and by `nscell probe`, which collects for
 * itself.  The collector only reads; all interpretation (libmount for the
 * mount table, names from the passwd and group files, normalised order,
 * JSON) happens in the formatter on the host side, cli/probe_*.c.
 *
 * The raw format: one record a line, fields separated by tabs, the first
 * field the record's name.  In a field a backslash, tab, newline and every
 * other byte below 0x20 or 0x7f is written as \ooo (octal).  Records:
 *
 *   nscell-probe  VERSION
 *   uid|gid       REAL EFFECTIVE SAVED
 *   groups        GID...
 *   status        NAME VALUE         Cap*, NoNewPrivs, Seccomp, Seccomp_filters, Umask
 *   map           uid|gid LINE       /proc/self/{uid,gid}_map, blanks squeezed
 *   ns            TYPE INODE|-       /proc/self/ns/TYPE
 *   hostname      NAME
 *   cwd           PATH|-ERRNO
 *   env           NAME
 *   rlimit        NAME SOFT HARD     numbers or "unlimited"
 *   mountinfo     LINE               /proc/self/mountinfo as is
 *   path          PATH STATUS TYPE MODE UID GID RDEV LINK ACCESS SIZE
 *                 STATUS "ok" or an errno name (lstat); the rest "-" then.
 *                 TYPE file dir link char block fifo socket; MODE octal;
 *                 RDEV maj:min or -; LINK the target or -; ACCESS r, w, x
 *                 or - each (faccessat AT_EACCESS, following a link); SIZE
 *                 entries of a directory, bytes of a file, or -
 *   file          /etc/passwd|/etc/group LINE|-ERRNO
 *   self          PID
 *   proc          PID COMM
 *   end
 */
#ifndef NSCELL_PROBE_COLLECT_H
#define NSCELL_PROBE_COLLECT_H

#include <stdio.h>

#define PROBE_RAW_VERSION "1"

/* Write the raw facts to out.  paths (NULL-terminated, may be NULL) are
 * probed in addition to the fixed set (/, /etc/passwd, /etc/shadow, /root,
 * /home, /proc/1/root, /sys, $HOME and every entry of /dev).  Returns 0,
 * or -1 when out could not be written. */
int probe_collect(FILE *out, char *const *paths);

/* Write s with the escapes above. */
void probe_escape(FILE *out, const char *s);

#endif
