#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian machine (root): system packages
# from each component's .ci/setup.d/*.sh, then npm dependencies from the lockfile.
set -euo pipefail
cd "$(dirname "$0")/.."
for f in .ci/setup.d/*.sh; do
  [ -e "$f" ] || continue
  echo "== setup: $f"
  bash "$f"
done
npm ci --no-audit --no-fund
