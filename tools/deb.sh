#!/bin/sh
# Build a Debian package of faultline with dpkg-deb (make deb):
#   BUILD/faultline_VERSION_ARCH.deb
# holding /usr/bin/faultline, /usr/bin/transferd (the reference system that
# `faultline ref up` starts), the CI stage script as
# /usr/share/faultline/faultline-stage.sh, and the docs. Depends names the
# runtime library packages, derived from the binaries: each NEEDED library
# is resolved to its file and `dpkg -S` names the package that owns it, at
# least the version installed here.
#   sh tools/deb.sh [BUILD]
set -eu
BUILD=${1:-build}
VERSION=$(cat VERSION 2>/dev/null || echo 0.0.0)
ARCH=$(dpkg --print-architecture)
BINS="$BUILD/faultline"
[ -x "$BUILD/transferd" ] && BINS="$BINS $BUILD/transferd"
for b in $BINS; do [ -x "$b" ] || { echo "deb: $b not built (run make)" >&2; exit 2; }; done
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT INT TERM

# the package owning each NEEDED library: its path as ldd resolves it, and
# that path with and without /usr (usrmerge), asked of dpkg -S in one call
paths=""
for b in $BINS; do
	for lib in $(readelf -d "$b" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
		path=$(ldd "$b" | awk -v l="$lib" '$1 == l { print $3 }')
		[ -n "$path" ] || { echo "deb: $b: $lib not found by ldd" >&2; exit 3; }
		real=$(readlink -f "$path")
		paths="$paths /usr${path#/usr} ${path#/usr} /usr${real#/usr} ${real#/usr}"
	done
done
# shellcheck disable=SC2086
owners=$(dpkg -S $paths 2>/dev/null || true)
for b in $BINS; do
	for lib in $(readelf -d "$b" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
		echo "$owners" | grep -q "/$lib\(\.[0-9.]*\)\{0,1\}\$" || { echo "deb: no package owns $lib" >&2; exit 3; }
	done
done
deps=$(echo "$owners" | cut -d: -f1 | sort -u | tr '\n' ' ')
# shellcheck disable=SC2086
depends=$(dpkg-query -W -f='${Package} ${Version}\n' $deps | sed 's/-[^-]*$//; s/ [0-9]*:/ /' \
	| awk '{ printf "%s%s (>= %s)", (NR > 1 ? ", " : ""), $1, $2 }')

install -d "$STAGE/DEBIAN" "$STAGE/usr/bin" "$STAGE/usr/share/faultline" \
	"$STAGE/usr/share/doc/faultline/docs"
install -m 755 $BINS "$STAGE/usr/bin/"
install -m 755 ci/faultline-stage.sh "$STAGE/usr/share/faultline/faultline-stage.sh"
install -m 644 README.md "$STAGE/usr/share/doc/faultline/"
install -m 644 docs/*.md "$STAGE/usr/share/doc/faultline/docs/"
size=$(du -sk "$STAGE/usr" | cut -f1)
cat > "$STAGE/DEBIAN/control" <<CONTROL
Package: faultline
Version: $VERSION
Architecture: $ARCH
Maintainer: faultline developers <faultline@localhost>
Installed-Size: $size
Depends: $depends
Section: devel
Priority: optional
Description: distributed-systems testing and chaos toolkit
 Lua-scripted scenarios, a Toxiproxy-compatible fault-injecting proxy,
 contract testing with Pact, saga, circuit-breaker and probe checkers over
 Jepsen-style histories, and a launcher for a team's own services.
CONTROL
out="$BUILD/faultline_${VERSION}_${ARCH}.deb"
dpkg-deb --root-owner-group -Zgzip -z6 --build "$STAGE" "$out" > /dev/null
echo "$out"
echo "Depends: $depends" >&2
