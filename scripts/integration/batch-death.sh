#!/usr/bin/env bash
# Batch (fan-in) with deaths, on SQLite and on PostgreSQL: 1,000 children of which 3 (`fail` jobs) die after
# their retries; callbacks `success`, `complete` and `death` are `record` jobs. `death` must run once,
# `complete` once and only after every other child, `success` never; the ledger counts 997 succeeded, 3 dead.
# Then bad input: a child whose batch header is malformed is dead-lettered `undecodable` with a reason, and
# one naming a batch the store never saw is dead-lettered `non-retryable` saying so; `warren workflow start`
# refuses a batch file when no job store is configured.
# Env: WARREN_TEST_URL (broker), BATCH_CHILDREN (default 1000), STORE_BACKENDS.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v swift >/dev/null && [[ -x /opt/swift/usr/bin/swift ]]; then export PATH=/opt/swift/usr/bin:$PATH; fi
N=${BATCH_CHILDREN:-1000}
# shellcheck source=scripts/lib/batch.sh
source scripts/lib/batch.sh
batch_drill_init

# Children 10, N/2 and N-1 die (`fail`: 3 attempts, then dead-lettered); the rest record.
child() {
  if (($1 == 10 || $1 == N / 2 || $1 == N - 1)); then echo "{\"job\": \"fail\", \"args\": {\"message\": \"child $1 dies\"}}"; else record_job; fi
}

# dead_letter PATTERN: waits (30 s at most) for a dead letter on $Q matching PATTERN and prints it.
dead_letter() {
  local deadline=$((SECONDS + 30)) found=""
  until [[ -n $found ]]; do
    ((SECONDS < deadline)) || { echo "FAIL [$STORE_BACKEND]: no dead letter matching '$1'" >&2; return 1; }
    found=$("$BIN" dlq list --queue "$Q" --json 2>/dev/null | grep -- "$1" || true)
    sleep 0.3
  done
  echo "$found"
}

drill() {
  local backend=$1 id
  batch_drill_start "$backend" deaths
  id=$BATCH
  batch_file "$DIR/batch.json" "$id" "$Q" \
    "\"on_success\": $(record_job), \"on_complete\": $(record_job), \"on_death\": $(record_job)" child

  "$BIN" worker --queue "$Q" --concurrency 20 >>"$WORK/worker.log" 2>&1 &
  worker_pid=$!
  wait_consumers "$WORK/worker.log" "$Q"
  echo "[$backend] started batch $("$BIN" workflow start "$DIR/batch.json"): $N children, 3 of them dying, on $Q"
  wait_callback "$id" complete 120
  local death complete success before ledger
  death=$(callback_runs "$id" death)
  complete=$(callback_runs "$id" complete)
  success=$(callback_runs "$id" success)
  before=$(children_before "$id" complete)
  ledger=$(batch_ledger "$id")
  echo "[$backend] batch-death: children=$N death=$death complete=$complete success=$success" \
       "children recorded before complete=$before ledger(pending succeeded dead)=$ledger"
  ((death == 1)) || { echo "FAIL [$backend]: death ran $death times"; exit 1; }
  ((complete == 1)) || { echo "FAIL [$backend]: complete ran $complete times"; exit 1; }
  ((success == 0)) || { echo "FAIL [$backend]: success ran though children died"; exit 1; }
  ((before == N - 3)) || { echo "FAIL [$backend]: complete ran before $((N - 3 - before)) children"; exit 1; }
  [[ $ledger == "0 $((N - 3)) 3" ]] || { echo "FAIL [$backend]: the ledger says $ledger"; exit 1; }

  echo "[$backend] == bad input: a malformed batch header, then a batch the store never saw"
  local lines dead
  lines=$(record_lines)
  amqp-publish --url="$WARREN_URL" -e warren -r "$Q" -p -C application/json \
    -H "warren-job: record" -H $'warren-batch: two\nlines' -b "{\"file\":\"$RECORD\"}"
  dead=$(dead_letter "must be a batch id")
  echo "$dead" | grep -q 'undecodable' || { echo "FAIL [$backend]: not dead-lettered as undecodable: $dead"; exit 1; }
  echo "[$backend] dead-lettered: $(echo "$dead" | head -c 300)"
  ((lines == $(record_lines))) || { echo "FAIL [$backend]: the malformed child ran"; exit 1; }
  amqp-publish --url="$WARREN_URL" -e warren -r "$Q" -p -C application/json \
    -H "warren-job: record" -H "warren-batch: never-opened-$id" -b "{\"file\":\"$RECORD\"}"
  dead=$(dead_letter "never-opened-$id is unknown")
  echo "$dead" | grep -q 'non-retryable' || { echo "FAIL [$backend]: not dead-lettered as non-retryable: $dead"; exit 1; }
  echo "[$backend] dead-lettered: $(echo "$dead" | head -c 300)"
  stop_gracefully "$worker_pid"
  worker_pid=""
  batch_forget "$id"
  echo "[$backend] PASS"
}

echo "== a batch without a job store is refused before anything is published"
printf 'batch:\n  children: [{job: noop}]\n  on_success: {job: noop}\n' >"$WORK/no-store.yaml"
if refused=$(env -u WARREN_STORE -u WARREN_STORE_FILE "$BIN" workflow start "$WORK/no-store.yaml" 2>&1); then
  echo "FAIL: a batch started without WARREN_STORE"; exit 1
fi
echo "$refused" | grep -q "a batch (fan-in) needs a job store: set WARREN_STORE" || { echo "FAIL: unclear refusal: $refused"; exit 1; }
echo "refused: $refused"

for backend in ${STORE_BACKENDS:-sqlite postgres}; do drill "$backend"; done
echo "PASS"
