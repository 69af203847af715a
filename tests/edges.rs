//! Issue 11, the hardened edges: the ENROL webhook's parsing order and canonical values, signed
//! page cursors, request ids in problems and logs, and text (NFC names, invisible-only text,
//! direction overrides in file names, downloads that keep macrons).

use cms_tests::{complete_form, demo, enrol_signature, nen_notification, post_form, Reply, TestEnv};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex, OnceLock};

// ------------------------------------------------------------------ log capture (this binary only)

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.0.lock() {
            Ok(mut v) => v.extend_from_slice(buf),
            Err(p) => p.into_inner().extend_from_slice(buf),
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// JSON log lines, as cms_aws::telemetry writes them in production.
fn logs() -> &'static Capture {
    static CAPTURE: OnceLock<Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let capture = Capture::default();
        let writer = capture.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_env_filter(tracing_subscriber::EnvFilter::new("warn,cms_http=info,nen_webhook=info,case_query=info"))
            .with_current_span(true)
            .with_span_list(true)
            .with_writer(move || writer.clone())
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
        capture
    })
}

fn log_lines() -> Vec<Value> {
    let bytes = match logs().0.lock() {
        Ok(v) => v.clone(),
        Err(p) => p.into_inner().clone(),
    };
    String::from_utf8_lossy(&bytes).lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
}

// ------------------------------------------------------------------ ENROL

const NSN: &str = "100200311";

fn signature(body: &[u8]) -> String {
    let t = chrono::Utc::now().timestamp();
    enrol_signature(body, t)
}

fn nen(id: &str, nsn: &str) -> Value {
    nen_notification(id, nsn, "Rangi Testchild")
}

async fn deliver_raw(env: &TestEnv, body: &[u8], headers: Vec<(&str, String)>) -> Reply {
    let headers = headers.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    env.call_bytes(None, "POST", "/enrol/events", headers, Some(body)).await
}

fn is_problem(r: &Reply, status: u16) {
    assert_eq!(r.status, status, "{:?}", r.body);
    assert!(r.body["title"].as_str().is_some_and(|t| !t.is_empty()), "{:?}", r.body);
    assert!(r.body["detail"].as_str().is_some_and(|t| t.len() > 10), "{:?}", r.body);
}

#[tokio::test]
async fn the_webhook_authenticates_before_it_reads_anything() {
    let env = TestEnv::new("edge-sig").await;
    let before = env.items().await;
    let body = nen("nen-edge-1", NSN).to_string();
    // the observed panic: an i64::MIN timestamp overflowed before authentication
    for t in ["-9223372036854775808", "9223372036854775807", "-1", "+1795500000", "99999999999999999999"] {
        let r = deliver_raw(&env, body.as_bytes(), vec![("Enrol-Signature", format!("t={t},v1={}", "0".repeat(64)))]).await;
        is_problem(&r, 401);
    }
    // a body that is not UTF-8, unsigned or wrongly signed: 401 (was 400, before the signature)
    let binary: &[u8] = &[0xff, 0xfe, 0x00, b'{', 0x80, 0x81];
    is_problem(&deliver_raw(&env, binary, vec![]).await, 401);
    is_problem(&deliver_raw(&env, binary, vec![("Enrol-Signature", signature(b"something else"))]).await, 401);
    // unsigned and not JSON either: still 401, not 415
    is_problem(&deliver_raw(&env, body.as_bytes(), vec![("content-type", "text/plain".into())]).await, 401);
    assert_eq!(env.items().await, before, "a refused delivery wrote something");
    // signed, but not UTF-8 JSON: now the body is read, and refused as such
    let r = deliver_raw(&env, binary, vec![("Enrol-Signature", signature(binary))]).await;
    is_problem(&r, 400);
    assert_eq!(env.items().await, before);
}

#[tokio::test]
async fn the_webhook_takes_json_only() {
    let env = TestEnv::new("edge-415").await;
    let before = env.items().await;
    let body = nen("nen-edge-2", NSN).to_string();
    for ct in ["text/plain", "application/x-www-form-urlencoded", "application/jsonx", "multipart/form-data; boundary=x"] {
        let r =
            deliver_raw(&env, body.as_bytes(), vec![("content-type", ct.into()), ("Enrol-Signature", signature(body.as_bytes()))]).await;
        is_problem(&r, 415);
        assert!(r.body["detail"].as_str().unwrap().contains("application/json"), "{ct}: {:?}", r.body);
    }
    assert_eq!(env.items().await, before);
    let ok = deliver_raw(
        &env,
        body.as_bytes(),
        vec![("content-type", "Application/JSON; charset=utf-8".into()), ("Enrol-Signature", signature(body.as_bytes()))],
    )
    .await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
}

