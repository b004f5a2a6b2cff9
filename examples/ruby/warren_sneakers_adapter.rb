# An ActiveJob queue adapter that publishes exactly as ActiveJob's Sneakers adapter does, so that a Swift
# worker (`warren worker --activejob`) runs the jobs; with publisher confirms, which Sneakers does not wait for.
# Tested in CI (scripts/integration/activejob.sh) with Debian's ruby-activejob 6.1 and ruby-bunny.
#
# What the Sneakers adapter (Rails 6.1 to 7.x) publishes, and this one too:
# - body: ActiveSupport::JSON.encode(job.serialize);
# - exchange: Sneakers' durable direct exchange (`sneakers` unless Sneakers is configured otherwise);
# - routing key: the job's queue_name;
# - properties: bunny's defaults: persistent, priority 0, content type application/octet-stream, no message_id
#   (the job id is job_id in the body).
# A Rails app that already uses `config.active_job.queue_adapter = :sneakers` needs none of this: the Swift
# worker reads what Sneakers publishes. Use this adapter where Sneakers is not installed.
#
# One difference: Sneakers cannot schedule (`set(wait:)` raises NotImplementedError). This adapter adds
# `scheduled_at` to the payload, as Rails 7.1 writes it, and the Swift worker holds the job until then.
require "active_job"
require "bunny"
require "monitor"

class WarrenSneakersAdapter
  # url: the broker; exchange: Sneakers' exchange name (the worker's WARREN_ACTIVEJOB_EXCHANGE).
  def initialize(url: ENV.fetch("WARREN_URL", "amqp://guest:guest@127.0.0.1:5672/%2F"),
                 exchange: ENV.fetch("WARREN_ACTIVEJOB_EXCHANGE", "sneakers"))
    @connection = Bunny.new(url, logger: Logger.new(nil))
    @connection.start
    @channel = @connection.create_channel
    @channel.confirm_select
    # Declared as Sneakers declares it (and as the Swift worker does): either side may start first.
    @exchange = @channel.exchange(exchange, type: :direct, durable: true, auto_delete: false, arguments: {})
    @monitor = Monitor.new
  end

  def enqueue(job)
    publish(job.serialize)
  end

  def enqueue_at(job, timestamp)
    publish(job.serialize.merge("scheduled_at" => Time.at(timestamp).utc.iso8601(9)))
  end

  def close
    @connection.close
  end

  private

  def publish(payload)
    @monitor.synchronize do
      @exchange.publish(ActiveSupport::JSON.encode(payload), routing_key: payload.fetch("queue_name"))
      @channel.wait_for_confirms or raise "the broker refused job #{payload['job_id']}"
    end
  end
end
