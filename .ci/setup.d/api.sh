#!/usr/bin/env bash
# tapio_api extension (issue 10): Debian's Chromium for the dashboard's browser tests
# (driven by playwright-core; no browser is ever downloaded) and the toolchain better-sqlite3
# builds from source with (prebuilt binaries cannot be downloaded here).
# Idempotent; runs as root on a fresh Debian machine.
set -euo pipefail

pkgs=(chromium fonts-dejavu-core python3 make g++)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi
