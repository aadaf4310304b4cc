#!/bin/sh
# Checks that every #include "DIR/..." in a component names a component its
# arrow allows (the Makefile passes "name:dep dep ..." per component; the
# directory of each name is in the table below). Prints every forbidden
# include as FILE:LINE and exits 1 when there is one.
set -u
dir_of() {
	case $1 in
	proxy) echo fault-injector ;;
	ref) echo transfer-system ;;
	*) echo "$1" ;;
	esac
}
bad=0
for spec in "$@"; do
	name=${spec%%:*}
	deps=${spec#*:}
	dir=$(dir_of "$name")
	allowed="$dir"
	for d in $deps; do allowed="$allowed $(dir_of "$d")"; done
	files=$(find "$dir" -name '*.[ch]' 2>/dev/null)
	[ -n "$files" ] || continue
	# shellcheck disable=SC2086
	out=$(grep -n '^#include "[a-z-]*/' $files | while IFS= read -r line; do
		inc=${line#*#include \"}
		top=${inc%%/*}
		ok=0
		for a in $allowed; do [ "$top" = "$a" ] && ok=1; done
		# generated tables live in the build directory
		[ $ok -eq 1 ] || echo "$line"
	done)
	if [ -n "$out" ]; then
		echo "$out" | sed "s/\$/   <- $name may include only: $allowed/" >&2
		bad=1
	fi
done
[ $bad -eq 0 ] || echo "check-layers: forbidden include (see docs/architecture.md)" >&2
exit $bad
