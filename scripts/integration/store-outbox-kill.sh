#!/usr/bin/env bash
# Transactional enqueue fault drill (PostgreSQL): 5,000 `record` jobs are written into the outbox, one per
# transaction, and every third transaction rolls back; the outbox relay is killed with SIGKILL twice
# mid-run and restarted. Exactly the committed jobs must run (each at least once; duplicates at most the
# relay's batch size per kill) and none of the rolled-back ones.
# Env: WARREN_TEST_URL (broker), OUTBOX_JOBS (default 5000), OUTBOX_BATCH (default 100).
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v swift >/dev/null && [[ -x /opt/swift/usr/bin/swift ]]; then export PATH=/opt/swift/usr/bin:$PATH; fi
export WARREN_URL=${WARREN_TEST_URL:-amqp://guest:guest@127.0.0.1:5672/%2F}
export WARREN_LOG_LEVEL=warning
N=${OUTBOX_JOBS:-5000}
BATCH=${OUTBOX_BATCH:-100}
# shellcheck source=scripts/lib/integration.sh
source scripts/lib/integration.sh
# shellcheck source=scripts/lib/store.sh
source scripts/lib/store.sh
BIN=$(warren_bin)
WORK=$(mktemp -d)
use_store postgres "$WORK"
Q=store.outbox.$$.$RANDOM
LOCK=warren.outbox.lock.$$.$RANDOM
RECORD=$WORK/record.txt
PREFIX=outbox-$$-$RANDOM
: >"$RECORD"
worker_pid=""
relay_pid=""
writer_pid=""

cleanup() {
  for p in $worker_pid $relay_pid $writer_pid; do kill -9 "$p" 2>/dev/null || true; done
  store_sql "DELETE FROM warren_outbox WHERE id LIKE '$PREFIX-%'; DELETE FROM warren_jobs WHERE id LIKE '$PREFIX-%'" >/dev/null 2>&1 || true
  delete_queues "$Q" "$Q.dead"
  rm -rf "$WORK"
}
trap cleanup EXIT

start_relay() {
  "$BIN" outbox relay --batch-size "$BATCH" --poll 200ms --lock-queue "$LOCK" >>"$WORK/relay.log" 2>&1 &
  relay_pid=$!
}

lines() { wc -l <"$RECORD"; }

"$BIN" store migrate >/dev/null
# The queue must exist before the relay publishes to it (the relay checks routes, like any producer).
"$BIN" worker --queue "$Q" --concurrency 50 >>"$WORK/worker.log" 2>&1 &
worker_pid=$!
sleep 2
start_relay

# The application: one transaction per job, every third rolled back; all ids listed for the check.
{
  for ((i = 1; i <= N; i++)); do
    id=$PREFIX-$i
    end=COMMIT
    if ((i % 3 == 0)); then end=ROLLBACK; else echo "$id" >>"$WORK/committed.txt"; fi
    printf "BEGIN; INSERT INTO warren_outbox (id, name, queue, arguments, created_at) VALUES ('%s', 'record', '%s', '{\"file\":\"%s\"}', 0); NOTIFY warren_outbox; %s;\n" \
      "$id" "$Q" "$RECORD" "$end"
  done
} >"$WORK/app.sql"
committed=$(wc -l <"$WORK/committed.txt")
deploy/postgres-local.sh psql -q -f "$WORK/app.sql" >/dev/null &
writer_pid=$!

for threshold in $((committed / 5)) $((committed / 2)); do
  deadline=$((SECONDS + 180))
  until (($(lines) >= threshold)); do
    ((SECONDS < deadline)) || { echo "FAIL: only $(lines) of $threshold records after 180 s"; tail -20 "$WORK/relay.log"; exit 1; }
    sleep 0.05
  done
  kill -9 "$relay_pid"
  wait "$relay_pid" 2>/dev/null || true
  echo "SIGKILL relay at $(lines) records"
  # The killed relay's broker connection (and so its lock) goes when the broker notices the dead socket.
  start_relay
done
wait "$writer_pid"
writer_pid=""

unique() { cut -d' ' -f1 "$RECORD" | sort -u | wc -l; }
deadline=$((SECONDS + 240))
until (($(unique) >= committed)); do
  ((SECONDS < deadline)) || break
  sleep 0.2
done
sleep 1
for p in $relay_pid $worker_pid; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
relay_pid=""
worker_pid=""

cut -d' ' -f1 "$RECORD" | sort -u >"$WORK/ran.txt"
sort -u "$WORK/committed.txt" >"$WORK/expected.txt"
missing=$(comm -23 "$WORK/expected.txt" "$WORK/ran.txt" | wc -l)
extra=$(comm -13 "$WORK/expected.txt" "$WORK/ran.txt" | wc -l)
total=$(lines)
uniq=$(wc -l <"$WORK/ran.txt")
dups=$((total - uniq))
left=$(store_sql "SELECT count(*) FROM warren_outbox WHERE id LIKE '$PREFIX-%'")
bound=$((2 * BATCH))
echo "store-outbox-kill: transactions=$N committed=$committed rolled_back=$((N - committed)) ran=$uniq missing=$missing" \
     "rolled_back_ran=$extra duplicates=$dups (bound $bound = batch x 2 kills) outbox_left=$left"
if ((missing != 0)); then echo "FAIL: $missing committed jobs never ran"; exit 1; fi
if ((extra != 0)); then echo "FAIL: $extra rolled-back jobs ran"; exit 1; fi
if ((dups > bound)); then echo "FAIL: $dups duplicates exceed the bound $bound"; exit 1; fi
if ((left != 0)); then echo "FAIL: $left rows left in the outbox"; exit 1; fi
echo "PASS"
