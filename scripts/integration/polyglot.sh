#!/usr/bin/env bash
# Polyglot producers: jobs enqueued by pika (examples/python/producer.py), amqp-publish
# (examples/shell/producer.sh) and Celery's send_task (examples/python/celery_producer.py) run on the Swift
# worker with the right arguments, priority, delay and trace; a Celery `chain` and `link` run in order on the
# Swift worker; a Celery task that always fails, a Celery chord sent to a worker without a job store (by an
# app with a filesystem result backend: its header tasks and its celery.chord_unlock; celery-chord.sh runs
# chords with a store) and malformed input end in the dead-letter queues with warren-dead-reason and an
# actionable message.
# Env: WARREN_TEST_URL (broker), WARREN_VENV (venv with pika and celery, default .venv),
#      WARREN_BIN (worker binary, default .build/debug/warren, built if missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v swift >/dev/null && [[ -x /opt/swift/usr/bin/swift ]]; then export PATH=/opt/swift/usr/bin:$PATH; fi
export WARREN_URL=${WARREN_TEST_URL:-amqp://guest:guest@127.0.0.1:5672/%2F}
export WARREN_LOG_LEVEL=${WARREN_LOG_LEVEL:-warning}
# Priority is opt-in; this drill checks it, so every side (the workers, kombu's declarations through
# examples/python/celery_producer.py) declares the queues with x-max-priority 10.
export WARREN_MAX_PRIORITY=10
PY=${WARREN_VENV:-.venv}/bin/python
# shellcheck source=scripts/lib/integration.sh
source scripts/lib/integration.sh
BIN=$(warren_bin)
"$PY" -c 'import pika, celery' || { echo "FAIL: $PY lacks pika/celery (run deploy/install-deps.sh)"; exit 1; }

ID=$$.$RANDOM
QP=poly.pika.$ID QS=poly.shell.$ID QC=poly.celery.$ID
WORK=$(mktemp -d)
ECHO=$WORK/echo.txt
: >"$ECHO"
pids=()

cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  "$PY" "$WORK/check.py" delete "$QP" "$QP.dead" "$QS" "$QS.lane1" "$QS.lane2" "$QS.dead" "$QC" "$QC.dead" || true
  rm -rf "$WORK"
}
trap cleanup EXIT

cat >"$WORK/check.py" <<'PY'
"""Broker-side helpers and assertions for polyglot.sh (pika)."""
import json, os, sys, time
import pika

URL = os.environ["WARREN_URL"]

def channel():
    return pika.BlockingConnection(pika.URLParameters(URL)).channel()

def consumers(queues):  # exit 0 when every queue exists and has a consumer
    for q in queues:
        ch = channel()
        try:
            if ch.queue_declare(q, passive=True).method.consumer_count < 1: sys.exit(1)
        except pika.exceptions.ChannelClosedByBroker:
            sys.exit(1)
        finally:
            ch.connection.close()

def delete(queues):
    ch = channel()
    for q in queues: ch.queue_delete(q)
    ch.connection.close()

