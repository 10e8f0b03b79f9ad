#!/usr/bin/env bash
# Builds the Debian package from a release build and prints its path:
#   deploy/build-deb.sh [build]   ->  build/foresight_<version>_amd64.deb
# The binary (stripped) in /usr/bin, the systemd unit, /etc/foresight/foresight.toml as a
# conffile, the docs in /usr/share/doc/foresight; maintainer scripts in deploy/debian/.
# Depends are what dpkg-shlibdeps reads off the binary's libraries.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
binary=$build/tools/foresight
[[ -x $binary ]] || { echo "build-deb: no $binary (build it: tools/test.sh)" >&2; exit 1; }
if ! command -v dpkg-shlibdeps >/dev/null; then
  as_root=(); [[ $(id -u) -ne 0 ]] && as_root=(sudo)
  "${as_root[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends \
    dpkg-dev >/dev/null
fi
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
[[ -n $version ]] || { echo "build-deb: no project version in $build/CMakeCache.txt" >&2; exit 1; }
# The date of the commit built, so two builds of one commit give the same package.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}

stage=$build/deb
root=$stage/root
rm -rf "$stage"
install -d "$root/DEBIAN" "$root/usr/bin" "$root/lib/systemd/system" "$root/etc/foresight" \
  "$root/usr/share/doc/foresight" "$root/usr/share/man/man1"
install -m 0755 "$binary" "$root/usr/bin/foresight"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/usr/bin/foresight"
install -m 0644 deploy/foresight.service "$root/lib/systemd/system/foresight.service"
install -m 0644 deploy/foresight.toml "$root/etc/foresight/foresight.toml"
install -m 0644 deploy/debian/copyright "$root/usr/share/doc/foresight/copyright"
install -m 0644 README.md "$root/usr/share/doc/foresight/README.md"
for script in postinst prerm postrm; do
  install -m 0755 "deploy/debian/$script" "$root/DEBIAN/$script"
done
install -m 0644 deploy/debian/conffiles "$root/DEBIAN/conffiles"

# The manual page is the binary's own --help, so the two cannot disagree.
{
  printf '.TH FORESIGHT 1 "%s" "foresight %s" "User Commands"\n' "$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%d)" "$version"
  printf '.SH NAME\nforesight \\- self-hosted predictive-maintenance appliance\n'
  printf '.SH SYNOPSIS\n.B foresight\n\\fISUBCOMMAND\\fR [\\fIOPTIONS\\fR]\n'
  printf '.SH DESCRIPTION\n.nf\n'
  "$binary" --help-all | sed -e 's/\\/\\e/g' -e 's/^[.\x27]/\\\&&/' -e "s|$binary|foresight|g"
  printf '.fi\n.SH FILES\n.TP\n/etc/foresight/foresight.toml\nsettings, every key with its default\n'
  printf '.TP\n/var/lib/foresight\nthe data directory\n'
  printf '.SH SEE ALSO\n/usr/share/doc/foresight/README.md, journalctl(1)\n'
} | gzip -9n >"$root/usr/share/man/man1/foresight.1.gz"

# A native package's changelog: one entry for the version built.
{
  printf 'foresight (%s) unstable; urgency=medium\n\n' "$version"
  printf '  * Release %s, built from commit %s.\n\n' "$version" "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  printf ' -- FORESIGHT team <foresight@example.org>  %s\n' "$(date -u -R -d "@$SOURCE_DATE_EPOCH")"
} | gzip -9n >"$root/usr/share/doc/foresight/changelog.gz"
touch -d "@$SOURCE_DATE_EPOCH" "$root/usr/share/doc/foresight/changelog.gz"

# dpkg-shlibdeps wants a source package's debian/control to stand in.
mkdir -p "$stage/debian"
printf 'Source: foresight\n\nPackage: foresight\nArchitecture: amd64\n' >"$stage/debian/control"
depends=$(cd "$stage" && dpkg-shlibdeps -O --warnings=0 root/usr/bin/foresight | sed -n 's/^shlibs:Depends=//p')
[[ -n $depends ]] || { echo "build-deb: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
installed_size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@DEPENDS@/$depends/" -e "s/@INSTALLED_SIZE@/$installed_size/" \
  deploy/debian/control.in >"$root/DEBIAN/control"
(cd "$root" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | sort -z | xargs -0 md5sum) \
  >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/md5sums" "$root/DEBIAN/control"

deb=$build/foresight_${version}_amd64.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
