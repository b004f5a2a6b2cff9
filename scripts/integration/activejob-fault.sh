#!/usr/bin/env bash
# Fault drill for ActiveJob jobs: Rails (ruby-activejob, through examples/ruby/warren_sneakers_adapter.rb)
# enqueues RecordJob jobs, a quarter of them scheduled 1 s ahead (the worker defers those through the delay
# levels: publish the copy, then ack the original); the Swift worker is killed with SIGKILL twice mid-run and
# restarted. Every job_id must be recorded at least once; duplicates at most the prefetch per kill.
# Env: WARREN_TEST_URL (broker), AJ_FAULT_JOBS (default 2000), AJ_FAULT_PREFETCH (default 20).
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v swift >/dev/null && [[ -x /opt/swift/usr/bin/swift ]]; then
  export PATH=/opt/swift/usr/bin:$PATH
fi
export WARREN_URL=${WARREN_TEST_URL:-amqp://guest:guest@127.0.0.1:5672/%2F}
export WARREN_LOG_LEVEL=warning
N=${AJ_FAULT_JOBS:-2000}
PREFETCH=${AJ_FAULT_PREFETCH:-20}
# shellcheck source=scripts/lib/integration.sh
source scripts/lib/integration.sh
ruby -e 'require "active_job"; require "bunny"' || { echo "FAIL: ruby with active_job and bunny needed (deploy/install-deps.sh)"; exit 1; }
BIN=$(warren_bin)
ID=$$.$RANDOM
Q=aj.fault.$ID
export WARREN_ACTIVEJOB_EXCHANGE=sneakers.fault.$ID
WORK=$(mktemp -d)
RECORD=$WORK/record.txt
: >"$RECORD"
worker_pid=""

cleanup() {
  [[ -n $worker_pid ]] && kill -9 "$worker_pid" 2>/dev/null || true
  delete_queues "$Q" "$Q.dead"
  ruby -rbunny -e 'c = Bunny.new(ENV["WARREN_URL"], logger: Logger.new(nil)).tap(&:start)
                   c.create_channel.exchange_delete(ARGV[0]); c.close' "$WARREN_ACTIVEJOB_EXCHANGE" || true
  rm -rf "$WORK"
}
trap cleanup EXIT

start_worker() {
  "$BIN" worker --queue "$Q" --activejob --concurrency "$PREFETCH" --prefetch "$PREFETCH" >>"$WORK/worker.log" 2>&1 &
  worker_pid=$!
}

lines() { wc -l <"$RECORD"; }
unique() { cut -d' ' -f1 "$RECORD" | sort -u | wc -l; }

# Waits (bounded) until the record file has at least $1 lines.
wait_lines() {
  local want=$1 deadline=$((SECONDS + 180))
  until (($(lines) >= want)); do
    ((SECONDS < deadline)) || { echo "FAIL: only $(lines) of $want records after 180 s"; tail -20 "$WORK/worker.log"; exit 1; }
    sleep 0.05
  done
}

echo "declaring $Q (bound to $WARREN_ACTIVEJOB_EXCHANGE), then enqueueing $N RecordJob jobs from Rails"
start_worker
until ruby -rbunny -e 'c = Bunny.new(ENV["WARREN_URL"], logger: Logger.new(nil)).tap(&:start)
                       n = begin; c.create_channel.queue_declare(ARGV[0], passive: true).consumer_count; rescue Bunny::NotFound; 0; end
                       c.close; exit(n.positive? ? 0 : 1)' "$Q" 2>/dev/null; do
  ((SECONDS < 60)) || { echo "FAIL: worker did not start"; cat "$WORK/worker.log"; exit 1; }
  sleep 0.3
done
kill -TERM "$worker_pid"
wait "$worker_pid" || true
ruby - "$Q" "$RECORD" "$N" >"$WORK/ids.txt" <<'RB'
require_relative File.expand_path("examples/ruby/warren_sneakers_adapter.rb")
QUEUE, RECORD_FILE, N = ARGV[0], ARGV[1], ARGV[2].to_i
ActiveJob::Base.logger = Logger.new(nil)
ActiveJob::Base.queue_adapter = WarrenSneakersAdapter.new
class RecordJob < ActiveJob::Base
  queue_as QUEUE
  def perform(file) = nil
end
N.times do |i|
  job = i % 4 == 3 ? RecordJob.set(wait: 1.second).perform_later(RECORD_FILE) : RecordJob.perform_later(RECORD_FILE)
  puts job.job_id
end
ActiveJob::Base.queue_adapter.close
RB
echo "enqueued $(sort -u "$WORK/ids.txt" | wc -l) distinct job ids"

start_worker
for threshold in $((N / 4)) $((N * 3 / 5)); do
  wait_lines "$threshold"
  kill -9 "$worker_pid"
  wait "$worker_pid" 2>/dev/null || true
  echo "SIGKILL worker at $(lines) records"
  start_worker
done

deadline=$((SECONDS + 240))
until (($(unique) >= N)); do
  ((SECONDS < deadline)) || break
  sleep 0.2
done
sleep 2 # a late duplicate (a deferred copy still in the delay levels) shows in the count below
kill -TERM "$worker_pid"
wait "$worker_pid" || true
worker_pid=""

total=$(lines)
uniq=$(unique)
missing=$(comm -23 <(sort -u "$WORK/ids.txt") <(cut -d' ' -f1 "$RECORD" | sort -u) | wc -l)
dups=$((total - uniq))
bound=$((2 * PREFETCH))
echo "activejob-fault: jobs=$N recorded=$total unique=$uniq missing=$missing duplicates=$dups (bound $bound = prefetch x 2 kills)"
if ((missing != 0)); then echo "FAIL: $missing jobs lost"; exit 1; fi
if ((dups > bound)); then echo "FAIL: $dups duplicates exceed the bound $bound"; exit 1; fi
echo "PASS"
