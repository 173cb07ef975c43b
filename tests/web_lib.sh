# Shared by the web server tests (tests/integration/webserver.sh,
# apache.sh): source after tests/lib.sh.

# until_true CMD...: wait (at most 10 s) until CMD succeeds
until_true() { for _ in $(seq 100); do "$@" && return 0; sleep 0.1; done; return 1; }

# a TCP port free on loopback now
free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
		echo $((20000 + RANDOM % 30000))
}

home() { getent passwd "$1" | cut -d: -f6; }

# write_view_cgi FILE HOMES: a CGI script that prints what the sandbox
# looks like: uid, namespaces, /etc/passwd, which of HOMES exist, whether
# /usr is writable, cwd, the query and the body
write_view_cgi() {
	cat >"$1" <<'EOF_CGI'
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n'
echo "uid=$(id -u)"
echo "ns=$(readlink /proc/self/ns/mnt /proc/self/ns/pid | tr '\n' ' ')"
echo "passwd:"; cat /etc/passwd
for h in @HOMES@; do [ -e "$h" ] && echo "present $h" || echo "absent $h"; done
touch /usr/nscell-web-test 2>/dev/null && echo "usr writable" || echo "usr refused"
echo "cwd=$(pwd)"
echo "query=$QUERY_STRING"
echo "body=$(cat)"
EOF_CGI
	sed -i "s|@HOMES@|$2|" "$1"
}

# code USER PATH [CURL-ARGS...]: the HTTP status of the test's get()
code() { get "$@" -o /dev/null -w '%{http_code}'; }
# the mount and pid namespaces a view script printed
ns_of() { sed -n 's/^ns=//p' <<<"$1"; }

# check_view WHAT USER OUTPUT: the sandbox's view in a response of USER's
# page (the other test user is U1 or U2): 5 assertions
check_view() {
	local what=$1 u=$2 out=$3 other=$U1
	[ $u = $U1 ] && other=$U2
	contains "$what: runs as $u" "$out" "uid=$(id -u $u)"$'\n'
	contains "$what: /etc/passwd has $u" "$out" $'\n'"$u:x:$(id -u $u):"
	[ "$(sed -n '/^passwd:$/,/^present\|^absent/p' <<<"$out" | grep -c ':x:')" = 1 ] &&
		ok "$what: /etc/passwd has that one entry" || { fail "$what: passwd"; diag "$out"; }
	contains "$what: $other's home is absent" "$out" "absent $(home $other)"
	contains "$what: a write to /usr is refused" "$out" "usr refused"
}
