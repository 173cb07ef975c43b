#!/bin/bash
# nscell-shim as an OCI runtime: the config's hooks under `run -b` (in
# the runtime spec's order, the state JSON on their stdin), and the
# runc-compatible create/start/state/kill/delete/list cycle with --root.
# As root with the test user (SKIP without); runc is not needed.
. "${SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
scratch

U=nscellrt1
ROOT=$SCRATCH/root
RT=("$NSCELL_SHIM" --root "$ROOT")
py() { /usr/bin/python3 -c "$@"; }
edit() { py "import json,sys; c=json.load(open(sys.argv[1])); $2; json.dump(c, open(sys.argv[1], 'w'))" "$1"; }
run_timed() { "$@" & wait_for $! 60; }
state_valid() {
	/usr/bin/python3 "$SRCDIR/tests/oci_validate.py" "$OCI_SCHEMA_DIR/state-schema.json" "$1"
}

# ---- usage errors: no root needed ----

# --version: runc's first lines, and the C library and linking configure
# chose (musl, static where musl-gcc is: Makefile.am, "musl/")
out=$("$BUILDDIR/nscell-runtime" --version 2>&1)
grep -qx "nscell-runtime version [0-9][0-9.]*" <<<"$out" && ok "nscell-runtime --version: its version" ||
	fail "nscell-runtime --version: no version line: $out"
contains "nscell-runtime --version: the spec's" "$out" "spec: 1.0.2"
if [ -n "${NSCELL_LIBC:-}" ]; then
	grep -qx "libc: $NSCELL_LIBC.*, $NSCELL_RUNTIME_LINK" <<<"$out" &&
		ok "nscell-runtime --version: built on $NSCELL_LIBC, $NSCELL_RUNTIME_LINK" ||
		fail "nscell-runtime --version: not $NSCELL_LIBC, $NSCELL_RUNTIME_LINK: $out"
else
	skip "nscell-runtime --version: not run by make check (how it was built unknown)"
fi

out=$("${RT[@]}" state 2>&1); rc=$?
[ "$rc" = 2 ] && contains "state without an ID: usage error" "$out" "expected one container ID" ||
	fail "state without an ID: exit $rc ($out)"
out=$("${RT[@]}" state nosuch 2>&1)
contains "state of an unknown container: named" "$out" "container nosuch does not exist"
out=$("${RT[@]}" create --console-socket /x -b "$SCRATCH" c 2>&1)
lacks "--console-socket: an option of create's (tests/integration/console.sh)" "$out" "unknown option"
"${RT[@]}" --log "$SCRATCH/log" --log-format json kill nosuch >/dev/null 2>&1
check "--log-format json: the error logged as JSON" py 'import json,sys; l=json.loads(open(sys.argv[1]).readline()); assert l["level"]=="error" and "nosuch" in l["msg"], l' "$SCRATCH/log"
out=$("${RT[@]}" list -q 2>&1)
[ -z "$out" ] && ok "list -q: nothing under a new --root" || fail "list -q: $out"

require_users "runtime" $U
cleanup() {
	for id in $("${RT[@]}" list -q 2>/dev/null); do "${RT[@]}" delete -f "$id" >/dev/null 2>&1; done
	[ -n "$OLD_COMMENT" ] && usermod -c "$OLD_COMMENT" $U 2>/dev/null
	rm -rf "$SCRATCH"
}
trap cleanup EXIT

# ---- run -b: hooks of every stage the shim runs, in order ----

