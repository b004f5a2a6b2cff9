#!/usr/bin/env bash
# Fault drill for ActiveJob jobs: Rails (ruby-activejob, through examples/ruby/warren_sneakers_adapter.rb)
# enqueues RecordJob jobs, a quarter of them scheduled 1 s ahead (the worker defers those through the delay
# levels: publish the copy, then ack the original); the Swift worker is killed with SIGKILL twice mid-run and
# restarted. Every job_id must be recorded at least once; duplicates at most the prefetch per kill.
# Env: WARREN_TEST_URL (broker), AJ_FAULT_JOBS (default 2000), AJ_FAULT_PREFETCH (default 20).
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/lib/integration.sh
source scripts/lib/integration.sh
integration_env
N=${AJ_FAULT_JOBS:-2000}
PREFETCH=${AJ_FAULT_PREFETCH:-20}
ruby -e 'require "active_job"; require "bunny"' || { echo "FAIL: ruby with active_job and bunny needed (deploy/install-deps.sh)"; exit 1; }
BIN=$(warren_bin)
ID=$$.$RANDOM
Q=aj.fault.$ID
export WARREN_ACTIVEJOB_EXCHANGE=sneakers.fault.$ID
WORK=$(mktemp -d)
RECORD=$WORK/record.txt
: >"$RECORD"
worker_pid=""

trap 'finish_run "$worker_pid" "$WARREN_ACTIVEJOB_EXCHANGE" "$Q" "$Q.dead"' EXIT

start_worker() {
  "$BIN" worker --queue "$Q" --activejob --concurrency "$PREFETCH" --prefetch "$PREFETCH" >>"$WORK/worker.log" 2>&1 &
  worker_pid=$!
}

echo "declaring $Q (bound to $WARREN_ACTIVEJOB_EXCHANGE), then enqueueing $N RecordJob jobs from Rails"
start_worker
wait_consumers "$WORK/worker.log" "$Q"
stop_gracefully "$worker_pid"
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
kill_worker_at $((N / 4)) $((N * 3 / 5))
wait_record_ids "$N"
sleep 2 # a late duplicate (a deferred copy still in the delay levels) shows in the count below
stop_gracefully "$worker_pid"
worker_pid=""

missing=$(comm -23 <(sort -u "$WORK/ids.txt") <(cut -d' ' -f1 "$RECORD" | sort -u) | wc -l)
check_records activejob-fault "$N" "$missing" "$PREFETCH"
