#!/bin/bash
# createContainer and startContainer hooks under nscell-runtime, with the
# other four stages: every hook records its stage, its mount namespace,
# whether / is the host's or the container's, its working directory, its
# uid and the state JSON on its stdin into one file, in the rootfs of an
# exported bundle (user namespace, the process as the test user):
# the order of the six stages, the namespace each runs in, the state each
# sees; the same bundle under runc 1.1.5 when runc is there (SKIP when
# not); failures (exit status, timeout, a path that is not in the
# container) named, the process not run, poststop run.  As root.
. "${SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
scratch

U=hktest1
RUNTIME=${NSCELL_RUNTIME:-$BUILDDIR/nscell-runtime}
ROOT=$SCRATCH/root
py() { /usr/bin/python3 -c "$@"; }
edit() { py "import json,sys; c=json.load(open(sys.argv[1])); $2; json.dump(c, open(sys.argv[1], 'w'))" "$1"; }
run_timed() { "$@" & wait_for $! 60; }

require_users "createContainer and startContainer hooks" $U
IDS=""
cleanup() {
	for id in $IDS; do runc delete -f "$id" >/dev/null 2>&1; done
	for id in $("$RUNTIME" --root "$ROOT" list -q 2>/dev/null); do
		"$RUNTIME" --root "$ROOT" delete -f "$id" >/dev/null 2>&1
	done
	rm -rf "$SCRATCH"
}
trap cleanup EXIT

HOST_MNT=$(readlink /proc/self/ns/mnt)
B=$SCRATCH/b
REC=$B/rootfs/hk/rec
"$NSCELL" export -u $U --no-hooks -o "$B" -- /bin/sh -c \
	'printf "process mnt=%s uid=%s\n" "$(readlink /proc/self/ns/mnt)" "$(id -u)" >> /hk/rec' 2>/dev/null
mkdir -m 1777 "$B/rootfs/hk"
# hook.sh STAGE RECORD [STATUS|sleep]: one line into RECORD.  / is the
# container's when /hk/hook.sh is there; the cwd is the new root when
# ./hk/hook.sh is.  The host's copy is under /tmp (the build tmpfs covers
# it in the container's mount namespace before the pivot: opened before).
cat > "$SCRATCH/hook.sh" <<'EOS'
#!/bin/sh
st=$(cat)
root=host; [ -e /hk/hook.sh ] && root=container
cwd=other; [ -e ./hk/hook.sh ] && cwd=rootfs
printf '%s mnt=%s root=%s cwd=%s uid=%s state=%s\n' "$1" "$(readlink /proc/self/ns/mnt)" \
	"$root" "$cwd" "$(id -u)" "$st" >> "$2"
[ "$3" = sleep ] && sleep 10
exit "${3:-0}"
EOS
chmod 755 "$SCRATCH/hook.sh"
cp "$SCRATCH/hook.sh" "$B/rootfs/hk/hook.sh"
cp "$B/config.json" "$SCRATCH/config.orig"

# hooks STAGE[:STATUS[:TIMEOUT]]...: config.json with those hooks; the
# startContainer hook is the container's /hk/hook.sh, the others the host's
hooks() {
	local s stage code t path rec e=""
	for s; do
		IFS=: read -r stage code t <<< "$s"
		path=$SCRATCH/hook.sh rec=$REC
		case $stage in
		createContainer) rec=hk/rec ;;
		startContainer) path=/hk/hook.sh rec=/hk/rec ;;
		startContainer@host) stage=startContainer rec=/hk/rec ;;
		esac
		e="$e'$stage': [{'path': '$path', 'args': ['hook.sh', '$stage', '$rec', '${code:-0}'],
			'env': ['PATH=/usr/bin:/bin']${t:+, 'timeout': $t}}],"
	done
	cp "$SCRATCH/config.orig" "$B/config.json"
	edit "$B/config.json" "c['hooks'] = {$e}"
	# written by root and by the user
	: > "$REC"
	chmod 666 "$REC"
}
ALL="prestart createRuntime createContainer startContainer poststart poststop"
stages() { [ -s "$REC" ] && cut -d' ' -f1 "$REC" | grep -v '^process' | tr '\n' ' '; }

# ---- run -b: all six stages ----
hooks $ALL
out=$(run_timed "$RUNTIME" run -b "$B" hk2-$$ 2>&1); rc=$?
[ "$rc" = 0 ] && ok "run -b with all six stages: exit 0" || fail "run -b: exit $rc ($out)"
[ "$(stages)" = "$ALL " ] && ok "the six stages run in the spec's order" || fail "order: $(stages)"
cp "$REC" "$SCRATCH/rec.nscell"
# facts the spec and runc agree on, per stage
FACTS='
import json, sys
host_mnt = sys.argv[2]
rec = {}
for line in open(sys.argv[1]):
    words = line.rstrip("\n").split(" ", 5)
    f = dict(w.split("=", 1) for w in words[1:5])
    if words[0] == "process":
        f = dict(w.split("=", 1) for w in words[1:3])
    else:
        f["state"] = json.loads(words[5].split("=", 1)[1])
    rec[words[0]] = f
