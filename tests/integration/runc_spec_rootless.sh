#!/bin/bash
# Bundles written by `runc spec --rootless` (issue 10), edited to a real
# rootfs (process.terminal false, the host's /usr bound read-only), run by
# an unprivileged user under nscell-runtime: the same view as under rootless
# runc, fact by fact (uid 0 of a user namespace mapped to the user, the
# maps, the spec's capabilities inside it, rlimits, hostname, environment,
# / listed, each mount point with its type and options, the device nodes,
# masked and read-only paths, the exit status), less the differences
# README.md documents, each asserted as documented.  Root sets up the user
# `rlspec1` and runs everything as it; SKIP without runc or when
# unprivileged user namespaces are refused.
. "${SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
scratch

RUNTIME=${NSCELL_RUNTIME:-$BUILDDIR/nscell-runtime}
U=rlspec1
# edit FILE CODE [ARG...]: python on config.json in place (c; the ARGs in a)
edit() {
	as_user $U /usr/bin/python3 -c "import json,sys; f=sys.argv[1]; a=sys.argv[2:]; c=json.load(open(f)); $2; json.dump(c, open(f, 'w'), indent=2)" "$1" "${@:3}"
}
run_timed() { "$@" & wait_for $! 60; }

if ! command -v runc >/dev/null; then
	skip "runc spec --rootless bundles: runc is not installed"
	done_testing
fi
require_users "runc spec --rootless bundles" $U
if ! as_user $U unshare -Urm true 2>/dev/null; then
	skip "runc spec --rootless bundles: unprivileged user namespaces are refused here"
	done_testing
fi
IDS=""
cleanup() {
	for id in $IDS; do as_user $U runc --root "$SCRATCH/runc-root" delete -f "$id" >/dev/null 2>&1; done
	rm -rf "$SCRATCH"
}
trap cleanup EXIT

