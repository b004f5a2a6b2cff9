# Shared by scripts/integration/*.sh and scripts/demo.sh (sourced, not run): the binary under test and queue clean-up.

# The environment of an integration run: Swift on PATH (guarded as scripts/test.sh does), the test broker as
# WARREN_URL (WARREN_TEST_URL, default the local one), worker logs at warning unless WARREN_LOG_LEVEL says.
integration_env() {
  if ! command -v swift >/dev/null && [[ -x /opt/swift/usr/bin/swift ]]; then
    export PATH=/opt/swift/usr/bin:$PATH
  fi
  export WARREN_URL=${WARREN_TEST_URL:-amqp://guest:guest@127.0.0.1:5672/%2F}
  export WARREN_LOG_LEVEL=${WARREN_LOG_LEVEL:-warning}
}

# Prints the `warren` executable to test (WARREN_BIN, default the debug build), building it if missing.
warren_bin() {
  local bin=${WARREN_BIN:-.build/debug/warren}
  [[ -x $bin ]] || nice swift build --product warren >&2
  echo "$bin"
}

# Deletes queues on $WARREN_URL, ignoring those already gone.
delete_queues() {
  local q
  for q in "$@"; do amqp-delete-queue --url="$WARREN_URL" -q "$q" >/dev/null 2>&1 || true; done
}

# finish_run PID EXCHANGE QUEUE...: the end of a run: kills the worker PID (if any), deletes the queues and the
# exchange (if any; through scripts/lib/broker.rb) and $WORK.
finish_run() {
  local pid=$1 exchange=$2
  shift 2
  [[ -n $pid ]] && kill -9 "$pid" 2>/dev/null
  delete_queues "$@"
  [[ -z $exchange ]] || ruby scripts/lib/broker.rb delete-exchange "$exchange" || true
  rm -rf "$WORK"
}

# Starts a worker drill's scratch state: $WORK (a new directory), $worker_pid and $Q (set by the drill); on
# exit the worker is killed, the queue and its dead-letter queue deleted and $WORK removed.
drill_init() {
  WORK=$(mktemp -d)
  worker_pid=""
  Q=""
  trap drill_cleanup EXIT
}

drill_cleanup() {
  [[ -n $worker_pid ]] && kill -9 "$worker_pid" 2>/dev/null || true
  [[ -n $Q ]] && delete_queues "$Q" "$Q.dead"
  rm -rf "$WORK"
}

# Stops a background process gracefully (SIGTERM) and reaps it.
stop_gracefully() {
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# wait_consumers LOG QUEUE...: waits (60 s at most) until every queue exists and has a consumer, through
# scripts/lib/broker.rb (Ruby with bunny); on timeout prints LOG (the worker's) and exits 1.
wait_consumers() {
  local log=$1 deadline=$((SECONDS + 60))
  shift
  until ruby scripts/lib/broker.rb consumers "$@" 2>/dev/null; do
    ((SECONDS < deadline)) || { echo "FAIL: no consumer on $* after 60 s"; cat "$log"; exit 1; }
    sleep 0.3
  done
}

# Fault drills count the lines "<job id> <attempt>" that `record` jobs append to $RECORD.
record_lines() { wc -l <"$RECORD"; }
record_ids() { cut -d' ' -f1 "$RECORD" | sort -u | wc -l; }

# Waits (180 s at most) until $RECORD has at least $1 lines; on timeout prints $WORK/worker.log and exits 1.
wait_records() {
  local want=$1 deadline=$((SECONDS + 180))
  until (($(record_lines) >= want)); do
    ((SECONDS < deadline)) || { echo "FAIL: only $(record_lines) of $want records after 180 s"; tail -20 "$WORK/worker.log"; exit 1; }
    sleep 0.05
  done
}

# kill_worker_at N...: for each N, once $RECORD has N lines, SIGKILLs the worker ($worker_pid) and starts a new
# one with the caller's start_worker.
kill_worker_at() {
  local threshold
  for threshold in "$@"; do
    wait_records "$threshold"
    kill -9 "$worker_pid"
    wait "$worker_pid" 2>/dev/null || true
    echo "SIGKILL worker at $(record_lines) records"
    start_worker
  done
}

# Waits (240 s at most) until $RECORD holds $1 distinct job ids; the caller counts what is missing.
wait_record_ids() {
  local deadline=$((SECONDS + 240))
  until (($(record_ids) >= $1)); do
    ((SECONDS < deadline)) || return 0
    sleep 0.2
  done
}

# check_records NAME JOBS MISSING PREFETCH: prints a two-kill drill's counts from $RECORD (MISSING: job ids never
# recorded) and fails when a job was lost or duplicates exceed the prefetch per kill.
check_records() {
  local name=$1 jobs=$2 missing=$3 bound=$((2 * $4)) total unique
  total=$(record_lines)
  unique=$(record_ids)
  echo "$name: jobs=$jobs recorded=$total unique=$unique missing=$missing duplicates=$((total - unique)) (bound $bound = prefetch x 2 kills)"
  ((missing == 0)) || { echo "FAIL: $missing jobs lost"; exit 1; }
  ((total - unique <= bound)) || { echo "FAIL: $((total - unique)) duplicates exceed the bound $bound"; exit 1; }
  echo "PASS"
}
