#!/bin/bash
# The OCI back end: `nscell translate` and `nscell export` write valid,
# deterministic config.json files and bundles that runc runs as the user,
# as root and rootless.  (export → read → export is tested in test_oci: the
# CLI has no command that reads a config.json yet.)
. "${SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
scratch

TPLDIR=$SRCDIR/tests/data/templates
TEMPLATES="default all1 all2 all3"
ID=nscell-oci-$$

if is_root && ensure_user nscellexp1; then
	TUSER=nscellexp1
else
	TUSER=$(id -un)
fi
TUID=$(id -u "$TUSER")
TGID=$(id -g "$TUSER")
THOME=$(getent passwd "$TUSER" | cut -d: -f6)
have_runc=no
command -v runc >/dev/null 2>&1 && have_runc=yes

# everything this test starts or makes goes at exit
RUNC_ROOTLESS_STATE=$SCRATCH/runc-state
CGP=nscelltest-$$ # cgroup parent of the limits test
cleanup() {
	if [ "$have_runc" = yes ] && is_root; then
		for t in $TEMPLATES cg; do
			runc delete -f "$ID-$t" >/dev/null 2>&1
		done
		for c in /sys/fs/cgroup/*/"$CGP" /sys/fs/cgroup/"$CGP"; do
			[ -d "$c" ] && rmdir "$c" 2>/dev/null
		done
		for t in default all1 all2; do
			as_user "$TUSER" runc --root "$RUNC_ROOTLESS_STATE" delete -f \
				"$ID-rootless-$t" >/dev/null 2>&1
		done
	fi
	rm -f "$THOME/.nscell-probe-$$"
	rm -rf "$SCRATCH"
}
trap cleanup EXIT

# -f option for a template name ("default" is the built-in one)
tpl_args() {
	[ "$1" = default ] && return
	printf '%s\n' -f "$TPLDIR/$1.tpl"
}

# ---- translate and export: valid, deterministic, the same config ----

for t in $TEMPLATES; do
	if [ "$t" != default ] && [ ! -f "$TPLDIR/$t.tpl" ]; then
		skip "$t: $TPLDIR/$t.tpl missing"
		continue
	fi
	mapfile -t targs < <(tpl_args "$t")
	if [ "$t" = all3 ] && ! is_root; then
		# no-unshare-user, and an unprivileged caller is always rootless
		out=$("$NSCELL" translate "${targs[@]}" 2>&1 >/dev/null)
		contains "$t: refused for an unprivileged caller" "$out" "rootless needs a user namespace"
		continue
	fi
	a=$SCRATCH/$t-a.json b=$SCRATCH/$t-b.json
	if "$NSCELL" translate -u "$TUSER" "${targs[@]}" > "$a" 2>"$SCRATCH/err" &&
		"$NSCELL" translate -u "$TUSER" "${targs[@]}" > "$b" 2>>"$SCRATCH/err"; then
		ok "$t: translate succeeds"
	else
		fail "$t: translate"; diag "$(cat "$SCRATCH/err")"; continue
	fi
	check "$t: translate output is a valid OCI config" oci_validate "$a"
	check "$t: translate is deterministic" cmp "$a" "$b"

	out=$("$NSCELL" translate -u "$TUSER" --rootless "${targs[@]}" 2>&1 > "$SCRATCH/$t-rl.json")
	if [ "$t" = all3 ]; then
		# no-unshare-user: rootless runc needs a user namespace
		contains "$t: --rootless refused without a user namespace" "$out" \
			"rootless needs a user namespace"
	else
		check "$t: translate --rootless is a valid OCI config" oci_validate "$SCRATCH/$t-rl.json"
		rl=$(/usr/bin/python3 -c 'import json,sys; c=json.load(open(sys.argv[1]));
m=c["linux"]["uidMappings"]; print(len(m), m[0]["containerID"], m[0]["hostID"], c["process"]["user"]["uid"], "additionalGids" in c["process"]["user"])' "$SCRATCH/$t-rl.json")
		[ "$rl" = "1 0 $TUID 0 False" ] && ok "$t: rootless maps container 0 to the caller only" ||
			fail "$t: rootless mapping: $rl"
	fi

	d1=$SCRATCH/$t-bundle d2=$SCRATCH/$t-bundle2
	if "$NSCELL" export -u "$TUSER" "${targs[@]}" -o "$d1" 2>"$SCRATCH/err"; then
		ok "$t: export succeeds"
	else
		fail "$t: export"; diag "$(cat "$SCRATCH/err")"; continue
	fi
	check "$t: exported config.json is a valid OCI config" oci_validate "$d1/config.json"
	check "$t: export writes what translate prints" cmp "$a" "$d1/config.json"
	"$NSCELL" export -u "$TUSER" "${targs[@]}" -o "$d2" 2>/dev/null
	check "$t: export is deterministic (config.json)" cmp "$d1/config.json" "$d2/config.json"
	tree() { (cd "$1" && find . -printf '%p %y %m %u %l\n' | sort); }
	if [ "$(tree "$d1")" = "$(tree "$d2")" ]; then
		ok "$t: export is deterministic (tree, types, modes, owners)"
	else
		fail "$t: export trees differ"; diff <(tree "$d1") <(tree "$d2") | sed 's/^/#   /' | head
	fi
	[ "$(stat -c %a "$d1/rootfs")" = 755 ] && ok "$t: rootfs is 0755" ||
		fail "$t: rootfs mode $(stat -c %a "$d1/rootfs")"
done

# export refuses a non-empty directory and leaves it alone
mkdir -p "$SCRATCH/full" && echo keep > "$SCRATCH/full/keep"
check_status "export: refuses a non-empty directory (exit 2)" 2 \
	"$NSCELL" export -u "$TUSER" -o "$SCRATCH/full"
[ -f "$SCRATCH/full/keep" ] && [ ! -e "$SCRATCH/full/rootfs" ] &&
	ok "export: the non-empty directory is untouched" || fail "export: non-empty dir changed"
ln -s "$SCRATCH/full" "$SCRATCH/link"
out=$("$NSCELL" export -u "$TUSER" -o "$SCRATCH/link" 2>&1)
contains "export: refuses a symlink" "$out" "is a symlink"

# every config.json this test made, validated once more together
check "all config.json files validate" oci_validate $(find "$SCRATCH" -name '*.json' -size +0)

# ---- runc runs the bundles ----

# A probe run inside the sandbox: KEY=VALUE lines.  Arguments "w:PATH"
# (is PATH writable?) and "m:PATH" (what is left of an excluded path).
PROBE='
echo "uid=$(id -u)"
echo "gid=$(id -g)"
echo "users=$(cut -d: -f1 /etc/passwd | tr "\n" " ")"
echo "pid1=$(cat /proc/1/comm)"
echo "nproc=$(ls /proc | grep -c "^[0-9]")"
echo "hostname=$(cat /proc/sys/kernel/hostname)"
echo "uidmap=$(head -1 /proc/self/uid_map | tr -s " " | sed "s/^ //")"
for a in "$@"; do
	p=${a#*:}
	case $a in
	w:*) if touch "$p/.nscell-probe-'$$'" 2>/dev/null; then
		echo "w:$p=yes"; rm -f "$p/.nscell-probe-'$$'"
	     else echo "w:$p=no"; fi ;;
	m:*) if [ -d "$p" ]; then echo "m:$p=$(ls -A "$p" | wc -l)"
	     elif [ -e "$p" ]; then echo "m:$p=$(wc -c < "$p")"
	     else echo "m:$p=absent"; fi ;;
	esac
done'

# per template: probe arguments, expected users, hostname
probe_args() {
	case $1 in
	default) echo "w:/usr w:$THOME w:/tmp w:/var" ;; # /var: a dir the user owns
	all1) echo "w:/usr w:/srv/licenses w:$THOME w:/tmp m:/srv/licenses/GPL-3 m:/srv/licenses/Apache-2.0 m:/srv/share/base-files" ;;
	all2) echo "w:/usr w:/srv/frozen w:/tmp w:/var/tmp w:/srv/data w:/run/user/$TUID" ;;
	all3) echo "w:/usr w:/srv/base-files w:/tmp w:/srv/scratch/inner" ;;
	esac
}
want_users() {
	case $1 in
	all1) echo "$TUSER nobody root " ;;
	all3) echo "$TUSER root " ;;
	*) echo "$TUSER " ;;
	esac
}
want_writable() { # paths the user may write
	case $1 in
	default) echo "$THOME /tmp /var" ;;
	all1) echo "$THOME /tmp" ;;
	all2) echo "/tmp /var/tmp /srv/data /run/user/$TUID" ;;
	all3) echo "/tmp /srv/scratch/inner" ;;
	esac
}

check_probe() { # TEMPLATE OUTPUT UID-WANTED
	local t=$1 out=$2 uid=$3 p
	contains "$t: runs as the user's uid" "$out" "uid=$uid"
	contains "$t: /etc/passwd holds only the expected names" "$out" "users=$(want_users "$t")"
	contains "$t: pid 1 is the sandbox's own process" "$out" "pid1=sh"
	n=$(printf '%s\n' "$out" | sed -n 's/^nproc=//p')
	[ -n "$n" ] && [ "$n" -le 8 ] && ok "$t: /proc is the sandbox's ($n pids)" ||
		fail "$t: /proc shows $n pids"
	for p in $(probe_args "$t"); do
		case $p in
		w:*) p=${p#w:}
			if [[ " $(want_writable "$t") " == *" $p "* ]]; then
				contains "$t: $p is writable" "$out" "w:$p=yes"
			else
				contains "$t: $p rejects writes" "$out" "w:$p=no"
			fi ;;
		m:*) p=${p#m:}
			if [[ "$out" == *"m:$p=0"* || "$out" == *"m:$p=absent"* ]]; then
				ok "$t: excluded $p is empty or absent"
			else
				fail "$t: excluded $p still shows"; diag "$(printf '%s\n' "$out" | grep "^m:$p")"
			fi ;;
		esac
	done
	case $t in
	all2|all3) contains "$t: hostname set" "$out" "hostname=nscell-$t" ;;
	esac
}

if ! is_root; then
	skip "runc runs: need root"
elif [ "$have_runc" != yes ]; then
	skip "runc runs: runc not installed"
elif [ "$TUSER" != nscellexp1 ]; then
	skip "runc runs: cannot create the test user"
else
	for t in $TEMPLATES; do
		[ "$t" = default ] || [ -f "$TPLDIR/$t.tpl" ] || continue
		mapfile -t targs < <(tpl_args "$t")
		d=$SCRATCH/$t-run
		if ! "$NSCELL" export --no-hooks -u "$TUSER" "${targs[@]}" -o "$d" -- /bin/sh -c "$PROBE" probe \
			$(probe_args "$t") 2>"$SCRATCH/err"; then
			fail "$t: export for runc"; diag "$(cat "$SCRATCH/err")"; continue
		fi
		check "$t: probe bundle config.json validates" oci_validate "$d/config.json"
		if out=$(cd "$SCRATCH" && timeout 120 runc run -b "$d" "$ID-$t" </dev/null 2>&1); then
			ok "$t: runc runs the bundle"
		else
			fail "$t: runc run"; diag "$out"; continue
		fi
		check_probe "$t" "$out" "$TUID"
		contains "$t: gid is the user's" "$out" "gid=$TGID"
	done

	# cgroup limits from nscell.conf reach runc's cgroup
	printf 'cgroup_parent = %s\nmemory_max = 64M\npids_max = 32\ncpu_max = 50000 100000\n' \
		"$CGP" > "$SCRATCH/cg.conf"
	d=$SCRATCH/cg-run
	if ! "$NSCELL" export --no-hooks -C "$SCRATCH/cg.conf" -u "$TUSER" -o "$d" -- /bin/sleep 60 \
		2>"$SCRATCH/err"; then
		fail "cgroups: export with limits"; diag "$(cat "$SCRATCH/err")"
	elif ! out=$(cd "$SCRATCH" && runc run -d -b "$d" "$ID-cg" </dev/null 2>&1); then
		fail "cgroups: runc run -d"; diag "$out"
	else
		check "cgroups: config.json with limits validates" oci_validate "$d/config.json"
		if [ -d /sys/fs/cgroup/memory ]; then # v1
			got="$(cat "/sys/fs/cgroup/memory/$CGP/nscell-$TUID/memory.limit_in_bytes") $(
				cat "/sys/fs/cgroup/pids/$CGP/nscell-$TUID/pids.max") $(
				cat "/sys/fs/cgroup/cpu/$CGP/nscell-$TUID/cpu.cfs_quota_us") $(
				cat "/sys/fs/cgroup/cpu/$CGP/nscell-$TUID/cpu.cfs_period_us")"
		else
			got="$(cat "/sys/fs/cgroup/$CGP/nscell-$TUID/memory.max") $(
				cat "/sys/fs/cgroup/$CGP/nscell-$TUID/pids.max") $(
				cat "/sys/fs/cgroup/$CGP/nscell-$TUID/cpu.max")"
		fi
		[ "$got" = "67108864 32 50000 100000" ] &&
			ok "cgroups: memory, pids and cpu limits in /$CGP/nscell-$TUID" ||
			fail "cgroups: limits are '$got'"
		runc delete -f "$ID-cg" >/dev/null 2>&1
	fi

	# rootless: the user exports and runs the bundle itself
	if ! as_user "$TUSER" test -x "$NSCELL"; then
		skip "rootless runc: $TUSER cannot execute $NSCELL"
	else
		install -d -o "$TUSER" -m 0700 "$RUNC_ROOTLESS_STATE" "$SCRATCH/rootless"
		for t in default all1 all2; do
			[ "$t" = default ] || [ -f "$TPLDIR/$t.tpl" ] || continue
			mapfile -t targs < <(tpl_args "$t")
			d=$SCRATCH/rootless/$t
			if ! out=$(as_user "$TUSER" env HOME="$THOME" "$NSCELL" export --no-hooks "${targs[@]}" \
				-o "$d" -- /bin/sh -c "$PROBE" probe $(probe_args "$t") 2>&1); then
				fail "rootless $t: export by the user"; diag "$out"; continue
			fi
			check "rootless $t: config.json validates" oci_validate "$d/config.json"
			[ "$(stat -c %u "$d/rootfs")" = "$TUID" ] && ok "rootless $t: bundle owned by the caller" ||
				fail "rootless $t: rootfs owned by $(stat -c %U "$d/rootfs")"
			if out=$(cd "$SCRATCH/rootless" && as_user "$TUSER" timeout 120 runc \
				--root "$RUNC_ROOTLESS_STATE" --rootless true run -b "$d" \
				"$ID-rootless-$t" </dev/null 2>&1); then
				ok "rootless $t: runc --rootless runs the bundle"
			else
				# runc 1.1.5 rootless on a cgroup v1 host: see the SKIP reason
				fail "rootless $t: runc --rootless run"; diag "$out"; continue
			fi
			# runc needs container uid 0 mapped: the caller is container root
			check_probe "$t" "$out" 0
			contains "rootless $t: container 0 is the caller on the host" "$out" "uidmap=0 $TUID 1"
		done
		# a file the sandbox writes in the home is the user's on the host
		d=$SCRATCH/rootless/owner
		as_user "$TUSER" env HOME="$THOME" "$NSCELL" export --no-hooks -o "$d" -- /bin/sh -c \
			"touch $THOME/.nscell-probe-$$" >/dev/null 2>&1
		(cd "$SCRATCH/rootless" && as_user "$TUSER" timeout 120 runc --root "$RUNC_ROOTLESS_STATE" \
			--rootless true run -b "$d" "$ID-rootless-owner" </dev/null >/dev/null 2>&1)
		[ "$(stat -c %u "$THOME/.nscell-probe-$$" 2>/dev/null)" = "$TUID" ] &&
			ok "rootless: files made in the sandbox belong to the user" ||
			fail "rootless: probe file not made or not the user's"
	fi
fi

# ---- valgrind: translate and export leak nothing ----
if ! command -v valgrind >/dev/null 2>&1; then
	skip "valgrind: not installed"
elif grep -qa __asan_init "$NSCELL"; then
	skip "valgrind: $NSCELL is built with AddressSanitizer"
else
	check "valgrind: nscell translate is clean" valgrind -q --error-exitcode=1 \
		--leak-check=full "$NSCELL" translate -u "$TUSER"
	check "valgrind: nscell export is clean" valgrind -q --error-exitcode=1 \
		--leak-check=full "$NSCELL" export -u "$TUSER" -o "$SCRATCH/vg-bundle"
fi

done_testing