#[tokio::test]
async fn the_webhook_refuses_non_canonical_values_and_future_occurred_at() {
    let env = TestEnv::new("edge-canon").await;
    let before = env.items().await;
    let future = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let cases: Vec<(&str, &str, Value)> = vec![
        ("/occurredAt", "occurredAt", json!(future)),
        ("/occurredAt", "occurredAt", json!("2026-11-20")),
        ("/occurredAt", "occurredAt", json!("last Tuesday")),
        ("/data/lastDayOfAttendance", "data.lastDayOfAttendance", json!("2026-1-1")),
        ("/data/lastDayOfAttendance", "data.lastDayOfAttendance", json!("+2026-10-30")),
        ("/data/student/dateOfBirth", "data.student.dateOfBirth", json!("2013-6-15")),
        ("/data/nsn", "data.nsn", json!(" 100200311")),
        ("/data/nsn", "data.nsn", json!("100200311 ")),
        ("/data/nsn", "data.nsn", json!("+100200311")),
    ];
    for (i, (ptr, field, value)) in cases.into_iter().enumerate() {
        let mut body = nen(&format!("nen-canon-{i}"), NSN);
        *body.pointer_mut(ptr).unwrap() = value.clone();
        let r = env.deliver_enrol(&body).await;
        is_problem(&r, 400);
        let fields: Vec<&str> = r.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(fields, vec![field], "{ptr} = {value}: {:?}", r.body);
    }
    let enrolled =
        json!({"id": "enr-canon", "type": "student_enrolled", "data": {"nsn": NSN, "schoolId": demo::SCHOOL, "enrolledOn": "+2026-11-20"}});
    let r = env.deliver_enrol(&enrolled).await;
    is_problem(&r, 400);
    assert_eq!(r.body["errors"][0]["field"], "data.enrolledOn");
    assert_eq!(env.items().await, before, "a refused delivery wrote something");
    // a zero-padded NSN is the same student as the unpadded one: one case
    let first = env.deliver_enrol(&nen("nen-canon-ok", NSN)).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    assert_eq!(first.body["outcome"], "case_created");
    let padded = env.deliver_enrol(&nen("nen-canon-padded", &format!("0{NSN}"))).await;
    assert_eq!(padded.status, 200, "{:?}", padded.body);
    assert_eq!(padded.body["outcome"], "recorded_on_active_case");
    assert_eq!(padded.body["caseId"], first.body["caseId"]);
}

// ------------------------------------------------------------------ cursors

