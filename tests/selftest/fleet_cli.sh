#!/bin/sh
# faultline fleet without root: two loopback agents with host faults off
# (--no-host), an unreachable one and bad inventories. The command's exit
# codes and messages (status 0/3, a refused apply 1 naming the agent,
# unreachable 3, a bad inventory or option 2 with file:line), its --json,
# and the leases shown by status (GET /lease when /host is off). The kernel
# faults themselves: agent_fleet.sh and nemesis_fleet.sh (root).
set -eu
ROOT=${ROOT:-$(pwd)}
FAULTLINE=${FAULTLINE:-$ROOT/build/faultline}
command -v curl >/dev/null 2>&1 || { echo "skip: no curl"; exit 77; }

tmp=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() { echo "FAIL: $*"; for f in "$tmp"/*.err; do echo "--- $f"; tail -n 5 "$f"; done; exit 1; }
# expect RC CMD...: run, keep stdout in $tmp/out and stderr in $tmp/err
expect() {
	want=$1
	shift
	set +e
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	set -e
	[ "$rc" = "$want" ] || fail "$* -> exit $rc, want $want: $(cat "$tmp/out" "$tmp/err")"
}

printf 'tok-%s\n' $$ >"$tmp/token"
for i in 1 2; do
	"$FAULTLINE" agent --listen 127.0.0.1:0 --no-host --token-file "$tmp/token" \
		>"$tmp/agent$i.out" 2>"$tmp/agent$i.err" &
	pids="$pids $!"
done
for i in 1 2; do
	n=0
	until grep -q 'listening on' "$tmp/agent$i.out" 2>/dev/null; do
		n=$((n + 1)); [ $n -lt 100 ] || fail "agent $i did not start"; sleep 0.05
	done
	eval "A$i=http://$(sed -n 's/.*listening on //p' "$tmp/agent$i.out")"
done
printf '# two agents\none %s\ntwo %s   # the second\n' "$A1" "$A2" >"$tmp/inv"
F="$FAULTLINE fleet --token-file $tmp/token"

echo "== status"
expect 0 $F status --inventory "$tmp/inv"
grep -q "^one  .* up, faultline .*0 host faults, 0 leases" "$tmp/out" || fail "status: $(cat "$tmp/out")"
[ "$(grep -c ' up, ' "$tmp/out")" = 2 ] || fail "two agents up: $(cat "$tmp/out")"
expect 0 $F status --inventory "$tmp/inv" --json
grep -q '"name":"two"' "$tmp/out" && grep -q '"host_faults":false' "$tmp/out" || fail "--json: $(cat "$tmp/out")"
expect 3 $F status --inventory "$tmp/inv" --agent http://127.0.0.1:9
grep -q "127.0.0.1:9 .*UNREACHABLE: .*refused" "$tmp/out" || fail "unreachable: $(cat "$tmp/out")"
expect 3 "$FAULTLINE" fleet status --agent "$A1"
grep -q "UNREACHABLE: .*401" "$tmp/out" || fail "no token: $(cat "$tmp/out")"

echo "== leases held elsewhere show in status"
curl -sf -XPOST -H "Authorization: Bearer $(cat "$tmp/token")" "$A2/lease" \
	-d '{"ttl_ms":60000,"holder":"ci-job-7"}' >/dev/null || fail "lease"
expect 0 $F status --inventory "$tmp/inv"
grep -q "lease ci-job-7 .* s left" "$tmp/out" || fail "lease not shown: $(cat "$tmp/out")"

echo "== apply refused by the first agent: exit 1, nothing made"
expect 1 $F apply '{"type":"partition","peer":"10.9.9.9","ttl_ms":1000}' --inventory "$tmp/inv"
grep -q "^faultline fleet: one: .*--no-host.*rolled back on every other agent" "$tmp/err" ||
	fail "message: $(cat "$tmp/err")"
[ ! -s "$tmp/out" ] || fail "ids printed for a refused apply: $(cat "$tmp/out")"
expect 3 $F apply '{"type":"partition","peer":"10.9.9.9","ttl_ms":1000}' --agent http://127.0.0.1:9
grep -q "127.0.0.1:9: .*refused" "$tmp/err" || fail "unreachable apply: $(cat "$tmp/err")"
expect 1 $F apply '{"type":"partition","peer":"10.9.9.9","ttl_ms":1000}' --inventory "$tmp/inv" \
	--hold --lease-ms 1000
expect 0 $F status --inventory "$tmp/inv"
grep -q "lease faultline-fleet" "$tmp/out" && fail "the refused --hold left its lease: $(cat "$tmp/out")"
expect 1 $F heal --inventory "$tmp/inv"
[ "$(grep -c -- "--no-host" "$tmp/err")" = 2 ] || fail "heal: $(cat "$tmp/err")"

echo "== usage"
printf 'one %s\nthree x y\n' "$A1" >"$tmp/bad"
expect 2 $F status --inventory "$tmp/bad"
grep -q "$tmp/bad:2: expected 'URL' or 'NAME URL'" "$tmp/err" || fail "bad line: $(cat "$tmp/err")"
printf 'one %s\none %s\n' "$A1" "$A2" >"$tmp/twice"
expect 2 $F status --inventory "$tmp/twice"
grep -q "$tmp/twice:2: agent one named twice" "$tmp/err" || fail "twice: $(cat "$tmp/err")"
expect 2 $F status --inventory "$tmp/none"
grep -q "cannot read inventory" "$tmp/err" || fail "missing inventory: $(cat "$tmp/err")"
expect 2 $F status --agent ftp://x
grep -q "expected an http(s):// URL, got ftp://x" "$tmp/err" || fail "bad URL: $(cat "$tmp/err")"
expect 2 $F apply 'not json' --agent "$A1"
expect 2 $F apply '{}' --agent "$A1" --lease-ms 5
expect 2 $F status
expect 2 $F twirl --agent "$A1"
echo ok
