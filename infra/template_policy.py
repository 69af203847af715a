"""Policy checks on template.yaml that cfn-lint, sam validate and checkov do not make.

- every function has an Errors and a Throttles alarm, and a log group counting "AUDIT GAP" lines;
- every dead-letter / on-failure queue is declared in the template (not left for SAM to create,
  where it could have no alarm), keeps messages 14 days, is encrypted, and has an alarm that fires
  as soon as it holds a message;
- no function role that may write to DynamoDB can UpdateItem or DeleteItem an audit entry
  (PK = AUDIT#...): an explicit Deny with dynamodb:LeadingKeys AUDIT#* on the table is attached to
  it; the read side (case-query) writes nothing but PutItems into AUDIT# partitions;
- data is kept: Retain on the table, the data buckets, the secrets and every log group, and the
  table's deletion protection on; every function's Architectures is the Architecture parameter;
  every email sender gets SES_CONFIGURATION_SET; the case-files bucket is the template's first
  non-portal bucket (infra/local uses the first one for case files);
- only the functions are Lambda binaries: every function is built by cargo-lambda
  (BuildMethod rust-cargolambda) with BuildProperties Binary naming the [[bin]] of a crate under
  functions/ (never a local tool of infra/local), every such crate is some function's Binary, and
  the workspace's default-members (what `cargo lambda build` in the root builds, and whose
  features a function's build shares) are the functions and the shared crates only.

Stdlib + PyYAML (.venv-tools). `python infra/template_policy.py [template.yaml]` prints each problem
and exits 1 if there is one. `--self-test` first breaks a copy of the template in each way above and
checks that each is caught (infra/lint runs both).
"""

import copy
import glob
import os
import sys
import tomllib

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TABLE = "CasesTable"
READ_SIDE = "CaseQueryFunction"
DLQ_RETENTION = 1209600  # 14 days, SQS's maximum
AUDIT_PREFIX = "AUDIT#"
WRITE_ACTIONS = {
    "dynamodb:putitem", "dynamodb:updateitem", "dynamodb:deleteitem", "dynamodb:batchwriteitem",
    "dynamodb:transactwriteitems", "dynamodb:partiqlinsert", "dynamodb:partiqlupdate", "dynamodb:partiqldelete",
}
# the audit entries must never be changed or removed through these
PROTECTED_ACTIONS = {"dynamodb:updateitem", "dynamodb:deleteitem"}
# The indexes that only say which items to read (a student's cases, the nightly job's due cases
# and drafts): keys only, so they hold no copy of a child's record (the code reads the items).
KEYS_ONLY_INDEXES = ["ByStudent", "ByStudentName", "ByDue"]
KEEP = ["CasesTable", "FilesBucket", "AccessLogsBucket", "ReferenceBucket", "EnrolWebhookSecret", "StudentKeySecret"]


# ---------------------------------------------------------------- loading
class Loader(yaml.SafeLoader):
    pass


def _intrinsic(loader, suffix, node):
    """A CloudFormation short tag as its long form: !Ref X -> {"Ref": X}, !GetAtt A.B ->
    {"Fn::GetAtt": [A, B]}, !Sub s -> {"Fn::Sub": s}, ..."""
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


Loader.add_multi_constructor("!", _intrinsic)


def load(path):
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=Loader)


# ---------------------------------------------------------------- helpers
def as_list(v):
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def is_ref(v, logical_id):
    return v == {"Ref": logical_id}


def is_getatt(v, logical_id, attr):
    return isinstance(v, dict) and v.get("Fn::GetAtt") == [logical_id, attr]


def of_type(tpl, kind):
    return {k: r for k, r in tpl["Resources"].items() if r.get("Type") == kind}


def refs_table(resource):
    """A statement resource naming the table itself (its ARN, or a Sub starting with it)."""
    if is_getatt(resource, TABLE, "Arn"):
        return True
    sub = resource.get("Fn::Sub") if isinstance(resource, dict) else None
    return isinstance(sub, str) and sub.strip() == "${" + TABLE + ".Arn}"


def actions(statement):
    return {a.lower() for a in as_list(statement.get("Action"))}


def grants_dynamodb_write(statement):
    if statement.get("Effect") != "Allow":
        return False
    acts = actions(statement)
    return bool(acts & WRITE_ACTIONS) or "dynamodb:*" in acts or "*" in acts