def malformed(qp, qc, echo_file):
    ch = channel()
    ch.confirm_delivery()
    def pub(q, mid, job, body, ctype="application/json"):
        headers = {"warren-job": job} if job else {}
        ch.basic_publish("warren", q, body, pika.BasicProperties(content_type=ctype, delivery_mode=2, message_id=mid,
                                                               headers=headers), mandatory=True)
    pub(qp, "bad-ctype", "echo", b"file=/tmp/x", ctype="text/plain")
    pub(qp, "bad-json", "sleep", b'{ms: 5')
    pub(qp, "wrong-type", "sleep", b'{"ms": "fast"}')
    pub(qp, "unknown-job", "resize-image", b'{"width": 10}')
    ch.connection.close()
    from celery import Celery, signature
    sys.path.insert(0, "examples/python")
    from celery_producer import warren_queue
    app = Celery(broker=URL.replace("amqp://", "pyamqp://", 1))
    app.conf.update(task_default_queue=qc, task_queues=[warren_queue(qc)], task_ignore_result=True)
    for label, result in [("celery-unknown", app.send_task("reports.build", args=[1])),
                          ("celery-wrong-type", app.send_task("sleep", args=["fast"])),
                          ("celery-too-many", app.send_task("sleep", args=[1, 2])),
                          ("celery-link", app.send_task("echo", args=[echo_file], kwargs={"label": "celery-link"},
                                                        link=signature("echo", args=[echo_file], kwargs={"label": "celery-link-callback"},
                                                                       immutable=True, app=app)))]:
        print(label, result.id)
    # A canvas chain run by the Swift worker: each incr gets the previous result prepended to its args.
    chain_file = echo_file + ".chain"
    from celery import chain
    c = chain(app.signature("incr", args=[1], kwargs={"file": chain_file}), app.signature("incr", kwargs={"file": chain_file}),
              app.signature("incr", kwargs={"file": chain_file})).apply_async()
    print("celery-chain", c.id)
    # A chord (Celery refuses one without a result backend; the filesystem one needs no server) to a worker
    # without a job store: its three header tasks and its celery.chord_unlock are dead-lettered
    # `non-retryable` naming WARREN_STORE; the body never runs.
    results = os.path.join(os.path.dirname(echo_file), "celery-results")
    os.makedirs(results, exist_ok=True)
    capp = Celery(broker=URL.replace("amqp://", "pyamqp://", 1), backend="file://" + results)
    capp.conf.update(task_default_queue=qc, task_queues=[warren_queue(qc)])
    from celery import chord
    body = chord([capp.signature("incr", args=[i], kwargs={"file": chain_file + ".chord"}) for i in range(3)])(
        capp.signature("incr", kwargs={"file": chain_file + ".chord"}))
    print("celery-chord-body", body.id)

def dead(queue):  # prints the dead letters as JSON lines: id, reason, error type and message, attempt
    ch = channel()
    while True:
        method, props, body = ch.basic_get(queue, auto_ack=True)
        if method is None: break
        h = props.headers or {}
        dec = lambda v: v.decode() if isinstance(v, bytes) else v
        print(json.dumps({"id": props.message_id or dec(h.get("id")), "reason": dec(h.get("warren-dead-reason")),
                          "type": dec(h.get("warren-error-type")), "message": dec(h.get("warren-error-message")),
                          "attempt": h.get("warren-attempt"), "errors": len(h.get("warren-errors") or []),
                          "task": dec(h.get("task"))}))
    ch.connection.close()

def echo_lines(path):  # "<id> <attempt> <traceparent> <json>" -> list of dicts
    out = []
    for line in open(path):
        jid, attempt, trace, args = line.rstrip("\n").split(" ", 3)
        out.append(dict(id=jid, attempt=int(attempt), trace=trace, args=json.loads(args)))
    return out

if __name__ == "__main__":
    cmd, rest = sys.argv[1], sys.argv[2:]
    {"consumers": lambda: consumers(rest), "delete": lambda: delete(rest), "dead": lambda: dead(rest[0]),
     "malformed": lambda: malformed(*rest)}[cmd]()
PY

start_workers() {
  "$BIN" worker --queue "$QP,$QC" --celery --concurrency 1 --prefetch 1 >>"$WORK/worker-a.log" 2>&1 &
  pids+=($!)
  "$BIN" worker --queue "$QS" --lanes 3 --concurrency 1 --prefetch 1 >>"$WORK/worker-b.log" 2>&1 &
  pids+=($!)
  local deadline=$((SECONDS + 60))
  until "$PY" "$WORK/check.py" consumers "$QP" "$QC" "$QS" "$QS.lane2" 2>/dev/null; do
    ((SECONDS < deadline)) || { echo "FAIL: workers did not start"; cat "$WORK"/worker-*.log; exit 1; }
    sleep 0.3
  done
}

