#!/bin/bash
# OCI hooks of exported bundles: `nscell export` writes createRuntime and
# poststop hooks calling `nscell hook`, which bring the bundle up to date
# on the host runc runs it on (the user's passwd entry, copied files) and
# register the container, so that `nscell ls`, `enter` and `unmount` see
# it.  With real `runc run`, as root; rootless runc as the test user.
. "${SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
scratch

ID=nscell-hooks-$$
U=nscellhook1
export NSCELL_HOOK_BIN=$NSCELL
export NSCELL_STATE_DIR=$SCRATCH/state
IDS=""
cleanup() {
	for id in $IDS; do
		runc delete -f "$id" >/dev/null 2>&1
	done
	[ -n "$UHOME" ] && as_user $U runc --root "$SCRATCH/u/runc" delete -f "$ID-rl" >/dev/null 2>&1
	[ -n "$OLD_COMMENT" ] && usermod -c "$OLD_COMMENT" $U 2>/dev/null
	rm -rf "$SCRATCH"
}
trap cleanup EXIT

py() { /usr/bin/python3 -c "$@"; }
# the value of a key of config.json, as Python prints it
cfg() { py "import json,sys; c=json.load(open(sys.argv[1])); print($2)" "$1" 2>&1; }

# ---- what export writes (no runc needed)

if is_root && ! ensure_user $U; then
	skip "cannot create the test user $U"
	done_testing
fi
is_root || U=$(id -un)
B=$SCRATCH/b1
printf '/usr,ro-bind\n/bin,ro-bind-try\n/lib,ro-bind-try\n/lib64,ro-bind-try\n/proc,proc\n/dev,dev\n/tmp,tmp\n$PASSWD\n$GROUP\n%s/copied /etc/copied,copy\n' \
	"$SCRATCH" > "$SCRATCH/t.tpl"
echo one > "$SCRATCH/copied"
chmod 644 "$SCRATCH/copied"
"$NSCELL" export -u $U -f "$SCRATCH/t.tpl" -o "$B" -- /bin/sh -c 'cat /etc/passwd /etc/copied' \
	2>"$SCRATCH/err"
check "export with hooks: a valid OCI config" oci_validate "$B/config.json"
out=$(cfg "$B/config.json" "[(s, h[0]['path'], h[0]['args']) for s, h in sorted(c['hooks'].items())]")
contains "hooks: createRuntime calls nscell hook" "$out" "('createRuntime', '$NSCELL', ['nscell', 'hook', 'createRuntime'])"
contains "hooks: poststop calls nscell hook" "$out" "('poststop', '$NSCELL', ['nscell', 'hook', 'poststop'])"
out=$(cfg "$B/config.json" "c['hooks']['poststop'][0]['env']")
contains "hooks: the state directory in their environment" "$out" "NSCELL_STATE_DIR=$SCRATCH/state"
out=$(cfg "$B/config.json" "sorted(c['annotations'].items())")
contains "annotations: the server template, absolute" "$out" "('org.nscell.server-template', '$SCRATCH/t.tpl')"
contains "annotations: the hash of the templates" "$out" "('org.nscell.hash', '"
contains "annotations: the user" "$out" "('org.nscell.user', '$U')"
lacks "export: no warning with an existing hook program" "$(cat "$SCRATCH/err")" "warning"
"$NSCELL" translate -u $U -f "$SCRATCH/t.tpl" -- /bin/sh -c 'cat /etc/passwd /etc/copied' \
	> "$SCRATCH/t.json" 2>/dev/null
check "translate writes the same config as export" cmp "$SCRATCH/t.json" "$B/config.json"

"$NSCELL" export --no-hooks -u $U -f "$SCRATCH/t.tpl" -o "$SCRATCH/nohooks" 2>/dev/null
check "--no-hooks: a valid OCI config" oci_validate "$SCRATCH/nohooks/config.json"
out=$(cfg "$SCRATCH/nohooks/config.json" "'hooks' in c, sorted(k for k in c['annotations'])")
contains "--no-hooks: no hooks" "$out" "False ["
lacks "--no-hooks: no origin annotations" "$out" "org.nscell.hash"
out=$("$NSCELL" translate --no-hooks -u $U 2>/dev/null | py 'import json,sys; print("hooks" in json.load(sys.stdin))')
contains "translate --no-hooks: no hooks" "$out" "False"
out=$(env NSCELL_HOOK_BIN=relative/nscell "$NSCELL" translate -u $U 2>&1 >/dev/null)
contains "a relative NSCELL_HOOK_BIN is refused" "$out" "NSCELL_HOOK_BIN 'relative/nscell': not an absolute path"
out=$(env NSCELL_HOOK_BIN=/nonexistent/nscell "$NSCELL" export -u $U -o "$SCRATCH/nobin" 2>&1)
contains "export warns when the hook program is not there" "$out" "warning: the hook program /nonexistent/nscell is not there"

