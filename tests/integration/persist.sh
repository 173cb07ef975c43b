#!/bin/bash
# Persisted sandboxes (-p): the first launch builds and keeps the sandbox,
# later ones join it without mounting anything; reload, stale state,
# unmount, ls and enter.  As root for another user, then as an
# unprivileged user for itself.
. "${SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"

U=nscellpers1 U2=nscellpers2
require_users persist $U $U2
scratch
H=$(getent passwd $U | cut -d: -f6)
UID1=$(id -u $U)
ST="$SCRATCH/state"
ORPHANS=""
export NSCELL_STATE_DIR="$ST"
cleanup() {
	timeout 20 "$NSCELL" unmount -a --kill >/dev/null 2>&1
	if [ -d "$SCRATCH/u/state" ]; then
		chmod 0700 "$SCRATCH/u/state"
		as_user $U timeout 20 env NSCELL_STATE_DIR="$SCRATCH/u/state" "$SCRATCH/bin/nscell" unmount -a --kill \
			>/dev/null 2>&1
	fi
	for k in $ORPHANS; do kill -9 "$k" 2>/dev/null; done
	rm -rf "$H/.nscell_reload" "$H/.lsns_reload" "$H/.nscell/tmp/nscell-persist-test"
	rm -rf "$SCRATCH"
}
trap cleanup EXIT

host_before=$(host_mounts)
shimp() { timeout 30 "$NSCELL_SHIM" -p -u $U "$@"; }
NS='readlink /proc/self/ns/mnt /proc/self/ns/pid /proc/self/ns/ipc /proc/self/ns/uts | tr "\n" " "; echo'
keeper() { sed -n 's/^keeper=//p' "$ST/${1:-$UID1}/state" 2>/dev/null; }
alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null && [ "$(cut -d' ' -f3 /proc/"$1"/stat)" != Z ]; }
# wait (at most 5 s) until CMD succeeds
until_true() { for _ in $(seq 50); do "$@" && return 0; sleep 0.1; done; return 1; }
# start_sleep [SHIM OPTIONS]: a long-running command inside a sandbox, as
# the shim's child: SHIM_PID, SLEEP_PID (its pid on the host)
start_sleep() {
	"$NSCELL_SHIM" -p "$@" -- /bin/sleep 97 >/dev/null 2>&1 &
	SHIM_PID=$!
	SLEEP_PID=
	for _ in $(seq 50); do
		for c in $(pgrep -P $SHIM_PID); do
			[ "$(cat /proc/"$c"/comm 2>/dev/null)" = sleep ] && SLEEP_PID=$c && return 0
		done
		sleep 0.1
	done
	return 1
}
sleeping() { alive "$SLEEP_PID"; }
not_sleeping() { ! sleeping; }

# ---- first and second launch: the same namespaces, nothing mounted again
first=$(shimp -- /bin/sh -c "$NS; echo shm > /dev/shm/nscell-x; echo tmp > /tmp/nscell-persist-test; cat /proc/self/mountinfo" 2>&1)
k1=$(keeper)
[ -n "$k1" ] && alive "$k1" && ok "the first launch leaves a keeper (pid $k1)" || { fail "no keeper"; diag "$first"; }
second=$(shimp -- /bin/sh -c "$NS; cat /dev/shm/nscell-x /tmp/nscell-persist-test; cat /proc/self/mountinfo" 2>&1)
[ "$(head -1 <<<"$first")" = "$(head -1 <<<"$second")" ] &&
	ok "the second launch is in the same mnt, pid, ipc and uts namespaces" ||
	{ fail "namespaces differ"; diag "first: $(head -1 <<<"$first")" "second: $(head -1 <<<"$second")"; }
contains "a file in /dev/shm (the sandbox's tmpfs) is seen by the next launch" "$second" $'\nshm'
contains "a file written to /tmp is seen by the next launch" "$second" $'\ntmp'
[ "$(tail -n +2 <<<"$first")" = "$(grep -v -e '^shm$' -e '^tmp$' <<<"$second" | tail -n +2)" ] &&
	ok "the second launch mounts nothing (the sandbox's mountinfo is unchanged)" ||
	fail "the sandbox's mountinfo changed"
