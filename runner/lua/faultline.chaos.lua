-- faultline.chaos: chaos experiments (fl.chaos), in the shape Chaos Toolkit
-- users know — a steady-state hypothesis, a method, rollbacks — with the
-- safety rules of docs/chaos.md: rollbacks always run (success, failure, abort,
-- Ctrl-C), safeguards abort the method, --dry-run takes no step, HTTP only
-- reaches loopback and --allow hosts and CIDR blocks, and a journal records
-- every step.
--
--   fl.chaos.experiment{
--     title = "transfers survive a slow bank",
--     steady_state = {
--       { name = "gateway ready", probe = function() return fl.http.get(u).status end,
--         tolerance = 200 },
--     },
--     method = {
--       { name = "slow the bank", action = function() ... end,
--         rollback = function() ... end, pause_after = 2 },
--     },
--     rollbacks = { { name = "reset the proxy", action = function() ... end } },
--     safeguards = { { name = "bank alive", probe = fn, tolerance = true, every = 1 } },
--     targets = { "http://127.0.0.1:8080/health",      -- HTTP targets, agents
--                 "db.internal:5432" },                 -- upstreams faults point at
--   }
--
-- Targets are checked when the experiment is defined, before anything runs
-- (--dry-run included): each host must be loopback, named with --allow, or
-- an IP inside a CIDR block given to --allow, else the file is refused
-- (exit 2) with nothing done.
--
-- Tolerances: a value (equality; tables deeply), {min=, max=} for numbers,
-- {pattern = "lua pattern"} for strings, or a function(value) -> bool.
local core = require "faultline.core"
local json = require "faultline.json"
local deep_equal = require("faultline.expect").deep_equal
local inspect = require("faultline.inspect").inspect

local M = {}

local function fl() return require "faultline" end

local function within(v, tol)
  if type(tol) == "function" then return tol(v) and true or false end
  if type(tol) == "table" then
    if tol.pattern then return type(v) == "string" and v:match(tol.pattern) ~= nil end
    if tol.min ~= nil or tol.max ~= nil then
      return type(v) == "number" and (tol.min == nil or v >= tol.min) and (tol.max == nil or v <= tol.max)
    end
    return deep_equal(v, tol)
  end
  if tol == nil then return v ~= nil and v ~= false end
  return v == tol
end

local function describe_tol(tol)
  if type(tol) == "function" then return "a predicate" end
  if type(tol) == "table" and tol.pattern then return "matching " .. string.format("%q", tol.pattern) end
  if type(tol) == "table" and (tol.min ~= nil or tol.max ~= nil) then
    return string.format("in [%s, %s]", tol.min == nil and "-inf" or tostring(tol.min),
                         tol.max == nil and "inf" or tostring(tol.max))
  end
  if tol == nil then return "truthy" end
  return inspect(tol)
end

-- Values for people: floats with 4 significant digits.
local function show(v)
  if math.type(v) == "float" then return string.format("%.4g", v) end
  return inspect(v)
end

-- A line for a person: through the console report (above its progress
-- line), or on standard output when the run has no console.
local function say(fmt, ...)
  local line = string.format(fmt, ...)
  if not core.note(line) then
    io.stdout:write(line, "\n")
    io.stdout:flush()
  end
end

local function check_list(list, what, level)
  if list == nil then return {} end
  if type(list) ~= "table" then error(what .. " must be a list", level + 1) end
  for i, a in ipairs(list) do
    if type(a) ~= "table" or type(a.name) ~= "string" then
      error(string.format("%s[%d] needs a name", what, i), level + 1)
    end
    if type(a.action) ~= "function" and type(a.probe) ~= "function" then
      error(string.format("%s[%d] (%s) needs an action or a probe function", what, i, a.name), level + 1)
    end
  end
  return list
end

-- One probe: value, ok, error message.
local function run_probe(p)
  local t0, w0 = core.now(), core.wall()
  local ok, v = pcall(p.probe)
  local rec = { name = p.name, type = "probe", started = w0, mono = t0, duration = core.now() - t0 }
  if not ok then
    rec.status, rec.error = "failed", type(v) == "table" and (v.message or inspect(v)) or tostring(v)
    return rec, false
  end
  rec.value = v
  rec.tolerance = describe_tol(p.tolerance)
  rec.status = within(v, p.tolerance) and "ok" or "deviated"
  return rec, rec.status == "ok"
end

