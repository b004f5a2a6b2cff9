# Broker-side helpers for the integration scripts that need Ruby anyway (bunny), on $WARREN_URL:
#   consumers QUEUE...        exit 0 when every queue exists and has a consumer
#   count QUEUE               prints the queue's ready messages
#   delete-exchange NAME...   deletes exchanges (missing ones are fine)
require "bunny"

# The queue's declare-ok (passive), on a channel of its own (a 404 closes the channel); nil when it is missing.
def inspect_queue(conn, queue)
  ch = conn.create_channel
  ch.queue_declare(queue, passive: true).tap { ch.close }
rescue Bunny::NotFound
  nil
end

cmd, *names = ARGV
conn = Bunny.new(ENV.fetch("WARREN_URL"), logger: Logger.new(nil))
conn.start
status = 0
case cmd
when "consumers"
  status = names.all? { |queue| inspect_queue(conn, queue)&.consumer_count.to_i.positive? } ? 0 : 1
when "count"
  puts inspect_queue(conn, names.fetch(0))&.message_count.to_i
when "delete-exchange"
  ch = conn.create_channel
  names.each { |name| ch.exchange_delete(name) }
else
  abort("usage: broker.rb consumers QUEUE... | count QUEUE | delete-exchange NAME...")
end
conn.close
exit(status)
