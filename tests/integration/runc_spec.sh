#!/bin/bash
# Bundles written by `runc spec`, edited to a real rootfs (process.terminal
# false, the host's /usr bound read-only), under nscell-runtime: the same
# view as under runc, fact by fact (identity, capabilities, no_new_privs,
# rlimits, hostname, environment, each mount point and whether it is
# read-only, the device nodes, masked and read-only paths), less the
# differences README.md documents; and a field nscell does not support:
# exit 2 and one line naming it.  As root with runc (SKIP without).
. "${SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
scratch

RUNTIME=${NSCELL_RUNTIME:-$BUILDDIR/nscell-runtime}
# edit FILE CODE [ARG...]: python on config.json in place (c; the ARGs in a)
edit() {
	/usr/bin/python3 -c "import json,sys; f=sys.argv[1]; a=sys.argv[2:]; c=json.load(open(f)); $2; json.dump(c, open(f, 'w'), indent=2)" "$1" "${@:3}"
}
run_timed() { "$@" & wait_for $! 60; }

if ! is_root; then
	skip "runc spec bundles: need root (runc spec's config runs as root without a user namespace)"
	done_testing
fi
if ! command -v runc >/dev/null; then
	skip "runc spec bundles: runc is not installed"
	done_testing
fi
IDS=""
cleanup() {
	for id in $IDS; do runc delete -f "$id" >/dev/null 2>&1; done
	rm -rf "$SCRATCH"
}
trap cleanup EXIT

# What the process sees, one fact a line ("KEY: value").
PROBE="$(cat <<'EOS'
top() { # "ro|rw TYPE" of the last mount at $1 in mountinfo, or "none"
	r=none
	while read -r id par dev root mp opts rest; do
		[ "$mp" = "$1" ] || continue
		fs=${rest#*- }; fs=${fs%% *}
		case ",$opts," in *,ro,*) r="ro $fs" ;; *) r="rw $fs" ;; esac
	done < /proc/self/mountinfo
	echo "$r"
}
below_ro() { # every mount below $1 read-only: yes or no
	r=yes
	while read -r id par dev root mp opts rest; do
		case "$mp" in "$1"/*) case ",$opts," in *,ro,*) ;; *) r=no ;; esac ;; esac
	done < /proc/self/mountinfo
	echo "$r"
}
echo "id: $(id)"
grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' /proc/self/status | sed 's/:\t*/: /'
echo "nofile: $(ulimit -Sn) $(ulimit -Hn)"
echo "core: $(ulimit -Sc) $(ulimit -Hc)"
echo "nproc: $(grep '^Max processes' /proc/self/limits)"
echo "hostname: $(hostname)"
echo "cwd: $(pwd) umask: $(umask)"
echo "env: $(env | sort | tr '\n' ' ')"
echo "lo flags: $(cat /sys/class/net/lo/flags)"
for m in / /usr /dev /dev/pts /dev/shm /dev/mqueue /proc /sys /proc/bus /proc/fs /proc/irq \
	/proc/sys /proc/acpi /proc/asound /proc/scsi /sys/firmware; do
	echo "mount $m: $(top $m)"
done
echo "mount /sys/fs/cgroup: $(top /sys/fs/cgroup | cut -d' ' -f2)"
echo "cgroup mounts below: read-only $(below_ro /sys/fs/cgroup)"
touch /sys/fs/cgroup/x 2>/dev/null && echo "cgroup top: writable" || echo "cgroup top: not writable"
EOS
)
$RUNC_PROBE_DEV
$(cat <<'EOS'
for p in /proc/bus /proc/fs /proc/irq /proc/sys /proc/sysrq-trigger /; do
	( : > "$p/nscell-probe" ) 2>/dev/null && echo "readonly $p: writable" || echo "readonly $p: not writable"
done
EOS
)"

# ---- the bundle, as issue 10's reproduction makes it ----

B=$SCRATCH/b
runc_spec_bundle "$B"
cp "$B/config.json" "$SCRATCH/spec.json"
edit "$B/config.json" "c['process']['terminal'] = False; c['process']['args'] = ['sh', '-c', a[0]]
c['mounts'].append({'destination': '/usr', 'type': 'bind', 'source': '/usr', 'options': ['rbind', 'ro']})" "$PROBE"
cp "$B/config.json" "$SCRATCH/edited.json"
check "the edited runc spec config validates against the runtime spec's schema" oci_validate "$B/config.json"

