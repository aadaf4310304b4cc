-- Two hosts for e2e/netns_up.sh: front calls back through the link
-- front->back; each listens on its own address ({host}).
local svc = os.getenv("ROOT") .. "/tests/selftest/up/svc.py"
return {
  name = "netns-pair",
  services = {
    { name = "back", command = "python3", args = { svc, "--host", "{host}", "--port", "{port}" },
      ready = { http = "/readyz" } },
    { name = "front", command = "python3",
      -- PAIR_FAIL_START=1: front exits at once (a failed up must leave no host behind)
      args = { svc, "--host", "{host}", "--port", "{port}", os.getenv("PAIR_FAIL_START") and "--fail-start" or nil },
      calls = { "back" },
      ready = { http = "/readyz" } },
  },
}
