# Test hosts in network namespaces, sourced by the root-only drivers
# (tests/selftest/agent_*.sh, e2e/netns_*.sh).
#
#   netns_setup N     N hosts: namespaces ${NS_PREFIX}h1..hN, each with eth0 on a
#                     veth to a bridge that lives in a namespace of its own
#                     (${NS_PREFIX}hub); addresses from a 10.x.y.0/24 range
#                     picked here, used inside these namespaces only.
#                     Sets NS_1.., ADDR_1.., SUBNET.
#   netns_cleanup     delete every namespace netns_setup made.
#   netns_need_root   exit 77 unless root with ip and nft available.
#   netns_need_up [python3]
#                     netns_need_root, and FAULTLINE (default $ROOT/build/faultline)
#                     built, and python3 when asked: what the `up --netns`
#                     drivers need; exit 77 otherwise.
#
# Nothing is added to the caller's own namespace.

netns_need_root() {
	if [ "$(id -u)" != 0 ]; then echo "skip: needs root (network namespaces)"; exit 77; fi
	command -v ip >/dev/null 2>&1 || { echo "skip: no ip (iproute2)"; exit 77; }
	command -v nft >/dev/null 2>&1 || { echo "skip: no nft (nftables)"; exit 77; }
	ip netns add "fl$$probe" 2>/dev/null || { echo "skip: cannot create network namespaces here"; exit 77; }
	ip netns del "fl$$probe"
}

netns_need_up() {
	netns_need_root
	FAULTLINE=${FAULTLINE:-$ROOT/build/faultline}
	[ -x "$FAULTLINE" ] || { echo "faultline not built ($FAULTLINE)"; exit 77; }
	if [ "${1:-}" = python3 ]; then
		command -v python3 >/dev/null 2>&1 || { echo "skip: no python3"; exit 77; }
	fi
}

netns_setup() {
	NS_PREFIX=${NS_PREFIX:-fl$$}
	NS_COUNT=$1
	# a /24 unlikely to collide with anything, chosen per run
	SUBNET="10.$((200 + $$ % 50)).$(( ($$ / 50) % 250 ))"
	ip netns add "${NS_PREFIX}hub"
	ip -n "${NS_PREFIX}hub" link add br0 type bridge
	ip -n "${NS_PREFIX}hub" link set br0 up
	i=1
	while [ "$i" -le "$NS_COUNT" ]; do
		ns="${NS_PREFIX}h$i"
		ip netns add "$ns"
		ip -n "${NS_PREFIX}hub" link add "v$i" type veth peer name eth0 netns "$ns"
		ip -n "${NS_PREFIX}hub" link set "v$i" master br0 up
		ip -n "$ns" link set lo up
		ip -n "$ns" addr add "$SUBNET.$i/24" dev eth0
		ip -n "$ns" link set eth0 up
		eval "NS_$i=$ns ADDR_$i=$SUBNET.$i"
		i=$((i + 1))
	done
}

netns_cleanup() {
	[ -n "${NS_PREFIX:-}" ] || return 0
	i=1
	while [ "$i" -le "${NS_COUNT:-0}" ]; do
		ip netns del "${NS_PREFIX}h$i" 2>/dev/null
		i=$((i + 1))
	done
	ip netns del "${NS_PREFIX}hub" 2>/dev/null
	return 0
}
