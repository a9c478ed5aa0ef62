#!/usr/bin/env bash
# receivers/filelog: the benchmark (test/bench/filelog.bench.js) compares with rsyslog's
# imfile → omfile on the same input. The bench skips rsyslog with a message when it is missing.
set -euo pipefail
if ! command -v rsyslogd >/dev/null 2>&1 && ! [ -x /usr/sbin/rsyslogd ]; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends rsyslog
fi
