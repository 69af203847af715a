"""The soak test's driver (infra/soak runs it; Python standard library only, loopback only).

Against a running local-api ($API) and its emulator ($AWS_ENDPOINT_URL), with the demo users'
tokens from .local/tokens.env, it
  1. records the emulator's RSS (GET /_local/stats),
  2. seeds --cases cases through the API (the Attendance Leads of three schools submit CA
     requests; the event flow allocates them) and records the RSS again,
  3. sends exactly --requests API requests, a scripted, seeded mix of every operation of the API by
     every demo role (refused calls included: a role asking for what it may not see), one at a time;
     after every 10th, one bare DynamoDB GetItem of a case straight to the emulator (not counted),
  4. records the RSS at the end and prints JSON: RSS start / after seeding / end (and every 1,000
     requests), p50/p99/max per operation, the statuses each operation got, the bare GetItem's
     p50/p99, and the ratio p99(GET /cases/{id}) / p99(GetItem).
Every request must get a status the API documents for it (2xx, 4xx); a 5xx, or a connection error,
is counted and makes the run fail (exit 1) after the report is printed.
"""

import argparse
import datetime
import hashlib
import hmac
import http.client
import json
import os
import random
import sys
import time
import urllib.parse
from zoneinfo import ZoneInfo

DEMO = dict(lead="lead-1001", contact="contact-1001", contact2="contact2-1001", office="office-1001", lead85="lead-1085",
            contact85="contact-1085", lead08="lead-1008", contact08="contact-1008", office08="office-1008", cm="cm-p01",
            admin="admin-p01", cm08="cm-p08", admin08="admin-p08", cmisp="cm-isp-1008", adminisp="admin-isp-1008", cit="cit-1",
            regional="regional-tai-tokerau", regional_akl="regional-auckland", national="national-1", prosecutions="prosecutions-1")
ENROL_SECRET = b"local-enrol-signing-secret"
SCHOOLS = {"lead": ("1001", "contact-1001"), "lead85": ("1085", "contact-1085"), "lead08": ("1008", "contact-1008")}


class Http:
    """One keep-alive connection to host:port; returns (status, parsed body, seconds)."""

    def __init__(self, url):
        u = urllib.parse.urlsplit(url)
        assert u.hostname in ("127.0.0.1", "localhost"), f"loopback only, not {url}"
        self.host, self.port, self.conn = u.hostname, u.port, None

    def send(self, method, path, body=None, headers=None):
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        h = {"content-type": "application/json", **(headers or {})}
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
            t = time.perf_counter()
            try:
                self.conn.request(method, path, body=data, headers=h)
                r = self.conn.getresponse()
                raw = r.read()
                dt = time.perf_counter() - t
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
                continue
            try:
                doc = json.loads(raw) if raw else None
            except ValueError:
                doc = raw.decode(errors="replace")
            return r.status, doc, dt


def load_tokens(path):
    tokens = {}
    for line in open(path):
        if line.startswith("export TOKEN_"):
            name, _, value = line[len("export TOKEN_"):].strip().partition("=")
            tokens[name] = value
    return {user: tokens[user.upper().replace("-", "_")] for user in DEMO.values()}


def nz_today():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo("Pacific/Auckland")).strftime("%Y-%m-%d")


def multipart(fields, content, content_type):
    boundary = "soak" + os.urandom(8).hex()
    out = b""
    for k, v in fields.items():
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
    out += f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="upload"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
    return out + content + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] if xs else None


def ms(x):
    return None if x is None else round(x * 1000, 2)


