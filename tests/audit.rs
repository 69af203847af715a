//! Issue 7: the audit trail. Every read and every write of a case, through the real handlers on the
//! emulator, leaves an entry (who, role, organisation, action, request id, time; never the data):
//! a change in the case's hash chain, a read in the reader's read chain (a list page as one entry
//! naming every case shown: issue 14, ADR 0012); national and regional staff read a case's trail;
//! tampering with the table is detected by the chain checks (`GET /cases/{id}/audit` and the
//! `verify-audit` command's logic).

use aws_sdk_dynamodb::types::AttributeValue;
use cms_domain::ids::CaseId;
use cms_domain::ports::{CaseStore, ReadLog};
use cms_local::audit_check::{verify_all, verify_cases};
use cms_tests::{complete_form, demo, nen_notification, Reply, TestEnv, STUDENT_NAME};
use serde_json::{json, Value};

const NEN_CHILD: &str = "Wiremu Auditchild";

fn ok(r: Reply, what: &str) -> Reply {
    assert!(r.status < 300, "{what}: {} {:?}", r.status, r.body);
    r
}

async fn audit(env: &TestEnv, user: &str, case_id: &str) -> Reply {
    env.call(user, "GET", &format!("/cases/{case_id}/audit"), None).await
}

/// (userId, role, organisation, action) of each entry of the case's chain (its changes and what
/// the system did), in order.
fn rows(trail: &Value) -> Vec<(String, String, String, String)> {
    rows_of(trail, "entries")
}

/// The same of each read of the case on its own, in time order.
fn reads(trail: &Value) -> Vec<(String, String, String, String)> {
    rows_of(trail, "reads")
}

/// Both: everything the case's audit view shows.
fn everything(trail: &Value) -> Vec<(String, String, String, String)> {
    let mut all = rows(trail);
    all.extend(reads(trail));
    all
}

fn rows_of(trail: &Value, part: &str) -> Vec<(String, String, String, String)> {
    trail[part]
        .as_array()
        .expect(part)
        .iter()
        .map(|e| {
            let f = |k: &str| e[k].as_str().unwrap_or_default().to_string();
            (f("userId"), f("role"), f("organisation"), f("action"))
        })
        .collect()
}

fn row(user: &str, role: &str, org: &str, action: &str) -> (String, String, String, String) {
    (user.into(), role.into(), org.into(), action.into())
}

fn case_id(s: &str) -> CaseId {
    CaseId::parse(s).unwrap()
}

/// The key of a read chain's entry.
fn read_key(chain: &str, seq: u64) -> std::collections::HashMap<String, AttributeValue> {
    [("PK".to_string(), AttributeValue::S(format!("AUDIT#READS#{chain}"))), ("SK".to_string(), AttributeValue::S(format!("SEQ#{seq:020}")))]
        .into_iter()
        .collect()
}

fn audit_key(case: &str, seq: u64) -> [(String, AttributeValue); 2] {
    [("PK".into(), AttributeValue::S(format!("AUDIT#{case}"))), ("SK".into(), AttributeValue::S(format!("SEQ#{seq:020}")))]
}

