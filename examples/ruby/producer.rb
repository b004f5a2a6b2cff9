# Enqueue a Warren job from Ruby with bunny, no Warren library (see docs/wire-format.md).
# UNTESTED: no Ruby toolchain on the CI machines; the Python and shell examples are the tested ones.
# Usage: WARREN_URL=amqp://user:pass@host:5672/%2F ruby producer.rb QUEUE
require "bunny"
require "json"
require "securerandom"

# Routing key on exchange warren.delay: 32 binary digits of the delay in ms, then the queue.
def delay_routing_key(delay_ms, queue)
  (format("%032b", delay_ms).chars + [queue]).join(".")
end

def enqueue(channel, queue, job, arguments, priority: nil, delay_ms: 0, traceparent: nil)
  now_ms = (Time.now.to_f * 1000).to_i
  headers = { "warren-version" => 1, "warren-job" => job, "warren-attempt" => 1,
              "warren-queue" => queue, "warren-enqueued-at" => now_ms }
  headers["traceparent"] = traceparent if traceparent
  exchange, routing_key = delay_ms.positive? ? ["warren.delay", delay_routing_key(delay_ms, queue)] : ["warren", queue]
  id = SecureRandom.uuid
  channel.exchange(exchange, passive: true)
         .publish(JSON.generate(arguments), routing_key: routing_key, persistent: true, mandatory: true,
                  content_type: "application/json", message_id: id, priority: priority, headers: headers)
  id
end

connection = Bunny.new(ENV.fetch("WARREN_URL", "amqp://guest:guest@127.0.0.1:5672/%2F"))
connection.start
channel = connection.create_channel
channel.confirm_select
queue = ARGV.fetch(0)
puts enqueue(channel, queue, "sleep", { ms: 100 })
puts enqueue(channel, queue, "sleep", { ms: 10 }, priority: 9)
puts enqueue(channel, queue, "sleep", { ms: 10 }, delay_ms: 1500)
channel.wait_for_confirms or abort("the broker refused a job")
connection.close
