#!/usr/bin/env bash
# Rails ActiveJob producers, real Ruby (Debian ruby-activejob 6.1 and ruby-bunny): jobs enqueued through an
# adapter that publishes as ActiveJob's Sneakers adapter does (examples/ruby/warren_sneakers_adapter.rb) run
# on the Swift worker (`warren worker --activejob`) with every argument kind decoded; a job the broker expired
# lists in `warren dlq list` with its job id, class, reason and time and runs once requeued; jobs Warren cannot
# run land in the dead-letter queue with a reason a Rails developer can act on.
# Env: WARREN_TEST_URL (broker), WARREN_BIN (worker binary, default .build/debug/warren, built if missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/lib/integration.sh
source scripts/lib/integration.sh
integration_env
ruby -e 'require "active_job"; require "bunny"' || { echo "FAIL: ruby with active_job and bunny needed (deploy/install-deps.sh)"; exit 1; }
BIN=$(warren_bin)

ID=$$.$RANDOM
Q=aj.$ID
export WARREN_ACTIVEJOB_EXCHANGE=sneakers.$ID  # Sneakers' exchange, under a name of this run's own
WORK=$(mktemp -d)
ECHO=$WORK/echo.txt RECORD=$WORK/record.txt
: >"$ECHO"
: >"$RECORD"
pid=

cat >"$WORK/bad.rb" <<'RB'
# Jobs the Swift worker cannot run, each sent as a Rails app (or a stray Sneakers publisher) would send it.
# Prints "label job_id".
require "bigdecimal"
require_relative ENV.fetch("ADAPTER")
QUEUE, ECHO_FILE = ARGV.fetch(0), ARGV.fetch(1)
ActiveJob::Base.logger = Logger.new(nil)
adapter = WarrenSneakersAdapter.new
ActiveJob::Base.queue_adapter = adapter

Money = Struct.new(:cents)
class MoneySerializer < ActiveJob::Serializers::ObjectSerializer
  def serialize?(argument) = argument.is_a?(Money)
  def serialize(money) = super("cents" => money.cents)
  def deserialize(hash) = Money.new(hash["cents"])
end
ActiveJob::Serializers.add_serializers MoneySerializer

class EchoJob < ActiveJob::Base
  queue_as QUEUE
  def perform(*args, **options) = nil
end
class SleepJob < ActiveJob::Base
  queue_as QUEUE
  def perform(ms:) = nil
end
class ResizeImageJob < ActiveJob::Base
  queue_as QUEUE
  def perform(id) = nil
end

puts "aj-unknown-class #{ResizeImageJob.perform_later(42).job_id}"
puts "aj-custom-serializer #{EchoJob.perform_later(ECHO_FILE, label: 'aj-money', price: Money.new(500)).job_id}"
puts "aj-too-many #{EchoJob.perform_later(ECHO_FILE, 'extra').job_id}"
puts "aj-wrong-type #{SleepJob.perform_later(ms: 'fast').job_id}"

# Hand-made payloads, published as the Sneakers adapter publishes (bunny defaults, routing key = queue).
conn = Bunny.new(ENV.fetch("WARREN_URL"), logger: Logger.new(nil))
conn.start
ch = conn.create_channel
ch.confirm_select
exchange = ch.exchange(ENV.fetch("WARREN_ACTIVEJOB_EXCHANGE"), type: :direct, durable: true)
bad_time = EchoJob.new(ECHO_FILE, label: "aj-bad-time").serialize
bad_time["arguments"][1]["at"] = { "_aj_serialized" => "ActiveJob::Serializers::TimeSerializer", "value" => "yesterday" }
exchange.publish(ActiveSupport::JSON.encode(bad_time), routing_key: QUEUE)
puts "aj-bad-time #{bad_time['job_id']}"
no_id = EchoJob.new(ECHO_FILE, label: "aj-no-job-id").serialize.except("job_id")
exchange.publish(ActiveSupport::JSON.encode(no_id), routing_key: QUEUE)
exchange.publish("hello from a plain Sneakers publisher", routing_key: QUEUE)
ch.wait_for_confirms or abort("the broker refused a message")
conn.close
adapter.close
RB

