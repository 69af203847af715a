"""Bounded memory, for moto 5.2.5: models that moto no longer keeps alive forever.

Every moto model (`moto.core.common_models.BaseModel`) appends itself, in `__new__`, to its class's
`instances_tracked` list, and nothing ever removes it. The list exists only for moto's dashboard and
`GET /moto-api/data.json`. For a DynamoDB `Item` that means every item ever written, every version
an update or a put replaced, and every copy a Query, GetItem or transaction made of one (moto
deep-copies its results) stays in memory for the life of the server: RSS grows with the number of
requests, not with the data.

`install()` gives the classes below a `__new__` that does not track, so their instances are freed
when moto drops them (a replaced item, a query result sent, a deleted SQS message). `data.json`
then no longer lists them; nothing in this project reads those from it (`infra/outbox` and the
tests read emails from `/_local/outbox`; SES messages are still tracked, so `data.json` still lists
them for a bare-moto comparison).
"""

import importlib

UNTRACKED = [
    ("moto.dynamodb.models.dynamo_type", "Item"),  # every item, replaced version and result copy
    ("moto.dynamodb.models.table", "StreamRecord"),  # one per write on a table with a stream
    ("moto.sqs.models", "Message"),  # every message ever sent, deleted or not
]


def _untracked_new(cls, *args, **kwargs):
    return object.__new__(cls)


def install():
    """Stop tracking the UNTRACKED models (idempotent); forget the instances tracked so far."""
    for module, name in UNTRACKED:
        cls = getattr(importlib.import_module(module), name)
        if cls.__dict__.get("__new__") is not None and getattr(cls.__dict__["__new__"], "__func__", None) is _untracked_new:
            continue
        if "instances_tracked" not in cls.__dict__:
            raise RuntimeError(f"{module}.{name} is no longer a tracked moto model; update infra/emulator/memory.py")
        cls.__new__ = staticmethod(_untracked_new)
        cls.instances_tracked.clear()


def tracked_counts(top=12):
    """How many instances moto still tracks, per model, largest first (for /_local/stats)."""
    from moto.core.model_instances import model_data

    counts = [(f"{service}.{name}", len(getattr(model, "instances_tracked", [])))
              for service, models in model_data.items() for name, model in models.items()]
    return dict(sorted((c for c in counts if c[1]), key=lambda c: -c[1])[:top])
