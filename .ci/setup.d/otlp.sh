#!/bin/sh
# OTLP receiver/exporter tests: the TLS test makes a self-signed certificate with the openssl CLI.
set -e
if command -v openssl >/dev/null 2>&1; then exit 0; fi
apt-get update
apt-get install -y --no-install-recommends openssl
