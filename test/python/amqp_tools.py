"""Helpers for the AMQP interop suites (test/amqp): run as `python3 amqp_tools.py <command>`.

Every command reads its input from environment variables and prints one JSON line.
Broker URL: TQ_BROKER (an amqp:// URL).
"""
import json
import os
import sys

from celery_app import app


def declare():
    """Declares queue TQ_QUEUE exactly as a Celery 5.2 worker/client does (exchange, queue, binding)."""
    if os.environ.get("TQ_MAX_PRIORITY"):
        app.conf.task_queue_max_priority = int(os.environ["TQ_MAX_PRIORITY"])
    name = os.environ["TQ_QUEUE"]
    q = app.amqp.queues[name]
    with app.connection_for_write() as conn:
        q.bind(conn.default_channel).declare()
    print(json.dumps({"declared": name, "exchange": q.exchange.name, "arguments": q.queue_arguments}))


def _plain(v):
    """A header value with its Python type made visible."""
    if isinstance(v, dict):
        return {"type": "dict", "value": {k: _plain(x) for k, x in v.items()}}
    if isinstance(v, (list, tuple)):
        return {"type": "list", "value": [_plain(x) for x in v]}
    if isinstance(v, bytes):
        return {"type": "bytes", "value": v.decode("latin-1")}
    if hasattr(v, "isoformat"):
        return {"type": type(v).__name__, "value": v.isoformat()}
    return {"type": type(v).__name__, "value": v}


def get_headers():
    """basic_get of one message on TQ_QUEUE with py-amqp; prints its headers with Python types."""
    import amqp
    with app.connection_for_write() as conn:
        ch = conn.default_channel
        msg = ch.basic_get(os.environ["TQ_QUEUE"], no_ack=True)
        if msg is None:
            print(json.dumps(None))
            return
        props = dict(msg.properties)
        headers = props.pop("application_headers", {})
        print(json.dumps({
            "headers": {k: _plain(v) for k, v in headers.items()},
            "properties": {k: v for k, v in props.items() if isinstance(v, (str, int, float, type(None)))},
            "body": msg.body.decode("utf-8") if isinstance(msg.body, bytes) else msg.body,
            "delivery_info": {k: v for k, v in msg.delivery_info.items() if k in ("exchange", "routing_key", "redelivered")},
        }))


def send_task():
    """send_task of TQ_TASK with TQ_ARGS/TQ_KWARGS (JSON) to TQ_QUEUE; prints the task id and the client oid."""
    r = app.send_task(
        os.environ["TQ_TASK"],
        args=json.loads(os.environ.get("TQ_ARGS", "[]")),
        kwargs=json.loads(os.environ.get("TQ_KWARGS", "{}")),
        queue=os.environ["TQ_QUEUE"],
    )
    print(json.dumps({"id": r.id, "reply_to": app.thread_oid}))


def send_and_get():
    """send_task to TQ_QUEUE with the rpc:// backend, then prints the id once sent and the result of get()."""
    r = app.send_task(
        os.environ["TQ_TASK"],
        args=json.loads(os.environ.get("TQ_ARGS", "[]")),
        queue=os.environ["TQ_QUEUE"],
    )
    print(json.dumps({"sent": r.id, "reply_to": app.thread_oid}), flush=True)
    try:
        value = r.get(timeout=float(os.environ.get("TQ_TIMEOUT", "10")))
        print(json.dumps({"id": r.id, "status": r.status, "result": value}))
    except Exception as exc:  # report, do not crash: the test reads the line
        print(json.dumps({"id": r.id, "status": r.status, "error": type(exc).__name__, "message": str(exc)}))


if __name__ == "__main__":
    {"declare": declare, "get_headers": get_headers, "send_task": send_task, "send_and_get": send_and_get}[sys.argv[1]]()
