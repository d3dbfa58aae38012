#!/usr/bin/env bash
# control.sh BINARY ROOT: prints the DEBIAN/control of the bootbank package.
#
# Depends lists the Debian package of every shared library BINARY loads (ldd, then dpkg -S),
# at least the version installed here, so the package names exactly what the binary needs.
# It fails when the binary needs a library no Debian package owns (a Swift runtime library
# left dynamic, say): such a package would not run on a host without Swift.
set -euo pipefail
binary=$1
root=$2
version=$("$binary" --version | awk '{print $NF}')
[ -n "$version" ] || { echo "control.sh: $binary --version printed no version" >&2; exit 1; }

declare -A seen=()
depends=()
while read -r library; do
  [ -n "$library" ] || continue
  real=$(readlink -f "$library")
  owner=$(dpkg -S "$library" 2>/dev/null || dpkg -S "$real" 2>/dev/null || true)
  package=${owner%%:*}
  [ -n "$package" ] || { echo "control.sh: no Debian package owns $library" >&2; exit 1; }
  [ -z "${seen[$package]:-}" ] || continue
  seen[$package]=1
  installed=$(dpkg-query -W -f='${Version}' "$package")
  depends+=("$package (>= ${installed%%-*})")
done < <(ldd "$binary" | awk '/=>/ { print $3 } !/=>/ && $1 ~ /^\// { print $1 }' | sort -u)

size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat <<CONTROL
Package: bootbank
Version: $version
Architecture: amd64
Maintainer: bootbank developers <bootbank@localhost>
Installed-Size: $size
Depends: $(IFS=,; echo "${depends[*]}" | sed 's/,/, /g')
Section: admin
Priority: optional
Homepage: https://github.com/bootbank/bootbank
Description: check, compare and image the boot banks of ESXi boot devices
 bootbank reads the raw boot device of VMware ESXi (/bootbank and /altbootbank)
 from a disk image or a block device, with no mount and no ESXi running: which
 bank the loader boots next and why, whether each bank is intact against its
 own image database, how the banks differ. Metrics for node_exporter's textfile
 collector come with a systemd timer (bootbank-textfile.timer).
CONTROL
