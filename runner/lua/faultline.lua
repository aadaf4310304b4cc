-- faultline: the scenario API (local fl = require "faultline").
--
-- Test structure (also installed as globals): describe, it, pending,
-- before_each, after_each, setup, teardown, expect.
-- Helpers: fl.http, fl.json, fl.parallel, fl.spawn, fl.join, fl.eventually,
-- fl.sleep, fl.now, fl.env, fl.random, fl.history, fl.defer, fl.skip,
-- fl.fail, fl.inspect; further modules load on first use (fl.proxy, fl.ref,
-- fl.check, fl.contract ...). docs/lua-api.md documents all of it.
local core = require "faultline.core"
local http = require "faultline.http"
local json = require "faultline.json"
local expect_mod = require "faultline.expect"
local inspect = require("faultline.inspect").inspect
local history = require "faultline.history"

local fl = {
  http = http, json = json, expect = expect_mod.expect, inspect = inspect,
  sleep = core.sleep, now = core.now, wall = core.wall,
}

local opts = core.options()
fl.seed = opts.seed
fl.file = opts.path

-- ---------------------------------------------------------------- env, random
local cli_env = core.env()
fl.env = setmetatable({}, {
  __index = function(_, k)
    local v = cli_env[k]
    if v == nil then v = os.getenv(k) end
    return v
  end,
  __newindex = function(_, k, v) cli_env[k] = v end,
})

