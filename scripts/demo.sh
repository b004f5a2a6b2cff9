#!/usr/bin/env bash
# The demo: installs what is missing, starts a local RabbitMQ, builds Warren (release), then runs a worker,
# a scheduler and a producer, and shows jobs flowing: plain ones, a delayed one, one that fails twice and is
# retried to success, and one that fails every time and ends in the dead-letter queue. With a job store
# (SQLite in a temporary file unless WARREN_STORE is set): a job's result and progress looked up, a unique job
# enqueued twice and run once, and a three-step chain shown step by step.
# Usage: scripts/demo.sh            (about 1 minute after the build; stops its processes at the end)
#        WARREN_BIN=path/to/warren scripts/demo.sh   (skips the build)
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v swift >/dev/null && [[ -x /opt/swift/usr/bin/swift ]]; then
  export PATH=/opt/swift/usr/bin:$PATH
fi
export WARREN_RABBIT_DIR=${WARREN_RABBIT_DIR:-/tmp/warren-rabbitmq}
export WARREN_URL=${WARREN_URL:-amqp://guest:guest@127.0.0.1:5672/%2F}
export WARREN_LOG_LEVEL=${WARREN_LOG_LEVEL:-info}

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "dependencies and broker"
deploy/install-deps.sh
deploy/rabbitmq-local.sh start
# WARREN_BIN: an already built `warren` to use instead of building one here.
WARREN=${WARREN_BIN:-.build/release/warren}
if [[ -z ${WARREN_BIN:-} ]]; then
  step "build (release)"
  swift build -c release --product warren
fi
Q=demo
# shellcheck source=scripts/lib/integration.sh
source scripts/lib/integration.sh
WORK=$(mktemp -d)
# The job store: every worker and producer below records into it (docs/store.md).
export WARREN_STORE=${WARREN_STORE:-sqlite:$WORK/demo-store.db}
# Start from empty demo queues: a dead letter left by an earlier run would show up in this run's listing.
WARREN_URL=${WARREN_URL:-amqp://guest:guest@127.0.0.1:5672/%2F} delete_queues "$Q" "$Q.dead"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

step "worker (concurrency 8) on queue '$Q'"
"$WARREN" worker --queue "$Q" --concurrency 8 2> >(sed 's/^/[worker] /' >&2) &
pids+=($!)
sleep 2

step "scheduler: a 'noop' every 5 seconds"
cat >"$WORK/schedules.yaml" <<YAML
schedules:
  - name: demo-heartbeat
    every: 5s
    job: noop
    queue: $Q
YAML
"$WARREN" schedule list "$WORK/schedules.yaml"
"$WARREN" scheduler --schedule "$WORK/schedules.yaml" 2> >(sed 's/^/[scheduler] /' >&2) &
pids+=($!)

step "producer"
"$WARREN" enqueue noop --queue "$Q" --count 1000
"$WARREN" enqueue sleep --args '{"ms":200}' --queue "$Q" --count 5 --priority 9
"$WARREN" enqueue sleep --args '{"ms":10}' --queue "$Q" --delay 3s --id delayed-job
"$WARREN" enqueue flaky --args '{"failures":2}' --queue "$Q" --id flaky-job
"$WARREN" enqueue fail --args '{"message":"the demo always fails here"}' --queue "$Q" --id doomed-job

step "producer, with the job store ($WARREN_STORE)"
"$WARREN" enqueue result --args '{"value":{"invoice":1042,"total_cents":2599}}' --queue "$Q" --id result-job
"$WARREN" enqueue progress --args '{"steps":10,"ms":300}' --queue "$Q" --id progress-job
echo "unique key 'invoice-1042', enqueued twice (the second names the first and enqueues nothing):"
"$WARREN" enqueue sleep --args '{"ms":3000}' --queue "$Q" --id unique-job --unique-key invoice-1042 --unique-for 1m
"$WARREN" enqueue sleep --args '{"ms":3000}' --queue "$Q" --id unique-job-2 --unique-key invoice-1042 --unique-for 1m
cat >"$WORK/chain.yaml" <<YAML
queue: $Q
steps:
  - {job: result, args: {value: 1}}
  - {job: sleep, args: {ms: 500}}
  - {job: result, args: {value: "done"}}
YAML
workflow=$("$WARREN" workflow start "$WORK/chain.yaml")
echo "started workflow $workflow"
sleep 1
step "a job while it runs: warren job show progress-job"
"$WARREN" job show progress-job

step "waiting for retries and the delay (12 s)"
sleep 12

step "the job store"
"$WARREN" job show result-job
"$WARREN" job show progress-job
"$WARREN" job list --state dead --queue "$Q"
"$WARREN" workflow show "$workflow"

step "queues"
deploy/rabbitmq-local.sh ctl list_queues name messages consumers 2>/dev/null | grep -E "^$Q" || true
step "dead letters"
"$WARREN" dlq list --queue "$Q"
step "done: the worker and scheduler stop gracefully now"
