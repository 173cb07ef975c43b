#!/bin/bash
# The plan cache of cold launches (translate/plan_cache.h): the second
# launch takes the resolved plan from STATE/plans, gives the same sandbox,
# and any change to a template, nscell.conf's settings or the user's entry
# is seen by the next launch.  As root for another user, then as an
# unprivileged user for itself.
. "${SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"

U=nscellpc1
require_users "plan cache" $U
scratch
export NSCELL_STATE_DIR="$SCRATCH/state"
host_before=$(host_mounts)
trap 'usermod -s /bin/sh $U >/dev/null 2>&1; rm -rf "$SCRATCH"' EXIT

# Other suites add users meanwhile, and a changed /etc/passwd rightly
# costs a miss: hold the test users' lock while counting hits.
exec 8>"$TEST_USERS_LOCK"
flock 8

# settle FILE...: wait until none changed in the last PLAN_CACHE_SETTLE
# (2) seconds, so that a plan made from them is stored
settle() {
	local f t now
	for _ in $(seq 40); do
		now=$(date +%s)
		t=0
		for f; do [ -e "$f" ] && t=$(( $(stat -c %Z "$f") > t ? $(stat -c %Z "$f") : t )); done
		[ $((now - t)) -gt 2 ] && return 0
		sleep 0.25
	done
}
DB="/etc/passwd /etc/group /etc/nsswitch.conf"
VIEW='id; cat /etc/passwd /etc/group; ls /; cut -d" " -f5 /proc/self/mountinfo'
shim() { timeout 30 "$NSCELL_SHIM" -v "$@" 2>&1; }
# outcome OUTPUT: the launch's "plan cache:" line, without the prefix
outcome() { sed -n 's/.*plan cache: //p' <<<"$1"; }
# view OUTPUT: what the command printed (the shim's -v lines dropped)
view() { grep -v '^nscell-shim\[' <<<"$1"; }

# ---- root, for the user: miss and store, then hit, the same sandbox
printf 'plan_cache = no\n' > "$SCRATCH/off.conf"
settle $DB
first=$(shim -u $U -- /bin/sh -c "$VIEW")
contains "first launch: a miss, and the plan is stored" "$(outcome "$first")" "miss (no entry yet), stored"
second=$(shim -u $U -- /bin/sh -c "$VIEW")
contains "second launch: a hit" "$(outcome "$second")" "hit"
off=$(shim -C "$SCRATCH/off.conf" -u $U -- /bin/sh -c "$VIEW")
contains "plan_cache = no: not used" "$(outcome "$off")" "off (nscell.conf)"
[ "$(view "$second")" = "$(view "$off")" ] && [ "$(view "$first")" = "$(view "$off")" ] &&
	ok "a cached plan gives the same sandbox (ids, passwd, group, /, mounts)" ||
	{ fail "the views differ"; diag "$(diff <(view "$second") <(view "$off") | head -20)"; }