# ---- nscell hook by hand: bad input is refused with a clear message

check_status "hook: an unknown stage exits 2" 2 "$NSCELL" hook prestart
out=$(echo '{"ociVersion": "1.0.2"}' | "$NSCELL" hook createRuntime 2>&1)
contains "hook: a state without id is refused" "$out" "the container state on stdin has no id"
out=$(echo 'nonsense' | "$NSCELL" hook poststop 2>&1)
contains "hook: invalid JSON is refused" "$out" "invalid JSON"
check "hook poststop of a container never registered: fine" sh -c \
	"echo '{\"id\": \"none\", \"bundle\": \"$B\"}' | '$NSCELL' hook poststop"

# ---- runc run of exported bundles

if ! is_root || ! command -v runc >/dev/null 2>&1; then
	skip "runc run of exported bundles: needs root and runc"
	done_testing
fi

OLD_COMMENT=$(getent passwd $U | cut -d: -f5)
usermod -c "edited after export $$" $U
echo two > "$SCRATCH/copied"
IDS="$IDS $ID-1"
out=$(runc run -b "$B" "$ID-1" 2>&1)
contains "runc run: the passwd entry as edited after the export" "$out" "$U:x:$(id -u $U):$(id -g $U):edited after export $$:"
contains "runc run: the copy as changed after the export" "$out" "two"
[ -z "$(ls -A "$NSCELL_STATE_DIR/.runc" 2>/dev/null)" ] && ok "poststop: nothing left registered" ||
	fail "poststop left: $(ls -AR "$NSCELL_STATE_DIR")"

# a running one: ls, enter, unmount
B2=$SCRATCH/b2
"$NSCELL" export -u $U -o "$B2" -- /bin/sleep 60 2>/dev/null
IDS="$IDS $ID-2"
runc run -b "$B2" "$ID-2" >/dev/null 2>"$SCRATCH/run2.err" &
run2=$!
for i in $(seq 50); do
	[ "$(runc state "$ID-2" 2>/dev/null | py 'import json,sys; print(json.load(sys.stdin)["status"])' 2>/dev/null)" = running ] && break
	sleep 0.1
