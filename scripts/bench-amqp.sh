#!/usr/bin/env bash
# Benchmarks WarrenAMQP against plain librabbitmq-c (../shared/bench/rawc.c): starts the local broker,
# builds warren-bench in release mode and runs `warren-bench amqp` with the arguments given.
# Usage: scripts/bench-amqp.sh [--count 20000] [--size 100] [--window 1000] [--prefetch 200] [--rounds 3] [--json] ...
# Env: WARREN_URL (broker), WARREN_RAWC_SOURCE (rawc.c path).
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/lib/bench.sh
source scripts/lib/bench.sh
swift build -c release --product warren-bench >&2
exec .build/release/warren-bench amqp "$@"
