#!/usr/bin/env bash
# Jobs benchmark (issue 3): enqueue and drain against rawc in the same run, idle RSS of the deployment
# (fully static) worker, delayed-job lateness. Arguments go to `warren-bench jobs`.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v swift >/dev/null && [[ -x /opt/swift/usr/bin/swift ]]; then export PATH=/opt/swift/usr/bin:$PATH; fi
deploy/rabbitmq-local.sh start
# The fault tests leave their 3-node cluster running (for fast reruns): three more Erlang VMs on two cores
# skew the figures, so a benchmark stops it first.
if timeout 60 deploy/rabbitmq-cluster.sh status >/dev/null 2>&1; then
  echo "bench-jobs: stopping the test cluster (deploy/rabbitmq-cluster.sh) for a quieter machine" >&2
  timeout 300 deploy/rabbitmq-cluster.sh stop >/dev/null 2>&1 || true
fi
swift build -c release --product warren-bench
swift build -c release --product warren
scripts/build-static.sh >/dev/null
exec .build/release/warren-bench jobs --worker-binary .build-fullstatic/release/warren "$@"
