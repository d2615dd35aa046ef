#!/bin/sh
# notices.sh [--debian] BINARY: the copyright and license notices of
# everything linked into BINARY, a wsexec built from this tree: wsexec's
# own LICENSE, the Go standard library's, and each Go module that
# `go version -m` lists in it, with every LICENSE, COPYING, NOTICE and
# PATENTS file of that module as fetched. Each tarball carries it as
# NOTICES. With --debian, for the .deb's /usr/share/doc/wsexec/copyright,
# the full text of the Apache License 2.0 is replaced by a pointer to
# Debian's copy, /usr/share/common-licenses/Apache-2.0, as Debian asks.
set -eu
debian=
if [ "$1" = --debian ]; then
	debian=1
	shift
fi
bin=$(realpath "$1")
cd "$(dirname "$0")/.."
section() {
	printf '\n%s\n\n' "------------------------------------------------------------------------"
	printf '%s\n\n' "$1"
}
echo "wsexec, https://github.com/wsexec/wsexec"
echo
echo "wsexec is a single statically linked program: this file holds its own"
echo "license, then those of the Go standard library and of each Go module"
echo "linked into it."
section "wsexec: LICENSE"
cat LICENSE
section "The Go standard library ($(go version "$bin" | awk '{print $2}')): LICENSE"
cat "$(go env GOROOT)/LICENSE"
if [ -f "$(go env GOROOT)/PATENTS" ]; then
	section "The Go standard library: PATENTS"
	cat "$(go env GOROOT)/PATENTS"
fi
go version -m "$bin" | awk '$1 == "dep" { print $2, $3 }' | while read -r path version; do
	dir=$(go mod download -json "$path@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	found=
	for f in "$dir"/LICENSE* "$dir"/LICENCE* "$dir"/COPYING* "$dir"/NOTICE* "$dir"/PATENTS*; do
		[ -f "$f" ] || continue
		section "$path $version: $(basename "$f")"
		if [ -n "$debian" ] && grep -q 'Version 2.0, January 2004' "$f"; then
			echo "Apache License, Version 2.0: on Debian systems, its full text is in"
			echo "/usr/share/common-licenses/Apache-2.0."
		else
			cat "$f"
		fi
		found=1
	done
	if [ -z "$found" ]; then
		echo "notices.sh: no license file in $path $version ($dir)" >&2
		exit 1
	fi
done
