#!/usr/bin/env bash
# Jobs benchmark: enqueue and drain against rawc in the same run, idle RSS of the deployment
# (fully static) worker, delayed-job lateness. Arguments go to `warren-bench jobs`.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/bench.sh
source scripts/lib/bench.sh
swift build -c release --product warren-bench
swift build -c release --product warren
scripts/build-static.sh >/dev/null
exec .build/release/warren-bench jobs --worker-binary .build-fullstatic/release/warren "$@"
