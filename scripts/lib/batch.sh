# Shared by the batch drills (sourced, not run): their set-up, batch files and the store's ledger of a batch.
# shellcheck source=scripts/lib/integration.sh
source scripts/lib/integration.sh
# shellcheck source=scripts/lib/store.sh
source scripts/lib/store.sh

# The drill's environment (integration_env), $BIN, and its scratch state (drill_init).
batch_drill_init() {
  integration_env
  BIN=$(warren_bin)
  drill_init
}

# start_worker: a worker with the job store on $Q, concurrency and prefetch $PREFETCH, logging to
# $WORK/worker.log (kill_worker_at starts it again after each kill).
start_worker() {
  "$BIN" worker --queue "$Q" --concurrency "$PREFETCH" --prefetch "$PREFETCH" >>"$WORK/worker.log" 2>&1 &
  worker_pid=$!
}

# batch_drill_start BACKEND NAME: points the store at BACKEND (scratch $DIR=$WORK/BACKEND) and sets $Q, an
# empty $RECORD and a batch id $BATCH, all unique to this run.
batch_drill_start() {
  DIR=$WORK/$1
  mkdir -p "$DIR"
  use_store "$1" "$DIR"
  Q=batch.$2.$1.$$.$RANDOM
  BATCH=$2-$$-$RANDOM-$1
  RECORD=$DIR/record.txt
  : >"$RECORD"
}

# batch_file OUT ID QUEUE CALLBACKS CHILD: writes a batch file of $N children to OUT; CALLBACKS is JSON
# members ("on_success": {...}, ...); CHILD is a function printing child I's job as JSON.
batch_file() {
  local out=$1 id=$2 queue=$3 callbacks=$4 child=$5 i
  {
    echo "{\"batch\": {\"id\": \"$id\", \"queue\": \"$queue\", $callbacks, \"children\": ["
    for ((i = 1; i <= N; i++)); do
      "$child" "$i"
      ((i == N)) || echo ","
    done
    echo "]}}"
  } >"$out"
}

# record_job: a `record` job appending to $RECORD, as JSON.
record_job() { echo "{\"job\": \"record\", \"args\": {\"file\": \"$RECORD\"}}"; }

# wait_callback ID KIND SECONDS: waits until $RECORD has the line of callback ID.KIND; fails after SECONDS.
wait_callback() {
  local deadline=$((SECONDS + $3))
  until grep -q "^$1\.$2 " "$RECORD"; do
    ((SECONDS < deadline)) || { echo "FAIL [$STORE_BACKEND]: no $2 callback after $3 s"; tail -20 "$WORK/worker.log"; exit 1; }
    sleep 0.2
  done
  sleep 2  # a second copy, or another callback, shows up here
}

# callback_runs ID KIND: how many times callback ID.KIND ran.
callback_runs() { grep -c "^$1\.$2 " "$RECORD" || true; }

# children_before ID KIND: distinct children of batch ID recorded before callback ID.KIND's line.
children_before() {
  awk -v cb="$1.$2" -v prefix="$1." '$1 == cb { exit } index($1, prefix) == 1 && $1 ~ /\.[0-9]+$/ { print $1 }' "$RECORD" | sort -u | wc -l
}

# batch_ledger ID: "pending succeeded dead" of batch ID in the store's ledger.
batch_ledger() { store_sql "SELECT pending || ' ' || succeeded || ' ' || dead FROM warren_batches WHERE id = '$1'"; }

# batch_forget ID: deletes batch ID's ledger rows, its jobs' rows and the drill's queues.
batch_forget() {
  store_sql "DELETE FROM warren_batch_claims WHERE batch_id = '$1'" >/dev/null
  store_sql "DELETE FROM warren_batch_children WHERE batch_id = '$1'" >/dev/null
  store_sql "DELETE FROM warren_batch_slots WHERE batch_id = '$1'" >/dev/null
  store_sql "DELETE FROM warren_batches WHERE id = '$1'" >/dev/null
  store_sql "DELETE FROM warren_jobs WHERE id LIKE '$1.%'" >/dev/null
  delete_queues "$Q" "$Q.dead"
}
