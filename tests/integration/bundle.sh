#!/bin/bash
# nscell-shim run -b DIR ID: OCI bundles (as `nscell export` writes them)
# run by the shim, and `nscell diff --bundle`: the probe under runc and
# under the shim on the same bundle.  As root with runc (SKIP without);
# rootless as the test user.
. "${SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
scratch

U=nscellbun1
TPLDIR=$SRCDIR/tests/data/templates
py() { /usr/bin/python3 -c "$@"; }
# edit config.json in place: c is the config
edit() { py "import json,sys; c=json.load(open(sys.argv[1])); $2; json.dump(c, open(sys.argv[1], 'w'))" "$1"; }
# run CMD... in the background, its status after at most 60 s
run_timed() { "$@" & wait_for $! 60; }

# ---- usage errors: no root needed ----

out=$("$NSCELL_SHIM" run 2>&1); rc=$?
[ "$rc" = 2 ] && contains "run without an ID: usage error naming it" "$out" "container ID" ||
	fail "run without an ID: exit $rc ($out)"
out=$("$NSCELL_SHIM" run -b "$SCRATCH" a/b 2>&1)
contains "run: an ID with a slash is refused" "$out" "'a/b' is not a container ID"
out=$("$NSCELL_SHIM" run -b "$SCRATCH/missing" c1 2>&1); rc=$?
[ "$rc" = 2 ] && contains "run: a missing bundle names it" "$out" "bundle $SCRATCH/missing" ||
	fail "run: missing bundle: exit $rc ($out)"
check "run --help prints the usage" sh -c '"$1" run --help | grep -q "usage: nscell-shim run"' _ "$NSCELL_SHIM"
out=$("$NSCELL" diff --bundle "$SCRATCH" -u root 2>&1); rc=$?
[ "$rc" = 2 ] && contains "diff --bundle with -u: usage error" "$out" "--bundle takes no" ||
	fail "diff --bundle -u: exit $rc ($out)"

if ! is_root; then
	skip "bundles: need root (they set up a test user)"
	done_testing
fi
require_users "bundles" $U
if ! command -v runc >/dev/null; then
	skip "bundles: runc is not installed"
	done_testing
fi
IDS=""
cleanup() {
	for id in $IDS; do runc delete -f "$id" >/dev/null 2>&1; done
	rm -rf "$SCRATCH"
}
trap cleanup EXIT

# ---- run -b: an exported bundle ----

B=$SCRATCH/b
"$NSCELL" export -u $U --no-hooks -o "$B" -- /bin/sh -c 'id -u; id -G; hostname; pwd; echo "$USER"; cat /etc/passwd | grep -c "^'$U':"; exit 7' \
	2>"$SCRATCH/err" || diag "$(cat "$SCRATCH/err")"
out=$(run_timed "$NSCELL_SHIM" run -b "$B" bun-$$ 2>&1); rc=$?
[ "$rc" = 7 ] && ok "run -b: the process's exit status" || fail "run -b: exit $rc ($out)"
contains "run -b: the config's uid" "$out" "$(id -u $U)"
contains "run -b: the config's cwd" "$out" "$(getent passwd $U | cut -d: -f6)"
contains "run -b: the config's env" "$out" "$U"
contains "run -b: the bundle's rootfs (its generated passwd)" "$(printf '%s\n' "$out" | sed -n 6p)" "1"
IDS="$IDS bun-r-$$"
rout=$(run_timed runc run -b "$B" bun-r-$$ 2>&1)
[ "$out" = "$rout" ] && ok "run -b: same output as runc run" ||
	{ fail "run -b: output differs from runc run"; diag "shim: $out" "runc: $rout"; }
check "run -b: the bundle is left as it was (config)" oci_validate "$B/config.json"

# relative: run from the bundle directory, no -b
out=$(cd "$B" && run_timed "$NSCELL_SHIM" run bun-$$ 2>&1); rc=$?
[ "$rc" = 7 ] && ok "run without -b: the current directory is the bundle" || fail "run without -b: exit $rc ($out)"

# root.readonly
R=$SCRATCH/ro
"$NSCELL" export -u $U --no-hooks -o "$R" -- /bin/sh -c 'touch /x 2>&1; touch /tmp/y && echo tmp-writable' 2>/dev/null
edit "$R/config.json" "c['root']['readonly'] = True"
out=$(run_timed "$NSCELL_SHIM" run -b "$R" bun-$$ 2>&1)
contains "root.readonly: / is read-only" "$out" "Read-only file system"
contains "root.readonly: mounts on it stay writable" "$out" "tmp-writable"
[ -e "$R/rootfs/x" ] && fail "root.readonly: a file appeared in the rootfs" || ok "root.readonly: the rootfs is untouched"

# the hostname
edit "$R/config.json" "c['hostname'] = 'bunhost'; c['process']['args'] = ['/bin/hostname']"
out=$(run_timed "$NSCELL_SHIM" run -b "$R" bun-$$ 2>&1)
[ "$out" = bunhost ] && ok "run -b: the config's hostname" || fail "run -b: hostname: $out"

