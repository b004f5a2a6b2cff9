#!/usr/bin/env bash
# Celery chords on a Swift worker with a job store (SQLite): a real Celery app (result backend file://, which
# has no native join, so Celery sends a celery.chord_unlock) sends
#   chord([add.s(1,1), add.s(2,2), add.s(3,3)], tsum.s())                    -> the body runs once with [2,4,6]
#   chord([add.s(1,1), fail.s(...), add.s(3,3)], tsum.s().on_error(record))  -> the link_error runs once, not the body
#   chord([add.s(1,1), fail.s(...)], tsum.s())                               -> the unlock is dead-lettered, naming the task
# then the fault drill: 30 chords of 300 ms header tasks while the worker is SIGKILLed twice (while unlocks
# poll, defer and publish) and restarted; every body runs, with the right sum (body runs counted; duplicates
# at most the prefetch per kill).
# Env: WARREN_TEST_URL (broker), WARREN_VENV (venv with pika and celery, default .venv), WARREN_BIN.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v swift >/dev/null && [[ -x /opt/swift/usr/bin/swift ]]; then export PATH=/opt/swift/usr/bin:$PATH; fi
# shellcheck source=scripts/lib/integration.sh
source scripts/lib/integration.sh
integration_env
PY=${WARREN_VENV:-.venv}/bin/python
BIN=$(warren_bin)
"$PY" -c 'import pika, celery' || { echo "FAIL: $PY lacks pika/celery (run deploy/install-deps.sh)"; exit 1; }
drill_init
Q=celery.chord.$$.$RANDOM
PREFETCH=8
export WARREN_STORE=sqlite:$WORK/store.db
SUMS=$WORK/sums.txt ERRS=$WORK/errbacks.txt DRILL=$WORK/drill.txt
: >"$SUMS"; : >"$ERRS"; : >"$DRILL"

cat >"$WORK/chords.py" <<'PY'
"""Sends Celery chords (file:// result backend) and reads dead letters, for celery-chord.sh."""
import json, os, sys
import pika
from celery import Celery, chord
sys.path.insert(0, "examples/python")
from celery_producer import warren_queue

URL, Q, WORK = os.environ["WARREN_URL"], sys.argv[2], sys.argv[3]

def app():
    os.makedirs(os.path.join(WORK, "celery-results"), exist_ok=True)
    a = Celery(broker=URL.replace("amqp://", "pyamqp://", 1), backend="file://" + os.path.join(WORK, "celery-results"))
    a.conf.update(task_default_queue=Q, task_queues=[warren_queue(Q)], broker_connection_retry_on_startup=False)
    return a

def stories(sums, errs):
    a = app()
    add = lambda x, y: a.signature("add", args=[x, y])
    ok = chord([add(1, 1), add(2, 2), add(3, 3)])(a.signature("tsum", kwargs={"file": sums}))
    body = a.signature("tsum", kwargs={"file": sums})
    body.on_error(a.signature("record", args=[errs], immutable=True))
    errback = chord([add(1, 1), a.signature("fail", args=["header boom"]), add(3, 3)])(body)
    dead = chord([add(1, 1), a.signature("fail", args=["header boom 2"])])(a.signature("tsum", kwargs={"file": sums}))
    print(json.dumps({"ok": ok.id, "errback": errback.id, "dead": dead.id}))

def drill(n, out):
    a = app()
    for i in range(n):
        # Header tasks of 300 ms: the unlocks (due after 1 s) find them unfinished and poll again.
        chord([a.signature("add", args=[i, k], kwargs={"ms": 300}) for k in (1, 2, 3)])(a.signature("tsum", kwargs={"file": out}))

def dead():  # the dead letters as JSON lines: id, task, reason, message
    ch = pika.BlockingConnection(pika.URLParameters(URL)).channel()
    while True:
        method, props, _ = ch.basic_get(Q + ".dead", auto_ack=True)
        if method is None: break
        h = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in (props.headers or {}).items()}
        print(json.dumps({"id": props.message_id or h.get("id"), "task": h.get("task"), "reason": h.get("warren-dead-reason"),
                          "message": h.get("warren-error-message")}))
    ch.connection.close()

if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "stories": stories(sys.argv[4], sys.argv[5])
    elif cmd == "drill": drill(int(sys.argv[4]), sys.argv[5])
    elif cmd == "dead": dead()
PY

start_worker() {  # at info level: the unlock logs each body it publishes (counted by the drill)
  WARREN_LOG_LEVEL=info WARREN_LOG_FORMAT=json "$BIN" worker --queue "$Q" --celery --concurrency 4 --prefetch "$PREFETCH" >>"$WORK/worker.log" 2>&1 &
  worker_pid=$!
}
chords() { "$PY" "$WORK/chords.py" "$1" "$Q" "$WORK" "${@:2}"; }
lines() { wc -l <"$1"; }
unlock_states() {
  sqlite3 -cmd ".timeout 10000" "$WORK/store.db" \
    "SELECT group_concat(state || '=' || n, ' ') FROM (SELECT state, count(*) AS n FROM warren_jobs WHERE name = 'celery.chord_unlock' GROUP BY state)"
}

