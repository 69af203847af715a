//! Issue 5: the case lifecycle on the emulator — `POST /cases/{id}/status` for each action, the
//! version check (two concurrent updates: exactly one wins), each role's answer, and a new request
//! within 3 months of closure reopening the case (both sides of the boundary).

use chrono::{DateTime, Months, NaiveDate, TimeZone, Utc};
use cms_aws::EventBridgeBus;
use cms_domain::case::{Case, TimelineKind};
use cms_domain::ids::CaseId;
use cms_domain::ports::{CaseStore, FixedClock};
use cms_http::apigw::ApiCall;
use cms_tests::{complete_form, demo, Reply, TestEnv, STUDENT_NAME};
use serde_json::{json, Value};

const NOTE: &str = "Whanau shared a private family matter at the hui";

/// NZ today, as the handlers see it.
fn nz_today() -> NaiveDate {
    cms_domain::nz_date(Utc::now())
}

/// A date of birth for a child `years` old (and a month) today.
fn dob_aged(years: u32) -> String {
    nz_today().checked_sub_months(Months::new(12 * years + 1)).unwrap().to_string()
}

/// Noon in New Zealand on `d`.
fn nz_noon(d: NaiveDate) -> DateTime<Utc> {
    chrono_tz_noon(d)
}

fn chrono_tz_noon(d: NaiveDate) -> DateTime<Utc> {
    // 12:00 NZ is 23:00 or 00:00 UTC the day before; find the instant whose NZ date is d at noon
    let guess = Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap());
    (0..48)
        .map(|h| guess - chrono::Duration::hours(24) + chrono::Duration::hours(h))
        .find(|t| {
            cms_domain::nz_date(*t) == d
                && cms_domain::nz_date(*t + chrono::Duration::hours(11)) == d
                && cms_domain::nz_date(*t - chrono::Duration::hours(11)) == d
        })
        .unwrap_or(guess)
}

