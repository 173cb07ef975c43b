#!/bin/bash
# hostexec: `PATH,hostexec` binds the relay client over PATH inside the
# sandbox; `nscell hostexec-daemon` on the host runs the real PATH as the
# user who asked (SO_PEERCRED), with a cleaned environment, and hands back
# stdio and the exit status.  A fake sendmail on the host records its uid,
# argv, environment and stdin.
. "${SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"

U=nscellhx1 U2=nscellhx2
require_users hostexec $U $U2
UID1=$(id -u $U)
H1=$(getent passwd $U | cut -d: -f6)
scratch
T=$SCRATCH
DPID=
stop_daemon() {
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	DPID=
}
trap 'stop_daemon; rm -rf "$SCRATCH"' EXIT
mkdir -p "$T/bin" "$T/out" "$T/hx" "$T/bundle"
chmod 755 "$T/bin" "$T/hx"
chmod 1777 "$T/out"
# the fake sendmail: a marker when it starts, the record when stdin is read
cat >"$T/bin/sendmail" <<EOF
#!/bin/sh
echo \$\$ >"$T/out/started.\$\$"
[ -n "\$HX_TEST_SLEEP" ] && sleep "\$HX_TEST_SLEEP"
{ echo "uid=\$(id -u)"; echo "cwd=\$(pwd)"; echo "args=\$*"
  echo "cgroup=\$(grep -E '^[0-9]+:(pids)?:' /proc/self/cgroup | tr '\n' ' ')"
  env | sort | sed 's/^/env:/'; echo "stdin:"; cat; } >"$T/out/rec.\$\$.tmp"
mv "$T/out/rec.\$\$.tmp" "$T/out/rec.\$\$"
[ -n "\$HX_TEST_SIGNAL" ] && kill -"\$HX_TEST_SIGNAL" \$\$
exit \${HX_TEST_EXIT:-0}
EOF
cp "$T/bin/sendmail" "$T/bin/other"
chmod 755 "$T/bin/sendmail" "$T/bin/other"
# copies the users can read (the build dir need not be)
cp "$BUILDDIR/nscell-hostexec" "$NSCELL_SHIM" "$T/" && chmod 755 "$T/nscell-hostexec" "$T/nscell-shim"
cat >"$T/nscell.conf" <<EOF
template = server.tpl
hostexec_dir = $T/hx
hostexec_client = $T/nscell-hostexec
hostexec = $T/bin/sendmail
EOF
cat >"$T/server.tpl" <<EOF
/usr,ro-bind
/lib,ro-bind-try
/lib64,ro-bind-try
/bin,ro-bind-try
/sbin,ro-bind-try
/proc,proc
/dev,dev
/tmp,tmpfs
$T/bin,ro-bind
\$HOMEDIR,bind-try
\$PASSWD
\$GROUP
EOF
SOCK=$T/hx/hostexec.sock
C="-C $T/nscell.conf"

start_daemon() {
	"$NSCELL" hostexec-daemon -f -v $C >>"$T/daemon.log" 2>&1 &
	DPID=$!
	for _ in $(seq 50); do [ -S "$SOCK" ] && grep -q listening "$T/daemon.log" && return 0; sleep 0.1; done
	return 1
}
records() { cat "$T"/out/rec.* 2>/dev/null; }
clear_records() { rm -f "$T"/out/rec.* "$T"/out/started.*; }
# run CMD in a sandbox of $U built by root, stdin from the caller
in_sandbox() { timeout 60 "$NSCELL_SHIM" $C -u $U -- /bin/sh -c "$1"; }
relay_direct() { # USER PROGRAM ARGS...: the client run on the host, not through a bind
	local u=$1 prog=$2; shift 2
	as_user "$u" env NSCELL_HOSTEXEC_SOCKET="$SOCK" NSCELL_HOSTEXEC_PROGRAM="$prog" \
		timeout 20 "$T/nscell-hostexec" "$@"
}

# ---- the plan and its exports
out=$("$NSCELL" plan $C -u $U -J 2>&1)
contains "plan -J: the program is a hostexec bind of the client" "$out" "\"hostexec\""
contains "plan -J: names the client as its source" "$out" "$T/nscell-hostexec"
"$NSCELL" translate $C -u $U >"$T/config.json" 2>"$T/translate.err"
check "translate: a valid OCI config" oci_validate "$T/config.json"
out=$(cat "$T/config.json")
contains "translate: the client bound read-only over the program" "$out" "\"destination\": \"$T/bin/sendmail\""
printf 'hostexec = bin/sendmail\n' >"$T/bad.conf"
check_status "nscell.conf: a relative hostexec path is an error" 1 "$NSCELL" check -C "$T/bad.conf"
printf '$HOMEDIR/bin/x,hostexec\n' >"$T/home.tpl"
out=$("$NSCELL" check -f "$T/home.tpl" -u $U 2>&1)
contains "template: a hostexec program in the home is refused" "$out" "not a host program"

