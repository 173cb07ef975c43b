#!/bin/bash
# nscell probe and nscell diff: what a process sees under the shim against
# runc on the exported bundle.  The runs need root and runc (SKIP without);
# the rootless run needs an unprivileged user that can execute nscell.
. "${SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
scratch

TPLDIR=$SRCDIR/tests/data/templates
PROBE_HELPER=$BUILDDIR/nscell-probe
# nscell diff runs both sides with runc's umask 0022 (README): a caller's
# other umask must not show
umask 077

# Real differences between the two sides, found by nscell diff and not yet
# fixed in the shim or the translation (fact names as `nscell diff -J`
# prints them, one a line; the user is $TUSER).  A template whose only
# differences are these is a TODO, any other difference fails.  None are
# known: every template must come out the same.
TUSER=nscelldiff1
known_real() {
	:
}
KNOWN_REAL=$(known_real)

# the facts a `nscell diff -J` output says differ, one a line
diff_facts() {
	/usr/bin/python3 -c 'import json,sys
for d in json.load(sys.stdin)["differences"]: print(d["fact"])'
}

# diff_ok DESC JSON-OUTPUT STATUS: exit 0, or (TODO) only known real differences
diff_ok() {
	local desc=$1 out=$2 rc=$3 f unknown=
	if [ "$rc" = 0 ]; then ok "$desc: no differences"; return; fi
	if [ "$rc" != 1 ]; then fail "$desc (exit $rc)"; printf '%s\n' "$out" | sed 's/^/#   /' | head -20; return; fi
	while IFS= read -r f; do
		grep -qxF -- "$f" <<<"$KNOWN_REAL" || unknown="$unknown${unknown:+, }$f"
	done < <(printf '%s\n' "$out" | diff_facts)
	if [ -n "$unknown" ] || [ -z "$KNOWN_REAL" ]; then
		fail "$desc: differs in ${unknown:-facts it did not name}"
		printf '%s\n' "$out" | sed 's/^/#   /' | head -60
	else
		echo "not ok $((_tap_n += 1)) - $desc: no differences # TODO real differences reported to the lead: $(printf '%s\n' "$out" | diff_facts | tr '\n' ',' | sed 's/,$//')"
	fi
}

tpl_args() { [ "$1" = default ] || printf '%s\n' -f "$TPLDIR/$1.tpl"; }

# ---- nscell probe on the host: no root needed ----

out=$("$NSCELL" probe 2>&1); rc=$?
[ "$rc" = 0 ] && ok "probe: runs on the host" || { fail "probe: exit $rc"; diag "$out"; }
contains "probe: reports the uid" "$out" "uid: $(id -u)"
contains "probe: reports the mount table" "$out" "mount /proc: proc"
contains "probe: reports the fixed paths" "$out" "path /etc/passwd: file"
contains "probe: namespaces compared to its own" "$out" "namespace mnt: host"
check "probe -J: valid JSON with every section" /usr/bin/python3 -c 'import json,sys
d=json.loads(sys.argv[1])
for k in ("uid","gid","groups","capabilities","no_new_privs","seccomp","namespaces","hostname",
          "cwd","environment","umask","rlimits","mounts","paths","passwd","group","pid1","processes"):
    assert k in d, k
assert all(set(m) >= {"target","fstype","read_only","nosuid","nodev","noexec","propagation"} for m in d["mounts"])
' "$("$NSCELL" probe -J)"
out=$("$NSCELL" probe --ref-ns mnt=1,pid=2 2>&1)
contains "probe --ref-ns: another inode is a new namespace" "$out" "namespace mnt: new"
contains "probe --ref-ns: a type not given is unknown" "$out" "namespace uts: unknown"
check_status "probe --ref-ns: a bad list is a usage error" 2 "$NSCELL" probe --ref-ns mnt
out=$("$NSCELL" probe -- "$SCRATCH" /nonexistent/nscell 2>&1)
contains "probe: extra paths are probed" "$out" "path $SCRATCH: dir"
contains "probe: a missing path is absent" "$out" "path /nonexistent/nscell: absent"

if [ ! -x "$PROBE_HELPER" ]; then
	skip "nscell-probe: not built"
else
	if file -b "$PROBE_HELPER" 2>/dev/null | grep -q 'statically linked' ||
		! ldd "$PROBE_HELPER" >/dev/null 2>&1; then
		ok "nscell-probe is statically linked"
	else
		fail "nscell-probe is dynamically linked"
	fi
	"$PROBE_HELPER" /usr > "$SCRATCH/host.raw"
	check "probe --raw: formats the helper's output" "$NSCELL" probe --raw "$SCRATCH/host.raw"
	a=$("$NSCELL" probe --raw - < "$SCRATCH/host.raw") b=$("$NSCELL" probe --raw "$SCRATCH/host.raw")
	[ "$a" = "$b" ] && ok "probe --raw: stdin and file read alike" || fail "probe --raw -: differs"
	head -c 300 "$SCRATCH/host.raw" > "$SCRATCH/cut.raw"
	out=$("$NSCELL" probe --raw "$SCRATCH/cut.raw" 2>&1)
	check_status "probe --raw: a cut-short dump exits 2" 2 "$NSCELL" probe --raw "$SCRATCH/cut.raw"
	contains "probe --raw: says the dump is cut short" "$out" "cut short"
