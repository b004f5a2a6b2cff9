#!/usr/bin/env bash
# Fan-in fault drill, on SQLite and on PostgreSQL: a chain whose first step is a group of 2,000 `record`
# jobs followed by two `record` steps, started with `warren workflow start` (the group is a batch whose
# success callback continues the chain); the worker (with the job store) is killed with SIGKILL twice while
# the group runs and restarted. Afterwards every group job is recorded, the step after the group ran exactly
# once, after every group job, then the last step once; the ledger counts each group job once. Duplicate
# group-job runs (jobs killed before their ack): at most the prefetch per kill.
# Env: WARREN_TEST_URL (broker), FAULT_CHILDREN (default 2000), FAULT_PREFETCH (default 50), STORE_BACKENDS.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v swift >/dev/null && [[ -x /opt/swift/usr/bin/swift ]]; then export PATH=/opt/swift/usr/bin:$PATH; fi
N=${FAULT_CHILDREN:-2000}
PREFETCH=${FAULT_PREFETCH:-50}
# shellcheck source=scripts/lib/batch.sh
source scripts/lib/batch.sh
batch_drill_init

# workflow_file OUT ID: the chain [group of $N record jobs, record, record] on $Q.
workflow_file() {
  local i
  {
    echo "{\"id\": \"$2\", \"queue\": \"$Q\", \"steps\": [{\"group\": ["
    for ((i = 1; i <= N; i++)); do
      record_job
      ((i == N)) || echo ","
    done
    echo "]}, $(record_job), $(record_job)]}"
  } >"$1"
}

drill() {
  local backend=$1 id
  batch_drill_start "$backend" fanin
  id=$BATCH
  workflow_file "$DIR/chain.json" "$id"

  start_worker
  wait_consumers "$WORK/worker.log" "$Q"
  echo "[$backend] started chain $("$BIN" workflow start "$DIR/chain.json"): a group of $N record jobs, then 2 record steps, on $Q"
  kill_worker_at $((N / 5)) $((N / 2))
  local deadline=$((SECONDS + 240))
  until grep -q "^$id\.3 " "$RECORD"; do
    ((SECONDS < deadline)) || { echo "FAIL [$backend]: the last step never ran"; tail -20 "$WORK/worker.log"; exit 1; }
    sleep 0.2
  done
  sleep 2  # a second continuation shows up here
  stop_gracefully "$worker_pid"
  worker_pid=""
  local next last children before ledger group_lines dups
  next=$(callback_runs "$id" 2)
  last=$(callback_runs "$id" 3)
  children=$(cut -d' ' -f1 "$RECORD" | sort -u | grep -c "^$id\.1\.[0-9]*$")
  group_lines=$(grep -c "^$id\.1\.[0-9]* " "$RECORD")
  before=$(awk -v cb="$id.2" -v prefix="$id.1." '$1 == cb { exit } index($1, prefix) == 1 { print $1 }' "$RECORD" | sort -u | wc -l)
  ledger=$(batch_ledger "$id.1")
  dups=$((group_lines - children))
  echo "[$backend] workflow-fanin-kill: group jobs=$N recorded=$group_lines unique=$children before the next step=$before" \
       "next step runs=$next last step runs=$last ledger(pending succeeded dead)=$ledger duplicate group-job runs=$dups" \
       "(bound $((2 * PREFETCH)) = prefetch x 2 kills)"
  ((dups <= 2 * PREFETCH)) || { echo "FAIL [$backend]: $dups duplicate group-job runs exceed the bound"; exit 1; }
  ((children == N)) || { echo "FAIL [$backend]: $((N - children)) group jobs never recorded"; exit 1; }
  ((next == 1)) || { echo "FAIL [$backend]: the step after the group ran $next times"; exit 1; }
  ((last == 1)) || { echo "FAIL [$backend]: the last step ran $last times"; exit 1; }
  ((before == N)) || { echo "FAIL [$backend]: the step after the group ran before $((N - before)) group jobs"; exit 1; }
  [[ $ledger == "0 $N 0" ]] || { echo "FAIL [$backend]: the ledger says $ledger, not 0 $N 0"; exit 1; }
  batch_forget "$id.1"
  store_sql "DELETE FROM warren_jobs WHERE id LIKE '$id.%'" >/dev/null
  echo "[$backend] PASS"
}

for backend in ${STORE_BACKENDS:-sqlite postgres}; do drill "$backend"; done
echo "PASS"