# ---- no listener: the client fails at once with EX_TEMPFAIL
out=$(echo body | in_sandbox "$T/bin/sendmail -t" 2>&1); rc=$?
[ "$rc" = 75 ] && ok "no listener: status 75" || fail "no listener: status $rc (wanted 75): $out"
contains "no listener: one clear message" "$out" "no hostexec listener"

if ! start_daemon; then
	fail "hostexec-daemon starts"; diag "$(cat "$T/daemon.log")"
	done_testing
fi
ok "hostexec-daemon listens on $SOCK"
check_status "a second listener on the same socket is refused" 2 \
	timeout 10 "$NSCELL" hostexec-daemon -f $C

# ---- echo body | sendmail -t, shim as root for the user
clear_records
out=$(echo body | in_sandbox "HX_MARK=seen LD_PRELOAD=/nonexistent.so GLIBC_TUNABLES=x BASH_ENV=/x \
	PYTHONPATH=/x NODE_OPTIONS=--x PERL5LIB=/x $T/bin/sendmail -t; echo status=\$?" 2>&1)
contains "root-launched sandbox: sendmail returns 0" "$out" "status=0"
rec=$(records)
contains "the host program ran as the user" "$rec" "uid=$UID1"
contains "it got argv" "$rec" "args=-t"
contains "it got stdin" "$rec" "$(printf 'stdin:\nbody')"
contains "it runs in the user's home" "$rec" "cwd=$H1"
contains "the environment reaches it" "$rec" "env:HX_MARK=seen"
for v in LD_PRELOAD GLIBC_TUNABLES BASH_ENV PYTHONPATH NODE_OPTIONS PERL5LIB; do
	lacks "$v set inside does not reach the host program" "$rec" "env:$v="
done
contains "HOME is the host's for the user" "$rec" "env:HOME=$H1"
out=$(in_sandbox "HX_TEST_EXIT=3 $T/bin/sendmail </dev/null; echo status=\$?" 2>&1)
contains "the exit status comes back" "$out" "status=3"
out=$(in_sandbox "HX_TEST_SIGNAL=TERM $T/bin/sendmail </dev/null; echo status=\$?" 2>&1)
contains "a signal comes back as the client's own (143)" "$out" "status=143"
out=$(in_sandbox "$T/bin/sendmail </dev/null >/dev/null; echo out; HX_TEST_EXIT=0 \
	$T/bin/sendmail </dev/null | wc -c" 2>&1)
contains "stdout goes where the caller's goes" "$out" "$(printf 'out\n0')"

