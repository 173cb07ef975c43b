#!/bin/bash
# nscell-shim launched by root for another user: identity, privileges,
# namespaces, the mount tree, fds, exit statuses, bad input, cgroups.
. "${SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"

U=nscelltest1 U2=nscelltest2 G=nscelltestg
require_users "shim as root" $U $U2
ensure_group $G $U
scratch
H=$(getent passwd $U | cut -d: -f6)
H2=$(getent passwd $U2 | cut -d: -f6)
cleanup_home() { rm -rf "$H/www" "$H/lnk" "$H/d2" "$H/secret" "$H/secret.txt" "$H/nscell-file" "$H/.nscell/tmp/nscell-persist"; }
cleanup_home
trap 'cleanup_home; rm -rf "$SCRATCH"' EXIT

mounts_before=$(cat /proc/self/mountinfo)
shim() { "$NSCELL_SHIM" -u $U "$@"; }

# ---- identity and privileges
out=$(shim -- /bin/sh -c 'id -u; id -g; id -G' 2>&1)
want=$(printf '%s\n%s\n%s' "$(id -u $U)" "$(id -g $U)" "$(id -G $U)")
[ "$out" = "$want" ] && ok "id: the user's uid, gid and groups" || { fail "id"; diag "got: $out" "want: $want"; }
contains "id: the supplementary group is there" " $(id -G $U) " " $(getent group $G | cut -d: -f3) "

# a passwd line of 3,000 bytes (LiteSpeed cut lines at 256 bytes)
long=$(printf 'g%.0s' $(seq 3000))
usermod -c "$long" $U2
out=$("$NSCELL_SHIM" -u $U2 -- /bin/sh -c 'getent passwd "$(id -un)" | cut -d: -f5' 2>&1)
[ "$out" = "$long" ] && ok "a 3,000-byte passwd entry arrives whole" || fail "long passwd entry: ${out:0:80}"
usermod -c "" $U2

check_privileges "$NSCELL_SHIM" -u $U

out=$(shim -- /bin/sh -c 'cat /proc/1/cmdline | tr "\0" " "; echo; echo $$' 2>&1)
contains "pid 1 is the shim's init" "$out" "nscell-shim"
contains "the command is pid 2" "$out" $'\n2'
out=$(shim -- /bin/sh -c 'readlink /proc/self/ns/uts /proc/self/ns/ipc /proc/self/ns/pid /proc/self/ns/mnt' 2>&1)
for ns in uts ipc pid mnt; do
	lacks "new $ns namespace" "$out" "$(readlink /proc/self/ns/$ns)"
done
out=$(shim -- /bin/sh -c 'cut -d" " -f6 /proc/$$/stat' 2>&1)
[ "$out" = 2 ] && ok "the command leads a session of its own" || fail "session id $out"

# ---- the mount tree
check_status "touch /usr/x fails (read-only)" 1 shim -- /bin/touch /usr/x
out=$(shim -- /bin/sh -c 'grep " /usr " /proc/self/mountinfo' 2>&1)
contains "/usr is ro,nosuid,nodev" "$out" "ro,nosuid,nodev"
check "the home is writable" shim -- /bin/sh -c 'echo hi > "$HOME/nscell-file"'
[ "$(stat -c %U "$H/nscell-file" 2>/dev/null)" = $U ] && ok "a file written in the home is the user's on the host" ||
	fail "home file owner: $(stat -c %U "$H/nscell-file" 2>&1)"
out=$(shim -- /bin/sh -c 'grep " /tmp " /proc/self/mountinfo; echo kept > /tmp/nscell-persist' 2>&1)
contains "/tmp is the user's ~/.nscell/tmp" "$out" "$H/.nscell/tmp /tmp "
[ "$(cat "$H/.nscell/tmp/nscell-persist" 2>/dev/null)" = kept ] && ok "/tmp is disk-backed" || fail "/tmp not in ~/.nscell/tmp"
out=$(shim -- /bin/cat /tmp/nscell-persist 2>&1)
[ "$out" = kept ] && ok "/tmp persists to the next launch" || fail "/tmp next launch: $out"
[ "$(stat -c '%U %a' "$H/.nscell/tmp")" = "$U 700" ] && ok "the tmp backing dir is the user's, mode 700" ||
	fail "tmp backing dir: $(stat -c '%U %a' "$H/.nscell/tmp")"