fl.random = setmetatable({
  seed = opts.seed,
  --- choice(t) -> a uniformly chosen element of the sequence t
  choice = function(t)
    assert(#t > 0, "choice from an empty list")
    return t[core.random(#t)]
  end,
  --- shuffle(t) -> t shuffled in place (Fisher-Yates)
  shuffle = function(t)
    for i = #t, 2, -1 do
      local j = core.random(i)
      t[i], t[j] = t[j], t[i]
    end
    return t
  end,
}, { __call = function(_, ...) return core.random(...) end })

-- ------------------------------------------------------------------ history
fl.history = setmetatable({
  open = history.open,
  --- default() -> the recorder of --history FILE (or $FL_HISTORY), or nil
  default = function()
    if fl.history._default == nil then
      local path = opts.history or os.getenv("FL_HISTORY")
      fl.history._default = path and assert(history.open(path, { append = true })) or false
    end
    return fl.history._default or nil
  end,
}, {})

-- ---------------------------------------------------------- failure records
local FILE_SOURCE = "@" .. (opts.path or "")

-- Message handler for every protected call of test code: turns whatever was
-- raised into a record with the scenario line, the last HTTP exchange and a
-- traceback. Records pass through unchanged (errors re-raised from tasks).
local function on_error(e)
  if type(e) == "table" and (e.fl_record or e.fl_skip) then return e end
  local rec = { fl_record = true }
  if type(e) == "table" and e.fl_fail then
    rec.kind = "assertion"
    rec.message, rec.expected, rec.actual = e.message, e.expected, e.actual
    rec.has_expected = e.has_expected
    rec.detail = e.detail
  else
    rec.kind = "error"
    rec.message = type(e) == "table" and inspect(e) or tostring(e)
  end
  for level = 2, 60 do
    local info = debug.getinfo(level, "Sl")
    if not info then break end
    if info.source == FILE_SOURCE and info.currentline and info.currentline > 0 then
      rec.file, rec.line = opts.path, info.currentline
      break
    end
  end
  rec.http = http.last()
  rec.traceback = debug.traceback("", 2)
  return rec
end
fl._on_error = on_error

--- fail(message [, detail]): fail the current test with a one-line message
--- and, optionally, multi-line evidence shown under it in every report
function fl.fail(message, detail)
  error({ fl_fail = true, message = tostring(message), detail = detail }, 0)
end

--- skip(reason): stop the current test and report it skipped
function fl.skip(reason)
  error({ fl_skip = true, reason = reason or "skipped" }, 0)
end

-- --------------------------------------------------------------- concurrency
fl.spawn = core.spawn

-- fl.hist(): an HDR-style latency histogram (faultline.hist, core/hist.h):
-- h:record(seconds), h:percentile(p), h:merge(other); values read back are
-- within 1/128 of those recorded.
function fl.hist() return require("faultline.hist").new() end

-- The one-line progress display of a long workload or experiment (a
-- terminal only; nothing reaches files or pipes). Fields given replace the
-- last call's, so a workload can report ops and a fault schedule its faults:
--   fl.progress{ what = "workload", total = 60, ops = n, errors = e }
--   fl.progress{ faults = 2 }        (what and the clock stay)
--   fl.progress(nil)                 (take it down when done)
-- elapsed defaults to the time since the first call with this `what`.
local progress_state = nil
function fl.progress(p)
  if p == nil then
    progress_state = nil
    core.progress(nil)
    return
  end
  local s = progress_state
  if not s or (p.what and p.what ~= s.what) then
    s = { what = p.what or "running", started = core.now() }
    progress_state = s
  end
  for _, k in ipairs({ "total", "ops", "errors", "faults" }) do
    if p[k] ~= nil then s[k] = p[k] end
  end
  core.progress{ what = s.what, elapsed = p.elapsed or (core.now() - s.started), total = s.total,
                 ops = s.ops, errors = s.errors, faults = s.faults }
end

--- join(task...) -> results of each task's function (raises the first error)
function fl.join(...)
  local results = table.pack(core.join(...))
  local out = {}
  for i = 1, results.n do
    local r = results[i]
    if not r.ok then error(r[1], 0) end
    out[i] = r[1]
  end
  return table.unpack(out, 1, results.n)
end

--- parallel(n, fn) -> { fn(1), ..., fn(n) }: runs fn in n concurrent tasks;
--- HTTP calls and sleeps in one yield to the others. The first error (by
--- client number) is raised after every task has finished.
local function parallel(n, fn)
  assert(math.type(n) == "integer" and n >= 0, "parallel: n must be a non-negative integer")
  assert(type(fn) == "function", "parallel: fn must be a function")
  local tasks = {}
  for i = 1, n do
    tasks[i] = core.spawn(function(k)
      local ok, res = xpcall(fn, on_error, k)
      if not ok then
        if type(res) == "table" and res.fl_record then res.client = res.client or k end
        error(res, 0)
      end
      return res
    end, i)
  end
  if n == 0 then return {} end
  local results = table.pack(core.join(table.unpack(tasks)))
  local out, first_err = {}, nil
  for i = 1, n do
    local r = results[i]
    if r.ok then out[i] = r[1] elseif not first_err then first_err = r[1] end
  end
  if first_err then
    if type(first_err) == "table" and first_err.fl_record then
      first_err.message = first_err.message .. " (in parallel client " .. tostring(first_err.client or "?") .. ")"
    end
    error(first_err, 0)
  end
  return out
end

--- parallel.load{threads = N, clients = C, fn = function(i) ... end} ->
--- { fn(1), ..., fn(C) }: the clients spread over N worker threads, each
--- with its own Lua state and event loop (faultline.load: how fn and its
--- upvalues reach the workers).
fl.parallel = setmetatable({
  load = function(o) return require("faultline.load").parallel(o) end,
  --- worker() -> i, n in worker thread i of n; nil in the main thread
  worker = function() return require("faultline.load").worker() end,
}, { __call = function(_, n, fn) return parallel(n, fn) end })

--- rate{rate = N, duration = s | stages = {{duration =, target =}, ...}, fn =,
--- clients =, thresholds =, name =, allow_miss =} -> result: open-model load
--- at a request rate, latency from the intended send time (faultline.rate).
function fl.rate(o) return require("faultline.rate").run(o) end

--- eventually(fn, {within = 5, every = 0.1}) -> fn's result: retries fn until
--- it returns without raising and does not return false.
function fl.eventually(fn, o)
  o = o or {}
  local within, every = o.within or 5, o.every or 0.1
  local deadline = core.now() + within
  local tries, last = 0, nil
  while true do
    tries = tries + 1
    local ok, res = pcall(fn)
    if ok and res ~= false then return res end
    last = ok and "the condition returned false" or res
    if core.now() >= deadline then break end
    core.sleep(every)
  end
  local msg = type(last) == "table" and (last.message or inspect(last)) or tostring(last)
  error({ fl_fail = true, message = string.format("not satisfied within %g s (%d tries): %s", within, tries, msg),
          expected = type(last) == "table" and last.expected or nil,
          actual = type(last) == "table" and last.actual or nil,
          has_expected = type(last) == "table" and last.has_expected or nil }, 0)
end

-- --------------------------------------------------------------- test tree
local function new_suite(name, parent, o)
  o = o or {}
  local tags = {}
  if parent then for _, t in ipairs(parent.tags) do tags[#tags + 1] = t end end
  for _, t in ipairs(o.tags or {}) do tags[#tags + 1] = t end
  return {
    name = name, parent = parent, children = {}, tags = tags, opts = o,
    setup = {}, teardown = {}, before_each = {}, after_each = {},
    full = (parent and parent.full ~= "" and (parent.full .. " > " .. name)) or name,
  }
end

local root = new_suite("", nil)
local current = root
local current_test = nil

-- The line in the scenario file that declared a test or group (through
-- helper modules such as fl.chaos, too).
local function caller_line()
  for level = 3, 30 do
    local info = debug.getinfo(level, "Sl")
    if not info then break end
    if info.source == FILE_SOURCE then return info.currentline end
  end
  local info = debug.getinfo(3, "Sl")
  return info and info.currentline or 0
end

--- describe(name, [opts,] fn): a group of tests; opts.tags apply to all of them
function fl.describe(name, o, fn)
  if fn == nil then fn, o = o, {} end
  assert(type(name) == "string", "describe: name must be a string")
  assert(type(fn) == "function", "describe: the last argument must be a function")
  local s = new_suite(name, current, o)
  s.line = caller_line()
  current.children[#current.children + 1] = { suite = s }
  local prev = current
  current = s
  local ok, err = pcall(fn)
  current = prev
  if not ok then error(err, 0) end
end

--- it(name, [opts,] fn): a test. opts: tags, timeout (s), skip (reason)
function fl.it(name, o, fn)
  if fn == nil and type(o) == "function" then fn, o = o, {} end
  o = o or {}
  assert(type(name) == "string", "it: name must be a string")
  local tags = {}
  for _, t in ipairs(current.tags) do tags[#tags + 1] = t end
  for _, t in ipairs(o.tags or {}) do tags[#tags + 1] = t end
  current.children[#current.children + 1] = {
    test = { name = name, fn = fn, opts = o, suite = current, tags = tags, line = caller_line() },
  }
end

--- pending(name [, reason]): a test to write later; reported as skipped
function fl.pending(name, reason)
  fl.it(name, { skip = reason or "pending" }, function() end)
end

local function hook(kind)
  return function(fn)
    assert(type(fn) == "function", kind .. ": expected a function")
    local list = current[kind]
    list[#list + 1] = fn
  end
end
fl.before_each, fl.after_each = hook("before_each"), hook("after_each")
fl.setup, fl.teardown = hook("setup"), hook("teardown")

--- defer(fn): run fn when the current test ends, however it ends (LIFO)
--- fl.attach(key, value): data for the running test's report (the JSON
--- journal's "extra"; the HTML page and JUnit show it): "checks" appends a
--- checker result (fl.check does this), "experiment" sets the experiment's
--- journal (fl.chaos does this); other keys are kept as given. Outside a
--- test it does nothing.
function fl.attach(key, value)
  if not current_test then return end
  local x = current_test.extra
  if key == "checks" then
    x.checks = x.checks or {}
    x.checks[#x.checks + 1] = value
  else
    x[key] = value
  end
end

function fl.defer(fn)
  assert(type(fn) == "function", "defer: expected a function")
  if not current_test then error("defer: no test is running", 2) end
  local d = current_test.defers
  d[#d + 1] = fn
end

-- ------------------------------------------------------------------ running
local function selected(t)
  if opts.grep and not core.regex_find(opts.grep, (t.suite.full ~= "" and (t.suite.full .. " > ") or "") .. t.name) then
    return false
  end
  if #opts.tags == 0 then return true end
  local want, has_want = false, false
  for _, tag in ipairs(opts.tags) do
    local neg = tag:sub(1, 1) == "~"
    local name = neg and tag:sub(2) or tag
    local has = false
    for _, tt in ipairs(t.tags) do if tt == name then has = true end end
    if neg and has then return false end
    if not neg then has_want = true; if has then want = true end end
  end
  return want or not has_want
end

local function has_selected(suite)
  for _, c in ipairs(suite.children) do
    if c.test and selected(c.test) then return true end
    if c.suite and has_selected(c.suite) then return true end
  end
  return false
end

local source_cache = {}
local function source_line(file, line)
  local lines = source_cache[file]
  if not lines then
    lines = {}
    local f = io.open(file, "r")
    if f then for l in f:lines() do lines[#lines + 1] = l end f:close() end
    source_cache[file] = lines
  end
  return lines[line]
end

local function clip(s, n)
  s = tostring(s or "")
  if #s > n then return s:sub(1, n) .. string.format(" ...(%d more bytes)", #s - n) end
  return s
end

local function first_line(s)
  s = tostring(s or "")
  return s:match("^[^\n]*")
end

-- The multi-line detail of a failure: location with the source line,
-- expected/actual, the HTTP exchange, the traceback.
local function format_detail(rec)
  local out = {}
  if rec.detail then out[#out + 1] = tostring(rec.detail) end
  if rec.has_expected then
    out[#out + 1] = "expected: " .. inspect(rec.expected)
    out[#out + 1] = "  actual: " .. inspect(rec.actual)
  end
  if rec.file then
    local src = source_line(rec.file, rec.line)
    out[#out + 1] = string.format("  --> %s:%d", rec.file, rec.line)
    if src then out[#out + 1] = string.format("%5d | %s", rec.line, src) end
  end
  local x = rec.http
  if x then
    local line = string.format("HTTP: %s %s -> %s (%.1f ms)", x.method or "?", x.url or "?",
      x.error and ("error: " .. x.error) or tostring(x.status), (x.time or 0) * 1000)
    out[#out + 1] = line
    if x.request_body and x.request_body ~= "" then out[#out + 1] = "  request:  " .. clip(x.request_body, 600) end
    if x.body and x.body ~= "" then out[#out + 1] = "  response: " .. clip(x.body, 600) end
  end
  if rec.cleanup then
    out[#out + 1] = "cleanup also failed: " .. first_line(rec.cleanup)
  end
  if rec.kind == "error" and rec.traceback then
    -- the scenario's frames only: stop where the runner called the test
    local tb = rec.traceback:gsub("\n%s*%[C%]: in function 'xpcall'.*$", "")
    tb = tb:gsub("^\n?stack traceback:", "")
    if tb:find("%S") then out[#out + 1] = "traceback:" .. tb end
  end
  return table.concat(out, "\n")
end


local function report(t, status, rec, started, start_wall, attempts)
  local r = {
    suite = t.suite.full, name = t.name, status = status, tags = t.tags,
    duration = core.now() - started, start_wall = start_wall, retries = attempts,
    extra = t.extra and next(t.extra) and t.extra or nil,
  }
  if status == "skip" then
    r.message = rec
  elseif rec then
    if type(rec) ~= "table" or not rec.fl_record then rec = on_error(rec) end
    r.message = first_line(rec.message)
    r.detail = format_detail(rec)
    r.file, r.line = rec.file or opts.path, rec.line or t.line
  end
  core.report(r)
end

local function suite_chain(suite)
  local chain = {}
  while suite do table.insert(chain, 1, suite); suite = suite.parent end
  return chain
end

local CLEANUP_TIMEOUT = 60

-- One try of a test: before_each hooks and the body under the timeout, then
-- after_each hooks and deferred cleanups in a fresh group, so they run even
-- when the test timed out. Returns the error (or skip record) or nil.
-- Call each function of `fns` with ctx under the error handler, in order
-- (or last first). Stops at the first error unless keep_going; returns the
-- first error record, or nil.
local function call_each(fns, ctx, reverse, keep_going)
  local first
  local from, to, step = 1, #fns, 1
  if reverse then from, to, step = #fns, 1, -1 end
  for i = from, to, step do
    local ok, e = xpcall(fns[i], on_error, ctx)
    if not ok then
      if not keep_going then return e end
      first = first or e
    end
  end
  return first
end

local function try_test(t, chain)
  http.forget()
  local ctx = { name = t.name, suite = t.suite.full, defers = {}, extra = {} }
  t.extra = ctx.extra   -- the last try's parts go with the report
  ctx.defer = function(_, fn) local d = ctx.defers; d[#d + 1] = fn end
  ctx.skip = function(_, reason) fl.skip(reason) end
  current_test = ctx
  local timeout = t.opts.timeout or opts.timeout
  local _, err = core.run_group(function()
    for _, s in ipairs(chain) do
      local e = call_each(s.before_each, ctx)
      if e then return e end
    end
    return call_each({ t.fn }, ctx)
  end, timeout)
  local _, cerr = core.run_group(function()
    -- every cleanup runs, whatever failed before it; the first error is kept
    local first
    for i = #chain, 1, -1 do
      local e = call_each(chain[i].after_each, ctx, false, true)
      first = first or e
    end
    local e = call_each(ctx.defers, ctx, true, true)
    return first or e
  end, CLEANUP_TIMEOUT, true)
  current_test = nil
  if err then
    if cerr then
      if type(err) ~= "table" or not err.fl_record then err = on_error(err) end
      err.cleanup = type(cerr) == "table" and (cerr.message or inspect(cerr)) or tostring(cerr)
    end
    return err
  end
  if cerr and type(cerr) == "table" and cerr.fl_record then
    cerr.message = "cleanup failed: " .. cerr.message
  end
  return cerr
end

local function run_test(t, inherited_err)
  if not selected(t) then return end
  if core.interrupted() then return end
  if core.bailed() then core.not_run(); return end
  local started, start_wall = core.now(), core.wall()
  if t.opts.skip then
    report(t, "skip", t.opts.skip == true and "skipped" or tostring(t.opts.skip), started, start_wall)
    return
  end
  if inherited_err then
    report(t, "fail", inherited_err, started, start_wall)
    return
  end
  local chain = suite_chain(t.suite)
  local retries = t.opts.retries or opts.retries or 0
  local attempts = {}
  while true do
    local try_start = core.now()
    local err = try_test(t, chain)
    if type(err) == "table" and err.fl_skip then
      report(t, "skip", err.reason, started, start_wall, attempts)
      return
    end
    if not err then
      report(t, "pass", nil, started, start_wall, attempts)
      return
    end
    if #attempts >= retries or core.interrupted() then
      report(t, "fail", err, started, start_wall, attempts)
      return
    end
    if type(err) ~= "table" or not err.fl_record then err = on_error(err) end
    attempts[#attempts + 1] = { message = first_line(err.message), detail = format_detail(err),
                                duration = core.now() - try_start }
  end
end

local function run_hooks(list, what)
  if #list == 0 then return nil end
  local _, err = core.run_group(function() return call_each(list) end,
    opts.timeout, what == "teardown")
  if err and type(err) == "table" and err.fl_record then
    err.message = what .. " failed: " .. err.message
  end
  return err
end

-- --bail stopped the run: count the suite's selected tests as not run,
-- without its hooks
local function skip_suite(suite)
  for _, c in ipairs(suite.children) do
    if c.test then
      if selected(c.test) then core.not_run() end
    elseif has_selected(c.suite) then
      skip_suite(c.suite)
    end
  end
end

local function run_suite(suite, inherited_err)
  if not has_selected(suite) then return end
  if core.bailed() then return skip_suite(suite) end
  local err = inherited_err or run_hooks(suite.setup, "setup")
  for _, c in ipairs(suite.children) do
    if core.interrupted() then break end
    if c.test then run_test(c.test, err) else run_suite(c.suite, err) end
  end
  if not inherited_err and not err then
    local terr = run_hooks(suite.teardown, "teardown")
    if terr then
      report({ suite = suite, name = "(teardown)", tags = suite.tags, line = suite.line or 0 },
        "fail", terr, core.now(), core.wall())
    end
  end
end

local globals = { "describe", "it", "pending", "before_each", "after_each", "setup", "teardown" }

--- Called by the runner with the scenario's compiled chunk.
function fl._run_file(chunk, path)
  for _, g in ipairs(globals) do _G[g] = fl[g] end
  _G.expect = fl.expect
  local ok, lerr = core.run_group(function()
    local ok2, e = xpcall(chunk, on_error)
    if not ok2 then return e end
    return nil
  end, 0)
  local err = ok and lerr or (not ok and lerr)
  if err then
    local msg = type(err) == "table" and (err.message or inspect(err)) or tostring(err)
    if type(err) == "table" and err.file and not msg:find(err.file, 1, true) then
      msg = string.format("%s:%d: %s", err.file, err.line, msg)
    end
    local code = (type(err) == "table" and err.http and err.http.error) and 3 or 2
    core.file_error(msg, code)
    return
  end
  run_suite(root, nil)
  local d = fl.history._default
  if d then d:close() end
  fl.history._default = nil
  return path
end

-- Further modules on first use: fl.proxy -> require "faultline.proxy".
return setmetatable(fl, {
  __index = function(t, k)
    if type(k) ~= "string" or k:sub(1, 1) == "_" then return nil end
    local ok, mod = pcall(require, "faultline." .. k)
    if ok then rawset(t, k, mod); return mod end
    if not tostring(mod):find("module 'faultline." .. k .. "' not found", 1, true) then
      error(mod, 2)
    end
    return nil
  end,
})