cont_mnt = rec["process"]["mnt"]
assert cont_mnt != host_mnt, "the process is in the host mount namespace"
def check(stage, mnt, root, status, pid, uid=None, cwd=None):
    f = rec[stage]
    s = f["state"]
    assert f["mnt"] == (cont_mnt if mnt == "container" else host_mnt), (stage, "mnt", f, cont_mnt)
    assert f["root"] == root, (stage, "root", f)
    assert s["status"] == status and s["id"] == sys.argv[3] and s["bundle"] == sys.argv[4], (stage, s)
    assert pid(s.get("pid")), (stage, "pid", s)
    if uid is not None:
        assert f["uid"] == uid, (stage, "uid", f)
    if cwd is not None:
        assert f["cwd"] == cwd, (stage, "cwd", f)
'
check_stage() { # DESCRIPTION RECORD ID CHECK-CALL
	check "$1" py "$FACTS
$4" "$2" "$HOST_MNT" "$3" "$B"
}
UID_U=$(id -u $U)
check_stage "prestart, createRuntime: the host's namespace, creating, the container's host pid" \
	"$SCRATCH/rec.nscell" hk2-$$ '
p = rec["createRuntime"]["state"]["pid"]
check("prestart", "host", "host", "creating", lambda x: x == p and x > 1)
check("createRuntime", "host", "host", "creating", lambda x: x > 1)'
check_stage "createContainer: the container's mount namespace before the pivot, cwd the new root, creating, pid 1" \
	"$SCRATCH/rec.nscell" hk2-$$ 'check("createContainer", "container", "host", "creating", lambda x: x == 1, uid="0", cwd="rootfs")'
check_stage "startContainer: in the container after the pivot, as the process's user, created, pid 1" \
	"$SCRATCH/rec.nscell" hk2-$$ "check('startContainer', 'container', 'container', 'created', lambda x: x == 1, uid='$UID_U')"
check_stage "poststart, poststop: the host's namespace; running with the pid, stopped without" \
	"$SCRATCH/rec.nscell" hk2-$$ '
p = rec["createRuntime"]["state"]["pid"]
check("poststart", "host", "host", "running", lambda x: x == p)
check("poststop", "host", "host", "stopped", lambda x: x is None)'
grep '^startContainer' "$SCRATCH/rec.nscell" | sed 's/.* state=//' > "$SCRATCH/st.json"
check "startContainer's state validates (state-schema.json)" \
	/usr/bin/python3 "$SRCDIR/tests/oci_validate.py" "$OCI_SCHEMA_DIR/state-schema.json" "$SCRATCH/st.json"

# ---- the same bundle under runc ----
if command -v runc >/dev/null; then
	hooks $ALL
	IDS="$IDS hk2r-$$"
	out=$(run_timed runc run -b "$B" hk2r-$$ 2>&1); rc=$?
	[ "$rc" = 0 ] && ok "runc: the same bundle runs" || fail "runc run: exit $rc ($out)"
	cp "$REC" "$SCRATCH/rec.runc"
	# runc 1.1.5 runs poststart at create, before startContainer
	# (opencontainers/runc#4347, moved in #5186): compared without it
	no_poststart() { grep -v -e '^process' -e '^poststart' "$1" | cut -d' ' -f1 | tr '\n' ' '; }
	r=$(no_poststart "$SCRATCH/rec.runc") n=$(no_poststart "$SCRATCH/rec.nscell")
	[ -n "$r" ] && [ "$r" = "$n" ] && ok "the order of the stages is runc's (poststart aside)" ||
		fail "order: runc '$r', nscell '$n'"
	diag "runc's order: $(stages)"
	check_stage "runc: createContainer and startContainer where nscell runs them" \
		"$SCRATCH/rec.runc" hk2r-$$ "
check('createContainer', 'container', 'host', 'creating', lambda x: x == 1, uid='0', cwd='rootfs')
check('startContainer', 'container', 'container', 'created', lambda x: x == 1, uid='$UID_U')"
	runc delete -f hk2r-$$ >/dev/null 2>&1
else
	skip "runc: not installed, the order is not compared with runc's"
	skip "runc: not installed, createContainer and startContainer not compared"
fi