out=$(shim -- /bin/cut -d: -f1 /etc/passwd 2>&1)
[ "$out" = $U ] && ok "/etc/passwd holds only the user" || { fail "/etc/passwd"; diag "$out"; }
check_status "another user's home is absent" 2 shim -- /bin/ls "$H2"
out=$(shim -- /bin/sh -c 'ls /dev; test -c /dev/null && echo null-ok; echo x > /dev/null && echo write-ok' 2>&1)
contains "/dev has null" "$out" "null-ok"
contains "/dev/null is writable" "$out" "write-ok"
contains "/dev has pts" "$out" "pts"
out=$(shim -- /bin/sh -c 'head -c1 /proc/kcore && echo kcore-read; echo b > /proc/sysrq-trigger && echo sysrq-written; wc -c < /proc/keys' 2>&1)
lacks "/proc/kcore cannot be read" "$out" "kcore-read"
lacks "/proc/sysrq-trigger cannot be written" "$out" "sysrq-written"
contains "/proc/keys is masked (empty)" "$out" $'\n0'
out=$(shim -- /bin/sh -c 'echo 1 > /proc/sys/kernel/ns_last_pid && echo written' 2>&1)
lacks "/proc/sys is read-only" "$out" "written"

# an excluded path below a bind is hidden
mkdir -p "$H/secret" && echo topsecret > "$H/secret/file" && echo topsecret > "$H/secret.txt"
chown -R $U: "$H/secret" "$H/secret.txt"
cat > "$SCRATCH/exclude.tpl" <<'T'
$HOMEDIR,bind
!$HOMEDIR/secret
!$HOMEDIR/secret.txt
T
out=$(shim -2 "$SCRATCH/exclude.tpl" -- /bin/sh -c 'cat $HOME/secret/file; cat $HOME/secret.txt; ls $HOME/secret' 2>&1)
lacks "an excluded directory is hidden" "$out" "topsecret"
check "the rest of the home is there" shim -2 "$SCRATCH/exclude.tpl" -- /bin/test -f "$H/nscell-file"

# a destination through a symlink the user planted stays inside the sandbox
ln -sfn /etc "$H/www"
printf '/usr/share $HOMEDIR/www/nscell-x,ro-bind\n' > "$SCRATCH/symlink.tpl"
out=$(shim -2 "$SCRATCH/symlink.tpl" -- /bin/sh -c 'test -d /etc/nscell-x && echo inside' 2>&1)
[ ! -e /etc/nscell-x ] && ok "a symlinked destination does not touch the host's /etc" ||
	{ fail "host /etc/nscell-x was created"; rmdir /etc/nscell-x; }
contains "a symlinked destination resolves inside the sandbox" "$out" "inside"
mkdir -p "$SCRATCH/marked" && touch "$SCRATCH/marked/nscell-marker"
printf '%s $HOMEDIR/www,ro-bind\n' "$SCRATCH/marked" > "$SCRATCH/symlink2.tpl"
out=$(shim -2 "$SCRATCH/symlink2.tpl" -- /bin/ls /etc 2>&1)
contains "a symlink as the mount point is followed inside the sandbox" "$out" "nscell-marker"
[ ! -e /etc/nscell-marker ] && ok "... and the host's /etc is untouched" || fail "host /etc/nscell-marker exists"
ln -sfn /nonexistent/nscell "$H/www"
out=$(shim -2 "$SCRATCH/symlink2.tpl" -- /bin/true 2>&1); rc=$?
[ $rc = 2 ] && ok "a dangling symlink as the mount point is an error" || fail "dangling symlink: exit $rc"
contains "the error names the template line" "$out" "$SCRATCH/symlink2.tpl:1"
rm -f "$H/www"

