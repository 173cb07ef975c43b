#!/bin/bash
# containerd drives nscell-runtime: a private containerd (its own config,
# socket, root and state under the scratch directory) and `ctr run
# --runc-binary nscell-runtime` of a rootfs exported by `nscell export`
# (the host's /usr bound in with --mount), compared with the same `ctr
# run` under runc where they should agree.  containerd's shim runs
# create, start, state, kill, ps and delete; it reaps the container's
# pid 1, so that must be its child once create has returned.  As root
# with containerd, ctr and runc (SKIP without).
. "${SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
scratch
: "${NSCELL_RUNTIME:=$BUILDDIR/nscell-runtime}"

if ! is_root; then
	skip "containerd: needs root (it runs containerd)"
	done_testing
fi
for tool in containerd ctr containerd-shim-runc-v2 runc; do
	if ! command -v $tool >/dev/null; then
		skip "containerd: $tool is not installed (apt-get install containerd runc)"
		done_testing
	fi
done

T=$SCRATCH
NS=nscell-ctd-$$            # containerd namespace: the cgroups are /$NS/ID
SOCK=$T/containerd.sock
had_run_containerd=false
[ -e /run/containerd ] && had_run_containerd=true
CTD_PID=

ctr_() { timeout 30 ctr --address "$SOCK" -n "$NS" "$@"; }
# run_with RUNTIME-BINARY ROOT [CTR-RUN-FLAGS...] ID CMD...: ctr run of the rootfs
run_with() {
	local bin=$1 root=$2 flags=()
	shift 2
	while [ "${1#-}" != "$1" ]; do flags+=("$1"); shift; done
	ctr_ run --fifo-dir "$T/fifo" --runc-binary "$bin" --runc-root "$root" "${MOUNTS[@]}" \
		"${flags[@]}" --rootfs "$ROOTFS" "$@"
}
nrun() { run_with "$NSCELL_RUNTIME" "$T/nscell-root" "$@"; }
rrun() { run_with "$(command -v runc)" "$T/runc-root" "$@"; }

