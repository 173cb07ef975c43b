#!/bin/bash
# libnscell: nscell_spawn() from a C program built against the library
# (tests/libnscell/spawn_test.c).  As root for a test user: join the
# persisted sandbox nscell-shim -p built (without exec'ing the shim), the
# command's namespaces, credentials, fds, status, errors; building through
# the shim; the caller left as it was.  Then as the user for itself.
. "${SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"

T="$BUILDDIR/tests/libnscell/spawn_test"
if ! is_root; then
	skip "libnscell: the test needs root (it sets up a user to run as)"
	done_testing
fi
if [ ! -x "$T" ]; then
	skip "libnscell: $T is not built (make check builds it)"
	done_testing
fi
U=nscelllib1
if ! ensure_user $U; then
	skip "libnscell: cannot create the test user"
	done_testing
fi
scratch
H=$(getent passwd $U | cut -d: -f6)
UID1=$(id -u $U)
ST="$SCRATCH/state"
export NSCELL_STATE_DIR="$ST"
cleanup() {
	timeout 20 "$NSCELL" unmount -a --kill >/dev/null 2>&1
	if [ -d "$SCRATCH/u/state" ]; then
		as_user $U timeout 20 env NSCELL_STATE_DIR="$SCRATCH/u/state" "$SCRATCH/bin/nscell" unmount -a --kill \
			>/dev/null 2>&1
	fi
	# keepers still recorded (no nscell binary, or it failed): ours, by pid
	for f in "$ST"/*/state "$SCRATCH"/u/state/*/state; do
		k=$(sed -n 's/^keeper=//p' "$f" 2>/dev/null)
		[ -n "$k" ] && [ "$(cat /proc/"$k"/comm 2>/dev/null)" = nscell-keeper ] && kill -9 "$k"
	done
	rm -f "$H/.nscell_reload"
	[ "$(getent passwd $U | cut -d: -f7)" = /bin/sh ] || usermod -s /bin/sh $U
	rm -rf "$SCRATCH"
}
trap cleanup EXIT

# ---- the installed archive: the public API only, linked as pkg-config says
LIB="$BUILDDIR/libnscell.a"
if ! command -v nm >/dev/null || ! command -v pkg-config >/dev/null || ! command -v cc >/dev/null; then
	skip "libnscell.a's symbols: needs nm, pkg-config and cc"
else
	syms=$(nm -g --defined-only "$LIB" | awk 'NF == 3 { print $3 }' | sort | tr '\n' ' ')
	[ -n "$syms" ] && ! tr ' ' '\n' <<<"$syms" | grep -v '^$' | grep -qv '^nscell_spawn' &&
		ok "libnscell.a defines only nscell_spawn* globally: $syms" || { fail "libnscell.a's globals"; diag "$syms"; }
	pc=$(PKG_CONFIG_PATH="$BUILDDIR/libnscell" pkg-config --define-variable=libdir="$BUILDDIR" \
		--define-variable=includedir="$SRCDIR/libnscell" --cflags --libs nscell)
	# a sanitizer build's archive needs the sanitizers' runtime
	san=$(nm -u "$LIB" | grep -q __asan_ && echo -fsanitize=address,undefined)
	printf '#include <nscell.h>\nint main(void) { struct nscell_spawn_opts o; nscell_spawn_opts_init(&o);\n%s\n%s }\n' \
		'nscell_spawn_cache_clear();' 'return o.stdio[2] == -1 ? 0 : 1;' >"$SCRATCH/pc.c"
	out=$(cc $san -o "$SCRATCH/pc" "$SCRATCH/pc.c" $pc 2>&1) && "$SCRATCH/pc" &&
		ok "a program built with pkg-config --cflags --libs nscell links and runs" ||
		{ fail "pkg-config link"; diag "$pc" "$out"; }
	printf '#include <nscell.h>\nint plan_load(void);\nint main(void) { return plan_load(); }\n' >"$SCRATCH/in.c"
	out=$(cc $san -o "$SCRATCH/in" "$SCRATCH/in.c" $pc 2>&1)
	[ $? != 0 ] && contains "an internal function (plan_load) cannot be linked against" "$out" "plan_load" ||
		{ fail "plan_load linked from libnscell.a"; diag "$out"; }
fi