# entries the user redirects with symlinks never write through to the host
echo original > "$SCRATCH/hostfile"
mkdir -p "$SCRATCH/shared" && chmod 755 "$SCRATCH/shared"
ln -sfn /etc "$H/lnk"
ln -sfn /etc/nscell-shared "$H/d2"
# (destinations below /etc come before those below /home)
cat > "$SCRATCH/redirect.tpl" <<T
$SCRATCH/hostfile /etc/nscell-hostfile,bind
$SCRATCH/shared /etc/nscell-shared,bind
/etc/hostname \$HOMEDIR/lnk/nscell-hostfile,copy
\$HOMEDIR/d2,dir
T
out=$(shim -2 "$SCRATCH/redirect.tpl" -- /bin/cat /etc/nscell-hostfile 2>&1)
contains "a copy redirected onto a bound host file is seen in the sandbox" "$out" "$(cat /etc/hostname)"
[ "$(cat "$SCRATCH/hostfile")" = original ] && ok "... and the host file is not written" || fail "host file overwritten"
[ "$(stat -c '%U %a' "$SCRATCH/shared")" = "root 755" ] && ok "a dir redirected onto a host dir leaves it alone" ||
	fail "host dir changed: $(stat -c '%U %a' "$SCRATCH/shared")"
rm -f "$H/lnk" "$H/d2"

# generated files into a host bind are bound, never written to the host
printf '/usr,ro-bind\n/lib,ro-bind-try\n/lib64,ro-bind-try\n/bin,ro-bind-try\n/etc,ro-bind\n$PASSWD\n' > "$SCRATCH/etcbind.tpl"
out=$(shim -f "$SCRATCH/etcbind.tpl" -- /bin/cut -d: -f1 /etc/passwd 2>&1)
[ "$out" = $U ] && ok "passwd over a bound /etc is bound from a staged file" || fail "passwd over /etc: $out"
grep -q '^root:' /etc/passwd && ok "the host's /etc/passwd is untouched" || fail "host /etc/passwd changed"

# copy, dir, symlink, tmpfs, hostname, remount-ro
head -c 200000 /dev/urandom > "$SCRATCH/big"
chmod 640 "$SCRATCH/big" && chown $U "$SCRATCH/big"
cat > "$SCRATCH/ops.tpl" <<T
$SCRATCH/big /opt/big,copy
/nonexistent/nscell /opt/none,copy-try
/srv/data,dir
/srv/scratch,tmpfs
/srv/ro,tmpfs
/srv/ro,remount-ro
/usr/bin/env /opt/env,symlink
nscell-test,hostname
T
out=$(shim -2 "$SCRATCH/ops.tpl" -- /bin/sh -c 'md5sum < /opt/big; stat -c "%a" /opt/big; stat -c "%U %a" /srv/data; readlink /opt/env; hostname; touch /srv/scratch/x && echo scratch-ok; touch /srv/ro/x || echo ro-ok; test -e /opt/none || echo none-ok' 2>&1)
contains "copy: a 200 kB file arrives whole" "$out" "$(md5sum < "$SCRATCH/big")"
contains "copy: keeps the mode" "$out" $'\n640'
contains "dir: owned by the user" "$out" "$U 755"
contains "symlink: as written" "$out" "/usr/bin/env"
contains "hostname: set in the new uts namespace" "$out" "nscell-test"
[ "$(hostname)" != nscell-test ] && ok "the host's hostname is unchanged" || fail "host hostname changed"
contains "tmpfs: writable by the user" "$out" "scratch-ok"
contains "remount-ro: read-only" "$out" "ro-ok"
contains "copy-try: a missing source is skipped" "$out" "none-ok"

