"""TransactWriteItems with an undo log of the touched items, for moto 5.2.5.

moto's DynamoDBBackend.transact_write_items takes `copy.deepcopy(table)` of every table the
transaction names (the whole table: ~1 s at 2,000 items, ~18 s at 20,000) as its rollback
backup, applies the operations one by one, and on a refused transaction puts the copies back.
Under concurrency the copies piled up to 23 GB and, being whole tables, their restore also undid
other requests' writes (or brought back a refused transaction's writes).

The patch keeps moto's own method (no copy of its code here) and changes two things around it:
  * while it runs, the `copy` module moto's DynamoDB models see hands back a Table itself
    instead of a deep copy, so the backup costs nothing and moto's restore is a no-op;
  * before it runs, we record the current value (or absence) of exactly the items the
    transaction names; if it raises (refused, invalid), we put exactly those back.
Correct only with the server's DynamoDB lock: no other request runs while a transaction does.
"""

import copy
import threading

_state = threading.local()  # .active: inside a patched transact_write_items on this thread


class _CopyForTransactions:
    """Stands in for the `copy` module inside moto.dynamodb.models: deep copies of a Table made
    by a patched transaction are the Table itself; everything else is a real copy."""

    def __getattr__(self, name):
        return getattr(copy, name)

    @staticmethod
    def deepcopy(obj, memo=None):
        from moto.dynamodb.models.table import Table

        if getattr(_state, "active", False) and isinstance(obj, Table):
            return obj
        return copy.deepcopy(obj, memo)


def _touched(backend, transact_items):
    """(table, hash key, range key) of every item the transaction names and we can resolve; an
    operation whose table or key cannot be resolved fails in moto before it writes anything."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    out = []
    for entry in transact_items:
        try:
            op_type, op = next(iter(entry.items()))
            table = backend.get_table(op["TableName"])
            if op_type == "Put":
                attrs = op["Item"]
                h = DynamoType(attrs[table.hash_key_attr])
                r = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None
            else:
                h, r = backend.get_keys_value(table, op["Key"])
        except Exception:  # noqa: BLE001 - moto reports it; nothing of this op gets written
            continue
        out.append((table, h, r))
    return out


def _snapshot(table, h, r):
    """A private copy of the stored item, or None if there is none. Reads the storage directly
    (table.items is {hash: item} or {hash: {range: item}}) so that a miss creates no entry."""
    if r is None:
        item = table.items.get(h) if h in table.items else None
    else:
        item = table.items[h].get(r) if h in table.items else None
    return copy.deepcopy(item) if item is not None else None


def _restore(table, h, r, before, hash_existed):
    if r is None:
        if before is None:
            table.items.pop(h, None)
        else:
            table.items[h] = before
        return
    if before is None:
        bucket = table.items.get(h)
        if bucket is not None:
            bucket.pop(r, None)
            if not bucket and not hash_existed:
                del table.items[h]  # leave no empty partition the transaction made
    else:
        table.items[h][r] = before


def install():
    """Patch moto's DynamoDBBackend.transact_write_items (idempotent)."""
    import moto.dynamodb.models as models

    backend_cls = models.DynamoDBBackend
    if getattr(backend_cls.transact_write_items, "_undo_log", False):
        return
    if getattr(models, "copy", None) is not copy:
        raise RuntimeError("moto.dynamodb.models no longer uses the `copy` module as moto 5.2.5 did; update infra/emulator/transact.py")
    original = backend_cls.transact_write_items
    models.copy = _CopyForTransactions()

    def transact_write_items(self, transact_items):
        undo = []
        for table, h, r in _touched(self, transact_items):
            undo.append((table, h, r, _snapshot(table, h, r), h in table.items))
        _state.active = True
        try:
            return original(self, transact_items)
        except BaseException:
            # refused or invalid: put back exactly what it touched, newest change first
            for table, h, r, before, hash_existed in reversed(undo):
                _restore(table, h, r, before, hash_existed)
            raise
        finally:
            _state.active = False

    transact_write_items._undo_log = True
    backend_cls.transact_write_items = transact_write_items