[ "$(host_mounts)" = "$host_before" ] && ok "0 host mounts added" || fail "host mounts changed"
[ "$(keeper)" = "$k1" ] && ok "the record still names the first keeper" || fail "keeper changed"
[ -f "$ST/$UID1/lock" ] && [ "$(stat -c %a "$ST/$UID1")" = 700 ] && [ "$(stat -c %a "$ST/$UID1/state")" = 600 ] &&
	ok "state entry $UID1/: lock and state, private" || fail "state entry: $(ls -la "$ST/$UID1" 2>&1)"

out=$(shimp -- /bin/sh -c 'cat /proc/1/comm; echo ppid=$PPID; grep -E "^(CapEff|CapBnd|NoNewPrivs|Seccomp):" /proc/self/status' 2>&1)
contains "pid 1 is the keeper" "$out" "nscell-keeper"
contains "the joined command's parent is outside the pid namespace" "$out" "ppid=0"
contains "joined: no capability" "$out" "CapEff:	0000000000000000"
contains "joined: empty bounding set" "$out" "CapBnd:	0000000000000000"
contains "joined: no_new_privs" "$out" "NoNewPrivs:	1"
contains "joined, no terminal in reach: no seccomp filter needed" "$out" "Seccomp:	0"
out=$(/usr/bin/python3 "$SRCDIR/tests/attack/pty_run.py" 30 "$NSCELL_SHIM" -p -u $U -- /bin/grep Seccomp: /proc/self/status 2>&1)
contains "joined, given a terminal: the seccomp filter" "$out" "Seccomp:	2"
out=$(shimp -- /bin/sh -c 'id -u; id -G' 2>&1)
[ "$out" = "$(id -u $U)"$'\n'"$(id -G $U)" ] && ok "joined: the user's uid and groups" || { fail "joined ids"; diag "$out"; }

rss=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' /proc/"$k1"/status)
[ -n "$rss" ] && [ "$rss" -lt 256 ] && ok "the keeper's RSS is $rss kB (< 256 kB)" || fail "keeper RSS: ${rss:-?} kB"
grep -q '^CapEff:	0000000000000000' /proc/"$k1"/status && grep -q '^NoNewPrivs:	1' /proc/"$k1"/status &&
	ok "the keeper has no capability and no_new_privs" || fail "keeper privileges"
as_user $U kill -9 "$k1" 2>/dev/null; alive "$k1" && ok "the user cannot kill the keeper from the host" ||
	fail "the user killed the keeper"
shimp -- /bin/sh -c 'kill -9 1; kill -TERM 1; kill -USR1 1' >/dev/null 2>&1; sleep 0.3
alive "$k1" && ok "nor from inside" || fail "killed from inside"
out=$(shimp -- /bin/ls /proc/1/fd 2>&1)
contains "the keeper's /proc/1/fd is closed to the user (not dumpable)" "$out" "Permission denied"

# ---- statuses and signals, as for a sandbox of its own
check_status "exit status 7 is passed back" 7 shimp -- /bin/sh -c 'exit 7'
check_status "killed by SIGTERM: 143" 143 shimp -- /bin/sh -c 'kill -TERM $$'
"$NSCELL_SHIM" -p -u $U -- /bin/sh -c 'trap "exit 42" TERM; echo ready; while :; do sleep 0.1; done' > "$SCRATCH/sig" 2>&1 &
pid=$!
until_true grep -q ready "$SCRATCH/sig"
kill -TERM $pid
wait_for $pid 20
rc=$?
[ $rc = 42 ] && ok "SIGTERM to the shim reaches the joined command" || fail "signal forwarding: exit $rc"

# ---- the lock: -v names it; unmount gives up after a while instead of hanging
flock "$ST/$UID1/lock" sleep 1 &
until_true sh -c "! flock -n '$ST/$UID1/lock' true"
out=$(shimp -v -- /bin/true 2>&1)
contains "-v: which lock a launch waits on" "$out" "waiting for the lock $ST/$UID1/lock"
wait
flock "$ST/$UID1/lock" sleep 9 &
holder=$!
until_true sh -c "! flock -n '$ST/$UID1/lock' true"
start=$(date +%s)
out=$(timeout 30 "$NSCELL" unmount -u $U 2>&1); rc=$?
[ $rc = 1 ] && [ $(($(date +%s) - start)) -lt 9 ] && ok "unmount behind a held lock: gives up (exit 1), no hang" ||
	{ fail "unmount behind a held lock: exit $rc"; diag "$out"; }
