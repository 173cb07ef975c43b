/* libFuzzer target: the config.json reader (oci_config_read_buffer), the
 * front end that turns an OCI bundle's config into a plan.  A config
 * that reads must give a plan whose destinations are absolute; one that
 * does not must say why.  Built by fuzz/run. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oci/oci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct plan p;
	nscell_error_t err = { 0 };
	plan_init(&p);
	int rc = oci_config_read_buffer(&p, "fuzz.json", (const char *)data, size, &err);
	if (rc < 0 && !err.msg[0])
		abort(); /* an error without a message */
	if (rc == 0)
		for (size_t i = 0; i < p.nmounts; i++)
			if (p.mounts[i].dst && p.mounts[i].dst[0] != '/')
				abort();
	plan_free(&p);
	return 0;
}