# What the process sees, one fact a line ("KEY: value"); every mount point
# once, with the type, per-mount and filesystem options of its top mount.
PROBE="$(cat <<'EOS'
echo "id: $(id)"
echo "uid_map:" $(cat /proc/self/uid_map)
echo "gid_map:" $(cat /proc/self/gid_map)
echo "setgroups: $(cat /proc/self/setgroups)"
grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' /proc/self/status | sed 's/:\t*/: /'
echo "nofile: $(ulimit -Sn) $(ulimit -Hn)"
echo "hostname: $(hostname)"
echo "cwd: $(pwd) umask: $(umask)"
echo "env: $(env | sort | tr '\n' ' ')"
for f in /* /.[!.]*; do
	[ -e "$f" ] || [ -L "$f" ] || continue
	echo "ls $(stat -c '%n %F %u:%g %a' "$f")$([ -L "$f" ] && echo " -> $(readlink "$f")")"
done
n=0
while read -r id par dev root mp opts rest; do
	fs=${rest#*- }; set -- $fs; n=$((n + 1))
	echo "$n mount $mp: $1 $opts $3"
done < /proc/self/mountinfo | sort -k1,1nr | cut -d' ' -f2- | sort -s -u -t: -k1,1
EOS
)
$RUNC_PROBE_DEV
$(cat <<'EOS'
for p in /proc/bus /proc/fs /proc/irq /proc/sys /proc/sysrq-trigger / /sys /usr /sys/fs/cgroup; do
	( : > "$p/nscell-probe" ) 2>/dev/null && echo "readonly $p: writable" || echo "readonly $p: not writable"
done
echo "write /dev/shm: $(: > /dev/shm/x 2>/dev/null && echo yes || echo no)"
echo "mknod: $(mknod /dev/shm/n c 1 3 2>/dev/null && echo yes || echo no)"
exit 3
EOS
)"

# ---- the bundle, as issue 10's reproduction makes it ----

B=$SCRATCH/b
mkdir -p "$B"/rootfs/usr "$B"/rootfs/proc "$B"/rootfs/dev "$B"/rootfs/sys "$B"/rootfs/tmp "$B"/rootfs/etc
for d in bin lib lib64 sbin; do ln -s usr/$d "$B/rootfs/$d"; done
mkdir -p "$SCRATCH/runc-root" "$SCRATCH/nscell-root"
chown -R $U: "$B" "$SCRATCH/runc-root" "$SCRATCH/nscell-root"
if ! (cd "$B" && as_user $U runc spec --rootless) 2>"$SCRATCH/spec.err"; then
	fail "runc spec --rootless writes a config"; diag "$(cat "$SCRATCH/spec.err")"
	done_testing
fi
spec=$(cat "$B/config.json")
contains "runc spec --rootless maps container 0 to the user" "$spec" "\"hostID\": $(id -u $U)"
contains "runc spec --rootless binds /sys (type none)" "$spec" '"type": "none"'
lacks "runc spec --rootless: devpts without gid=5" "$spec" '"gid=5"'
edit "$B/config.json" "c['process']['terminal'] = False; c['process']['args'] = ['sh', '-c', a[0]]
c['mounts'].append({'destination': '/usr', 'type': 'bind', 'source': '/usr', 'options': ['rbind', 'ro']})" "$PROBE"
cp "$B/config.json" "$SCRATCH/edited.json"
check "the edited runc spec --rootless config validates against the runtime spec's schema" \
	oci_validate "$B/config.json"

# run_both NAME TAG STATUS [NSCELL_STATUS]: the bundle under runc (rout)
# and nscell-runtime (nout), as the user, exiting with STATUS (under
# nscell-runtime NSCELL_STATUS when given)
run_both() {
	IDS="$IDS rr-r-$2-$$"
	rout=$(cd / && run_timed as_user $U runc --root "$SCRATCH/runc-root" run -b "$B" "rr-r-$2-$$" 2>&1); rrc=$?
	nout=$(cd / && run_timed as_user $U "$RUNTIME" --root "$SCRATCH/nscell-root" run -b "$B" "rr-n-$2-$$" 2>&1); nrc=$?
	[ "$rrc" = "$3" ] && [ "$nrc" = "${4:-$3}" ] && ok "$1: exit status $3 under runc, ${4:-$3} under nscell-runtime" ||
		{ fail "$1: exit $rrc under runc, $nrc under nscell-runtime (wanted $3, ${4:-$3})"; diag "runc: $rout" "nscell: $nout"; }
}

run_both "runc spec --rootless" spec 3
uid=$(id -u $U) gid=$(id -g $U)
contains "runc's view is the one expected: uid 0 mapped to the user" "$rout" "uid_map: 0 $uid 1"
same_as_runc "id: uid 0, gid 0 in the user namespace" '^id: '
same_as_runc "uid_map: 0 mapped to the user" '^uid_map: '
same_as_runc "gid_map: 0 mapped to the user's group" '^gid_map: '
same_as_runc "setgroups denied" '^setgroups: '
contains "capabilities: the spec's three inside the user namespace" "$rout" "CapPrm: 0000000020000420"
same_process_as_runc
same_as_runc "ls /: names, types, owners, modes, links" '^ls '
r=$(printf '%s\n' "$rout" | grep '^mount ' | cut -d: -f1); n=$(printf '%s\n' "$nout" | grep '^mount ' | cut -d: -f1)
[ -n "$r" ] && [ "$r" = "$n" ] && ok "mount points: the same set" ||
	{ fail "mount points differ"; diag "$(diff <(echo "$r") <(echo "$n"))"; }
for m in /dev /dev/pts /dev/shm /dev/mqueue /sys /proc/acpi /sys/firmware; do
	same_as_runc "mount $m: type, per-mount and filesystem options" "^mount $m: "
done
contains "devpts: no gid=5 (runc's rootless /dev)" "$nout" "mount /dev/pts: devpts rw,nosuid,noexec,relatime rw,mode=620,ptmxmode=666"
contains "/sys: the host's sysfs bound, top mount read-only, nosuid, nodev, noexec" "$nout" \
	"mount /sys: sysfs ro,nosuid,nodev,noexec,relatime"
same_as_runc "the device nodes and links in /dev and /dev/pts" '^dev '
for p in /proc/acpi /proc/asound /proc/kcore /proc/keys /proc/latency_stats /proc/timer_list \
	/proc/timer_stats /proc/sched_debug /sys/firmware /proc/scsi; do
	same_as_runc "masked $p: empty or missing" "^masked $p: "
done
for p in /proc/bus /proc/fs /proc/irq /proc/sys /proc/sysrq-trigger / /sys /usr; do
	same_as_runc "readonly $p: not writable" "^readonly $p: "
done
same_as_runc "/dev/shm writable" '^write /dev/shm: '
same_as_runc "mknod refused" '^mknod: '

# ---- the differences README.md documents, each as documented ----

# strip LINE FLAG...: LINE ("mount MP: TYPE OPTS SUPER") without FLAGs in OPTS
strip() {
	local line=$1 head opts rest f
	shift
	head=${line%%: *}; rest=${line#*: }
	local type=${rest%% *}; rest=${rest#* }
	opts=",${rest%% *},"; rest=${rest#* }
	for f; do opts=${opts//,$f,/,}; done
	opts=${opts#,}; echo "$head: $type ${opts%,} $rest"
}
# documented MP DESCRIPTION FLAG...: at MP nscell's top mount has FLAGs
# and is otherwise runc's (MP is left out of "every other fact" below)
DOCUMENTED="mount /sys/fs/cgroup"
documented() {
	local mp=$1 desc=$2 r n f
	shift 2
	DOCUMENTED="$DOCUMENTED
mount $mp: "
	r=$(printf '%s\n' "$rout" | grep -E "^mount $mp: ")
	n=$(printf '%s\n' "$nout" | grep -E "^mount $mp: ")
	for f; do
		case " ${n#*: } " in *[\ ,]$f[,\ ]*) ;; *) fail "documented: $mp: $desc: '$f' missing"; diag "$n"; return ;; esac
	done
	if [ -n "$r" ] && [ "$(strip "$r" "$@")" = "$(strip "$n" "$@")" ]; then
		ok "documented: $mp: $desc"
	else
		fail "documented: $mp: $desc"; diag "runc: $r" "nscell: $n"
	fi
}
documented / "the rootfs is bound nosuid, nodev" nosuid nodev
documented /usr "binds are nosuid" nosuid
documented /proc "proc is mounted nosuid, nodev, noexec" nosuid nodev noexec
for p in /proc/bus /proc/fs /proc/irq /proc/sys; do
	documented $p "proc's read-only paths nosuid, nodev, noexec (as proc)" nosuid nodev noexec
done
for d in /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty /proc/keys /proc/timer_list; do
	printf '%s\n' "$rout" | grep -q "^mount $d: " || continue
	documented $d "a device node bound nosuid, noexec" nosuid noexec
done
# below the /sys bind (not /sys/fs/cgroup): the host's mounts, nosuid and nodev
for mp in $(printf '%s\n' "$rout" | sed -n 's|^mount \(/sys/[^:]*\):.*|\1|p'); do
	case $mp in /sys/fs/cgroup|/sys/fs/cgroup/*|/sys/firmware) continue ;; esac
	documented "$mp" "a host mount below the /sys bind: nosuid, nodev" nosuid nodev
done
# /sys/fs/cgroup: the host's tree read-only, where runc mounts its own
# (cgroup v1: a tmpfs, writable by the container's root, of read-only
# binds of the hierarchies, the caller's own cgroup in each)
n=$(printf '%s\n' "$nout" | grep -E '^mount /sys/fs/cgroup(/|:)')
r=$(printf '%s\n' "$rout" | grep '^mount /sys/fs/cgroup: ' | cut -d' ' -f1-3)
[ -n "$r" ] && [ "$r" = "$(printf '%s\n' "$n" | grep '^mount /sys/fs/cgroup: ' | cut -d' ' -f1-3)" ] &&
	ok "documented: /sys/fs/cgroup: a mount point of the same type under both ($r)" ||
	{ fail "documented: /sys/fs/cgroup: a mount point of the same type under both"; diag "$r" "$n"; }
lacks "documented: /sys/fs/cgroup: under nscell every mount there read-only" \
	"$(printf '%s\n' "$n" | cut -d' ' -f4)" "rw"
contains "documented: /sys/fs/cgroup: not writable under nscell" "$nout" "readonly /sys/fs/cgroup: not writable"
if [ "$(stat -f -c %T /sys/fs/cgroup)" = tmpfs ]; then
	contains "documented: /sys/fs/cgroup: runc's (cgroup v1) a tmpfs the container's root writes" \
		"$rout" "readonly /sys/fs/cgroup: writable"
else
	skip "documented: /sys/fs/cgroup: runc's cgroup v1 tmpfs (the host has cgroup v2)"
fi
contains "documented: nscell-runtime: the TIOCSTI filter, whatever the config says" "$nout" "Seccomp: 2"
# everything else the same
normal() {
	local line
	while IFS= read -r line; do
		case $line in Seccomp:*|"readonly /sys/fs/cgroup:"*) continue ;; esac
		case $line in "mount /sys/fs/cgroup/"*) continue ;; esac
		printf '%s\n' "$DOCUMENTED" | grep -qxF "${line%%: *}: " && continue
		case $line in "mount /sys/fs/cgroup:"*) continue ;; esac
		printf '%s\n' "$line"
	done
}
diff <(printf '%s\n' "$rout" | normal) <(printf '%s\n' "$nout" | normal) >"$SCRATCH/diff" &&
	ok "runc spec --rootless: every other fact the same" ||
	{ fail "runc spec --rootless: facts differ"; diag "$(cat "$SCRATCH/diff")"; }

# ---- exit statuses: a child killed, the command killing itself ----

edit "$B/config.json" "c['process']['args'] = ['sh', '-c', 'sh -c \\'kill -KILL \$\$\\'; exit \$?']"
run_both "a child killed by SIGKILL, its status passed on" kill 137
# documented (pid 1): under runc the command is its pid namespace's init,
# and the kernel drops a signal without a handler it sends itself; under
# nscell-runtime pid 1 is the shim's init and the command dies of it
edit "$B/config.json" "c['process']['args'] = ['sh', '-c', 'kill -KILL \$\$; echo alive']"
run_both "documented: the command's SIGKILL to itself (pid 1 under runc only)" self 0 137

# ---- HOME from the rootfs's /etc/passwd: uid 0's entry, as runc looks it up ----

printf 'root:x:0:0:root:/root:/bin/sh\n%s:x:%s:%s::/home/u:/bin/sh\n' $U "$(id -u $U)" "$(id -g $U)" \
	>"$B/rootfs/etc/passwd"
chown $U: "$B/rootfs/etc/passwd"
edit "$B/config.json" "c['process']['args'] = ['sh', '-c', 'echo HOME=\$HOME']"
run_both "a rootfs with a passwd" home 0
contains "HOME: runc's is root's home" "$rout" "HOME=/root"
same_as_runc "HOME: the entry of uid 0 in the rootfs's /etc/passwd" '^HOME='
rm -f "$B/rootfs/etc/passwd"

# ---- process.terminal: a pty of the container's devpts, the uid 0's ----

if [ -x /usr/bin/python3 ]; then
	edit "$B/config.json" "c['process']['terminal'] = True
c['process']['args'] = ['sh', '-c', 'echo; echo tty: \$(tty); stat -c \"pty owner %u, mode %a\" \$(tty); exit 4']"
	# tty_run RUNTIME ROOT ID: a foreground run on a pty of its own, which
	# nothing writes to (script(1) writes its EOF there)
	tty_run() {
		/usr/bin/python3 "$SRCDIR/tests/attack/pty_run.py" 30 setpriv --reuid=$U --regid=$U \
			--init-groups --inh-caps=-all --bounding-set=-all -- "$1" --root "$2" run -b "$B" "$3" \
			</dev/null 2>&1 | tr -d '\r'
		return "${PIPESTATUS[0]}"
	}
	IDS="$IDS rr-r-tty-$$"
	rout=$(cd / && run_timed tty_run runc "$SCRATCH/runc-root" "rr-r-tty-$$"); rrc=$?
	nout=$(cd / && run_timed tty_run "$RUNTIME" "$SCRATCH/nscell-root" "rr-n-tty-$$"); nrc=$?
	[ "$rrc" = 4 ] && [ "$nrc" = 4 ] && ok "terminal: exit status 4 under both" ||
		{ fail "terminal: exit $rrc under runc, $nrc under nscell-runtime"; diag "runc: $rout" "nscell: $nout"; }
	contains "terminal: runc's view is the one expected" "$rout" "/dev/pts/0"
	same_as_runc "terminal: the pty, /dev/pts/0" '^tty: '
	same_as_runc "terminal: owned by uid 0 of the user namespace" '^pty owner '
else
	skip "terminal: python3 is not installed"
fi

# ---- what stays refused, as the user: exit 2, one line naming the field ----

N=$SCRATCH/neg
mkdir -p "$N"
ln -s "$B/rootfs" "$N/rootfs"
chown -R $U: "$N"
refused() {
	cp "$SCRATCH/edited.json" "$N/config.json"
	chown $U: "$N/config.json"
	edit "$N/config.json" "$3"
	local out err rc
	out=$(cd / && as_user $U "$RUNTIME" --root "$SCRATCH/nscell-root" run -b "$N" "rr-neg-$$" 2>"$SCRATCH/err"); rc=$?
	err=$(cat "$SCRATCH/err")
	if [ "$rc" = 2 ] && [ -z "$out" ] && [ "$(printf '%s\n' "$err" | wc -l)" = 1 ]; then
		contains "refused: $1" "$err" "$2"
	else
		fail "refused: $1: exit $rc, stdout '$out'"; diag "$err"
	fi
}
refused "devpts with gid=5 in a user namespace (not mapped there)" \
	"mounts[2].options: 'gid=5' not supported by nscell on a devpts mount" \
	"c['mounts'][2]['options'].append('gid=5')"
refused "a bind of type none other than runc's /sys" \
	"mounts[5].type: mount type 'none' not supported by nscell (only as runc spec --rootless's /sys bind" \
	"c['mounts'][5]['source'] = '/proc'"
refused "runc's /sys bind with other options" "mounts[5].type: mount type 'none' not supported" \
	"c['mounts'][5]['options'].remove('noexec')"
refused "a bundle made for another user" "a rootless bundle made for itself" \
	"c['linux']['uidMappings'][0]['hostID'] += 1"

done_testing