# ---- file descriptors
# ls (a child, no pipe: a pipeline would open fds in the shell) lists the shell's fds
fds='ls /proc/$$/fd'
fdlist() { sed 's/^\([0-9][0-9]*\)$/fd\1/'; }
out=$(shim --keep-fd 5 -- /bin/sh -c "$fds; cat <&5" 5</etc/hostname 6</etc/hostname 2>&1 | fdlist)
contains "--keep-fd 5 arrives" "$out" "fd5"
contains "--keep-fd 5 is readable" "$out" "$(cat /etc/hostname)"
lacks "fd 6 (not asked for) does not" "$out" "fd6"
out=$(env -u LISTEN_PID LISTEN_FDS=1 "$NSCELL_SHIM" -u $U -- /bin/sh -c "$fds"'; echo "pid=$LISTEN_PID self=$$"' 3</etc/hostname 4</etc/hostname 2>&1 | fdlist)
contains "LISTEN_FDS=1 keeps fd 3" "$out" "fd3"
lacks "LISTEN_FDS=1 does not keep fd 4" "$out" "fd4"
contains "LISTEN_PID is the command's pid" "$out" "pid=2 self=2"
out=$(LISTEN_FDS=1 LISTEN_PID=1 "$NSCELL_SHIM" -u $U -- /bin/sh -c "$fds"'; env | grep LISTEN_' 3</etc/hostname 2>&1 | fdlist)
lacks "LISTEN_FDS for another pid: fd 3 not passed" "$out" "fd3"
lacks "LISTEN_FDS for another pid: LISTEN_* removed" "$out" "LISTEN_"

# ---- exit statuses and signals
check_status "exit status 7 is passed back" 7 shim -- /bin/sh -c 'exit 7'
check_status "killed by SIGTERM: 143" 143 shim -- /bin/sh -c 'kill -TERM $$'
"$NSCELL_SHIM" -u $U -- /bin/sh -c 'trap "exit 42" TERM; echo ready; while :; do sleep 0.1; done' > "$SCRATCH/sig" 2>&1 &
pid=$!
for _ in $(seq 50); do grep -q ready "$SCRATCH/sig" && break; sleep 0.1; done
kill -TERM $pid
wait_for $pid 20
rc=$?
[ $rc = 42 ] && ok "SIGTERM to the shim reaches the command" || fail "signal forwarding: exit $rc"
out=$(echo 'echo $0 $-' | shim 2>&1)
contains "no command: the user's shell" "$out" "/bin/sh"
if command -v script >/dev/null; then
	out=$(printf 'echo flags=$-; exit 3\n' | timeout 20 script -qec "$NSCELL_SHIM -u $U" /dev/null 2>&1); rc=$?
	contains "no command on a terminal: an interactive shell" "$out" "flags=si"
	[ $rc = 3 ] && ok "the interactive shell's status is passed back" || fail "interactive: exit $rc"
else
	skip "no script(1) for a terminal"
	skip "no script(1) for a terminal"
fi
# the sandbox dies with the shim
"$NSCELL_SHIM" -u $U -- /bin/sh -c 'echo ready; exec sleep 317' > "$SCRATCH/orphan" 2>&1 &
pid=$!
for _ in $(seq 50); do grep -q ready "$SCRATCH/orphan" && break; sleep 0.1; done
kill -KILL $pid
wait $pid 2>/dev/null
for _ in $(seq 30); do pgrep -f 'sleep 317' >/dev/null || break; sleep 0.1; done
pgrep -f 'sleep 317' >/dev/null && { fail "the sandbox outlives a killed shim"; pkill -KILL -f 'sleep 317'; } ||
	ok "the sandbox dies with the shim"

# ---- bad input: one line, exit 2, nothing changed
out=$("$NSCELL_SHIM" -u nscell-no-such-user -- /bin/true 2>&1); rc=$?
[ $rc = 2 ] && [ "$(printf '%s\n' "$out" | wc -l)" = 1 ] && ok "unknown user: exit 2, one line" ||
	{ fail "unknown user: exit $rc"; diag "$out"; }
