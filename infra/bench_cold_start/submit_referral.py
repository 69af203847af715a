"""submit-referral's `POST /referrals` with `"submit": true` in Python with boto3: the yardstick of
infra/bench-cold-start.

A minimal, faithful port of what the Rust function does from process start to its first answer:
at start, the clients it builds (DynamoDB, EventBridge, Secrets Manager) and its warm-up GetItem (at import);
on the request, the caller from the JWT authorizer's claims, the body checked, the school and the
School Primary Contact read (reference data, kept once read), the student keys' secret read once
(GetSecretValue) and the student keyed (HMAC-SHA256 of the NSN, and of name + date of birth), the
student's earlier cases from the ByStudentName and ByStudent indexes, then one TransactWriteItems
(the case, its timeline entry, its two outbox entries, the request, the student's active-case item, the
case's first audit entry, hash-linked) and one PutEvents (ReferralSubmitted and CaseCreated), and the 201 answer. Same
AWS calls, in the same order (the bench's --calls check compares them).
"""

import concurrent.futures
import datetime
import hashlib
import hmac
import json
import unicodedata

import boto3

from common import BUS, GENESIS, SECRET_ID, TABLE, answer, ddb, from_item, hash_fields, references, secrets, to_item, ulid_like

events = boto3.client("events")
_keys = None
SCHOOL_ROLES = ("attendance_lead", "school_primary_contact", "office_support")
REQUIRED = ("student", "whanau", "homeAddress", "reason", "actionsTaken", "absencePattern", "primaryContactUserId")


_pool = concurrent.futures.ThreadPoolExecutor(max_workers=2)


def both(a, b):
    """Two independent calls at the same time (boto3 clients are thread-safe), as tokio::join! does."""
    fa = _pool.submit(*a)
    rb = b[0](*b[1:])
    return fa.result(), rb


def student_keys():
    global _keys
    if _keys is None:
        _keys = secrets.get_secret_value(SecretId=SECRET_ID)["SecretString"].encode()
    return _keys


def digest(secret, s):
    return hmac.new(secret, s.encode(), hashlib.sha256).hexdigest()


def normalised(name):
    return " ".join(unicodedata.normalize("NFKC", name).lower().split())


def index_all(index, attr, pk):
    out, start = [], None
    while True:
        kw = {"ExclusiveStartKey": start} if start else {}
        page = ddb.query(TableName=TABLE, IndexName=index, KeyConditionExpression="#k = :pk",
                         ExpressionAttributeNames={"#k": attr}, ExpressionAttributeValues={":pk": {"S": pk}},
                         Limit=500, ScanIndexForward=False, **kw)
        out.extend(page.get("Items", []))
        start = page.get("LastEvaluatedKey")
        if not start:
            return out


