"""What the two Python ports share, as the Rust functions share cms-aws: the clients built at
start with the warm-up GetItem, item (de)serialising, reference data read in one BatchGetItem and
kept once read, the audit hash, ids and the answer."""

import hashlib
import json
import os
import struct

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

TABLE = os.environ["TABLE_NAME"]
BUS = os.environ["EVENT_BUS_NAME"]
SECRET_ID = os.environ.get("STUDENT_KEY_SECRET_ID") or "student-keys"
GENESIS = "0" * 64

ddb = boto3.client("dynamodb")
secrets = boto3.client("secretsmanager")
# the warm-up GetItem. The Rust main runs it in the background (cms_aws::warm_up_in_background);
# here it is made at import, as a Python function would: a boto3 call from a thread started
# during the handler module's import can deadlock on the import lock (seen here, intermittently)
ddb.get_item(TableName=TABLE, Key={"PK": {"S": "WARMUP"}, "SK": {"S": "WARMUP"}})

_de = TypeDeserializer()
_ser = TypeSerializer()
_refs = {}


def from_item(item):
    return {k: _de.deserialize(v) for k, v in item.items()}


def to_item(d):
    return {k: _ser.serialize(v) for k, v in d.items() if v is not None}


def get(pk, sk):
    out = ddb.get_item(TableName=TABLE, Key={"PK": {"S": pk}, "SK": {"S": sk}}, ConsistentRead=True)
    return out.get("Item")


def references(keys):
    """Reference records by (PK, SK), as DynamoStore::lookup: those kept, the rest in one BatchGetItem."""
    missing = [k for k in dict.fromkeys(keys) if k[0] + "|" + k[1] not in _refs]
    ask = [{"PK": {"S": pk}, "SK": {"S": sk}} for pk, sk in missing]
    while ask:
        out = ddb.batch_get_item(RequestItems={TABLE: {"Keys": ask[:100], "ConsistentRead": True}})
        for item in out.get("Responses", {}).get(TABLE, []):
            r = from_item(item)
            _refs[r["PK"] + "|" + r["SK"]] = r
        ask = ask[100:] + out.get("UnprocessedKeys", {}).get(TABLE, {}).get("Keys", [])
    return {pk: _refs[pk + "|" + sk] for pk, sk in keys if pk + "|" + sk in _refs}


def put_all_new(items):
    """Items whose keys must be free, all or none (one PutItem, or one transaction), as DynamoStore::put_all_new."""
    new = "attribute_not_exists(PK)"
    try:
        if len(items) == 1:
            ddb.put_item(TableName=TABLE, Item=items[0], ConditionExpression=new)
        else:
            ddb.transact_write_items(TransactItems=[{"Put": {"TableName": TABLE, "Item": i, "ConditionExpression": new}} for i in items])
        return True
    except (ddb.exceptions.ConditionalCheckFailedException, ddb.exceptions.TransactionCanceledException):
        return False


def hash_fields(fields):
    h = hashlib.sha256()
    for f in fields:
        b = f.encode()
        h.update(struct.pack(">Q", len(b)))
        h.update(b)
    return h.hexdigest()


def ulid_like():
    return os.urandom(16).hex().upper()[:26]


def answer(status, body, headers=None):
    h = {"content-type": "application/json"}
    h.update(headers or {})
    return {"statusCode": status, "headers": h, "body": json.dumps(body, default=str)}
