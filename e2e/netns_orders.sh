#!/bin/sh
# The orders example (examples/orders, three Python services) in
# network-namespace hosts (root; exit 77 otherwise): `faultline up --netns`,
# then its e2e saga scenarios and its chaos experiment (proxy faults on the
# links, which listen on the bridge's address, and process faults) pass as
# they do on loopback; `down` leaves no namespace, veth or bridge behind.
set -eu
ROOT=${ROOT:-$(pwd)}
export ROOT
. "$ROOT/tests/lib/netns.sh"
netns_need_up python3
SC="$ROOT/examples/orders/scenarios"

tmp=$(mktemp -d)
D="$tmp/orders"
cleanup() {
	set +e
	[ -f "$D/topology.json" ] && "$FAULTLINE" down --data "$D" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() { echo "FAIL: $*"; for f in "$D"/logs/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 8 "$f"; }; done; exit 1; }
js() { python3 -c 'import json,sys; t=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$D/topology.json" "$1"; }

"$FAULTLINE" up "$ROOT/examples/orders/topology.lua" --netns --data "$D" >"$tmp/up" 2>&1 || { cat "$tmp/up"; fail "up --netns"; }
grep -q 'run on loopback' "$tmp/up" && fail "fell back to loopback: $(cat "$tmp/up")"
echo "orders in netns hosts: $(sed -n 's/^orders up in \([0-9]* ms\).*/\1/p' "$tmp/up"); $(js '", ".join(k + " " + v["host"] for k, v in t["services"].items())')"
names=$(js '" ".join([t["netns"]["bridge"]] + [h["ns"] + " " + h["veth"] for h in t["netns"]["hosts"].values()])')

"$FAULTLINE" run "$SC/e2e/sagas.lua" -e FL_SYS="$D" -e ORDERS_OUT="$tmp" --seed 1 >"$tmp/sagas.log" 2>&1 \
	|| { tail -30 "$tmp/sagas.log"; fail "e2e/sagas.lua"; }
grep -q " 0 failed, 0 skipped" "$tmp/sagas.log" || { tail -20 "$tmp/sagas.log"; fail "e2e/sagas.lua"; }
echo "examples/orders e2e/sagas.lua in netns hosts: $(tail -n 1 "$tmp/sagas.log")"

# the experiment's HTTP safety net allows loopback only: allow the system's
# /24 (its hosts and the gateway, where the links listen)
"$FAULTLINE" chaos "$SC/chaos/random-faults.lua" --allow "$(js 't["netns"]["subnet"]')" -e FL_SYS="$D" -e ORDERS_OUT="$tmp" \
	-e CHAOS_DURATION=4 --seed 1 >"$tmp/chaos.log" 2>&1 || { tail -30 "$tmp/chaos.log"; fail "chaos/random-faults.lua"; }
echo "examples/orders chaos/random-faults.lua in netns hosts: $(grep -m1 'orders (.* ok, ' "$tmp/chaos.log" | sed 's/^ *//')"

"$FAULTLINE" down --data "$D" >"$tmp/down" 2>&1 || { cat "$tmp/down"; fail "down: a process did not exit 0"; }
for n in $names; do
	ip netns list | grep -q "^$n\( \|$\)" && fail "namespace $n left after down"
	ip link show "$n" >/dev/null 2>&1 && fail "link $n left after down"
done
echo "ok"