REC=$SCRATCH/rec
cat > "$SCRATCH/hook.sh" <<'EOS'
#!/bin/sh
# hook.sh FILE STAGE [STATUS]: append "STAGE <stdin>" to FILE
printf '%s %s\n' "$2" "$(cat)" >> "$1"
exit "${3:-0}"
EOS
chmod 755 "$SCRATCH/hook.sh"
hooks_py() { # the hooks entry: stage:status pairs
	local s e=""
	for s; do e="$e'${s%%:*}': [{'path': '$SCRATCH/hook.sh', 'args': ['hook.sh', '$REC', '${s%%:*}', '${s#*:}']}],"; done
	echo "c['hooks'] = {$e}"
}
B=$SCRATCH/b
"$NSCELL" export -u $U --no-hooks -o "$B" -- /bin/sh -c 'echo ran > /tmp/marker; echo ran' 2>/dev/null
edit "$B/config.json" "$(hooks_py poststop:0 poststart:0 createRuntime:0 prestart:0)"
out=$(run_timed "$NSCELL_SHIM" run -b "$B" rt-$$ 2>&1); rc=$?
[ "$rc" = 0 ] && [ "$out" = ran ] && ok "run -b with hooks: the process runs" || fail "run -b hooks: exit $rc ($out)"
stages=$(cut -d' ' -f1 "$REC" | tr '\n' ' ')
[ "$stages" = "prestart createRuntime poststart poststop " ] && ok "hooks run in the spec's order" ||
	fail "hook order: $stages"
check "hooks: the state JSON on stdin (id, status, pid, bundle)" py '
import json, sys
states = {}
for line in open(sys.argv[1]):
    stage, js = line.split(" ", 1)
    states[stage] = json.loads(js)
for st, want in (("prestart", "creating"), ("createRuntime", "creating"), ("poststart", "running"), ("poststop", "stopped")):
    s = states[st]
    assert s["id"] == sys.argv[2] and s["bundle"] == sys.argv[3] and s["status"] == want, s
    assert s["ociVersion"] and "annotations" in s, s
assert states["createRuntime"]["pid"] > 1 and states["poststart"]["pid"] == states["createRuntime"]["pid"]
' "$REC" rt-$$ "$B"
head -1 "$REC" | cut -d' ' -f2- > "$SCRATCH/st.json"
check "hooks: the state JSON validates (state-schema.json)" state_valid "$SCRATCH/st.json"

# a failing createRuntime: no start, a clear error, poststop still runs
rm -f "$REC"
edit "$B/config.json" "$(hooks_py createRuntime:3 poststart:0 poststop:0)"
out=$(run_timed "$NSCELL_SHIM" run -b "$B" rt-$$ 2>&1); rc=$?
[ "$rc" = 2 ] && contains "a failing createRuntime hook: named, exit 2" "$out" "hooks.createRuntime[0] ($SCRATCH/hook.sh): exit status 3" ||
	fail "failing createRuntime: exit $rc ($out)"
lacks "a failing createRuntime hook: the process never ran" "$out" "ran"
stages=$(cut -d' ' -f1 "$REC" | tr '\n' ' ')
[ "$stages" = "createRuntime poststop " ] && ok "a failing createRuntime: poststop runs, poststart not" ||
	fail "failing createRuntime: stages $stages"
# a failing poststart is a warning
edit "$B/config.json" "$(hooks_py poststart:4)"
out=$(run_timed "$NSCELL_SHIM" run -b "$B" rt-$$ 2>&1); rc=$?
[ "$rc" = 0 ] && contains "a failing poststart: a warning, the process runs" "$out" "warning" ||
	fail "failing poststart: exit $rc ($out)"
# (createContainer and startContainer: tests/integration/runtime_hooks2.sh)
edit "$B/config.json" "c['hooks'] = {'createContainer': [{'path': '/bin/true'}]}"
out=$(run_timed "$NSCELL_SHIM" run -b "$B" rt-$$ 2>&1); rc=$?
[ "$rc" = 0 ] && ok "createContainer hooks: run" || fail "createContainer /bin/true: exit $rc ($out)"

