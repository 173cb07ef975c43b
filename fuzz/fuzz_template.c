/* libFuzzer target: the template front end, as `nscell check` and the
 * shim run it on a file a vhost admin wrote.  One input is one template;
 * it is parsed (tpl_parse_buffer) and, when it parses, resolved for root
 * with check_sources off (plan_resolve), so no host file is looked at.
 * Every diagnostic must name the input's file.  Built by fuzz/run. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "translate/identity.h"
#include "translate/resolve.h"
#include "translate/template.h"

#define FUZZ_NAME "fuzz.tpl"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* root, filled in by hand: an NSS lookup per input would be most of
 * the time spent */
static int root_identity(struct plan_identity *id)
{
	memset(id, 0, sizeof *id);
	id->user = strdup("root");
	id->group = strdup("root");
	id->home = strdup("/root");
	id->shell = strdup("/bin/sh");
	return id->user && id->group && id->home && id->shell ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tpl t;
	struct diags d;
	tpl_init(&t);
	diags_init(&d);
	int rc = tpl_parse_buffer(&t, FUZZ_NAME, (const char *)data, size, &d);
	if (rc == 0) {
		struct plan p;
		plan_init(&p);
		if (root_identity(&p.id) == 0) {
			const struct tpl *tpls[] = { &t };
			struct resolve_opts o = { .check_sources = false };
			plan_resolve(&p, tpls, 1, &o, &d);
		}
		/* a resolved plan holds only absolute, normalised destinations */
		for (size_t i = 0; i < p.nmounts; i++)
			if (!p.mounts[i].dst || p.mounts[i].dst[0] != '/' ||
			    strstr(p.mounts[i].dst, "/../") || strstr(p.mounts[i].dst, "//"))
				abort();
		plan_free(&p);
	}
	for (size_t i = 0; i < d.n; i++)
		if (!d.v[i].msg || (d.v[i].file && strcmp(d.v[i].file, FUZZ_NAME) != 0))
			abort();
	if (rc < 0 && d.nerrors == 0)
		abort(); /* a failed parse says why */
	tpl_free(&t);
	diags_free(&d);
	return 0;
}
