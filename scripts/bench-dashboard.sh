#!/usr/bin/env bash
# Dashboard benchmark: latency of the dead-letters page with DLQ_N dead letters (default 100,000) in the
# queue, and of the overview and queues pages with QUEUES work queues (default 100), as p50/p99 over REQS
# sequential requests each (default 200), plus the dashboard's own load on the broker per refresh. Prints
# figures only; nothing is asserted. Targets from the issue: dead letters p99 <= 100 ms, overview p99 <= 50 ms.
# Env: WARREN_URL, WARREN_BIN (default .build/release/warren, built if missing), DLQ_N, QUEUES, REQS, REFRESH
# (the dashboard's --refresh, default 2 s: its cached broker reads are reloaded every half of it).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/bench.sh
source scripts/lib/bench.sh
export WARREN_URL=${WARREN_URL:-amqp://guest:guest@127.0.0.1:5672/%2F}
export WARREN_LOG_LEVEL=warning
BIN=${WARREN_BIN:-.build/release/warren}
[[ -x $BIN ]] || swift build -c release --product warren >&2
N=${DLQ_N:-100000}
NQ=${QUEUES:-100}
REQS=${REQS:-200}
REFRESH=${REFRESH:-2}
P=bench.dash.$$
WORK=$(mktemp -d)
PORT=$((19000 + RANDOM % 500))
pid=""
qs=$(seq -f "$P.q%g" 1 "$NQ" | paste -sd, -)
cleanup() {
  [[ -n $pid ]] && kill "$pid" 2>/dev/null || true
  for q in ${qs//,/ }; do amqp-delete-queue --url="$WARREN_URL" -q "$q" >/dev/null 2>&1 || true
    amqp-delete-queue --url="$WARREN_URL" -q "$q.dead" >/dev/null 2>&1 || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "declaring $NQ work queues, importing $N dead letters into $P.q1.dead" >&2
"$BIN" topology declare --queue "$qs" --max-priority 0 >/dev/null
python3 - "$P.q1" "$N" >"$WORK/dead.jsonl" <<'PY'
import base64, json, sys, time
q, n, now = sys.argv[1], int(sys.argv[2]), int(time.time() * 1000)
def s(v): return {"type": "string", "value": v}
for i in range(n):
    h = {"warren-job": s("noop"), "warren-queue": s(q), "warren-attempt": {"type": "int32", "value": 3}, "warren-dead-reason": s("exhausted"),
         "warren-error-type": s("Boom"), "warren-error-message": s("bench %d" % i), "warren-dead-at": {"type": "int64", "value": now}}
    print(json.dumps({"format": "warren-dlq/1", "queue": q + ".dead", "body": base64.b64encode(b'{"i":%d}' % i).decode(),
                      "properties": {"contentType": "application/json", "deliveryMode": 2, "messageID": "b%06d" % i, "headers": h}}))
PY
"$BIN" dlq import "$WORK/dead.jsonl" --batch 1000 >/dev/null 2>&1

export WARREN_DASHBOARD_TOKEN=bench-token-$RANDOM$RANDOM$RANDOM
"$BIN" dashboard --queue "$qs" --port "$PORT" --refresh "$REFRESH" >"$WORK/dash.log" 2>&1 &
pid=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/login" && break; sleep 0.1; done

python3 - "http://127.0.0.1:$PORT" "$P.q1" "$REQS" "$NQ" "$N" <<'PY'
import os, sys, time, urllib.request
base, q, reqs, nq, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
auth = {"Authorization": "Bearer " + os.environ["WARREN_DASHBOARD_TOKEN"]}
import urllib.error
failures = {}
def get(path):
    try:
        with urllib.request.urlopen(urllib.request.Request(base + path, headers=auth), timeout=30) as r:
            r.read()
            return r.status
    except urllib.error.HTTPError as e:  # counted and shown, not fatal
        failures.setdefault(path, []).append(f"{e.code} {e.read().decode()[:200]}")
        return e.code
def measure(path, count):
    get(path)
    times = []
    for _ in range(count):
        t = time.perf_counter(); get(path); times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return times[len(times) // 2], times[min(len(times) - 1, int(len(times) * 0.99))], times[-1]
print(f"dashboard benchmark: {nq} work queues, {n} dead letters in {q}.dead, {reqs} sequential requests per page")
for name, path, target in [("overview", "/", 50), ("queues", "/queues", None),
                           ("dead letters, page 1", "/dead-letters?queue=" + q, 100),
                           ("dead letters, page 20", "/dead-letters?queue=" + q + "&page=20", None),
                           ("API /api/queues", "/api/queues", None)]:
    p50, p99, worst = measure(path, reqs)
    goal = f"  (target p99 <= {target} ms: {'met' if p99 <= target else 'NOT met'})" if target else ""
    print(f"  {name:24s} p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  max {worst:7.1f} ms{goal}")
    if path in failures:
        print(f"    {len(failures[path])} failed request(s), first: {failures[path][0]}")
print("broker load per refresh, whatever the number of open pages (reads served from memory, reloaded in the")
print("background at most once per half refresh interval):")
print(f"  queues report: 1 GET /api/queues + {2 * nq} passive declares (each existing lane and dead-letter queue);")
print(f"    without the management API: {2 * nq + 32 + nq} passive declares (also delay levels, migration holding queues)")
print("  overview: 1 GET /api/overview; workers page: 1 GET /api/consumers per view")
print("  dead-letters page k (per view, not cached): channel open, 1 passive declare, basic.qos + basic.consume of")
print("    k*50+1 messages (filtered: basic.get each), channel close (all returned), then a second channel's")
print("    passive declares (usually one, at most 100 over 1 s) until the queue holds those messages again")
PY
