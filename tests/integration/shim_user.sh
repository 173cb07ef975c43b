#!/bin/bash
# nscell-shim launched by an unprivileged user for itself (a user
# namespace of its own): the same sandbox as root builds, minus what
# only root may do (other users, supplementary groups, cgroups).
. "${SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"

if ! is_root; then
	skip "shim as a user: the test needs root to set up a user to run as"
	done_testing
fi
if [ "$(cat /proc/sys/kernel/unprivileged_userns_clone 2>/dev/null || echo 1)" = 0 ] ||
	[ "$(cat /proc/sys/user/max_user_namespaces 2>/dev/null || echo 1)" = 0 ]; then
	skip "shim as a user: unprivileged user namespaces are disabled"
	done_testing
fi
U=nscelluser1 U2=nscelluser2
require_users "shim as a user" $U $U2
if ! as_user $U unshare -U true 2>/dev/null; then
	skip "shim as a user: unshare -U is refused here"
	done_testing
fi
scratch
H=$(getent passwd $U | cut -d: -f6)
H2=$(getent passwd $U2 | cut -d: -f6)
cleanup_home() { rm -rf "$H/www" "$H/secret" "$H/nscell-file" "$H/.nscell/tmp/nscell-persist"; }
cleanup_home
trap 'cleanup_home; rm -rf "$SCRATCH"' EXIT
# the build dir need not be readable by the user: run a copy
SHIM="$SCRATCH/nscell-shim"
cp "$NSCELL_SHIM" "$SHIM" && chmod 755 "$SHIM"
chmod 755 "$SCRATCH"

mounts_before=$(cat /proc/self/mountinfo)
shim() { as_user $U "$SHIM" "$@"; }

# ---- identity and privileges
out=$(shim -- /bin/sh -c 'id -u; id -g' 2>&1)
want=$(printf '%s\n%s' "$(id -u $U)" "$(id -g $U)")
[ "$out" = "$want" ] && ok "id: the user's own uid and gid" || { fail "id"; diag "got: $out" "want: $want"; }
check_privileges setpriv --reuid=$U --regid=$U --init-groups --inh-caps=-all --bounding-set=-all -- "$SHIM"
out=$(shim -- /bin/sh -c 'cat /proc/1/cmdline | tr "\0" " "; echo; echo $$' 2>&1)
contains "pid 1 is the shim's init" "$out" "nscell-shim"
contains "the command is pid 2" "$out" $'\n2'
host_ns=$(as_user $U readlink /proc/self/ns/uts /proc/self/ns/ipc /proc/self/ns/pid /proc/self/ns/mnt /proc/self/ns/user)
out=$(shim -- /bin/sh -c 'readlink /proc/self/ns/uts /proc/self/ns/ipc /proc/self/ns/pid /proc/self/ns/mnt /proc/self/ns/user' 2>&1)
for ns in $host_ns; do
	lacks "new namespace (not ${ns%%:*} $ns)" "$out" "$ns"
done
out=$(shim -- /bin/sh -c 'cut -d" " -f6 /proc/$$/stat' 2>&1)
[ "$out" = 2 ] && ok "the command leads a session of its own" || fail "session id $out"

# ---- the mount tree
check_status "touch /usr/x fails (read-only)" 1 shim -- /bin/touch /usr/x
out=$(shim -- /bin/sh -c 'grep " /usr " /proc/self/mountinfo' 2>&1)
contains "/usr is ro,nosuid,nodev" "$out" "ro,nosuid,nodev"
check "the home is writable" shim -- /bin/sh -c 'echo hi > "$HOME/nscell-file"'
[ "$(stat -c %U "$H/nscell-file" 2>/dev/null)" = $U ] && ok "a file written in the home is the user's" ||
	fail "home file owner"
shim -- /bin/sh -c 'echo kept > /tmp/nscell-persist' >/dev/null 2>&1
[ "$(cat "$H/.nscell/tmp/nscell-persist" 2>/dev/null)" = kept ] && ok "/tmp is the user's ~/.nscell/tmp" ||
	fail "/tmp not in ~/.nscell/tmp"
out=$(shim -- /bin/cat /tmp/nscell-persist 2>&1)
[ "$out" = kept ] && ok "/tmp persists to the next launch" || fail "/tmp next launch: $out"
out=$(shim -- /bin/cut -d: -f1 /etc/passwd 2>&1)
[ "$out" = $U ] && ok "/etc/passwd holds only the user" || { fail "/etc/passwd"; diag "$out"; }
check_status "another user's home is absent" 2 shim -- /bin/ls "$H2"
out=$(shim -- /bin/sh -c 'test -c /dev/null && echo x > /dev/null && echo null-ok; ls /dev/pts >/dev/null && echo pts-ok' 2>&1)
contains "/dev/null works" "$out" "null-ok"
contains "/dev/pts is there" "$out" "pts-ok"
out=$(shim -- /bin/sh -c 'echo 1 > /proc/sys/kernel/ns_last_pid && echo written; wc -c < /proc/keys' 2>&1)
lacks "/proc/sys is read-only" "$out" "written"
contains "/proc/keys is masked (empty)" "$out" $'\n0'

