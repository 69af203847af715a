"""Cold start, process start -> first answer, Rust bootstrap against the same operation in Python
(boto3 under awslambdaric), both against one local Lambda Runtime API (this file, standard library
only) and one emulator. Run by infra/bench-cold-start, which starts the emulator, creates the
resources and seed data (cold-start-fixture) and builds the release bootstraps.

For each function: one warm-up pair (not counted), then N pairs, A (Rust) then B (Python), each a
new process: the clock starts just before the process is spawned and stops when the Runtime API
receives its first response (POST /2018-06-01/runtime/invocation/<id>/response); the process is
then killed. Every answer is checked (status and the case in it). The ratio is taken pair by pair
and the median of the ratios reported, with both medians, as JSON on stdout.

--calls first runs one pair through a recording proxy in front of the emulator and checks that both
made the same AWS calls (operation names, in order); that run is not timed.
"""

import argparse
import http.client
import http.server
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse

PREFIX = "/2018-06-01/runtime/"


class Runtime:
    """A minimal Lambda Runtime API: hands out one event per run and waits for its answer."""

    def __init__(self):
        self.lock = threading.Lock()
        self.event = None
        self.request_id = None
        self.delivered = False
        self.done = threading.Event()
        self.stop = threading.Event()
        self.answer = None
        self.answered_at = None
        runtime = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_):
                pass

            # one write per answer, Nagle off: a status line and headers sent apart from the body
            # would wait for the client's delayed ACK (~40 ms) on a kept-alive connection
            disable_nagle_algorithm = True

            def _reply(self, status, body=b"", headers=()):
                head = ["HTTP/1.1 %d %s" % (status, self.responses.get(status, ("",))[0])]
                head += ["%s: %s" % kv for kv in headers]
                head += ["Content-Length: %d" % len(body), "", ""]
                self.wfile.write("\r\n".join(head).encode() + body)

            def do_GET(self):
                if self.path != PREFIX + "invocation/next":
                    return self._reply(404)
                with runtime.lock:
                    first = not runtime.delivered
                    runtime.delivered = True
                    event, rid, stop = runtime.event, runtime.request_id, runtime.stop
                if not first:
                    # one invocation per process: the next one never comes (the process is killed)
                    stop.wait(60)
                    return self._reply(503)
                deadline = str(int(time.time() * 1000) + 30_000)
                self._reply(200, event, [
                    ("Content-Type", "application/json"),
                    ("Lambda-Runtime-Aws-Request-Id", rid),
                    ("Lambda-Runtime-Deadline-Ms", deadline),
                    ("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:ap-southeast-2:000000000000:function:bench"),
                    ("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0"),
                ])

            def do_POST(self):
                at = time.perf_counter()
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                kind = self.path.rsplit("/", 1)[-1]
                self._reply(202, b'{"status":"OK"}', [("Content-Type", "application/json")])
                with runtime.lock:
                    if runtime.answer is None:
                        runtime.answer = (kind, self.path, body)
                        runtime.answered_at = at
                runtime.done.set()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.handle_error = lambda *_: None  # a killed process's dropped connection
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.address = "127.0.0.1:%d" % self.server.server_address[1]

    def close(self):
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()

    def arm(self, event, request_id):
        with self.lock:
            self.stop.set()
            self.stop = threading.Event()
            self.event, self.request_id, self.delivered = event, request_id, False
            self.answer, self.answered_at = None, None
            self.done.clear()


class Recorder:
    """A forwarding proxy in front of the emulator that notes each AWS operation (X-Amz-Target)."""

    def __init__(self, upstream):
        self.calls = []
        up = urllib.parse.urlparse(upstream)
        rec = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *_):
                pass

            def _forward(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                target = self.headers.get("X-Amz-Target") or "%s %s" % (self.command, self.path.split("?")[0])
                op = target.split(".")[-1] if "." in target else target
                if op in ("TransactWriteItems", "PutEvents"):
                    # how many items the transaction (or the call) carries
                    doc = json.loads(body or b"{}")
                    op += "[%d]" % len(doc.get("TransactItems") or doc.get("Entries") or [])
                rec.calls.append(op)
                conn = http.client.HTTPConnection(up.hostname, up.port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "content-length")}
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.handle_error = lambda *_: None  # a killed process's dropped connection
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]


def letters(i):
    out = ""
    i += 26 * 26
    while i:
        i, r = divmod(i, 26)
        out = "abcdefghijklmnopqrstuvwxyz"[r] + out
    return out.capitalize()


