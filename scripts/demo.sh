#!/usr/bin/env bash
# The demo: installs what is missing, starts a local RabbitMQ, builds Warren (release), then runs a worker,
# a scheduler and a producer, and shows jobs flowing: plain ones, a delayed one, one that fails twice and is
# retried to success, and one that fails every time and ends in the dead-letter queue.
# Usage: scripts/demo.sh            (about 1 minute after the build; stops its processes at the end)
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
step "build (release)"
swift build -c release --product warren
WARREN=.build/release/warren
Q=demo
# shellcheck source=scripts/lib/integration.sh
source scripts/lib/integration.sh
# Start from empty demo queues: a dead letter left by an earlier run would show up in this run's listing.
WARREN_URL=${WARREN_URL:-amqp://guest:guest@127.0.0.1:5672/%2F} delete_queues "$Q" "$Q.dead"
WORK=$(mktemp -d)
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

step "waiting for retries and the delay (12 s)"
sleep 12

step "queues"
deploy/rabbitmq-local.sh ctl list_queues name messages consumers 2>/dev/null | grep -E "^$Q" || true
step "dead letters"
"$WARREN" dlq list --queue "$Q"
step "done: the worker and scheduler stop gracefully now"
