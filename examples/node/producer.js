// Enqueue a Warren job from Node.js with amqplib, no Warren library (see docs/wire-format.md).
// Syntax-checked with `node --check` where node exists; not run in CI (amqplib is not installed there).
// Usage: WARREN_URL=amqp://user:pass@host:5672/%2F node producer.js QUEUE
'use strict';
const amqp = require('amqplib');
const { randomUUID } = require('crypto');

// Routing key on exchange warren.delay: 32 binary digits of the delay in ms, then the queue.
function delayRoutingKey(delayMs, queue) {
  return [...delayMs.toString(2).padStart(32, '0'), queue].join('.');
}

async function enqueue(channel, queue, job, args, { priority, delayMs = 0, traceparent } = {}) {
  const now = Date.now();
  const headers = { 'warren-version': 1, 'warren-job': job, 'warren-attempt': 1, 'warren-queue': queue, 'warren-enqueued-at': now };
  if (traceparent) headers.traceparent = traceparent;
  const [exchange, routingKey] = delayMs > 0 ? ['warren.delay', delayRoutingKey(delayMs, queue)] : ['warren', queue];
  const messageId = randomUUID();
  channel.publish(exchange, routingKey, Buffer.from(JSON.stringify(args)), {
    contentType: 'application/json', persistent: true, mandatory: true, messageId, priority, headers,
    timestamp: Math.floor(now / 1000),
  });
  return messageId;
}

async function main() {
  const queue = process.argv[2];
  const connection = await amqp.connect(process.env.WARREN_URL || 'amqp://guest:guest@127.0.0.1:5672/%2F');
  const channel = await connection.createConfirmChannel();
  channel.on('return', (msg) => { console.error('unroutable job', msg.properties.messageId); process.exitCode = 1; });
  console.log(await enqueue(channel, queue, 'sleep', { ms: 100 }));
  console.log(await enqueue(channel, queue, 'sleep', { ms: 10 }, { priority: 9 }));
  console.log(await enqueue(channel, queue, 'sleep', { ms: 10 }, { delayMs: 1500 }));
  await channel.waitForConfirms();
  await connection.close();
}

main().catch((err) => { console.error(err); process.exit(1); });
