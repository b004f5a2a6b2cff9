# Enqueue Warren jobs from Ruby with bunny alone, no Warren library (see docs/wire-format.md).
# Tested in CI against a real broker and worker (scripts/integration/ruby-go-producers.sh), with Debian's
# ruby-bunny. Usage: WARREN_URL=amqp://user:pass@host:5672/%2F ruby producer.rb QUEUE ECHO_FILE
# It enqueues `echo` jobs (a reference job of `warren worker`): plain, expiring, traced, prioritised, delayed,
# and prints "label job-id" for each.
require "bunny"
require "json"
require "securerandom"

# Routing key on exchange warren.delay: 32 binary digits of the delay in ms, then the queue.
def delay_routing_key(delay_ms, queue)
  (format("%032b", delay_ms).chars + [queue]).join(".")
end

# Publishes one job and returns its id; the caller waits for the broker's confirms.
def enqueue(exchanges, queue, job, arguments, priority: nil, delay_ms: 0, expires_in_ms: nil, traceparent: nil)
  now_ms = (Time.now.to_f * 1000).to_i
  headers = { "warren-version" => 1, "warren-job" => job, "warren-attempt" => 1,
              "warren-queue" => queue, "warren-enqueued-at" => now_ms }
  headers["warren-expires-at"] = now_ms + expires_in_ms if expires_in_ms
  headers["traceparent"] = traceparent if traceparent
  exchange, routing_key = delay_ms.positive? ? ["warren.delay", delay_routing_key(delay_ms, queue)] : ["warren", queue]
  id = SecureRandom.uuid
  # mandatory: a job no queue takes comes back (basic.return) instead of vanishing (on `warren` it is parked in
  # warren.unroutable, that exchange's alternate exchange).
  exchanges.fetch(exchange).publish(JSON.generate(arguments), routing_key: routing_key, persistent: true, mandatory: true,
                                    content_type: "application/json", message_id: id, priority: priority,
                                    timestamp: now_ms / 1000, headers: headers)
  id
end

queue, echo_file = ARGV.fetch(0), ARGV.fetch(1)
connection = Bunny.new(ENV.fetch("WARREN_URL", "amqp://guest:guest@127.0.0.1:5672/%2F"), logger: Logger.new(nil))
connection.start
channel = connection.create_channel
channel.confirm_select
returned = []
exchanges = %w[warren warren.delay].to_h do |name|
  exchange = channel.exchange(name, passive: true)  # declared by the worker; a producer does not declare
  exchange.on_return { |info, props, _| returned << "#{props.message_id} (#{info.reply_text})" }
  [name, exchange]
end
trace = "00-0af7651916cd43dd8448eb211c80319c-c1f1a7e1b1d1e1f1-01"
[
  ["rb-plain", { n: 1, tags: %w[a b], ratio: 0.5, ok: true }, {}],
  ["rb-expiring", { n: 2 }, { expires_in_ms: 60_000 }],
  ["rb-traced", { n: 3 }, { traceparent: trace }],
  ["rb-prio", { n: 4 }, { priority: 9 }],
  ["rb-delayed", { n: 5 }, { delay_ms: 1500 }],
].each do |label, arguments, options|
  puts "#{label} #{enqueue(exchanges, queue, 'echo', { file: echo_file, label: label }.merge(arguments), **options)}"
end
channel.wait_for_confirms or abort("the broker refused a job: #{channel.nacked_set.to_a}")
abort("jobs came back unroutable: #{returned.join(', ')}") unless returned.empty?
connection.close