contains "unmount behind a held lock: says busy" "$out" "busy"
kill $holder 2>/dev/null; wait $holder 2>/dev/null
[ "$(keeper)" = "$k1" ] && alive "$k1" && ok "the busy sandbox is untouched" || fail "the busy sandbox changed"

# ---- enter
out=$(timeout 30 "$NSCELL" enter -u $U -- /bin/sh -c "$NS; cat /dev/shm/nscell-x; id -u" 2>&1)
[ "$(head -1 <<<"$out")" = "$(head -1 <<<"$first")" ] && ok "enter joins the same namespaces" || { fail "enter"; diag "$out"; }
contains "enter: as the user" "$out" $'\n'"$(id -u $U)"
out=$(timeout 30 "$NSCELL" enter --root -u $U -- /bin/sh -c 'id -u; cat /dev/shm/nscell-x' 2>&1)
[ "$out" = $'0\nshm' ] && ok "enter --root: root of the sandbox" || { fail "enter --root"; diag "$out"; }
out=$(timeout 30 "$NSCELL" enter -u $U2 -- /bin/true 2>&1); rc=$?
[ $rc = 2 ] && ok "enter with no sandbox: exit 2" || fail "enter with no sandbox: exit $rc"
contains "enter with no sandbox: says so" "$out" "no persisted sandbox"

# ---- ls
start_sleep -u $U
json=$("$NSCELL" ls -J)
printf '%s' "$json" | /usr/bin/python3 -m json.tool >/dev/null && ok "ls -J is valid JSON" || { fail "ls -J"; diag "$json"; }
out=$(printf '%s' "$json" | /usr/bin/python3 -c '
import json, sys
for s in json.load(sys.stdin)["sandboxes"]:
    print(s["user"], s["uid"], s["keeper"], s["state"], s["processes"], len(s["hash"]))')
contains "ls -J: user, uid, keeper, live, 1 process, the hash" "$out" "$U $UID1 $k1 live 1 16"
out=$("$NSCELL" ls)
contains "ls: a table" "$out" "USER"
contains "ls: the sandbox" "$out" "$k1"

# ---- unmount without --kill: retired, its process goes on, a new sandbox comes
out=$(timeout 20 "$NSCELL" unmount -u $U 2>&1); rc=$?
[ $rc = 0 ] && ok "unmount -u: exit 0" || { fail "unmount -u: exit $rc"; diag "$out"; }
contains "unmount -u: names the process still inside" "$out" "sleep"
sleeping && ok "unmount -u: the process keeps running" || fail "the process was killed"
[ ! -e "$ST/$UID1/state" ] && ok "unmount -u: no current sandbox in the state" || fail "state left"
k2=$(shimp -- /bin/sh -c "$NS" >/dev/null 2>&1; keeper)
[ -n "$k2" ] && [ "$k2" != "$k1" ] && ok "the next launch builds a new sandbox (keeper $k2)" || fail "no new sandbox: $k2"
out=$("$NSCELL" ls -J | /usr/bin/python3 -c '
import json, sys
print(sorted((s["keeper"], s["state"]) for s in json.load(sys.stdin)["sandboxes"]))')
contains "ls: the retired one is listed as retired" "$out" "($k1, 'retired')"
out=$(timeout 20 "$NSCELL" unmount -u $UID1 --kill 2>&1); rc=$?
[ $rc = 0 ] && ok "unmount -u UID --kill: exit 0" || { fail "unmount --kill: exit $rc"; diag "$out"; }
until_true not_sleeping && ok "unmount --kill: the process is gone" ||
	fail "unmount --kill: the process still runs"
! alive "$k1" && ! alive "$k2" && ok "unmount --kill: no keeper left" || fail "a keeper is left"
[ -z "$(ls -A "$ST")" ] && ok "unmount --kill: nothing left in the state directory" || fail "left: $(ls -AR "$ST")"
[ "$(host_mounts)" = "$host_before" ] && ok "0 host mounts added after all this" || fail "host mounts changed"

# ---- 50 concurrent first launches: one sandbox
for i in $(seq 50); do
	shimp -- /bin/sh -c 'readlink /proc/self/ns/mnt' > "$SCRATCH/c.$i" 2>&1 &
done
wait
[ "$(cat "$SCRATCH"/c.* | sort -u | wc -l)" = 1 ] && grep -q '^mnt:' "$SCRATCH/c.1" &&
	ok "50 concurrent first launches share one sandbox" || { fail "concurrent launches"; diag "$(cat "$SCRATCH"/c.* | sort | uniq -c)"; }
n=$("$NSCELL" ls -J | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)["sandboxes"]))')
[ "$n" = 1 ] && ok "one keeper for them" || fail "$n sandboxes"
k1=$(keeper)