# ---- failures ----
hooks prestart createRuntime createContainer:3 startContainer poststart poststop
out=$(run_timed "$RUNTIME" run -b "$B" hk2-$$ 2>&1); rc=$?
[ "$rc" = 2 ] && contains "a failing createContainer hook: exit 2, named" "$out" \
	"hooks.createContainer[0] ($SCRATCH/hook.sh): exit status 3" || fail "failing createContainer: exit $rc ($out)"
[ "$(stages)" = "prestart createRuntime createContainer poststop " ] &&
	ok "a failing createContainer: the process never runs, poststop does" || fail "stages: $(stages)"
lacks "a failing createContainer: no process" "$(cat "$REC")" "process"

hooks createContainer:0:1 poststop
edit "$B/config.json" "c['hooks']['createContainer'][0]['args'][3] = 'sleep'"
start=$(date +%s)
out=$(run_timed "$RUNTIME" run -b "$B" hk2-$$ 2>&1); rc=$?
[ "$rc" = 2 ] && contains "a createContainer hook past its timeout: killed, named" "$out" \
	"hooks.createContainer[0] ($SCRATCH/hook.sh): timed out after 1 s" || fail "timeout: exit $rc ($out)"
[ $(($(date +%s) - start)) -lt 8 ] && ok "the timeout is kept (under 8 s)" || fail "took $(($(date +%s) - start)) s"
[ "$(stages)" = "createContainer poststop " ] &&
	ok "createContainer alone, failing: poststop runs" || fail "stages: $(stages)"

hooks prestart createRuntime createContainer startContainer:4 poststart poststop
out=$(run_timed "$RUNTIME" run -b "$B" hk2-$$ 2>&1); rc=$?
[ "$rc" = 2 ] && contains "a failing startContainer hook: exit 2, named" "$out" \
	"hooks.startContainer[0] (/hk/hook.sh): exit status 4" || fail "failing startContainer: exit $rc ($out)"
[ "$(stages)" = "prestart createRuntime createContainer startContainer poststop " ] &&
	ok "a failing startContainer: no process, no poststart, poststop runs" || fail "stages: $(stages)"

# the host's path of the hook is not in the container: startContainer's path is the container's
hooks startContainer@host poststop
out=$(run_timed "$RUNTIME" run -b "$B" hk2-$$ 2>&1); rc=$?
[ "$rc" = 2 ] && contains "startContainer: the path resolves in the container (not there: named)" "$out" \
	"hooks.startContainer[0] ($SCRATCH/hook.sh): exit status 127" || fail "host path: exit $rc ($out)"

# ---- create, start, delete ----
hooks $ALL
ID=hk2c-$$
# (the process's stdio is create's: a file, not a pipe to wait on)
run_timed "$RUNTIME" --root "$ROOT" create -b "$B" $ID > "$SCRATCH/cout" 2>&1 </dev/null; rc=$?
[ "$rc" = 0 ] && ok "create: exit 0" || fail "create: exit $rc ($(cat "$SCRATCH/cout"))"
[ "$(stages)" = "prestart createRuntime createContainer " ] &&
	ok "create: prestart, createRuntime, createContainer ran" || fail "create: $(stages)"
check "start: exit 0" "$RUNTIME" --root "$ROOT" start $ID
[ "$(stages)" = "prestart createRuntime createContainer startContainer poststart " ] &&
	ok "start: startContainer, then poststart" || fail "start: $(stages)"
for i in $(seq 50); do grep -q '^process' "$REC" && break; sleep 0.1; done
contains "start: the process ran" "$(cat "$REC")" "process"
for i in $(seq 50); do "$RUNTIME" --root "$ROOT" state $ID 2>/dev/null | grep -q stopped && break; sleep 0.1; done
check "delete: exit 0" "$RUNTIME" --root "$ROOT" delete $ID
[ "$(stages)" = "$ALL " ] && ok "delete: poststop last" || fail "create/start/delete: $(stages)"

hooks prestart createRuntime createContainer:5 poststop
run_timed "$RUNTIME" --root "$ROOT" create -b "$B" $ID > "$SCRATCH/cout" 2>&1 </dev/null; rc=$?
out=$(cat "$SCRATCH/cout")
[ "$rc" = 2 ] && contains "create: a failing createContainer hook named" "$out" "hooks.createContainer[0]" ||
	fail "create, failing createContainer: exit $rc ($out)"
[ -z "$(ls "$ROOT")" ] && ok "create: a failed createContainer leaves no state" || fail "left $(ls "$ROOT")"
[ "$(stages)" = "prestart createRuntime createContainer poststop " ] &&
	ok "create: a failed createContainer runs poststop (as runc)" || fail "stages: $(stages)"

done_testing
