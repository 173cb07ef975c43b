"""Measuring launches for bench/run: the C timer, contenders, interleaved
rounds, parallel launches, peak memory, and the statistics of it all."""
import os
import shutil
import statistics
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def build_timer(workdir):
	"""Compile lib/timer.c (a fork-to-wait4 stopwatch) into workdir."""
	cc = os.environ.get("CC", "cc")
	out = os.path.join(workdir, "timer")
	subprocess.run([cc, "-O2", "-Wall", "-o", out, os.path.join(HERE, "timer.c")], check=True)
	return out


class Contender:
	"""One way of launching a command.

	argv(cmd) builds the command line; ids = (uid, gid, groups) makes the
	timer's child become that user first; fds = [(fd_in_child, our_fd)]
	are handed down at offset 0; after() runs untimed after each launch."""

	def __init__(self, name, argv, ids=None, fds=None, after=None, note=""):
		self.name, self._argv, self.ids = name, argv, ids
		self.fds, self.after, self.note = fds or [], after, note
		self.skipped = None

	def argv(self, cmd):
		return self._argv(cmd)


class Runner:
	def __init__(self, timer):
		self.timer = timer
		self.launches = 0

	def _timer_args(self, c, extra):
		args = [self.timer]
		if c.ids:
			uid, gid, groups = c.ids
			args += ["-u", str(uid), "-g", str(gid), "-G", ",".join(str(g) for g in groups)]
		return args + extra

	def _spawn(self, c, args, stderr):
		for _, ours in c.fds:
			os.lseek(ours, 0, os.SEEK_SET)
		actions = [(os.POSIX_SPAWN_DUP2, ours, child) for child, ours in c.fds]
		actions += [(os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
			    (os.POSIX_SPAWN_DUP2, stderr, 2)]
		r, w = os.pipe()
		actions.append((os.POSIX_SPAWN_DUP2, w, 1))
		pid = os.posix_spawn(args[0], args, os.environ, file_actions=actions)
		os.close(w)
		with os.fdopen(r) as f:
			out = f.read()
		_, st = os.waitpid(pid, 0)
		return os.waitstatus_to_exitcode(st), out

	def run(self, c, argv, quiet=True, extra=()):
		"""One timed launch: (seconds, exit status, maxrss KiB, stderr)."""
		self.launches += 1
		with tempfile.TemporaryFile() as err:
			rc, out = self._spawn(c, self._timer_args(c, (["-q"] if quiet else []) + list(extra) + ["--"] + argv),
					      err.fileno())
			err.seek(0)
			msg = err.read().decode(errors="replace")
		if c.after:
			c.after()
		if rc != 0 or not out.strip():
			return None, rc, 0, msg
		ns, status, rss = out.split()
		return int(ns) / 1e9, int(status), int(rss), msg

	def parallel(self, c, argv, jobs, total):
		"""total launches, jobs at a time: (seconds, failures)."""
		with tempfile.TemporaryFile() as err:
			rc, out = self._spawn(c, self._timer_args(c, ["-q", "-j", str(jobs), "-n", str(total), "--"] + argv),
					      err.fileno())
		if rc != 0:
			return None, total
		ns, failed = out.split()
		return int(ns) / 1e9, int(failed)


def stats(samples):
	"""median, p10, p90, mean, stddev, min, max of a list of seconds (as ms)."""
	if not samples:
		return None
	s = sorted(samples)

	def pct(p):
		k = (len(s) - 1) * p
		lo = int(k)
		hi = min(lo + 1, len(s) - 1)
		return s[lo] + (s[hi] - s[lo]) * (k - lo)

	ms = 1e3
	return {"n": len(s), "median_ms": pct(0.5) * ms, "p10_ms": pct(0.1) * ms, "p90_ms": pct(0.9) * ms,
		"mean_ms": statistics.fmean(s) * ms,
		"stddev_ms": (statistics.stdev(s) if len(s) > 1 else 0.0) * ms,
		"min_ms": s[0] * ms, "max_ms": s[-1] * ms}


def interleaved(runner, contenders, commands, rounds, warmup, progress=None):
	"""Every round runs every contender once per command, starting with a
	different contender each round, so drift (caches, frequency, other load)
	spreads evenly instead of landing on whoever ran last.
	commands: {label: argv}.  Returns {label: {contender: stats}}."""
	live = [c for c in contenders if not c.skipped]
	times = {label: {c.name: [] for c in live} for label in commands}
	fails = {label: {c.name: [] for c in live} for label in commands}
	for r in range(warmup + rounds):
		for label, cmd in commands.items():
			k = r % len(live) if live else 0
			for c in live[k:] + live[:k]:
				t, status, _, msg = runner.run(c, c.argv(cmd))
				if r < warmup:
					continue
				if t is None or status != 0:
					fails[label][c.name].append((msg.strip().splitlines() or ["exit %s" % status])[-1])
				else:
					times[label][c.name].append(t)
		if progress and (r + 1) % max(1, (warmup + rounds) // 10) == 0:
			progress("  round %d/%d" % (r + 1, warmup + rounds))
	out = {}
	for label in commands:
		out[label] = {}
		for c in contenders:
			if c.skipped:
				out[label][c.name] = {"skipped": c.skipped}
				continue
			st = stats(times[label][c.name]) or {}
			st["failures"] = len(fails[label][c.name])
			if fails[label][c.name]:
				st["first_failure"] = fails[label][c.name][0]
			out[label][c.name] = st
	return out


def peak_rss(runner, contenders, cmd, runs):
	"""Peak resident set size (KiB) of each contender's whole process tree
	as /usr/bin/time -f %M reports it (the largest process, not the sum),
	median of several runs, interleaved."""
	time_bin = shutil.which("time", path="/usr/bin:/bin")
	if not time_bin:
		return {"skipped": "/usr/bin/time missing (apt-get install time)"}
	live = [c for c in contenders if not c.skipped]
	kb = {c.name: [] for c in live}
	for r in range(runs):
		k = r % len(live)
		for c in live[k:] + live[:k]:
			t, status, _, msg = runner.run(c, [time_bin, "-f", "%M"] + c.argv(cmd))
			lines = msg.strip().splitlines()
			if t is not None and status == 0 and lines and lines[-1].isdigit():
				kb[c.name].append(int(lines[-1]))
	out = {}
	for c in contenders:
		if c.skipped:
			out[c.name] = {"skipped": c.skipped}
		elif kb[c.name]:
			out[c.name] = {"median_kb": statistics.median(kb[c.name]), "max_kb": max(kb[c.name]),
				       "n": len(kb[c.name])}
		else:
			out[c.name] = {"error": "no measurement"}
	return out
