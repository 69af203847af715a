//! Issue 4: ENROL's webhook (signed, exactly once) and the Central Investigations Team's
//! allocation, closure and transfer of cases.

use cms_domain::case::{Case, CaseStatus};
use cms_domain::ids::UserId;
use cms_domain::lifecycle::{decide, Command, PauseAttestation};
use cms_domain::outbox::publish_committed;
use cms_domain::ports::CaseStore;
use cms_local::resources::put_enrol_secret;
use cms_tests::{demo, enrol_signature, nen_notification, Reply, TestEnv};
use nen_webhook::signature::sign;
use serde_json::{json, Value};

const NSN: &str = "100200300";
const CHILD: &str = "Wiremu Testchild";

fn nen(id: &str) -> Value {
    nen_notification(id, NSN, CHILD)
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

async fn deliver(env: &TestEnv, body: &str, signature: Option<String>) -> Reply {
    let headers = signature.map(|s| vec![("Enrol-Signature".to_string(), s)]).unwrap_or_default();
    env.call_full(None, "POST", "/enrol/events", headers, Some(body.to_string())).await
}

fn cases_with_nsn(items: &[std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>]) -> usize {
    items.iter().filter(|i| i.get("SK").and_then(|v| v.as_s().ok()).map(String::as_str) == Some("CASE")).count()
}

#[tokio::test]
async fn a_signed_nen_reaches_the_cit_queue_exactly_once() {
    let env = TestEnv::new("nen").await;
    let body = nen("nen-a1");
    let first = env.deliver_enrol(&body).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    assert_eq!(first.body["outcome"], "case_created");
    let case_id = first.body["caseId"].as_str().unwrap().to_string();
    // ENROL retries: ten identical deliveries, one case, the same answer every time
    for _ in 0..10 {
        let again = env.deliver_enrol(&body).await;
        assert_eq!(again.status, 200);
        assert_eq!(again.body, first.body);
    }
    assert_eq!(cases_with_nsn(&env.items().await), 1);
    // CIT's queue, oldest first
    let queue = env.call(demo::CIT, "GET", "/cases?status=cit_review", None).await;
    assert_eq!(queue.status, 200);
    let ids: Vec<&str> = queue.body["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec![case_id.as_str()]);
    let case = env.call(demo::CIT, "GET", &format!("/cases/{case_id}"), None).await;
    assert_eq!(case.body["caseType"], "NEN");
    assert_eq!(case.body["status"], "cit_review");
    assert_eq!(case.body["nen"]["lastDayOfAttendance"], "2026-10-30");
    // providers do not see a case CIT has not allocated
    assert_eq!(env.call(demo::CASE_MANAGER, "GET", &format!("/cases/{case_id}"), None).await.status, 404);
    // the same id with a different body is a conflict, and changes nothing
    let mut changed = body.clone();
    changed["data"]["withdrawalReason"] = json!("Moved overseas");
    let before = env.items().await;
    let clash = env.deliver_enrol(&changed).await;
    assert_eq!(clash.status, 409, "{:?}", clash.body);
    assert_eq!(env.items().await, before);
    // events: NenReceived once, no child details
    let events = env.bus_events().await;
    assert_eq!(events.iter().filter(|(t, _)| t == "NenReceived").count(), 1);
    for (_, d) in &events {
        let s = d.to_string();
        assert!(!s.contains(CHILD) && !s.contains(NSN) && !s.contains("Ahipara") && !s.contains("Grandmother"), "{s}");
    }
}

#[tokio::test]
async fn bad_missing_or_stale_signatures_are_refused_and_nothing_is_written() {
    let env = TestEnv::new("nensig").await;
    let body = nen("nen-sig").to_string();
    let t = now();
    let before = env.items().await;
    let cases = vec![
        ("missing", None),
        ("garbage", Some("hello".to_string())),
        ("wrong secret", Some(format!("t={t},v1={}", sign(b"not-the-secret", t, body.as_bytes())))),
        ("stale", Some(enrol_signature(body.as_bytes(), t - 600))),
        ("future", Some(enrol_signature(body.as_bytes(), t + 600))),
        ("other body", Some(enrol_signature(b"{}", t))),
    ];
    for (what, sig) in cases {
        let r = deliver(&env, &body, sig).await;
        assert_eq!(r.status, 401, "{what}: {:?}", r.body);
        assert!(r.body["detail"].as_str().unwrap().len() > 10);
    }
    assert_eq!(env.items().await, before, "a refused delivery wrote something");
    assert!(env.bus_events().await.is_empty());
}

#[tokio::test]
async fn both_secrets_work_during_rotation() {
    let env = TestEnv::new("nenrot").await;
    put_enrol_secret(&env.clients.secrets, &env.res.prefix, "new-secret", Some("old-secret")).await.unwrap();
    for (i, secret) in ["new-secret", "old-secret"].iter().enumerate() {
        let raw = nen(&format!("nen-rot-{i}")).to_string();
        let t = now();
        let r = deliver(&env, &raw, Some(format!("t={t},v1={}", sign(secret.as_bytes(), t, raw.as_bytes())))).await;
        assert_eq!(r.status, 200, "{secret}: {:?}", r.body);
    }
    let raw = nen("nen-rot-x").to_string();
    let t = now();
    let r = deliver(&env, &raw, Some(enrol_signature(raw.as_bytes(), t))).await;
    assert_eq!(r.status, 401, "the replaced secret no longer works");
}

#[tokio::test]
async fn malformed_deliveries_get_field_messages_and_nothing_is_stored() {
    let env = TestEnv::new("nenbad").await;
    let before = env.items().await;
    let mut missing_dob = nen("nen-b1");
    missing_dob["data"]["student"].as_object_mut().unwrap().remove("dateOfBirth");
    let mut impossible = nen("nen-b2");
    impossible["data"]["lastDayOfAttendance"] = json!("2026-02-30");
    let mut future = nen("nen-b3");
    future["data"]["lastDayOfAttendance"] = json!("2099-01-01");
    let mut no_address = nen("nen-b4");
    no_address["data"]["addresses"] = json!([]);
    let mut unknown = nen("nen-b5");
    unknown["data"]["favouriteColour"] = json!("blue");
    for (body, field) in [
        (missing_dob, Some("data.student.dateOfBirth")),
        (impossible, Some("data.lastDayOfAttendance")),
        (future, Some("data.lastDayOfAttendance")),
        (no_address, Some("data.addresses")),
        (unknown, Some("data")),
        (json!({"id": "x", "type": "student_enrolled", "data": {"nsn": "12"}}), Some("data.schoolId")),
        (json!({"type": "non_enrolment_notification"}), Some("id")),
    ] {
        let r = env.deliver_enrol(&body).await;
        assert_eq!(r.status, 400, "{body}: {:?}", r.body);
        if let Some(f) = field {
            let fields: Vec<&str> = r.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
            assert!(fields.contains(&f), "{f} not in {fields:?}");
        }
    }
    // not JSON at all (but correctly signed)
    let raw = "{not json";
    let t = now();
    let r = deliver(&env, raw, Some(enrol_signature(raw.as_bytes(), t))).await;
    assert_eq!(r.status, 400);
    assert_eq!(env.items().await, before);
}

fn another_child(mut body: Value, nsn: &str) -> Value {
    body["data"]["nsn"] = json!(nsn);
    body
}

#[tokio::test]
async fn cit_allocates_by_address_closes_and_transfers() {
    let env = TestEnv::new("cit").await;
    let a = env.nen_case(&nen("nen-c1")).await;
    // the suggestion comes from the address (Ahipara → catchment C01 → provider P01)
    let s = env.call(demo::CIT, "GET", &format!("/cases/{a}/allocation"), None).await;
    assert_eq!(s.status, 200, "{:?}", s.body);
    assert_eq!(s.body["suggestedProviderId"], demo::SCHOOL_PROVIDER);
    assert_eq!(s.body["matchedLocality"], "Ahipara");
    // non-CIT roles are refused every CIT operation
    for user in [
        demo::LEAD,
        demo::PRIMARY_CONTACT,
        demo::OFFICE,
        demo::CASE_MANAGER,
        demo::PROVIDER_ADMIN,
        demo::REGIONAL,
        demo::NATIONAL,
        demo::PROSECUTIONS,
    ] {
        assert_eq!(env.call(user, "GET", &format!("/cases/{a}/allocation"), None).await.status, 403, "{user}");
        assert_eq!(env.call(user, "POST", &format!("/cases/{a}/allocation"), Some(json!({}))).await.status, 403, "{user}");
        assert_eq!(env.call(user, "POST", &format!("/cases/{a}/close"), Some(json!({"reason": "x"}))).await.status, 403, "{user}");
        assert_eq!(
            env.call(user, "POST", &format!("/cases/{a}/transfer"), Some(json!({"providerId": "P08", "reason": "x"}))).await.status,
            403,
            "{user}"
        );
    }
    // allocate with the suggestion → the provider's queue
    let r = env.call(demo::CIT, "POST", &format!("/cases/{a}/allocation"), Some(json!({"version": 1}))).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["status"], "provider_queue");
    let q = env.call(demo::CASE_MANAGER, "GET", "/cases?status=provider_queue", None).await;
    assert!(q.body["items"].as_array().unwrap().iter().any(|c| c["id"] == a.as_str()));
    // allocating again is a conflict, not a second allocation
    assert_eq!(env.call(demo::CIT, "POST", &format!("/cases/{a}/allocation"), None).await.status, 409);

    // CIT may choose another provider than the suggestion
    // (another child each: one active case per student)
    let b = env.nen_case(&another_child(nen("nen-c2"), "100200302")).await;
    let r = env.call(demo::CIT, "POST", &format!("/cases/{b}/allocation"), Some(json!({"providerId": demo::ISP_SCHOOL_PROVIDER}))).await;
    assert_eq!(r.body["providerId"], demo::ISP_SCHOOL_PROVIDER);

    // close a NEN that needs no provider: a reason is required
    let c = env.nen_case(&another_child(nen("nen-c3"), "100200303")).await;
    let unknown = env.call(demo::CIT, "POST", &format!("/cases/{c}/allocation"), Some(json!({"providerId": "NOPE"}))).await;
    assert_eq!(unknown.status, 400, "{:?}", unknown.body);
    assert_eq!(unknown.body["errors"][0]["field"], "providerId");
    let r = env.call(demo::CIT, "POST", &format!("/cases/{c}/close"), Some(json!({"reason": "  "}))).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["errors"][0]["field"], "reason");
    let r = env.call(demo::CIT, "POST", &format!("/cases/{c}/close"), Some(json!({"reason": "Enrolled at a school overseas"}))).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["status"], "closed");
    assert_eq!(env.call(demo::CIT, "GET", &format!("/cases/{c}"), None).await.body["status"], "closed");

    // transfer: the old provider loses access, the new one sees the case and its history
    let stale = env
        .call(
            demo::CIT,
            "POST",
            &format!("/cases/{a}/transfer"),
            Some(json!({"providerId": demo::ISP_SCHOOL_PROVIDER, "reason": "Family moved", "version": 1})),
        )
        .await;
    assert_eq!(stale.status, 409, "a stale version is refused");
    let t = env
        .call(
            demo::CIT,
            "POST",
            &format!("/cases/{a}/transfer"),
            Some(json!({"providerId": demo::ISP_SCHOOL_PROVIDER, "reason": "Family moved to Takapuna"})),
        )
        .await;
    assert_eq!(t.status, 200, "{:?}", t.body);
    assert_eq!(env.call(demo::CASE_MANAGER, "GET", &format!("/cases/{a}"), None).await.status, 404);
    let seen = env.call(demo::OTHER_CASE_MANAGER, "GET", &format!("/cases/{a}"), None).await;
    assert_eq!(seen.status, 200);
    assert_eq!(seen.body["status"], "provider_queue");
    let history = env.store.timeline(&cms_domain::ids::CaseId::parse(a.clone()).unwrap()).await.unwrap();
    let kinds: Vec<String> = history.iter().map(|e| serde_json::to_value(e).unwrap()["type"].as_str().unwrap().to_string()).collect();
    for k in ["case_created", "allocated", "transferred"] {
        assert!(kinds.iter().any(|x| x == k), "{k} missing from {kinds:?}");
    }
    let events = env.bus_events().await;
    let transferred: Vec<&Value> = events.iter().filter(|(t, _)| t == "CaseTransferred").map(|(_, d)| d).collect();
    assert_eq!(transferred.len(), 1);
    assert!(!transferred[0].to_string().contains("Takapuna"), "the reason stays out of the event");
}

