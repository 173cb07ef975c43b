"""Persisted sandboxes for bench/run: how a warm launch, the host's
`unshare -m /bin/true` and memory grow with the number of live sandboxes.

The sandboxes belong to one bench user, one per vhost (b00000, b00001,
...).  The shim knows only vhosts named in an nscell.conf, so each vhost
gets a tiny nscell.conf of its own (-C): one shared file listing all N
would make every launch parse N sections (a cost of the conf's size, not of
the number of sandboxes; measured apart as conf_sections).  A conf's bytes
are part of its sandbox's hash, so the files never change once written.

They live in the bench's private state directory (NSCELL_STATE_DIR) and
are ended by teardown(), which bench/run also calls on its way out."""
import json
import os
import signal
import subprocess
import time

import measure

VHOST = "b%05d"


def _proc_start(pid):
	"""start time of pid (clock ticks since boot), None when gone or a zombie"""
	try:
		with open("/proc/%d/stat" % pid) as f:
			fields = f.read().rsplit(")", 1)[1].split()
	except (OSError, IndexError):
		return None
	return None if fields[0] in ("Z", "X") else int(fields[19])


def _status_kb(pid, path, key):
	try:
		with open("/proc/%d/%s" % (pid, path)) as f:
			for line in f:
				if line.startswith(key + ":"):
					return int(line.split()[1])
	except (OSError, ValueError, IndexError):
		pass
	return None


def count_mounts():
	with open("/proc/self/mountinfo") as f:
		return sum(1 for _ in f)


def meminfo():
	out = {}
	with open("/proc/meminfo") as f:
		for line in f:
			k, v = line.split(":", 1)
			out[k] = int(v.split()[0])
	return out