n=$(find "$SCRATCH/state/plans" -type f | wc -l)
mode=$(stat -c '%a %U' "$SCRATCH/state/plans" "$SCRATCH/state/plans"/* | sort -u | tr '\n' ' ')
[ "$n" = 1 ] && [ "$mode" = "600 root 700 root " ] &&
	ok "one entry, 0600 in a 0700 directory, root's" || fail "entries: $n, modes: $mode"

# ---- a vhost template changed in place (same size, same inode)
printf '/nscell-pc-a,dir\n' > "$SCRATCH/v.tpl"
settle "$SCRATCH/v.tpl" $DB
shim -u $U -2 "$SCRATCH/v.tpl" -- /bin/true >/dev/null
out=$(shim -u $U -2 "$SCRATCH/v.tpl" -- /bin/ls /)
contains "a second template: hit" "$(outcome "$out")" "hit"
printf '/nscell-pc-b,dir\n' > "$SCRATCH/v.tpl"
out=$(shim -u $U -2 "$SCRATCH/v.tpl" -- /bin/ls /)
contains "edited a moment ago: the edit is seen" "$(view "$out")" "nscell-pc-b"
contains "... and not stored while it may still change unseen" "$(outcome "$out")" "changed a moment ago"
out=$(shim -u $U -2 "$SCRATCH/v.tpl" -- /bin/ls /)
contains "... the next launch sees it too" "$(view "$out")" "nscell-pc-b"
settle "$SCRATCH/v.tpl"
out=$(shim -u $U -2 "$SCRATCH/v.tpl" -- /bin/ls /)
contains "settled: stored again" "$(outcome "$out")" "stored"
out=$(shim -u $U -2 "$SCRATCH/v.tpl" -- /bin/ls /)
contains "... and a hit" "$(outcome "$out")" "hit"
lacks "... without the old entry" "$(view "$out")" "nscell-pc-a"

# ---- the user's entry changed
usermod -s /bin/bash $U
settle $DB
out=$(shim -u $U -- /bin/grep "^$U:" /etc/passwd)
contains "the user's new shell: a miss" "$(outcome "$out")" "changed"
contains "... and the new entry inside" "$(view "$out")" ":/bin/bash"
usermod -s /bin/sh $U
settle $DB
out=$(shim -u $U -- /bin/grep "^$U:" /etc/passwd)
contains "changed back: seen again" "$(view "$out")" ":/bin/sh"

# ---- entries that cannot be trusted or read
shim -u $U -- /bin/true >/dev/null
entry=$(ls -t "$SCRATCH/state/plans"/* | head -1)
chmod 0666 "$entry"
out=$(shim -u $U -- /bin/sh -c "$VIEW")
contains "a writable entry: not trusted" "$(outcome "$out")" "not trusted"
[ "$(view "$out")" = "$(view "$off")" ] && ok "... and the launch is right" || fail "wrong sandbox"
[ "$(stat -c %a "$entry")" = 600 ] && ok "... and it is replaced by a private one" || fail "entry mode $(stat -c %a "$entry")"
printf 'nscell plan cache 1\ngarbage' > "$entry"
out=$(shim -u $U -- /bin/sh -c "$VIEW")
contains "a damaged entry: a miss" "$(outcome "$out")" "miss ("
[ "$(view "$out")" = "$(view "$off")" ] && ok "... and the launch is right" || fail "wrong sandbox"

# ---- what the key cannot hold: no cache
printf '/usr/bin/env,hostexec\n' > "$SCRATCH/hx.tpl"
printf 'hostexec_client = %s\n' "$BUILDDIR/nscell-hostexec" > "$SCRATCH/hx.conf"
out=$(shim -C "$SCRATCH/hx.conf" -u $U -2 "$SCRATCH/hx.tpl" -- /bin/true)
contains "a hostexec entry: not used" "$(outcome "$out")" "not used: hostexec"

# ---- not a persisted sandbox: ls and unmount -u leave it alone, -a clears it
out=$("$NSCELL" ls 2>&1)
lacks "nscell ls does not list plans/" "$out" "plans"
"$NSCELL" unmount -u $U >/dev/null 2>&1
[ -n "$(ls "$SCRATCH/state/plans")" ] && ok "nscell unmount -u leaves the plan cache" || fail "plans/ emptied"
out=$("$NSCELL" unmount -a -v 2>&1)
contains "nscell unmount -a -v says it clears the plan cache" "$out" "plan cache: "
[ -z "$(ls -A "$SCRATCH/state")" ] && ok "... and leaves nothing in the state directory" ||
	fail "left: $(ls -A "$SCRATCH/state")"
out=$(shim -u $U -- /bin/true)
contains "the next launch stores the plan again" "$(outcome "$out")" "miss (no entry yet), stored"

# ---- the unprivileged caller, for itself, in its own state directory
mkdir -p "$SCRATCH/bin" "$SCRATCH/u" && chown $U "$SCRATCH/u"
cp "$NSCELL_SHIM" "$SCRATCH/bin/" && chmod 755 "$SCRATCH/bin"
ushim() { as_user $U env NSCELL_STATE_DIR="$SCRATCH/u/state" timeout 30 "$SCRATCH/bin/nscell-shim" -v "$@" 2>&1; }
first=$(ushim -- /bin/sh -c "$VIEW")
contains "[user] first launch: stored" "$(outcome "$first")" "stored"
second=$(ushim -- /bin/sh -c "$VIEW")
contains "[user] second launch: a hit" "$(outcome "$second")" "hit"
[ "$(view "$first")" = "$(view "$second")" ] && ok "[user] the same sandbox" ||
	{ fail "[user] the views differ"; diag "$(diff <(view "$first") <(view "$second") | head -20)"; }
owner=$(stat -c '%U %a' "$SCRATCH/u/state/plans"/*)
[ "$owner" = "$U 600" ] && ok "[user] the entry is the user's own" || fail "[user] entry: $owner"
flock -u 8

[ "$(host_mounts)" = "$host_before" ] && ok "the host's mount table is unchanged" ||
	{ fail "host mounts changed"; diag "$(diff <(echo "$host_before") <(host_mounts))"; }
done_testing