# run_both NAME TAG: the probe under runc (rout) and under nscell-runtime (nout)
run_both() {
	IDS="$IDS rs-r-$2-$$"
	rout=$(run_timed runc run -b "$B" "rs-r-$2-$$" 2>&1); rrc=$?
	nout=$(run_timed "$RUNTIME" run -b "$B" "rs-n-$2-$$" 2>&1); nrc=$?
	[ "$rrc" = 0 ] && [ "$nrc" = 0 ] && ok "$1: runs under runc and nscell-runtime" ||
		{ fail "$1: exit $rrc under runc, $nrc under nscell-runtime"; diag "runc: $rout" "nscell: $nout"; }
}

run_both "runc spec" spec
contains "runc spec: runc's view is the one expected (its three capabilities)" "$rout" "CapPrm: 0000000020000420"
same_as_runc "id: uid 0, gid 0, no other group" '^id: '
same_process_as_runc
same_as_runc "network namespace: lo up" '^lo flags: '
for m in / /usr /dev /dev/pts /dev/shm /dev/mqueue /proc /sys; do
	same_as_runc "mount $m: there, its type, read-only or not" "^mount $m: "
done
same_as_runc "/sys/fs/cgroup: a mount point" '^mount /sys/fs/cgroup: '
same_as_runc "/sys/fs/cgroup: the hierarchies below read-only" '^cgroup mounts below: '
same_as_runc "/sys/fs/cgroup: not writable" '^cgroup top: '
same_as_runc "the device nodes and links in /dev and /dev/pts" '^dev '
for p in /proc/acpi /proc/asound /proc/kcore /proc/keys /proc/latency_stats /proc/timer_list \
	/proc/timer_stats /proc/sched_debug /sys/firmware /proc/scsi; do
	same_as_runc "masked $p: empty or missing" "^masked $p: "
	printf '%s\n' "$nout" | grep -E "^masked $p: (missing|a directory of 0 entries|.*, 0 bytes)$" \
		>/dev/null && ok "masked $p: nothing shows" || fail "masked $p: something shows"
done
for m in /proc/acpi /sys/firmware; do same_as_runc "masked $m: an empty read-only tmpfs" "^mount $m: "; done
for p in /proc/bus /proc/fs /proc/irq /proc/sys; do
	same_as_runc "readonly $p: a read-only mount" "^mount $p: "
	same_as_runc "readonly $p: not writable" "^readonly $p: "
done
same_as_runc "/proc/sysrq-trigger: not writable" '^readonly /proc/sysrq-trigger: '
same_as_runc "root.readonly: / not writable" '^readonly /: '
# documented: the shim's TIOCSTI filter is always on
contains "nscell-runtime: the TIOCSTI filter, whatever the config says" "$nout" "Seccomp: 2"
diff <(printf '%s\n' "$rout" | grep -v '^Seccomp') <(printf '%s\n' "$nout" | grep -v '^Seccomp') \
	>"$SCRATCH/diff" && ok "runc spec: every other fact the same" ||
	{ fail "runc spec: facts differ"; diag "$(cat "$SCRATCH/diff")"; }

# ---- another user, inheritable and ambient capabilities, more limits ----

edit "$B/config.json" "c['process']['user'] = {'uid': 65534, 'gid': 65534, 'additionalGids': [27]}
k = c['process']['capabilities']; k['inheritable'] = ['CAP_KILL', 'CAP_NET_BIND_SERVICE']
c['process']['rlimits'] += [{'type': 'RLIMIT_CORE', 'soft': 0, 'hard': 18446744073709551615},
                            {'type': 'RLIMIT_NPROC', 'soft': 100, 'hard': 200}]"
check "uid 65534 with ambient capabilities: the config validates" oci_validate "$B/config.json"
run_both "uid 65534" user
contains "uid 65534: runc raises the ambient set" "$rout" "CapAmb: 0000000000000420"
same_as_runc "uid 65534: id and additionalGids" '^id: '
for k in CapPrm CapEff CapBnd CapAmb CapInh; do same_as_runc "uid 65534: $k" "^$k: "; done
same_as_runc "uid 65534: RLIMIT_CORE unlimited hard" '^core: '
same_as_runc "uid 65534: RLIMIT_NPROC" '^nproc: '
diff <(printf '%s\n' "$rout" | grep -v '^Seccomp') <(printf '%s\n' "$nout" | grep -v '^Seccomp') \
	>"$SCRATCH/diff" && ok "uid 65534: every other fact the same" ||
	{ fail "uid 65534: facts differ"; diag "$(cat "$SCRATCH/diff")"; }

