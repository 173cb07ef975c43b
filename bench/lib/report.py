"""Reporting for bench/run: goals met or missed, the markdown table, the
JSON file, gnuplot plots, and the README's Performance section."""
import json
import os
import shutil
import subprocess

# (key, description, limit): the measured ratio must be at most the limit
GOALS = [
	("cold_vs_bwrap", "nscell cold launch vs bwrap (same mounts)", 0.5),
	("warm_vs_bare", "nscell warm launch vs bare exec", 1.5),
	("shim_vs_runc", "nscell cold launch vs `runc run`", 0.1),
	("run_b_vs_runc", "`nscell-runtime run -b` vs `runc run` (same bundle)", 0.1),
	("binds2000_vs_bwrap", "2,000-bind template: nscell cold vs bwrap", 0.1),
	("rss_vs_bwrap", "nscell-shim peak RSS vs bwrap's", 1.0),
	("warm_flat", "nscell warm launch with {n} persisted sandboxes vs 1", 1.2),
	("unshare_flat", "host's `unshare -m /bin/true` with {n} persisted sandboxes vs 1", 1.2),
	("spawn_vs_posix", "libnscell nscell_spawn() into a persisted sandbox vs posix_spawn", 1.3),
]
SPAWN_NAME = "nscell_spawn (persisted)"


def _spawn_ratio(res):
	"""(nscell_spawn / posix_spawn median ratio unpinned, why not)"""
	sp = res.get("spawn") or {}
	row = ((sp.get("modes") or {}).get("unpinned") or {}).get(SPAWN_NAME)
	if sp.get("skipped") or not row:
		return None, sp.get("skipped") or "not measured"
	return row["vs_posix"], None


def _persisted_ends(res):
	"""(first row, last row, why not) of the persisted-sandbox scaling"""
	pers = res.get("persisted") or {}
	rows = pers.get("rows") or []
	if pers.get("skipped") or len(rows) < 2:
		return None, None, pers.get("skipped") or "fewer than two sandbox counts measured"
	return rows[0], rows[-1], None


def _median(res, label, name):
	r = res.get("launch", {}).get(label, {}).get(name, {})
	return r.get("median_ms") if not r.get("skipped") and r.get("n") else None


def _ratio(a, b):
	return a / b if a is not None and b else None


def goals(res):
	"""Each goal: measured ratio (on /bin/true), limit, met, margin."""
	out = []
	scale = res.get("scale") or {}
	big = None
	if not scale.get("skipped"):
		for row in scale.get("rows", []):
			if row["binds"] == 2000:
				big = _ratio(row.get("nscell cold"), row.get("bwrap"))
	mem = res.get("memory") or {}
	p_first, p_last, p_why = _persisted_ends(res)

	def kb(name):
		return (mem.get(name) or {}).get("median_kb")

	values = {
		"cold_vs_bwrap": (_ratio(_median(res, "true", "nscell cold"), _median(res, "true", "bwrap")),
				  None),
		"warm_vs_bare": (_ratio(_median(res, "true", "nscell warm"), _median(res, "true", "bare exec")),
				 (res["launch"]["true"].get("nscell warm") or {}).get("skipped")),
		"shim_vs_runc": (_ratio(_median(res, "true", "nscell cold"), _median(res, "true", "runc run")),
				 None),
		"run_b_vs_runc": (_ratio(_median(res, "true", "nscell run -b"), _median(res, "true", "runc run")),
				  (res["launch"]["true"].get("nscell run -b") or {}).get("skipped")),
		"binds2000_vs_bwrap": (big, scale.get("skipped") or (None if big else "2,000 binds not measured")),
		"rss_vs_bwrap": (_ratio(kb("nscell cold"), kb("bwrap")), mem.get("skipped")),
		"warm_flat": (p_last and _ratio(p_last.get("nscell warm"), p_first.get("nscell warm")), p_why),
		"unshare_flat": (p_last and _ratio(p_last.get("unshare -m"), p_first.get("unshare -m")), p_why),
		"spawn_vs_posix": _spawn_ratio(res),
	}
	for key, desc, limit in GOALS:
		value, why = values[key]
		desc = desc.replace("{n}", "{:,}".format(p_last["sandboxes"]) if p_last else "N")
		g = {"goal": key, "description": desc, "limit": limit, "value": value}
		if value is None:
			g.update(met=None, verdict="not measured: %s" % (why or "no data"))
		elif value <= limit:
			g.update(met=True, verdict="met (%.1f%% under the limit)" % (100 * (1 - value / limit)))
		else:
			g.update(met=False, verdict="missed: %.2fx the limit (must get %.0f%% faster/smaller)" %
				 (value / limit, 100 * (1 - limit / value)))
		out.append(g)
	return out


