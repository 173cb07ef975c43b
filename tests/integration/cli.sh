#!/bin/bash
# The nscell CLI contract: check, plan, usage errors and exit statuses.
. "${SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
scratch

# check: silent and 0 on the built-in default
out=$("$NSCELL" check 2>&1); rc=$?
[ "$rc" = 0 ] && [ -z "$out" ] && ok "check: default template is clean and silent" ||
	{ fail "check: default template (exit $rc)"; diag "$out"; }

# check: every error as FILE:LINE:COL, exit 1
cat > "$SCRATCH/bad.tpl" <<'T'
/usr,ro-bind
/etc/hostname /x,nonsense
"/unbalanced,ro-bind
relative/src /dst,bind
/usr /usr2,ro-bind,extra
T
out=$("$NSCELL" check -f "$SCRATCH/bad.tpl" 2>&1); rc=$?
check_status "check: errors exit 1" 1 "$NSCELL" check -f "$SCRATCH/bad.tpl"
contains "check: unknown command named with line and column" "$out" "$SCRATCH/bad.tpl:2:"
contains "check: unbalanced quote reported" "$out" "$SCRATCH/bad.tpl:3:"
contains "check: relative source reported" "$out" "$SCRATCH/bad.tpl:4:"
contains "check: a token too many reported" "$out" "$SCRATCH/bad.tpl:5:"
n=$(printf '%s\n' "$out" | grep -c ': error: ')
[ "$n" -ge 4 ] && ok "check: reports every error, not only the first ($n)" || fail "check: only $n errors"

# check: an override warns, exit 0
cat > "$SCRATCH/over.tpl" <<'T'
/usr,ro-bind
/usr,bind
T
out=$("$NSCELL" check -f "$SCRATCH/over.tpl" 2>&1); rc=$?
[ "$rc" = 0 ] && ok "check: override is only a warning" || fail "check: override exit $rc"
contains "check: override warning names the line" "$out" "$SCRATCH/over.tpl:2:"
contains "check: override is a warning" "$out" "warning"

# check: a missing required source
printf '/nonexistent/nscell-src /x,bind\n' > "$SCRATCH/missing.tpl"
out=$("$NSCELL" check -f "$SCRATCH/missing.tpl" 2>&1); rc=$?
[ "$rc" = 1 ] && ok "check: missing required source exits 1" || fail "check: missing source exit $rc"
contains "check: missing source names the line" "$out" "$SCRATCH/missing.tpl:1:"

# a template that is not there
out=$("$NSCELL" check -f "$SCRATCH/nope.tpl" 2>&1); rc=$?
[ "$rc" != 0 ] && ok "check: unreadable template fails" || fail "check: unreadable template exit 0"
contains "check: unreadable template named" "$out" "nope.tpl"

# plan: text and JSON
out=$("$NSCELL" plan -u root 2>&1)
contains "plan: shows the user" "$out" "root (0)"
contains "plan: shows the origin of each mount" "$out" "# built-in:"
if "$NSCELL" plan -u root -J > "$SCRATCH/plan.json" 2>"$SCRATCH/err" &&
	/usr/bin/python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); assert p["identity"]["uid"] == 0; assert any(m["destination"] == "/usr" for m in p["mounts"])' "$SCRATCH/plan.json"; then
	ok "plan -J: valid JSON with identity and mounts"
else
	fail "plan -J"; diag "$(cat "$SCRATCH/err")"
fi
a=$("$NSCELL" plan -u root -J); b=$("$NSCELL" plan -u root -J)
[ "$a" = "$b" ] && ok "plan -J: deterministic" || fail "plan -J: differs between runs"

# unknown user: one line, exit 2
out=$("$NSCELL" plan -u nscell-no-such-user 2>&1); rc=$?
[ "$rc" = 2 ] && ok "plan: unknown user exits 2" || fail "plan: unknown user exit $rc"
contains "plan: unknown user named" "$out" "nscell-no-such-user"
[ "$(printf '%s\n' "$out" | wc -l)" = 1 ] && ok "plan: unknown user is one line" || fail "plan: unknown user: $(printf '%s\n' "$out" | wc -l) lines"

# usage errors
check_status "unknown command exits 2" 2 "$NSCELL" frobnicate
check_status "unknown option exits 2" 2 "$NSCELL" plan --frob
check_status "missing option argument exits 2" 2 "$NSCELL" plan -u
check_status "export without -o exits 2" 2 "$NSCELL" export -u root
check_status "a command without '--' exits 2" 2 "$NSCELL" translate -u root /bin/true
check "help exits 0" "$NSCELL" --help

# -s with an unknown vhost
printf 'template = %s\n[vhost known.example]\nmode = on\n' "$SCRATCH/over.tpl" > "$SCRATCH/nscell.conf"
out=$("$NSCELL" plan -u root -C "$SCRATCH/nscell.conf" -s unknown.example 2>&1); rc=$?
[ "$rc" = 2 ] && ok "plan: unknown vhost exits 2" || fail "plan: unknown vhost exit $rc"
contains "plan: unknown vhost named" "$out" "unknown.example"
check "plan: known vhost resolves" "$NSCELL" plan -u root -C "$SCRATCH/nscell.conf" -s known.example

done_testing
