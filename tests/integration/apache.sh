#!/bin/bash
# Apache suexec mode: a real Debian apache2 (mpm_prefork, mod_cgi,
# mod_userdir, mod_suexec) on loopback, with its own config, port and
# pidfile, runs the CGI scripts of two users below ~/public_html through
# nscell-suexec in place of Apache's suexec helper, into each user's
# persisted sandbox.  Apache runs in a mount namespace of its own where
# this build's nscell-suexec (setuid root) is bound over the helper and the
# test's suexec.conf over the settings directory: nothing on the host is
# replaced.  Then suexec's refusals, through Apache and called directly.
. "${SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
. "${SRCDIR:-$(dirname "$0")/../..}/tests/web_lib.sh"

if ! is_root; then
	skip "apache: needs root (Apache's suexec mode)"
	done_testing
fi
MODS=/usr/lib/apache2/modules
HELPER=/usr/lib/apache2/suexec
for need in apache2 curl unshare nsenter setpriv setsid; do
	if ! command -v $need >/dev/null; then
		skip "apache: $need is not installed (Debian apache2, curl, util-linux)"
		done_testing
	fi
done
if [ ! -e $HELPER ] || [ ! -f $MODS/mod_suexec.so ] || [ ! -f $MODS/mod_mpm_prefork.so ]; then
	skip "apache: Apache's suexec helper or modules missing (Debian apache2-suexec-custom)"
	done_testing
fi
if ! id www-data >/dev/null 2>&1; then
	skip "apache: no user www-data"
	done_testing
fi
U1=nscellap1 U2=nscellap2
if ! ensure_user $U1 || ! ensure_user $U2; then
	skip "apache: cannot create the test users"
	done_testing
fi
scratch
T=$SCRATCH
ST=$T/state
export NSCELL_STATE_DIR=$ST
APID=""
cleanup() {
	[ -n "$APID" ] && kill -TERM "$APID" 2>/dev/null && wait_for "$APID" 20 2>/dev/null
	timeout 20 "$NSCELL" unmount -a --kill >/dev/null 2>&1
	for u in $U1 $U2; do rm -rf "$(getent passwd $u | cut -d: -f6)/public_html"; done
	rm -rf "$SCRATCH"
}
trap cleanup EXIT

# ---- nscell-suexec, setuid root, as the test's copy
install -m 4755 -o root -g root "$BUILDDIR/nscell-suexec" "$T/nscell-suexec"
if findmnt -no OPTIONS -T "$T" | grep -qw nosuid; then
	skip "apache: $T is on a nosuid mount (TMPDIR)"
	done_testing
fi
CONF=$("$T/nscell-suexec" -V | sed -n 's/^config //p')
contains "nscell-suexec -V (root) names its settings file" "$CONF" "/nscell/suexec.conf"
CONFDIR=${CONF%/*}

# ---- each user's ~/public_html: a script that prints the sandbox's view,
# one that prints its environment, and the ones suexec's rules refuse
HOMES="$(home $U1) $(home $U2)"
for u in $U1 $U2; do
	d=$(home $u)/public_html
	mkdir -p "$d"
	write_view_cgi "$d/view.cgi" "$HOMES"
	printf '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n"\nenv | sort\n' >"$d/env.cgi"
	install -m 757 "$d/view.cgi" "$d/otherw.cgi"
	install -m 775 "$d/view.cgi" "$d/groupw.cgi"
	ln -sf view.cgi "$d/link.cgi"
	chmod 755 "$(home $u)" "$d" "$d/view.cgi" "$d/env.cgi"
	chown -R $u: "$d"
done
# a script in $U1's directory that belongs to $U2
install -m 755 -o $U2 -g $U2 "$(home $U1)/public_html/view.cgi" "$(home $U1)/public_html/foreign.cgi"
rm -f /usr/nscell-web-test
mkdir -p "$T/empty" "$T/run" "$T/log" "$T/confdir"

# ---- the test's suexec.conf: this build's shim; nscell.conf: a private
# state directory (the environment reaching the shim is suexec's safe list)
[ -d "$CONFDIR" ] && cp -a "$CONFDIR/." "$T/confdir/"
cat >"$T/confdir/suexec.conf" <<EOF
httpd_user www-data
uid_min 1000
gid_min 1000
docroot none
userdir public_html
shim $NSCELL_SHIM
EOF
# and the shim's nscell.conf next to it: the test's state directory
echo "state_dir = $ST" >"$T/confdir/nscell.conf"
chmod 644 "$T/confdir/suexec.conf" "$T/confdir/nscell.conf"
# bind it in the namespace: over the settings directory, or over a copy of
# its parent with it inside
if [ -d "$CONFDIR" ]; then
	BIND_CONF="mount --bind '$T/confdir' '$CONFDIR'"
else
	mkdir -p "$T/parent"
	cp -a "${CONFDIR%/*}/." "$T/parent/"
	rm -rf "$T/parent/${CONFDIR##*/}"
	cp -a "$T/confdir" "$T/parent/${CONFDIR##*/}"
	BIND_CONF="mount --bind '$T/parent' '${CONFDIR%/*}'"
