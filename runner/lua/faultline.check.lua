-- faultline.check: the checkers from scenarios (fl.check).
--
--   fl.check.saga(sys [, opts]):ok()        money and sagas: M1-M3, S1-S8, Q1-Q2
--   fl.check.bank{ total=, allow_negative=, sources=, history= }:ok()
--   fl.check.breaker(link, config):ok()     circuit breaker: C1-C7
--   fl.check.probes(service, cfg):ok()      probes and graceful shutdown: H1-H5
--   fl.check.run(kind, source [, config])   any checker on a history path,
--                                           a list of events, or {files=, events=}
--   fl.check.prober(service, spec)          a kubelet prober on the scenario loop
--
-- Every checker reads the scenario's history (opts.history: a path, a
-- recorder from fl.history.open, or a list of events; default: the run's
-- --history file) plus opts.events, and returns a result:
--   r.valid                 true, false or "unknown"
--   r.invariants[ID]        {name, state, count, checked, first, worst, last}
--   r.text                  the report as the console shows it
--   r:ok([{allow_unknown}]) raises a test failure carrying the report and
--                           evidence unless valid (unknown fails too unless allowed)
--   r:failed(ID)            true when invariant ID was violated
-- docs/checkers.md explains every invariant and the event schema.
local check_c = require "faultline.check_c"

local M = {}
local Result = {}
Result.__index = Result

local function fl()
  local ok, mod = pcall(require, "faultline")
  return ok and type(mod) == "table" and mod or nil
end

