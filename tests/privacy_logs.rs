//! Issue 7: logs carry ids and counts, never a child's details. Every tracing event of a full
//! workflow through the handlers (our crates at DEBUG, everything else — the AWS SDK included — at
//! INFO, formatted as JSON like production) is captured in memory; then none of the seeded
//! students' names, dates of birth, addresses, whānau names or phone numbers, nor the text of
//! their safety notes and health information, may appear in it.
//!
//! One test in this binary: the global subscriber is this test's.

use cms_tests::{complete_form, demo, nen_notification, Reply, TestEnv, STUDENT_NAME};
use serde_json::{json, Value};
use std::io::Write;
use std::sync::{Arc, Mutex};

/// What the logs must never contain (compared case-insensitively).
const FORBIDDEN: &[&str] = &[
    // the CA request's student (tests/support complete_form)
    STUDENT_NAME,
    "Tamati",
    "Testchild",
    "2014-05-01",
    "01/05/2014",
    "1/5/2014",
    "12 Kowhai Lane",
    "Kowhai",
    "Testville",
    "Hinewai",
    "Testcaregiver",
    "021 555 0101",
    "0215550101",
    "whanau@example.nz",
    // the NEN's student (ENROL's delivery below)
    "Wiremu",
    "2013-06-15",
    "15/06/2013",
    "5 Test Road",
    "Ahipara",
    "Aroha Testparent",
    "Testparent",
    "027 555 0199",
    "100200300",
    // what the school and provider wrote
    "Grandmother in Kaitaia",
    "Chronic absence: attended",
    "Dog on the property",
    "asthma",
];

/// The captured log output.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.0.lock() {
            Ok(mut v) => v.extend_from_slice(buf),
            Err(poisoned) => poisoned.into_inner().extend_from_slice(buf),
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capture {
    fn text(&self) -> String {
        let v = match self.0.lock() {
            Ok(v) => v.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        String::from_utf8_lossy(&v).into_owned()
    }
}

/// Our crates at DEBUG, everything else (the AWS SDK, hyper, ...) at INFO.
const FILTER: &str = "info,cms_domain=debug,cms_aws=debug,cms_http=debug,cms_local=debug,cms_tests=debug,\
submit_referral=debug,case_query=debug,update_status=debug,allocate=debug,nen_webhook=debug,\
cit_review=debug,case_activity=debug,upload_file=debug,confirm_upload=debug,\
notify_primary_contact=debug,reopen_scheduler=debug,sensitive_info=debug,privacy_logs=debug";

fn install() -> Capture {
    let capture = Capture::default();
    let writer = capture.clone();
    // as cms_aws::telemetry does in production: JSON lines
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::new(FILTER))
        .with_current_span(true)
        .with_span_list(true)
        .with_target(true)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber of this binary");
    capture
}

fn ok(what: &str, r: &Reply, want: &[u16]) {
    assert!(want.contains(&r.status), "{what}: {} {}", r.status, r.body);
}

async fn status(env: &TestEnv, user: &str, id: &str, mut body: Value) -> Reply {
    body["version"] = env.version(user, id).await;
    env.status(user, id, body).await
}