fi
cat >"$T/start.sh" <<EOF
set -e
mount --make-rprivate /
mount --bind '$T/nscell-suexec' '$(readlink -f $HELPER)'
$BIND_CONF
exec apache2 -f '$T/apache.conf' -DFOREGROUND
EOF

# ---- Apache's config: a server of its own plus the shipped snippet's
# ~user part
{
	for m in mpm_prefork authz_core mime cgi suexec userdir; do
		echo "LoadModule ${m}_module $MODS/mod_$m.so"
	done
	cat <<EOF
ServerRoot "$T"
TypesConfig /dev/null
ServerName 127.0.0.1
Listen 127.0.0.1:@PORT@
PidFile $T/run/apache.pid
DefaultRuntimeDir $T/run
Mutex file:$T/run default
ErrorLog $T/log/error.log
LogLevel info
User www-data
Group www-data
DocumentRoot $T/empty
<Directory />
	AllowOverride None
	Require all denied
</Directory>
EOF
	sed -e '/^<VirtualHost/,$d' -e '/^#/d' "$SRCDIR/contrib/apache/nscell-suexec.conf" |
		sed "s|/home/\*|${HOME_PARENT:-$(dirname "$(home $U1)")}/*|"
} >"$T/apache.conf.in"

start_apache() {
	local try
	for try in 1 2 3; do
		PORT=$(free_port)
		sed "s/@PORT@/$PORT/" "$T/apache.conf.in" >"$T/apache.conf"
		# a session of its own: on stop, prefork's parent signals its
		# whole process group
		setsid unshare -m sh "$T/start.sh" >>"$T/log/apache.out" 2>&1 &
		APID=$!
		until_true sh -c "! kill -0 $APID 2>/dev/null || curl -s -o /dev/null http://127.0.0.1:$PORT/" &&
			kill -0 $APID 2>/dev/null && return 0
		wait_for $APID 5
		APID=""
	done
	return 1
}
if ! start_apache; then
	fail "apache did not start"
	diag "$(cat "$T/log/apache.out" "$T/log/error.log" 2>/dev/null)"
	done_testing
fi
ok "apache listens on 127.0.0.1:$PORT (pid $APID)"
contains "apache uses nscell-suexec as its suexec helper" "$(cat "$T/log/error.log")" "suEXEC mechanism enabled"

# get USER PATH [CURL-ARGS...]: the body of http://127.0.0.1:PORT/~USER/PATH
get() {
	local u=$1 path=$2
	shift 2
	curl -sS --max-time 30 "$@" "http://127.0.0.1:$PORT/~$u/$path" 2>&1
}

