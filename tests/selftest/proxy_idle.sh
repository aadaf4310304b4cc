#!/bin/sh
# An idle proxy gives its event ring back. A real `faultline proxy` with 50
# links carries 40 connections on each (80 events per link), then the
# traffic stops: once the links are idle, the process's RSS (/proc) must be
# back within what the recorded events take as text (plus a fixed 1 MB),
# not a ring of JSON objects per link. The events stay readable, in order,
# with ?since= and ?event=, and new traffic after the idle spell appends to
# them.
set -eu
: "${FAULTLINE:=build/faultline}" "${FL_TEST_HELPERS:=build/tests/helpers}"
command -v python3 >/dev/null 2>&1 || { echo "skip: python3 is not installed"; exit 77; }
tmp=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }
wait_file() { i=0; while [ ! -s "$1" ]; do i=$((i+1)); [ $i -lt 200 ] || fail "timeout waiting for $1"; sleep 0.05; done; }

"$FAULTLINE" proxy --listen 127.0.0.1:0 --log-level warn >"$tmp/api.out" 2>"$tmp/api.err" & FPID=$!
pids="$pids $FPID"
"$FL_TEST_HELPERS/proxy_echo" >"$tmp/echo.port" & pids="$pids $!"
wait_file "$tmp/echo.port"
i=0
while ! grep -q "listening on" "$tmp/api.out" 2>/dev/null; do
	i=$((i + 1)); [ $i -lt 200 ] || fail "no startup line"; sleep 0.05
done
API=$(sed -n 's/^faultline proxy: listening on //p' "$tmp/api.out")
EP=$(cat "$tmp/echo.port")
rss() { awk '/VmRSS/ {print $2}' "/proc/$FPID/status"; }

# drive OP ARGS: links over the API, traffic through them, their events
drive() {
	python3 - "$API" "$EP" "$@" <<'PY'
import http.client, json, socket, sys
api, ep, op = sys.argv[1], sys.argv[2], sys.argv[3]
h, p = api.rsplit(":", 1)
c = http.client.HTTPConnection(h, int(p), timeout=10)
def call(method, path, body=None):
    c.request(method, path, body)
    r = c.getresponse(); data = r.read()
    if r.status >= 300:
        sys.exit("%s %s: HTTP %d %s" % (method, path, r.status, data[:200]))
    return json.loads(data) if data else None
def ports(tag, n):
    return [int(call("GET", "/proxies/%s%d" % (tag, i))["listen"].rsplit(":", 1)[1]) for i in range(n)]
if op == "create":
    tag, n = sys.argv[4], int(sys.argv[5])
    for i in range(n):
        call("POST", "/proxies", json.dumps({"name": "%s%d" % (tag, i), "upstream": "127.0.0.1:" + ep,
                                             "listen": "127.0.0.1:0"}))
elif op == "traffic":
    tag, n, conns = sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
    for port in ports(tag, n):
        for _ in range(conns):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(b"x" * 64)
            got = b""
            while len(got) < 64:
                b = s.recv(64 - len(got))
                if not b:
                    sys.exit("echo closed early")
                got += b
            s.close()
elif op == "textbytes":  # what the kept events take as JSON text, all links
    tag, n = sys.argv[4], int(sys.argv[5])
    print(sum(len(json.dumps(e, separators=(",", ":"))) + 40
              for i in range(n) for e in call("GET", "/proxies/%s%d/events" % (tag, i))))
elif op == "events":  # one link's events: "N first_seq last_seq contiguous kinds..."
    name, q = sys.argv[4], sys.argv[5] if len(sys.argv) > 5 else ""
    ev = call("GET", "/proxies/%s/events%s" % (name, q))
    seqs = [e["seq"] for e in ev]
    ok = seqs == list(range(seqs[0], seqs[0] + len(seqs))) if seqs else True
    kinds = sorted(set(e["event"] for e in ev))
    print(len(ev), seqs[0] if seqs else 0, seqs[-1] if seqs else 0, int(ok), " ".join(kinds))
PY
}

N=50 CONNS=40
# a warm-up link, so the API's and the first connection's one-time
# allocations are not counted, then the links, idle and never used
drive create warm 1
drive traffic warm 1 5
drive create l "$N"
sleep 1.5
base=$(rss)
# the traffic, then nothing
drive traffic l "$N" "$CONNS"
busy=$(rss)
# idle after 1 s without a connection or an event; allow the trim to run
i=0 idle=$busy prev=0
while [ $i -lt 40 ]; do
	sleep 0.25
	idle=$(rss)
	[ "$idle" != "$prev" ] || [ $i -lt 8 ] || break
	prev=$idle i=$((i + 1))
done
text=$(( $(drive textbytes l "$N") / 1024 ))
echo "RSS: $base KB idle before, $busy KB after the traffic, $idle KB once idle;" \
	"the kept events as text: $text KB ($N links, $((N * CONNS * 2)) events)"
# (under sanitizers the allocator keeps freed memory in quarantine: RSS
# says nothing there, the rest of the test still runs)
if [ -z "${SANITIZE:-}" ]; then
	[ $((idle - base)) -le $((text + 1024)) ] ||
		fail "idle links keep $((idle - base)) KB over the baseline, the events' text is $text KB"
fi

# the events survive compaction: all 80, contiguous, both kinds
set -- $(drive events l7)
[ "$1" = $((CONNS * 2)) ] && [ "$4" = 1 ] || fail "events of l7 after idle: $*"
[ "$5 $6" = "connection_close connection_open" ] || fail "event kinds of l7: $*"
set -- $(drive events l7 "?event=connection_close")
[ "$1" = "$CONNS" ] || fail "?event=connection_close after idle: $*"
last=$(drive events l7 | cut -d' ' -f3)
set -- $(drive events l7 "?since=$((last - 3))&limit=2")
[ "$1" = 2 ] && [ "$2" = $((last - 2)) ] || fail "?since=&limit= after idle: $*"
# new traffic appends after the compacted events, seq continuing
drive traffic l 8 2
set -- $(drive events l7)
[ "$1" = $((CONNS * 2 + 4)) ] && [ "$4" = 1 ] && [ "$3" = $((last + 4)) ] ||
	fail "events of l7 after more traffic: $*"
echo "ok"
