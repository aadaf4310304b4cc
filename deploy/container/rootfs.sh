#!/bin/sh
# Assemble a root filesystem for the faultline image: the programs, their
# shared-library closure (from ldd, symlinks kept), the dynamic loader, CA
# certificates and a passwd/group naming root and nobody. A `FROM scratch`
# Containerfile copies it, so no base image has to be pulled.
#   deploy/container/rootfs.sh OUT PROGRAM...
set -eu
out=$1; shift
[ $# -gt 0 ] || { echo "usage: rootfs.sh OUT PROGRAM..." >&2; exit 2; }
rm -rf "$out"
mkdir -p "$out/usr/bin" "$out/usr/lib" "$out/etc" "$out/tmp" "$out/run" "$out/data"
chmod 1777 "$out/tmp"
ln -s usr/bin "$out/bin"
ln -s usr/lib "$out/lib"
[ -d /usr/lib64 ] && ln -s usr/lib64 "$out/lib64" && mkdir -p "$out/usr/lib64"

# copy a file to the same path under $out, and every symlink on the way
copy_path() {
	f=$1
	while :; do
		d=$(dirname "$f")
		case "$d" in /bin|/lib|/lib64|/sbin) d=/usr$d ;; esac
		mkdir -p "$out$d"
		dest="$out$d/$(basename "$f")"
		[ -e "$dest" ] || [ -L "$dest" ] || cp -P "$f" "$dest"
		[ -L "$f" ] || break
		t=$(readlink "$f")
		case "$t" in /*) f=$t ;; *) f=$(dirname "$f")/$t ;; esac
	done
}

libs=""
for p in "$@"; do
	[ -x "$p" ] || { echo "rootfs.sh: $p is not an executable" >&2; exit 2; }
	install -m 755 "$p" "$out/usr/bin/$(basename "$p")"
	libs="$libs $(ldd "$p" | awk '/=> \//{ print $3 } /^\t\//{ print $1 }')"
done
for l in $(printf '%s\n' $libs | sort -u); do copy_path "$l"; done

printf 'root:x:0:0:root:/:/usr/bin/faultline\nnobody:x:65534:65534:nobody:/nonexistent:/usr/bin/false\n' >"$out/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$out/etc/group"
printf 'hosts: files dns\n' >"$out/etc/nsswitch.conf"
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
	mkdir -p "$out/etc/ssl/certs"
	cp /etc/ssl/certs/ca-certificates.crt "$out/etc/ssl/certs/"
fi
n=$(find "$out" -type f | wc -l)
size=$(du -sh "$out" | cut -f1)
echo "rootfs.sh: $out: $n files, $size ($*)"
