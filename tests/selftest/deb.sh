#!/bin/sh
# make deb's package installs as a user would get it: built with dpkg-deb,
# unpacked into a scratch root (dpkg -x), `faultline version` runs from it;
# Depends names the runtime library packages the binaries need (each an
# installed Debian package here).
# test-lane: side (no socket, no system, no timing; its own files only)
set -eu
BUILD=${BUILD:-build}
command -v dpkg-deb > /dev/null 2>&1 || { echo "skip: no dpkg-deb"; exit 77; }
R=$(mktemp -d)
trap 'rm -rf "$R"' EXIT INT TERM
deb=$(sh tools/deb.sh "$BUILD" 2> "$R/deps")
[ -f "$deb" ] || { echo "FAIL: no package"; cat "$R/deps"; exit 1; }
dpkg-deb -I "$deb" > "$R/info"
depends=$(sed -n 's/^ Depends: //p' "$R/info")
for p in libcurl4 libjansson4 libevent-2.1-7 liblua5.4-0 libsqlite3-0 libpcap0.8 libhttp-parser2.9 libc6; do
	echo "$depends" | grep -q "\\b$p (>= " || { echo "FAIL: Depends lacks $p: $depends"; exit 1; }
done
for p in $(echo "$depends" | sed 's/ ([^)]*)//g; s/,/ /g'); do
	dpkg-query -W "$p" > /dev/null 2>&1 || { echo "FAIL: $p is not a package here"; exit 1; }
done
dpkg-deb -c "$deb" > "$R/files"
for f in ./usr/bin/faultline ./usr/share/faultline/faultline-stage.sh ./usr/share/doc/faultline/README.md; do
	grep -q " $f\$" "$R/files" || { echo "FAIL: the package lacks $f"; exit 1; }
done
mkdir "$R/root"
dpkg -x "$deb" "$R/root"
v=$("$R/root/usr/bin/faultline" version)
echo "$v" | grep -q "$(cat VERSION)" || { echo "FAIL: faultline version from the package: $v"; exit 1; }
"$R/root/usr/bin/faultline" run --help > /dev/null
echo "package $(basename "$deb"): $(wc -l < "$R/files") entries; installed in a scratch root: $v"
echo "Depends: $depends"
