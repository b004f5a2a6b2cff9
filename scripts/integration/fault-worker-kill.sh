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

lines() { wc -l <"$RECORD"; }

# Waits (bounded) until the record file has at least $1 lines.
wait_lines() {
  local want=$1 deadline=$((SECONDS + 180))
  until (($(lines) >= want)); do
    ((SECONDS < deadline)) || { echo "FAIL: only $(lines) of $want records after 180 s"; tail -20 "$WORK/worker.log"; exit 1; }
    sleep 0.05
  done
}

unique() { cut -d' ' -f1 "$RECORD" | sort -u | wc -l; }

echo "enqueueing $N record jobs into $Q"
"$BIN" enqueue record --args "{\"file\":\"$RECORD\"}" --queue "$Q" --count "$N" --id job

start_worker
for threshold in $((N / 5)) $((N / 2)); do
  wait_lines "$threshold"
  kill -9 "$worker_pid"
  wait "$worker_pid" 2>/dev/null || true
  echo "SIGKILL worker at $(lines) records"
  start_worker
done

deadline=$((SECONDS + 240))
until (($(unique) >= N)); do
  ((SECONDS < deadline)) || break
  sleep 0.2
done
kill -TERM "$worker_pid"
wait "$worker_pid" || true
worker_pid=""

total=$(lines)
uniq=$(unique)
missing=$((N - uniq))
dups=$((total - uniq))
bound=$((2 * PREFETCH))
echo "fault-worker-kill: jobs=$N recorded=$total unique=$uniq missing=$missing duplicates=$dups (bound $bound = prefetch x 2 kills)"
if ((missing != 0)); then echo "FAIL: $missing jobs lost"; exit 1; fi
if ((dups > bound)); then echo "FAIL: $dups duplicates exceed the bound $bound"; exit 1; fi
echo "PASS"
