#!/bin/sh
# A fleet of three agents, one per network-namespace host, serving HTTPS
# with certificates made here, driven from a fourth host (root; exit 77
# otherwise): `faultline fleet status`, a fault
# applied on all three, a fault one agent refuses rolled back on the other
# two, a held fault healed on every host within the lease once the
# controller is SIGKILLed, and fl.fleet from a scenario (all or nothing,
# healed when the test ends, leases released).
set -eu
ROOT=${ROOT:-$(pwd)}
. "$ROOT/tests/lib/netns.sh"
netns_need_root
FAULTLINE=${FAULTLINE:-$ROOT/build/faultline}

tmp=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
	netns_cleanup
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() { echo "FAIL: $*"; for f in "$tmp"/agent*.err; do echo "--- $f"; tail -n 15 "$f"; done; exit 1; }
ms() { echo $(($(date +%s%N) / 1000000)); }

netns_setup 4 # h1..h3 agents, h4 the controller
nsof() { eval "echo \$NS_$1"; }
addr() { eval "echo \$ADDR_$1"; }
printf 'tok-%s-%s\n' $$ "$(date +%s%N)" >"$tmp/token"
command -v openssl >/dev/null 2>&1 || { echo "skip: openssl is not installed"; exit 77; }
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/ca.key" -out "$tmp/ca.pem" -days 2 \
	-subj "/CN=faultline fleet test CA" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout "$tmp/srv.key" -out "$tmp/srv.csr" -subj "/CN=agents" 2>/dev/null
printf 'subjectAltName=IP:%s,IP:%s,IP:%s\n' "$(addr 1)" "$(addr 2)" "$(addr 3)" >"$tmp/srv.ext"
openssl x509 -req -in "$tmp/srv.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" -CAcreateserial \
	-out "$tmp/srv.pem" -days 2 -extfile "$tmp/srv.ext" 2>/dev/null
for i in 1 2 3; do
	ip netns exec "$(nsof $i)" "$FAULTLINE" agent --listen "$(addr $i):8474" \
		--tls-cert "$tmp/srv.pem" --tls-key "$tmp/srv.key" \
		--token-file "$tmp/token" --state-dir "$tmp/state" >"$tmp/agent$i.out" 2>"$tmp/agent$i.err" &
	pids="$pids $!"
done
for i in 1 2 3; do
	n=0
	until grep -q 'listening on' "$tmp/agent$i.out" 2>/dev/null; do
		n=$((n + 1)); [ $n -lt 100 ] || fail "agent $i did not start"; sleep 0.05
	done
done
printf '# the test fleet\nh1 https://%s:8474\nh2 https://%s:8474   # second\n\nh3 https://%s:8474\n' \
	"$(addr 1)" "$(addr 2)" "$(addr 3)" >"$tmp/agents.txt"
fleet() { ip netns exec "$NS_4" "$FAULTLINE" fleet --inventory "$tmp/agents.txt" --token-file "$tmp/token" --cacert "$tmp/ca.pem" "$@"; }
chains() { ip netns exec "$(nsof "$1")" nft list ruleset | grep -c '^\s*chain f' || true; }
qdisc() { ip netns exec "$(nsof "$1")" tc qdisc show dev eth0 | grep -c 'tbf fa17:' || true; }

echo "== status"
fleet status >"$tmp/status" || fail "status exit $?: $(cat "$tmp/status")"
cat "$tmp/status"
[ "$(grep -c ' up, faultline ' "$tmp/status")" = 3 ] || fail "three agents up"
fleet status --json | grep -q '"reachable":true' || fail "status --json"
ip netns exec "$NS_4" "$FAULTLINE" fleet status --inventory "$tmp/agents.txt" --token-file "$tmp/token" \
	>"$tmp/status3" 2>&1 && fail "an untrusted certificate must fail status"
grep -q "UNREACHABLE.*certificate" "$tmp/status3" || fail "no certificate error: $(cat "$tmp/status3")"
ip netns exec "$NS_4" "$FAULTLINE" fleet status --agent "https://$(addr 1):8474" \
	--agent "https://$SUBNET.77:8474" --cacert "$tmp/ca.pem" --token-file "$tmp/token" >"$tmp/status2" 2>&1 && fail "an unreachable agent must fail status"
grep -q UNREACHABLE "$tmp/status2" || fail "unreachable not shown: $(cat "$tmp/status2")"

echo "== a partition on all three"
fleet apply "{\"type\":\"partition\",\"peer\":\"$SUBNET.99\",\"ttl_ms\":20000}" >"$tmp/ids" || fail "apply"
[ "$(wc -l <"$tmp/ids")" = 3 ] || fail "ids: $(cat "$tmp/ids")"
for i in 1 2 3; do [ "$(chains $i)" = 2 ] || fail "h$i has no partition"; done
fleet status | grep -q 'fault hf-1 *partition *[0-9.]* s left' || fail "status shows no fault with TTL"
fleet heal || fail "heal"
for i in 1 2 3; do [ "$(chains $i)" = 0 ] || fail "h$i not healed"; done

echo "== one agent refuses: rolled back on all"
ip netns exec "$NS_3" tc qdisc add dev eth0 root handle 1: pfifo
set +e
fleet apply '{"type":"bandwidth","dev":"eth0","rate_bps":1000000,"ttl_ms":20000}' >"$tmp/out" 2>"$tmp/err"
rc=$?
set -e
[ $rc = 1 ] || fail "refused apply: exit $rc: $(cat "$tmp/err")"
grep -q "h3: .*not faultline's.*rolled back on every other agent" "$tmp/err" || fail "message: $(cat "$tmp/err")"
for i in 1 2; do [ "$(qdisc $i)" = 0 ] || fail "h$i kept its qdisc after the rollback"; done
ip netns exec "$NS_3" tc qdisc show dev eth0 | grep -q 'pfifo 1:' || fail "h3's own qdisc touched"
ip netns exec "$NS_3" tc qdisc del dev eth0 root