# an exported bundle with nscell's own hooks (nscell hook)
export NSCELL_STATE_DIR=$SCRATCH/state
H=$SCRATCH/h
OLD_COMMENT=$(getent passwd $U | cut -d: -f5)
NSCELL_HOOK_BIN=$NSCELL "$NSCELL" export -u $U -o "$H" -- /bin/sh -c "grep '^$U:' /etc/passwd; sleep 1" 2>/dev/null
usermod -c "rt-edited-$$" $U
run_timed "$NSCELL_SHIM" run -b "$H" rth-$$ > "$SCRATCH/hout" 2>&1 &
job=$!
# (what the ls that saw it printed: the container lives a second)
for i in $(seq 50); do lsout=$("$NSCELL" ls 2>&1); grep -q "runc:rth-$$" <<<"$lsout" && break; sleep 0.1; done
contains "nscell hooks: nscell ls lists the container while it runs" "$lsout" "runc:rth-$$"
wait $job; rc=$?
[ "$rc" = 0 ] && ok "nscell hooks: run -b exits 0" || fail "nscell hooks: exit $rc ($(cat "$SCRATCH/hout"))"
contains "nscell hooks: createRuntime refreshed the user's passwd entry" "$(cat "$SCRATCH/hout")" "rt-edited-$$"
lacks "nscell hooks: poststop deregistered it" "$("$NSCELL" ls 2>&1)" "rth-$$"
usermod -c "$OLD_COMMENT" $U

# ---- create, start, state, kill, delete, list ----

C=$SCRATCH/c
"$NSCELL" export -u $U -o "$C" --no-hooks -- /bin/sh -c 'echo started > /tmp/m; echo started; exec sleep 60' 2>/dev/null
edit "$C/config.json" "$(hooks_py poststart:0 poststop:0 createRuntime:0); c['annotations']['x.test'] = 'yes'"
rm -f "$REC"
ID=rtc-$$
run_timed "${RT[@]}" create -b "$C" --pid-file "$SCRATCH/pid" $ID > "$SCRATCH/cout" 2>&1; rc=$?
[ "$rc" = 0 ] && ok "create: exit 0" || fail "create: exit $rc ($(cat "$SCRATCH/cout"))"
"${RT[@]}" state $ID > "$SCRATCH/s1.json"
check "state after create: status created" py 'import json,sys; s=json.load(open(sys.argv[1])); assert s["status"]=="created" and s["id"]==sys.argv[2], s' "$SCRATCH/s1.json" $ID
check "state: validates (state-schema.json)" state_valid "$SCRATCH/s1.json"
check "state: the pid of --pid-file, the annotations" py 'import json,sys; s=json.load(open(sys.argv[1])); assert s["pid"]==int(open(sys.argv[2]).read()) and s["annotations"]["x.test"]=="yes", s' "$SCRATCH/s1.json" "$SCRATCH/pid"
check "state: rootfs, the bundle's root.path made absolute (runc's field)" py 'import json,sys; s=json.load(open(sys.argv[1])); assert s["rootfs"]==sys.argv[2], s' "$SCRATCH/s1.json" "$C/rootfs"
out=$("${RT[@]}" ps --format=xml $ID 2>&1); rc=$?
[ "$rc" = 2 ] && contains "ps --format=xml: refused, naming the format" "$out" "--format 'xml': table or json" ||
	fail "ps --format=xml: exit $rc ($out)"
lacks "create: the process waits (it has not run)" "$(cat "$SCRATCH/cout")" "started"
[ "$(cut -d' ' -f1 "$REC" | tr '\n' ' ')" = "createRuntime " ] && ok "create: createRuntime ran, poststart not yet" ||
	fail "create: hooks $(cut -d' ' -f1 "$REC")"
contains "list: the created container" "$("${RT[@]}" list 2>&1)" "created"
check "start: exit 0" "${RT[@]}" start $ID
for i in $(seq 50); do grep -q started "$SCRATCH/cout" && break; sleep 0.1; done
contains "start: the process runs, its output on create's stdout" "$(cat "$SCRATCH/cout")" "started"
"${RT[@]}" state $ID > "$SCRATCH/s2.json"
check "state after start: status running" py 'import json,sys; assert json.load(open(sys.argv[1]))["status"]=="running"' "$SCRATCH/s2.json"
check "state after start: validates" state_valid "$SCRATCH/s2.json"
contains "start: poststart ran" "$(cut -d' ' -f1 "$REC")" "poststart"
out=$("${RT[@]}" start $ID 2>&1)
contains "start twice: refused" "$out" "is running, not created"
out=$("${RT[@]}" delete $ID 2>&1); rc=$?
[ "$rc" = 2 ] && contains "delete of a running container without -f: refused" "$out" "is running" ||
	fail "delete running: exit $rc ($out)"
