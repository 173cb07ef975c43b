#!/bin/bash
# Escape attempts through the file system: symlinks the user plants in
# the home before a launch (the tmp dir, bind sources, destinations), a
# directory swapped for a symlink while launches run (runc
# CVE-2021-30465), writes through read-only binds, remounts and umounts
# (also from a nested user namespace, where the flags are locked).  In
# both modes (root for the user; the user for itself).
# a user of its own: its ~/.nscell/tmp is replaced by symlinks here, which
# would break the launches of the other escape tests running alongside
ESCAPE_USER=nscellesc4
. "${SRCDIR:-$(dirname "$0")/../..}/tests/attack/escape_lib.sh"
escape_setup "escape through the file system"

cleanup() {
	[ -n "${SWAPPERS:-}" ] && { kill $SWAPPERS; pkill -KILL -u $U -x swap; } 2>/dev/null
	rm -rf "$H/nscell-race" "$H/nscell-www" "$H/nscell-src" "$H/nscell-secret"
	# put the user's tmp dir back as a plain directory
	if [ -L "$H/.nscell" ] || [ -L "$H/.nscell/tmp" ] || [ -L "$H/.nscell/var_tmp" ]; then
		rm -f "$H/.nscell/tmp" "$H/.nscell/var_tmp" "$H/.nscell"
	fi
	rm -rf "$SCRATCH"
}
trap cleanup EXIT

escape_canaries
# no name of ours may appear where a symlink pointed
planted() { ls -d /etc/nscell-* /root/nscell-* "$H2"/nscell-* "$HOSTDIR"/nscell-* 2>/dev/null; }

# as_user: files in the home are the user's own doing
u() { host_user "$@"; }

