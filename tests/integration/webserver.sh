#!/bin/bash
# Web servers: a real lighttpd on loopback, with its own config and port,
# serves a CGI script and a PHP page for two users, each launched through
# nscell-shim into the user's persisted sandbox.  The configs are made from
# the shipped snippets (contrib/lighttpd/), with paths and names replaced.
#   root mode: lighttpd stays root; mod_cgi runs nscell-cgi, mod_fastcgi's
#     bin-path starts php-cgi through the shim (the socket on fd 0);
#   www-data mode: lighttpd drops to www-data and talks FastCGI to php-cgi
#     and fcgiwrap that spawn-fcgi (the command of the shipped units)
#     started through the shim.
. "${SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
. "${SRCDIR:-$(dirname "$0")/../..}/tests/web_lib.sh"

if ! is_root; then
	skip "webserver: needs root (lighttpd launching for other users)"
	done_testing
fi
for tool in lighttpd php-cgi curl; do
	if ! command -v $tool >/dev/null; then
		skip "webserver: $tool is not installed"
		done_testing
	fi
done
U1=nscellweb1 U2=nscellweb2
require_users webserver $U1 $U2
scratch
T=$SCRATCH
ST=$T/state
export NSCELL_STATE_DIR=$ST
CONTRIB=$SRCDIR/contrib/lighttpd
PIDS=""
cleanup() {
	local p
	for p in $PIDS; do kill "$p" 2>/dev/null && wait_for "$p" 10 2>/dev/null; done
	timeout 20 "$NSCELL" unmount -a --kill >/dev/null 2>&1
	for u in $U1 $U2; do rm -rf "$(getent passwd $u | cut -d: -f6)/public_html"; done
	rm -rf "$SCRATCH"
}
trap cleanup EXIT

# ---- each user's document root: a CGI script and a PHP page that print
# what the sandbox looks like
HOMES="$(home $U1) $(home $U2)"
for u in $U1 $U2; do
	d=$(home $u)/public_html
	mkdir -p "$d"
	write_view_cgi "$d/view.cgi" "$HOMES"
	cat >"$d/view.php" <<'EOF'
<?php
header('Content-Type: text/plain');
echo "uid=", posix_getuid(), "\n";
echo "ns=", readlink('/proc/self/ns/mnt'), " ", readlink('/proc/self/ns/pid'), " \n";
echo "passwd:\n", file_get_contents('/etc/passwd');
foreach (explode(' ', '@HOMES@') as $h)
	echo file_exists($h) ? "present $h\n" : "absent $h\n";
echo @file_put_contents('/usr/nscell-web-test', 'x') === false ? "usr refused\n" : "usr writable\n";
echo "query=", $_SERVER['QUERY_STRING'] ?? '', "\n";
EOF
	sed -i "s|@HOMES@|$HOMES|" "$d/view.php"
	# refused by nscell-cgi: writable by the group, a symlink, root's
	install -m 775 "$d/view.cgi" "$d/groupw.cgi"
	ln -sf view.cgi "$d/link.cgi"
	chmod 755 "$(home $u)" "$d" "$d/view.cgi"
	chmod 644 "$d/view.php"
	chown -R $u: "$d"
	install -m 755 -o root -g root "$d/view.cgi" "$d/rootown.cgi"
done
rm -f /usr/nscell-web-test
mkdir -p "$T/empty" "$T/run" "$T/log"
chown www-data "$T/log" 2>/dev/null

# the mod_cgi handler with the shim of this build
sed "s|@bindir@/nscell-shim|$NSCELL_SHIM|" "$CONTRIB/nscell-cgi.in" >"$T/nscell-cgi"
chmod 755 "$T/nscell-cgi"

