#!/usr/bin/env bash
# Fault test: fault-worker-kill.sh with the worker at default flags (concurrency 16, adaptive prefetch): two
# SIGKILLs while it drains 10,000 `record` jobs; nothing lost, duplicates within twice the adaptive maximum per kill.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v swift >/dev/null && [[ -x /opt/swift/usr/bin/swift ]]; then
  export PATH=/opt/swift/usr/bin:$PATH
fi
FAULT_PREFETCH=adaptive exec scripts/integration/fault-worker-kill.sh