mkdir -p "$H/secret" && echo topsecret > "$H/secret/file" && chown -R $U: "$H/secret"
printf '$HOMEDIR,bind\n!$HOMEDIR/secret\n' > "$SCRATCH/exclude.tpl"
out=$(shim -2 "$SCRATCH/exclude.tpl" -- /bin/sh -c 'cat $HOME/secret/file; ls $HOME' 2>&1)
lacks "an excluded directory is hidden" "$out" "topsecret"
contains "the rest of the home is there" "$out" "nscell-file"

as_user $U ln -sfn /etc "$H/www"
printf '/usr/share $HOMEDIR/www/nscell-x,ro-bind\n' > "$SCRATCH/symlink.tpl"
out=$(shim -2 "$SCRATCH/symlink.tpl" -- /bin/sh -c 'test -d /etc/nscell-x && echo inside' 2>&1)
[ ! -e /etc/nscell-x ] && ok "a symlinked destination does not touch the host's /etc" ||
	{ fail "host /etc/nscell-x was created"; rmdir /etc/nscell-x; }
contains "a symlinked destination resolves inside the sandbox" "$out" "inside"
rm -f "$H/www"

# ---- file descriptors
# ls (a child, no pipe: a pipeline would open fds in the shell) lists the shell's fds
fds='ls /proc/$$/fd'
fdlist() { sed 's/^\([0-9][0-9]*\)$/fd\1/'; }
out=$(shim --keep-fd 5 -- /bin/sh -c "$fds; cat <&5" 5</etc/hostname 6</etc/hostname 2>&1 | fdlist)
contains "--keep-fd 5 arrives" "$out" "fd5"
lacks "fd 6 (not asked for) does not" "$out" "fd6"
out=$(env -u LISTEN_PID LISTEN_FDS=1 setpriv --reuid=$U --regid=$U --init-groups --inh-caps=-all \
	--bounding-set=-all -- "$SHIM" -- /bin/sh -c "$fds"'; echo "pid=$LISTEN_PID"' 3</etc/hostname 4</etc/hostname 2>&1 | fdlist)
contains "LISTEN_FDS=1 keeps fd 3" "$out" "fd3"
lacks "LISTEN_FDS=1 does not keep fd 4" "$out" "fd4"
contains "LISTEN_PID is the command's pid" "$out" "pid=2"

# ---- exit statuses and signals
check_status "exit status 7 is passed back" 7 shim -- /bin/sh -c 'exit 7'
check_status "killed by SIGTERM: 143" 143 shim -- /bin/sh -c 'kill -TERM $$'
# setpriv execs the shim: $! is the shim
setpriv --reuid=$U --regid=$U --init-groups --inh-caps=-all --bounding-set=-all -- \
	"$SHIM" -- /bin/sh -c 'trap "exit 42" TERM; echo ready; while :; do sleep 0.1; done' > "$SCRATCH/sig" 2>&1 &
pid=$!
for _ in $(seq 50); do grep -q ready "$SCRATCH/sig" && break; sleep 0.1; done
kill -TERM $pid
wait_for $pid 20
rc=$?
[ $rc = 42 ] && ok "SIGTERM to the shim reaches the command" || fail "signal forwarding: exit $rc"

# ---- bad input
out=$(shim -u $U2 -- /bin/true 2>&1); rc=$?
[ $rc = 2 ] && [ "$(printf '%s\n' "$out" | wc -l)" = 1 ] && ok "another user: exit 2, one line" ||
	{ fail "another user: exit $rc"; diag "$out"; }
contains "another user: says why" "$out" "only launch for itself"
printf '/nonexistent/nscell-src /x,bind\n' > "$SCRATCH/missing.tpl"
out=$(shim -2 "$SCRATCH/missing.tpl" -- /bin/true 2>&1); rc=$?
[ $rc = 2 ] && ok "missing required source: exit 2" || fail "missing source: exit $rc"
contains "missing required source: names FILE:LINE" "$out" "$SCRATCH/missing.tpl:1"
printf '/root/nscell /x,bind\n' > "$SCRATCH/refused.tpl"
out=$(shim -2 "$SCRATCH/refused.tpl" -- /bin/true 2>&1); rc=$?
[ $rc = 2 ] && ok "a bind the kernel refuses: exit 2" || fail "refused bind: exit $rc"
contains "a bind the kernel refuses: names FILE:LINE" "$out" "$SCRATCH/refused.tpl:1"
contains "a bind the kernel refuses: says why" "$out" "Permission denied"
out=$(shim -c -- /bin/true 2>&1); rc=$?
[ $rc = 2 ] && ok "-c without rights on the cgroup tree: exit 2" || fail "-c: exit $rc"
contains "-c: the error names the cgroup" "$out" "cgroup"

# ---- the pre-5.12 kernel paths
out=$(as_user $U env NSCELL_SHIM_COMPAT=1 "$SHIM" -2 "$SCRATCH/exclude.tpl" -- /bin/sh -c 'id -u; grep " /usr " /proc/self/mountinfo; cat $HOME/secret/file; touch /usr/x || echo ro-ok' 2>&1)
contains "compat: the user" "$out" "$(id -u $U)"
contains "compat: /usr is ro,nosuid,nodev" "$out" "ro,nosuid,nodev"
contains "compat: /usr is read-only" "$out" "ro-ok"
lacks "compat: exclusions hold" "$out" "topsecret"

[ "$(cat /proc/self/mountinfo)" = "$mounts_before" ] && ok "host mountinfo unchanged" || fail "host mountinfo changed"
done_testing