cat >"$WORK/expired.rb" <<'RB'
# An ActiveJob payload that the broker expires (AMQP expiration 1 ms) while no worker consumes the queue.
require_relative ENV.fetch("ADAPTER")
QUEUE, ECHO_FILE = ARGV.fetch(0), ARGV.fetch(1)
class EchoJob < ActiveJob::Base
  queue_as QUEUE
  def perform(*args, **options) = nil
end
payload = EchoJob.new(ECHO_FILE, label: "aj-expired").serialize
conn = Bunny.new(ENV.fetch("WARREN_URL"), logger: Logger.new(nil))
conn.start
ch = conn.create_channel
ch.confirm_select
ch.exchange(ENV.fetch("WARREN_ACTIVEJOB_EXCHANGE"), type: :direct, durable: true)
  .publish(ActiveSupport::JSON.encode(payload), routing_key: QUEUE, expiration: "1")
ch.wait_for_confirms or abort("the broker refused a message")
conn.close
puts "aj-expired #{payload['job_id']}"
RB
export ADAPTER=$PWD/examples/ruby/warren_sneakers_adapter.rb

trap 'finish_run "$pid" "$WARREN_ACTIVEJOB_EXCHANGE" "$Q" "$Q.dead"' EXIT

start_worker() {
  "$BIN" worker --queue "$Q" --activejob --concurrency 2 >>"$WORK/worker.log" 2>&1 &
  pid=$!
  wait_consumers "$WORK/worker.log" "$Q"
}

stop_worker() {
  stop_gracefully "$pid"
  pid=
}

echo "== the worker declares queue $Q and binds it to exchange $WARREN_ACTIVEJOB_EXCHANGE; then stops"
start_worker
stop_worker

echo "== a job the broker expires while no worker runs (AMQP expiration 1 ms)"
ruby "$WORK/expired.rb" "$Q" "$ECHO" | tee "$WORK/ids.txt"
deadline=$((SECONDS + 30))
until [[ $(ruby scripts/lib/broker.rb count "$Q.dead") == 1 ]]; do
  ((SECONDS < deadline)) || { echo "FAIL: the expired job did not reach $Q.dead"; exit 1; }
  sleep 0.3
done
"$BIN" dlq list --queue "$Q" | tee "$WORK/expired-list.txt"

echo "== run the worker; requeue the expired job; enqueue from Rails (examples/ruby/activejob_producer.rb) and bad jobs"
start_worker
"$BIN" dlq requeue --queue "$Q" --reason expired
ruby examples/ruby/activejob_producer.rb "$Q" "$ECHO" "$RECORD" | tee -a "$WORK/ids.txt"
ruby "$WORK/bad.rb" "$Q" "$ECHO" | tee -a "$WORK/ids.txt"

echo "== wait for 4 echo jobs, 1 record job and 8 dead letters"
deadline=$((SECONDS + 90))
while :; do
  "$BIN" dlq list --queue "$Q" --json >"$WORK/dead.jsonl"
  (($(wc -l <"$ECHO") >= 4 && $(wc -l <"$RECORD") >= 1 && $(wc -l <"$WORK/dead.jsonl") >= 8)) && break
  ((SECONDS < deadline)) || { echo "FAIL: timed out"; break; }
  sleep 0.5
done
sleep 1 # a duplicate or a stray dead letter would show in the checks below
"$BIN" dlq list --queue "$Q" --json >"$WORK/dead.jsonl"
stop_worker

echo "== check"
ruby -rjson - "$ECHO" "$RECORD" "$WORK/ids.txt" "$WORK/dead.jsonl" "$WORK/expired-list.txt" <<'RB' || { tail -20 "$WORK/worker.log"; exit 1; }
echo_file, record_file, ids_file, dead_file, expired_list = ARGV
ids = File.readlines(ids_file).map(&:split).select { |l| l.size == 2 }.to_h
ran = File.readlines(echo_file).map do |line|
  id, attempt, _trace, args = line.chomp.split(" ", 4)
  { id: id, attempt: attempt.to_i, args: JSON.parse(args) }
end
records = File.readlines(record_file).map(&:split)
dead = File.readlines(dead_file).map { |l| JSON.parse(l) }
$failures = []
def check(ok, what)
  puts((ok ? "ok   " : "FAIL ") + what)
  $failures << what unless ok
end