cleanup() {
	if [ -n "$CTD_PID" ]; then
		for id in $(ctr_ task ls -q 2>/dev/null); do
			ctr_ task kill -s KILL "$id" >/dev/null 2>&1
			sleep 0.2
			ctr_ task rm -f "$id" >/dev/null 2>&1
		done
		for id in $(ctr_ c ls -q 2>/dev/null); do ctr_ c rm "$id" >/dev/null 2>&1; done
		ctr --address "$SOCK" namespaces rm "$NS" >/dev/null 2>&1
		kill "$CTD_PID" 2>/dev/null
		wait "$CTD_PID" 2>/dev/null
	fi
	rmdir /sys/fs/cgroup/*/"$NS" /sys/fs/cgroup/"$NS" 2>/dev/null
	$had_run_containerd || rmdir /run/containerd/s /run/containerd 2>/dev/null
	grep -q " $T" /proc/self/mountinfo && umount -R "$T"/* 2>/dev/null
	rm -rf "$SCRATCH"
}
trap cleanup EXIT

# ---- the rootfs: an exported bundle's, the host's /usr bound in ----

if ! "$NSCELL" export -u nobody --no-hooks -o "$T/b" -- /bin/true 2>"$T/err"; then
	fail "nscell export writes the bundle"; diag "$(cat "$T/err")"
	done_testing
fi
ROOTFS=$T/b/rootfs
echo marker >"$ROOTFS/nscell-ctd-marker"
MOUNTS=()
for d in usr bin sbin lib lib64; do
	[ -e "/$d" ] && [ -d "$ROOTFS/$d" ] &&
		MOUNTS+=(--mount "type=bind,src=/$d,dst=/$d,options=rbind:ro")
done

# ---- a private containerd ----

cat >"$T/config.toml" <<EOF
version = 2
root = "$T/root"
state = "$T/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$SOCK.ttrpc"
EOF
containerd --config "$T/config.toml" >"$T/containerd.log" 2>&1 &
CTD_PID=$!
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
if ! [ -S "$SOCK" ] || ! ctr_ version >/dev/null 2>&1; then
	fail "containerd starts on a private socket"; diag "$(tail -5 "$T/containerd.log")"
	done_testing
fi
ok "containerd starts on a private socket"

# ---- ctr run --rm: output, exit status ----

out=$(nrun --rm c1 /bin/sh -c 'echo hello from nscell; exit 3' 2>&1); rc=$?
contains "ctr run --runc-binary nscell-runtime: the output reaches ctr" "$out" "hello from nscell"
[ "$rc" = 3 ] && ok "ctr run: the exit status comes back as ctr's (3)" ||
	{ fail "ctr run: exit $rc, wanted 3"; diag "$out"; }
rout=$(rrun --rm c1 /bin/sh -c 'echo hello from nscell; exit 3' 2>&1); rrc=$?
[ "$rrc" = "$rc" ] && [ "$rout" = "$out" ] && ok "ctr run: same output and status under runc" ||
	{ fail "ctr run: runc gave $rrc ($rout)"; diag "$out"; }
[ -z "$(ctr_ c ls -q)" ] && ok "ctr run --rm: the container is removed" ||
	fail "ctr run --rm: left $(ctr_ c ls -q)"
[ -z "$(ls -A "$T/nscell-root/$NS" 2>/dev/null)" ] && ok "ctr run --rm: no state left under --runc-root" ||
	fail "ctr run --rm: left $(ls "$T/nscell-root/$NS")"

# ---- what the process sees, against runc on the same rootfs ----

probe='id; echo "sh:$$"; cat /nscell-ctd-marker; ls /; grep -E "^[0-9]+:devices:" /proc/self/cgroup
mknod /tmp/blk b 8 0 2>/dev/null && head -c1 /tmp/blk >/dev/null 2>&1 && echo disk-readable
grep -E "^Cap(Prm|Eff|Bnd)|^NoNewPrivs" /proc/self/status; cat /proc/1/cmdline >/dev/null 2>&1 && echo pid1-there
for n in pid mnt net ipc uts; do echo "ns $n $(readlink /proc/self/ns/$n)"; done'
nout=$(nrun --rm c2 /bin/sh -c "$probe" 2>&1)
rout=$(rrun --rm c2 /bin/sh -c "$probe" 2>&1)
same_as_runc "the same identity (id)" '^uid='
contains "the process sees the rootfs (a file put there)" "$nout" "marker"
same_as_runc "the same root directory (ls /)" '^(bin|dev|etc|lib|nscell-ctd-marker|proc|run|sys|tmp|usr|var)$'
same_as_runc "in containerd's cgroup, /$NS/ID (devices controller)" ':devices:'
lacks "a block device cannot be read (the devices cgroup, as under runc)" "$nout" "disk-readable"
same_as_runc "containerd's capabilities, no_new_privs" '^(Cap|NoNewPrivs)'
for n in pid mnt net ipc uts; do
	host=$(readlink /proc/self/ns/$n)
	inside=$(printf '%s\n' "$nout" | sed -n "s/^ns $n //p")
	[ -n "$inside" ] && [ "$inside" != "$host" ] && ok "a new $n namespace" ||
		fail "$n namespace: inside '$inside', host '$host'"
done
# runc's pid 1 is the command; nscell-runtime's its init (README.md)
contains "the process is in a pid namespace of its own, runc's sh is pid 1" "$rout" "sh:1"
contains "nscell-runtime: a pid 1 there too (its init), the command pid 2" "$nout" "sh:2"

# ---- run -d: listed, its pid 1 the shim's child, killed, removed ----

check "ctr run -d: a detached container starts" nrun -d c3 /bin/sleep 100
tasks=$(ctr_ task ls)
pid=$(printf '%s\n' "$tasks" | awk '$1 == "c3" { print $2 }')
contains "ctr task ls: RUNNING" "$(printf '%s\n' "$tasks" | grep '^c3 ')" "RUNNING"
if [ -n "$pid" ] && [ -d "/proc/$pid" ]; then
	ok "ctr task ls: its pid is there"
	nspid=$(awk '/^NSpid:/ { print $NF }' "/proc/$pid/status")
	[ "$nspid" = 1 ] && ok "containerd's pid is the container's pid 1 (as runc's)" ||
		fail "containerd's pid $pid is pid $nspid inside"
	ppid=$(awk '/^PPid:/ { print $2 }' "/proc/$pid/status")
	contains "the container's pid 1 is the containerd shim's child (it reaps it)" \
		"$(cat "/proc/$ppid/comm")" "containerd-shim"
else
	fail "ctr task ls: pid '$pid' is not running"; skip "pid 1"; skip "the shim's child"
fi
contains "ctr task ps: the container's processes (nscell-runtime ps)" "$(ctr_ task ps c3 2>&1)" "$pid"
st=$("$NSCELL_RUNTIME" --root "$T/nscell-root/$NS" state c3 2>&1)
contains "state: runc's shape (rootfs)" "$st" "\"rootfs\": \"$ROOTFS\""
ctr_ task kill -s KILL c3
for _ in $(seq 50); do ctr_ task ls | grep -q '^c3 .*STOPPED' && break; sleep 0.1; done
contains "ctr task kill -s KILL: STOPPED" "$(ctr_ task ls | grep '^c3 ')" "STOPPED"
[ -n "$pid" ] && ! [ -d "/proc/$pid" ] && ok "its pid 1 is reaped" || fail "pid $pid still there"
check "ctr task rm" ctr_ task rm c3
check "ctr container rm" ctr_ c rm c3
[ -z "$(ls -A "$T/nscell-root/$NS" 2>/dev/null)" ] && ok "deleted: no state left under --runc-root" ||
	fail "deleted: left $(ls "$T/nscell-root/$NS")"
ls -d /sys/fs/cgroup/*/"$NS"/c3 >/dev/null 2>&1 && fail "its cgroup is left" ||
	ok "deleted: its cgroup is removed"

# ---- resources: containerd's limits in the container's cgroup, as runc's ----

LIMITS=(--memory-limit=268435456 --cpu-shares=512 --cpu-quota=50000 --cpu-period=100000)
limits() { # the cgroup files of container $1, one "file value" a line
	local f
	for f in memory/memory.limit_in_bytes cpu/cpu.shares cpu/cpu.cfs_quota_us \
		cpu/cpu.cfs_period_us pids/cgroup.procs; do
		[ -e "/sys/fs/cgroup/${f%%/*}" ] || continue
		echo "${f#*/} $(wc -l <"/sys/fs/cgroup/${f%%/*}/$NS/$1/${f#*/}" 2>/dev/null | \
			sed 's/^/lines:/') $(head -1 "/sys/fs/cgroup/${f%%/*}/$NS/$1/${f#*/}" 2>/dev/null)"
	done | sed 's/cgroup.procs lines:\([0-9]*\) .*/cgroup.procs lines:\1/'
}
if [ "$(stat -f -c %T /sys/fs/cgroup)" = tmpfs ] && [ -d /sys/fs/cgroup/memory ]; then
	nrun -d "${LIMITS[@]}" c6 /bin/sleep 100 >/dev/null 2>&1
	rrun -d "${LIMITS[@]}" c7 /bin/sleep 100 >/dev/null 2>&1
	nout=$(limits c6) rout=$(limits c7)
	contains "limits: runc's are the ones asked for" "$rout" "memory.limit_in_bytes lines:1 268435456"
	same_as_runc "limits: memory.limit_in_bytes" '^memory.limit_in_bytes '
	same_as_runc "limits: cpu.shares" '^cpu.shares '
	same_as_runc "limits: cpu.cfs_quota_us and period" '^cpu.cfs_(quota|period)_us '
	# nscell's pid 1 is its init, the command pid 2 (README.md): two processes
	contains "limits: runc's container is in it (its one process)" "$rout" "cgroup.procs lines:1"
	contains "limits: nscell's init and command are in it" "$nout" "cgroup.procs lines:2"
	for c in c6 c7; do ctr_ task kill -s KILL $c; done
	for _ in $(seq 50); do [ "$(ctr_ task ls | grep -c 'STOPPED')" = 2 ] && break; sleep 0.1; done
	for c in c6 c7; do ctr_ task rm $c >/dev/null 2>&1; ctr_ c rm $c >/dev/null 2>&1; done
else
	skip "limits: the test reads cgroup v1 files (this host is cgroup v2)"
fi

# ---- kill with TERM: passed on to the command (143, as runc's sh gives) ----

nrun -d c4 /bin/sleep 100 >/dev/null 2>&1
ctr_ task kill c4
for _ in $(seq 50); do ctr_ task ls | grep -q '^c4 .*STOPPED' && break; sleep 0.1; done
contains "ctr task kill (TERM): STOPPED" "$(ctr_ task ls | grep '^c4 ')" "STOPPED"
out=$(ctr_ task rm c4 2>&1; ctr_ c rm c4 2>&1)
[ -z "$(ctr_ c ls -q)" ] && ok "ctr task rm, c rm after TERM" || fail "left: $(ctr_ c ls -q) ($out)"

# ---- errors: refused fields reach ctr through the shim's log ----

out=$(nrun --rm --allow-new-privs c5 /bin/true 2>&1); rc=$?
[ "$rc" != 0 ] && contains "a refused field's error reaches ctr (noNewPrivileges false)" "$out" \
	"process.noNewPrivileges" || fail "--allow-new-privs: exit $rc ($out)"
ctr_ c rm c5 >/dev/null 2>&1

# ---- nothing left behind ----

cleanup_pid=$CTD_PID
cleanup
CTD_PID=
trap 'rm -rf "$SCRATCH"' EXIT
kill -0 "$cleanup_pid" 2>/dev/null && fail "containerd still runs" || ok "containerd stopped"
grep -q " $T" /proc/self/mountinfo && fail "mounts left under the scratch directory" ||
	ok "no mounts left"
pgrep -f "containerd-shim-runc-v2 -namespace $NS" >/dev/null && fail "a containerd shim is left" ||
	ok "no containerd shim left"
done_testing
