"""Queries answered from an index, for moto 5.2.5.

moto's Table.query starts from `self.all_items()`: every item of the table, sorted, on every
Query, for the base table and for every secondary index alike (moto's GSIs are not indexes). So a
Query costs time proportional to the table (a `GET /cases/{id}` at 80,000 cases walks 80,000
items, several times).

This module keeps, per table, for the base table and for each secondary index with one HASH and
at most one RANGE attribute, a sorted structure

    partition key value -> list of (sort tuple, table hash key, table range key), sorted

where the sort tuple is exactly the order moto sorts a query's candidates in (the index's range
key, then the table's keys; `Table._generate_attr_to_sort_by`). It is updated after every write
that goes through moto's item primitives (Table.put_item, Table.delete_item: PutItem,
BatchWriteItem, PartiQL, the puts and deletes of a transaction) and after every UpdateItem
(which changes a stored Item in place) and every TransactWriteItems (whose undo log, transact.py,
writes moto's storage directly): the affected keys are re-read from moto's storage, which stays
the only source of truth.

A Query is then answered by moto's own Table.query, unchanged, over a *window* instead of the
whole table: `all_items()` is shadowed, for that one call, by the few stored items that moto's
loop would look at — the items of the partition within the sort key condition, after the
ExclusiveStartKey, up to the point where moto's loop stops (Limit + 1 items, or the 1 MB page
size), plus the items just past the condition that moto's loop would still inspect. Moto's code
then sorts, pages, filters (FilterExpression), projects (index projection, ProjectionExpression)
and computes LastEvaluatedKey as before, so the answer is moto's answer. Anything the window
does not handle (multi-attribute keys, legacy QueryFilter, an index whose key types are mixed,
an ExclusiveStartKey that does not name the partition...) runs moto's full query unchanged.

`EMULATOR_INDEX_VERIFY=1` runs moto's full query as well for every indexed query and raises if the
answers differ (used by the unit tests; slow, as slow as plain moto).

Correct only under the server's DynamoDB lock (one DynamoDB request at a time), as transact.py.
"""

import bisect
import os
import time

RESULT_SIZE_LIMIT = 1_000_000  # moto.dynamodb.models.table.RESULT_SIZE_LIMIT (checked at install)
MAX_ITEM_SIZE = 410_000  # moto refuses items above 405,000 bytes (LimitedSizeDict); margin above it
RANGE_OPS = {"=", "<", "<=", ">", ">=", "BETWEEN", "BEGINS_WITH"}

STATS = {"indexed": 0, "fallback": 0, "builds": 0, "buildSeconds": 0.0}
ENABLED = True  # tests switch it off to get moto's own answer
VERIFY = os.environ.get("EMULATOR_INDEX_VERIFY") == "1"


class Fallback(Exception):
    """This query is not answered from the index; moto's own query runs instead."""


def _hkey(v):
    """A DynamoType as a dict key with moto's equality (type and value: S "1" is not N 1)."""
    return (v.type, v.cast_value)


def _stored(table, h, r):
    """The stored Item for a primary key, or None. Never creates a partition (table.items is a
    defaultdict)."""
    from moto.dynamodb.models.dynamo_type import Item

    if h not in table.items:
        return None
    found = table.items[h]
    if table.range_key_attr is not None:
        found = found.get(r) if isinstance(found, dict) else None
    return found if isinstance(found, Item) else None


