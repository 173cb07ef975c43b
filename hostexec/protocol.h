/* hostexec: the relay between the client bound over a program inside a
 * sandbox and the listener on the host (`nscell hostexec-daemon`).
 *
 * One connection, one request, on a SOCK_STREAM Unix socket:
 *
 *   client → listener   struct hx_request_header, then `len` bytes of
 *                       NUL-terminated strings: PROGRAM, argv[0..argc),
 *                       env[0..envc).  fds 0, 1, 2 travel with the first
 *                       byte as one SCM_RIGHTS message.
 *   listener → client   one struct hx_reply, then `len` bytes of message
 *                       (no NUL); then the listener closes.
 *
 * Integers are in host byte order (both ends are on one machine).  The
 * request carries no identity: the listener takes it from SO_PEERCRED.
 * Both ends need only libc: the client is linked statically. */
#ifndef NSCELL_HOSTEXEC_PROTOCOL_H
#define NSCELL_HOSTEXEC_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#include "translate/error.h"

/* where the listener's socket directory is bound inside every sandbox
 * that has a hostexec program; also the host directory by default */
#define HX_SOCKET_DIR "/run/nscell-hostexec"
#define HX_SOCKET_NAME "hostexec.sock"
#define HX_CLIENT_NAME "nscell-hostexec"

#define HX_MAGIC 0x5848534eu /* "NSHX" */
#define HX_VERSION 1u
#define HX_MAX_BYTES (256u * 1024u)  /* all strings of a request together */
#define HX_MAX_ARGS 4096u            /* argc, and envc, each */
#define HX_MAX_STRING (128u * 1024u) /* one string (the kernel's MAX_ARG_STRLEN) */
#define HX_MAX_MESSAGE 1024u         /* a reply's message */
#define HX_NFDS 3                    /* stdin, stdout, stderr */

/* the client's exit statuses of its own (sysexits.h) */
#define HX_EXIT_TEMPFAIL 75 /* no listener: try again later */
#define HX_EXIT_IOERR 74    /* the listener went away mid-relay */
#define HX_EXIT_NOPERM 77   /* refused by the listener */
#define HX_EXIT_SOFTWARE 70 /* a malformed answer, or the client's own failure */

struct hx_request_header {
	uint32_t magic, version;
	uint32_t len;  /* bytes of strings that follow */
	uint32_t argc; /* argv strings (at least 1) */
	uint32_t envc;
};

enum hx_reply_kind {
	HX_EXITED = 1,   /* value: the program's exit status */
	HX_SIGNALED = 2, /* value: the signal that ended it */
	HX_REFUSED = 3,  /* value: the exit status to use; the message says why */
};

struct hx_reply {
	uint32_t magic;
	uint32_t kind;   /* enum hx_reply_kind */
	int32_t value;
	uint32_t len;    /* bytes of message that follow, at most HX_MAX_MESSAGE */
};

/* A decoded request; the strings point into the buffer it was decoded from. */
struct hx_request {
	const char *program;
	char **argv; /* NULL-terminated, argc >= 1 */
	char **env;  /* NULL-terminated */
	uint32_t argc, envc;
};

/* Encode program, argv and env into *buf (malloc'ed: header, then strings).
 * Fails when a limit above is passed. */
int hx_request_encode(const char *program, char *const *argv, char *const *env, char **buf,
		      size_t *len, nscell_error_t *err);
/* Check a header read from the peer: magic, version, sizes within limits. */
int hx_request_check_header(const struct hx_request_header *h, nscell_error_t *err);
/* Split `h->len` bytes of strings (already read) into req.  Exactly
 * 1 + argc + envc strings, each NUL-terminated, none longer than
 * HX_MAX_STRING; PROGRAM absolute.  req->argv/env are malloc'ed (free with
 * hx_request_free); the strings stay in data. */
int hx_request_decode(const struct hx_request_header *h, char *data, struct hx_request *req,
		      nscell_error_t *err);
void hx_request_free(struct hx_request *req);

/* Check a reply header from the listener. */
int hx_reply_check(const struct hx_reply *r, nscell_error_t *err);

#endif
