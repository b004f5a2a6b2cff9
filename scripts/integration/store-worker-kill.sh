#!/usr/bin/env bash
# Job store fault drill, on SQLite and on PostgreSQL: 10,000 tracked `record` jobs; the worker (with the
# store's middleware) is killed with SIGKILL twice mid-run and restarted. Afterwards every job must be
# `succeeded` in the store and, after a sweep with a short stale timeout, none left `running`; every job
# recorded at least once, duplicates at most the prefetch per kill.
# Env: WARREN_TEST_URL (broker), FAULT_JOBS (default 10000), FAULT_PREFETCH (default 50; `adaptive`: default
# flags, concurrency 16, adaptive prefetch: 1,024 waiting + 512 settling places at most, bound 3,072 per kill =
# twice that, the prefetch in force and, right after a change, the old one too), STORE_BACKENDS.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v swift >/dev/null && [[ -x /opt/swift/usr/bin/swift ]]; then export PATH=/opt/swift/usr/bin:$PATH; fi
export WARREN_URL=${WARREN_TEST_URL:-amqp://guest:guest@127.0.0.1:5672/%2F}
export WARREN_LOG_LEVEL=warning
N=${FAULT_JOBS:-10000}
PREFETCH=${FAULT_PREFETCH:-50}
# shellcheck source=scripts/lib/integration.sh
source scripts/lib/integration.sh
# shellcheck source=scripts/lib/store.sh
source scripts/lib/store.sh
BIN=$(warren_bin)
drill_init

if [[ $PREFETCH == adaptive ]]; then
  flags=(--concurrency 16)
  per_kill=$((2 * (1024 + 512)))
else
  flags=(--concurrency "$PREFETCH" --prefetch "$PREFETCH")
  per_kill=$PREFETCH
fi

start_worker() {
  "$BIN" worker --queue "$Q" "${flags[@]}" --store-heartbeat 1s >>"$WORK/worker.log" 2>&1 &
  worker_pid=$!
}

drill() {
  local backend=$1 dir=$WORK/$1
  mkdir -p "$dir"
  use_store "$backend" "$dir"
  Q=store.kill.$backend.$$.$RANDOM
  local record=$dir/record.txt prefix=kill-$$-$RANDOM-$backend
  : >"$record"
  lines() { wc -l <"$record"; }
  unique() { cut -d' ' -f1 "$record" | sort -u | wc -l; }
  count() { store_sql "SELECT count(*) FROM warren_jobs WHERE id LIKE '$prefix-%' AND state = '$1'"; }

  echo "[$backend] enqueueing $N tracked record jobs into $Q"
  "$BIN" enqueue record --args "{\"file\":\"$record\"}" --queue "$Q" --count "$N" --id "$prefix"
  echo "[$backend] after enqueue: enqueued=$(count enqueued)"
  start_worker
  local threshold deadline
  for threshold in $((N / 5)) $((N / 2)); do
    deadline=$((SECONDS + 180))
    until (($(lines) >= threshold)); do
      ((SECONDS < deadline)) || { echo "FAIL: only $(lines) of $threshold records after 180 s"; tail -20 "$WORK/worker.log"; exit 1; }
      sleep 0.05
    done
    kill -9 "$worker_pid"
    wait "$worker_pid" 2>/dev/null || true
    echo "[$backend] SIGKILL worker at $(lines) records (store: running=$(count running) succeeded=$(count succeeded))"
    start_worker
  done
  deadline=$((SECONDS + 240))
  until (($(count succeeded) >= N)); do
    ((SECONDS < deadline)) || break
    sleep 0.5
  done
  kill -TERM "$worker_pid"
  wait "$worker_pid" || true
  worker_pid=""
  # The sweeper's timeout: anything still `running` with no heartbeat for 2 s becomes `lost`.
  sleep 2.5
  "$BIN" store sweep --store-stale-after 2s --store-retention 7d
  local succeeded running lost total uniq missing dups bound=$((2 * per_kill))
  succeeded=$(count succeeded); running=$(count running); lost=$(count lost)
  total=$(lines); uniq=$(unique); missing=$((N - uniq)); dups=$((total - uniq))
  echo "[$backend] store-worker-kill: jobs=$N store: succeeded=$succeeded running=$running lost=$lost;" \
       "recorded=$total unique=$uniq missing=$missing duplicates=$dups (bound $bound = $per_kill x 2 kills)"
  if ((succeeded != N)); then echo "FAIL [$backend]: $((N - succeeded)) jobs not succeeded in the store"; exit 1; fi
  if ((running != 0 || lost != 0)); then echo "FAIL [$backend]: $running running, $lost lost after the sweep"; exit 1; fi
  if ((missing != 0)); then echo "FAIL [$backend]: $missing jobs lost"; exit 1; fi
  if ((dups > bound)); then echo "FAIL [$backend]: $dups duplicates exceed the bound $bound"; exit 1; fi
  store_sql "DELETE FROM warren_jobs WHERE id LIKE '$prefix-%'" >/dev/null
  delete_queues "$Q" "$Q.dead"
  echo "[$backend] PASS"
}

for backend in ${STORE_BACKENDS:-sqlite postgres}; do drill "$backend"; done
echo "PASS"
