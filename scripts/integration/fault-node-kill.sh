#!/usr/bin/env bash
# Fault test: quorum mode on a 3-node cluster; the Erlang VM of the node leading the work queue is SIGKILLed
# (no clean stop) while one `warren enqueue --count N --print-ids` run publishes and a worker drains.
# The producer's and the worker's connections are on the other two nodes, so the producer sees the broker
# nack its publishes while the queue elects a new leader: those nacks are retried (same ids) until the
# publish deadline. Passes when the producer exits 0 with every one of the N ids confirmed, and every id is
# recorded by the worker (none lost); duplicates are counted and must stay below 5% of N.
# Uses deploy/rabbitmq-cluster.sh (rmq1..3 on 5681-5683, started here if needed, left running; the killed
# node is started again at the end; FAULT_CLUSTER_STOP=1 stops the cluster). Bounded: about 8 minutes.
# Env: FAULT_JOBS (100000), WARREN_BIN (default .build/debug/warren), FAULT_KEEP=1 keeps the logs.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v swift >/dev/null 2>&1; then export PATH=/opt/swift/usr/bin:$PATH; fi
N=${FAULT_JOBS:-100000}
# shellcheck source=scripts/lib/integration.sh
source scripts/lib/integration.sh
# shellcheck source=scripts/lib/cluster.sh
source scripts/lib/cluster.sh
BIN=$(warren_bin)
BASE=${WARREN_CLUSTER_DIR:-/tmp/warren-cluster}
url() { echo "amqp://guest:guest@127.0.0.1:$1/%2F"; }
export WARREN_MODE=quorum WARREN_LOG_LEVEL=info
Q=fault.nodekill.$$.$RANDOM
WORK=$(mktemp -d)
RECORD=$WORK/record.txt
: >"$RECORD"
worker_pid="" producer_pid="" killed=""

cleanup() {
  [[ -n $producer_pid ]] && kill "$producer_pid" 2>/dev/null || true
  [[ -n $worker_pid ]] && kill -9 "$worker_pid" 2>/dev/null || true
  cluster_cleanup "$killed" "$Q" "$Q.dead"
  if [[ ${FAULT_KEEP:-0} == 1 ]]; then echo "logs kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

cluster_fresh

# Declared through rmq2, so rmq2 leads the queue (client-local placement); producer on rmq1, worker on rmq3.
WARREN_URL=$(url 5682) timeout 60 "$BIN" topology declare --queue "$Q" >/dev/null
leader=$(queue_leader "$Q")
echo "queue $Q (quorum) leader: $leader"
node=${leader#rmq}; node=${node%@localhost}
others=()
for n in 1 2 3; do ((n == node)) || others+=($((5680 + n))); done

WARREN_URL=$(url "${others[1]}") "$BIN" worker --queue "$Q" --concurrency 50 --grace 5 >>"$WORK/worker.log" 2>&1 &
worker_pid=$!
WARREN_URL=$(url "${others[0]}") timeout 400 "$BIN" enqueue record --args "{\"file\":\"$RECORD\"}" --queue "$Q" \
  --count "$N" --print-ids >"$WORK/ids" 2>"$WORK/enqueue.log" &
producer_pid=$!

deadline=$((SECONDS + 180))
until (($(wc -l <"$RECORD") >= N / 5)); do
  ((SECONDS < deadline)) || { echo "FAIL: worker did not get going"; tail -20 "$WORK/worker.log"; exit 1; }
  kill -0 "$producer_pid" 2>/dev/null || break
  sleep 0.1
done
kill -0 "$producer_pid" 2>/dev/null || { echo "FAIL: the producer finished before the node was killed: nothing tested"; exit 1; }
vm=$(cat "$BASE/rmq$node/rabbitmq.pid")
echo "SIGKILL of $leader's Erlang VM (pid $vm) at $(wc -l <"$RECORD") records"
killed=$node
kill -9 "$vm"

rc=0
wait "$producer_pid" || rc=$?
producer_pid=""
confirmed=$(sort -u "$WORK/ids" | wc -l)
echo "producer exit $rc, $confirmed ids confirmed; $(grep -o 'failed=[0-9]*' "$WORK/enqueue.log" | tail -1)"
((rc == 0)) || { echo "FAIL: the producer failed"; grep -m5 -i 'error' "$WORK/enqueue.log" | cut -c1-300; exit 1; }
((confirmed == N)) || { echo "FAIL: $confirmed of $N ids confirmed"; exit 1; }

unique() { cut -d' ' -f1 "$RECORD" | sort -u | wc -l; }
deadline=$((SECONDS + 240))
until (($(unique) >= N)); do
  ((SECONDS < deadline)) || break
  sleep 1
done
sleep 2  # late redeliveries, for the duplicate count
kill -TERM "$worker_pid"; wait "$worker_pid" || true; worker_pid=""
lost=$(comm -23 <(sort -u "$WORK/ids") <(cut -d' ' -f1 "$RECORD" | sort -u) | wc -l)
total=$(wc -l <"$RECORD"); uniq=$(unique)
echo "fault-node-kill: jobs=$N confirmed=$confirmed recorded=$total unique=$uniq lost=$lost duplicates=$((total - uniq))"
((lost == 0)) || { echo "FAIL: $lost confirmed jobs never ran"; tail -30 "$WORK/worker.log"; exit 1; }
((total - uniq <= N / 20)) || { echo "FAIL: more than 5% duplicates"; exit 1; }
echo "PASS"
