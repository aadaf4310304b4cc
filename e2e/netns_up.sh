#!/bin/sh
# faultline up --netns (root; exit 77 otherwise): two services as two hosts
# (e2e/netns/pair.lua), each in its own network namespace with its own
# address on faultline's bridge; the call between them through its link on
# the bridge's address; a host agent per namespace whose nftables partition
# (with a TTL) cuts that call and heals; `down` and the lease each remove
# every namespace, veth and the bridge; without root, loopback and a notice.
set -eu
ROOT=${ROOT:-$(pwd)}
export ROOT
. "$ROOT/tests/lib/netns.sh"
netns_need_up python3
TOPO="$ROOT/e2e/netns/pair.lua"

tmp=$(mktemp -d)
chmod 755 "$tmp"
pids=""
cleanup() {
	set +e
	for d in "$tmp"/sys-*; do
		[ -f "$d/topology.json" ] && "$FAULTLINE" down --data "$d" >/dev/null 2>&1
	done
	ip netns del "fl$$-collide" 2>/dev/null
	for p in $pids; do kill "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() { echo "FAIL: $*"; for f in "$tmp"/*.up "$tmp"/sys-*/logs/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 8 "$f"; }; done; exit 1; }
ms() { echo $(($(date +%s%N) / 1000000)); }
# js DATA EXPR: a value of DATA/topology.json (t), by a Python expression
js() { python3 -c 'import json,sys; t=json.load(open(sys.argv[1]+"/topology.json")); print(eval(sys.argv[2]))' "$1" "$2"; }
# what `faultline up` made: the names recorded in topology.json
made() { js "$1" '" ".join([t["netns"]["bridge"]] + [h["ns"] + " " + h["veth"] for h in t["netns"]["hosts"].values()])'; }
# gone NAMES...: none of them is a namespace or a link any more
gone() {
	for n in "$@"; do
		ip netns list | grep -q "^$n\( \|$\)" && return 1
		ip link show "$n" >/dev/null 2>&1 && return 1
	done
	return 0
}
call() { curl -s -m 8 "$(js "$1" 't["services"]["front"]["url"]')/call"; }

echo "== up --netns: two hosts"
S="$tmp/sys-1"
t0=$(ms)
"$FAULTLINE" up "$TOPO" --netns --data "$S" >"$tmp/1.up" 2>&1 || fail "up --netns"
echo "up --netns: $(sed -n 's/.* up in \([0-9]* ms\).*/\1/p' "$tmp/1.up") (launcher), $(($(ms) - t0)) ms wall"
names=$(made "$S")
bridge=$(js "$S" 't["netns"]["bridge"]')
gw=$(js "$S" 't["netns"]["gateway"]')
back=$(js "$S" 't["services"]["back"]["host"]')
front=$(js "$S" 't["services"]["front"]["host"]')
ns_back=$(js "$S" 't["services"]["back"]["netns"]')
ns_front=$(js "$S" 't["services"]["front"]["netns"]')
echo "bridge $bridge ($gw), back $back in $ns_back, front $front in $ns_front"
case "$bridge" in faultline[0-9]*) ;; *) fail "bridge name '$bridge'";; esac
case "$back.$front" in 198.1[89].*.198.1[89].*) ;; *) fail "addresses $back $front outside 198.18.0.0/15";; esac
[ "$back" != "$front" ] || fail "one address for two hosts"
ip -br addr show dev "$bridge" | grep -q "$gw/24" || fail "bridge has no $gw/24"
for n in $ns_back $ns_front; do ip netns list | grep -q "^$n" || fail "no namespace $n"; done
# each service listens inside its own namespace only
bport=$(js "$S" 't["services"]["back"]["port"]')
ip netns exec "$ns_back" ss -ltnH | grep -q "$back:$bport" || fail "back does not listen in $ns_back"
ss -ltnH | grep -q ":$bport " && fail "back's port is open in the launcher's namespace"
grep -q "$back:$bport" "$S/logs/back.log" || fail "back did not bind its host address"
# the call goes through the link on the bridge's address
link=$(js "$S" 't["links"]["front->back"]["listen"]')
case "$link" in "$gw":*) ;; *) fail "link front->back listens on $link, not on $gw";; esac
call "$S" | grep -q '"FL_LINK_BACK": "back"' || fail "front -> back: $(call "$S")"

echo "== restart: back again in its own host"
"$FAULTLINE" kill back --data "$S" >/dev/null || fail "kill back"
"$FAULTLINE" restart back --data "$S" >/dev/null || fail "restart back"
ip netns exec "$ns_back" ss -ltnH | grep -q "$back:$bport" || fail "restarted back is not in $ns_back"
call "$S" | grep -q '"FL_LINK_BACK": "back"' || fail "front -> restarted back: $(call "$S")"