host_before=$(host_mounts)
keeper() { sed -n 's/^keeper=//p' "$ST/$UID1/state" 2>/dev/null; }
# sp ARGS: spawn_test; the shim it would exec does not exist, so a pass
# proves the command was started without it
sp() { timeout 30 "$T" -x /nonexistent/nscell-shim "$@" 2>&1; }
NSLIST="mnt pid ipc uts net user cgroup"
ns_of() { for n in $NSLIST; do readlink "/proc/$1/ns/$n"; done | tr '\n' ' '; }
# has_line DESCRIPTION OUTPUT LINE: a whole line of OUTPUT is LINE (the
# command's lines and spawn_test's "pid N" may come in either order)
has_line() { if grep -qxF -- "$3" <<<"$2"; then ok "$1"; else fail "$1"; diag "no line '$3' in:" "$2"; fi; }
NS_CMD="for n in $NSLIST; do readlink /proc/self/ns/\$n; done | tr '\n' ' '; echo"

# ---- no sandbox yet, nothing asked to build one
out=$(sp -u $U -- /bin/true); rc=$?
[ $rc = 3 ] && contains "no sandbox, no NSCELL_SPAWN_PERSIST: ENOENT, says so" "$out" \
	"error ENOENT: no persisted sandbox of $U is running" || { fail "no sandbox: exit $rc"; diag "$out"; }
contains "the error says how to get one" "$out" "NSCELL_SPAWN_PERSIST builds one"
[ ! -e "$ST" ] && ok "a refused spawn creates no state directory" || fail "state dir made: $(ls -la "$ST")"
out=$(sp -u nscell-no-such-user -p -- /bin/true); rc=$?
[ $rc = 3 ] && contains "unknown user: a clear error" "$out" "unknown user 'nscell-no-such-user'" ||
	{ fail "unknown user: exit $rc"; diag "$out"; }

