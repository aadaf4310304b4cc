#!/bin/sh
# faultline agent's host faults on three hosts in network namespaces (root;
# exit 77 otherwise): partitions two-way and one-way with nft rules checked
# in each namespace, packet loss measured against the probability asked,
# tbf's measured rate against the one asked, time from API call to rule in
# effect and from lease expiry to heal, a SIGKILLed controller healed within
# its lease, a SIGKILLed agent's leftovers swept by the next one, 4xx JSON
# errors, nothing outside the owned table and qdisc handle touched.
set -eu
ROOT=${ROOT:-$(pwd)}
. "$ROOT/tests/lib/netns.sh"
netns_need_root
FAULTLINE=${FAULTLINE:-$ROOT/build/faultline}
PROBE=${FL_TEST_HELPERS:-$ROOT/build/tests/helpers}/netprobe
[ -x "$PROBE" ] || { echo "no $PROBE (make tests)"; exit 1; }

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
fail() { echo "FAIL: $*"; for f in "$tmp"/agent*.err; do echo "--- $f"; tail -n 20 "$f"; done; exit 1; }
ms() { echo $(($(date +%s%N) / 1000000)); }

netns_setup 3
TOKEN="tok-$$-$(date +%s%N)"
nsof() { eval "echo \$NS_$1"; }
in_ns() { n=$1; shift; ip netns exec "$(nsof "$n")" "$@"; }
addr() { eval "echo \$ADDR_$1"; }

start_agent() { # i
	i=$1
	: >"$tmp/agent$i.out"
	# started with ip netns exec itself (not a shell function) so $! is the agent
	ip netns exec "$(nsof "$i")" "$FAULTLINE" agent --listen "$(addr "$i"):8474" --token "$TOKEN" \
		--state-dir "$tmp/state" >"$tmp/agent$i.out" 2>"$tmp/agent$i.err" &
	eval "AGENT_$i=$!"
	pids="$pids $!"
	n=0
	until grep -q 'listening on' "$tmp/agent$i.out" 2>/dev/null; do
		n=$((n + 1)); [ $n -lt 100 ] || fail "agent $i did not start"; sleep 0.05
	done
}
# api I METHOD PATH [BODY]: prints the body, then the status on the last line
api() {
	in_ns "$1" curl -s -m 5 -H "Authorization: Bearer $TOKEN" -X "$2" \
		-w '\n%{http_code}' "http://$(addr "$1"):8474$3" ${4:+-d "$4"}
}
status_of() { tail -n 1; }
fault_id() { sed -n 's/.*"id":"\(hf-[0-9]*\)".*/\1/p' | head -n 1; }
chains() { in_ns "$1" nft list ruleset | grep -c '^\s*chain f' || true; }
our_qdisc() { in_ns "$1" tc qdisc show dev eth0 | grep -c 'qdisc tbf fa17:' || true; }
probe() { in_ns "$1" "$PROBE" tcp-probe "$(addr "$2")" 7000 300; }

for i in 1 2 3; do start_agent $i; done
for i in 1 2 3; do
	ip netns exec "$(nsof $i)" "$PROBE" tcp-accept 7000 >"$tmp/accept$i.out" &
	pids="$pids $!"
done
sleep 0.2
probe 2 1 || fail "no connectivity h2 -> h1 before any fault"

# a rule somebody else owns: it must be there, untouched, at the end
in_ns 1 nft add table inet theirs
in_ns 1 nft add chain inet theirs c '{ type filter hook input priority 0; policy accept; }'
in_ns 1 nft add rule inet theirs c ip saddr 192.0.2.1 drop

echo "== bad requests are 4xx JSON"
out=$(api 1 POST /host/faults '{"type":"partition","peer":"h2","ttl_ms":1000}')
[ "$(echo "$out" | status_of)" = 400 ] || fail "bad peer: $out"
echo "$out" | grep -q '"error":"field peer' || fail "bad peer message: $out"
out=$(api 1 POST /host/faults '{"type":"partition","peer":"10.0.0.1"}')
[ "$(echo "$out" | status_of)" = 400 ] || fail "missing ttl: $out"
out=$(api 1 POST /host/faults '{nope')
[ "$(echo "$out" | status_of)" = 400 ] || fail "malformed JSON: $out"
out=$(api 1 DELETE /host/faults/hf-999)
[ "$(echo "$out" | status_of)" = 404 ] || fail "unknown id: $out"
out=$(in_ns 1 curl -s -m 5 -w '\n%{http_code}' "http://$(addr 1):8474/host")
[ "$(echo "$out" | status_of)" = 401 ] || fail "no token: $out"

