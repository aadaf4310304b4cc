#!/bin/sh
# TLS end to end, with a CA and certificates made here with openssl: the
# proxy's control API over HTTPS (--tls-cert/--tls-key) and with mutual TLS
# (--tls-client-ca refuses a client without a certificate); fl.http with
# cacert=, insecure=, cert=/key=, a wrong CA and no CA (clear errors), and an
# unknown option (an error naming it); fl.proxy.agent over https; the CLI
# clients with --cacert/--cert/--key (contract record with a token, contract
# verify, probe, run's defaults for fl.http); a plain-HTTP request to the
# TLS port fails without harming the server; bad TLS flags exit 2; the
# agent (faultline agent --no-host) over mutual TLS. Tokens: chaos takes
# --token-file/--token/FAULTLINE_TOKEN (never leaving the token on its
# command line), and `faultline up` under FAULTLINE_TOKEN starts its agent
# with that token and creates its links with it.
set -eu
: "${FAULTLINE:=build/faultline}"
command -v openssl >/dev/null 2>&1 || { echo "skip: openssl is not installed"; exit 77; }
command -v curl >/dev/null 2>&1 || { echo "skip: curl is not installed"; exit 77; }
tmp=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }

# --- a CA, a server certificate for 127.0.0.1, a client certificate, and a
# second CA that signed neither
cd "$tmp"
mkca() { # name
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.pem" -days 2 \
		-subj "/CN=faultline test $1" 2>/dev/null
}
mkcert() { # name cn ext-line
	openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$2" 2>/dev/null
	printf '%s\n' "$3" >"$1.ext"
	openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$1.pem" \
		-days 2 -extfile "$1.ext" 2>/dev/null
}
mkca ca
mkca otherca
mkcert srv localhost "subjectAltName=DNS:localhost,IP:127.0.0.1"
mkcert cli client "extendedKeyUsage=clientAuth"
cd - >/dev/null

start_proxy() { # out-file args...; sets api and last_pid (FL_CMD=agent: the agent)
	out=$1; shift
	"$FAULTLINE" "${FL_CMD:-proxy}" --listen 127.0.0.1:0 "$@" >"$out" 2>"$out.err" &
	last_pid=$!
	pids="$pids $last_pid"
	i=0
	while ! grep -q "listening on" "$out" 2>/dev/null; do
		i=$((i + 1)); [ $i -lt 100 ] || fail "proxy did not start: $(cat "$out.err")"
		sleep 0.05
	done
	api=$(sed -n 's/^faultline [a-z]*: listening on //p' "$out")
}
code() { curl -s -o /dev/null -w '%{http_code}' "$@" || true; }

# --- bad TLS flags: exit 2 with the reason
rc=0; "$FAULTLINE" proxy --listen 127.0.0.1:0 --tls-cert "$tmp/srv.pem" 2>"$tmp/e" || rc=$?
[ $rc -eq 2 ] && grep -q -- "--tls-key" "$tmp/e" || fail "cert without key: exit $rc: $(cat "$tmp/e")"
rc=0; "$FAULTLINE" proxy --listen 127.0.0.1:0 --tls-cert "$tmp/srv.pem" --tls-key "$tmp/cli.key" \
	2>"$tmp/e" || rc=$?
[ $rc -eq 2 ] && grep -q "does not match" "$tmp/e" || fail "mismatched key: exit $rc: $(cat "$tmp/e")"
rc=0; "$FAULTLINE" proxy --listen 127.0.0.1:0 --tls-cert "$tmp/nope.pem" --tls-key "$tmp/srv.key" \
	2>"$tmp/e" || rc=$?
[ $rc -eq 2 ] && grep -q "nope.pem" "$tmp/e" || fail "missing cert: exit $rc: $(cat "$tmp/e")"

