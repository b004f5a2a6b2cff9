#!/usr/bin/env bash
# Job store fault drill at default flags: store-worker-kill.sh with the worker at concurrency 16 and the
# adaptive prefetch, which adds the places of deliveries waiting for their group commit (docs/operations.md,
# "Prefetch"): two SIGKILLs while it drains 10,000 tracked `record` jobs, on SQLite and PostgreSQL; nothing
# lost, none left `running`, duplicates within twice the adaptive maximum (1,024 + 512) per kill.
set -euo pipefail
cd "$(dirname "$0")/../.."
FAULT_PREFETCH=adaptive exec scripts/integration/store-worker-kill.sh
