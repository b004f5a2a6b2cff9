#!/usr/bin/env bash
# Fault test: the broker is stopped and started again mid-run with 5,000 persistent `record` jobs in
# flight. Passes when every job is recorded (none lost); duplicates are reported. While the broker is down the
# worker's /readyz must answer 503, after it reconnects 200 again, and /metrics must count the reconnect.
# Runs its own broker instance (deploy/rabbitmq-local.sh with its own dir, node and ports 5695/5696) so the
# shared one on 5672 is never touched; it is stopped at the end. Bounded: about 5 minutes at most.
# Env: FAULT_JOBS (5000), WARREN_BIN (default .build/debug/warren), FAULT_KEEP=1 keeps the logs.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v swift >/dev/null && [[ -x /opt/swift/usr/bin/swift ]]; then export PATH=/opt/swift/usr/bin:$PATH; fi
N=${FAULT_JOBS:-5000}
# shellcheck source=scripts/lib/integration.sh
source scripts/lib/integration.sh
BIN=$(warren_bin)
export WARREN_RABBIT_DIR=${FAULT_RABBIT_DIR:-/tmp/warren-fault-rabbit} WARREN_RABBIT_PORT=5695 WARREN_RABBIT_TLS_PORT=5696 \
  WARREN_RABBIT_MGMT_PORT=15695 WARREN_RABBIT_NODE=warrenfault@localhost
BROKER=deploy/rabbitmq-local.sh
export WARREN_URL=amqp://guest:guest@127.0.0.1:5695/%2F WARREN_LOG_LEVEL=info
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
Q=fault.restart.$$.$RANDOM
WORK=$(mktemp -d)
RECORD=$WORK/record.txt
: >"$RECORD"
worker_pid=""

cleanup() {
  [[ -n $worker_pid ]] && kill -9 "$worker_pid" 2>/dev/null || true
  timeout 120 $BROKER stop >/dev/null 2>&1 || true
  if [[ ${FAULT_KEEP:-0} == 1 ]]; then echo "logs kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

http() { curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://127.0.0.1:$PORT$1" || true; }
metric() { curl -s --max-time 3 "http://127.0.0.1:$PORT/metrics" | awk -v n="$1" '$1 ~ "^"n"[{ ]" || $1 == n {print $2; exit}'; }
lines() { wc -l <"$RECORD"; }
unique() { cut -d' ' -f1 "$RECORD" | sort -u | wc -l; }
# Waits up to $2 seconds for `http $1` to answer $3.
wait_http() {
  local deadline=$((SECONDS + $2))
  until [[ $(http "$1") == "$3" ]]; do
    ((SECONDS < deadline)) || { echo "FAIL: $1 did not answer $3 within $2 s (last: $(http "$1"))"; tail -20 "$WORK/worker.log"; exit 1; }
    sleep 0.2
  done
}

$BROKER reset >/dev/null 2>&1 || true  # start from empty broker data: every run declares its topology afresh
timeout 150 $BROKER start
echo "enqueueing $N persistent record jobs into $Q"
timeout 120 "$BIN" enqueue record --args "{\"file\":\"$RECORD\"}" --queue "$Q" --count "$N" --id job 2>"$WORK/enqueue.log"
"$BIN" worker --queue "$Q" --concurrency 50 --grace 5 --metrics-port "$PORT" >>"$WORK/worker.log" 2>&1 &
worker_pid=$!
wait_http /readyz 60 200
echo "worker ready (/readyz 200), metrics on :$PORT"

deadline=$((SECONDS + 120))
until (($(lines) >= N / 5)); do
  ((SECONDS < deadline)) || { echo "FAIL: worker did not get going"; tail -20 "$WORK/worker.log"; exit 1; }
  sleep 0.05
done
echo "stopping the broker at $(lines) records"
timeout 120 $BROKER stop
wait_http /readyz 30 503
echo "broker down: /readyz 503, /healthz $(http /healthz), warren_connection_up $(metric warren_connection_up)"
[[ $(http /healthz) == 200 ]] || { echo "FAIL: /healthz must stay 200 while recovering"; exit 1; }
timeout 150 $BROKER start
wait_http /readyz 90 200
echo "broker back: /readyz 200 after reconnect, warren_reconnects_total $(metric warren_reconnects_total)"

deadline=$((SECONDS + 180))
until (($(unique) >= N)); do
  ((SECONDS < deadline)) || break
  sleep 0.2
done
sleep 2
reconnects=$(metric warren_reconnects_total)
kill -TERM "$worker_pid"; wait "$worker_pid" || true; worker_pid=""
timeout 30 $BROKER ctl -q delete_queue "$Q" >/dev/null 2>&1 || true
timeout 30 $BROKER ctl -q delete_queue "$Q.dead" >/dev/null 2>&1 || true

total=$(lines); uniq=$(unique)
echo "fault-broker-restart: jobs=$N recorded=$total unique=$uniq lost=$((N - uniq)) duplicates=$((total - uniq)) reconnects=$reconnects"
((uniq == N)) || { echo "FAIL: $((N - uniq)) jobs lost"; tail -30 "$WORK/worker.log"; exit 1; }
[[ ${reconnects%.*} -ge 1 ]] || { echo "FAIL: warren_reconnects_total did not count the reconnect"; exit 1; }
echo "PASS"
