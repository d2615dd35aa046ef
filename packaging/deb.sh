#!/bin/sh
# deb.sh ARCH BINARY MANPAGE VERSION OUTDIR: builds OUTDIR/wsexec_V_ARCH.deb
# with Debian's dpkg-deb, for the Debian architecture ARCH (amd64, arm64,
# armhf) from BINARY, a wsexec built for it (static: the package depends on
# nothing), the man page MANPAGE (make man) and VERSION, git describe's
# (make's VERSION), made a Debian version V. The inputs are in deb/:
# systemd units installed, never enabled or started; /etc/default/wsexec,
# a conffile holding a placeholder the administrator replaces.
# DEB_MAINTAINER names the maintainer; set it for a release.
# deb.sh --debversion VERSION prints the Debian version of VERSION alone.
set -eu
arch=$1 bin=$2 man=${3-} version=${4-} out=${5-}
here=$(cd "$(dirname "$0")" && pwd)
maintainer=${DEB_MAINTAINER:-The wsexec authors <maintainers@wsexec.invalid>}

# debversion turns git describe into a Debian version (deb-version(7)): a
# leading digit, no hyphen without a Debian revision. v1.2.0 is 1.2.0,
# v1.2.0-3-g0123abc 1.2.0+3.g0123abc; with no tag, describe gives the
# commit alone, and 0123abc of 2026-12-07 is 0.0~git20261207.0123abc,
# which sorts before any release. -dirty becomes .dirty.
debversion() {
	v=${1#v}
	if commit=$(printf '%s\n' "${1%-dirty}" | grep -xE '[0-9a-f]{7,40}') &&
		git -C "$here" rev-parse -q --verify "$commit^{commit}" >/dev/null; then
		date=$(git -C "$here" log -1 --format=%cd --date=format:%Y%m%d "$commit")
		printf '0.0~git%s.%s\n' "$date" "$(printf '%s' "$1" | tr - .)"
		return
	fi
	case $v in
	[0-9]*) printf '%s\n' "$v" | sed 's/-/+/; s/-/./g' ;;
	*) printf '0.0~%s\n' "$(printf '%s' "$v" | tr -c 'A-Za-z0-9.+~\n' '.')" ;;
	esac
}
if [ "$arch" = --debversion ]; then
	debversion "$bin"
	exit
fi
debver=$(debversion "$version")

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
chmod 0755 "$root"
umask 022
install -d "$root/DEBIAN" "$root/usr/bin" "$root/usr/share/man/man1" \
	"$root/lib/systemd/system" "$root/etc/default" "$root/usr/share/doc/wsexec" \
	"$root/usr/share/lintian/overrides"
install -m 0755 "$bin" "$root/usr/bin/wsexec"
gzip -9n <"$man" >"$root/usr/share/man/man1/wsexec.1.gz"
install -m 0644 "$here/deb/wsexec.service" "$here/deb/wsexec.socket" "$root/lib/systemd/system/"
install -m 0644 "$here/deb/default" "$root/etc/default/wsexec"
install -m 0644 "$here/../README.md" "$root/usr/share/doc/wsexec/README.md"
"$here/notices.sh" --debian "$bin" >"$root/usr/share/doc/wsexec/copyright"
chmod 0644 "$root/usr/share/doc/wsexec/copyright"
# A package without a Debian revision is native, and a native package's
# changelog is its only one: one entry, this build.
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$here" log -1 --format=%ct 2>/dev/null || date +%s)}
export SOURCE_DATE_EPOCH
{
	printf 'wsexec (%s) unstable; urgency=medium\n\n' "$debver"
	printf '  * Built from %s (git describe).\n\n' "$version"
	printf ' -- %s  %s\n' "$maintainer" "$(date -u -R -d "@$SOURCE_DATE_EPOCH")"
} | gzip -9n >"$root/usr/share/doc/wsexec/changelog.gz"
install -m 0644 "$here/deb/lintian-overrides" "$root/usr/share/lintian/overrides/wsexec"
install -m 0755 "$here/deb/postinst" "$here/deb/prerm" "$here/deb/postrm" "$root/DEBIAN/"
echo /etc/default/wsexec >"$root/DEBIAN/conffiles"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$debver/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" \
	-e "s/@MAINTAINER@/$maintainer/" "$here/deb/control" >"$root/DEBIAN/control"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles"
mkdir -p "$out"
# Files owned by root whoever builds; the times of the last commit, so that
# two builds of one commit give the same package.
find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
dpkg-deb --root-owner-group -Zxz --build "$root" "$out/wsexec_${debver}_$arch.deb"