# ---- what nscell does not support: exit 2, one line naming the field ----

N=$SCRATCH/neg
mkdir -p "$N"
ln -s "$B/rootfs" "$N/rootfs"
# refused DESCRIPTION NEEDLE CODE: the edited runc spec config changed by CODE
refused() {
	cp "$SCRATCH/edited.json" "$N/config.json"
	edit "$N/config.json" "$3"
	local out err rc
	out=$("$RUNTIME" run -b "$N" "rs-neg-$$" 2>"$SCRATCH/err"); rc=$?
	err=$(cat "$SCRATCH/err")
	if [ "$rc" = 2 ] && [ -z "$out" ] && [ "$(printf '%s\n' "$err" | wc -l)" = 1 ]; then
		contains "refused: $1" "$err" "$2"
	else
		fail "refused: $1: exit $rc, stdout '$out'"; diag "$err"
	fi
}
refused "a terminal size beyond 16 bits" "config.json: process.consoleSize: 70000 x 80: at most 65535" \
	"c['process']['terminal'] = True; c['process']['consoleSize'] = {'height': 70000, 'width': 80}"
refused "an unknown capability" "process.capabilities.bounding[3]: 'CAP_NOPE' is not a capability" \
	"c['process']['capabilities']['bounding'].append('CAP_NOPE')"
refused "an effective capability not permitted" \
	"process.capabilities.effective: 'CAP_SYS_ADMIN' is not in permitted" \
	"c['process']['capabilities']['effective'].append('CAP_SYS_ADMIN')"
refused "an unknown rlimit" "process.rlimits[0].type: 'RLIMIT_NOPE' is not a limit" \
	"c['process']['rlimits'][0]['type'] = 'RLIMIT_NOPE'"
refused "an rlimit's soft above its hard" "process.rlimits[0]: soft 2048 is above hard 1024" \
	"c['process']['rlimits'][0]['soft'] = 2048"
refused "a device rule that allows" "linux.resources.devices[0]: only {\"allow\": false" \
	"c['linux']['resources']['devices'][0]['allow'] = True"
refused "more device rules" "linux.resources.devices: only [{\"allow\": false" \
	"c['linux']['resources']['devices'].append({'allow': True, 'type': 'c', 'major': 1, 'minor': 3, 'access': 'rwm'})"
refused "a memory limit without cgroupsPath" "linux.cgroupsPath: missing" \
	"c['linux']['resources']['memory'] = {'limit': 1 << 28}"
refused "sysctl" "linux.sysctl: not supported by nscell" \
	"c['linux']['sysctl'] = {'net.ipv4.ip_forward': '1'}"
refused "a seccomp filter of its own" "linux.seccomp.defaultAction: 'SCMP_ACT_ERRNO' not supported" \
	"c['linux']['seccomp'] = {'defaultAction': 'SCMP_ACT_ERRNO'}"
refused "a cgroup mount that is not read-only" "mounts[6].options: 'ro' missing" \
	"c['mounts'][6]['options'].remove('ro')"
refused "a cgroup mount with a cgroup namespace" "mounts[6].type: a cgroup mount in a cgroup namespace" \
	"c['linux']['namespaces'].append({'type': 'cgroup'})"
refused "a sysfs option runc spec does not write" "mounts[5].options: 'noatime' not supported by nscell on a sysfs mount" \
	"c['mounts'][5]['options'].append('noatime')"
refused "devpts without gid=5 after runc's /dev" "mounts[2].options: 'gid=5' missing" \
	"c['mounts'][2]['options'].remove('gid=5')"
refused "an overlay mount" "mounts[7].type: mount type 'overlay' not supported by nscell" \
	"c['mounts'][7]['type'] = 'overlay'"
refused "joining a namespace" "linux.namespaces[0].path: not supported by nscell" \
	"c['linux']['namespaces'][0]['path'] = '/proc/1/ns/pid'"
refused "an AppArmor profile" "process.apparmorProfile: not supported by nscell" \
	"c['process']['apparmorProfile'] = 'x'"
refused "runc spec --rootless's /sys bind (type none)" "mounts[5].type: mount type 'none' not supported" \
	"c['mounts'][5] = {'destination': '/sys', 'type': 'none', 'source': '/sys', 'options': ['rbind', 'nosuid', 'noexec', 'nodev', 'ro']}"

done_testing
