# Shared helpers for the shell integration tests: TAP output, skips, users.
#
# Each test file sources this, calls `ok`/`fail`/`skip` (or `check CMD...`)
# once per assertion, and ends with `done_testing`.  The automake TAP driver
# counts every line.  Run from `make check` (which sets NSCELL, NSCELL_SHIM,
# SRCDIR, BUILDDIR) or by hand with those set.

: "${SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${BUILDDIR:=$SRCDIR}"
: "${NSCELL:=$BUILDDIR/nscell}"
: "${NSCELL_SHIM:=$BUILDDIR/nscell-shim}"
export SRCDIR BUILDDIR NSCELL NSCELL_SHIM

_tap_n=0
_tap_failed=0

ok() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $*"; }
fail() { _tap_n=$((_tap_n + 1)); _tap_failed=$((_tap_failed + 1)); echo "not ok $_tap_n - $*"; }
skip() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - # SKIP $*"; }
diag() { printf '# %s\n' "$@"; }

# check DESCRIPTION CMD...: ok when CMD exits 0, else fail with its output
check() {
	local desc=$1; shift
	local out
	if out=$("$@" 2>&1); then ok "$desc"; else fail "$desc"; printf '%s\n' "$out" | sed 's/^/#   /' | head -20; fi
}

# check_fails DESCRIPTION STATUS CMD...: ok when CMD exits with STATUS
check_status() {
	local desc=$1 want=$2; shift 2
	local out rc
	out=$("$@" 2>&1); rc=$?
	if [ "$rc" = "$want" ]; then ok "$desc"; else fail "$desc (exit $rc, wanted $want)"; printf '%s\n' "$out" | sed 's/^/#   /' | head -20; fi
}

# contains DESCRIPTION HAYSTACK NEEDLE
contains() {
	case "$2" in *"$3"*) ok "$1" ;; *) fail "$1"; diag "wanted '$3' in:"; printf '%s\n' "$2" | sed 's/^/#   /' | head -20 ;; esac
}
lacks() {
	case "$2" in *"$3"*) fail "$1"; diag "did not want '$3' in:"; printf '%s\n' "$2" | sed 's/^/#   /' | head -20 ;; *) ok "$1" ;; esac
}

done_testing() { echo "1..$_tap_n"; [ "$_tap_failed" -eq 0 ]; exit $?; }

is_root() { [ "$(id -u)" = 0 ]; }

# A scratch directory removed at exit.
scratch() {
	SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/nscell-test.XXXXXX")
	chmod 755 "$SCRATCH"
	trap 'rm -rf "$SCRATCH"' EXIT
}

