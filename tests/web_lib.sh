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