echo "== worker with WARREN_STORE=$WARREN_STORE on $Q; three chords from Celery"
start_worker
wait_consumers "$WORK/worker.log" "$Q"
chords stories "$SUMS" "$ERRS" | tee "$WORK/ids.json"
: >"$WORK/dead.txt"
deadline=$((SECONDS + 120))
until (($(lines "$SUMS") >= 1 && $(lines "$ERRS") >= 1)) && grep -q chord_unlock "$WORK/dead.txt"; do
  ((SECONDS < deadline)) || { echo "FAIL: timed out"; tail -20 "$WORK/worker.log"; break; }
  chords dead >>"$WORK/dead.txt"
  sleep 0.5
done
sleep 2  # a second body run or errback would show up now
chords dead >>"$WORK/dead.txt"

echo "== check the stories"
"$PY" - "$WORK/ids.json" "$SUMS" "$ERRS" "$WORK/dead.txt" <<'PY'
import json, sys
ids, sums, errs, dead = json.load(open(sys.argv[1])), open(sys.argv[2]).read().split("\n")[:-1], open(sys.argv[3]).read().split("\n")[:-1], [json.loads(l) for l in open(sys.argv[4])]
fails = []
def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok: fails.append(what)
check(sums == [f"{ids['ok']} 12 2,4,6"], f"the body ran once, under its Celery id, with the header results [2,4,6]: {sums}")
check([l.split()[0] for l in errs] == [f"{ids['errback']}.link-error-1"], f"the link_error of the chord with a dead header task ran once: {errs}")
unlocks = [d for d in dead if d["task"] == "celery.chord_unlock"]
check(len(unlocks) == 1 and unlocks[0]["reason"] == "non-retryable" and f"body tsum, id {ids['dead']}) failed: header task(s)" in unlocks[0]["message"]
      and "header boom 2" in unlocks[0]["message"], f"the unlock of the chord without link_error dead-lettered naming the dead task: {unlocks}")
check(sorted(d["task"] for d in dead) == ["celery.chord_unlock", "fail", "fail"], f"dead letters: the 2 failing header tasks and 1 unlock: {[d['task'] for d in dead]}")
sys.exit(1 if fails else 0)
PY

echo "== fault drill: 30 chords, the worker SIGKILLed twice while unlocks defer and publish"
chords drill 30 "$DRILL"
# 90 header tasks of 300 ms at concurrency 4 take about 7 s; the unlocks are due after 1 s and poll every
# second: kill 2.5 s after the chords were sent (unlocks polling, no body yet), then once 10 bodies ran
# (unlocks publishing bodies).
for kill in 1 2; do
  if ((kill == 1)); then sleep 2.5; fi
  deadline=$((SECONDS + 120))
  until ((kill == 1 || $(lines "$DRILL") >= 10)); do
    ((SECONDS < deadline)) || { echo "FAIL: only $(lines "$DRILL") bodies after 120 s"; tail -20 "$WORK/worker.log"; exit 1; }
    sleep 0.05
  done
  kill -9 "$worker_pid"
  wait "$worker_pid" 2>/dev/null || true
  echo "SIGKILL worker at $(lines "$DRILL") body runs; unlocks in the store by state: $(unlock_states)"
  start_worker
done
deadline=$((SECONDS + 180))
until (($(cut -d' ' -f1 "$DRILL" | sort -u | wc -l) >= 30)); do
  ((SECONDS < deadline)) || break
  sleep 0.5
done
sleep 2
stop_gracefully "$worker_pid"
worker_pid=""
echo "unlocks in the store by state: $(unlock_states); polls (attempts) of all unlocks: $(sqlite3 "$WORK/store.db" \
  "SELECT sum(attempt) || ', at most ' || max(attempt) || ' for one' FROM warren_jobs WHERE name = 'celery.chord_unlock'")"
"$PY" - "$DRILL" "$PREFETCH" "$WORK/worker.log" <<'PY'
import json, sys
rows = [l.split() for l in open(sys.argv[1])]
bodies = {}
for bid, total, numbers in rows: bodies.setdefault(bid, set()).add((int(total), numbers))
sums = sorted(t for v in bodies.values() for t, _ in v)
runs, bound = len(rows), 2 * int(sys.argv[2])
print(f"chord drill: chords=30 bodies={len(bodies)} body runs={runs} duplicates={runs - len(bodies)} (bound {bound} = prefetch x 2 kills)")
published = [json.loads(l).get("body.id") for l in open(sys.argv[3]) if l.startswith("{") and "Celery chord complete" in l]
published = [b for b in published if b in bodies]  # the drill's, not the stories'
republished = len(published) - len(set(published))
# A kill between a body's confirm and the claim's "enqueued" mark republishes it (same id) after the lease.
print(f"body publishes logged by the unlocks: {len(published)} for {len(set(published))} bodies ({republished} republished, bound {bound})")
# A kill between a body's confirm and its log line loses that line (at most one per kill): 2 kills.
unlogged = len(bodies) - len(set(published))
ok = len(bodies) == 30 and 0 <= unlogged <= 2 and republished <= bound and sums == sorted(3 * i + 6 for i in range(30)) and all(len(v) == 1 for v in bodies.values()) and runs - len(bodies) <= bound
print("PASS" if ok else f"FAIL: bodies {len(bodies)}, unlogged publishes {unlogged}, sums {sums}")
sys.exit(0 if ok else 1)
PY
