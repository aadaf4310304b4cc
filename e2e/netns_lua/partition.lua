-- The reference system in network-namespace hosts (faultline up --netns,
-- direct edges) under kernel-level partitions between remittance and money,
-- applied by the hosts' agents (nftables, through fl.fleet.of: under the
-- controller's lease) with a TTL while clients
-- transfer: two-way from remittance's host, one-way (what comes in from
-- remittance) from money's host. After the TTL heals, sagas end, money is
-- conserved and the saga checker passes.
--   faultline run e2e/netns_lua/partition.lua -e FL_REF=DATA (a system from `up --netns`)
local fl = require "faultline"
local W = fl.workload

local DURATION = tonumber(fl.env.NETNS_DURATION or "") or 6
local TTL_MS = tonumber(fl.env.NETNS_TTL_MS or "") or 2500

-- the faults a host's agent holds now
local function faults_on(fleet, host)
  local st = fleet:only(host):status()[1]
  expect(st.reachable).to_be(true)
  return st.faults
end

-- one partition with a TTL in the middle of a transfer workload, then every check
local function partition_while_transferring(t, sys, host, spec)
  -- each host's agent, named by its service, with the launcher's token;
  -- faults are held under this controller's lease besides their TTL
  local fleet = fl.fleet.of(sys)
  local members, ids = {}, {}
  local addr = string.format("netns-%d-%d", os.time() % 100000, fl.random(1e6))
  for i = 1, 4 do
    members[i] = sys:member{ balance = 2000000, bank_balance = 4000000, address = addr }
    ids[i] = members[i].id
  end
  local win = W.window(sys, t.name)
  fl.defer(function() win.history:close() end)
  local applied, healed_ms
  local nemesis = fl.spawn(function()
    fl.sleep(1)
    spec.ttl_ms = TTL_MS
    local t0 = fl.now()
    local g = fleet:only(host):fault(spec)
    applied = g.ids[host]
    expect(#faults_on(fleet, host)).to_be(1)
    win:fault("added", "partition", host, applied)
    print(string.format("  partition %s on %s's agent (%s, peer %s): in effect %.1f ms after the call",
      applied, host, spec.direction, spec.peer, (fl.now() - t0) * 1000))
    -- healed by its TTL, by the agent itself
    local gone = fl.eventually(function() return #faults_on(fleet, host) == 0 and fl.now() end,
      { within = TTL_MS / 1000 + 3 })
    healed_ms = (gone - t0) * 1000
    win:fault("removed", "partition", host, applied)
  end)
  local stats = W.run(sys, { members = members, clients = 4, rate = 20, duration = DURATION,
                             history = win.history, timeout = 4, snapshot_every = 1,
                             bank_total = win.bank_total, mix = { transfer = 3, read = 1 },
                             big = 0 })
  fl.join(nemesis)
  print(string.format("  workload: %d ops (%d ok, %d fail, %d info); healed by the TTL after %.0f ms (TTL %d ms)",
    stats.ops, stats.ok, stats.fail, stats.info, healed_ms, TTL_MS))
  expect(applied ~= nil).to_be(true)
  -- the cut was real: with balances that cover every amount (big = 0), an
  -- operation fails or is left undecided only because of the partition
  expect(stats.fail + stats.info).to_be_greater_than(0)
  expect(stats.ok).to_be_greater_than(0)
  win:quiesce(30)
  W.verify(t.name, { saga = win:saga{ wait = 5, addresses = { [addr] = ids }, counters = true } })
  local ok, why = sys:conserved()
  if not ok then fl.fail("money not conserved: " .. why) end
end

describe("netns partitions", function()
  local sys
  setup(function() sys = fl.ref.system() end)

  it("two-way partition between remittance and money heals and every invariant holds",
     { timeout = 90 }, function(t)
    partition_while_transferring(t, sys, "remittance",
      { type = "partition", direction = "both", peer = fl.fleet.of(sys):address("money") })
  end)

  it("one-way partition (money drops what comes from remittance) heals and every invariant holds",
     { timeout = 90 }, function(t)
    partition_while_transferring(t, sys, "money",
      { type = "partition", direction = "in", peer = fl.fleet.of(sys):address("remittance") })
  end)
end)
