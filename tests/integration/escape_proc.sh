#!/bin/bash
# Escape attempts through /proc, file descriptors, the working directory,
# the terminal and privileges, each made from inside the sandbox by the
# user's code, in both modes (root for the user; the user for itself).
# Every attack must fail; tests/attack/ holds the attack programs.
. "${SRCDIR:-$(dirname "$0")/../..}/tests/attack/escape_lib.sh"
escape_setup "escape through /proc, fds, tty, privileges"

# a host process of the user, outside any sandbox: the target of kill and ptrace
setpriv --reuid=$U --regid=$U --init-groups sleep 600 </dev/null >/dev/null 2>&1 &
VICTIM=$!
trap 'kill $VICTIM 2>/dev/null; rm -f "$H/nscell-suid-id" "$H/nscell-null" "$H/nscell-mem" "$H/nscell-capcat"; rm -rf "$SCRATCH"' EXIT

# a conf whose vhost runs unsandboxed: only the seccomp filter stands
# between its commands and TIOCSTI
printf '[vhost nscell-off.test]\nmode = off\n' > "$SCRATCH/off.conf"

for m in $MODES; do
	t="[$m]"

	# ---- the terminal (bwrap CVE-2017-5226, CVE-2019-10063)
	# control: the same pusher outside the sandbox does reach the terminal,
	# so the harness sees an injection when there is one
	out=$(/usr/bin/python3 "$A/pty_run.py" 20 setpriv --reuid=$U --regid=$U --init-groups \
		"$A/tiocsti" 'echo nscell-injected' 2>&1)
	contains "$t control: TIOCSTI outside the sandbox reaches the terminal" "$out" "PENDING: b'echo nscell-injected"
	out=$(/usr/bin/python3 "$A/pty_run.py" 20 $([ $m = user ] && echo setpriv --reuid=$U --regid=$U \
		--init-groups --inh-caps=-all --bounding-set=-all) "$SHIM" $([ $m = root ] && echo -u $U) \
		-2 "$ATTACK_TPL" -- /attack/tiocsti 'echo nscell-injected' 2>&1)
	contains "$t TIOCSTI from inside is refused" "$out" "TIOCSTI: refused"
	contains "$t TIOCSTI with high bits (CVE-2019-10063) is refused" "$out" "TIOCSTI|1<<32: refused"
	contains "$t TIOCSCTTY (taking the caller's terminal) is refused" "$out" "TIOCSCTTY: refused"
	contains "$t nothing was pushed into the caller's terminal" "$out" "PENDING: b''"
	# mode = off: no new session (the shim leads the terminal's session
	# here), the filter alone must stop both variants
	out=$(/usr/bin/python3 "$A/pty_run.py" 20 $([ $m = user ] && echo setpriv --reuid=$U --regid=$U \
		--init-groups --inh-caps=-all --bounding-set=-all) "$SHIM" $([ $m = root ] && echo -u $U) \
		-C "$SCRATCH/off.conf" -s nscell-off.test -- "$A/tiocsti" 'echo nscell-injected' 2>&1)
	contains "$t unsandboxed vhost: the filter refuses TIOCSTI" "$out" "TIOCSTI: refused (Operation not permitted)"
	contains "$t unsandboxed vhost: the filter refuses TIOCSTI with high bits" "$out" \
		"TIOCSTI|1<<32: refused (Operation not permitted)"
	contains "$t unsandboxed vhost: nothing was pushed" "$out" "PENDING: b''"

	# ---- /proc/1 is the sandbox's init: it must not lead to the host
	out=$(attack $m /bin/sh -c 'ls /proc/1/root/ && echo ROOT-LISTED; readlink /proc/1/root /proc/1/cwd && echo LINK-READ;
		cat /proc/1/root/etc/shadow && echo SHADOW; ls /proc/1/fd && echo FD-LISTED; echo done' 2>&1)
	contains "$t the attack ran" "$out" "done"
	lacks "$t /proc/1/root cannot be listed" "$out" "ROOT-LISTED"
	lacks "$t /proc/1/root and cwd cannot be read" "$out" "LINK-READ"
	lacks "$t /proc/1/fd cannot be listed" "$out" "FD-LISTED"
	out=$(attack $m /usr/bin/python3 -c '
import os
os.chdir("/proc/self/root")
print(sorted(os.listdir(".")))
print("host-only:", [p for p in ("boot", "root/.bashrc", "etc/shadow", "home/'$U2'") if os.path.lexists(p)])' 2>&1)
	contains "$t /proc/self/root is the sandbox's root, nothing of the host's" "$out" "host-only: []"

	# ---- the shim's binary (runc CVE-2019-5736)
	out=$(attack $m /attack/exe_write 2>&1); rc=$?
	[ $rc = 0 ] && ok "$t /proc/1/exe (the init's, the parent's) cannot be opened for writing" ||
		{ fail "$t /proc/1/exe opened for writing"; diag "$out"; }
	out=$(attack $m /bin/sh -c '/attack/exe_write $(ls /proc | grep "^[0-9]")' 2>&1); rc=$?
	[ $rc = 0 ] && ok "$t no process's exe in the sandbox can be opened for writing" ||
		{ fail "$t some exe opened for writing"; diag "$out"; }
	check_shim_intact "$t exe attacks"

	# ---- kernel knobs
	hostname_before=$(hostname)
	out=$(attack $m /bin/sh -c '
		echo 1 > /proc/sys/kernel/ns_last_pid && echo NS_LAST_PID;
		echo 3 > /proc/sys/vm/drop_caches && echo DROP_CACHES;
		echo nscell-pwned > /proc/sys/kernel/hostname && echo HOSTNAME;
		echo h > /proc/sysrq-trigger && echo SYSRQ;
		head -c 16 /proc/kcore | wc -c; cat /proc/kcore >/dev/null && echo KCORE-READ;
		echo done' 2>&1)
	contains "$t the knob attack ran" "$out" "done"
	for k in NS_LAST_PID DROP_CACHES HOSTNAME SYSRQ KCORE-READ; do
		lacks "$t write/read refused: $k" "$out" "$k"
	done
	[ "$(hostname)" = "$hostname_before" ] && ok "$t the host's hostname is unchanged" || fail "$t host hostname changed"
	out=$(attack $m /bin/sh -c 'grep -E " /proc/(sys|sysrq-trigger|kcore) " /proc/self/mountinfo' 2>&1)
	contains "$t /proc/sys is a read-only mount" "$out" " /proc/sys ro,"
	for f in sysrq-trigger kcore; do
		if [ -e /proc/$f ]; then
			contains "$t /proc/$f is masked read-only" "$out" " /proc/$f ro,"
		else
			ok "$t /proc/$f: this kernel has none (absent inside too)"
		fi
	done

	# ---- file descriptors (runc CVE-2024-21626)
	out=$(attack $m /attack/fdscan 7</etc 8<"$SCRATCH" 9</dev/null 2>&1); rc=$?
	[ $rc = 0 ] && ok "$t only fds 0 1 2 arrive (the caller held host dirs on 7 and 8)" ||
		{ fail "$t fds leaked into the sandbox"; diag "$out"; }
	lacks "$t no fd points to a directory" "$out" "(a directory)"
	out=$(cell $m -2 "$ATTACK_TPL" --keep-fd 9 -- /attack/fdscan 9 7</etc 9</dev/null 2>&1); rc=$?
	[ $rc = 0 ] && ok "$t --keep-fd 9: fd 9 and nothing else" || { fail "$t --keep-fd 9"; diag "$out"; }
	contains "$t --keep-fd 9 arrives" "$out" "fd 9 -> /dev/null"

	# ---- the working directory must be inside the root
	touch "$SCRATCH/nscell-host-marker"
	escaped=no refused=0
	for n in 3 4 5 6 7 8 9 10 11 12; do
		out=$(cell $m -d /proc/self/fd/$n -- /bin/sh -c 'pwd; ls' 5<"$SCRATCH" 6</etc 2>&1); rc=$?
		case "$out" in *nscell-host-marker*|*shadow*) escaped=yes; diag "-d /proc/self/fd/$n: $out" ;; esac
		[ $rc = 2 ] && refused=$((refused + 1))
	done
	[ $escaped = no ] && ok "$t -d /proc/self/fd/N never starts the command in a host directory" ||
		fail "$t -d /proc/self/fd/N reached a host directory"
	[ $refused = 10 ] && ok "$t -d /proc/self/fd/3..12 are all refused (exit 2)" || fail "$t -d /proc/self/fd/N: $refused of 10 refused"
	out=$(cell $m --keep-fd 5 -d /proc/self/fd/5 -- /bin/sh -c 'pwd; ls' 5<"$SCRATCH" 2>&1); rc=$?
	[ $rc = 2 ] && ok "$t -d through a kept host directory fd is refused" || { fail "$t -d /proc/self/fd/5 kept: exit $rc"; diag "$out"; }
	contains "$t ... saying the directory is outside the sandbox" "$out" "outside the sandbox"
	lacks "$t ... and the command did not run there" "$out" "nscell-host-marker"
	for d in /proc/1/cwd /proc/1/root /proc/self/root/../..; do
		out=$(cell $m -d $d -- /bin/sh -c 'ls' 2>&1)
		lacks "$t -d $d does not reach the host" "$out" "nscell-host-marker"
	done

	# ---- set-id binaries, device nodes and file capabilities in a bind
	cp /usr/bin/id "$H/nscell-suid-id" && chown root:root "$H/nscell-suid-id" && chmod 4755 "$H/nscell-suid-id"
	out=$(host_user "$H/nscell-suid-id" -u 2>&1)
	if [ "$out" = 0 ]; then
		ok "$t control: the set-uid copy of id gives euid 0 on the host"
	else
		skip "$t control: the home is mounted nosuid on the host already ($out)"
	fi
	out=$(cell $m -- "$H/nscell-suid-id" -u 2>&1)
	[ "$out" = "$UID1" ] && ok "$t a set-uid root binary in the home runs as the user (nosuid, no_new_privs)" ||
		fail "$t set-uid binary inside: euid $out"
	rm -f "$H/nscell-suid-id"

	rm -f "$H/nscell-null" "$H/nscell-mem"
	mknod -m 666 "$H/nscell-null" c 1 3 && mknod -m 666 "$H/nscell-mem" c 1 1
	out=$(host_user /bin/sh -c "echo x > '$H/nscell-null' && echo HOST-NULL-OK" 2>&1)
	contains "$t control: the planted null device works on the host" "$out" "HOST-NULL-OK"
	out=$(cell $m -- /bin/sh -c "echo x > '$H/nscell-null' && echo NULL-WRITTEN; head -c1 '$H/nscell-mem' && echo MEM-READ; echo done" 2>&1)
	contains "$t the device attack ran" "$out" "done"
	lacks "$t a device node planted in the home is unusable (nodev)" "$out" "NULL-WRITTEN"
	lacks "$t a /dev/mem node planted in the home cannot be read" "$out" "MEM-READ"
	rm -f "$H/nscell-null" "$H/nscell-mem"

	if command -v setcap >/dev/null; then
		cp /bin/cat "$H/nscell-capcat" && setcap cap_dac_override,cap_sys_admin+ep "$H/nscell-capcat"
		out=$(cell $m -- "$H/nscell-capcat" /proc/self/status 2>&1)
		contains "$t a binary with file capabilities gets none (CapEff)" "$out" "CapEff:	0000000000000000"
		contains "$t a binary with file capabilities gets none (CapPrm)" "$out" "CapPrm:	0000000000000000"
		rm -f "$H/nscell-capcat"
	else
		skip "$t no setcap for the file-capability attack"
		skip "$t no setcap for the file-capability attack"
	fi

	# ---- capabilities: none after any exec; a nested user namespace gives
	# capabilities over itself only
	out=$(attack $m /usr/bin/python3 -c '
import os
print(open("/proc/self/status").read())
os.execv("/bin/sh", ["sh", "-c", "grep -E \"^Cap(Eff|Prm|Bnd|Amb|Inh)\" /proc/self/status | sort -u | cut -f2 | sort -u"])' 2>&1)
	[ "$(printf '%s\n' "$out" | tail -1)" = 0000000000000000 ] && ok "$t every capability set is empty after an exec" ||
		{ fail "$t capabilities after exec"; diag "$out"; }
	out=$(attack $m unshare -Urm /bin/sh -c 'grep CapEff /proc/self/status;
		mount -o remount,rw /usr && echo REMOUNT-RW; mount -o remount,bind,rw /usr && echo REMOUNT-BIND-RW;
		mount -o remount,suid,dev /home && echo REMOUNT-SUID; umount /usr && echo UMOUNT; umount -l /proc/sys && echo UMOUNT-PROC-SYS;
		mkdir -p /tmp/nscell-p && mount -t proc proc /tmp/nscell-p && echo NEW-PROC; echo h > /proc/sysrq-trigger && echo SYSRQ;
		touch /usr/nscell-x && echo USR-WRITTEN; echo done' 2>&1)
	capeff=$(printf '%s\n' "$out" | sed -n 's/^CapEff:\t//p')
	[ -n "$capeff" ] && [ "$capeff" != 0000000000000000 ] &&
		ok "$t unshare -Urm inside: capabilities over the nested namespace ($capeff)" ||
		{ fail "$t unshare -Urm inside: no capabilities?"; diag "$out"; }
	contains "$t the nested attack ran" "$out" "done"
	for k in REMOUNT-RW REMOUNT-BIND-RW REMOUNT-SUID UMOUNT UMOUNT-PROC-SYS NEW-PROC SYSRQ USR-WRITTEN; do
		lacks "$t nested user namespace: refused: $k" "$out" "$k"
	done
	out=$(attack $m unshare -Urm /usr/bin/python3 -c '
import os
os.makedirs("/tmp/nscell-jail", exist_ok=True)
os.chroot("/tmp/nscell-jail")
for i in range(64):
    os.chdir("..")
os.chroot(".")
print("host-only:", [p for p in ("boot", "root/.bashrc", "etc/shadow", "home/'$U2'") if os.path.lexists(p)])' 2>&1)
	contains "$t a chroot escape from a nested user namespace stays in the sandbox" "$out" "host-only: []"

	# ---- other processes: invisible, unkillable, untraceable
	out=$(attack $m /bin/sh -c "test -e /proc/$VICTIM && echo VISIBLE; kill -0 $VICTIM && echo SIGNALLED; kill -9 -1; echo done" 2>&1)
	lacks "$t a host process of the same user is not visible in /proc" "$out" "VISIBLE"
	lacks "$t ... and cannot be signalled" "$out" "SIGNALLED"
	kill -0 $VICTIM 2>/dev/null && ok "$t kill -9 -1 inside leaves host processes alive" || fail "$t kill -9 -1 killed a host process"
	out=$(attack $m /usr/bin/python3 -c '
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
r = libc.ptrace(16, 1, None, None)  # PTRACE_ATTACH to the init
print("attach-init", r, os.strerror(ctypes.get_errno()))
r = libc.ptrace(16, '$VICTIM', None, None)
print("attach-host", r, os.strerror(ctypes.get_errno()))' 2>&1)
	contains "$t ptrace of the sandbox's init is refused" "$out" "attach-init -1"
	contains "$t ptrace of a host pid finds nothing" "$out" "attach-host -1"

	# ---- other users' files and nscell's state
	out=$(attack $m /bin/sh -c "ls '$H2' && echo OTHER-HOME; ls '$H2/.nscell' && echo OTHER-TMP; ls /run/nscell && echo STATE; ls /root && echo ROOT-HOME; echo done" 2>&1)
	contains "$t the file attack ran" "$out" "done"
	for k in OTHER-HOME OTHER-TMP STATE ROOT-HOME; do
		lacks "$t not visible: $k" "$out" "$k"
	done
done

check_shim_intact "after every attack"
check_host_mounts "after every attack"
done_testing