# ---- built by the shim, joined by the library
timeout 30 "$NSCELL_SHIM" -p -u $U -- /bin/true
k=$(keeper)
[ -n "$k" ] && kill -0 "$k" && ok "nscell-shim -p built the sandbox (keeper $k)" || fail "no keeper"
out=$(sp -u $U -- /bin/sh -c "$NS_CMD")
contains "the command is in every namespace of the keeper ($NSLIST)" "$out" "$(ns_of "$k")"
contains "the shim was not exec'd (a missing shim is fine)" "$out" "exit 0"
out=$(sp -u $U -- /bin/sh -c 'id -u; echo ppid=$PPID; cat /proc/1/comm; pwd;
	grep -E "^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):" /proc/self/status')
has_line "the command runs as the user" "$out" "$UID1"
contains "its parent is outside the sandbox (the caller)" "$out" "ppid=0"
contains "pid 1 is the keeper" "$out" "nscell-keeper"
contains "it starts in the home" "$out" "$H"
n=$(grep -cE '^Cap(Inh|Prm|Eff|Bnd|Amb):[[:space:]]+0+$' <<<"$out")
[ "$n" = 5 ] && ok "all five capability sets are empty" || { fail "capabilities"; diag "$out"; }
contains "no_new_privs is set" "$out" $'NoNewPrivs:\t1'
contains "no terminal in reach: no seccomp filter needed" "$out" $'Seccomp:\t0'
out=$(/usr/bin/python3 "$SRCDIR/tests/attack/pty_run.py" 30 timeout 30 "$T" -x /nonexistent/nscell-shim -u $U -- \
	/bin/grep Seccomp: /proc/self/status 2>&1)
contains "given a terminal on 0, 1, 2: the seccomp filter is on" "$out" $'Seccomp:\t2'
contains "the caller's signals, umask, cwd, fds, pid namespace are unchanged" "$out" "caller unchanged"

out=$(sp -u $U -d /tmp -- /bin/pwd)
# (the command's line and spawn_test's "pid N" come in either order)
grep -qxF /tmp <<<"$out" && grep -qxF "exit 0" <<<"$out" && ok "cwd: -d /tmp" ||
	{ fail "cwd: -d /tmp"; diag "$out"; }
out=$(sp -u $U -- /bin/sh -c 'exit 7')
contains "the exit status reaches waitpid" "$out" "exit 7"
out=$(sp -u $U -- /bin/sh -c 'kill -TERM $$')
contains "a signal reaches waitpid as a signal" "$out" "signal 15"

# fds: 7 kept, 8 and 9 (inheritable in the caller) not; the shell's fds
# above 2, listed by its child
out=$(sp -O 7 -O 8 -O 9 -k 7 -u $U -- /bin/sh -c 'ls -l /proc/$$/fd/; true')
fds=$(grep -oE ' ([3-9]|[1-9][0-9]+) -> .*' <<<"$out")
[ "$fds" = " 7 -> /dev/null" ] && ok "fd 7 (kept) is passed; 8, 9 and the library's pipes and pidfds are not" ||
	{ fail "fds above 2: $fds"; diag "$out"; }
sp -u $U -o "$SCRATCH/out" -- /bin/echo via-stdio >/dev/null
[ "$(cat "$SCRATCH/out" 2>/dev/null)" = via-stdio ] && ok "stdio[1]: the command writes to the fd given" ||
	fail "stdio[1]: $(cat "$SCRATCH/out" 2>&1)"
out=$(sp -u $U -k 2 -- /bin/true); rc=$?
[ $rc = 3 ] && contains "keep fd 2: refused (only fds above 2)" "$out" "error EBADF: keep_fds: 2" ||
	{ fail "keep 2: exit $rc"; diag "$out"; }
out=$(sp -u $U -k 40 -- /bin/true); rc=$?
[ $rc = 3 ] && contains "keep a closed fd: refused" "$out" "keep_fds: 40 is not an open fd" ||
	{ fail "keep 40: exit $rc"; diag "$out"; }
out=$(sp -u $U -- /nonexistent/program); rc=$?
[ $rc = 3 ] && contains "a command that cannot be exec'd: reported by nscell_spawn" "$out" \
	"exec /nonexistent/program: No such file or directory" || { fail "exec error: exit $rc"; diag "$out"; }
out=$(sp -u $U -d /nonexistent-dir -- /bin/true); rc=$?
[ $rc = 3 ] && contains "a missing working directory: reported" "$out" "working directory /nonexistent-dir" ||
	{ fail "cwd error: exit $rc"; diag "$out"; }
out=$(sp -u $U -n 30 -- /bin/true)
[ "$(grep -c '^exit 0$' <<<"$out")" = 30 ] && contains "30 spawns in a row: all exit 0, caller unchanged" \
	"$out" "caller unchanged" || { fail "30 spawns"; diag "$(tail -3 <<<"$out")"; }
[ "$(keeper)" = "$k" ] && ok "every spawn joined the same keeper" || fail "keeper changed"

# ---- the cache between calls: nscell.conf and the user read again once changed
# (vhost c.test's sandbox built with c.conf; the second call's c.conf has no
# such vhost: read again, "unknown vhost"; a stale conf would say ESTALE)
printf '[vhost c.test]\nmode = on\n' >"$SCRATCH/c.conf"
timeout 30 "$NSCELL_SHIM" -p -C "$SCRATCH/c.conf" -u $U -s c.test -- /bin/true
out=$(sp -u $U -C "$SCRATCH/c.conf" -s c.test -n 3 -E "printf '[vhost d.test]\nmode = on\n' >'$SCRATCH/c.conf'" \
	-- /bin/true); rc=$?
[ $rc = 3 ] && [ "$(grep -c '^exit 0$' <<<"$out")" = 1 ] &&
	contains "cache: nscell.conf changed between two calls is read again" "$out" "unknown vhost 'c.test'" ||
	{ fail "cache: conf change: exit $rc"; diag "$out"; }
out=$(sp -u $U -n 3 -E "true" -- /bin/sh -c 'echo "SHELL=$SHELL"')
[ "$(grep -c '^SHELL=/bin/sh$' <<<"$out")" = 3 ] && contains "cache: 3 calls, nothing changed: the same user" \
	"$out" "caller unchanged" || { fail "cache: 3 calls"; diag "$out"; }
out=$(sp -u $U -n 2 -E "usermod -s /bin/bash $U" -- /bin/sh -c 'echo "SHELL=$SHELL"'); rc=$?
usermod -s /bin/sh $U
[ $rc = 3 ] && has_line "cache: the first call, the old shell" "$out" "SHELL=/bin/sh" &&
	contains "cache: a changed passwd entry is read again (the sandbox is out of date)" "$out" "error ESTALE" ||
	{ fail "cache: passwd change: exit $rc"; diag "$out"; }
out=$(sp -u $U -N -n 2 -- /bin/true)
[ "$(grep -c '^exit 0$' <<<"$out")" = 2 ] && ok "NSCELL_SPAWN_NO_CACHE: spawns as before" ||
	{ fail "NO_CACHE"; diag "$out"; }
[ "$(keeper)" = "$k" ] && ok "the old shell back: the same keeper joined" || fail "keeper changed after the cache tests"

# ---- out of date: refused without PERSIST (the reload request stays), rebuilt with it
as_user $U touch "$H/.nscell_reload"
out=$(sp -u $U -- /bin/true); rc=$?
[ $rc = 3 ] && contains "~/.nscell_reload, no PERSIST: ESTALE" "$out" "error ESTALE:" ||
	{ fail "reload: exit $rc"; diag "$out"; }
[ -e "$H/.nscell_reload" ] && ok "the refused spawn left ~/.nscell_reload for the build" || fail "reload file removed"
out=$(timeout 30 "$T" -x "$NSCELL_SHIM" -p -u $U -- /bin/sh -c 'cat /proc/1/comm' 2>&1)
k2=$(keeper)
[ -n "$k2" ] && [ "$k2" != "$k" ] && has_line "PERSIST: rebuilt through nscell-shim -p" "$out" \
	nscell-keeper || { fail "rebuild (keeper $k -> $k2)"; diag "$out"; }
[ ! -e "$H/.nscell_reload" ] && ok "the build removed ~/.nscell_reload" || fail "reload file still there"
out=$(sp -u $U -- /bin/sh -c "$NS_CMD")
contains "the next spawn joins the new keeper" "$out" "$(ns_of "$k2")"

# ---- a sandbox of its own (NSCELL_SPAWN_NO_PERSIST): through nscell-shim -P
out=$(timeout 30 "$T" -x "$NSCELL_SHIM" -P -u $U -- /bin/sh -c 'id -u; cat /proc/1/comm' 2>&1)
has_line "NO_PERSIST: a sandbox of its own, as the user" "$out" "$UID1"
has_line "NO_PERSIST: the shim is its pid 1" "$out" nscell-shim
out=$(sp -P -u $U -- /bin/true); rc=$?
[ $rc = 3 ] && contains "a shim that cannot be exec'd: reported" "$out" \
	"error ENOENT: exec /nonexistent/nscell-shim" || { fail "missing shim: exit $rc"; diag "$out"; }
[ "$(host_mounts)" = "$host_before" ] && ok "0 host mounts added" || fail "host mounts changed"

# ---- an unprivileged caller, for itself
if [ "$(cat /proc/sys/kernel/unprivileged_userns_clone 2>/dev/null || echo 1)" = 0 ] ||
	! as_user $U unshare -U true 2>/dev/null; then
	skip "libnscell as a user: unprivileged user namespaces are disabled"
else
	mkdir -p "$SCRATCH/bin" "$SCRATCH/u" && chown $U "$SCRATCH/u"
	cp "$T" "$NSCELL_SHIM" "$NSCELL" "$(dirname "$NSCELL_SHIM")/nscell-keeper" "$SCRATCH/bin/"
	chmod 755 "$SCRATCH/bin"
	us() { as_user $U timeout 30 env NSCELL_STATE_DIR="$SCRATCH/u/state" "$@" 2>&1; }
	out=$(us "$SCRATCH/bin/spawn_test" -x /nonexistent -- /bin/true); rc=$?
	[ $rc = 3 ] && contains "user: no sandbox: ENOENT" "$out" "error ENOENT" || { fail "user: exit $rc"; diag "$out"; }
	us "$SCRATCH/bin/nscell-shim" -p -- /bin/true >/dev/null
	uk=$(sed -n 's/^keeper=//p' "$SCRATCH/u/state/$UID1/state" 2>/dev/null)
	out=$(us "$SCRATCH/bin/spawn_test" -x /nonexistent -- /bin/sh -c "id -u; $NS_CMD; grep -E '^(CapEff|NoNewPrivs):' /proc/self/status")
	has_line "user: the command runs as itself" "$out" "$UID1"
	contains "user: joined its own sandbox without the shim" "$out" "$(ns_of "$uk")"
	contains "user: no capability" "$out" $'CapEff:\t0000000000000000'
	contains "user: no_new_privs" "$out" $'NoNewPrivs:\t1'
	contains "user: caller unchanged" "$out" "caller unchanged"
	out=$(us "$SCRATCH/bin/spawn_test" -u root -x /nonexistent -- /bin/true); rc=$?
	[ $rc = 3 ] && contains "user: another user is refused" "$out" \
		"error EPERM: user 'root': an unprivileged caller can only spawn for itself" ||
		{ fail "user for root: exit $rc"; diag "$out"; }
fi
done_testing
