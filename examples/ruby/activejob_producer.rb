# Rails-style ActiveJob classes enqueued for a Swift worker (`warren worker --activejob`), with every argument
# kind ActiveJob serializes (see docs/wire-format.md, "ActiveJob"). Tested in CI (scripts/integration/activejob.sh).
# Usage: WARREN_URL=amqp://... WARREN_ACTIVEJOB_EXCHANGE=sneakers ruby activejob_producer.rb QUEUE ECHO_FILE RECORD_FILE
# Prints "label job_id" for each job. The Ruby classes only enqueue: the Swift jobs `echo`, `record` and `fail`
# (reference jobs of `warren worker`) run them, by the conventional name (EchoJob -> echo).
require "bigdecimal"
require_relative "warren_sneakers_adapter"

QUEUE, ECHO_FILE, RECORD_FILE = ARGV.fetch(0), ARGV.fetch(1), ARGV.fetch(2)
ActiveJob::Base.logger = Logger.new(nil)
ActiveJob::Base.queue_adapter = WarrenSneakersAdapter.new
GlobalID.app = "shop"
Time.zone = "Europe/Paris"

# A model that GlobalID can reference (ActiveRecord models are GlobalID::Identification already).
class User
  include GlobalID::Identification
  attr_reader :id

  def initialize(id)
    @id = id
  end

  def self.find(id)
    new(id)
  end
end

class EchoJob < ActiveJob::Base
  queue_as QUEUE
  def perform(file, **options) = nil
end

class RecordJob < ActiveJob::Base
  queue_as QUEUE
  def perform(file) = nil
end

class FailJob < ActiveJob::Base
  queue_as QUEUE
  def perform(message) = nil
end

sent = {}
sent["aj-kinds"] = EchoJob.perform_later(
  ECHO_FILE, label: "aj-kinds", n: 1, ratio: 0.5, ok: true, none: nil, list: [1, "a", :b],
  sym: :low, hash: { a: 1, nested: { deep: :x } }, strings: { "b" => 2 },
  indifferent: ActiveSupport::HashWithIndifferentAccess.new(c: 3),
  at: Time.utc(2024, 1, 2, 3, 4, 5.123456r), zoned: Time.zone.local(2024, 6, 1, 12), datetime: DateTime.new(2024, 1, 2, 3, 4, 5),
  day: Date.new(2024, 2, 29), wait: 90.minutes, price: BigDecimal("12.3456789012345678901"), klass: String,
  user: User.new(7)
).job_id
retried = EchoJob.new(ECHO_FILE, label: "aj-retried")
retried.executions = 2 # as `retry_on` re-enqueues a job that failed twice
retried.enqueue
sent["aj-retried"] = retried.job_id
sent["aj-scheduled"] = EchoJob.set(wait: 2.seconds).perform_later(ECHO_FILE, label: "aj-scheduled").job_id
sent["aj-record"] = RecordJob.perform_later(RECORD_FILE).job_id
sent["aj-fail"] = FailJob.perform_later("always fails").job_id
sent.each { |label, id| puts "#{label} #{id}" }
ActiveJob::Base.queue_adapter.close
