/* For a C library without fgetpwent_r and fgetgrent_r (musl, which
 * nscell-shim and nscell-runtime are built on where configure finds it):
 * the entry its fgetpwent/fgetgrent returned, which their next call
 * overwrites, copied into the caller's buffer as glibc's _r functions lay
 * it out.  0, or ERANGE when it does not fit (the caller grows the buffer
 * and copies again: nothing is read twice).  identity_files.c reads with
 * them where __GLIBC__ is not defined: fgetpwent's entry is static, so
 * that is for single-threaded programs; libnscell, which servers embed,
 * is glibc's. */
#ifndef NSCELL_PWENT_H
#define NSCELL_PWENT_H

#include <grp.h>
#include <pwd.h>
#include <stddef.h>

int pwent_copy_user(struct passwd *dst, const struct passwd *src, char *buf, size_t size);
int pwent_copy_group(struct group *dst, const struct group *src, char *buf, size_t size);

#endif
