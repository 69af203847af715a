//! Issue 11 (5): `Idempotency-Key` on every POST that creates something. Observed: the same
//! `POST /cases/{id}/comments` sent twice made two comments and two emails. Now the same key and
//! body give the same answer and create once (even when sent at the same moment); the same key
//! with another body is refused (422); keys are per caller.

use cms_tests::{complete_form, demo, nsn_for, Reply, TestEnv};
use serde_json::{json, Value};

async fn send(env: &TestEnv, user: &str, method: &str, path: &str, key: &str, body: Value) -> (Reply, bool) {
    let headers = vec![("idempotency-key".to_string(), key.to_string())];
    let (reply, h, _) = env.call_reply(Some(env.claims_of(user)), method, path, headers, Some(body.to_string().as_bytes())).await;
    (reply, h.get("idempotent-replayed").is_some())
}

/// An allocated CA case of school 1001 with cm-p01 assigned (Open), its events delivered.
async fn open_case(env: &TestEnv, name: &str) -> String {
    let id = cms_tests::open_case(env, name).await;
    env.drain().await;
    id
}

async fn entries_of(env: &TestEnv, case: &str, kind: &str) -> usize {
    let t = env.call(demo::NATIONAL, "GET", &format!("/cases/{case}/timeline?limit=100"), None).await;
    t.body["items"].as_array().unwrap().iter().filter(|e| e["type"] == kind).count()
}

#[tokio::test]
async fn the_same_comment_sent_twice_is_added_once_and_answered_the_same() {
    let env = TestEnv::new("idem-comment").await;
    let case = open_case(&env, "Idem Commentchild").await;
    let path = format!("/cases/{case}/comments");
    let body = json!({"text": "Hui booked for Tuesday", "shared": true});
    let (first, replayed) = send(&env, demo::CASE_MANAGER, "POST", &path, "key-comment-1", body.clone()).await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    assert!(!replayed);
    let (again, replayed) = send(&env, demo::CASE_MANAGER, "POST", &path, "key-comment-1", body.clone()).await;
    assert_eq!(again.status, 201);
    assert!(replayed, "the second answer is the first one, replayed");
    assert_eq!(again.body, first.body);
    assert_eq!(entries_of(&env, &case, "comment").await, 1, "one comment");
    // the same key with another body: refused, nothing added
    let (other, _) =
        send(&env, demo::CASE_MANAGER, "POST", &path, "key-comment-1", json!({"text": "something else", "shared": true})).await;
    assert_eq!(other.status, 422, "{:?}", other.body);
    // another caller's identical key is their own
    let (theirs, replayed) = send(&env, demo::LEAD, "POST", &path, "key-comment-1", body.clone()).await;
    assert_eq!(theirs.status, 201);
    assert!(!replayed);
    assert_eq!(entries_of(&env, &case, "comment").await, 2);
    // one CommentAdded event per comment actually added (so one email each)
    env.drain().await;
    let added = env.bus_events().await.into_iter().filter(|(t, d)| t == "CommentAdded" && d["caseId"] == case.as_str()).count();
    assert_eq!(added, 2, "one event per comment added, none for the repeat");
    // a key that is not one
    let (bad, _) = send(&env, demo::CASE_MANAGER, "POST", &path, "has spaces in it", body).await;
    assert_eq!(bad.status, 400, "{:?}", bad.body);
}