#[tokio::test]
async fn every_read_and_write_is_in_the_case_trail_and_tampering_is_detected() {
    let env = TestEnv::new("audit").await;
    let school = format!("school:{}", demo::SCHOOL);
    let p01 = format!("provider:{}", demo::SCHOOL_PROVIDER);

    // ---- a CA case, worked through the handlers
    let mut form = complete_form(demo::PRIMARY_CONTACT);
    form["submit"] = json!(true);
    let submitted = ok(env.call(demo::LEAD, "POST", "/referrals", Some(form)).await, "submit");
    let ca = submitted.body["caseId"].as_str().unwrap().to_string();
    env.drain().await; // allocate (and the email about it)
    for user in [demo::LEAD, demo::CASE_MANAGER, demo::PRIMARY_CONTACT, demo::NATIONAL, demo::REGIONAL] {
        ok(env.call(user, "GET", &format!("/cases/{ca}"), None).await, user);
    }
    let listed = ok(env.call(demo::CASE_MANAGER, "GET", "/cases?status=provider_queue", None).await, "list");
    assert!(listed.body["items"].as_array().unwrap().iter().any(|c| c["id"] == ca.as_str()));
    let version = env.call(demo::CASE_MANAGER, "GET", &format!("/cases/{ca}"), None).await.body["version"].as_u64().unwrap();
    ok(
        env.call(demo::CASE_MANAGER, "POST", &format!("/cases/{ca}/status"), Some(json!({"action": "assign", "version": version}))).await,
        "assign",
    );
    ok(
        env.call(demo::LEAD, "POST", &format!("/cases/{ca}/comments"), Some(json!({"text": "Whānau hui booked for Monday."}))).await,
        "comment",
    );
    ok(env.call(demo::CASE_MANAGER, "GET", &format!("/cases/{ca}/timeline"), None).await, "timeline");
    env.drain().await; // the emails about the status change and the comment

    // refused reads and writes leave nothing in the trail
    let before = everything(&ok(audit(&env, demo::NATIONAL, &ca).await, "audit").body).len();
    for user in [demo::OTHER_LEAD, demo::OTHER_CASE_MANAGER, demo::OTHER_REGIONAL] {
        assert_eq!(env.call(user, "GET", &format!("/cases/{ca}"), None).await.status, 404, "{user}");
        assert_eq!(env.call(user, "GET", &format!("/cases/{ca}/timeline"), None).await.status, 404, "{user}");
    }
    assert_eq!(
        env.call(demo::LEAD, "POST", &format!("/cases/{ca}/status"), Some(json!({"action": "transition", "version": 1}))).await.status,
        403
    );

    // ---- who may read the trail: national, and regional staff of the case's region
    for (user, want) in [
        (demo::REGIONAL, 200),
        (demo::OTHER_REGIONAL, 404),
        (demo::LEAD, 403),
        (demo::PRIMARY_CONTACT, 403),
        (demo::OFFICE, 403),
        (demo::CASE_MANAGER, 403),
        (demo::PROVIDER_ADMIN, 403),
        (demo::OTHER_LEAD, 404),
        (demo::OTHER_CASE_MANAGER, 404),
    ] {
        assert_eq!(audit(&env, user, &ca).await.status, want, "{user}");
    }
    for user in [demo::CIT, demo::PROSECUTIONS] {
        let s = audit(&env, user, &ca).await.status;
        assert!(s == 403 || s == 404, "{user}: {s}");
    }

    let trail = ok(audit(&env, demo::NATIONAL, &ca).await, "audit").body;
    assert_eq!(trail["chain"]["intact"], true, "{trail}");
    let all = rows(&trail);
    // the first audit read, the regional user's one allowed read (refusals add nothing), this read
    assert_eq!(everything(&trail).len(), before + 2, "refused calls were audited: {:#?}", everything(&trail));
    // what people changed, in order, in the case's chain
    let people: Vec<_> = all.iter().filter(|r| r.1 != "system").cloned().collect();
    let regional = format!("ministry:{}", demo::REGION);
    assert_eq!(
        people,
        vec![
            row(demo::LEAD, "attendance_lead", &school, "case.created"),
            row(demo::CASE_MANAGER, "case_manager", &p01, "case.status.assign"),
            row(demo::LEAD, "attendance_lead", &school, "case.comment.add"),
        ],
        "{all:#?}"
    );
    // who read it, in order (a list page that showed only this case is a read of it alone too)
    let page_ids: Vec<String> = listed.body["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_string()).collect();
    let list_row = (page_ids.len() == 1).then(|| row(demo::CASE_MANAGER, "case_manager", &p01, "case.listed"));
    assert_eq!(
        reads(&trail).into_iter().filter(|r| r.1 != "system").collect::<Vec<_>>(),
        [
            row(demo::LEAD, "attendance_lead", &school, "case.read"),
            row(demo::CASE_MANAGER, "case_manager", &p01, "case.read"),
            row(demo::PRIMARY_CONTACT, "school_primary_contact", &school, "case.read"),
            row(demo::NATIONAL, "national", "ministry", "case.read"),
            row(demo::REGIONAL, "regional", &regional, "case.read"),
        ]
        .into_iter()
        .chain(list_row)
        .chain([
            row(demo::CASE_MANAGER, "case_manager", &p01, "case.read"),
            row(demo::CASE_MANAGER, "case_manager", &p01, "case.timeline.read"),
            row(demo::NATIONAL, "national", "ministry", "case.audit.read"),
            row(demo::REGIONAL, "regional", &regional, "case.audit.read"),
            row(demo::NATIONAL, "national", "ministry", "case.audit.read"),
        ])
        .collect::<Vec<_>>(),
        "{trail:#}"
    );
    // the list page is one entry of the Case Manager's read chain, naming this case among those shown
    let mut list_reads = Vec::new();
    for chain in env.store.read_chains().await.unwrap() {
        list_reads.extend(env.store.read_chain(&chain).await.unwrap().into_iter().filter(|e| e.record.action == "case.listed"));
    }
    assert_eq!(list_reads.len(), 1, "one entry for the page: {list_reads:#?}");
    let entry = &list_reads[0];
    assert_eq!((entry.record.user_id.as_str(), entry.record.role.as_str()), (demo::CASE_MANAGER, "case_manager"));
    assert_eq!(entry.record.case_ids.iter().map(|c| c.to_string()).collect::<Vec<_>>(), page_ids, "every case shown, in order");
    // what the system did: allocated after it was created, before the provider read it
    let pos = |action: &str, user: &str| all.iter().position(|r| r.3 == action && r.0 == user);
    let allocated = pos("case.allocated", "system:allocate").expect("allocation audited");
    assert_eq!(all[allocated].2, "system:allocate");
    assert!(pos("case.created", demo::LEAD).unwrap() < allocated);
    assert!(allocated < pos("case.status.assign", demo::CASE_MANAGER).unwrap());
    // the emails: the notifier read the case to address them (reads, in its own chain)
    assert!(reads(&trail).iter().any(|r| r.3 == "case.notified" && r.0 == "system:notify-primary-contact"), "{trail:#}");
    // each entry: sequence, request id and time, linked to the one before; never the data
    let entries = trail["entries"].as_array().unwrap();
    for (i, e) in entries.iter().enumerate() {
        assert_eq!(e["seq"], (i + 1) as u64);
        assert_eq!(e["caseId"], ca.as_str());
        assert!(!e["requestId"].as_str().unwrap().is_empty(), "{e}");
        assert!(e["at"].as_str().is_some());
        if i > 0 {
            assert_eq!(e["prevHash"], entries[i - 1]["hash"]);
        }
    }
    // an HTTP entry carries API Gateway's request id (the harness numbers them test-N)
    assert!(entries.iter().filter(|e| e["role"] != "system").all(|e| e["requestId"].as_str().unwrap().starts_with("test-")));
    // each read: its chain and place in it, the request and the time, the one case it was of
    for r in trail["reads"].as_array().unwrap() {
        assert_eq!(r["caseIds"], json!([ca]), "{r}");
        assert!(r["role"] == "system" || r["requestId"].as_str().unwrap().starts_with("test-"), "{r}");
        assert!(r["chain"].as_str().is_some_and(|c| c.len() == 26) && r["seq"].as_u64().unwrap() >= 1, "{r}");
    }
    let text = trail.to_string();
    for secret in [STUDENT_NAME, "Tamati", "Testchild", "2014-05-01", "Kowhai", "Hinewai", "021 555 0101", "Whānau hui"] {
        assert!(!text.contains(secret), "the audit trail contains {secret:?}");
    }

    // ---- a NEN case: ENROL creates it, CIT reads the suggestion, allocates and transfers
    let nen = env.nen_case(&nen_notification("nen-audit-1", "100200399", NEN_CHILD)).await;
    ok(env.call(demo::CIT, "GET", &format!("/cases/{nen}/allocation"), None).await, "suggestion");
    ok(env.call(demo::CIT, "POST", &format!("/cases/{nen}/allocation"), Some(json!({}))).await, "allocate");
    ok(
        env.call(
            demo::CIT,
            "POST",
            &format!("/cases/{nen}/transfer"),
            Some(json!({"providerId": demo::ISP_SCHOOL_PROVIDER, "reason": "Family moved"})),
        )
        .await,
        "transfer",
    );
    env.drain().await;
    let nen_trail = ok(audit(&env, demo::NATIONAL, &nen).await, "nen audit").body;
    assert_eq!(nen_trail["chain"]["intact"], true, "{nen_trail}");
    let nen_rows: Vec<_> = rows(&nen_trail).into_iter().filter(|r| r.3 != "case.notified").collect();
    assert_eq!(
        nen_rows,
        vec![
            row("system:nen-webhook", "system", "system:nen-webhook", "case.created"),
            row(demo::CIT, "cit", "ministry", "case.cit.allocate"),
            row(demo::CIT, "cit", "ministry", "case.cit.transfer"),
        ]
    );
    assert_eq!(
        reads(&nen_trail).into_iter().filter(|r| r.1 != "system").collect::<Vec<_>>(),
        vec![row(demo::CIT, "cit", "ministry", "case.allocation.read"), row(demo::NATIONAL, "national", "ministry", "case.audit.read")]
    );
    assert!(!nen_trail.to_string().contains("Auditchild") && !nen_trail.to_string().contains("Family moved"));

    // ---- the verify-audit command's logic: every case, through the status index
    let report = verify_all(&env.store, 1).await.unwrap();
    assert!(report.intact(), "{report:?}");
    assert_eq!(report.cases, 2);
    assert_eq!(report.without_trail, 0);
    assert!(report.queries >= 7, "one query per status at least: {report:?}");
    assert!(report.read_chains >= 1 && report.reads >= 13, "every read chain checked: {report:?}");

    // ---- tampering with a read: hiding that the Primary Contact opened the case
    let pc_read = trail["reads"].as_array().unwrap().iter().find(|r| r["userId"] == demo::PRIMARY_CONTACT).unwrap().clone();
    let read_key = |r: &Value| read_key(r["chain"].as_str().unwrap(), r["seq"].as_u64().unwrap());
    env.clients
        .dynamodb
        .update_item()
        .table_name(&env.res.table_name)
        .set_key(Some(read_key(&pc_read)))
        .update_expression("SET userId = :u")
        .expression_attribute_values(":u", AttributeValue::S(demo::LEAD.into()))
        .condition_expression("attribute_exists(PK)")
        .send()
        .await
        .expect("tampered read");
    let t = ok(audit(&env, demo::NATIONAL, &ca).await, "audit after tampering with a read").body;
    assert_eq!(t["chain"]["intact"], false, "{}", t["chain"]);
    assert!(t["chain"]["problem"].as_str().unwrap().starts_with("read "), "{}", t["chain"]);
    let report = verify_all(&env.store, 100).await.unwrap();
    let chain = pc_read["chain"].as_str().unwrap().to_string();
    let seq = pc_read["seq"].as_u64().unwrap();
    assert_eq!(report.read_breaks, vec![(chain, cms_domain::audit::ChainBreak::Altered { seq })], "{report:?}");
    // put it back, so what follows sees only the case chains' tampering
    env.clients
        .dynamodb
        .update_item()
        .table_name(&env.res.table_name)
        .set_key(Some(read_key(&pc_read)))
        .update_expression("SET userId = :u")
        .expression_attribute_values(":u", AttributeValue::S(demo::PRIMARY_CONTACT.into()))
        .send()
        .await
        .expect("restored read");

    // ---- tampering: change who did something in the middle of the CA chain
    let tampered_seq = 3u64;
    env.clients
        .dynamodb
        .update_item()
        .table_name(&env.res.table_name)
        .set_key(Some(audit_key(&ca, tampered_seq).into_iter().collect()))
        .update_expression("SET userId = :u, #a = :a")
        .expression_attribute_names("#a", "action")
        .expression_attribute_values(":u", AttributeValue::S("someone-else".into()))
        .expression_attribute_values(":a", AttributeValue::S("case.listed".into()))
        .condition_expression("attribute_exists(PK)")
        .send()
        .await
        .expect("tampered");
    let t = ok(audit(&env, demo::NATIONAL, &ca).await, "audit after tampering").body;
    assert_eq!(t["chain"]["intact"], false, "{}", t["chain"]);
    assert!(t["chain"]["problem"].as_str().unwrap().starts_with(&format!("entry {tampered_seq} ")), "{}", t["chain"]);
    let r = verify_cases(&env.store, &[case_id(&ca)]).await.unwrap();
    assert_eq!(r.breaks, vec![(case_id(&ca), cms_domain::audit::ChainBreak::Altered { seq: tampered_seq })]);

    // ---- removing an entry from the middle of the NEN chain
    env.clients
        .dynamodb
        .delete_item()
        .table_name(&env.res.table_name)
        .set_key(Some(audit_key(&nen, 2).into_iter().collect()))
        .condition_expression("attribute_exists(PK)")
        .send()
        .await
        .expect("deleted");
    let d = ok(audit(&env, demo::NATIONAL, &nen).await, "audit after deletion").body;
    assert_eq!(d["chain"]["intact"], false, "{}", d["chain"]);
    assert!(d["chain"]["problem"].as_str().unwrap().starts_with("entry 3 does not follow entry 1"), "{}", d["chain"]);
    let report = verify_all(&env.store, 100).await.unwrap();
    let mut breaks = report.breaks.clone();
    breaks.sort_by_key(|(id, _)| id.to_string());
    let mut want = vec![
        (case_id(&ca), cms_domain::audit::ChainBreak::Altered { seq: tampered_seq }),
        (case_id(&nen), cms_domain::audit::ChainBreak::Gap { seq: 3, prev: 1 }),
    ];
    want.sort_by_key(|(id, _)| id.to_string());
    assert_eq!(breaks, want);
}

/// Occupy the next place in the read chain that recorded the latest read of this case, so the
/// next read that process records cannot be written.
async fn block_next_read(env: &TestEnv, ca: &str) {
    let last = env.store.reads_of(&case_id(ca)).await.unwrap().pop().expect("a read of the case");
    let mut item = read_key(&last.chain, last.seq + 1);
    item.insert("seq".into(), AttributeValue::S("not a read".into()));
    env.clients.dynamodb.put_item().table_name(&env.res.table_name).set_item(Some(item)).send().await.expect("put");
}

/// A read whose audit entry cannot be written is refused: the data is not returned. Forced here
/// by taking the next place in the reader's chain. A change still stands when only its audit
/// entry fails (it was committed first; the gap is logged).
#[tokio::test]
async fn a_read_that_cannot_be_audited_is_refused() {
    let env = TestEnv::new("audit-fail").await;
    let mut form = complete_form(demo::PRIMARY_CONTACT);
    form["submit"] = json!(true);
    let ca = ok(env.call(demo::LEAD, "POST", "/referrals", Some(form)).await, "submit").body["caseId"].as_str().unwrap().to_string();
    for (path, then) in [
        (format!("/cases/{ca}"), format!("/cases/{ca}")),
        (format!("/cases/{ca}/timeline"), format!("/cases/{ca}/timeline")),
        (format!("/cases/{ca}"), "/cases".to_string()),
    ] {
        ok(env.call(demo::LEAD, "GET", &path, None).await, "read");
        block_next_read(&env, &ca).await;
        let r = env.call(demo::LEAD, "GET", &then, None).await;
        assert_eq!(r.status, 503, "{then}: {:?}", r.body);
        assert!(!r.body.to_string().contains(STUDENT_NAME));
        assert!(r.body["title"].is_string(), "a problem body: {:?}", r.body);
        // the reader starts a new chain: the next read is recorded and answered
        assert_eq!(env.call(demo::LEAD, "GET", &then, None).await.status, 200, "{then}");
    }
    // the comment is saved even though its audit entry could not be written
    let mut item: std::collections::HashMap<String, AttributeValue> = audit_key(&ca, 99_999).into_iter().collect();
    item.insert("seq".into(), AttributeValue::S("not a number".into()));
    env.clients.dynamodb.put_item().table_name(&env.res.table_name).set_item(Some(item)).send().await.expect("put");
    let c = env.call(demo::LEAD, "POST", &format!("/cases/{ca}/comments"), Some(json!({"text": "Called the whānau."}))).await;
    assert_eq!(c.status, 201, "{:?}", c.body);
    let timeline = env.store.timeline(&case_id(&ca)).await.unwrap();
    assert!(timeline.iter().any(|e| serde_json::to_value(e).unwrap().to_string().contains("Called the wh")));
}

/// The other writers: file requests, S3's confirmation or rejection and downloads; the nightly
/// job's reopening and SLA breach reports.
#[tokio::test]
async fn files_and_the_nightly_job_are_audited() {
    let env = TestEnv::new("audit-sys").await;
    let mut form = complete_form(demo::PRIMARY_CONTACT);
    form["submit"] = json!(true);
    let ca = ok(env.call(demo::LEAD, "POST", "/referrals", Some(form)).await, "submit").body["caseId"].as_str().unwrap().to_string();
    env.drain().await;

    // a file that matches its request, and one whose size does not (S3 stores it; we reject it)
    let content = b"%PDF-1.4 attendance plan (test)".to_vec();
    let good = ok(
        env.call(
            demo::LEAD,
            "POST",
            &format!("/cases/{ca}/files"),
            Some(json!({"fileName": "plan.pdf", "contentType": "application/pdf", "size": content.len()})),
        )
        .await,
        "upload form",
    )
    .body;
    let bad = ok(
        env.call(
            demo::CASE_MANAGER,
            "POST",
            &format!("/cases/{ca}/files"),
            Some(json!({"fileName": "notes.txt", "contentType": "text/plain", "size": 999})),
        )
        .await,
        "upload form",
    )
    .body;
    assert!((200..300).contains(&cms_tests::post_form(&good["upload"], content, "application/pdf").await));
    assert!((200..300).contains(&cms_tests::post_form(&bad["upload"], b"short".to_vec(), "text/plain").await));
    env.drain().await;
    let file_id = good["fileId"].as_str().unwrap();
    ok(env.call(demo::LEAD, "GET", &format!("/cases/{ca}/files/{file_id}"), None).await, "download");

    // the nightly job: a paused child who turns six today reopens; the CA case's meetings are late
    let paused = cms_local::fixtures::commit(
        &env.store,
        &cms_local::fixtures::CaseSpec {
            date_of_birth: chrono::NaiveDate::from_ymd_opt(2020, 8, 14).unwrap(),
            at: cms_domain::schedule::nz_time(chrono::NaiveDate::from_ymd_opt(2026, 2, 2).unwrap(), 10),
            ends: cms_local::fixtures::Ends::Paused,
            school_met: true,
            whanau_met: true,
        },
        true,
    )
    .await
    .unwrap();
    let run = |today: chrono::NaiveDate| {
        let aws = reopen_scheduler::aws_deps(&env.sdk, &env.res.env());
        reopen_scheduler::Deps {
            store: aws.store,
            bus: aws.bus,
            clock: cms_domain::ports::FixedClock(cms_domain::schedule::nz_time(today, 1)),
        }
    };
    let first = reopen_scheduler::run(&run(chrono::NaiveDate::from_ymd_opt(2026, 8, 14).unwrap()), &Default::default()).await.unwrap();
    assert_eq!(first.reopened, 1, "{first:?}");
    let later = cms_domain::nz_date(chrono::Utc::now()) + chrono::Duration::days(40);
    let second = reopen_scheduler::run(&run(later), &Default::default()).await.unwrap();
    // (whichever run found them: on a machine whose clock is before the first date, the first did)
    assert!(first.breaches + second.breaches >= 2, "{first:?} {second:?}");

    let trail = ok(audit(&env, demo::NATIONAL, &ca).await, "audit").body;
    assert_eq!(trail["chain"]["intact"], true);
    let all = everything(&trail);
    let has = |user: &str, action: &str| all.iter().any(|r| r.0 == user && r.3 == action);
    assert!(has(demo::LEAD, "case.file.request"), "{all:#?}");
    assert!(has(demo::CASE_MANAGER, "case.file.request"), "{all:#?}");
    assert!(has("system:confirm-upload", "case.file.confirmed"), "{all:#?}");
    assert!(has("system:confirm-upload", "case.file.rejected"), "{all:#?}");
    assert!(has(demo::LEAD, "case.file.read"), "{all:#?}");
    assert!(has("system:reopen-scheduler", "case.sla_breached"), "{all:#?}");
    assert!(!trail.to_string().contains("plan.pdf") && !trail.to_string().contains("notes.txt"));

    let p = ok(audit(&env, demo::NATIONAL, &paused.id.to_string()).await, "audit").body;
    assert_eq!(p["chain"]["intact"], true);
    let p_rows = rows(&p);
    assert_eq!(p_rows[0], row("system:reopen-scheduler", "system", "system:reopen-scheduler", "case.reopened"), "{p_rows:#?}");
    // the job's entries carry the run's id (a ULID), not a request of anyone's
    let run_ids: Vec<&str> = [&trail, &p]
        .iter()
        .flat_map(|t| t["entries"].as_array().unwrap())
        .filter(|e| e["role"] == "system" && e["userId"] == "system:reopen-scheduler")
        .map(|e| e["requestId"].as_str().unwrap())
        .collect();
    assert!(!run_ids.is_empty());
    assert!(run_ids.iter().all(|id| id.len() == 26), "{run_ids:?}");
}