# ---- reload: ~/.nscell_reload, ~/.lsns_reload, a template edit
start_sleep -u $U
before=$(shimp -- /bin/sh -c "$NS" 2>&1)
as_user $U touch "$H/.nscell_reload"
after=$(shimp -- /bin/sh -c "$NS" 2>&1)
[ "$before" != "$after" ] && [ "$(keeper)" != "$k1" ] && ok "~/.nscell_reload: a new sandbox (new namespace inodes)" ||
	{ fail "~/.nscell_reload: same sandbox"; diag "$before" "$after"; }
[ ! -e "$H/.nscell_reload" ] && ok "~/.nscell_reload is removed" || fail "~/.nscell_reload is still there"
sleeping && ok "the retired sandbox's process keeps running" || fail "the old process died"
alive "$k1" && ok "so does its keeper" || fail "the old keeper died"
k2=$(keeper)
as_user $U touch "$H/.lsns_reload"
shimp -- /bin/true
[ "$(keeper)" != "$k2" ] && [ ! -e "$H/.lsns_reload" ] && ok "~/.lsns_reload works too" || fail "~/.lsns_reload"
kill $SLEEP_PID
until_true sh -c "! kill -0 $k1 2>/dev/null" && ok "the retired keeper exits after its last process" ||
	fail "the retired keeper is still there"

echo "precious" > "$SCRATCH/target" && chmod 644 "$SCRATCH/target"
k3=$(keeper)
as_user $U ln -s "$SCRATCH/target" "$H/.nscell_reload"
shimp -- /bin/true
[ "$(cat "$SCRATCH/target" 2>/dev/null)" = precious ] && ok "a symlinked ~/.nscell_reload: its target survives" ||
	fail "the symlink's target was touched"
[ ! -L "$H/.nscell_reload" ] && ok "the symlink itself is removed" || fail "the symlink is still there"
rm -f "$H/.nscell_reload"

printf 'web1,hostname\n' > "$SCRATCH/vhost.tpl"
shimp -2 "$SCRATCH/vhost.tpl" -- /bin/true
k4=$(keeper)
out=$(shimp -2 "$SCRATCH/vhost.tpl" -- /bin/hostname 2>&1)
[ "$out" = web1 ] && [ "$(keeper)" = "$k4" ] && ok "a template: built once, then joined" || fail "template: $out"
printf 'web2,hostname\n' > "$SCRATCH/vhost.tpl"
out=$(shimp -2 "$SCRATCH/vhost.tpl" -- /bin/hostname 2>&1)
[ "$out" = web2 ] && [ "$(keeper)" != "$k4" ] && ok "a template edit: a new sandbox from it" || fail "template edit: $out"

# ---- a bound file replaced on the host (mysqld.sock after a restart):
# bound afresh by the next launch, without a rebuild
mkdir -p "$SCRATCH/run" && chmod 755 "$SCRATCH/run"
echo one > "$SCRATCH/run/data" && chmod 644 "$SCRATCH/run/data"
printf '%s /etc/nscell-data,ro-bind\n' "$SCRATCH/run/data" > "$SCRATCH/bindfile.tpl"
shimp -2 "$SCRATCH/bindfile.tpl" -- /bin/true
k5=$(keeper)
echo two > "$SCRATCH/run/new" && chmod 644 "$SCRATCH/run/new" && mv "$SCRATCH/run/new" "$SCRATCH/run/data"
out=$(shimp -2 "$SCRATCH/bindfile.tpl" -- /bin/sh -c 'cat /etc/nscell-data; grep -c " /etc/nscell-data " /proc/self/mountinfo' 2>&1)
[ "$out" = "two"$'\n'"1" ] && ok "a replaced bound file: the next launch sees the new one (one mount there)" ||
	{ fail "replaced bound file"; diag "$out"; }
