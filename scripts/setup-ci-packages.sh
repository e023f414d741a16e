#!/usr/bin/env bash
# Debian packages the test suite uses beyond Node.js: python3-numpy and python3-msgpack (the Python
# client's tests), chromium (the dashboard's browser test) and nginx (three servers behind a balancer,
# test/server/nginx.test.ts; run as the current user, not as a service). Safe to run again.
set -euo pipefail
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
command -v apt-get >/dev/null || { echo "setup-ci-packages: no apt-get; install python3-numpy python3-msgpack chromium nginx yourself" >&2; exit 0; }
need=()
for p in python3-numpy python3-msgpack chromium nginx; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  echo "setup-ci-packages: installed ${need[*]}"
fi
