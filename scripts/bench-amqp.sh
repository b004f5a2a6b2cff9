#!/usr/bin/env bash
# Benchmarks WarrenAMQP against plain librabbitmq-c (../shared/bench/rawc.c): starts the local broker,
# builds warren-bench in release mode and runs `warren-bench amqp` with the arguments given.
# Usage: scripts/bench-amqp.sh [--count 20000] [--size 100] [--window 1000] [--prefetch 200] [--rounds 3] [--json] ...
# Env: WARREN_URL (broker), WARREN_RAWC_SOURCE (rawc.c path).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v swift >/dev/null && [[ -x /opt/swift/usr/bin/swift ]]; then
  export PATH=/opt/swift/usr/bin:$PATH
fi

deploy/rabbitmq-local.sh start >&2
swift build -c release --product warren-bench >&2
exec .build/release/warren-bench amqp "$@"
