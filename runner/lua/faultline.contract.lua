-- faultline.contract: Pact contracts from scenarios (fl.contract).
--
--   -- provider side: verify a running provider against pacts
--   local res = fl.contract.verify{ pact = "pacts/web-money.json",
--                                   provider = "http://127.0.0.1:8080",
--                                   state_change = "http://127.0.0.1:8080/_state" }
--   -- res = { ok, passed, failed, pending, errors, skipped, results = {...} };
--   -- raises (failing the test) with every mismatch unless raise = false
--
--   -- consumer side: a stub provider answering from pacts or inline interactions
--   local stub = fl.contract.stub{ interactions = {
--     fl.contract.interaction{
--       description = "a member",
--       request  = { method = "GET", path = "/members/42" },
--       response = { status = 200, body = { id = 42, name = "Ann" },
--                    rules = { ["$.name"] = { match = "type" } } },
--     } } }
--   local r = fl.http.get(stub:url("/members/42"))
--   stub:close()   -- also closed when collected
--
--   -- check a response against a pact response (scaffolded tests use this)
--   fl.contract.check(r, { status = 200, body = {...}, matchingRules = {...} })
--
-- docs/contracts.md walks from a capture to a green contract test.
local c = require "faultline.contract_c"

local M = {}

local function fail(message)
  local ok, fl = pcall(require, "faultline")
  if ok and type(fl) == "table" and fl.fail then fl.fail(message) end
  error(message, 3)
end

local function describe_mismatches(list, indent)
  local lines = {}
  for _, m in ipairs(list) do
    lines[#lines + 1] = (indent or "  ") .. (m.path or m.kind or "?") .. ": " .. tostring(m.message)
  end
  return table.concat(lines, "\n")
end
M.describe_mismatches = describe_mismatches

--- check(response, expected) -> response: match an fl.http response against a
--- pact response {status, headers, body, matchingRules | rules, contentType}
--- (a table or its JSON text); fails the test naming every mismatch.
function M.check(r, expected)
  assert(type(r) == "table", "check: the first argument must be an fl.http response")
  if type(expected) == "table" and expected.rules and not expected.matchingRules then
    local e = {}
    for k, v in pairs(expected) do e[k] = v end
    e.matchingRules = { body = e.rules }
    e.rules = nil
    expected = e
  end
  local mismatches = c.match_response(expected, r)
  if #mismatches > 0 then
    fail(("response does not match the contract (%d mismatch%s):\n%s"):format(
      #mismatches, #mismatches == 1 and "" or "es", describe_mismatches(mismatches)))
  end
  return r
end

--- mismatches(response, expected) -> list of {kind, path, expected, actual, message}
function M.mismatches(r, expected)
  return c.match_response(expected, r)
end

--- verify(opts) -> result; raises unless opts.raise == false when not ok
function M.verify(opts)
  assert(type(opts) == "table", "verify: options table expected")
  local res = c.verify(opts)
  if opts.raise ~= false and not res.ok then
    local parts = {}
    if res.error then parts[#parts + 1] = "  " .. res.error end
    for _, r in ipairs(res.results) do
      if (r.status == "fail" or r.status == "error") and not r.pending then
        parts[#parts + 1] = "  " .. r.description .. ":"
        if r.error then parts[#parts + 1] = "    " .. r.error end
        if #r.mismatches > 0 then parts[#parts + 1] = describe_mismatches(r.mismatches, "    ") end
      end
    end
    fail(("provider verification failed: %d passed, %d failed, %d errors\n%s"):format(
      res.passed, res.failed, res.errors, table.concat(parts, "\n")))
  end
  return res
end

--- stub(opts) -> stub (stub:url(path), :port(), :hits(), :misses(), :close())
function M.stub(opts)
  assert(type(opts) == "table", "stub: options table expected")
  local s, err = c.stub(opts)
  if not s then error("contract.stub: " .. tostring(err), 2) end
  local ok, fl = pcall(require, "faultline")
  if ok and type(fl) == "table" and fl.defer then
    pcall(fl.defer, function() s:close() end)
  end
  return s
end

--- interaction{description, given, request, response} -> a pact interaction table
--- request = {method, path, query = {k = v | {v...}}, headers, body, rules}
--- response = {status, headers, body, rules}; rules map body paths to matchers.
function M.interaction(t)
  assert(type(t) == "table", "interaction: table expected")
  assert(type(t.description) == "string", "interaction: description (string) is required")
  local function part(p, is_req)
    p = p or {}
    local out = {}
    if is_req then
      out.method = p.method or "GET"
      out.path = p.path or "/"
      if p.query then
        local q = {}
        for k, v in pairs(p.query) do q[k] = type(v) == "table" and v or { tostring(v) } end
        out.query = q
      end
    else
      out.status = p.status or 200
    end
    out.headers = p.headers
    out.body = p.body
    if p.body ~= nil and type(p.body) == "table" then
      out.headers = out.headers or {}
      local has_ct = false
      for k in pairs(out.headers) do if k:lower() == "content-type" then has_ct = true end end
      if not has_ct then out.headers["Content-Type"] = "application/json" end
    end
    if p.rules then
      local body = {}
      for path, m in pairs(p.rules) do
        body[path] = m.matchers and m or { matchers = { m } }
      end
      out.matchingRules = { body = body }
    end
    return out
  end
  local it = { description = t.description, request = part(t.request, true),
               response = part(t.response, false) }
  if t.given then
    local states = {}
    for _, g in ipairs(type(t.given) == "table" and t.given or { t.given }) do
      states[#states + 1] = type(g) == "table" and g or { name = g }
    end
    it.providerStates = states
  end
  return it
end

--- load(path) -> pact table (V4 form) | nil, message
M.load = c.load

return M
