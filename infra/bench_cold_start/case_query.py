"""case-query's `GET /cases/{id}` in Python with boto3: the yardstick of infra/bench-cold-start.

A minimal, faithful port of what the Rust function does from process start to its first answer:
at start, the clients it builds (DynamoDB; Secrets Manager, unused by this route) and its warm-up
GetItem (at import); on the request, the caller from the JWT authorizer's claims, the case read consistently,
the access check, the read recorded in this process's read chain (the chain registered by a
conditional PutItem, then the entry by another, hash-linked as cms_domain::audit does), the names
shown (school, provider, case manager, primary contact: reference data, kept once read) and the
case as JSON. Same AWS calls, in the same order (the bench's --calls check compares them).
"""

import datetime
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
_head = None


def from_item(item):
    return {k: _de.deserialize(v) for k, v in item.items()}


def to_item(d):
    return {k: _ser.serialize(v) for k, v in d.items() if v is not None}


def get(pk, sk):
    out = ddb.get_item(TableName=TABLE, Key={"PK": {"S": pk}, "SK": {"S": sk}}, ConsistentRead=True)
    return out.get("Item")


def reference(pk, sk):
    key = pk + "|" + sk
    if key not in _refs:
        item = get(pk, sk)
        if item is None:
            return None
        _refs[key] = from_item(item)
    return _refs[key]


def put_new(item):
    try:
        ddb.put_item(TableName=TABLE, Item=item, ConditionExpression="attribute_not_exists(PK)")
        return True
    except ddb.exceptions.ConditionalCheckFailedException:
        return False


def hash_fields(fields):
    h = hashlib.sha256()
    for f in fields:
        b = f.encode()
        h.update(struct.pack(">Q", len(b)))
        h.update(b)
    return h.hexdigest()


def now_nanos():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")


def ulid_like():
    return os.urandom(16).hex().upper()[:26]


def record_read(actor, case_ids, action, request_id):
    """One entry in this process's read chain; the chain registered before its first entry."""
    global _head
    at = now_nanos()
    if _head is None:
        chain = ulid_like()
        if not put_new(to_item({"PK": "AUDIT#READCHAINS", "SK": "CHAIN#" + chain, "entity": "read-chain", "startedAt": at[:23] + "Z"})):
            raise RuntimeError("chain conflict")
        _head = (chain, 0, GENESIS)
    chain, seq, prev = _head
    seq += 1
    record = {"caseIds": case_ids, "userId": actor["user"], "role": actor["role"], "organisation": actor["org"],
              "action": action, "requestId": request_id, "at": at}
    digest = hash_fields([chain, str(seq), ",".join(case_ids), actor["user"], actor["role"], actor["org"], action, request_id, at, prev])
    item = {"PK": "AUDIT#READS#" + chain, "SK": "SEQ#%020d" % seq, "entity": "read", "chain": chain, "seq": seq,
            **record, "prevHash": prev, "hash": digest}
    if len(case_ids) == 1:
        item["schoolPk"] = "READS#" + case_ids[0]
        item["schoolSk"] = "%s#%s#SEQ#%020d" % (at, chain, seq)
    if not put_new(to_item(item)):
        _head = None
        raise RuntimeError("read chain conflict")
    _head = (chain, seq, digest)


def actor_of(event):
    claims = event["requestContext"]["authorizer"]["jwt"]["claims"]
    role, org = claims.get("custom:role"), claims.get("custom:org")
    if not role or not org:
        raise PermissionError("no role")
    kind = "school" if role in ("attendance_lead", "school_primary_contact", "office_support") else "provider"
    return {"user": claims["sub"], "role": role, "org": kind + ":" + org, "orgId": org, "kind": kind}


def can_view(actor, case):
    if actor["kind"] == "school":
        return case.get("schoolId") == actor["orgId"]
    return case.get("providerId") == actor["orgId"]


def answer(status, body):
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(body, default=str)}


def handler(event, context):
    try:
        actor = actor_of(event)
    except PermissionError:
        return answer(403, {"title": "Forbidden"})
    if event.get("routeKey") != "GET /cases/{id}":
        return answer(404, {"title": "Not found"})
    case_id = event["pathParameters"]["id"]
    item = get("CASE#" + case_id, "CASE")
    case = from_item(item) if item else None
    if case is None or not can_view(actor, case):
        return answer(404, {"title": "case not found"})
    record_read(actor, [case["id"]], "case.read", event["requestContext"].get("requestId", ""))
    names = {}
    school = reference("SCHOOL#" + case["schoolId"], "SCHOOL")
    if school:
        names["school"] = school.get("name")
    if case.get("providerId"):
        provider = reference("PROVIDER#" + case["providerId"], "PROVIDER")
        if provider:
            names["provider"] = provider.get("name")
    for field, user in (("caseManager", case.get("caseManager")), ("primaryContact", case.get("primaryContact"))):
        if user:
            u = reference("USER#" + (user if isinstance(user, str) else user.get("id", "")), "USER")
            if u:
                names[field] = u.get("displayName")
    hidden = {"PK", "SK", "entity", "schoolPk", "schoolSk", "contactPk", "contactSk", "providerPk", "providerSk", "studentKey",
              "studentPk", "studentSk", "nameKey", "studentNamePk", "auditHead", "statusPk", "statusSk", "duePk", "dueSk", "hasSafetyNotes"}
    view = {k: v for k, v in case.items() if k not in hidden}
    view["names"] = names
    view["safetyWarning"] = False
    return answer(200, view)