fi

# ---- nscell diff: environment errors ----

check_status "diff: runc not in PATH exits 2" 2 env PATH=/nonexistent "$NSCELL" diff
check_status "diff: a command is a usage error" 2 "$NSCELL" diff -- /bin/true

if ! is_root; then
	skip "diff: need root"
	check_status "diff: not root and not --rootless exits 2" 2 "$NSCELL" diff
	done_testing
fi
if ! command -v runc >/dev/null 2>&1; then
	skip "diff: runc not installed"
	done_testing
fi
# a user of its own: other tests write in their users' homes, which the
# probe sees
if ! ensure_user "$TUSER"; then
	skip "diff: cannot create the test user"
	done_testing
fi
check_status "diff: --rootless as root exits 2" 2 "$NSCELL" diff --rootless -u "$TUSER"

# ---- every template: the same under runc and the shim ----

for t in default all1 all2 all3; do
	mapfile -t targs < <(tpl_args "$t")
	out=$("$NSCELL" diff -J -u "$TUSER" "${targs[@]}" 2>&1); rc=$?
	diff_ok "diff $t" "$out" "$rc"
done

# ---- stability: two probes of the same sandbox are byte-identical ----

k1=$("$NSCELL" diff --keep -u "$TUSER" -f "$TPLDIR/all1.tpl" 2>&1 >/dev/null | sed -n 's/^nscell diff: kept \([^ ]*\) .*/\1/p')
k2=$("$NSCELL" diff --keep -u "$TUSER" -f "$TPLDIR/all1.tpl" 2>&1 >/dev/null | sed -n 's/^nscell diff: kept \([^ ]*\) .*/\1/p')
if [ -z "$k1" ] || [ -z "$k2" ]; then
	fail "diff --keep: no directory kept"
else
	for f in bundle/config.json runc.json nscell-shim.json runc.compared.txt nscell-shim.compared.txt; do
		[ -s "$k1/$f" ] && ok "diff --keep: keeps $f" || fail "diff --keep: $f missing"
	done
	check "stability: two runc probes print the same JSON" cmp "$k1/runc.json" "$k2/runc.json"
	check "stability: two shim probes print the same JSON" cmp "$k1/nscell-shim.json" "$k2/nscell-shim.json"
	a=$("$NSCELL" probe --raw "$k1/nscell-shim.raw") b=$("$NSCELL" probe --raw "$k2/nscell-shim.raw")
	[ -n "$a" ] && [ "$a" = "$b" ] && ok "stability: two shim probes print the same text" ||
		{ fail "stability: shim text differs"; diff <(echo "$a") <(echo "$b") | sed 's/^/#   /' | head; }
fi
rm -rf "$k1" "$k2"

# ---- a planted difference: the template changes between export and run ----

cp "$TPLDIR/all1.tpl" "$SCRATCH/planted.tpl"
line=$(grep -n '^/usr/share/doc /srv/doc-rw,bind' "$SCRATCH/planted.tpl" | cut -d: -f1)
out=$(NSCELL_DIFF_TEST_AFTER_EXPORT="sed -i 's|^/usr/share/doc /srv/doc-rw,bind|/usr/share/doc /srv/doc-rw,ro-bind|' '$SCRATCH/planted.tpl'" \
	"$NSCELL" diff -u "$TUSER" -f "$SCRATCH/planted.tpl" 2>&1); rc=$?
[ "$rc" = 1 ] && ok "planted: diff exits 1" || { fail "planted: exit $rc"; diag "$out"; }
contains "planted: names the path" "$out" "- mount /srv/doc-rw ("
contains "planted: runc saw it read-write" "$out" "runc: ext4 rw"
contains "planted: names the template line" "$out" "planted.tpl:$line:"
mkdir "$SCRATCH/tmp"
out=$(TMPDIR=$SCRATCH/tmp NSCELL_DIFF_TEST_AFTER_EXPORT=false "$NSCELL" diff -u "$TUSER" 2>&1); rc=$?
[ "$rc" = 2 ] && ok "diff: a failing step exits 2" || fail "diff: failing hook exit $rc"
contains "diff: says which step failed" "$out" "NSCELL_DIFF_TEST_AFTER_EXPORT failed"
TMPDIR=$SCRATCH/tmp "$NSCELL" diff -u "$TUSER" >/dev/null 2>&1
[ -z "$(ls -A "$SCRATCH/tmp")" ] && ok "diff: leaves no work directory behind without --keep" ||
	fail "diff: left $(ls -A "$SCRATCH/tmp")"

# ---- rootless: the test user runs both itself ----

if ! as_user "$TUSER" test -x "$NSCELL"; then
	skip "diff --rootless: $TUSER cannot execute $NSCELL"
else
	for t in default all1 all2; do
		mapfile -t targs < <(tpl_args "$t")
		out=$(cd / && as_user "$TUSER" env HOME="$(getent passwd "$TUSER" | cut -d: -f6)" \
			"$NSCELL" diff -J --rootless "${targs[@]}" 2>&1); rc=$?
		diff_ok "diff --rootless $t" "$out" "$rc"
	done
	check_status "diff: an unprivileged caller without --rootless exits 2" 2 \
		as_user "$TUSER" "$NSCELL" diff
fi

done_testing
