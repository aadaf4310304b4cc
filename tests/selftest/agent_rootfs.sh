#!/bin/sh
# The image's root filesystem (deploy/container/rootfs.sh, `make
# image-rootfs`) is complete: inside a chroot of it, with nothing from the
# host, faultline, transferd and sleep run, and the agent applies and heals a
# host fault in a network namespace of its own. Root only (chroot, netns).
set -eu
ROOT=${ROOT:-$(pwd)}
: "${FAULTLINE:=$ROOT/build/faultline}" "${TRANSFERD:=$ROOT/build/transferd}"
if [ "$(id -u)" != 0 ]; then echo "skip: needs root (chroot, network namespaces)"; exit 77; fi
# images come from the plain build; sanitizer runtimes need /proc, which the chroot lacks
if [ -n "${SANITIZE:-}" ]; then echo "skip: the image is built without sanitizers"; exit 77; fi
command -v nft >/dev/null 2>&1 || { echo "skip: no nft"; exit 77; }
tmp=$(mktemp -d)
ns="fl$$rootfs"
agent=""
cleanup() {
	[ -z "$agent" ] || { kill "$agent" 2>/dev/null || true; wait "$agent" 2>/dev/null || true; }
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() { echo "FAIL: $*"; cat "$tmp/agent.err" 2>/dev/null || true; exit 1; }

sh "$ROOT/deploy/container/rootfs.sh" "$tmp/rootfs" "$FAULTLINE" "$TRANSFERD" "$(command -v sleep)"
fs="$tmp/rootfs"
chroot "$fs" /usr/bin/faultline version | grep -q '^faultline ' || fail "faultline version in the rootfs"
chroot "$fs" /usr/bin/transferd --help >/dev/null 2>&1 || fail "transferd in the rootfs"
chroot "$fs" sleep 0 || fail "sleep (the manifests' preStop) in the rootfs"

ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" link add veth0 type veth peer name veth1
ip -n "$ns" link set veth0 up
ip netns exec "$ns" chroot "$fs" /usr/bin/faultline agent --listen 127.0.0.1:0 \
	--state-dir /run/faultline-agent >"$tmp/agent.out" 2>"$tmp/agent.err" &
agent=$!
n=0
until grep -q 'listening on' "$tmp/agent.out"; do
	n=$((n + 1)); [ $n -lt 100 ] || fail "agent did not start in the rootfs"; sleep 0.05
done
grep -q 'host faults on' "$tmp/agent.err" || fail "host faults off in the rootfs"
url="http://$(sed -n 's/^faultline agent: listening on //p' "$tmp/agent.out")"
ip netns exec "$ns" curl -sf -XPOST "$url/host/faults" \
	-d '{"type":"partition","peer":"192.0.2.0/24","ttl_ms":10000}' >/dev/null || fail "nft fault"
ip netns exec "$ns" curl -sf -XPOST "$url/host/faults" \
	-d '{"type":"bandwidth","dev":"veth0","rate_bps":1000000,"ttl_ms":10000}' >/dev/null || fail "tbf fault"
ip netns exec "$ns" nft list table inet faultline | grep -q '192.0.2.0/24' || fail "no rule"
ip netns exec "$ns" tc qdisc show dev veth0 | grep -q 'tbf fa17:' || fail "no qdisc"
kill -TERM "$agent"; wait "$agent" || fail "agent exit $?"; agent=""
ip netns exec "$ns" nft list tables | grep -q faultline && fail "table left"
ip netns exec "$ns" tc qdisc show dev veth0 | grep -q fa17 && fail "qdisc left"
echo "ok: $(du -sh "$fs" | cut -f1) root filesystem runs the agent"
