#!/bin/sh
# A node agent's host faults inside pods' network namespaces (root; exit 77
# otherwise), the way a DaemonSet agent reaches pod-to-pod traffic: a
# "node" namespace runs the agent (hostNetwork), two "pod" namespaces hang
# off a bridge in it by veth pairs. A partition and a tbf qdisc targeted at
# pod1 by a pid in it take effect (traffic cut, rate limited), show in
# `nft list ruleset` / `tc qdisc show` inside pod1 only, and are healed by
# their TTL; targets not allowed, unknown or malformed are 4xx JSON; a
# namespace whose table inet faultline someone else made is refused; a
# process in a pid namespace of its own is paused by the pid the node sees; an
# agent SIGKILLed while it holds faults in pod1 (by pid) and pod2 (by name)
# is followed by one whose start sweeps both, and skips a recorded
# namespace that no longer exists; SIGTERM heals inside the pods too.
set -eu
ROOT=${ROOT:-$(pwd)}
. "$ROOT/tests/lib/netns.sh"
netns_need_root
command -v tc >/dev/null 2>&1 || { echo "skip: no tc (iproute2)"; exit 77; }
FAULTLINE=${FAULTLINE:-$ROOT/build/faultline}
PROBE=${FL_TEST_HELPERS:-$ROOT/build/tests/helpers}/netprobe
[ -x "$PROBE" ] || { echo "no $PROBE (make tests)"; exit 1; }

