#!/bin/bash
# Resource attacks: a fork bomb inside a sandbox launched with -c and a
# pids_max (contained by the pids cgroup, cleaned up with the sandbox),
# and huge templates (100,000 lines; one 1 MiB line) that must not
# exhaust nscell or the shim: they fail or succeed cleanly within a time
# and a memory limit.  Without -c there is no resource limit (README,
# Security): no bomb is run without one.
. "${SRCDIR:-$(dirname "$0")/../..}/tests/attack/escape_lib.sh"
escape_setup "resource attacks"

PARENT=nscell-esc-test
cgdirs() { ls -d /sys/fs/cgroup/*/$PARENT /sys/fs/cgroup/$PARENT 2>/dev/null; }
cleanup() {
	local d
	for d in $(cgdirs); do
		rmdir "$d"/nscell-* "$d" 2>/dev/null
	done
	rm -rf "$SCRATCH"
}
trap cleanup EXIT
printf 'pids_max = 40\ncgroup_parent = %s\n' $PARENT > "$SCRATCH/pids.conf"
# the limit's own file: v1 pids hierarchy or the unified one
pids_dir() {
	if [ -d /sys/fs/cgroup/pids/$PARENT ]; then
		echo /sys/fs/cgroup/pids/$PARENT/nscell-$UID1
	else
		echo /sys/fs/cgroup/$PARENT/nscell-$UID1
	fi
}

# ---- the fork bomb, root mode (cgroups are root's)
out=$(timeout 120 "$SHIM" -u $U -C "$SCRATCH/pids.conf" -c -- /usr/bin/python3 -c '
import os, time
made = failed = 0
for i in range(2000):
    try:
        if os.fork() == 0:
            time.sleep(60)
            os._exit(0)
        made += 1
    except OSError:
        failed += 1
print("made", made, "failed", failed)' 2>&1); rc=$?
[ $rc != 124 ] && ok "[root] a bounded fork loop under pids_max=40 ends" || fail "[root] fork loop timed out"
made=$(printf '%s\n' "$out" | sed -n 's/^made \([0-9]*\) failed \([0-9]*\)$/\1/p')
failed=$(printf '%s\n' "$out" | sed -n 's/^made \([0-9]*\) failed \([0-9]*\)$/\2/p')
[ -n "$made" ] && [ "$made" -lt 40 ] && [ "$failed" -gt 0 ] &&
	ok "[root] it made $made processes before fork failed (pids_max=40)" || { fail "[root] fork loop: $out"; }
[ "$(cat "$(pids_dir)/pids.max" 2>/dev/null)" = 40 ] && ok "[root] pids.max is 40 in the user's cgroup" ||
	fail "[root] pids.max: $(cat "$(pids_dir)/pids.max" 2>&1)"
# the real thing: recursive, unbounded, stopped by the limit; the command
# (the shell) ends after 5 s and the pid namespace takes the rest with it
start=$(date +%s)
out=$(timeout 120 "$SHIM" -u $U -C "$SCRATCH/pids.conf" -c -- /bin/sh -c \
	'bomb() { bomb | bomb & }; bomb; sleep 5' 2>&1); rc=$?
end=$(date +%s)
[ $rc != 124 ] && ok "[root] a fork bomb under pids_max ends with its command ($((end - start)) s)" ||
	fail "[root] the fork bomb timed out"
events=$(cat "$(pids_dir)/pids.events" 2>/dev/null)
contains "[root] the pids limit was hit (pids.events)" "$events" "max "
left=$(cat "$(pids_dir)/pids.current" 2>/dev/null)
for _ in $(seq 50); do [ "${left:-0}" = 0 ] && break; sleep 0.1; left=$(cat "$(pids_dir)/pids.current" 2>/dev/null); done
[ "${left:-0}" = 0 ] && ok "[root] no process of the bomb outlives the sandbox" || fail "[root] $left processes left in the cgroup"

if [ "$ROOTLESS" = yes ]; then
	# an unprivileged caller cannot make cgroups (no delegation here): -c
	# must fail before anything runs, never run unlimited
	out=$(as_user $U "$SHIM" -C "$SCRATCH/pids.conf" -c -- /bin/echo RAN 2>&1); rc=$?
	if [ $rc = 0 ]; then
		contains "[user] -c works unprivileged (delegated cgroup)" "$out" "RAN"
	else
		[ $rc = 2 ] && ok "[user] -c without cgroup rights: refused, exit 2" || fail "[user] -c: exit $rc"
		lacks "[user] ... and the command did not run without its limit" "$out" "RAN"
		[ "$(printf '%s\n' "$out" | wc -l)" = 1 ] && ok "[user] ... one line saying why" || { fail "[user] -c error"; diag "$out"; }
	fi
fi

# ---- huge templates
python3 - "$SCRATCH" <<'PY'
import sys
d = sys.argv[1]
with open(d + "/huge.tpl", "w") as f:
    # entries that always make it into the plan, with or without a look
    # at the sources: directories and symlinks
    f.write("# 100,000 lines\n")
    for i in range(49999):
        f.write("/opt/d%d,dir\n" % i)
        f.write("/usr/bin/env /opt/l%d,symlink\n" % i)
with open(d + "/longline.tpl", "w") as f:
    f.write("/usr/share /" + "x" * (1 << 20) + ",ro-bind\n")
with open(d + "/longpath.tpl", "w") as f:
    f.write("/usr/share /" + "/".join(["d"] * (1 << 19)) + ",ro-bind\n")
PY
[ "$(wc -l < "$SCRATCH/huge.tpl")" = 99999 ] && ok "huge.tpl has 100,000 lines" || fail "huge.tpl: $(wc -l < "$SCRATCH/huge.tpl") lines"
# ASan reserves terabytes of address space: no ulimit -v there
if strings "$NSCELL_SHIM" 2>/dev/null | grep -q __asan_init; then
	vlimit=unlimited
	diag "sanitizer build: no address-space limit (ASan needs it)"
else
	vlimit=$((512 * 1024)) # KiB: 512 MiB
fi
# bounded CMD...: exit status of CMD under the limits (124: too slow)
bounded() { ( ulimit -v $vlimit; exec timeout $limit "$@" ); }

# 100,000 entries are a few seconds of work (parse, sort, 100,000 mkdir)
limit=10
out=$(bounded "$NSCELL" check -u $U -2 "$SCRATCH/huge.tpl" 2>&1); rc=$?
held=no
[ $rc = 0 ] || [ $rc = 1 ] && held=yes
[ $held = yes ] && ok "nscell check of 100,000 lines: a clean answer within $limit s and 512 MiB" ||
	fail "nscell check of 100,000 lines: exit $rc (124: too slow)"
for m in $MODES; do
	t="[$m]"
	limit=10
	if [ $m = root ]; then
		out=$(bounded "$SHIM" -u $U -2 "$SCRATCH/huge.tpl" -- /bin/true 2>&1); rc=$?
	else
		out=$(bounded setpriv --reuid=$U --regid=$U --init-groups --inh-caps=-all --bounding-set=-all \
			"$SHIM" -2 "$SCRATCH/huge.tpl" -- /bin/true 2>&1); rc=$?
	fi
	held=no
	[ $rc = 0 ] || [ $rc = 2 ] && held=yes
	[ $held = yes ] && ok "$t the shim with 100,000 lines: a clean answer within $limit s and 512 MiB" ||
		fail "$t the shim with 100,000 lines: exit $rc (124: too slow)"
	limit=20
	for f in longline longpath; do
		if [ $m = root ]; then
			out=$(bounded "$SHIM" -u $U -2 "$SCRATCH/$f.tpl" -- /bin/true 2>&1); rc=$?
		else
			out=$(bounded setpriv --reuid=$U --regid=$U --init-groups --inh-caps=-all --bounding-set=-all \
				"$SHIM" -2 "$SCRATCH/$f.tpl" -- /bin/true 2>&1); rc=$?
		fi
		[ $rc = 0 ] || [ $rc = 2 ] && ok "$t $f.tpl (1 MiB line): a clean answer within the limits (exit $rc)" ||
			fail "$t $f.tpl: exit $rc"
		[ "$(printf '%s\n' "$out" | wc -l)" -le 1 ] && ok "$t $f.tpl: at most one line of error" ||
			{ fail "$t $f.tpl: $(printf '%s\n' "$out" | wc -l) lines"; }
		[ $rc = 2 ] && ! printf '%s\n' "$out" | grep -q "$f.tpl:1" &&
			fail "$t $f.tpl: the error does not name the template line" ||
			ok "$t $f.tpl: the error names the template line"
	done
done
for f in longline longpath; do
	out=$(bounded "$NSCELL" check -u $U -2 "$SCRATCH/$f.tpl" 2>&1); rc=$?
	[ $rc = 0 ] || [ $rc = 1 ] && ok "nscell check of $f.tpl: a clean answer within the limits (exit $rc)" ||
		fail "nscell check of $f.tpl: exit $rc"
done

check_host_mounts "after the resource attacks"
done_testing
