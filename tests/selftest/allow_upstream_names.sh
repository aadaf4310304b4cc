#!/bin/sh
# --allow-upstream applies to the address a name resolves to, not to its
# spelling: an upstream name the list does not name itself must resolve into
# one of its IP/CIDR entries, checked when the link is made (a 403 JSON
# naming the address, nothing made) and again at every connection (refused
# and logged: links from a config file are checked only there). Resolution
# never blocks the API. Runs in a network and mount namespace of its own
# with its own /etc/hosts and a resolver that never answers (root only):
# the machine's resolver is never asked.
set -eu
: "${FAULTLINE:=build/faultline}" "${FL_TEST_HELPERS:=build/tests/helpers}"
[ "$(id -u)" = 0 ] || { echo "skip: needs root (network namespaces)"; exit 77; }
command -v unshare >/dev/null 2>&1 && command -v ip >/dev/null 2>&1 ||
	{ echo "skip: needs unshare and ip"; exit 77; }
command -v curl >/dev/null 2>&1 || { echo "skip: needs curl"; exit 77; }
unshare -nm true 2>/dev/null || { echo "skip: cannot create namespaces here"; exit 77; }

if [ "${1:-}" != inside ]; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT INT TERM
	cat >"$tmp/hosts" <<'EOF'
127.0.0.1 localhost
127.0.0.1 inside.test selfname.test
10.9.9.9 outside.test
10.9.9.10 listed.test
EOF
	# a resolver on loopback that nobody answers for: names not in hosts
	# fail after the timeout, without any query leaving the namespace
	printf 'nameserver 127.0.0.1\noptions timeout:2 attempts:1\n' >"$tmp/resolv.conf"
	FAULTLINE=$(realpath "$FAULTLINE") FL_TEST_HELPERS=$(realpath "$FL_TEST_HELPERS") \
		unshare -nm sh -c 'mount --bind "$1/hosts" /etc/hosts &&
			mount --bind "$1/resolv.conf" /etc/resolv.conf &&
			ip link set lo up && exec sh "$2" inside "$1"' sh "$tmp" "$(realpath "$0")"
	exit $?
fi

tmp=$2
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM
fail() { echo "FAIL: $*"; [ -f "$tmp/agent.err" ] && tail -5 "$tmp/agent.err"; exit 1; }

"$FL_TEST_HELPERS/proxy_echo" --http >"$tmp/http.port" & pids="$pids $!"
i=0
while [ ! -s "$tmp/http.port" ]; do
	i=$((i + 1)); [ $i -lt 100 ] || fail "echo upstream did not start"; sleep 0.05
done
hp=$(head -n 1 "$tmp/http.port")

# a config link pointing at a name outside the list: made (nothing can be
# resolved while a config loads), refused at every connection
printf '[{"name":"cfg","listen":"127.0.0.1:0","upstream":"outside.test:%s"}]\n' "$hp" >"$tmp/config.json"
"$FAULTLINE" proxy --listen 127.0.0.1:0 --allow-upstream "127.0.0.0/8,listed.test" \
	--config "$tmp/config.json" --log-level warn >"$tmp/agent.out" 2>"$tmp/agent.err" & pids="$pids $!"
i=0
while ! grep -q "listening on" "$tmp/agent.out" 2>/dev/null; do
	i=$((i + 1)); [ $i -lt 100 ] || fail "agent did not start: $(cat "$tmp/agent.err")"; sleep 0.05
done
api=$(sed -n 's/^faultline proxy: listening on //p' "$tmp/agent.out")
aport=${api##*:}

post() { # path body -> "CODE body" into $tmp/r
	curl -s -m 10 -o "$tmp/r.body" -w '%{http_code}' -XPOST "http://$api$1" -d "$2" >"$tmp/r.code" || true
	code=$(cat "$tmp/r.code")
}
link() { printf '{"name":"%s","listen":"127.0.0.1:0","upstream":"%s"}' "$1" "$2"; }
want() { # code what
	[ "$code" = "$1" ] || fail "$2: want $1, got $code: $(cat "$tmp/r.body")"
	case $1 in 4*) grep -q "\"status\": *$1" "$tmp/r.body" || fail "$2: not a JSON error: $(cat "$tmp/r.body")" ;; esac
}