def leading_key_patterns(statement, operator):
    cond = (statement.get("Condition") or {}).get(operator) or {}
    for key, value in cond.items():
        if key.lower() == "dynamodb:leadingkeys":
            return [str(v) for v in as_list(value)]
    return []


def protects_audit(statement):
    """A Deny of UpdateItem and DeleteItem on the table for any partition key AUDIT#..."""
    if statement.get("Effect") != "Deny":
        return False
    acts = actions(statement)
    if not (PROTECTED_ACTIONS <= acts or "dynamodb:*" in acts):
        return False
    if not any(refs_table(r) for r in as_list(statement.get("Resource"))):
        return False
    patterns = leading_key_patterns(statement, "ForAnyValue:StringLike")
    return any(p in (AUDIT_PREFIX + "*", AUDIT_PREFIX.rstrip("#") + "*") for p in patterns)


def function_statements(tpl, props):
    """(statement, where) for every statement a function's role gets: inline policy documents,
    and managed policies of this template that it references."""
    managed = of_type(tpl, "AWS::IAM::ManagedPolicy")
    out = []
    for pol in as_list(props.get("Policies")):
        if isinstance(pol, dict) and "Statement" in pol:
            out += [(s, "inline") for s in as_list(pol["Statement"])]
        elif isinstance(pol, dict) and "Ref" in pol and pol["Ref"] in managed:
            doc = managed[pol["Ref"]]["Properties"]["PolicyDocument"]
            out += [(s, pol["Ref"]) for s in as_list(doc.get("Statement"))]
        elif isinstance(pol, dict) and len(pol) == 1:
            # a SAM policy template, e.g. {DynamoDBCrudPolicy: {TableName: ...}}
            name = next(iter(pol))
            if name.startswith("DynamoDB") and "Read" not in name:
                out.append(({"Effect": "Allow", "Action": ["dynamodb:*"], "Resource": "*"}, name))
        elif isinstance(pol, str) and "DynamoDB" in pol and "ReadOnly" not in pol:
            out.append(({"Effect": "Allow", "Action": ["dynamodb:*"], "Resource": "*"}, pol))
    return out


def alarms_on(tpl, namespace, metric, dimension, matches):
    found = []
    for lid, a in of_type(tpl, "AWS::CloudWatch::Alarm").items():
        p = a.get("Properties") or {}
        if p.get("Namespace") != namespace or p.get("MetricName") != metric:
            continue
        dims = {d.get("Name"): d.get("Value") for d in as_list(p.get("Dimensions"))}
        if dimension in dims and matches(dims[dimension]) and as_list(p.get("AlarmActions")):
            found.append(lid)
    return found


def cargo_workspace(root=ROOT):
    """The root manifest's default-members, and each crate under functions/ with its [[bin]] names."""
    with open(os.path.join(root, "Cargo.toml"), "rb") as f:
        ws = tomllib.load(f)["workspace"]
    crates = {}
    for manifest in sorted(glob.glob(os.path.join(root, "functions", "*", "Cargo.toml"))):
        with open(manifest, "rb") as f:
            m = tomllib.load(f)
        crates[os.path.relpath(os.path.dirname(manifest), root)] = [b["name"] for b in m.get("bin", [])]
    return {"default_members": ws.get("default-members"), "function_crates": crates}


def lambda_binaries(functions, cargo):
    """Only the functions' binaries are Lambdas, each built on its own; the local tools never."""
    problems = []
    bins = {b for names in cargo["function_crates"].values() for b in names}
    used = set()
    for fn, r in functions.items():
        meta = r.get("Metadata") or {}
        binary = (meta.get("BuildProperties") or {}).get("Binary")
        if meta.get("BuildMethod") != "rust-cargolambda":
            problems.append(f"{fn}: Metadata BuildMethod must be rust-cargolambda (got {meta.get('BuildMethod')!r})")
        if not binary:
            problems.append(f"{fn}: no Metadata BuildProperties Binary: cargo-lambda would build every binary of the workspace")
        elif binary not in bins:
            problems.append(f"{fn}: Binary {binary!r} is not the binary of a crate under functions/")
        else:
            used.add(binary)
    for crate, names in cargo["function_crates"].items():
        if not names:
            problems.append(f"{crate}: no [[bin]]")
        for b in names:
            if b not in used:
                problems.append(f"{crate}: binary {b!r} is no function's Binary in the template")
    members = cargo["default_members"]
    if members is None:
        problems.append("Cargo.toml: no [workspace] default-members: cargo-lambda in the root would build the local tools too")
    else:
        extra = [m for m in members if not (m.startswith("functions/") or m == "shared" or m.startswith("shared/"))]
        if extra:
            problems.append(f"Cargo.toml: default-members must be the functions and shared crates only, not {extra}")
        missing = [c for c in cargo["function_crates"] if c not in members]
        if missing:
            problems.append(f"Cargo.toml: default-members lacks {missing}")
    return problems