declare -A NS
for u in $U1 $U2; do
	out=$(get $u 'view.cgi?q=1' --data-binary "posted by $u")
	check_view "CGI via suexec, $u" $u "$out"
	contains "CGI via suexec, $u: runs in its directory" "$out" "cwd=$(home $u)/public_html"$'\n'
	contains "CGI via suexec, $u: query string and body" "$out" "query=q=1"$'\n'"body=posted by $u"
	NS[$u]=$(ns_of "$out")
	again=$(get $u view.cgi </dev/null)
	[ -n "${NS[$u]}" ] && [ "$(ns_of "$again")" = "${NS[$u]}" ] &&
		ok "CGI via suexec, $u: a second request joins the same sandbox (mnt, pid ns)" ||
		{ fail "CGI via suexec, $u: second request in another sandbox"; diag "first: ${NS[$u]}" "$again"; }
done
[ -n "${NS[$U1]}" ] && [ "${NS[$U1]}" != "${NS[$U2]}" ] && ok "the two users have different sandboxes" ||
	fail "both users in one sandbox: ${NS[$U1]}"
keepers=$("$NSCELL" ls 2>&1)
for u in $U1 $U2; do
	grep -Eq "^$u +$(id -u $u) .* live\$" <<<"$keepers" && ok "nscell ls: $u's sandbox is live" ||
		{ fail "nscell ls: no live sandbox of $u"; diag "$keepers"; }
done
env_out=$(get $U1 env.cgi -H 'X-Nscell-Test: yes')
contains "the CGI environment: request headers pass (HTTP_*)" "$env_out" "HTTP_X_NSCELL_TEST=yes"
contains "the CGI environment: suexec's safe PATH" "$env_out" "PATH=/usr/local/bin:/usr/bin:/bin"$'\n'
lacks "the CGI environment: nothing of Apache's own (NSCELL_STATE_DIR of the test)" "$env_out" "NSCELL_STATE_DIR"

# ---- refusals through Apache: 500, and the reason in Apache's error log
# (where mod_cgi puts a CGI's stderr)
for s in otherw groupw link foreign; do
	c=$(code $U1 $s.cgi)
	[ "$c" = 500 ] && ok "suexec refuses $s.cgi (500)" || fail "$s.cgi: HTTP $c"
done
log=$(cat "$T/log/error.log")
contains "the log says why: writable by others" "$log" "otherw.cgi is writable by group or others (mode 757)"
contains "the log says why: writable by the group" "$log" "groupw.cgi is writable by group or others (mode 775)"
contains "the log says why: a symlink" "$log" "link.cgi is a symbolic link"
contains "the log says why: another user's script" "$log" "foreign.cgi is owned by $(id -u $U2):$(id -g $U2), not by the target $(id -u $U1):$(id -g $U1)"
[ -z "$(pgrep -u $U1 -f otherw.cgi)" ] && ok "nothing of a refused script runs" || fail "otherw.cgi runs"

# ---- nscell-suexec called directly, in Apache's namespace: suexec(USER...)
D1=$(home $U1)/public_html
# direct WHO DIR ARGS...: the helper run by WHO in DIR, in Apache's namespace
direct() {
	local who=$1 dir=$2
	shift 2
	nsenter -t "$APID" -m -- bash -c 'cd "$1" && exec setpriv --reuid="$2" --regid="$2" --clear-groups -- "$3" "${@:4}"' \
		_ "$dir" "$who" "$HELPER" "$@" 2>&1
}
out=$(direct $U1 "$D1" "~$U1" $U1 view.cgi); rc=$?
[ $rc = 1 ] && contains "a caller that is not www-data ($U1) is refused" "$out" "caller uid $(id -u $U1) is not the web server's user www-data" ||
	{ fail "caller $U1: exit $rc"; diag "$out"; }