# ensure_user NAME [USERADD-OPTIONS...]: create a local test user (with a
# home, -m, when no options are given; root only).  Suites run in
# parallel (make -j check) and useradd fails while another holds
# /etc/passwd's lock, and a user is visible before its home is made: so
# users are made one at a time under a lock of our own.  Every suite has
# users of its own, as suites write in their users' homes.
# Prints nothing; returns non-zero when it cannot.
TEST_USERS_LOCK=/run/lock/nscell-test-users.lock
[ -d /run/lock ] || TEST_USERS_LOCK=/tmp/nscell-test-users.lock
ensure_user() {
	local name=$1
	shift
	is_root || { id "$name" >/dev/null 2>&1; return; }
	[ $# = 0 ] && set -- -m
	(
		flock 9
		id "$name" >/dev/null 2>&1 || useradd -s /bin/sh "$@" "$name" >/dev/null 2>&1
		id "$name" >/dev/null 2>&1
	) 9>"$TEST_USERS_LOCK"
}

# require_users WHAT USER...: end the test with one SKIP unless it runs as
# root and the users exist (made when missing)
require_users() {
	local what=$1 u
	shift
	if ! is_root; then
		skip "$what: needs root (it sets up users to run as)"
		done_testing
	fi
	for u; do
		if ! ensure_user "$u"; then
			skip "$what: cannot create the test users"
			done_testing
		fi
	done
}

# ensure_group GROUP USER: USER is a member of the local group GROUP
ensure_group() {
	(
		flock 9
		getent group "$1" >/dev/null || groupadd "$1" || exit 1
		id -nG "$2" | grep -qw "$1" || usermod -aG "$1" "$2"
	) 9>"$TEST_USERS_LOCK"
}

# check_privileges LAUNCHER...: a command run through LAUNCHER (a shim
# command line up to its "--") has no capability, no_new_privs, a session
# of its own and no controlling terminal; with no terminal in reach no
# seccomp filter is needed, and given one (a pty on 0, 1 and 2) the
# TIOCSTI filter is on too (14 assertions)
check_privileges() {
	local out c
	out=$("$@" -- /bin/cat /proc/self/status 2>&1 </dev/null)
	for c in CapInh CapPrm CapEff CapBnd CapAmb; do
		contains "$c is empty" "$out" "$c:	0000000000000000"
	done
	contains "no_new_privs is set" "$out" "NoNewPrivs:	1"
	contains "no terminal in reach: no seccomp filter needed" "$out" "Seccomp:	0"
	out=$("$@" -- /usr/bin/python3 -c '
import errno, os
print("leader" if os.getsid(0) == os.getpid() else "not a leader")
try:
    os.open("/dev/tty", os.O_RDWR)
    print("tty opened")
except OSError as e:
    print("no tty:", errno.errorcode[e.errno])' 2>&1 </dev/null)
	contains "the command leads a session of its own" "$out" "leader"
	contains "it has no controlling terminal" "$out" "no tty: ENXIO"
	# TIOCSTI on a non-terminal: ENOTTY from the kernel, EPERM from the filter (high bits too)
	out=$(/usr/bin/python3 "$SRCDIR/tests/attack/pty_run.py" 20 "$@" -- /usr/bin/python3 -c '
import errno, fcntl, termios
print(open("/proc/self/status").read())
for req in (termios.TIOCSTI, termios.TIOCSTI | 1 << 32, 0x541C, termios.TCGETS):
    try:
        fcntl.ioctl(open("/dev/null"), req, b"x" * 64)
        print(hex(req), "ok")
    except OSError as e:
        print(hex(req), errno.errorcode[e.errno])' 2>&1)
	contains "given a terminal: the seccomp filter is on" "$out" "Seccomp:	2"
	contains "the filter refuses TIOCSTI" "$out" "0x5412 EPERM"
	contains "the filter refuses TIOCSTI with high bits set" "$out" "0x100005412 EPERM"
	contains "the filter refuses TIOCLINUX" "$out" "0x541c EPERM"
	contains "the filter lets other ioctls through" "$out" "0x5401 ENOTTY"
}

# wait_for PID SECONDS: the exit status of background job PID, killed
# (SIGKILL) when still running after SECONDS.  No watchdog subshell: a
# bash subshell signalled before it has reset its traps runs the script's
# EXIT trap, and that removed $SCRATCH under tests still running.
wait_for() {
	local i
	for i in $(seq $(($2 * 10))); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$1" 2>/dev/null && kill -KILL "$1"
	wait "$1"
}

# as_user NAME CMD...: run CMD as an unprivileged user, with no caps
as_user() {
	local u=$1; shift
	setpriv --reuid="$u" --regid="$u" --init-groups --inh-caps=-all --bounding-set=-all -- "$@"
}

# The validator of OCI config.json files (python3-jsonschema from Debian).
OCI_SCHEMA_DIR=/usr/share/gocode/src/github.com/opencontainers/runtime-spec/schema
oci_validate() {
	/usr/bin/python3 "$SRCDIR/tests/oci_validate.py" "$OCI_SCHEMA_DIR/config-schema.json" "$@"
}

# runc_spec_bundle DIR: a bundle in DIR whose config.json `runc spec`
# wrote, its rootfs empty but for mount points and the /usr symlinks (bin,
# lib, lib64, sbin: a test binds the host's /usr there); ends the test
# with a failure when runc spec cannot write it
runc_spec_bundle() {
	mkdir -p "$1"/rootfs/usr "$1"/rootfs/proc "$1"/rootfs/dev "$1"/rootfs/sys "$1"/rootfs/tmp
	for d in bin lib lib64 sbin; do ln -s usr/$d "$1/rootfs/$d"; done
	if ! (cd "$1" && runc spec) 2>"$1/spec.err"; then
		fail "runc spec writes a config"; diag "$(cat "$1/spec.err")"
		done_testing
	fi
	rm -f "$1/spec.err"
}

# A probe's lines (sh) on /dev and runc's masked paths, as runc_spec.sh
# and runc_spec_rootless.sh compare them: each node and link of /dev and
# /dev/pts ("dev ..."), and what each masked path looks like ("masked ...")
RUNC_PROBE_DEV=$(cat <<'EOS'
for f in /dev/* /dev/pts/*; do
	echo "dev $(stat -c '%n %F %t:%T %a %u:%g' "$f")$([ -L "$f" ] && echo " -> $(readlink "$f")")"
done
for p in /proc/acpi /proc/asound /proc/kcore /proc/keys /proc/latency_stats /proc/timer_list \
	/proc/timer_stats /proc/sched_debug /sys/firmware /proc/scsi; do
	if [ -d "$p" ]; then echo "masked $p: a directory of $(ls -A "$p" | wc -l) entries"
	elif [ -e "$p" ]; then echo "masked $p: $(stat -c '%F %t:%T' "$p"), $(head -c 64 "$p" | wc -c) bytes"
	else echo "masked $p: missing"; fi
done
EOS
)

# same_process_as_runc: the process facts both runc spec probes print
# (capabilities, no_new_privs, rlimit nofile, hostname, cwd and umask, the
# environment), each the same in $rout and $nout (same_as_runc below)
same_process_as_runc() {
	local k
	for k in CapPrm CapEff CapBnd CapAmb CapInh; do same_as_runc "capabilities: $k" "^$k: "; done
	same_as_runc "NoNewPrivs" '^NoNewPrivs: '
	same_as_runc "ulimit -n soft and hard (process.rlimits)" '^nofile: '
	same_as_runc "hostname" '^hostname: '
	same_as_runc "cwd and umask" '^cwd: '
	same_as_runc "environment (HOME added as runc adds it)" '^env: '
}

# same_as_runc DESCRIPTION PATTERN: the lines of $rout (what a command
# printed under runc) and $nout (under nscell) that match PATTERN (grep
# -E) are there, and the same
same_as_runc() {
	local r n
	r=$(printf '%s\n' "$rout" | grep -E -- "$2")
	n=$(printf '%s\n' "$nout" | grep -E -- "$2")
	if [ -n "$r" ] && [ "$r" = "$n" ]; then
		ok "$1"
	else
		fail "$1"; diag "runc:" "$r" "nscell:" "$n"
	fi
}

host_mounts() { cut -d' ' -f5 /proc/self/mountinfo | sort; }
