#!/bin/bash
# nscell-shim linked statically (configure's default, not with the
# sanitizers): it loads no NSS module, and a launch whose user must come
# from NSS (user_database = nss here; in production a user in LDAP or
# sssd) is handed over to nscell-shim-nss, the same launcher linked
# dynamically, which builds the same sandbox from the same command line:
# same identity, umask, kept fds, exit status.  As root for another user,
# then as an unprivileged user for itself.
. "${SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"

U=nscellst1
require_users "static shim" $U
scratch
export NSCELL_STATE_DIR="$SCRATCH/state"
host_before=$(host_mounts)

static=no
LC_ALL=C readelf -l "$NSCELL_SHIM" | grep -q 'Requesting program interpreter' || static=yes
diag "nscell-shim static: $static"

# --version: the C library and linking configure chose (musl where
# musl-gcc is: Makefile.am, "musl/"); nscell-shim-nss is always glibc's,
# dynamic (it loads NSS modules)
if [ -n "${NSCELL_LIBC:-}" ]; then
	out=$("$NSCELL_SHIM" --version 2>&1)
	grep -qx "libc: $NSCELL_LIBC.*, $NSCELL_SHIM_LINK" <<<"$out" &&
		ok "nscell-shim --version: built on $NSCELL_LIBC, $NSCELL_SHIM_LINK" ||
		fail "nscell-shim --version: not $NSCELL_LIBC, $NSCELL_SHIM_LINK: $out"
	want=no
	[ "$NSCELL_SHIM_LINK" = static ] && want=yes
	[ "$static" = "$want" ] && ok "... and the ELF header agrees" ||
		fail "... the ELF header says static: $static"
	if [ "$static" = yes ]; then
		out=$("$(dirname "$NSCELL_SHIM")/nscell-shim-nss" --version 2>&1)
		grep -qx "libc: glibc.*, dynamic" <<<"$out" && ok "nscell-shim-nss --version: glibc, dynamic" ||
			fail "nscell-shim-nss --version: $out"
	fi
else
	skip "nscell-shim --version: not run by make check (how it was built unknown)"
fi
printf 'user_database = nss\n' > "$SCRATCH/nss.conf"
printf 'user_database = files\n' > "$SCRATCH/files.conf"
# what the command reports: identity, files, umask, open fds, and its own exit status
VIEW='id; cat /etc/passwd /etc/group; umask; ls /proc/self/fd | sort -n | tr "\n" " "; echo; exit 7'

# same_view WHAT LAUNCHER...: the view under nscell.conf user_database =
# nss equals the view under = files, the handover said so in -v when the
# shim is static and not when it is not, and the exit status came back
same_view() {
	local what=$1 files nss status
	shift
	files=$( (umask 027; "$@" -C "$SCRATCH/files.conf" -u $U --keep-fd 5 -- /bin/sh -c "$VIEW") \
		5</dev/null 2>&1)
	nss=$( (umask 027; "$@" -v -C "$SCRATCH/nss.conf" -u $U --keep-fd 5 -- /bin/sh -c "$VIEW") \
		5</dev/null 2>&1)
	status=$?
	[ "$status" = 7 ] && ok "$what: the exit status comes back through the handover" ||
		fail "$what: exit status $status, not 7"
	if [ "$static" = yes ]; then
		contains "$what: the static shim hands the NSS user over" "$nss" \
			"handing over to"
		contains "$what: ... to nscell-shim-nss" "$nss" "nscell-shim-nss"
	else
		lacks "$what: a dynamic shim asks NSS itself" "$nss" "handing over"
	fi
	nss=$(grep -v '^nscell-shim\[' <<<"$nss")
	contains "$what: the user's identity" "$nss" "uid=$(id -u $U)($U)"
	contains "$what: the caller's umask" "$nss" "0027"
	contains "$what: fd 5 kept, no other" "$nss" "0 1 2 3 5 "
	[ "$files" = "$nss" ] && ok "$what: the same sandbox as from the files" ||
		{ fail "$what: the views differ"; diag "$(diff <(echo "$files") <(echo "$nss"))"; }
}

# ---- root, for the user
same_view "root" "$NSCELL_SHIM"

# ---- systemd socket activation survives the handover (same pid, same env)
out=$(LISTEN_FDS=1 "$NSCELL_SHIM" -C "$SCRATCH/nss.conf" -u $U -- /bin/sh -c 'echo $LISTEN_FDS; ls /proc/self/fd | sort -n | tr "\n" " "' 3</dev/null 2>&1)
contains "LISTEN_FDS: fd 3 arrives, the variable too" "$out" "1
0 1 2 3 4 "

# ---- nothing to hand over to: one clear error, exit 2, the host unchanged
if [ "$static" = yes ]; then
	mkdir "$SCRATCH/alone"
	cp "$NSCELL_SHIM" "$SCRATCH/alone/nscell-shim"
	out=$("$SCRATCH/alone/nscell-shim" -C "$SCRATCH/nss.conf" -u $U -- /bin/true 2>&1)
	status=$?
	if [ "$status" = 0 ]; then
		skip "no nscell-shim-nss to hand over to: an installed one answered"
	else
		[ "$status" = 2 ] && ok "no nscell-shim-nss to hand over to: exit 2" ||
			fail "no nscell-shim-nss to hand over to: exit $status, not 2"
		contains "... one line naming the program and why" "$out" \
			"(the user is known to NSS only): No such file or directory"
	fi
else
	skip "no nscell-shim-nss to hand over to: the shim is not static"
fi

# ---- an unprivileged user for itself (its own copies: the build dir need not be readable)
if [ "$(cat /proc/sys/user/max_user_namespaces 2>/dev/null || echo 1)" = 0 ] ||
	! as_user $U unshare -U true 2>/dev/null; then
	skip "as a user: unprivileged user namespaces are refused here"
else
	mkdir "$SCRATCH/bin"
	cp "$NSCELL_SHIM" "$SCRATCH/bin/"
	[ "$static" = no ] || cp "$(dirname "$NSCELL_SHIM")/nscell-shim-nss" "$SCRATCH/bin/"
	chmod 755 "$SCRATCH/bin" "$SCRATCH/bin"/*
	chmod 644 "$SCRATCH"/*.conf
	# the user's own state directory (the default one)
	unset NSCELL_STATE_DIR
	same_view "user" as_user $U "$SCRATCH/bin/nscell-shim"
fi

[ "$host_before" = "$(host_mounts)" ] && ok "host mount table unchanged" ||
	fail "host mounts changed"
done_testing
