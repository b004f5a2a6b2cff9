#!/usr/bin/env bash
# Dashboard in a real browser (headless Chromium through selenium) and its security rules, against the local
# broker with its management plugin. Two dashboards run (one --read-only), a worker and a scheduler replica.
# The Python part (dashboard_browser.py) logs in, watches a queue's counts fall while the worker drains it,
# opens a dead letter whose error and arguments carry HTML/script payloads (must render as text, no alert),
# requeues it and sees it run, purges by filter with confirmation; and checks 401 / 429 / 403 answers.
# With a SQLite job store (WARREN_STORE) a second worker runs tracked jobs and two small workflows: the jobs
# page must show their states, progress and results (a payload in a result renders as text), the workflows
# page each step coloured by its state, the limits page a global limit's holders and waiters, and after
# that worker is SIGKILLed, its tokens returned. A batch of 60 children (one dies with a payload error) is
# drained by a third worker while its page is open: the counts must change, the error render as text.
# Screenshots go to DASHBOARD_SCREENSHOTS (default a temporary directory, removed unless set).
# Env: WARREN_TEST_URL, WARREN_BIN (default .build/debug/warren), DASHBOARD_SCREENSHOTS, WARREN_VENV (.venv).
# Bounded: about 1-2 minutes (every wait in the Python part has a deadline).
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v swift >/dev/null && [[ -x /opt/swift/usr/bin/swift ]]; then export PATH=/opt/swift/usr/bin:$PATH; fi
export WARREN_URL=${WARREN_TEST_URL:-amqp://guest:guest@127.0.0.1:5672/%2F}
export WARREN_LOG_LEVEL=warning
# shellcheck source=scripts/lib/integration.sh
source scripts/lib/integration.sh
BIN=$(warren_bin)
PY=${WARREN_VENV:-.venv}/bin/python
Q=dash.$$.$RANDOM
GROUP=dash-sched-$$
WORK=$(mktemp -d)
SHOTS=${DASHBOARD_SCREENSHOTS:-$WORK/screens}
mkdir -p "$SHOTS"
PORT=$((18000 + RANDOM % 1000))
pids=()

JQ=$Q.jobs
export BQ=$Q.batch
export BATCH_ID=dash-batch-$$
LIMIT_Q=warren.limit.span.n3
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.5
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  delete_queues "$Q" "$Q.dead" "$Q.sched" "$Q.sched.dead" "warren.scheduler.lock.$GROUP" "warren.scheduler.state.$GROUP.tick" \
    "$JQ" "$JQ.dead" "$BQ" "$BQ.dead" "$LIMIT_Q"
  timeout 30 deploy/rabbitmq-local.sh ctl -q eval "rabbit_exchange:delete(rabbit_misc:r(<<\"/\">>, exchange, <<\"$LIMIT_Q.filled\">>), false, <<\"cleanup\">>)." \
    >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

deploy/rabbitmq-local.sh start >/dev/null 2>&1   # idempotent; enables the management plugin online if needed
"$PY" -c 'import selenium' || { echo "selenium missing: run deploy/install-deps.sh" >&2; exit 1; }

# Declare the queues, fill the work queue with slow jobs (the drain must be visible), import dead letters.
"$BIN" enqueue sleep --queue "$Q" --max-priority 0 --args '{"ms": 50}' --count 150 >/dev/null
"$PY" - "$Q" >"$WORK/dead.jsonl" <<'PY'
import base64, json, sys, time
q, now = sys.argv[1], int(time.time() * 1000)
XSS = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'
def s(v): return {"type": "string", "value": v}
def letter(i, job, err_type, msg, args):
    h = {"warren-job": s(job), "warren-queue": s(q), "warren-attempt": {"type": "int32", "value": 3},
         "warren-dead-reason": s("exhausted"), "warren-error-type": s(err_type), "warren-error-message": s(msg),
         "warren-dead-at": {"type": "int64", "value": now - i * 1000}}
    return {"format": "warren-dlq/1", "queue": q + ".dead", "body": base64.b64encode(json.dumps(args).encode()).decode(),
            "properties": {"contentType": "application/json", "deliveryMode": 2, "messageID": "dead-%02d" % i, "headers": h}}
print(json.dumps(letter(0, "noop", "XSSError", XSS, {"note": XSS})))
for i in range(1, 6): print(json.dumps(letter(i, "noop", "Timeout", "took too long (%d)" % i, {"n": i})))
for i in range(6, 10): print(json.dumps(letter(i, "report", "Boom", "exploded (%d)" % i, {"n": i})))
PY
"$BIN" dlq import "$WORK/dead.jsonl" >/dev/null 2>&1

cat >"$WORK/schedule.yaml" <<YAML
schedules:
  - name: tick
    every: 20s
    job: noop
    queue: $Q.sched
YAML

# The job store part: a tracked worker (global limit span=3) on its own queue; jobs with a result holding the
# payload, a failing one, a slow one reporting progress, 60 noops (two pages), 5 spans (3 hold the limit, 2
# wait), and two workflows: a saga whose last step dies (compensations and on-failure run) and a chain
# ending in a group that is still running.
STORE="sqlite:$WORK/jobs.db"
"$BIN" topology declare --queue "$JQ" --max-priority 0 >/dev/null
WARREN_STORE=$STORE "$BIN" worker --queue "$JQ" --concurrency 10 --max-priority 0 --global-limit span=3 >"$WORK/store-worker.log" 2>&1 & pids+=($!)
export STORE_WORKER_PID=$!   # SIGKILLed by the Python part (fault drill)
"$PY" - "$JQ" "$WORK" <<'PY'
import json, os, sys
q, work = sys.argv[1:3]
XSS = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'
json.dump({"value": {"note": XSS, "n": [1, 2, 3]}}, open(work + "/xss-args.json", "w"))
json.dump({"message": XSS}, open(work + "/fail-args.json", "w"))
json.dump({"kind": "saga", "queue": q, "steps": [
    {"job": "result", "args": {"value": {"reserved": 2}}, "compensate": {"job": "noop"}},
    {"job": "incr", "args": {"n": 41}, "compensate": {"job": "noop"}},
    {"job": "fail", "args": {"message": XSS}, "attempts": 1}],
    "on_failure": {"job": "noop"}}, open(work + "/saga.json", "w"))
json.dump({"kind": "chain", "queue": q, "steps": [
    {"job": "result", "args": {"value": "first"}},
    {"group": [{"job": "incr", "args": {"n": 1}}, {"job": "progress", "args": {"steps": 600, "ms": 200}}]}]},
    open(work + "/fan.json", "w"))
json.dump({"batch": {"id": os.environ["BATCH_ID"], "queue": os.environ["BQ"],
    "children": [{"job": "fail", "args": {"message": XSS}, "attempts": 1}] + [{"job": "sleep", "args": {"ms": 300}}] * 59,
    "on_success": {"job": "noop"}, "on_complete": {"job": "noop"}, "on_death": {"job": "noop"}}}, open(work + "/batch.json", "w"))
PY
WARREN_STORE=$STORE "$BIN" enqueue result --queue "$JQ" --max-priority 0 --id job-xss --args "$(cat "$WORK/xss-args.json")" >/dev/null
WARREN_STORE=$STORE "$BIN" enqueue fail --queue "$JQ" --max-priority 0 --id job-fail --max-attempts 1 --args "$(cat "$WORK/fail-args.json")" >/dev/null
WARREN_STORE=$STORE "$BIN" enqueue progress --queue "$JQ" --max-priority 0 --id job-progress --args '{"steps": 600, "ms": 200}' >/dev/null
WARREN_STORE=$STORE "$BIN" enqueue noop --queue "$JQ" --max-priority 0 --id page-job --count 60 >/dev/null
WARREN_STORE=$STORE "$BIN" enqueue span --queue "$JQ" --max-priority 0 --args "{\"file\": \"$WORK/spans\", \"ms\": 120000}" --count 5 >/dev/null
"$BIN" workflow start "$WORK/saga.json" --id wf-saga --max-priority 0 >/dev/null
"$BIN" workflow start "$WORK/fan.json" --id wf-fan --max-priority 0 >/dev/null
"$BIN" topology declare --queue "$BQ" --max-priority 0 >/dev/null
WARREN_STORE=$STORE "$BIN" workflow start "$WORK/batch.json" --max-priority 0 >/dev/null   # drained by the Python part

export WARREN_DASHBOARD_TOKEN=dash-token-$RANDOM-$RANDOM-$RANDOM
WARREN_STORE=$STORE "$BIN" dashboard --queue "$Q" --port "$PORT" --refresh 0.5 --global-limit span=3 >"$WORK/dash.log" 2>&1 & pids+=($!)
"$BIN" dashboard --queue "$Q" --port $((PORT + 1)) --read-only >"$WORK/dash-ro.log" 2>&1 & pids+=($!)
"$BIN" scheduler --schedule "$WORK/schedule.yaml" --group "$GROUP" >"$WORK/sched.log" 2>&1 & pids+=($!)
for p in "$PORT" $((PORT + 1)); do
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$p/login" && break; sleep 0.1; done
done

status=0
BATCH_WORKER_CMD="env WARREN_STORE=$STORE $BIN worker --queue $BQ --concurrency 2 --max-priority 0" \
WORKER_CMD="$BIN worker --queue $Q --concurrency 2 --max-priority 0" timeout 300 "$PY" scripts/integration/dashboard_browser.py \
  "http://127.0.0.1:$PORT" "http://127.0.0.1:$((PORT + 1))" "$Q" "$SHOTS" || status=$?
if ((status)); then
  echo "--- dashboard log"; tail -n 30 "$WORK/dash.log"; echo "--- read-only dashboard log"; tail -n 10 "$WORK/dash-ro.log"
fi
grep -q "dashboard login failed" "$WORK/dash-ro.log" || { echo "FAIL: failed logins were not logged"; status=1; }
# `warren workflow show` reads the same store through the same library code as the workflows page.
shown=$(WARREN_STORE=$STORE "$BIN" workflow show wf-saga 2>&1) || true
graph=$(WARREN_STORE=$STORE "$BIN" workflow show wf-saga --graph mermaid 2>&1) || true
if grep -q $'wf-saga.3\tfail\tdead' <<<"$shown" && grep -q "class s3 dead" <<<"$graph" && [[ $(grep -c '^wf-saga\.' <<<"$shown") == 6 ]]; then
  echo "ok: warren workflow show lists the saga's 6 jobs from the store and draws step 3 dead"
else
  echo "FAIL: warren workflow show:"; echo "$shown"; echo "$graph"; status=1
fi
bshown=$(WARREN_STORE=$STORE "$BIN" workflow show "$BATCH_ID" 2>&1) || true
bgraph=$(WARREN_STORE=$STORE "$BIN" workflow show "$BATCH_ID" --graph mermaid 2>&1) || true
if grep -q "batch $BATCH_ID (complete): 60/60 finished, 0 pending, 59 succeeded, 1 dead" <<<"$bshown" \
    && grep -qP "^  death\tnoop\t$BATCH_ID.death\tenqueued" <<<"$bshown" && grep -qE "^  class (.*,)?join(,.*)? dead$" <<<"$bgraph"; then
  echo "ok: warren workflow show BATCH gives the batch's counts, its callbacks enqueued, and draws it dead (a child died)"
else
  echo "FAIL: warren workflow show BATCH:"; echo "$bshown"; echo "$bgraph"; status=1
fi
WARREN_STORE=$STORE "$BIN" workflow show no-such-workflow >/dev/null 2>&1 && { echo "FAIL: an unknown workflow id exits 0"; status=1; }
echo "screenshots: $SHOTS"
exit "$status"
