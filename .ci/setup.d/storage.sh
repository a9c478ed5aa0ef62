#!/usr/bin/env bash
# extensions/storage (file_storage) uses better-sqlite3, a native addon. Prebuilt binaries
# cannot be downloaded in CI, so `npm ci` compiles it with node-gyp: it needs a C/C++
# toolchain, make and python3.
set -euo pipefail
source "$(dirname "$0")/../apt.sh"
ensure_packages build-essential python3
