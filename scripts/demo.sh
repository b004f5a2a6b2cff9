#!/usr/bin/env bash
# Demo runner (placeholder). Today: deps, broker, release build, then `warren demo`
# if the executable exists. The real demo steps are to be added in the marked section.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v swift >/dev/null && [[ -x /opt/swift/usr/bin/swift ]]; then
  export PATH=/opt/swift/usr/bin:$PATH
fi
export WARREN_RABBIT_DIR=${WARREN_RABBIT_DIR:-/tmp/warren-rabbitmq}
export WARREN_URL=${WARREN_URL:-amqp://guest:guest@127.0.0.1:5672/%2F}

deploy/install-deps.sh
deploy/rabbitmq-local.sh start
swift build -c release

WARREN=.build/release/warren
if [[ ! -x $WARREN ]]; then
  echo "demo.sh: $WARREN not built yet: nothing to demo" >&2
  exit 0
fi

# --- demo steps (to be added) ---------------------------------------------------
# e.g. start a worker and a scheduler in the background (record their pids and
# kill them by pid in an EXIT trap), run a producer, then print queue state with
#   deploy/rabbitmq-local.sh ctl list_queues name messages
"$WARREN" demo "$@"