class Fleet:
	"""N persisted sandboxes of one user, one per vhost."""

	def __init__(self, s, workers):
		self.s, self.workers = s, workers
		self.confs = os.path.join(s.work, "persisted-conf")
		os.makedirs(self.confs, mode=0o700, exist_ok=True)
		self.live = 0
		self.seen = {}  # keeper pid -> start time, for the leak check

	def conf(self, i):
		path = os.path.join(self.confs, VHOST % i + ".conf")
		if not os.path.exists(path):
			with open(path, "w") as f:
				f.write("# bench/run: one vhost, one persisted sandbox\n[vhost %s]\n" % (VHOST % i))
		return path

	def argv(self, i, cmd):
		return ([self.s.shim, "-p", "-C", self.conf(i), "-s", VHOST % i, "-u", self.s.o["user"], "--"]
			+ list(cmd))

	def grow(self, n):
		"""Build sandboxes live..n-1, `workers` shims at a time:
		(seconds, failed indexes).  Our only children meanwhile."""
		todo = list(range(self.live, n))
		for i in todo:
			self.conf(i)
		null = [(os.POSIX_SPAWN_OPEN, fd, "/dev/null", os.O_RDWR, 0) for fd in (0, 1, 2)]
		running, failed = {}, []
		t0 = time.perf_counter()
		try:
			while todo or running:
				while todo and len(running) < self.workers:
					i = todo.pop(0)
					argv = self.argv(i, ["/bin/true"])
					running[os.posix_spawn(argv[0], argv, os.environ, file_actions=null)] = i
				pid, st = os.waitpid(-1, 0)
				i = running.pop(pid, None)
				if i is not None and os.waitstatus_to_exitcode(st) != 0:
					failed.append(i)
		finally:  # interrupted: let the builds under way end before the teardown
			for pid in running:
				os.waitpid(pid, 0)
		secs = time.perf_counter() - t0
		self.live = n
		return secs, failed

	def why(self, i):
		r = subprocess.run(self.argv(i, ["/bin/true"]), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
		return (r.stderr.decode(errors="replace").strip().splitlines() or ["exit %d" % r.returncode])[-1]

	def keepers(self):
		"""{vhost: keeper pid} of our live sandboxes, from `nscell ls -J`"""
		out = {}
		for b in list_sandboxes(self.s.nscell, self.seen):
			v = b.get("vhost") or ""
			if b.get("state") == "live" and len(v) == len(VHOST % 0) and v.startswith("b"):
				out[v] = b["keeper"]
		return out


def list_sandboxes(nscell, seen):
	"""`nscell ls -J`; every running keeper goes into seen {pid: start time}"""
	r = subprocess.run([nscell, "ls", "-J"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
	try:
		boxes = json.loads(r.stdout.decode()).get("sandboxes", [])
	except ValueError:
		return []
	for b in boxes:
		start = _proc_start(b.get("keeper") or 0)
		if start is not None:
			seen.setdefault(b["keeper"], start)
	return boxes


def keeper_memory(pids):
	rss = [_status_kb(p, "status", "VmRSS") for p in pids]
	pss = [_status_kb(p, "smaps_rollup", "Pss") for p in pids]
	rss, pss = [x for x in rss if x is not None], [x for x in pss if x is not None]
	return {"keeper_rss_kb": sum(rss) / len(rss) if rss else None,
		"keeper_rss_max_kb": max(rss) if rss else None,
		"keeper_pss_kb": sum(pss) / len(pss) if pss else None}


def warm_contender(fleet, n):
	"""each launch joins the next of the n sandboxes, round robin"""
	turn = {"k": 0}

	def argv(cmd):
		turn["k"] += 1
		return fleet.argv(turn["k"] % n, cmd)
	return measure.Contender("nscell warm", argv, note="joins the %d sandboxes in turn" % n)


def _put(row, name, st):
	row[name] = st.get("median_ms") if st.get("n") else None
	row[name + " p10"], row[name + " p90"] = st.get("p10_ms"), st.get("p90_ms")
	if st.get("failures") or st.get("skipped"):
		row[name + " failures"] = st.get("failures")
		row[name + " error"] = st.get("skipped") or st.get("first_failure")


def _ratio(a, b):
	return a / b if a is not None and b else None


def measure_at(s, fleet, n, base, rounds, warmup):
	"""one row: the fleet grown to n, then interleaved launches and memory"""
	secs, failed = fleet.grow(n)
	row = {"sandboxes": n, "built": n - base["live"], "build_s": secs}
	row["build_per_s"] = (n - base["live"]) / secs if secs > 0 else None
	if failed:
		row["build_failures"] = len(failed)
		row["build_error"] = fleet.why(failed[0])
	base["live"] = n
	before = fleet.keepers()
	row["live"] = len(before)
	row.update(keeper_memory(list(before.values())))
	mem = meminfo()
	row["host_mounts_added"] = count_mounts() - base["mounts"]
	row["slab_kb_per_sandbox"] = (mem["Slab"] - base["mem"]["Slab"]) / n
	row["used_kb_per_sandbox"] = (base["mem"]["MemAvailable"] - mem["MemAvailable"]) / n
	cands = [measure.Contender("bare exec", lambda cmd: list(cmd)), warm_contender(fleet, n)]
	if s.tools["unshare"]:
		cands.insert(1, measure.Contender("unshare -m", lambda cmd: [s.tools["unshare"], "-m"] + list(cmd)))
	res = measure.interleaved(s.runner, cands, {"true": ["/bin/true"]}, rounds, warmup)["true"]
	for name, st in res.items():
		_put(row, name, st)
	after = fleet.keepers()
	row["rebuilt"] = sum(1 for v, pid in before.items() if after.get(v) != pid)
	row["warm_vs_bare"] = _ratio(row.get("nscell warm"), row.get("bare exec"))
	return row


def conf_sections(s, sizes, rounds):
	"""Warm launch of one sandbox whose nscell.conf lists N vhosts: the
	conf is read on every launch, so its size is a cost of its own.  Each
	size has a sandbox of its own (the conf is in its hash), interleaved."""
	tmp = os.path.join(s.work, "persisted-conf")
	cands = []
	for n in sizes:
		path = os.path.join(tmp, "sections-%d.conf" % n)
		with open(path, "w") as f:
			f.write("".join("[vhost n%dc%05d]\n" % (n, i) for i in range(n)))
		cands.append(measure.Contender("%d" % n, lambda cmd, p=path, n=n: [
			s.shim, "-p", "-C", p, "-s", "n%dc00000" % n, "-u", s.o["user"], "--"] + list(cmd)))
	res = measure.interleaved(s.runner, cands, {"true": ["/bin/true"]}, rounds, 1)["true"]
	return [{"sections": n, "nscell warm": res["%d" % n].get("median_ms") if res["%d" % n].get("n") else None,
		 "failures": res["%d" % n].get("failures")} for n in sizes]


def _running(seen):
	return [p for p, start in seen.items() if _proc_start(p) == start]


def _kill_keepers(seen):
	"""SIGKILL through a pidfd each keeper we saw that still runs (pid 1 of
	its sandbox: the kernel ends the rest)"""
	for pid in _running(seen):
		try:
			fd = os.pidfd_open(pid)
		except OSError:
			continue
		try:
			if _proc_start(pid) == seen[pid]:  # still ours, checked after the pidfd pins it
				signal.pidfd_send_signal(fd, signal.SIGKILL)
		except OSError:
			pass
		finally:
			os.close(fd)


def _unmount_all(nscell, timeout):
	try:
		subprocess.run([nscell, "unmount", "-a", "--kill"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
			       timeout=timeout, start_new_session=True)
		return True
	except subprocess.TimeoutExpired:
		return False


def teardown(nscell, seen, timeout=120):
	"""unmount -a --kill in the (private) state directory, in a session of
	its own so that a second Ctrl-C does not stop it halfway.  When it takes
	longer than timeout, the keepers we saw (seen, and those listed now)
	are killed through pidfds and unmount -a clears their stale records.
	(seconds unmount ran, keepers it ended, fallback used, pids still running)"""
	old = signal.signal(signal.SIGINT, signal.SIG_IGN)
	try:
		list_sandboxes(nscell, seen)
		before = len(_running(seen))
		t0 = time.perf_counter()
		done = _unmount_all(nscell, timeout)
		secs = time.perf_counter() - t0
		ended = before - len(_running(seen))
		if not done:
			_kill_keepers(seen)
			_unmount_all(nscell, timeout)
	finally:
		signal.signal(signal.SIGINT, old)
	left = []
	for _ in range(50):  # reaping the keepers may take a moment
		left = _running(seen)
		if not left:
			break
		time.sleep(0.1)
	return {"seconds": secs, "ended": ended, "of": before, "timed_out": not done, "left": left}


def bench(s, counts, rounds, warmup, workers=2, say=print):
	"""The persisted-sandbox scaling; counts ascending."""
	fleet = Fleet(s, workers)
	s.fleets.append(fleet)
	base = {"live": 0, "mounts": count_mounts(), "mem": meminfo()}
	rows = []
	for n in sorted(set(counts)):
		say("persisted: %d sandboxes (building %d, %d at a time)" % (n, n - base["live"], workers))
		row = measure_at(s, fleet, n, base, rounds, warmup)
		say("  built in %.1f s; warm %s ms, unshare -m %s ms, bare %s ms; keeper RSS %s KiB; %d host mounts added" % (
			row["build_s"], _ms(row.get("nscell warm")), _ms(row.get("unshare -m")), _ms(row.get("bare exec")),
			_ms(row.get("keeper_rss_kb")), row["host_mounts_added"]))
		rows.append(row)
		if row["live"] < n:
			say("  only %d of %d sandboxes live: stopping here" % (row["live"], n))
			break
	first = rows[0] if rows else {}
	for row in rows:
		row["warm_vs_first"] = _ratio(row.get("nscell warm"), first.get("nscell warm"))
		row["unshare_vs_first"] = _ratio(row.get("unshare -m"), first.get("unshare -m"))
		# the same, each divided by its own round's bare exec: load from
		# elsewhere on the host during one count cancels out
		row["warm_vs_first_per_bare"] = _ratio(row["warm_vs_bare"], first.get("warm_vs_bare"))
		row["unshare_vs_first_per_bare"] = _ratio(_ratio(row.get("unshare -m"), row.get("bare exec")),
							  _ratio(first.get("unshare -m"), first.get("bare exec")))
		row["host_mounts_per_sandbox"] = row["host_mounts_added"] / row["sandboxes"]
	sizes = sorted({1, max(counts)})
	say("persisted: warm launch with an nscell.conf of %s vhost sections" % ", ".join(map(str, sizes)))
	sections = conf_sections(s, sizes, max(5, rounds // 3))
	down = teardown(s.nscell, fleet.seen)
	say("persisted: `nscell unmount -a --kill` ended %d of %d sandboxes in %.1f s%s; keepers left: %d" % (
		down["ended"], down["of"], down["seconds"], " (timed out: the rest killed)" if down["timed_out"] else "",
		len(down["left"])))
	fleet.seen.clear()
	return {"rows": rows, "rounds": rounds, "workers": workers, "conf_sections": sections, "teardown": down,
		"method": "one user, one vhost per sandbox (a one-section nscell.conf each, -C); each warm launch "
			  "joins the next sandbox in turn; /bin/true"}


def _ms(x):
	return "–" if x is None else "%.2f" % x
