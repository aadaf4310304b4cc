#!/bin/sh
# fl.nemesis over a fleet: three network-namespace hosts with an agent each,
# a runner in a fourth (root; exit 77 otherwise). The same seed draws the
# same schedule of host faults (text and history), another seed another;
# every host-fault kind is in the kernel while held (`nft list ruleset`,
# `tc qdisc show`, the paused process's state inside the namespaces) and
# gone once healed; a seeded schedule runs and leaves nothing; a runner
# SIGKILLed mid-step leaves nothing once its lease lapses (nftables and tbf).
set -eu
ROOT=${ROOT:-$(pwd)}
. "$ROOT/tests/lib/netns.sh"
netns_need_root
command -v python3 >/dev/null 2>&1 || { echo "skip: no python3"; exit 77; }
FAULTLINE=${FAULTLINE:-$ROOT/build/faultline}
case $FAULTLINE in /*) ;; *) FAULTLINE=$ROOT/$FAULTLINE ;; esac

tmp=$(mktemp -d)
pids="" loops="" runner=""
cleanup() {
	[ -n "$runner" ] && kill -9 "$runner" 2>/dev/null || true
	touch "$tmp/stop"
	for i in 1 2 3; do
		[ -f "$tmp/victim$i.pid" ] && kill -9 "$(cat "$tmp/victim$i.pid")" 2>/dev/null || true
	done
	for p in $loops $pids; do kill "$p" 2>/dev/null || true; done
	for p in $loops $pids; do wait "$p" 2>/dev/null || true; done
	netns_cleanup
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() { echo "FAIL: $*"; for f in "$tmp"/agent*.err; do echo "--- $f"; tail -n 15 "$f"; done; exit 1; }
ms() { echo $(($(date +%s%N) / 1000000)); }

netns_setup 4 # h1..h3 hosts with an agent, h4 the runner
nsof() { eval "echo \$NS_$1"; }
printf 'tok-%s-%s\n' $$ "$(date +%s%N)" >"$tmp/token"
for i in 1 2 3; do
	ip netns exec "$(nsof $i)" "$FAULTLINE" agent --listen "$(eval "echo \$ADDR_$i"):8474" \
		--token-file "$tmp/token" --state-dir "$tmp/state" >"$tmp/agent$i.out" 2>"$tmp/agent$i.err" &
	pids="$pids $!"
	# the process a host's process faults signal: flvictimN, restarted when it dies
	cp "$(command -v sleep)" "$tmp/flvictim$i"
	ip netns exec "$(nsof $i)" sh -c 'while [ ! -e "$1/stop" ]; do
		"$1/flvictim$2" 600 & echo $! >"$1/victim$2.pid"; wait $!; done' sh "$tmp" "$i" 2>/dev/null &
	loops="$loops $!"
	printf 'h%s http://%s:8474\n' "$i" "$(eval "echo \$ADDR_$i")" >>"$tmp/agents.txt"
done
for i in 1 2 3; do
	n=0
	until grep -q 'listening on' "$tmp/agent$i.out" 2>/dev/null && [ -s "$tmp/victim$i.pid" ]; do
		n=$((n + 1)); [ $n -lt 100 ] || fail "agent $i did not start"; sleep 0.05
	done
done

cat >"$tmp/nemesis_fleet.lua" <<'EOF'
local fl = require "faultline"
local E = fl.env

local function sh(cmd)
  local p = io.popen(cmd)
  local out = p:read("a")
  p:close()
  return out
end
local function ns(host) return E["NS_" .. host:sub(2)] end
local function ruleset(host) return sh("ip netns exec " .. ns(host) .. " nft list ruleset") end
local function chains(host) local _, n = ruleset(host):gsub("\n%s*chain f%d+_", ""); return n end
local function tbf(host)
  return sh("ip netns exec " .. ns(host) .. " tc qdisc show dev eth0"):match("tbf fa17: [^\n]*")
end
local function victim(host)
  local f = io.open(E.TMP .. "/victim" .. host:sub(2) .. ".pid")
  local pid = f and tonumber(f:read("a"))
  if f then f:close() end
  return pid
end
local function state(pid)
  local f = pid and io.open("/proc/" .. pid .. "/stat")
  if not f then return nil end
  local st = f:read("a"):match("%) (%a)")
  f:close()
  return st
end
local function nothing_left()
  for _, h in ipairs({ "h1", "h2", "h3" }) do
    if chains(h) ~= 0 then return false, h .. " has chains: " .. ruleset(h) end
    if tbf(h) then return false, h .. " has " .. tbf(h) end
    if state(victim(h)) == "T" then return false, h .. "'s victim is stopped" end
  end
  return true
end

-- What the kernel shows for a host fault in effect: nil when it matches.
local function in_effect(spec, before_pid)
  local h = spec.host
  local f = spec.fault
  if f.type == "partition" or f.type == "loss" then
    local want = f.type == "loss" and 2 or (f.direction == "both" and 2 or 1)
    local rs = ruleset(h)
    if chains(h) ~= want then return string.format("%d chains, want %d: %s", chains(h), want, rs) end
    if not rs:find(f.peer, 1, true) then return "no rule names " .. f.peer .. ": " .. rs end
    if f.type == "loss" and not rs:find("numgen random", 1, true) then return "no numgen: " .. rs end
  elseif f.type == "bandwidth" then
    if not tbf(h) then return "no tbf fa17: on " .. h end
  elseif f.action == "pause" then
    if state(victim(h)) ~= "T" then return "victim not stopped: " .. tostring(state(victim(h))) end
  elseif state(before_pid) and state(before_pid) ~= "Z" then
    return f.action .. ": pid " .. before_pid .. " still alive"
  end
  return nil
end

local function new(h)
  local fleet = fl.fleet.load(E.INVENTORY)
  return fl.nemesis.new(nil, { fleet = fleet, history = h, min = tonumber(E.HOLD) or 0.3,
    max = tonumber(E.HOLD) or 0.6, gap = 0.1, kinds = E.KINDS and { [E.KINDS] = 1 } or nil,
    processes = { h1 = { "flvictim1" }, h2 = { "flvictim2" }, h3 = { "flvictim3" } } })
end

describe("fl.nemesis over a fleet", function()
  it("draws a schedule from the seed", function()
    local h = fl.history.open(E.HISTORY)
    local nem = new(h)
    nem:plan(20)
    h:close()
    local f = assert(io.open(E.PLAN, "w"))
    f:write(nem:describe())
    f:close()
    expect(#nem.schedule > 5).to_be(true)
  end)

  it("puts every kind of host fault in the kernel and takes it out", function()
    local hpath = os.tmpname()
    local nem = new(fl.history.open(hpath))
    local function last_added()
      local f = assert(io.open(hpath))
      local ev
      for line in f:lines() do
        local e = fl.json.decode(line)
        if e.event == "fault" and e.action == "added" then ev = e end
      end
      f:close()
      return ev
    end
    local kinds = {}
    for k in pairs(fl.nemesis.HOST_KINDS) do kinds[#kinds + 1] = k end
    table.sort(kinds)
    for _, kind in ipairs(kinds) do
      local spec = nem:draw(kind)
      if spec.fault.type ~= "process" or spec.fault.action == "pause" then spec.fault.ttl_ms = 5000 end
      local pid = victim(spec.host)
      local t0 = fl.now()
      local undo, desc = nem:apply(spec)
      local dt = (fl.now() - t0) * 1000
      expect(undo ~= nil).to_be(true)
      if not pcall(fl.eventually, function() return in_effect(spec, pid) == nil end, { within = 2 }) then
        fl.fail(desc .. ": not in effect: " .. tostring(in_effect(spec, pid)))
      end
      print(string.format("  %-40s held: API call %.1f ms (the agent's kernel call %.2f ms)",
        desc, dt, (last_added().apply_us or 0) / 1000))
      undo()
      local ok, why = nothing_left()
      if not ok then fl.fail(desc .. ": not healed: " .. why) end
      -- a killed victim is back before the next kind
      fl.eventually(function() return victim(spec.host) ~= pid or spec.fault.action ~= "kill"
        and spec.fault.action ~= "term" end, { within = 3 })
      fl.eventually(function() return state(victim(spec.host)) ~= nil end, { within = 3 })
    end
  end)

  it("runs the seeded schedule, each fault in effect while it is on", function()
    local h = fl.history.open(E.HISTORY)
    local nem = new(h)
    local duration = tonumber(E.DURATION) or 4
    nem:plan(duration)
    local done, seen, bad = false, 0, {}
    local watcher = fl.spawn(function()
      while not done do
        local c = nem.current
        if c and c.spec.fault.type ~= "process" and fl.now() < c.started + c.hold - 0.15 then
          local err = in_effect(c.spec)
          if err and nem.current == c then bad[#bad + 1] = c.spec.kind .. " " .. c.spec.target .. ": " .. err end
          seen = seen + 1
        end
        fl.sleep(0.05)
      end
    end)
    local log = nem:run(duration)
    done = true
    fl.join(watcher)
    h:close()
    print(string.format("  %d faults, %d checks while held: %s", #log, seen, table.concat(log, ", ")))
    if #bad > 0 then fl.fail("not in effect while held", table.concat(bad, "\n")) end
    expect(#log > 2).to_be(true)
    expect(seen > 0).to_be(true)
    local ok, why = nothing_left()
    if not ok then fl.fail("not healed after the schedule: " .. why) end
  end)

  it("holds a fault until killed", function()
    local nem = new(fl.history.open(os.tmpname()))
    nem:run(120)
  end)
end)
EOF

# run GREP SEED [-e K=V]...: the scenario's tests matching GREP in h4; in the
# background its pid ($!) is the runner's (exec)
run() {
	g=$1 s=$2
	shift 2
	cd "$tmp" # the file's name as given seeds fl.random: the same in every run
	exec ip netns exec "$NS_4" env FAULTLINE_TOKEN="$(cat "$tmp/token")" "$FAULTLINE" run nemesis_fleet.lua \
		--grep "$g" --seed "$s" -e INVENTORY="$tmp/agents.txt" -e TMP="$tmp" \
		-e NS_1="$NS_1" -e NS_2="$NS_2" -e NS_3="$NS_3" "$@"
}
left() { # hosts with a faultline chain or qdisc
	n=0
	for i in 1 2 3; do
		ip netns exec "$(nsof $i)" nft list ruleset | grep -q '^\s*chain f' && n=$((n + 1))
		ip netns exec "$(nsof $i)" tc qdisc show dev eth0 | grep -q 'tbf fa17:' && n=$((n + 1))
	done
	echo $n
}

echo "== the same seed draws the same schedule; another seed another"
for r in a:7 b:7 c:8; do
	(run draws "${r#*:}" -e PLAN="$tmp/plan-${r%%:*}" -e HISTORY="$tmp/hist-${r%%:*}") >"$tmp/run.out" 2>&1 ||
		fail "draw ${r%%:*}: $(cat "$tmp/run.out")"
	# the history's steps, keys sorted, without the recorder's clock ("t", "ts")
	python3 -c 'import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("event") == "nemesis_plan":
        e.pop("t", None); e.pop("ts", None); print(json.dumps(e, sort_keys=True))' \
		"$tmp/hist-${r%%:*}" >"$tmp/hplan-${r%%:*}" || fail "history: $(head -n 3 "$tmp/hist-${r%%:*}")"
	[ -s "$tmp/hplan-${r%%:*}" ] || fail "no nemesis_plan in the history"
done
cmp -s "$tmp/plan-a" "$tmp/plan-b" || fail "seed 7 drew two schedules: $(diff "$tmp/plan-a" "$tmp/plan-b")"
cmp -s "$tmp/hplan-a" "$tmp/hplan-b" || fail "seed 7 recorded two schedules in the history: $(diff "$tmp/hplan-a" "$tmp/hplan-b" | head -5)"
! cmp -s "$tmp/plan-a" "$tmp/plan-c" || fail "seeds 7 and 8 drew the same schedule"
[ "$(wc -l <"$tmp/plan-a")" = "$(wc -l <"$tmp/hplan-a")" ] || fail "history and text differ in steps"
head -n 3 "$tmp/plan-a"
grep -q host_ "$tmp/plan-a" || fail "no host fault drawn: $(cat "$tmp/plan-a")"

echo "== every kind in the kernel while held, gone once healed"
(run "every kind" 7) >"$tmp/run.out" 2>&1 || { cat "$tmp/run.out"; fail "kinds"; }
grep 'held: API call' "$tmp/run.out"
[ "$(left)" = 0 ] || fail "left behind after the kinds"

echo "== a seeded schedule"
(run "seeded schedule" 7 -e HISTORY="$tmp/hist-run" -e DURATION=4) >"$tmp/run.out" 2>&1 ||
	{ cat "$tmp/run.out"; fail "schedule"; }
grep 'checks while held' "$tmp/run.out"
[ "$(left)" = 0 ] || fail "left behind after the schedule"
windows=$(python3 -c 'import json, sys
n = {"added": 0, "removed": 0}
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("event") == "fault" and e["what"].startswith("host_"): n[e["action"]] += 1
print(n["added"], n["removed"])' "$tmp/hist-run")
set -- $windows
[ "$1" -gt 2 ] && [ "$1" = "$2" ] || fail "history: $1 host faults added, $2 removed"

for kind in host_partition:nft host_bandwidth:tbf; do
	echo "== the runner SIGKILLed holding a ${kind%%:*} (lease 1000 ms)"
	run "until killed" 7 -e KINDS="${kind%%:*}" -e HOLD=30 -e FL_PROXY_LEASE_MS=1000 >"$tmp/kill.out" 2>&1 &
	runner=$!
	n=0
	until [ "$(left)" != 0 ]; do
		n=$((n + 1)); [ $n -lt 200 ] || fail "no ${kind%%:*} appeared: $(cat "$tmp/kill.out")"; sleep 0.02
	done
	sleep 1.2 # past one lease: renewals keep it
	[ "$(left)" != 0 ] || fail "the fault went while the lease was renewed"
	kill -9 "$runner"; wait "$runner" 2>/dev/null || true
	runner=""
	tk=$(ms)
	until [ "$(left)" = 0 ]; do
		[ $(($(ms) - tk)) -lt 3000 ] || fail "${kind%%:*} outlived the runner's lease by 2 s"
		sleep 0.01
	done
	dt=$(($(ms) - tk))
	echo "${kind#*:}: runner SIGKILLed, healed after $dt ms (lease 1000 ms)"
	[ $dt -le 1500 ] || fail "healed later than the lease + 500 ms"
done
echo ok
