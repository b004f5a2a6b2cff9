#!/usr/bin/env python3
"""Enqueue Warren jobs from Python with pika alone: no Warren library (see docs/wire-format.md).

Tested in CI against a real broker and worker (scripts/integration/polyglot.sh).
Usage: WARREN_URL=amqp://user:pass@host:5672/%2F producer.py QUEUE ECHO_FILE
It enqueues `echo` jobs (a reference job of `warren worker`): plain, expiring, traced, prioritised, delayed.
"""
import json
import os
import sys
import time
import uuid

import pika


def delay_routing_key(delay_ms, queue):
    """Routing key on exchange `warren.delay`: 32 binary digits of the delay in ms, then the queue."""
    return ".".join("1" if (delay_ms >> level) & 1 else "0" for level in range(31, -1, -1)) + "." + queue


def enqueue(channel, queue, job, arguments, priority=None, delay_ms=0, expires_in_ms=None, traceparent=None):
    """Publishes one job (confirmed by the broker) and returns its id."""
    now_ms = int(time.time() * 1000)
    # The job name goes in the AMQP `type` property and the enqueue time in `timestamp`: a plain job then
    # carries no header table, which RabbitMQ handles with about a fifth less CPU per message (the
    # `warren-job` header works too, and wins when both are set; docs/wire-format.md).
    headers = {}
    if expires_in_ms is not None:
        headers["warren-expires-at"] = now_ms + expires_in_ms
    if traceparent:
        headers["traceparent"] = traceparent
    exchange, routing_key = ("warren.delay", delay_routing_key(delay_ms, queue)) if delay_ms else ("warren", queue)
    job_id = str(uuid.uuid4())
    properties = pika.BasicProperties(content_type="application/json", delivery_mode=2, message_id=job_id,
                                      priority=priority, timestamp=now_ms // 1000, type=job, headers=headers or None)
    # mandatory: an unroutable job (queue not declared yet) raises instead of vanishing.
    channel.basic_publish(exchange, routing_key, json.dumps(arguments).encode(), properties, mandatory=True)
    return job_id


def main():
    queue, echo_file = sys.argv[1], sys.argv[2]
    connection = pika.BlockingConnection(pika.URLParameters(os.environ.get("WARREN_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")))
    channel = connection.channel()
    channel.confirm_delivery()  # basic_publish now waits for the broker's ack
    trace = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    jobs = [
        ("py-plain", dict(n=1, tags=["a", "b"], ratio=0.5, ok=True), {}),
        ("py-expiring", dict(n=2), dict(expires_in_ms=60_000)),
        ("py-traced", dict(n=3), dict(traceparent=trace)),
        ("py-prio", dict(n=4), dict(priority=9)),
        ("py-delayed", dict(n=5, since_ms=int(time.time() * 1000)), dict(delay_ms=1500)),
    ]
    for label, arguments, options in jobs:
        job_id = enqueue(channel, queue, "echo", dict(file=echo_file, label=label, **arguments), **options)
        print(label, job_id)
    connection.close()


if __name__ == "__main__":
    main()
