#!/usr/bin/env python3
"""Send Celery tasks that a Swift Warren worker (`warren worker --celery`) runs (see docs/wire-format.md).

Tested in CI against a real broker and worker (scripts/integration/polyglot.sh).
Usage: WARREN_URL=amqp://... celery_producer.py QUEUE ECHO_FILE
The queue is declared with the same arguments the Warren worker gives its queues, so either side may
declare it first (RabbitMQ refuses a redeclaration with other arguments: 406 PRECONDITION_FAILED).
"""
import os
import sys

from celery import Celery
from kombu import Queue


def warren_queue(name, max_priority=int(os.environ.get("WARREN_MAX_PRIORITY") or 0),
                 queue_mode=os.environ.get("WARREN_QUEUE_MODE") or "default"):
    """A Celery queue declared as `warren worker` declares its work queues: classic, lazy only if the workers
    are (WARREN_QUEUE_MODE), with the workers' x-max-priority (WARREN_MAX_PRIORITY; none by default)."""
    arguments = {"x-dead-letter-exchange": "warren.dead", "x-dead-letter-routing-key": name}
    if queue_mode == "lazy":
        arguments["x-queue-mode"] = "lazy"
    if max_priority:
        arguments["x-max-priority"] = max_priority
    return Queue(name, routing_key=name, queue_arguments=arguments)


def main():
    queue, echo_file = sys.argv[1], sys.argv[2]
    app = Celery(broker=os.environ.get("WARREN_URL", "amqp://guest:guest@127.0.0.1:5672/%2F").replace("amqp://", "pyamqp://", 1))
    app.conf.update(task_default_queue=queue, task_queues=[warren_queue(queue)], task_serializer="json",
                    task_ignore_result=True, broker_connection_retry_on_startup=False)
    sent = [
        ("celery-now", app.send_task("echo", args=[echo_file], kwargs={"label": "celery-now", "n": 7, "who": ["py"]})),
        ("celery-countdown", app.send_task("echo", args=[echo_file], kwargs={"label": "celery-countdown"},
                                            countdown=2, expires=120)),
        ("celery-fail", app.send_task("fail", args=["always fails"])),
    ]
    for label, result in sent:
        print(label, result.id)


if __name__ == "__main__":
    main()
