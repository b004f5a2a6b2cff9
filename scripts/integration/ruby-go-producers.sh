#!/usr/bin/env bash
# Ruby and Go producers: jobs enqueued by examples/ruby/producer.rb (bunny, Debian ruby-bunny) and
# examples/go/producer.go (amqp091-go, built offline from Debian's golang-github-rabbitmq-amqp091-go-dev) run on
# the Swift worker with their job ids, arguments, expiry, trace, priority and delay.
# Env: WARREN_TEST_URL (broker), WARREN_BIN (worker binary, default .build/debug/warren, built if missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/lib/integration.sh
source scripts/lib/integration.sh
integration_env
ruby -e 'require "bunny"' || { echo "FAIL: ruby with bunny needed (deploy/install-deps.sh)"; exit 1; }
command -v go >/dev/null || { echo "FAIL: go needed (deploy/install-deps.sh)"; exit 1; }
BIN=$(warren_bin)
export WARREN_MAX_PRIORITY=10  # priority is opt-in; this drill checks it

ID=$$.$RANDOM
QR=poly.ruby.$ID QG=poly.go.$ID
WORK=$(mktemp -d)
ECHO=$WORK/echo.txt
: >"$ECHO"
pid=

trap 'finish_run "$pid" "" "$QR" "$QR.dead" "$QG" "$QG.dead"' EXIT

echo "== build examples/go/producer.go offline (Debian's Go source tree, no module download)"
GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE=$WORK/gocache \
  go build -o "$WORK/go-producer" examples/go/producer.go

start_worker() {
  "$BIN" worker --queue "$QR,$QG" --concurrency 1 --prefetch 1 >>"$WORK/worker.log" 2>&1 &
  pid=$!
  wait_consumers "$WORK/worker.log" "$QR" "$QG"
}

stop_worker() {
  stop_gracefully "$pid"
  pid=
}

echo "== declare queues (start and stop the worker), then enqueue while no worker runs"
start_worker
stop_worker
ruby examples/ruby/producer.rb "$QR" "$ECHO" | tee "$WORK/ids.txt"
"$WORK/go-producer" "$QG" "$ECHO" | tee -a "$WORK/ids.txt"

echo "== run the worker; wait for 10 echo jobs"
start_worker
deadline=$((SECONDS + 60))
until (($(wc -l <"$ECHO") >= 10)); do
  ((SECONDS < deadline)) || { echo "FAIL: timed out"; break; }
  sleep 0.3
done
sleep 1 # a duplicate would show in the checks below
stop_worker

echo "== check"
ruby -rjson - "$ECHO" "$WORK/ids.txt" <<'RB' || { tail -20 "$WORK/worker.log"; exit 1; }
echo_file, ids_file = ARGV
ids = File.readlines(ids_file).map(&:split).select { |l| l.size == 2 }.to_h
ran = File.readlines(echo_file).map do |line|
  id, attempt, trace, args = line.chomp.split(" ", 4)
  { id: id, attempt: attempt.to_i, trace: trace, args: JSON.parse(args) }
end
$failures = []
def check(ok, what)
  puts((ok ? "ok   " : "FAIL ") + what)
  $failures << what unless ok
end
ran.each { |r| puts "ran  #{r[:args]['label'].ljust(12)} #{r[:id]} attempt #{r[:attempt]}" }
by_label = ran.group_by { |r| r[:args]["label"] }
%w[rb go].each do |lang|
  labels = %w[plain expiring traced prio delayed].map { |l| "#{lang}-#{l}" }
  labels.each do |label|
    got = by_label.fetch(label, [])
    check(got.size == 1 && got[0][:id] == ids[label] && got[0][:attempt] == 1, "#{label} ran exactly once as sent, job id #{ids[label]}")
  end
  plain = (by_label["#{lang}-plain"] || [{ args: {} }])[0][:args]
  check(plain == { "file" => echo_file, "label" => "#{lang}-plain", "n" => 1, "tags" => %w[a b], "ratio" => 0.5, "ok" => true },
        "#{lang} arguments arrive intact (#{plain})")
  trace = (by_label["#{lang}-traced"] || [{}])[0][:trace]
  check(trace =~ /\A00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01\z/, "#{lang} traceparent reaches the job (#{trace})")
  order = ran.map { |r| r[:args]["label"] }.select { |l| l.start_with?("#{lang}-") }
  check(order.first == "#{lang}-prio", "#{lang}: priority 9 ran before the jobs queued ahead of it (#{order})")
  check(order.last == "#{lang}-delayed", "#{lang}: the delayed job ran last (#{order})")
end
check(ran.size == 10, "10 jobs ran, no other (#{ran.size})")
exit($failures.empty? ? 0 : 1)
RB
echo "PASS"
