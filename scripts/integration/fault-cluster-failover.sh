#!/usr/bin/env bash
# Fault test: quorum mode on a 3-node cluster; the node holding the work queue's leader is stopped
# while producers are publishing and the worker is consuming 5,000 `record` jobs.
# Passes when every confirmed job is recorded (none lost) and every producer run ended with each of its jobs
# either confirmed or reported failed (never silence, never a hang). Duplicates are reported.
# Uses deploy/rabbitmq-cluster.sh (rmq1..3 on 5681-5683, started here if needed, left running; set
# FAULT_CLUSTER_STOP=1 to stop it at the end). Bounded: about 5 minutes at most.
# Env: FAULT_JOBS (5000), FAULT_BATCH (100 per producer run), WARREN_BIN (default .build/debug/warren).
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v swift >/dev/null && [[ -x /opt/swift/usr/bin/swift ]]; then export PATH=/opt/swift/usr/bin:$PATH; fi
N=${FAULT_JOBS:-5000}
BATCH=${FAULT_BATCH:-100}
# shellcheck source=scripts/lib/integration.sh
source scripts/lib/integration.sh
# shellcheck source=scripts/lib/cluster.sh
source scripts/lib/cluster.sh
BIN=$(warren_bin)
export WARREN_URL
WARREN_URL=$($CLUSTER urls)
export WARREN_MODE=quorum WARREN_LOG_LEVEL=info
Q=fault.cluster.$$.$RANDOM
WORK=$(mktemp -d)
RECORD=$WORK/record.txt
: >"$RECORD"
worker_pid="" producer_pid="" stopped_node=""
PRINT_IDS=$("$BIN" enqueue --help | grep -oE -- '--print-i-?ds' | head -1)

cleanup() {
  [[ -n $producer_pid ]] && kill "$producer_pid" 2>/dev/null || true
  [[ -n $worker_pid ]] && kill -9 "$worker_pid" 2>/dev/null || true
  cluster_cleanup "$stopped_node" "$Q" "$Q.dead"
  if [[ ${FAULT_KEEP:-0} == 1 ]]; then echo "logs kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

cluster_fresh
lines() { wc -l <"$RECORD"; }
unique() { cut -d' ' -f1 "$RECORD" | sort -u | wc -l; }

# Declare the queue first (from rmq1, so rmq1 leads it), then consume.
timeout 60 "$BIN" topology declare --queue "$Q" >/dev/null
leader=$(queue_leader "$Q")
echo "queue $Q (quorum) leader: $leader"
"$BIN" worker --queue "$Q" --concurrency 50 --grace 5 >>"$WORK/worker.log" 2>&1 &
worker_pid=$!

# Producers: N/BATCH short runs, one after another, so publishing spans the node stop.
producer() {
  local i
  for ((i = 1; i <= N / BATCH; i++)); do
    timeout 120 "$BIN" enqueue record --args "{\"file\":\"$RECORD\"}" --queue "$Q" --count "$BATCH" --id "b$i" "$PRINT_IDS" \
      >"$WORK/ids.$i" 2>"$WORK/enqueue.$i.log" || echo "$?" >"$WORK/rc.$i"
  done
}
producer &
producer_pid=$!

deadline=$((SECONDS + 120))
until (($(lines) >= N / 5)); do
  ((SECONDS < deadline)) || { echo "FAIL: worker did not get going"; tail -20 "$WORK/worker.log"; exit 1; }
  sleep 0.1
done
node=${leader#rmq}; node=${node%@localhost}
echo "stopping $leader at $(lines) records, $(cat "$WORK"/ids.* 2>/dev/null | wc -l) confirmed"
stopped_node=$node
timeout 120 $CLUSTER stop-node "$node"
echo "stopped; new leader: $(timeout 30 $CLUSTER ctl $((node % 3 + 1)) -q list_queues name leader | awk -v q="$Q" '$1 == q {print $2}')"

wait "$producer_pid" || true
producer_pid=""
confirmed=$(cat "$WORK"/ids.* | sort -u | wc -l)
failed=0 silent=0
for ((i = 1; i <= N / BATCH; i++)); do
  ok=$(wc -l <"$WORK/ids.$i")
  f=$(grep -o 'failed=[0-9]*' "$WORK/enqueue.$i.log" | tail -1 | cut -d= -f2 || true)
  if [[ -z $f ]]; then
    # The run ended without its summary: it must have exited with an error (a reported failure), not hung.
    if [[ -e $WORK/rc.$i ]]; then f=$((BATCH - ok)); else silent=$((silent + BATCH - ok)); f=0; fi
  fi
  failed=$((failed + f))
  ((ok + f == BATCH)) || silent=$((silent + BATCH - ok - f))
  ((f == 0)) || { echo "producer run $i: $ok confirmed, $f failed:"; grep -m3 -i 'error\|failed' "$WORK/enqueue.$i.log" | cut -c1-300; }
done

deadline=$((SECONDS + 180))
until (($(unique) >= confirmed)) && (($(unique) >= N - failed)); do
  ((SECONDS < deadline)) || break
  sleep 0.5
done
sleep 2  # late redeliveries, for the duplicate count
kill -TERM "$worker_pid"; wait "$worker_pid" || true; worker_pid=""
timeout 180 $CLUSTER start-node "$node" >/dev/null 2>&1 && stopped_node=""

lost=$(comm -23 <(cat "$WORK"/ids.* | sort -u) <(cut -d' ' -f1 "$RECORD" | sort -u) | wc -l)
total=$(lines); uniq=$(unique)
reconnects=$(grep -c 'recovered\|connection recovered' "$WORK/worker.log" || true)
echo "fault-cluster-failover: jobs=$N confirmed=$confirmed failed=$failed silent=$silent recorded=$total unique=$uniq lost=$lost duplicates=$((total - uniq)) worker-recoveries=$reconnects"
((silent == 0)) || { echo "FAIL: $silent publishes neither confirmed nor reported failed"; exit 1; }
((lost == 0)) || { echo "FAIL: $lost confirmed jobs never ran"; tail -30 "$WORK/worker.log"; exit 1; }
((confirmed + failed == N)) || { echo "FAIL: confirmed + failed != $N"; exit 1; }
echo "PASS"