echo "== the controller holds the fault; SIGKILLed, the fleet heals within the lease"
ip netns exec "$NS_4" "$FAULTLINE" fleet --inventory "$tmp/agents.txt" --token-file "$tmp/token" \
	--cacert "$tmp/ca.pem" apply --hold --lease-ms 1500 "{\"type\":\"partition\",\"peer\":\"$SUBNET.99\",\"ttl_ms\":60000}" \
	>"$tmp/held" 2>"$tmp/held.err" &
ctl=$!
pids="$pids $ctl"
n=0
until [ "$({ wc -l <"$tmp/held"; } 2>/dev/null)" = 3 ]; do
	n=$((n + 1)); [ $n -lt 100 ] || fail "held apply: $(cat "$tmp/held.err")"; sleep 0.05
done
sleep 3.2 # past two leases: renewals (3 TLS requests every 500 ms) keep it
for i in 1 2 3; do [ "$(chains $i)" = 2 ] || fail "h$i lost the held fault while the lease was renewed"; done
fleet status | grep -q 'lease faultline-fleet-' || fail "no lease holder in status"
kill -9 $ctl; wait $ctl 2>/dev/null || true
tk=$(ms)
while :; do
	left=0
	for i in 1 2 3; do [ "$(chains $i)" = 0 ] || left=$((left + 1)); done
	[ $left = 0 ] && break
	[ $(($(ms) - tk)) -lt 4000 ] || fail "$left hosts not healed 4 s after the controller died"
	sleep 0.01
done
dt=$(($(ms) - tk))
echo "controller SIGKILLed: all 3 hosts healed after $dt ms (lease 1500 ms)"
[ $dt -le 1900 ] || fail "healed later than the lease + 400 ms"

echo "== the same held fault, stopped with SIGTERM: healed and released"
ip netns exec "$NS_4" "$FAULTLINE" fleet --inventory "$tmp/agents.txt" --token-file "$tmp/token" \
	--cacert "$tmp/ca.pem" apply --hold --lease-ms 5000 "{\"type\":\"partition\",\"peer\":\"$SUBNET.99\",\"ttl_ms\":60000}" \
	>"$tmp/held2" 2>"$tmp/held2.err" &
ctl=$!
n=0
until [ "$({ wc -l <"$tmp/held2"; } 2>/dev/null)" = 3 ]; do
	n=$((n + 1)); [ $n -lt 100 ] || fail "held apply 2"; sleep 0.05
done
kill -TERM $ctl; wait $ctl || fail "fleet apply --hold exit $? on SIGTERM"
for i in 1 2 3; do [ "$(chains $i)" = 0 ] || fail "h$i not healed after SIGTERM"; done
fleet status | grep -q 'lease faultline' && fail "lease left after SIGTERM"

echo "== fl.fleet from a scenario"
cat >"$tmp/fleet_test.lua" <<'EOF'
local fl = require "faultline"
local function chains(i)
  local p = io.popen("ip netns exec " .. fl.env["NS_" .. i] .. " nft list ruleset | grep -c '^\\s*chain f'")
  local n = tonumber(p:read("a")) or 0
  p:close()
  return n
end

describe("fl.fleet", function()
  local fleet = fl.fleet.load(fl.env.INVENTORY, { cacert = fl.env.CACERT })

  it("applies on all and heals at the end of the test", function()
    expect(#fleet:names()).to_be(3)
    local g = fleet:fault{ type = "partition", peer = fl.env.SUBNET .. ".99", ttl_ms = 20000 }
    expect(g.ids.h1).to_match("^hf%-%d+$")
    for i = 1, 3 do expect(chains(i)).to_be(2) end
    local st = fleet:status()
    expect(st[2].reachable).to_be(true)
    expect(#st[2].faults).to_be(1)
    expect(#st[2].leases).to_be(1)
  end)

  it("found nothing left by the previous test, and rolls back a refused fault", function()
    for i = 1, 3 do expect(chains(i)).to_be(0) end
    expect(#fleet:status()[1].leases).to_be(0)
    local ok, err = pcall(fleet.fault, fleet,
      { type = "loss", probability = 0.5, dev = "no-such-dev0", ttl_ms = 5000 })
    expect(ok).to_be(false)
    expect(tostring(err)).to_match("no interface")
    for i = 1, 3 do expect(chains(i)).to_be(0) end
    local g = fleet:only("h2"):fault{ type = "partition", peer = fl.env.SUBNET .. ".98",
                                      direction = "out", ttl_ms = 20000 }
    expect(g.ids.h1 == nil).to_be(true)
    expect(chains(2)).to_be(1)
    expect(#g:heal()).to_be(0)
    expect(chains(2)).to_be(0)
  end)
end)
EOF
ip netns exec "$NS_4" env FAULTLINE_TOKEN="$(cat "$tmp/token")" "$FAULTLINE" run "$tmp/fleet_test.lua" \
	-e INVENTORY="$tmp/agents.txt" -e CACERT="$tmp/ca.pem" -e SUBNET="$SUBNET" -e NS_1="$NS_1" -e NS_2="$NS_2" \
	-e NS_3="$NS_3" -e FL_PROXY_LEASE_MS=3000 >"$tmp/run.out" 2>&1 || { cat "$tmp/run.out"; fail "fl.fleet scenario"; }
grep -q "2 passed" "$tmp/run.out" || { cat "$tmp/run.out"; fail "fl.fleet: expected 2 passed"; }
for i in 1 2 3; do [ "$(chains $i)" = 0 ] || fail "h$i not healed after the scenario"; done
echo "ok"
