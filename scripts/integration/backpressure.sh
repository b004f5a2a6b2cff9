#!/usr/bin/env bash
# Backpressure with the CLI, on a private RabbitMQ node (its own dir and ports: a memory alarm on the shared
# broker would block everyone else's publishers):
# 1. a queue limited to 1,000 jobs (--max-length): 1,000 enqueues succeed, the 1,001st fails with queueFull
#    naming the queue and its limit, and the queue holds exactly 1,000 (nothing lost, nothing dropped);
# 2. the memory alarm raised (set_vm_memory_high_watermark to a tiny value): an enqueue with a 2 s deadline
#    fails with brokerBlocked after about 2 s (never hangs); once the alarm clears (watermark restored in a
#    trap, whatever happens) the same enqueue succeeds.
# `warren status` (through the node's management API) says the queue is full, then shows the memory alarm.
# Env: BP_PORT (5691; TLS, management and Erlang distribution use BP_PORT+1, BP_PORT+10000 and BP_PORT+20000),
# WARREN_BIN.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v swift >/dev/null 2>&1; then export PATH=/opt/swift/usr/bin:$PATH; fi
# shellcheck source=scripts/lib/integration.sh
source scripts/lib/integration.sh
BIN=$(warren_bin)
PORT=${BP_PORT:-5691}
export WARREN_RABBIT_DIR=/tmp/warren-backpressure WARREN_RABBIT_PORT=$PORT WARREN_RABBIT_TLS_PORT=$((PORT + 1)) \
  WARREN_RABBIT_MGMT_PORT=$((PORT + 10000)) WARREN_RABBIT_NODE=backpressure@localhost
export WARREN_URL=amqp://guest:guest@127.0.0.1:$PORT/%2F WARREN_LOG_LEVEL=warning WARREN_MAX_LENGTH=1000
export WARREN_MANAGEMENT_URL=http://guest:guest@127.0.0.1:$((PORT + 10000))
ctl() { timeout 60 deploy/rabbitmq-local.sh ctl "$@"; }
Q=backpressure.$$.$RANDOM
WORK=$(mktemp -d)

cleanup() {
  ctl -q set_vm_memory_high_watermark 0.4 >/dev/null 2>&1 || true
  timeout 120 deploy/rabbitmq-local.sh stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
timeout 150 deploy/rabbitmq-local.sh start >/dev/null

# 1. Full queue.
"$BIN" topology declare --queue "$Q" >/dev/null
"$BIN" enqueue noop --queue "$Q" --count 1000 2>"$WORK/fill.log" || { echo "FAIL: filling"; cat "$WORK/fill.log"; exit 1; }
if "$BIN" enqueue noop --queue "$Q" 2>"$WORK/full.log"; then echo "FAIL: the 1,001st job was accepted"; exit 1; fi
grep -q "queueFull.*'$Q'.*1000" "$WORK/full.log" || { echo "FAIL: no queueFull error naming the queue and limit:"; cat "$WORK/full.log"; exit 1; }
ready=$(ctl -q list_queues name messages | awk -v q="$Q" '$1 == q {print $2}')
echo "full queue: 1,001st enqueue refused: $(grep -o 'queueFull[^"]*' "$WORK/full.log" | head -1 | cut -c1-120); queue holds $ready"
((ready == 1000)) || { echo "FAIL: the queue holds $ready jobs"; exit 1; }
"$BIN" status --queue "$Q" >"$WORK/status.full" 2>&1 || true
grep -q "^FULL: '$Q' is at its limit of 1000" "$WORK/status.full" || { echo "FAIL: warren status does not say the queue is full:"; cat "$WORK/status.full"; exit 1; }
echo "warren status: $(grep '^FULL' "$WORK/status.full")"
ctl -q purge_queue "$Q" >/dev/null

# 2. Memory alarm: keep the window short.
ctl -q set_vm_memory_high_watermark 0.0000001 >/dev/null
start=$(date +%s%N)
if timeout 30 "$BIN" enqueue noop --queue "$Q" --timeout 2s 2>"$WORK/blocked.log"; then
  ctl -q set_vm_memory_high_watermark 0.4 >/dev/null
  echo "FAIL: enqueued with the alarm raised"; exit 1
fi
elapsed=$((($(date +%s%N) - start) / 1000000))
# The management API's node statistics lag the alarm by up to its 5 s statistics interval.
for _ in $(seq 1 15); do
  "$BIN" status --queue "$Q" >"$WORK/status.alarm" 2>&1 || true
  grep -q "^alarms: memory alarm" "$WORK/status.alarm" && break
  sleep 1
done
ctl -q set_vm_memory_high_watermark 0.4 >/dev/null
grep -q brokerBlocked "$WORK/blocked.log" || { echo "FAIL: no brokerBlocked error:"; cat "$WORK/blocked.log"; exit 1; }
echo "memory alarm: enqueue with a 2 s deadline failed with brokerBlocked after ${elapsed} ms"
grep -q "^alarms: memory alarm on backpressure@" "$WORK/status.alarm" || { echo "FAIL: warren status does not show the memory alarm:"; cat "$WORK/status.alarm"; exit 1; }
echo "warren status: $(grep '^alarms' "$WORK/status.alarm" | cut -c1-100)"
((elapsed < 15000)) || { echo "FAIL: took ${elapsed} ms"; exit 1; }
sleep 1
timeout 30 "$BIN" enqueue noop --queue "$Q" --timeout 10s 2>"$WORK/after.log" || { echo "FAIL: enqueue after the alarm"; cat "$WORK/after.log"; exit 1; }
echo "alarm cleared: enqueue succeeded"
echo "PASS"
