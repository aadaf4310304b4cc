#!/bin/sh
# The planted bugs have one list, transferd's (transfer-system/rt.c):
# `transferd --list-bugs` prints it, `faultline ref up --bug` checks names
# against it (an unknown one: exit 2 naming the known ones, before anything
# starts), and transfer-system/README.md documents each.
set -eu
: "${FAULTLINE:=build/faultline}" "${TRANSFERD:=build/transferd}" "${ROOT:=.}"
[ -x "$FAULTLINE" ] && [ -x "$TRANSFERD" ] || { echo "skip: faultline or transferd not built"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }

"$TRANSFERD" --list-bugs >"$T/bugs" || fail "transferd --list-bugs exited $?"
n=$(grep -c . "$T/bugs")
[ "$n" -ge 12 ] || fail "transferd lists $n bugs: $(cat "$T/bugs")"
while read -r b; do
	grep -q -- "\`$b\`" "$ROOT/transfer-system/README.md" || fail "transfer-system/README.md does not document '$b'"
done <"$T/bugs"

rc=0
TRANSFERD="$TRANSFERD" "$FAULTLINE" ref up --bug no-such-bug --data "$T/ref" >"$T/out" 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "ref up --bug no-such-bug: exit $rc, want 2: $(cat "$T/out")"
grep -q "unknown bug 'no-such-bug'" "$T/out" || fail "no error naming the bug: $(cat "$T/out")"
grep -q "$(tail -n 1 "$T/bugs")" "$T/out" || fail "the error does not name the known bugs: $(cat "$T/out")"
[ ! -e "$T/ref/topology.json" ] || fail "ref up started something"

# a transferd that cannot list its bugs: an infrastructure error, not a guess
rc=0
TRANSFERD=/bin/true "$FAULTLINE" ref up --bug no-refund --data "$T/ref" >"$T/out" 2>&1 || rc=$?
[ "$rc" -eq 3 ] || fail "with a transferd that lists nothing: exit $rc, want 3: $(cat "$T/out")"
echo "ok: $n planted bugs, one list"
