-- The orders example: three Python services (standard library only).
--   faultline up examples/orders/topology.lua
-- orders calls payments and inventory, each through a fault-injector link
-- (orders->payments, orders->inventory). ORDERS_BUGS=missing-compensation
-- (or ready-while-draining) in the environment of `faultline up` plants a
-- bug in every service; ORDERS_BREAKER='{"minimum_calls":2,...}' configures
-- orders' circuit breaker (docs/checkers.md keys; orders reads it at start).
return {
  name = "orders",
  services = {
    { name = "payments", command = "python3",
      args = { "services/payments.py", "--host", "{host}", "--port", "{port}", "--data", "{data}/payments" },
      ready = { http = "/readyz" } },
    { name = "inventory", command = "python3",
      args = { "services/inventory.py", "--host", "{host}", "--port", "{port}", "--data", "{data}/inventory" },
      ready = { http = "/readyz" } },
    { name = "orders", command = "python3",
      args = { "services/orders.py", "--host", "{host}", "--port", "{port}", "--data", "{data}/orders" },
      calls = { "payments", "inventory" },
      env = { PAYMENTS_URL = "{link:payments}", INVENTORY_URL = "{link:inventory}" },
      ready = { http = "/readyz" } },
  },
}
