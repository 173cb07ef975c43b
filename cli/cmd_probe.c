/* nscell probe: what the calling process sees, as text or JSON.
 *
 * Without --raw the facts are collected here, by the code the static
 * nscell-probe helper runs (probe/collect.c); with --raw they are read
 * from that helper's output, taken inside a sandbox, and formatted here
 * with libmount and yajl, which the static helper does without. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/probe.h"
#include "probe/collect.h"

static const char usage_text[] =
	"usage: nscell probe [-J] [--ref-ns TYPE=INODE,...] [--raw FILE|-] [-- PATH...]\n"
	"  -J          JSON\n"
	"  --ref-ns    the namespaces that count as the host's (default: this\n"
	"              process's own, so run it on the host or pass them)\n"
	"  --raw FILE  format what nscell-probe printed instead of probing\n"
	"  PATH...     paths to probe besides the fixed set\n";

static int usage_error(const char *what)
{
	fprintf(stderr, "nscell probe: %s\n%s", what, usage_text);
	return NSCELL_EXIT_USAGE;
}

/* the raw facts of this process, in memory */
static int collect_here(char *const *paths, char **buf, size_t *len, nscell_error_t *err)
{
	FILE *f = open_memstream(buf, len);
	if (!f)
		return nscell_error_errno(err, errno, "open_memstream");
	int rc = probe_collect(f, paths);
	if (fclose(f) != 0 || rc < 0)
		return nscell_error_set(err, 0, "collecting the facts failed");
	return 0;
}

int cmd_probe(struct cli *c)
{
	enum { OPT_REF_NS = 0x100, OPT_RAW, OPT_HELP };
	static const struct option longopts[] = {
		{ "ref-ns", required_argument, NULL, OPT_REF_NS },
		{ "raw", required_argument, NULL, OPT_RAW },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	/* main() hands the arguments on unparsed, after the command name,
	 * which getopt takes for argv[0] */
	char **argv = c->argv - 1;
	int argc = (int)plan_strv_len(argv);
	const char *ref_spec = NULL, *raw = NULL;
	int ch;
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+J", longopts, NULL)) != -1) {
		switch (ch) {
		case 'J': c->json = true; break;
		case OPT_REF_NS: ref_spec = optarg; break;
		case OPT_RAW: raw = optarg; break;
		case OPT_HELP: fputs(usage_text, stdout); return 0;
		default: return usage_error("unknown option or missing argument");
		}
	}
	if (optind < argc && strcmp(argv[optind - 1], "--") != 0)
		return usage_error("paths go after '--'");
	char *const *paths = argv + optind;
	if (raw && paths[0])
		return usage_error("--raw formats a probe taken elsewhere: no paths with it");

	nscell_error_t err = { 0 };
	struct probe_ref_ns ref[PROBE_NS_TYPES];
	size_t nref = 0;
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	struct probe p;
	probe_init(&p);
	int rc = NSCELL_EXIT_USAGE;
	if (probe_ref_ns_parse(ref, &nref, ref_spec, &err) < 0)
		goto out;
	if (raw ? probe_read_file(raw, &buf, &len, &err) : collect_here(paths, &buf, &len, &err))
		goto out;
	if (probe_parse(&p, raw ? raw : "this process", buf, len, &err) < 0)
		goto out;
	if (c->json) {
		if (probe_json_print(&p, ref, nref, stdout, &err) < 0)
			goto out;
	} else {
		struct probe_facts f;
		if (probe_facts_make(&p, ref, nref, &f, &err) < 0)
			goto out;
		probe_facts_print(&f, stdout);
		probe_facts_free(&f);
	}
	rc = fflush(stdout) == 0 ? 0 : NSCELL_EXIT_USAGE;
out:
	if (rc && err.msg[0])
		fprintf(stderr, "nscell probe: %s\n", err.msg);
	probe_free(&p);
	return rc;
}
