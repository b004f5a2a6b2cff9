#!/usr/bin/env bash
# Limits across workers, with three `warren worker` processes on the local broker:
# 1. --global-limit span=4, 400 `span` jobs of 50 ms: never more than 4 spans overlap (computed from the
#    recorded start/end times); one worker is SIGKILLed mid-run: its leases come back and every job runs.
# 2. --rate-limit span=200/s, 3,000 `span` jobs of 0 ms: from the 1,001st start on, the start rate is
#    180-220/s. The rate over the whole run is printed, not tested: it includes the burst (200 saved tokens)
#    and the tokens jobs took while three workers were starting, whose starts then bunch up (up to 565 in
#    the first second measured, while starts 1,001-3,000 ran at 200.1-200.4/s): 202-229/s over the run.
# Env: WARREN_URL (default the local broker), WARREN_BIN (default .build/debug/warren), LIMITS_KEEP=1 keeps logs.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v swift >/dev/null 2>&1; then export PATH=/opt/swift/usr/bin:$PATH; fi
# shellcheck source=scripts/lib/integration.sh
source scripts/lib/integration.sh
BIN=$(warren_bin)
export WARREN_URL=${WARREN_URL:-amqp://guest:guest@127.0.0.1:5672/%2F} WARREN_LOG_LEVEL=${WARREN_LOG_LEVEL:-warning}
WORK=$(mktemp -d)
RUN=$$.$RANDOM
Q1=limits.global.$RUN Q2=limits.rate.$RUN
pids=()

cleanup() {
  local p
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  delete_queues "$Q1" "$Q1.dead" "$Q2" "$Q2.dead" "warren.limit.span.n4" "warren.rate.span"
  amqp-delete-queue --url="$WARREN_URL" -q "warren.limit.span.n4" >/dev/null 2>&1 || true
  timeout 30 deploy/rabbitmq-local.sh ctl -q eval 'rabbit_exchange:delete(rabbit_misc:r(<<"/">>, exchange, <<"warren.limit.span.n4.filled">>), false, <<"cleanup">>).' >/dev/null 2>&1 || true
  if [[ ${LIMITS_KEEP:-0} == 1 ]]; then echo "logs kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

workers() {  # queue, log prefix, limit options...
  local q=$1 tag=$2 i
  shift 2
  pids=()
  for i in 1 2 3; do
    "$BIN" worker --queue "$q" --concurrency 8 --grace 5 "$@" >>"$WORK/$tag.$i.log" 2>&1 &
    pids+=($!)
  done
}
stop_workers() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
wait_lines() {  # file, count, seconds
  local deadline=$((SECONDS + $3))
  until (($(cut -d' ' -f1 "$1" | sort -u | wc -l) >= $2)); do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

# 1. Global concurrency limit, with a worker SIGKILLed.
SPANS=$WORK/spans.txt
: >"$SPANS"
"$BIN" topology declare --queue "$Q1" >/dev/null
workers "$Q1" global --global-limit span=4
"$BIN" enqueue span --queue "$Q1" --args "{\"file\":\"$SPANS\",\"ms\":50}" --count 400 2>>"$WORK/enqueue.log"
wait_lines "$SPANS" 100 120 || { echo "FAIL: the workers did not get going"; tail -5 "$WORK"/global.*.log; exit 1; }
echo "SIGKILL of worker ${pids[0]} at $(wc -l <"$SPANS") spans"
kill -9 "${pids[0]}"
wait_lines "$SPANS" 400 180 || { echo "FAIL: only $(cut -d' ' -f1 "$SPANS" | sort -u | wc -l) of 400 jobs ran"; exit 1; }
stop_workers
most=$(awk '{print $2, 1; print $3, -1}' "$SPANS" | sort -k1,1n -k2,2n | awk '{n += $2; if (n > m) m = n} END {print m}')
echo "global limit: 400 jobs, $(wc -l <"$SPANS") runs recorded, at most $most overlapping (limit 4)"
((most <= 4)) || { echo "FAIL: $most spans overlapped"; exit 1; }

# 2. Rate limit.
STARTS=$WORK/starts.txt
: >"$STARTS"
"$BIN" topology declare --queue "$Q2" >/dev/null
"$BIN" enqueue span --queue "$Q2" --args "{\"file\":\"$STARTS\",\"ms\":0}" --count 3000 2>>"$WORK/enqueue.log"
workers "$Q2" rate --rate-limit span=200/s
wait_lines "$STARTS" 3000 120 || { echo "FAIL: only $(wc -l <"$STARTS") of 3000 jobs ran"; exit 1; }
stop_workers
sort -n -k2,2 "$STARTS" | awk '{print $2}' >"$WORK/start-times.txt"
rate=$(awk 'NR == 1001 {f = $1} NR >= 1001 {l = $1; n++} END {printf "%.1f", (n - 1) * 1000 / (l - f)}' "$WORK/start-times.txt")
overall=$(awk 'NR == 1 {f = $1} {l = $1; n++} END {printf "%.1f", (n - 1) * 1000 / (l - f)}' "$WORK/start-times.txt")
# Most starts within one second of any start (a sliding window over the sorted times).
peak=$(awk '{t[NR] = $1} END {j = 1; for (i = 1; i <= NR; i++) {while (t[i] - t[j] >= 1000) j++; if (i - j + 1 > m) m = i - j + 1}; print m}' "$WORK/start-times.txt")
echo "rate limit: 3000 jobs, starts 1,001-3,000 at $rate/s (limit 200/s); $overall/s over the run; at most $peak in one second"
awk -v r="$rate" 'BEGIN {exit !(r >= 180 && r <= 220)}' || { echo "FAIL: rate $rate/s outside 180-220/s"; exit 1; }
echo "PASS"
