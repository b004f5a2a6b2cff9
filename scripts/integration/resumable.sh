#!/usr/bin/env bash
# Resumable jobs: one `iterate` job of 1,000 items (5 ms each, "<id> <item> <attempt>" per item). Its worker is
# stopped with SIGTERM twice mid-job with a 0.3 s grace (the job is interrupted and republished with its
# cursor), then SIGKILLed once (the in-memory checkpoint is lost: the job resumes at the cursor its message
# carries). Counts: every item recorded; at most one item repeated per SIGTERM; after the SIGKILL at most the
# items the killed worker did; the attempt stays 1 throughout; nothing dead-lettered.
# Env: WARREN_TEST_URL (broker), WARREN_BIN (default the debug build).
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/lib/integration.sh
source scripts/lib/integration.sh
integration_env
BIN=$(warren_bin)
ITEMS=1000
Q=resumable.$$.$RANDOM
WORK=$(mktemp -d)
RECORD=$WORK/record.txt
: >"$RECORD"
worker_pid=""
trap 'finish_run "$worker_pid" "" "$Q" "$Q.dead"' EXIT

start_worker() {
  "$BIN" worker --queue "$Q" --concurrency 4 --grace 0.3 >>"$WORK/worker.log" 2>&1 &
  worker_pid=$!
}
# The worker is stopped (SIGTERM or SIGKILL) once $RECORD has $2 lines; prints the line count then.
stop_at() {
  wait_records "$2"
  kill "-$1" "$worker_pid"
  wait "$worker_pid" 2>/dev/null || true
  stopped_at=$(record_lines)
  echo "SIG$1 worker at $stopped_at items"
  ((stopped_at < ITEMS)) || { echo "FAIL: the job ended before the SIG$1: nothing was interrupted"; exit 1; }
}

"$BIN" topology declare --queue "$Q" >/dev/null
"$BIN" enqueue iterate --queue "$Q" --id resumable --args "{\"file\":\"$RECORD\",\"items\":$ITEMS,\"ms\":5}" >/dev/null
start_worker
stop_at TERM 150
start_worker
stop_at TERM 400
start_worker
termed_at=$stopped_at  # every line after this one is the next worker's
stop_at KILL 650
killed_did=$((stopped_at - termed_at))
start_worker
deadline=$((SECONDS + 180))
until (($(cut -d' ' -f2 "$RECORD" | sort -u | wc -l) >= ITEMS)); do
  ((SECONDS < deadline)) || break
  sleep 0.2
done
sleep 1  # a last repeat, if any, lands
stop_gracefully "$worker_pid"
worker_pid=""

total=$(record_lines)
unique=$(cut -d' ' -f2 "$RECORD" | sort -u | wc -l)
attempts=$(cut -d' ' -f3 "$RECORD" | sort -u | tr '\n' ' ')
dead=$(ruby scripts/lib/broker.rb count "$Q.dead" 2>/dev/null || echo "?")
bound=$((2 + killed_did))
echo "resumable: items=$ITEMS recorded=$total unique=$unique missing=$((ITEMS - unique)) repeated=$((total - unique))" \
  "(bound $bound = 1 per SIGTERM x 2 + $killed_did done by the SIGKILLed worker) attempts=[${attempts% }] dead-lettered=$dead"
((unique == ITEMS)) || { echo "FAIL: $((ITEMS - unique)) items never recorded"; tail -20 "$WORK/worker.log"; exit 1; }
((total - unique <= bound)) || { echo "FAIL: $((total - unique)) items repeated, bound $bound"; exit 1; }
[[ ${attempts% } == 1 ]] || { echo "FAIL: attempts [$attempts]: an interruption counted as a failed attempt"; exit 1; }
[[ $dead == 0 ]] || { echo "FAIL: $dead dead-lettered"; exit 1; }
echo "PASS"