/// An API Gateway v2 request as the local API builds it, with extra headers.
fn request(
    env: &TestEnv,
    user: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> (lambda_http::Request, String) {
    let routes = cms_local::template::load_default().expect("template").routes();
    let (route, params) = cms_local::server::find_route(&routes, method, path).unwrap_or_else(|| panic!("no route for {method} {path}"));
    let mut hs = vec![("content-type".to_string(), "application/json".to_string())];
    hs.extend(headers.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let call = ApiCall {
        method: method.into(),
        path: path.into(),
        route: route.path.clone(),
        path_parameters: params,
        raw_query: String::new(),
        headers: hs,
        body: body.map(|b| b.to_string()),
        claims: Some(env.claims_of(user)),
        request_id: format!("lifecycle-{}", ulid_like()),
        source_ip: "127.0.0.1".into(),
        ..Default::default()
    };
    (cms_http::apigw::request(&call).expect("event"), route.function_logical_id.clone())
}

fn ulid_like() -> String {
    cms_domain::ids::EventId::new_ulid().as_str().to_string()
}

fn reply(resp: lambda_http::Response<lambda_http::Body>) -> Reply {
    let status = resp.status().as_u16();
    let body = match resp.body() {
        lambda_http::Body::Text(t) => serde_json::from_str(t).unwrap_or(Value::String(t.clone())),
        _ => Value::Null,
    };
    Reply { status, body }
}

/// Call through the registered handler (system clock) with extra headers.
async fn call_with_headers(env: &TestEnv, user: &str, method: &str, path: &str, body: Option<Value>, headers: &[(&str, &str)]) -> Reply {
    let (req, id) = request(env, user, method, path, body, headers);
    let h = env.registry.http(&id).expect("registered");
    reply(h(req).await)
}

fn bus(env: &TestEnv) -> EventBridgeBus {
    EventBridgeBus::new(env.clients.eventbridge.clone(), env.res.bus_name.clone())
}

/// `POST /cases/{id}/status` with a handler whose clock says `at`.
async fn status_at(env: &TestEnv, at: DateTime<Utc>, user: &str, case_id: &str, body: Value) -> Reply {
    let deps = update_status::Deps { store: env.store.clone(), bus: bus(env), clock: FixedClock(at) };
    let (req, _) = request(env, user, "POST", &format!("/cases/{case_id}/status"), Some(body), &[]);
    reply(update_status::handle(&deps, req).await)
}

/// Submit a complete request at once, with a handler whose clock says `at`.
async fn submit_at(env: &TestEnv, at: DateTime<Utc>, user: &str, form: Value) -> Reply {
    let deps = submit_referral::Deps {
        store: env.store.clone(),
        bus: bus(env),
        clock: FixedClock(at),
        keys: cms_domain::ports::StaticStudentKeys(cms_tests::student_keys()),
    };
    let mut body = form;
    body["submit"] = json!(true);
    let (req, _) = request(env, user, "POST", "/referrals", Some(body), &[]);
    reply(submit_referral::handle(&deps, req).await)
}

fn form(name: &str, dob: &str) -> Value {
    let mut f = complete_form(demo::PRIMARY_CONTACT);
    f["student"]["fullName"] = json!(name);
    f["student"]["dateOfBirth"] = json!(dob);
    f["student"]["nsn"] = json!(cms_tests::nsn_for(name, dob));
    f
}

/// A case for a new student of school 1001, allocated to P01's queue. Returns (id, version).
async fn queued_case(env: &TestEnv, name: &str, dob: &str) -> (String, u64) {
    let mut body = form(name, dob);
    body["submit"] = json!(true);
    let r = env.call(demo::LEAD, "POST", "/referrals", Some(body)).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let id = r.body["caseId"].as_str().unwrap().to_string();
    env.drain().await;
    let c = env.call(demo::CASE_MANAGER, "GET", &format!("/cases/{id}"), None).await;
    assert_eq!(c.body["status"], "provider_queue", "{:?}", c.body);
    (id, c.body["version"].as_u64().unwrap())
}

/// A case assigned to cm-p01 (Open). Returns (id, version).
async fn open_case(env: &TestEnv, name: &str, dob: &str) -> (String, u64) {
    let (id, v) = queued_case(env, name, dob).await;
    let r = env.status(demo::CASE_MANAGER, &id, json!({"action": "assign", "version": v})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["status"], "open");
    (id, r.body["version"].as_u64().unwrap())
}

fn count(events: &[(String, Value)], t: &str, case_id: &str) -> usize {
    events.iter().filter(|(ty, d)| ty == t && d["caseId"] == case_id).count()
}

#[tokio::test]
async fn assign_transition_reopen_close_each_change_recorded_once() {
    let env = TestEnv::new("lc-actions").await;
    let (id, v) = queued_case(&env, STUDENT_NAME, "2014-05-01").await;

    // a provider admin cannot assign someone who is not a Case Manager of this provider
    let wrong =
        env.status(demo::PROVIDER_ADMIN, &id, json!({"action": "assign", "version": v, "caseManagerId": demo::OTHER_CASE_MANAGER})).await;
    assert_eq!(wrong.status, 422, "{:?}", wrong.body);
    assert_eq!(wrong.body["errors"][0]["field"], "caseManagerId");
    let nobody = env.status(demo::PROVIDER_ADMIN, &id, json!({"action": "assign", "version": v, "caseManagerId": "no-such-user"})).await;
    assert_eq!(nobody.status, 422, "{:?}", nobody.body);
    let missing = env.status(demo::PROVIDER_ADMIN, &id, json!({"action": "assign", "version": v})).await;
    assert_eq!(missing.status, 400, "{:?}", missing.body);
    // the provider admin assigns the Case Manager: Provider Queue → Open
    let a = env.status(demo::PROVIDER_ADMIN, &id, json!({"action": "assign", "version": v, "caseManagerId": demo::CASE_MANAGER})).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(a.body["status"], "open");
    assert_eq!(a.body["caseManager"], demo::CASE_MANAGER);
    assert_eq!(a.body["version"], v + 1);

    // "before moving the case into Transition status" the provider checks in with the school (the
    // guide): refused until a consultation is recorded, which is a change of its own
    let early = env.status(demo::CASE_MANAGER, &id, json!({"action": "transition", "version": v + 1})).await;
    assert_eq!(early.status, 409, "{:?}", early.body);
    assert!(early.body["detail"].as_str().unwrap().contains("consultation with the school"), "{:?}", early.body);
    env.consult(&id, "transition").await;
    let v = v + 1;
    // transition, with the version in an If-Match header
    let t = call_with_headers(
        &env,
        demo::CASE_MANAGER,
        "POST",
        &format!("/cases/{id}/status"),
        Some(json!({"action": "transition"})),
        &[("if-match", &format!("\"{}\"", v + 1))],
    )
    .await;
    assert_eq!(t.status, 200, "{:?}", t.body);
    assert_eq!(t.body["status"], "transition");
    assert_eq!(t.body["consultations"][0]["used"], true, "{:?}", t.body);
    // the provider reopens it: Transition → Open
    let r = env.status(demo::CASE_MANAGER, &id, json!({"action": "reopen", "version": v + 2})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["status"], "open");
    // close with a reason and a private note
    let c = env
        .status(demo::CASE_MANAGER, &id, json!({"action": "close", "version": v + 3, "reason": "attending_regularly", "note": NOTE}))
        .await;
    assert_eq!(c.status, 200, "{:?}", c.body);
    assert_eq!(c.body["status"], "closed");
    assert_eq!(c.body["closeReason"], "attending_regularly");
    assert!(c.body["closedAt"].is_string());
    // nothing more is possible on a closed case
    let again = env.status(demo::CASE_MANAGER, &id, json!({"action": "transition", "version": v + 4})).await;
    assert_eq!(again.status, 409, "{:?}", again.body);
    assert!(again.body["detail"].as_str().unwrap().contains("closed"), "{:?}", again.body);

    // the school sees the status change, not the provider's note; the clocks show met / not met
    let seen = env.call(demo::LEAD, "GET", &format!("/cases/{id}"), None).await;
    assert_eq!(seen.status, 200);
    assert_eq!(seen.body["status"], "closed");
    assert!(!seen.body.to_string().contains("private family matter"), "note leaked into the case view");
    let sla = seen.body["sla"].as_array().expect("sla on the case view");
    assert_eq!(sla.len(), 2);
    for s in sla {
        assert!(matches!(s["state"]["state"].as_str(), Some("met" | "not_met")), "{s}");
    }
    // on the timeline: the status entries are shared with the school and carry no note; the note
    // is its own entry, not shared
    let timeline = env.store.timeline(&CaseId::parse(id.clone()).unwrap()).await.unwrap();
    let statuses: Vec<_> = timeline.iter().filter(|e| matches!(e.kind, TimelineKind::StatusChanged { .. })).collect();
    assert!(statuses.len() >= 4);
    for e in &statuses {
        assert!(e.shared_with_school);
        assert!(!serde_json::to_string(e).unwrap().contains("private family matter"));
    }
    let notes: Vec<_> = timeline.iter().filter(|e| serde_json::to_string(e).unwrap().contains("private family matter")).collect();
    assert_eq!(notes.len(), 1);
    assert!(!notes[0].shared_with_school);

    // one CaseStatusChanged per change (queue→open, open→transition, transition→open, open→closed)
    let events = env.bus_events().await;
    assert_eq!(count(&events, "CaseStatusChanged", &id), 4, "{events:?}");
    assert_eq!(count(&events, "CaseReopened", &id), 1);
    for (_, d) in &events {
        let text = d.to_string();
        assert!(!text.contains("private family matter") && !text.contains(STUDENT_NAME), "event leaks: {text}");
    }
}

#[tokio::test]
async fn closing_needs_a_reason_and_sixteen_is_not_one() {
    let env = TestEnv::new("lc-close").await;
    let (id, v) = open_case(&env, STUDENT_NAME, "2014-05-01").await;
    let no_reason = env.status(demo::CASE_MANAGER, &id, json!({"action": "close", "version": v})).await;
    assert_eq!(no_reason.status, 400, "{:?}", no_reason.body);
    assert_eq!(no_reason.body["errors"][0]["field"], "reason");
    let made_up = env.status(demo::CASE_MANAGER, &id, json!({"action": "close", "version": v, "reason": "moved_away"})).await;
    assert_eq!(made_up.status, 400);
    let sixteen = env.status(demo::CASE_MANAGER, &id, json!({"action": "close", "version": v, "reason": "turned_16"})).await;
    assert_eq!(sixteen.status, 422, "{:?}", sixteen.body);
    assert!(sixteen.body["detail"].as_str().unwrap().contains("never closed just because the student turned 16"));
    let under = env.status(demo::CASE_MANAGER, &id, json!({"action": "close", "version": v, "reason": "chose_not_to_continue"})).await;
    assert_eq!(under.status, 422, "{:?}", under.body);
    assert!(under.body["detail"].as_str().unwrap().contains("under 16"));
    // none of those changed anything
    let same = env.call(demo::CASE_MANAGER, "GET", &format!("/cases/{id}"), None).await;
    assert_eq!((same.body["status"].as_str(), same.body["version"].as_u64()), (Some("open"), Some(v)));
    let ok = env.status(demo::CASE_MANAGER, &id, json!({"action": "close", "version": v, "reason": "engaged_with_school_support"})).await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    assert_eq!(ok.body["closeReason"], "engaged_with_school_support");

    // a student of 17 may choose not to continue
    let (older, v) = open_case(&env, "Rangi Testolder", &dob_aged(17)).await;
    let chose = env.status(demo::PROVIDER_ADMIN, &older, json!({"action": "close", "version": v, "reason": "chose_not_to_continue"})).await;
    assert_eq!(chose.status, 200, "{:?}", chose.body);
    assert_eq!(chose.body["closeReason"], "chose_not_to_continue");
}

#[tokio::test]
async fn pause_only_under_six_with_all_four_attestations_then_reopen() {
    let env = TestEnv::new("lc-pause").await;
    let all = json!({"childLocated": true, "whanauContacted": true, "safeAndInformedChoice": true, "withdrawnFromSchool": true});
    // a twelve-year-old cannot be paused
    let (older, v) = open_case(&env, STUDENT_NAME, "2014-05-01").await;
    let r = env.status(demo::CASE_MANAGER, &older, json!({"action": "pause", "version": v, "attestation": all})).await;
    assert_eq!(r.status, 422, "{:?}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains("under six"));

    let (young, v) = open_case(&env, "Pipi Testyoung", &dob_aged(5)).await;
    let none = env.status(demo::CASE_MANAGER, &young, json!({"action": "pause", "version": v})).await;
    assert_eq!(none.status, 400, "{:?}", none.body);
    assert_eq!(none.body["errors"][0]["field"], "attestation");
    let three = json!({"childLocated": true, "whanauContacted": true, "safeAndInformedChoice": true, "withdrawnFromSchool": false});
    let partial = env.status(demo::CASE_MANAGER, &young, json!({"action": "pause", "version": v, "attestation": three})).await;
    assert_eq!(partial.status, 422, "{:?}", partial.body);
    assert!(partial.body["detail"].as_str().unwrap().contains("withdrawnFromSchool"));
    let paused = env.status(demo::CASE_MANAGER, &young, json!({"action": "pause", "version": v, "attestation": all, "note": NOTE})).await;
    assert_eq!(paused.status, 200, "{:?}", paused.body);
    assert_eq!(paused.body["status"], "paused");
    assert_eq!(paused.body["pause"]["withdrawnFromSchool"], true);
    // a paused case cannot be closed or paused again; the provider reopens it
    let close = env.status(demo::CASE_MANAGER, &young, json!({"action": "close", "version": v + 1, "reason": "attending_regularly"})).await;
    assert_eq!(close.status, 409, "{:?}", close.body);
    let reopened = env.status(demo::CASE_MANAGER, &young, json!({"action": "reopen", "version": v + 1})).await;
    assert_eq!(reopened.status, 200, "{:?}", reopened.body);
    assert_eq!(reopened.body["status"], "open");
    assert!(reopened.body.get("pause").is_none() || reopened.body["pause"].is_null());
    // the school sees the case paused/reopened but never the note
    let seen = env.call(demo::PRIMARY_CONTACT, "GET", &format!("/cases/{young}"), None).await;
    assert_eq!(seen.body["status"], "open");
    assert!(!seen.body.to_string().contains("private family matter"));
}

#[tokio::test]
async fn version_is_required_and_a_stale_one_is_refused_with_the_current_case() {
    let env = TestEnv::new("lc-version").await;
    let (id, v) = open_case(&env, STUDENT_NAME, "2014-05-01").await;
    env.consult(&id, "transition").await;
    let v = v + 1;
    let none = env.status(demo::CASE_MANAGER, &id, json!({"action": "transition"})).await;
    assert_eq!(none.status, 428, "{:?}", none.body);
    let path = format!("/cases/{id}/status");
    let differ = call_with_headers(
        &env,
        demo::CASE_MANAGER,
        "POST",
        &path,
        Some(json!({"action": "transition", "version": v})),
        &[("if-match", "\"1\"")],
    )
    .await;
    assert_eq!(differ.status, 400, "{:?}", differ.body);
    let junk = env.status(demo::CASE_MANAGER, &id, json!({"action": "transition", "version": v, "colour": "red"})).await;
    assert_eq!(junk.status, 400, "{:?}", junk.body);
    let stale = env.status(demo::CASE_MANAGER, &id, json!({"action": "transition", "version": v - 1})).await;
    assert_eq!(stale.status, 409, "{:?}", stale.body);
    assert_eq!(stale.body["current"]["version"], v);
    assert_eq!(stale.body["current"]["status"], "open");

    // two people act on the same version at once: exactly one wins
    let (a, b) = tokio::join!(
        env.status(demo::CASE_MANAGER, &id, json!({"action": "transition", "version": v})),
        env.status(demo::PROVIDER_ADMIN, &id, json!({"action": "close", "version": v, "reason": "attending_regularly"})),
    );
    let mut codes = [a.status, b.status];
    codes.sort();
    assert_eq!(codes, [200, 409], "{a:?} {b:?}");
    let (winner, loser) = if a.status == 200 { (a, b) } else { (b, a) };
    assert_eq!(winner.body["version"], v + 1);
    // the loser is shown the case as it read it after losing: the winner's version, or (when the
    // winner's transaction was still in flight, as DynamoDB's TransactionConflict reports) the
    // version both started from — never anything older
    let seen = loser.body["current"]["version"].as_u64().unwrap();
    assert!(seen == v + 1 || seen == v, "{loser:?}");
    let now = env.call(demo::CASE_MANAGER, "GET", &format!("/cases/{id}"), None).await;
    assert_eq!(now.body["version"], v + 1);
    assert_eq!(now.body["status"], winner.body["status"]);
    let events = env.bus_events().await;
    // assign (queue → open) + the one winning change
    assert_eq!(count(&events, "CaseStatusChanged", &id), 2, "{events:?}");
}

#[tokio::test]
async fn every_role_gets_its_answer() {
    let env = TestEnv::new("lc-roles").await;
    let (id, v) = queued_case(&env, STUDENT_NAME, "2014-05-01").await;
    // transition from the provider queue is never possible: provider staff of P01 pass the role
    // check and are refused by the state machine (409); those who may see the case 403; others 404
    use demo::*;
    let expected: &[(&str, u16)] = &[
        (LEAD, 403),
        (PRIMARY_CONTACT, 403),
        (PRIMARY_CONTACT_2, 404),
        (OFFICE, 403),
        (OTHER_LEAD, 404),
        (OTHER_CONTACT, 404),
        (ISP_LEAD, 404),
        (ISP_CONTACT, 404),
        (ISP_OFFICE, 404),
        (CASE_MANAGER, 409),
        (PROVIDER_ADMIN, 409),
        (CASE_MANAGER_2, 409),
        (OTHER_CASE_MANAGER, 404),
        (OTHER_PROVIDER_ADMIN, 404),
        (ISP_CASE_MANAGER, 404),
        (ISP_PROVIDER_ADMIN, 404),
        (CIT, 403),
        (REGIONAL, 403),
        // another region's case is not found for them
        (OTHER_REGIONAL, 404),
        (NATIONAL, 403),
        // the Prosecutions team sees only the cases referred to it
        (PROSECUTIONS, 404),
    ];
    assert_eq!(expected.len(), cms_local::seed::demo_users().len(), "every demo user is in the table");
    for (user, code) in expected {
        let r = env.status(user, &id, json!({"action": "transition", "version": v})).await;
        assert_eq!(r.status, *code, "{user}: {:?}", r.body);
        assert_eq!(r.body["status"], *code, "{user}: a problem body");
        if *code == 404 {
            assert!(r.body.get("current").is_none(), "{user} learns nothing about the case");
        }
    }
    // a Case Manager of another provider cannot assign themselves either
    let other = env.status(OTHER_CASE_MANAGER, &id, json!({"action": "assign", "version": v})).await;
    assert_eq!(other.status, 404);
    let school = env.status(LEAD, &id, json!({"action": "assign", "version": v, "caseManagerId": CASE_MANAGER})).await;
    assert_eq!(school.status, 403);
    // nothing changed
    let c = env.call(CASE_MANAGER, "GET", &format!("/cases/{id}"), None).await;
    assert_eq!((c.body["status"].as_str(), c.body["version"].as_u64()), (Some("provider_queue"), Some(v)));
    // and the Case Manager of P01 picks it up themselves
    let mine = env.status(CASE_MANAGER, &id, json!({"action": "assign", "version": v})).await;
    assert_eq!(mine.status, 200, "{:?}", mine.body);
    assert_eq!(mine.body["caseManager"], CASE_MANAGER);
}

#[tokio::test]
async fn a_new_request_within_three_months_reopens_the_case_and_not_on_the_day_three_months_later() {
    let env = TestEnv::new("lc-reopen").await;
    let (a_id, v) = open_case(&env, STUDENT_NAME, "2014-05-01").await;
    let (b_id, vb) = open_case(&env, "Wiremu Testboundary", "2013-02-03").await;
    // both close at the same moment
    let closed_at = nz_noon(nz_today());
    for (id, v) in [(&a_id, v), (&b_id, vb)] {
        let r =
            status_at(&env, closed_at, demo::CASE_MANAGER, id, json!({"action": "close", "version": v, "reason": "attending_regularly"}))
                .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
    }
    env.bus_events().await;
    let end = cms_domain::nz_date(closed_at).checked_add_months(Months::new(3)).unwrap();
    assert_eq!(end, cms_domain::intake::reopen_window_end(closed_at));

    // the day before the 3 months are up: the same case reopens, back to P01's queue
    let day_before = nz_noon(end.pred_opt().unwrap());
    let r = submit_at(&env, day_before, demo::LEAD, form(STUDENT_NAME, "2014-05-01")).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["outcome"], "reopened");
    assert_eq!(r.body["caseId"], a_id.as_str());
    assert_eq!(r.body["referral"]["caseId"], a_id.as_str());
    let c = env.call(demo::CASE_MANAGER, "GET", &format!("/cases/{a_id}"), None).await;
    assert_eq!(c.body["status"], "provider_queue");
    assert_eq!(c.body["providerId"], demo::SCHOOL_PROVIDER);
    assert!(c.body.get("caseManager").is_none(), "{:?}", c.body);
    assert!(c.body.get("closedAt").is_none() && c.body.get("closeReason").is_none());
    let timeline = env.store.timeline(&CaseId::parse(a_id.clone()).unwrap()).await.unwrap();
    assert!(timeline.iter().any(|e| matches!(e.kind, TimelineKind::ReopenedByRequest { .. })));
    assert!(timeline.iter().any(|e| matches!(e.kind, TimelineKind::CaseCreated { .. })), "history kept");
    let events = env.bus_events().await;
    let reopened: Vec<_> = events.iter().filter(|(t, d)| t == "CaseReopened" && d["caseId"] == a_id.as_str()).collect();
    assert_eq!(reopened.len(), 1, "{events:?}");
    assert_eq!(reopened[0].1["trigger"], "new_request");
    assert_eq!(count(&events, "CaseStatusChanged", &a_id), 1);
    assert_eq!(count(&events, "CaseCreated", &a_id), 0);

    // exactly 3 months later: a new case; the old one stays closed
    let r = submit_at(&env, nz_noon(end), demo::LEAD, form("Wiremu Testboundary", "2013-02-03")).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["outcome"], "created");
    assert_ne!(r.body["caseId"], b_id.as_str());
    let old = env.call(demo::CASE_MANAGER, "GET", &format!("/cases/{b_id}"), None).await;
    assert_eq!(old.body["status"], "closed");

    // the reopened student now has an active case: another request is refused, and only those who
    // may see the case learn its id
    let before = env.items().await.len();
    let dup = env
        .call(
            demo::LEAD,
            "POST",
            "/referrals",
            Some({
                let mut f = form(STUDENT_NAME, "2014-05-01");
                f["submit"] = json!(true);
                f
            }),
        )
        .await;
    assert_eq!(dup.status, 409, "{:?}", dup.body);
    assert!(dup.body["detail"].as_str().unwrap().contains("already has an active case"));
    assert_eq!(dup.body["current"]["caseId"], a_id.as_str());
    assert_eq!(env.items().await.len(), before, "a refused request wrote something");
    // another school (issue 10, observation 3: no oracle): received, and nothing about the case
    let elsewhere = {
        let mut f = complete_form(demo::OTHER_CONTACT);
        f["submit"] = json!(true);
        env.call(demo::OTHER_LEAD, "POST", "/referrals", Some(f)).await
    };
    assert_eq!(elsewhere.status, 202, "{:?}", elsewhere.body);
    assert_eq!(elsewhere.body["outcome"], "received");
    assert!(elsewhere.body.get("current").is_none(), "another school learns the case: {:?}", elsewhere.body);
    assert!(elsewhere.body["caseId"].is_null() && elsewhere.body["caseStatus"].is_null(), "{:?}", elsewhere.body);
    assert!(!elsewhere.body.to_string().contains(a_id.as_str()), "{:?}", elsewhere.body);
}

#[tokio::test]
async fn a_nen_case_enrolled_at_the_school_becomes_its_ca_case() {
    let env = TestEnv::new("lc-nen").await;
    let name = cms_domain::student::PersonName::parse("Nikau Testnen").unwrap();
    let dob = NaiveDate::from_ymd_opt(2013, 8, 9).unwrap();
    let now = Utc::now();
    let nen: Case = serde_json::from_value(json!({
        "id": "NEN-TEST-1",
        "caseType": "NEN",
        "status": "cit_review",
        "schoolId": demo::OTHER_SCHOOL,
        "nen": {"notificationId": "N-1", "lastDayOfAttendance": "2026-02-01", "withdrawalReason": "left", "enrolledAt": demo::SCHOOL},
        "student": {"fullName": "Nikau Testnen", "dateOfBirth": "2013-08-09", "nsn": cms_tests::nsn_for("Nikau Testnen", "2013-08-09")},
        "studentKey": cms_tests::student_keys().nsn(&cms_domain::student::Nsn::parse(&cms_tests::nsn_for("Nikau Testnen", "2013-08-09")).unwrap()).as_str(),
        "nameKey": cms_tests::student_keys().name_dob(&name, dob).as_str(),
        "whanau": [],
        "referredAt": now, "createdAt": now, "updatedAt": now,
        "version": 1,
    }))
    .expect("a NEN case");
    let created = cms_domain::case::CaseChange {
        audit: Vec::new(),
        case: nen,
        expected_version: None,
        timeline: vec![],
        events: vec![],
        referral: None,
        markers: vec![],
        attached: Vec::new(),
        fund: None,
    };
    env.store.commit(&created).await.expect("NEN case stored");

    let r = env
        .call(
            demo::LEAD,
            "POST",
            "/referrals",
            Some({
                let mut f = form("Nikau Testnen", "2013-08-09");
                f["submit"] = json!(true);
                f
            }),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["outcome"], "converted");
    assert_eq!(r.body["caseId"], "NEN-TEST-1");
    assert_eq!(r.body["caseStatus"], "awaiting_allocation");
    env.drain().await;
    let c = env.call(demo::LEAD, "GET", "/cases/NEN-TEST-1", None).await;
    assert_eq!(c.status, 200, "{:?}", c.body);
    assert_eq!(c.body["caseType"], "CA");
    assert_eq!(c.body["status"], "provider_queue");
    assert_eq!(c.body["providerId"], demo::SCHOOL_PROVIDER);
    assert_eq!(c.body["primaryContact"], demo::PRIMARY_CONTACT);
    assert_eq!(c.body["nen"]["notificationId"], "N-1", "NEN history kept");
    let timeline = env.store.timeline(&CaseId::parse("NEN-TEST-1").unwrap()).await.unwrap();
    assert!(timeline.iter().any(|e| matches!(e.kind, TimelineKind::ConvertedToCa { .. })));
    let events = env.bus_events().await;
    assert_eq!(count(&events, "CaseCreated", "NEN-TEST-1"), 1);
    assert_eq!(count(&events, "CaseAllocated", "NEN-TEST-1"), 1);
}
