# Shared helpers of the benchmarks (sourced by bench/*.sh).
#   stats V...            -> "median M (range MIN-MAX, N rounds)"
#   median V...           -> the median
#   free_port             -> a free TCP port on 127.0.0.1
#   nginx_start DIR       -> starts nginx on loopback serving DIR/www/index.html
#                            (13 bytes), sets NGINX_ADDR and NGINX_PID
#   nginx_stop
# Every comparison runs its rounds alternately (A B A B ...), so drift of a
# noisy machine hits both sides alike; ratios are taken round by round.

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
stats() {
	printf '%s\n' "$@" | sort -g | awk '
		function f(x) { return (x >= 1000 || x <= -1000) ? sprintf("%.0f", x) : sprintf("%.3g", x) }
		{ v[NR] = $1 } END {
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "median %s (range %s to %s, %d rounds)", f(m), f(v[1]), f(v[NR]), NR }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", (b == 0 ? 0 : a / b) }'; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

NGINX_PID=""
nginx_start() { # dir
	command -v nginx >/dev/null 2>&1 || { echo "bench: nginx is not installed (ci/install-deps.sh --bench)"; return 77; }
	_d=$1
	mkdir -p "$_d/www" "$_d/tmp"
	# the workers run as an unprivileged user: the served files must be readable
	chmod a+rx "$_d" "$_d/www" "$(dirname "$_d")"
	printf 'hello world\n\n' >"$_d/www/index.html"
	_p=$(free_port)
	cat >"$_d/nginx.conf" <<NGX
daemon off;
master_process on;
worker_processes auto;
pid $_d/nginx.pid;
error_log $_d/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $_d/tmp; proxy_temp_path $_d/tmp; fastcgi_temp_path $_d/tmp;
  uwsgi_temp_path $_d/tmp; scgi_temp_path $_d/tmp;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:$_p; root $_d/www; location / { } }
}
NGX
	nginx -c "$_d/nginx.conf" -p "$_d" >"$_d/nginx.out" 2>&1 &
	NGINX_PID=$!
	NGINX_ADDR=127.0.0.1:$_p
	_i=0
	until curl -sf "http://$NGINX_ADDR/" >/dev/null 2>&1; do
		_i=$((_i + 1)); [ $_i -lt 100 ] || { echo "bench: nginx did not start"; tail -n 5 "$_d/error.log" "$_d/nginx.out"; return 1; }
		sleep 0.05
	done
}
nginx_stop() { [ -z "$NGINX_PID" ] || { kill "$NGINX_PID" 2>/dev/null; wait "$NGINX_PID" 2>/dev/null || true; NGINX_PID=""; }; }
