#!/bin/bash
# Hostile vhost templates (tests/data/hostile/*.tpl): what an attacker who
# writes a vhost template might try.  Each must either be refused with an
# error naming FILE:LINE, or run without giving the user anything beyond
# what the template literally grants to a non-root uid; the first line
# "# expect: refused" or "# expect: runs" of each file says which.  In
# both modes (root for the user; the user for itself).
. "${SRCDIR:-$(dirname "$0")/../..}/tests/attack/escape_lib.sh"
escape_setup "hostile templates"
HOSTILE=$SRCDIR/tests/data/hostile

# a user whose passwd home (~/site) lies in a directory the user owns,
# so the user decides what the home is
U3=nscellesc3
H3=/home/$U3
ensure_user $U3 -M -d "$H3/site"
mkdir -p "$H3" && chown $U3: "$H3" && chmod 755 "$H3"

setpriv --reuid=$U --regid=$U --init-groups sleep 600 </dev/null >/dev/null 2>&1 &
VICTIM=$!
cleanup() {
	kill $VICTIM 2>/dev/null
	rm -rf "$H/nscell-root" "$H/nscell-secret" "$H/nscell-null" "$H/nscell-mem" "$H3/site" /root/nscell-tmp
	rm -rf "$SCRATCH"
}
trap cleanup EXIT

escape_canaries
# /root's names (less escape_fs's sentinel: it runs alongside)
root_names() { ls -A /root | grep -vx zz-escape-sentinel; }
root_before=$(root_names)

# ---- each template: refused naming FILE:LINE, or runs
for tpl in "$HOSTILE"/*.tpl; do
	name=$(basename "$tpl")
	expect=$(sed -n 's/^# expect: \([a-z]*\).*/\1/p' "$tpl" | head -1)
	out=$("$NSCELL" check -u $U -2 "$tpl" 2>&1); check_rc=$?
	out2=$(cell root -2 "$tpl" -- /bin/true 2>&1); rc=$?
	case $expect in
	refused)
		if [ $rc = 2 ] && printf '%s\n' "$out2" | grep -q "$name:[0-9]"; then
			ok "$name: refused, the error names $name:LINE"
		else
			fail "$name: not refused as it should be (exit $rc)"; diag "$out2"
		fi
		# what the parser catches, nscell check reports too
		if [ $check_rc = 1 ]; then
			contains "$name: nscell check reports FILE:LINE:COL" "$out" "$name:"
		elif [ $check_rc = 0 ]; then
			ok "$name: nscell check passes it (refused only at launch, by the shim)"
		else
			fail "$name: nscell check exit $check_rc"; diag "$out"
		fi ;;
	runs)
		case $name in
		home-*) ok "$name: runs or is refused depending on the home (below)" ;;
		*) [ $rc = 0 ] && ok "$name: runs" || { fail "$name: exit $rc"; diag "$out2"; } ;;
		esac ;;
	*) fail "$name: no '# expect:' line" ;;
	esac
done

