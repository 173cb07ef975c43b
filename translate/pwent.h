/* fgetpwent_r and fgetgrent_r for a C library that has none (musl, which
 * nscell-shim and nscell-runtime are built on where configure finds it):
 * the library's fgetpwent/fgetgrent, the entry copied into the caller's
 * buffer as glibc's functions lay it out.  Same contract: 0 and *res set,
 * ENOENT at the end of the file, ERANGE when the entry does not fit (the
 * line is consumed: the caller seeks back and reads it again with a
 * larger buffer, as identity_files.c does), else an errno.  Not
 * thread-safe (the library's entry is static): the programs built on musl
 * have one thread; libnscell, which servers embed, is glibc's. */
#ifndef NSCELL_PWENT_H
#define NSCELL_PWENT_H

#include <grp.h>
#include <pwd.h>
#include <stdio.h>

int pwent_read_user(FILE *f, struct passwd *ent, char *buf, size_t size, struct passwd **res);
int pwent_read_group(FILE *f, struct group *ent, char *buf, size_t size, struct group **res);

#endif
