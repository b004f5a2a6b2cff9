#!/usr/bin/env bash
# Fault test: 10,000 `record` jobs; the worker is killed with SIGKILL twice mid-run and restarted.
# Every job id must be recorded at least once; duplicates at most the prefetch per kill.
# Env: WARREN_TEST_URL (broker), FAULT_JOBS (default 10000), FAULT_PREFETCH (default 50).
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v swift >/dev/null && [[ -x /opt/swift/usr/bin/swift ]]; then export PATH=/opt/swift/usr/bin:$PATH; fi
export WARREN_URL=${WARREN_TEST_URL:-amqp://guest:guest@127.0.0.1:5672/%2F}
export WARREN_LOG_LEVEL=warning
N=${FAULT_JOBS:-10000}
PREFETCH=${FAULT_PREFETCH:-50}
# shellcheck source=scripts/lib/integration.sh
source scripts/lib/integration.sh
BIN=$(warren_bin)
Q=fault.kill.$$.$RANDOM
WORK=$(mktemp -d)
RECORD=$WORK/record.txt
: >"$RECORD"
worker_pid=""

cleanup() {
  [[ -n $worker_pid ]] && kill -9 "$worker_pid" 2>/dev/null || true
  delete_queues "$Q" "$Q.dead"
  rm -rf "$WORK"
}
trap cleanup EXIT

start_worker() {
  "$BIN" worker --queue "$Q" --concurrency "$PREFETCH" --prefetch "$PREFETCH" >>"$WORK/worker.log" 2>&1 &
  worker_pid=$!
}

echo "enqueueing $N record jobs into $Q"
"$BIN" enqueue record --args "{\"file\":\"$RECORD\"}" --queue "$Q" --count "$N" --id job

start_worker
kill_worker_at $((N / 5)) $((N / 2))
wait_record_ids "$N"
stop_gracefully "$worker_pid"
worker_pid=""

check_records fault-worker-kill "$N" "$((N - $(record_ids)))" "$PREFETCH"
