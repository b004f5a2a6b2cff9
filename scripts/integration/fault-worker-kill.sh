#!/usr/bin/env bash
# Fault test: 10,000 `record` jobs; the worker is killed with SIGKILL twice mid-run and restarted.
# Every job id must be recorded at least once; duplicates at most the prefetch per kill.
# Env: WARREN_TEST_URL (broker), FAULT_JOBS (default 10000), FAULT_PREFETCH (default 50; `adaptive`: default
# flags, concurrency 16, adaptive prefetch, bound 2048 per kill = twice its maximum of 1,024, the prefetch in force
# plus the previous one for the moments after a change; see docs/operations.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v swift >/dev/null && [[ -x /opt/swift/usr/bin/swift ]]; then export PATH=/opt/swift/usr/bin:$PATH; fi
export WARREN_URL=${WARREN_TEST_URL:-amqp://guest:guest@127.0.0.1:5672/%2F}
export WARREN_LOG_LEVEL=warning
N=${FAULT_JOBS:-10000}
PREFETCH=${FAULT_PREFETCH:-50}
if [[ $PREFETCH == adaptive ]]; then
  WORKER_FLAGS=(--concurrency 16)
  PER_KILL=2048
else
  WORKER_FLAGS=(--concurrency "$PREFETCH" --prefetch "$PREFETCH")
  PER_KILL=$PREFETCH
fi
# shellcheck source=scripts/lib/integration.sh
source scripts/lib/integration.sh
BIN=$(warren_bin)
drill_init
Q=fault.kill.$$.$RANDOM
RECORD=$WORK/record.txt
: >"$RECORD"

start_worker() {
  "$BIN" worker --queue "$Q" "${WORKER_FLAGS[@]}" >>"$WORK/worker.log" 2>&1 &
  worker_pid=$!
}

echo "enqueueing $N record jobs into $Q"
"$BIN" enqueue record --args "{\"file\":\"$RECORD\"}" --queue "$Q" --count "$N" --id job

start_worker
kill_worker_at $((N / 5)) $((N / 2))
wait_record_ids "$N"
stop_gracefully "$worker_pid"
worker_pid=""

check_records "fault-worker-kill (prefetch $PREFETCH)" "$N" "$((N - $(record_ids)))" "$PER_KILL"
