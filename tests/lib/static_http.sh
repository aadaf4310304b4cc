# The loopback HTTP helper server, sourced by the self-tests that send
# requests to it (tests/selftest/*.sh).
#
#   static_http_start   start $FL_TEST_HELPERS/static_http on 127.0.0.1, an
#                       ephemeral port; its output in $T/srv.out. Sets SRV_PID
#                       (the caller stops it by pid) and BASE (http://ADDR).
#                       Waits at most 5 s for it to listen.

static_http_start() {
	"$FL_TEST_HELPERS/static_http" 127.0.0.1:0 >"$T/srv.out" 2>&1 &
	SRV_PID=$!
	i=0; while ! grep -q '^listening' "$T/srv.out" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	BASE="http://$(sed -n 's/^listening \(.*\)/\1/p' "$T/srv.out")"
}