# ---------------------------------------------------------------- checks
def check(tpl, cargo=None):
    problems = []
    res = tpl["Resources"]
    functions = of_type(tpl, "AWS::Serverless::Function")
    if not functions:
        return ["no AWS::Serverless::Function in the template"]

    # -- alarms and audit-gap counting on every function
    filters = of_type(tpl, "AWS::Logs::MetricFilter")
    for fn in functions:
        for metric in ("Errors", "Throttles"):
            if not alarms_on(tpl, "AWS/Lambda", metric, "FunctionName", lambda v, fn=fn: is_ref(v, fn)):
                problems.append(f"{fn}: no {metric} alarm (AWS/Lambda {metric}, FunctionName !Ref {fn}, with AlarmActions)")
        logs = [lid for lid, r in of_type(tpl, "AWS::Logs::LogGroup").items()
                if "${" + fn + "}" in str((r.get("Properties") or {}).get("LogGroupName", ""))]
        if not logs:
            problems.append(f"{fn}: no log group of its own (/aws/lambda/${{{fn}}})")
        elif not any(is_ref((f.get("Properties") or {}).get("LogGroupName"), logs[0])
                     and "AUDIT GAP" in str((f.get("Properties") or {}).get("FilterPattern", ""))
                     for f in filters.values()):
            problems.append(f"{fn}: its log group {logs[0]} has no metric filter counting \"AUDIT GAP\" lines")

    # -- dead-letter queues: declared here, 14 days, encrypted, alarmed
    dlqs = set(of_type(tpl, "AWS::SQS::Queue"))
    for fn, r in functions.items():
        p = r.get("Properties") or {}
        on_failure = ((p.get("EventInvokeConfig") or {}).get("DestinationConfig") or {}).get("OnFailure")
        if on_failure and on_failure.get("Type") == "SQS":
            dest = on_failure.get("Destination")
            if not (isinstance(dest, dict) and "Fn::GetAtt" in dest):
                problems.append(f"{fn}: EventInvokeConfig OnFailure queue left to SAM (no Destination): declare it, with an alarm")
            else:
                dlqs.add(dest["Fn::GetAtt"][0])
        for ev_name, ev in (p.get("Events") or {}).items():
            dlc = (ev.get("Properties") or {}).get("DeadLetterConfig")
            if dlc is None:
                continue
            arn = dlc.get("Arn")
            if not (isinstance(arn, dict) and "Fn::GetAtt" in arn):
                problems.append(f"{fn}.{ev_name}: DeadLetterConfig queue left to SAM (Type, no Arn): declare it, with an alarm")
            else:
                dlqs.add(arn["Fn::GetAtt"][0])
    for q in sorted(dlqs):
        if q not in res or res[q].get("Type") != "AWS::SQS::Queue":
            problems.append(f"{q}: used as a dead-letter queue but not an AWS::SQS::Queue of this template")
            continue
        qp = res[q].get("Properties") or {}
        if qp.get("MessageRetentionPeriod") != DLQ_RETENTION:
            problems.append(f"{q}: MessageRetentionPeriod must be {DLQ_RETENTION} (14 days)")
        if qp.get("SqsManagedSseEnabled") is not True and not qp.get("KmsMasterKeyId"):
            problems.append(f"{q}: not encrypted (SqsManagedSseEnabled: true or KmsMasterKeyId)")
        alarms = alarms_on(tpl, "AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName",
                           lambda v, q=q: is_getatt(v, q, "QueueName"))
        firing_on_one = [a for a in alarms
                         if (res[a]["Properties"].get("ComparisonOperator"), res[a]["Properties"].get("Threshold"))
                         in (("GreaterThanThreshold", 0), ("GreaterThanOrEqualToThreshold", 1))]
        if not firing_on_one:
            problems.append(f"{q}: no alarm on ApproximateNumberOfMessagesVisible > 0 (QueueName !GetAtt {q}.QueueName)")

    # -- audit entries: never updated or deleted; the read side writes audit entries only
    for fn, r in functions.items():
        if "Role" in (r.get("Properties") or {}):
            problems.append(f"{fn}: has a Role of its own, whose permissions this check cannot see (use Policies)")
        stmts = function_statements(tpl, r.get("Properties") or {})
        writes = [s for s, _ in stmts if grants_dynamodb_write(s)]
        if writes and not any(protects_audit(s) for s, _ in stmts):
            problems.append(f"{fn}: may write to DynamoDB but no Deny of UpdateItem/DeleteItem with "
                            f"ForAnyValue:StringLike dynamodb:LeadingKeys {AUDIT_PREFIX}* on {TABLE} is attached")
        if fn == READ_SIDE:
            for s in writes:
                acts = actions(s)
                audit_only = leading_key_patterns(s, "ForAllValues:StringLike")
                if acts != {"dynamodb:putitem"} or not audit_only or not all(p.startswith(AUDIT_PREFIX) for p in audit_only):
                    problems.append(f"{fn}: the read side may write only PutItem into {AUDIT_PREFIX} partitions "
                                    f"(ForAllValues:StringLike dynamodb:LeadingKeys), not {sorted(acts)}")
    for lid, role in of_type(tpl, "AWS::IAM::Role").items():
        docs = [p.get("PolicyDocument", {}) for p in as_list((role.get("Properties") or {}).get("Policies"))]
        if any(grants_dynamodb_write(s) for d in docs for s in as_list(d.get("Statement"))):
            problems.append(f"{lid}: an IAM role with DynamoDB write access outside the functions: check it protects audit entries")

    # -- fewest copies of a child's record
    gsis = {g.get("IndexName"): g for g in as_list((res.get(TABLE, {}).get("Properties") or {}).get("GlobalSecondaryIndexes"))}
    for name in KEYS_ONLY_INDEXES:
        g = gsis.get(name)
        if g is None:
            problems.append(f"{TABLE}: no index {name}")
        elif (g.get("Projection") or {}).get("ProjectionType") != "KEYS_ONLY":
            problems.append(f"{TABLE}.{name}: must project KEYS_ONLY (the code reads the cases it names)")

    # -- data is kept
    for lid in KEEP + sorted(of_type(tpl, "AWS::Logs::LogGroup")):
        r = res.get(lid)
        if r is None:
            problems.append(f"{lid}: missing")
        elif r.get("DeletionPolicy") != "Retain" or r.get("UpdateReplacePolicy") != "Retain":
            problems.append(f"{lid}: needs DeletionPolicy and UpdateReplacePolicy Retain")
    if (res.get(TABLE, {}).get("Properties") or {}).get("DeletionProtectionEnabled") is not True:
        problems.append(f"{TABLE}: DeletionProtectionEnabled must be true")

    # -- build, email, the local environment's expectations
    arch = ((tpl.get("Globals") or {}).get("Function") or {}).get("Architectures")
    if arch != [{"Ref": "Architecture"}]:
        problems.append("Globals.Function.Architectures must be [!Ref Architecture]")
    for fn, r in functions.items():
        p = r.get("Properties") or {}
        if "Architectures" in p and p["Architectures"] != [{"Ref": "Architecture"}]:
            problems.append(f"{fn}: Architectures must be [!Ref Architecture] (or left to Globals)")
        sends = any("ses:sendemail" in actions(s) or "ses:sendrawemail" in actions(s)
                    for s, _ in function_statements(tpl, p))
        env = ((p.get("Environment") or {}).get("Variables") or {})
        if sends and "SES_CONFIGURATION_SET" not in env:
            problems.append(f"{fn}: sends email but has no SES_CONFIGURATION_SET")
    buckets = [lid for lid in of_type(tpl, "AWS::S3::Bucket") if not lid.startswith("Portal")]
    if not buckets or buckets[0] != "FilesBucket":
        problems.append(f"FilesBucket must be the first non-portal bucket (infra/local's case-files bucket), not {buckets[:1]}")

    # -- only the functions are Lambda binaries
    problems += lambda_binaries(functions, cargo or cargo_workspace())
    return problems