echo "== two-way partition h1 <-> h2"
t0=$(ms)
out=$(api 1 POST /host/faults "{\"type\":\"partition\",\"peer\":\"$(addr 2)\",\"ttl_ms\":30000}")
t1=$(ms)
[ "$(echo "$out" | status_of)" = 201 ] || fail "create partition: $out"
id=$(echo "$out" | fault_id)
[ "$(chains 1)" = 2 ] || fail "expected 2 chains in h1: $(in_ns 1 nft list ruleset)"
in_ns 1 nft list table inet faultline | grep -q "ip saddr $(addr 2) counter" || fail "no saddr rule"
in_ns 1 nft list table inet faultline | grep -q "ip daddr $(addr 2) counter" || fail "no daddr rule"
echo "nft partition: API call to rule in effect $((t1 - t0)) ms (curl in the namespace included), kernel call $(echo "$out" | sed -n 's/.*"apply_us":\([0-9]*\).*/\1/p') us"
probe 2 1 && fail "h2 -> h1 still connects"
probe 1 2 && fail "h1 -> h2 still connects"
probe 3 1 || fail "h3 -> h1 cut too"
api 1 GET /host/faults | grep -q '"expires_in_ms"' || fail "list has no TTL"
out=$(api 1 DELETE "/host/faults/$id")
[ "$(echo "$out" | status_of)" = 204 ] || fail "delete: $out"
[ "$(chains 1)" = 0 ] || fail "chains left after delete"
probe 2 1 || fail "h2 -> h1 not healed"

echo "== one-way partition: h1 drops what goes out to h2"
out=$(api 1 POST /host/faults "{\"type\":\"partition\",\"direction\":\"out\",\"peer\":\"$(addr 2)\",\"protocol\":\"udp\",\"ttl_ms\":30000}")
[ "$(echo "$out" | status_of)" = 201 ] || fail "one-way: $out"
[ "$(chains 1)" = 1 ] || fail "expected 1 chain for one-way"
ip netns exec "$NS_2" "$PROBE" udp-recv 7001 300 >"$tmp/r2" &
r2=$!
ip netns exec "$NS_1" "$PROBE" udp-recv 7001 300 >"$tmp/r1" &
r1=$!
n=0; until [ -s "$tmp/r1" ] && [ -s "$tmp/r2" ]; do n=$((n+1)); [ $n -lt 100 ] || fail "udp-recv"; sleep 0.02; done
in_ns 1 "$PROBE" udp-send "$(addr 2)" 7001 200
in_ns 2 "$PROBE" udp-send "$(addr 1)" 7001 200
wait $r1 $r2
got1=$(tail -n 1 "$tmp/r1"); got2=$(tail -n 1 "$tmp/r2")
echo "h1 -> h2: $got2 of 200 arrived; h2 -> h1: $got1 of 200"
[ "$got2" = 0 ] || fail "one-way: h1 -> h2 should be cut"
[ "$got1" = 200 ] || fail "one-way: h2 -> h1 should flow"
api 1 DELETE /host/faults >/dev/null

echo "== 10 % loss over 10,000 datagrams"
out=$(api 1 POST /host/faults "{\"type\":\"loss\",\"probability\":0.1,\"direction\":\"in\",\"peer\":\"$(addr 2)\",\"protocol\":\"udp\",\"ttl_ms\":30000}")
[ "$(echo "$out" | status_of)" = 201 ] || fail "loss: $out"
ip netns exec "$NS_1" "$PROBE" udp-recv 7002 400 >"$tmp/loss" &
r=$!
n=0; until [ -s "$tmp/loss" ]; do n=$((n+1)); [ $n -lt 100 ] || fail "udp-recv"; sleep 0.02; done
in_ns 2 "$PROBE" udp-send "$(addr 1)" 7002 10000
wait $r
got=$(tail -n 1 "$tmp/loss")
loss=$(awk -v g="$got" 'BEGIN { printf "%.2f", (10000 - g) / 100 }')
echo "loss asked 10.00 %, measured $loss % ($got of 10000 arrived)"
awk -v l="$loss" 'BEGIN { exit !(l >= 8.5 && l <= 11.5) }' || fail "loss $loss % outside 10 +- 1.5 %"
api 1 DELETE /host/faults >/dev/null