/// Put a case into a state through the domain and the store (as the handlers do).
async fn commit(env: &TestEnv, change: cms_domain::case::CaseChange) -> Case {
    env.store.commit(&change).await.unwrap();
    publish_committed(&cms_aws::EventBridgeBus::new(env.clients.eventbridge.clone(), &env.res.bus_name), &change.case.id, &change.events)
        .await;
    change.case
}

#[tokio::test]
async fn student_enrolled_reopens_a_paused_case() {
    let env = TestEnv::new("enrolled").await;
    // a NEN for a five-year-old, allocated, opened and paused (withdrawn by whānau)
    let mut body = nen("nen-e1");
    let dob = (chrono::Utc::now().date_naive() - chrono::Days::new(5 * 365 + 100)).to_string();
    body["data"]["student"]["dateOfBirth"] = json!(dob);
    let id = env.nen_case(&body).await;
    let case_id = cms_domain::ids::CaseId::parse(id.clone()).unwrap();
    assert_eq!(env.call(demo::CIT, "POST", &format!("/cases/{id}/allocation"), None).await.status, 200);
    let case = env.store.case(&case_id).await.unwrap().unwrap();
    let cm = cms_local::seed::demo_user(demo::CASE_MANAGER).unwrap();
    let actor = cms_domain::actor::Actor::new(
        UserId::parse(demo::CASE_MANAGER).unwrap(),
        cms_domain::actor::Role::CaseManager,
        cms_domain::actor::Org::Provider(cms_domain::ids::ProviderId::parse(demo::SCHOOL_PROVIDER).unwrap()),
    )
    .unwrap();
    let now = chrono::Utc::now();
    let today = cms_domain::nz_date(now);
    let case = commit(&env, decide(&case, &actor, &Command::Assign { case_manager: cm }, now, today).unwrap()).await;
    let attest =
        PauseAttestation { child_located: true, whanau_contacted: true, safe_and_informed_choice: true, withdrawn_from_school: true };
    let case = commit(&env, decide(&case, &actor, &Command::Pause { attestation: attest, note: None }, now, today).unwrap()).await;
    assert_eq!(case.status, CaseStatus::Paused);
    env.bus_events().await;

    let enrolled = json!({"id": "enr-e1", "type": "student_enrolled", "data": {"nsn": NSN, "schoolId": demo::OTHER_SCHOOL, "enrolledOn": today.to_string()}});
    let r = env.deliver_enrol(&enrolled).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["casesUpdated"], 1);
    let reopened = env.store.case(&case_id).await.unwrap().unwrap();
    assert_eq!(reopened.status, CaseStatus::Open);
    assert_eq!(reopened.case_manager.as_ref().map(|u| u.as_str()), Some(demo::CASE_MANAGER), "back with its Case Manager");
    let events = env.bus_events().await;
    assert_eq!(events.iter().filter(|(t, _)| t == "CaseReopened").count(), 1);
    // a repeat changes nothing more
    let again = env.deliver_enrol(&enrolled).await;
    assert_eq!(again.body, r.body);
    assert_eq!(env.store.case(&case_id).await.unwrap().unwrap().version, reopened.version);
    assert!(env.bus_events().await.is_empty());
}