class Sorted:
    """One index: partition key value -> sorted list of (sort tuple, hash DynamoType, range DynamoType)."""

    def __init__(self, hash_attr, range_attr, sort_attrs, is_base):
        self.hash_attr = hash_attr  # the partition key of this index
        self.range_attr = range_attr  # its sort key (None: none), what a KeyCondition compares
        self.sort_attrs = sort_attrs  # moto's sort order within a partition
        self.is_base = is_base
        self.parts = {}
        self.where = {}  # primary key -> (partition, entry), to remove an item's entry

    def entry(self, item):
        """(partition, entry) for an item, or None if the item is not in this index (a GSI holds
        only the items that have its key attributes, as in moto's query)."""
        attrs = item.attrs
        if self.is_base:
            h = item.hash_key
        else:
            h = attrs.get(self.hash_attr)
            if h is None or (self.range_attr is not None and attrs.get(self.range_attr) is None):
                return None
        sort = tuple(attrs[a].cast_value for a in self.sort_attrs)
        return _hkey(h), (sort, item.hash_key, item.range_key)

    def add(self, pk, item):
        found = self.entry(item)
        if found is None:
            return
        part, entry = found
        bisect.insort(self.parts.setdefault(part, []), entry, key=lambda e: e[0])
        self.where[pk] = found

    def remove(self, pk):
        found = self.where.pop(pk, None)
        if found is None:
            return
        part, entry = found
        lst = self.parts[part]
        i = bisect.bisect_left(lst, entry[0], key=lambda e: e[0])
        while lst[i][0] != entry[0]:  # sort tuples are unique (they include the primary key)
            i += 1
        del lst[i]
        if not lst:
            del self.parts[part]


def _signature(table):
    return (
        table.hash_key_attr,
        table.range_key_attr,
        tuple((i.name, tuple((k["AttributeName"], k["KeyType"]) for k in i.schema)) for i in table.all_indexes()),
    )


class TableIndex:
    """Every index of one table, built from moto's storage."""

    def __init__(self, table):
        from moto.dynamodb.models.table import GlobalSecondaryIndex

        started = time.perf_counter()
        self.signature = _signature(table)
        base_sort = [table.range_key_attr] if table.range_key_attr else []
        self.indexes = {None: Sorted(table.hash_key_attr, table.range_key_attr, base_sort, True)}
        for idx in table.all_indexes():
            hashes = [k["AttributeName"] for k in idx.schema if k["KeyType"] == "HASH"]
            ranges = [k["AttributeName"] for k in idx.schema if k["KeyType"] == "RANGE"]
            if len(hashes) != 1 or len(ranges) > 1:
                continue  # multi-attribute keys: moto's own query
            # the order moto sorts this index's candidates in (Table.query, index branch)
            if ranges:
                range_attrs = [ranges[0], table.range_key_attr]
            elif isinstance(idx, GlobalSecondaryIndex) and table.range_key_attr:
                range_attrs = [table.range_key_attr, table.range_key_attr]
            else:
                range_attrs = [table.hash_key_attr, table.range_key_attr]
            order = table._generate_attr_to_sort_by(hashes + [table.hash_key_attr], range_attrs)
            assert order[0] == hashes[0], order
            self.indexes[idx.name] = Sorted(hashes[0], ranges[0] if ranges else None, order[1:], False)
        for part in list(table.items.values()):
            for item in (part.values() if isinstance(part, dict) else [part]):
                self.add(item)
        STATS["builds"] += 1
        STATS["buildSeconds"] = round(STATS["buildSeconds"] + time.perf_counter() - started, 3)

    def add(self, item):
        pk = (_hkey(item.hash_key), _hkey(item.range_key) if item.range_key is not None else None)
        for s in self.indexes.values():
            s.add(pk, item)

    def sync(self, table, h, r):
        pk = (_hkey(h), _hkey(r) if r is not None else None)
        for s in self.indexes.values():
            s.remove(pk)
        item = _stored(table, h, r)
        if item is not None:
            self.add(item)


def index_of(table):
    """The table's index: built at the table's first write (or first query), and again when its
    indexes changed (UpdateTable); None if its data cannot be indexed (values of different types
    under one key attribute), and then moto's own query answers, as before, until the indexes change."""
    ix = table.__dict__.get("_local_index")
    signature = _signature(table)
    if ix is not None and ix.signature == signature:
        return ix
    if table.__dict__.get("_local_index_unusable") == signature:
        return None
    table.__dict__.pop("_local_index", None)
    try:
        ix = TableIndex(table)
    except TypeError:  # values of different types under one key attribute cannot be ordered
        table.__dict__["_local_index_unusable"] = signature
        return None
    table.__dict__["_local_index"] = ix
    return ix


def sync(table, h, r):
    """Re-read one primary key from moto's storage into the table's index (building the index if
    the table has none yet: at its first write, when it is empty or nearly so)."""
    if h is None:
        return
    ix = index_of(table)
    if ix is None:
        return
    try:
        ix.sync(table, h, r)
    except Exception:  # noqa: BLE001 - e.g. a key of another type: moto's own query from now on
        table.__dict__.pop("_local_index", None)
        table.__dict__["_local_index_unusable"] = ix.signature