for m in $MODES; do
	t="[$m]"

	# ---- the disk-backed tmp dir, replaced by a symlink before the launch
	for target in /etc /root "$H2" "$HOSTDIR"; do
		rm -rf "$H/.nscell/tmp"
		u mkdir -p "$H/.nscell" && u ln -sfn "$target" "$H/.nscell/tmp"
		out=$(cell $m -- /bin/sh -c 'ls /tmp; touch /tmp/nscell-planted && echo PLANTED' 2>&1); rc=$?
		[ $rc = 2 ] && ok "$t ~/.nscell/tmp -> $target: the launch is refused" || { fail "$t tmp -> $target: exit $rc"; diag "$out"; }
		contains "$t ~/.nscell/tmp -> $target: the error says why" "$out" "(a symlink?)"
		[ ! -e "$target/nscell-planted" ] && ok "$t ~/.nscell/tmp -> $target: nothing written there" ||
			{ fail "$t file planted in $target"; rm -f "$target/nscell-planted"; }
		rm -f "$H/.nscell/tmp"
	done
	rm -rf "$H/.nscell"
	u ln -sfn /root "$H/.nscell"
	out=$(cell $m -- /bin/true 2>&1); rc=$?
	[ $rc = 2 ] && ok "$t ~/.nscell -> /root: the launch is refused" || { fail "$t .nscell -> /root: exit $rc"; diag "$out"; }
	rm -f "$H/.nscell"
	# a tmp entry of its own (/var/tmp,tmp: ~/.nscell/var_tmp)
	u mkdir -p "$H/.nscell" && u ln -sfn /etc "$H/.nscell/var_tmp"
	printf '/var/tmp,tmp\n' > "$SCRATCH/vartmp.tpl"
	out=$(cell $m -2 "$SCRATCH/vartmp.tpl" -- /bin/sh -c 'ls /var/tmp' 2>&1); rc=$?
	[ $rc = 2 ] && ok "$t ~/.nscell/var_tmp -> /etc: refused" || { fail "$t var_tmp -> /etc: exit $rc"; diag "$out"; }
	contains "$t ... naming the template line" "$out" "$SCRATCH/vartmp.tpl:1"
	rm -f "$H/.nscell/var_tmp"

	# ---- bind and copy sources in the home, replaced by symlinks
	u ln -sfn /etc/shadow "$H/nscell-src"
	printf '$HOMEDIR/nscell-src /x,copy\n' > "$SCRATCH/copy.tpl"
	out=$(cell $m -2 "$SCRATCH/copy.tpl" -- /bin/cat /x 2>&1); rc=$?
	[ $rc = 2 ] && ok "$t a copy source symlinked to /etc/shadow is refused" || { fail "$t copy of a symlink: exit $rc"; diag "$out"; }
	lacks "$t ... and no shadow line is shown" "$out" "root:"
	u ln -sfn "$HOSTDIR" "$H/nscell-src"
	printf '$HOMEDIR/nscell-src /data,ro-bind-try\n' > "$SCRATCH/src.tpl"
	out=$(cell $m -2 "$SCRATCH/src.tpl" -- /bin/cat /data/canary 2>&1); rc=$?
	lacks "$t a bind source symlinked to a host dir is not followed" "$out" "nscell-HOST-CANARY"
	[ $rc = 2 ] && ok "$t ... the launch is refused (a symlink in the user's tree)" || { fail "$t bind of a symlink: exit $rc"; diag "$out"; }
	u rm -f "$H/nscell-src"; u mkdir -p "$H/nscell-src"; u ln -sfn "$HOSTDIR" "$H/nscell-src/sub"
	printf '$HOMEDIR/nscell-src/sub/canary /data,ro-bind\n' > "$SCRATCH/src2.tpl"
	out=$(cell $m -2 "$SCRATCH/src2.tpl" -- /bin/cat /data 2>&1); rc=$?
	lacks "$t a symlink in the middle of a bind source is not followed" "$out" "nscell-HOST-CANARY"
	rm -rf "$H/nscell-src"

	# ---- a bind destination through a symlink the user planted
	for target in /etc /root "$H2"; do
		u ln -sfn "$target" "$H/nscell-www"
		printf '%s $HOMEDIR/nscell-www/nscell-x,ro-bind\n%s $HOMEDIR/nscell-www/nscell-d,dir\n' \
			"$HOSTDIR" > "$SCRATCH/dst.tpl"
		# a name only the host's directory has
		only=shadow
		[ $target != /etc ] && only=zz-escape-sentinel && touch "$target/$only"
		out=$(cell $m -2 "$SCRATCH/dst.tpl" -- /bin/sh -c "ls -A $target" 2>&1)
		[ $target != /etc ] && rm -f "$target/$only"
		lacks "$t destination through ~/nscell-www -> $target: the host's $target is not shown" "$out" "$only"
		[ ! -e "$target/nscell-x" ] && [ ! -e "$target/nscell-d" ] &&
			ok "$t destination through ~/nscell-www -> $target: nothing made on the host" ||
			{ fail "$t host $target/nscell-x made"; rmdir "$target/nscell-x" "$target/nscell-d" 2>/dev/null; }
	done
	rm -f "$H/nscell-www"
	[ -z "$(planted)" ] && ok "$t nothing planted in /etc, /root or the other home" || fail "$t planted: $(planted)"

	# ---- the race: directories swapped with symlinks while launching
	rm -rf "$H/nscell-race"
	u mkdir -p "$H/nscell-race/src" "$H/nscell-race/dst" "$H/nscell-race/tmpdir"
	u sh -c "echo user-data > '$H/nscell-race/src/file'"
	u ln -s "$HOSTDIR" "$H/nscell-race/src.lnk"
	u ln -s /etc "$H/nscell-race/dst.lnk"
	u ln -s "$HOSTDIR" "$H/nscell-race/tmp.lnk"
	cat > "$SCRATCH/race.tpl" <<T