class Soak:
    def __init__(self, args):
        self.rng = random.Random(args.seed)
        self.api = Http(args.api)
        self.emu = Http(args.endpoint)
        self.tokens = load_tokens(args.tokens)
        self.table = args.table
        self.lat, self.statuses, self.errors = {}, {}, []
        self.getitem = []
        self.cases = []  # case ids from school 1001 (provider P01)
        self.other_cases = []  # from schools 1085 and 1008
        self.nen_cases, self.drafts, self.files = [], [], []
        self.n = 0
        self.serial = 0

    # --- plumbing ------------------------------------------------------------------------------
    def rss(self):
        return self.emu.send("GET", "/_local/stats")[1]["rssBytes"]

    def call(self, op, user, method, path, body=None, headers=None, count=True):
        h = dict(headers or {})
        if user:
            h["authorization"] = f"Bearer {self.tokens[user]}"
        try:
            status, doc, dt = self.api.send(method, path, body, h)
        except OSError as e:
            self.errors.append(f"{op}: {e}")
            status, doc, dt = 0, None, 0.0
        if count:
            key = op
            self.lat.setdefault(key, []).append(dt)
            self.statuses.setdefault(key, {}).setdefault(str(status), 0)
            self.statuses[key][str(status)] += 1
            self.n += 1
            if status >= 500 or status == 0:
                self.errors.append(f"{op} as {user}: {status} {str(doc)[:200]}")
        return status, doc

    def bare_getitem(self, case_id):
        body = json.dumps({"TableName": self.table, "Key": {"PK": {"S": f"CASE#{case_id}"}, "SK": {"S": "CASE"}}}).encode()
        status, doc, dt = self.emu.send("POST", "/", body, {
            "content-type": "application/x-amz-json-1.0", "x-amz-target": "DynamoDB_20120810.GetItem",
            "authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/ap-southeast-2/dynamodb/aws4_request, SignedHeaders=host, Signature=0"})
        if status != 200 or "Item" not in (doc or {}):
            self.errors.append(f"bare GetItem {case_id}: {status} {str(doc)[:200]}")
        self.getitem.append(dt)

    def nsn(self):
        self.serial += 1
        return str(200_000_000 + (self.rng.randrange(10**8) * 7 + self.serial) % 700_000_000)

    def student(self):
        """A fictional student, a different name and date of birth each time (as in a real school:
        a name and date of birth match is rare; the API flags one as a possible duplicate)."""
        syl = ["ka", "ri", "wa", "to", "me", "hu", "na", "pe", "ta", "ko", "ra", "ni", "mo", "he", "ao", "tu"]
        first = "".join(self.rng.choice(syl) for _ in range(2)).capitalize()
        last = "".join(self.rng.choice(syl) for _ in range(3)).capitalize() + "test"
        dob = f"{self.rng.randrange(2010, 2017)}-{self.rng.randrange(1, 13):02d}-{self.rng.randrange(1, 29):02d}"
        return {"fullName": f"{first} {last}", "dateOfBirth": dob}

    def form(self, lead, submit):
        school, contact = SCHOOLS[lead]
        f = {
            "student": {**self.student(), "nsn": self.nsn(), "yearLevel": 7, "international": False},
            "whanau": [{"name": "Soak Testparent", "relationship": "mother", "phone": "021 555 0101"}],
            "homeAddress": {"street": "12 Kowhai Lane", "town": "Whangarei", "postcode": "0110"},
            "reason": "Attended 55% of half-days this term.", "actionsTaken": "Attendance plan; two whanau hui.",
            "absencePattern": "whole_days", "primaryContactUserId": contact,
        }
        if school == "1008":
            f["allocation"] = "catchment"
        if submit:
            f["submit"] = True
        return f

    def enrol(self, op, body):
        raw = json.dumps(body, separators=(",", ":")).encode()
        t = str(int(time.time()))
        sig = hmac.new(ENROL_SECRET, t.encode() + b"." + raw, hashlib.sha256).hexdigest()
        return self.call(op, None, "POST", "/enrol/events", raw, {"enrol-signature": f"t={t},v1={sig}"})

    def version(self, user, case_id, count=True):
        status, doc = self.call("GET /cases/{id}", user, "GET", f"/cases/{case_id}", count=count)
        return (doc or {}).get("version") if status == 200 else None, (doc or {}).get("status")

    def pick(self, xs):
        return self.rng.choice(xs) if xs else None

    def who(self, allowed):
        """Usually a user allowed to do it; one time in eight any demo user (refusals are part of the mix)."""
        return self.rng.choice(list(DEMO.values())) if self.rng.random() < 0.125 else DEMO[self.rng.choice(allowed)]

    # --- seeding -------------------------------------------------------------------------------
    def seed(self, n):
        for i in range(n):
            lead = ["lead", "lead", "lead", "lead85", "lead08"][i % 5]
            status, doc = self.call("seed", DEMO[lead], "POST", "/referrals", self.form(lead, True), count=False)
            if status != 201 or not (doc or {}).get("caseId"):
                raise SystemExit(f"seeding: {status} {doc}")
            (self.cases if lead == "lead" else self.other_cases).append(doc["caseId"])
        # the event flow allocates them (local-api's poller): wait until the provider sees them
        deadline = time.time() + 300
        while time.time() < deadline:
            status, doc = self.call("seed", DEMO["cm"], "GET", "/cases?status=provider_queue&limit=1", count=False)
            seen = self.version(DEMO["cm"], self.cases[-1], count=False)[1] if self.cases else "provider_queue"
            if seen == "provider_queue":
                return
            time.sleep(0.5)
        raise SystemExit("seeded cases were not allocated within 300 s")

    # --- the mix -------------------------------------------------------------------------------
    def step(self):
        rng = self.rng
        case = self.pick(self.cases)
        any_case = self.pick(self.cases + self.other_cases)
        ops = [
            (14, lambda: self.call("GET /cases/{id}", self.who(["lead", "contact", "cm", "admin", "national", "cit", "regional"]), "GET", f"/cases/{case}")),
            (6, lambda: self.call("GET /cases/{id}", self.who(["lead85", "lead08", "cm08", "national"]), "GET", f"/cases/{any_case}")),
            (8, lambda: self.call("GET /cases", self.who(["lead", "office", "contact", "cm", "admin", "cit", "regional", "national", "lead08", "cmisp"]),
                                  "GET", f"/cases?limit={rng.choice([10, 20, 50])}" + rng.choice(["", "&status=open", "&status=provider_queue"]))),
            (6, lambda: self.call("GET /cases/{id}/timeline", self.who(["lead", "contact", "cm", "admin"]), "GET", f"/cases/{case}/timeline?limit=20")),
            (6, lambda: self.call("POST /cases/{id}/comments", self.who(["lead", "contact", "office", "cm", "admin"]), "POST", f"/cases/{case}/comments",
                                  {"text": f"Soak comment {self.n}.", "shared": rng.random() < 0.5})),
            (5, lambda: self.call("POST /cases/{id}/activities", self.who(["cm", "admin"]), "POST", f"/cases/{case}/activities",
                                  {"type": rng.choice(["school_meeting", "whanau_meeting", "phone_call", "home_visit", "other"]),
                                   "date": nz_today(),
                                   "attendees": ["Case Manager", "Mother"], "notes": "Soak visit.", "shared": rng.random() < 0.5})),
            (3, lambda: self.files_op(case)),
            (3, lambda: self.call("POST /cases/{id}/safety-notes", self.who(["lead", "cm"]), "POST", f"/cases/{case}/safety-notes", {"text": "Phone before visiting."})),
            (2, lambda: self.call("POST /cases/{id}/health", self.who(["cm", "admin"]), "POST", f"/cases/{case}/health", {"text": "Asthma; inhaler at school."})),
            (3, lambda: self.call("GET /cases/{id}/sensitive", self.who(["lead", "cm", "cit", "prosecutions"]), "GET", f"/cases/{case}/sensitive")),
            (3, lambda: self.call("GET /cases/{id}/audit", self.who(["national", "regional", "regional_akl"]), "GET", f"/cases/{case}/audit")),
            (6, lambda: self.status_op()),
            (3, lambda: self.call("GET /referrals", self.who(["lead", "contact", "office", "lead08"]), "GET", "/referrals?status=draft&limit=20")),
            (6, lambda: self.referral_op()),
            (3, lambda: self.nen_op()),
            (2, lambda: self.cit_op()),
            (1, lambda: self.enrol("POST /enrol/events (student_enrolled)", {"id": f"soak-enr-{self.n}-{rng.randrange(10**9)}", "type": "student_enrolled",
                                   "data": {"nsn": self.nsn(), "schoolId": "1085", "enrolledOn": time.strftime("%Y-%m-%d", time.gmtime())}})),
        ]
        total = sum(w for w, _ in ops)
        x = rng.uniform(0, total)
        for w, fn in ops:
            x -= w
            if x <= 0:
                return fn()
        return ops[-1][1]()

    def files_op(self, case):
        user = self.who(["lead", "cm", "contact"])
        status, doc = self.call("POST /cases/{id}/files", user, "POST", f"/cases/{case}/files",
                                {"fileName": "attendance-plan.pdf", "contentType": "application/pdf", "size": 48213, "shared": True})
        if status == 201 and isinstance(doc, dict) and doc.get("fileId"):
            self.files.append((case, doc["fileId"]))
            up = doc.get("upload") or {}
            if up.get("url"):  # the browser's part: POST the bytes to S3 (the emulator); S3's event confirms it
                u = urllib.parse.urlsplit(up["url"])
                body, ctype = multipart(up.get("fields", {}), (b"%PDF-1.4 soak\n" + b"x" * 48213)[:48213], "application/pdf")
                st, _, _ = Http(up["url"]).send("POST", u.path or "/", body, {"content-type": ctype})
                self.statuses.setdefault("S3 presigned POST (not counted)", {}).setdefault(str(st), 0)
                self.statuses["S3 presigned POST (not counted)"][str(st)] += 1
        if self.files and self.rng.random() < 0.5:
            c, f = self.pick(self.files)
            self.call("GET /cases/{id}/files/{fileId}", self.who(["lead", "cm"]), "GET", f"/cases/{c}/files/{f}")

    def status_op(self):
        case = self.pick(self.cases)
        v, st = self.version(DEMO["cm"], case)
        if v is None:
            return
        action = {"provider_queue": {"action": "assign", "caseManagerId": DEMO["cm"]}, "open": self.rng.choice([{"action": "transition"}, {"action": "close", "reason": "attending_regularly"}]),
                  "transition": {"action": "reopen"}, "paused": {"action": "reopen"}}.get(st)
        if action is None:  # closed: a new case takes its place in the mix (the student's next request)
            status, doc = self.call("POST /referrals (submit at once)", DEMO["lead"], "POST", "/referrals", self.form("lead", True))
            if status == 201 and (doc or {}).get("caseId"):
                self.cases.append(doc["caseId"])
            return
        if action.get("action") == "transition":  # the provider checks in with the school first (the guide)
            today = datetime.datetime.now(ZoneInfo("Pacific/Auckland")).date().isoformat()
            status, _ = self.call("POST /cases/{id}/consultations", DEMO["cm"], "POST", f"/cases/{case}/consultations",
                                  {"about": "transition", "heldOn": today})
            if status != 201:
                return
            v += 1
        self.call("POST /cases/{id}/status", self.who(["cm", "admin"]), "POST", f"/cases/{case}/status", {**action, "version": v})

    def referral_op(self):
        lead = self.rng.choice(["lead", "lead", "lead08", "lead85"])
        if not self.drafts or self.rng.random() < 0.4:
            status, doc = self.call("POST /referrals", DEMO[lead], "POST", "/referrals", self.form(lead, False))
            if status == 201:
                self.drafts.append((lead, doc["id"], doc.get("version", 1)))
            return
        i = self.rng.randrange(len(self.drafts))
        lead, rid, v = self.drafts[i]
        r = self.rng.random()
        if r < 0.3:
            self.call("GET /referrals/{id}", self.who([lead, "office", "contact"]), "GET", f"/referrals/{rid}")
        elif r < 0.6:
            status, doc = self.call("PUT /referrals/{id}", DEMO[lead], "PUT", f"/referrals/{rid}", {**self.form(lead, False), "version": v})
            if status == 200:
                self.drafts[i] = (lead, rid, doc.get("version", v + 1))
        else:
            status, doc = self.call("POST /referrals/{id}/submit", DEMO[lead], "POST", f"/referrals/{rid}/submit", {"version": v})
            self.drafts.pop(i)
            if status in (200, 201) and (doc or {}).get("caseId"):
                (self.cases if lead == "lead" else self.other_cases).append(doc["caseId"])

    def nen_op(self):
        body = {"id": f"soak-nen-{self.n}-{self.rng.randrange(10**9)}", "type": "non_enrolment_notification", "occurredAt": "2026-11-20T02:00:00Z",
                "data": {"nsn": self.nsn(), "student": self.student(), "lastSchoolId": "1001",
                         "lastDayOfAttendance": "2025-10-30", "withdrawalReason": "Continuous absence",
                         "caregivers": [{"name": "Aroha Testparent", "relationship": "mother", "phone": "027 555 0199"}],
                         "addresses": [{"street": "5 Test Road", "suburb": "Ahipara", "town": "Kaitaia", "postcode": "0481"}]}}
        status, doc = self.enrol("POST /enrol/events (NEN)", body)
        if status == 200 and (doc or {}).get("caseId"):
            self.nen_cases.append(doc["caseId"])

    def cit_op(self):
        case = self.pick(self.nen_cases)
        if case is None:
            return self.call("GET /cases", DEMO["cit"], "GET", "/cases?status=cit_review&limit=20")
        r = self.rng.random()
        if r < 0.4:
            return self.call("GET /cases/{id}/allocation", self.who(["cit"]), "GET", f"/cases/{case}/allocation")
        v, st = self.version(DEMO["cit"], case)
        if v is None or st != "cit_review":
            self.nen_cases.remove(case)
            return
        if r < 0.8:
            self.call("POST /cases/{id}/allocation", self.who(["cit"]), "POST", f"/cases/{case}/allocation", {"providerId": "P01", "version": v})
        elif r < 0.9:
            self.call("POST /cases/{id}/transfer", self.who(["cit"]), "POST", f"/cases/{case}/transfer",
                      {"providerId": "P08", "reason": "The family moved.", "version": v})
        else:
            self.call("POST /cases/{id}/close", self.who(["cit"]), "POST", f"/cases/{case}/close", {"reason": "The family has moved overseas.", "version": v})

    def run(self, requests, cases):
        report = {"requests": requests, "seedCases": cases, "seed": None}
        rss = {"start": self.rss()}
        t = time.time()
        self.seed(cases)
        report["seedSeconds"] = round(time.time() - t, 1)
        rss["afterSeeding"] = self.rss()
        items_after_seeding = self.emu.send("GET", "/_local/stats")[1].get("items")
        series = []
        t = time.time()
        last = 0
        while self.n < requests:
            self.step()
            if self.n // 10 > last // 10:
                self.bare_getitem(self.pick(self.cases) or self.pick(self.other_cases))
            if self.n // 1000 > last // 1000:
                series.append([self.n, self.rss()])
            last = self.n
        report["mixSeconds"] = round(time.time() - t, 1)
        rss["end"] = self.rss()
        stats = self.emu.send("GET", "/_local/stats")[1]
        report["rssMB"] = {k: round(v / 2**20) for k, v in rss.items()}
        report["rssEndOverAfterSeeding"] = round(rss["end"] / rss["afterSeeding"], 2)
        report["rssEveryThousandMB"] = [[n, round(b / 2**20)] for n, b in series]
        report["operations"] = {
            op: {"n": len(xs), "p50ms": ms(pct(xs, 50)), "p99ms": ms(pct(xs, 99)), "maxms": ms(max(xs)), "statuses": self.statuses[op]}
            for op, xs in sorted(self.lat.items())}
        report["notCounted"] = {k: v for k, v in self.statuses.items() if k not in self.lat}
        report["bareGetItem"] = {"n": len(self.getitem), "p50ms": ms(pct(self.getitem, 50)), "p99ms": ms(pct(self.getitem, 99))}
        case_p99 = pct(self.lat.get("GET /cases/{id}", []), 99)
        report["getCaseP99OverGetItemP99"] = round(case_p99 / pct(self.getitem, 99), 2) if case_p99 and self.getitem else None
        report["cases"] = {"school1001": len(self.cases), "otherSchools": len(self.other_cases), "nenOpen": len(self.nen_cases)}
        report["emulator"] = {"queries": stats.get("queries"), "tracked": stats.get("tracked"),
                              "itemsAfterSeeding": items_after_seeding, "itemsAtEnd": stats.get("items")}
        report["errors"] = {"count": len(self.errors), "first": self.errors[:10]}
        return report


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=20000)
    p.add_argument("--cases", type=int, default=500, help="cases seeded through the API before the mix")
    p.add_argument("--seed", type=int, default=12)
    p.add_argument("--api", default=os.environ.get("API", "http://127.0.0.1:3001"))
    p.add_argument("--endpoint", default=os.environ.get("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"))
    p.add_argument("--tokens", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".local", "tokens.env"))
    p.add_argument("--table", default=os.environ.get("TABLE_NAME", "local-cases"))
    a = p.parse_args()
    soak = Soak(a)
    report = soak.run(a.requests, a.cases)
    report["seed"] = a.seed
    print(json.dumps(report, indent=2))
    sys.exit(1 if report["errors"]["count"] else 0)


if __name__ == "__main__":
    main()