[ "$(keeper)" = "$k5" ] && ok "... in the same sandbox (no rebuild)" || fail "the sandbox was rebuilt"
out=$(shimp -2 "$SCRATCH/bindfile.tpl" -- /bin/cat /etc/nscell-data 2>&1)
[ "$out" = two ] && ok "... and the launch after it too" || fail "second launch after the refresh: $out"
rm "$SCRATCH/run/data"
out=$(shimp -2 "$SCRATCH/bindfile.tpl" -- /bin/cat /etc/nscell-data 2>&1); rc=$?
[ $rc = 0 ] && [ "$out" = two ] && [ "$(keeper)" = "$k5" ] &&
	ok "a bound file gone from the host: the launch goes on with the old one" || fail "source gone: exit $rc, $out"

# a -try source missing at the first launch (a database started later):
# the sandbox is built again once it is there, and only once
printf '%s /etc/nscell-late,ro-bind-try\n' "$SCRATCH/run/late" > "$SCRATCH/late.tpl"
out=$(shimp -2 "$SCRATCH/late.tpl" -- /bin/sh -c 'cat /etc/nscell-late || echo missing' 2>&1)
k6=$(keeper)
echo late > "$SCRATCH/run/late" && chmod 644 "$SCRATCH/run/late"
out=$(shimp -2 "$SCRATCH/late.tpl" -- /bin/cat /etc/nscell-late 2>&1)
[ "$out" = late ] && [ "$(keeper)" != "$k6" ] && ok "a -try source that appeared: a new sandbox with it" ||
	{ fail "a -try source that appeared: $out"; diag "keeper $k6 -> $(keeper)"; }
k6=$(keeper)
shimp -2 "$SCRATCH/late.tpl" -- /bin/true
[ -n "$k6" ] && [ "$(keeper)" = "$k6" ] && ok "... and the next launch joins it" || fail "rebuilt again"