out=$(direct root "$D1" "~$U1" $U1 view.cgi); rc=$?
[ $rc = 1 ] && contains "root as the caller is refused" "$out" "caller uid 0 is not" || { fail "caller root: exit $rc"; diag "$out"; }
out=$(direct www-data "$D1" "~$(id -u $U1)" "$(id -g $U1)" view.cgi)
check_view "direct, numeric ~UID GID (Apache's form)" $U1 "$out"
out=$(direct www-data "$D1" "~#$(id -u $U1)" "#$(id -g $U1)" view.cgi)
contains "direct, #UID #GID" "$out" "uid=$(id -u $U1)"$'\n'
out=$(direct www-data "$D1" "~$U1" $U1 ../public_html/view.cgi); rc=$?
[ $rc = 1 ] && contains "a command with a path is refused" "$out" "invalid command" || { fail "path cmd: exit $rc"; diag "$out"; }
out=$(direct www-data /root "~root" root view.cgi); rc=$?
[ $rc = 1 ] && contains "root as the target is refused" "$out" "forbidden uid 0" || { fail "~root: exit $rc"; diag "$out"; }
out=$(direct www-data "$D1" "~daemon" daemon view.cgi); rc=$?
[ $rc = 1 ] && contains "a uid below uid_min is refused" "$out" "forbidden uid $(id -u daemon)" || { fail "~daemon: exit $rc"; diag "$out"; }
out=$(direct www-data "$D1" "~$U1" $U2 view.cgi); rc=$?
[ $rc = 1 ] && contains "another user's group is refused" "$out" "is not $U1's own group" || { fail "gid: exit $rc"; diag "$out"; }
out=$(direct www-data "$(home $U2)/public_html" "~$U1" $U1 view.cgi); rc=$?
[ $rc = 1 ] && contains "a program outside the user's web root is refused" "$out" "command not in docroot" ||
	{ fail "docroot: exit $rc"; diag "$out"; }
out=$(direct www-data "$D1" "$U1" $U1 view.cgi); rc=$?
[ $rc = 1 ] && contains "a non-~ request with docroot none is refused" "$out" "docroot none" || { fail "docroot none: exit $rc"; diag "$out"; }
out=$(direct www-data "$D1" "~nscell-no-such-user" 1000 view.cgi); rc=$?
[ $rc = 1 ] && contains "an unknown user is refused" "$out" "invalid target user" || { fail "no user: exit $rc"; diag "$out"; }
out=$(nsenter -t "$APID" -m -- bash -c 'cd "$1" && exec env -i FOO=bar LD_PRELOAD=/nonexistent.so NSCELL_DEBUG=1 \
	HTTP_X_A=1 HTTP_PROXY=http://evil QUERY_STRING=z TZ=UTC BASH_FUNC_x%%="() { :; }" HTTP_COOKIE="() { :; }; echo pwned" \
	setpriv --reuid=www-data --regid=www-data --clear-groups -- "$2" "~$3" "$3" env.cgi' _ "$D1" "$HELPER" $U1 2>&1)
contains "direct: the safe list passes QUERY_STRING" "$out" "QUERY_STRING=z"$'\n'
contains "direct: the safe list passes HTTP_*" "$out" "HTTP_X_A=1"$'\n'
for bad in FOO= LD_PRELOAD= NSCELL_DEBUG= HTTP_PROXY= HTTP_COOKIE= BASH_FUNC; do
	lacks "direct: the environment loses $bad" "$out" "$bad"
done
lacks "direct: no verbose shim output (NSCELL_DEBUG dropped)" "$out" "nscell-shim:"

# a suexec.conf that others may write is not trusted
chmod 666 "$T/confdir/suexec.conf" "$T/parent/${CONFDIR##*/}/suexec.conf" 2>/dev/null
out=$(direct www-data "$D1" "~$U1" $U1 view.cgi); rc=$?
[ $rc = 2 ] && contains "a suexec.conf writable by others is refused" "$out" "only root may write" ||
	{ fail "writable suexec.conf: exit $rc"; diag "$out"; }
chmod 644 "$T/confdir/suexec.conf" "$T/parent/${CONFDIR##*/}/suexec.conf" 2>/dev/null

kill -TERM "$APID" 2>/dev/null
wait_for "$APID" 20 >/dev/null 2>&1
! kill -0 "$APID" 2>/dev/null && ok "apache stopped" || fail "apache still runs"
APID=""
done_testing
