#!/usr/bin/env bash
# Batch (fan-in) fault drill, on SQLite and on PostgreSQL: a batch of 10,000 `record` children with a
# `record` success callback, started with `warren workflow start`; the worker (with the job store) is killed
# with SIGKILL twice mid-run and restarted. Afterwards every child is recorded, the callback ran once under
# its one id (<batch>.success), only after every child, and the store's ledger counts each child once;
# duplicate child runs (children killed before their ack) at most the prefetch per kill.
# Env: WARREN_TEST_URL (broker), FAULT_CHILDREN (default 10000), FAULT_PREFETCH (default 50), STORE_BACKENDS.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v swift >/dev/null && [[ -x /opt/swift/usr/bin/swift ]]; then export PATH=/opt/swift/usr/bin:$PATH; fi
N=${FAULT_CHILDREN:-10000}
PREFETCH=${FAULT_PREFETCH:-50}
# shellcheck source=scripts/lib/batch.sh
source scripts/lib/batch.sh
batch_drill_init

drill() {
  local backend=$1 id
  batch_drill_start "$backend" kill
  id=$BATCH
  batch_file "$DIR/batch.json" "$id" "$Q" "\"on_success\": $(record_job)" record_job

  start_worker
  wait_consumers "$WORK/worker.log" "$Q"
  echo "[$backend] started batch $("$BIN" workflow start "$DIR/batch.json"): $N record children on $Q"
  kill_worker_at $((N / 5)) $((N / 2))
  wait_callback "$id" success 240
  stop_gracefully "$worker_pid"
  worker_pid=""
  local runs children before ledger dups
  runs=$(callback_runs "$id" success)
  children=$(cut -d' ' -f1 "$RECORD" | sort -u | grep -c "^$id\.[0-9]*$")
  before=$(children_before "$id" success)
  ledger=$(batch_ledger "$id")
  dups=$(($(record_lines) - children - runs))
  echo "[$backend] batch-worker-kill: children=$N recorded=$(record_lines) unique children=$children before the callback=$before" \
       "callback runs=$runs ledger(pending succeeded dead)=$ledger duplicate child runs=$dups (bound $((2 * PREFETCH)) = prefetch x 2 kills)"
  ((dups <= 2 * PREFETCH)) || { echo "FAIL [$backend]: $dups duplicate child runs exceed the bound"; exit 1; }
  ((children == N)) || { echo "FAIL [$backend]: $((N - children)) children never recorded"; exit 1; }
  ((runs == 1)) || { echo "FAIL [$backend]: the callback ran $runs times"; exit 1; }
  ((before == N)) || { echo "FAIL [$backend]: the callback ran before $((N - before)) children"; exit 1; }
  [[ $ledger == "0 $N 0" ]] || { echo "FAIL [$backend]: the ledger says $ledger, not 0 $N 0"; exit 1; }
  batch_forget "$id"
  echo "[$backend] PASS"
}

for backend in ${STORE_BACKENDS:-sqlite postgres}; do drill "$backend"; done
echo "PASS"