def window(table, range_comparison, range_objs, limit, exclusive_start_key, scan_index_forward,
           index_name, hash_key_conditions, range_key_conditions):
    """The stored items moto's Table.query loop would look at, in index order; raises Fallback."""
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise Fallback("limit")
    ix = index_of(table)
    s = ix.indexes.get(index_name) if ix is not None else None
    if s is None:
        raise Fallback("no index")
    hc = hash_key_conditions or []
    rc = range_key_conditions or []
    if len(hc) != 1 or hc[0][0] != s.hash_attr or len(rc) > 1:
        raise Fallback("key condition")
    if rc and (s.range_attr is None or rc[0][0] != s.range_attr or rc[0][1] not in RANGE_OPS or rc[0][1] != range_comparison):
        raise Fallback("sort key condition")
    if bool(rc) != bool(range_comparison):
        raise Fallback("sort key condition")
    part = s.parts.get(_hkey(hc[0][1]), [])
    first = lambda e: e[0][0]  # noqa: E731 - the sort key value (what a KeyCondition compares)
    lo, hi = 0, len(part)
    if rc:
        op, vals = rc[0][1], [v.cast_value for v in rc[0][2]]
        if op == "=":
            lo, hi = bisect.bisect_left(part, vals[0], key=first), bisect.bisect_right(part, vals[0], key=first)
        elif op == "<":
            hi = bisect.bisect_left(part, vals[0], key=first)
        elif op == "<=":
            hi = bisect.bisect_right(part, vals[0], key=first)
        elif op == ">":
            lo = bisect.bisect_right(part, vals[0], key=first)
        elif op == ">=":
            lo = bisect.bisect_left(part, vals[0], key=first)
        elif op == "BETWEEN":
            lo, hi = bisect.bisect_left(part, vals[0], key=first), bisect.bisect_right(part, vals[1], key=first)
        elif op == "BEGINS_WITH":
            p = vals[0]
            if not isinstance(p, str):
                raise Fallback("begins_with on a non-string")
            lo = bisect.bisect_left(part, p, key=first)
            # from lo on, the values starting with p come first
            hi = bisect.bisect_left(part, True, lo=lo, key=lambda e: not e[0][0].startswith(p))
        hi = max(lo, hi)
    # after the ExclusiveStartKey: moto skips the items at or before it (in scan order)
    clamp_lo, clamp_hi = lo, hi
    if exclusive_start_key is not None:
        from moto.dynamodb.models.dynamo_type import DynamoType

        try:
            if DynamoType(exclusive_start_key[s.hash_attr]) != hc[0][1]:
                raise Fallback("start key of another partition")
            key = tuple(DynamoType(exclusive_start_key[a]).cast_value for a in s.sort_attrs)
        except (KeyError, TypeError, AttributeError, IndexError) as e:
            raise Fallback("start key") from e
        if scan_index_forward:
            clamp_lo = max(lo, bisect.bisect_right(part, key, lo, hi, key=lambda e: e[0]))
        else:
            clamp_hi = min(hi, bisect.bisect_left(part, key, lo, hi, key=lambda e: e[0]))
    positions = range(clamp_lo, clamp_hi) if scan_index_forward else range(clamp_hi - 1, clamp_lo - 1, -1)
    out, size, stopped = [], 0, False
    for i in positions:
        item = _stored(table, part[i][1], part[i][2])
        if item is None:
            raise Fallback("index out of step")  # cannot happen if every write is hooked
        out.append(item)
        size += item.size()
        if (limit is not None and len(out) > limit) or size > RESULT_SIZE_LIMIT:
            stopped = True  # moto's loop breaks at this item
            break
    if not stopped and out:
        # moto's loop goes on over the partition's items past the condition (not added): the
        # first can end the page at Limit; a big one can end it at the page size.
        beyond = range(hi, len(part)) if scan_index_forward else range(lo - 1, -1, -1)
        for i in beyond:
            item = _stored(table, part[i][1], part[i][2])
            out.append(item)
            if size + MAX_ITEM_SIZE <= RESULT_SIZE_LIMIT or size + item.size() > RESULT_SIZE_LIMIT:
                break
    if not scan_index_forward:
        out.reverse()  # moto sorts the candidates ascending, then reverses
    return out


