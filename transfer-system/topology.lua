-- The reference transfer system as a topology (docs/topology.md): one
-- transferd per service, a fault-injector link on every call between
-- services. `faultline ref up` starts it (the copy built into faultline, or
-- the file named by $FL_REF_TOPOLOGY), passing its options as `...`:
--   transferd  path of transferd (default $TRANSFERD, else transferd in PATH)
--   bugs       planted bug names (--bug), seed (--seed), args (-- ARGS)
--   direct     true: no links, services call each other directly (--direct)
-- Link names are "caller->callee" (remittance->banking, gateway->query, ...).
local p = ... or {}

-- who calls whom; a service starts once everything it calls is ready
local calls = {
  membership = {}, money = {}, extbank = {},
  banking = { "extbank" },
  remittance = { "membership", "money", "banking" },
  query = { "membership", "money", "remittance" },
  gateway = { "membership", "money", "banking", "extbank", "remittance", "query" },
}
local order = { "membership", "money", "extbank", "banking", "remittance", "query", "gateway" }

local services = {}
for _, name in ipairs(order) do
  local args = { "--service", name, "--data", "{data}/" .. name, "--host", "{host}", "--port", "{port}" }
  for _, callee in ipairs(calls[name]) do
    args[#args + 1] = "--peer"
    args[#args + 1] = callee .. "=" .. (p.direct and "{url:" or "{link:") .. callee .. "}"
  end
  for _, bug in ipairs(p.bugs or {}) do
    args[#args + 1] = "--bug"
    args[#args + 1] = bug
  end
  if p.seed then
    args[#args + 1] = "--seed"
    args[#args + 1] = tostring(p.seed)
  end
  for _, a in ipairs(p.args or {}) do args[#args + 1] = a end
  services[#services + 1] = {
    name = name,
    command = p.transferd or os.getenv("TRANSFERD") or "transferd",
    args = args,
    -- direct: the same start order, without links
    calls = not p.direct and calls[name] or nil,
    after = p.direct and calls[name] or nil,
    ready = { http = "/readyz" },
    timeout = 10,
  }
end

return { name = "reference", services = services }