printf '/nonexistent/nscell-src /x,bind\n' > "$SCRATCH/missing.tpl"
out=$(shim -2 "$SCRATCH/missing.tpl" -- /bin/true 2>&1); rc=$?
[ $rc = 2 ] && ok "missing required source: exit 2" || fail "missing source: exit $rc"
contains "missing required source: names FILE:LINE" "$out" "$SCRATCH/missing.tpl:1"
printf '/usr /x,nonsense\n' > "$SCRATCH/bad.tpl"
out=$(shim -2 "$SCRATCH/bad.tpl" -- /bin/true 2>&1); rc=$?
[ $rc = 2 ] && ok "a template error: exit 2" || fail "template error: exit $rc"
contains "a template error: the diagnostic names FILE:LINE:COL" "$out" "$SCRATCH/bad.tpl:1:"
# -p (persisted sandboxes) has its own test, persist.sh
out=$(shim -P -- /bin/sh -c 'cat /proc/1/comm' 2>&1)
[ "$out" = nscell-shim ] && ok "-P: a sandbox of its own" || fail "-P: $out"
out=$(shim -- /nonexistent/cmd 2>&1); rc=$?
[ $rc = 2 ] && ok "a missing command: exit 2" || fail "missing command: exit $rc"
contains "a missing command: says so" "$out" "exec /nonexistent/cmd"
check_status "-d to a missing directory: exit 2" 2 shim -d /nonexistent/dir -- /bin/true
out=$(shim -d /usr/share -- /bin/pwd 2>&1)
[ "$out" = /usr/share ] && ok "-d sets the working directory" || fail "-d: $out"
out=$(shim -v -- /bin/true 2>&1)
contains "-v names the template line of each step" "$out" "(built-in:"
out=$(NSCELL_DEBUG=1 "$NSCELL_SHIM" -u $U -- /bin/true 2>&1)
contains "NSCELL_DEBUG=1 is verbose too" "$out" "bind /usr on /usr"

# ---- the pre-5.12 kernel paths (no openat2, no new mount API)
out=$(NSCELL_SHIM_COMPAT=1 "$NSCELL_SHIM" -u $U -2 "$SCRATCH/exclude.tpl" -- /bin/sh -c 'id -u; grep " /usr " /proc/self/mountinfo; cat $HOME/secret/file; touch /usr/x || echo ro-ok' 2>&1)
contains "compat: the user" "$out" "$(id -u $U)"
contains "compat: /usr is ro,nosuid,nodev" "$out" "ro,nosuid,nodev"
contains "compat: /usr is read-only" "$out" "ro-ok"
lacks "compat: exclusions hold" "$out" "topsecret"

# ---- without a user namespace (no-unshare-user)
printf 'no-unshare-user\n' > "$SCRATCH/nouserns.tpl"
out=$(shim -2 "$SCRATCH/nouserns.tpl" -- /bin/sh -c 'id -u; grep -E "CapEff|CapBnd|NoNewPrivs" /proc/self/status; readlink /proc/self/ns/user; wc -c < /proc/keys' 2>&1)
contains "no user namespace: the user" "$out" "$(id -u $U)"
contains "no user namespace: no capabilities" "$out" "CapEff:	0000000000000000"
contains "no user namespace: empty bounding set" "$out" "CapBnd:	0000000000000000"
contains "no user namespace: the host's user namespace" "$out" "$(readlink /proc/self/ns/user)"
contains "no user namespace: /proc/keys is masked (empty)" "$out" $'\n0'

