#!/usr/bin/env bash
# The test command: deps, broker, swift build + test, then scripts/integration/*.sh.
# Usage: scripts/test.sh [swift test args...]   e.g. scripts/test.sh --filter WarrenTests.QueueTests
# Leaves the broker running unless WARREN_STOP_BROKER=1.
# Env: WARREN_RABBIT_DIR (default /tmp/warren-rabbitmq), WARREN_VENV (default .venv),
#      WARREN_INTEGRATION_TIMEOUT (seconds per integration script, default 600).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

# Swift lives in /opt/swift on these machines; don't rely on the caller's PATH.
if ! command -v swift >/dev/null && [[ -x /opt/swift/usr/bin/swift ]]; then
  export PATH=/opt/swift/usr/bin:$PATH
fi

export WARREN_RABBIT_DIR=${WARREN_RABBIT_DIR:-/tmp/warren-rabbitmq}
export WARREN_VENV=${WARREN_VENV:-.venv}
[[ $WARREN_VENV == /* ]] || WARREN_VENV=$ROOT/$WARREN_VENV
export WARREN_TEST_URL=amqp://guest:guest@127.0.0.1:${WARREN_RABBIT_PORT:-5672}/%2F
# TLS: use the name localhost (the server cert's DNS SAN); librabbitmq 0.11 does not match IP SANs.
export WARREN_TEST_TLS_URL=amqps://guest:guest@localhost:${WARREN_RABBIT_TLS_PORT:-5671}/%2F
export WARREN_TEST_TLS_DIR=$WARREN_RABBIT_DIR/tls
export WARREN_RABBITMQCTL="$ROOT/deploy/rabbitmq-local.sh ctl"

step() { printf '\n=== %s\n' "$*" >&2; }

step "install dependencies"
deploy/install-deps.sh

step "start broker"
deploy/rabbitmq-local.sh start
if [[ ${WARREN_STOP_BROKER:-0} == 1 ]]; then
  trap 'step "stop broker"; deploy/rabbitmq-local.sh stop' EXIT
else
  trap 'echo "test.sh: broker left running (deploy/rabbitmq-local.sh stop to stop it)" >&2' EXIT
fi

step "start PostgreSQL (job store tests)"
deploy/postgres-local.sh start
# The URL carries the test role's password: tests read it from a file (WARREN_STORE_FILE), as operators do.
export WARREN_TEST_POSTGRES_URL_FILE=${WARREN_TEST_POSTGRES_URL_FILE:-/tmp/warren-postgres/url}
(umask 077 && deploy/postgres-local.sh url >"$WARREN_TEST_POSTGRES_URL_FILE")
export WARREN_TEST_POSTGRES_URL
WARREN_TEST_POSTGRES_URL=$(deploy/postgres-local.sh url)

step "env for tests"
env | grep '^WARREN_' | grep -v '^WARREN_TEST_POSTGRES_URL=' | sort >&2

failed=()
step "swift build --build-tests"
if ! swift build --build-tests; then
  echo "test.sh: build failed" >&2
  exit 1
fi

step "swift test --skip-build $*"
# The suites are XCTest; Swift Testing would only add a "0 tests" summary.
xctest_log=$(mktemp)
swift test --skip-build --disable-swift-testing "$@" 2>&1 | tee "$xctest_log" || failed+=("swift test")
# "Executed N tests, with F failures" (the last one is the grand total).
read -r xc_total xc_failed < <(grep -E "Executed [0-9]+ tests?, with [0-9]+ failures?" "$xctest_log" | tail -1 |
  sed -E 's/.*Executed ([0-9]+) tests?, with ([0-9]+) failures?.*/\1 \2/') || true
rm -f "$xctest_log"
xc_total=${xc_total:-0}
xc_failed=${xc_failed:-0}

# Integration scripts run in name order, each bounded; a hung one counts as failed.
shopt -s nullglob
scripts_total=0
scripts_failed=0
for script in scripts/integration/*.sh; do
  step "$script"
  scripts_total=$((scripts_total + 1))
  if ! timeout -k 10 "${WARREN_INTEGRATION_TIMEOUT:-600}" bash "$script" </dev/null; then
    failed+=("$script")
    scripts_failed=$((scripts_failed + 1))
  fi
done

passed=$((xc_total - xc_failed + scripts_total - scripts_failed))
if ((${#failed[@]})); then
  step "FAILED: ${failed[*]}"
  echo "tests: $passed passed, $((xc_failed + scripts_failed)) failed"
  exit 1
fi
step "all passed"
echo "tests: $passed passed, 0 failed"