def install():
    """Patch moto's Table.query and the writes that change stored items (idempotent)."""
    import moto.dynamodb.models as models
    import moto.dynamodb.models.table as table_mod

    Table = table_mod.Table
    if getattr(Table.query, "_local_index", False):
        return
    if table_mod.RESULT_SIZE_LIMIT != RESULT_SIZE_LIMIT:
        raise RuntimeError("moto's RESULT_SIZE_LIMIT changed; update infra/emulator/index.py")
    import transact

    original_query = Table.query

    def query(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key, scan_index_forward,
              projection_expressions, index_name=None, consistent_read=False, filter_expression=None,
              hash_key_conditions=None, range_key_conditions=None, **filter_kwargs):
        args = (hash_key, range_comparison, range_objs, limit, exclusive_start_key, scan_index_forward,
                projection_expressions, index_name, consistent_read, filter_expression)
        kwargs = dict(hash_key_conditions=hash_key_conditions, range_key_conditions=range_key_conditions, **filter_kwargs)
        try:
            if not ENABLED or filter_kwargs:
                raise Fallback("disabled or QueryFilter")
            candidates = window(self, range_comparison, range_objs, limit, exclusive_start_key, scan_index_forward,
                                index_name, hash_key_conditions, range_key_conditions)
        except (Fallback, TypeError, AttributeError):  # e.g. a sort key value of another type
            STATS["fallback"] += 1
            return original_query(self, *args, **kwargs)
        STATS["indexed"] += 1
        self.__dict__["all_items"] = lambda: list(candidates)
        try:
            answer = original_query(self, *args, **kwargs)
        finally:
            self.__dict__.pop("all_items", None)
        if VERIFY:
            full = original_query(self, *args, **kwargs)
            if _comparable(full) != _comparable(answer):
                raise AssertionError(f"index answer differs from moto's: {_comparable(answer)} != {_comparable(full)}")
        return answer

    query._local_index = True
    Table.query = query

    def after_write(fn, keys):
        def wrapper(self, *a, **kw):
            try:
                return fn(self, *a, **kw)
            finally:
                for table, h, r in keys(self, *a, **kw):
                    sync(table, h, r)
        wrapper.__wrapped__ = fn
        return wrapper

    def put_keys(table, item_attrs=None, *a, **kw):
        from moto.dynamodb.models.dynamo_type import DynamoType

        try:
            h = DynamoType(item_attrs[table.hash_key_attr])
            r = DynamoType(item_attrs[table.range_key_attr]) if table.range_key_attr else None
        except (KeyError, TypeError, IndexError):
            return []
        return [(table, h, r)]

    def delete_keys(table, hash_key=None, range_key=None, *a, **kw):
        return [(table, hash_key, range_key)]

    def update_keys(backend, table_name=None, key=None, *a, **kw):
        try:
            table = backend.get_table(table_name)
            h, r = backend.get_keys_value(table, key)
        except Exception:  # noqa: BLE001 - moto raised before touching anything
            return []
        return [(table, h, r)]

    def transact_keys(backend, transact_items, *a, **kw):
        return transact._touched(backend, transact_items)

    Table.put_item = after_write(Table.put_item, put_keys)
    Table.delete_item = after_write(Table.delete_item, delete_keys)
    backend_cls = models.DynamoDBBackend
    backend_cls.update_item = after_write(backend_cls.update_item, update_keys)
    if not getattr(backend_cls.transact_write_items, "_undo_log", False):
        raise RuntimeError("install transact.py's undo log before the index")
    backend_cls.transact_write_items = after_write(backend_cls.transact_write_items, transact_keys)
    backend_cls.transact_write_items._undo_log = True


def _comparable(answer):
    items, scanned, last = answer
    return ([i.to_json() for i in items], scanned, {k: (v.to_json() if hasattr(v, "to_json") else v) for k, v in (last or {}).items()})
