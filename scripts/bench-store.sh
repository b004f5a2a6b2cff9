#!/usr/bin/env bash
# Job store benchmarks: drain throughput with the store off vs SQLite vs PostgreSQL in the same run
# (tracking must cost at most 25%; the headline is a `warren worker` process at default flags; arguments go
# to `warren-bench store`), then transactional enqueue
# (`warren-bench outbox`: commit-to-queue latency, relay rate against direct batch enqueue).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/bench.sh
source scripts/lib/bench.sh
fresh_postgres_url_file
swift build -c release --product warren
swift build -c release --product warren-bench
status=0
.build/release/warren-bench store --postgres-url-file "$url_file" "$@" || status=$?
.build/release/warren-bench outbox --postgres-url-file "$url_file" || status=$?
exit "$status"
