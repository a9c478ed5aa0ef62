#!/usr/bin/env bash
# receivers/filelog: the benchmark (test/bench/filelog.bench.js) compares with rsyslog's
# imfile → omfile on the same input. The bench skips rsyslog with a message when it is missing.
set -euo pipefail
source "$(dirname "$0")/../apt.sh"
ensure_packages rsyslog
