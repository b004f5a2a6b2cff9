#!/usr/bin/env bash
# Fault drill for chains: a chain of `record` steps started with `warren workflow start`; the worker is
# killed with SIGKILL at eight points mid-chain and restarted each time. The chain must complete (its last
# step recorded), no step lost (every step id recorded), duplicates counted and at most 3 per kill (the
# killed step runs again; a second copy of its successor may run if it reaches the worker first).
# Then bad input: a step whose itinerary header is malformed is dead-lettered `undecodable` with a reason.
# Env: WARREN_TEST_URL (broker), FAULT_STEPS (default 1000), WARREN_BIN.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v swift >/dev/null; then export PATH=/opt/swift/usr/bin:$PATH; fi
export WARREN_URL=${WARREN_TEST_URL:-amqp://guest:guest@127.0.0.1:5672/%2F}
export WARREN_LOG_LEVEL=warning
N=${FAULT_STEPS:-1000}
KILLS=8
# shellcheck source=scripts/lib/integration.sh
source scripts/lib/integration.sh
BIN=$(warren_bin)
drill_init
Q=wf.fault.$$.$RANDOM
RECORD=$WORK/r
: >"$RECORD"

start_worker() {
  "$BIN" worker --queue "$Q" --concurrency 2 >>"$WORK/worker.log" 2>&1 &
  worker_pid=$!
}
lines() { wc -l <"$RECORD"; }
unique() { cut -d' ' -f1 "$RECORD" | sort -u | wc -l; }

{
  echo "id: chain-$$"
  echo "queue: $Q"
  echo "steps:"
  for ((i = 0; i < N; i++)); do echo "  - {job: record, args: {file: \"$RECORD\"}}"; done
} >"$WORK/chain.yaml"

start_worker
sleep 1  # the worker declares the queue
id=$("$BIN" workflow start "$WORK/chain.yaml")
echo "started workflow $id: $N steps on $Q"
for ((k = 1; k <= KILLS; k++)); do
  want=$((k * N / (KILLS + 2)))
  deadline=$((SECONDS + 120))
  until (($(lines) >= want)); do
    ((SECONDS < deadline)) || { echo "FAIL: only $(lines) records after 120 s"; tail -20 "$WORK/worker.log"; exit 1; }
    sleep 0.02
  done
  kill -9 "$worker_pid"
  wait "$worker_pid" 2>/dev/null || true
  echo "SIGKILL worker at $(lines) records"
  start_worker
done

deadline=$((SECONDS + 240))
until grep -q "^$id\.$N " "$RECORD"; do
  ((SECONDS < deadline)) || break
  sleep 0.1
done
sleep 1  # a late duplicate shows up below
total=$(lines)
uniq=$(unique)
missing=$((N - uniq))
dups=$((total - uniq))
bound=$((3 * KILLS))
expected_ids=$(seq 1 "$N" | sed "s/^/$id./" | sort)
recorded_ids=$(cut -d' ' -f1 "$RECORD" | sort -u)
echo "workflow-fault: steps=$N kills=$KILLS recorded=$total unique=$uniq missing=$missing duplicates=$dups (bound $bound)"
if [[ $expected_ids != "$recorded_ids" ]]; then echo "FAIL: recorded step ids differ from $id.1..$id.$N"; exit 1; fi
if ((dups > bound)); then echo "FAIL: $dups duplicates exceed the bound $bound"; exit 1; fi

echo "== bad input: a malformed itinerary"
amqp-publish --url="$WARREN_URL" -e warren -r "$Q" -p -C application/json \
  -H "warren-job: record" -H 'warren-workflow: {"id":"x"' -b "{\"file\":\"$RECORD\"}"
deadline=$((SECONDS + 30))
dead=""
until [[ -n $dead ]]; do
  ((SECONDS < deadline)) || { echo "FAIL: the malformed step was not dead-lettered"; exit 1; }
  dead=$("$BIN" dlq list --queue "$Q" --json 2>/dev/null | grep 'not a valid itinerary' || true)
  sleep 0.3
done
kill -TERM "$worker_pid"; wait "$worker_pid" || true; worker_pid=""
echo "$dead" | grep -q 'undecodable' || { echo "FAIL: not dead-lettered as undecodable: $dead"; exit 1; }
echo "dead-lettered: $(echo "$dead" | head -c 300)"
if (($(lines) != total)); then echo "FAIL: the malformed step ran"; exit 1; fi
echo "PASS"