#[tokio::test]
async fn concurrent_repeats_of_one_key_create_once() {
    let env = TestEnv::new("idem-race").await;
    let case = open_case(&env, "Idem Racechild").await;
    let path = format!("/cases/{case}/comments");
    let body = json!({"text": "double click", "shared": false});
    let calls = (0..6).map(|_| send(&env, demo::CASE_MANAGER, "POST", &path, "key-race", body.clone()));
    let answers = futures::future::join_all(calls).await;
    let ids: std::collections::BTreeSet<String> = answers
        .iter()
        .map(|(r, _)| {
            assert_eq!(r.status, 201, "{:?}", r.body);
            r.body["id"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(ids.len(), 1, "every caller got the same comment");
    assert_eq!(entries_of(&env, &case, "comment").await, 1, "and only one was added");
}

#[tokio::test]
async fn every_creating_post_honours_the_key() {
    let env = TestEnv::new("idem-all").await;
    let case = open_case(&env, "Idem Everychild").await;
    let today = cms_domain::nz_date(chrono::Utc::now()).to_string();
    // activity, safety note, file, status change: twice each, the same answer, one effect
    let activity = json!({"type": "phone_call", "date": today, "attendees": ["Case Manager"]});
    let p = format!("/cases/{case}/activities");
    let (a1, _) = send(&env, demo::CASE_MANAGER, "POST", &p, "k-act", activity.clone()).await;
    let (a2, r2) = send(&env, demo::CASE_MANAGER, "POST", &p, "k-act", activity).await;
    assert_eq!((a1.status, a2.status, r2), (201, 201, true), "{:?}", a2.body);
    assert_eq!(a1.body, a2.body);
    assert_eq!(entries_of(&env, &case, "activity").await, 1);

    let p = format!("/cases/{case}/safety-notes");
    let (n1, _) = send(&env, demo::CASE_MANAGER, "POST", &p, "k-note", json!({"text": "Dog at the gate"})).await;
    let (n2, r) = send(&env, demo::CASE_MANAGER, "POST", &p, "k-note", json!({"text": "Dog at the gate"})).await;
    assert_eq!((n1.status, n2.status, r), (201, 201, true));
    assert_eq!(n1.body["id"], n2.body["id"]);
    let notes = env.call(demo::CASE_MANAGER, "GET", &format!("/cases/{case}/sensitive"), None).await;
    assert_eq!(notes.body["safetyNotes"].as_array().unwrap().len(), 1);

    let p = format!("/cases/{case}/files");
    let file = json!({"fileName": "plan.pdf", "contentType": "application/pdf", "size": 10, "shared": true});
    let (f1, _) = send(&env, demo::CASE_MANAGER, "POST", &p, "k-file", file.clone()).await;
    let (f2, r) = send(&env, demo::CASE_MANAGER, "POST", &p, "k-file", file).await;
    assert_eq!((f1.status, f2.status, r), (201, 201, true), "{:?}", f2.body);
    assert_eq!(f1.body["fileId"], f2.body["fileId"], "one file record, one upload form");

    env.consult(&case, "transition").await;
    let v = env.call(demo::CASE_MANAGER, "GET", &format!("/cases/{case}"), None).await.body["version"].clone();
    let p = format!("/cases/{case}/status");
    let transition = json!({"action": "transition", "version": v});
    let (s1, _) = send(&env, demo::CASE_MANAGER, "POST", &p, "k-status", transition.clone()).await;
    assert_eq!(s1.status, 200, "{:?}", s1.body);
    // without the key, the repeat would be stale (409); with it, the first answer
    let (s2, r) = send(&env, demo::CASE_MANAGER, "POST", &p, "k-status", transition).await;
    assert_eq!((s2.status, r), (200, true), "{:?}", s2.body);
    assert_eq!(s1.body["version"], s2.body["version"]);

    // a draft, and a request created and submitted at once
    let (d1, _) = send(&env, demo::LEAD, "POST", "/referrals", "k-draft", json!({"reason": "draft"})).await;
    let (d2, r) = send(&env, demo::LEAD, "POST", "/referrals", "k-draft", json!({"reason": "draft"})).await;
    assert_eq!((d1.status, d2.status, r), (201, 201, true));
    assert_eq!(d1.body["id"], d2.body["id"], "one draft");
    let mut form = complete_form(demo::PRIMARY_CONTACT);
    form["student"]["fullName"] = json!("Idem Submitchild");
    form["student"]["nsn"] = json!(nsn_for("Idem Submitchild", "2014-05-01"));
    form["submit"] = json!(true);
    let (c1, _) = send(&env, demo::LEAD, "POST", "/referrals", "k-submit", form.clone()).await;
    let (c2, r) = send(&env, demo::LEAD, "POST", "/referrals", "k-submit", form).await;
    assert_eq!((c1.status, c2.status, r), (201, 201, true), "{:?}", c2.body);
    assert_eq!(c1.body["caseId"], c2.body["caseId"], "one case, the same answer");
}