def events(root, fixture):
    """Each function's event for run i: GET /cases/{id} of the fixture's case, by lead-1001; a CA
    request submitted at once by lead-1001 for a new student (its own NSN and name each run)."""
    get_case = json.load(open(os.path.join(root, "events/apigw/get-case.json")))
    case_id = fixture["caseId"]
    get_case["rawPath"] = get_case["requestContext"]["http"]["path"] = "/cases/" + case_id
    get_case["pathParameters"] = {"id": case_id}
    submit = json.load(open(os.path.join(root, "events/apigw/create-and-submit-referral.json")))
    body = json.loads(submit["body"])

    def case_query(i):
        return get_case

    def submit_referral(i):
        b = json.loads(json.dumps(body))
        b["student"]["nsn"] = str(300_000_000 + i)
        b["student"]["fullName"] = "Bench Student " + letters(i)
        ev = dict(submit, body=json.dumps(b))
        return ev

    def check_case_query(status, doc):
        return status == 200 and doc.get("id") == case_id

    def check_submit(status, doc):
        return status == 201 and bool((doc.get("caseId") or (doc.get("case") or {}).get("id")))

    return {"case-query": (case_query, check_case_query), "submit-referral": (submit_referral, check_submit)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--fixture", required=True)
    ap.add_argument("--rust-dir", required=True, help="the folder holding the release bootstraps")
    ap.add_argument("--python", required=True, help="the Python (with boto3 and awslambdaric) that runs the ports")
    ap.add_argument("--pairs", type=int, default=20)
    ap.add_argument("--functions", default="case-query,submit-referral")
    ap.add_argument("--calls", action="store_true")
    ap.add_argument("--show", action="store_true", help="print each first answer to stderr")
    a = ap.parse_args()

    fixture = json.load(open(a.fixture))
    endpoint = os.environ["AWS_ENDPOINT_URL"]
    ports = os.path.join(a.root, "infra/bench_cold_start")
    evs = events(a.root, fixture)
    base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_LAMBDA")}
    base.update(fixture["env"])
    base.update({
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/bench",
        "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
        "RUST_LOG": os.environ.get("BENCH_RUST_LOG", "info"),
        "CURSOR_KEY": "bench-cursor-key",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONFAULTHANDLER": "1",
    })
    run_no = [0]
    log = open(os.path.join(a.root, ".local/bench-cold-start.log"), "ab")

    def one(fn, lang, endpoint_url):
        make, check = evs[fn]
        i = run_no[0]
        run_no[0] += 1
        # a Runtime API of its own for each process: a killed process's late second request for
        # an event never meets the next process's event
        runtime = Runtime()
        env = dict(base, AWS_ENDPOINT_URL=endpoint_url, AWS_LAMBDA_FUNCTION_NAME=fn, AWS_LAMBDA_RUNTIME_API=runtime.address)
        if lang == "rust":
            cmd, cwd = [os.path.join(a.rust_dir, fn)], a.root
        else:
            cmd, cwd = [a.python, "-m", "awslambdaric", fn.replace("-", "_") + ".handler"], ports
        runtime.arm(json.dumps(make(i)).encode(), "bench-%d" % i)
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        ok = runtime.done.wait(60)
        if not ok and lang == "python":
            p.send_signal(signal.SIGABRT)  # faulthandler: every thread's stack into the log
            time.sleep(1)
        p.kill()
        p.wait()
        runtime.close()
        if not ok:
            sys.exit("%s (%s): no answer within 60 s (log: .local/bench-cold-start.log)" % (fn, lang))
        kind, path, body = runtime.answer
        ms = (runtime.answered_at - t0) * 1000
        if kind != "response":
            sys.exit("%s (%s): the Runtime API got %s: %s" % (fn, lang, path, body[:500]))
        resp = json.loads(body)
        status = resp.get("statusCode")
        try:
            doc = json.loads(resp.get("body") or "{}")
        except ValueError:
            doc = {}
        if a.show:
            print("%s %s: %s %s" % (fn, lang, status, json.dumps(doc)[:400]), file=sys.stderr)
        if not check(status, doc):
            sys.exit("%s (%s): the first answer was not a success: %s %s" % (fn, lang, status, json.dumps(doc)[:500]))
        return ms, status

    report = {"method": "paired, A (Rust) then B (Python) alternating, ratio per pair, median of ratios",
              "pairs": a.pairs, "functions": {}}
    for fn in a.functions.split(","):
        entry = {}
        if a.calls:
            rec = Recorder(endpoint)
            seen = {}
            for lang in ("rust", "python"):
                rec.calls = []
                one(fn, lang, rec.url)
                seen[lang] = list(rec.calls)
            entry["calls"] = seen["rust"]
            # the same calls; calls made at the same time may arrive in either order
            entry["sameOrder"] = seen["rust"] == seen["python"]
            if sorted(seen["rust"]) != sorted(seen["python"]):
                entry["callsPython"] = seen["python"]
                print("%s: the two made different AWS calls:\n  rust   %s\n  python %s" % (fn, seen["rust"], seen["python"]), file=sys.stderr)
                entry["sameCalls"] = False
            else:
                entry["sameCalls"] = True
        one(fn, "rust", endpoint)
        one(fn, "python", endpoint)
        rust, py, ratios, statuses = [], [], [], set()
        for _ in range(a.pairs):
            r, s1 = one(fn, "rust", endpoint)
            p, s2 = one(fn, "python", endpoint)
            rust.append(r)
            py.append(p)
            ratios.append(r / p)
            statuses.update([s1, s2])
        entry.update({
            "rustMs": {"median": round(statistics.median(rust), 1), "min": round(min(rust), 1), "max": round(max(rust), 1)},
            "pythonMs": {"median": round(statistics.median(py), 1), "min": round(min(py), 1), "max": round(max(py), 1)},
            "ratio": {"median": round(statistics.median(ratios), 3), "min": round(min(ratios), 3), "max": round(max(ratios), 3)},
            "statuses": sorted(statuses),
        })
        report["functions"][fn] = entry
        print("%s: Rust %.1f ms, Python %.1f ms, ratio %.3f (median of %d pairs)" % (
            fn, entry["rustMs"]["median"], entry["pythonMs"]["median"], entry["ratio"]["median"], a.pairs), file=sys.stderr)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
