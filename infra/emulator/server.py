"""The project's local AWS emulator: moto's server (pinned) behind a small serialising layer.

    .venv/bin/python infra/emulator/server.py -H 127.0.0.1 -p PORT

Same command-line contract as `moto_server -H HOST -p PORT`. What it adds (issue 12, ADR 0006):

* Every DynamoDB request runs as one critical section (one global lock), so a conditional write
  or a transaction is atomic with respect to every other DynamoDB request, as in DynamoDB.
  Every other service's request runs under one second lock, shared by all of them because
  moto's services call each other in-process (EventBridge delivers to SQS). SQS ReceiveMessage
  is the exception: it may long-poll for up to 20 s, waiting for a SendMessage that a lock
  would keep out, so it runs unlocked as in plain moto.
* TransactWriteItems keeps an undo log of the items it touches instead of moto's deep copy of
  every table it touches (`transact.py`).
* Query is answered from a sorted index per table and secondary index, kept up to date on every
  write, instead of moto's walk over every item of the table (`index.py`).
* Items, stream records and SQS messages are no longer kept alive by moto's instance tracking
  (`memory.py`), so memory follows the data, not the number of requests.
* GET /_local/health (readiness, moto version), GET /_local/stats (RSS, indexed and fallback
  queries, the models moto still tracks) and GET /_local/outbox (only the SES messages
  sent, so `infra/outbox` need not download the whole state from /moto-api/data.json).

It is written for one moto version and refuses to start with any other (the patch relies on
that version's internals).
"""

import argparse
import json
import os
import signal
import sys
import threading
from importlib.metadata import PackageNotFoundError, version

MOTO_VERSION = "5.2.5"  # keep in step with infra/lib.sh's MOTO_VERSION


def check_moto_version() -> str:
    try:
        installed = version("moto")
    except PackageNotFoundError:
        sys.exit(f"infra/emulator: moto is not installed in this Python ({sys.executable}); infra/lib.sh's ensure_moto_venv installs moto[server]=={MOTO_VERSION}")
    if installed != MOTO_VERSION:
        sys.exit(
            f"infra/emulator: installed moto is {installed}, but this layer was written for moto {MOTO_VERSION} "
            "(it patches that version's DynamoDB transactions); reinstall the pinned version (delete .venv and rerun infra/start-moto) "
            "or update infra/emulator/ for the new version."
        )
    return installed


DYNAMODB_LOCK = threading.Lock()  # every DynamoDB (and DynamoDB Streams) request
OTHER_LOCK = threading.Lock()  # every request to any other service


def locks_for(environ) -> list:
    """The locks a request runs under, always taken in this order (DynamoDB first) to avoid deadlock."""
    path = environ.get("PATH_INFO", "")
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if path.startswith("/moto-api"):
        return [DYNAMODB_LOCK, OTHER_LOCK]  # a snapshot or reset of every service's state
    if target.startswith("DynamoDB"):
        return [DYNAMODB_LOCK]
    if target == "AmazonSQS.ReceiveMessage" or "Action=ReceiveMessage" in environ.get("QUERY_STRING", ""):
        return []
    return [OTHER_LOCK]


class SerialisingApp:
    """WSGI middleware: runs moto's app for one request, response body included, under its locks."""

    def __init__(self, moto_app):
        self.moto_app = moto_app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_local/"):
            return local_endpoint(path, start_response)
        locks = locks_for(environ)
        for lock in locks:
            lock.acquire()
        try:
            result = self.moto_app(environ, start_response)
            try:
                body = b"".join(result)  # produce the whole body inside the critical section
            finally:
                if hasattr(result, "close"):
                    result.close()
        finally:
            for lock in reversed(locks):
                lock.release()
        return [body]


def outbox() -> list:
    """The emails moto's SES backends recorded (SES v1 and v2 share them), oldest first per region."""
    from moto.ses.models import Message, ses_backends

    out = []
    with OTHER_LOCK:
        for account_id, per_region in list(ses_backends.items()):
            for region, backend in list(per_region.items()):
                for m in list(backend.sent_messages):
                    if isinstance(m, Message):
                        out.append({"id": m.id, "account": account_id, "region": region, "source": m.source,
                                    "destinations": m.destinations, "subject": m.subject, "body": m.body})
    return out


def table_sizes():
    """Items per DynamoDB table (account/region/name), read without the lock: approximate while writes run."""
    from moto.dynamodb.models import dynamodb_backends

    out = {}
    for account_id, per_region in list(dynamodb_backends.items()):
        for region, backend in list(per_region.items()):
            for name, table in list(backend.tables.items()):
                parts = list(table.items.values())
                out[f"{account_id}/{region}/{name}"] = sum(len(p) if isinstance(p, dict) else 1 for p in parts)
    return out


def rss_bytes():
    """This process's resident set size (Linux), or None."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def local_endpoint(path, start_response):
    if path == "/_local/health":
        import index

        status, doc = "200 OK", {"moto": MOTO_VERSION, "layer": "infra/emulator", "queries": dict(index.STATS)}
    elif path == "/_local/stats":
        import index
        import memory

        status, doc = "200 OK", {"rssBytes": rss_bytes(), "queries": dict(index.STATS), "tracked": memory.tracked_counts(),
                                 "items": table_sizes()}
    elif path == "/_local/outbox":
        status, doc = "200 OK", {"messages": outbox()}
    else:
        status, doc = "404 Not Found", {"error": f"no such local endpoint: {path}"}
    body = json.dumps(doc).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def build_app():
    """moto's WSGI app as `moto_server` builds it (moto/server.py main), wrapped by the layer."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    import index  # Query answered from an index, next to this file
    import memory  # models moto no longer keeps alive forever
    import transact  # our DynamoDB transaction patch, next to this file

    transact.install()
    index.install()
    memory.install()
    moto_app = DomainDispatcherApplication(create_backend_app)
    moto_app.debug = True
    return SerialisingApp(moto_app)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=int(os.environ.get("MOTO_PORT", 5000)))
    args = parser.parse_args(argv)
    check_moto_version()
    os.environ.setdefault("MOTO_PORT", str(args.port))  # as moto_server does: moto builds URLs to itself from it

    from werkzeug.serving import run_simple
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: sys.exit(0))
    run_simple(args.host, args.port, build_app(), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