# vhost_conf SNIPPET USER: the shipped snippet for USER of this test
vhost_conf() {
	sed -e "s|/home/alice|$(home "$2")|g" -e "s|alice\.example|$2.test|g" \
		-e "s|/usr/local/libexec/nscell/nscell-cgi|$T/nscell-cgi|g" \
		-e "s|/usr/local/bin/nscell-shim|$NSCELL_SHIM|g" \
		-e "s|/run/lighttpd|$T/run|g" -e "s|/run/nscell-fcgi|$T/run|g" \
		-e "s|alice|$2|g" "$CONTRIB/$1"
}
# start_lighttpd NAME MAIN-CONF-LINES...: lighttpd -D on a free port:
# LPID, PORT
start_lighttpd() {
	local name=$1 try
	shift
	for try in 1 2 3; do
		PORT=$(free_port)
		{
			printf '%s\n' "$@"
			echo "server.bind = \"127.0.0.1\""
			echo "server.port = $PORT"
			echo "server.document-root = \"$T/empty\""
			echo "server.errorlog = \"$T/log/$name.log\""
			echo "include \"$T/$name-$U1.conf\""
			echo "include \"$T/$name-$U2.conf\""
		} >"$T/$name.conf"
		lighttpd -D -f "$T/$name.conf" >>"$T/log/$name.out" 2>&1 &
		LPID=$!
		PIDS="$PIDS $LPID"
		until_true sh -c "! kill -0 $LPID 2>/dev/null || curl -s -o /dev/null http://127.0.0.1:$PORT/" &&
			kill -0 $LPID 2>/dev/null && return 0
		wait_for $LPID 5
	done
	return 1
}
stop_lighttpd() {
	kill -TERM "$LPID" 2>/dev/null
	wait_for "$LPID" 20 >/dev/null 2>&1
}
# get USER PATH [CURL-ARGS...]: the body of http://USER.test/PATH
get() {
	local u=$1 path=$2
	shift 2
	curl -sS --max-time 30 -H "Host: $u.test" "$@" "http://127.0.0.1:$PORT/$path" 2>&1
}

# ---- root mode: mod_cgi + nscell-cgi, mod_fastcgi bin-path through the shim
for u in $U1 $U2; do vhost_conf nscell-root.conf $u >"$T/root-$u.conf"; done
if ! start_lighttpd root 'server.modules = ( "mod_setenv", "mod_cgi", "mod_fastcgi" )' \
	"setenv.add-environment = ( \"NSCELL_STATE_DIR\" => \"$ST\" )"; then
	fail "root mode: lighttpd did not start"
	diag "$(cat "$T/log/root.out" "$T/log/root.log" 2>/dev/null)"
	done_testing
fi
ok "root mode: lighttpd listens on 127.0.0.1:$PORT"
declare -A CGI_NS
for u in $U1 $U2; do
	out=$(get $u 'view.cgi?q=1' --data-binary "posted by $u")
	check_view "CGI, $u" $u "$out"
	contains "CGI, $u: the query string reaches the script" "$out" "query=q=1"
	contains "CGI, $u: the request body reaches the script's stdin" "$out" "body=posted by $u"
	CGI_NS[$u]=$(ns_of "$out")
	again=$(get $u view.cgi </dev/null)
	[ -n "${CGI_NS[$u]}" ] && [ "$(ns_of "$again")" = "${CGI_NS[$u]}" ] &&
		ok "CGI, $u: a second request joins the same sandbox (mnt, pid ns)" ||
		{ fail "CGI, $u: second request in another sandbox"; diag "first: ${CGI_NS[$u]}" "$again"; }
	php=$(get $u 'view.php?p=2')
	check_view "PHP (bin-path), $u" $u "$php"
	contains "PHP (bin-path), $u: the query string" "$php" "query=p=2"
	[ "$(ns_of "$php")" = "${CGI_NS[$u]}" ] &&
		ok "PHP (bin-path), $u: php-cgi is in the CGI's sandbox" ||
		{ fail "PHP, $u: another sandbox"; diag "CGI: ${CGI_NS[$u]}" "$php"; }
done
[ "${CGI_NS[$U1]}" != "${CGI_NS[$U2]}" ] && ok "the two users have different sandboxes" ||
	fail "both users in one sandbox: ${CGI_NS[$U1]}"
keepers=$("$NSCELL" ls 2>&1)
for u in $U1 $U2; do
	grep -Eq "^$u +$(id -u $u) .* live\$" <<<"$keepers" && ok "nscell ls: $u's sandbox is live" ||
		{ fail "nscell ls: no live sandbox of $u"; diag "$keepers"; }
done

# php-cgi got lighttpd's listening socket on fd 0 and nothing else
php_pid=$(pgrep -o -u $U1 -x php-cgi)
if [ -n "$php_pid" ]; then
	[[ "$(readlink /proc/$php_pid/fd/0)" == socket:* ]] &&
		ok "php-cgi's fd 0 is a socket (the FastCGI listener)" ||
		fail "php-cgi's fd 0: $(readlink /proc/$php_pid/fd/0)"
	# beyond 0, 1, 2 only what PHP opens itself (its semaphore file in /tmp)
	extra=$(for fd in $(ls /proc/$php_pid/fd); do
		[ "$fd" -gt 2 ] && readlink /proc/$php_pid/fd/$fd | grep -v '/\.ZendSem\.'; done)
	[ -z "$extra" ] && ok "php-cgi has no fd from the host beyond 0, 1, 2" || fail "php-cgi's extra fds: $extra"
	[ "$(readlink /proc/$php_pid/ns/mnt) $(readlink /proc/$php_pid/ns/pid) " = "${CGI_NS[$U1]}" ] &&
		ok "php-cgi (host pid $php_pid) runs in $U1's sandbox" || fail "php-cgi's namespaces"