# ---- a state entry removed behind its keeper's back (a cleaner, by hand):
# ls still finds the keeper by its label, unmount ends it
shimp -- /bin/true
k7=$(keeper)
rm -rf "${ST:?}/$UID1"
out=$("$NSCELL" ls -J | /usr/bin/python3 -c 'import json,sys
print([(s["state"], s["keeper"], s["user"]) for s in json.load(sys.stdin)["sandboxes"] if s["entry"] == sys.argv[1]])' "$UID1")
contains "a keeper whose state entry is gone: ls shows it orphaned" "$out" "('orphaned', $k7, '$U')"
shimp -- /bin/true
[ -n "$(keeper)" ] && [ "$(keeper)" != "$k7" ] && ok "... a launch builds a new sandbox" || fail "no new sandbox"
out=$("$NSCELL" unmount -u $U --kill 2>&1); rc=$?
[ $rc = 0 ] && ! alive "$k7" && ok "unmount -u --kill ends the orphaned keeper too" || { fail "orphan: exit $rc"; diag "$out"; }
contains "... and says so" "$out" "keeper pid $k7 of $UID1, whose state entry was gone: killed"
shimp -- /bin/true

# ---- stale state: a killed keeper, a forged record, a reused pid
k5=$(keeper)
kill -9 "$k5"
until_true sh -c "! kill -0 $k5 2>/dev/null || grep -q '^State:.*Z' /proc/$k5/status"
out=$("$NSCELL" ls -J | /usr/bin/python3 -c 'import json,sys; print([s["state"] for s in json.load(sys.stdin)["sandboxes"]])')
contains "ls shows a killed keeper's sandbox as stale" "$out" "'stale'"
out=$(shimp -- /bin/sh -c 'echo ok' 2>&1)
[ "$out" = ok ] && [ "$(keeper)" != "$k5" ] && alive "$(keeper)" && ok "kill -9 of the keeper: the next launch rebuilds" ||
	{ fail "after kill -9 of the keeper"; diag "$out"; }
sleep 60 & decoy=$!
ORPHANS="$ORPHANS $(keeper)" # forged away from its record: nothing will find it again
sed -i "s/^keeper=.*/keeper=$decoy/" "$ST/$UID1/state"
out=$(shimp -- /bin/sh -c 'cat /proc/1/comm' 2>&1)
[ "$out" = nscell-keeper ] && [ "$(keeper)" != "$decoy" ] && ok "a record naming another process (pid reuse) is stale" ||
	{ fail "pid reuse"; diag "$out"; }
kill $decoy
ORPHANS="$ORPHANS $(keeper)"
printf 'garbage\n' > "$ST/$UID1/state"
check "a malformed record is stale" shimp -- /bin/true
start_sleep -u $U
{ kill -9 $SHIM_PID; wait $SHIM_PID; } 2>/dev/null
until_true not_sleeping && ok "kill -9 of the shim ends its command (parent-death signal)" ||
	fail "the command outlived its shim"
out=$(shimp -- /bin/sh -c 'echo ok' 2>&1)
[ "$out" = ok ] && ok "kill -9 of the shim: the next launch works" || fail "after kill -9 of the shim: $out"

# ---- the pre-5.8 join (one /proc/PID/ns fd each) and the in-shim keeper
a=$(shimp -- /bin/sh -c "$NS" 2>&1)
b=$(NSCELL_SHIM_COMPAT=1 shimp -- /bin/sh -c "$NS" 2>&1)
[ "$a" = "$b" ] && ok "compat: the per-namespace join reaches the same sandbox" || { fail "compat join"; diag "$a" "$b"; }
mkdir -p "$SCRATCH/lone" && cp "$NSCELL_SHIM" "$SCRATCH/lone/"
timeout 20 "$NSCELL" unmount -a --kill >/dev/null 2>&1
out=$(timeout 30 "$SCRATCH/lone/nscell-shim" -v -p -u $U -- /bin/sh -c "$NS" 2>"$SCRATCH/lone.log")
contains "without nscell-keeper next to it: says so" "$(cat "$SCRATCH/lone.log")" "the shim itself keeps the sandbox"
out2=$(timeout 30 "$SCRATCH/lone/nscell-shim" -p -u $U -- /bin/sh -c "$NS; cat /proc/1/comm" 2>&1)
[ "$(head -1 <<<"$out2")" = "$out" ] && contains "without nscell-keeper the shim keeps the sandbox" "$out2" nscell-keeper ||
	{ fail "in-shim keeper"; diag "$out" "$out2"; }

# ---- vhosts, -u -s, -a, persist = yes, -P
cat > "$SCRATCH/nscell.conf" <<EOF
persist = yes
[vhost site1.test]
mode = on
EOF
out=$(timeout 30 "$NSCELL_SHIM" -C "$SCRATCH/nscell.conf" -s site1.test -u $U -- /bin/true 2>&1)
[ -f "$ST/$UID1@site1.test/state" ] && ok "persist = yes in nscell.conf: persisted by default, one entry per vhost" ||
	{ fail "persist = yes"; diag "$out"; ls -R "$ST" | sed 's/^/# /'; }
k6=$(keeper "$UID1@site1.test")
out=$(timeout 30 "$NSCELL_SHIM" -C "$SCRATCH/nscell.conf" -s site1.test -P -u $U -- /bin/sh -c 'cat /proc/1/comm' 2>&1)
contains "-P: a sandbox of its own" "$out" "nscell-shim"
out=$(timeout 30 "$NSCELL" run -p -C "$SCRATCH/nscell.conf" -s site1.test -u $U -- /bin/sh -c 'cat /proc/1/comm' 2>&1)
[ "$out" = nscell-keeper ] && [ "$(keeper "$UID1@site1.test")" = "$k6" ] && ok "nscell run -p joins it" || fail "run -p: $out"
shimp -- /bin/true
start_sleep -C "$SCRATCH/nscell.conf" -s site1.test -u $U
out=$(timeout 20 "$NSCELL" unmount -C "$SCRATCH/nscell.conf" -u $U -s site1.test --kill -v 2>&1); rc=$?
[ $rc = 0 ] && [ ! -e "$ST/$UID1@site1.test" ] && [ -f "$ST/$UID1/state" ] &&
	ok "unmount -u -s: only that vhost's sandbox" || { fail "unmount -u -s (exit $rc)"; diag "$out"; }
until_true not_sleeping && ok "unmount -u -s --kill: its process is gone" ||
	fail "unmount -u -s --kill: the process runs"
! alive "$k6" && ok "unmount -u -s --kill: its keeper is gone" || fail "its keeper is left"
shimp -2 "$SCRATCH/vhost.tpl" -- /bin/true
timeout 30 "$NSCELL_SHIM" -p -u $U2 -- /bin/true
k7=$(keeper "$(id -u $U2)")
out=$(timeout 20 "$NSCELL" unmount -a --kill 2>&1); rc=$?
[ $rc = 0 ] && [ -z "$(ls -A "$ST")" ] && ! alive "$k7" && ok "unmount -a: every sandbox, nothing left" ||
	{ fail "unmount -a (exit $rc)"; diag "$out"; }
out=$(timeout 20 "$NSCELL" unmount -a 2>&1); rc=$?
[ $rc = 0 ] && ok "unmount -a with nothing there: exit 0" || fail "unmount -a on nothing: exit $rc"
check_status "unmount without -u or -a: exit 2" 2 "$NSCELL" unmount
check_status "unmount -u of an unknown user: exit 2" 2 "$NSCELL" unmount -u nscell-no-such-user

# kill -9 of a launch while it builds, at whatever step it has reached
for i in $(seq 12); do
	timeout 20 "$NSCELL" unmount -a --kill >/dev/null 2>&1
	"$NSCELL_SHIM" -p -u $U -- /bin/true >/dev/null 2>&1 &
	pid=$!
	sleep 0.00$((i % 10))
	{ kill -9 $pid; wait $pid; } 2>/dev/null
done
out=$(shimp -- /bin/sh -c 'cat /proc/1/comm' 2>&1)
[ "$out" = nscell-keeper ] && ok "kill -9 of a building launch: the next launch works" || fail "after kill -9 mid-build: $out"

# keepers of this test's user started since the test began: none may be left
# (one killed a moment ago may still be on its way out: give it time)
started=$(cut -d' ' -f22 /proc/$$/stat)
stray_keepers() {
	local k
	for k in $(pgrep -x nscell-keeper); do
		alive "$k" && grep -q "^ *$UID1 " /proc/"$k"/uid_map 2>/dev/null &&
			[ "$(cut -d' ' -f22 /proc/"$k"/stat 2>/dev/null || echo 0)" -ge "$started" ] &&
			[ "$k" != "$(keeper)" ] && ! case " $ORPHANS " in *" $k "*) true ;; *) false ;; esac &&
			echo "$k"
	done
}
no_stray_keepers() { [ -z "$(stray_keepers)" ]; }
until_true no_stray_keepers && until_true no_stray_keepers &&
	ok "no keeper is left running that the state does not name" || fail "keepers left: $(stray_keepers)"

