# Starts the examples/orders system by hand until `faultline up` starts it:
# a fault-injector agent, payments and inventory, a link on each edge of
# orders (orders->payments, orders->inventory), then orders; writes
# DATA/topology.json in the shape fl.ref.system() reads (services with url
# and pid, links, proxy.api). Sourced by e2e/examples_orders.sh.
#   orders_up DATA [SERVICE ARGS...]     (ORDERS_BUGS in the environment plants bugs)
#   orders_down DATA
_orders_port() { # logfile -> the port the service printed
	i=0
	while [ $i -lt 100 ]; do
		p=$(sed -n 's/.*listening on [0-9.]*:\([0-9]*\).*/\1/p' "$1" 2>/dev/null | head -1)
		[ -n "$p" ] && { echo "$p"; return 0; }
		i=$((i + 1)); sleep 0.1
	done
	echo "orders_up: no port in $1:" >&2; tail -5 "$1" >&2; return 1
}
_orders_ready() { # url
	i=0
	while [ $i -lt 100 ]; do
		curl -sf -o /dev/null "$1/readyz" && return 0
		i=$((i + 1)); sleep 0.1
	done
	echo "orders_up: $1 never ready" >&2; return 1
}
orders_up() {
	d=$1; shift
	svc="$ROOT/examples/orders/services"
	mkdir -p "$d"
	"$FAULTLINE" proxy --listen 127.0.0.1:0 > "$d/proxy.log" 2>&1 &
	echo $! > "$d/proxy.pid"
	api="http://127.0.0.1:$(_orders_port "$d/proxy.log")"
	for _os in payments inventory; do
		python3 "$svc/$_os.py" --port 0 --data "$d/$_os" "$@" > "$d/$_os.log" 2>&1 &
		echo $! > "$d/$_os.pid"
	done
	pp=$(_orders_port "$d/payments.log"); ip=$(_orders_port "$d/inventory.log")
	for l in "payments $pp" "inventory $ip"; do
		_on=${l% *}; _op=${l#* }
		curl -sf "$api/proxies" -d "{\"name\":\"orders->$_on\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"127.0.0.1:$_op\"}" \
			| sed -n 's/.*"listen":"127.0.0.1:\([0-9]*\)".*/\1/p' > "$d/link-$_on.port"
	done
	lp=$(cat "$d/link-payments.port"); li=$(cat "$d/link-inventory.port")
	PAYMENTS_URL="http://127.0.0.1:$lp" INVENTORY_URL="http://127.0.0.1:$li" \
		python3 "$svc/orders.py" --port 0 --data "$d/orders" "$@" > "$d/orders.log" 2>&1 &
	echo $! > "$d/orders.pid"
	op=$(_orders_port "$d/orders.log")
	cat > "$d/topology.json" <<JSON
{"name":"orders","data":"$d","proxy":{"api":"$api","pid":$(cat "$d/proxy.pid")},
 "services":{
  "payments":{"url":"http://127.0.0.1:$pp","port":$pp,"pid":$(cat "$d/payments.pid"),"log":"$d/payments.log"},
  "inventory":{"url":"http://127.0.0.1:$ip","port":$ip,"pid":$(cat "$d/inventory.pid"),"log":"$d/inventory.log"},
  "orders":{"url":"http://127.0.0.1:$op","port":$op,"pid":$(cat "$d/orders.pid"),"log":"$d/orders.log"}},
 "links":{
  "orders->payments":{"listen":"127.0.0.1:$lp","upstream":"127.0.0.1:$pp","from":"orders","to":"payments"},
  "orders->inventory":{"listen":"127.0.0.1:$li","upstream":"127.0.0.1:$ip","from":"orders","to":"inventory"}}}
JSON
	for p in $pp $ip $op; do _orders_ready "http://127.0.0.1:$p" || return 1; done
}
orders_down() {
	d=$1
	for _os in orders payments inventory proxy; do
		[ -f "$d/$_os.pid" ] || continue
		pid=$(cat "$d/$_os.pid")
		kill "$pid" 2>/dev/null || true
	done
	for _os in orders payments inventory proxy; do
		[ -f "$d/$_os.pid" ] || continue
		pid=$(cat "$d/$_os.pid"); i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		kill -9 "$pid" 2>/dev/null || true
		rm -f "$d/$_os.pid"
	done
}
