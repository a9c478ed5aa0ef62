#!/usr/bin/env bash
# OTLP receiver/exporter tests: the TLS test makes a self-signed certificate with the openssl CLI.
set -euo pipefail
source "$(dirname "$0")/../apt.sh"
ensure_packages openssl
