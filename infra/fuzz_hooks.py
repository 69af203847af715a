"""Schemathesis hooks for infra/fuzz (loaded with SCHEMATHESIS_HOOKS=fuzz_hooks).

1. The ENROL webhook (POST /enrol/events) is HMAC-signed. Three of four generated deliveries are
   signed here, over the exact bytes sent, with the local secret, so the fuzzer reaches the body's
   validation; the fourth keeps the header schemathesis generated (not a valid signature). The check
   `enrol_signature_decides` then asserts what the README promises, judging by the request as sent:
   a delivery without a valid signature is 401 whatever its body, a validly signed one never is.
2. Path ids: random ids only ever reach "404 not found". Half of the generated `id` values are
   replaced by ids of real cases and referrals that infra/fuzz created before the run
   (FUZZ_CASE_IDS, FUZZ_REFERRAL_IDS: comma-separated), so the handlers' real paths are fuzzed too.

Run as a script (`python infra/fuzz_hooks.py seed API TOKENS_FILE`) it creates those cases and
prints the two environment lines.
"""

import hashlib
import hmac
import json
import os
import sys
import time
import zlib

ENROL_SECRET = b"local-enrol-signing-secret"
ENROL_PATH = "/enrol/events"


def _sign(raw: bytes) -> str:
    t = str(int(time.time()))
    sig = hmac.new(ENROL_SECRET, t.encode() + b"." + raw, hashlib.sha256).hexdigest()
    return f"t={t},v1={sig}"


def _ids(name):
    return [i for i in os.environ.get(name, "").split(",") if i]


def _pick(value, ids):
    """Deterministic in the generated value (hypothesis replays and shrinks reproducibly): half of the
    values become one of the real ids."""
    if not ids or not isinstance(value, str):
        return value
    h = zlib.crc32(value.encode("utf-8", "surrogatepass"))
    return ids[(h >> 1) % len(ids)] if h % 2 == 0 else value


if __name__ != "__main__":
    import schemathesis

    @schemathesis.hook
    def map_path_parameters(ctx, path_parameters):
        if not path_parameters or "id" not in path_parameters:
            return path_parameters
        path = ctx.operation.path if ctx.operation is not None else ""
        ids = _ids("FUZZ_REFERRAL_IDS") if path.startswith("/referrals") else _ids("FUZZ_CASE_IDS")
        path_parameters["id"] = _pick(path_parameters["id"], ids)
        return path_parameters

    @schemathesis.hook
    def before_call(ctx, case, **kwargs):
        if case.operation.path != ENROL_PATH:
            return
        body = case.body
        if isinstance(body, (bytes, bytearray)):
            raw = bytes(body)
        elif body is None or type(body).__name__ == "NotSet":
            raw = b""
        else:
            try:
                # what requests would send for `json=body`; sent as these bytes so the signature covers them
                raw = json.dumps(body, allow_nan=False).encode("utf-8")
            except (TypeError, ValueError):
                raw = None
            if raw is not None:
                case.body = raw
        headers = case.headers if case.headers is not None else {}
        case.headers = headers
        # every fourth body keeps the (generated, not valid) signature header: it must be refused
        if raw is None or zlib.crc32(raw) % 4 == 0:
            return
        for k in [k for k in headers if k.lower() == "enrol-signature"]:
            del headers[k]
        headers["Enrol-Signature"] = _sign(raw)

    @schemathesis.check
    def enrol_signature_decides(ctx, response, case):
        """The oracle is the request as it was sent (schemathesis may drop or replace headers after
        the hook, e.g. to test a missing header): a valid signature over the sent bytes must not be
        refused with 401, and anything else must be."""
        if case.operation.path != ENROL_PATH:
            return None
        sent = response.request
        body = sent.body if isinstance(sent.body, bytes) else (sent.body or "").encode("utf-8")
        valid = _valid_signature(sent.headers.get("Enrol-Signature"), body)
        too_large = response.status_code == 413 and len(body) > 64 * 1024  # the size cap may come first
        if not valid and response.status_code != 401 and not too_large:
            raise AssertionError(f"an ENROL delivery without a valid signature answered {response.status_code}, not 401")
        if valid and response.status_code == 401:
            raise AssertionError("a correctly signed ENROL delivery answered 401")
        return None