stop_workers() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}

echo "== declare queues (start and stop the workers), then enqueue while no worker runs"
start_workers
stop_workers
"$PY" examples/python/producer.py "$QP" "$ECHO" | tee "$WORK/ids.txt"
bash examples/shell/producer.sh "$QS" "$ECHO"

echo "== run workers; Celery tasks and malformed input"
start_workers
"$PY" examples/python/celery_producer.py "$QC" "$ECHO" | tee -a "$WORK/ids.txt"
"$PY" "$WORK/check.py" malformed "$QP" "$QC" "$ECHO" | tee -a "$WORK/ids.txt"

echo "== wait for 15 echo jobs, a 3-step chain and 4 + 8 dead letters"
: >"$WORK/dead-p.txt"
: >"$WORK/dead-c.txt"
deadline=$((SECONDS + 120))
while :; do
  "$PY" "$WORK/check.py" dead "$QP.dead" >>"$WORK/dead-p.txt"
  "$PY" "$WORK/check.py" dead "$QC.dead" >>"$WORK/dead-c.txt"
  (($(wc -l <"$ECHO") >= 15 && $(cat "$ECHO.chain" 2>/dev/null | wc -l) >= 3 && $(wc -l <"$WORK/dead-p.txt") >= 4 && $(wc -l <"$WORK/dead-c.txt") >= 8)) && break
  ((SECONDS < deadline)) || { echo "FAIL: timed out"; break; }
  sleep 0.5
done
sleep 1  # anything extra (a duplicate, a stray dead letter) shows up in the checks below
"$PY" "$WORK/check.py" dead "$QP.dead" >>"$WORK/dead-p.txt"
"$PY" "$WORK/check.py" dead "$QC.dead" >>"$WORK/dead-c.txt"
stop_workers

echo "== check"
WORK=$WORK "$PY" - "$ECHO" "$WORK/ids.txt" "$WORK/dead-p.txt" "$WORK/dead-c.txt" <<'PY' || { tail -20 "$WORK"/worker-*.log; exit 1; }
import json, sys, os
sys.path.insert(0, os.environ["WORK"])
from check import echo_lines
echo_file, ids_file, dead_p, dead_c = sys.argv[1:]
ids = dict(line.split() for line in open(ids_file) if len(line.split()) == 2)
ran = echo_lines(echo_file)
by_label = {}
for r in ran: by_label.setdefault(r["args"]["label"], []).append(r)
failures = []
def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok: failures.append(what)

expected = ["py-plain", "py-expiring", "py-traced", "py-prio", "py-delayed",
            "sh-plain", "sh-expiring", "sh-traced", "sh-prio", "sh-delayed", "sh-run-at", "celery-now", "celery-countdown",
            "celery-link", "celery-link-callback"]
for label in expected:
    check(len(by_label.get(label, [])) == 1, f"{label} ran exactly once")
check(set(by_label) == set(expected), f"no other echo job ran ({sorted(set(by_label) - set(expected))})")
one = lambda label: (by_label.get(label) or [dict(id="", attempt=0, trace="", args={})])[0]
check(one("py-plain")["args"] == {"file": echo_file, "label": "py-plain", "n": 1, "tags": ["a", "b"], "ratio": 0.5, "ok": True},
      "pika typed arguments arrive intact")
