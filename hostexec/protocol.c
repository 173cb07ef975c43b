/* hostexec request and reply: encoding, and checking what the peer sent.
 * Everything the listener reads is bounded before it is allocated. */
#include "hostexec/protocol.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int count(char *const *v, uint32_t *n, const char *what, size_t *bytes,
		 nscell_error_t *err)
{
	size_t i = 0;
	for (; v && v[i]; i++) {
		size_t len = strlen(v[i]) + 1;
		if (i >= HX_MAX_ARGS)
			return nscell_error_set(err, E2BIG, "more than %u %s strings", HX_MAX_ARGS, what);
		if (len > HX_MAX_STRING)
			return nscell_error_set(err, E2BIG, "%s[%zu] is longer than %u bytes", what, i,
						HX_MAX_STRING);
		*bytes += len;
	}
	*n = (uint32_t)i;
	return 0;
}

static char *put(char *at, char *const *v)
{
	for (size_t i = 0; v && v[i]; i++) {
		size_t len = strlen(v[i]) + 1;
		memcpy(at, v[i], len);
		at += len;
	}
	return at;
}

int hx_request_encode(const char *program, char *const *argv, char *const *env, char **buf,
		      size_t *len, nscell_error_t *err)
{
	struct hx_request_header h = { .magic = HX_MAGIC, .version = HX_VERSION };
	size_t bytes = strlen(program) + 1;
	if (bytes > HX_MAX_STRING)
		return nscell_error_set(err, E2BIG, "program path is longer than %u bytes",
					HX_MAX_STRING);
	if (count(argv, &h.argc, "argv", &bytes, err) < 0 ||
	    count(env, &h.envc, "environment", &bytes, err) < 0)
		return -1;
	if (h.argc == 0)
		return nscell_error_set(err, EINVAL, "no argv[0]");
	if (bytes > HX_MAX_BYTES)
		return nscell_error_set(err, E2BIG, "arguments and environment take %zu bytes, "
					"more than %u", bytes, HX_MAX_BYTES);
	h.len = (uint32_t)bytes;
	char *out = malloc(sizeof h + bytes);
	if (!out)
		return nscell_error_set(err, ENOMEM, "out of memory");
	memcpy(out, &h, sizeof h);
	char *at = out + sizeof h;
	memcpy(at, program, strlen(program) + 1);
	at = put(put(at + strlen(program) + 1, argv), env);
	*buf = out;
	*len = (size_t)(at - out);
	return 0;
}

int hx_request_check_header(const struct hx_request_header *h, nscell_error_t *err)
{
	if (h->magic != HX_MAGIC)
		return nscell_error_set(err, EPROTO, "not a hostexec request (bad magic 0x%08x)",
					h->magic);
	if (h->version != HX_VERSION)
		return nscell_error_set(err, EPROTO, "hostexec protocol version %u, this is %u",
					h->version, HX_VERSION);
	if (h->argc < 1 || h->argc > HX_MAX_ARGS || h->envc > HX_MAX_ARGS)
		return nscell_error_set(err, EPROTO, "argc %u / envc %u out of range (1..%u / ..%u)",
					h->argc, h->envc, HX_MAX_ARGS, HX_MAX_ARGS);
	if (h->len < 2 + h->argc + h->envc || h->len > HX_MAX_BYTES)
		return nscell_error_set(err, EPROTO, "request of %u bytes out of range (..%u)", h->len,
					HX_MAX_BYTES);
	return 0;
}

int hx_request_decode(const struct hx_request_header *h, char *data, struct hx_request *req,
		      nscell_error_t *err)
{
	memset(req, 0, sizeof *req);
	if (hx_request_check_header(h, err) < 0)
		return -1;
	size_t want = 1 + (size_t)h->argc + h->envc, n = 0;
	if (data[h->len - 1] != '\0')
		return nscell_error_set(err, EPROTO, "request does not end in a NUL");
	req->argv = calloc(h->argc + 1, sizeof *req->argv);
	req->env = calloc(h->envc + 1, sizeof *req->env);
	if (!req->argv || !req->env) {
		hx_request_free(req);
		return nscell_error_set(err, ENOMEM, "out of memory");
	}
	for (size_t off = 0; off < h->len; n++) {
		size_t len = strlen(data + off);
		if (n >= want || len + 1 > HX_MAX_STRING) {
			hx_request_free(req);
			return nscell_error_set(err, EPROTO, n >= want ?
						"more strings than argc + envc + 1" :
						"a string longer than the limit");
		}
		if (n == 0)
			req->program = data + off;
		else if (n <= h->argc)
			req->argv[n - 1] = data + off;
		else
			req->env[n - 1 - h->argc] = data + off;
		off += len + 1;
	}
	if (n != want) {
		hx_request_free(req);
		return nscell_error_set(err, EPROTO, "%zu strings, expected %zu", n, want);
	}
	if (req->program[0] != '/') {
		hx_request_free(req);
		return nscell_error_set(err, EPROTO, "the program is not an absolute path");
	}
	req->argc = h->argc;
	req->envc = h->envc;
	return 0;
}

void hx_request_free(struct hx_request *req)
{
	free(req->argv);
	free(req->env);
	memset(req, 0, sizeof *req);
}

int hx_reply_check(const struct hx_reply *r, nscell_error_t *err)
{
	if (r->magic != HX_MAGIC)
		return nscell_error_set(err, EPROTO, "not a hostexec reply (bad magic)");
	if (r->kind < HX_EXITED || r->kind > HX_REFUSED || r->len > HX_MAX_MESSAGE)
		return nscell_error_set(err, EPROTO, "malformed hostexec reply (kind %u, %u bytes)",
					r->kind, r->len);
	if ((r->kind == HX_EXITED && (r->value < 0 || r->value > 255)) ||
	    (r->kind == HX_SIGNALED && (r->value < 1 || r->value > 64)) ||
	    (r->kind == HX_REFUSED && (r->value < 1 || r->value > 255)))
		return nscell_error_set(err, EPROTO, "malformed hostexec reply (value %d)", r->value);
	return 0;
}