check "list -f json: a JSON array with it" py 'import json,sys; l=json.loads(sys.argv[1]); assert [s["id"] for s in l]==[sys.argv[2]] and l[0]["status"]=="running"' "$("${RT[@]}" list -f json)" $ID
check "kill ID TERM" "${RT[@]}" kill $ID TERM
for i in $(seq 50); do "${RT[@]}" state $ID | grep -q stopped && break; sleep 0.1; done
"${RT[@]}" state $ID > "$SCRATCH/s3.json"
check "state after kill: stopped, no pid" py 'import json,sys; s=json.load(open(sys.argv[1])); assert s["status"]=="stopped" and "pid" not in s, s' "$SCRATCH/s3.json"
check "state after kill: validates" state_valid "$SCRATCH/s3.json"
out=$("${RT[@]}" kill $ID 2>&1)
contains "kill of a stopped container: refused" "$out" "not running"
check "delete: exit 0" "${RT[@]}" delete $ID
[ "$(cut -d' ' -f1 "$REC" | tail -1)" = poststop ] && ok "delete: poststop ran" || fail "delete: no poststop"
[ -z "$(ls "$ROOT")" ] && ok "delete: the state is gone" || fail "delete: left $(ls "$ROOT")"
out=$("${RT[@]}" state $ID 2>&1)
contains "state after delete: does not exist" "$out" "does not exist"

# delete -f of a running container; an ID in use
run_timed "${RT[@]}" create -b "$C" $ID >/dev/null 2>&1
out=$("${RT[@]}" create -b "$C" $ID 2>&1)
contains "create: an ID in use is refused" "$out" "already exists"
"${RT[@]}" start $ID
pid=$(py 'import json,sys; print(json.load(sys.stdin)["pid"])' < <("${RT[@]}" state $ID))
# who adopts an orphan of ours: pid 1, or a child subreaper above the test
# (containerd's shim is one: containerd.sh); create must tell them apart
# (the sh has exited once its output ends: the sleep is adopted by then)
adopter=$(sh -c 'sleep 3 >/dev/null 2>&1 & echo $!')
adopter=$(ps -o ppid= -p "$adopter" | tr -d ' ')
parent=$(ps -o ppid= -p "$pid" | tr -d ' ')
if [ "$adopter" = 1 ]; then
	[ "$(ps -o comm= -p "$parent")" = nscell-runtime ] &&
		ok "create, no subreaper above: the monitor stays the container's parent" ||
		fail "create, no subreaper above: the container's parent is $parent ($(ps -o comm= -p "$parent"))"
else
	[ "$parent" = "$adopter" ] && ok "create under a subreaper: it adopts the container's pid 1" ||
		fail "create under a subreaper ($adopter): the container's parent is $parent"
fi
check "delete -f: a running container" "${RT[@]}" delete -f $ID
! kill -0 "$pid" 2>/dev/null && ok "delete -f: its pid 1 is gone" || fail "delete -f: pid $pid still there"
# delete of a created container (never started) needs no -f, as runc
run_timed "${RT[@]}" create -b "$C" $ID >/dev/null 2>&1
check "delete: a created container" "${RT[@]}" delete $ID
# a failing createRuntime: create fails, nothing left
edit "$C/config.json" "$(hooks_py createRuntime:5)"
out=$(run_timed "${RT[@]}" create -b "$C" $ID 2>&1); rc=$?
[ "$rc" = 2 ] && contains "create: a failing createRuntime hook named" "$out" "hooks.createRuntime[0]" ||
	fail "create failing hook: exit $rc ($out)"
[ -z "$(ls "$ROOT")" ] && ok "create: a failed create leaves no state" || fail "failed create left $(ls "$ROOT")"

done_testing
