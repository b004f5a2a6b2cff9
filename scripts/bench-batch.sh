#!/usr/bin/env bash
# Batch fan-in benchmark: a batch of N `noop` children (and its callback) against a plain drain of N `noop`
# jobs, per store backend (target: 0.75x; arguments go to `warren-bench batch`). PostgreSQL gets a database
# made anew for the run, as SQLite gets a new file.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/bench.sh
source scripts/lib/bench.sh
fresh_postgres_url_file
swift build -c release --product warren-bench
.build/release/warren-bench batch --postgres-url-file "$url_file" "$@"
