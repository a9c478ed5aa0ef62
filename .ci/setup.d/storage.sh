#!/usr/bin/env bash
# extensions/storage (file_storage) uses better-sqlite3, a native addon. Prebuilt binaries
# cannot be downloaded in CI, so `npm ci` compiles it with node-gyp: it needs a C/C++
# toolchain, make and python3.
set -euo pipefail
need=()
for pkg in build-essential python3; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}"
fi