fn cursor_refused(r: &Reply) {
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert_eq!(r.body["errors"][0]["field"], "cursor", "{:?}", r.body);
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

#[tokio::test]
async fn cursors_are_signed_and_bound_to_their_list() {
    let env = TestEnv::new("edge-cursor").await;
    let a = env.nen_case(&nen("nen-cur-a", "100200321")).await;
    let b = env.nen_case(&nen("nen-cur-b", "100200322")).await;
    // a second NEN for student a: a second entry on a's timeline
    env.nen_case(&nen("nen-cur-a2", "100200321")).await;

    let first = env.call(demo::CIT, "GET", "/cases?status=cit_review&limit=1", None).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    let cursor = first.body["nextCursor"].as_str().expect("a next page").to_string();
    let second = env.call(demo::CIT, "GET", &format!("/cases?status=cit_review&limit=1&cursor={}", enc(&cursor)), None).await;
    assert_eq!(second.status, 200, "{:?}", second.body);
    let ids: Vec<&str> = [&first, &second].iter().map(|r| r.body["items"][0]["id"].as_str().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    let mut want = vec![a.as_str(), b.as_str()];
    want.sort();
    assert_eq!(sorted, want, "the signed cursor pages as before");

    // the observed 503: a made-up cursor (unsigned base64 of an index key, the old format)
    use base64::Engine;
    let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(json!({"s": 0, "k": {"statusPk": "STATUS#cit_review", "statusSk": "x", "PK": "CASE#x", "SK": "CASE"}}).to_string());
    let garbage = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json!({"s": 0, "k": {"nonsense": "1"}}).to_string());
    for bad in [forged, garbage, "x".repeat(5000)] {
        cursor_refused(&env.call(demo::CIT, "GET", &format!("/cases?status=cit_review&limit=1&cursor={}", enc(&bad)), None).await);
    }
    // a real cursor with its payload or its signature changed
    let (payload, tag) = cursor.split_once('.').expect("payload.mac");
    let altered = format!("{}.{tag}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json!({"s": 3, "k": null}).to_string()));
    for bad in [altered, format!("{payload}.AAAA")] {
        cursor_refused(&env.call(demo::CIT, "GET", &format!("/cases?status=cit_review&limit=1&cursor={}", enc(&bad)), None).await);
    }
    // a real cursor on another list: another status, no status, another caller's scope
    let c = enc(&cursor);
    cursor_refused(&env.call(demo::CIT, "GET", &format!("/cases?status=open&limit=1&cursor={c}"), None).await);
    cursor_refused(&env.call(demo::CIT, "GET", &format!("/cases?limit=1&cursor={c}"), None).await);
    cursor_refused(&env.call(demo::LEAD, "GET", &format!("/cases?status=cit_review&limit=1&cursor={c}"), None).await);

    // timelines: a cursor of case a's timeline is not one of case b's
    let t = env.call(demo::CIT, "GET", &format!("/cases/{a}/timeline?limit=1"), None).await;
    assert_eq!(t.status, 200, "{:?}", t.body);
    let tc = enc(t.body["nextCursor"].as_str().expect("a second timeline page"));
    assert_eq!(env.call(demo::CIT, "GET", &format!("/cases/{a}/timeline?limit=1&cursor={tc}"), None).await.status, 200);
    cursor_refused(&env.call(demo::CIT, "GET", &format!("/cases/{b}/timeline?limit=1&cursor={tc}"), None).await);
    // nor a list cursor
    cursor_refused(&env.call(demo::CIT, "GET", &format!("/cases/{a}/timeline?limit=1&cursor={c}"), None).await);
}

#[tokio::test]
async fn draft_cursors_belong_to_their_school() {
    let env = TestEnv::new("edge-drafts").await;
    for _ in 0..2 {
        let r = env.call(demo::LEAD, "POST", "/referrals", Some(complete_form(demo::PRIMARY_CONTACT))).await;
        assert_eq!(r.status, 201, "{:?}", r.body);
    }
    let first = env.call(demo::LEAD, "GET", "/referrals?status=draft&limit=1", None).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    let c = enc(first.body["nextCursor"].as_str().expect("a next page"));
    assert_eq!(env.call(demo::LEAD, "GET", &format!("/referrals?status=draft&limit=1&cursor={c}"), None).await.status, 200);
    cursor_refused(&env.call(demo::OTHER_LEAD, "GET", &format!("/referrals?status=draft&limit=1&cursor={c}"), None).await);
    cursor_refused(&env.call(demo::LEAD, "GET", "/referrals?status=draft&limit=1&cursor=bm9uc2Vuc2U", None).await);
}

// ------------------------------------------------------------------ request ids

#[tokio::test]
async fn every_problem_names_its_request_and_the_log_line_does_too() {
    logs();
    let env = TestEnv::new("edge-reqid").await;
    let claims = Some(env.claims_of(demo::LEAD));
    let probes: Vec<(&str, &str, Option<&[u8]>, u16)> = vec![
        ("GET", "/cases/01JNOSUCHCASE0000000000000", None, 404),
        ("POST", "/referrals", Some(b"not json"), 400),
        ("GET", "/cases?limit=0", None, 400),
        ("POST", "/cases/01JNOSUCHCASE0000000000000/comments", Some(br#"{"text":"x","shared":true}"#), 404),
    ];
    for (method, path, body, status) in probes {
        let (r, headers, id) = env.call_reply(claims.clone(), method, path, vec![], body).await;
        assert_eq!(r.status, status, "{method} {path}: {:?}", r.body);
        assert_eq!(headers.get("content-type").and_then(|v| v.to_str().ok()), Some("application/problem+json"));
        assert_eq!(r.body["requestId"], id.as_str(), "{method} {path}: {:?}", r.body);
        let lines = log_lines();
        let line = lines
            .iter()
            .find(|l| l["fields"]["request_id"] == id.as_str())
            .unwrap_or_else(|| panic!("no log line names request {id}: {lines:?}"));
        assert_eq!(line["fields"]["status"], status, "{line}");
    }
    // unsigned ENROL delivery: the webhook's problems carry it too
    let (r, _, id) = env.call_reply(None, "POST", "/enrol/events", vec![], Some(b"{}")).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body["requestId"], id.as_str());
    // a success carries no problem, and no request id in its body
    let ok = env.call(demo::LEAD, "GET", "/cases?limit=1", None).await;
    assert_eq!(ok.status, 200);
    assert!(ok.body.get("requestId").is_none());
}

// ------------------------------------------------------------------ text

async fn submitted_case(env: &TestEnv, name: &str) -> String {
    let mut form = complete_form(demo::PRIMARY_CONTACT);
    form["student"]["fullName"] = json!(name);
    form["student"]["nsn"] = json!(cms_tests::nsn_for(name, "2014-05-01"));
    form["whanau"][0]["name"] = json!("Hine Wha\u{0304}nau-Testcaregiver");
    form["submit"] = json!(true);
    let r = env.call(demo::LEAD, "POST", "/referrals", Some(form)).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let id = r.body["caseId"].as_str().expect("caseId").to_string();
    env.drain().await;
    id
}

#[tokio::test]
async fn names_are_stored_in_nfc_and_invisible_text_is_refused() {
    let env = TestEnv::new("edge-text").await;
    // "Tāne" typed with a combining macron (NFD, as macOS sends it)
    let case_id = submitted_case(&env, "Ta\u{0304}ne Testchild").await;
    let case = env.call(demo::LEAD, "GET", &format!("/cases/{case_id}"), None).await;
    assert_eq!(case.status, 200, "{:?}", case.body);
    let text = case.body.to_string();
    assert!(text.contains("Tāne Testchild"), "{text}");
    assert!(text.contains("Hine Whānau-Testcaregiver"), "{text}");
    assert!(!text.contains('\u{0304}'), "a decomposed name was stored: {text}");

    let items = env.items().await;
    for invisible in ["\u{200B}", "\u{200B}\u{200C}\u{200D}\u{2060}\u{FEFF}", "\u{00A0}\u{3000}", "\u{202E}"] {
        let r = env.call(demo::LEAD, "POST", &format!("/cases/{case_id}/comments"), Some(json!({"text": invisible, "shared": true}))).await;
        is_problem(&r, 400);
        assert_eq!(r.body["errors"][0]["field"], "text", "{invisible:?}: {:?}", r.body);
    }
    // a name of invisible characters only is no name
    let mut form = complete_form(demo::PRIMARY_CONTACT);
    form["student"]["fullName"] = json!("\u{200B}\u{200D}");
    form["submit"] = json!(true);
    let r = env.call(demo::LEAD, "POST", "/referrals", Some(form)).await;
    is_problem(&r, 400);
    assert!(r.body["errors"].as_array().unwrap().iter().any(|e| e["field"] == "student.fullName"), "{:?}", r.body);
    // a CA request's date must be written canonically too (parse_date is shared with ENROL)
    let mut form = complete_form(demo::PRIMARY_CONTACT);
    form["student"]["dateOfBirth"] = json!("2014-5-1");
    let r = env.call(demo::LEAD, "POST", "/referrals", Some(form)).await;
    is_problem(&r, 400);
    let e = r.body["errors"].as_array().unwrap().iter().find(|e| e["field"] == "student.dateOfBirth").expect("dateOfBirth named");
    assert!(e["message"].as_str().unwrap().contains("YYYY-MM-DD"), "{e}");
    assert_eq!(env.items().await, items, "a refused request wrote something");
}

#[tokio::test]
async fn file_names_cannot_disguise_themselves_and_downloads_keep_macrons() {
    let env = TestEnv::new("edge-files").await;
    let case_id = submitted_case(&env, "Mere Testchild").await;
    let items = env.items().await;
    for bad in ["invoice\u{202E}fdp.exe", "plan\u{2066}.pdf\u{2069}", "\u{200B}\u{FEFF}"] {
        let r = env
            .call(
                demo::LEAD,
                "POST",
                &format!("/cases/{case_id}/files"),
                Some(json!({"fileName": bad, "contentType": "application/pdf", "size": 10, "shared": true})),
            )
            .await;
        is_problem(&r, 400);
        assert_eq!(r.body["errors"][0]["field"], "fileName", "{bad:?}: {:?}", r.body);
    }
    assert_eq!(env.items().await, items);

    // sent decomposed (NFD), stored and downloaded composed, macrons intact
    let content = b"%PDF-1.4 hui plan (test)".to_vec();
    let r = env
        .call(
            demo::LEAD,
            "POST",
            &format!("/cases/{case_id}/files"),
            Some(json!({"fileName": "Hui a\u{0304}-wha\u{0304}nau plan.pdf", "contentType": "application/pdf", "size": content.len(), "shared": true})),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let file_id = r.body["fileId"].as_str().unwrap().to_string();
    assert!((200..300).contains(&post_form(&r.body["upload"], content.clone(), "application/pdf").await));
    env.drain().await;
    let t = env.call(demo::LEAD, "GET", &format!("/cases/{case_id}/timeline?limit=100"), None).await;
    assert!(t.body.to_string().contains("Hui ā-whānau plan.pdf"), "{:?}", t.body);
    let d = env.call(demo::LEAD, "GET", &format!("/cases/{case_id}/files/{file_id}"), None).await;
    assert_eq!(d.status, 200, "{:?}", d.body);
    let url = reqwest::Url::parse(d.body["url"].as_str().unwrap()).unwrap();
    let disposition = url
        .query_pairs()
        .find(|(k, _)| k == "response-content-disposition")
        .map(|(_, v)| v.into_owned())
        .expect("the link sets the download's Content-Disposition");
    assert_eq!(disposition, "attachment; filename=\"Hui _-wh_nau plan.pdf\"; filename*=UTF-8''Hui%20%C4%81-wh%C4%81nau%20plan.pdf");
    let got = reqwest::get(url).await.unwrap();
    assert!(got.status().is_success());
    assert_eq!(got.bytes().await.unwrap().to_vec(), content);
}

/// Observed: `GET /referrals?status=submitted` was documented but always 400, and the documented
/// `Location` header of a 201 was never sent.
#[tokio::test]
async fn submitted_requests_are_listed_and_a_new_request_has_a_location() {
    let env = TestEnv::new("edge-submitted").await;
    let headers = |user: &str| Some(env.claims_of(user));
    let (draft, h, _) = env.call_reply(headers(demo::LEAD), "POST", "/referrals", vec![], Some(b"{}")).await;
    assert_eq!(draft.status, 201);
    let id = draft.body["id"].as_str().unwrap();
    assert_eq!(h.get("location").and_then(|v| v.to_str().ok()), Some(format!("/referrals/{id}").as_str()));
    let mut form = complete_form(demo::PRIMARY_CONTACT);
    form["submit"] = json!(true);
    let (made, h, _) = env.call_reply(headers(demo::LEAD), "POST", "/referrals", vec![], Some(form.to_string().as_bytes())).await;
    assert_eq!(made.status, 201, "{:?}", made.body);
    let rid = made.body["referral"]["id"].as_str().unwrap().to_string();
    assert_eq!(h.get("location").and_then(|v| v.to_str().ok()), Some(format!("/referrals/{rid}").as_str()));

    let listed = env.call(demo::LEAD, "GET", "/referrals?status=submitted", None).await;
    assert_eq!(listed.status, 200, "{:?}", listed.body);
    let ids: Vec<&str> = listed.body["items"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec![rid.as_str()], "the submitted request, not the draft");
    // drafts are still the default, and the submitted one is no longer among them
    let drafts = env.call(demo::LEAD, "GET", "/referrals", None).await;
    assert!(drafts.body["items"].as_array().unwrap().iter().all(|r| r["status"] == "draft"));
    // another school's staff see none of them; a Primary Contact sees the one they are named on
    assert!(env.call(demo::OTHER_LEAD, "GET", "/referrals?status=submitted", None).await.body["items"].as_array().unwrap().is_empty());
    let theirs = env.call(demo::PRIMARY_CONTACT, "GET", "/referrals?status=submitted", None).await;
    assert_eq!(theirs.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(env.call(demo::LEAD, "GET", "/referrals?status=nonsense", None).await.status, 400);
}