puts "-- sent: job_id per job"
ids.each { |label, id| puts "sent #{label.ljust(22)} #{id}" }
puts "-- ran"
ran.each { |r| puts "ran  #{r[:args]['label'].ljust(22)} #{r[:id]} attempt #{r[:attempt]}" }
records.each { |id, attempt| puts "ran  #{'aj-record'.ljust(22)} #{id} attempt #{attempt}" }
puts "-- dead letters (warren dlq list --json)"
dead.each { |d| puts "dead #{(d['id'].empty? ? '-' : d['id']).ljust(36)} #{d['job'].to_s.ljust(14)} #{d['reason']}: #{d['errorMessage']}" }

by_label = ran.group_by { |r| r[:args]["label"] }
%w[aj-kinds aj-retried aj-scheduled aj-expired].each do |label|
  check(by_label.fetch(label, []).size == 1 && by_label[label][0][:id] == ids[label], "#{label} ran exactly once, job_id #{ids[label]}")
end
check(by_label.keys.sort == %w[aj-expired aj-kinds aj-retried aj-scheduled], "no other echo job ran (#{by_label.keys.sort})")
expected = {
  "file" => echo_file, "label" => "aj-kinds", "n" => 1, "ratio" => 0.5, "ok" => true, "none" => nil, "list" => [1, "a", "b"],
  "sym" => "low", "hash" => { "a" => 1, "nested" => { "deep" => "x" } }, "strings" => { "b" => 2 }, "indifferent" => { "c" => 3 },
  "at" => "2024-01-02T03:04:05.123456000Z", "zoned" => "2024-06-01T12:00:00.000000000+02:00",
  "datetime" => "2024-01-02T03:04:05.000000000+00:00", "day" => "2024-02-29", "wait" => 5400,
  "price" => "12.3456789012345678901", "klass" => "String", "user" => "gid://shop/User/7",
}
got = (by_label["aj-kinds"] || [{ args: {} }])[0][:args]
check(got == expected, "every argument kind decoded (#{(expected.to_a - got.to_a).to_h} missing, #{(got.to_a - expected.to_a).to_h} extra)")
check((by_label["aj-retried"] || [{}])[0][:attempt] == 3, "executions 2 runs as attempt 3")
check(records == [[ids["aj-record"], "1"]], "RecordJob ran as Swift job 'record' (#{records})")
check(File.read(expired_list).match?(/#{ids['aj-expired']}\s+EchoJob\s+expired \(broker\)\s+1\s+\d{4}-\d\d-\d\dT/),
      "the broker-expired job listed with its job_id, class, 'expired (broker)' and time")

by_id = dead.to_h { |d| [d["id"], d] }
def dead_as(by_id, id, reason, text, label)
  d = by_id.fetch(id, {})
  check(d["reason"] == reason && d["errorMessage"].to_s.include?(text), "#{label} dead-lettered as #{reason}: #{d['errorMessage'].inspect}")
end
fail = by_id.fetch(ids["aj-fail"], {})
check(fail["reason"] == "exhausted" && fail["errorMessage"] == "always fails" && fail["attempts"] == 3 && fail["job"] == "fail",
      "FailJob exhausted its 3 attempts: #{fail}")
dead_as(by_id, ids["aj-unknown-class"], "unknown-job", "ActiveJob class ResizeImageJob", "aj-unknown-class")
dead_as(by_id, ids["aj-custom-serializer"], "unsupported", "custom serializer MoneySerializer", "aj-custom-serializer")
dead_as(by_id, ids["aj-too-many"], "invalid-arguments", "takes 1 positional argument(s) (file) but was sent 2", "aj-too-many")
dead_as(by_id, ids["aj-wrong-type"], "invalid-arguments", "arguments.ms", "aj-wrong-type")
dead_as(by_id, ids["aj-bad-time"], "invalid-arguments", "whose value is not ISO-8601: yesterday", "aj-bad-time")
no_id = dead.find { |d| d["errorMessage"].to_s.include?("'job_id' is missing") } || {}
check(no_id["reason"] == "undecodable" && no_id["job"] == "EchoJob", "payload without job_id dead-lettered as undecodable: #{no_id['errorMessage'].inspect}")
plain = dead.find { |d| d["errorMessage"].to_s.include?("is not an ActiveJob payload") } || {}
check(plain["reason"] == "undecodable", "a plain Sneakers message dead-lettered as undecodable: #{plain['errorMessage'].inspect}")
check(dead.size == 8, "8 dead letters in #{dead.size}")
exit($failures.empty? ? 0 : 1)
RB
echo "PASS"
