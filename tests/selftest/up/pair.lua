-- Two services from svc.py: front calls back through the link front->back.
return {
  name = "pair",
  services = {
    { name = "back", command = "python3", args = { "svc.py", "--port", "{port}" },
      ready = { http = "/readyz" } },
    { name = "front", command = "python3", args = { "svc.py", "--port", "{port}" },
      calls = { "back" },
      env = { BACK_URL = "{link:back}", DATA = "{data}/front" },
      ready = { http = "/readyz" }, timeout = 10 },
  },
}
