# Broker-side helpers for the integration scripts that need Ruby anyway (bunny), on $WARREN_URL:
#   consumers QUEUE...        exit 0 when every queue exists and has a consumer
#   count QUEUE               prints the queue's ready messages
#   delete-exchange NAME...   deletes exchanges (missing ones are fine)
require "bunny"
cmd, *names = ARGV
conn = Bunny.new(ENV.fetch("WARREN_URL"), logger: Logger.new(nil))
conn.start
status = 0
case cmd
when "consumers"
  consuming = names.all? do |queue|
    conn.with_channel { |ch| ch.queue_declare(queue, passive: true).consumer_count.positive? }
  rescue Bunny::NotFound
    false
  end
  status = consuming ? 0 : 1
when "count"
  puts conn.with_channel { |ch| ch.queue_declare(names.fetch(0), passive: true).message_count }
when "delete-exchange"
  names.each { |name| conn.with_channel { |ch| ch.exchange_delete(name) } }
else
  abort("usage: broker.rb consumers QUEUE... | count QUEUE | delete-exchange NAME...")
end
conn.close
exit(status)