echo "== tbf 8 Mbit/s on h2's eth0"
t0=$(ms)
out=$(api 2 POST /host/faults '{"type":"bandwidth","dev":"eth0","rate_bps":8000000,"ttl_ms":30000}')
t1=$(ms)
[ "$(echo "$out" | status_of)" = 201 ] || fail "tbf: $out"
[ "$(our_qdisc 2)" = 1 ] || fail "no tbf fa17: on h2: $(in_ns 2 tc qdisc show dev eth0)"
echo "tbf: API call to qdisc in effect $((t1 - t0)) ms (curl in the namespace included), kernel call $(echo "$out" | sed -n 's/.*"apply_us":\([0-9]*\).*/\1/p') us"
out=$(api 2 POST /host/faults '{"type":"bandwidth","dev":"eth0","rate_bps":8000000,"ttl_ms":30000}')
[ "$(echo "$out" | status_of)" = 409 ] || fail "second qdisc fault on eth0: $out"
ip netns exec "$NS_1" "$PROBE" tcp-sink 7003 300 >"$tmp/rate" &
r=$!
n=0; until [ -s "$tmp/rate" ]; do n=$((n+1)); [ $n -lt 100 ] || fail "tcp-sink"; sleep 0.02; done
in_ns 2 "$PROBE" tcp-source "$(addr 1)" 7003 1500
wait $r
rate=$(tail -n 1 "$tmp/rate")
# tbf counts frames (Ethernet, IP, TCP headers: ~4.5 % of a 1448-byte
# segment); the sink counts TCP payload, so it mostly falls below the rate.
# Over this short window it has also read up to 3.2 % above it (the bucket
# and the queue start full, and veth hands tbf GSO aggregates): the bound
# is 75..110 %, a limit that is not applied at all shows as several times it.
echo "tbf asked 8000000 bit/s (wire), measured $rate bit/s of TCP payload"
awk -v r="$rate" 'BEGIN { exit !(r >= 6000000 && r <= 8800000) }' || fail "tbf goodput $rate outside 75..110 % of 8 Mbit/s"
api 2 DELETE /host/faults >/dev/null
[ "$(our_qdisc 2)" = 0 ] || fail "tbf left after delete"
in_ns 2 tc qdisc show dev eth0 | grep -q noqueue || fail "default qdisc not back: $(in_ns 2 tc qdisc show dev eth0)"

echo "== a root qdisc that is not ours is refused, not replaced"
in_ns 3 tc qdisc add dev eth0 root handle 1: pfifo
out=$(api 3 POST /host/faults '{"type":"bandwidth","dev":"eth0","rate_bps":1000000,"ttl_ms":3000}')
[ "$(echo "$out" | status_of)" = 409 ] || fail "foreign qdisc replaced: $out"
in_ns 3 tc qdisc show dev eth0 | grep -q 'pfifo 1:' || fail "foreign qdisc touched"
in_ns 3 tc qdisc del dev eth0 root

echo "== the controller's lease: renewed it holds, SIGKILLed it heals"
( while :; do api 1 POST /lease '{"ttl_ms":600,"holder":"ctl"}' >/dev/null
	api 2 POST /lease '{"ttl_ms":600,"holder":"ctl"}' >/dev/null; sleep 0.15; done ) &
ctl=$!
pids="$pids $ctl"
sleep 0.2
api 1 POST /host/faults "{\"type\":\"partition\",\"peer\":\"$(addr 3)\",\"ttl_ms\":60000}" >/dev/null
api 2 POST /host/faults '{"type":"bandwidth","dev":"eth0","rate_bps":1000000,"ttl_ms":60000}' >/dev/null
sleep 1.2
[ "$(chains 1)" = 2 ] && [ "$(our_qdisc 2)" = 1 ] || fail "faults gone while the lease was renewed"
api 1 GET /lease | grep -q '"holder":"ctl"' || fail "no lease holder"
kill -9 $ctl; wait $ctl 2>/dev/null || true
tk=$(ms)
nft_t="" tbf_t=""
while [ -z "$nft_t" ] || [ -z "$tbf_t" ]; do
	[ -z "$nft_t" ] && [ "$(chains 1)" = 0 ] && nft_t=$(($(ms) - tk))
	[ -z "$tbf_t" ] && [ "$(our_qdisc 2)" = 0 ] && tbf_t=$(($(ms) - tk))
	[ $(($(ms) - tk)) -lt 3000 ] || fail "not healed 3 s after the controller died (lease 600 ms)"
	sleep 0.01