# ---- the user's cgroup, with nscell.conf's limits (read for each request)
if [ -d /sys/fs/cgroup/pids ] || grep -qw pids /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
	clear_records
	cp "$T/nscell.conf" "$T/nscell.conf.orig"
	printf 'cgroup_parent = nscell-hx-test\npids_max = 300\n' >>"$T/nscell.conf"
	out=$(in_sandbox "$T/bin/sendmail </dev/null; echo status=\$?" 2>&1)
	cp "$T/nscell.conf.orig" "$T/nscell.conf"
	contains "with pids_max: the program runs in the user's cgroup" "$(records)" \
		"nscell-hx-test/nscell-$UID1"
	for d in /sys/fs/cgroup/pids/nscell-hx-test/nscell-$UID1 /sys/fs/cgroup/nscell-hx-test/nscell-$UID1; do
		[ -f "$d/pids.max" ] && { contains "pids.max is set" "$(cat "$d/pids.max")" 300; break; }
	done
	[ -f "$d/pids.max" ] || fail "pids.max of the user's cgroup not found"
	for d in /sys/fs/cgroup/*/nscell-hx-test /sys/fs/cgroup/nscell-hx-test; do
		[ -d "$d" ] && rmdir "$d/nscell-$UID1" "$d" 2>/dev/null
	done
else
	skip "cgroup: no pids controller"; skip "cgroup: no pids controller"
fi

# ---- the user launching for itself (rootless)
if [ "$(cat /proc/sys/user/max_user_namespaces 2>/dev/null || echo 1)" != 0 ] &&
	as_user $U unshare -U true 2>/dev/null; then
	clear_records
	out=$(echo rootless-body | as_user $U timeout 60 "$T/nscell-shim" $C -- /bin/sh -c \
		"LD_PRELOAD=/nonexistent.so $T/bin/sendmail -t; echo status=\$?" 2>&1)
	contains "rootless sandbox: sendmail returns 0" "$out" "status=0"
	rec=$(records)
	contains "rootless: ran as the user" "$rec" "uid=$UID1"
	contains "rootless: stdin arrived" "$rec" "rootless-body"
	lacks "rootless: LD_PRELOAD stripped" "$rec" "env:LD_PRELOAD="
else
	for _ in 1 2 3 4; do skip "rootless: unprivileged user namespaces are not available"; done
fi

# ---- refusals
clear_records
out=$(relay_direct $U "$T/bin/other" </dev/null 2>&1); rc=$?
[ "$rc" = 77 ] && ok "a program not on the list: status 77" || fail "not on the list: status $rc: $out"
contains "a program not on the list: says so" "$out" "not a hostexec program"
[ -z "$(records)" ] && ok "a program not on the list did not run" || fail "$T/bin/other ran"
out=$(relay_direct $U /bin/cat /etc/shadow </dev/null 2>&1)
lacks "/bin/cat is not run for the user" "$out" "root:"
out=$(NSCELL_HOSTEXEC_SOCKET="$SOCK" NSCELL_HOSTEXEC_PROGRAM="$T/bin/sendmail" timeout 20 \
	"$T/nscell-hostexec" </dev/null 2>&1); rc=$?
[ "$rc" = 77 ] && ok "uid 0 is refused" || fail "uid 0: status $rc: $out"
contains "uid 0: says so" "$out" "uid 0 is not served"

# ---- a client that lies: root in a user namespace of its own, another
# user's name and home in its environment
clear_records
as_user $U env NSCELL_HOSTEXEC_SOCKET="$SOCK" NSCELL_HOSTEXEC_PROGRAM="$T/bin/sendmail" \
	USER=root LOGNAME=$U2 HOME=/root timeout 20 unshare -r sh -c \
	"[ \$(id -u) = 0 ] && echo claims-root; '$T/nscell-hostexec' -lie </dev/null" >"$T/lie.out" 2>&1
contains "the lying client believes it is uid 0" "$(cat "$T/lie.out")" "claims-root"
rec=$(grep -l -- "args=-lie" "$T"/out/rec.* 2>/dev/null | xargs cat 2>/dev/null)
contains "the liar's program runs with its real uid" "$rec" "uid=$UID1"
contains "the liar gets its real USER" "$rec" "env:USER=$U"
contains "the liar gets its real HOME" "$rec" "env:HOME=$H1"

# ---- malformed and silent clients
forge() { as_user $U timeout 20 python3 -c "$FORGE" "$SOCK" "$1"; }
FORGE=$(cat <<'EOF'
import socket, struct, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
if sys.argv[2] == "fds":
    socket.send_fds(s, [b"GET / HTTP/1.0\r\n\r\n" + b"x" * 64], [0, 1, 2])
else:
    s.sendall(b"GET / HTTP/1.0\r\n\r\n" + b"x" * 64)
r = s.recv(16 + 1024)
kind, value = struct.unpack("=IIiI", r[:16])[1:3]
print("kind", kind, "value", value, r[16:].decode())
EOF
)
out=$(forge fds 2>&1)
contains "a malformed request is refused" "$out" "kind 3"
contains "the refusal names the problem" "$out" "bad magic"
out=$(forge nofds 2>&1)
contains "a request without fds 0-2 is refused" "$out" "exactly fds 0, 1 and 2"
as_user $U timeout 20 python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); time.sleep(6)' "$SOCK" &
silent=$!
sleep 0.3
start=$(date +%s)
out=$(echo quick | relay_direct $U "$T/bin/sendmail" 2>&1); rc=$?
[ "$rc" = 0 ] && [ $(($(date +%s) - start)) -lt 5 ] && ok "a silent client does not hold up another" ||
	fail "relay beside a silent client: status $rc after $(($(date +%s) - start)) s: $out"
wait $silent 2>/dev/null

# ---- 100 concurrent relays from one sandbox
clear_records
out=$(in_sandbox "for i in \$(seq 100); do (echo body-\$i | $T/bin/sendmail -t rcpt-\$i; \
	echo st-\$i=\$?) & done; wait" 2>&1)
n=$(printf '%s\n' "$out" | grep -c '^st-[0-9]*=0$')
[ "$n" = 100 ] && ok "100 concurrent relays all return 0" || fail "100 concurrent: $n returned 0"
good=0
for f in "$T"/out/rec.*; do
	i=$(sed -n 's/^args=-t rcpt-//p' "$f")
	[ -n "$i" ] && grep -qx "body-$i" "$f" && good=$((good + 1))
done
[ "$good" = 100 ] && ok "100 concurrent relays: each got its own argv and stdin" ||
	fail "100 concurrent: $good records right"

# ---- runc runs the exported sandbox, the client bound the same way
if command -v runc >/dev/null 2>&1; then
	clear_records
	rm -rf "$T/bundle"
	if "$NSCELL" export --no-hooks $C -u $U -o "$T/bundle" -- /bin/sh -c "echo runc-body | $T/bin/sendmail -t" \
		>"$T/export.log" 2>&1; then
		out=$(cd "$T" && timeout 60 runc run -b "$T/bundle" "nscell-hx-$$" </dev/null 2>&1); rc=$?
		runc delete -f "nscell-hx-$$" >/dev/null 2>&1
		[ "$rc" = 0 ] && ok "runc: sendmail relayed from the exported bundle" || fail "runc: status $rc: $out"
		contains "runc: the host program got stdin" "$(records)" "runc-body"
	else
		fail "export for runc"; diag "$(cat "$T/export.log")"; skip "runc: no bundle"
	fi
else
	skip "runc: not installed"; skip "runc: not installed"
fi

# ---- the listener killed mid-relay: an error, not a hang, and no orphan
clear_records
(echo slow | in_sandbox "HX_TEST_SLEEP=30 $T/bin/sendmail -t; echo status=\$? >&2" \
	>/dev/null 2>"$T/mid.err") &
client=$!
for _ in $(seq 100); do ls "$T"/out/started.* >/dev/null 2>&1 && break; sleep 0.1; done
prog=$(cat "$T"/out/started.* 2>/dev/null | head -1)
kill -9 "$DPID"; wait "$DPID" 2>/dev/null; DPID=
start=$(date +%s)
wait $client
took=$(($(date +%s) - start))
err=$(cat "$T/mid.err")
[ "$took" -lt 10 ] && ok "listener killed mid-relay: the client ends at once (${took}s)" ||
	fail "listener killed: the client took ${took}s"
contains "listener killed: the client reports an error" "$err" "went away"
contains "listener killed: non-zero status (74)" "$err" "status=74"
gone() { ! kill -0 "$1" 2>/dev/null || grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
for _ in $(seq 20); do gone "$prog" && break; sleep 0.1; done
if [ -n "$prog" ] && gone "$prog"; then ok "the host program ended with its relay"
else fail "the host program (pid ${prog:-?}) outlived the listener"; fi
out=$(in_sandbox "$T/bin/sendmail </dev/null" 2>&1); rc=$?
[ "$rc" = 75 ] && ok "a stale socket: status 75" || fail "stale socket: status $rc: $out"
if start_daemon; then
	out=$(echo again | in_sandbox "$T/bin/sendmail -t; echo status=\$?" 2>&1)
	contains "a restarted listener is reached through the bound directory" "$out" "status=0"
else
	fail "the listener restarts over a stale socket"; diag "$(tail -5 "$T/daemon.log")"
fi
# a set-id helper of the host program works as on the host (Postfix's
# sendmail hands mail to the setgid postdrop)
getent group nscellhxmail >/dev/null || groupadd nscellhxmail
printf '#include <stdio.h>\n#include <unistd.h>\nint main(void) { printf("egid=%%u\\n", (unsigned)getegid()); return 0; }\n' \
	>"$T/postdrop.c"
if command -v cc >/dev/null && cc -o "$T/bin/postdrop" "$T/postdrop.c" &&
	chgrp nscellhxmail "$T/bin/postdrop" && chmod 2755 "$T/bin/postdrop"; then
	printf 'hostexec = %s %s\n' "$T/bin/sendmail" "$T/bin/postdrop" >>"$T/nscell.conf"
	out=$(in_sandbox "$T/bin/postdrop" 2>&1)
	[ "$out" = "egid=$(getent group nscellhxmail | cut -d: -f3)" ] &&
		ok "a setgid host program gets its group (no no_new_privs)" || fail "setgid program: $out"
	sed -i '$d' "$T/nscell.conf"
else
	skip "setgid program: no C compiler"
fi
stop_daemon
[ ! -e "$SOCK" ] && ok "a stopped listener removes its socket" || fail "socket left after SIGTERM"
done_testing
