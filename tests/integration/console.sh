#!/bin/bash
# process.terminal under nscell-runtime and runc on the same bundles:
# `create --console-socket` (and `run -d --console-socket`) sends the pty's
# master to a unix socket, where a small receiver (python, below) takes it
# with recvmsg and talks to the container through it; a foreground `run`
# proxies the pty itself.  What each runtime gives is compared: the
# message sent with the fd, the output through the pty (tty names
# /dev/pts/N inside), the controlling terminal, the size (consoleSize),
# /dev/console, the pty's owner; then the errors runc gives for a
# terminal without a socket and a socket without a terminal.  nscell's
# TIOCSTI filter is on whenever the command has a terminal.
# As root with runc (SKIP without).
. "${SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
scratch

RUNTIME=${NSCELL_RUNTIME:-$BUILDDIR/nscell-runtime}
PY=/usr/bin/python3
U=nscellcs1
edit() { # edit FILE CODE [ARG...]: python on config.json in place (c; the ARGs in a)
	$PY -c "import json,sys; f=sys.argv[1]; a=sys.argv[2:]; c=json.load(open(f)); $2; json.dump(c, open(f, 'w'), indent=2)" "$1" "${@:3}"
}
run_timed() { "$@" & wait_for $! 60; }

if ! is_root; then
	skip "console sockets: need root (runc spec's config runs as root without a user namespace)"
	done_testing
fi
if ! command -v runc >/dev/null || [ ! -x $PY ]; then
	skip "console sockets: runc or python3 is not installed"
	done_testing
fi
RROOT=$SCRATCH/runc-root
NROOT=$SCRATCH/nscell-root
RUNC=(runc --root "$RROOT")
NRT=("$RUNTIME" --root "$NROOT")
cleanup() {
	local id
	for id in $("${RUNC[@]}" list -q 2>/dev/null); do "${RUNC[@]}" delete -f "$id" >/dev/null 2>&1; done
	for id in $("${NRT[@]}" list -q 2>/dev/null); do "${NRT[@]}" delete -f "$id" >/dev/null 2>&1; done
	rm -rf "$SCRATCH"
}
trap cleanup EXIT

# recv.py SOCKET OUT: accept one connection on SOCKET, take the fd sent
# with SCM_RIGHTS, then read the master until the container's side is
# closed; once "hello" has come, write "ping" to it.  OUT gets the
# message, the fd count, whether it is a pty master, and the output.
cat > "$SCRATCH/recv.py" <<'EOS'
import array, fcntl, json, os, select, socket, struct, sys, termios, time
path, out_path = sys.argv[1], sys.argv[2]
res = {"msg": None, "nfds": 0, "master": False, "out": ""}
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(1)
srv.settimeout(30)
try:
    conn, _ = srv.accept()
    fds = array.array("i")
    msg, anc, _, _ = conn.recvmsg(1024, socket.CMSG_SPACE(4 * fds.itemsize))
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
    res["msg"], res["nfds"] = msg.decode(), len(fds)
    m = fds[0]
    # TIOCGPTN answers on a pty master only
    tiocgptn = getattr(termios, "TIOCGPTN", 0x80045430)
    res["master"] = struct.unpack("I", fcntl.ioctl(m, tiocgptn, b"\0" * 4))[0] >= 0
    out, sent, deadline = b"", False, time.monotonic() + 30
    while time.monotonic() < deadline:
        if not select.select([m], [], [], 0.5)[0]:
            continue
        try:
            chunk = os.read(m, 4096)
        except OSError:  # EIO: every slave closed
            break
        if not chunk:
            break
        out += chunk
        if not sent and b"hello\r\n" in out:
            os.write(m, b"ping\n")
            sent = True
    res["out"] = out.decode(errors="replace")
except Exception as e:
    res["error"] = repr(e)
finally:
    json.dump(res, open(out_path, "w"))
EOS

# what the container runs: every line a fact, "hello" before it reads a line
PROBE='tty; echo hello; read -r line; echo "got $line"; id
stty size
stat -c "console: %F %t:%T %a %u:%g" /dev/console
stat -c "pty owner: %u:%g %a" "$(tty)"
for fd in 0 1 2; do echo "fd $fd: $(readlink /proc/$$/fd/$fd)"; done
: </dev/tty && echo "controlling terminal: yes"'

# ---- the bundle: runc spec's, the host's /usr bound read-only ----