done
echo "controller SIGKILLed: nft healed after ${nft_t} ms, tbf after ${tbf_t} ms (lease 600 ms, renewed every 150 ms)"
[ "$nft_t" -le 1000 ] && [ "$tbf_t" -le 1000 ] || fail "heal later than the lease + 400 ms"

echo "== lease expiry to heal"
api 1 POST /host/faults "{\"type\":\"partition\",\"peer\":\"$(addr 3)\",\"ttl_ms\":60000}" >/dev/null
api 2 POST /host/faults '{"type":"bandwidth","dev":"eth0","rate_bps":1000000,"ttl_ms":60000}' >/dev/null
api 1 POST /lease '{"ttl_ms":300,"holder":"once"}' >/dev/null; t1=$(ms)
api 2 POST /lease '{"ttl_ms":300,"holder":"once"}' >/dev/null; t2=$(ms)
nft_t="" tbf_t=""
while [ -z "$nft_t" ] || [ -z "$tbf_t" ]; do
	[ -z "$nft_t" ] && [ "$(chains 1)" = 0 ] && nft_t=$(($(ms) - t1 - 300))
	[ -z "$tbf_t" ] && [ "$(our_qdisc 2)" = 0 ] && tbf_t=$(($(ms) - t2 - 300))
	[ $(($(ms) - t1)) -lt 3000 ] || fail "not healed 3 s after a 300 ms lease"
	sleep 0.005
done
echo "lease expiry to heal (observed from outside, includes polling): nft ${nft_t} ms, tbf ${tbf_t} ms"

echo "== an agent SIGKILLed leaves faults; the next start sweeps them"
sleep 30 &
victim=$!
pids="$pids $victim"
api 3 POST /host/faults "{\"type\":\"partition\",\"peer\":\"$(addr 1)\",\"ttl_ms\":60000}" >/dev/null
api 3 POST /host/faults '{"type":"bandwidth","dev":"eth0","rate_bps":1000000,"ttl_ms":60000}' >/dev/null
out=$(api 3 POST /host/faults "{\"type\":\"process\",\"action\":\"pause\",\"pid\":$victim,\"ttl_ms\":60000}")
[ "$(echo "$out" | status_of)" = 201 ] || fail "pause: $out"
grep -q '^State:.*T' "/proc/$victim/status" || fail "victim not stopped"
kill -9 "$AGENT_3"; wait "$AGENT_3" 2>/dev/null || true
[ "$(chains 3)" = 2 ] && [ "$(our_qdisc 3)" = 1 ] || fail "a SIGKILLed agent should leave its faults"
start_agent 3
[ "$(chains 3)" = 0 ] || fail "restart did not sweep the rules"
[ "$(our_qdisc 3)" = 0 ] || fail "restart did not sweep the qdisc"
grep -q '^State:.*T' "/proc/$victim/status" && fail "restart did not resume the paused process"
api 3 GET /healthz | grep -q '"swept":{"chains":2,"qdiscs":1,"resumed":1,' || fail "healthz: $(api 3 GET /healthz)"
in_ns 3 nft list tables | grep -q faultline && fail "table left after the sweep"

echo "== SIGTERM heals"
api 1 POST /host/faults "{\"type\":\"partition\",\"peer\":\"$(addr 3)\",\"ttl_ms\":60000}" >/dev/null
kill -TERM "$AGENT_1"; wait "$AGENT_1" || fail "agent 1 exit status $?"
in_ns 1 nft list tables | grep -q 'inet faultline' && fail "table left after SIGTERM"
in_ns 1 nft list table inet theirs | grep -q 'ip saddr 192.0.2.1 drop' || fail "somebody else's table was touched"
api 2 GET /metrics | grep -q 'faultline_host_faults_healed_total{reason="lease"} [1-9]' || fail "metrics"
echo "ok"
