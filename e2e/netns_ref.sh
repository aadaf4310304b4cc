#!/bin/sh
# The reference system in network-namespace hosts (root; exit 77 otherwise):
# `faultline up --netns` of transfer-system/topology.lua with direct edges
# (e2e/netns/reference.lua), then e2e/netns_lua/partition.lua: a two-way
# and a one-way nftables partition between remittance and money, each
# applied by a host's agent with a TTL while clients transfer; after the
# heal, sagas end, money is conserved and the saga checker passes. A
# restarted service is back in its host; `down` leaves no namespace, veth
# or bridge behind.
set -eu
ROOT=${ROOT:-$(pwd)}
export ROOT
. "$ROOT/tests/lib/netns.sh"
netns_need_root
FAULTLINE=${FAULTLINE:-$ROOT/build/faultline}
TRANSFERD=${TRANSFERD:-$ROOT/build/transferd}
export TRANSFERD
[ -x "$FAULTLINE" ] || { echo "faultline not built ($FAULTLINE)"; exit 77; }
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

NETNS_REF_ARGS="--saga-deadline 2s --breaker-wait 1s --drain-delay 300ms --call-timeout 1s" \
	"$FAULTLINE" up "$ROOT/e2e/netns/reference.lua" --netns --data "$D" >"$tmp/up" 2>&1 || { cat "$tmp/up"; fail "up --netns"; }
grep -q 'run on loopback' "$tmp/up" && fail "fell back to loopback: $(cat "$tmp/up")"
echo "reference system in netns hosts: $(sed -n 's/^reference up in \([0-9]* ms\).*/\1/p' "$tmp/up"), $(js "$D/topology.json" 'len(t["netns"]["hosts"])') hosts on $(js "$D/topology.json" 't["netns"]["bridge"]') ($(js "$D/topology.json" 't["netns"]["subnet"]'))"
names=$(js "$D/topology.json" '" ".join([t["netns"]["bridge"]] + [h["ns"] + " " + h["veth"] for h in t["netns"]["hosts"].values()])')

# a reference service restarted (faultline ref restart) is back in its own host
"$FAULTLINE" kill money --data "$D" >/dev/null || fail "kill money"
"$FAULTLINE" ref restart money --data "$D" >/dev/null || fail "ref restart money"
ip netns exec "$(js "$D/topology.json" 't["services"]["money"]["netns"]')" ss -ltnH |
	grep -q "$(js "$D/topology.json" 't["services"]["money"]["addr"]')" || fail "restarted money is not in its host"

FL_REF="$D" "$FAULTLINE" run "$ROOT/e2e/netns_lua/partition.lua" --seed 1 || fail "partition scenarios"

"$FAULTLINE" down --data "$D" >"$tmp/down" 2>&1 || { cat "$tmp/down"; fail "down: a process did not exit 0"; }
for n in $names; do
	ip netns list | grep -q "^$n\( \|$\)" && fail "namespace $n left after down"
	ip link show "$n" >/dev/null 2>&1 && fail "link $n left after down"
done
echo "ok"