done
pid1=$(runc state "$ID-2" 2>/dev/null | py 'import json,sys; print(json.load(sys.stdin)["pid"])' 2>/dev/null)
out=$("$NSCELL" ls -J | py 'import json,sys
for s in json.load(sys.stdin)["sandboxes"]: print(s["kind"], s["container"], s["user"], s["state"], s["keeper"])' 2>&1)
contains "ls -J: the runc container while it runs, with its pid 1" "$out" "runc $ID-2 $U live $pid1"
out=$("$NSCELL" ls)
contains "ls: the runc container in the table" "$out" "live runc:$ID-2"
out=$("$NSCELL" enter -u $U -- /bin/sh -c 'id -u; cat /proc/1/cmdline | tr "\0" " "; grep -E "CapEff|NoNewPrivs" /proc/self/status' 2>&1)
contains "enter: joins the runc container (its pid 1 is the command)" "$out" "/bin/sleep 60"
contains "enter: as the user" "$out" "$(id -u $U)"
contains "enter: no capabilities" "$out" "CapEff:	0000000000000000"
contains "enter: no_new_privs" "$out" "NoNewPrivs:	1"
check_status "enter: the command's own status" 7 "$NSCELL" enter -u $U -- /bin/sh -c 'exit 7'
out=$("$NSCELL" unmount -u $U 2>&1)
contains "unmount without --kill: left to runc, said so" "$out" "run by runc, left running (--kill ends it)"
"$NSCELL" unmount -u $U --kill >/dev/null 2>&1
wait_for $run2 10
rc=$?
[ $rc = 137 ] && ok "unmount --kill: the container's pid 1 is killed (runc run: 137)" || fail "unmount --kill: runc run exit $rc"
out=$("$NSCELL" ls -J)
lacks "ls -J: not listed after it ended" "$out" "$ID-2"

# a failing hook: runc does not start the container
echo '# changed after export' >> "$SCRATCH/t.tpl"
IDS="$IDS $ID-3"
out=$(runc run -b "$B" "$ID-3" 2>&1)
rc=$?
[ $rc != 0 ] && ok "changed template: runc refuses to start (exit $rc)" || fail "changed template: runc run exit 0"
contains "changed template: the hook says why" "$out" "a template changed since the bundle was exported"
lacks "changed template: the command did not run" "$out" "$U:x:"
runc delete -f "$ID-3" >/dev/null 2>&1
rm "$SCRATCH/t.tpl"
out=$(runc run -b "$B" "$ID-3" 2>&1)
contains "template gone: the hook names it" "$out" "$SCRATCH/t.tpl: cannot read template"
runc delete -f "$ID-3" >/dev/null 2>&1
[ -z "$(ls -A "$NSCELL_STATE_DIR/.runc" 2>/dev/null)" ] && ok "failed hooks register nothing" ||
	fail "registered: $(ls -AR "$NSCELL_STATE_DIR")"

# the shim's persisted sandboxes are listed next to the runc ones
if [ -x "$NSCELL_SHIM" ]; then
	out=$("$NSCELL_SHIM" -p -u $U -- /bin/true 2>&1) || diag "$out"
	out=$("$NSCELL" ls -J | py 'import json,sys; print(sorted(s["kind"] for s in json.load(sys.stdin)["sandboxes"]))' 2>&1)
	contains "ls -J: the shim's sandbox is kind shim" "$out" "['shim']"
	"$NSCELL" unmount -a --kill >/dev/null 2>&1
else
	skip "ls -J of a shim sandbox: no $NSCELL_SHIM"
fi

# rootless runc as the user: the hooks run as the user, in its state dir
UHOME=$(getent passwd $U | cut -d: -f6)
mkdir -p "$SCRATCH/u"
chown $U: "$SCRATCH/u"
if as_user $U env NSCELL_STATE_DIR="$SCRATCH/u/state" HOME="$UHOME" "$NSCELL" export \
	-o "$SCRATCH/u/b" -- /bin/sleep 60 >/dev/null 2>"$SCRATCH/rl.err"; then
	(cd "$SCRATCH/u" && exec setpriv --reuid=$U --regid=$U --init-groups --inh-caps=-all \
		--bounding-set=-all -- env HOME="$UHOME" runc --root "$SCRATCH/u/runc" --rootless true \
		run -b "$SCRATCH/u/b" "$ID-rl" </dev/null >/dev/null 2>"$SCRATCH/rl.err") &
	rl=$!
	for i in $(seq 50); do
		as_user $U env NSCELL_STATE_DIR="$SCRATCH/u/state" "$NSCELL" ls -J 2>/dev/null | grep -q "$ID-rl" && break
		sleep 0.1
	done
	out=$(as_user $U env NSCELL_STATE_DIR="$SCRATCH/u/state" "$NSCELL" ls -J 2>&1)
	contains "rootless: the user's ls -J lists its runc container" "$out" "\"container\": \"$ID-rl\""
	out=$(as_user $U env NSCELL_STATE_DIR="$SCRATCH/u/state" "$NSCELL" enter -- /bin/sh -c 'cat /proc/1/cmdline | tr "\0" " "' 2>&1)
	contains "rootless: enter joins it" "$out" "/bin/sleep 60"
	as_user $U env NSCELL_STATE_DIR="$SCRATCH/u/state" "$NSCELL" unmount -a --kill >/dev/null 2>&1
	wait_for $rl 10
	out=$(as_user $U env NSCELL_STATE_DIR="$SCRATCH/u/state" "$NSCELL" ls -J 2>&1)
	lacks "rootless: gone after unmount --kill" "$out" "$ID-rl"
else
	fail "rootless export"; diag "$(cat "$SCRATCH/rl.err")"
fi

done_testing