# --- HTTPS, no client certificates asked
start_proxy "$tmp/p1.out" --tls-cert "$tmp/srv.pem" --tls-key "$tmp/srv.key"
p1=$last_pid
[ "$(code --cacert "$tmp/ca.pem" "https://$api/version")" = 200 ] || fail "https with the CA"
[ "$(code --cacert "$tmp/otherca.pem" "https://$api/version")" = 000 ] || fail "wrong CA accepted"
# plain HTTP to the TLS port: no answer, connection closed, the server unharmed
rc=0; curl -s -m 5 "http://$api/version" >"$tmp/plain" 2>&1 || rc=$?
[ $rc -ne 0 ] && [ $rc -ne 28 ] || fail "plain HTTP to the TLS port: curl exit $rc"
grep -q version "$tmp/plain" && fail "plain HTTP was answered"
kill -0 "$p1" || fail "proxy died after a plain-HTTP request"
[ "$(code --cacert "$tmp/ca.pem" "https://$api/version")" = 200 ] || fail "https after plain HTTP"
curl -s --cacert "$tmp/ca.pem" -X POST "https://$api/proxies" \
	-d '{"name":"web","listen":"127.0.0.1:0","upstream":"127.0.0.1:9","http":true}' >/dev/null

# fl.http against it
cat >"$tmp/tls_http.lua" <<'EOF'
local fl = require "faultline"
local base, dir = fl.env.BASE, fl.env.DIR

it("trusts a private CA with cacert=", function()
  local r = fl.http.get(base .. "/version", { cacert = dir .. "/ca.pem" })
  expect(r.status).to_be(200)
  expect(r.json.version).to_be_truthy()
end)

it("skips verification with insecure=true", function()
  expect(fl.http.get(base .. "/version", { insecure = true }).status).to_be(200)
end)

it("fails clearly without the CA or with another", function()
  local r = fl.http.get(base .. "/version", { raise = false })
  expect(r.status).to_be(0)
  expect(r.error).to_contain("TLS")
  expect(r.error).to_contain("certificate")
  local ok, err = pcall(fl.http.get, base .. "/version", { cacert = dir .. "/otherca.pem" })
  expect(ok).to_be(false)
  expect(tostring(err)).to_contain("TLS with 127.0.0.1")
end)

it("refuses unknown options, naming them", function()
  local ok, err = pcall(fl.http.get, base .. "/version", { cacerts = dir .. "/ca.pem" })
  expect(ok).to_be(false)
  expect(tostring(err)).to_contain("unknown option 'cacerts'")
  ok, err = pcall(fl.http.request, { url = base .. "/version", insecure = "yes" })
  expect(ok).to_be(false)
  expect(tostring(err)).to_contain("insecure: expected a boolean")
  ok, err = pcall(fl.http.get, base .. "/version", { key = dir .. "/cli.key" })
  expect(ok).to_be(false)
  expect(tostring(err)).to_contain("cert=")
end)

it("reaches an agent over https with fl.proxy.agent", function()
  local a = fl.proxy.agent(base, { cacert = dir .. "/ca.pem" })
  expect(a:version()).to_be_truthy()
  expect(a:link("web"):info().upstream).to_be("127.0.0.1:9")
end)
EOF
"$FAULTLINE" run "$tmp/tls_http.lua" -e "BASE=https://$api" -e "DIR=$tmp" >"$tmp/run1.out" 2>&1 ||
	{ cat "$tmp/run1.out"; fail "fl.http over TLS"; }

# run's --cacert is fl.http's default
cat >"$tmp/tls_default.lua" <<'EOF'
local fl = require "faultline"
it("uses the command's --cacert", function()
  expect(fl.http.get(fl.env.BASE .. "/version").status).to_be(200)
end)
EOF
"$FAULTLINE" run "$tmp/tls_default.lua" -e "BASE=https://$api" --cacert "$tmp/ca.pem" \
	>"$tmp/run2.out" 2>&1 || { cat "$tmp/run2.out"; fail "run --cacert"; }
rc=0; "$FAULTLINE" run "$tmp/tls_default.lua" -e "BASE=https://$api" >"$tmp/run3.out" 2>&1 || rc=$?
[ $rc -eq 1 ] || { cat "$tmp/run3.out"; fail "run without --cacert: exit $rc, want 1"; }
rc=0; "$FAULTLINE" run "$tmp/tls_default.lua" --key "$tmp/cli.key" 2>"$tmp/e" || rc=$?
[ $rc -eq 2 ] && grep -q -- "--key needs --cert" "$tmp/e" || fail "run --key alone: exit $rc"

# probe
"$FAULTLINE" probe "https://$api/version" --kind liveness --period 0.2 --duration 1 \
	--cacert "$tmp/ca.pem" >"$tmp/probe.out" 2>&1 || { cat "$tmp/probe.out"; fail "probe --cacert"; }
rc=0; "$FAULTLINE" probe "https://$api/version" --kind liveness --period 0.2 --duration 1 \
	--failure-threshold 1 >"$tmp/probe2.out" 2>&1 || rc=$?
[ $rc -ne 0 ] || { cat "$tmp/probe2.out"; fail "probe without the CA passed"; }

# contract verify against the API as a provider
cat >"$tmp/pact.json" <<'EOF'
{"consumer":{"name":"ops"},"provider":{"name":"agent"},
 "interactions":[{"description":"the version","request":{"method":"GET","path":"/version"},
  "response":{"status":200,"body":{"version":"1.0.0"},
   "matchingRules":{"body":{"$.version":{"matchers":[{"match":"type"}]}}}}}],
 "metadata":{"pactSpecification":{"version":"3.0.0"}}}
EOF
"$FAULTLINE" contract verify "$tmp/pact.json" --provider-url "https://$api" --cacert "$tmp/ca.pem" \
	>"$tmp/verify.out" 2>&1 || { cat "$tmp/verify.out"; fail "contract verify --cacert"; }
rc=0; "$FAULTLINE" contract verify "$tmp/pact.json" --provider-url "https://$api" \
	>"$tmp/verify2.out" 2>&1 || rc=$?
[ $rc -ne 0 ] && grep -q "TLS" "$tmp/verify2.out" || { cat "$tmp/verify2.out"; fail "verify without CA: exit $rc"; }
kill "$p1"; wait "$p1" 2>/dev/null || true

# --- mutual TLS and a token
printf 'tls-s3cret\n' >"$tmp/token"
start_proxy "$tmp/p2.out" --tls-cert "$tmp/srv.pem" --tls-key "$tmp/srv.key" \
	--tls-client-ca "$tmp/ca.pem" --token-file "$tmp/token"
[ "$(code --cacert "$tmp/ca.pem" --cert "$tmp/cli.pem" --key "$tmp/cli.key" \
	-H 'Authorization: Bearer tls-s3cret' "https://$api/version")" = 200 ] || fail "mTLS with a client cert"
[ "$(code --cacert "$tmp/ca.pem" -H 'Authorization: Bearer tls-s3cret' "https://$api/version")" = 000 ] ||
	fail "mTLS: a client without a certificate was served"
[ "$(code --cacert "$tmp/ca.pem" --cert "$tmp/cli.pem" --key "$tmp/cli.key" "https://$api/version")" = 401 ] ||
	fail "mTLS: no token, no 401"

cat >"$tmp/tls_mtls.lua" <<'EOF'
local fl = require "faultline"
local base, dir = fl.env.BASE, fl.env.DIR
local auth = { Authorization = "Bearer tls-s3cret" }
it("presents a client certificate with cert= and key=", function()
  local r = fl.http.get(base .. "/version", { cacert = dir .. "/ca.pem", headers = auth,
    cert = dir .. "/cli.pem", key = dir .. "/cli.key" })
  expect(r.status).to_be(200)
end)
it("is refused without one", function()
  local r = fl.http.get(base .. "/version", { cacert = dir .. "/ca.pem", headers = auth,
    raise = false })
  expect(r.status).to_be(0)
  expect(r.error).to_be_truthy()
end)
it("passes token and certificates on with fl.proxy.agent", function()
  local a = fl.proxy.agent(base, { token = "tls-s3cret", cacert = dir .. "/ca.pem",
    cert = dir .. "/cli.pem", key = dir .. "/cli.key" })
  expect(a:version()).to_be_truthy()
  expect(type(a:links())).to_be("table")
end)
EOF
"$FAULTLINE" run "$tmp/tls_mtls.lua" -e "BASE=https://$api" -e "DIR=$tmp" >"$tmp/run4.out" 2>&1 ||
	{ cat "$tmp/run4.out"; fail "fl.http with mutual TLS"; }

# contract record: the token from --token-file, FAULTLINE_TOKEN or --token; the client cert
rec() { "$FAULTLINE" contract record --proxy "https://$api" -o "$tmp/rec.jsonl" --cacert "$tmp/ca.pem" "$@"; }
rec --cert "$tmp/cli.pem" --key "$tmp/cli.key" --token-file "$tmp/token" 2>"$tmp/rec.err" ||
	fail "record --token-file: $(cat "$tmp/rec.err")"
FAULTLINE_TOKEN=tls-s3cret rec --cert "$tmp/cli.pem" --key "$tmp/cli.key" 2>"$tmp/rec.err" ||
	fail "record FAULTLINE_TOKEN: $(cat "$tmp/rec.err")"
rec --cert "$tmp/cli.pem" --key "$tmp/cli.key" --token tls-s3cret 2>"$tmp/rec.err" ||
	fail "record --token: $(cat "$tmp/rec.err")"
rc=0; env -u FAULTLINE_TOKEN -u FAULTLINE_PROXY_TOKEN "$FAULTLINE" contract record \
	--proxy "https://$api" -o "$tmp/rec.jsonl" --cacert "$tmp/ca.pem" \
	--cert "$tmp/cli.pem" --key "$tmp/cli.key" 2>"$tmp/rec.err" || rc=$?
[ $rc -eq 3 ] && grep -q 401 "$tmp/rec.err" || fail "record without a token: exit $rc: $(cat "$tmp/rec.err")"
rc=0; rec --token-file "$tmp/token" 2>"$tmp/rec.err" || rc=$?
[ $rc -eq 3 ] || fail "record without a client cert: exit $rc: $(cat "$tmp/rec.err")"

# chaos: the token from --token-file (never on its command line), --token or
# FAULTLINE_TOKEN reaches fl.proxy
cat >"$tmp/chaos_token.lua" <<'EOF'
local fl = require "faultline"
local dir = fl.env.DIR
local a = fl.proxy.agent(fl.env.BASE, { cacert = dir .. "/ca.pem", cert = dir .. "/cli.pem",
  key = dir .. "/cli.key" })
local function cmdline_has_token()
  local f = assert(io.open("/proc/self/cmdline", "rb"))
  local s = f:read("a")
  f:close()
  return s:find("tls-s3cret", 1, true) ~= nil
end
fl.chaos.experiment {
  title = "an agent behind a token",
  steady_state = {
    { name = "the agent answers", tolerance = true, probe = function() return a:version() ~= nil end },
    { name = "the token is on the command line", tolerance = fl.env.CMDLINE == "yes",
      probe = cmdline_has_token },
  },
  method = {
    { name = "a link and a fault", action = function()
        a:create{ name = "tok", listen = "127.0.0.1:0", upstream = "127.0.0.1:9" }
        a:link("tok"):toxic{ type = "latency", latency = 10 }
      end },
  },
  rollbacks = { { name = "remove it", action = function() a:link("tok"):delete(true) end } },
}
EOF
chaos() { env -u FAULTLINE_TOKEN -u FAULTLINE_PROXY_TOKEN "$FAULTLINE" chaos "$tmp/chaos_token.lua" \
	-e "BASE=https://$api" -e "DIR=$tmp" --journal "$tmp/journal.json" "$@"; }
chaos --token-file "$tmp/token" -e CMDLINE=no >"$tmp/chaos1.out" 2>&1 || { cat "$tmp/chaos1.out"; fail "chaos --token-file"; }
grep -q '"status": *"completed"' "$tmp/journal.json" || fail "chaos --token-file: $(cat "$tmp/journal.json")"
FAULTLINE_TOKEN=tls-s3cret "$FAULTLINE" chaos "$tmp/chaos_token.lua" -e "BASE=https://$api" -e "DIR=$tmp" -e CMDLINE=no \
	>"$tmp/chaos2.out" 2>&1 || { cat "$tmp/chaos2.out"; fail "chaos with FAULTLINE_TOKEN"; }
rc=0; chaos --token tls-s3cret -e CMDLINE=yes >"$tmp/chaos3.out" 2>&1 || rc=$?
[ $rc -eq 0 ] || { cat "$tmp/chaos3.out"; fail "chaos --token: exit $rc"; }
rc=0; chaos -e CMDLINE=no >"$tmp/chaos4.out" 2>&1 || rc=$?
[ $rc -eq 1 ] && grep -q 401 "$tmp/chaos4.out" || { cat "$tmp/chaos4.out"; fail "chaos without a token: exit $rc"; }
rc=0; chaos --token x --token-file "$tmp/token" 2>"$tmp/e" || rc=$?
[ $rc -eq 2 ] && grep -q "give one" "$tmp/e" || fail "chaos --token and --token-file: exit $rc"
rc=0; chaos --token-file "$tmp/no-such-token" 2>"$tmp/e" || rc=$?
[ $rc -eq 2 ] && grep -q "no-such-token" "$tmp/e" || fail "chaos --token-file missing: exit $rc: $(cat "$tmp/e")"

# --- the launcher: with the operator's token in the environment, the agent
# it starts takes it (inherited, not on its command line) and the launcher
# creates the links with it
if command -v python3 >/dev/null 2>&1; then
	cp "$(dirname "$0")/up/pair.lua" "$(dirname "$0")/up/svc.py" "$tmp/"
	FAULTLINE_TOKEN=up-s3cret "$FAULTLINE" up "$tmp/pair.lua" --data "$tmp/sys" >"$tmp/up.out" 2>&1 ||
		{ cat "$tmp/up.out"; fail "up with FAULTLINE_TOKEN"; }
	uapi=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['proxy']['api'])" "$tmp/sys/topology.json")
	upid=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['proxy']['pid'])" "$tmp/sys/topology.json")
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$uapi/proxies")" = 401 ] || fail "up: agent without the token"
	[ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer up-s3cret' "$uapi/proxies")" = 200 ] ||
		fail "up: agent refuses the operator's token"
	if tr '\0' ' ' <"/proc/$upid/cmdline" | grep -q up-s3cret; then fail "up: token on the agent's command line"; fi
	"$FAULTLINE" down --data "$tmp/sys" >/dev/null 2>&1 || fail "down"
fi

# --- the agent serves its API (proxy and /healthz) over TLS the same way
FL_CMD=agent start_proxy "$tmp/a.out" --no-host --tls-cert "$tmp/srv.pem" --tls-key "$tmp/srv.key" \
	--tls-client-ca "$tmp/ca.pem"
[ "$(code --cacert "$tmp/ca.pem" --cert "$tmp/cli.pem" --key "$tmp/cli.key" "https://$api/healthz")" = 200 ] ||
	fail "agent over mutual TLS"
[ "$(code --cacert "$tmp/ca.pem" "https://$api/healthz")" = 000 ] || fail "agent: a client without a certificate was served"
rc=0; "$FAULTLINE" agent --no-host --listen 127.0.0.1:0 --tls-key "$tmp/srv.key" 2>"$tmp/e" || rc=$?
[ $rc -eq 2 ] || fail "agent key without cert: exit $rc"
grep -h "passed" "$tmp"/run*.out; echo "ok"