--- r:ok([{allow_unknown=true}]) -> r, or raises a test failure whose message
--- names every failed invariant with its first violation, and whose
--- "actual" carries the evidence (first and worst) per invariant
function Result:ok(o)
  if self.valid == true then return self end
  if self.valid == "unknown" and o and o.allow_unknown then return self end
  local parts, evidence = {}, {}
  local ids = {}
  for id in pairs(self.invariants or {}) do ids[#ids + 1] = id end
  table.sort(ids)
  for _, id in ipairs(ids) do
    local v = self.invariants[id]
    if (v.count or 0) > 0 then
      parts[#parts + 1] = string.format("%s %s (%d): %s", id, v.name, v.count, v.first.message)
      evidence[id] = { count = v.count, first = v.first, worst = v.count > 1 and v.worst or nil }
    elseif v.state == "unknown" then
      parts[#parts + 1] = string.format("%s %s: unknown: %s", id, v.name, v.unknown_reason or "")
    end
  end
  if #parts == 0 and self.note then parts[1] = self.note end
  local what = self.valid == "unknown" and "could not decide" or "failed"
  local msg = string.format("%s check %s: %s", self.checker, what, table.concat(parts, "; "))
  local f = fl()
  if f then
    -- the message names each failed invariant; the checker's full text (first,
    -- worst and last example with their evidence) goes under it in every report
    error({ fl_fail = true, message = msg, detail = self.text, evidence = evidence }, 2)
  end
  error(msg .. "\n" .. self.text, 2)
end

--- r:failed(id) -> true when invariant id has violations
function Result:failed(id)
  local v = self.invariants and self.invariants[id]
  return v ~= nil and (v.count or 0) > 0
end

--- r:violations(id) -> number of violations of invariant id
function Result:violations(id)
  local v = self.invariants and self.invariants[id]
  return v and v.count or 0
end

-- The result, also attached to the running test's report (without its
-- console text) under `label`.
local function wrap(label, r, err)
  if not r then error(err, 3) end
  local f = fl()
  if f and f.attach then
    local rec = {}
    for k, v in pairs(r) do if k ~= "text" and k ~= "exit_code" then rec[k] = v end end
    rec.label = label
    f.attach("checks", rec)
  end
  return setmetatable(r, Result)
end

--- run(kind, source [, config [, name]]) -> result
function M.run(kind, source, config, name)
  local what = name or (type(config) == "table" and (config.service or config.name)) or nil
  return wrap(what and (kind .. " " .. tostring(what)) or kind, check_c.run(kind, source, config, name))
end

M.prober = check_c.prober

-- The history files and extra events a checker reads.
local OWN = { history = true, events = true, sys = true, wait = true, service = true,
              prober = true, link = true }

local function sources(opts)
  local files, events = {}, {}
  local h = opts.history
  if h == nil then
    local f = fl()
    h = f and f.history and f.history.default and f.history.default() or nil
  end
  if type(h) == "string" then
    files[#files + 1] = h
  elseif type(h) == "userdata" or (type(h) == "table" and type(h.path) == "function") then
    files[#files + 1] = h:path()
  elseif type(h) == "table" then
    for _, e in ipairs(h) do events[#events + 1] = e end
  end
  for _, e in ipairs(opts.events or {}) do events[#events + 1] = e end
  return { files = files, events = events }
end

local function config_of(opts, drop)
  local c = {}
  for k, v in pairs(opts) do
    if not OWN[k] and not (drop and drop[k]) then c[k] = v end
  end
  return c
end

-- Every event of a service's outbox feed (paged).
local function feed(sys, service, into)
  local after = 0
  for _ = 1, 1000 do
    local batch = sys:events(service, after)
    for _, e in ipairs(batch) do
      into[#into + 1] = e
      if type(e.seq) == "number" and e.seq > after then after = e.seq end
    end
    if #batch < 10000 then break end
  end
end

local function now_ns()
  local f = fl()
  return f and f.now and math.floor(f.now() * 1e9) or 0
end

local function escape(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

local function get_json(http, url, what)
  local r = http.get(url, { timeout = 10 })
  if r.status ~= 200 or type(r.json) ~= "table" then
    error(string.format("%s: HTTP %s %s", what, tostring(r.status), tostring(r.body)), 4)
  end
  return r.json
end

-- Q1/Q2 samples from the reference system, taken cqrs_lag_ms after quiescence.
local function read_models(sys, opts, events)
  local f = fl()
  local http = require "faultline.http"
  events[#events + 1] = { event = "quiescence", t = now_ns() }
  f.sleep((opts.cqrs_lag_ms or 2000) / 1000 + 0.05)
  for _, addr in ipairs(opts.addresses or {}) do
    local rm = get_json(http, sys:url("query", "/money/query/get-money-sum-by-address/" .. escape(addr)),
      "read model")
    local ids = get_json(http, sys:url("membership", "/membership/address/" .. escape(addr)),
      "members by address").membershipIds or {}
    local sum = 0
    for _, id in ipairs(ids) do sum = sum + sys:balance(id) end
    local agg = http.post(sys:url("gateway", "/money/aggregation/get-money-sum-by-address"),
      { json = { address = addr }, timeout = 10 })
    events[#events + 1] = { event = "cqrs_sample", t = now_ns(), address = addr, read_model = rm.sum,
                            wallet_sum = sum, aggregation = agg.status == 200 and agg.json and agg.json.sum or nil }
  end
  if opts.failures ~= false then
    local st = get_json(http, sys:url("query", "/stats/failed-transfers"), "failure counters")
    local counts = {}
    for reason, c in pairs(st.by_reason or {}) do counts[reason] = c.failed or 0 end
    events[#events + 1] = { event = "failure_counts", t = now_ns(), counts = counts }
  end
end

--- saga(sys [, opts]) -> result. With sys (fl.ref.system()): waits up to
--- opts.wait seconds (default 10) for every saga to end, reads the saga
--- events of remittance and the ledger legs of money, takes the money and
--- bank snapshots at quiescence, then (after cqrs_lag_ms) samples the read
--- models: the sum by address for each of opts.addresses (Q1) and the
--- failure counters (Q2, unless opts.failures == false). opts:
--- deadline_ms, grace_ms, cqrs_lag_ms, bank_total, bank_corp_initial,
--- addresses, failures, history, events, since (monotonic ns, as
--- math.floor(fl.now() * 1e9): only sagas, operations and samples starting
--- at or after it are reported; earlier events still build state).
function M.saga(sys, opts)
  opts = opts or {}
  local src = sources(opts)
  if sys then
    local f = fl()
    local deadline = (f and f.now and f.now() or 0) + (opts.wait or 10)
    while f and f.now and f.now() < deadline do
      local open = sys:sagas("open")
      if #open == 0 then break end
      f.sleep(0.1)
    end
    feed(sys, "remittance", src.events)
    feed(sys, "money", src.events)
    local l, b = sys:ledger(), sys:bank()
    src.events[#src.events + 1] = { event = "money_snapshot", t = l.t or now_ns(),
                                    accounts = l.accounts, quiescent = true }
    src.events[#src.events + 1] = { event = "bank_snapshot", t = b.t or now_ns(),
                                    accounts = { CORP = b.corp, OTHERS = b.total - b.corp },
                                    initial_total = opts.bank_total, quiescent = true }
    read_models(sys, opts, src.events)
  end
  return wrap("saga", check_c.run("saga", src, config_of(opts, { addresses = true, failures = true })))
end

--- bank{total=, allow_negative=, sources=, history=, events=} -> result
function M.bank(opts)
  opts = opts or {}
  return wrap("bank", check_c.run("bank", sources(opts), config_of(opts)))
end

--- breaker(link, config) -> result. link: a proxy link name
--- ("remittance->banking") or a link object from fl.proxy.link (its recorded
--- events are read); config: an entry of a service's /breakers, or the
--- breaker configuration (docs/checkers.md) with, optionally, history,
--- events, sys and service (read that service's breaker events), and since
--- (ns: the whole history builds the breaker's state, violations are
--- reported only for calls and transitions at or after it).
function M.breaker(link, config)
  config = config or {}
  local src = sources(config)
  local name = link
  if type(link) == "table" then
    name = link.name
    if type(link.events) == "function" then
      for _, e in ipairs(link:events{ since = 0 }) do src.events[#src.events + 1] = e end
    end
  end
  if config.sys and config.service then feed(config.sys, config.service, src.events) end
  local c = config_of(config)
  if c.link == nil and (c.config == nil or c.config.link == nil) then c.link = name end
  local bname = c.name or name
  return wrap("breaker " .. tostring(bname), check_c.run("breaker", src, c, bname))
end

--- exited(sys, service [, within]) -> a `process` "exited" event for the
--- history (exit code, signal, the time the exit was seen), waiting up to
--- `within` seconds (default 30) for the reference system's service to exit
--- (after sys:terminate); nil, message when it does not.
function M.exited(sys, service, within)
  local json = require "faultline.json"
  local f = fl()
  local s = sys.services[service]
  if not s or not s.exit_file then return nil, "no exit file for service " .. tostring(service) end
  local deadline = f.now() + (within or 30)
  repeat
    local h = io.open(s.exit_file, "r")
    if h then
      local text = h:read("a")
      h:close()
      local ok, j = pcall(json.decode, text)
      if ok and type(j) == "table" and j.pid == s.pid then
        local sig = j.signal
        if sig == nil or sig == json.null then sig = 0 end
        local code = j.exit
        if code == nil or code == json.null then code = -1 end
        return { event = "process", action = "exited", service = service, t = now_ns(),
                 exit_code = code, signal = sig }
      end
    end
    f.sleep(0.02)
  until f.now() >= deadline
  return nil, string.format("%s did not exit within %g s", service, within or 30)
end

--- probes(service, cfg) -> result. cfg: the probe settings (period,
--- timeout, success_threshold, failure_threshold, grace, or the Kubernetes
--- names periodSeconds, ...), history, events, prober (a fl.check.prober
--- whose events are read).
function M.probes(service, cfg)
  cfg = cfg or {}
  local src = sources(cfg)
  if cfg.prober then
    for _, e in ipairs(cfg.prober:events()) do src.events[#src.events + 1] = e end
  end
  local c = config_of(cfg)
  c.service = service
  return wrap("probe " .. tostring(service), check_c.run("probe", src, c))
end

return M