# ---- cgroups: pids_max makes a fork bomb fail
printf 'pids_max = 20\ncgroup_parent = nscell-test\n' > "$SCRATCH/nscell.conf"
out=$(timeout 60 "$NSCELL_SHIM" -u $U -C "$SCRATCH/nscell.conf" -c -- /bin/sh -c 'i=0; while [ $i -lt 40 ]; do sleep 2 & i=$((i+1)); done; wait' 2>&1); rc=$?
[ $rc != 124 ] && ok "fork loop under pids_max=20 ends" || fail "fork loop timed out"
contains "fork loop under pids_max=20 cannot fork" "$out" "fork"
uid=$(id -u $U)
if [ -d /sys/fs/cgroup/pids/nscell-test ]; then
	[ "$(cat /sys/fs/cgroup/pids/nscell-test/nscell-$uid/pids.max)" = 20 ] && ok "cgroup v1: pids.max written" ||
		fail "pids.max: $(cat /sys/fs/cgroup/pids/nscell-test/nscell-$uid/pids.max)"
elif [ -d /sys/fs/cgroup/nscell-test ]; then
	[ "$(cat /sys/fs/cgroup/nscell-test/nscell-$uid/pids.max)" = 20 ] && ok "cgroup v2: pids.max written" || fail "pids.max"
else
	fail "no nscell-test cgroup made"
fi
printf 'memory_max = 64M\npids_max = 50\ncpu_max = 50000 100000\ncgroup_parent = nscell-test\n' > "$SCRATCH/limits.conf"
out=$("$NSCELL_SHIM" -u $U -C "$SCRATCH/limits.conf" -c -- /bin/cat /proc/self/cgroup 2>&1); rc=$?
[ $rc = 0 ] && ok "memory, pids and cpu limits together" || { fail "limits: exit $rc"; diag "$out"; }
if [ -d /sys/fs/cgroup/memory/nscell-test ]; then
	[ "$(cat /sys/fs/cgroup/memory/nscell-test/nscell-$uid/memory.limit_in_bytes)" = $((64 << 20)) ] &&
		ok "cgroup v1: memory.limit_in_bytes written" || fail "memory.limit_in_bytes"
	[ "$(cat /sys/fs/cgroup/cpu/nscell-test/nscell-$uid/cpu.cfs_quota_us)" = 50000 ] &&
		ok "cgroup v1: cpu.cfs_quota_us written" || fail "cpu.cfs_quota_us"
fi
for d in /sys/fs/cgroup/*/nscell-test/nscell-$uid /sys/fs/cgroup/nscell-test/nscell-$uid; do
	[ -d "$d" ] && rmdir "$d" 2>/dev/null
done
for d in /sys/fs/cgroup/*/nscell-test /sys/fs/cgroup/nscell-test; do [ -d "$d" ] && rmdir "$d" 2>/dev/null; done
# a launch that fails after its cgroup was made removes it again
ln -sfn /nonexistent/nscell "$H/www"
out=$("$NSCELL_SHIM" -u $U -C "$SCRATCH/limits.conf" -c -2 "$SCRATCH/symlink2.tpl" -- /bin/true 2>&1); rc=$?
rm -f "$H/www"
[ $rc = 2 ] && ok "a failing launch with -c: exit 2" || fail "failing launch with -c: exit $rc"
left=$(ls -d /sys/fs/cgroup/*/nscell-test /sys/fs/cgroup/nscell-test 2>/dev/null)
[ -z "$left" ] && ok "... and its cgroups are gone" || fail "cgroups left behind: $left"
for d in /sys/fs/cgroup/*/nscell-test/nscell-$uid /sys/fs/cgroup/nscell-test/nscell-$uid; do
	[ -d "$d" ] && rmdir "$d" 2>/dev/null
done
for d in /sys/fs/cgroup/*/nscell-test /sys/fs/cgroup/nscell-test; do [ -d "$d" ] && rmdir "$d" 2>/dev/null; done

# ---- nothing leaked onto the host
[ "$(cat /proc/self/mountinfo)" = "$mounts_before" ] && ok "host mountinfo unchanged" ||
	{ fail "host mountinfo changed"; diff <(printf '%s\n' "$mounts_before") /proc/self/mountinfo | head | sed 's/^/# /'; }

done_testing