B=$SCRATCH/b
runc_spec_bundle "$B"
edit "$B/config.json" "c['process']['args'] = ['sh', '-c', a[0]]
c['process']['consoleSize'] = {'height': 33, 'width': 111}
c['mounts'].append({'destination': '/usr', 'type': 'bind', 'source': '/usr', 'options': ['rbind', 'ro']})" "$PROBE"
check "runc spec's config, terminal true and a consoleSize: validates" oci_validate "$B/config.json"

# receive NAME: start a receiver on $SCRATCH/NAME.sock (RPID), wait till it listens
receive() {
	rm -f "$SCRATCH/$1.sock" "$SCRATCH/$1.json"
	$PY "$SCRATCH/recv.py" "$SCRATCH/$1.sock" "$SCRATCH/$1.json" & RPID=$!
	local i
	for i in $(seq 100); do [ -S "$SCRATCH/$1.sock" ] && break; sleep 0.05; done
}
# field NAME KEY: what the receiver NAME recorded
field() { $PY -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$SCRATCH/$1.json" "$2" 2>/dev/null; }

# console_pair TAG BUNDLE [RUN_D]: create (or run -d) with --console-socket
# under runc (output in rout) and under nscell-runtime (nout)
console_pair() {
	local who rt id rc
	for who in runc nscell; do
		if [ $who = runc ]; then rt=("${RUNC[@]}"); else rt=("${NRT[@]}"); fi
		id="cs-$1-$who-$$"
		receive "$1-$who"
		if [ -n "$3" ]; then
			run_timed "${rt[@]}" run -d --console-socket "$SCRATCH/$1-$who.sock" -b "$2" "$id" \
				>"$SCRATCH/$1-$who.err" 2>&1; rc=$?
		else
			run_timed "${rt[@]}" create --console-socket "$SCRATCH/$1-$who.sock" -b "$2" "$id" \
				>"$SCRATCH/$1-$who.err" 2>&1; rc=$?
			[ $rc = 0 ] && { run_timed "${rt[@]}" start "$id" >>"$SCRATCH/$1-$who.err" 2>&1; rc=$?; }
		fi
		[ $rc = 0 ] && ok "$1: ${3:+run -d, }created and started under $who" ||
			{ fail "$1: exit $rc under $who"; diag "$(cat "$SCRATCH/$1-$who.err")"; }
		wait_for $RPID 40
		"${rt[@]}" delete -f "$id" >/dev/null 2>&1
	done
	rout=$(field "$1-runc" out | tr -d '\r')
	nout=$(field "$1-nscell" out | tr -d '\r')
}

# ---- create --console-socket, then start ----

console_pair spec "$B"
for who in runc nscell; do
	[ "$(field spec-$who msg)" = /dev/ptmx ] && [ "$(field spec-$who nfds)" = 1 ] &&
		ok "$who sends one fd with the message /dev/ptmx" ||
		fail "$who sends: '$(field spec-$who msg)', $(field spec-$who nfds) fds"
	[ "$(field spec-$who master)" = True ] && ok "$who: the fd is a pty's master" ||
		fail "$who: the fd is not a pty master"
done
[ "$($PY -c 'import json,sys; print("\r\n" in json.load(open(sys.argv[1]))["out"])' \
	"$SCRATCH/spec-nscell.json" 2>&1)" = True ] &&
	ok "output through the pty: its line discipline turns \\n into \\r\\n" ||
	fail "output without \\r\\n: not through a pty"
printf '%s\n' "$nout" | head -1 | grep -qxE '/dev/pts/[0-9]+' &&
	ok "tty names /dev/pts/N inside the container" || fail "tty says: $(printf '%s\n' "$nout" | head -1)"
contains "the output came through the pty" "$nout" "hello"
contains "input went in through the master (read -r line)" "$nout" "got ping"
same_as_runc "tty: the same /dev/pts/N" '^/dev/pts/'
same_as_runc "the output, input echoed by the pty" '^(hello|ping|got ping)$'
same_as_runc "id: uid 0" '^uid='
same_as_runc "process.consoleSize: 33 rows, 111 columns (stty size)" '^[0-9]+ [0-9]+$'
contains "process.consoleSize: set" "$nout" "33 111"
same_as_runc "/dev/console: the pty bound there" '^console: '
same_as_runc "the pty's owner and mode" '^pty owner: '
same_as_runc "stdin, stdout and stderr: the pty" '^fd [012]: '
contains "fd 0 is the pty" "$nout" "fd 0: /dev/pts/"
same_as_runc "the pty is the controlling terminal" '^controlling terminal: '
[ "$rout" = "$nout" ] && ok "create --console-socket: everything the same under both" ||
	{ fail "create --console-socket: outputs differ"; diag "$(diff <(echo "$rout") <(echo "$nout"))"; }

# ---- another user: the pty is the process's, the group devpts's ----

edit "$B/config.json" "c['process']['user'] = {'uid': 65534, 'gid': 65534}"
console_pair user "$B"
same_as_runc "uid 65534: id" '^uid='
same_as_runc "uid 65534: the pty is chowned to it (group tty)" '^pty owner: '
contains "uid 65534: owner 65534, group 5" "$nout" "pty owner: 65534:5 620"
[ "$rout" = "$nout" ] && ok "uid 65534: everything the same under both" ||
	{ fail "uid 65534: outputs differ"; diag "$(diff <(echo "$rout") <(echo "$nout"))"; }

# ---- run -d --console-socket ----

console_pair detached "$B" -d
contains "run -d: input and output through the pty" "$nout" "got ping"
[ "$rout" = "$nout" ] && ok "run -d --console-socket: the same under both" ||
	{ fail "run -d: outputs differ"; diag "$(diff <(echo "$rout") <(echo "$nout"))"; }

# ---- an exported bundle (a user namespace, a user of nscell's) ----

if ensure_user $U; then
	E=$SCRATCH/e
	"$NSCELL" export -u $U --no-hooks -o "$E" -- /bin/sh -c "$PROBE" 2>"$SCRATCH/err" ||
		diag "$(cat "$SCRATCH/err")"
	edit "$E/config.json" "c['process']['terminal'] = True"
	console_pair export "$E"
	contains "exported bundle: the user's uid" "$nout" "uid=$(id -u $U)"
	contains "exported bundle: input and output through the pty" "$nout" "got ping"
	[ "$rout" = "$nout" ] && ok "exported bundle: the same under both" ||
		{ fail "exported bundle: outputs differ"; diag "$(diff <(echo "$rout") <(echo "$nout"))"; }
else
	skip "exported bundle: cannot create the test user $U"
fi

# ---- the TIOCSTI filter: on whenever the command has a terminal ----

T=$SCRATCH/t
mkdir "$T"
cp "$B/config.json" "$T/config.json"
edit "$T/config.json" "c['root']['path'] = a[0]; c['process']['args'] = ['sh', '-c', a[1]]" "$B/rootfs" \
	'echo hello; read -r line; grep Seccomp: /proc/self/status
python3 -c "
import fcntl, termios
try:
    fcntl.ioctl(0, termios.TIOCSTI, b\"x\")
    print(\"TIOCSTI: pushed\")
except OSError as e:
    print(\"TIOCSTI: refused, errno\", e.errno)"'
receive filter
run_timed "${NRT[@]}" create --console-socket "$SCRATCH/filter.sock" -b "$T" cs-filter-$$ &&
	run_timed "${NRT[@]}" start cs-filter-$$
wait_for $RPID 40
"${NRT[@]}" delete -f cs-filter-$$ >/dev/null 2>&1
out=$(field filter out)
contains "a terminal reaches the command: the seccomp filter is on" "$out" "Seccomp:	2"
contains "TIOCSTI on its own pty: refused (EPERM)" "$out" "TIOCSTI: refused, errno 1"

# ---- a foreground run: the runtime's own pty, passed through ----

F=$SCRATCH/f
mkdir "$F"
cp "$B/config.json" "$F/config.json"
edit "$F/config.json" "c['root']['path'] = a[0]; del c['process']['consoleSize']
c['process']['user'] = {'uid': 0, 'gid': 0}
c['process']['args'] = ['sh', '-c', 'tty; echo hello; id; : </dev/tty && echo controlling terminal: yes']" "$B/rootfs"
rout=$(run_timed $PY "$SRCDIR/tests/attack/pty_run.py" 30 "${RUNC[@]}" run -b "$F" cs-fg-r-$$ 2>&1)
nout=$(run_timed $PY "$SRCDIR/tests/attack/pty_run.py" 30 "${NRT[@]}" run -b "$F" cs-fg-n-$$ 2>&1)
contains "foreground run on a terminal: the output" "$nout" "hello"
printf '%s\n' "$nout" | head -1 | grep -qxE '/dev/pts/[0-9]+' &&
	ok "foreground run: tty names /dev/pts/N inside" || fail "foreground run: $nout"
contains "foreground run: nothing pushed into the caller's terminal" "$nout" "PENDING: b''"
[ "$rout" = "$nout" ] && ok "foreground run on a terminal: the same under both" ||
	{ fail "foreground run: outputs differ"; diag "$(diff <(echo "$rout") <(echo "$nout"))"; }
# runc wants a controlling terminal of its own (it opens /dev/tty); nscell passes pipes through
edit "$F/config.json" "c['process']['args'] = ['sh', '-c', 'read -r line; echo \"got \$line\"; tty']"
out=$(printf 'pong\n' | run_timed "${NRT[@]}" run -b "$F" cs-fg-p-$$ 2>&1); rc=$?
[ "$rc" = 0 ] && contains "foreground run on pipes: stdin in, output out, through the pty" "$out" "got pong" ||
	{ fail "foreground run on pipes: exit $rc"; diag "$out"; }
# with hooks: the command waits for them with its pty made, output still flows
printf '#!/bin/sh\necho "$1" >> %s/stages\n' "$SCRATCH" > "$SCRATCH/hook.sh"
chmod 755 "$SCRATCH/hook.sh"
cp "$F/config.json" "$SCRATCH/f.json"
edit "$F/config.json" "c['hooks'] = {s: [{'path': a[0], 'args': ['hook.sh', s]}]
	for s in ('prestart', 'createRuntime', 'poststart', 'poststop')}" "$SCRATCH/hook.sh"
out=$(printf 'pang\n' | run_timed "${NRT[@]}" run -b "$F" cs-fg-h-$$ 2>&1); rc=$?
[ "$rc" = 0 ] && contains "foreground run with hooks: through the pty" "$out" "got pang" ||
	{ fail "foreground run with hooks: exit $rc"; diag "$out"; }
[ "$(tr '\n' ' ' < "$SCRATCH/stages")" = "prestart createRuntime poststart poststop " ] &&
	ok "foreground run with a terminal: the hooks in the spec's order" ||
	fail "hooks ran: $(tr '\n' ' ' < "$SCRATCH/stages")"
cp "$SCRATCH/f.json" "$F/config.json"
[ -z "$("${NRT[@]}" list -q)" ] && ok "foreground runs leave no container behind" ||
	fail "left: $("${NRT[@]}" list -q)"

# ---- errors: as runc's, exit non-zero, nothing left behind ----

# refused DESCRIPTION RUNC_NEEDLE NSCELL_NEEDLE ARGS...: both fail, saying so
refused() {
	local rerr nerr rc id=cs-err-$$
	rerr=$(run_timed "${RUNC[@]}" "${@:4}" "$id" 2>&1 </dev/null); rc=$?
	[ "$rc" != 0 ] && contains "runc refuses $1" "$rerr" "$2" || { fail "runc: $1: exit $rc"; diag "$rerr"; }
	"${RUNC[@]}" delete -f "$id" >/dev/null 2>&1
	nerr=$(run_timed "${NRT[@]}" "${@:4}" "$id" 2>&1 </dev/null); rc=$?
	if [ "$rc" = 2 ] && [ "$(printf '%s\n' "$nerr" | wc -l)" = 1 ]; then
		contains "nscell-runtime refuses $1" "$nerr" "$3"
	else
		fail "nscell-runtime: $1: exit $rc"; diag "$nerr"
	fi
	"${NRT[@]}" state "$id" >/dev/null 2>&1 && fail "$1: a container was left" ||
		ok "$1: no container left"
	"${NRT[@]}" delete -f "$id" >/dev/null 2>&1
}
refused "terminal true, create without --console-socket" \
	"cannot allocate tty if runc will detach without setting console socket" \
	"process.terminal is true: cannot allocate tty if the runtime will detach without setting console socket" \
	create -b "$F"
refused "terminal true, run -d without --console-socket" \
	"cannot allocate tty if runc will detach without setting console socket" \
	"process.terminal is true: cannot allocate tty" run -d -b "$F"
receive unused
refused "--console-socket in a foreground run" \
	"cannot use console socket if runc will not detach or allocate tty" \
	"--console-socket: cannot use console socket if the runtime will not detach or allocate tty (run without -d)" \
	run --console-socket "$SCRATCH/unused.sock" -b "$F"
P=$SCRATCH/plain
mkdir "$P"
cp "$F/config.json" "$P/config.json"
edit "$P/config.json" "c['process']['terminal'] = False"
refused "--console-socket with terminal false" \
	"cannot use console socket if runc will not detach or allocate tty" \
	"--console-socket: cannot use console socket if the runtime will not detach or allocate tty (process.terminal is false)" \
	create --console-socket "$SCRATCH/unused.sock" -b "$P"
kill $RPID 2>/dev/null
wait $RPID 2>/dev/null
refused "a --console-socket nobody listens on" "connect: no such file or directory" \
	"--console-socket $SCRATCH/nowhere.sock: connect: No such file or directory" \
	create --console-socket "$SCRATCH/nowhere.sock" -b "$F"

done_testing