# ---- a state directory others could write is refused
chmod 0777 "$ST"
out=$(shimp -- /bin/true 2>&1); rc=$?
[ $rc = 2 ] && ok "state directory mode 0777: refused (exit 2)" || fail "0777 state dir: exit $rc"
contains "state directory mode 0777: says why" "$out" "writable by group or others"
chmod 0700 "$ST"
chown $U "$ST"
out=$(shimp -- /bin/true 2>&1); rc=$?
[ $rc = 2 ] && contains "a state directory not owned by root: refused" "$out" "not owned by root" ||
	fail "state dir owned by a user: exit $rc"
chown root "$ST"

# ---- an unprivileged caller, for itself
if [ "$(cat /proc/sys/kernel/unprivileged_userns_clone 2>/dev/null || echo 1)" = 0 ] ||
	! as_user $U unshare -U true 2>/dev/null; then
	skip "persist as a user: unprivileged user namespaces are disabled"
else
	mkdir -p "$SCRATCH/bin" "$SCRATCH/u" && chown $U "$SCRATCH/u"
	cp "$NSCELL_SHIM" "$NSCELL" "$(dirname "$NSCELL_SHIM")/nscell-keeper" "$SCRATCH/bin/"
	chmod 755 "$SCRATCH/bin"
	us() { as_user $U timeout 30 env NSCELL_STATE_DIR="$SCRATCH/u/state" "$@"; }
	a=$(us "$SCRATCH/bin/nscell-shim" -p -- /bin/sh -c "$NS; echo x > /dev/shm/u" 2>&1)
	b=$(us "$SCRATCH/bin/nscell-shim" -p -- /bin/sh -c "$NS; cat /dev/shm/u; cat /proc/1/comm" 2>&1)
	[ "$(head -1 <<<"$b")" = "$a" ] && ok "user: the second launch joins the first's sandbox" || { fail "user join"; diag "$a" "$b"; }
	contains "user: its keeper is pid 1" "$b" nscell-keeper
	[ "$(stat -c '%U %a' "$SCRATCH/u/state")" = "$U 700" ] && ok "user: its state directory is its own, 0700" ||
		fail "user state dir: $(stat -c '%U %a' "$SCRATCH/u/state")"
	out=$(us "$SCRATCH/bin/nscell" ls -J)
	contains "user: ls -J lists its sandbox" "$out" '"state": "live"'
	out=$(us "$SCRATCH/bin/nscell" enter -- /bin/cat /dev/shm/u 2>&1)
	[ "$out" = x ] && ok "user: enter" || fail "user enter: $out"
	out=$(us "$SCRATCH/bin/nscell" enter --root -- /bin/true 2>&1); rc=$?
	[ $rc = 2 ] && contains "user: enter --root is refused" "$out" "only for root" || fail "user enter --root: exit $rc"
	ku=$(sed -n 's/^keeper=//p' "$SCRATCH/u/state/$UID1/state")
	out=$(us "$SCRATCH/bin/nscell" unmount -u $U --kill 2>&1); rc=$?
	[ $rc = 0 ] && [ -z "$(ls -A "$SCRATCH/u/state")" ] && until_true sh -c "! kill -0 $ku 2>/dev/null" &&
		ok "user: unmount --kill, nothing left" || { fail "user unmount (exit $rc)"; diag "$out"; }
	# a replaced bound file: the user cannot copy the host's tree into its
	# sandbox, so the sandbox is built again
	echo one > "$SCRATCH/run/data" && chmod 644 "$SCRATCH/run/data"
	us "$SCRATCH/bin/nscell-shim" -p -2 "$SCRATCH/bindfile.tpl" -- /bin/true
	ku=$(sed -n 's/^keeper=//p' "$SCRATCH/u/state/$UID1/state")
	echo two > "$SCRATCH/run/new" && chmod 644 "$SCRATCH/run/new" && mv "$SCRATCH/run/new" "$SCRATCH/run/data"
	out=$(us "$SCRATCH/bin/nscell-shim" -p -2 "$SCRATCH/bindfile.tpl" -- /bin/cat /etc/nscell-data 2>&1)
	[ "$out" = two ] && [ "$(sed -n 's/^keeper=//p' "$SCRATCH/u/state/$UID1/state")" != "$ku" ] &&
		ok "user: a replaced bound file: a new sandbox with the new file" || { fail "user: replaced file"; diag "$out"; }
	us "$SCRATCH/bin/nscell" unmount -a --kill >/dev/null 2>&1
	# without NSCELL_STATE_DIR: $XDG_RUNTIME_DIR/nscell, when that is the user's
	mkdir -m 0700 "$SCRATCH/u/xdg" && chown $U "$SCRATCH/u/xdg"
	out=$(as_user $U timeout 30 env -u NSCELL_STATE_DIR XDG_RUNTIME_DIR="$SCRATCH/u/xdg" \
		"$SCRATCH/bin/nscell-shim" -p -- /bin/true 2>&1)
	[ -f "$SCRATCH/u/xdg/nscell/$UID1/state" ] && ok "user: the state goes to \$XDG_RUNTIME_DIR/nscell" ||
		{ fail "user: XDG_RUNTIME_DIR"; diag "$out"; }
	as_user $U timeout 20 env -u NSCELL_STATE_DIR XDG_RUNTIME_DIR="$SCRATCH/u/xdg" \
		"$SCRATCH/bin/nscell" unmount -a --kill >/dev/null 2>&1
	[ -z "$(ls -A "$SCRATCH/u/xdg/nscell")" ] && ok "user: unmount finds it there too" || fail "user: XDG unmount"
	chmod 0755 "$SCRATCH/u/state"
	out=$(us "$SCRATCH/bin/nscell-shim" -p -- /bin/true 2>&1); rc=$?
	[ $rc = 2 ] && contains "user: a state directory others can read is refused" "$out" "0700" ||
		fail "user state dir 0755: exit $rc"
fi

[ "$(host_mounts)" = "$host_before" ] && ok "host mountinfo: nothing added" || fail "host mounts changed"
done_testing