P=flpd$$
NODE=${P}node POD1=${P}pod1 POD2=${P}pod2 POD3=${P}pod3
NET="10.$((200 + $$ % 50)).$(( ($$ / 50) % 250 ))"
A_NODE=$NET.1 A_POD1=$NET.2 A_POD2=$NET.3
tmp=$(mktemp -d)
pids=""
AGENT=""
cleanup() {
	for p in $pids $AGENT; do kill "$p" 2>/dev/null || true; done
	for p in $pids $AGENT; do wait "$p" 2>/dev/null || true; done
	for n in $NODE $POD1 $POD2 $POD3; do ip netns del "$n" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() { echo "FAIL: $*"; echo "--- agent.err"; tail -n 20 "$tmp/agent.err" 2>/dev/null; exit 1; }
ms() { echo $(($(date +%s%N) / 1000000)); }
in_ns() { n=$1; shift; ip netns exec "$n" "$@"; }

# the node: a bridge (the CNI's) with the node's address; pods on veths to it
for n in $NODE $POD1 $POD2; do ip netns add "$n"; ip -n "$n" link set lo up; done
ip -n "$NODE" link add cni0 type bridge
ip -n "$NODE" addr add "$A_NODE/24" dev cni0
ip -n "$NODE" link set cni0 up
i=1
for pod in $POD1 $POD2; do
	ip -n "$NODE" link add "veth$i" type veth peer name eth0 netns "$pod"
	ip -n "$NODE" link set "veth$i" master cni0 up
	eval "ip -n $pod addr add \$A_POD$i/24 dev eth0"
	ip -n "$pod" link set eth0 up
	i=$((i + 1))
done

start_agent() { # extra agent options
	: >"$tmp/agent.out"
	ip netns exec "$NODE" "$FAULTLINE" agent --listen 127.0.0.1:8474 --state-dir "$tmp/state" \
		"$@" >"$tmp/agent.out" 2>"$tmp/agent.err" &
	AGENT=$!
	n=0
	until grep -q 'listening on' "$tmp/agent.out" 2>/dev/null; do
		n=$((n + 1)); [ $n -lt 100 ] || fail "the agent did not start"; sleep 0.05
	done
}
api() { # METHOD PATH [BODY]: the body, then the status on the last line
	in_ns "$NODE" curl -s -m 5 -X "$1" -w '\n%{http_code}' "http://127.0.0.1:8474$2" ${3:+-d "$3"}
}
status_of() { tail -n 1; }
field() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" | head -n 1; }
ours() { in_ns "$1" nft list tables | grep -c 'inet faultline' || true; }
chains() { in_ns "$1" nft list ruleset | grep -c '^\s*chain f' || true; }
tbf() { in_ns "$1" tc qdisc show | grep -c 'qdisc tbf fa17:' || true; }
probe() { in_ns "$1" "$PROBE" tcp-probe "$2" 7000 300; }

# the pods' processes: a pid in each is what a DaemonSet agent is given
ip netns exec "$POD1" "$PROBE" tcp-accept 7000 >/dev/null & POD1_PID=$!; pids="$pids $!"
ip netns exec "$POD2" "$PROBE" tcp-accept 7000 >/dev/null & POD2_PID=$!; pids="$pids $!"
ip netns exec "$NODE" "$PROBE" tcp-accept 7000 >/dev/null & pids="$pids $!"
# somebody else's rule in pod1: it must be there, untouched, at the end
in_ns "$POD1" nft add table inet theirs
in_ns "$POD1" nft add chain inet theirs c '{ type filter hook input priority 0; policy accept; }'
in_ns "$POD1" nft add rule inet theirs c ip saddr 192.0.2.1 drop
n=0; until probe "$POD2" "$A_POD1" && probe "$POD1" "$A_POD2"; do
	n=$((n + 1)); [ $n -lt 20 ] || fail "no pod-to-pod connectivity before any fault"; sleep 0.1
done

start_agent --allow-netns pid

echo "== targets refused: not allowed, unknown, malformed, someone else's table"
out=$(api POST /host/faults "{\"type\":\"partition\",\"peer\":\"$A_POD2\",\"ttl_ms\":1000,\"target\":{\"netns\":\"$POD1\"}}")
[ "$(echo "$out" | status_of)" = 403 ] || fail "a name --allow-netns does not allow: $out"
echo "$out" | grep -q "network namespace '$POD1' is not allowed" || fail "403 reason: $out"
out=$(api POST /host/faults "{\"type\":\"partition\",\"peer\":\"$A_POD2\",\"ttl_ms\":1000,\"target\":{\"pid\":1073741823}}")
[ "$(echo "$out" | status_of)" = 404 ] || fail "no such pid: $out"
echo "$out" | grep -q '"error":"field target: no process' || fail "404 reason: $out"
out=$(api POST /host/faults "{\"type\":\"partition\",\"ttl_ms\":1000,\"target\":{\"pid\":$POD1_PID,\"netns\":\"x\"}}")
[ "$(echo "$out" | status_of)" = 400 ] || fail "pid and netns: $out"
out=$(api POST /host/faults "{\"type\":\"process\",\"action\":\"pause\",\"pid\":$POD1_PID,\"ttl_ms\":1000,\"target\":{\"pid\":$POD1_PID}}")
[ "$(echo "$out" | status_of)" = 400 ] || fail "target on a process fault: $out"
in_ns "$POD2" nft add table inet faultline
out=$(api POST /host/faults "{\"type\":\"partition\",\"ttl_ms\":1000,\"target\":{\"pid\":$POD2_PID}}")
[ "$(echo "$out" | status_of)" = 409 ] || fail "a table inet faultline the agent did not make: $out"
in_ns "$POD2" nft list tables | grep -q 'inet faultline' || fail "someone else's table was touched"
in_ns "$POD2" nft delete table inet faultline
[ "$(ls "$tmp/state" | grep -c netns- || true)" = 0 ] || fail "a refused target was recorded"

echo "== partition inside pod1 (target by pid), healed by its TTL"
t0=$(ms)
out=$(api POST /host/faults "{\"type\":\"partition\",\"peer\":\"$A_POD2\",\"ttl_ms\":1500,\"target\":{\"pid\":$POD1_PID}}")
t1=$(ms)
[ "$(echo "$out" | status_of)" = 201 ] || fail "partition in pod1: $out"
echo "$out" | grep -q "\"netns\":{\"target\":\"pid:$POD1_PID\"" || fail "the fault does not say where: $out"
echo "nft partition in another namespace: API call $((t1 - t0)) ms (curl in the node included), kernel call incl. entering $(echo "$out" | field apply_us) us"
[ "$(chains "$POD1")" = 2 ] || fail "no chains in pod1: $(in_ns "$POD1" nft list ruleset)"
in_ns "$POD1" nft list table inet faultline | grep -q "ip saddr $A_POD2 counter" || fail "no saddr rule in pod1"
[ "$(ours "$NODE")" = 0 ] || fail "the node's namespace got a table"
[ "$(ours "$POD2")" = 0 ] || fail "pod2 got a table"
probe "$POD2" "$A_POD1" && fail "pod2 -> pod1 still connects"
probe "$POD1" "$A_POD2" && fail "pod1 -> pod2 still connects"
probe "$NODE" "$A_POD1" || fail "node -> pod1 cut too"
api GET /host | grep -q "\"netns\":\[{\"target\":\"pid:$POD1_PID\"" || fail "GET /host: $(api GET /host)"
api GET /metrics | grep -q '^faultline_host_netns_entered 1$' || fail "metrics: $(api GET /metrics | grep netns)"
tt=$(($(ms) - t1))
while [ "$(ours "$POD1")" != 0 ]; do
	[ $(($(ms) - t1)) -lt 4000 ] || fail "pod1's table still there 4 s after a 1500 ms TTL"
	sleep 0.01
done
echo "TTL 1500 ms: pod1's table gone $(($(ms) - t1)) ms after the API answered (polled with nft from outside)"
probe "$POD2" "$A_POD1" || fail "pod2 -> pod1 not healed"
in_ns "$POD1" nft list table inet theirs | grep -q 'ip saddr 192.0.2.1 drop' || fail "someone else's table was touched"
[ "$(ls "$tmp/state" | grep -c netns- || true)" = 0 ] || fail "the namespace is still recorded after its last fault"

echo "== tbf 8 Mbit/s on pod1's eth0 (target by pid), healed by its TTL"
t0=$(ms)
out=$(api POST /host/faults "{\"type\":\"bandwidth\",\"dev\":\"eth0\",\"rate_bps\":8000000,\"ttl_ms\":3500,\"target\":{\"pid\":$POD1_PID}}")
t1=$(ms)
[ "$(echo "$out" | status_of)" = 201 ] || fail "tbf in pod1: $out"
echo "tbf in another namespace: API call $((t1 - t0)) ms, kernel call incl. entering $(echo "$out" | field apply_us) us"
[ "$(tbf "$POD1")" = 1 ] || fail "no tbf fa17: in pod1: $(in_ns "$POD1" tc qdisc show)"
[ "$(tbf "$NODE")" = 0 ] || fail "a tbf in the node's namespace"
[ "$(tbf "$POD2")" = 0 ] || fail "a tbf in pod2"
out=$(api POST /host/faults "{\"type\":\"bandwidth\",\"dev\":\"nosuch0\",\"rate_bps\":8000000,\"ttl_ms\":3000,\"target\":{\"pid\":$POD1_PID}}")
[ "$(echo "$out" | status_of)" = 404 ] || fail "an interface not in pod1: $out"
ip netns exec "$POD2" "$PROBE" tcp-sink 7003 300 >"$tmp/rate" &
r=$!
n=0; until [ -s "$tmp/rate" ]; do n=$((n+1)); [ $n -lt 100 ] || fail "tcp-sink"; sleep 0.02; done
in_ns "$POD1" "$PROBE" tcp-source "$A_POD2" 7003 1500
wait $r
rate=$(tail -n 1 "$tmp/rate")
echo "tbf asked 8000000 bit/s (wire) in pod1, measured $rate bit/s of TCP payload pod1 -> pod2"
# the bound of agent_netns.sh: 75..110 %; no limit shows as several times it
awk -v r="$rate" 'BEGIN { exit !(r >= 6000000 && r <= 8800000) }' || fail "tbf goodput $rate outside 75..110 % of 8 Mbit/s"
while [ "$(tbf "$POD1")" != 0 ]; do
	[ $(($(ms) - t1)) -lt 6000 ] || fail "pod1's tbf still there 6 s after a 3500 ms TTL"
	sleep 0.01
done
echo "TTL 3500 ms: pod1's tbf gone $(($(ms) - t1)) ms after the API answered"

echo "== a process in a pod's own pid namespace, paused by the pid the node sees (hostPID)"
if command -v unshare >/dev/null 2>&1; then
	ip netns exec "$POD1" unshare --pid --fork --mount-proc sleep 30 & sh_pid=$!; pids="$pids $sh_pid"
	n=0; until inner=$(pgrep -P "$sh_pid" sleep); do n=$((n+1)); [ $n -lt 100 ] || fail "no sleep in a pid namespace"; sleep 0.02; done
	[ "$(readlink "/proc/$inner/ns/pid")" != "$(readlink /proc/self/ns/pid)" ] || fail "not in another pid namespace"
	out=$(api POST /host/faults "{\"type\":\"process\",\"action\":\"pause\",\"pid\":$inner,\"ttl_ms\":5000}")
	[ "$(echo "$out" | status_of)" = 201 ] || fail "pause a pid in another pid namespace: $out"
	grep -q '^State:.*T' "/proc/$inner/status" || fail "not stopped"
	api DELETE "/host/faults/$(echo "$out" | sed -n 's/.*"id":"\(hf-[0-9]*\)".*/\1/p')" >/dev/null
	grep -q '^State:.*T' "/proc/$inner/status" && fail "not resumed"
	kill -9 "$inner" 2>/dev/null || true # a pid namespace's init ignores SIGTERM from outside
	wait "$sh_pid" 2>/dev/null || true
else
	echo "skip (this step only): no unshare"
fi

echo "== SIGKILL with faults held in pods; the next start sweeps them"
kill -9 "$AGENT"; wait "$AGENT" 2>/dev/null || true
start_agent --allow-netns "pid,name:${P}pod*"
ip netns add "$POD3"
out=$(api POST /host/faults "{\"type\":\"partition\",\"peer\":\"$A_POD2\",\"ttl_ms\":60000,\"target\":{\"pid\":$POD1_PID}}")
[ "$(echo "$out" | status_of)" = 201 ] || fail "partition in pod1: $out"
out=$(api POST /host/faults "{\"type\":\"bandwidth\",\"dev\":\"eth0\",\"rate_bps\":1000000,\"ttl_ms\":60000,\"target\":{\"netns\":\"$POD2\"}}")
[ "$(echo "$out" | status_of)" = 201 ] || fail "tbf in pod2 by name: $out"
out=$(api POST /host/faults "{\"type\":\"loss\",\"probability\":0.5,\"ttl_ms\":60000,\"target\":{\"netns\":\"$POD3\"}}")
[ "$(echo "$out" | status_of)" = 201 ] || fail "loss in pod3 by name: $out"
kill -9 "$AGENT"; wait "$AGENT" 2>/dev/null || true
[ "$(chains "$POD1")" = 2 ] && [ "$(tbf "$POD2")" = 1 ] || fail "a SIGKILLed agent should leave its faults"
ip netns del "$POD3" # the pod is gone before the agent is back
t0=$(ms)
start_agent --allow-netns "pid,name:${P}pod*"
t1=$(ms)
[ "$(ours "$POD1")" = 0 ] || fail "restart did not sweep pod1's table: $(in_ns "$POD1" nft list ruleset)"
[ "$(tbf "$POD2")" = 0 ] || fail "restart did not sweep pod2's qdisc"
health=$(api GET /healthz)
echo "$health" | grep -q '"netns":{"swept":2,"gone":1,"chains":2,"qdiscs":1}' || fail "healthz: $health"
echo "restart to listening (sweep included) $((t1 - t0)) ms; the sweep itself $(echo "$health" | field sweep_us) us (2 namespaces swept, 1 gone)"
in_ns "$POD1" nft list table inet theirs | grep -q 'ip saddr 192.0.2.1 drop' || fail "someone else's table was touched"
probe "$POD2" "$A_POD1" || fail "pod2 -> pod1 not healed by the sweep"

echo "== faultline fleet, fl.fleet and fl.nemesis pass the target through"
out=$(in_ns "$NODE" "$FAULTLINE" fleet apply --agent http://127.0.0.1:8474 \
	"{\"type\":\"partition\",\"peer\":\"$A_POD2\",\"ttl_ms\":5000,\"targets\":{\"127.0.0.1:8474\":{\"pid\":$POD1_PID}}}") ||
	fail "fleet apply with targets: $out"
[ "$(chains "$POD1")" = 2 ] && [ "$(ours "$NODE")" = 0 ] || fail "fleet apply: not in pod1 only"
in_ns "$NODE" "$FAULTLINE" fleet status --agent http://127.0.0.1:8474 | grep -q "in pid:$POD1_PID" ||
	fail "fleet status does not say where: $(in_ns "$NODE" "$FAULTLINE" fleet status --agent http://127.0.0.1:8474)"
in_ns "$NODE" "$FAULTLINE" fleet heal --agent http://127.0.0.1:8474 >/dev/null || fail "fleet heal"
[ "$(ours "$POD1")" = 0 ] || fail "fleet heal left pod1's table"
cat >"$tmp/pods.lua" <<'EOF'
local fl = require "faultline"
local E = fl.env
local function sh(cmd) local p = io.popen(cmd); local o = p:read("a"); p:close(); return o end
local function chains(ns)
  local _, n = sh("ip netns exec " .. ns .. " nft list ruleset"):gsub("\n%s*chain f%d+_", "")
  return n
end
local function tbf(ns) return sh("ip netns exec " .. ns .. " tc qdisc show"):find("tbf fa17:") ~= nil end

describe("pods from a node's agent", function()
  it("fl.fleet gives each agent its target", function()
    local fleet = fl.fleet.new{ node = E.AGENT }
    local g = fleet:fault{ type = "partition", peer = E.A_POD2, ttl_ms = 5000,
                           targets = { node = { pid = tonumber(E.POD1_PID) } } }
    expect(g.faults.node.netns.target).to_be("pid:" .. E.POD1_PID)
    expect(chains(E.POD1)).to_be(2)
    expect(chains(E.NODE)).to_be(0)
    g:heal()
    expect(chains(E.POD1)).to_be(0)
    local ok, err = pcall(fleet.fault, fleet, { type = "partition", ttl_ms = 5000,
                                                targets = { elsewhere = { pid = 1 } } })
    expect(ok).to_be(false)
    expect(tostring(err):find("node: no entry in targets", 1, true) ~= nil).to_be(true)
  end)
  it("fl.nemesis puts a host fault into the host's target", function()
    local nem = fl.nemesis.new(nil, { fleet = fl.fleet.new{ node = E.AGENT },
      history = fl.history.open(E.TMP .. "/history.jsonl"), kinds = { host_bandwidth = 1 },
      targets = { node = { netns = E.POD2 } } })
    local spec = nem:draw("host_bandwidth")
    spec.fault.ttl_ms = 5000
    local undo = nem:apply(spec)
    expect(undo ~= nil).to_be(true)
    expect(tbf(E.POD2)).to_be(true)
    expect(tbf(E.NODE)).to_be(false)
    undo()
    expect(tbf(E.POD2)).to_be(false)
  end)
end)
EOF
(cd "$tmp" && in_ns "$NODE" "$FAULTLINE" run pods.lua -e AGENT=http://127.0.0.1:8474 -e TMP="$tmp" \
	-e NODE="$NODE" -e POD1="$POD1" -e POD2="$POD2" -e POD1_PID="$POD1_PID" -e A_POD2="$A_POD2" \
	>"$tmp/run.out" 2>&1) || { cat "$tmp/run.out"; fail "the scenario"; }
grep -q '^2 passed, 0 failed' "$tmp/run.out" || { cat "$tmp/run.out"; fail "the scenario's two tests did not both pass"; }

echo "== SIGTERM heals inside the pods"
out=$(api POST /host/faults "{\"type\":\"partition\",\"peer\":\"$A_POD2\",\"ttl_ms\":60000,\"target\":{\"netns\":\"$POD1\"}}")
[ "$(echo "$out" | status_of)" = 201 ] || fail "partition in pod1 by name: $out"
out=$(api POST /host/faults "{\"type\":\"partition\",\"peer\":\"$A_POD2\",\"direction\":\"in\",\"ttl_ms\":60000,\"target\":{\"pid\":$POD1_PID}}")
[ "$(echo "$out" | status_of)" = 201 ] || fail "second partition in pod1 by pid: $out"
[ "$(chains "$POD1")" = 3 ] || fail "pod1 reached by name and by pid is one namespace: $(in_ns "$POD1" nft list ruleset)"
kill -TERM "$AGENT"; wait "$AGENT" || fail "agent exit status $?"
AGENT=""
[ "$(ours "$POD1")" = 0 ] || fail "table left in pod1 after SIGTERM"
[ "$(ls "$tmp/state" | grep -c netns- || true)" = 0 ] || fail "namespaces still recorded after a clean exit"
echo "ok"
