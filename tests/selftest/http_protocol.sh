#!/bin/sh
# The HTTP layer every faultline server shares (core/http_conn), against the
# real processes: the control API (faultline proxy), the Pact stub
# (faultline contract stub) and a reference service (transferd).
#   - a header block over the 64 KiB cap is 431 JSON, a request line over
#     it 414 JSON (never evhttp's HTML, never a plain 400);
#   - pipelined requests on one connection each keep their method token: a
#     lowercase method behind a first request is that method (the Pact
#     "method is different case" case, on the stub), an extension method
#     (PURGE) reaches the routes by its name.
set -eu
: "${FAULTLINE:=build/faultline}" "${FL_TEST_HELPERS:=build/tests/helpers}"
TRANSFERD=${TRANSFERD:-build/transferd}
[ -x "$TRANSFERD" ] || { echo "skip: no transferd built ($TRANSFERD)"; exit 77; }
A="$FL_TEST_HELPERS/agent_attack"
tmp=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }

wait_line() { # file pattern what
	i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1)); [ $i -lt 200 ] || fail "$3 did not start: $(cat "$1")"; sleep 0.05
	done
}

"$FAULTLINE" proxy --listen 127.0.0.1:0 --log-level error >"$tmp/agent.out" 2>&1 & pids="$pids $!"
cat >"$tmp/pact.json" <<'EOF'
{"consumer": {"name": "web"}, "provider": {"name": "items"},
 "interactions": [{"description": "add an item",
   "request": {"method": "POST", "path": "/items"},
   "response": {"status": 201, "headers": {"Content-Type": "application/json"},
                "body": {"added": true}}}],
 "metadata": {"pactSpecification": {"version": "2.0.0"}}}
EOF
"$FAULTLINE" contract stub "$tmp/pact.json" --listen 127.0.0.1:0 --ready-file "$tmp/stub.ready" \
	>"$tmp/stub.out" 2>&1 & pids="$pids $!"
mkdir "$tmp/ref"
"$TRANSFERD" --service membership --data "$tmp/ref" --port 0 >"$tmp/ref.out" 2>&1 & pids="$pids $!"
wait_line "$tmp/agent.out" "listening on" "agent"
wait_line "$tmp/ref.out" "listening on" "transferd"
i=0
while [ ! -s "$tmp/stub.ready" ]; do
	i=$((i + 1)); [ $i -lt 200 ] || fail "stub did not start: $(cat "$tmp/stub.out")"; sleep 0.05
done
api_port=$(sed -n 's/^faultline proxy: listening on .*:\([0-9]*\)$/\1/p' "$tmp/agent.out")
stub_port=$(sed 's/.*:\([0-9]*\).*/\1/' "$tmp/stub.ready")
ref_port=$(sed -n 's/^transferd membership listening on .*:\([0-9]*\) pid.*/\1/p' "$tmp/ref.out")
[ -n "$api_port" ] && [ -n "$stub_port" ] && [ -n "$ref_port" ] ||
	fail "ports: api=$api_port stub=$stub_port ref=$ref_port"

# $1 = "HTTP/1.1 NNN" wanted, $2 = the JSON status, $3 = what, stdin: the answer
codes() { grep -o 'HTTP/1\.1 [0-9][0-9][0-9]' "$1" | cut -c10-; }
expect_error() {
	cat >"$tmp/answer"
	head -n 1 "$tmp/answer" | grep -q "^$1 " || fail "$3: want $1, got: $(head -c 300 "$tmp/answer")"
	grep -q "application/json" "$tmp/answer" || fail "$3: not JSON: $(head -c 300 "$tmp/answer")"
	grep -q "\"status\":$2" "$tmp/answer" || fail "$3: no status $2: $(head -c 300 "$tmp/answer")"
	if grep -q "<HTML>" "$tmp/answer"; then fail "$3: HTML"; fi
}

big_headers() { # 64 KiB of header lines, over the cap
	printf 'GET / HTTP/1.1\r\nHost: x\r\n'
	n=0
	while [ $n -lt 66 ]; do printf 'X-Filler-%d: %01000d\r\n' $n 0; n=$((n + 1)); done
	printf '\r\n'
}
big_line() { printf 'GET /%070000d HTTP/1.1\r\nHost: x\r\n\r\n' 0; }

for srv in "api $api_port" "stub $stub_port" "ref $ref_port"; do
	set -- $srv
	big_headers | "$A" raw "$2" | expect_error "HTTP/1.1 431" 431 "$1: 66 KiB of headers"
	big_line | "$A" raw "$2" | expect_error "HTTP/1.1 414" 414 "$1: 70 KB request line"
	# one line of 65 KiB
	printf 'GET / HTTP/1.1\r\nX-Big: %066600d\r\n\r\n' 0 | "$A" raw "$2" |
		expect_error "HTTP/1.1 431" 431 "$1: a 65 KiB header line"
done

# the stub: the second, pipelined request says "post"; Pact compares methods
# ignoring case, so it is the interaction
printf 'GET /nothing HTTP/1.1\r\nHost: x\r\n\r\npost /items HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
	"$A" raw "$stub_port" >"$tmp/stub.pipe"
[ "$(codes "$tmp/stub.pipe" | tr '\n' ' ')" = "500 201 " ] ||
	fail "stub: pipelined post not matched: $(cat "$tmp/stub.pipe")"
grep -q '"added": *true' "$tmp/stub.pipe" || fail "stub: no interaction body: $(cat "$tmp/stub.pipe")"
# and an extension method there is a mismatch named by its method, not UNKNOWN
printf 'GET /nothing HTTP/1.1\r\nHost: x\r\n\r\nPURGE /items HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
	"$A" raw "$stub_port" >"$tmp/stub.purge"
[ "$(codes "$tmp/stub.purge" | tr '\n' ' ')" = "500 500 " ] ||
	fail "stub: PURGE: $(cat "$tmp/stub.purge")"
if grep -q UNKNOWN "$tmp/stub.purge"; then fail "stub: PURGE seen as UNKNOWN: $(cat "$tmp/stub.purge")"; fi
grep -q 'no interaction matches PURGE /items' "$tmp/stub.purge" ||
	fail "stub: PURGE not named: $(cat "$tmp/stub.purge")"

# the control API: "post" behind a GET creates a link; PURGE is refused by name
printf 'GET /version HTTP/1.1\r\nHost: x\r\n\r\npost /proxies HTTP/1.1\r\nHost: x\r\nContent-Length: 48\r\n\r\n{"name":"pl","upstream":"127.0.0.1:9","listen":"127.0.0.1:0"}PURGE /proxies HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
	sed 's/Content-Length: 48/Content-Length: 61/' | "$A" raw "$api_port" >"$tmp/api.pipe"
[ "$(codes "$tmp/api.pipe" | tr '\n' ' ')" = "200 201 405 " ] ||
	fail "api: want 200, 201 (post), 405 (PURGE): $(cat "$tmp/api.pipe")"
grep -q 'PURGE /proxies' "$tmp/api.pipe" || fail "api: PURGE not named: $(cat "$tmp/api.pipe")"
curl -sf "http://127.0.0.1:$api_port/proxies/pl" >/dev/null || fail "api: link pl not created"
echo "ok: 431/414 JSON on the API, the stub and transferd; pipelined post/PURGE on the stub and the API"