def _fmt(x, digits=2):
	return "–" if x is None else ("%.*f" % (digits, x))


ORDER = ["bare exec", "unshare", "bwrap", "runc run", "nscell cold", "nscell warm", "nscell run -b"]
GROUP_ORDER = ["mount", "paths and files", "credentials and seccomp", "processes",
	       "memory (loading libraries)", "sockets (NSS)"]


def _ordered(d, order):
	"""d's items in a fixed order (JSON read back may come sorted)."""
	return sorted(d.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order))


def _skip(why):
	return why if why.startswith("not run") else "SKIP, " + why


def markdown(res, readme=False):
	h = res["host"]
	lines = ["Measured %s on %s (%s cores, %s), kernel %s; %s." % (
		h["date"], h["cpu"], h["cores"], h["memory"], h["kernel"],
		", ".join("%s %s" % kv for kv in _ordered(h["versions"], ["nscell", "bwrap", "runc", "util-linux"]))),
		"", "%d interleaved rounds (plus %d warm-up), user `%s`, built-in default template (%d mounts), "
		"load average %.2f before and %.2f after the launch runs. Times in ms, wall clock from fork to wait4 in a tiny C "
		"launcher; bwrap runs as the user (as a CGI daemon would run it), the others as root." % (
		res["config"]["rounds"], res["config"]["warmup"], res["config"]["user"],
		res["config"]["plan_mounts"], h.get("load_before", 0), h.get("load_after", 0)), ""]
	for label, title in (("true", "`/bin/true`"), ("cgi", "CGI-like `sh -c 'echo …; cat /etc/passwd; echo ok'`")):
		lines += ["**%s**" % title, "",
			  "| launcher | median | p10 | p90 | stddev | × bare exec | × bwrap |",
			  "|---|---:|---:|---:|---:|---:|---:|"]
		bare, bw = _median(res, label, "bare exec"), _median(res, label, "bwrap")
		for name, r in _ordered(res["launch"][label], ORDER):
			if r.get("skipped"):
				lines.append("| %s | SKIP: %s | | | | | |" % (name, r["skipped"]))
				continue
			if not r.get("n"):
				lines.append("| %s | FAILED: %s | | | | | |" % (name, r.get("first_failure")))
				continue
			m = r["median_ms"]
			fail = " (%d failed)" % r["failures"] if r.get("failures") else ""
			lines.append("| %s%s | %s | %s | %s | %s | %s | %s |" % (
				name, fail, _fmt(m), _fmt(r["p10_ms"]), _fmt(r["p90_ms"]), _fmt(r["stddev_ms"]),
				_fmt(_ratio(m, bare), 1), _fmt(_ratio(m, bw), 2)))
		lines.append("")
	mem = res.get("memory") or {}
	if mem and not mem.get("skipped"):
		lines += ["**Peak RSS** (`/usr/bin/time -f %M`, KiB, median; the largest process of the tree)", "",
			  "| launcher | peak RSS KiB |", "|---|---:|"]
		for name, r in _ordered(mem, ORDER):
			v = r.get("median_kb")
			lines.append("| %s | %s |" % (name, v if v is not None else
						      "SKIP: " + r["skipped"] if r.get("skipped") else r.get("error")))
		lines.append("")
	scale = res.get("scale") or {}
	if scale.get("rows"):
		lines += ["**Template size** (`/bin/true`, N extra read-only binds, median ms)", "",
			  "| binds | nscell cold | bwrap | nscell/bwrap |", "|---:|---:|---:|---:|"]
		for row in scale["rows"]:
			lines.append("| %d | %s | %s | %s |" % (row["binds"], _fmt(row.get("nscell cold")), _fmt(row.get("bwrap")),
							   _fmt(_ratio(row.get("nscell cold"), row.get("bwrap")))))
		lines.append("")
	elif scale.get("skipped"):
		lines += ["Template size: %s." % _skip(scale["skipped"]), ""]
	conc = res.get("concurrency") or {}
	if conc.get("rows"):
		names = [n for n in ORDER if n in conc["contenders"]] + [n for n in conc["contenders"] if n not in ORDER]
		lines += ["**Concurrent launches** (`/bin/true`, launches per second, %d cores)" % h["cores"], "",
			  "| parallel | " + " | ".join(names) + " |", "|---:|" + "---:|" * len(names)]
		for row in conc["rows"]:
			lines.append("| %d | " % row["parallel"] + " | ".join(_fmt(row.get(n), 0) for n in names) + " |")
		lines.append("")
	elif conc.get("skipped"):
		lines += ["Concurrent launches: %s." % _skip(conc["skipped"]), ""]
	lines += _persisted_md(res.get("persisted") or {})
	lines += _spawn_md(res.get("spawn") or {})
	prof = res.get("profile") or {}
	if readme and prof and not prof.get("skipped"):
		lines += ["System calls of one launch by kind: [latest.md](latest.md).", ""]
	elif prof and not prof.get("skipped"):
		names = [n for n, _ in _ordered(prof, ORDER)]
		lines += ["**System calls of one `/bin/true` launch** (`strace -c -f`, all processes)", "",
			  "| kind | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
		for g in [g for g, _ in _ordered(prof[names[0]]["groups"], GROUP_ORDER)] + ["total"]:
			lines.append("| %s | " % g + " | ".join(
				str(prof[n]["total"] if g == "total" else prof[n]["groups"][g]) for n in names) + " |")
		for n in names:
			lines.append("")
			lines.append("%s mount calls: %s." % (n, ", ".join("%s %d" % kv for kv in prof[n]["mount_calls"].items())
							      or "none"))
		lines.append("")
	lines += ["**Goals**", "", "| goal | limit | measured | verdict |", "|---|---:|---:|---|"]
	for g in res["goals"]:
		lines.append("| %s | ≤ %g× | %s | %s |" % (g["description"], g["limit"],
							    "–" if g["value"] is None else "%.2f×" % g["value"], g["verdict"]))
	if res.get("plots"):
		lines += ["", "Plots: " + ", ".join("[%s](%s)" % (p, p) for p in res["plots"])]
	elif res.get("plots_note"):
		lines += ["", res["plots_note"]]
	return "\n".join(lines) + "\n"


def _persisted_md(pers):
	if pers.get("skipped"):
		return ["Persisted sandboxes: %s." % _skip(pers["skipped"]), ""]
	rows = pers.get("rows") or []
	if not rows:
		return []
	first = rows[0]
	lines = ["**Persisted sandboxes** (`/bin/true`, median ms [p10–p90], %d interleaved rounds; %s)" % (
		pers["rounds"], pers["method"]), "",
		"| sandboxes | nscell warm | × bare | × at %d | unshare -m | × at %d | bare exec | build /s "
		"| keeper RSS KiB | keeper PSS KiB | host mounts each | slab KiB each |" % (
			first["sandboxes"], first["sandboxes"]),
		"|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]

	def spread(row, name):
		if row.get(name) is None:
			return "FAILED: %s" % row.get(name + " error") if row.get(name + " error") else "–"
		fail = " (%d failed)" % row[name + " failures"] if row.get(name + " failures") else ""
		return "%s [%s–%s]%s" % (_fmt(row[name]), _fmt(row.get(name + " p10")), _fmt(row.get(name + " p90")), fail)
	for row in rows:
		lines.append("| {:,} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |".format(
			row["sandboxes"], spread(row, "nscell warm"), _fmt(row.get("warm_vs_bare")),
			_fmt(row.get("warm_vs_first")), spread(row, "unshare -m"), _fmt(row.get("unshare_vs_first")),
			spread(row, "bare exec"), _fmt(row.get("build_per_s"), 0), _fmt(row.get("keeper_rss_kb"), 1),
			_fmt(row.get("keeper_pss_kb"), 1), _fmt(row.get("host_mounts_per_sandbox"), 3),
			_fmt(row.get("slab_kb_per_sandbox"), 0)))
	lines.append("")
	notes = ["build /s: sandboxes built per second by %d shims at a time (first launch of each)" % pers["workers"],
		 "keeper RSS/PSS: per sandbox, the keepers listed by `nscell ls -J` (`/proc/PID/status` VmRSS, "
		 "`smaps_rollup` Pss)",
		 "host mounts each: lines added to the host's `/proc/self/mountinfo` per sandbox",
		 "slab KiB each: growth of the kernel's Slab (`/proc/meminfo`) per sandbox, approximate "
		 "(other work on the host counts too)"]
	for row in rows:
		if row.get("rebuilt"):
			notes.append("%d sandboxes were rebuilt during the %d-sandbox launches (a warm launch must join)" % (
				row["rebuilt"], row["sandboxes"]))
		if row.get("build_failures"):
			notes.append("%d of the builds for %d sandboxes failed: %s" % (row["build_failures"], row["sandboxes"],
										  row.get("build_error")))
	if len(rows) > 1:
		notes.append("× at %d again, each time over the same rounds' bare exec (cancels load from "
			     "elsewhere on the host): warm %s, unshare -m %s" % (first["sandboxes"], ", ".join(
				     "{:,}: {}".format(r["sandboxes"], _fmt(r.get("warm_vs_first_per_bare"))) for r in rows[1:]),
				     ", ".join("{:,}: {}".format(r["sandboxes"], _fmt(r.get("unshare_vs_first_per_bare")))
					       for r in rows[1:])))
	sec = pers.get("conf_sections") or []
	if len(sec) > 1:
		notes.append("an nscell.conf listing N vhosts is read on every launch: warm launch %s" % ", ".join(
			"%s ms with {:,} section{}".format(r["sections"], "s" if r["sections"] > 1 else "") %
			_fmt(r.get("nscell warm")) for r in sec))
	down = pers.get("teardown")
	if down:
		notes.append("`nscell unmount -a --kill` ended {:,} of {:,} sandboxes in {:.1f} s{}; keepers left "
			     "running at the end: {}".format(down["ended"], down["of"], down["seconds"],
							     " (stopped there; the bench killed the rest)"
							     if down["timed_out"] else "", len(down["left"]) or "none"))
	return lines + ["- " + n for n in notes] + [""]


def _spawn_md(sp):
	if sp.get("skipped"):
		return ["libnscell spawn: %s." % _skip(sp["skipped"]), ""]
	modes = sp.get("modes") or {}
	if not modes:
		return []
	names = list(next(iter(modes.values())))
	lines = ["**libnscell** (`/bin/true` started and waited for, median µs of %d runs × %d rounds; "
		 "each run's ratio to posix_spawn)" % (sp["runs_each"], sp["rounds"]), "",
		 "| launcher | " + " | ".join("%s µs | × posix_spawn" % m for m in modes) + " |",
		 "|---|" + "---:|---:|" * len(modes)]
	for n in names:
		cells = []
		for m in modes.values():
			row = m.get(n) or {}
			cells += [_fmt(row.get("median_us"), 0), "%s (%s)" % (_fmt(row.get("vs_posix")), ", ".join(
				_fmt(x) for x in row.get("vs_posix_runs", [])))]
		lines.append("| %s | " % n + " | ".join(cells) + " |")
	lines.append("")
	if sp.get("pinned_skipped"):
		lines += ["Pinned: SKIP, %s." % sp["pinned_skipped"], ""]
	return lines


def write(res, outdir):
	os.makedirs(outdir, exist_ok=True)
	with open(os.path.join(outdir, "latest.json"), "w") as f:
		json.dump(res, f, indent=1)
		f.write("\n")
	with open(os.path.join(outdir, "latest.md"), "w") as f:
		f.write(markdown(res))


def _plot(outdir, name, title, xlabel, ylabel, columns, rows, xkey, logy):
	dat = os.path.join(outdir, name + ".dat")
	with open(dat, "w") as f:
		f.write("# %s %s\n" % (xkey, " ".join(c.replace(" ", "_") for c in columns)))
		for row in rows:
			f.write("%s %s\n" % (row[xkey], " ".join("%g" % row[c] if row.get(c) is not None else "NaN"
								 for c in columns)))
	plots = ", ".join("'%s' using 1:%d with linespoints title '%s'" % (dat, i + 2, c)
			  for i, c in enumerate(columns))
	script = "\n".join([
		"set terminal svg size 640,400 dynamic font 'sans,11'",
		"set output '%s'" % os.path.join(outdir, name + ".svg"),
		"set title '%s'" % title, "set xlabel '%s'" % xlabel, "set ylabel '%s'" % ylabel,
		"set logscale x", "set logscale y" if logy else "set yrange [0:*]", "set key top left", "set grid",
		"plot " + plots, ""])
	try:
		subprocess.run(["gnuplot"], input=script.encode(), check=True)
	finally:
		os.unlink(dat)
	return name + ".svg"


def plots(res, outdir):
	"""SVG plots of the scaling runs; a note instead when gnuplot is missing."""
	if not shutil.which("gnuplot"):
		res["plots_note"] = "No plots: gnuplot not found (apt-get install gnuplot-nox)."
		return
	made = []
	scale = res.get("scale") or {}
	if scale.get("rows"):
		made.append(_plot(outdir, "scale-binds", "Launch time vs template size", "read-only binds",
				  "median ms (/bin/true)", ["nscell cold", "bwrap"], scale["rows"], "binds", True))
	conc = res.get("concurrency") or {}
	if conc.get("rows"):
		made.append(_plot(outdir, "concurrency", "Concurrent launches", "launches in parallel",
				  "launches per second", conc["contenders"], conc["rows"], "parallel", True))
	pers = res.get("persisted") or {}
	if len(pers.get("rows") or []) > 1:
		made.append(_plot(outdir, "persisted", "Launch time vs persisted sandboxes", "persisted sandboxes",
				  "median ms (/bin/true)", ["nscell warm", "unshare -m", "bare exec"], pers["rows"],
				  "sandboxes", False))
	res["plots"] = made


def update_readme(path, table, results_rel):
	"""Replace the README's '## Performance' section, or append one at the end."""
	with open(path) as f:
		text = f.read()
	section = ("## Performance\n\nFrom `make bench BENCH_FLAGS=--all` as root (`bench/run --help` for the "
		   "options; without `--all`, the launch and memory tables only). Benchmarks report; they never gate "
		   "CI. Raw numbers in [%s/latest.json](%s/latest.json).\n\n" % (results_rel, results_rel))
	for svg in ("scale-binds.svg", "concurrency.svg", "persisted.svg", "latest.md"):
		table = table.replace("](%s)" % svg, "](%s/%s)" % (results_rel, svg))
	section += table
	start = text.find("\n## Performance\n")
	if start < 0:
		text = text.rstrip("\n") + "\n\n" + section
	else:
		end = text.find("\n## ", start + 1)
		tail = text[end:] if end >= 0 else ""
		text = text[:start + 1] + section + tail
	with open(path + ".tmp", "w") as f:
		f.write(text)
	os.replace(path + ".tmp", path)
