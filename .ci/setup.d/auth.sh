#!/usr/bin/env bash
# basicauth extension: its tests check htpasswd entries written by Apache's own htpasswd tool
# (bcrypt, apr1 MD5, SHA-1) rather than by the library under test.
set -euo pipefail
source "$(dirname "$0")/../apt.sh"
ensure_packages apache2-utils
