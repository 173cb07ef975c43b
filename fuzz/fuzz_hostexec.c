/* libFuzzer target: the hostexec listener's request decoding, which runs
 * as root on bytes any sandboxed process can send.  The input is a
 * header followed by the strings; a request that decodes must be what
 * the header announced (argc >= 1, an absolute program, every string
 * within the limits), one that does not must say why.  Built by
 * fuzz/run. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hostexec/protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hx_request_header h;
	nscell_error_t err = { 0 };
	if (size < sizeof h)
		return 0;
	memcpy(&h, data, sizeof h);
	/* the listener reads exactly h.len bytes after the header */
	h.magic = HX_MAGIC;
	h.version = HX_VERSION;
	h.len = (uint32_t)(size - sizeof h);
	if (hx_request_check_header(&h, &err) < 0) {
		if (!err.msg[0])
			abort();
		return 0;
	}
	char *strings = malloc(h.len ? h.len : 1);
	if (!strings)
		return 0;
	memcpy(strings, data + sizeof h, h.len);
	struct hx_request req;
	memset(&req, 0, sizeof req);
	if (hx_request_decode(&h, strings, &req, &err) < 0) {
		if (!err.msg[0])
			abort();
	} else {
		if (req.argc != h.argc || req.envc != h.envc || req.argc < 1 || req.program[0] != '/')
			abort();
		for (uint32_t i = 0; i < req.argc; i++)
			if (!req.argv[i] || strlen(req.argv[i]) > HX_MAX_STRING)
				abort();
		if (req.argv[req.argc] || req.env[req.envc])
			abort();
		hx_request_free(&req);
	}
	free(strings);
	return 0;
}