\$HOMEDIR/nscell-race/src /data,ro-bind
/usr/share/zoneinfo \$HOMEDIR/nscell-race/dst/nscell-x,ro-bind
\$HOMEDIR/nscell-race/dst/nscell-d,dir
\$HOMEDIR/nscell-race/tmpdir /scratch,tmp
T
	SWAPPERS=
	for p in src dst tmpdir; do
		lnk=$p.lnk; [ $p = tmpdir ] && lnk=tmp.lnk
		as_user $U "$A/swap" 120 "$H/nscell-race/$p" "$H/nscell-race/$lnk" >/dev/null 2>&1 &
		SWAPPERS="$SWAPPERS $!"
	done
	good=0 refused=0 exposed=0 other=0
	for i in $(seq 200); do
		out=$(cell $m -2 "$SCRATCH/race.tpl" -- /bin/sh -c \
			'cat /data/file /data/canary /scratch/canary 2>/dev/null; ls -d /etc/nscell-x 2>/dev/null; echo end' 2>&1)
		rc=$?
		case "$out" in
		*nscell-HOST-CANARY*) exposed=$((exposed + 1)); diag "launch $i exposed the host: $out" ;;
		esac
		if [ $rc = 0 ]; then good=$((good + 1)); elif [ $rc = 2 ]; then refused=$((refused + 1)); else
			other=$((other + 1)); diag "launch $i: exit $rc: $out"; fi
	done
	# $! is as_user's subshell, which may not exec setpriv: the swapper
	# itself can be its child
	kill $SWAPPERS 2>/dev/null; pkill -KILL -u $U -x swap; wait $SWAPPERS 2>/dev/null; SWAPPERS=
	diag "$t race: $good launches ran, $refused refused a symlink"
	[ $exposed = 0 ] && ok "$t 200 racing launches never expose the host dir" || fail "$t $exposed launches exposed the host dir"
	[ $other = 0 ] && ok "$t every racing launch ran or was refused cleanly (exit 0 or 2)" || fail "$t $other launches ended otherwise"
	[ ! -e /etc/nscell-x ] && [ ! -e /etc/nscell-d ] && [ ! -e "$HOSTDIR/nscell-x" ] && [ ! -e "$HOSTDIR/nscell-d" ] &&
		ok "$t the race made nothing on the host" ||
		{ fail "$t the race made mount points on the host"; ls -la /etc/nscell-* "$HOSTDIR" | sed 's/^/#   /'; }
	[ "$(cat "$HOSTDIR/canary")" = nscell-HOST-CANARY ] && [ "$(ls "$HOSTDIR")" = canary ] &&
		ok "$t the canary dir is unchanged" || fail "$t the canary dir changed: $(ls "$HOSTDIR")"
	check_host_mounts "$t after the race"
	rm -rf "$H/nscell-race"

	# ---- read-only binds stay read-only
	out=$(cell $m -- /bin/sh -c 'touch /usr/nscell-x && echo USR; echo x >> /etc/hosts && echo HOSTS;
		touch /lib/nscell-x && echo LIB; mount -o remount,rw /usr && echo REMOUNT; umount /usr && echo UMOUNT;
		echo nscell-x >> /etc/passwd; echo done' 2>&1)
	contains "$t the read-only attack ran" "$out" "done"
	for k in USR HOSTS LIB REMOUNT UMOUNT; do
		lacks "$t refused: $k" "$out" "$k"
	done
	[ ! -e /usr/nscell-x ] && [ ! -e /lib/nscell-x ] && ok "$t nothing written to the host's /usr or /lib" || fail "$t host /usr or /lib written"
	# the generated /etc/passwd is the sandbox's own file (the user's in
	# user mode): writing it changes nothing outside
	! grep -qx nscell-x /etc/passwd && ok "$t the host's /etc/passwd is not written" || fail "$t host /etc/passwd written"

	# ---- an excluded path cannot be uncovered
	u mkdir -p "$H/nscell-secret" && u sh -c "echo nscell-SECRET > '$H/nscell-secret/file'"
	printf '$HOMEDIR,bind\n!$HOMEDIR/nscell-secret\n' > "$SCRATCH/hide.tpl"
	out=$(cell $m -2 "$SCRATCH/hide.tpl" -- /bin/sh -c "
		cat '$H/nscell-secret/file'; umount '$H/nscell-secret' && echo UMOUNT;
		unshare -Urm sh -c \"umount '$H/nscell-secret' && echo NESTED-UMOUNT; umount -l '$H/nscell-secret' && echo NESTED-LAZY;
			mount -o remount,rw,bind '$H/nscell-secret' && echo NESTED-REMOUNT; cat '$H/nscell-secret/file'\";
		mount --move '$H/nscell-secret' /tmp && echo MOVED; echo done" 2>&1)
	contains "$t the unhide attack ran" "$out" "done"
	lacks "$t an excluded directory stays hidden (umount, nested umount, remount, move)" "$out" "nscell-SECRET"
	for k in UMOUNT NESTED-UMOUNT NESTED-LAZY NESTED-REMOUNT MOVED; do
		lacks "$t refused: $k" "$out" "$k"
	done
	rm -rf "$H/nscell-secret"

	# ---- the nested namespace cannot make a read-only bind writable
	out=$(attack $m unshare -Urm /bin/sh -c 'mount -o remount,rw /usr && echo NESTED-RW;
		mount -o remount,bind,rw /etc/hosts && echo NESTED-HOSTS-RW; mount --bind /tmp /usr/share && touch /usr/nscell-y && echo NESTED-WRITE;
		echo done' 2>&1)
	contains "$t the nested remount attack ran" "$out" "done"
	for k in NESTED-RW NESTED-HOSTS-RW NESTED-WRITE; do
		lacks "$t nested user namespace: refused: $k (locked read-only)" "$out" "$k"
	done
	[ ! -e /usr/nscell-y ] && ok "$t nothing written to the host's /usr from a nested namespace" || fail "$t host /usr written"
done

[ -z "$(planted)" ] && ok "nothing planted in /etc, /root, the other home or the canary dir" || fail "planted: $(planted)"
check_host_mounts "after every attack"
done_testing