# ---------------------------------------------------------------- self-test
def self_test(tpl):
    """Break a copy of the template in each way the checks guard against; each must be caught."""
    fns = list(of_type(tpl, "AWS::Serverless::Function"))
    errors_alarm = alarms_on(tpl, "AWS/Lambda", "Errors", "FunctionName", lambda v: is_ref(v, fns[0]))
    dlq = sorted(of_type(tpl, "AWS::SQS::Queue"))[0]
    dlq_alarms = alarms_on(tpl, "AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName",
                           lambda v: is_getatt(v, dlq, "QueueName"))
    writer = next(fn for fn in fns if fn != READ_SIDE)

    def drop(*lids):
        def f(t):
            for lid in lids:
                del t["Resources"][lid]
        return f

    def detach_deny(fn):
        def f(t):
            p = t["Resources"][fn]["Properties"]
            p["Policies"] = [pol for pol in p["Policies"]
                             if not (isinstance(pol, dict) and ("Ref" in pol or any(
                                 protects_audit(s) for s in as_list(pol.get("Statement")))))]
        return f

    def weaken_deny(t):
        for mp in of_type(t, "AWS::IAM::ManagedPolicy").values():
            for s in as_list(mp["Properties"]["PolicyDocument"]["Statement"]):
                s.pop("Condition", None)
                s["Condition"] = {"ForAnyValue:StringLike": {"dynamodb:LeadingKeys": ["CASE#*"]}}

    def read_side_writes_cases(t):
        pols = t["Resources"][READ_SIDE]["Properties"]["Policies"]
        pols.append({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["dynamodb:UpdateItem"], "Resource": {"Fn::GetAtt": [TABLE, "Arn"]}}]})

    def sam_made_dlq(t):
        for r in of_type(t, "AWS::Serverless::Function").values():
            for ev in (r["Properties"].get("Events") or {}).values():
                dlc = (ev.get("Properties") or {}).get("DeadLetterConfig")
                if dlc:
                    dlc.clear()
                    dlc["Type"] = "SQS"
                    return

    def local_tool_as_lambda(t):
        t["Resources"][fns[0]]["Metadata"]["BuildProperties"]["Binary"] = "local-api"

    def no_binary(t):
        del t["Resources"][fns[0]]["Metadata"]["BuildProperties"]["Binary"]

    def due_projects_all(t):
        for g in t["Resources"][TABLE]["Properties"]["GlobalSecondaryIndexes"]:
            if g["IndexName"] == "ByDue":
                g["Projection"] = {"ProjectionType": "ALL"}

    cases = [
        (f"{fns[0]}'s Errors alarm removed", drop(*errors_alarm), f"{fns[0]}: no Errors alarm"),
        (f"{dlq}'s alarm removed", drop(*dlq_alarms), f"{dlq}: no alarm"),
        (f"the audit Deny detached from {writer}", detach_deny(writer), f"{writer}: may write to DynamoDB but no Deny"),
        ("the audit Deny's condition no longer AUDIT#*", weaken_deny, "may write to DynamoDB but no Deny"),
        ("case-query allowed UpdateItem", read_side_writes_cases, f"{READ_SIDE}: the read side may write only PutItem"),
        ("a dead-letter queue left to SAM", sam_made_dlq, "DeadLetterConfig queue left to SAM"),
        (f"{fns[0]} built from a local tool (local-api)", local_tool_as_lambda, "is not the binary of a crate under functions/"),
        (f"{fns[0]} without a Binary", no_binary, "no Metadata BuildProperties Binary"),
        ("ByDue projecting ALL", due_projects_all, f"{TABLE}.ByDue: must project KEYS_ONLY"),
    ]
    failures = []
    for what, breaks, expect in cases:
        broken = copy.deepcopy(tpl)
        breaks(broken)
        found = check(broken)
        if not any(expect in p for p in found):
            failures.append(f"self-test: {what}: not caught (expected a problem containing {expect!r}; got {found})")
    # the workspace: the local tools among the default members
    cargo = cargo_workspace()
    wide = dict(cargo, default_members=(cargo["default_members"] or []) + ["infra/local"])
    if not any("default-members must be the functions and shared crates only" in p for p in check(tpl, wide)):
        failures.append("self-test: infra/local in default-members: not caught")
    return failures, len(cases) + 1


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    path = args[0] if args else os.path.join(ROOT, "template.yaml")
    tpl = load(path)
    problems, cases = self_test(tpl) if "--self-test" in argv else ([], 0)
    problems += check(tpl)
    for p in problems:
        print(p)
    if problems:
        return 1
    fns = len(of_type(tpl, "AWS::Serverless::Function"))
    print(f"template policy: {fns} functions alarmed and audit-protected, "
          f"{len(of_type(tpl, 'AWS::SQS::Queue'))} dead-letter queues alarmed"
          + (f", self-test: all {cases} deliberate breakages caught" if cases else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