#[tokio::test]
async fn an_enrolled_nen_becomes_a_ca_case_when_the_school_asks_for_support() {
    let env = TestEnv::new("convert").await;
    let id = env.nen_case(&nen("nen-v1")).await;
    let enrolled = json!({"id": "enr-v1", "type": "student_enrolled", "data": {"nsn": NSN, "schoolId": demo::OTHER_SCHOOL, "enrolledOn": "2026-11-20"}});
    let r = env.deliver_enrol(&enrolled).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let case = env.call(demo::CIT, "GET", &format!("/cases/{id}"), None).await;
    assert_eq!(case.body["nen"]["enrolledAt"], demo::OTHER_SCHOOL);

    // the enrolling school requests CA support for the same student (by NSN)
    let mut form = cms_tests::complete_form(demo::OTHER_CONTACT);
    form["student"]["fullName"] = json!(CHILD);
    form["student"]["dateOfBirth"] = json!("2013-06-15");
    form["student"]["nsn"] = json!(NSN);
    form["submit"] = json!(true);
    let r = env.call(demo::OTHER_LEAD, "POST", "/referrals", Some(form)).await;
    assert!(r.status == 200 || r.status == 201, "{:?}", r.body);
    assert_eq!(r.body["caseId"], id.as_str(), "the NEN case is converted, not duplicated");
    env.drain().await;
    let case = env.call(demo::OTHER_LEAD, "GET", &format!("/cases/{id}"), None).await;
    assert_eq!(case.status, 200, "{:?}", case.body);
    assert_eq!(case.body["caseType"], "CA");
    assert_eq!(cases_with_nsn(&env.items().await), 1, "one case for the student");
    let history = env.store.timeline(&cms_domain::ids::CaseId::parse(id.clone()).unwrap()).await.unwrap();
    let kinds: Vec<String> = history.iter().map(|e| serde_json::to_value(e).unwrap()["type"].as_str().unwrap().to_string()).collect();
    assert!(
        kinds.contains(&"case_created".to_string())
            && kinds.contains(&"enrolled".to_string())
            && kinds.contains(&"converted_to_ca".to_string()),
        "{kinds:?}"
    );
}