echo "== the host agent: an nftables partition with a TTL"
tok=$(cat "$(js "$S" 't["netns"]["token_file"]')")
agent=$(js "$S" 't["netns"]["hosts"]["front"]["agent"]["url"]')
lport=${link##*:}
t0=$(ms)
out=$(curl -s -m 5 -H "Authorization: Bearer $tok" -w '\n%{http_code}' -X POST "$agent/host/faults" \
	-d "{\"type\":\"partition\",\"direction\":\"out\",\"peer\":\"$gw\",\"port\":$lport,\"ttl_ms\":4000}")
[ "$(echo "$out" | tail -n 1)" = 201 ] || fail "partition: $out"
ip netns exec "$ns_front" nft list table inet faultline | grep -q "ip daddr $gw" || fail "no rule in $ns_front"
ip netns exec "$ns_back" nft list tables | grep -q faultline && fail "a rule in the other host"
call "$S" | grep -q '"FL_LINK_BACK": "error' || fail "front -> back not cut: $(call "$S")"
n=0
until call "$S" | grep -q '"FL_LINK_BACK": "back"'; do
	n=$((n + 1)); [ $n -lt 80 ] || fail "not healed 8 s after a 4 s TTL"; sleep 0.1
done
echo "partition front -> link: cut, healed by its TTL after $(($(ms) - t0)) ms (TTL 4000 ms)"
ip netns exec "$ns_front" nft list ruleset | grep -q 'chain f' && fail "chain left after the TTL"

echo "== down removes every namespace, veth and the bridge"
t0=$(ms)
"$FAULTLINE" down --data "$S" >"$tmp/1.down" 2>&1 || { cat "$tmp/1.down"; fail "down"; }
echo "down: $(($(ms) - t0)) ms"
# shellcheck disable=SC2086
gone $names || fail "left after down: $(ip netns list; ip -br link)"

echo "== a failed up leaves no host behind"
ours() { ip netns list | grep -c '^faultline[0-9]*-\(back\|front\)' || true; }
before=$(ours)
set +e
PAIR_FAIL_START=1 "$FAULTLINE" up "$TOPO" --netns --data "$tmp/sys-f" >"$tmp/f.up" 2>&1
rc=$?
set -e
[ $rc = 3 ] || fail "up with a failing service: exit $rc, want 3"
grep -q "front.*exited 3" "$tmp/f.up" || fail "no reason: $(cat "$tmp/f.up")"
[ "$(ours)" = "$before" ] || fail "namespaces left by a failed up: $(ip netns list)"

echo "== the lease: the driver dies, the hosts go"
S="$tmp/sys-2"
sleep 60 &
drv=$!
pids="$pids $drv"
"$FAULTLINE" up "$TOPO" --netns --data "$S" --lease 1 --driver "$drv" >"$tmp/2.up" 2>&1 || fail "up --lease"
names=$(made "$S")
kill "$drv"; wait "$drv" 2>/dev/null || true
t0=$(ms)
# shellcheck disable=SC2086
until gone $names; do
	[ $(($(ms) - t0)) -lt 15000 ] || fail "hosts left 15 s after a 1 s lease: $names"
	sleep 0.1
done
echo "lease 1 s: hosts gone $(($(ms) - t0)) ms after the driver died"

echo "== a /24 that a route overlaps is not taken"
# in a namespace of this test's own, where 198.18.0.0/16 is routed
# (nothing is added to the test's own namespace)
CT="fl$$-collide"
ip netns add "$CT"
ip -n "$CT" link set lo up
ip -n "$CT" link add fl$$d type bridge
ip -n "$CT" link set fl$$d up
ip -n "$CT" route add 198.18.0.0/16 dev fl$$d
S="$tmp/sys-4"
ip netns exec "$CT" "$FAULTLINE" up "$TOPO" --netns --keep --data "$S" >"$tmp/4.up" 2>&1 || fail "up in $CT"
subnet=$(js "$S" 't["netns"]["subnet"]')
case "$subnet" in 198.19.*) ;; *) fail "took $subnet although 198.18.0.0/16 is routed";; esac
ip netns exec "$CT" curl -s -m 8 "$(js "$S" 't["services"]["front"]["url"]')/call" | grep -q '"FL_LINK_BACK": "back"' \
	|| fail "front -> back in $subnet"
br=$(js "$S" 't["netns"]["bridge"]')
hosts=$(js "$S" '" ".join(h["ns"] for h in t["netns"]["hosts"].values())')
ip netns exec "$CT" "$FAULTLINE" down --data "$S" >/dev/null || fail "down in $CT"
# shellcheck disable=SC2086
gone $hosts || fail "left after down: $(ip netns list)"
ip -n "$CT" link show "$br" >/dev/null 2>&1 && fail "bridge $br left in $CT"
echo "198.18.0.0/16 routed: took $subnet"

echo "== without root: loopback, said on stderr, exit 0"
if id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null 2>&1; then
	S="$tmp/sys-3"
	mkdir "$S" && chown nobody "$S"
	setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all \
		env HOME="$tmp" ROOT="$ROOT" "$FAULTLINE" up "$TOPO" --netns --data "$S" --keep \
		>"$tmp/3.up" 2>"$tmp/3.err" || { cat "$tmp/3.err"; fail "up --netns as nobody"; }
	grep -q 'faultline up: --netns: needs root.*loopback' "$tmp/3.err" || fail "no notice: $(cat "$tmp/3.err")"
	[ "$(js "$S" 't["services"]["back"]["host"]')" = 127.0.0.1 ] || fail "fallback not on loopback"
	call "$S" | grep -q '"FL_LINK_BACK": "back"' || fail "fallback: front -> back"
	setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all \
		"$FAULTLINE" down --data "$S" >/dev/null || fail "down as nobody"
	echo "fallback: $(cat "$tmp/3.err")"
else
	echo "skip fallback check: no user nobody or no setpriv"
fi
echo "ok"
