#!/usr/bin/env bash
# Installs a software GPU that Dawn (npm `webgpu`) accepts: Mesa 25's lavapipe from Debian
# bookworm-backports. Bookworm's own Mesa 22.3 is refused by Dawn. Safe to run again.
# Needs root (or sudo) on Debian 12; on other systems it only reports what it finds.
set -euo pipefail

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v apt-get >/dev/null; then
  echo "setup-gpu: no apt-get here; install Mesa >= 24 (lavapipe) or use a real GPU driver" >&2
  exit 0
fi

codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
if [ "$codename" = bookworm ]; then
  src=/etc/apt/sources.list.d/bookworm-backports.sources
  if ! grep -rqs bookworm-backports /etc/apt/sources.list /etc/apt/sources.list.d/; then
    # Same mirror and key as the main Debian entry.
    main=/etc/apt/sources.list.d/debian.sources
    uris=$(awk '/^URIs:/ && /debian\/?$/ {print $2; exit}' "$main" 2>/dev/null || true)
    key=$(awk '/^Signed-By:/ {print $2; exit}' "$main" 2>/dev/null || true)
    as_root tee "$src" >/dev/null <<SRC
Types: deb
URIs: ${uris:-http://deb.debian.org/debian}
Suites: bookworm-backports
Components: main
Signed-By: ${key:-/usr/share/keyrings/debian-archive-keyring.gpg}
SRC
  fi
  have=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
  case "$have" in
    25.*|26.*) echo "setup-gpu: mesa-vulkan-drivers $have already installed" ;;
    *)
      as_root apt-get update -qq
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t bookworm-backports \
        mesa-vulkan-drivers libvulkan1 >/dev/null
      echo "setup-gpu: installed mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers)"
      ;;
  esac
else
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mesa-vulkan-drivers libvulkan1 >/dev/null
fi
