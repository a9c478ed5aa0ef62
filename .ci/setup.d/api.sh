#!/usr/bin/env bash
# tapio_api extension (issue 10): Debian's Chromium for the dashboard's browser tests
# (driven by playwright-core; no browser is ever downloaded) and the toolchain better-sqlite3
# builds from source with (prebuilt binaries cannot be downloaded here).
# Idempotent; runs as root on a fresh Debian machine.
set -euo pipefail

source "$(dirname "$0")/../apt.sh"
ensure_packages chromium fonts-dejavu-core python3 make g++