def ts(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def problem(status, title, detail=None):
    return answer(status, {"type": "about:blank", "title": title, "status": status, "detail": detail})


def handler(event, context):
    claims = event["requestContext"]["authorizer"]["jwt"]["claims"]
    role, org, user = claims.get("custom:role"), claims.get("custom:org"), claims.get("sub")
    if event.get("routeKey") != "POST /referrals" or role not in SCHOOL_ROLES or not org:
        return problem(403, "Forbidden")
    try:
        body = json.loads(event.get("body") or "")
    except ValueError:
        return problem(400, "The body is not JSON")
    if not isinstance(body, dict) or body.pop("submit", False) is not True:
        return problem(400, "this port answers submissions only")
    missing = [f for f in REQUIRED if not body.get(f)]
    pc = "USER#" + str(body.get("primaryContactUserId") or "")
    # the school and Primary Contact, and the student keys: asked at the same time, as the Rust handler does
    wanted = references, [("SCHOOL#" + org, "SCHOOL")] + ([(pc, "USER")] if body.get("primaryContactUserId") else [])
    found, secret = both(wanted, (student_keys,))
    school = found.get("SCHOOL#" + org)
    if school is None:
        return problem(422, "Unknown school")
    contact = found.get(pc)
    student = body.get("student") or {}
    if missing or contact is None or contact.get("orgId") != org or not student.get("nsn", "").isdigit():
        return problem(422, "The request is not complete", {"missing": missing})
    nsn = str(int(student["nsn"]))
    nsn_key = digest(secret, "nsn:" + nsn)
    name_key = digest(secret, "name:%s|dob:%s" % (normalised(student["fullName"]), student["dateOfBirth"]))
    previous = {}
    by_name, by_nsn = both((index_all, "ByStudentName", "studentNamePk", "STUDENT#" + name_key),
                           (index_all, "ByStudent", "studentPk", "STUDENT#" + nsn_key))
    for item in by_name + by_nsn:
        c = from_item(item)
        previous[c["id"]] = c
    if any(c.get("studentKey") == nsn_key and c.get("status") != "closed" for c in previous.values()):
        return problem(409, "This student already has an active case")

    now = datetime.datetime.now(datetime.timezone.utc)
    at, case_id, referral_id, event_id = ts(now), ulid_like(), ulid_like(), ulid_like()
    actor = {"userId": user, "role": role, "organisation": "school:" + org}
    referral = {"id": referral_id, "schoolId": org, "status": "submitted", "form": body, "createdBy": user, "createdAt": at,
                "updatedAt": at, "submittedAt": at, "caseId": case_id, "outcome": "created", "version": 1}
    case = {"id": case_id, "caseType": "ca", "status": "awaiting_allocation", "schoolId": org, "regionId": school.get("regionId"),
            "catchmentId": school.get("catchmentId"), "primaryContact": body["primaryContactUserId"],
            "allocationChoice": body.get("allocation") or "catchment", "referralId": referral_id,
            "student": {"fullName": student["fullName"], "dateOfBirth": student["dateOfBirth"], "nsn": nsn,
                        "yearLevel": student.get("yearLevel")},
            "whanau": body["whanau"], "homeAddress": body["homeAddress"], "reason": body["reason"],
            "actionsTaken": body["actionsTaken"], "referredAt": at, "createdAt": at, "updatedAt": at, "version": 1}
    record = dict(actor, caseId=case_id, action="case.created", requestId=event["requestContext"].get("requestId", ""), at=at)
    audit_hash = hash_fields(["1", case_id, user, role, actor["organisation"], "case.created", record["requestId"], at, GENESIS])
    envelopes = [
        {"eventId": event_id, "occurredAt": at,
         "event": {"type": "ReferralSubmitted", "referralId": referral_id, "caseId": case_id, "schoolId": org}},
        {"eventId": ulid_like(), "occurredAt": at,
         "event": {"type": "CaseCreated", "caseId": case_id, "schoolId": org, "caseType": "ca"}},
    ]
    case_item = dict(case, PK="CASE#" + case_id, SK="CASE", entity="case", schoolPk="SCHOOL#" + org, schoolSk="CASE#%s#%s" % (at, case_id),
                     contactPk="CONTACT#" + body["primaryContactUserId"], contactSk="%s#%s" % (at, case_id), studentKey=nsn_key,
                     studentPk="STUDENT#" + nsn_key, studentSk="%s#%s" % (at, case_id), nameKey=name_key,
                     studentNamePk="STUDENT#" + name_key, auditHead={"seq": 1, "hash": audit_hash},
                     statusPk="STATUS#awaiting_allocation", statusSk="%s#%s" % (at, case_id))
    timeline = {"PK": "CASE#" + case_id, "SK": "TL#%s#%s" % (at, ulid_like()), "entity": "timeline", "caseId": case_id, "at": at,
                "by": {"user": user, "role": role}, "sharedWithSchool": True, "kind": "submitted", "referralId": referral_id}
    outbox = [{"PK": "CASE#" + case_id, "SK": "OUTBOX#" + e["eventId"], "entity": "outbox", "outboxPk": "OUTBOX",
               "outboxSk": "%s#%s" % (at, e["eventId"]), "envelope": json.dumps(e)} for e in envelopes]
    request = dict(referral, PK="REFERRAL#" + referral_id, SK="REFERRAL", entity="referral", schoolPk="SCHOOL#" + org,
                   schoolSk="SUBMITTED#%s#%s" % (at, referral_id))
    active = {"PK": "STUDENT#" + nsn_key, "SK": "ACTIVE", "entity": "active_case", "caseId": case_id}
    audit = dict(record, PK="AUDIT#" + case_id, SK="SEQ#%020d" % 1, entity="audit", seq=1, prevHash=GENESIS, hash=audit_hash)
    new = "attribute_not_exists(PK)"
    puts = [(case_item, new), (timeline, new)] + [(o, new) for o in outbox] + [(request, new),
            (active, "attribute_not_exists(PK) OR caseId = :case"), (audit, new)]
    items = []
    for item, cond in puts:
        put = {"TableName": TABLE, "Item": to_item(item), "ConditionExpression": cond}
        if ":case" in cond:
            put["ExpressionAttributeValues"] = {":case": {"S": case_id}}
        items.append({"Put": put})
    ddb.transact_write_items(TransactItems=items)
    events.put_events(Entries=[{"Source": "attendance.cases", "DetailType": e["event"]["type"], "Detail": json.dumps(e),
                                "EventBusName": BUS, "Time": now} for e in envelopes])
    return answer(201, {"referral": referral, "caseId": case_id, "caseStatus": "awaiting_allocation", "outcome": "created",
                        "message": "Request submitted. The case is being allocated to the provider."},
                  {"location": "/referrals/" + referral_id})