# fields the shim does not support: an error naming the field, exit 2
X=$SCRATCH/x
mkdir "$X" && ln -s "$R/rootfs" "$X/rootfs"
cp "$R/config.json" "$X/config.json"
edit "$X/config.json" "c['linux']['sysctl'] = {'net.ipv4.ip_forward': '1'}"
out=$("$NSCELL_SHIM" run -b "$X" bun-$$ 2>&1); rc=$?
[ "$rc" = 2 ] && contains "unsupported field: named" "$out" "linux.sysctl: not supported" ||
	fail "unsupported field: exit $rc ($out)"
cp "$R/config.json" "$X/config.json"
edit "$X/config.json" "c['process']['terminal'] = True"
out=$("$NSCELL_SHIM" --root "$SCRATCH/rt" run -d -b "$X" bun-$$ 2>&1)
contains "process.terminal detached without --console-socket: refused, named" "$out" "process.terminal"
cp "$R/config.json" "$X/config.json"
edit "$X/config.json" "c['root']['path'] = 'nowhere'"
out=$("$NSCELL_SHIM" run -b "$X" bun-$$ 2>&1)
contains "a missing root.path: named" "$out" "root.path $X/nowhere"

# hooks: run (tests/integration/runtime.sh tests them in detail)
H=$SCRATCH/h
NSCELL_STATE_DIR=$SCRATCH/state NSCELL_HOOK_BIN=$NSCELL "$NSCELL" export -u $U -o "$H" -- /bin/true 2>/dev/null
out=$("$NSCELL_SHIM" run -b "$H" bun-$$ 2>&1); rc=$?
[ "$rc" = 0 ] && ok "hooks: a bundle with nscell's hooks runs" || fail "hooks: exit $rc ($out)"

# a failed run changes nothing on the host
before=$(host_mounts)
"$NSCELL_SHIM" run -b "$X" bun-$$ >/dev/null 2>&1
[ "$before" = "$(host_mounts)" ] && ok "a failed run leaves the host's mounts alone" ||
	fail "a failed run changed the host's mounts"

# ---- nscell diff --bundle: every held template, as root ----

for t in default all1 all2 all3; do
	args=()
	[ "$t" = default ] || args=(-f "$TPLDIR/$t.tpl")
	"$NSCELL" export -u $U "${args[@]}" --no-hooks -o "$SCRATCH/d-$t" 2>/dev/null
	out=$(run_timed "$NSCELL" diff --bundle "$SCRATCH/d-$t" 2>&1); rc=$?
	[ "$rc" = 0 ] && ok "diff --bundle $t: no differences" ||
		{ fail "diff --bundle $t: exit $rc"; diag "$(printf '%s\n' "$out" | head -30)"; }
done
# the bundle with a read-only root, a hostname and a bundle file bind
out=$(run_timed "$NSCELL" diff --bundle "$R" 2>&1); rc=$?
[ "$rc" = 0 ] && ok "diff --bundle: read-only root, hostname: no differences" ||
	{ fail "diff --bundle ro: exit $rc"; diag "$(printf '%s\n' "$out" | head -30)"; }
out=$("$NSCELL" diff --bundle "$R" -J 2>/dev/null)
check "diff --bundle -J: valid JSON saying same" py 'import json,sys; assert json.loads(sys.argv[1])["same"]' "$out"
out=$(run_timed "$NSCELL" diff --bundle "$H" 2>&1); rc=$?
[ "$rc" = 0 ] && ok "diff --bundle: a bundle with hooks is compared without them" ||
	{ fail "diff --bundle hooks: exit $rc"; diag "$(printf '%s\n' "$out" | head -20)"; }

# ---- rootless: the user runs its own rootless bundle ----

UB=$(as_user $U mktemp -d)
if as_user $U "$NSCELL" export --rootless --no-hooks -o "$UB/b" -- /bin/id -u >/dev/null 2>&1; then
	out=$(cd / && run_timed as_user $U "$NSCELL_SHIM" run -b "$UB/b" bun-$$ 2>&1)
	[ "$out" = "$(id -u $U)" ] && ok "rootless: run -b as the user" || fail "rootless run -b: $out"
	out=$(cd / && run_timed as_user $U "$NSCELL" diff --bundle "$UB/b" 2>&1); rc=$?
	[ "$rc" = 0 ] && ok "rootless: diff --bundle: no differences" ||
		{ fail "rootless diff --bundle: exit $rc"; diag "$(printf '%s\n' "$out" | head -30)"; }
	out=$(cd / && as_user $U "$NSCELL_SHIM" run -b "$B" bun-$$ 2>&1); rc=$?
	[ "$rc" = 2 ] && ok "rootless: another user's bundle is refused" || fail "rootless: $rc $out"
else
	skip "rootless: the user cannot export"
	skip "rootless: diff --bundle"
	skip "rootless: another user's bundle"
fi
rm -rf "$UB"

done_testing