# a name resolving into 127.0.0.0/8: made, and traffic flows
post /proxies "$(link in "inside.test:$hp")"; want 201 "inside.test"
lport=$(sed 's/.*"listen":"127.0.0.1:\([0-9]*\)".*/\1/' "$tmp/r.body")
curl -sf -m 5 "http://127.0.0.1:$lport/through" -o /dev/null || fail "no traffic through inside.test"

# a name resolving outside the list: 403 naming the address, nothing made
post /proxies "$(link out "outside.test:$hp")"; want 403 "outside.test"
grep -q "10.9.9.9" "$tmp/r.body" || fail "outside.test: address not named: $(cat "$tmp/r.body")"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://$api/proxies/out")" = 404 ] || fail "link out was made"
# a name listed by name is trusted wherever it resolves
post /proxies "$(link named "listed.test:$hp")"; want 201 "listed.test"
# a name resolving to the agent's own API (inside the list): a self-loop
post /proxies "$(link self "selfname.test:$aport")"; want 403 "selfname.test"
grep -q "self-loop" "$tmp/r.body" || fail "selfname.test: $(cat "$tmp/r.body")"
# repointing a link at such a name: refused, the link unchanged
post /proxies/in "{\"upstream\":\"outside.test:$hp\"}"; want 403 "repoint in"
curl -s "http://$api/proxies/in" | grep -q "inside.test" || fail "link in was repointed"
# populate: one bad name refuses the whole batch before anything is made
post /populate "[$(link p1 "inside.test:$hp"),$(link p2 "outside.test:$hp")]"; want 403 "populate"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://$api/proxies/p1")" = 404 ] || fail "populate made p1"

# a name that does not resolve: the API keeps answering while it is being
# resolved (2 s timeout), then 403
t0=$(date +%s%N)
post /proxies "$(link nx "nowhere.test:$hp")" &
bg=$!
sleep 0.3
for n in 1 2 3 4 5; do
	s=$(date +%s%N)
	curl -sf -m 2 "http://$api/version" >/dev/null || fail "API did not answer while a name resolves"
	ms=$((($(date +%s%N) - s) / 1000000))
	[ "$ms" -lt 500 ] || fail "API took $ms ms while a name resolves"
done
wait $bg
code=$(cat "$tmp/r.code")
want 403 "nowhere.test"
grep -q "cannot resolve" "$tmp/r.body" || fail "nowhere.test: $(cat "$tmp/r.body")"
took=$((($(date +%s%N) - t0) / 1000000))
[ "$took" -ge 1500 ] || fail "nowhere.test answered in $took ms: was it resolved at all?"

# a client that gives up while its name is being resolved: nothing made,
# the agent unharmed once the answer comes
curl -s -m 0.5 -o /dev/null -XPOST "http://$api/proxies" -d "$(link gone "nowhere2.test:$hp")" || true
sleep 2
curl -sf -m 2 "http://$api/version" >/dev/null || fail "API gone after a client left mid-resolution"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://$api/proxies/gone")" = 404 ] || fail "link gone was made"

# the config link: every connection is refused, logged and recorded
cport=$(curl -s "http://$api/proxies/cfg" | sed 's/.*"listen":"127.0.0.1:\([0-9]*\)".*/\1/')
if curl -sf -m 5 "http://127.0.0.1:$cport/x" -o /dev/null; then fail "cfg link connected outside the list"; fi
grep -q "link cfg: connection refused: upstream outside.test:$hp resolves to 10.9.9.9" "$tmp/agent.err" ||
	fail "refusal not logged: $(cat "$tmp/agent.err")"
curl -s "http://$api/proxies/cfg/events?event=upstream_error" | grep -q "allow-upstream" ||
	fail "no upstream_error event: $(curl -s "http://$api/proxies/cfg/events")"
echo "ok: names checked by the address they resolve to, at creation and at connect"