check(one("py-plain")["id"] == ids.get("py-plain"), "pika message_id is the job id")
check(one("sh-plain")["args"] == {"file": echo_file, "label": "sh-plain", "n": 1}, "amqp-publish arguments arrive intact")
check(one("py-traced")["trace"] == "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "pika traceparent reaches the job")
check(one("sh-traced")["trace"] == "00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01", "shell traceparent reaches the job")
py_order = [r["args"]["label"] for r in ran if r["args"]["label"].startswith("py-")]
sh_order = [r["args"]["label"] for r in ran if r["args"]["label"].startswith("sh-")]
check(py_order[:1] == ["py-prio"], f"priority 9 ran before the jobs queued ahead of it ({py_order})")
check(sh_order[:1] == ["sh-prio"], f"lane 2 ran before the jobs queued ahead of it ({sh_order})")
check(py_order[-1:] == ["py-delayed"], f"the delayed pika job ran last ({py_order})")
check(set(sh_order[-2:]) == {"sh-delayed", "sh-run-at"}, f"the delayed and run-at shell jobs ran last ({sh_order})")
now = one("celery-now")
check(now["args"] == {"file": echo_file, "label": "celery-now", "n": 7, "who": ["py"]}, f"Celery args+kwargs mapped ({now['args']})")
check(now["id"] == ids.get("celery-now") and now["attempt"] == 1, "Celery task id is the job id, attempt 1")
check(one("celery-countdown")["id"] == ids.get("celery-countdown"), "Celery countdown+expires task ran")

def dead(path):
    return {d["id"]: d for d in map(json.loads, open(path))}
dp, dc = dead(dead_p), dead(dead_c)
def check_dead(d, key, reason, text):
    got = d.get(key, {})
    check(got.get("reason") == reason and text in (got.get("message") or ""),
          f"{key} dead-lettered as {reason}: {got.get('message')!r}")
check_dead(dp, "bad-ctype", "undecodable", "content type 'text/plain' is not supported")
check_dead(dp, "bad-json", "undecodable", "not valid JSON")
check_dead(dp, "wrong-type", "invalid-arguments", "arguments.ms")
check_dead(dp, "unknown-job", "unknown-job", "no job named 'resize-image'")
check(len(dp) == 4, f"4 dead letters in {len(dp)}")
fail = dc.get(ids.get("celery-fail"), {})
check(fail.get("reason") == "exhausted" and fail.get("message") == "always fails" and fail.get("type") == "JobFailure"
      and fail.get("errors") == 3 and fail.get("task") == "fail", f"always-failing Celery task exhausted 3 attempts: {fail}")
check_dead(dc, ids.get("celery-unknown"), "unknown-job", "no job named 'reports.build'")
check_dead(dc, ids.get("celery-wrong-type"), "invalid-arguments", "arguments.ms")
check_dead(dc, ids.get("celery-too-many"), "invalid-arguments", "takes 1 positional argument(s) (ms) but was sent 2")
check(one("celery-link-callback")["args"] == {"file": echo_file, "label": "celery-link-callback"},
      "Celery link (immutable) ran after its task, without the result")
chain_lines = [line.split() for line in open(echo_file + ".chain")]
check([int(n) for _, n in chain_lines] == [1, 2, 3], f"Celery chain ran in order, each step given the last result ({chain_lines})")
check(chain_lines[-1][0] == ids.get("celery-chain"), "the chain's last task kept its Celery id")
chord = [d for d in dc.values() if d.get("task") == "incr"]
check(len(chord) == 3 and all(d["reason"] == "non-retryable" and "a header task of a chord, needs a job store: set WARREN_STORE" in d["message"]
                              for d in chord),
      f"without a store, the 3 Celery chord header tasks dead-lettered non-retryable naming WARREN_STORE: {[d.get('message') for d in chord][:1]}")
unlock = [d for d in dc.values() if d.get("task") == "celery.chord_unlock"]
check(len(unlock) == 1 and unlock[0]["reason"] == "non-retryable" and "needs a job store: set WARREN_STORE" in unlock[0]["message"],
      f"without a store, Celery's chord_unlock dead-lettered non-retryable naming WARREN_STORE: {unlock}")
check(not os.path.exists(echo_file + ".chain.chord"), "the chord body never ran")
check(len(dc) == 8, f"8 dead letters in {len(dc)}")
sys.exit(1 if failures else 0)
PY
echo "PASS"