def _valid_signature(header, body: bytes) -> bool:
    """What the webhook accepts: `t=<digits>,v1=<hex HMAC-SHA256 of "{t}.{body}">`, t within 5 minutes."""
    if not header:
        return False
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    t, v1 = parts.get("t", ""), parts.get("v1", "")
    if not t.isascii() or not t.isdigit() or not v1.isascii() or abs(int(t) - time.time()) > 300:
        return False
    want = hmac.new(ENROL_SECRET, t.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(want, v1)


# ------------------------------------------------------------------------------------- seeding
def _call(api, token, method, path, body=None, headers=None):
    import urllib.error
    import urllib.request

    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = urllib.request.Request(api + path, data=data, method=method)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")[:300]


def _tokens(path):
    out = {}
    for line in open(path):
        if line.startswith("export TOKEN_"):
            name, _, value = line[len("export TOKEN_"):].strip().partition("=")
            out[name] = value
    return out


def seed(api, tokens_file):
    tok = _tokens(tokens_file)
    lead = tok["LEAD_1001"]
    form = {
        "student": {"fullName": "Fuzz Testcase", "dateOfBirth": "2014-05-01", "nsn": "", "yearLevel": 7, "international": False},
        "whanau": [{"name": "Fuzz Testparent", "relationship": "mother", "phone": "021 555 0101"}],
        "homeAddress": {"street": "12 Kowhai Lane", "town": "Whangarei", "postcode": "0110"},
        "reason": "Attended 55% of half-days this term.",
        "actionsTaken": "Attendance plan; two whanau hui.",
        "absencePattern": "whole_days",
        "primaryContactUserId": "contact-1001",
    }
    cases, referrals = [], []
    for i, nsn in enumerate(["190000001", "190000002"]):
        f = json.loads(json.dumps(form))
        f["student"]["nsn"] = nsn
        f["student"]["fullName"] = f"Fuzz Testcase{'ab'[i]}"
        status, doc = _call(api, lead, "POST", "/referrals", {**f, "submit": True})
        if status != 201 or not isinstance(doc, dict) or not doc.get("caseId"):
            raise SystemExit(f"seeding a case: {status} {doc}")
        cases.append(doc["caseId"])
        referrals.append(doc["referral"]["id"])
    status, doc = _call(api, lead, "POST", "/referrals", form)  # a draft
    if status != 201:
        raise SystemExit(f"seeding a draft: {status} {doc}")
    referrals.append(doc["id"])
    nen = {"id": "fuzz-nen-1", "type": "non_enrolment_notification",
           "data": {"nsn": "190000003", "student": {"fullName": "Fuzz Nentest", "dateOfBirth": "2013-02-03"},
                    "lastSchoolId": "1001", "lastDayOfAttendance": "2025-10-30", "withdrawalReason": "Continuous absence",
                    "caregivers": [{"name": "Fuzz Caregiver", "relationship": "mother", "phone": "027 555 0199"}],
                    "addresses": [{"street": "5 Test Road", "suburb": "Ahipara", "town": "Kaitaia", "postcode": "0481"}]}}
    raw = json.dumps(nen, separators=(",", ":")).encode()
    status, doc = _call(api, None, "POST", ENROL_PATH, raw, {"Enrol-Signature": _sign(raw)})
    if status != 200 or not isinstance(doc, dict) or not doc.get("caseId"):
        raise SystemExit(f"seeding a NEN case: {status} {doc}")
    cases.append(doc["caseId"])
    # the event flow allocates the CA cases (local-api's poller): wait until the provider sees one
    deadline = time.time() + 120
    while time.time() < deadline:
        status, doc = _call(api, tok["CM_P01"], "GET", f"/cases/{cases[0]}")
        if status == 200:
            break
        time.sleep(0.5)
    else:
        raise SystemExit("the seeded case was not allocated to its provider within 120 s")
    print(f"export FUZZ_CASE_IDS={','.join(cases)}")
    print(f"export FUZZ_REFERRAL_IDS={','.join(referrals)}")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "seed":
        seed(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit("usage: fuzz_hooks.py seed API TOKENS_FILE")