for m in $MODES; do
	t="[$m]"
	hv() { cell $m -2 "$HOSTILE/$1" -- /bin/sh -c "$2" 2>&1; }

	# ---- the host's procfs: host processes are visible, never a way out
	out=$(hv proc-rw.tpl "ls /proc/$VICTIM/root/ && echo ROOT-LISTED; cat /proc/$VICTIM/root$HOSTDIR/canary;
		cat /proc/$VICTIM/environ >/dev/null && echo ENVIRON; kill -0 $VICTIM && echo SIGNALLED;
		echo 1 > /proc/sys/kernel/ns_last_pid && echo SYSCTL; echo done")
	contains "$t proc-rw: the attack ran" "$out" "done"
	for k in ROOT-LISTED nscell-HOST-CANARY ENVIRON SIGNALLED SYSCTL; do
		lacks "$t proc-rw: refused: $k" "$out" "$k"
	done
	# without a user namespace a host process of the user is the user's to
	# inspect, and its /proc/PID/root is the host's root
	out=$(hv proc-rw-nouserns.tpl "cat /proc/$VICTIM/root$HOSTDIR/canary; ls /proc/$VICTIM/root/ >/dev/null && echo ROOT-LISTED; echo done")
	case "$out" in
	*nscell-HOST-CANARY*|*ROOT-LISTED*)
		fail "$t proc-rw-nouserns: /proc/PID/root of a host process leads to the host's /" ;;
	*"is a procfs: refused without a user namespace"*)
		[ $m = root ] && ok "$t proc-rw-nouserns: a procfs bind without a user namespace is refused" ||
			fail "$t proc-rw-nouserns: refused though the sandbox has a user namespace" ;;
	*done*)
		# (unprivileged, the sandbox always has a user namespace)
		[ $m = user ] && ok "$t proc-rw-nouserns: the attack ran and did not reach the host's /" ||
			fail "$t proc-rw-nouserns: a procfs bind without a user namespace ran" ;;
	*) fail "$t proc-rw-nouserns: neither refused nor run"; diag "$out" ;;
	esac

	out=$(hv proc-sys-rw.tpl "echo 1 > /proc/sys/kernel/ns_last_pid && echo NS_LAST_PID;
		echo 3 > /proc/sys/vm/drop_caches && echo DROP_CACHES; echo done")
	contains "$t proc-sys-rw: the attack ran" "$out" "done"
	lacks "$t proc-sys-rw: kernel.ns_last_pid stays root's" "$out" "NS_LAST_PID"
	lacks "$t proc-sys-rw: vm.drop_caches stays root's" "$out" "DROP_CACHES"

	out=$(hv sys-rw.tpl "echo 1 > /sys/kernel/mm/ksm/run && echo KSM; mkdir /sys/fs/cgroup/pids/nscell-esc && echo CGROUP;
		echo 1 > /sys/fs/cgroup/pids/cgroup.procs && echo CGROUP-PROCS; echo done")
	contains "$t sys-rw: the attack ran" "$out" "done"
	for k in KSM CGROUP CGROUP-PROCS; do
		lacks "$t sys-rw: refused: $k" "$out" "$k"
	done
	rmdir /sys/fs/cgroup/pids/nscell-esc 2>/dev/null

	# ---- device access granted: still only what a non-root uid may do
	rootdev=$(awk '$5 == "/" { print $3; exit }' /proc/self/mountinfo)
	disk=$(ls -l /dev | awk -v d="${rootdev/:/, }" '$1 ~ /^b/ && $5 " " $6 == d { print "/dev/" $10; exit }')
	out=$(hv dev-bind.tpl "head -c1 /dev/mem && echo MEM; head -c1 /dev/port && echo PORT;
		${disk:+head -c 512 $disk >/dev/null && echo DISK;} echo x > /dev/kmsg && echo KMSG;
		mknod /tmp/nscell-sda b 8 0 && echo MKNOD; echo done")
	contains "$t dev-bind: the attack ran" "$out" "done"
	for k in MEM PORT DISK KMSG MKNOD; do
		lacks "$t dev-bind: refused: $k" "$out" "$k"
	done
	[ -n "$disk" ] || diag "no block device found for / ($rootdev): the disk read was not tried"

	rm -f "$H/nscell-null" "$H/nscell-mem"
	mknod -m 666 "$H/nscell-null" c 1 3 && mknod -m 666 "$H/nscell-mem" c 1 1
	out=$(hv dev-bind-home.tpl "echo x > '$H/nscell-null' && echo NULL-WORKS; head -c1 '$H/nscell-mem' && echo MEM;
		mknod '$H/nscell-zero' c 1 5 && echo MKNOD; echo done")
	contains "$t dev-bind-home: the attack ran" "$out" "done"
	contains "$t dev-bind-home: the null node works (what dev-bind grants)" "$out" "NULL-WORKS"
	lacks "$t dev-bind-home: a mem node still cannot be read" "$out" "MEM"
	lacks "$t dev-bind-home: no device node can be made" "$out" "MKNOD"
	rm -f "$H/nscell-null" "$H/nscell-mem" "$H/nscell-zero"

	# ---- /etc/shadow as a link target, a bind, a copy
	out=$(hv shadow.tpl "cat /etc/nscell-shadow /srv/secret/shadow /srv/secret/shadow-copy; echo done")
	lacks "$t shadow: no line of /etc/shadow can be read" "$out" "root:"

	# ---- the home as the root, with symlinks planted in it
	rm -rf "$H/nscell-root"
	host_user mkdir -p "$H/nscell-root"
	host_user ln -s /root "$H/nscell-root/etc"
	host_user ln -s "$HOSTDIR" "$H/nscell-root/proc"
	host_user ln -s /etc "$H/nscell-root/dev"
	out=$(cell $m -2 "$HOSTILE/home-as-root.tpl" -- /bin/sh -c 'cat /proc/canary; ls /etc /dev; echo done' 2>&1); rc=$?
	{ [ $rc = 0 ] || [ $rc = 2 ]; } && ok "$t home-as-root: runs or is refused (exit $rc)" || { fail "$t home-as-root: exit $rc"; diag "$out"; }
	lacks "$t home-as-root: the host dir behind a planted symlink is not shown" "$out" "nscell-HOST-CANARY"
	[ "$(root_names)" = "$root_before" ] && ok "$t home-as-root: nothing made in /root" || fail "$t home-as-root: /root changed"
	[ "$(ls -A "$HOSTDIR")" = canary ] && ok "$t home-as-root: nothing made in the host dir" || fail "$t home-as-root: host dir changed"
	rm -rf "$H/nscell-root"

	# ---- a home that is a symlink the user controls
	rm -f "$H3/site"
	as_user $U3 ln -s "$ROOTONLY" "$H3/site"
	out=$(as_user $U3 cat "$H3/site/pub/canary" 2>&1)
	lacks "$t home-symlink control: on the host the user cannot read the root-only dir" "$out" "nscell-ROOT-CANARY"
	if [ $m = root ]; then
		out=$("$SHIM" -u $U3 -2 "$HOSTILE/home-symlink.tpl" -- /bin/cat /data/canary 2>&1)
	else
		out=$(as_user $U3 "$SHIM" -2 "$HOSTILE/home-symlink.tpl" -- /bin/cat /data/canary 2>&1)
	fi
	case "$out" in *nscell-ROOT-CANARY*) held=no ;; *) held=yes ;; esac
	# user-tree sources are opened with the user's own access, in both modes
	[ $held = yes ] && ok "$t home-symlink: \$HOMEDIR sources do not lead into a dir the user cannot enter" ||
		fail "$t home-symlink: \$HOMEDIR sources lead into a dir the user cannot enter"
	rm -f "$H3/site"
done

[ ! -e /root/nscell-tmp ] && ok "tmp-root: /root/nscell-tmp was not made" || fail "tmp-root: /root/nscell-tmp made"
[ ! -e /etc/nscell-x ] && ok "the refused destinations made nothing in /etc" || fail "/etc/nscell-x made"
check_host_mounts "after the hostile templates"
done_testing