local function hypothesis(list, phase, journal)
  local all, off = true, {}
  journal[phase] = {}
  for _, p in ipairs(list) do
    local rec, ok = run_probe(p)
    journal[phase][#journal[phase] + 1] = rec
    say("  %s %s: %s = %s (want %s)", ok and "✓" or "✗", (phase:gsub("_", " ")), p.name,
        rec.error or show(rec.value), describe_tol(p.tolerance))
    all = all and ok
    if not ok then
      off[#off + 1] = string.format("%s = %s (want %s)", p.name, rec.error or show(rec.value), describe_tol(p.tolerance))
    end
  end
  return all, table.concat(off, "; ")
end

local function write_journal(path, journal)
  if not path then return end
  local f, err = io.open(path, "w")
  if not f then
    io.stderr:write("faultline chaos: cannot write journal " .. path .. ": " .. tostring(err) .. "\n")
    return
  end
  f:write(json.encode(journal, { pretty = true }), "\n")
  f:close()
end

local function pause(seconds, state)
  local deadline = core.now() + (seconds or 0)
  while core.now() < deadline and not state.abort do
    core.sleep(math.min(0.1, deadline - core.now()))
  end
end

local function run(e)
  local opts = core.options()
  local journal = {
    title = e.title, description = e.description, started = core.wall(), mono = core.now(),
    dry_run = opts.dry_run or false, seed = opts.seed, method = {}, rollbacks = {},
    status = "running",
  }
  local state = { rollbacks = {} }

  if opts.dry_run then
    say("  [dry run] experiment: %s", e.title)
    for _, t in ipairs(e.targets or {}) do say("  [dry run] target (allowed): %s", t) end
    for _, p in ipairs(e.steady_state) do say("  [dry run] steady state: probe %q, tolerance %s", p.name, describe_tol(p.tolerance)) end
    for _, g in ipairs(e.safeguards) do say("  [dry run] safeguard: probe %q every %g s", g.name, g.every or 1) end
    for _, a in ipairs(e.method) do
      say("  [dry run] method: %s %q%s%s", a.action and "action" or "probe", a.name,
          a.rollback and " (with rollback)" or "", a.pause_after and string.format(", then pause %g s", a.pause_after) or "")
    end
    for _, p in ipairs(e.steady_state) do say("  [dry run] steady state again: probe %q", p.name) end
    for _, r in ipairs(e.rollbacks) do say("  [dry run] rollback: %q", r.name) end
    journal.status = "dry-run"
    write_journal(opts.journal, journal)
    fl().attach("experiment", journal)
    return
  end

  -- The progress line on a terminal: elapsed of the time limit, failed
  -- steps, faults (actions with a rollback) in place.
  local function progress()
    local failed = 0
    for _, r in ipairs(journal.method) do if r.status == "failed" then failed = failed + 1 end end
    fl().progress{ what = "experiment: " .. e.title, total = e.timeout or opts.timeout,
                   errors = failed, faults = #state.rollbacks }
  end
  fl().spawn(function()
    while not state.finished and not state.method_done do
      progress()
      core.sleep(0.25)
    end
  end)

  -- Rollbacks run when the test ends, however it ends; then the journal.
  fl().defer(function()
    state.finished = true
    fl().progress(nil)
    local list = {}
    for i = #state.rollbacks, 1, -1 do list[#list + 1] = state.rollbacks[i] end
    for _, r in ipairs(e.rollbacks) do list[#list + 1] = { name = r.name, fn = r.action or r.probe } end
    for _, r in ipairs(list) do
      local t0, w0 = core.now(), core.wall()
      local ok, err = pcall(r.fn)
      local abandoned = not ok and tostring(type(err) == "table" and err.message or err):find("abandoned", 1, true)
      local rec = { name = r.name, started = w0, mono = t0, duration = core.now() - t0,
                    status = ok and "ok" or (abandoned and "abandoned" or "failed") }
      if not ok then rec.error = type(err) == "table" and (err.message or inspect(err)) or tostring(err) end
      journal.rollbacks[#journal.rollbacks + 1] = rec
      say("  %s rollback: %s%s", ok and "✓" or "✗", r.name, rec.error and (" (" .. rec.error .. ")") or "")
    end
    journal.ended = core.wall()
    local intr = core.interrupted()
    if intr then
      journal.status = journal.status == "running" and "interrupted" or journal.status
      if intr >= 2 then journal.rollbacks_abandoned = true end
    end
    write_journal(opts.journal, journal)
    fl().attach("experiment", journal)
  end)

  say("  experiment: %s", e.title)
  local held, off = hypothesis(e.steady_state, "steady_state_before", journal)
  if not held then
    journal.status = "aborted"
    journal.reason = "the steady state did not hold before the method: " .. off
    fl().fail("experiment aborted: the steady-state hypothesis did not hold before the method: " .. off)
  end

  for _, g in ipairs(e.safeguards) do
    fl().spawn(function()
      while not state.abort and not state.method_done do
        local rec, ok = run_probe(g)
        if not ok then
          state.abort = string.format("safeguard %q tripped: %s", g.name, rec.error or inspect(rec.value))
          rec.tripped = core.wall()
          journal.safeguard = rec
          return
        end
        core.sleep(g.every or 1)
      end
    end)
  end

  for _, a in ipairs(e.method) do
    if state.abort then break end
    pause(a.pause_before, state)
    if state.abort then break end
    local t0, w0 = core.now(), core.wall()
    local rec
    if a.action then
      local ok, v = pcall(a.action)
      rec = { name = a.name, type = "action", started = w0, mono = t0, duration = core.now() - t0,
              status = ok and "ok" or "failed" }
      if ok then rec.output = v else rec.error = type(v) == "table" and (v.message or inspect(v)) or tostring(v) end
      if a.rollback then state.rollbacks[#state.rollbacks + 1] = { name = "undo " .. a.name, fn = a.rollback } end
      say("  %s action: %s%s", ok and "✓" or "✗", a.name, rec.error and (" (" .. rec.error .. ")") or "")
      journal.method[#journal.method + 1] = rec
      if not ok then state.abort = "action " .. a.name .. " failed: " .. rec.error end
    else
      rec = run_probe(a)
      journal.method[#journal.method + 1] = rec
      say("  · probe: %s = %s", a.name, rec.error or show(rec.value))
    end
    pause(a.pause_after, state)
  end
  state.method_done = true
  if state.abort then
    journal.status = "aborted"
    journal.reason = state.abort
    fl().fail("experiment aborted: " .. state.abort)
  end

  held, off = hypothesis(e.steady_state, "steady_state_after", journal)
  if not held then
    journal.status = "deviated"
    journal.reason = "deviated: " .. off
    fl().fail("the steady state did not hold after the method: the system deviated: " .. off)
  end
  journal.status = "completed"
end

-- The host of a target: "http://h:p/x", "https://[v6]:p", "h:p" or "h".
local function target_host(t)
  local rest = t:match("^%a[%w+.-]*://(.*)$") or t
  rest = rest:match("^[^/?#]*") or ""
  rest = rest:gsub("^.*@", "")
  local v6 = rest:match("^%[([^%]]*)%]")
  if v6 then return v6 end
  local h = rest:match("^([^:]*):%d*$")
  return h or rest
end

-- Every declared target, before the first action: loopback, or a host or
-- an IP in a CIDR block named with --allow (core.allowed: the rule fl.http
-- applies to every request, the fault injector's allowlist parser).
local function check_targets(e, level)
  local targets = e.targets or {}
  if type(targets) ~= "table" then error("experiment: targets must be a list of strings", level + 1) end
  local refused = {}
  for i, t in ipairs(targets) do
    if type(t) ~= "string" or t == "" then
      error(string.format("experiment: targets[%d] must be a URL or HOST:PORT", i), level + 1)
    end
    local h = target_host(t)
    if h == "" then
      error(string.format("experiment: targets[%d] (%s) has no host", i, t), level + 1)
    end
    if not core.allowed(h) then refused[#refused + 1] = t end
  end
  if #refused > 0 then
    error(string.format("experiment %q: target%s not allowed: %s (loopback is always allowed; "
      .. "add hosts with --allow HOST or --allow CIDR); nothing was run", e.title, #refused > 1 and "s" or "",
      table.concat(refused, ", ")), level + 1)
  end
end

--- experiment{title=, steady_state=, method=, rollbacks=, safeguards=, targets=, tags=, timeout=}
--- registers the experiment as a test of this file; its targets are checked now.
function M.experiment(e)
  if type(e) ~= "table" then error("experiment: expected a table", 2) end
  if type(e.title) ~= "string" then error("experiment: title must be a string", 2) end
  e.steady_state = check_list(e.steady_state, "steady_state", 2)
  for i, p in ipairs(e.steady_state) do
    if type(p.probe) ~= "function" then error(string.format("steady_state[%d] (%s) needs a probe", i, p.name), 2) end
  end
  e.method = check_list(e.method, "method", 2)
  e.rollbacks = check_list(e.rollbacks, "rollbacks", 2)
  e.safeguards = check_list(e.safeguards, "safeguards", 2)
  if #e.method == 0 then error("experiment: the method has no step", 2) end
  check_targets(e, 2)
  local tags = { "chaos" }
  for _, t in ipairs(e.tags or {}) do tags[#tags + 1] = t end
  fl().it("experiment: " .. e.title, { tags = tags, timeout = e.timeout }, function() run(e) end)
  return e
end

M.within = within
return M
