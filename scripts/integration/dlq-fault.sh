#!/usr/bin/env bash
# Fault test: 5,000 dead jobs; `warren dlq requeue --all` is killed with SIGKILL at random points three
# times, then run to completion. Every job id must then be in the work queue or the dead-letter queue (none
# missing); duplicates are counted and must stay within the bound (one confirm batch per kill).
# Env: WARREN_TEST_URL (broker), FAULT_JOBS (default 5000), FAULT_BATCH (default 200),
#      FAULT_RATE (msg/s while it may be killed, default 800: three kills always land mid-run), WARREN_BIN (default .build/debug/warren).
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v swift >/dev/null && [[ -x /opt/swift/usr/bin/swift ]]; then export PATH=/opt/swift/usr/bin:$PATH; fi
export WARREN_URL=${WARREN_TEST_URL:-amqp://guest:guest@127.0.0.1:5672/%2F}
export WARREN_LOG_LEVEL=warning
N=${FAULT_JOBS:-5000}
BATCH=${FAULT_BATCH:-200}
RATE=${FAULT_RATE:-800}
# shellcheck source=scripts/lib/integration.sh
source scripts/lib/integration.sh
BIN=$(warren_bin)
Q=fault.dlq.$$.$RANDOM
WORK=$(mktemp -d)
pid=""

cleanup() {
  [[ -n $pid ]] && kill -9 "$pid" 2>/dev/null || true
  delete_queues "$Q" "$Q.dead"
  rm -rf "$WORK"
}
trap cleanup EXIT

# Declares the topology (through enqueue), then takes the one job back out.
"$BIN" enqueue noop --queue "$Q" --max-priority 0 >/dev/null 2>&1
timeout 10 amqp-get --url="$WARREN_URL" -q "$Q" >/dev/null

echo "importing $N dead jobs into $Q.dead"
python3 - "$Q" "$N" >"$WORK/dead.jsonl" <<'PY'
import base64, json, sys, time
q, n, now = sys.argv[1], int(sys.argv[2]), int(time.time() * 1000)
def s(v): return {"type": "string", "value": v}
for i in range(n):
    headers = {"warren-job": s("noop"), "warren-queue": s(q), "warren-attempt": {"type": "int32", "value": 3},
               "warren-dead-reason": s("exhausted"), "warren-error-type": s("Boom"), "warren-error-message": s("fault test"),
               "warren-dead-at": {"type": "int64", "value": now}}
    print(json.dumps({"format": "warren-dlq/1", "queue": q + ".dead", "body": base64.b64encode(b'{"i":%d}' % i).decode(),
                      "properties": {"contentType": "application/json", "deliveryMode": 2, "messageID": "job-%05d" % i, "headers": headers}}))
PY
timeout 120 "$BIN" dlq import "$WORK/dead.jsonl" 2>&1 | tail -1

dead_count() { timeout 60 "$BIN" dlq stats --queue "$Q" --json 2>/dev/null | grep -o '"count":[0-9]*' | cut -d: -f2; }

kills=0
for round in 1 2 3; do
  "$BIN" dlq requeue --all --queue "$Q" --batch "$BATCH" --rate "$RATE" >"$WORK/run$round.log" 2>&1 &
  pid=$!
  sleep "$(python3 -c 'import random; print(round(random.uniform(0.3, 1.5), 2))')"
  if kill -9 "$pid" 2>/dev/null; then kills=$((kills + 1)); killed="SIGKILL requeue mid-run"; else killed="run had already finished"; fi
  wait "$pid" 2>/dev/null || true
  pid=""
  echo "round $round: $killed; $(dead_count) jobs left in the dead-letter queue"
done

echo "rerunning to completion"
timeout 300 "$BIN" dlq requeue --all --queue "$Q" --batch "$BATCH" 2>&1 | grep -v '^note:' || true

# Count every job id in both queues (export browses: it leaves them as they are).
timeout 120 "$BIN" dlq export --queue "$Q" --exact-queue-names -o "$WORK/work.jsonl" 2>/dev/null
timeout 120 "$BIN" dlq export --queue "$Q" -o "$WORK/left.jsonl" 2>/dev/null
ids() { grep -o '"messageID":"job-[0-9]*"' "$@" | sed 's/.*"job-/job-/; s/"$//' || true; }
in_work=$(wc -l <"$WORK/work.jsonl")
in_dead=$(wc -l <"$WORK/left.jsonl")
total=$((in_work + in_dead))
uniq=$(cat "$WORK/work.jsonl" "$WORK/left.jsonl" | ids | sort -u | wc -l)
missing=$((N - uniq))
dups=$((total - uniq))
bound=$((kills * BATCH))
echo "dlq-fault: jobs=$N kills=$kills in_work_queue=$in_work in_dlq=$in_dead unique=$uniq missing=$missing duplicates=$dups (bound $bound = batch $BATCH x $kills kills)"
if ((missing != 0)); then echo "FAIL: $missing jobs lost"; exit 1; fi
if ((dups > bound)); then echo "FAIL: $dups duplicates exceed the bound $bound"; exit 1; fi
echo "PASS"
