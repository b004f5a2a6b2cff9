#!/usr/bin/env bash
# HA scheduler test: three `warren scheduler` replicas on a 1-second schedule; the leader is killed
# with SIGKILL, later the next one. A worker then drains the queue with the `record` job, and every fire
# second between the first and the last must appear exactly once (counted by message id = job id).
# Prints the takeover gaps. Env: WARREN_TEST_URL (broker), HA_PHASE (seconds between kills, default 8),
# WARREN_BIN (the warren binary, default .build/debug/warren, built if missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v swift >/dev/null && [[ -x /opt/swift/usr/bin/swift ]]; then export PATH=/opt/swift/usr/bin:$PATH; fi
export WARREN_URL=${WARREN_TEST_URL:-amqp://guest:guest@127.0.0.1:5672/%2F}
PHASE=${HA_PHASE:-8}
# shellcheck source=scripts/lib/integration.sh
source scripts/lib/integration.sh
BIN=$(warren_bin)
TAG=$$.$RANDOM
Q=ha.sched.$TAG
GROUP=ha-$TAG
SCHEDULE=ha-tick
WORK=$(mktemp -d)
RECORD=$WORK/record.txt
LEADER=$WORK/leader
: >"$RECORD"
pids=()
worker_pid=""

cleanup() {
  for p in "${pids[@]}" $worker_pid; do kill -9 "$p" 2>/dev/null || true; done
  delete_queues "$Q" "$Q.dead" "warren.scheduler.state.$GROUP.$SCHEDULE"
  rm -rf "$WORK"
}
trap cleanup EXIT

cat >"$WORK/schedules.yaml" <<YAML
schedules:
  - name: $SCHEDULE
    every: 1s
    job: record
    args: {file: "$RECORD"}
    queue: $Q
    missed: all
    missed_window: 5m
YAML
"$BIN" schedule validate "$WORK/schedules.yaml"

for i in 1 2 3; do
  WARREN_LOG_LEVEL=info "$BIN" scheduler --schedule "$WORK/schedules.yaml" --group "$GROUP" \
    --leader-file "$LEADER" >"$WORK/scheduler-$i.log" 2>&1 &
  pids+=($!)
done

now() { date +%s.%N; }
leader_pid() { cat "$LEADER" 2>/dev/null | tr -d '[:space:]' || true; }

# Waits (bounded) until the leader file names a live replica other than $1; prints its pid.
wait_leader() {
  local old=$1 deadline=$((SECONDS + 30)) p
  while ((SECONDS < deadline)); do
    p=$(leader_pid)
    if [[ -n $p && $p != "$old" ]] && kill -0 "$p" 2>/dev/null; then echo "$p"; return 0; fi
    sleep 0.02
  done
  echo "FAIL: no new leader within 30 s" >&2
  tail -5 "$WORK"/scheduler-*.log >&2
  return 1
}

started=$(now)
leader=$(wait_leader none)
echo "leader: pid $leader"
gaps=()
for kill_round in 1 2; do
  sleep "$PHASE"
  killed_at=$(now)
  kill -9 "$leader"
  wait "$leader" 2>/dev/null || true
  new=$(wait_leader "$leader")
  gap=$(awk -v a="$(now)" -v b="$killed_at" 'BEGIN { print a - b }')
  gaps+=("$gap")
  printf 'SIGKILL leader %s; pid %s leads after %.2f s\n' "$leader" "$new" "$gap"
  leader=$new
done
sleep "$PHASE"
for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
pids=()
ended=$(now)

# Confirmed fires the replicas logged; the queue may hold more (a publish the killed leader sent unconfirmed).
logged=$(cat "$WORK"/scheduler-*.log | grep -c ' fired' || true)
echo "replicas logged $logged confirmed fires; draining $Q with a worker"
caught=$(cat "$WORK"/scheduler-*.log | grep ' fired' | grep -c 'caught_up=true' || true)
worst=$(cat "$WORK"/scheduler-*.log | grep ' fired' | grep -o 'late_ms=[0-9-]*' | cut -d= -f2 | sort -n | tail -1 || true)
echo "fires a new leader published late (caught up at takeover): $caught; worst publish lateness: ${worst:-?} ms"
WARREN_LOG_LEVEL=warning "$BIN" worker --queue "$Q" --concurrency 4 >"$WORK/worker.log" 2>&1 &
worker_pid=$!
deadline=$((SECONDS + 60))
until (($(wc -l <"$RECORD") >= logged)); do
  ((SECONDS < deadline)) || { echo "FAIL: only $(wc -l <"$RECORD") of $logged fires drained"; tail "$WORK/worker.log"; exit 1; }
  sleep 0.1
done
sleep 1.5
kill -TERM "$worker_pid"
wait "$worker_pid" 2>/dev/null || true
worker_pid=""

python3 - "$RECORD" "$started" "$ended" "$SCHEDULE" "${gaps[@]}" <<'PY'
import collections, datetime, sys
record, started, ended, schedule = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
gaps = [float(g) for g in sys.argv[5:]]
ids = [line.split()[0] for line in open(record) if line.strip()]
counts = collections.Counter(ids)
seconds = []
for i in counts:
    name, _, stamp = i.partition("@")
    assert name == schedule, i
    seconds.append(int(datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp()))
seconds.sort()
dups = {i: n for i, n in counts.items() if n > 1}
missing = sorted(set(range(seconds[0], seconds[-1] + 1)) - set(seconds)) if seconds else []
late_start = seconds[0] - started if seconds else None
early_end = ended - seconds[-1] if seconds else None
print(f"scheduler-ha: messages={len(ids)} unique_fire_ids={len(counts)} span={seconds[0] if seconds else '-'}..{seconds[-1] if seconds else '-'}"
      f" ({len(seconds)} seconds) duplicates={len(dups)} missing={len(missing)}")
print("takeover gaps (SIGKILL -> new leader): " + ", ".join(f"{g:.2f} s" for g in gaps))
ok = True
if dups: print(f"FAIL: fire ids published more than once: {dups}"); ok = False
if missing: print(f"FAIL: fire seconds never published: {missing}"); ok = False
if not seconds or late_start > 5 or early_end > 5:
    print(f"FAIL: fires do not cover the run (first fire {late_start} s after start, last {early_end} s before the end)"); ok = False
print("PASS" if ok else "FAILED")
sys.exit(0 if ok else 1)
PY