else
	fail "no php-cgi of $U1 is running"
fi

# nscell-cgi's refusals: 403, and the reason on lighttpd's stderr (where
# CGI scripts' stderr goes)
for s in groupw link rootown; do
	c=$(code $U1 $s.cgi)
	[ "$c" = 403 ] && ok "nscell-cgi refuses $s.cgi (403)" || fail "$s.cgi: HTTP $c"
done
log=$(cat "$T/log/root.out" 2>/dev/null)
contains "the log says why: group-writable" "$log" "writable by group or others"
contains "the log says why: a symlink" "$log" "a symbolic link"
contains "the log says why: root's script" "$log" "owned by uid 0, below 1000"

stop_lighttpd
! kill -0 "$LPID" 2>/dev/null && ok "root mode: lighttpd stopped" || fail "root mode: lighttpd still runs"
until_true sh -c "! pgrep -u $U1 -x php-cgi >/dev/null && ! pgrep -u $U2 -x php-cgi >/dev/null" &&
	ok "root mode: php-cgi ended with lighttpd" || fail "php-cgi left: $(pgrep -a php-cgi)"

# ---- www-data mode: lighttpd unprivileged; php-cgi and fcgiwrap started
# by root with the shipped units' command (spawn-fcgi through the shim)
if ! command -v spawn-fcgi >/dev/null || ! command -v fcgiwrap >/dev/null || ! id www-data >/dev/null 2>&1; then
	skip "www-data mode: spawn-fcgi, fcgiwrap or the user www-data is missing"
	done_testing
fi
# unit_command UNIT USER: its ExecStart, for this test
unit_command() {
	vhost_conf "$1" "$2" | sed -n 's/^ExecStart=//p' | sed "s/%i/$2/g"
}
started=0
for u in $U1 $U2; do
	vhost_conf nscell-www-data.conf $u >"$T/www-$u.conf"
	for unit in nscell-php@.service nscell-fcgiwrap@.service; do
		read -ra cmd <<<"$(unit_command $unit $u)"
		sock=${cmd[3]}
		mkdir -p "${sock%/*}"
		env PHP_FCGI_CHILDREN=2 "${cmd[@]}" >>"$T/log/spawn-fcgi.out" 2>&1 &
		PIDS="$PIDS $!"
		until_true test -S "$sock" && started=$((started + 1))
	done
done
[ $started = 4 ] && ok "spawn-fcgi made the 4 sockets (php-cgi and fcgiwrap per user)" ||
	fail "spawn-fcgi: $started of 4 sockets; $(cat "$T/log/spawn-fcgi.out")"
if ! start_lighttpd www 'server.modules = ( "mod_fastcgi" )' \
	'server.username = "www-data"' 'server.groupname = "www-data"'; then
	fail "www-data mode: lighttpd did not start"
	diag "$(cat "$T/log/www.out" "$T/log/www.log" 2>/dev/null)"
	done_testing
fi
luid=$(awk '/^Uid:/ { print $2 }' /proc/$LPID/status)
[ "$luid" = "$(id -u www-data)" ] && ok "www-data mode: lighttpd runs as www-data" ||
	fail "www-data mode: lighttpd runs as uid $luid"
for u in $U1 $U2; do
	out=$(get $u 'view.cgi?w=3' --data-binary "fcgiwrap $u")
	check_view "CGI (fcgiwrap), $u" $u "$out"
	contains "CGI (fcgiwrap), $u: query and body" "$out" "query=w=3"$'\n'"body=fcgiwrap $u"
	[ "$(ns_of "$out")" = "${CGI_NS[$u]}" ] &&
		ok "CGI (fcgiwrap), $u: the same persisted sandbox as in root mode" ||
		{ fail "fcgiwrap, $u: another sandbox"; diag "root mode: ${CGI_NS[$u]}" "$out"; }
	php=$(get $u view.php)
	check_view "PHP (spawn-fcgi), $u" $u "$php"
	[ "$(ns_of "$php")" = "${CGI_NS[$u]}" ] &&
		ok "PHP (spawn-fcgi), $u: the same persisted sandbox" ||
		{ fail "spawn-fcgi PHP, $u: another sandbox"; diag "root mode: ${CGI_NS[$u]}" "$php"; }
done
stop_lighttpd
! kill -0 "$LPID" 2>/dev/null && ok "www-data mode: lighttpd stopped" || fail "www-data mode: lighttpd still runs"
done_testing