#[tokio::test]
async fn a_full_workflow_logs_no_child_details() {
    let logs = install();
    tracing::info!("privacy capture started");
    let env = TestEnv::new("privacy").await;
    let form = complete_form(demo::PRIMARY_CONTACT);

    // refused requests that carry the child's details (error paths must not echo them either)
    let mut bad = form.clone();
    bad["student"]["dateOfBirth"] = json!("01/05/2014");
    ok("bad draft", &env.call(demo::LEAD, "POST", "/referrals", Some(bad)).await, &[400]);
    let mut unknown = form.clone();
    unknown["student"]["middleName"] = json!("Tamati");
    ok("unknown field", &env.call(demo::LEAD, "POST", "/referrals", Some(unknown)).await, &[400]);

    // the CA request: draft, resume, edit, submit; allocation and its emails
    let mut draft = form.clone();
    draft.as_object_mut().unwrap().remove("reason");
    let d = env.call(demo::LEAD, "POST", "/referrals", Some(draft)).await;
    ok("draft", &d, &[201]);
    let rid = d.body["id"].as_str().unwrap().to_string();
    ok("drafts", &env.call(demo::OFFICE, "GET", "/referrals?status=draft", None).await, &[200]);
    ok("one draft", &env.call(demo::LEAD, "GET", &format!("/referrals/{rid}"), None).await, &[200]);
    let mut full = form.clone();
    full["version"] = json!(1);
    ok("edit", &env.call(demo::LEAD, "PUT", &format!("/referrals/{rid}"), Some(full)).await, &[200]);
    let s = env.call(demo::LEAD, "POST", &format!("/referrals/{rid}/submit"), None).await;
    ok("submit", &s, &[201]);
    let case = s.body["caseId"].as_str().unwrap().to_string();
    // the same student again while the case is active: refused
    let mut again = form.clone();
    again["submit"] = json!(true);
    ok("duplicate", &env.call(demo::LEAD, "POST", "/referrals", Some(again)).await, &[409]);
    assert!(env.drain().await > 0, "allocation and emails ran");

    // the provider works the case
    ok("queue", &env.call(demo::CASE_MANAGER, "GET", "/cases?status=provider_queue", None).await, &[200]);
    let assign = json!({"action": "assign", "caseManagerId": demo::CASE_MANAGER});
    ok("assign", &status(&env, demo::PROVIDER_ADMIN, &case, assign).await, &[200]);
    let c = format!("/cases/{case}");
    for (user, text, shared) in [
        (demo::CASE_MANAGER, "Met Tamati and his mother Hinewai at 12 Kowhai Lane.", true),
        (demo::CASE_MANAGER, "Tamati Testchild (born 2014-05-01) says school is hard.", false),
        (demo::LEAD, "Tamati attended three days this week.", true),
    ] {
        let r = env.call(user, "POST", &format!("{c}/comments"), Some(json!({"text": text, "shared": shared}))).await;
        ok("comment", &r, &[201]);
    }
    let today = cms_domain::nz_date(chrono::Utc::now()).format("%Y-%m-%d").to_string();
    let activity = json!({"type": "whanau_meeting", "date": today, "attendees": ["Hinewai Testcaregiver", "Tamati Testchild"],
        "notes": "At 12 Kowhai Lane, Testville; phone 021 555 0101.", "shared": true});
    ok("activity", &env.call(demo::CASE_MANAGER, "POST", &format!("{c}/activities"), Some(activity)).await, &[201]);
    let file = json!({"fileName": "Tamati Testchild attendance plan.pdf", "contentType": "application/pdf", "size": 48213, "shared": true});
    ok("file", &env.call(demo::CASE_MANAGER, "POST", &format!("{c}/files"), Some(file)).await, &[201]);
    let safety = json!({"text": "Dog on the property at 12 Kowhai Lane: phone Hinewai first."});
    ok("safety note", &env.call(demo::CASE_MANAGER, "POST", &format!("{c}/safety-notes"), Some(safety)).await, &[200, 201]);
    let health = json!({"text": "Tamati has asthma; inhaler at the office."});
    ok("health", &env.call(demo::CASE_MANAGER, "POST", &format!("{c}/health"), Some(health)).await, &[200, 201]);
    ok("sensitive", &env.call(demo::CASE_MANAGER, "GET", &format!("{c}/sensitive"), None).await, &[200]);
    let consult =
        json!({"about": "transition", "heldOn": today, "notes": "Told the Attendance Lead Tamati Testchild is ready to step back."});
    ok("consultation", &env.call(demo::CASE_MANAGER, "POST", &format!("{c}/consultations"), Some(consult)).await, &[201]);
    let s19 = json!({"kind": "section_19", "on": today, "notes": "Concerns for Tamati Testchild at 12 Kowhai Lane."});
    ok("escalation", &env.call(demo::LEAD, "POST", &format!("{c}/escalations"), Some(s19)).await, &[201]);
    ok("transition", &status(&env, demo::CASE_MANAGER, &case, json!({"action": "transition"})).await, &[200]);
    let close = json!({"action": "close", "reason": "attending_regularly", "note": "Tamati is back at school full time."});
    ok("close", &status(&env, demo::CASE_MANAGER, &case, close).await, &[200]);
    env.drain().await;

    // everyone reads what they may
    for user in [demo::LEAD, demo::PRIMARY_CONTACT, demo::OFFICE, demo::CASE_MANAGER, demo::NATIONAL, demo::REGIONAL] {
        ok("view", &env.call(user, "GET", &c, None).await, &[200]);
        ok("timeline", &env.call(user, "GET", &format!("{c}/timeline"), None).await, &[200]);
        ok("list", &env.call(user, "GET", "/cases", None).await, &[200]);
    }
    // and those who may not are refused
    ok("other school", &env.call(demo::OTHER_LEAD, "GET", &c, None).await, &[404]);

    // ENROL reports a non-enrolment; CIT allocates it by address, then transfers it
    let n = env.deliver_enrol_raw(&nen_notification("nen-privacy-1", "100200300", "Wiremu Testchild").to_string()).await;
    ok("nen", &n, &[200]);
    let nen_case = n.body["caseId"].as_str().unwrap().to_string();
    ok("nen again", &env.deliver_enrol_raw(&nen_notification("nen-privacy-1", "100200300", "Wiremu Testchild").to_string()).await, &[200]);
    let mut wrong = nen_notification("nen-privacy-1", "100200300", "Wiremu Testchild");
    wrong["data"]["student"]["dateOfBirth"] = json!("15/06/2013");
    wrong["id"] = json!("nen-privacy-2");
    ok("bad nen", &env.deliver_enrol_raw(&wrong.to_string()).await, &[400]);
    ok("suggest", &env.call(demo::CIT, "GET", &format!("/cases/{nen_case}/allocation"), None).await, &[200]);
    let v = env.version(demo::CIT, &nen_case).await;
    let a = env.call(demo::CIT, "POST", &format!("/cases/{nen_case}/allocation"), Some(json!({"version": v}))).await;
    ok("allocate", &a, &[200]);
    let v = env.version(demo::CIT, &nen_case).await;
    let t = json!({"providerId": demo::ISP_SCHOOL_PROVIDER, "reason": "Wiremu's family moved from 5 Test Road.", "version": v});
    ok("transfer", &env.call(demo::CIT, "POST", &format!("/cases/{nen_case}/transfer"), Some(t)).await, &[200]);
    env.drain().await;
    ok("view nen", &env.call(demo::OTHER_CASE_MANAGER, "GET", &format!("/cases/{nen_case}"), None).await, &[200]);

    let captured = logs.text();
    let lines = captured.lines().count();
    assert!(lines > 20, "the capture works: {lines} lines");
    assert!(captured.contains("privacy capture started"), "the capture sees this test's own event");
    assert!(captured.contains(&case), "the capture sees the handlers' events (they log the case id)");
    for line in captured.lines() {
        assert!(serde_json::from_str::<Value>(line).is_ok(), "every log line is JSON: {line}");
    }
    let leaks: Vec<(&str, String)> = FORBIDDEN
        .iter()
        .filter_map(|f| {
            let f_lower = f.to_lowercase();
            captured.lines().find(|l| l.to_lowercase().contains(&f_lower)).map(|l| (*f, l.chars().take(600).collect()))
        })
        .collect();
    assert!(leaks.is_empty(), "child details in the logs ({lines} lines captured):\n{leaks:#?}");
}
