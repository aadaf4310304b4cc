#!/bin/sh
# The reference system in network-namespace hosts (root; exit 77 otherwise):
# `faultline ref up --netns --direct` (each service a host, calling the
# others at their hosts' addresses), then e2e/netns_lua/partition.lua: a two-way
# and a one-way nftables partition between remittance and money, each
# applied by a host's agent with a TTL while clients transfer; after the
# heal, sagas end, money is conserved and the saga checker passes. A
# restarted service is back in its host; `ref down` lists the agents and
# leaves no namespace, veth or bridge behind. Then `ref up --netns` without
# --direct: every edge through its link on the gateway's address.
set -eu
ROOT=${ROOT:-$(pwd)}
export ROOT
. "$ROOT/tests/lib/netns.sh"
netns_need_up
TRANSFERD=${TRANSFERD:-$ROOT/build/transferd}
export TRANSFERD
[ -x "$TRANSFERD" ] || { echo "transferd not built ($TRANSFERD)"; exit 77; }

tmp=$(mktemp -d)
D="$tmp/ref"
cleanup() {
	set +e
	[ -f "$D/topology.json" ] && "$FAULTLINE" down --data "$D" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() {
	echo "FAIL: $*"
	keep="$ROOT/${BUILD:-build}/test-logs/netns-ref"
	rm -rf "$keep" && mkdir -p "$keep" && cp -r "$D/logs" "$keep/" 2>/dev/null || true
	echo "--- logs kept in $keep"
	exit 1
}
js() { python3 -c 'import json,sys; t=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }

"$FAULTLINE" ref up --netns --direct --data "$D" \
	-- --saga-deadline 2s --breaker-wait 1s --drain-delay 300ms --call-timeout 1s >"$tmp/up" 2>&1 || { cat "$tmp/up"; fail "ref up --netns --direct"; }
grep -q 'run on loopback' "$tmp/up" && fail "fell back to loopback: $(cat "$tmp/up")"
[ "$(js "$D/topology.json" 't["direct"]')" = True ] || fail "ref up --direct has links"
echo "reference system in netns hosts: $(sed -n 's/^reference system up in \([0-9]* ms\).*/\1/p' "$tmp/up"), $(js "$D/topology.json" 'len(t["netns"]["hosts"])') hosts on $(js "$D/topology.json" 't["netns"]["bridge"]') ($(js "$D/topology.json" 't["netns"]["subnet"]'))"
names=$(js "$D/topology.json" '" ".join([t["netns"]["bridge"]] + [h["ns"] + " " + h["veth"] for h in t["netns"]["hosts"].values()])')
# ref status lists each host's agent, ready
"$FAULTLINE" ref status --data "$D" >"$tmp/status" 2>&1 || { cat "$tmp/status"; fail "ref status"; }
grep -q '^    money .* agent http://.*:8474 .* ready$' "$tmp/status" || fail "ref status does not list the agents: $(cat "$tmp/status")"

# a reference service restarted (faultline ref restart) is back in its own host
"$FAULTLINE" kill money --data "$D" >/dev/null || fail "kill money"
"$FAULTLINE" ref restart money --data "$D" >/dev/null || fail "ref restart money"
ip netns exec "$(js "$D/topology.json" 't["services"]["money"]["netns"]')" ss -ltnH |
	grep -q "$(js "$D/topology.json" 't["services"]["money"]["addr"]')" || fail "restarted money is not in its host"

FL_REF="$D" "$FAULTLINE" run "$ROOT/e2e/netns_lua/partition.lua" --seed 1 || fail "partition scenarios"

"$FAULTLINE" ref down --data "$D" >"$tmp/down" 2>&1 || { cat "$tmp/down"; fail "ref down: a process did not exit 0"; }
grep -q '^  agent money .*exited 0' "$tmp/down" || fail "ref down does not list the agents: $(cat "$tmp/down")"
for n in $names; do
	ip netns list | grep -q "^$n\( \|$\)" && fail "namespace $n left after down"
	ip link show "$n" >/dev/null 2>&1 && fail "link $n left after down"
done

# without --direct: every edge through its link, listening on the gateway
"$FAULTLINE" ref up --netns --fresh --data "$D" >"$tmp/up2" 2>&1 || { cat "$tmp/up2"; fail "ref up --netns"; }
gw=$(js "$D/topology.json" 't["netns"]["gateway"]')
[ "$(js "$D/topology.json" 'len(t["links"])')" -gt 0 ] || fail "ref up --netns has no links"
[ "$(js "$D/topology.json" 'sorted(set(l["listen"].split(":")[0] for l in t["links"].values()))')" = "['$gw']" ] ||
	fail "links not all on the gateway $gw: $(js "$D/topology.json" '[l["listen"] for l in t["links"].values()]')"
# a member with a top-up saga: calls between hosts through the links
cat >"$tmp/links.lua" <<'EOF'
local fl = require "faultline"
describe("ref up --netns", function()
  it("a top-up saga through the links", function()
    local sys = fl.ref.system()
    local m = sys:member{ balance = 1000 }
    assert(sys:balance(m.id) == 1000, "balance " .. tostring(sys:balance(m.id)))
  end)
end)
EOF
FL_REF="$D" "$FAULTLINE" run "$tmp/links.lua" -q || fail "a top-up through the links"
echo "ref up --netns (links on $gw): $(sed -n 's/^reference system up in \([0-9]* ms\).*/\1/p' "$tmp/up2"), $(js "$D/topology.json" 'len(t["links"])') links"
"$FAULTLINE" ref down --data "$D" >"$tmp/down2" 2>&1 || { cat "$tmp/down2"; fail "ref down (links)"; }
echo "ok"
