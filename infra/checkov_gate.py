"""Run checkov on template.yaml and compare its findings with infra/checkov-suppressions.yaml.

Fails (exit 1) on a finding that the suppressions file does not accept for that resource, and on
a suppression that no longer matches any finding (so the file never hides more than it says).
Run by infra/lint with .venv-checkov's python (checkov and PyYAML): python infra/checkov_gate.py
"""

import json
import os
import subprocess
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEMPLATE = "template.yaml"
SUPPRESSIONS = os.path.join("infra", "checkov-suppressions.yaml")


def load_suppressions(path):
    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f) or {}
    problems = []
    for check, entry in doc.items():
        if not isinstance(entry, dict) or not str(entry.get("why", "")).strip():
            problems.append(f"{path}: {check} needs a one-line 'why'")
        if not isinstance(entry, dict) or not entry.get("resources"):
            problems.append(f"{path}: {check} needs 'resources' (logical ids or a resource type)")
    return doc, problems


def run_checkov(checkov):
    cmd = [
        checkov, "--file", TEMPLATE, "--framework", "cloudformation",
        "--output", "json", "--quiet", "--compact", "--skip-download", "--skip-results-upload",
    ]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    # checkov exits 1 when a check fails: the findings are judged below, not by its exit code
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        sys.stderr.write(proc.stdout[-2000:] + proc.stderr[-2000:])
        raise SystemExit("checkov_gate: checkov did not print a JSON report")
    if isinstance(report, list):  # one report per framework; only cloudformation is asked for
        report = next(r for r in report if r.get("check_type") == "cloudformation")
    if report.get("summary", {}).get("parsing_errors"):
        raise SystemExit(f"checkov_gate: checkov could not parse {TEMPLATE}")
    return report


def main():
    checkov = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(sys.executable), "checkov")
    suppressions, problems = load_suppressions(os.path.join(ROOT, SUPPRESSIONS))
    report = run_checkov(checkov)
    failed = report.get("results", {}).get("failed_checks", [])
    used = set()  # (check, entry in resources) that accepted at least one finding
    unaccepted = []
    for f in failed:
        check = f["check_id"]
        rtype, _, logical_id = f["resource"].partition(".")
        entry = suppressions.get(check) or {}
        accepted = [r for r in entry.get("resources", []) if r in (logical_id, rtype)]
        if accepted:
            used.update((check, r) for r in accepted)
        else:
            unaccepted.append(f"{check} on {logical_id} ({rtype}): {f['check_name']}")
    stale = [
        f"{check}: {r} has no such finding any more (remove it from {SUPPRESSIONS})"
        for check, entry in suppressions.items() if isinstance(entry, dict)
        for r in entry.get("resources", []) if (check, r) not in used
    ]
    summary = report.get("summary", {})
    for line in problems + unaccepted + stale:
        print(line)
    if problems or unaccepted or stale:
        if unaccepted:
            print(f"fix the template, or accept a finding in {SUPPRESSIONS} with a one-line why")
        return 1
    print(f"checkov {summary.get('checkov_version')}: {summary.get('passed')} passed, "
          f"{len(failed)} accepted in {SUPPRESSIONS}, 0 others")
    return 0


if __name__ == "__main__":
    sys.exit(main())
